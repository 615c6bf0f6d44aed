"""The facade's sweeps collaborator: pg.estimate, pg.sweep, pg.asweep and pg.retry_failed."""

from __future__ import annotations

import concurrent.futures
from typing import TYPE_CHECKING, Any

from nbplayground import aio
from nbplayground.errors import InvalidInput
from nbplayground.facade_batches import Batches, as_via, check_via
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
        self._batches = Batches(wiring)

    @property
    def service(self) -> ExperimentService:
        return self._w.service

    def embedder(self, scorers: Any, provider: str) -> Any:
        """The provider's embedder when some scorer is cosine (else None: nothing built)."""
        from nbplayground.evaluation import ScoringPlan
        from nbplayground.wiring_embeddings import embedder_for

        return embedder_for(self._w, provider, self.user) if ScoringPlan.embeds(scorers) \
            else None

    def _cells(self, prompts: Any, model: Any, system: Any, repeats: int, mode: str,
               vars: Any, provider: Any, price_as: str | None,
               params: dict[str, Any], rows: list[Any] | None = None) -> list[Any]:
        from nbplayground.experimentation.grid import expand_prompts, providers_of

        # provider= is an axis like model=: each cell is prepared for its own provider (its
        # client, default model, tokenizer and prices); None is the Playground's own.
        providers = [self._provider_for(p) for p in providers_of(provider)]
        specs = expand_prompts(prompts, model, system=system, repeats=repeats, params=params,
                               mode=mode, variables=vars, provider=providers)  # type: ignore[arg-type]
        if rows is not None:  # each cell's vars row, for its scorers
            rows.extend(s.variables for s in specs)
        return [self.prepare(s.prompt, s.model, system=s.system, provider=s.provider,
                             price_as=price_as, repeat=s.repeat, index=i, **s.params
                             ).from_prompt(s.source) for i, s in enumerate(specs)]

    def _sweep(self, prompts: Any, model: Any = None, *, system: Any = None, repeats: int = 1,
               mode: str = "cross", vars: Any = None, provider: Any = None,
               price_as: str | None = None, refresh: bool = False, scorers: Any = None,
               via: str = "sync", **params: Any) -> Any:
        from nbplayground.evaluation import ScoringPlan
        from nbplayground.experimentation.scoring import check_judges
        from nbplayground.experimentation.sweep import Sweep, new_sweep_id, sweep_id_for

        rows: list[Any] = []
        cells = self._cells(prompts, model, system, repeats, mode, vars, provider, price_as,
                            params, rows)
        providers = sorted({c.provider for c in cells}) or [self._provider_for(None)]
        if via == "batch":  # a batch takes one provider (OpenAI's): refused before any upload
            from nbplayground.experimentation.batch_files import check_batchable

            check_batchable(cells)
        # One embedder for cosine scorers: the sweep's provider (mixed: the Playground's own).
        prov = providers[0] if len(providers) == 1 else self._provider_for(None)
        plan = ScoringPlan(scorers, rows, embedder=self.embedder(scorers, prov))  # vars checked
        for p in providers:  # a judge with no provider of its own runs on its cell's
            check_judges(self.service, plan, self.user, p)
        # A batch sweep of the same call is a sweep of its own (its batches are found by it).
        sid = new_sweep_id() if refresh else sweep_id_for(
            self.user if via == "sync" else f"{self.user}\x00{via}", cells)
        cells = as_via([c.in_sweep(sid) for c in cells], via)
        spec = {"models": sorted({c.request.model for c in cells}), "repeats": repeats,
                "prompts": sorted({f"{c.prompt_name} v{c.prompt_version}" for c in cells
                                   if c.prompt_name is not None}),
                "mode": mode, "parameters": {k: v for k, v in params.items() if v is not None},
                "provider": providers[0] if len(providers) == 1 else providers,
                "price_as": price_as}
        if via == "batch" and plan.scorers:
            raise InvalidInput("scorers are not run on batch sweeps yet; score the finished "
                               "sweep's frame, or use via='sync'")
        return Sweep(id=sid, cells=cells, spec=spec, plan=plan)

    def estimate(self, prompts: Any, model: Any = None, *, system: Any = None,
                 repeats: int = 1, mode: str = "cross", vars: Any = None,
                 provider: str | list[str] | None = None, price_as: str | None = None,
                 refresh: bool = False, scorers: Any = None, via: str = "sync",
                 **params: Any) -> Any:
        """What `sweep` with the same arguments would send and cost (judges' calls included;
        via="batch": at batch rates); nothing is sent."""
        from nbplayground.experimentation.sweep import SweepRunner

        sw = self._sweep(prompts, model, system=system, repeats=repeats, mode=mode, vars=vars,
                         provider=provider, price_as=price_as, refresh=refresh,
                         scorers=scorers, via=check_via(via), **params)
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
                     provider: str | list[str] | None = None, price_as: str | None = None,
                     progress: bool = True, scorers: Any = None, **params: Any) -> Any:
        """`await pg.asweep(...)`: the same as sweep, for async code (synchronous calls)."""
        from nbplayground.experimentation.sweep import SweepRunner
        from nbplayground.progress import SweepProgress

        if check_via(params.pop("via", "sync")) != "sync":
            raise InvalidInput("pg.asweep sends the calls now; for OpenAI's Batch API use "
                               "pg.sweep(..., via='batch') and sw.wait()")
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
              vars: Any = None, provider: str | list[str] | None = None,
              price_as: str | None = None, progress: bool = True, scorers: Any = None,
              via: str = "sync", **params: Any) -> Any:
        """Run prompts × providers × models × parameter lists × repeats concurrently; returns a
        Sweep.

        Lists are crossed (mode="zip" pairs them): provider=["local", "simulated"],
        model=["smollm2", "gpt-4o"], mode="zip" is two cells, each on its own provider's client,
        rate limits and prices. Identical cells already logged as ok come
        from the log (refresh=True sends them again), so re-running a call resumes it.
        `scorers=[s.exact("{capital}"), ...]` scores each cell as it finishes (a judge's call
        is sent as each answer comes in).
        via="batch": the cells go to OpenAI's Batch API (half price, within 24 h); returns at
        once with the batches created: sw.status(), sw.wait(), sw.cancel().
        """
        from nbplayground.experimentation.collector import automatic_collection_paused
        from nbplayground.experimentation.sweep import SweepRunner
        from nbplayground.progress import SweepProgress

        _check_limits(concurrency, rpm, tpm, max_cost)
        # No full collection of the kernel's heap from the first cell made to the last one
        # logged (one took 60-140 ms of a 2.4 s sweep, wherever it fell); during the flight
        # the young generations are collected (collector.py), the rest after it.
        with automatic_collection_paused():
            sw = self._sweep(prompts, model, system=system, repeats=repeats, mode=mode,
                             vars=vars, provider=provider, price_as=price_as, refresh=refresh,
                             scorers=scorers, via=check_via(via), **params)
            if via == "batch":
                return self._batches.submit(sw, max_cost=max_cost, refresh=refresh,
                                            progress=progress)
            runner = SweepRunner(self.service)
            return aio.run(runner.run(sw, concurrency=concurrency, rpm=rpm, tpm=tpm,
                                      max_cost=max_cost, refresh=refresh,
                                      progress=SweepProgress if progress else None))

    def submit(self, prompts: Any, model: Any = None, *,
               on_token: Callable[[int, str], None] | None = None,
               on_cell: Callable[[int, Any], None] | None = None, concurrency: int = 8,
               refresh: bool = False, **kwargs: Any) -> concurrent.futures.Future[Any]:
        """Start a sweep without waiting (the panel's Compare): the same arguments as sweep;
        on_token(i, piece) streams cell i's answer, on_cell(i, experiment) says it finished.
        `future.cancel()` stops it: each cell in flight is logged as 'stopped' with its text."""
        from nbplayground.experimentation.sweep import SweepRunner

        if check_via(kwargs.pop("via", "sync")) != "sync":
            raise InvalidInput("a submitted sweep sends the calls now; for OpenAI's Batch API "
                               "use pg.sweep(..., via='batch')")
        _check_limits(concurrency, None, None, None)
        sw = self._sweep(prompts, model, refresh=refresh, **kwargs)
        streams = None if on_token is None else (
            lambda i: lambda piece: on_token(i, piece))

        def progress(sweep: Any, total: int, note: str) -> Any:
            if on_cell is None:
                return None
            return lambda exp: on_cell(next(i for i, r in enumerate(sweep.results)
                                            if r is exp), exp)

        return aio.submit(SweepRunner(self.service).run(
            sw, concurrency=concurrency, refresh=refresh, progress=progress, on_delta=streams))

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

    def retry_failed(self, sweep: Any, *, concurrency: int = 8, progress: bool = True,
                     via: str = "sync") -> Any:
        """Send again the cells of `sweep` whose last attempt failed; the rest come from the log.
        via="batch" sends them as a new batch (wait for it with .wait())."""
        from nbplayground.experimentation.batch_sweep import BatchSweep
        from nbplayground.experimentation.sweep import Sweep, SweepRunner
        from nbplayground.progress import SweepProgress

        if isinstance(sweep, BatchSweep):
            sweep = sweep.sweep
        if not isinstance(sweep, Sweep):
            raise InvalidInput("retry_failed takes the Sweep that pg.sweep returned")
        if check_via(via) == "batch":
            return self._batches.retry(sweep, progress=progress)
        again = Sweep(id=sweep.id, cells=as_via(sweep.cells, "sync"), spec=sweep.spec,
                      plan=sweep.plan,
                      results=[None if r is None or r.status == "error" else r
                               for r in sweep.results])
        runner = SweepRunner(self.service)
        return aio.run(runner.run(again, concurrency=concurrency,
                                  progress=SweepProgress if progress else None))
