"""DuckDBUsageLedger on a real file: snapshots, booking, users' plans and key references."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground.accounts import Snapshot
from nbplayground.adapters.duckdb import DuckDBExperimentRepository, DuckDBUsageLedger
from nbplayground.errors import InvalidInput

DAY = date(2026, 3, 14)


def row(i: int, *, user: str = "alice", day: date = DAY, cost: float | None = 0.25,
        provider: str = "openai", model: str = "gpt-4o-mini") -> dict[str, Any]:
    return {"id": f"e{i}", "experiment_id": f"e{i}", "user_id": user, "model": model,
            "provider": provider, "day": day, "prompt_tokens": 10, "completion_tokens": 5,
            "cost": cost, "created_at": datetime(day.year, day.month, day.day, 12, tzinfo=UTC)}


@pytest.fixture
def repo(db: Path) -> DuckDBExperimentRepository:
    """Books the rows (add) and reads users back: the ledger itself only reports."""
    return DuckDBExperimentRepository(db)


@pytest.fixture
def ledger(repo: DuckDBExperimentRepository) -> DuckDBUsageLedger:
    return DuckDBUsageLedger(repo.log)  # composed over the repository's file, not a subclass


def test_snapshot_counts_billable_spend_today_and_this_month(
        ledger: DuckDBUsageLedger, repo: DuckDBExperimentRepository) -> None:
    assert ledger.snapshot("alice", DAY) == Snapshot()
    repo.add([], usage=[row(1), row(2, day=date(2026, 3, 1)), row(3, day=date(2026, 2, 28)),
                        row(4, provider="simulated"), row(5, provider="local", cost=None),
                        row(6, user="bob"), row(7, cost=None)])
    snap = ledger.snapshot("alice", DAY)
    assert (snap.spent_today, snap.spent_month, snap.tokens_today) == (0.25, 0.5, 30)
    assert snap.plan is None and snap.overrides == {}


def test_booking_is_idempotent_and_keeps_token_usage_current(
        ledger: DuckDBUsageLedger, repo: DuckDBExperimentRepository, db: Path) -> None:
    ledger.save_user("alice", plan="free")
    repo.add([], usage=[row(1), row(2)])
    repo.add([], usage=[row(2), row(3, provider="simulated")])  # e2 again: skipped
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("select count(*) from usage").fetchone() == (3,)
    user = repo.get_user("alice")
    assert user is not None and user.token_usage == 45


def test_save_user_creates_then_refreshes_only_the_key_reference(
        ledger: DuckDBUsageLedger, repo: DuckDBExperimentRepository) -> None:
    repo.add([], usage=[row(1)])
    ledger.save_user("alice", plan="pro", key_ref="env:OPENAI_API_KEY",
                     key_fingerprint="key#0123456789")
    ledger.set_limits("alice", default_plan="free", overrides={"daily_usd": 3.0})
    ledger.save_user("alice", plan="free", role="admin")  # no key this time: keep the old
    user = repo.get_user("alice")
    assert user is not None
    assert (user.subscription_type, user.token_usage, user.api_key_ref,
            user.api_key_fingerprint, user.role) == ("pro", 15, "env:OPENAI_API_KEY",
                                                     "key#0123456789", "admin")
    assert repo.user_limits("alice") == {"daily_usd": 3.0}


def test_set_limits_merges_and_creates_the_user(ledger: DuckDBUsageLedger) -> None:
    ledger.set_limits("bob", default_plan="team", overrides={"rpm": 5})
    ledger.set_limits("bob", default_plan="free", plan="pro", overrides={"daily_usd": 2.0})
    snap = ledger.snapshot("bob", DAY)
    assert (snap.plan, dict(snap.overrides)) == ("pro", {"rpm": 5, "daily_usd": 2.0})


def test_usage_report_groups(ledger: DuckDBUsageLedger,
                            repo: DuckDBExperimentRepository) -> None:
    repo.add([], usage=[row(1), row(2, model="gpt-4.1-nano"), row(3, day=date(2026, 3, 13)),
                        row(4, provider="simulated"), row(5, user="bob")])
    by_day = ledger.usage_report("day", "alice")
    assert by_day["requests"].tolist() == [1, 3]
    assert by_day["tokens"].tolist() == [15, 45]
    assert by_day["cost"].tolist() == [0.25, 0.75]
    assert by_day["billable_cost"].tolist() == [0.25, 0.5]
    by_model = ledger.usage_report("model", "alice")
    assert by_model[["model", "provider"]].values.tolist() == [
        ["gpt-4.1-nano", "openai"], ["gpt-4o-mini", "openai"], ["gpt-4o-mini", "simulated"]]
    assert ledger.usage_report("user")["user_id"].tolist() == ["alice", "bob"]
    with pytest.raises(InvalidInput):
        ledger.usage_report("hour")


def test_a_ledger_given_a_path_shares_the_file_with_the_repository(
        db: Path, repo: DuckDBExperimentRepository) -> None:
    """How the facade builds it today: its own LogFile on the same file, same lock."""
    ledger = DuckDBUsageLedger(db)
    assert ledger.log is not repo.log and ledger.log.lock is repo.log.lock
    ledger.set_limits("alice", default_plan="free", overrides={"rpm": 7})
    assert repo.user_limits("alice") == {"rpm": 7}
    assert not isinstance(ledger, DuckDBExperimentRepository)
