"""s.similarity(metric="cosine") with a fake Embedder and cache: scores, the cache by text hash
(nothing embedded twice), batching, faults as error scores, bad input before any request."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from nbplayground import scorers as s
from nbplayground.errors import NbPlaygroundError, RateLimited
from nbplayground.evaluation import ScoringPlan
from nbplayground.evaluation.embeddings import CachedEmbedder, cosine_of, text_key
from tests.factories import make_experiment
from tests.fakes import FakeEmbedder, FakeEmbeddingCache

ROWS = [{"capital": "Paris"}, {"capital": "Madrid"}, {"capital": "Paris"}]


def plan_with(embedder: Any, threshold: float = 0.9) -> ScoringPlan:
    return ScoringPlan([s.similarity("{capital}", metric="cosine", threshold=threshold)], ROWS,
                       embedder=embedder)


def test_cosine_scores_and_passes_at_its_threshold() -> None:
    plan = plan_with(CachedEmbedder(FakeEmbedder()))
    (same,) = plan.score(0, make_experiment(response=" paris\n"))
    (other,) = plan.score(1, make_experiment(response="Oslo"))
    assert same.score == pytest.approx(1.0) and same.passed and same.kind == "text_similarity"
    assert other.score == pytest.approx(cosine_of([0, 0, 0, 1, 0], [2, 0, 1, 0, 0]))
    assert not other.passed and "cosine 0.000 < 0.9" in other.reason


def test_cosine_of_vectors_uses_their_angle_and_refuses_two_lengths() -> None:
    assert cosine_of([1, 0], [0, 1]) == 0.0
    assert cosine_of([1, 1], [-1, -1]) == pytest.approx(-1.0)
    assert cosine_of([0, 0], [1, 1]) == 0.0
    with pytest.raises(ValueError, match="differ in length"):
        cosine_of([1, 0], [1, 0, 0])


def test_a_text_embedded_once_is_never_sent_again_even_by_a_new_embedder() -> None:
    fake, cache = FakeEmbedder(), FakeEmbeddingCache()
    plan = plan_with(CachedEmbedder(fake, cache))
    for i in range(3):
        plan.score(i, make_experiment(response="Paris"))
    assert sorted(fake.sent) == ["Madrid", "Paris"]  # each distinct text once
    assert set(cache.rows) == {text_key("fake-vowels", t) for t in ("Paris", "Madrid")}
    # A later session (new embedder, the same log): nothing is sent.
    again = FakeEmbedder()
    (score,) = plan_with(CachedEmbedder(again, cache)).score(1, make_experiment(response="Paris"))
    assert again.calls == [] and score.score is not None


def test_the_key_is_the_hash_of_model_and_text() -> None:
    assert text_key("m", "Paris") != text_key("n", "Paris") != text_key("m", "paris")
    assert len(text_key("m", "x")) == 64


def test_rescoring_prefetches_every_text_in_batches() -> None:
    fake = FakeEmbedder(batch_size=2)
    embedder = CachedEmbedder(fake, FakeEmbeddingCache())
    plan = plan_with(embedder)
    cells = [(i, make_experiment(response=r)) for i, r in enumerate(["Paris", "Rome", "Oslo"])]
    plan.prefetch(cells)
    assert [len(b) for b in fake.calls] == [2, 2]  # Paris, Madrid, Rome, Oslo: 2 batches
    assert sorted(fake.sent) == ["Madrid", "Oslo", "Paris", "Rome"]
    for i, exp in cells:
        plan.score(i, exp)
    assert len(fake.calls) == 2  # all from the cache


def test_booking_is_called_once_per_call_with_its_tokens() -> None:
    booked: list[int] = []
    embedder = CachedEmbedder(FakeEmbedder(), book=lambda e, a: booked.append(a.prompt_tokens))
    embedder.vectors(["one two", "three"])
    embedder.vectors(["three", "one two"])
    assert booked == [3]


def test_an_embeddings_fault_is_an_error_score_of_that_cell_and_the_next_one_retries() -> None:
    fake = FakeEmbedder()
    plan = plan_with(CachedEmbedder(fake, FakeEmbeddingCache()))
    fake.fail_with = RateLimited("rate limited by the embeddings endpoint (429)")
    (bad,) = plan.score(0, make_experiment(response="Paris"))
    assert bad.score is None and not bad.passed and "RateLimited" in bad.reason
    fake.fail_with = None
    (good,) = plan.score(0, make_experiment(response="Paris"))
    assert good.passed


def test_a_blank_text_is_not_sent() -> None:
    fake = FakeEmbedder()
    plan = ScoringPlan([s.similarity("{capital}", metric="cosine")], [{"capital": " "}],
                       embedder=CachedEmbedder(fake))
    (score,) = plan.score(0, make_experiment(response="Paris"))
    assert score.score == 0.0 and fake.calls == []


@pytest.mark.parametrize("make", [
    lambda: s.similarity("{capital}", metric="cosine", threshold=1.01),
    lambda: s.similarity("{capital}", metric="cosine", threshold=-0.5),
    lambda: s.similarity("", metric="cosine"),
    lambda: s.similarity("  \n", metric="cosine"),
    lambda: plan_with(None),  # no embedder: MetricUnavailable
])
def test_bad_cosine_input_is_a_typed_error_before_any_request(make: Any) -> None:
    with pytest.raises(NbPlaygroundError) as info:
        make()
    assert len(str(info.value)) > 20


def test_the_plan_says_when_it_needs_embeddings() -> None:
    assert ScoringPlan.embeds([s.similarity("x", metric="cosine")])
    assert not ScoringPlan.embeds([s.similarity("x"), s.exact("x")])
    assert plan_with(CachedEmbedder(FakeEmbedder())).blocking
    assert not ScoringPlan([s.exact("x")], []).blocking


class GatedEmbedder(FakeEmbedder):
    """Holds each call until released, and says when a call has started."""

    def __init__(self) -> None:
        super().__init__()
        self.started: dict[str, threading.Event] = {}
        self.release = threading.Event()

    def embed(self, texts: Any) -> Any:
        for t in texts:
            self.started.setdefault(t, threading.Event()).set()
        assert self.release.wait(10), "never released"
        return super().embed(texts)

    def wait_started(self, text: str) -> None:
        assert self.started.setdefault(text, threading.Event()).wait(10)


def test_cells_scored_at_once_send_at_once_and_a_text_in_flight_is_waited_for() -> None:
    gated = GatedEmbedder()
    embedder = CachedEmbedder(gated, FakeEmbeddingCache())
    got: dict[str, Any] = {}

    def ask(name: str, text: str) -> threading.Thread:
        t = threading.Thread(target=lambda: got.__setitem__(name, embedder.vectors([text])))
        t.start()
        return t

    first = ask("a", "Paris")
    gated.wait_started("Paris")
    second = ask("b", "Tokyo")
    gated.wait_started("Tokyo")  # not queued behind the first call: both are in flight
    same = ask("c", "Paris")  # in flight already: waits for it
    gated.release.set()
    for t in (first, second, same):
        t.join(10)
    assert sorted(gated.sent) == ["Paris", "Tokyo"]
    assert got["a"] == got["c"] == [[1.0, 0.0, 1.0, 0.0, 0.0]]
