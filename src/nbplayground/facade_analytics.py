"""The facade's reports collaborator: pg.compare, pg.report and pg.chart (frames, figures)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbplayground.accounts import admins, readable_user
from nbplayground.domain.providers import billed
from nbplayground.errors import InvalidInput
from nbplayground.results import Experiment, view

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd
    import plotly.graph_objects as go

    from nbplayground.analytics.reports import Query
    from nbplayground.wiring import Wiring

REPORTS: dict[str, tuple[str, ...]] = {
    "pivot": ("by",), "cost": ("by",), "latency": ("by",), "length": ("params",),
    "variety": ("by", "n", "rows"), "answers": ("column", "limit", "diff", "rows"),
    "scores": ("by",), "failures": ("limit",),
}
"""Report kind -> the options it takes."""
CHARTS: dict[str, tuple[str, ...]] = {
    "compare": ("x", "y", "color"), "cost": (), "spend": (), "latency": ("by",),
    "tokens_cost": ("cost", "limit"), "frontier": ("score", "by"),
}
"""Chart kind -> the options it takes."""


class Reports:
    """The reports collaborator: the current user's log (or one sweep) as frames and figures."""

    def __init__(self, wiring: Wiring, user: str) -> None:
        self._w = wiring
        self.user = user

    @property
    def db(self) -> Any:
        return self._w.db

    def _query(self) -> Query:
        query: Query = self._w.repository.query
        return query

    def get(self, experiment_id: str) -> Experiment:
        """One of the current user's experiments by id."""
        exp = self._w.repository.get(experiment_id)
        if exp is None or exp.user_id != self.user:
            raise InvalidInput(f"no experiment {experiment_id!r} in {self.db} for {self.user}")
        return view(exp)

    def history(self, limit: int | None = None, sweep: Any = None, *,
                search: str | None = None, model: str | None = None,
                user: str | None = None, all_users: bool = False) -> pd.DataFrame:
        """The current user's experiments, newest first; admins may pass user= or all_users=True
        (anyone else gets NotAuthorized). `billed` is False where `cost_estimate` is only what
        the answer would cost (simulated runs): never spend."""
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit < 1):
            raise InvalidInput(f"limit must be a positive whole number or None, not {limit!r}")
        sweep_id = getattr(sweep, "id", sweep)
        if sweep_id is not None and not isinstance(sweep_id, str):
            raise InvalidInput(f"sweep must be a Sweep, a sweep id or None, not {sweep!r}")
        for name, value in (("search", search), ("model", model)):
            if value is not None and (not isinstance(value, str) or "\x00" in value):
                raise InvalidInput(f"{name} must be a string or None, not {value!r}")
        readable = readable_user(self.user, user=user, all_users=all_users,
                                 admins=admins() | self._w.team_admins(self.user))
        df = self._w.repository.history(user_id=readable, sweep_id=sweep_id, limit=limit,
                                        search=search, model=model)
        df["truncated"] = df["finish_reason"].eq("length")  # the answer stopped at max_tokens
        if "provider" in df.columns and "billed" not in df.columns:
            df.insert(list(df.columns).index("provider") + 1, "billed",
                      [billed(p) for p in df["provider"]])
        return df

    def _sweep_id(self, sweep: Any) -> str | list[str] | None:
        """A sweep id as given; for a Sweep its id, or its experiment ids when some of its
        cells came from the cache (those rows carry the id of the sweep that ran them)."""
        done = getattr(sweep, "experiments", None)
        if isinstance(getattr(sweep, "id", None), str) and isinstance(done, list):
            if not done:
                raise InvalidInput(f"sweep {sweep.id} has no finished cells yet; run it with "
                                   "pg.sweep(...) first")
            if all(e.sweep_id == sweep.id for e in done):
                return str(sweep.id)  # the fast path: an equality filter, not a semi-join
            return [e.id for e in done]
        if sweep is not None and (not isinstance(sweep, str) or not sweep):
            raise InvalidInput(f"sweep must be the Sweep pg.sweep(...) returned, a sweep id "
                               f"(a string such as 'sw-…'), or None for the whole log; "
                               f"not {sweep!r}")
        return sweep

    def _nothing(self, sweep_id: str | list[str] | None) -> InvalidInput:
        if sweep_id is not None:
            what = f"sweep {sweep_id!r}" if isinstance(sweep_id, str) else "that sweep"
            return InvalidInput(f"no experiments of {what} for user {self.user!r} in "
                                f"{self.db}; pass the Sweep pg.sweep(...) returned, or an id "
                                "from pg.history()['sweep_id']")
        return InvalidInput(f"no experiments for user {self.user!r} in {self.db} yet; "
                            "run pg.run(...) or pg.sweep(...) first")

    def compare(self, sweep: Any, x: str = "temperature", y: str = "completion_tokens",
                color: str | None = "model") -> go.Figure:
        """A Plotly figure: mean `y` (a metric, or a scorer's name) against parameter `x`, a
        line per `color`, error bars = std over repeats. `sweep` is a Sweep, a sweep id, or
        None (the user's whole log)."""
        from nbplayground.analytics import reports

        sweep_id = self._sweep_id(sweep)
        value = None
        if reports.ALIASES.get(y, y) in reports.METRICS or not isinstance(y, str):
            y = reports.metric(y)
        else:  # a scorer's name: its score of each cell
            from nbplayground.analytics.scores import score_value
            from nbplayground.facade_score_reports import scored_in as _scored_in

            value = score_value(y, _scored_in(sweep))
        data = reports.compare(self._query(), self.user, sweep_id, x, y, color, value)
        if value is not None and data[f"{y}_mean"].isna().all():
            raise InvalidInput(f"y must be one of the numeric metrics "
                               f"{', '.join(reports.METRICS)}, or the name of a scorer of "
                               f"this sweep; no cell has a score {y!r}")
        if data.empty:
            raise self._nothing(sweep_id)
        from nbplayground.ui import charts

        return charts.compare(data, x, y, color)

    def report(self, kind: str, sweep: Any = None, **opts: Any) -> pd.DataFrame:
        """A DataFrame of the current user's log (or one sweep), aggregated in DuckDB.

        kinds: "pivot" (by=axes) mean and std per cell; "cost" (by="model"|"user"|"day"|...);
        "latency" (by=...) p05–p95; "length" (params=...) answer length per parameter value;
        "variety" (by=..., n=2, rows=5_000) distinct n-gram ratio across repeats; "answers"
        (column="model", limit=100, diff=False, rows=5_000) answers side by side. variety and
        answers read the newest `rows` runs in scope (a whole sweep, as a rule). "scores"
        (by="model") pass rate with a Wilson 95% interval and mean score with a t interval per
        group and scorer (`passed`: every scorer passed); "failures" (limit=100) the failing
        cells with answer, reference and reason side by side.
        """
        from nbplayground.analytics import reports
        from nbplayground.analytics.readable import readable

        _check(kind, opts, REPORTS, "report")
        sweep_id = self._sweep_id(sweep)
        builders: dict[str, Callable[..., pd.DataFrame]] = {
            "pivot": reports.pivot, "cost": reports.cost, "latency": reports.latency,
            "length": reports.length, "variety": reports.variety, "answers": reports.answers,
        }
        if kind in ("scores", "failures"):
            from nbplayground.facade_score_reports import score_report

            return readable(score_report(self, kind, sweep, sweep_id, opts))
        build = builders[kind]
        df: pd.DataFrame = build(self._query(), self.user, sweep_id, **opts)
        if df.empty and sweep_id is not None:
            raise self._nothing(sweep_id)
        return readable(df)

    def chart(self, kind: str, sweep: Any = None, **opts: Any) -> go.Figure:
        """A Plotly figure of the current user's log (or one sweep).

        kinds: "cost" (USD by user and model), "spend" (tokens and USD per day; simulated
        runs' prices are "would cost", never spend), "latency"
        (by="model": percentile boxes), "tokens_cost" (cost="cost_estimate"|"cost_as",
        limit=5000 newest runs), "compare" (x, y, color: as pg.compare), "frontier"
        (score=a scorer or "passed", by=["model", "prompt"]): mean score against mean cost,
        the Pareto front marked.
        """
        from nbplayground.analytics import reports

        _check(kind, opts, CHARTS, "chart")
        if kind == "compare":
            return self.compare(sweep, **opts)
        if kind == "frontier":
            from nbplayground.facade_score_reports import frontier_chart

            return frontier_chart(self, sweep, self._sweep_id(sweep), opts)
        sweep_id = self._sweep_id(sweep)
        query = self._query()
        if kind == "cost":
            data = reports.cost(query, self.user, sweep_id, by=["user", "model"])
        elif kind == "spend":
            data = reports.cost(query, self.user, sweep_id, by=["day", "model"])
        elif kind == "latency":
            by = opts.get("by", "model")
            if not isinstance(by, str):
                raise InvalidInput(f"by must name one axis such as 'model', not {by!r}")
            data = reports.latency(query, self.user, sweep_id, by=by)
        else:
            cost = opts.get("cost", "cost_estimate")
            if cost not in ("cost_estimate", "cost_as"):
                raise InvalidInput(f"cost must be 'cost_estimate' (what was billed) or "
                                   f"'cost_as' (priced as price_as=...), not {cost!r}")
            data = reports.tokens_cost(query, self.user, sweep_id, limit=opts.get("limit", 5000))
        if data.empty:
            raise self._nothing(sweep_id)
        from nbplayground.ui import charts

        if kind == "cost":
            return charts.cost_breakdown(data)
        if kind == "spend":
            return charts.spend_over_time(data)
        if kind == "latency":
            return charts.latency_distribution(data, by=opts.get("by", "model"))
        return charts.tokens_vs_cost(data, cost=cost)


def _check(kind: Any, opts: dict[str, Any], kinds: dict[str, tuple[str, ...]], what: str
           ) -> None:
    if kind not in kinds:
        raise InvalidInput(f"{what} kind must be one of {', '.join(map(repr, kinds))}, "
                           f"not {kind!r}")
    unknown = sorted(set(opts) - set(kinds[kind]))
    if unknown:
        takes = ", ".join(kinds[kind]) or "no options"
        raise InvalidInput(f"{what}({kind!r}) takes {takes}; remove {', '.join(unknown)}")
