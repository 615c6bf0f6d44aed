"""Sweeps: run a grid of cells concurrently at the speed the API allows, cached and resumable."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbplayground.analytics.format import CUT, html_text
from nbplayground.domain.fields import PARAMETER_NAMES
from nbplayground.domain.money import usd
from nbplayground.errors import BudgetExceeded
from nbplayground.evaluation import Score, ScoringPlan, scores_frame, widen
from nbplayground.events import SweepProgressed
from nbplayground.experimentation.cell import Cell
from nbplayground.experimentation.collector import young_generations_only
from nbplayground.experimentation.estimate import Estimate, estimate_cells
from nbplayground.experimentation.holds import reserve
from nbplayground.experimentation.ports import Hold
from nbplayground.experimentation.scoring import Grader, grader, run_judges, scored_outcome
from nbplayground.experimentation.service import ExperimentService, Outcome
from nbplayground.experimentation.writer import BatchWriter
from nbplayground.ids import new_id, utcnow

if TYPE_CHECKING:
    import pandas as pd

    from nbplayground.domain import Experiment

COLUMNS = ["cell", "prompt_name", "prompt_version", "prompt", "system", "model", "provider",
           *PARAMETER_NAMES, "repeat",
           "response", "status", "error", "cached", "finish_reason", "prompt_tokens",
           "completion_tokens", "token_count", "generation_time_ms", "cost_estimate",
           "usage_estimated", "cost_as", "experiment_id"]
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
                           cost_as=m.cost_as, experiment_id=exp.id)
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
        return (f"Sweep {self.id}: {len(self)} cells, {self.count('ok')} ok, "
                f"{self.count('cached')} cached, {self.count('failed')} failed, "
                f"{len(self) - self.count('all')} not run · spent {usd(self.spent)} · "
                f"{self.wall_time_s:.1f} s · {self.status}")

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        frame = self.to_pandas().head(10)
        table = frame[["prompt", "model", "temperature", "repeat", "status",
                       "completion_tokens", "cost_estimate", "response"]].copy()
        for column in ("prompt", "response"):  # to_html has no max_colwidth of its own
            table[column] = [t if not isinstance(t, str) or len(t) <= 60 else t[:59] + "…"
                             for t in table[column]]
        table["response"] = [f"{t} {CUT}" if f == "length" else t
                             for t, f in zip(table["response"], frame["finish_reason"],
                                             strict=True)]
        return (f"<p><b>{html_text(self.summary())}</b></p>"
                f"{table.to_html().replace('$', '<span>$</span>')}")  # see html_text


ProgressFactory = Callable[[Sweep, int, str], Any]


class SweepRunner:
    def __init__(self, service: ExperimentService) -> None:
        self.service = service

    def estimate(self, cells: list[Cell], cached: set[str] | frozenset[str] = frozenset()
                 ) -> Estimate:
        return estimate_cells(cells, self.service.costs, cached)

    def cached(self, cells: list[Cell]) -> dict[str, Experiment]:
        return self.service.repository.find_cached(sorted({c.cache_key for c in cells}))

    async def run(self, sweep: Sweep, *, concurrency: int = 8, rpm: float | None = None,
                  tpm: float | None = None, max_cost: float | None = None, refresh: bool = False,
                  progress: ProgressFactory | None = None) -> Sweep:
        started = time.perf_counter()
        hits = {} if refresh else await asyncio.to_thread(self.cached, sweep.cells)
        for i, c in enumerate(sweep.cells if hits else ()):  # no keys hashed for nothing
            if c.cache_key in hits:
                sweep.results[i] = hits[c.cache_key].model_copy(
                    update={"cached": True, **c.prompt_tags})
        todo = [i for i, r in enumerate(sweep.results) if r is None]
        grade = grader(sweep)
        # Cells from the log are scored now (their scores belong to this sweep), logged with
        # the first batch.
        scored = [scored_outcome(sweep, grade, i, Outcome(r)) for i, r in enumerate(sweep.results)
                  if r is not None] if grade else []
        if max_cost is not None:
            est = self.estimate([sweep.cells[i] for i in todo])
            if est.max_cost is None or est.max_cost > max_cost:
                ceiling = "unknown (unpriced models)" if est.max_cost is None \
                    else usd(est.max_cost)
                raise BudgetExceeded(
                    f"this sweep could cost up to {ceiling}, more than max_cost={usd(max_cost)}; "
                    "lower max_tokens, run fewer cells, or raise max_cost (nothing was sent)",
                    spent=0.0, limit=max_cost, needed=est.max_cost or 0.0)
        ceilings = {i: self.service.max_cost(sweep.cells[i]) or 0.0 for i in todo}
        hold = await self._reserve(sweep, todo, ceilings)
        await self._run(sweep, todo, ceilings, hold, started, concurrency=concurrency,
                        rpm=_tighter(rpm, hold.rpm if hold else None), tpm=tpm,
                        max_cost=max_cost, progress=progress, scored=scored, grade=grade)
        if sweep.plan is not None and sweep.plan.judges and sweep.grade is None:
            await run_judges(self, sweep, concurrency=concurrency, rpm=rpm, tpm=tpm,
                             max_cost=max_cost, refresh=refresh, progress=progress)
        return sweep

    async def _reserve(self, sweep: Sweep, todo: list[int], ceilings: dict[int, float]
                       ) -> Hold | None:
        """Hold the sweep's pre-flight maximum for its whole flight (BudgetExceeded if it does
        not fit what is left), so a concurrent sweep of the same user sees it as spent."""
        gate = self.service.gate
        if gate is None or not todo:
            return None
        cells = [sweep.cells[i] for i in todo]
        tokens = sum(c.prompt_tokens + c.max_completion for c in cells)
        return await reserve(gate, cells[0].user_id, sum(ceilings.values()), tokens=tokens,
                             provider=cells[0].provider,
                             what=f"this sweep ({len(cells)} calls)")

    async def _run(self, sweep: Sweep, todo: list[int], ceilings: dict[int, float],
                   hold: Hold | None, started: float, *, concurrency: int, rpm: float | None,
                   tpm: float | None, max_cost: float | None,
                   progress: ProgressFactory | None, scored: list[Outcome],
                   grade: Grader | None) -> Sweep:
        cell_of: dict[str, int] = {}  # experiment id -> cell index, for settling the hold

        def record(batch: list[Outcome], row: dict[str, Any]) -> None:
            self.service.record(batch, sweep=row)
            if hold is not None:  # booked now: hold only what is still to come
                done = [cell_of[o.experiment.id] for o in batch if o.experiment.id in cell_of]
                hold.settle(sum(ceilings[i] for i in done),
                            sum(sweep.cells[i].prompt_tokens + sweep.cells[i].max_completion
                                for i in done))

        local = any(sweep.cells[i].provider == "local" for i in todo)
        workers = 1 if local else max(1, min(concurrency, len(todo) or 1))
        note = "local model: one cell at a time" if local else f"{workers} at a time"
        writer = BatchWriter(record, snapshot=lambda: self._row(sweep))
        limiter = self.service.limiters.new(rpm, tpm)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in todo:
            queue.put_nowait(i)
        for outcome in scored:
            writer.put(outcome)
        over_budget = False
        bar = None

        async def worker() -> None:
            nonlocal over_budget
            while not queue.empty():
                if max_cost is not None and sweep.spent >= max_cost:
                    over_budget = True
                    return
                i = queue.get_nowait()
                if queue.empty():
                    writer.ending()
                outcome: Outcome = await self.service.execute(sweep.cells[i], limiter=limiter)
                cell_of[outcome.experiment.id] = i
                sweep.results[i] = outcome.experiment
                sweep.spent += outcome.experiment.metrics.cost_estimate or 0.0
                if grade is not None:
                    scored_outcome(sweep, grade, i, outcome)
                writer.put(outcome)
                if bar is not None:
                    bar(outcome.experiment)

        async with young_generations_only():
            try:
                bar = progress(sweep, len(todo), note) if progress else None
                sweep.status = "running"  # the sweeps row is written with each batch of cells
                writer.start()
                await asyncio.gather(*(worker() for _ in range(workers)))
                sweep.status = "budget" if over_budget else "done"
            except asyncio.CancelledError:
                sweep.status = "interrupted"
                raise
            finally:
                sweep.wall_time_s = time.perf_counter() - started
                await asyncio.shield(self._finish(sweep, writer, bar, hold))
        if over_budget:
            err = BudgetExceeded(
                f"max_cost={usd(max_cost)} reached: spent {usd(sweep.spent)}, "
                f"{len(sweep) - sweep.count('all')} cells not run; re-run the same call with a "
                "higher max_cost to finish it (done cells are kept)",
                spent=sweep.spent, limit=max_cost or 0.0, needed=0.0)
            err.sweep = sweep  # type: ignore[attr-defined]
            raise err
        return sweep

    async def _finish(self, sweep: Sweep, writer: BatchWriter, bar: Any,
                      hold: Hold | None = None) -> None:
        try:
            await writer.close()  # the last cells and the sweep's final row, one transaction
        finally:
            if hold is not None:  # only now: everything this sweep spent is booked
                hold.release()
        self.service.bus.publish(SweepProgressed(
            sweep_id=sweep.id, done=sweep.count("ok"), failed=sweep.count("failed"),
            cached=sweep.count("cached"), total=len(sweep), spent=sweep.spent))
        close = getattr(bar, "close", None)
        if callable(close):
            close()

    def _row(self, sweep: Sweep) -> dict[str, Any]:
        user = sweep.cells[0].user_id if sweep.cells else ""
        return {"id": sweep.id, "user_id": user, "spec": sweep.spec, "status": sweep.status,
                "total": len(sweep), "done": sweep.count("ok"), "failed": sweep.count("failed"),
                "cached": sweep.count("cached"), "spent": sweep.spent, "updated_at": utcnow()}


def _tighter(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def new_sweep_id() -> str:
    return "sw-" + new_id().replace("-", "")[:16]
