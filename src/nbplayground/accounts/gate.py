"""BudgetGate: before every call and every sweep, booked + in-flight + projected must fit.

Projected amounts are held while a run or sweep is in flight (process-wide, per log file and
user), so concurrent sweeps of one user cannot overspend together; what a call actually cost is
booked in the usage ledger (`ledger_rows`, written in the same transaction as the call's own
rows) before its hold is released. A ledger that holds reservations itself (SharedHolds: the
team log, shared by many machines) keeps the holds in the database instead of this process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeGuard

from nbplayground.accounts.limits import Limits, limits_for
from nbplayground.domain.money import usd
from nbplayground.domain.providers import billed
from nbplayground.errors import BudgetExceeded
from nbplayground.events import TokenUsageUpdated
from nbplayground.ids import utcnow

_EPS = 1e-12


@dataclass(frozen=True)
class Snapshot:
    """A user's plan, limit overrides and billable spend so far, read in one transaction."""

    plan: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    spent_today: float = 0.0
    spent_month: float = 0.0
    tokens_today: int = 0


class UsageLedger(Protocol):
    def snapshot(self, user_id: str, day: date) -> Snapshot:
        """Billable spend on `day` (UTC) and in its month, plus the user's plan and overrides."""
        ...


Room = Callable[[Snapshot, float, int], Limits]
"""Checks that a reservation fits a snapshot and what is held (USD, tokens); its limits."""


class SharedHolds(Protocol):
    """A ledger that holds reservations itself, atomically with reading the spend."""

    def reserve_hold(self, user_id: str, day: date, usd: float, tokens: int, room: Room
                     ) -> tuple[str, Limits]:
        """Under a lock on the user's budget: snapshot, held sums, room(...) (which raises
        BudgetExceeded), then the hold stored; its id and the limits."""
        ...

    def settle_hold(self, hold_id: str, usd: float, tokens: int) -> None: ...

    def release_hold(self, hold_id: str) -> None: ...

    def held(self, user_id: str) -> tuple[float, int]: ...


class Hold:
    """What a run or sweep in flight holds; settle parts as they are booked, then release."""

    def __init__(self, flight: _InFlight | None, usd: float, tokens: int, rpm: int | None,
                 shared: tuple[SharedHolds, str] | None = None) -> None:
        self._flight = flight
        self._shared = shared
        self.usd = usd
        self.tokens = tokens
        self.rpm = rpm
        """The user's requests-per-minute limit (None when the provider is free or the user
        has none)."""

    def settle(self, usd: float, tokens: int = 0) -> None:
        """Part of the work is booked in the ledger: hold that much less."""
        if self._shared is not None:
            self.usd = max(0.0, self.usd - usd)
            self.tokens = max(0, self.tokens - tokens)
            self._shared[0].settle_hold(self._shared[1], usd, tokens)
        if self._flight is not None:
            with self._flight.lock:
                self.usd = max(0.0, self.usd - usd)
                self.tokens = max(0, self.tokens - tokens)

    def release(self) -> None:
        shared, self._shared = self._shared, None
        if shared is not None:
            shared[0].release_hold(shared[1])
        if self._flight is not None:
            with self._flight.lock:
                self._flight.holds.pop(id(self), None)
            self._flight = None

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class _InFlight:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holds: dict[int, Hold] = {}

    def totals(self) -> tuple[float, int]:
        return (sum((h.usd for h in self.holds.values()), 0.0),
                sum(h.tokens for h in self.holds.values()))


_REGISTRY: dict[tuple[str, str], _InFlight] = {}
_REGISTRY_LOCK = threading.Lock()


def _forget_flights() -> None:
    """A forked child runs none of its parent's calls: their holds stay the parent's (what they
    spend is booked in the shared log), and a lock one of its threads held would never free."""
    global _REGISTRY_LOCK
    _REGISTRY.clear()
    _REGISTRY_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_flights)


def _in_flight(scope: str, user_id: str) -> _InFlight:
    with _REGISTRY_LOCK:
        return _REGISTRY.setdefault((scope, user_id), _InFlight())


class BudgetGate:
    """The gate ExperimentService and SweepRunner pass before sending anything."""

    def __init__(self, ledger: UsageLedger, *, scope: str,
                 default_plan: Callable[[], str | None] = lambda: None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.ledger = ledger
        self.scope = scope
        """Holds are shared by every gate of the same scope (the log file) in this process."""
        self.default_plan = default_plan
        self.clock = clock

    def limits(self, user_id: str, snap: Snapshot | None = None) -> Limits:
        snap = snap or self.ledger.snapshot(user_id, self.clock().date())
        return limits_for(snap.plan, snap.overrides, self.default_plan())

    def status(self, user_id: str) -> dict[str, Any]:
        today = self.clock().date()
        snap = self.ledger.snapshot(user_id, today)
        lim = self.limits(user_id, snap)
        flight = _in_flight(self.scope, user_id)
        with flight.lock:
            held, held_tokens = flight.totals()
        if _shares_holds(self.ledger):
            held, held_tokens = self.ledger.held(user_id)
        return {
            "user": user_id, "plan": lim.plan, "day": today.isoformat(),
            "spent_today": snap.spent_today, "spent_month": snap.spent_month,
            "in_flight": held, "daily_limit": lim.daily_usd, "monthly_limit": lim.monthly_usd,
            "left_today": _left(lim.daily_usd, snap.spent_today + held),
            "left_month": _left(lim.monthly_usd, snap.spent_month + held),
            "tokens_today": snap.tokens_today, "daily_tokens": lim.daily_tokens,
            "tokens_left_today": _left(lim.daily_tokens, snap.tokens_today + held_tokens),
            "rpm": lim.rpm}

    def reserve(self, user_id: str, needed: float, *, tokens: int = 0,
                provider: str = "openai", what: str = "this run") -> Hold:
        """Hold `needed` USD and `tokens`, or raise BudgetExceeded saying spent / limit / needed."""
        if not billed(provider):
            return Hold(None, 0.0, 0, None)
        needed, tokens = max(0.0, needed), max(0, tokens)

        def room(snap: Snapshot, held: float, held_tokens: int) -> Limits:
            lim = self.limits(user_id, snap)
            _check_room(what, user_id, snap, lim, held, held_tokens, needed, tokens)
            return lim

        if _shares_holds(self.ledger):  # held in the database: every machine sees it
            hold_id, lim = self.ledger.reserve_hold(user_id, self.clock().date(), needed,
                                                    tokens, room)
            return Hold(None, needed, tokens, lim.rpm, shared=(self.ledger, hold_id))
        flight = _in_flight(self.scope, user_id)
        with flight.lock:  # read and hold atomically: two sweeps cannot both see the same room
            snap = self.ledger.snapshot(user_id, self.clock().date())
            lim = room(snap, *flight.totals())
            if not lim.limited:  # nobody set a budget: nothing to hold against
                return Hold(None, 0.0, 0, lim.rpm)
            hold = Hold(flight, needed, tokens, lim.rpm)
            flight.holds[id(hold)] = hold
            return hold

    def limited(self, user_id: str, provider: str = "openai") -> bool:
        """Whether a call of this user's to this provider is held against any limit (one
        read of the ledger): with none set, nothing needs pricing ahead of a hold."""
        return billed(provider) and self.limits(user_id).limited

    def check(self, user_id: str, needed: float, *, tokens: int = 0,
              provider: str = "openai") -> None:
        """Raise BudgetExceeded when `needed` does not fit now; holds nothing."""
        self.reserve(user_id, needed, tokens=tokens, provider=provider).release()


def _shares_holds(ledger: object) -> TypeGuard[SharedHolds]:
    return callable(getattr(ledger, "reserve_hold", None))


def _check_room(what: str, user_id: str, snap: Snapshot, lim: Limits, held: float,
                held_tokens: int, needed: float, tokens: int) -> None:
    for period, spent, limit, name in (
            ("daily", snap.spent_today, lim.daily_usd, "daily_usd"),
            ("monthly", snap.spent_month, lim.monthly_usd, "monthly_usd")):
        if limit is not None and spent + held + needed > limit + _EPS:
            raise BudgetExceeded(_refusal(what, user_id, period, lim.plan, name, spent,
                                          held, limit, needed), spent=spent + held,
                                 limit=limit, needed=needed)
    if lim.daily_tokens is not None and \
            snap.tokens_today + held_tokens + tokens > lim.daily_tokens:
        used = snap.tokens_today + held_tokens
        raise BudgetExceeded(
            f"budget exceeded: {what} needs up to {tokens:,} tokens, but {user_id} has "
            f"spent {snap.tokens_today:,}"
            f"{_flying(f'{held_tokens:,}') if held_tokens else ''} of the "
            f"{lim.daily_tokens:,} daily token limit ({_source(lim.plan)}); nothing was sent. "
            "Lower max_tokens or run fewer cells, wait for the next day (UTC), or raise "
            "the limit: pg.set_limits(daily_tokens=...)",
            spent=float(used), limit=float(lim.daily_tokens), needed=float(tokens))


def ledger_rows(usage: Sequence[TokenUsageUpdated]) -> list[dict[str, Any]]:
    """The usage ledger's rows for what calls actually cost (id = experiment id, so booking
    the same call twice is harmless); the log writes them with the calls' own rows."""
    return [{"id": u.experiment_id, "user_id": u.user_id, "experiment_id": u.experiment_id,
             "model": u.model, "provider": u.provider, "day": u.occurred_at.date(),
             "prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
             "cost": u.cost, "created_at": u.occurred_at} for u in usage]


def _left(limit: float | None, used: float) -> Any:
    """What a limit leaves (never below zero); None when there is no such limit."""
    return None if limit is None else max(type(limit)(0), limit - used)


def _source(plan: str | None) -> str:
    return f"{plan} plan" if plan else "set with pg.set_limits"


def _flying(text: str) -> str:
    return f" (+{text} in flight)"


def _refusal(what: str, user: str, period: str, plan: str | None, name: str, spent: float,
             held: float, limit: float, needed: float) -> str:
    left = max(0.0, limit - spent - held)
    wait = "day" if period == "daily" else "month"
    flying = _flying(usd(held)) if held > _EPS else ""
    return (f"budget exceeded: {what} needs up to {usd(needed)}, but {user} has spent "
            f"{usd(spent)}{flying} of the {usd(limit)} {period} limit ({_source(plan)}), so "
            f"{usd(left)} is left; nothing was sent. Lower max_tokens or run fewer cells, wait "
            f"for the next {wait} (UTC), or raise the limit: pg.set_limits({name}=...)")
