"""One ExperimentRepository contract, run over the in-memory fake, the real DuckDB file and the
team log on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from nbplayground.adapters.duckdb import DuckDBExperimentRepository
from nbplayground.adapters.duckdb.frames import names
from nbplayground.adapters.duckdb.rows import EXPERIMENT_COLUMNS
from nbplayground.domain import Message, ModelParameters, ResponseMetrics
from nbplayground.domain.batch import BatchRecord
from nbplayground.errors import InvalidInput
from tests.factories import T0, make_experiment, make_request
from tests.fakes import FakeExperimentRepository

Repo = Any  # FakeExperimentRepository | DuckDBExperimentRepository | PostgresExperimentRepository


@dataclass(frozen=True)
class Backend:
    """How to get a fresh, empty repository of one kind for one test, and clean up after it.

    `open` is a generator: it yields the repository and tidies up after the yield. It is given
    the test's FixtureRequest, so it can ask for other fixtures (tmp_path, a server's address)
    or skip the test when what it needs is missing. `marks` go on each of its tests.
    """

    name: str
    open: Callable[[pytest.FixtureRequest], Iterator[Repo]]
    marks: tuple[pytest.MarkDecorator, ...] = ()


def _fake(request: pytest.FixtureRequest) -> Iterator[Repo]:
    yield FakeExperimentRepository()


def _duckdb(request: pytest.FixtureRequest) -> Iterator[Repo]:
    yield DuckDBExperimentRepository(request.getfixturevalue("tmp_path") / "log.duckdb")


BACKENDS = (
    Backend("fake", _fake),
    Backend("duckdb", _duckdb),
    Backend("postgres", lambda request: iter([request.getfixturevalue("postgres_repo")])),
)


@pytest.fixture(params=[pytest.param(b, id=b.name, marks=b.marks) for b in BACKENDS])
def repo(request: pytest.FixtureRequest) -> Iterator[Repo]:
    backend: Backend = request.param
    yield from backend.open(request)


@pytest.fixture
def postgres_repo(team_db: str) -> Iterator[Any]:
    """The team log as its owner (a superuser: row security is tested in tests/team)."""
    from nbplayground import team
    from nbplayground.adapters.postgres import PostgresExperimentRepository

    team.init(team_db, users={}, admins={})
    repo = PostgresExperimentRepository(team_db)
    yield repo
    repo.close()


def at(seconds: float) -> Any:
    return T0 + timedelta(seconds=seconds)


def test_round_trip_keeps_every_field(repo: Repo) -> None:
    full = make_experiment(
        messages=(Message(role="developer", content="Answer in French. «ok»"),
                  Message(role="user", content="Say hi 👋"),
                  Message(role="assistant", content="Salut"),
                  Message(role="user", content="Again, with \"quotes\"\nand a newline")),
        parameters=ModelParameters(temperature=1.3, max_tokens=4096, top_p=0.95,
                                   frequency_penalty=-0.5, presence_penalty=1.75,
                                   stop=("END", "\n"), seed=-(2**62),
                                   reasoning_effort="low"),
        metrics=ResponseMetrics(prompt_tokens=1234, completion_tokens=567, cached_tokens=1024,
                                generation_time_ms=1234.5678, cost_estimate=0.000123456789,
                                usage_estimated=True, price_as="gpt-4.1", cost_as=0.0042),
        status="error", error="Rate limited (429): slow down", error_type="RateLimited",
        finish_reason="length", sweep_id="sweep-1", repeat=3, base_url="http://127.0.0.1:8000/v1",
        cache_key="k" * 64, cached=True, request_body={"model": "gpt-4o-mini", "n": [1, 2.5]},
        response="partial answer…", response_model="SmolLM2-135M-Instruct.Q4_1.gguf")
    bare = make_experiment(parameters=ModelParameters(), metrics=ResponseMetrics(),
                           system=None, base_url=None, cache_key=None, finish_reason=None,
                           request_body={}, response="")
    repo.add([full, bare])
    assert repo.get(full.id) == full
    assert repo.get(bare.id) == bare
    assert repo.get("no-such-id") is None


def test_a_stopped_run_round_trips_with_its_partial_answer(repo: Repo) -> None:
    # migration 9 on each log widened the status check to take the panel's Stop
    stopped = make_experiment(status="stopped", response="Once upon a ", error_type="Cancelled",
                              error="stopped by the user")
    repo.add([stopped])
    assert repo.get(stopped.id) == stopped
    assert list(repo.history()["status"]) == ["stopped"]


def test_add_is_idempotent_on_experiment_id(repo: Repo) -> None:
    a, b = make_experiment(), make_experiment()
    requests = [make_request(a), make_request(a, attempt=1), make_request(b)]
    repo.add([a, b, a], requests)
    repo.add([a, b], requests)
    # A retried batch whose requests were rebuilt with fresh ids still logs nothing twice.
    repo.add([a], [make_request(a, attempt=2)])
    assert sorted(e.id for e in repo.list()) == sorted([a.id, b.id])
    assert len(repo.requests()) == 3
    assert list(repo.requests(a.id)["attempt"]) == [0, 1]


def test_requests_take_their_experiment_time(repo: Repo) -> None:
    e = make_experiment(timestamp=at(5))
    repo.add([e], [make_request(e)])
    logged = repo.requests(e.id)
    assert logged["created_at"].iloc[0].to_pydatetime() == e.timestamp
    assert logged["request_id"].iloc[0].startswith("req_")


def test_list_is_newest_first_and_filters(repo: Repo) -> None:
    old = make_experiment(timestamp=at(1), user_id="alice", sweep_id="s1")
    new = make_experiment(timestamp=at(3), user_id="alice")
    mid = make_experiment(timestamp=at(2), user_id="bob", sweep_id="s1")
    repo.add([old, new])
    repo.add([mid])
    assert [e.id for e in repo.list()] == [new.id, mid.id, old.id]
    assert [e.id for e in repo.list(user_id="alice")] == [new.id, old.id]
    assert [e.id for e in repo.list(sweep_id="s1")] == [mid.id, old.id]
    assert [e.id for e in repo.list(user_id="alice", sweep_id="s1")] == [old.id]
    assert [e.id for e in repo.list(limit=2)] == [new.id, mid.id]
    assert repo.list(limit=0) == []
    assert repo.list(user_id="carol") == []
    with pytest.raises(InvalidInput, match="limit"):
        repo.list(limit=-1)


def test_same_timestamp_lists_the_later_write_first(repo: Repo) -> None:
    first, second = make_experiment(timestamp=at(1)), make_experiment(timestamp=at(1))
    repo.add([first])
    repo.add([second])
    assert [e.id for e in repo.list()] == [second.id, first.id]


def test_find_cached_picks_the_newest_ok_and_ignores_errors(repo: Repo) -> None:
    older = make_experiment(cache_key="k1", timestamp=at(1), response="older")
    newer = make_experiment(cache_key="k1", timestamp=at(2), response="newer")
    failed = make_experiment(cache_key="k1", timestamp=at(3), status="error", error="boom")
    only_failed = make_experiment(cache_key="k2", timestamp=at(4), status="error", error="x")
    other = make_experiment(cache_key="k3", timestamp=at(5))
    repo.add([newer, failed, only_failed])
    repo.add([older, other])
    found = repo.find_cached(["k1", "k2", "k3", "k4", "k1"])
    assert found == {"k1": newer, "k3": other}
    assert repo.find_cached([]) == {}


def test_a_batch_carries_the_sweep_row_inserted_then_updated(repo: Repo) -> None:
    spec = {"prompts": ["a", "b"], "model": ["gpt-4o-mini"], "temperature": [0.0, 0.7]}
    repo.add([], sweep={"id": "s1", "user_id": "alice", "spec": spec, "status": "running",
                        "total": 4})
    first = repo.sweep("s1")
    assert first is not None
    assert first["spec"] == spec
    assert (first["status"], first["total"], first["done"], first["spent"]) == (
        "running", 4, 0, 0.0)
    e = make_experiment(sweep_id="s1")
    repo.add([e], sweep={"id": "s1", "status": "done", "done": 3, "failed": 1,
                         "spent": 0.0125})
    second = repo.sweep("s1")
    assert second is not None
    assert (second["status"], second["total"], second["done"], second["failed"],
            second["spent"], second["user_id"]) == ("done", 4, 3, 1, 0.0125, "alice")
    assert second["spec"] == spec
    assert second["created_at"] == first["created_at"]
    assert second["updated_at"] >= first["updated_at"]
    assert repo.get(e.id) == e
    assert repo.sweep("nope") is None


def test_a_batch_carries_several_sweep_rows_or_none_if_one_is_bad(repo: Repo) -> None:
    """A sweep and its judges' sweep are written by one transaction."""
    cell, verdict = make_experiment(sweep_id="s1"), make_experiment(sweep_id="s1-judges")
    repo.add([cell, verdict], sweep=[{"id": "s1", "user_id": "alice", "done": 1},
                                     {"id": "s1-judges", "user_id": "alice", "done": 1}])
    assert (repo.sweep("s1") or {})["done"] == 1
    assert (repo.sweep("s1-judges") or {})["done"] == 1
    late = make_experiment(sweep_id="s2")
    with pytest.raises(InvalidInput, match="colour"):
        repo.add([late], sweep=[{"id": "s2", "user_id": "alice"}, {"id": "s2-j", "colour": 1}])
    assert repo.get(late.id) is None and repo.sweep("s2") is None


def test_a_bad_sweep_row_writes_nothing_of_its_batch(repo: Repo) -> None:
    e = make_experiment()
    usage = [{"id": e.id, "user_id": "alice", "experiment_id": e.id, "model": e.model,
              "provider": "openai", "prompt_tokens": 3, "completion_tokens": 2, "cost": 1e-6}]
    with pytest.raises(InvalidInput, match="colour"):
        repo.add([e], usage=usage, sweep={"id": "s1", "colour": "blue"})
    with pytest.raises(InvalidInput, match="id"):
        repo.add([e], sweep={"status": "done"})
    assert repo.get(e.id) is None
    assert repo.sweep("s1") is None


def test_history_is_a_dataframe_of_the_experiment_columns(repo: Repo) -> None:
    assert list(repo.history().columns) == names(EXPERIMENT_COLUMNS)
    a = make_experiment(timestamp=at(1), prompt="Name three colours", model="gpt-4o-mini")
    b = make_experiment(timestamp=at(2), prompt="Write a haiku", model="gpt-4.1-nano",
                        response="Quiet COLOURS fall", sweep_id="s9")
    c = make_experiment(timestamp=at(3), prompt="Count to ten", user_id="bob")
    repo.add([a, b, c])
    df = repo.history()
    assert list(df.columns) == names(EXPERIMENT_COLUMNS)
    assert list(df["id"]) == [c.id, b.id, a.id]
    assert list(df["token_count"]) == [46, 46, 46]
    assert df["created_at"].iloc[0].to_pydatetime() == c.timestamp
    assert list(repo.history(search="colours")["id"]) == [b.id, a.id]
    assert list(repo.history(model="gpt-4.1-nano")["id"]) == [b.id]
    assert list(repo.history(user_id="alice", limit=1)["id"]) == [b.id]
    assert list(repo.history(sweep_id="s9")["id"]) == [b.id]
    assert repo.history(search="nothing like this").empty


# -- the batches table (BatchLog) --

def batch_record(**kw: Any) -> BatchRecord:
    base: dict[str, Any] = {"user_id": "alice", "sweep_id": "sw-1", "model": "gpt-4o-mini",
                            "custom_ids": ("k1", "k2"), "total": 2, "max_cost": 0.25,
                            "created_at": T0}
    return BatchRecord(**(base | kw))


def test_a_batch_row_round_trips_and_is_replaced_by_id(repo: Repo) -> None:
    first = batch_record()
    repo.save_batch(first)
    assert repo.batches() == [first]
    later = first.model_copy(update={
        "batch_id": "batch_1", "input_file_id": "file-1", "output_file_id": "file-2",
        "error_file_id": "file-3", "status": "completed", "completed": 1, "failed": 1,
        "finished_at": T0 + timedelta(hours=1), "ingested_at": T0 + timedelta(hours=2)})
    repo.save_batch(later)
    assert repo.batches() == [later]
    assert later.settled and not later.live and first.live


def test_batches_are_listed_oldest_first_by_user_and_sweep(repo: Repo) -> None:
    a = batch_record(created_at=T0 + timedelta(seconds=2))
    b = batch_record(created_at=T0 + timedelta(seconds=1), sweep_id="sw-2")
    c = batch_record(user_id="bob", created_at=T0 + timedelta(seconds=3))
    for r in (a, b, c):
        repo.save_batch(r)
    assert [x.id for x in repo.batches()] == [b.id, a.id, c.id]
    assert [x.id for x in repo.batches(user_id="alice")] == [b.id, a.id]
    assert [x.id for x in repo.batches(user_id="alice", sweep_id="sw-1")] == [a.id]
    assert repo.batches(sweep_id="nope") == []


def test_an_empty_batch_keeps_no_custom_ids_and_no_cost(repo: Repo) -> None:
    bare = batch_record(custom_ids=(), max_cost=None, total=0)
    repo.save_batch(bare)
    assert repo.batches() == [bare]
