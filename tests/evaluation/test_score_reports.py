"""pg.report("scores" | "failures"), pg.chart("frontier") and pg.compare(y=<scorer>)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nbplayground import Playground
from nbplayground import scorers as s
from nbplayground.analytics.scores import wilson
from nbplayground.errors import InvalidInput

VARS = [{"country": "France", "capital": "Paris"}, {"country": "Japan", "capital": "Tokyo"},
        {"country": "Peru", "capital": "Lima"}]


def starts_like(answer: str, row: dict[str, Any]) -> bool:
    return answer.startswith(("The", "Tokens")) or row["country"] == "Peru"


@pytest.fixture
def scored(tmp_path: Path) -> tuple[Playground, Any]:
    pg = Playground(db=tmp_path / "log.duckdb", user="u", provider="simulated",
                    simulated_latency=0)
    sw = pg.sweep("Capital of {country}? One word.", vars=VARS,
                  model=["gpt-4o-mini", "gpt-4.1-nano"], repeats=2, temperature=1,
                  scorers=[s.contains("{capital}"), s.python(starts_like, name="shape"),
                           s.judge("Is {answer} the capital of {country}?",
                                   model="gpt-4o-mini")], progress=False)
    return pg, sw


def test_pass_rates_and_means_with_95_percent_intervals(scored: Any) -> None:
    pg, sw = scored
    report = pg.report("scores", sw, by="model")
    assert set(report["scorer"]) == {"contains", "shape", "judge", "passed"}
    wide = sw.to_pandas()
    for row in report.to_dict("records"):
        part = wide[wide["model"] == row["model"]]
        column = part["passed"] if row["scorer"] == "passed" else part[row["scorer"]]
        assert row["n"] == 6
        assert row["passed"] == (int(part["passed"].sum()) if row["scorer"] == "passed"
                                 else int((sw.scores().set_index("experiment_id").loc[
                                     part["experiment_id"]].query("scorer == @row['scorer']")
                                     ["passed"]).sum()))
        assert row["mean_score"] == pytest.approx(float(column.astype(float).mean()))
        assert (row["pass_low"], row["pass_high"]) == pytest.approx(
            wilson(row["passed"], row["n"]))
        assert row["pass_low"] <= row["pass_rate"] <= row["pass_high"]
        if row["scorer"] == "judge":
            assert row["score_low"] < row["mean_score"] < row["score_high"]
    assert wilson(0, 6) != (0.0, 0.0) and wilson(0, 6)[0] == 0.0  # Wilson, not Wald
    assert wilson(3, 6) == pytest.approx((0.18761, 0.81239), abs=1e-4)


def test_failures_side_by_side_with_the_reference(scored: Any) -> None:
    pg, sw = scored
    failed = pg.report("failures", sw, limit=50)
    assert list(failed.columns[:6]) == ["model", "prompt", "answer", "reference", "scorer",
                                        "kind"]
    contains = failed[failed["scorer"] == "contains"]
    assert len(contains) == 12  # simulated answers never name the capital
    assert set(contains["reference"]) == {"Paris", "Tokyo", "Lima"}
    assert contains["reason"].str.contains("does not contain").all()
    assert not (failed["scorer"] == "shape").any() or \
        failed[failed["scorer"] == "shape"]["reference"].isna().all()
    by_id = pg.report("failures", sw.id, limit=3)
    assert len(by_id) == 3 and by_id["reference"].isna().all()  # an id alone has no vars


def test_the_frontier_marks_the_pareto_front(scored: Any) -> None:
    pg, sw = scored
    fig = pg.chart("frontier", sw, score="judge", by="model")
    points, front = fig.data
    assert len(points.x) == 2
    best = max(range(2), key=lambda i: points.y[i])
    cheapest = min(range(2), key=lambda i: points.x[i])
    assert points.x[cheapest] in front.x  # the cheapest is always on the front
    assert (points.x[best] in front.x)
    assert (len(front.x) == 2) == (best != cheapest)
    with pytest.raises(InvalidInput, match="no cell has a score"):
        pg.chart("frontier", sw, score="nope")


def test_compare_draws_a_scorer(scored: Any) -> None:
    pg, sw = scored
    fig = pg.compare(sw, x="model", y="judge", color=None)
    drawn = sorted(round(y, 6) for trace in fig.data for y in trace.y)  # a line per prompt
    wide = sw.to_pandas()
    cells = wide.groupby(["prompt", "model"])["judge"].mean()
    assert drawn == sorted(round(v, 6) for v in cells)
    with pytest.raises(InvalidInput, match="numeric metrics"):
        pg.compare(sw, y="nope")
