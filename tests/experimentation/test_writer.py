"""BatchWriter and the collector pause: what a sweep does with the log and the GC while it runs."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest

from nbplayground.experimentation.collector import (
    automatic_collection_paused,
    young_generations_only,
)
from nbplayground.experimentation.service import Outcome
from nbplayground.experimentation.writer import BatchWriter
from tests.fakes import make_experiment


class Log:
    """Records each batch with the snapshot it was written with."""

    def __init__(self) -> None:
        self.batches: list[tuple[list[str], Any]] = []

    def record(self, batch: list[Outcome], state: Any) -> None:
        self.batches.append(([o.experiment.id for o in batch], state))


def outcome() -> Outcome:
    return Outcome(make_experiment())


def test_each_batch_carries_the_snapshot_of_what_was_done_when_it_was_cut() -> None:
    log = Log()
    done: list[str] = []

    async def go() -> None:
        writer = BatchWriter(log.record, snapshot=lambda: len(done), max_delay=0.05)
        writer.start()
        for _ in range(3):
            o = outcome()
            done.append(o.experiment.id)
            writer.put(o)
        await asyncio.sleep(0.2)  # a timed flush
        o = outcome()
        done.append(o.experiment.id)
        writer.put(o)
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


def test_ending_writes_at_once_then_holds_timed_flushes_for_one_delay() -> None:
    log = Log()

    async def go() -> None:
        writer = BatchWriter(log.record, max_delay=0.3)
        writer.start()
        writer.put(outcome())
        writer.ending()  # every cell has started: what is done goes now
        await asyncio.sleep(0.05)
        assert len(log.batches) == 1
        writer.put(outcome())
        await asyncio.sleep(0.2)  # within the quiet delay: no timed flush
        assert len(log.batches) == 1
        await asyncio.sleep(0.5)  # a long tail: timed flushes are back
        assert len(log.batches) == 2
        writer.put(outcome())
        await writer.close()

    asyncio.run(go())
    assert [len(ids) for ids, _ in log.batches] == [1, 1, 1]


def test_a_full_batch_is_written_without_waiting_for_the_timer() -> None:
    log = Log()

    async def go() -> None:
        writer = BatchWriter(log.record, max_rows=3, max_delay=60)
        writer.start()
        for _ in range(3):
            writer.put(outcome())
        await asyncio.sleep(0.05)
        assert [len(ids) for ids, _ in log.batches] == [3]
        await writer.close()

    asyncio.run(go())


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
