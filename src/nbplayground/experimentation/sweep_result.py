"""A Sweep: its cells, their results as they come, its frame (to_pandas) and its summary."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbplayground.analytics.format import CUT, html_text
from nbplayground.domain.fields import PARAMETER_NAMES
from nbplayground.domain.money import usd
from nbplayground.domain.providers import billed
from nbplayground.evaluation import Score, ScoringPlan, scores_frame, widen
from nbplayground.experimentation.cell import Cell
from nbplayground.experimentation.scoring import Grader
from nbplayground.ids import new_id

if TYPE_CHECKING:
    import pandas as pd

    from nbplayground.domain import Experiment

COLUMNS = ["cell", "prompt_name", "prompt_version", "prompt", "system", "model", "provider",
           *PARAMETER_NAMES, "repeat",
           "response", "status", "error", "cached", "finish_reason", "prompt_tokens",
           "completion_tokens", "token_count", "generation_time_ms", "cost_estimate",
           "usage_estimated", "cost_as", "experiment_id", "via"]
"""The sweep frame's columns; the request fields come from the field table."""


def sweep_id_for(user_id: str, cells: list[Cell]) -> str:
    """The same call by the same user is the same sweep: re-running it resumes it."""
    h = hashlib.sha256(user_id.encode())
    for c in cells:
        h.update(c.cache_key.encode())
    return "sw-" + h.hexdigest()[:16]


@dataclass
class Sweep:
    id: str
    cells: list[Cell]
    spec: dict[str, Any] = field(default_factory=dict)
    results: list[Experiment | None] = field(default_factory=list)
    status: str = "pending"
    spent: float = 0.0
    wall_time_s: float = 0.0
    plan: ScoringPlan | None = None
    """Its scorers, bound to each cell's vars row."""
    grade: Grader | None = field(default=None, repr=False)
    """Scores a finished cell (index, experiment); by default the plan's deterministic ones."""
    scored: list[Score] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.results:
            self.results = [None] * len(self.cells)

    def __len__(self) -> int:
        return len(self.cells)

    def count(self, what: str) -> int:
        rs = [r for r in self.results if r is not None]
        if what == "cached":
            return sum(r.cached for r in rs)
        if what == "failed":
            return sum(r.status == "error" for r in rs)
        return sum(r.status == "ok" and not r.cached for r in rs) if what == "ok" else len(rs)

    @property
    def experiments(self) -> list[Experiment]:
        return [r for r in self.results if r is not None]

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        rows = []
        for i, (cell, exp) in enumerate(zip(self.cells, self.results, strict=True)):
            p = cell.request.parameters
            row: dict[str, Any] = {
                "cell": i, **cell.prompt_tags, "prompt": cell.request.messages[-1].content,
                "system": next((m.content for m in cell.request.messages
                                if m.role in ("system", "developer")), None),
                "model": cell.request.model, "provider": cell.provider,
                **{k: list(v) if isinstance(v, tuple) else v for k, v in p.model_dump().items()},
                "repeat": cell.request.repeat, "status": "missing"}
            if exp is not None:
                m = exp.metrics
                row.update(response=exp.response, status=exp.status, error=exp.error,
                           cached=exp.cached, finish_reason=exp.finish_reason,
                           prompt_tokens=m.prompt_tokens, completion_tokens=m.completion_tokens,
                           token_count=m.token_count, generation_time_ms=m.generation_time_ms,
                           cost_estimate=m.cost_estimate, usage_estimated=m.usage_estimated,
                           cost_as=m.cost_as, experiment_id=exp.id, via=exp.via)
            rows.append(row)
        frame = pd.DataFrame(rows, columns=COLUMNS)
        if not self.plan:
            return frame
        return widen(frame, self.scores(), self.plan.names,
                     {sc.name: sc.weight for sc in self.plan.scorers})

    def scores(self) -> pd.DataFrame:
        """One row per (experiment, scorer): score, passed, reason, the judge's experiment."""
        return scores_frame(self.scored)

    def summary(self) -> str:
        # What unbilled providers' answers would cost (simulated) is never called spend.
        unbilled = {r.provider: 0.0 for r in self.experiments
                    if not r.cached and not billed(r.provider)}
        for r in self.experiments:
            if r.provider in unbilled and not r.cached:
                unbilled[r.provider] += r.metrics.cost_estimate or 0.0
        would, whose = sum(unbilled.values()), ", ".join(sorted(p for p, v in unbilled.items()
                                                               if v))
        spend = f"spent {usd(max(0.0, self.spent - would))}" + (
            f" (+ {usd(would)} would cost, {whose})" if would else "")
        return (f"Sweep {self.id}: {len(self)} cells, {self.count('ok')} ok, "
                f"{self.count('cached')} cached, {self.count('failed')} failed, "
                f"{len(self) - self.count('all')} not run · {spend} · "
                f"{self.wall_time_s:.1f} s · {self.status}")

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        frame = self.to_pandas().head(10)
        shown = ["prompt", "model", "temperature", "repeat", "status", "completion_tokens",
                 "cost_estimate", "response"]
        if len({c.provider for c in self.cells}) > 1:  # a sweep across providers says whose
            shown.insert(1, "provider")
        table = frame[shown].copy()
        for column in ("prompt", "response"):  # to_html has no max_colwidth of its own
            table[column] = [t if not isinstance(t, str) or len(t) <= 60 else t[:59] + "…"
                             for t in table[column]]
        table["response"] = [f"{t} {CUT}" if f == "length" else t
                             for t, f in zip(table["response"], frame["finish_reason"],
                                             strict=True)]
        return (f"<p><b>{html_text(self.summary())}</b></p>"
                f"{table.to_html().replace('$', '<span>$</span>')}")  # see html_text


def new_sweep_id() -> str:
    return "sw-" + new_id().replace("-", "")[:16]
