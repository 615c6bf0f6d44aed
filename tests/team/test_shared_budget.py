"""Budgets on the team log are held in the database: two machines of one user cannot together
spend more than the user's daily limit."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from nbplayground.accounts.gate import BudgetGate
from nbplayground.adapters.postgres import PostgresUsageLedger
from nbplayground.errors import BudgetExceeded
from tests.team.conftest import Team

DAY = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _machine(team: Team, user: str, n: int) -> tuple[PostgresUsageLedger, BudgetGate]:
    ledger = PostgresUsageLedger(team.dsn(user))
    # Each machine has its own process-wide scope: only the database can see both.
    return ledger, BudgetGate(ledger, scope=f"machine-{n}", clock=lambda: DAY)


def _limit(team: Team, user: str, daily_usd: float) -> None:
    admin = PostgresUsageLedger(team.dsn("carol"))
    admin.set_limits(user, default_plan="free", overrides={"daily_usd": daily_usd})
    admin.close()


def test_a_hold_on_one_machine_is_seen_on_another(team: Team) -> None:
    _limit(team, "alice", 1.0)
    (la, a), (lb, b) = _machine(team, "alice", 1), _machine(team, "alice", 2)
    hold = a.reserve("alice", 0.6)
    assert b.status("alice")["in_flight"] == pytest.approx(0.6)
    with pytest.raises(BudgetExceeded, match=r"\$0.600000 in flight"):
        b.reserve("alice", 0.6)
    hold.settle(0.5)  # booked elsewhere in a real run: here, only less is held
    assert b.status("alice")["in_flight"] == pytest.approx(0.1)
    hold.release()
    b.reserve("alice", 0.9).release()
    assert a.status("alice")["in_flight"] == 0
    # Another user's holds are theirs: bob's budget is untouched by alice's.
    lbob, bob = _machine(team, "bob", 3)
    with a.reserve("alice", 0.9):
        bob.reserve("bob", 0.9).release()
    for ledger in (la, lb, lbob):
        ledger.close()


def test_many_machines_at_once_never_overspend_together(team: Team) -> None:
    _limit(team, "alice", 1.0)
    machines = [_machine(team, "alice", n) for n in range(8)]
    start = threading.Barrier(len(machines))
    granted: list[int] = []
    refused: list[int] = []

    def race(n: int) -> None:
        start.wait()
        for _ in range(3):
            try:
                machines[n][1].reserve("alice", 0.1)  # held, never released
                granted.append(n)
            except BudgetExceeded:
                refused.append(n)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(len(machines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 10 and len(refused) == 14
    for ledger, _ in machines:
        ledger.close()
