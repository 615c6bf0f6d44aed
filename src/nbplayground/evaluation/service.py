"""ScoringPlan: the scorers of one sweep, checked before any request, applied to finished cells."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from nbplayground.evaluation import wordnet
from nbplayground.evaluation.embeddings import CachedEmbedder
from nbplayground.evaluation.judges import ModelGrader
from nbplayground.evaluation.ports import Embedder
from nbplayground.evaluation.python_check import Python
from nbplayground.evaluation.score import Grade, InvalidScorer, Score
from nbplayground.evaluation.scorers import Scorer, Similarity
from nbplayground.evaluation.templates import Answer

if TYPE_CHECKING:
    import pandas as pd

    from nbplayground.domain import Experiment

_new = tuple.__new__
"""A Score from its fields in order, without NamedTuple's keyword-handling __new__."""

SCORE_COLUMNS = ["experiment_id", "sweep_id", "scorer", "kind", "score", "passed", "reason",
                 "judge_experiment_id"]


def as_scorers(scorers: Any) -> list[Scorer]:
    """scorers= as a list of Scorers (a bare function is s.python(fn)); names must differ."""
    if scorers is None:
        return []
    items = [scorers] if isinstance(scorers, Scorer) or callable(scorers) else scorers
    if not isinstance(items, list | tuple):
        raise InvalidScorer("scorers must be a list such as [s.exact('{capital}')], "
                            f"not {type(scorers).__name__}")
    out: list[Scorer] = []
    for item in items:
        if isinstance(item, Scorer):
            out.append(item)
        elif callable(item):
            out.append(Python(name=getattr(item, "__name__", "python"), fn=item))
        else:
            raise InvalidScorer(f"each scorer must come from nbplayground.scorers (e.g. "
                                f"s.contains('{{capital}}')) or be a function; not {item!r}")
    names = [s.name for s in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InvalidScorer(f"two scorers are named {', '.join(map(repr, twice))}; give each "
                            "a distinct name=")
    return out


class ScoringPlan:
    """Scorers bound to a sweep's vars rows (cell index → row); deterministic ones grade each cell,
    judges become requests of their own (see judge_prompt / judged)."""

    def __init__(self, scorers: Any, rows: Sequence[Mapping[str, Any] | None] = (), *,
                 embedder: Embedder | None = None) -> None:
        self.scorers = as_scorers(scorers)
        self.rows = list(rows)
        columns = set().union(*(r.keys() for r in self.rows if r)) if self.rows else set()
        for scorer in self.scorers:
            missing = sorted(scorer.columns() - columns)
            if missing:
                have = ", ".join(sorted(map(str, columns))) or "no vars (pass vars=)"
                raise InvalidScorer(
                    f"scorer {scorer.name!r} reads {', '.join(missing)}, which vars lacks "
                    f"(it has {have}); fix the reference or add the column")
        self.deterministic = [s for s in self.scorers if not s.is_judge]
        self.judges: list[ModelGrader] = [s for s in self.scorers
                                          if isinstance(s, ModelGrader)]
        self.embedder = embedder
        similar = [s for s in self.deterministic if isinstance(s, Similarity)]
        self._embeds = embedder is not None and any(s.embeds for s in similar)
        self._meteor = any(s.metric == "meteor" for s in similar)
        # Each scorer's grade with its settings (and metric function) bound, once.
        self._graders: list[tuple[str, str, Callable[[Answer], Grade]]] = [
            (s.name, s.kind, s.grader(embedder)) for s in self.deterministic]

    @staticmethod
    def embeds(scorers: Any) -> bool:
        """True when some scorer needs embeddings (cosine): the plan then wants an embedder."""
        return any(isinstance(s, Similarity) and s.embeds for s in as_scorers(scorers))

    @property
    def blocking(self) -> bool:
        """Grading may wait on an embeddings call, or on loading WordNet (seconds, once per
        process) for meteor: run it off the event loop. (Asked at each cell: what it reads of
        the scorers is found once.)"""
        return self._embeds or (self._meteor and not wordnet.loaded())

    def prefetch(self, cells: Iterable[tuple[int, Experiment]]) -> None:
        """Embed every answer and reference the cosine scorers of these cells need, in one
        call for what the log lacks (rescoring a sweep: not one call per cell)."""
        embedder = self.embedder
        if not isinstance(embedder, CachedEmbedder) or not any(
                isinstance(s, Similarity) and s.embeds for s in self.deterministic):
            return
        texts: list[str] = []
        for i, exp in cells:
            answer = self.answer(i, exp)
            if not answer.ok:
                continue
            for s in self.deterministic:
                if isinstance(s, Similarity) and s.embeds:
                    try:
                        texts += [answer.text.strip(), s.reference_text(answer) or ""]
                    except ValueError:  # {answer.field} of a non-JSON answer: its own score
                        continue
        # A fault here is met again by each cell, which then scores it an error.
        with contextlib.suppress(Exception):
            embedder.prefetch([t.strip() for t in texts])

    def __bool__(self) -> bool:
        return bool(self.scorers)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scorers]

    def answer(self, index: int, exp: Experiment) -> Answer:
        row = self.rows[index] if index < len(self.rows) else None
        m = exp.metrics
        made = getattr(exp, "tool_calls", ())
        calls = tuple({"id": c.id, "name": c.name, "arguments": c.arguments}
                      for c in made) if made else ()
        return Answer(exp.response, row or {}, cost=m.cost_estimate,
                      latency_ms=m.generation_time_ms, ok=exp.status == "ok", error=exp.error,
                      tool_calls=calls)

    def score(self, index: int, exp: Experiment, sweep_id: str | None = None) -> list[Score]:
        """The deterministic scores of one finished cell. A scorer that raises gives an error
        score with its message; a failed call fails every scorer."""
        if not self._graders:
            return []
        answer = self.answer(index, exp)
        eid = exp.id
        if not answer.ok:
            return self.errors(eid, f"the call failed: {answer.error}", sweep_id)
        out: list[Score] = []
        for name, kind, grade in self._graders:  # 4 scorers × 10,000 cells: kept lean
            try:
                score, passed, reason = grade(answer)
            except Exception as e:  # one cell's bad data must not stop the sweep
                score, passed, reason = None, False, f"{type(e).__name__}: {e}"
            out.append(_new(Score, (eid, name, kind, score, passed, reason, None, sweep_id)))
        return out

    def errors(self, experiment_id: str, why: str, sweep_id: str | None = None) -> list[Score]:
        """Every deterministic scorer's error score for one cell that could not be graded."""
        return [Score(experiment_id, name, kind, None, False, why, None, sweep_id)
                for name, kind, _ in self._graders]

    def judge_prompt(self, judge: ModelGrader, index: int, exp: Experiment
                     ) -> str | list[dict[str, Any]] | Grade:
        """The judge's prompt for this cell, or the error score when it cannot be asked."""
        answer = self.answer(index, exp)
        if not answer.ok:
            return Grade(None, False, f"the call failed: {answer.error}")
        try:
            return judge.request_prompt(answer)
        except Exception as e:
            return Grade(None, False, f"{type(e).__name__}: {e}")

    @staticmethod
    def judged(judge: ModelGrader, exp: Experiment, verdict: Experiment | Grade,
               sweep_id: str | None = None) -> Score:
        """The score of `exp` from the judge's experiment `verdict` (or an error grade)."""
        if isinstance(verdict, Grade):
            return Score(exp.id, judge.name, judge.kind, verdict.score, verdict.passed,
                         verdict.reason, None, sweep_id)
        parsed = verdict.parsed
        if isinstance(parsed, BaseModel):
            parsed = parsed.model_dump()
        grade = (judge.read(parsed) if verdict.status == "ok"
                 else Grade(None, False, f"the judge's call failed: {verdict.error}"))
        return Score(exp.id, judge.name, judge.kind, grade.score, grade.passed, grade.reason,
                     verdict.id, sweep_id)


def scores_frame(scores: Iterable[Score]) -> pd.DataFrame:
    """The long form: one row per (experiment, scorer)."""
    import pandas as pd

    items = list(scores)
    # Scores are tuples: transposed in C (40,000 of a sweep in a few ms, not a getattr each)
    columns = dict(zip(Score._fields, map(list, zip(*items, strict=True)), strict=True)) \
        if items else {name: [] for name in SCORE_COLUMNS}
    df = pd.DataFrame(columns, columns=SCORE_COLUMNS)
    df["score"] = df["score"].astype("float64")
    df["passed"] = df["passed"].astype("bool")
    return df


def widen(frame: pd.DataFrame, scores: pd.DataFrame, names: Sequence[str],
          weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """`frame` (with experiment_id) plus a column per scorer and `passed` (every scorer
    passed), and `weighted_score` when some scorer has a weight other than 1."""
    if not names:
        return frame
    out = frame.copy()
    if scores.empty:
        for n in names:
            out[n] = float("nan")
        out["passed"] = False
        return out
    wide = scores.pivot_table(index="experiment_id", columns="scorer", values="score",
                              aggfunc="last", dropna=False)
    passed = scores.groupby("experiment_id")["passed"].all()
    for n in names:
        out[n] = out["experiment_id"].map(wide[n]) if n in wide else float("nan")
    counted = scores.groupby("experiment_id")["scorer"].nunique()
    complete = out["experiment_id"].map(counted).fillna(0) >= len(names)
    out["passed"] = out["experiment_id"].map(passed).fillna(False).astype(bool) & complete
    if weights and any(w != 1.0 for w in weights.values()):
        total = sum(weights.get(n, 1.0) for n in names)
        filled = sum(out[n].fillna(0.0) * weights.get(n, 1.0) for n in names)
        out["weighted_score"] = filled / total if total else float("nan")
    return out
