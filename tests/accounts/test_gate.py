"""BudgetGate with a fake ledger: what fits, what is refused and why, and holds under threads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from nbplayground.accounts import BudgetGate, Snapshot, ledger_rows
from nbplayground.errors import BudgetExceeded
from nbplayground.events import TokenUsageUpdated
from nbplayground.experimentation.holds import reserve

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


class FakeLedger:
    """Spend is whatever has been booked; reads are counted."""

    def __init__(self, plan: str | None = "free", **overrides: Any) -> None:
        self.plan = plan
        self.overrides = overrides
        self.rows: list[dict[str, Any]] = []
        self.reads = 0

    def snapshot(self, user_id: str, day: date) -> Snapshot:
        self.reads += 1
        mine = [r for r in self.rows if r["user_id"] == user_id and r["provider"] == "openai"]
        today = [r for r in mine if r["day"] == day]
        month = [r for r in mine if r["day"].replace(day=1) == day.replace(day=1)]
        return Snapshot(plan=self.plan, overrides=self.overrides,
                        spent_today=sum(r["cost"] or 0.0 for r in today),
                        spent_month=sum(r["cost"] or 0.0 for r in month),
                        tokens_today=sum(r["prompt_tokens"] + r["completion_tokens"]
                                         for r in today))

    def book(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.rows.extend(dict(r) for r in rows)


def gate(ledger: FakeLedger, scope: str = "test.duckdb") -> BudgetGate:
    return BudgetGate(ledger, scope=scope, clock=lambda: NOW)


def spend(g: BudgetGate, cost: float, *, user: str = "alice", tokens: int = 10,
          provider: str = "openai", at: datetime = NOW) -> None:
    ledger = g.ledger
    assert isinstance(ledger, FakeLedger)
    ledger.book(ledger_rows([TokenUsageUpdated(
        user_id=user, model="gpt-4o-mini", prompt_tokens=tokens, completion_tokens=0, cost=cost,
        experiment_id=f"e{cost}{at}", provider=provider, occurred_at=at)]))


def test_the_refusal_says_spent_limit_and_needed(tmp_path: Any) -> None:
    g = gate(FakeLedger(daily_usd=2.0), scope=str(tmp_path))
    spend(g, 1.5)
    with pytest.raises(BudgetExceeded) as caught:
        g.reserve("alice", 0.75)
    err = caught.value
    assert (err.spent, err.limit, err.needed) == (1.5, 2.0, 0.75)
    text = str(err)
    assert "needs up to $0.750000" in text and "spent $1.50" in text
    assert "$2.00 daily limit (free plan)" in text and "$0.500000 is left" in text
    assert "nothing was sent" in text and "pg.set_limits(daily_usd=...)" in text
    g.reserve("alice", 0.5).release()  # exactly what is left still fits


def test_monthly_limit_counts_earlier_days_of_the_month(tmp_path: Any) -> None:
    g = gate(FakeLedger(daily_usd=5.0, monthly_usd=3.0), scope=str(tmp_path))
    spend(g, 2.5, at=datetime(2026, 3, 2, tzinfo=UTC))
    spend(g, 9.0, at=datetime(2026, 2, 27, tzinfo=UTC))  # last month: not counted
    with pytest.raises(BudgetExceeded, match="monthly limit"):
        g.reserve("alice", 1.0)
    g.reserve("alice", 0.5).release()


def test_token_cap_counts_what_the_calls_may_use(tmp_path: Any) -> None:
    g = gate(FakeLedger(daily_tokens=1000), scope=str(tmp_path))
    spend(g, 0.0, tokens=900)
    with pytest.raises(BudgetExceeded, match=r"needs up to 200 tokens.*spent 900 of the 1,000"):
        g.reserve("alice", 0.0, tokens=200)
    g.reserve("alice", 0.0, tokens=100).release()


def test_free_providers_are_never_limited_and_read_nothing(tmp_path: Any) -> None:
    ledger = FakeLedger(daily_usd=0.0)
    g = gate(ledger, scope=str(tmp_path))
    for provider in ("simulated", "local"):
        hold = g.reserve("alice", 99.0, tokens=10**9, provider=provider)
        assert hold.rpm is None
        hold.release()
    assert ledger.reads == 0
    with pytest.raises(BudgetExceeded):
        g.reserve("alice", 0.01)


def test_what_is_held_counts_as_spent_until_settled_or_released(tmp_path: Any) -> None:
    g = gate(FakeLedger(daily_usd=1.0), scope=str(tmp_path))
    hold = g.reserve("alice", 0.8, what="this sweep (4 calls)")
    with pytest.raises(BudgetExceeded, match="this run needs up to") as caught:
        g.reserve("alice", 0.3)
    assert "(+$0.800000 in flight)" in str(caught.value)
    assert g.status("alice")["in_flight"] == pytest.approx(0.8)
    spend(g, 0.1)  # two of its calls are booked: the hold shrinks by their ceilings
    hold.settle(0.4)
    g.reserve("alice", 0.3).release()  # 0.1 booked + 0.4 held + 0.3 fits 1.0
    hold.release()
    hold.release()  # twice is harmless
    assert g.status("alice")["in_flight"] == 0.0
    assert g.status("alice")["left_today"] == pytest.approx(0.9)


def test_gates_of_one_log_share_holds_other_logs_do_not(tmp_path: Any) -> None:
    ledger = FakeLedger(daily_usd=1.0)
    first, second = gate(ledger, scope=str(tmp_path)), gate(ledger, scope=str(tmp_path))
    other = gate(ledger, scope=str(tmp_path / "other"))
    with first.reserve("alice", 0.7):
        with pytest.raises(BudgetExceeded):
            second.reserve("alice", 0.7)
        other.reserve("alice", 0.7).release()
        second.reserve("bob", 0.7).release()  # another user has their own budget


def test_threads_racing_for_the_budget_never_hold_more_than_the_limit(tmp_path: Any) -> None:
    g = gate(FakeLedger(daily_usd=10.0), scope=str(tmp_path))
    won: list[Any] = []
    refused: list[BudgetExceeded] = []
    start = threading.Barrier(40)

    def race() -> None:
        start.wait()
        try:
            won.append(g.reserve("alice", 1.0))
        except BudgetExceeded as e:
            refused.append(e)

    threads = [threading.Thread(target=race) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 10 and len(refused) == 30
    for hold in won:
        hold.release()


def test_plans_and_overrides_give_the_limits(tmp_path: Any) -> None:
    assert gate(FakeLedger("pro"), scope=str(tmp_path)).limits("alice").daily_usd == 20.0
    lim = gate(FakeLedger("team", rpm=10), scope=str(tmp_path)).limits("alice")
    assert (lim.plan, lim.rpm, lim.monthly_usd) == ("team", 10, 1000.0)
    unknown = BudgetGate(FakeLedger(None), scope=str(tmp_path), default_plan=lambda: "pro")
    assert unknown.limits("alice").plan == "pro"
    assert gate(FakeLedger("free"), scope=str(tmp_path)).reserve("alice", 0.0).rpm == 500


def test_a_hold_taken_while_its_caller_was_cancelled_is_released(tmp_path: Any) -> None:
    reading, go_on = threading.Event(), threading.Event()

    class SlowLedger(FakeLedger):
        def snapshot(self, user_id: str, day: date) -> Snapshot:
            reading.set()  # the ledger read is under way...
            assert go_on.wait(30)  # ...and ends only after the run was stopped
            return super().snapshot(user_id, day)

    g = gate(SlowLedger(daily_usd=1.0), scope=str(tmp_path))

    async def stop_while_reserving() -> None:
        task = asyncio.create_task(reserve(g, "alice", 0.5, tokens=0, provider="openai"))
        assert await asyncio.to_thread(reading.wait, 30)
        task.cancel()
        go_on.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The shielded reservation still finishes; once it has, its done-callbacks (the release)
        # are the next thing the loop runs.
        for _ in range(3000):
            if asyncio.all_tasks() == {asyncio.current_task()}:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)

    asyncio.run(stop_while_reserving())
    assert g.status("alice")["in_flight"] == 0.0
