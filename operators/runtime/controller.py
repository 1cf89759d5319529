"""Level-triggered controllers: workers that take keys from a work queue and call `sync(key)`.

The shape of every upstream controller's processNextWorkItem: a key is synced by one worker at a time;
success forgets its backoff; an error requeues it rate-limited; `Result(requeue_after=…)` schedules the next
look (minReadySeconds, progress deadlines). `sync()` reads the informer caches and converges the object from
observed state; it never depends on which event woke it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from operators.runtime.client import ApiError
from operators.runtime.workqueue import ShutDown, WorkQueue

__all__ = ["Controller", "Reconciler", "Result", "SyncError"]

logger = logging.getLogger(__name__)


class SyncError(Exception):
    """An expected failure of one sync (a refused create, a failed adoption): one log line, retry with backoff."""


@dataclass(frozen=True, slots=True)
class Result:
    """What a sync asks for besides success: look at this key again after `requeue_after` seconds."""

    requeue_after: float | None = None


class Reconciler(Protocol):
    """One controller's logic: converge the object named by `key` ("namespace/name")."""

    name: str

    async def sync(self, key: str) -> Result | None: ...


class Controller:
    """Runs `workers` concurrent workers for one reconciler, once the caches have synced."""

    def __init__(self, reconciler: Reconciler, *, workers: int = 5, queue: WorkQueue[str] | None = None) -> None:
        self.reconciler = reconciler
        self.workers = workers
        self.queue: WorkQueue[str] = queue if queue is not None else WorkQueue()
        self.syncs = 0  # completed syncs, for tests and benchmarks
        self._tasks: list[asyncio.Task[None]] = []

    def enqueue(self, key: str) -> None:
        self.queue.add(key)

    def enqueue_after(self, key: str, delay: float) -> None:
        self.queue.add_after(key, delay)

    async def start(self, synced: asyncio.Event) -> None:
        """Start the workers; they wait for `synced` (all caches filled) before the first sync."""
        for number in range(self.workers):
            name = f"{self.reconciler.name}-worker-{number}"
            self._tasks.append(asyncio.create_task(self._worker(synced), name=name))

    async def stop(self) -> None:
        self.queue.shut_down()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _worker(self, synced: asyncio.Event) -> None:
        await synced.wait()
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                await self._process(key)
            finally:
                self.queue.done(key)

    async def _process(self, key: str) -> None:
        try:
            result = await self.reconciler.sync(key)
        except asyncio.CancelledError:
            raise
        except (ApiError, SyncError) as error:
            logger.warning("%s: sync %s failed, will retry: %s", self.reconciler.name, key, error)
            self.queue.add_rate_limited(key)
        except Exception:
            logger.exception("%s: sync %s failed, will retry", self.reconciler.name, key)
            self.queue.add_rate_limited(key)
        else:
            self.queue.forget(key)
            if result is not None and result.requeue_after is not None:
                self.queue.add_after(key, result.requeue_after)
        finally:
            self.syncs += 1
