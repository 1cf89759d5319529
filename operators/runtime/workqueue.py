"""A coalescing, rate-limited work queue of object keys, with client-go's workqueue semantics.

- A key is queued at most once: adding a key that is already waiting does nothing (coalescing).
- A key is processed by at most one worker at a time: a key added while it is being processed is
  remembered ("dirty") and queued again when the worker calls `done()`.
- `add_after()` delays an addition (requeue-after); `add_rate_limited()` delays it by the rate limiter
  (retries with backoff); `forget()` resets the key's backoff after a successful sync.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

from operators.runtime.ratelimit import ControllerRateLimiter

__all__ = ["ShutDown", "WorkQueue"]

K = TypeVar("K", bound=Hashable)


class ShutDown(Exception):
    """Raised by `get()` once the queue is shut down and drained of waiters."""


class WorkQueue(Generic[K]):
    """Keys waiting to be synced. All methods but `get()` are synchronous and safe to call from handlers."""

    def __init__(self, *, rate_limiter: ControllerRateLimiter | None = None) -> None:
        self.rate_limiter = rate_limiter or ControllerRateLimiter()
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
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.append(key)
            self._ready.set()

    def add_after(self, key: K, delay: float) -> None:
        """Add `key` after `delay` seconds; an earlier pending add_after of the same key wins."""
        if self._shutting_down:
            return
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
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: K) -> None:
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
