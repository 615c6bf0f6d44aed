"""The RPM/TPM buckets on a fake clock: how long they ask to wait, never how long they took."""

from __future__ import annotations

import asyncio

import pytest

from nbplayground.experimentation.throttle import Limiters, RateLimiter
from tests.fakes import FakeClock


def limiter(clock: FakeClock, rpm: float | None = None, tpm: float | None = None) -> RateLimiter:
    return RateLimiter(rpm, tpm, clock=clock, sleep=clock.asleep)


def acquire(lim: RateLimiter, n: int, tokens: int = 1) -> None:
    async def go() -> None:
        for _ in range(n):
            await lim.acquire(tokens)

    asyncio.run(go())


def test_a_burst_of_one_seconds_share_then_one_slot_per_interval() -> None:
    clock = FakeClock()
    acquire(limiter(clock, rpm=120), 5)  # two a second
    assert clock.sleeps == pytest.approx([0.5, 0.5, 0.5])
    assert clock() == pytest.approx(1.5)


def test_time_that_passed_refills_the_bucket() -> None:
    clock = FakeClock()
    lim = limiter(clock, rpm=60)
    acquire(lim, 1)
    clock.now += 1.0  # a second passed elsewhere: one slot back
    acquire(lim, 1)
    assert clock.sleeps == []


def test_tokens_per_minute_hold_a_request_back_however_many_requests_are_left() -> None:
    clock = FakeClock()
    lim = limiter(clock, rpm=600, tpm=6000)  # 10 requests, 100 tokens a second
    acquire(lim, 3, tokens=50)
    assert clock.sleeps == pytest.approx([0.5])  # the third waited for its 50 tokens


def test_a_429_pauses_everyone_for_retry_after() -> None:
    clock = FakeClock()
    lim = limiter(clock, rpm=6000)
    lim.pause(3.0)
    lim.pause(1.0)  # a shorter pause does not shorten the longer one
    acquire(lim, 1)
    assert clock.sleeps == pytest.approx([3.0])


def test_the_servers_remaining_count_lowers_the_bucket() -> None:
    clock = FakeClock()
    lim = limiter(clock, rpm=120)
    lim.observe({"x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "x"})
    acquire(lim, 1)
    assert clock.sleeps == pytest.approx([0.5])


def test_single_runs_of_a_user_share_one_bucket_on_the_services_clock() -> None:
    clock = FakeClock()
    limiters = Limiters(clock=clock, sleep=clock.asleep)

    async def go() -> None:
        assert limiters.of_user("alice", None) is None  # no limit: no bucket at all
        mine = limiters.of_user("alice", 60)
        assert mine is limiters.of_user("alice", 60)
        assert mine is not limiters.of_user("bob", 60)
        assert mine is not None
        await mine.acquire(1)
        await mine.acquire(1)

    asyncio.run(go())
    assert clock.sleeps == pytest.approx([1.0])
