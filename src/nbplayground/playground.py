"""The Playground facade: one plain class whose parts come from the composition root (wiring)."""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from nbplayground import aio, facade_prompts, facade_providers, facade_setup
from nbplayground.adapters import log_location
from nbplayground.configuration import Endpoint
from nbplayground.domain.prompts import PromptVersion
from nbplayground.errors import InvalidInput
from nbplayground.events import EventBus
from nbplayground.experimentation import ExperimentService
from nbplayground.facade_accounts import Accounts
from nbplayground.facade_analytics import Reports
from nbplayground.facade_sweeps import Sweeps
from nbplayground.results import Experiment, view
from nbplayground.signatures import like, with_fields
from nbplayground.wiring import Wiring

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

F = TypeVar("F", bound=Callable[..., Any])


class Playground:
    """`pg.run(...)`, `pg.sweep(...)`, `pg.history()`: every run lands in a DuckDB log."""

    def __init__(self, db: str | os.PathLike[str] | None = None, user: str | None = None,
                 provider: str | Endpoint | None = None, *, api_key: str | None = None,
                 base_url: str | None = None, simulated_latency: float = 0.01) -> None:
        settings = facade_setup.settings_for(db, user, provider, base_url, simulated_latency)
        self._w = w = Wiring(settings, api_key)
        self.db = log_location.shown(settings.db)  # never a password
        # On a team log the database login is the identity, whatever user= says.
        self.user = log_location.identity(w.repository, settings.user) \
            if log_location.is_url(settings.db) else settings.user
        self.provider = facade_providers.choose_provider(w, settings.provider)
        facade_setup.check_openai_key(w, self.provider)
        self._accounts = Accounts(w, self.user)
        self._sweeps = Sweeps(w, self.user, self.prepare, self._provider_for)
        self._reports = Reports(w, self.user)
        self.prompts = facade_prompts.Prompts(w, self.user)
        """Saved prompt versions: pg.prompts.save(name, template, ...), list, get, diff."""
        w.warm(self.provider, self.user)
        facade_setup.opened(self)

    @property
    def bus(self) -> EventBus:
        return self._w.bus

    @property
    def repository(self) -> Any:
        """The experiment log (DuckDB): DataFrames of experiments, requests and users."""
        return self._w.repository

    @property
    def service(self) -> ExperimentService:
        return self._w.service

    @property
    def _clients(self) -> dict[str, Any]:
        return self._w.clients

    def close(self) -> None:
        """Close the HTTP connections; the log file is never held open anyway."""
        self._w.close()

    def __enter__(self) -> Playground:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Playground(db={str(self.db)!r}, user={self.user!r}, provider={self.provider!r})"

    def _provider_for(self, provider: str | None) -> str:
        return facade_providers.provider_for(self.provider, provider)

    # -- the public API --

    def models(self) -> pd.DataFrame:
        """The models each available provider offers, with context window and output limit."""
        return self._w.models(self.provider, facade_providers.local_available())

    def add_local_model(self, name: str, path: str | os.PathLike[str]) -> None:
        """Run any GGUF file in the kernel as `model=name` on the local provider."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"name must be a non-empty model name, not {name!r}")
        if not isinstance(path, str | os.PathLike):
            raise InvalidInput(f"path must be the path of a GGUF file, not {path!r}")
        self._w.client("local").register(name, os.fspath(path))  # type: ignore[attr-defined]

    def default_model(self, provider: str | None = None) -> str:
        """The model a run takes when none is named; on a compatible server (an Endpoint or
        OPENAI_BASE_URL), one the server lists, asked once (GET /v1/models)."""
        return self._w.default_model(self._provider_for(provider))

    def push(self, dsn: str) -> dict[str, Any]:
        """Copy this file log's rows of the current user up to a team log (postgresql://...),
        exactly once: running it again copies nothing new."""
        return log_location.push(self._w.db, dsn, self.user)

    def prepare(self, prompt: Any, model: str | None = None, *, system: str | None = None,
                provider: str | None = None, price_as: str | None = None, repeat: int = 0,
                sweep_id: str | None = None, index: int = 0, **params: Any) -> Any:
        prompt, model, system, params, source = facade_prompts.unpack(prompt, model, system,
                                                                      params)
        prov = self._provider_for(provider)
        facade_providers.check_price_as(price_as)
        return self._w.service.prepare(user_id=self.user, prompt=prompt,
                                    model=model or self.default_model(prov), provider=prov,
                                    system=system, repeat=repeat, sweep_id=sweep_id,
                                    price_as=price_as, index=index, **params).from_prompt(source)

    def run(self, prompt: str | Sequence[Mapping[str, str]] | PromptVersion,
            model: str | None = None, *,
            system: str | None = None, provider: str | None = None,
            price_as: str | None = None, on_token: Callable[[str], None] | None = None,
            **fields: Any) -> Experiment:
        """Run one experiment and log it. `fields` are the request fields (temperature,
        max_tokens, response_format, tools, images, ... — see help(pg.run)); None takes the
        model's default. A saved PromptVersion (pg.prompts.get(...)) runs with its model,
        system and fields unless given here; `vars={...}` fills its template.

        `on_token` streams the answer piece by piece. Provider faults do not raise: the
        returned experiment has status 'error' and the error text, and is logged like any other.
        """
        cell = self.prepare(prompt, model, system=system, provider=provider, price_as=price_as,
                            **fields)
        return view(aio.run(self._w.service.run_experiment(cell, on_delta=on_token)))

    def submit(self, prompt: Any, model: str | None = None, *,
               on_token: Callable[[str], None] | None = None, **kwargs: Any
               ) -> concurrent.futures.Future[Experiment]:
        """Start a run without waiting (the panel's Run); `future.cancel()` stops it."""
        cell = self.prepare(prompt, model, **kwargs)

        async def go() -> Experiment:
            return view(await self._w.service.run_experiment(cell, on_delta=on_token))

        return aio.submit(go())

    def preview(self, prompt: Any, model: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Prompt tokens and the price range of a run, counted in the kernel; nothing is sent."""
        cell = self.prepare(prompt, model, **kwargs)
        lo, hi = self._w.costs.bounds(cell.provider, cell.request.model, cell.prompt_tokens,
                                    cell.max_completion)
        return {"prompt_tokens": cell.prompt_tokens, "max_completion": cell.max_completion,
                "min_cost": lo, "max_cost": hi, "provider": cell.provider,
                "model": cell.request.model, "body": cell.request.body()}

    @like(Reports.get)
    def get(self, experiment_id: str) -> Experiment:
        return self._reports.get(experiment_id)

    @like(Reports.history)
    def history(self, limit: int | None = None, sweep: Any = None, **kwargs: Any
                ) -> pd.DataFrame:
        return self._reports.history(limit, sweep, **kwargs)

    # -- sweeps, accounts and reports: the collaborators' --

    @like(Sweeps.estimate)
    def estimate(self, prompts: Any, model: Any = None, **kwargs: Any) -> Any:
        return self._sweeps.estimate(prompts, model, **kwargs)

    @like(Sweeps.sweep)
    def sweep(self, prompts: Any, model: Any = None, **kwargs: Any) -> Any:
        return self._sweeps.sweep(prompts, model, **kwargs)

    @like(Sweeps.asweep)
    async def asweep(self, prompts: Any, model: Any = None, **kwargs: Any) -> Any:
        return await self._sweeps.asweep(prompts, model, **kwargs)

    @like(Sweeps.submit)
    def submit_sweep(self, prompts: Any, model: Any = None, **kwargs: Any
                     ) -> concurrent.futures.Future[Any]:
        return self._sweeps.submit(prompts, model, **kwargs)

    @like(Sweeps.score)
    def score(self, target: Any, scorers: Any = None, **kwargs: Any) -> Any:
        return self._sweeps.score(target, scorers, **kwargs)

    @like(Sweeps.retry_failed)
    def retry_failed(self, sweep: Any, **kwargs: Any) -> Any:
        return self._sweeps.retry_failed(sweep, **kwargs)

    @property
    def is_admin(self) -> bool:
        """Admins (NBPLAYGROUND_ADMINS or `admins` in config.toml) may read every user's rows."""
        return self._accounts.is_admin

    @like(Accounts.login)
    def login(self) -> dict[str, Any]:
        return self._accounts.login()

    @like(Accounts.set_key)
    def set_key(self, key: str, store: Any = "keyring") -> str:
        return self._accounts.set_key(key, store)

    @like(Accounts.set_limits)
    def set_limits(self, **kwargs: Any) -> dict[str, Any]:
        return self._accounts.set_limits(**kwargs)

    @like(Accounts.budget)
    def budget(self, needed: float | None = None) -> dict[str, Any]:
        return self._accounts.budget(needed)

    @like(Accounts.usage)
    def usage(self, by: str = "day", **kwargs: Any) -> pd.DataFrame:
        return self._accounts.usage(by, **kwargs)

    @like(Accounts.whoami)
    def whoami(self) -> dict[str, Any]:
        return self._accounts.whoami()

    @like(Reports.compare)
    def compare(self, sweep: Any, *args: Any, **kwargs: Any) -> go.Figure:
        return self._reports.compare(sweep, *args, **kwargs)

    @like(Reports.report)
    def report(self, kind: str, sweep: Any = None, **opts: Any) -> pd.DataFrame:
        return self._reports.report(kind, sweep, **opts)

    @like(Reports.chart)
    def chart(self, kind: str, sweep: Any = None, **opts: Any) -> go.Figure:
        return self._reports.chart(kind, sweep, **opts)

    def import_openai_eval(self, eval_json: Any, run: Any = None, items: Any = None, *,
                           output_items: Any = None, trust_python: bool = False,
                           python_timeout: float = 10.0) -> Any:
        """An exported OpenAI eval (GET /v1/evals/{id}: a path, JSON text or dict), with a run's
        JSON, its items (JSONL of {"item": ...}) and output_items for a baseline, as an
        ImportedEval: `.data`, `.prompt` (saved in pg.prompts under the eval's name),
        `.scorers`, `.baseline`, `.run(model=[...])`. python graders run only with
        trust_python=True, in a separate process."""
        from nbplayground.facade_evals import import_openai_eval

        return import_openai_eval(self.sweep, self.prompts.save, eval_json, run, items,
                                  output_items=output_items, trust_python=trust_python,
                                  python_timeout=python_timeout)

    # -- the panel --

    def panel(self, **initial: Any) -> Any:
        """The playground panel (an anywidget); `initial` presets prompt (a string, or a saved
        PromptVersion with its system, model and fields), model, parameters."""
        from nbplayground.ui.panel import PlaygroundPanel

        return PlaygroundPanel(self, **facade_prompts.panel_initial(initial))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.panel())  # type: ignore[no-untyped-call]


with_fields(Playground.run)
