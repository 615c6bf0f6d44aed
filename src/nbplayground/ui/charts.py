"""Plotly chart builders: a report DataFrame in, a themed Figure out (no SQL, no SDK calls)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from nbplayground.analytics.reports import AXES, METRICS, PARAMETERS
from nbplayground.domain.money import usd

if TYPE_CHECKING:
    import pandas as pd

FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
        "color": "#888888", "size": 13}
"""A mid grey reads on JupyterLab's light and dark themes alike."""
GRID = "rgba(128, 128, 128, 0.22)"
CLEAR = "rgba(0, 0, 0, 0)"
DAY_MS = 86_400_000
LABELS = {"completion_tokens": "completion tokens", "prompt_tokens": "prompt tokens",
          "token_count": "tokens", "cost_estimate": "cost", "cost_as": "cost at price_as",
          "generation_time_ms": "generation time", "answer_chars": "answer length",
          "answer_words": "answer length", "tokens_per_s": "throughput"}
AXIS_UNITS = {"max_tokens": "tokens", "seed": "", "temperature": "", "top_p": ""}
CATEGORICAL = {"model", "prompt", "system", "provider", "reasoning_effort"}


def themed(fig: go.Figure, title: str, x_title: str, y_title: str, subtitle: str = ""
           ) -> go.Figure:
    """plotly_white with a transparent background, so the notebook's own theme shows through;
    USD axes read "$0.0004", not the SI "400µ"."""
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0.01, "xanchor": "left", "subtitle": {"text": subtitle}},
        paper_bgcolor=CLEAR, plot_bgcolor=CLEAR, font=FONT, legend={"bgcolor": CLEAR},
        hoverlabel={"font": {"family": FONT["family"]}},
        margin={"l": 70, "r": 30, "t": 90 if subtitle else 60, "b": 60})
    fig.update_xaxes(title_text=x_title, gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID)
    fig.update_yaxes(title_text=y_title, gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID)
    if y_title.endswith("(USD)"):
        fig.update_layout(yaxis={"tickprefix": "$", "tickformat": ",.6~f"})
    return fig


def metric_title(name: str) -> str:
    """"completion tokens (tokens)" style: what it is and its unit."""
    return f"{LABELS.get(name, name)} ({METRICS[name][1]})" if name in METRICS else name


def axis_title(name: str) -> str:
    u = AXIS_UNITS.get(name, "")
    return f"{name} ({u})" if u else name


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _fmt(value: Any) -> str:
    if _missing(value):
        return "default"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _esc(value: Any, width: int = 80) -> str:
    text = _fmt(value)
    text = text if len(text) <= width else text[:width - 1] + "…"
    return html.escape(text).replace("\n", " ")


def _lines(pairs: Iterable[tuple[str, Any]]) -> str:
    return "<br>".join(f"{k}: {_esc(v)}" for k, v in pairs)


def _values(series: pd.Series) -> list[Any]:
    return [None if _missing(v) else v for v in series.tolist()]


def compare(df: pd.DataFrame, x: str, y: str, color: str | None = "model") -> go.Figure:
    """Mean of `y` against `x`, one trace per series (color value and other varying axes),
    error bars = std over repeats. `df` is what analytics.reports.compare returns."""
    fig = go.Figure()
    mean, std = f"{y}_mean", f"{y}_std"
    shown = [c for c in df.columns if c in AXES and c != x and c != "prompt"]
    label = LABELS.get(y, y)
    for key, part in df.groupby("series", sort=False, dropna=False):
        name = label if _missing(key) else str(key)
        hover = [
            f"<b>{_esc(name)}</b><br>" + _lines([
                (x, row[x]), (label, f"{_fmt(row[mean])} ± "
                 f"{_fmt(0.0 if _missing(row[std]) else row[std])} "
                 f"{METRICS[y][1] if y in METRICS else ''}".rstrip()),
                ("repeats", row["n"]), ("prompt", row["prompts"]),
                *((p, row[p]) for p in shown if not _missing(row[p]))])
            for row in part.to_dict("records")]
        fig.add_trace(go.Scatter(
            x=[_fmt(v) for v in part[x]] if x in CATEGORICAL else _values(part[x]),
            y=_values(part[mean]), name=name,
            mode="markers" if x in CATEGORICAL else "lines+markers",
            error_y={"type": "data", "array": part[std].fillna(0.0).tolist(), "visible": True},
            text=hover, hovertemplate="%{text}<extra></extra>"))
    title = f"{label.capitalize()} by {x}" + (f" and {color}" if color and color != x else "")
    fig = themed(fig, title, axis_title(x), metric_title(y), "mean ± std over repeats")
    if x in CATEGORICAL:
        fig.update_layout(scattermode="group")
    return fig


def cost_breakdown(df: pd.DataFrame) -> go.Figure:
    """Stacked bars of USD: one bar per user (or per model), one colour per model."""
    fig = go.Figure()
    x = "user" if "user" in df.columns else "model"
    for model, part in df.groupby("model", sort=False, dropna=False):
        hover = [_lines([("user", r.get("user", "")), ("model", model),
                         ("cost", usd(r["cost"])), ("calls", r["calls"]),
                         ("tokens", r["tokens"]), ("unpriced calls", r["unpriced"])])
                 for r in part.to_dict("records")]
        fig.add_trace(go.Bar(x=part[x].astype(str).tolist(), y=part["cost"].tolist(),
                             name=str(model), text=hover,
                             hovertemplate="%{text}<extra></extra>", textposition="none"))
    fig.update_layout(barmode="stack")
    return themed(fig, "Cost by " + ("user and model" if x == "user" else "model"), x,
                  "cost (USD)")


def spend_over_time(df: pd.DataFrame) -> go.Figure:
    """Per day: USD spent as stacked bars by model (left axis), tokens as a line (right axis)."""
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    groups = df.groupby("model", sort=False, dropna=False) if "model" in df.columns \
        else [("all", df)]
    for model, part in groups:
        hover = [_lines([("day", r["day"]), ("model", model), ("cost", usd(r["cost"])),
                         ("tokens", r["tokens"]), ("calls", r["calls"])])
                 for r in part.to_dict("records")]
        fig.add_trace(go.Bar(x=part["day"].tolist(), y=part["cost"].tolist(), name=str(model),
                             text=hover, hovertemplate="%{text}<extra></extra>",
                             textposition="none", width=0.8 * DAY_MS), secondary_y=False)
    daily = df.groupby("day", sort=True)[["tokens", "cost"]].sum().reset_index()
    fig.add_trace(go.Scatter(
        x=daily["day"].tolist(), y=daily["tokens"].tolist(), name="tokens", mode="lines+markers",
        line={"color": "#888888", "dash": "dot"},
        text=[_lines([("day", d), ("tokens", t), ("cost", usd(c))])
              for d, t, c in zip(daily["day"], daily["tokens"], daily["cost"], strict=True)],
        hovertemplate="%{text}<extra></extra>"), secondary_y=True)
    fig.update_layout(barmode="stack")
    fig = themed(fig, "Tokens and spend per day", "day (UTC)", "cost (USD)")
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(title_text="tokens", secondary_y=True, showgrid=False, tickformat=",d")
    # a date axis keeps the gaps between days; ticks on whole days, however few there are
    fig.update_xaxes(type="date", tickformat="%b %d",
                     dtick=DAY_MS if daily["day"].nunique() <= 14 else None)
    fig.update_layout(legend={"x": 1.1})
    return fig


def latency_distribution(df: pd.DataFrame, by: str = "model") -> go.Figure:
    """Boxes from percentiles computed in the store: p25–p75, median, whiskers p5–p95."""
    fig = go.Figure()
    for r in df.to_dict("records"):
        name = _fmt(r[by]) if by in df.columns else "all"
        fig.add_trace(go.Box(
            x=[name], name=name, q1=[r["p25_ms"]], median=[r["p50_ms"]], q3=[r["p75_ms"]],
            lowerfence=[r["p05_ms"]], upperfence=[r["p95_ms"]], mean=[r["mean_ms"]],
            hovertext=[_lines([(by, name), ("runs", r["n"]), ("p50", f"{r['p50_ms']:.0f} ms"),
                               ("p95", f"{r['p95_ms']:.0f} ms"),
                               ("tokens/s", r["tokens_per_s"])])],
            hoverinfo="text+y"))
    return themed(fig, f"Latency by {by}", by, "generation time (ms)",
                  "box p25–p75 with the median, whiskers p5–p95, dashed line the mean")


def tokens_vs_cost(df: pd.DataFrame, cost: str = "cost_estimate") -> go.Figure:
    """One point per experiment: tokens against USD, a colour per model. Thousands of points:
    each distinct value is escaped once, and the axes go to Plotly as arrays (it checks a list
    value by value)."""
    import numpy as np

    fig = go.Figure()
    shown: Sequence[str] = [p for p in PARAMETERS if p != "model" and p in df.columns]
    escaped: dict[Any, str] = {}

    def esc(value: Any) -> str:
        try:
            found = escaped.get(value)
        except TypeError:  # a list (stop=[...]): not a key
            return _esc(value)
        if found is None:
            found = escaped[value] = _esc(value)
        return found

    for model, part in df.groupby("model", sort=False, dropna=False):
        head = f"<b>{_esc(model)}</b><br>"
        hover = [head + "<br>".join([
            f"prompt: {esc(r['prompt'])}",
            f"tokens: {r['prompt_tokens']} + {r['completion_tokens']}",
            f"cost: {esc(usd(None if _missing(r[cost]) else r[cost]))}",
            *(f"{p}: {esc(r[p])}" for p in shown if not _missing(r[p]))])
            for r in part.to_dict("records")]
        fig.add_trace(go.Scatter(x=_array(part["token_count"]), y=_array(part[cost]),
                                 name=str(model), mode="markers",
                                 text=np.array(hover, dtype=object),
                                 hovertemplate="%{text}<extra></extra>", marker={"opacity": 0.7}))
    label = "cost (USD)" if cost == "cost_estimate" else "cost if priced as price_as (USD)"
    return themed(fig, "Tokens against cost", "tokens (prompt + completion)", label)


def _array(series: pd.Series) -> Any:
    """A numeric column as floats, NaN where missing (a gap for Plotly, as None is)."""
    import pandas as pd

    return pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()


def frontier(df: pd.DataFrame, score: str, by: Sequence[str]) -> go.Figure:
    """Mean score against mean cost of a call, one point per group (e.g. model × prompt); the
    Pareto front (no group scores as well for less) drawn as a line through its points."""
    fig = go.Figure()
    names = [" · ".join(str(r[k])[:40] for k in by) for r in df.to_dict("records")]
    hover = [f"<b>{_esc(n)}</b><br>" + _lines([
        (score, _fmt(r["score"])), ("cost per call", usd(None if _missing(r["cost"])
                                                          else r["cost"])),
        ("cells", r["n"]), ("on the front", "yes" if r["pareto"] else "no")])
        for n, r in zip(names, df.to_dict("records"), strict=True)]
    fig.add_trace(go.Scatter(x=_values(df["cost"]), y=_values(df["score"]), mode="markers+text",
                             name=" × ".join(by), text=names, textposition="top center",
                             hovertext=hover, hoverinfo="text",
                             marker={"size": 11, "opacity": 0.75,
                                     "symbol": ["star" if p else "circle" for p in df["pareto"]]}))
    front = df[df["pareto"]]
    fig.add_trace(go.Scatter(x=_values(front["cost"]), y=_values(front["score"]),
                             mode="lines", name="Pareto front", line={"dash": "dot"},
                             hoverinfo="skip"))
    fig = themed(fig, f"{score} against cost", "mean cost per call (USD)", f"mean {score}",
                 "stars: the Pareto front — nothing else scores as well for less")
    fig.update_layout(xaxis={"tickprefix": "$", "tickformat": ",.6~f"})
    return fig
