"""Client-side rate limiting (a sliding window of requests) and Retry-After parsing.

The Polygon client runs its own retry loop so that every attempt passes this limiter and
tests can inject the clock and the sleep.
"""

from __future__ import annotations

import math
import time
from collections import deque
from email.utils import parsedate_to_datetime
from typing import Callable, Deque, Optional

from .errors import ConfigError
from .settings import DEFAULT_RATE_LIMIT_PER_MIN


class RateLimiter:
    """At most `per_minute` requests in any sliding window (5/min = the free tier)."""

    def __init__(
        self,
        per_minute: float = DEFAULT_RATE_LIMIT_PER_MIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not per_minute or per_minute <= 0:
            raise ConfigError(
                f"rate limit must be more than 0 requests per minute, got {per_minute!r}"
            )
        # A fractional rate (0.5/min) becomes 1 request per 120 s; 7.5/min becomes 7 per 56 s.
        self.capacity = max(1, int(per_minute))
        self.period = self.capacity * 60.0 / per_minute
        self.clock = clock
        self.sleep = sleep
        self._sent: Deque[float] = deque()
        self.waited = 0.0

    def wait_needed(self) -> float:
        """Seconds `acquire` would sleep if called now."""
        now = self.clock()
        live = [t for t in self._sent if now - t < self.period]
        if len(live) < self.capacity:
            return 0.0
        return live[-self.capacity] + self.period - now

    def acquire(self) -> float:
        """Block until one more request is allowed; returns the seconds waited."""
        waited = 0.0
        while True:
            now = self.clock()
            while self._sent and now - self._sent[0] >= self.period:
                self._sent.popleft()
            if len(self._sent) < self.capacity:
                self._sent.append(now)
                self.waited += waited
                return waited
            delay = self._sent[0] + self.period - now
            self.sleep(delay)
            waited += delay




def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


