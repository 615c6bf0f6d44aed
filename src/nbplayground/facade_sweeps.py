"""The facade's sweeps collaborator: pg.estimate, pg.sweep, pg.asweep and pg.retry_failed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbplayground import aio
from nbplayground.errors import InvalidInput
from nbplayground.facade_scoring import check_limits as _check_limits

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbplayground.experimentation import ExperimentService
    from nbplayground.wiring import Wiring


class Sweeps:
    """pg.estimate / sweep / asweep / retry_failed: cells are made by the facade's `prepare`."""

    def __init__(self, wiring: Wiring, user: str, prepare: Callable[..., Any],
                 provider_for: Callable[[str | None], str]) -> None:
        self._w = wiring
        self.user = user
        self.prepare = prepare
        self._provider_for = provider_for

    @property
    def service(self) -> ExperimentService:
        return self._w.service

    def _cells(self, prompts: Any, model: Any, system: Any, repeats: int, mode: str,
               vars: Any, provider: str | None, price_as: str | None,
               params: dict[str, Any], rows: list[Any] | None = None) -> list[Any]:
        from nbplayground.experimentation.grid import expand_prompts

        prov = self._provider_for(provider)
        specs = expand_prompts(prompts, model, default_model=self._w.default_model(prov),
                               system=system, repeats=repeats, params=params,
                               mode=mode, variables=vars)  # type: ignore[arg-type]
        if rows is not None:  # each cell's vars row, for its scorers
            rows.extend(s.variables for s in specs)
        return [self.prepare(s.prompt, s.model, system=s.system, provider=prov,
                             price_as=price_as, repeat=s.repeat, index=i, **s.params
                             ).from_prompt(s.source) for i, s in enumerate(specs)]

    def _sweep(self, prompts: Any, model: Any = None, *, system: Any = None, repeats: int = 1,
               mode: str = "cross", vars: Any = None, provider: str | None = None,
               price_as: str | None = None, refresh: bool = False, scorers: Any = None,
               **params: Any) -> Any:
        from nbplayground.evaluation import ScoringPlan
        from nbplayground.experimentation.scoring import check_judges
        from nbplayground.experimentation.sweep import Sweep, new_sweep_id, sweep_id_for

        rows: list[Any] = []
        cells = self._cells(prompts, model, system, repeats, mode, vars, provider, price_as,
                            params, rows)
        plan = ScoringPlan(scorers, rows)  # references checked against vars here
        check_judges(self.service, plan, self.user, self._provider_for(provider))
        sid = new_sweep_id() if refresh else sweep_id_for(self.user, cells)
        cells = [c.in_sweep(sid) for c in cells]
        spec = {"models": sorted({c.request.model for c in cells}), "repeats": repeats,
                "prompts": sorted({f"{c.prompt_name} v{c.prompt_version}" for c in cells
                                   if c.prompt_name is not None}),
                "mode": mode, "parameters": {k: v for k, v in params.items() if v is not None},
                "provider": cells[0].provider if cells else None, "price_as": price_as}
        return Sweep(id=sid, cells=cells, spec=spec, plan=plan)

    def estimate(self, prompts: Any, model: Any = None, *, system: Any = None,
                 repeats: int = 1, mode: str = "cross", vars: Any = None,
                 provider: str | None = None, price_as: str | None = None,
                 refresh: bool = False, scorers: Any = None, **params: Any) -> Any:
        """What `sweep` with the same arguments would send and cost (judges' calls included);
        nothing is sent."""
        from nbplayground.experimentation.sweep import SweepRunner

        sw = self._sweep(prompts, model, system=system, repeats=repeats, mode=mode, vars=vars,
                         provider=provider, price_as=price_as, refresh=refresh,
                         scorers=scorers, **params)
        runner = SweepRunner(self.service)
        cached = set() if refresh else set(runner.cached(sw.cells))
        if sw.plan.judges:
            from nbplayground.experimentation.scoring import estimate_judges

            return estimate_judges(self.service, sw.plan, sw.cells, cached)
        return runner.estimate(sw.cells, cached)

    async def asweep(self, prompts: Any, model: Any = None, *, system: Any = None,
                     repeats: int = 1, concurrency: int = 8, rpm: float | None = None,
                     tpm: float | None = None, max_cost: float | None = None,
                     refresh: bool = False, mode: str = "cross", vars: Any = None,
                     provider: str | None = None, price_as: str | None = None,
                     progress: bool = True, scorers: Any = None, **params: Any) -> Any:
        """`await pg.asweep(...)`: the same as sweep, for async code."""
        from nbplayground.experimentation.sweep import SweepRunner
        from nbplayground.progress import SweepProgress

        _check_limits(concurrency, rpm, tpm, max_cost)
        sw = self._sweep(prompts, model, system=system, repeats=repeats, mode=mode, vars=vars,
                         provider=provider, price_as=price_as, refresh=refresh,
                         scorers=scorers, **params)
        runner = SweepRunner(self.service)
        return await aio.run_async(runner.run(
            sw, concurrency=concurrency, rpm=rpm, tpm=tpm, max_cost=max_cost, refresh=refresh,
            progress=SweepProgress if progress else None))

    def sweep(self, prompts: Any, model: Any = None, *, system: Any = None, repeats: int = 1,
              concurrency: int = 8, rpm: float | None = None, tpm: float | None = None,
              max_cost: float | None = None, refresh: bool = False, mode: str = "cross",
              vars: Any = None, provider: str | None = None, price_as: str | None = None,
              progress: bool = True, scorers: Any = None, **params: Any) -> Any:
        """Run prompts × models × parameter lists × repeats concurrently; returns a Sweep.

        Lists are crossed (mode="zip" pairs them). Identical cells already logged as ok come
        from the log (refresh=True sends them again), so re-running a call resumes it.
        `scorers=[s.exact("{capital}"), ...]` scores each cell as it finishes (judges after).
        """
        from nbplayground.experimentation.sweep import SweepRunner
        from nbplayground.progress import SweepProgress

        _check_limits(concurrency, rpm, tpm, max_cost)
        sw = self._sweep(prompts, model, system=system, repeats=repeats, mode=mode, vars=vars,
                         provider=provider, price_as=price_as, refresh=refresh,
                         scorers=scorers, **params)
        runner = SweepRunner(self.service)
        return aio.run(runner.run(sw, concurrency=concurrency, rpm=rpm, tpm=tpm,
                                  max_cost=max_cost, refresh=refresh,
                                  progress=SweepProgress if progress else None))

    def score(self, target: Any, scorers: Any = None, *, vars: Any = None,
              concurrency: int = 8, rpm: float | None = None, tpm: float | None = None,
              max_cost: float | None = None, progress: bool = True) -> Any:
        """Score a Sweep, a sweep id, or experiments (a list, or a frame with their ids; vars=
        one row each) afterwards. Nothing is sent again but judge calls the log lacks (a
        verdict given before comes from the cache); scores are logged, replacing those of the
        same scorer. A Sweep gives a new Sweep (scores(), to_pandas()); else a DataFrame."""
        from nbplayground.facade_scoring import score

        return score(self, target, scorers, vars=vars, concurrency=concurrency, rpm=rpm,
                     tpm=tpm, max_cost=max_cost, progress=progress)

    def retry_failed(self, sweep: Any, *, concurrency: int = 8, progress: bool = True) -> Any:
        """Send again the cells of `sweep` whose last attempt failed; the rest come from the log."""
        from nbplayground.experimentation.sweep import Sweep, SweepRunner
        from nbplayground.progress import SweepProgress

        if not isinstance(sweep, Sweep):
            raise InvalidInput("retry_failed takes the Sweep that pg.sweep returned")
        again = Sweep(id=sweep.id, cells=sweep.cells, spec=sweep.spec, plan=sweep.plan,
                      results=[None if r is None or r.status == "error" else r
                               for r in sweep.results])
        runner = SweepRunner(self.service)
        return aio.run(runner.run(again, concurrency=concurrency,
                                  progress=SweepProgress if progress else None))
