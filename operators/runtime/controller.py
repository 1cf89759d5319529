"""Level-triggered controllers: workers that take keys from a work queue and call `sync(key)`.

The shape of every upstream controller's processNextWorkItem: a key is synced by one worker at a time;
success forgets its backoff; an error requeues it rate-limited; `Result(requeue_after=…)` schedules the next
look (minReadySeconds, progress deadlines). `sync()` reads the informer caches and converges the object from
observed state; it never depends on which event woke it.

Workers start only once the informers their controller reads have synced (cache.WaitForCacheSync): a
controller that synced against a half-filled pod cache would create pods that merely have not been seen yet.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from operators.runtime.client import CONNECTION_ERRORS, ApiError, describe_error
from operators.runtime.informers import Informer
from operators.runtime.metrics import Metrics
from operators.runtime.workqueue import ShutDown, WorkQueue

__all__ = ["Controller", "Lane", "Reconciler", "Result", "StaleCache", "SyncError"]

logger = logging.getLogger(__name__)


class SyncError(Exception):
    """An expected failure of one sync (a refused create, a failed adoption): one log line, retry with backoff."""


class StaleCache(SyncError):
    """The cache has not caught up with this controller's own writes yet (a StaleInformerCache error).

    Syncing now could duplicate or lose a write, so the key is retried with backoff, like any SyncError;
    it is routine under load, so it is logged at debug level only.
    """


# Failures that are events, not bugs: logged in one line, without a stack trace, and retried with backoff.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (ApiError, SyncError, *CONNECTION_ERRORS)


@dataclass(frozen=True, slots=True)
class Result:
    """What a sync asks for besides success: look at this key again after `requeue_after` seconds, or
    with its backoff (`rate_limited`: Go's enqueueRateLimited of a key that is fine but not done yet)."""

    requeue_after: float | None = None
    rate_limited: bool = False  # look again with the key's backoff (workqueue AddRateLimited), quietly


class Reconciler(Protocol):
    """One controller's logic: converge the object named by `key` ("namespace/name")."""

    name: str

    async def sync(self, key: str) -> Result | None: ...


@dataclass(slots=True)
class Lane:
    """A second work queue of one controller, for work that must never hold up its main sync.

    Its keys are the controller's keys; `sync` is one of the controller's methods. The MiniService
    controller writes its status in a lane of its own: a status PATCH in flight would otherwise keep the
    next pod change waiting for the Service's key, and that wait is the endpoint's propagation tail.
    """

    name: str
    sync: Callable[[str], Coroutine[Any, Any, Result | None]]


class Controller:
    """Runs `workers` concurrent workers for one reconciler, once its informers have synced."""

    def __init__(
        self,
        reconciler: Reconciler,
        *,
        workers: int = 5,
        waits_for: Sequence[Informer[Any]] = (),
        metrics: Metrics | None = None,
        queue: WorkQueue[str] | None = None,
    ) -> None:
        self.reconciler = reconciler
        self.name = reconciler.name
        self.workers = workers
        self.waits_for = tuple(waits_for)
        self.metrics = metrics
        queue_metrics = metrics.queue(self.name) if metrics is not None else None
        self.queue: WorkQueue[str] = queue if queue is not None else WorkQueue(name=self.name, metrics=queue_metrics)
        self.syncs = 0  # completed syncs, for tests and benchmarks
        self._tasks: list[asyncio.Task[None]] = []
        self._active = 0
        if metrics is not None:
            metrics.init_controller(self.name, workers)

    def enqueue(self, key: str) -> None:
        self.queue.add(key)

    def enqueue_after(self, key: str, delay: float) -> None:
        self.queue.add_after(key, delay)

    async def start(self) -> None:
        """Start the workers; they wait for the informers in `waits_for` before the first sync."""
        if self._tasks:
            return
        for number in range(self.workers):
            self._tasks.append(asyncio.create_task(self._worker(), name=f"{self.name}-worker-{number}"))

    async def stop(self) -> None:
        """Shut the queue down and cancel the workers (a sync in flight is abandoned; whoever runs next redoes it)."""
        self.queue.shut_down()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _worker(self) -> None:
        await asyncio.gather(*(informer.wait_synced() for informer in self.waits_for))
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
        started = time.monotonic()
        self._set_active(+1)
        outcome = "error"
        try:
            result = await self.reconciler.sync(key)
        except asyncio.CancelledError:
            raise
        except StaleCache as error:
            logger.debug("%s: sync %s postponed: %s", self.name, key, error)
            self.queue.add_rate_limited(key)
        except EXPECTED_ERRORS as error:
            logger.warning("%s: sync %s failed, will retry: %s", self.name, key, _describe(error))
            self.queue.add_rate_limited(key)
        except Exception:
            logger.exception("%s: sync %s failed, will retry", self.name, key)
            self.queue.add_rate_limited(key)
        else:
            outcome = "success"
            if result is not None and result.rate_limited:
                self.queue.add_rate_limited(key)  # not forgotten: the backoff grows until the key is done
                outcome = "requeue_after"
            else:
                self.queue.forget(key)
            if result is not None and result.requeue_after is not None:
                self.queue.add_after(key, result.requeue_after)
                outcome = "requeue_after"
        finally:
            self.syncs += 1
            self._set_active(-1)
            if self.metrics is not None:
                self.metrics.observe_reconcile(self.name, outcome, time.monotonic() - started)

    def _set_active(self, change: int) -> None:
        self._active += change
        if self.metrics is not None:
            self.metrics.set_active_workers(self.name, self._active)


def _describe(error: Exception) -> str:
    """A SyncError says what failed in its own words; everything else as `describe_error` puts it."""
    return str(error) if isinstance(error, SyncError) and str(error) else describe_error(error)
