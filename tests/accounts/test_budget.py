"""The budget gate end to end: a loopback OpenAI server counts what actually gets sent."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground import BudgetExceeded
from nbplayground.experimentation.throttle import Limiters
from tests.conftest import TEST_KEY
from tests.fakes import FakeClock
from tests.support.openai_stub import OpenAIStub

CHAT = "/v1/chat/completions"


def openai_pg(make_pg: Any, stub: OpenAIStub, user: str = "alice") -> Any:
    return make_pg(user=user, provider="openai", api_key=TEST_KEY, base_url=stub.base_url)


def booked(db: Path, user: str = "alice") -> tuple[int, float]:
    with duckdb.connect(str(db), read_only=True) as conn:
        row = conn.execute("select count(*), coalesce(sum(cost), 0) from usage "
                           "where user_id = ?", [user]).fetchone()
    assert row is not None
    return int(row[0]), float(row[1])


def test_the_run_that_would_cross_the_budget_is_never_sent(
        make_pg: Any, full_stub: OpenAIStub, db: Path) -> None:
    pg = openai_pg(make_pg, full_stub)
    ceiling = pg.preview("Name a colour.", max_tokens=20)["max_cost"]
    pg.set_limits(daily_usd=1.5 * ceiling)
    first = pg.run("Name a colour.", max_tokens=20)
    assert first.ok and first.metrics.completion_tokens == 20
    assert full_stub.count(CHAT) == 1
    with pytest.raises(BudgetExceeded) as caught:
        pg.run("Name a colour.", max_tokens=20)
    assert full_stub.count(CHAT) == 1  # refused before any request
    err = caught.value
    assert err.spent == pytest.approx(first.metrics.cost_estimate)
    assert (err.limit, err.needed) == (pytest.approx(1.5 * ceiling), pytest.approx(ceiling))
    assert "this run needs up to" in str(err) and "daily limit (set with pg.set_limits)" in str(err)
    # the panel asks the same question and gets the same words
    assert pg.budget(needed=ceiling)["message"] == str(err)
    assert pg.budget(needed=0.0)["message"] is None
    assert booked(db) == (1, pytest.approx(first.metrics.cost_estimate))
    assert pg.history()["status"].tolist() == ["ok"]  # the refusal is not a log row


def test_a_sweep_that_does_not_fit_sends_nothing(make_pg: Any, full_stub: OpenAIStub) -> None:
    pg = openai_pg(make_pg, full_stub)
    est = pg.estimate(["a", "b", "c"], max_tokens=20)
    pg.set_limits(daily_usd=est.max_cost * 0.9)
    with pytest.raises(BudgetExceeded, match=r"this sweep \(3 calls\) needs up to"):
        pg.sweep(["a", "b", "c"], max_tokens=20, progress=False)
    assert full_stub.count(CHAT) == 0
    pg.set_limits(daily_usd=est.max_cost)  # exactly the ceiling fits
    assert pg.sweep(["a", "b", "c"], max_tokens=20, progress=False).count("ok") == 3
    assert pg.budget()["in_flight"] == 0.0


def test_two_concurrent_sweeps_of_one_user_cannot_overspend_together(
        make_pg: Any, full_stub: OpenAIStub, db: Path) -> None:
    # Answers wait until one sweep has been refused, so the other is surely still in flight
    # (holding its reservation) when the second one asks; no timing involved.
    refused_one = threading.Event()
    full_stub.reply_with = lambda body: "ok" if refused_one.wait(30) else "too late"
    # two notebooks of the same user in one kernel: holds are shared per log file
    pgs = [openai_pg(make_pg, full_stub), openai_pg(make_pg, full_stub)]
    prompts = [[f"left {i}" for i in range(5)], [f"right {i}" for i in range(5)]]
    ceilings = [pg.estimate(p, max_tokens=20).max_cost for pg, p in zip(pgs, prompts,
                                                                          strict=True)]
    limit = max(ceilings) * 1.5  # room for either sweep, not for both
    pgs[0].set_limits(daily_usd=limit)
    start = threading.Barrier(2)
    outcome: dict[int, Any] = {}

    def go(i: int) -> None:
        start.wait()
        try:
            outcome[i] = pgs[i].sweep(prompts[i], max_tokens=20, concurrency=5, progress=False)
        except BudgetExceeded as e:
            outcome[i] = e
            refused_one.set()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [o for o in outcome.values() if isinstance(o, BudgetExceeded)]
    done = [o for o in outcome.values() if not isinstance(o, BudgetExceeded)]
    assert len(refused) == 1 and len(done) == 1
    assert "in flight" in str(refused[0])
    assert full_stub.count(CHAT) == 5
    calls, spent = booked(db)
    assert calls == 5 and spent <= limit
    assert pgs[0].budget()["in_flight"] == 0.0


def test_sequential_sweeps_fit_once_the_first_is_booked(
        make_pg: Any, full_stub: OpenAIStub) -> None:
    pg = openai_pg(make_pg, full_stub)
    ceiling = pg.estimate([f"p{i}" for i in range(4)], max_tokens=20).max_cost
    pg.set_limits(daily_usd=ceiling * 2.5)
    pg.sweep([f"p{i}" for i in range(4)], max_tokens=20, progress=False)
    pg.sweep([f"q{i}" for i in range(4)], max_tokens=20, progress=False)
    with pytest.raises(BudgetExceeded):
        pg.sweep([f"r{i}" for i in range(4)], max_tokens=20, progress=False)
    assert full_stub.count(CHAT) == 8


def test_monthly_and_token_limits_refuse_too(make_pg: Any, full_stub: OpenAIStub) -> None:
    pg = openai_pg(make_pg, full_stub)
    pg.set_limits(monthly_usd=0.0)
    with pytest.raises(BudgetExceeded, match="monthly limit"):
        pg.run("hi", max_tokens=20)
    pg.set_limits(monthly_usd=10.0, daily_tokens=10)
    with pytest.raises(BudgetExceeded, match="daily token limit"):
        pg.run("hi", max_tokens=20)
    assert full_stub.count(CHAT) == 0


def test_failed_calls_book_nothing(make_pg: Any, stub: OpenAIStub, db: Path) -> None:
    stub.fail_next(400, times=1)
    pg = openai_pg(make_pg, stub)
    assert pg.run("hi", max_tokens=5).status == "error"
    assert booked(db) == (0, 0.0)
    assert pg.budget()["in_flight"] == 0.0


def test_simulated_and_local_runs_are_free(make_pg: Any) -> None:
    pg = make_pg(user="alice", provider="simulated", simulated_latency=0)
    pg.set_limits(daily_usd=0.0, daily_tokens=0)
    assert pg.run("hi", max_tokens=5).ok
    assert pg.sweep(["a", "b"], max_tokens=5, progress=False).count("ok") == 2
    assert pg.budget()["spent_today"] == 0.0  # priced as a stand-in, never billed


def test_sweeps_and_runs_keep_to_the_users_requests_per_minute(
        make_pg: Any, stub: OpenAIStub) -> None:
    pg = openai_pg(make_pg, stub)
    clock = FakeClock()  # the throttle's time: what it waits is read, not timed
    pg._w.service.limiters = Limiters(clock=clock, sleep=clock.asleep)
    pg.set_limits(rpm=120)  # two a second, a burst of two
    pg.sweep([f"r{i}" for i in range(5)], max_tokens=5, concurrency=5, rpm=6000,
             progress=False)
    assert stub.count(CHAT) == 5
    # The user's 120 wins over the sweep's 6000 (a burst of 100: it alone would never wait):
    # after the burst of two, each of the other three waited its half second.
    assert clock.sleeps == pytest.approx([0.5, 0.5, 0.5])
    clock.sleeps.clear()
    for i in range(3):
        pg.run(f"single {i}", max_tokens=5)
    assert stub.count(CHAT) == 8
    assert clock.sleeps == pytest.approx([0.5])  # single runs share the user's bucket
