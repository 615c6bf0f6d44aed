"""Set-up mistakes are found in the constructor, typed; simulated money is never spend."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from nbplayground import Endpoint, NbPlaygroundError, Playground
from nbplayground.analytics.format import format_cost
from nbplayground.errors import InvalidInput, LogNotWritable, MissingApiKey
from nbplayground.facade_accounts import Accounts
from nbplayground.facade_analytics import Reports
from nbplayground.facade_sweeps import Sweeps
from nbplayground.wiring import Wiring


def test_playground_is_one_plain_class_made_of_collaborators(make_pg: Any) -> None:
    assert Playground.__bases__ == (object,)
    pg = make_pg(provider="simulated", simulated_latency=0)
    assert isinstance(pg._w, Wiring)
    assert (type(pg._sweeps), type(pg._accounts), type(pg._reports)) == (Sweeps, Accounts,
                                                                          Reports)
    assert "max_cost" in str(__import__("inspect").signature(pg.sweep))  # help() reads true


def test_openai_without_a_key_is_refused_at_once_and_sends_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("nothing may be sent or built without a key")

    monkeypatch.setattr("nbplayground.wiring.Wiring._make_client", no_network)
    with pytest.raises(MissingApiKey, match=r"no API key found.*api_key=.*OPENAI_API_KEY"):
        Playground(provider="openai")


@pytest.mark.parametrize("url", ["localhost:8080/v1", "http://", "http://exa mple.com/v1",
                                 "http://host:port/v1", "ftp://example.com"])
def test_a_malformed_endpoint_url_is_a_typed_error(url: str) -> None:
    with pytest.raises(InvalidInput, match="base_url") as caught:
        Endpoint(base_url=url)
    assert isinstance(caught.value, NbPlaygroundError)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_a_log_that_can_never_be_written_is_refused_in_the_constructor(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LogNotWritable, match="is a folder"):
        Playground(db=tmp_path, provider="simulated")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(LogNotWritable, match="cannot be created"):
        Playground(db=blocker / "logs" / "x.duckdb", provider="simulated")
    real_access = os.access

    def read_only(path: Any, mode: int, **kw: Any) -> bool:
        return False if mode & os.W_OK and Path(path) == tmp_path / "ro" else \
            real_access(path, mode, **kw)

    (tmp_path / "ro").mkdir()
    monkeypatch.setattr("nbplayground.settings.os.access", read_only)
    with pytest.raises(LogNotWritable, match="cannot be written"):
        Playground(db=tmp_path / "ro" / "x.duckdb", provider="simulated")


def test_a_missing_folder_that_can_be_made_is_made(tmp_path: Path) -> None:
    with Playground(db=tmp_path / "new" / "deeper" / "x.duckdb", provider="simulated",
                    simulated_latency=0) as pg:
        assert pg.run("hi", max_tokens=3).ok


def test_simulated_cost_is_would_cost_never_spend(make_pg: Any) -> None:
    pg = make_pg(provider="simulated", simulated_latency=0)
    exp = pg.run("hello", model="gpt-4o", max_tokens=8)
    assert exp.metrics.cost_estimate and exp.metrics.cost_estimate > 0
    report = pg.report("cost")
    assert report["cost"].sum() == 0
    assert report["would_cost"].sum() == pytest.approx(exp.metrics.cost_estimate)
    spend = pg.chart("spend")
    assert sum(sum(t.y) for t in spend.data if t.type == "bar") == 0
    history = pg.history()
    assert history["billed"].tolist() == [False]
    assert pg.budget()["spent_today"] == 0
    shown = format_cost(exp.metrics.cost_estimate, "simulated")
    assert shown.startswith("$") and "not billed" in shown
    assert "not billed" not in format_cost(0.5, "openai")


def _child_run(pg: Any, out: Any) -> None:
    out.put(pg.run("from the child", max_tokens=3).status)


def test_a_fork_right_after_construction_still_runs_and_close_ends_the_warm_up(
        make_pg: Any) -> None:
    import multiprocessing
    import threading

    pg = make_pg(provider="simulated", simulated_latency=0)
    ctx = multiprocessing.get_context("fork")  # while the warm-up may still be importing
    out = ctx.Queue()
    child = ctx.Process(target=_child_run, args=(pg, out))
    child.start()
    assert out.get(timeout=120) == "ok"
    child.join(timeout=60)
    assert child.exitcode == 0
    pg.close()
    assert not [t for t in threading.enumerate() if t.name == "nbplayground-warm"]
