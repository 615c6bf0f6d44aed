"""The panel's scores: each finished run graded by pg.panel(scorers=[...]) — the same Scorer
objects a sweep takes; deterministic ones inline, a judge's verdict as a run of its own."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from nbplayground.analytics.format import format_ms
from nbplayground.domain.money import usd
from nbplayground.evaluation import Grade, Score, ScoringPlan
from nbplayground.ui.streaming import LatestOnly

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbplayground.results import Experiment
    from nbplayground.ui.ports import Facade
    from nbplayground.ui.streaming import Slot

JUDGE_WAIT_S = 300.0
"""How long a judge's verdict may take before its badge says so (the run itself is done)."""


def badge(score: Score) -> dict[str, Any]:
    """A score as the panel shows it: name, value (None when it could not score), passed, why."""
    value = None if score.score is None else float(score.score)
    if value is None or (value in (0.0, 1.0) and score.kind not in ("cost", "latency")):
        shown = ""  # a pass/fail check: the tick says it all
    elif score.kind == "cost":
        shown = usd(value)
    elif score.kind == "latency":
        shown = format_ms(value)
    else:
        shown = f"{value:.2f}"
    return {"name": score.scorer, "kind": score.kind, "score": value, "passed": score.passed,
            "reason": score.reason or "", "shown": shown}


def passed(badges: list[dict[str, Any]] | None) -> bool | None:
    """Every score passed; None when nothing scored the run."""
    return None if not badges else all(b["passed"] for b in badges)


class PanelScorer:
    """Grades one run at a time and remembers each run's badges (History shows them again)."""

    def __init__(self, pg: Facade, scorers: Any) -> None:
        # The panel has no vars: a scorer that reads a column is refused here, in plain words.
        self.plan = ScoringPlan(scorers)
        self._pg = pg
        self._known: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.jobs = LatestOnly()
        """Scoring runs here, not with the estimates: a judge's request takes its time."""

    def __bool__(self) -> bool:
        return bool(self.plan)

    @property
    def names(self) -> list[str]:
        return self.plan.names

    def known(self, experiment_id: str) -> list[dict[str, Any]] | None:
        with self._lock:
            return self._known.get(experiment_id)

    def score(self, exp: Experiment, *, judges: bool = True) -> list[dict[str, Any]]:
        """The run's badges, in the order the scorers were given. Without `judges` (History
        rows scored afresh), a judge's badge is left out rather than a request sent."""
        seen = self.known(exp.id)
        if seen is not None:
            return seen
        scores = {s.scorer: s for s in self.plan.score(0, exp)}
        if judges:
            for judge in self.plan.judges:
                scores[judge.name] = self._judged(judge, exp)
        out = [badge(scores[n]) for n in self.names if n in scores]
        if judges or not self.plan.judges:
            with self._lock:
                self._known[exp.id] = out
        return out

    def then(self, slot: Slot, show: Callable[[], None]) -> Callable[[Experiment], None] | None:
        """What follows a finished run into `slot`: its scores, as a background job (a judge
        is a request); None without scorers."""
        if not self:
            return None

        def score(exp: Experiment) -> None:
            def job() -> None:
                slot.scores = self.score(exp)
                show()

            self.jobs.submit(f"score {exp.id}", job)

        return score

    def _judged(self, judge: Any, exp: Experiment) -> Score:
        from nbplayground.experimentation.scoring import JUDGE_DEFAULTS

        prompt = self.plan.judge_prompt(judge, 0, exp)
        if isinstance(prompt, Grade):
            return self.plan.judged(judge, exp, prompt)
        try:
            verdict = self._pg.submit(prompt, judge.model, provider=judge.provider or exp.provider,
                                      system=judge.system,
                                      **(JUDGE_DEFAULTS | judge.params)).result(JUDGE_WAIT_S)
        except Exception as e:  # the judge's own fault is its badge, never the panel's error
            return self.plan.judged(judge, exp, Grade(None, False, f"the judge's call: {e}"))
        return self.plan.judged(judge, exp, verdict)


HISTORY_ROWS = 50


def history_view(pg: Facade, scorer: PanelScorer, wanted: dict[str, str]) -> list[dict[str, Any]]:
    """The History table: the log's newest runs matching the search and model, each with its
    badges when the panel has scorers, and only the passed (or failed) ones when asked."""
    from nbplayground.ui import state

    verdict = wanted.get("passed") or ""
    frame = pg.history(limit=HISTORY_ROWS * (4 if verdict and scorer else 1),
                       search=wanted.get("search") or None, model=wanted.get("model") or None)
    rows = state.history_rows(frame)
    if not scorer:
        return rows
    for row in rows:
        badges = scorer.known(row["id"])
        if badges is None:  # a run from before this panel: its scores, but no judge is asked
            badges = scorer.score(pg.get(row["id"]), judges=False)
        row["scores"], row["passed"] = badges, passed(badges)
    if verdict in ("passed", "failed"):
        rows = [r for r in rows if r["passed"] is (verdict == "passed")]
    return rows[:HISTORY_ROWS]
