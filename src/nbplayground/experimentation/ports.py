"""Ports of the experimentation context: the model provider and the experiment log."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from nbplayground.domain import APIRequest, ChatRequest, ChatResult, Experiment
from nbplayground.evaluation import Score

DeltaCallback = Callable[[str], None]


class ChatClient(Protocol):
    """The spec's AIInteractionService, one implementation per provider."""

    provider: str
    base_url: str | None

    async def complete(self, request: ChatRequest, *, on_delta: DeltaCallback | None = None
                       ) -> ChatResult:
        """One attempt. Raises a ProviderError subclass on failure; never retries by itself."""
        ...

    def models(self) -> list[str]:
        """Model names this provider offers (may ask the endpoint)."""
        ...


class ExperimentRepository(Protocol):
    """The experiment log. Writes are batches; each call commits before it returns."""

    def add(self, experiments: Sequence[Experiment], requests: Sequence[APIRequest] = (), *,
            usage: Sequence[Mapping[str, Any]] = (),
            sweep: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
            scores: Sequence[Score] = ()) -> None:
        """One transaction: experiments (ids already logged are skipped with their requests),
        usage ledger rows, scores (one per experiment, sweep and scorer: a newer one replaces
        it) and the sweep's row, or rows (each upserted), when given."""
        ...

    def get(self, experiment_id: str) -> Experiment | None:
        ...

    def save_attachments(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Store image bytes once per sha256 (sha256, user_id, media_type, bytes); idempotent."""
        ...

    def find_cached(self, cache_keys: Sequence[str]) -> dict[str, Experiment]:
        """The newest `ok` experiment for each cache key that has one."""
        ...

    def list(self, *, user_id: str | None = None, sweep_id: str | None = None,
             limit: int | None = None) -> list[Experiment]:
        """Newest first."""
        ...


class Throttle(Protocol):
    async def acquire(self, tokens: int) -> None: ...

    def pause(self, seconds: float) -> None: ...

    def observe(self, headers: Mapping[str, str]) -> None: ...


class Hold(Protocol):
    """What a gate holds for work in flight, until that work's spend is booked."""

    rpm: int | None

    def settle(self, usd: float, tokens: int = 0) -> None: ...

    def release(self) -> None: ...


class Gate(Protocol):
    """Passed before a request is sent (raises BudgetExceeded); what calls cost is booked in
    the log with them (ExperimentRepository.add(usage=...)) before their hold is released."""

    def reserve(self, user_id: str, needed: float, *, tokens: int = 0, provider: str = "openai",
                what: str = "this run") -> Hold: ...

    def limited(self, user_id: str, provider: str = "openai") -> bool:
        """Whether some limit applies (False: every hold would hold nothing)."""
        ...
