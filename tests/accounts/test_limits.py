"""Plans give default limits; users override single values; only admins change someone else's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from nbplayground.accounts import PLANS, check_overrides, default_plan
from nbplayground.errors import InvalidInput, NotAuthorized


def test_plan_defaults() -> None:
    got = {name: (p.daily_usd, p.monthly_usd, p.daily_tokens, p.rpm) for name, p in PLANS.items()}
    assert got == {"free": (1.0, 10.0, 200_000, 500), "pro": (20.0, 200.0, 5_000_000, 5000),
                   "team": (100.0, 1000.0, 50_000_000, 10000)}


def test_default_plan_comes_from_env_then_config_else_none(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NBPLAYGROUND_PLAN", raising=False)
    assert default_plan() is None
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text('default_plan = "pro"\n')
    assert default_plan() == "pro"
    monkeypatch.setenv("NBPLAYGROUND_PLAN", "team")
    assert default_plan() == "team"


def test_a_new_user_is_on_the_default_plan(make_pg: Any, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setenv("NBPLAYGROUND_PLAN", "free")
    budget = make_pg(user="alice", provider="simulated").budget()
    assert (budget["plan"], budget["daily_limit"], budget["monthly_limit"], budget["rpm"]) == \
        ("free", 1.0, 10.0, 500)
    assert budget["spent_today"] == budget["spent_month"] == budget["in_flight"] == 0.0
    assert budget["left_today"] == 1.0 and budget["tokens_left_today"] == 200_000


def test_overrides_are_stored_and_outlive_the_playground(make_pg: Any, db: Path) -> None:
    pg = make_pg(user="alice", provider="simulated")
    limits = pg.set_limits(plan="pro", daily_usd=2.5)
    assert limits == {"plan": "pro", "daily_usd": 2.5, "monthly_usd": 200.0,
                      "daily_tokens": 5_000_000, "rpm": 5000}
    pg.set_limits(rpm=7)  # merged: the daily override stays
    again = make_pg(user="alice", provider="simulated").budget()
    assert (again["plan"], again["daily_limit"], again["rpm"]) == ("pro", 2.5, 7)
    with duckdb.connect(str(db), read_only=True) as conn:
        row = conn.execute("select subscription_type, limits from users where id = 'alice'"
                           ).fetchone()
    assert row == ("pro", '{"daily_usd": 2.5, "rpm": 7}')
    assert make_pg(user="bob", provider="simulated").budget()["plan"] is None  # chose none


@pytest.mark.parametrize("kwargs", [{}, {"plan": "gold"}, {"daily_usd": -1},
                                    {"daily_usd": float("nan")}, {"rpm": 0}, {"rpm": 1.5},
                                    {"daily_tokens": "many"}, {"monthly_usd": True}])
def test_bad_limits_are_refused(make_pg: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        make_pg(user="alice", provider="simulated").set_limits(**kwargs)


def test_unknown_override_names_are_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown limit 'budget'"):
        check_overrides({"budget": 1.0})


def test_only_admins_change_another_users_limits(make_pg: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NotAuthorized, match="only admins"):
        make_pg(user="alice", provider="simulated").set_limits(user="bob", daily_usd=100)
    monkeypatch.setenv("NBPLAYGROUND_ADMINS", "carol")
    carol = make_pg(user="carol", provider="simulated")
    assert carol.set_limits(user="bob", plan="free", daily_usd=0.5)["daily_usd"] == 0.5
    assert make_pg(user="bob", provider="simulated").budget()["daily_limit"] == 0.5


def test_a_user_who_chose_no_plan_has_no_limits(make_pg: Any, stub: Any) -> None:
    """No invented $1/day or 500 rpm: only the server's own x-ratelimit-* headers throttle."""
    from tests.conftest import TEST_KEY

    pg = make_pg(user="alice", provider="openai", api_key=TEST_KEY, base_url=stub.base_url)
    budget = pg.budget()
    assert budget["plan"] is None and budget["rpm"] is None
    assert budget["daily_limit"] is None and budget["left_today"] is None
    assert budget["tokens_left_today"] is None and pg.whoami()["plan"] is None
    assert pg.budget(needed=1_000.0)["message"] is None  # a $1,000 sweep is not refused
    est = pg.estimate(["a", "b"], model="gpt-4o", max_tokens=4000)
    assert est.max_cost is not None and est.max_cost > 0  # the estimate still says the cost
    assert pg.run("hi", max_tokens=5).status == "ok"
    assert pg.set_limits(daily_usd=0.5) == {"plan": None, "daily_usd": 0.5,
                                            "monthly_usd": None, "daily_tokens": None,
                                            "rpm": None}
    assert pg.budget(needed=1.0)["message"] is not None  # configured: now it applies
