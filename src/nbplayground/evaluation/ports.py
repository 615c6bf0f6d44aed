"""Ports of the evaluation context: what scoring needs from outside (embeddings for cosine, and
the log's cache of them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Embedded:
    """One embeddings call's answer: a vector per text, in order, and what it consumed."""

    vectors: list[list[float]]
    prompt_tokens: int = 0
    latency_ms: float = 0.0
    request_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class Embedder(Protocol):
    """Texts -> vectors: a provider's embeddings endpoint, the local model, or the simulation.

    `provider` and `model` name what embeds (the cache key and the price depend on them).
    `embed` raises a ProviderError subclass when the call fails (the cell gets an error score).
    """

    provider: str
    model: str

    def embed(self, texts: Sequence[str]) -> Embedded: ...


class EmbeddingCache(Protocol):
    """The log's embeddings, by key (sha256 of model and text): a text embedded once is never
    sent again. Rows are {key, model, vector}; adding a key already there is harmless."""

    def embeddings(self, keys: Sequence[str]) -> dict[str, list[float]]: ...

    def add_embeddings(self, rows: Sequence[Mapping[str, Any]]) -> None: ...
