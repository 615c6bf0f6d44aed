"""Subscription plans and per-user limits: daily and monthly USD budgets, a daily token cap, RPM.

A plan gives the defaults; a user's overrides (users.limits JSON) replace single values.
Limits guard what a provider bills: simulated and local runs are free and never limited.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from nbplayground.errors import InvalidInput

FREE_PROVIDERS = frozenset({"simulated", "local"})


def billable(provider: str) -> bool:
    """OpenAI and any OpenAI-compatible endpoint bill; the simulated and local providers do not."""
    return provider not in FREE_PROVIDERS


class Limits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    plan: str
    daily_usd: float
    monthly_usd: float
    daily_tokens: int
    """Prompt + completion tokens a user may spend per UTC day."""
    rpm: int
    """Requests per minute: sweeps and runs are throttled to it."""


PLANS: dict[str, Limits] = {
    "free": Limits(plan="free", daily_usd=1.0, monthly_usd=10.0, daily_tokens=200_000, rpm=500),
    "pro": Limits(plan="pro", daily_usd=20.0, monthly_usd=200.0, daily_tokens=5_000_000,
                  rpm=5000),
    "team": Limits(plan="team", daily_usd=100.0, monthly_usd=1000.0, daily_tokens=50_000_000,
                   rpm=10000),
}
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
               default_plan: str = "free") -> Limits:
    """The plan's defaults with the user's overrides on top; an unknown plan falls back."""
    base = PLANS.get(plan or default_plan) or PLANS.get(default_plan) or PLANS["free"]
    known = {k: v for k, v in (overrides or {}).items() if k in LIMIT_NAMES}
    return base.model_copy(update=check_overrides(known)) if known else base
