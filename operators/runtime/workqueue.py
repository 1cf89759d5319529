"""A coalescing, rate-limited work queue of object keys, with client-go's workqueue semantics.

- A key is queued at most once: adding a key that is already waiting does nothing (coalescing).
- A key is processed by at most one worker at a time: a key added while it is being processed is
  remembered ("dirty") and queued again when the worker calls `done()`.
- `add_after()` delays an addition (requeue-after); `add_rate_limited()` delays it by the rate limiter
  (retries with backoff); `forget()` resets the key's backoff after a successful sync.
- A `QueueMetrics` sees every add, get, done and retry at the points client-go's queue reports them
  (operators.runtime.metrics implements it for Prometheus); without one the queue reports to nobody.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

from operators.runtime.ratelimit import ControllerRateLimiter

__all__ = ["NoQueueMetrics", "QueueMetrics", "ShutDown", "WorkQueue"]

K = TypeVar("K", bound=Hashable)


class ShutDown(Exception):
    """Raised by `get()` once the queue is shut down and drained of waiters."""


class QueueMetrics(Protocol):
    """What a work queue reports, hook for hook client-go's queueMetrics and retryMetrics."""

    def add(self, key: Hashable) -> None:
        """A key became dirty: one more add, one more waiting, and the time it started waiting."""

    def get(self, key: Hashable) -> None:
        """A worker took the key: one fewer waiting, how long it waited, and the time its processing started."""

    def done(self, key: Hashable) -> None:
        """A worker finished the key: how long it was processed."""

    def retry(self) -> None:
        """A delayed add (add_after, add_rate_limited) was asked for."""


class NoQueueMetrics:
    """The metrics of a queue that reports to nobody (client-go's noMetrics)."""

    def add(self, key: Hashable) -> None:
        pass

    def get(self, key: Hashable) -> None:
        pass

    def done(self, key: Hashable) -> None:
        pass

    def retry(self) -> None:
        pass


class WorkQueue(Generic[K]):
    """Keys waiting to be synced. All methods but `get()` are synchronous and safe to call from handlers."""

    def __init__(
        self,
        *,
        name: str = "",
        rate_limiter: ControllerRateLimiter | None = None,
        metrics: QueueMetrics | None = None,
    ) -> None:
        self.name = name
        self.rate_limiter = rate_limiter or ControllerRateLimiter()
        self.metrics: QueueMetrics = metrics if metrics is not None else NoQueueMetrics()
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()  # queued, or to be queued again when its processing is done
        self._processing: set[K] = set()
        self._waiting: list[tuple[float, int, K]] = []  # heap of (ready_at, seq, key) for add_after
        self._waiting_at: dict[K, float] = {}  # the earliest pending add_after per key
        self._seq = itertools.count()
        self._ready = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._shutting_down = False

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, key: K) -> None:
        # As client-go's Add: an add that coalesces with a dirty key is not an add to the metrics, but a key
        # re-added while it is being processed is one (adds + 1, depth + 1) although it enters the queue only
        # at done(); so depth counts the keys waiting for a worker, including those waiting for their own.
        if self._shutting_down or key in self._dirty:
            return
        self.metrics.add(key)
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.append(key)
            self._ready.set()

    def add_after(self, key: K, delay: float) -> None:
        """Add `key` after `delay` seconds; an earlier pending add_after of the same key wins."""
        if self._shutting_down:
            return
        # client-go's delaying queue counts a retry for every AddAfter it accepts: zero delays and adds
        # superseded by an earlier pending one included. add_rate_limited() is an add_after(), so it counts too.
        self.metrics.retry()
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        ready_at = loop.time() + delay
        if self._waiting_at.get(key, float("inf")) <= ready_at:
            return
        self._waiting_at[key] = ready_at
        heapq.heappush(self._waiting, (ready_at, next(self._seq), key))
        self._arm_timer(loop)

    def add_rate_limited(self, key: K) -> None:
        self.add_after(key, self.rate_limiter.when(key))

    def forget(self, key: K) -> None:
        self.rate_limiter.forget(key)

    def retries(self, key: K) -> int:
        return self.rate_limiter.retries(key)

    async def get(self) -> K:
        """The next key to process; the caller must call `done(key)` when finished with it."""
        while not self._queue:
            if self._shutting_down:
                raise ShutDown
            self._ready.clear()
            await self._ready.wait()
        key = self._queue.popleft()
        self.metrics.get(key)
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: K) -> None:
        self.metrics.done(key)
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._ready.set()

    def shut_down(self) -> None:
        self._shutting_down = True
        if self._timer is not None:
            self._timer.cancel()
        self._ready.set()

    def _arm_timer(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(self._waiting[0][0], self._release_due, loop)

    def _release_due(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        while self._waiting and self._waiting[0][0] <= now:
            ready_at, _, key = heapq.heappop(self._waiting)
            if self._waiting_at.get(key) == ready_at:
                del self._waiting_at[key]
                self.add(key)
        if self._waiting:
            self._arm_timer(loop)
