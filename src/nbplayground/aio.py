"""One background event loop per process, so sync calls work from Jupyter cells (loop busy)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


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


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    return asyncio.run_coroutine_threadsafe(coro, loop())


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run to completion from sync code; Ctrl-C / a kernel interrupt cancels it cleanly."""
    future = submit(coro)
    try:
        return future.result()
    except KeyboardInterrupt:
        future.cancel()
        with contextlib.suppress(Exception):  # cancelled, timed out or failed: all the same now
            future.result(timeout=10)
        raise


async def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Await from another loop (a notebook's): the work still runs on the shared loop."""
    future = submit(coro)
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        future.cancel()
        raise
