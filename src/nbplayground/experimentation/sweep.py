"""Sweeps: run a grid of cells concurrently at the speed the API allows, cached and resumable."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbplayground.domain.money import usd
from nbplayground.errors import BudgetExceeded
from nbplayground.events import SweepProgressed
from nbplayground.experimentation.cell import Cell
from nbplayground.experimentation.collector import young_generations_only
from nbplayground.experimentation.estimate import Estimate, estimate_cells
from nbplayground.experimentation.holds import by_provider, reserve_sweep
from nbplayground.experimentation.judge_lane import JudgeLane
from nbplayground.experimentation.ports import DeltaCallback, Hold
from nbplayground.experimentation.scoring import Grader, grade_batch, grader
from nbplayground.experimentation.service import ExperimentService, Outcome
from nbplayground.experimentation.stopping import Partial, stopped
from nbplayground.experimentation.sweep_result import COLUMNS, Sweep, new_sweep_id, sweep_id_for
from nbplayground.experimentation.writer import BatchWriter
from nbplayground.ids import utcnow

if TYPE_CHECKING:
    from nbplayground.domain import Experiment

__all__ = ["COLUMNS", "ProgressFactory", "Sweep", "SweepRunner", "new_sweep_id", "sweep_id_for"]

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
                  progress: ProgressFactory | None = None,
                  on_delta: Callable[[int], DeltaCallback] | None = None) -> Sweep:
        """Send the cells not in the log; `on_delta(i)` streams cell i's answer (stopped, the
        text so far of each cell in flight is logged as 'stopped')."""
        started = time.perf_counter()
        hits = {} if refresh else await asyncio.to_thread(self.cached, sweep.cells)
        for i, c in enumerate(sweep.cells if hits else ()):  # no keys hashed for nothing
            if c.cache_key in hits:
                sweep.results[i] = hits[c.cache_key].model_copy(
                    update={"cached": True, **c.prompt_tags})
        todo = [i for i, r in enumerate(sweep.results) if r is None]
        grade = grader(sweep)
        # Cells from the log are scored too (their scores belong to this sweep), written with
        # the first batch.
        logged = [(i, Outcome(r)) for i, r in enumerate(sweep.results) if r is not None] \
            if grade else []
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
        holds = await reserve_sweep(self.service.gate, sweep.cells, todo, ceilings)
        lane = None
        if sweep.plan is not None and sweep.plan.judges and sweep.grade is None:
            lane = JudgeLane(self.service, sweep, refresh=refresh, max_cost=max_cost,
                             in_flight=sum(ceilings.values()))
            try:
                await lane.hold(self.service.gate, [(c.user_id, c.provider, i, c.max_completion)
                                                    for i, c in enumerate(sweep.cells)])
            except BaseException:
                for hold in holds.values():
                    hold.release()
                raise
        await self._run(sweep, todo, ceilings, holds, started, concurrency=concurrency,
                        rpm=rpm, tpm=tpm, max_cost=max_cost, progress=progress, logged=logged,
                        grade=grade, on_delta=on_delta, lane=lane)
        return sweep

    async def judge(self, sweep: Sweep, *, concurrency: int, rpm: float | None,
                    tpm: float | None, max_cost: float | None,
                    progress: ProgressFactory | None) -> None:
        """Ask the plan's judges about the sweep's finished cells (scoring again): nothing but
        the judge calls the log lacks is sent; the sweep's own row is left as it is."""
        lane = JudgeLane(self.service, sweep, refresh=False, max_cost=max_cost, in_flight=0.0,
                         judge_only=True)
        done = [(i, r) for i, r in enumerate(sweep.results) if r is not None]
        await lane.hold(self.service.gate, [(r.user_id, r.provider, i,
                                             r.metrics.completion_tokens or 0)
                                            for i, r in done])
        status = sweep.status
        try:
            await self._run(sweep, [], {}, {}, time.perf_counter(), concurrency=concurrency,
                            rpm=rpm, tpm=tpm, max_cost=max_cost, progress=progress, logged=[],
                            grade=None, lane=lane)
        finally:
            sweep.status = "budget" if lane.missed else status

    async def _run(self, sweep: Sweep, todo: list[int], ceilings: dict[int, float],
                   holds: dict[str, Hold], started: float, *, concurrency: int,
                   rpm: float | None,
                   tpm: float | None, max_cost: float | None,
                   progress: ProgressFactory | None, logged: list[tuple[int, Outcome]],
                   grade: Grader | None,
                   on_delta: Callable[[int], DeltaCallback] | None = None,
                   lane: JudgeLane | None = None) -> Sweep:
        """Each worker takes a judge call waiting (lane) before the next cell. `logged` are
        the cells taken from the log, (index, outcome), to be graded with the first batch."""
        cell_of: dict[str, int] = {}  # experiment id -> cell index, for settling the hold
        ungraded: list[tuple[int, Outcome]] = []  # the cells put since the last batch was cut

        def record(batch: list[Outcome], state: tuple[list[dict[str, Any]], list[Any],
                                                      list[tuple[int, Outcome]]]) -> None:
            rows, loose, cells = state
            if grade is not None and cells:  # on the writer's thread, before the transaction
                grade_batch(sweep, grade, cells)
            self.service.record(batch, sweep=rows, scores=loose)
            if lane is not None:
                lane.settle(batch)
            if holds:  # booked now: hold only what is still to come
                done = [cell_of[o.experiment.id] for o in batch if o.experiment.id in cell_of]
                for provider, part in by_provider(sweep.cells, done).items():
                    holds[provider].settle(
                        sum(ceilings[i] for i in part),
                        sum(sweep.cells[i].prompt_tokens + sweep.cells[i].max_completion
                            for i in part))

        providers = {sweep.cells[i].provider for i in todo}
        if lane is not None:  # a judge with no provider of its own runs on its cell's
            providers |= lane.providers()
        # The local model answers one request at a time (one KV cache): its cells take turns,
        # while the other providers' cells go on beside them.
        serial = {p: asyncio.Semaphore(1) for p in providers & {"local"}}
        calls = len(todo) + (lane.most() if lane is not None else 0)
        workers = 1 if providers == {"local"} else max(1, min(concurrency, calls or 1))
        note = "local model: one cell at a time" if workers == 1 and serial else \
            f"{workers} at a time" + (" (the local model one at a time)" if serial else "")
        def snapshot() -> tuple[list[dict[str, Any]], list[Any], list[tuple[int, Outcome]]]:
            """Taken as a batch is cut: the cells to grade are exactly the batch's."""
            nonlocal ungraded
            cells, ungraded = ungraded, []
            if lane is None:
                return [self._row(sweep)], [], cells
            judged = [self._row(lane.judges)] if lane.judges.cells else []
            if lane.judge_only:  # scored again: the sweep's row is left as it is, but its
                own = [{"id": sweep.id, "status": "budget"}] if lane.missed else []  # status
                return [*own, *judged], lane.loose_scores(), cells
            return [self._row(sweep), *judged], lane.loose_scores(), cells

        writer = BatchWriter(record, snapshot=snapshot)
        # Each provider's own buckets: rpm/tpm (and the user's plan rpm, for a billed one)
        # limit each provider, and one's 429s or headers never slow another.
        limiters = {p: self.service.limiters.new(
            _tighter(rpm, holds[p].rpm if p in holds else None), tpm) for p in providers}
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in todo:
            queue.put_nowait(i)
        for i, outcome in logged:
            writer.put(outcome)
            ungraded.append((i, outcome))
        if lane is not None:
            lane.writer = writer
            lane.from_log([(i, exp) for i, exp in enumerate(sweep.results) if exp is not None])
        over_budget = False
        bar = None

        def judges_spent() -> float:
            return lane.judges.spent if lane is not None else 0.0

        async def worker() -> None:
            nonlocal over_budget
            while True:
                job = lane.next() if lane is not None else None
                if job is not None:
                    if queue.empty() and lane.exhausted():  # type: ignore[union-attr]
                        writer.ending()  # the last call that can come: write what is done
                    async with serial.get(job.cell.provider) or contextlib.nullcontext():
                        await lane.send(job, limiters[job.cell.provider])  # type: ignore[union-attr]
                    continue
                if queue.empty():
                    if lane is not None and await lane.wait():
                        continue
                    return
                if max_cost is not None and sweep.spent + judges_spent() >= max_cost:
                    over_budget = True
                    return
                i = queue.get_nowait()
                if queue.empty():
                    writer.ending()
                await cell_of_queue(i)

        async def cell_of_queue(i: int) -> None:
            cell = sweep.cells[i]
            partial = None if on_delta is None else Partial(on_delta(i))
            exp = None
            if lane is not None:
                lane.taken()
            try:
                try:
                    async with serial.get(cell.provider) or contextlib.nullcontext():
                        outcome: Outcome = await self.service.execute(
                            cell, on_delta=partial, limiter=limiters[cell.provider])
                except asyncio.CancelledError:
                    if partial is not None:  # Stop: the answer so far is a 'stopped' row
                        sweep.results[i] = gone = stopped(self.service, cell, partial)
                        writer.put(Outcome(gone, [], cell.images))
                    raise
                cell_of[outcome.experiment.id] = i
                sweep.results[i] = exp = outcome.experiment
                sweep.spent += outcome.experiment.metrics.cost_estimate or 0.0
                if grade is not None:  # graded as its batch is written (grade_batch)
                    ungraded.append((i, outcome))
            finally:  # its judge calls queued (their error scores given) before it is put
                if lane is not None:
                    lane.answered(i, exp, ceilings[i])
            writer.put(outcome)
            if bar is not None:
                bar(outcome.experiment)

        async with young_generations_only():
            try:
                judging = lane is not None and lane.judge_only
                bar = progress(sweep, len(todo), note) if progress and not judging else None
                if lane is not None and progress:
                    lane.bar = progress(lane.judges, lane.most(), f"judges, {note}")
                sweep.status = "running"  # the sweeps row is written with each batch of cells
                writer.start()
                await asyncio.gather(*(worker() for _ in range(workers)))
                sweep.status = "budget" if over_budget or (lane and lane.missed) else "done"
            except asyncio.CancelledError:
                sweep.status = "interrupted"
                raise
            finally:
                sweep.wall_time_s = time.perf_counter() - started
                if lane is not None:
                    lane.judges.status = sweep.status
                await asyncio.shield(self._finish(sweep, writer, bar, holds, lane))
        if over_budget:
            err = BudgetExceeded(
                f"max_cost={usd(max_cost)} reached: spent {usd(sweep.spent)}, "
                f"{len(sweep) - sweep.count('all')} cells not run; re-run the same call with a "
                "higher max_cost to finish it (done cells are kept)",
                spent=sweep.spent, limit=max_cost or 0.0, needed=0.0)
            err.sweep = sweep  # type: ignore[attr-defined]
            raise err
        judged = None if lane is None else lane.budget_error()
        if judged is not None:
            raise judged
        return sweep

    async def _finish(self, sweep: Sweep, writer: BatchWriter, bar: Any,
                      holds: dict[str, Hold] | None = None, lane: JudgeLane | None = None
                      ) -> None:
        try:
            await writer.close()  # the last cells and the sweep's final row, one transaction
        finally:
            for hold in (holds or {}).values():  # only now: everything spent is booked
                hold.release()
            if lane is not None:
                await lane.close()
                sweep.spent += lane.judges.spent  # the sweep's row: its cells' spend
        self.service.bus.publish(SweepProgressed(
            sweep_id=sweep.id, done=sweep.count("ok"), failed=sweep.count("failed"),
            cached=sweep.count("cached"), total=len(sweep), spent=sweep.spent))
        for shown in (bar, lane and lane.bar):
            close = getattr(shown, "close", None)
            if callable(close):
                close()

    def _row(self, sweep: Sweep) -> dict[str, Any]:
        user = sweep.cells[0].user_id if sweep.cells else ""
        return {"id": sweep.id, "user_id": user, "spec": sweep.spec, "status": sweep.status,
                "total": len(sweep), "done": sweep.count("ok"), "failed": sweep.count("failed"),
                "cached": sweep.count("cached"), "spent": sweep.spent, "updated_at": utcnow()}


def _tighter(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)

