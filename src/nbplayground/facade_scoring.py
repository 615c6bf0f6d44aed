"""The facade's pg.score: scoring finished experiments afterwards, sending only new judge calls."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from nbplayground import aio
from nbplayground.errors import InvalidInput

if TYPE_CHECKING:
    from nbplayground.domain import Experiment
    from nbplayground.experimentation.sweep import Sweep

Sweeps = Any
"""The facade's sweeps collaborator (facade_sweeps.Sweeps: service, user), a layer above."""


def score(sweeps: Sweeps, target: Any, scorers: Any, *, vars: Any = None,
          concurrency: int = 8, rpm: float | None = None, tpm: float | None = None,
          max_cost: float | None = None, progress: bool = True) -> Any:
    """Score `target` (a Sweep, a sweep id, or experiments / their ids) with `scorers`.

    Nothing is sent again but judge calls the log does not have: a verdict given before (same
    judge, same answer) comes from the log's cache. The scores are logged, replacing earlier
    ones of the same scorer. A Sweep gives back a new Sweep (its scores() and to_pandas() hold
    these scorers); anything else gives back the scores' DataFrame.
    """
    from nbplayground.evaluation import InvalidScorer, ScoringPlan, as_scorers
    from nbplayground.experimentation.collector import automatic_collection_paused
    from nbplayground.experimentation.scoring import check_judges, rescore
    from nbplayground.experimentation.sweep import Sweep, SweepRunner
    from nbplayground.progress import SweepProgress

    check_limits(concurrency, rpm, tpm, max_cost)
    if not as_scorers(scorers):
        raise InvalidScorer("score() needs scorers=[...], e.g. scorers=[s.contains('{capital}')]")
    if isinstance(target, Sweep):
        if vars is not None:
            raise InvalidInput("vars= is for experiments; a Sweep scores with its own vars")
        sweep, rows = target, list(target.plan.rows) if target.plan is not None else []
    else:
        exps, sid = _experiments(sweeps, target)
        rows = _rows(vars, len(exps))
        sweep = Sweep(id=sid, cells=[], results=list(exps), spec={"scored": len(exps)})
    done = sweep.experiments
    if not done:
        raise InvalidInput(f"sweep {sweep.id} has no finished cells to score; run it first")
    # references checked against vars before any request; cosine embeds with the cells' provider
    plan = ScoringPlan(scorers, rows, embedder=sweeps.embedder(scorers, done[0].provider))
    check_judges(sweeps.service, plan, done[0].user_id, done[0].provider)
    runner = SweepRunner(sweeps.service)
    with automatic_collection_paused():  # as pg.sweep: no full collection mid-flight
        again: Sweep = aio.run(rescore(runner, sweep, plan, concurrency=concurrency, rpm=rpm,
                                       tpm=tpm, max_cost=max_cost,
                                       progress=SweepProgress if progress else None))
    return again if isinstance(target, Sweep) else again.scores()


def _experiments(sweeps: Sweeps, target: Any) -> tuple[list[Experiment], str]:
    """The current user's experiments named by `target`, oldest first, and the id their
    scores are logged under (the sweep's, or one derived from the experiments)."""
    repo = sweeps.service.repository
    if isinstance(target, str):
        found = list(reversed(repo.list(user_id=sweeps.user, sweep_id=target)))
        if not found:
            raise InvalidInput(f"no experiments of sweep {target!r} for {sweeps.user!r}; pass "
                               "the Sweep pg.sweep(...) returned or an id from pg.history()")
        return found, target
    ids = _ids(target)
    out = []
    for i in ids:
        exp = repo.get(i)
        if exp is None or exp.user_id != sweeps.user:
            raise InvalidInput(f"no experiment {i!r} for {sweeps.user!r} in the log")
        out.append(exp)
    digest = hashlib.sha256(("\0".join([sweeps.user, *ids])).encode()).hexdigest()[:16]
    return out, f"sc-{digest}"


def _ids(target: Any) -> list[str]:
    columns = getattr(target, "columns", None)
    if columns is not None:  # pg.history() (id) or sw.to_pandas() (experiment_id)
        name = "experiment_id" if "experiment_id" in columns else "id"
        if name not in columns:
            raise InvalidInput("a DataFrame to score needs an id or experiment_id column")
        target = [v for v in target[name].tolist() if isinstance(v, str)]
    if not isinstance(target, list | tuple) or not target:
        raise InvalidInput("score() takes a Sweep, a sweep id, or a non-empty list of "
                           f"experiments or their ids; not {type(target).__name__}")
    ids = [t if isinstance(t, str) else getattr(t, "id", None) for t in target]
    bad = [t for t, i in zip(target, ids, strict=True) if not isinstance(i, str)]
    if bad:
        raise InvalidInput(f"score() takes experiments or their ids, not {bad[0]!r}")
    return [str(i) for i in ids]


def _rows(vars: Any, n: int) -> list[Any]:
    if vars is None:
        return [{}] * n
    from nbplayground.experimentation.grid import records

    rows = records(vars)
    if len(rows) != n:
        raise InvalidInput(f"vars has {len(rows)} rows for {n} experiments; give one row per "
                           "experiment, in the same order")
    return list(rows)


def check_limits(concurrency: Any, rpm: Any, tpm: Any, max_cost: Any) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not \
            1 <= concurrency <= 1000:
        raise InvalidInput(f"concurrency must be a whole number from 1 to 1000, "
                           f"not {concurrency!r}")
    for name, value in (("rpm", rpm), ("tpm", tpm), ("max_cost", max_cost)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not value > 0):
            raise InvalidInput(f"{name} must be a positive number or None, not {value!r}")

