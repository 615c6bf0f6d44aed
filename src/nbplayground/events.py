"""Domain events of the spec and a small in-process bus that carries them between contexts."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from nbplayground.ids import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    occurred_at: datetime = field(default_factory=utcnow, kw_only=True)


@dataclass(frozen=True)
class ExperimentExecuted(Event):
    """An experiment finished (ok or error) and was logged."""

    experiment_id: str
    user_id: str
    model: str
    provider: str
    status: str
    cost_estimate: float | None
    sweep_id: str | None = None


@dataclass(frozen=True)
class APIRequestLogged(Event):
    """One HTTP attempt (or one local call) was made to a model provider."""

    request_id: str
    experiment_id: str
    user_id: str
    status_code: int | None
    latency_ms: float
    attempt: int


@dataclass(frozen=True)
class TokenUsageUpdated(Event):
    """A user's token consumption and spend grew."""

    user_id: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost: float | None
    experiment_id: str | None = None
    provider: str | None = None


@dataclass(frozen=True)
class SweepProgressed(Event):
    """A sweep cell finished; counts so far."""

    sweep_id: str
    done: int
    failed: int
    cached: int
    total: int
    spent: float


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]


class EventBus:
    """Synchronous publish/subscribe; a failing handler is logged, never breaks the publisher."""

    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = defaultdict(list)
        self._lock = threading.Lock()

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        with self._lock:
            self._handlers[event_type].append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers[event_type]:
                    self._handlers[event_type].remove(handler)

        return unsubscribe

    def publish(self, event: Event) -> None:
        with self._lock:
            handlers = [h for t, hs in self._handlers.items() if isinstance(event, t) for h in hs]
        for handler in handlers:
            try:
                handler(event)
            except Exception:  # a subscriber's bug must not lose the publisher's work
                log.exception("event handler %r failed on %s", handler, type(event).__name__)
