"""Ctrl-C (a kernel interrupt) during a sweep: in-flight requests stop, done cells are kept.

A kernel runs every cell with Python's default SIGINT handler (ipykernel's pre_handler_hook), so
these tests install it too: a test process can inherit SIGINT *ignored* (pytest started in the
background by a non-interactive shell, as CI runners and `scripts/test > log &` do), and then
no signal would reach the sweep at all.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import duckdb
import pytest

from nbplayground.configuration import Endpoint
from tests.conftest import TEST_KEY
from tests.support.openai_stub import OpenAIStub

CHAT = "/v1/chat/completions"
N, CONCURRENCY, INTERRUPT_AT = 400, 4, 40


@pytest.fixture(autouse=True)
def kernel_sigint() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as it does while a kernel executes a cell."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def interrupt_when(stub: OpenAIStub, send: Callable[[], None]) -> None:
    """Send the interrupt once the server has seen INTERRUPT_AT requests: mid-sweep, whatever
    the machine's load (the sweep has N requests to go through)."""

    def wait_then_send() -> None:
        while stub.count(CHAT) < INTERRUPT_AT:
            time.sleep(0.005)
        send()

    threading.Thread(target=wait_then_send, daemon=True).start()


def sweep_interrupted_then_resumed(pg: Any, stub: OpenAIStub, db: Path) -> None:
    prompts = [f"interrupt {i}" for i in range(N)]
    with pytest.raises(KeyboardInterrupt):
        pg.sweep(prompts, concurrency=CONCURRENCY, progress=False)
    # No sleep: once KeyboardInterrupt is here, the sweep has stopped and written its last batch.
    with duckdb.connect(str(db), read_only=True) as conn:
        ok = conn.execute("select count(*) from experiments where status = 'ok'").fetchone()
        status = conn.execute("select status, done from sweeps").fetchall()
    assert ok is not None
    done = ok[0]
    assert INTERRUPT_AT - CONCURRENCY <= done < N
    assert status == [("interrupted", done)]
    again = pg.sweep(prompts, concurrency=8, progress=False)
    assert again.count("cached") == done and again.count("failed") == 0
    # The resumed sweep sent exactly the N - done missing cells; everything else the server saw
    # came from the interrupted one: the cells it finished plus at most the ones in flight when
    # it was stopped. A sweep going on after the interrupt would have sent more.
    first = stub.count(CHAT) - (N - done)
    assert done <= first <= done + CONCURRENCY, "requests went on after the interrupt"


@pytest.fixture
def pg(make_pg: Any, stub: OpenAIStub) -> Any:
    stub.latency = 0.05
    return make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))


def test_interrupt_cancels_cleanly_and_keeps_finished_cells(
        pg: Any, stub: OpenAIStub, db: Path) -> None:
    interrupt_when(stub, lambda: os.kill(os.getpid(), signal.SIGINT))  # what a kernel sends
    sweep_interrupted_then_resumed(pg, stub, db)


def test_a_sigint_taken_by_another_thread_still_stops_the_sweep(
        pg: Any, stub: OpenAIStub, db: Path) -> None:
    """The kernel may hand a process's SIGINT to any thread that does not block it (all of them,
    when the main thread does); Python then only flags it, and the main thread must look."""
    interrupt_when(stub, lambda: signal.pthread_kill(threading.get_ident(), signal.SIGINT))
    sweep_interrupted_then_resumed(pg, stub, db)


def test_an_interrupt_stops_the_sweep_under_a_handler_that_only_schedules_work(
        pg: Any, stub: OpenAIStub, db: Path) -> None:
    """ipykernel's handler for a cell that awaits (and asyncio.run's first Ctrl-C) only
    schedule a cancel on a loop that the sync call keeps blocked: the sweep must stop anyway,
    and that handler still hears the signal."""
    heard: list[int] = []

    def schedules_only(signum: int, frame: FrameType | None) -> None:
        heard.append(signum)

    signal.signal(signal.SIGINT, schedules_only)
    interrupt_when(stub, lambda: os.kill(os.getpid(), signal.SIGINT))
    sweep_interrupted_then_resumed(pg, stub, db)
    assert heard == [signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) is schedules_only  # given back after the sweep
