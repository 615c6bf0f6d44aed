"""The facade's accounts: who runs (pg.user), the API key (pg.login, pg.set_key), limits and
budgets (pg.set_limits, pg.budget), usage (pg.usage), and who may read whose rows."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal

from nbplayground.accounts import (
    ApiKey,
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
from nbplayground.events import TokenUsageUpdated

if TYPE_CHECKING:
    import pandas as pd

    from nbplayground.wiring import Wiring

Store = Literal["keyring", "file"]


class Accounts:
    """The accounts collaborator; the key is held only as an ApiKey (never printed or pickled)."""

    def __init__(self, wiring: Wiring, user: str) -> None:
        self._w = wiring
        self.user = user
        self._saved_profile: object = ()  # what the users row was last written with
        self._profile_lock = threading.Lock()
        # What a run used is booked with it; then the users row (token usage, plan, role and
        # key reference) is brought up to date once.
        wiring.bus.subscribe(TokenUsageUpdated, self._on_usage)

    # -- identity and authorization --

    @property
    def is_admin(self) -> bool:
        """Admins (NBPLAYGROUND_ADMINS or `admins` in config.toml) may read every user's rows."""
        return self.user in admins() or bool(self._w.team_admins(self.user))

    def _readable(self, user: str | None, all_users: bool) -> str | None:
        return readable_user(self.user, user=user, all_users=all_users,
                             admins=admins() | self._w.team_admins(self.user))

    def _on_usage(self, event: TokenUsageUpdated) -> None:
        if event.user_id != self.user:
            return
        with self._profile_lock:
            if self._saved_profile == self._w.key_ref:
                return
            self._save_profile()

    def _save_profile(self) -> None:
        source, fp = self._w.key_ref or (None, None)
        self._w.ledger.save_user(self.user, plan=default_plan(),  # type: ignore[arg-type]
                                 role="admin" if self.is_admin else "user",
                                 key_ref=source, key_fingerprint=fp)
        self._saved_profile = self._w.key_ref

    # -- API keys --

    def login(self) -> dict[str, Any]:
        """Check the API key against the endpoint (its models list); AuthenticationFailed says
        which key (source and fingerprint, never the key) was refused."""
        key = self._w.resolve_key()
        if key is None:
            raise ConfigurationError(no_key_message(self._w))
        self._w.drop_client("openai")  # the client must use the key just resolved
        client = self._w.client("openai")
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
        self._w.api_key = None  # an explicit api_key= would otherwise shadow the stored one
        self._w.drop_client("openai")
        stored = ApiKey(key, target.ref)
        return f"stored key {stored.fingerprint} in {target.ref}"

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
        self._w.ledger.set_limits(target, default_plan=default_plan(),  # type: ignore[arg-type]
                                plan=None if plan is None else check_plan(plan),
                                overrides=overrides)
        return self._w.gate.limits(target).model_dump()

    def budget(self, needed: float | None = None) -> dict[str, Any]:
        """Spent today / this month, the limits, what is left (in-flight runs count as spent).
        With `needed` (USD, e.g. pg.preview(...)["max_cost"]), "message" is the refusal the
        next run would get, or None when it fits."""
        status = self._w.gate.status(self.user)
        if needed is not None:
            try:
                self._w.gate.check(self.user, float(needed))
                status["message"] = None
            except BudgetExceeded as e:
                status["message"] = str(e)
        return status

    def usage(self, by: str = "day", *, user: str | None = None,
              all_users: bool = False) -> pd.DataFrame:
        """The usage ledger grouped by "day", "model" or "user": requests, tokens, cost.
        Your own rows; admins may pass user=... or all_users=True."""
        return self._w.ledger.usage_report(by, self._readable(user, all_users))

    def whoami(self) -> dict[str, Any]:
        """The user, role, plan and where the API key would come from (never the key)."""
        key = self._w.resolve_key()
        return {"user": self.user, "role": "admin" if self.is_admin else "user",
                "plan": self._w.gate.limits(self.user).plan,
                "key_source": key.source if key else None,
                "key_fingerprint": key.fingerprint if key else None}


def no_key_message(wiring: Wiring) -> str:
    return (f"no API key found (looked at: {wiring.keys.describe()}); pass api_key=..., set "
            "OPENAI_API_KEY, or store one with pg.set_key(key, store='keyring' | 'file') "
            "(any Playground, e.g. Playground(provider='simulated'), can store it)")
