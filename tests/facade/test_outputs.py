"""What a person reads in a notebook: no dollars typeset as math, figures rounded, answers whole,
and answers cut at max_tokens flagged."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from nbplayground.analytics.format import CUT
from nbplayground.analytics.readable import formatter
from nbplayground.configuration import Endpoint
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub

LONG = ("The first answer costs $5 and the second one costs $6, which is what a very long "
        "answer about prices looks like when it goes on and on past fifty characters.")


class TextRuns(HTMLParser):
    """The runs of text MathJax reads: it pairs "$" delimiters only within one run."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[str] = []

    def handle_data(self, data: str) -> None:
        self.runs.append(data)


def typeset_risk(html: str) -> list[str]:
    """Runs that hold a dollar next to other text (MathJax could pair it with another)."""
    parser = TextRuns()
    parser.feed(html)
    return [r for r in parser.runs if "$" in r and r.strip() != "$"]


@pytest.fixture
def pg(make_pg: Any) -> Any:
    return make_pg(provider="simulated", simulated_latency=0)


def test_dollar_amounts_in_html_are_not_left_to_mathjax(pg: Any) -> None:
    est = pg.estimate(["Name a colour.", "Name a fruit."], model="gpt-4o-mini", max_tokens=16)
    assert "$" in est._repr_html_() and typeset_risk(est._repr_html_()) == []
    sw = pg.sweep("Name a colour.", model="gpt-4o-mini", temperature=[0.0, 1.0], max_tokens=16)
    assert "$" in sw._repr_html_() and typeset_risk(sw._repr_html_()) == []
    exp = pg.run("Say hi", model="gpt-4o-mini")
    assert "$" in exp._repr_html_() and typeset_risk(exp._repr_html_()) == []
    assert re.findall(r"(?<!\\)\$", exp._repr_markdown_()) == []  # \$ in Markdown


def test_report_answers_are_whole_with_their_dollars_apart(make_pg: Any) -> None:
    with OpenAIStub(api_key=TEST_KEY, reply_with=LONG) as server:
        pg = make_pg(provider=Endpoint(base_url=server.base_url, api_key=TEST_KEY))
        sw = pg.sweep("Prices?", model="gpt-4o-mini", temperature=[0.0, 1.0], max_tokens=100)
        answers = pg.report("answers", sw, column="temperature", diff=True)
    html = answers._repr_html_()
    assert "…" not in html and "…" not in repr(answers)
    assert LONG.replace("$", "<span>$</span>") in html  # both columns whole, and the diff
    assert typeset_risk(html) == []
    assert answers.iloc[0, 0] == LONG  # the values are the answers, untouched


def test_report_figures_are_rounded_for_people_and_exact_underneath(pg: Any) -> None:
    sw = pg.sweep("Name a colour.", model="gpt-4o-mini", temperature=[0.0, 1.0], repeats=2,
                  max_tokens=16)
    pivot = pg.report("pivot", sw)
    raw = sw.to_pandas().groupby("temperature")["generation_time_ms"].mean()
    assert pivot["latency_ms_mean"].tolist() == pytest.approx(raw.tolist(), rel=1e-12)
    shown = pivot._repr_html_() + repr(pivot)
    for value in pivot["latency_ms_mean"]:
        assert f"<td>{value:,.0f}</td>" in shown and f"{value:.3f}" not in shown
    cost = formatter("cost_mean")(pivot["cost_mean"].iloc[0])
    assert cost in shown and len(cost.lstrip("0.")) == 3  # three significant figures
    latency = pg.report("latency", sw)
    assert all(f"{v:.6f}" not in repr(latency) for v in latency["p50_ms"])


def test_answers_cut_at_max_tokens_are_flagged_where_shown(pg: Any) -> None:
    exp = pg.run("Tell me a long story about the sea.", model="gpt-4o-mini", max_tokens=4)
    assert exp.finish_reason == "length" and exp.truncated
    assert "cut at max_tokens=4" in exp.summary() and "cut at max_tokens" in exp._repr_html_()
    whole = pg.run("Hi", model="gpt-4o-mini", max_tokens=500)
    assert not whole.truncated and "cut at" not in whole.summary()
    history = pg.history()
    assert history.set_index("id")["truncated"].to_dict() == {exp.id: True, whole.id: False}
    sw = pg.sweep("Tell me a long story about the sea.", model="gpt-4o-mini",
                  temperature=[0.0, 1.0], max_tokens=4)
    assert CUT in sw._repr_html_()
    assert pg.report("pivot", sw)["cut"].tolist() == [1, 1]
    answers = pg.report("answers", sw, column="temperature")
    assert all(a.endswith(CUT) for a in answers.iloc[0])
