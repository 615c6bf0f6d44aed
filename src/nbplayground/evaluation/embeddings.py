"""Cosine similarity through an Embedder, with every vector cached in the log by text hash."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence

from nbplayground.evaluation.ports import Embedded, Embedder, EmbeddingCache

Booker = Callable[[Embedder, Embedded], None]
"""Books what an embeddings call consumed (usage and api_requests rows): wiring supplies it."""


def text_key(model: str, text: str) -> str:
    """The cache key of `text` embedded by `model`: sha256 of both (no text in the log twice)."""
    return hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()


def cosine_of(a: Sequence[float], b: Sequence[float]) -> float:
    """cos(a, b) in [-1, 1] (numpy); 0 for a zero vector."""
    import numpy as np

    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"the vectors differ in length ({x.size} and {y.size}): two models?")
    norm = float(np.linalg.norm(x) * np.linalg.norm(y))
    return 0.0 if not norm else max(-1.0, min(1.0, float(x @ y) / norm))


class CachedEmbedder:
    """An Embedder in front of the log: texts the cache has are not sent; the rest go in
    batches (each distinct text once), are booked, then stored. Cells scored at the same time
    send at the same time; a text another thread is fetching is waited for, not sent twice."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache | None = None,
                 book: Booker | None = None) -> None:
        self.inner, self.cache, self.book = inner, cache, book
        self.provider, self.model = inner.provider, inner.model
        self._memo: dict[str, list[float]] = {}
        self._flying: dict[str, threading.Event] = {}
        self._lock = threading.Lock()  # scorers run on worker threads

    def __repr__(self) -> str:
        return f"CachedEmbedder({self.inner!r})"

    def vectors(self, texts: Sequence[str]) -> list[list[float]]:
        keys = [text_key(self.model, t) for t in texts]
        text_of = dict(zip(keys, texts, strict=True))
        with self._lock:
            waits = {k: self._flying[k] for k in text_of
                     if k not in self._memo and k in self._flying}
            mine = {k: threading.Event() for k in text_of
                    if k not in self._memo and k not in waits}
            self._flying.update(mine)
        try:
            if mine:
                self._fetch([(k, text_of[k]) for k in mine])
        finally:
            with self._lock:
                for k, done in mine.items():
                    self._flying.pop(k, None)
                    done.set()
        for done in waits.values():
            done.wait()
        with self._lock:
            missing = [k for k in waits if k not in self._memo]  # its sender failed
        if missing:
            self.vectors([text_of[k] for k in missing])
        with self._lock:
            return [self._memo[k] for k in keys]

    def _fetch(self, todo: list[tuple[str, str]]) -> None:
        if self.cache is not None:
            found = self.cache.embeddings([k for k, _ in todo])
            with self._lock:
                self._memo.update(found)
            todo = [(k, t) for k, t in todo if k not in found]
        size = max(1, int(getattr(self.inner, "batch_size", 256)))
        for start in range(0, len(todo), size):  # each batch booked and kept as it comes
            self._send(todo[start:start + size])

    def _send(self, batch: list[tuple[str, str]]) -> dict[str, list[float]]:
        answer = self.inner.embed([t for _, t in batch])
        if len(answer.vectors) != len(batch):
            raise ValueError(f"the embeddings endpoint answered {len(answer.vectors)} "
                             f"vectors for {len(batch)} texts")
        if self.book is not None:
            self.book(self.inner, answer)
        import numpy as np

        # float32, as the log keeps them: a score from the cache equals the first one
        fresh = {k: np.asarray(v, dtype=np.float32).astype(np.float64).tolist()
                 for (k, _), v in zip(batch, answer.vectors, strict=True)}
        if self.cache is not None:
            self.cache.add_embeddings([{"key": k, "model": self.model, "vector": v}
                                       for k, v in fresh.items()])
        with self._lock:
            self._memo.update(fresh)
        return fresh

    def embed(self, texts: Sequence[str]) -> Embedded:
        return Embedded(self.vectors(texts))

    def prefetch(self, texts: Sequence[str]) -> None:
        """Embed what the cache lacks of `texts` in one call (rescoring a whole sweep)."""
        if texts:
            self.vectors([t for t in dict.fromkeys(texts) if t.strip()])
