"""The one retry loop: exponential backoff with full jitter, honouring the server's retry-after."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4
    """For 5xx, timeouts and cut connections."""
    max_rate_limit_retries: int = 8
    """429s are the API asking us to slow down, not failing: they get more patience."""
    base_delay: float = 0.5
    max_delay: float = 30.0

    def allows(self, attempt: int, *, rate_limited: bool) -> bool:
        return attempt < (self.max_rate_limit_retries if rate_limited else self.max_retries)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt `attempt + 1`.

        The server's retry-after is a floor; up to a quarter more, at random, keeps the cells
        it paused together from all coming back in the same instant.
        """
        if retry_after is not None and retry_after >= 0:
            return min(retry_after * random.uniform(1.0, 1.25), self.max_delay)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))
