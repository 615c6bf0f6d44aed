"""What the panel shows, as plain JSON: models, parameters, metrics, errors, history rows."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbplayground.analytics.format import format_cost, format_cost_range, format_ms
from nbplayground.configuration import CATALOG, lookup
from nbplayground.configuration.validation import refusal
from nbplayground.domain.conversation import normalize_turns
from nbplayground.domain.fields import FIELDS
from nbplayground.domain.prompts import PromptVersion
from nbplayground.errors import InvalidInput
from nbplayground.ui.namespace import resolve_tools
from nbplayground.ui.turns import on_screen, request_turns

if TYPE_CHECKING:
    import pandas as pd

    from nbplayground.results import Experiment

DEFAULT_PARAMS: dict[str, Any] = {
    f.name: f.control()["default"] if f.default is not None else
    ([] if f.kind == "strings" else "" if f.kind == "choice" else None) for f in FIELDS}
"""The panel's starting values: the table's defaults; an empty list or "" = not sent."""
# Plain words for the error types a run can end with.
TITLES = {
    "AuthenticationFailed": "The API key was refused",
    "BudgetExceeded": "Budget reached",
    "RateLimited": "Rate limited by the provider",
    "ModelNotFound": "The endpoint does not serve this model",
    "BadRequest": "The request was rejected",
    "ServerFailed": "The provider had a server error",
    "RequestTimedOut": "The request timed out",
    "ConnectionFailed": "Could not reach the endpoint",
    "MalformedResponse": "The endpoint sent something unexpected",
    "ContextWindowExceeded": "Too long for the model",
    "InvalidParameter": "Check the parameters",
    "UnknownModel": "Unknown model",
    "InvalidInput": "Check the input",
    "ConfigurationError": "Not set up for this",
    "StoreLocked": "The experiment log is busy",
    "StoreError": "The experiment log could not be written",
}


API_NAMES = {"chat": "Chat Completions API", "responses": "Responses API"}


def unsupported(model: str, api: Any = None) -> dict[str, str]:
    """{parameter: why it is disabled} for the parameters `model`, or the API chosen (auto:
    Responses for the models only it serves), does not take."""
    spec = lookup(model)
    out = {f.name: refusal(f, spec) for f in FIELDS if f.name not in spec.accepts}
    chosen = api if api in API_NAMES else "responses" if spec.responses_only else "chat"
    for f in FIELDS:
        if chosen not in f.apis and f.name not in out:
            out[f.name] = f"the {API_NAMES[chosen]} does not take {f.label.lower()}"
    return out


def controls() -> list[dict[str, Any]]:
    """The panel's controls, described by the field table (the browser holds no names). A field
    of functions also takes the names of the notebook's own (`names`: the editor's hint)."""
    return [{**f.control(), "names": "functions defined in this notebook, by name"
             if f.shape == "tools" else None} for f in FIELDS]


def model_entry(provider: str, model: str) -> dict[str, Any]:
    spec = lookup(model)
    if not spec.known:  # a compatible server's own model (a GGUF file): no invented limits
        return {"id": f"{provider}:{model}", "provider": provider, "model": model,
                "reasoning": False, "max_output_tokens": None, "context_window": None,
                "description": "served by the endpoint; its limits and price are unknown here",
                "unsupported": unsupported(model)}
    return {"id": f"{provider}:{model}", "provider": provider, "model": model,
            "reasoning": spec.reasoning, "max_output_tokens": spec.max_output_tokens,
            "context_window": spec.context_window, "description": spec.description,
            "unsupported": unsupported(model)}


def model_entries(frame: pd.DataFrame, current: tuple[str, str]) -> list[dict[str, Any]]:
    """pg.models() rows plus the current (provider, model) when it is not among them."""
    pairs = [(str(r.provider), str(r.model)) for r in frame.itertuples()]
    if current not in pairs:
        pairs.insert(0, current)
    return [model_entry(p, m) for p, m in pairs]


def fallback_entries(provider: str, current: str) -> list[dict[str, Any]]:
    """Before pg.models() has answered: the current model and the catalog's chat models."""
    names = [current] + [n for n, s in CATALOG.items() if s.provider == "openai" and n != current]
    return [model_entry(provider, n) for n in (names if provider != "local" else [current])]


def clean_params(params: dict[str, Any], model: str) -> dict[str, Any]:
    """The panel's parameters as facade keyword arguments; what `model` refuses is left out."""
    skip = unsupported(model, params.get("api"))
    out: dict[str, Any] = {}
    for f in FIELDS:
        value = params.get(f.name, DEFAULT_PARAMS[f.name])
        if f.name in skip or value is None or value == "" or value == []:
            continue
        if f.kind == "strings":
            value = [s for s in value if isinstance(s, str) and s] if isinstance(value, list) \
                else value
            if not value:
                continue
        if isinstance(value, float) and value.is_integer() and f.kind == "integer":
            value = int(value)  # JavaScript numbers arrive as floats
        if f.shape == "tools":
            value = resolve_tools(value)
        out[f.name] = value
    return out


def request(state: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(prompt, keyword arguments) for pg.preview / pg.submit from a panel configuration."""
    model = state["model"]
    if not isinstance(model, str) or not model.strip():
        raise InvalidInput("pick a model")
    kwargs: dict[str, Any] = {"model": model, "provider": state["provider"] or None,
                              "system": state["system"] or None}
    kwargs.update(clean_params(state["params"], model))
    if state.get("images"):
        kwargs["images"] = list(state["images"])
    return request_turns(state["messages"], state["prompt"]), kwargs


def params_of(exp: Experiment) -> dict[str, Any]:
    sent = exp.parameters.model_dump()
    out = dict(DEFAULT_PARAMS)
    for name, value in sent.items():
        if value is not None:
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


def config_of(exp: Experiment) -> dict[str, Any]:
    """The panel configuration that reproduces `exp`."""
    turns = [m.as_dict() for m in exp.messages if m.role not in ("system", "developer")]
    prompt = turns.pop()["content"] if turns and turns[-1]["role"] == "user" else ""
    return {"model": exp.model, "provider": exp.provider, "system": exp.system or "",
            "messages": turns, "prompt": prompt, "params": params_of(exp)}


def metrics_of(exp: Experiment) -> dict[str, Any]:
    m = exp.metrics
    return {"id": exp.id, "model": exp.model, "prompt_tokens": m.prompt_tokens,
            "completion_tokens": m.completion_tokens, "time": format_ms(m.generation_time_ms),
            "cost": format_cost(m.cost_estimate, exp.provider), "estimated": m.usage_estimated,
            "finish_reason": exp.finish_reason or "", "reasoning_tokens": m.reasoning_tokens,
            "tokens": [{"t": t.token, "p": math.exp(t.logprob),
                        "top": [[w, math.exp(q)] for w, q in t.top]}
                       for t in exp.token_logprobs or ()],
            "tool_calls": [{"name": c.name, "args": json.dumps(c.arguments)[:200],
                            "result": c.result, "error": c.error} for c in exp.tool_calls]}


def loaded(exp: Experiment, scores: list[dict[str, Any]]) -> dict[str, Any]:
    """The panel's values that show a logged run again: its configuration and its answer."""
    failed = exp.status == "error"
    return {**config_of(exp), "answer": exp.response,
            "status": {"ok": "done"}.get(exp.status, exp.status),
            "metrics": {} if failed else {**metrics_of(exp), "scores": scores},
            "error": error_of(kind=exp.error_type, text=exp.error) if failed else {}}


def error_of(error: BaseException | None = None, *, kind: str | None = None,
             text: str | None = None) -> dict[str, str]:
    """{title, detail} in plain words; never a traceback."""
    kind = kind or (type(error).__name__ if error is not None else "error")
    detail = text if text is not None else str(error) if error is not None else ""
    title = TITLES.get(kind)
    if title is None:
        title = "Something went wrong" if error is None or not _ours(error) else "Error"
        if error is not None and not _ours(error):
            detail = f"{kind}: {detail}" if detail else kind
    return {"title": title, "detail": detail, "kind": kind}


def _ours(error: BaseException) -> bool:
    from nbplayground.errors import NbPlaygroundError

    return isinstance(error, NbPlaygroundError)


def estimate_of(preview: dict[str, Any]) -> dict[str, Any]:
    cost = format_cost_range(preview["min_cost"], preview["max_cost"], preview["provider"])
    return {"prompt_tokens": preview["prompt_tokens"], "max_completion":
            preview["max_completion"], "cost": cost, "error": ""}


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _clip(text: Any, n: int) -> str:
    s = " ".join(str(text).split()) if isinstance(text, str) else ""
    return s if len(s) <= n else s[: n - 1] + "…"


def history_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for r in frame.to_dict(orient="records"):
        when = r.get("created_at")
        stamp = when.to_pydatetime().astimezone().strftime("%b %d, %H:%M:%S") \
            if when is not None and hasattr(when, "to_pydatetime") else str(when or "")
        out.append({
            "id": r["id"], "model": r["model"], "provider": r["provider"],
            "prompt": _clip(r.get("prompt"), 160), "response": _clip(
                r.get("error") if r.get("status") == "error" else r.get("response"), 220),
            "status": r.get("status") or "ok", "when": stamp,
            "tokens": int(_num(r.get("prompt_tokens")) or 0) +
            int(_num(r.get("completion_tokens")) or 0),
            "cost": format_cost(_num(r.get("cost_estimate")), str(r["provider"]))})
    return out


def column_config(base: dict[str, Any], column: dict[str, Any]) -> dict[str, Any]:
    """A compare column's configuration: its model and parameters, the shared messages."""
    return {**base, "model": column.get("model", ""),
            "provider": column.get("provider") or base["provider"],
            "params": dict(column.get("params") or {})}


def seed_columns(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Two compare columns from a Chat configuration: its model and fields, and the same at a
    low temperature."""
    column = {"model": config["model"], "provider": config["provider"],
              "params": dict(config["params"])}
    return [column, {**column, "params": {**config["params"], "temperature": 0.2}}]


def initial_config(default_provider: str, default_model: Callable[[str], str],
                   initial: dict[str, Any]) -> dict[str, Any]:
    """The configuration of a new panel from pg.panel(**initial), which takes pg.run's names."""
    provider = initial.get("provider") or default_provider
    model = initial.get("model") or default_model(provider)
    params = dict(DEFAULT_PARAMS)
    for f in FIELDS:
        value = initial.get(f.name)
        if value is not None:
            params[f.name] = [value] if f.kind == "strings" and isinstance(value, str) else value
    prompt, messages = initial.get("prompt") or "", list(initial.get("messages") or [])
    images: list[Any] = []
    if isinstance(prompt, PromptVersion):  # a saved version: its turns, or its template
        shown = on_screen(prompt.messages) if prompt.messages else ([], prompt.template, [])
        messages, prompt, images = [*messages, *shown[0]], shown[1], shown[2]
    elif not isinstance(prompt, str):  # a conversation, as pg.run takes it
        try:
            earlier, prompt, images = on_screen(normalize_turns(list(prompt), "prompt"))
        except ValueError as e:
            raise InvalidInput(str(e)) from None
        messages += earlier
    return {"model": model, "provider": provider, "system": initial.get("system") or "",
            "messages": messages, "prompt": prompt, "params": params, "images": images}
