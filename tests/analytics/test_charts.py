"""Charts checked by their traces and data (fig.data, fig.layout), never by pixels."""

from __future__ import annotations

import math

import pytest

from nbplayground.adapters.duckdb import DuckDBExperimentRepository
from nbplayground.analytics import reports
from nbplayground.ui import charts
from tests.analytics.conftest import SWEEP

Repo = DuckDBExperimentRepository
CLEAR = "rgba(0, 0, 0, 0)"


def assert_themed(fig: object, title: str, y_unit: str) -> None:
    layout = fig.layout  # type: ignore[attr-defined]
    assert layout.title.text.startswith(title)
    assert layout.paper_bgcolor == CLEAR and layout.plot_bgcolor == CLEAR
    assert layout.template.layout.paper_bgcolor == "white"  # plotly_white, background cleared
    assert layout.font.color == charts.FONT["color"]
    assert layout.yaxis.title.text.endswith(f"({y_unit})")
    assert layout.yaxis.tickprefix == ("$" if y_unit == "USD" else None)  # "$0.0004", not "400µ"


def test_compare_has_a_line_per_model_with_std_error_bars(repo: Repo) -> None:
    data = reports.compare(repo.query, "alice", SWEEP, "temperature", "completion_tokens",
                           "model")
    fig = charts.compare(data, "temperature", "completion_tokens", "model")
    assert [t.name for t in fig.data] == ["m1", "m2"]
    m1, m2 = fig.data
    assert list(m1.x) == [0.0, 1.0] and list(m1.y) == [12.0, 25.0]
    assert list(m1.error_y.array) == pytest.approx([math.sqrt(8), math.sqrt(50)])
    assert list(m2.y) == [5.0, 10.0] and list(m2.error_y.array) == pytest.approx([0, 8 ** .5])
    assert m1.mode == "lines+markers"
    hover = m1.text[0]
    assert "prompt: Write a haiku about DuckDB." in hover
    assert "temperature: 0" in hover and "max_tokens: 32" in hover and "repeats: 2" in hover
    assert "12 ± 2.82843 tokens" in hover
    assert "top_p" not in hover  # not sent, so not shown
    assert m1.hovertemplate == "%{text}<extra></extra>"
    assert_themed(fig, "Completion tokens by temperature and model", "tokens")
    assert fig.layout.title.subtitle.text == "mean ± std over repeats"
    assert fig.layout.xaxis.title.text == "temperature"


def test_compare_on_a_categorical_axis_groups_markers(repo: Repo) -> None:
    data = reports.compare(repo.query, "alice", SWEEP, "model", "cost", "temperature")
    fig = charts.compare(data, "model", "cost_estimate", "temperature")
    assert [t.name for t in fig.data] == ["0.0", "1.0"]
    assert list(fig.data[0].x) == ["m1", "m2"]
    assert list(fig.data[0].y) == pytest.approx([12e-4, 5e-4])
    assert fig.data[0].mode == "markers" and fig.layout.scattermode == "group"
    assert_themed(fig, "Cost by model and temperature", "USD")


def test_compare_without_color_still_splits_what_varies(repo: Repo) -> None:
    data = reports.compare(repo.query, "alice", SWEEP, "model", "latency", None)
    fig = charts.compare(data, "model", "generation_time_ms", None)
    # temperature varies too: pooling it would make the error bars more than repeat spread
    assert [t.name for t in fig.data] == ["temperature=0.0", "temperature=1.0"]
    assert list(fig.data[0].y) == [150.0, 50.0] and list(fig.data[1].y) == [350.0, 200.0]
    assert_themed(fig, "Generation time by model", "ms")


def test_cost_breakdown_stacks_models_per_user(repo: Repo) -> None:
    fig = charts.cost_breakdown(reports.cost(repo.query, None, SWEEP, by=["user", "model"]))
    assert fig.layout.barmode == "stack"
    by_model = {t.name: dict(zip(t.x, t.y, strict=True)) for t in fig.data}
    assert by_model["m1"]["alice"] == pytest.approx(74e-4)
    assert by_model["m1"]["bob"] == pytest.approx(99e-4)
    assert by_model["m2"] == {"alice": pytest.approx(30e-4)}
    assert "calls: 5" in fig.data[0].text[list(fig.data[0].x).index("alice")]
    assert_themed(fig, "Cost by user and model", "USD")


def test_spend_over_time_has_bars_per_model_and_a_token_line(repo: Repo) -> None:
    fig = charts.spend_over_time(reports.cost(repo.query, "alice", None, by=["day", "model"]))
    bars = [t for t in fig.data if t.type == "bar"]
    [line] = [t for t in fig.data if t.type == "scatter"]
    assert [b.name for b in bars] == ["m1", "m2"]
    assert list(bars[1].y) == pytest.approx([30e-4, 7e-4])
    assert list(line.y) == [114 + 70, 17] and line.yaxis == "y2"
    assert "tokens: 184" in line.text[0]
    assert fig.layout.xaxis.type == "date" and fig.layout.yaxis2.tickprefix is None
    assert_themed(fig, "Tokens and spend per day", "USD")
    assert fig.layout.yaxis2.title.text == "tokens"


def test_latency_boxes_come_from_the_percentiles(repo: Repo) -> None:
    fig = charts.latency_distribution(reports.latency(repo.query, "alice", SWEEP))
    m1 = fig.data[0]
    assert m1.type == "box" and m1.name == "m1"
    assert (m1.lowerfence[0], m1.q1[0], m1.median[0], m1.q3[0], m1.upperfence[0]) == \
        pytest.approx((115.0, 175.0, 250.0, 325.0, 385.0))
    assert "p95: 385 ms" in m1.hovertext[0]
    assert_themed(fig, "Latency by model", "ms")


def test_tokens_against_cost_is_one_point_per_run(repo: Repo) -> None:
    fig = charts.tokens_vs_cost(reports.tokens_cost(repo.query, "alice", SWEEP))
    points = {t.name: sorted(zip(t.x, t.y, strict=True)) for t in fig.data}
    assert [x for x, _ in points["m2"]] == [15, 15, 18, 22]
    assert [y for _, y in points["m2"]] == pytest.approx([5e-4, 5e-4, 8e-4, 12e-4])
    assert len(points["m1"]) == 4  # the failed call is not a point
    hover = fig.data[0].text[0]
    assert "prompt: Write a haiku about DuckDB." in hover and "temperature: " in hover
    assert "tokens: 10 + " in hover
    assert_themed(fig, "Tokens against cost", "USD")
    assert fig.layout.xaxis.title.text == "tokens (prompt + completion)"
