"""One EmbeddingCache contract over the fake, the DuckDB file and the team log: vectors read
back by key (float32 exact), a key added twice keeps the first, unknown keys are absent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from nbplayground.adapters import log_location
from nbplayground.evaluation.embeddings import CachedEmbedder, text_key
from tests.adapters.test_repository_contract import BACKENDS, Backend, postgres_repo
from tests.fakes import FakeEmbedder, FakeEmbeddingCache, FakeExperimentRepository

__all__ = ["postgres_repo"]  # the fixture, for the postgres backend


@pytest.fixture(params=[pytest.param(b, id=b.name, marks=b.marks) for b in BACKENDS])
def cache(request: pytest.FixtureRequest) -> Iterator[Any]:
    backend: Backend = request.param
    for repo in backend.open(request):
        if isinstance(repo, FakeExperimentRepository):
            yield FakeEmbeddingCache()
        else:
            yield log_location.open_embeddings(getattr(repo, "dsn", None) or repo.path, repo)


def f32(values: list[float]) -> list[float]:
    return np.asarray(values, dtype=np.float32).astype(np.float64).tolist()


def test_vectors_read_back_by_key(cache: Any) -> None:
    big = f32(list(np.linspace(-1, 1, 1536)))
    rows = [{"key": text_key("m", "Paris"), "model": "m", "vector": f32([0.1, -0.25, 3.5])},
            {"key": text_key("m", "Tokyo 🗼"), "model": "m", "vector": big}]
    cache.add_embeddings(rows)
    got = cache.embeddings([r["key"] for r in rows] + [text_key("m", "absent")])
    assert got == {r["key"]: r["vector"] for r in rows}
    assert cache.embeddings([]) == {}
    assert cache.embeddings([text_key("other model", "Paris")]) == {}


def test_a_key_added_again_keeps_the_first_vector(cache: Any) -> None:
    key = text_key("m", "Paris")
    cache.add_embeddings([{"key": key, "model": "m", "vector": [1.0, 0.0]}])
    cache.add_embeddings([{"key": key, "model": "m", "vector": [0.0, 1.0]}])
    cache.add_embeddings([])
    assert cache.embeddings([key]) == {key: [1.0, 0.0]}


def test_through_the_cached_embedder_a_text_is_sent_once(cache: Any) -> None:
    fake = FakeEmbedder()
    CachedEmbedder(fake, cache).vectors(["Paris", "Tokyo", "Paris"])
    later = FakeEmbedder()  # a new session on the same log
    first = CachedEmbedder(later, cache).vectors(["Tokyo", "Paris"])
    assert fake.sent == ["Paris", "Tokyo"] and later.calls == []
    assert first == [[0.0, 0.0, 0.0, 2.0, 0.0], [1.0, 0.0, 1.0, 0.0, 0.0]]
