"""Subscription plans and per-user limits: daily and monthly USD budgets, a daily token cap, RPM.

Nothing is limited unless someone chose so: a user with no plan (none in the log, no
NBPLAYGROUND_PLAN, no `default_plan` in config.toml) and no overrides has no limits at all. A plan
gives the defaults; a user's overrides (users.limits JSON) replace single values. Limits guard
what a provider bills: simulated and local runs are never limited.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from nbplayground.domain.providers import UNBILLED as FREE_PROVIDERS
from nbplayground.domain.providers import billed as billable
from nbplayground.errors import InvalidInput

__all__ = ["FREE_PROVIDERS", "billable"]  # the providers table's answers, under their old names


class Limits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    plan: str | None
    """None: no plan was configured for the user."""
    daily_usd: float | None = None
    """None (here and below): no such limit."""
    monthly_usd: float | None = None
    daily_tokens: int | None = None
    """Prompt + completion tokens a user may spend per UTC day."""
    rpm: int | None = None
    """Requests per minute: sweeps and runs are throttled to it (as well as to the server's
    own x-ratelimit-* headers, which always apply)."""

    @property
    def limited(self) -> bool:
        """Some budget (USD or tokens) applies, so work in flight must be held against it."""
        return any(v is not None for v in (self.daily_usd, self.monthly_usd, self.daily_tokens))


PLANS: dict[str, Limits] = {
    "free": Limits(plan="free", daily_usd=1.0, monthly_usd=10.0, daily_tokens=200_000, rpm=500),
    "pro": Limits(plan="pro", daily_usd=20.0, monthly_usd=200.0, daily_tokens=5_000_000,
                  rpm=5000),
    "team": Limits(plan="team", daily_usd=100.0, monthly_usd=1000.0, daily_tokens=50_000_000,
                   rpm=10000),
}
NO_LIMITS = Limits(plan=None)
LIMIT_NAMES = ("daily_usd", "monthly_usd", "daily_tokens", "rpm")


def check_plan(plan: object) -> str:
    if not isinstance(plan, str) or plan not in PLANS:
        raise InvalidInput(f"plan must be one of {', '.join(PLANS)}, not {plan!r}")
    return plan


def check_overrides(overrides: Mapping[str, Any]) -> dict[str, float | int]:
    """Validated overrides: USD as non-negative numbers, tokens and rpm as whole numbers."""
    out: dict[str, float | int] = {}
    for name, value in overrides.items():
        if name not in LIMIT_NAMES:
            raise InvalidInput(f"unknown limit {name!r}; the limits are {', '.join(LIMIT_NAMES)}")
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value < 0:
            raise InvalidInput(f"{name} must be a number >= 0, not {value!r}")
        if name in ("daily_tokens", "rpm"):
            if value != int(value) or (name == "rpm" and value < 1):
                raise InvalidInput(f"{name} must be a whole number{' >= 1' * (name == 'rpm')}, "
                                   f"not {value!r}")
            out[name] = int(value)
        else:
            out[name] = float(value)
    return out


def limits_for(plan: str | None, overrides: Mapping[str, Any] | None = None,
               default_plan: str | None = None) -> Limits:
    """The plan's defaults with the user's overrides on top; no plan (or one this version
    does not know) gives no limits but the overrides."""
    base = PLANS.get(plan or default_plan or "") or NO_LIMITS
    known = {k: v for k, v in (overrides or {}).items() if k in LIMIT_NAMES}
    return base.model_copy(update=check_overrides(known)) if known else base
