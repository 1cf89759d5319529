"""Rate limiters: a token bucket (client QPS, event spam filter) and the work queue's per-item backoff.

These mirror golang.org/x/time/rate and client-go's workqueue.DefaultControllerRateLimiter.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

__all__ = ["ControllerRateLimiter", "ItemExponentialBackoff", "TokenBucket"]

Clock = Callable[[], float]


@dataclass
class TokenBucket:
    """`qps` tokens a second, at most `burst` saved up; a reservation may put the bucket in debt.

    `reserve()` never blocks: it takes a token now and says how long the caller must wait for it to be
    valid (rate.Limiter.Reserve). `try_take()` takes a token only if one is available now (rate.Limiter.Allow).
    """

    qps: float
    burst: int
    clock: Clock = time.monotonic
    _tokens: float = field(init=False)
    _stamp: float = field(init=False)

    def __post_init__(self) -> None:
        if self.qps <= 0 or self.burst < 1:
            raise ValueError(f"a token bucket needs qps > 0 and burst >= 1, got {self.qps}/{self.burst}")
        self._tokens = float(self.burst)
        self._stamp = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.qps)
        self._stamp = now

    def reserve(self) -> float:
        """Take one token; return the seconds to wait before using it (0 when one was there)."""
        self._refill()
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def try_take(self) -> bool:
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    async def wait(self) -> None:
        """Wait for one token (rate.Limiter.Wait), fairly: reservations are served in call order."""
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass
class ItemExponentialBackoff:
    """Per-item exponential backoff: base * 2**failures, capped (workqueue.NewItemExponentialFailureRateLimiter)."""

    base: float = 0.005
    cap: float = 1000.0
    _failures: dict[Hashable, int] = field(default_factory=dict)

    def when(self, item: Hashable) -> float:
        failures = self._failures.get(item, 0)
        self._failures[item] = failures + 1
        if failures >= 64:  # 2**64 * base is past any cap; and 2.0**1024 would overflow (client-go guards too)
            return self.cap
        return float(min(self.base * 2.0**failures, self.cap))

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def retries(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


@dataclass
class ControllerRateLimiter:
    """The larger of a per-item backoff and an overall bucket (workqueue.DefaultControllerRateLimiter).

    Defaults as upstream: 5 ms doubling to 1000 s per item, and 10 qps with a burst of 100 overall, so a
    storm of failures across many keys is slowed down as a whole.
    """

    item: ItemExponentialBackoff = field(default_factory=ItemExponentialBackoff)
    overall: TokenBucket = field(default_factory=lambda: TokenBucket(qps=10, burst=100))

    def when(self, item: Hashable) -> float:
        return max(self.item.when(item), self.overall.reserve())

    def forget(self, item: Hashable) -> None:
        self.item.forget(item)

    def retries(self, item: Hashable) -> int:
        return self.item.retries(item)
