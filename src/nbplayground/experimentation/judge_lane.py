"""Judges in the sweep's own flight: each answer's judge calls join the queue as it comes in.

The sweep's workers take a waiting judge call before the next cell, so verdicts follow their
answers through the same concurrency, rate limits and the local model's turn, and the sweep ends
once (no second pass of N judge calls after N cells). A judge call is a cell of the sweep
`<sweep id>-judges`: looked up in the log first (CacheProbe), priced, held to what is left of
max_cost (its ceiling, beside the ceilings of every call still in flight) and to the user's
budget (a hold taken when the sweep starts), and logged with its verdict in the same batch and
transaction as the cells written with it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbplayground.domain.money import usd
from nbplayground.errors import BudgetExceeded, NbPlaygroundError
from nbplayground.evaluation import Grade, ModelGrader, Score
from nbplayground.experimentation.cache_probe import CacheProbe
from nbplayground.experimentation.judge_cells import JudgeCells

if TYPE_CHECKING:
    from nbplayground.domain import Experiment
    from nbplayground.experimentation.cell import Cell
    from nbplayground.experimentation.ports import Gate, Hold, Throttle
    from nbplayground.experimentation.service import ExperimentService, Outcome
    from nbplayground.experimentation.sweep_result import Sweep
    from nbplayground.experimentation.writer import BatchWriter


@dataclass
class Job:
    index: int
    """The call's index in the judges' sweep."""
    cell: Cell
    ceiling: float


class JudgeLane:
    def __init__(self, service: ExperimentService, sweep: Sweep, *, refresh: bool,
                 max_cost: float | None, in_flight: float, judge_only: bool = False) -> None:
        """`in_flight`: ceilings of the cells not answered yet; `judge_only`: no cell is sent."""
        from nbplayground.experimentation.sweep_result import Sweep

        assert sweep.plan is not None
        self.service, self.sweep, self.plan = service, sweep, sweep.plan
        jid = f"{sweep.id}-judges"
        self.judges = Sweep(id=jid, cells=[], status="running", spec={
            "judges_of": sweep.id, "judges": [j.name for j in self.plan.judges]})
        self.asked: list[tuple[ModelGrader, Experiment]] = []
        self.max_cost, self.in_flight, self.judge_only = max_cost, in_flight, judge_only
        self.probe = None if refresh else CacheProbe(service.repository.find_cached)
        self.writer: BatchWriter | None = None
        self.bar: Any = None
        self.refused: str | None = None
        """Why no judge call is sent (the budget refused their hold), if so."""
        self.holds: dict[str, Hold] = {}
        self.missed = 0
        self.calls = 0
        """Judge calls wanted: made, or not sent (max_cost, the budget)."""
        self._ceilings: dict[str, tuple[str, float]] = {}  # sent call -> its hold's share
        self._made = JudgeCells(service, jid)
        self._jobs: deque[Job] = deque()
        self._open = 0  # cells not answered yet, and lookups not back yet
        self._loose: list[Score] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def providers(self) -> set[str]:
        """Where the judge calls go: a judge's own provider, else its cell's."""
        cells = {c.provider for c in self.sweep.cells} | {
            r.provider for r in self.sweep.results if r is not None}
        return {j.provider or p for j in self.plan.judges for p in cells}

    def most(self) -> int:
        """The judge calls there may be: one per judge and cell."""
        return len(self.sweep.results) * len(self.plan.judges)

    # -- the workers' side --

    def taken(self) -> None:
        """A cell was taken: its judge calls may come."""
        self._open += 1

    def from_log(self, answers: list[tuple[int, Experiment]]) -> None:
        """Answers already logged (cells from the log, a sweep scored again): their judge
        calls, made now and looked up in the log together (one task, one lookup)."""
        self._look_up([job for i, exp in answers for job in self._jobs_of(i, exp)])

    def next(self) -> Job | None:
        return self._jobs.popleft() if self._jobs else None

    def exhausted(self) -> bool:
        """No judge call waits, and none can come of the cells taken (nor of lookups)."""
        return not self._jobs and not self._open

    async def wait(self) -> bool:
        """Until a judge call waits (True) or none can come any more (False)."""
        while not self._jobs:
            if not self._open:
                return False
            if self.probe is not None:
                self.probe.hurry()  # a worker idles: look up now
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            await fut
        return True

    def answered(self, index: int, exp: Experiment | None, ceiling: float) -> None:
        """Cell `index`, taken, is done (`exp` None: it was never answered); its judge calls
        are made, or their error scores (a failed call, a field the answer lacks) given."""
        self.in_flight -= ceiling
        try:
            if exp is not None:
                self._ask(index, exp)
        finally:
            self._open -= 1
            self._wake()

    def _ask(self, index: int, exp: Experiment) -> None:
        self._look_up(self._jobs_of(index, exp))

    def _jobs_of(self, index: int, exp: Experiment) -> list[Job]:
        jobs: list[Job] = []
        for judge in self.plan.judges:
            prompt = self.plan.judge_prompt(judge, index, exp)
            if isinstance(prompt, Grade):
                self._score(judge, exp, prompt)
                continue
            if self.refused is not None:
                self.calls += 1
                self.missed += 1
                self._score(judge, exp, Grade(None, False, self.refused))
                continue
            try:  # this row's filled input may still be refused (an image URL that is no image)
                cell = self._made.cell(judge, prompt, exp.user_id, exp.provider,
                                       len(self.judges.cells))
            except NbPlaygroundError as e:
                self._score(judge, exp, Grade(None, False, str(e)))
                continue
            self.calls += 1
            j = len(self.judges.cells)
            self.judges.cells.append(cell)  # made in the judges' sweep
            self.judges.results.append(None)
            self.asked.append((judge, exp))
            jobs.append(Job(j, cell, self.service.max_cost(cell) or 0.0))
        return jobs

    def _look_up(self, jobs: list[Job]) -> None:
        if not jobs:
            return
        if self.probe is None:
            self._admit(jobs, {})
            return
        self._open += 1
        task = asyncio.get_running_loop().create_task(self._looked_up(jobs))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _looked_up(self, jobs: list[Job]) -> None:
        assert self.probe is not None
        try:
            found = await self.probe.find([job.cell.cache_key for job in jobs])
            self._admit(jobs, found)
        finally:
            self._open -= 1
            self._wake()

    def _admit(self, jobs: list[Job], cached: dict[str, Experiment]) -> None:
        for job in jobs:
            hit = cached.get(job.cell.cache_key)
            if hit is not None:  # the verdict is in the log: nothing is sent
                from nbplayground.experimentation.service import Outcome

                self._done(job, Outcome(hit.model_copy(
                    update={"cached": True, **job.cell.prompt_tags})))
                continue
            spent = self.sweep.spent + self.judges.spent
            if self.max_cost is not None and \
                    spent + self.in_flight + job.ceiling > self.max_cost:
                judge, exp = self.asked[job.index]
                self._score(judge, exp, Grade(None, False, "not judged: max_cost="
                                              f"{usd(self.max_cost)} was reached"))
                self.missed += 1
                continue
            self.in_flight += job.ceiling
            self._jobs.append(job)

    async def send(self, job: Job, limiter: Throttle | None) -> None:
        outcome = await self.service.execute(job.cell, limiter=limiter)
        if self.holds:  # settled once booked (settle)
            self._ceilings[outcome.experiment.id] = (job.cell.provider, job.ceiling)
        self.in_flight -= job.ceiling
        self.judges.spent += outcome.experiment.metrics.cost_estimate or 0.0
        self._done(job, outcome)

    def _done(self, job: Job, outcome: Outcome) -> None:
        judge, exp = self.asked[job.index]
        self.judges.results[job.index] = outcome.experiment
        outcome.scores = [self.plan.judged(judge, exp, outcome.experiment, self.sweep.id)]
        self.sweep.scored += outcome.scores
        self.judges.scored += outcome.scores
        if self.writer is not None:
            self.writer.put(outcome)
        if self.bar is not None:
            self.bar(outcome.experiment)

    def _score(self, judge: ModelGrader, exp: Experiment, grade: Grade) -> None:
        """An error score, written with the next batch (never before its cell's)."""
        score = self.plan.judged(judge, exp, grade, self.sweep.id)
        self.sweep.scored.append(score)
        self._loose.append(score)
        if self.bar is not None:
            self.bar(None)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def hold(self, gate: Gate | None, cells: list[tuple[str, str, int, int]]) -> None:
        """Hold the judge calls' ceilings of these cells (user, provider, index, answer
        tokens) in the budget, per judge provider, for the sweep's flight; refused, no judge
        call is sent (each gets an error score) while the cells go on. A judge's prompt is
        priced with an answer of that many tokens (the longest its cell may give, when it is
        not known yet)."""
        from nbplayground.experimentation.holds import reserve

        if gate is None or not cells:
            return
        judged = {j.provider or p for j in self.plan.judges for p in {c[1] for c in cells}}
        user = cells[0][0]
        if not any(await asyncio.to_thread(lambda: [gate.limited(user, p) for p in judged])):
            return  # no limit is set: nothing to price ahead
        need: dict[str, list[float]] = {}  # provider -> [usd, tokens]
        for _, provider, i, answer_tokens in cells:
            row = self.plan.rows[i] if i < len(self.plan.rows) else None
            for judge in self.plan.judges:
                try:
                    jc = self._made.longest(judge, row or {}, user, provider, answer_tokens)
                except NbPlaygroundError:  # a row's bad image: its score says so
                    jc = self._made.longest(judge, None, user, provider, answer_tokens)
                got = need.setdefault(jc.provider, [0.0, 0])
                got[0] += self.service.max_cost(jc) or 0.0
                got[1] += jc.prompt_tokens + jc.max_completion
        try:
            for provider, (money, tokens) in need.items():
                self.holds[provider] = await reserve(
                    gate, user, money, tokens=int(tokens), provider=provider,
                    what=f"this sweep's judge calls ({len(cells) * len(self.plan.judges)})")
        except BudgetExceeded:
            for hold in self.holds.values():
                hold.release()
            self.holds = {}
            self.refused = "not judged: the budget was reached"

    # -- the writer's side --

    def loose_scores(self) -> list[Score]:
        """The error scores given since the last batch was cut (they go with it)."""
        scores, self._loose = self._loose, []
        return scores

    def settle(self, batch: list[Outcome]) -> None:
        """The judge calls of a batch are booked: their holds hold only what is still to come
        (on the writer's thread, as the cells' settling)."""
        if not self.holds:
            return
        for o in batch:
            provider, ceiling = self._ceilings.pop(o.experiment.id, ("", 0.0))
            hold = self.holds.get(provider)
            if hold is not None:
                hold.settle(ceiling, 0)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.probe is not None:
            await self.probe.close()
        for hold in self.holds.values():
            hold.release()

    def budget_error(self) -> BudgetExceeded | None:
        """What the sweep raises when some judge calls were not sent, with how to finish."""
        if not self.missed:
            return None
        why = self.refused or (f"they could cost more than what is left of max_cost="
                               f"{usd(self.max_cost)}" if self.max_cost is not None else "")
        err = BudgetExceeded(
            f"{self.missed} of {self.calls} judge calls were not sent: "
            f"{why} — the cells and the scores so far are logged; raise max_cost and score "
            "again with pg.score(sw, scorers=[...]) (verdicts already given come from the log)",
            spent=self.sweep.spent, limit=self.max_cost or 0.0, needed=0.0)
        err.sweep = self.sweep  # type: ignore[attr-defined]
        return err
