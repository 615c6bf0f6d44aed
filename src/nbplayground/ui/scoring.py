"""The panel's scores: each finished run graded by pg.panel(scorers=[...]) — the same Scorer
objects a sweep takes; deterministic ones inline, a judge's verdict as a run of its own."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from nbplayground.analytics.format import format_ms
from nbplayground.domain.money import usd
from nbplayground.evaluation import Score, ScoringPlan
from nbplayground.ui.streaming import LatestOnly

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbplayground.results import Experiment
    from nbplayground.ui.ports import Facade
    from nbplayground.ui.streaming import Slot

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
        """The run's badges, in the order the scorers were given. With `judges` (a run of this
        panel) it is pg.score: the scores are logged and a judge is a request through the
        sweep engine (cached, priced, role='judge'). Without (History rows scored afresh),
        only what needs no request, in memory: a judge's badge is left out."""
        seen = self.known(exp.id)
        if seen is not None:
            return seen
        if judges:
            try:
                frame = self._pg.score([exp.id], self.plan.scorers, progress=False)
            except Exception as e:  # scoring's own fault is each badge's reason, not the run's
                why = str(e) or type(e).__name__
                return [badge(Score(exp.id, sc.name, sc.kind, None, False, why))
                        for sc in self.plan.scorers]
            scores = {str(r.scorer): Score(exp.id, str(r.scorer), str(r.kind),
                                           None if r.score != r.score else float(r.score),
                                           bool(r.passed),
                                           r.reason if isinstance(r.reason, str) else None)
                      for r in frame.itertuples()}
        else:
            scores = {sc.scorer: sc for sc in self.plan.score(0, exp)}
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


def history_job(pg: Facade, scorer: PanelScorer, wanted: dict[str, str],
                show: Callable[[list[dict[str, Any]]], None],
                fail: Callable[[Exception], None]) -> Callable[[], None]:
    """The background job that reads the History table and shows it (or says what failed)."""
    def job() -> None:
        try:
            rows = history_view(pg, scorer, wanted)
        except Exception as e:
            fail(e)
            return
        show(rows)

    return job
