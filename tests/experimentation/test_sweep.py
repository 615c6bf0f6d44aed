"""Sweeps: the grid, concurrency, faults, cache, resume, estimate and max_cost."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground import BudgetExceeded, InvalidInput
from nbplayground.configuration import Endpoint
from nbplayground.experimentation.grid import expand
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub


def count(db: Path, sql: str) -> Any:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchone()[0]  # type: ignore[index]


def test_grid_crosses_lists_and_zips_on_request() -> None:
    cells = expand(["a", "b"], ["m1", "m2"], system=None, repeats=2,
                   params={"temperature": [0.0, 1.0], "max_tokens": 5})
    assert len(cells) == 2 * 2 * 2 * 2
    zipped = expand("p", ["m1", "m2"], system=None, repeats=1, mode="zip",
                    params={"temperature": [0.0, 1.0]})
    assert [(c.model, c.params["temperature"]) for c in zipped] == [("m1", 0.0), ("m2", 1.0)]
    with pytest.raises(InvalidInput, match="same length"):
        expand("p", ["m1", "m2", "m3"], system=None, repeats=1, mode="zip",
               params={"temperature": [0.0, 1.0]})


def test_stop_is_one_value_unless_given_a_list_of_lists() -> None:
    one = expand("p", "m", system=None, repeats=1, params={"stop": ["\n", "."]})
    assert len(one) == 1 and one[0].params["stop"] == ["\n", "."]
    two = expand("p", "m", system=None, repeats=1, params={"stop": [["\n"], None]})
    assert len(two) == 2


def test_templates_are_filled_from_variables() -> None:
    import pandas as pd

    cells = expand("Translate {word} to {lang}", "m", system=None, repeats=1, params={},
                   variables=pd.DataFrame({"word": ["cat", "dog"], "lang": ["French", "German"]}))
    assert [c.prompt for c in cells] == ["Translate cat to French", "Translate dog to German"]
    with pytest.raises(InvalidInput, match="needs lang"):
        expand("{word} {lang}", "m", system=None, repeats=1, params={}, variables=[{"word": 1}])


def test_sweep_table_has_one_row_per_cell_with_parameters(make_pg: Any) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    sw = pg.sweep(["one", "two"], model=["gpt-4o-mini", "gpt-4.1-nano"],
                  temperature=[0.0, 0.7], repeats=2, progress=False)
    df = sw.to_pandas()
    assert len(sw) == len(df) == 16
    assert set(df["temperature"]) == {0.0, 0.7} and set(df["repeat"]) == {0, 1}
    assert (df["status"] == "ok").all()
    assert len(pg.history(sweep=sw)) == 16


def test_rerun_is_served_from_the_log_and_refresh_sends_again(make_pg: Any, db: Path) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    first = pg.sweep("same", temperature=[0.2, 0.9], repeats=3, progress=False)
    again = pg.sweep("same", temperature=[0.2, 0.9], repeats=3, progress=False)
    assert again.id == first.id
    assert again.count("cached") == 6
    assert list(again.to_pandas()["response"]) == list(first.to_pandas()["response"])
    assert count(db, "select count(*) from experiments") == 6
    fresh = pg.sweep("same", temperature=[0.2, 0.9], repeats=3, refresh=True, progress=False)
    assert fresh.count("cached") == 0
    assert count(db, "select count(*) from experiments") == 12


def test_estimate_matches_actual_prompt_tokens_exactly(make_pg: Any) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    args: dict[str, Any] = {"model": ["gpt-4o-mini", "gpt-4"], "max_tokens": 40,
                            "system": "You are terse."}
    est = pg.estimate(["Name a colour.", "Write a limerick about ducks."], **args)
    sw = pg.sweep(["Name a colour.", "Write a limerick about ducks."], progress=False, **args)
    df = sw.to_pandas()
    assert est.calls == 4 and est.prompt_tokens == int(df["prompt_tokens"].sum())
    assert est.max_completion_tokens == 160
    assert est.min_cost is not None and est.max_cost is not None
    assert est.min_cost <= float(df["cost_estimate"].sum()) <= est.max_cost
    assert pg.estimate(["Name a colour.", "Write a limerick about ducks."], **args).calls == 0


def test_max_cost_refuses_to_start_when_the_ceiling_exceeds_it(make_pg: Any, db: Path) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    with pytest.raises(BudgetExceeded, match="could cost up to"):
        pg.sweep(["a", "b"], model="gpt-4o", max_tokens=4000, max_cost=0.0001, progress=False)
    assert not db.exists() or count(db, "select count(*) from experiments") == 0


def test_faulty_server_every_cell_ends_ok_or_error_exactly_once(
        make_pg: Any, stub: OpenAIStub, db: Path) -> None:
    stub.fail_every(4, status=429, headers={"retry-after-ms": "10"})
    stub.fail_next(500, times=2)
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    sw = pg.sweep([f"prompt {i}" for i in range(30)], temperature=[0.0, 1.0], concurrency=8,
                  progress=False)
    df = sw.to_pandas()
    assert len(df) == 60 and set(df["status"]) <= {"ok", "error"}
    # retries absorb the faults
    assert (df["status"] == "ok").all(), df[df["status"] != "ok"]["error"].tolist()
    assert count(db, "select count(*) from experiments") == 60
    assert count(db, "select count(distinct cache_key) from experiments") == 60
    retried = count(db, "select count(*) from api_requests where status_code in (429, 500)")
    assert retried >= 60 // 4
    assert count(db, "select count(*) from api_requests") == stub.count("/v1/chat/completions")


def test_failed_cells_are_logged_and_retry_failed_finishes_them(
        make_pg: Any, stub: OpenAIStub) -> None:
    stub.fail_next(400, times=2)  # not retryable: two cells fail for good
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    sw = pg.sweep([f"p{i}" for i in range(6)], concurrency=1, progress=False)
    assert sw.count("failed") == 2
    again = pg.retry_failed(sw)
    assert again.count("failed") == 0 and again.count("cached") == 4
    assert stub.count("/v1/chat/completions") == 8


def test_rpm_keeps_requests_under_the_limit(make_pg: Any, stub: OpenAIStub) -> None:
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    pg.sweep([f"q{i}" for i in range(25)], rpm=600, concurrency=25, progress=False)
    times = sorted(r.received_at for r in stub.requests)
    assert times[-1] - times[0] >= 1.3  # 25 requests at 10/s after a burst of 10
    # any window of w seconds holds at most the burst (10) plus 10·w, never a minute's worth
    for w in (0.5, 1.0):
        busiest = max(sum(1 for t in times if s <= t < s + w) for s in times)
        assert busiest <= 10 + 10 * w + 1


def test_concurrency_is_bounded(make_pg: Any, stub: OpenAIStub) -> None:
    # Answers wait until twenty requests are being handled at once: a sweep sending fewer at a
    # time breaks the barrier (after 30 s, as failures); one sending more shows in max_in_flight.
    twenty = threading.Barrier(20, timeout=30)
    stub.reply_with = lambda body: "ok" if twenty.wait() >= 0 else ""
    pg = make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))
    sw = pg.sweep([f"c{i}" for i in range(40)], concurrency=20, progress=False)
    assert sw.count("ok") == 40
    assert stub.max_in_flight() == 20  # twenty at once, never more


@pytest.mark.parametrize("kwargs", [{"concurrency": 0}, {"rpm": -1}, {"repeats": 0},
                                    {"max_cost": "1"}, {"temperatur": 0.5}, {"mode": "zap"}])
def test_bad_sweep_arguments_are_refused(make_pg: Any, kwargs: dict[str, Any]) -> None:
    pg = make_pg(provider="simulated")
    with pytest.raises(InvalidInput):
        pg.sweep("x", progress=False, **kwargs)


def test_a_cell_in_a_sweep_keeps_its_cache_key(make_pg: Any) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    cell = pg.prepare("Name a colour.", max_tokens=5)
    key = cell.cache_key
    mine = cell.in_sweep("sw-1")
    assert (mine.sweep_id, mine.cache_key, mine.request) == ("sw-1", key, cell.request)
    fresh = pg.prepare("Name a colour.", max_tokens=5).in_sweep("sw-2")  # never hashed before
    assert fresh.cache_key == key and fresh.sweep_id == "sw-2"
