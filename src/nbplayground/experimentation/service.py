"""ExperimentService: prepare a validated cell, send it with retries, and log what happened."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nbplayground.accounts import ledger_rows
from nbplayground.analytics import CostEstimator, Tokenizer
from nbplayground.configuration import lookup, resolve_parameters
from nbplayground.configuration.images import Image
from nbplayground.configuration.structured import python_objects, tool_rounds
from nbplayground.domain import (
    APIRequest,
    ChatRequest,
    Experiment,
    ImageRef,
    Message,
    ResponseMetrics,
    ToolCall,
)
from nbplayground.domain.wire import tool_round
from nbplayground.errors import (
    ConfigurationError,
    ContextWindowExceeded,
    InvalidInput,
    NbPlaygroundError,
)
from nbplayground.evaluation import Score
from nbplayground.events import (
    APIRequestLogged,
    EventBus,
    ExperimentExecuted,
    TokenUsageUpdated,
)
from nbplayground.experimentation.answers import (
    Usage,
    answer_fields,
    tool_calls_of,
    tool_schemas,
)
from nbplayground.experimentation.cell import Cell, validate_prompt
from nbplayground.experimentation.holds import reserve
from nbplayground.experimentation.ports import (
    ChatClient,
    DeltaCallback,
    ExperimentRepository,
    Gate,
    Throttle,
)
from nbplayground.experimentation.prompt_messages import Prompt, build_messages
from nbplayground.experimentation.retry import RetryPolicy
from nbplayground.experimentation.sending import send
from nbplayground.experimentation.stopping import Partial, log_stopped
from nbplayground.experimentation.throttle import Limiters
from nbplayground.experimentation.tool_rounds import call_tools, sent_back
from nbplayground.experimentation.usage import usage_of
from nbplayground.ids import new_id, utcnow


@dataclass
class Outcome:
    experiment: Experiment
    requests: list[APIRequest] = field(default_factory=list)
    images: tuple[Image, ...] = ()
    """The images the cell sent, with their bytes for the attachments table."""
    scores: list[Score] = field(default_factory=list)
    """Its scores, logged in the same transaction as the experiment."""


class ExperimentService:
    def __init__(self, clients: Callable[[str], ChatClient], repository: ExperimentRepository,
                 costs: CostEstimator, tokenizer: Tokenizer, bus: EventBus, *,
                 retry: RetryPolicy | None = None, gate: Gate | None = None,
                 limiters: Limiters | None = None) -> None:
        self.clients, self.repository, self.costs = clients, repository, costs
        self.tokenizer, self.bus = tokenizer, bus
        self.retry = retry or RetryPolicy()
        self.gate = gate
        self.limiters = limiters or Limiters()  # the RPM/TPM buckets, on the clock they share

    # -- preparation: everything that can be wrong is found here, before any request --

    def count_prompt(self, client: ChatClient, model: str, messages: Sequence[Message]) -> int:
        own = getattr(client, "count_messages", None)
        if callable(own):
            return int(own(messages, model))
        return self.tokenizer.count_messages(messages, model)

    def prepare(self, *, user_id: str, prompt: Prompt, model: str, provider: str,
                system: str | None = None, repeat: int = 0, sweep_id: str | None = None,
                price_as: str | None = None, index: int = 0, run_tools: bool = True,
                max_tool_rounds: int = 5, images: Any = None, flex_fallback: bool = False,
                **params: Any) -> Cell:
        if not isinstance(model, str) or not model.strip():
            raise InvalidInput(f"model must be a model name such as 'gpt-4o-mini', not {model!r}")
        if system is not None and not isinstance(system, str):
            raise InvalidInput(f"system must be a string or None, not {type(system).__name__}")
        if system and "\x00" in system:
            raise InvalidInput("the system message contains a NUL byte (\\x00); remove it")
        validate_prompt(prompt)
        if not isinstance(flex_fallback, bool):
            raise InvalidInput(f"flex_fallback must be True or False, not {flex_fallback!r}")
        client = self.clients(provider)
        spec = lookup(model)
        parameters = resolve_parameters(spec, **params)
        if parameters.api == "responses" and not getattr(client, "serves_responses", True):
            raise ConfigurationError(f"the {provider} provider speaks only Chat Completions; "
                                     "use api='chat'")
        parse_as, functions = python_objects(params)
        rounds = tool_rounds(run_tools, max_tool_rounds, functions)
        messages, pictures, picture_tokens = build_messages(
            prompt, system, images, client, provider, parameters.api or "chat")
        prompt_tokens = self.count_prompt(client, model, messages) + picture_tokens
        wanted = parameters.max_tokens or 0
        if prompt_tokens + wanted > spec.context_window:
            raise ContextWindowExceeded(
                f"the prompt has {prompt_tokens} tokens and max_tokens is {wanted}: "
                f"{prompt_tokens + wanted} do not fit {model}'s context window of "
                f"{spec.context_window} tokens; shorten the prompt or lower max_tokens")
        request = ChatRequest(model=model, messages=messages, parameters=parameters,
                              repeat=repeat, max_tokens_field=spec.max_tokens_name,
                              api=parameters.api or "chat")
        max_completion = parameters.max_tokens or min(
            spec.max_output_tokens, spec.context_window - prompt_tokens)
        return Cell(request=request, provider=provider, base_url=client.base_url,
                    user_id=user_id, prompt_tokens=prompt_tokens, max_completion=max_completion,
                    sweep_id=sweep_id, price_as=price_as, index=index, parse_as=parse_as,
                    functions=tuple(functions.items()), max_tool_rounds=rounds,
                    images=pictures, flex_fallback=flex_fallback)

    def max_cost(self, cell: Cell) -> float | None:
        return self.costs.cost(cell.provider, cell.request.model, cell.prompt_tokens,
                               cell.max_completion, tier=cell.tier)

    # -- execution --

    async def execute(self, cell: Cell, *, on_delta: DeltaCallback | None = None,
                      limiter: Throttle | None = None) -> Outcome:
        """Send the cell with retries (and its tool rounds); never raises for provider faults:
        they become the row."""
        exp_id = new_id()
        requests: list[APIRequest] = []
        started = time.perf_counter()
        request = cell.request
        if request.stream != (on_delta is not None):
            request = request.model_copy(update={"stream": on_delta is not None})
        sent = await send(self, cell, request, exp_id, requests, on_delta, limiter)
        if isinstance(sent, NbPlaygroundError):
            return Outcome(self._failed(cell, exp_id, sent, started), requests, cell.images)
        result, total = sent, Usage()
        calls: list[ToolCall] = []
        for round in range(cell.max_tool_rounds + 1):
            total = total.plus(result)
            asked = tool_calls_of(result, round)
            if not asked or round == cell.max_tool_rounds:
                calls += asked
                break
            made = await call_tools(asked, dict(cell.functions), tool_schemas(cell))
            calls += made
            request = request.model_copy(update={"continuation": request.continuation + tool_round(
                request.api, result.text, list(result.tool_calls), [sent_back(c) for c in made])})
            sent = await send(self, cell, request, exp_id, requests, on_delta, limiter)
            if isinstance(sent, NbPlaygroundError):
                return Outcome(self._failed(cell, exp_id, sent, started, tool_calls=calls),
                               requests, cell.images)
            result = sent
        at = utcnow()
        requested, answered = cell.request.model, result.response_model or cell.request.model

        def priced_by(model: str) -> ResponseMetrics:
            return self.costs.metrics(
                provider=cell.provider, model=model,
                prompt_tokens=total.prompt, completion_tokens=total.completion,
                cached_tokens=total.cached, reasoning_tokens=total.reasoning,
                generation_time_ms=(time.perf_counter() - started) * 1000,
                usage_estimated=result.usage_estimated, price_as=cell.price_as,
                messages=cell.request.messages, response=result.text, at=at,
                tier=result.service_tier or cell.tier)

        # Billed by what answered: a compatible server answers a gpt-4o-mini request with its
        # own model, which costs what genai-prices says it costs (nothing known: unpriced).
        metrics = priced_by(answered)
        if metrics.cost_estimate is None and answered != requested \
                and answered.startswith(requested + "-"):
            metrics = priced_by(requested)  # OpenAI's dated snapshot of the requested model
        fields = answer_fields(cell, result, calls)
        if cell.flex_fallback and result.service_tier == "default":  # sent again, at default
            fields["request_body"] = {**self.sent_body(cell), "service_tier": "default"}
        exp = self._experiment(cell, exp_id, response=result.text, metrics=metrics,
                               finish_reason=result.finish_reason, timestamp=at, **fields)
        return Outcome(exp, requests, cell.images)

    def _attempt(self, cell: Cell, exp_id: str, attempt: int, status: int | None,
                 latency: float, request_id: str | None, error: str | None = None,
                 retry_after: float | None = None) -> APIRequest:
        return APIRequest(experiment_id=exp_id, user_id=cell.user_id, model=cell.request.model,
                          provider=cell.provider, attempt=attempt, status_code=status,
                          latency_ms=latency, request_id=request_id, error=error,
                          retry_after=retry_after)

    def _experiment(self, cell: Cell, exp_id: str, **fields: Any) -> Experiment:
        return Experiment(
            id=exp_id, user_id=cell.user_id, model=cell.request.model, provider=cell.provider,
            messages=cell.request.messages, parameters=cell.request.parameters,
            sweep_id=cell.sweep_id, repeat=cell.request.repeat, base_url=cell.base_url,
            cache_key=cell.cache_key, via=cell.via,
            request_body=fields.pop("request_body", None) or self.sent_body(cell),
            images=tuple(ImageRef(sha256=p.sha256, media_type=p.media_type)
                         for p in cell.images), **cell.prompt_tags, **fields)

    def sent_body(self, cell: Cell) -> dict[str, Any]:
        """The body as the provider's client sends it (in a server's own dialect, if any)."""
        shape = getattr(self.clients(cell.provider), "body_for", None)
        return dict(shape(cell.request)) if callable(shape) else cell.request.body()

    def _failed(self, cell: Cell, exp_id: str, error: NbPlaygroundError,
                started: float, **fields: Any) -> Experiment:
        metrics = self.costs.metrics(
            provider=cell.provider, model=cell.request.model, prompt_tokens=0,
            completion_tokens=0, generation_time_ms=(time.perf_counter() - started) * 1000)
        return self._experiment(cell, exp_id, status="error", error=str(error),
                                error_type=type(error).__name__, metrics=metrics,
                                response=getattr(error, "partial_text", "") or "", **fields)

    # -- logging --

    def record(self, outcomes: Iterable[Outcome],
               sweep: dict[str, Any] | list[dict[str, Any]] | None = None,
               scores: Sequence[Score] = ()) -> None:
        """Write a batch, its usage, its scores (and `scores` of no call of its own) and the
        sweep's row or rows (one transaction), then tell the other contexts. Booked before any
        hold is released: spend is never out of sight."""
        batch = list(outcomes)
        fresh = [o for o in batch if not o.experiment.cached]
        usage = [usage_of(o.experiment) for o in fresh]  # once: the ledger's rows and the event
        pictures = {p.sha256: (o.experiment.user_id, p) for o in fresh for p in o.images
                    if p.data is not None}
        if pictures:  # content-addressed and idempotent: safe to write before the rows
            self.repository.save_attachments([
                {"sha256": sha, "user_id": user, "media_type": p.media_type, "bytes": p.data}
                for sha, (user, p) in pictures.items()])
        scores = [sc for o in batch for sc in o.scores] + list(scores)
        if fresh or sweep is not None or scores:
            extra = {"scores": scores} if scores else {}  # a log without scores still works
            self.repository.add([o.experiment for o in fresh],
                                [r for o in fresh for r in o.requests],
                                usage=ledger_rows([u for u in usage if u is not None]),
                                sweep=sweep, **extra)
        for o, u in zip(fresh, usage, strict=True):
            self.publish(o, u)

    def publish(self, outcome: Outcome, usage: TokenUsageUpdated | None = None) -> None:
        exp = outcome.experiment
        for r in outcome.requests:
            self.bus.publish(APIRequestLogged(request_id=r.id, experiment_id=exp.id,
                                              user_id=exp.user_id, status_code=r.status_code,
                                              latency_ms=r.latency_ms, attempt=r.attempt))
        self.bus.publish(ExperimentExecuted(
            experiment_id=exp.id, user_id=exp.user_id, model=exp.model, provider=exp.provider,
            status=exp.status, cost_estimate=exp.metrics.cost_estimate, sweep_id=exp.sweep_id))
        if usage is not None:
            self.bus.publish(usage)

    async def run_experiment(self, cell: Cell, *, on_delta: DeltaCallback | None = None
                             ) -> Experiment:
        """The spec's runExperiment: gate, send, log, publish. Cancelled mid-stream (Stop), it
        logs a 'stopped' row with the text so far before the cancel goes on."""
        partial = Partial(on_delta) if on_delta is not None else None
        hold = None if self.gate is None else await reserve(
            self.gate, cell.user_id, self.max_cost(cell) or 0.0,
            tokens=cell.prompt_tokens + cell.max_completion, provider=cell.provider)
        try:
            outcome = await self.execute(
                cell, on_delta=partial,
                limiter=None if hold is None else self.limiters.of_user(cell.user_id, hold.rpm))
            self.record([outcome])
        except asyncio.CancelledError:
            if partial is not None:
                log_stopped(self, cell, partial)
            raise
        finally:
            if hold is not None:
                hold.release()
        return outcome.experiment

