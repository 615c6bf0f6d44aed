"""Client-side rate limits: RPM/TPM token buckets, fed by x-ratelimit headers, paused by 429s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Bucket:
    """A token bucket refilling `per_minute` units per minute.

    It holds one second's worth (at least one unit), so no 60-second window ever sees more than
    the limit plus one second's share: bursts at the start do not break the limit.
    """

    def __init__(self, per_minute: float, clock: Clock = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.level = self.capacity
        self._clock = clock
        self.stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, amount: float) -> float:
        """Seconds until `amount` is available (0 when it is); takes it when available."""
        self._refill()
        amount = min(amount, self.capacity)
        if self.level >= amount:
            self.level -= amount
            return 0.0
        return (amount - self.level) / self.rate

    def observe_remaining(self, remaining: float) -> None:
        self._refill()
        self.level = min(self.level, remaining)


class RateLimiter:
    """The buckets of one sweep (or one user's single runs). `clock` and `sleep` are its time:
    tests pass a fake pair and read how long it asked to wait, instead of timing it."""

    def __init__(self, rpm: float | None = None, tpm: float | None = None, *,
                 clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.requests = Bucket(rpm, clock) if rpm else None
        self.tokens = Bucket(tpm, clock) if tpm else None
        self._clock, self._sleep = clock, sleep
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self, tokens: int) -> None:
        """Wait until one request of `tokens` (prompt + max_tokens, as OpenAI counts) may go."""
        async with self._lock:
            while True:
                pause = self._paused_until - self._clock()
                if pause > 0:
                    await self._sleep(pause)
                    continue
                wait = self.requests.wait_for(1) if self.requests else 0.0
                if wait > 0:
                    await self._sleep(wait)
                    continue
                wait = self.tokens.wait_for(tokens) if self.tokens else 0.0
                if wait > 0:
                    if self.requests:
                        self.requests.level += 1  # give back the request slot taken above
                    await self._sleep(wait)
                    continue
                return

    def pause(self, seconds: float) -> None:
        """A 429 slows everyone down, not just the cell that got it."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Take the server's word on what is left this minute."""
        for key, bucket in (("x-ratelimit-remaining-requests", self.requests),
                            ("x-ratelimit-remaining-tokens", self.tokens)):
            value = headers.get(key)
            if bucket is not None and value is not None:
                try:
                    bucket.observe_remaining(float(value))
                except ValueError:
                    continue


class Limiters:
    """A service's RateLimiters, all on one clock: a new one per sweep, and one per user (and
    event loop) shared by that user's single runs."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.clock, self.sleep = clock, sleep
        self._per_user: dict[tuple[str, float, int], RateLimiter] = {}

    def new(self, rpm: float | None = None, tpm: float | None = None) -> RateLimiter:
        return RateLimiter(rpm, tpm, clock=self.clock, sleep=self.sleep)

    def of_user(self, user_id: str, rpm: float | None) -> RateLimiter | None:
        """The user's bucket for single runs (None without an rpm limit); call on the loop."""
        if not rpm:
            return None
        key = (user_id, rpm, id(asyncio.get_running_loop()))
        return self._per_user.setdefault(key, self.new(rpm))
