"""BatchWriter and the collector pause: what a sweep does with the log and the GC while it runs."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable
from typing import Any

import pytest

from nbplayground.experimentation.collector import (
    automatic_collection_paused,
    young_generations_only,
)
from nbplayground.experimentation.service import Outcome
from nbplayground.experimentation.writer import BatchWriter, wait_or_time_out
from tests.fakes import make_experiment


class Log:
    """Records each batch with the snapshot it was written with."""

    def __init__(self) -> None:
        self.batches: list[tuple[list[str], Any]] = []

    def record(self, batch: list[Outcome], state: Any) -> None:
        self.batches.append(([o.experiment.id for o in batch], state))


def outcome() -> Outcome:
    return Outcome(make_experiment())


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class ManualTimer:
    """The writer's flush timer, stepped by the test instead of slept through: each call is
    the writer waiting for its next step, and it ends when the test lets the delay pass or the
    writer is woken (a full batch, ending())."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()  # the writer is waiting (its previous step is done)
        self._passed = asyncio.Event()

    async def __call__(self, wake: asyncio.Event, delay: float) -> bool:
        self._passed = asyncio.Event()
        self.arrived.set()
        woken = asyncio.ensure_future(wake.wait())
        passed = asyncio.ensure_future(self._passed.wait())
        try:
            done, _ = await asyncio.wait({woken, passed}, return_when=asyncio.FIRST_COMPLETED)
            return woken in done
        finally:
            woken.cancel()
            passed.cancel()

    async def after(self, step: Callable[[], object]) -> None:
        """Do `step` and return once the writer has acted on it and is waiting again."""
        await self.arrived.wait()
        self.arrived.clear()
        step()
        await self.arrived.wait()

    async def elapse(self) -> None:
        """The delay passes."""
        await self.after(lambda: self._passed.set())


def test_each_batch_carries_the_snapshot_of_what_was_done_when_it_was_cut() -> None:
    log = Log()
    done: list[str] = []

    def put(writer: BatchWriter) -> None:
        o = outcome()
        done.append(o.experiment.id)
        writer.put(o)

    async def go() -> None:
        timer = ManualTimer()
        writer = BatchWriter(log.record, snapshot=lambda: len(done), max_delay=0.05,
                             timer=timer)
        writer.start()
        for _ in range(3):
            put(writer)
        await timer.elapse()  # a timed flush
        assert len(log.batches) == 1
        put(writer)
        await writer.close()

    asyncio.run(go())
    written = [i for ids, _ in log.batches for i in ids]
    assert written == done  # every outcome once, in order
    total = 0
    for ids, state in log.batches:
        total += len(ids)
        assert state == total  # the snapshot counts exactly the outcomes written so far


def test_close_writes_the_final_snapshot_even_with_nothing_pending() -> None:
    log = Log()
    state = {"status": "running"}

    async def go() -> None:
        writer = BatchWriter(log.record, snapshot=lambda: dict(state), max_delay=10)
        writer.start()
        state["status"] = "done"
        await writer.close()

    asyncio.run(go())
    assert log.batches == [([], {"status": "done"})]


def started(log: Log) -> tuple[BatchWriter, Clock, ManualTimer]:
    """A running writer (in the running loop) whose clock and timer the test steps."""
    clock, timer = Clock(), ManualTimer()
    writer = BatchWriter(log.record, max_delay=0.3, clock=clock, timer=timer)
    writer.start()
    return writer, clock, timer


def test_ending_writes_at_once_then_holds_timed_flushes_for_one_delay() -> None:
    log = Log()

    async def go() -> None:
        writer, clock, timer = started(log)
        writer.put(outcome())
        await timer.after(writer.ending)  # every cell has started: what is done goes now
        assert len(log.batches) == 1
        writer.put(outcome())
        clock.now += 0.2
        await timer.elapse()  # within the quiet delay: no timed flush
        assert len(log.batches) == 1
        clock.now += 0.5
        await timer.elapse()  # a long tail: timed flushes are back
        assert len(log.batches) == 2
        writer.put(outcome())
        await writer.close()

    asyncio.run(go())
    assert [len(ids) for ids, _ in log.batches] == [1, 1, 1]


def test_ending_again_after_its_quiet_delay_writes_at_once_again() -> None:
    """A sweep with judges: its cells have all started (ending), then later its judge calls
    have (ending again): what is done goes at once each time, not at the next timed flush."""
    log = Log()

    async def go() -> None:
        writer, clock, timer = started(log)
        writer.put(outcome())
        await timer.after(writer.ending)
        assert len(log.batches) == 1
        writer.put(outcome())
        clock.now += 0.1
        writer.ending()  # within the quiet delay: nothing more
        clock.now += 0.1
        await timer.elapse()
        assert len(log.batches) == 1
        clock.now += 0.2  # the quiet delay is over: ending writes at once again
        # (timer.after, with a guard: a writer never woken fails here, it does not hang)
        await asyncio.wait_for(timer.after(writer.ending), 30)
        assert len(log.batches) == 2
        await writer.close()

    asyncio.run(go())
    assert [len(ids) for ids, _ in log.batches] == [1, 1, 0]


def test_a_full_batch_is_written_without_waiting_for_the_timer() -> None:
    log = Log()

    async def go() -> None:
        timer = ManualTimer()  # never let elapse: only a full batch can cut one
        writer = BatchWriter(log.record, max_rows=3, max_delay=60, timer=timer)
        writer.start()
        await timer.after(lambda: [writer.put(outcome()) for _ in range(3)])
        assert [len(ids) for ids, _ in log.batches] == [3]
        await writer.close()

    asyncio.run(go())


def test_the_default_timer_tells_a_wake_up_from_a_timeout() -> None:
    async def go() -> tuple[bool, bool]:
        wake = asyncio.Event()
        quiet = await wait_or_time_out(wake, 0)
        wake.set()
        return quiet, await wait_or_time_out(wake, 60)

    assert asyncio.run(go()) == (False, True)


@pytest.fixture
def collector_on() -> Any:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_automatic_collection_is_paused_while_any_sweep_runs(collector_on: None) -> None:
    with automatic_collection_paused():
        assert not gc.isenabled()
        with automatic_collection_paused():  # a second sweep at the same time
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first is still running
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_on: None) -> None:
    gc.disable()
    with automatic_collection_paused():
        pass
    assert not gc.isenabled()
    gc.enable()


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_cyclic_garbage_is_still_collected_during_a_sweep(collector_on: None) -> None:
    async def go() -> bool:
        async with young_generations_only(interval=0.02):
            assert not gc.isenabled()
            node = Node()
            ref = weakref.ref(node)
            del node
            for _ in range(50):
                await asyncio.sleep(0.02)
                if ref() is None:
                    return True
            return False

    assert asyncio.run(go())
    assert gc.isenabled()
