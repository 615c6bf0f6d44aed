"""The facade's reports of scores: pg.report("scores" | "failures") and pg.chart("frontier")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbplayground.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from nbplayground.analytics.log_sql import SweepScope

Reports = Any
"""The facade's reports collaborator (facade_analytics.Reports: _query, user), a layer above."""


def scored_in(sweep: Any) -> str | None:
    """The sweep whose scores a report reads (a Sweep's, or a sweep id); None: any."""
    found = getattr(sweep, "id", sweep)
    return found if isinstance(found, str) else None


def _names(sweep: Any) -> list[str] | None:
    """A Sweep's own scorers (pg.score(sw, ...) gives a Sweep of the new ones); None: all."""
    plan = getattr(sweep, "plan", None)
    return list(plan.names) if plan is not None and plan.names else None


def _none_scored(reports: Reports, sweep_id: SweepScope) -> InvalidInput:
    what = "this sweep" if sweep_id is not None else f"{reports.user!r}'s log"
    return InvalidInput(f"no scores in {what}; run pg.sweep(..., scorers=[...]) or "
                        "pg.score(sw, scorers=[...]) first")


def score_report(reports: Reports, kind: str, sweep: Any, sweep_id: SweepScope,
                 opts: dict[str, Any]) -> pd.DataFrame:
    """"scores": pass rate (Wilson 95% interval) and mean score (t 95% interval) per group
    (by=, default "model") and scorer, `passed` = every scorer passed. "failures" (limit=100):
    each failing cell and scorer with the answer, the reference and the reason side by side."""
    from nbplayground.analytics import scores

    scored_sweep = scored_in(sweep)
    if kind == "scores":
        df = scores.scores(reports._query(), reports.user, sweep_id, scored_sweep,
                           by=opts.get("by", "model"), names=_names(sweep))
    else:
        df = scores.failures(reports._query(), reports.user, sweep_id, scored_sweep,
                             limit=opts.get("limit", 100), names=_names(sweep))
        df.insert(3, "reference", _references(sweep, df))
    if df.empty and kind == "scores":
        raise _none_scored(reports, sweep_id)
    return df


def _references(sweep: Any, df: pd.DataFrame) -> list[str | None]:
    """What each failing answer was held against, filled in from the sweep's own scorers and
    vars (a sweep id alone does not say: None)."""
    plan = getattr(sweep, "plan", None)
    results = getattr(sweep, "results", None)
    if plan is None or not isinstance(results, list):
        return [None] * len(df)
    where = {exp.id: (i, exp) for i, exp in enumerate(results) if exp is not None}
    by_name = {sc.name: sc for sc in plan.scorers}
    out: list[str | None] = []
    for exp_id, name in zip(df["experiment_id"], df["scorer"], strict=True):
        found, scorer = where.get(exp_id), by_name.get(name)
        text = None
        if found is not None and scorer is not None:
            try:
                text = scorer.reference_text(plan.answer(*found))
            except ValueError:  # {answer.field} of an answer that is not JSON
                text = None
        out.append(text)
    return out


def frontier_chart(reports: Reports, sweep: Any, sweep_id: SweepScope,
                   opts: dict[str, Any]) -> go.Figure:
    """score= a scorer's name (default: `passed`, the share of cells every scorer passed);
    by= the groups (default: model and prompt, those that vary)."""
    from nbplayground.analytics import scores
    from nbplayground.analytics.log_sql import varying
    from nbplayground.ui import charts

    score = opts.get("score", scores.ALL_PASSED)
    if not isinstance(score, str) or not score:
        raise InvalidInput(f"score must name a scorer (or 'passed'), not {score!r}")
    by = opts.get("by")
    if by is None:
        moving = varying(reports._query(), reports.user, sweep_id, ("model", "prompt"))
        by = moving or ["model"]
    by = [by] if isinstance(by, str) else list(by)
    data = scores.frontier(reports._query(), reports.user, sweep_id, scored_in(sweep),
                           score, by, _names(sweep))
    if data.empty:
        raise InvalidInput(f"no cell has a score {score!r} here; name a scorer of this sweep "
                           "(sw.scores()['scorer'].unique()) or 'passed'")
    return charts.frontier(data, score, by)
