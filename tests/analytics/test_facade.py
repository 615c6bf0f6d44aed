"""pg.compare / pg.report / pg.chart: the current user's rows, argument checks, a real sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from nbplayground import InvalidInput
from nbplayground.adapters.duckdb import DuckDBExperimentRepository
from tests.analytics.conftest import SWEEP, hand_log


@pytest.fixture
def pg(make_pg: Any, db: Path) -> Any:
    DuckDBExperimentRepository(db).add(hand_log())
    return make_pg(user="alice", provider="simulated", simulated_latency=0)


def test_compare_takes_a_sweep_id_and_returns_a_figure(pg: Any) -> None:
    fig = pg.compare(SWEEP, x="temperature", y="completion_tokens", color="model")
    assert [t.name for t in fig.data] == ["m1", "m2"]
    assert list(fig.data[0].y) == [12.0, 25.0]


def test_compare_takes_the_sweep_object_of_a_real_sweep(pg: Any) -> None:
    sw = pg.sweep("Name a colour", model=["gpt-4o-mini", "gpt-4.1-nano"],
                  temperature=[0.0, 1.0], max_tokens=8, repeats=3, progress=False)
    fig = pg.compare(sw, y="cost")
    assert {t.name for t in fig.data} == {"gpt-4o-mini", "gpt-4.1-nano"}
    expected = sw.to_pandas().groupby(["model", "temperature"])["cost_estimate"].mean()
    for trace in fig.data:
        assert list(trace.y) == pytest.approx([expected[(trace.name, t)] for t in trace.x])
    assert "Name a colour" in fig.data[0].text[0]


def test_reports_are_the_current_users_only(pg: Any) -> None:
    cost = pg.report("cost", by="user")
    assert cost["user"].tolist() == ["alice"]  # bob's row in the same file is not shown
    assert cost["calls"].tolist() == [10]
    assert pg.report("cost", SWEEP)["calls"].sum() == 9


@pytest.mark.parametrize("kind", ["pivot", "cost", "latency", "length", "variety", "answers"])
def test_every_report_kind_is_a_dataframe(pg: Any, kind: str) -> None:
    df = pg.report(kind, SWEEP)
    assert isinstance(df, pd.DataFrame) and len(df) > 0


def test_report_options_reach_the_report(pg: Any) -> None:
    assert pg.report("pivot", SWEEP, by="model").index.tolist() == ["m1", "m2"]
    answers = pg.report("answers", SWEEP, column="model", limit=2, diff=True)
    assert len(answers) == 2 and "diff" in answers.columns
    assert pg.report("variety", SWEEP, by="model", n=1).loc["m1", "ngrams"] == 12


@pytest.mark.parametrize(("kind", "trace"), [("cost", "bar"), ("spend", "bar"),
                                             ("latency", "box"), ("tokens_cost", "scatter"),
                                             ("compare", "scatter")])
def test_every_chart_kind_is_a_figure(pg: Any, kind: str, trace: str) -> None:
    fig = pg.chart(kind, SWEEP)
    assert fig.data[0].type == trace and fig.layout.title.text


@pytest.mark.parametrize(("call", "message"), [
    (lambda pg: pg.compare(SWEEP, y="vibes"), "y must be one of the numeric metrics"),
    (lambda pg: pg.compare(SWEEP, x="colour"), "x must be among prompt, system"),
    (lambda pg: pg.compare(42), "sweep must be the Sweep pg.sweep"),
    (lambda pg: pg.compare("sw-typo"), "no experiments of sweep 'sw-typo' for user 'alice'"),
    (lambda pg: pg.report("pie"), "report kind must be one of 'pivot'"),
    (lambda pg: pg.report("cost", by="week"), "by must be among model, user, day"),
    (lambda pg: pg.report("cost", colour="red"), r"report\('cost'\) takes by; remove colour"),
    (lambda pg: pg.report("latency", "sw-typo"), "no experiments of sweep"),
    (lambda pg: pg.chart("pie"), "chart kind must be one of"),
    (lambda pg: pg.chart("cost", by="model"), r"chart\('cost'\) takes no options"),
    (lambda pg: pg.chart("latency", by=["model", "day"]), "by must name one axis"),
    (lambda pg: pg.chart("tokens_cost", cost="cost_usd"), "cost must be 'cost_estimate'"),
])
def test_bad_arguments_raise_invalid_input_saying_what_to_change(
        pg: Any, call: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        call(pg)


def test_an_empty_log_says_to_run_something_first(make_pg: Any) -> None:
    pg = make_pg(user="nobody", provider="simulated")
    with pytest.raises(InvalidInput, match=r"run pg\.run"):
        pg.chart("cost")
    assert pg.report("cost").empty


def test_a_sweep_object_covers_the_cells_it_took_from_the_cache(pg: Any) -> None:
    args: dict[str, Any] = {"model": "gpt-4o-mini", "max_tokens": 8, "repeats": 2,
                            "progress": False}
    pg.sweep("Name a colour", temperature=[0.0, 1.0], **args)
    wider = pg.sweep("Name a colour", temperature=[0.0, 1.0, 1.5], **args)
    assert wider.count("cached") == 4
    pivot = pg.report("pivot", wider)
    assert pivot.index.tolist() == [0.0, 1.0, 1.5] and pivot["n"].tolist() == [2, 2, 2]
    # by id, only the rows this sweep logged itself: the cached ones carry the first sweep's id
    assert pg.report("pivot", wider.id)["n"].tolist() == [2]
    assert [list(t.x) for t in pg.compare(wider).data] == [[0.0, 1.0, 1.5]]
