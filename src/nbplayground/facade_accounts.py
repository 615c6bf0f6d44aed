"""The facade's accounts: who runs (pg.user), the API key (pg.login, pg.set_key), limits and
budgets (pg.set_limits, pg.budget), usage (pg.usage), and who may read whose rows."""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any, Literal

from nbplayground import aio
from nbplayground.accounts import (
    ApiKey,
    BudgetGate,
    EnvSecret,
    KeyResolver,
    admins,
    check_key,
    check_overrides,
    check_plan,
    config_dir,
    default_plan,
    readable_user,
)
from nbplayground.errors import (
    AuthenticationFailed,
    BudgetExceeded,
    ConfigurationError,
    InvalidInput,
    NotAuthorized,
)
from nbplayground.events import EventBus, ExperimentExecuted

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from nbplayground.adapters.duckdb import DuckDBUsageLedger
    from nbplayground.configuration import Endpoint
    from nbplayground.experimentation import ChatClient

Store = Literal["keyring", "file"]


class AccountsFacade:
    """Mixed into Playground; the key is held only as an ApiKey (never printed or pickled)."""

    if TYPE_CHECKING:
        user: str
        db: Path | str
        _settings: Any
        repository: Any
        bus: EventBus
        _clients: dict[str, ChatClient]
        _endpoint: Endpoint | None

        def _client(self, provider: str) -> ChatClient: ...

    def _init_accounts(self, api_key: str | None) -> None:
        self._api_key = None if api_key is None else ApiKey(api_key, "argument")
        self._key_ref: tuple[str, str] | None = None
        """(source, fingerprint) of the key the OpenAI client was built with: no key in it."""
        self._saved_profile: object = ()  # what the users row was last written with
        self._profile_lock = threading.Lock()
        self.bus.subscribe(ExperimentExecuted, self._on_logged)

    # -- wiring --

    @functools.cached_property
    def _ledger(self) -> DuckDBUsageLedger:
        from nbplayground.adapters import log_location

        return log_location.open_ledger(self._settings.db, self.repository)  # type: ignore[no-any-return]

    @functools.cached_property
    def _gate(self) -> BudgetGate:
        from nbplayground.adapters import log_location

        return BudgetGate(self._ledger, scope=log_location.scope(self._settings.db),
                          default_plan=default_plan)

    @functools.cached_property
    def _keys(self) -> KeyResolver:
        """The documented order: argument, OS keyring, OPENAI_API_KEY, key file."""
        from nbplayground.adapters.file_secrets import KEY_FILE, FileSecretStore
        from nbplayground.adapters.keyring_secrets import KeyringSecretStore

        return KeyResolver([KeyringSecretStore(), EnvSecret("OPENAI_API_KEY"),
                            FileSecretStore(config_dir() / KEY_FILE)])

    def _explicit_key(self) -> ApiKey | None:
        ep = self._endpoint
        if ep is not None and ep.api_key is not None:
            return ApiKey(ep.api_key.get_secret_value(), "argument")
        return self._api_key

    def _resolve_key(self) -> ApiKey | None:
        return self._keys.resolve(self._explicit_key())

    def _has_key(self) -> bool:
        return self._keys.exists(self._explicit_key())

    # -- identity and authorization --

    @property
    def is_admin(self) -> bool:
        """Admins (NBPLAYGROUND_ADMINS or `admins` in config.toml) may read every user's rows."""
        from nbplayground.adapters import log_location

        return self.user in admins() or log_location.is_admin(self._ledger)

    def _readable(self, user: str | None, all_users: bool) -> str | None:
        return readable_user(self.user, user=user, all_users=all_users,
                             admins=admins() | ({self.user} if self.is_admin else set()))

    def _on_logged(self, event: ExperimentExecuted) -> None:
        """Keep the user's row (plan, role, key reference) current once the log has a row."""
        if event.user_id != self.user:
            return
        with self._profile_lock:
            if self._saved_profile == self._key_ref:
                return
            self._save_profile()

    def _save_profile(self) -> None:
        source, fp = self._key_ref or (None, None)
        self._ledger.save_user(self.user, plan=default_plan(),
                               role="admin" if self.is_admin else "user",
                               key_ref=source, key_fingerprint=fp)
        self._saved_profile = self._key_ref

    # -- API keys --

    def login(self) -> dict[str, Any]:
        """Check the API key against the endpoint (its models list); AuthenticationFailed says
        which key (source and fingerprint, never the key) was refused."""
        key = self._resolve_key()
        if key is None:
            raise ConfigurationError(
                f"no API key found (looked at: {self._keys.describe()}); pass api_key=..., set "
                "OPENAI_API_KEY, or store one with pg.set_key(key, store='keyring' | 'file')")
        self._drop_client()  # the client must use the key just resolved
        client = self._client("openai")
        refused: AuthenticationFailed | None = None
        try:
            models = client.models()
        except AuthenticationFailed as e:
            refused = e
        if refused is not None:  # raised outside the except: no SDK error chained to it
            raise AuthenticationFailed(
                f"{client.base_url or 'https://api.openai.com/v1'} refused the API key "
                f"{key.fingerprint} from {key.source} ({refused.status_code}); store a valid "
                "key with pg.set_key(...) or fix its source", status_code=refused.status_code,
                request_id=refused.request_id)
        with self._profile_lock:
            self._save_profile()
        return {"user": self.user, "endpoint": client.base_url or "https://api.openai.com/v1",
                "key_source": key.source, "key_fingerprint": key.fingerprint,
                "models": len(models)}

    def set_key(self, key: str, store: Store = "keyring") -> str:
        """Store the key in the OS keyring or in a 0600 file in the config directory; this
        Playground uses it from the next call on (an Endpoint's own key still wins)."""
        key = check_key(key)
        if store == "keyring":
            from nbplayground.adapters.keyring_secrets import KeyringSecretStore

            target: Any = KeyringSecretStore()
        elif store == "file":
            from nbplayground.adapters.file_secrets import KEY_FILE, FileSecretStore

            target = FileSecretStore(config_dir() / KEY_FILE)
        else:
            raise InvalidInput(f"store must be 'keyring' or 'file', not {store!r}")
        target.set(key)
        self._api_key = None  # an explicit api_key= would otherwise shadow the stored one
        self._drop_client()
        stored = ApiKey(key, target.ref)
        return f"stored key {stored.fingerprint} in {target.ref}"

    def _drop_client(self) -> None:
        old = self._clients.pop("openai", None)
        close = getattr(old, "aclose", None)
        if close is not None:
            aio.run(close())

    # -- limits, budget, usage --

    def set_limits(self, *, plan: str | None = None, daily_usd: float | None = None,
                   monthly_usd: float | None = None, daily_tokens: int | None = None,
                   rpm: int | None = None, user: str | None = None) -> dict[str, Any]:
        """Change the plan (free / pro / team) and override single limits; admins may do it
        for another user. Returns the limits now in force."""
        target = user if user is not None else self.user
        if target != self.user and not self.is_admin:
            raise NotAuthorized(f"{self.user!r} may not change {target!r}'s limits: only "
                                "admins may")
        given = {"daily_usd": daily_usd, "monthly_usd": monthly_usd,
                 "daily_tokens": daily_tokens, "rpm": rpm}
        overrides = check_overrides({k: v for k, v in given.items() if v is not None})
        if plan is None and not overrides:
            raise InvalidInput("set_limits needs plan= or at least one of daily_usd=, "
                               "monthly_usd=, daily_tokens=, rpm=")
        self._ledger.set_limits(target, default_plan=default_plan(),
                                plan=None if plan is None else check_plan(plan),
                                overrides=overrides)
        return self._gate.limits(target).model_dump()

    def budget(self, needed: float | None = None) -> dict[str, Any]:
        """Spent today / this month, the limits, what is left (in-flight runs count as spent).
        With `needed` (USD, e.g. pg.preview(...)["max_cost"]), "message" is the refusal the
        next run would get, or None when it fits."""
        status = self._gate.status(self.user)
        if needed is not None:
            try:
                self._gate.check(self.user, float(needed))
                status["message"] = None
            except BudgetExceeded as e:
                status["message"] = str(e)
        return status

    def usage(self, by: str = "day", *, user: str | None = None,
              all_users: bool = False) -> pd.DataFrame:
        """The usage ledger grouped by "day", "model" or "user": requests, tokens, cost.
        Your own rows; admins may pass user=... or all_users=True."""
        return self._ledger.usage_report(by, self._readable(user, all_users))

    def whoami(self) -> dict[str, Any]:
        """The user, role, plan and where the API key would come from (never the key)."""
        key = self._resolve_key()
        return {"user": self.user, "role": "admin" if self.is_admin else "user",
                "plan": self._gate.limits(self.user).plan,
                "key_source": key.source if key else None,
                "key_fingerprint": key.fingerprint if key else None}
