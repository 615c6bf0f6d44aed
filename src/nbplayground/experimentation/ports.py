"""Ports of the experimentation context: the model provider and the experiment log."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from nbplayground.domain import APIRequest, ChatRequest, ChatResult, Experiment

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
            sweep: Mapping[str, Any] | None = None) -> None:
        """One transaction: experiments (ids already logged are skipped with their requests),
        usage ledger rows, and the sweep's row (upserted) when given."""
        ...

    def get(self, experiment_id: str) -> Experiment | None:
        ...

    def find_cached(self, cache_keys: Sequence[str]) -> dict[str, Experiment]:
        """The newest `ok` experiment for each cache key that has one."""
        ...

    def list(self, *, user_id: str | None = None, sweep_id: str | None = None,
             limit: int | None = None) -> list[Experiment]:
        """Newest first."""
        ...
