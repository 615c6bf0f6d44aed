"""The usage ledger (pg.usage) and who may read whose rows (history and usage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nbplayground.errors import ConfigurationError, InvalidInput, NotAuthorized
from nbplayground.events import TokenUsageUpdated
from nbplayground.ids import utcnow
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub


def test_every_ok_call_is_booked_and_reported_by_day_model_and_user(
        make_pg: Any, stub: OpenAIStub) -> None:
    pg = make_pg(user="alice", provider="openai", api_key=TEST_KEY, base_url=stub.base_url)
    events: list[TokenUsageUpdated] = []
    pg.bus.subscribe(TokenUsageUpdated, events.append)
    runs = [pg.run("one", max_tokens=5), pg.run("two", model="gpt-4.1-nano", max_tokens=5),
            pg.run("three", provider="simulated", max_tokens=5)]
    sw = pg.sweep(["a", "b"], max_tokens=4, progress=False)
    exps = runs + sw.experiments
    assert sorted(e.experiment_id or "" for e in events) == sorted(e.id for e in exps)

    by_model = pg.usage(by="model")
    assert by_model[["model", "provider", "requests"]].values.tolist() == [
        ["gpt-4.1-nano", "openai", 1], ["gpt-4o-mini", "openai", 3],
        ["gpt-4o-mini", "simulated", 1]]
    assert by_model["tokens"].sum() == sum(e.metrics.token_count for e in exps)
    simulated = by_model[by_model["provider"] == "simulated"].iloc[0]
    assert simulated["cost"] > 0 and simulated["billable_cost"] == 0

    by_day = pg.usage()  # by="day" is the default
    assert len(by_day) == 1 and by_day["requests"].iloc[0] == 5
    assert by_day["day"].iloc[0].date() == utcnow().date()
    billed = sum(e.metrics.cost_estimate or 0 for e in exps if e.provider == "openai")
    assert by_day["billable_cost"].iloc[0] == pytest.approx(billed)
    assert pg.budget()["spent_today"] == pytest.approx(billed)

    by_user = pg.usage(by="user")
    assert by_user["user_id"].tolist() == ["alice"]
    token_usage = pg.repository.get_user("alice").token_usage
    assert token_usage == by_user["tokens"].iloc[0]


def test_cached_sweep_cells_are_not_booked_twice(make_pg: Any) -> None:
    pg = make_pg(user="alice", provider="simulated", simulated_latency=0)
    pg.sweep(["a", "b"], max_tokens=3, progress=False)
    again = pg.sweep(["a", "b"], max_tokens=3, progress=False)
    assert again.count("cached") == 2
    assert pg.usage()["requests"].sum() == 2


def test_bad_grouping_is_refused(make_pg: Any) -> None:
    with pytest.raises(InvalidInput, match="by must be one of day, model, user"):
        make_pg(provider="simulated").usage(by="week")


@pytest.fixture
def two_users(make_pg: Any, db: Path) -> None:
    for user in ("alice", "bob"):
        make_pg(user=user, provider="simulated", simulated_latency=0).run(
            f"hello from {user}", max_tokens=3)


@pytest.mark.usefixtures("two_users")
def test_a_user_reads_only_their_own_rows(make_pg: Any) -> None:
    alice = make_pg(user="alice", provider="simulated")
    assert set(alice.history()["user_id"]) == {"alice"}
    assert set(alice.history(user="alice")["user_id"]) == {"alice"}
    assert alice.usage(by="user")["user_id"].tolist() == ["alice"]
    assert not alice.is_admin
    for ask in (lambda: alice.history(user="bob"), lambda: alice.history(all_users=True),
                lambda: alice.usage(user="bob"), lambda: alice.usage(all_users=True)):
        with pytest.raises(NotAuthorized, match="only admins may"):
            ask()


@pytest.mark.usefixtures("two_users")
def test_admins_from_the_environment_read_everyone(make_pg: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBPLAYGROUND_ADMINS", "root, carol")
    carol = make_pg(user="carol", provider="simulated")
    assert carol.is_admin
    assert set(carol.history(all_users=True)["user_id"]) == {"alice", "bob"}
    assert set(carol.history(user="bob")["user_id"]) == {"bob"}
    assert carol.history().empty
    assert carol.usage(by="user", all_users=True)["user_id"].tolist() == ["alice", "bob"]
    with pytest.raises(NotAuthorized, match="not both"):
        carol.history(user="bob", all_users=True)


@pytest.mark.usefixtures("two_users")
def test_admins_from_the_config_file(make_pg: Any, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text('admins = ["dave"]\n')
    assert make_pg(user="dave", provider="simulated").usage(all_users=True)["requests"].sum() == 2
    (config / "config.toml").write_text('admins = "dave"\n')
    with pytest.raises(ConfigurationError, match="must be a list of user names"):
        make_pg(user="dave", provider="simulated").usage(all_users=True)


def test_an_admin_runs_are_recorded_with_the_admin_role(
        make_pg: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBPLAYGROUND_ADMINS", "carol")
    pg = make_pg(user="carol", provider="simulated", simulated_latency=0)
    pg.run("hi", max_tokens=3)
    assert pg.repository.get_user("carol").role == "admin"
