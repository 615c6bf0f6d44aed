"""Background helpers of the panel: a flush throttle for streamed text and a latest-only worker."""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbplayground.ui import state

if TYPE_CHECKING:
    from nbplayground.results import Experiment
    from nbplayground.ui.ports import Facade

log = logging.getLogger(__name__)


Schedule = Callable[[float, Callable[[], None]], Callable[[], None]]
"""Calls the function once, `delay` seconds from now, on another thread; returns a cancel."""


def timer_thread(delay: float, fire: Callable[[], None]) -> Callable[[], None]:
    timer = threading.Timer(delay, fire)
    timer.daemon = True
    timer.start()
    return timer.cancel


class Throttle:
    """Calls `flush` at most once per `interval` seconds, however often `poke` is called.

    A poke inside the interval schedules one flush at its end, so the last change is never
    lost: `flush` reads the current state itself. Safe to poke from any thread; `flush` is
    never called while this object's lock is held. `clock` and `schedule` are its time (tests
    step them instead of sleeping).
    """

    def __init__(self, flush: Callable[[], None], interval: float = 0.05, *,
                 clock: Callable[[], float] = time.monotonic,
                 schedule: Schedule = timer_thread) -> None:
        self._flush = flush
        self.interval = interval
        """Seconds between flushes; may change between flushes."""
        self._clock = clock
        self._schedule = schedule
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._cancel: Callable[[], None] | None = None

    def poke(self) -> None:
        with self._lock:
            if self._cancel is not None:
                return  # a flush is already due; it will read this change too
            wait = self._last + self.interval - self._clock()
            if wait > 0:
                self._cancel = self._schedule(wait, self._fire)
                return
            self._last = self._clock()
        self._flush()

    def _fire(self) -> None:
        with self._lock:
            self._cancel = None
            self._last = self._clock()
        self._flush()

    def cancel(self) -> None:
        with self._lock:
            if self._cancel is not None:
                self._cancel()
                self._cancel = None


class LatestOnly:
    """Runs jobs one at a time on a daemon thread; a newer job with the same key replaces a
    pending one (typing fast asks for one token count, not one per keystroke)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Callable[[], None]] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._busy = False

    def submit(self, key: str, job: Callable[[], None]) -> None:
        with self._cond:
            self._jobs.pop(key, None)
            self._jobs[key] = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="nbplayground-panel",
                                                daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            with self._cond:
                if not self._jobs:
                    self._thread = None
                    self._cond.notify_all()
                    return
                key = next(iter(self._jobs))
                job = self._jobs.pop(key)
                self._busy = True
            try:
                job()
            except Exception:  # a job reports its own errors; this only keeps the thread alive
                log.exception("nbplayground panel job %r failed", key)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job is pending or running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._jobs and not self._busy, timeout)


class Slot:
    """One streamed answer (the main run or a compare column), filled from the loop thread."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.future: concurrent.futures.Future[Experiment] | None = None
        self.done = False
        self.status = "running"
        self.final: str | None = None
        self.metrics: dict[str, Any] = {}
        self.error: dict[str, str] = {}
        self.scores: list[dict[str, Any]] | None = None
        """The run's score badges once scored (pg.panel(scorers=[...]))."""

    def add(self, delta: str) -> None:
        if not self.done:
            self.pieces.append(delta)

    @property
    def text(self) -> str:
        return self.final if self.final is not None else "".join(self.pieces)

    def finish(self, future: concurrent.futures.Future[Experiment]) -> None:
        if future.cancelled():
            self.status = "stopped"
        elif (exc := future.exception()) is not None:
            self.status, self.error = "error", state.error_of(exc)
        else:
            self.ended(future.result())
            return
        self.done = True

    def ended(self, exp: Experiment) -> None:
        """The run finished as `exp`: its final text, and its metrics or its error."""
        self.final = exp.response
        if exp.ok:
            self.status, self.metrics = "done", state.metrics_of(exp)
        elif exp.status == "stopped":
            self.status = "stopped"
        else:
            self.status = "error"
            self.error = state.error_of(kind=exp.error_type, text=exp.error)
        self.done = True

    def fail(self, error: BaseException) -> None:
        self.status, self.error, self.done = "error", state.error_of(error), True

    @property
    def shown_metrics(self) -> dict[str, Any]:
        if self.scores is None or not self.metrics:
            return self.metrics
        return {**self.metrics, "scores": self.scores}

    def view(self) -> dict[str, Any]:
        return {"answer": self.text, "status": self.status, "metrics": self.shown_metrics,
                "error": self.error}


def start(pg: Facade, slot: Slot, config: dict[str, Any], poke: Callable[[], None],
          then: Callable[[Experiment], None] | None = None) -> None:
    """Start one run into `slot` (pokes as it streams and ends); bad input finishes the slot
    with the error at once. `then` gets the finished experiment (before the slot is done, so
    whoever waits for the panel also waits for what `then` starts)."""
    def on_token(delta: str) -> None:
        slot.add(delta)
        poke()

    def done(future: concurrent.futures.Future[Experiment]) -> None:
        if then is not None and not future.cancelled() and future.exception() is None:
            then(future.result())
        slot.finish(future)
        poke()

    try:
        prompt, kwargs = state.request(config)
        # A saved prompt version still on screen runs as itself: its rows carry its name
        if config.get("version") is not None:
            prompt = config["version"]
            kwargs.pop("images", None)  # a version's turns carry its images
        slot.future = pg.submit(prompt, on_token=on_token, **kwargs)
    except Exception as e:  # bad input (NbPlaygroundError) or a bug: shown in the slot
        slot.fail(e)
        return
    slot.future.add_done_callback(done)


def flushed(main: Slot | None, columns: list[Slot]) -> tuple[dict[str, Any], bool]:
    """(the panel's values showing what has streamed so far, whether every slot is done); once
    a slot is done its status, metrics and error are shown too."""
    values: dict[str, Any] = {}
    # `done` is read before the text: a slot sets its final text, then done.
    done = {id(s): s.done for s in (main, *columns) if s is not None}
    if main is not None:
        values["answer"] = main.text
        if done[id(main)]:
            values.update(status=main.status, metrics=main.shown_metrics, error=main.error)
    if columns:
        values["compare_results"] = [s.view() for s in columns]
        if all(done[id(s)] for s in columns):
            values["compare_status"] = "done"
    return values, all(done.values())
