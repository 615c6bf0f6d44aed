"""One background event loop per process, so sync calls work from Jupyter cells (loop busy)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import signal
import threading
from collections.abc import Coroutine, Iterator
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()
_POLL_S = 0.1
_CLEANUP_S = 10.0  # a wedged cleanup must not keep the user from their kernel


def loop() -> asyncio.AbstractEventLoop:
    """The shared loop, started on first use in a daemon thread; SDK clients live on it."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            new = asyncio.new_event_loop()
            thread = threading.Thread(target=new.run_forever, name="nbplayground-loop",
                                      daemon=True)
            thread.start()
            _loop = new
        return _loop


def _forget_loop() -> None:
    """A forked child has no loop thread: the parent's loop would take work and never run it,
    so the child starts its own on first use."""
    global _loop, _lock
    _loop = None
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_loop)


class TaskFuture(concurrent.futures.Future[T]):
    """The future of a task on the shared loop. Unlike run_coroutine_threadsafe's, `cancel()`
    only asks the task to stop: the future is cancelled once the task has finished, so what the
    task does on the way out (a stopped run's row) is done when the callbacks run."""

    def __init__(self, on: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._on = on
        self._task: asyncio.Task[T] | None = None
        self._stop = False

    def start(self, coro: Coroutine[Any, Any, T]) -> None:  # on the loop
        self._task = asyncio.ensure_future(coro)
        self._task.add_done_callback(self._settle)
        if self._stop:
            self._task.cancel()

    def _settle(self, task: asyncio.Task[T]) -> None:
        if task.cancelled():
            super().cancel()
        elif (error := task.exception()) is not None:
            self.set_exception(error)
        else:
            self.set_result(task.result())

    def _cancel_task(self) -> None:  # on the loop
        self._stop = True
        if self._task is not None:
            self._task.cancel()

    def cancel(self) -> bool:
        if self.done():
            return False
        self._on.call_soon_threadsafe(self._cancel_task)
        return True


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Start `coro` on the shared loop; see TaskFuture for what cancelling it means."""
    on = loop()
    future: TaskFuture[T] = TaskFuture(on)
    on.call_soon_threadsafe(future.start, coro)
    return future


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run to completion from sync code; Ctrl-C / a kernel interrupt cancels it cleanly: when
    KeyboardInterrupt reaches the caller, the work has stopped and its cleanup has run."""
    # Not run_coroutine_threadsafe: cancelling its future marks it cancelled at once, before
    # the task has even seen the cancel, and we must wait for the task itself (what it writes
    # on the way out, e.g. an interrupted sweep's last batch, is in the log once we return).
    result: concurrent.futures.Future[T] = concurrent.futures.Future()
    settled = threading.Event()
    tasks: list[asyncio.Task[T]] = []

    def settle(task: asyncio.Task[T]) -> None:
        if task.cancelled():
            result.cancel()
        elif (error := task.exception()) is not None:
            result.set_exception(error)
        else:
            result.set_result(task.result())
        settled.set()

    def start() -> None:
        tasks.append(asyncio.ensure_future(coro))
        tasks[0].add_done_callback(settle)

    on = loop()
    on.call_soon_threadsafe(start)
    try:
        with _interrupts_raise():
            return _wait(result)
    except BaseException:  # KeyboardInterrupt, or whatever the caller's own handler raised
        on.call_soon_threadsafe(lambda: tasks[0].cancel())  # runs after start(): FIFO
        settled.wait(_CLEANUP_S)
        raise


def _wait(future: concurrent.futures.Future[T]) -> T:
    """Wake up now and then: a SIGINT the kernel delivered to another thread (one the main
    thread blocks, say) only sets a flag, and the main thread acts on it when it runs Python
    again, which a wait without a timeout would postpone until the work is done."""
    while True:
        with contextlib.suppress(concurrent.futures.TimeoutError):
            return future.result(timeout=_POLL_S)


@contextlib.contextmanager
def _interrupts_raise() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt while the main thread waits here, as in a kernel's sync
    cell. A cell that awaits gets ipykernel's handler instead (it schedules a cancel on the
    kernel's loop, which this blocking wait keeps from running) and asyncio.run's first Ctrl-C
    only cancels its main task at the next await: both would leave the sweep running. The
    previous handler still hears the signal; an ignored or default SIGINT is left alone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous) or previous is signal.default_int_handler:
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        previous(signum, frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGINT) is interrupt:
            signal.signal(signal.SIGINT, previous)


async def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Await from another loop (a notebook's): the work still runs on the shared loop."""
    future = submit(coro)
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        future.cancel()
        raise
