"""Controller: processNextWorkItem semantics with a fake reconciler (no Kopf, no API server)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from operators.kube.objects import Pod
from operators.kube.resources import Resource
from operators.runtime.client import ApiError
from operators.runtime.controller import Controller, Result, SyncError
from operators.runtime.informers import Informer
from operators.runtime.ratelimit import ControllerRateLimiter, ItemExponentialBackoff, TokenBucket
from operators.runtime.workqueue import WorkQueue

LOGGER = "operators.runtime.controller"

Outcome = BaseException | Result | None


@dataclass
class Call:
    key: str
    at: float
    retries: int  # the key's backoff count when the sync started


@dataclass
class FakeReconciler:
    """Plays back scripted outcomes per key (an exception is raised, a Result returned); then returns None."""

    name: str = "fake"
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)
    delay: float = 0.0
    gate: asyncio.Event | None = None  # when given, every sync waits for it before it returns
    queue: WorkQueue[str] | None = None
    calls: list[Call] = field(default_factory=list)
    active: set[str] = field(default_factory=set)
    overlaps: list[str] = field(default_factory=list)
    max_active: int = 0

    async def sync(self, key: str) -> Result | None:
        loop = asyncio.get_running_loop()
        retries = self.queue.retries(key) if self.queue is not None else -1
        self.calls.append(Call(key, loop.time(), retries))
        if key in self.active:
            self.overlaps.append(key)
        self.active.add(key)
        self.max_active = max(self.max_active, len(self.active))
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.gate is not None:
                await self.gate.wait()
            script = self.outcomes.get(key) or []
            outcome = script.pop(0) if script else None
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome
        finally:
            self.active.discard(key)

    def calls_of(self, key: str) -> list[Call]:
        return [c for c in self.calls if c.key == key]


async def eventually(condition: Callable[[], bool], within: float = 0.8) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.002)


def make_controller(reconciler: FakeReconciler, *, workers: int = 2) -> Controller:
    """A controller with its default queue (5 ms doubling per key; see test_controller_uses_the_given_queue)."""
    controller = Controller(reconciler, workers=workers)
    reconciler.queue = controller.queue
    return controller


@pytest.fixture
async def running() -> AsyncIterator[list[Controller]]:
    """Controllers a test started; stopped whatever the outcome."""
    controllers: list[Controller] = []
    yield controllers
    for controller in controllers:
        await asyncio.wait_for(controller.stop(), timeout=1)


async def start(controller: Controller, running: list[Controller]) -> None:
    running.append(controller)
    await controller.start()


def test_controller_defaults() -> None:
    controller = Controller(FakeReconciler())
    assert controller.workers == 5
    assert isinstance(controller.queue, WorkQueue)
    assert controller.syncs == 0


def test_controller_uses_the_given_queue() -> None:
    limiter = ControllerRateLimiter(item=ItemExponentialBackoff(base=0.5), overall=TokenBucket(qps=1, burst=1))
    queue: WorkQueue[str] = WorkQueue(rate_limiter=limiter)
    controller = Controller(FakeReconciler(), queue=queue)
    assert controller.queue is queue


def test_controller_uses_the_given_non_empty_queue() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("ns/a")
    controller = Controller(FakeReconciler(), queue=queue)
    assert controller.queue is queue


async def test_success_forgets_the_backoff(running: list[Controller]) -> None:
    reconciler = FakeReconciler()
    controller = make_controller(reconciler)
    controller.queue.rate_limiter.when("ns/a")
    controller.queue.rate_limiter.when("ns/a")
    assert controller.queue.retries("ns/a") == 2
    controller.enqueue("ns/a")
    await start(controller, running)
    await eventually(lambda: controller.syncs == 1)
    assert [c.retries for c in reconciler.calls] == [2]
    assert controller.queue.retries("ns/a") == 0
    await asyncio.sleep(0.05)
    assert controller.syncs == 1, "a successful sync must not requeue the key"


async def test_error_requeues_rate_limited(running: list[Controller]) -> None:
    reconciler = FakeReconciler(outcomes={"ns/a": [RuntimeError("boom"), RuntimeError("boom"), None]})
    controller = make_controller(reconciler)
    controller.enqueue("ns/a")
    await start(controller, running)
    await eventually(lambda: controller.syncs == 3)

    calls = reconciler.calls_of("ns/a")
    assert [c.retries for c in calls] == [0, 1, 2], "each failure adds one to the key's backoff"
    assert calls[1].at - calls[0].at >= 0.004  # 5 ms
    assert calls[2].at - calls[1].at >= 0.009  # 10 ms
    assert controller.queue.retries("ns/a") == 0, "the final success forgets the backoff"
    await asyncio.sleep(0.05)
    assert controller.syncs == 3


async def test_requeue_after(running: list[Controller]) -> None:
    reconciler = FakeReconciler(outcomes={"ns/a": [Result(requeue_after=0.06), None]})
    controller = make_controller(reconciler)
    controller.queue.rate_limiter.when("ns/a")  # a previous failure: Result is a success and forgets it
    controller.enqueue("ns/a")
    await start(controller, running)
    await eventually(lambda: controller.syncs == 1)
    assert controller.queue.retries("ns/a") == 0
    await eventually(lambda: controller.syncs == 2)
    first, second = reconciler.calls_of("ns/a")
    assert 0.05 <= second.at - first.at < 0.5
    await asyncio.sleep(0.08)
    assert controller.syncs == 2, "a plain None result must not requeue"


async def test_result_without_requeue_after_does_not_requeue(running: list[Controller]) -> None:
    reconciler = FakeReconciler(outcomes={"ns/a": [Result()]})
    controller = make_controller(reconciler)
    controller.enqueue("ns/a")
    await start(controller, running)
    await eventually(lambda: controller.syncs == 1)
    await asyncio.sleep(0.05)
    assert controller.syncs == 1


@pytest.mark.parametrize(
    "error",
    [
        SyncError("pod creation refused"),
        ApiError(status=409, reason="Conflict", message="the object has been modified"),
    ],
    ids=["SyncError", "ApiError"],
)
async def test_expected_errors_log_a_warning_without_traceback(
    running: list[Controller], caplog: pytest.LogCaptureFixture, error: Exception
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    reconciler = FakeReconciler(outcomes={"ns/a": [error]})
    controller = make_controller(reconciler)
    controller.enqueue("ns/a")
    await start(controller, running)
    await eventually(lambda: controller.syncs == 2)  # the failure, then the retry

    records = [r for r in caplog.records if r.name == LOGGER]
    assert len(records) == 1
    (record,) = records
    assert record.levelno == logging.WARNING
    assert record.exc_info is None, "an expected failure is one line, no traceback"
    assert "ns/a" in record.getMessage()
    assert "fake" in record.getMessage()
    assert str(error) in record.getMessage()


async def test_unexpected_errors_log_with_traceback(
    running: list[Controller], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    reconciler = FakeReconciler(outcomes={"ns/a": [ValueError("a bug")]})
    controller = make_controller(reconciler)
    controller.enqueue("ns/a")
    await start(controller, running)
    await eventually(lambda: controller.syncs == 2)

    records = [r for r in caplog.records if r.name == LOGGER]
    assert len(records) == 1
    (record,) = records
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and record.exc_info[0] is ValueError
    assert "ns/a" in record.getMessage()
    assert controller.queue.retries("ns/a") == 0  # retried, and the retry succeeded


async def test_workers_wait_for_synced(running: list[Controller]) -> None:
    """cache.WaitForCacheSync: no sync before every informer the controller reads has listed its scopes."""
    reconciler = FakeReconciler()
    pods: Informer[Pod] = Informer(Resource("", "v1", "pods"), Pod.from_dict, scopes=("ns1", "ns2"))
    controller = Controller(reconciler, workers=2, waits_for=[pods])
    reconciler.queue = controller.queue
    controller.enqueue("ns/a")
    await start(controller, running)
    pods.mark_synced("ns1")
    await asyncio.sleep(0.05)
    assert reconciler.calls == [], "a worker synced before the caches were filled"
    assert len(controller.queue) == 1
    pods.mark_synced("ns2")
    await eventually(lambda: controller.syncs == 1)
    assert [c.key for c in reconciler.calls] == ["ns/a"]


async def test_enqueue_after(running: list[Controller]) -> None:
    reconciler = FakeReconciler()
    controller = make_controller(reconciler)
    await start(controller, running)
    loop = asyncio.get_running_loop()
    start_at = loop.time()
    controller.enqueue_after("ns/a", 0.04)
    await eventually(lambda: controller.syncs == 1)
    assert reconciler.calls[0].at - start_at >= 0.03


async def test_a_key_is_synced_by_one_worker_at_a_time(running: list[Controller]) -> None:
    gate = asyncio.Event()  # the first syncs are held until the test has enqueued everything: no timing involved
    reconciler = FakeReconciler(gate=gate)
    controller = make_controller(reconciler, workers=5)
    await start(controller, running)
    for key in ("ns/a", "ns/b", "ns/c"):
        controller.enqueue(key)
    await eventually(lambda: len(reconciler.active) == 3)
    for _ in range(5):  # the key is being synced: these coalesce into one more sync after it
        controller.enqueue("ns/a")
    gate.set()
    await eventually(lambda: controller.syncs == 4)
    await eventually(lambda: not reconciler.active and len(controller.queue) == 0)

    assert reconciler.overlaps == [], "one key was synced by two workers at once"
    assert reconciler.max_active == 3, "different keys should be synced concurrently"
    assert len(reconciler.calls_of("ns/a")) == 2
    assert controller.syncs == 4


async def test_stop_ends_the_workers(running: list[Controller]) -> None:
    blocker = asyncio.Event()

    class Blocking(FakeReconciler):
        async def sync(self, key: str) -> Result | None:
            await super().sync(key)
            await blocker.wait()  # never set: stop() must cancel it
            return None

    reconciler = Blocking(name="blocking")
    controller = make_controller(reconciler, workers=3)
    await start(controller, running)
    controller.enqueue("ns/a")
    await eventually(lambda: len(reconciler.calls) == 1)

    def workers() -> list[asyncio.Task[object]]:
        return [t for t in asyncio.all_tasks() if t.get_name().startswith("blocking-worker-") and not t.done()]

    assert len(workers()) == 3
    await asyncio.wait_for(controller.stop(), timeout=0.5)
    assert workers() == []
    controller.enqueue("ns/b")  # the queue is shut down: refused
    assert len(controller.queue) == 0


async def test_stop_before_synced(running: list[Controller]) -> None:
    never: Informer[Pod] = Informer(Resource("", "v1", "pods"), Pod.from_dict, scopes=("never-listed",))
    controller = Controller(FakeReconciler(name="unsynced"), workers=2, waits_for=[never])
    await start(controller, running)
    await asyncio.wait_for(controller.stop(), timeout=0.5)
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("unsynced-worker-") and not t.done()]


async def test_a_rate_limited_result_requeues_with_backoff_and_no_warning(
    running: list[Controller], caplog: pytest.LogCaptureFixture
) -> None:
    """enqueueRateLimited without an error (a progress deadline due now): the backoff grows, nothing is logged
    above debug, and the first plain success forgets it."""
    reconciler = FakeReconciler(outcomes={"ns/a": [Result(rate_limited=True), Result(rate_limited=True)]})
    controller = make_controller(reconciler)
    await start(controller, running)
    controller.enqueue("ns/a")
    await eventually(lambda: controller.syncs == 3)
    assert [c.retries for c in reconciler.calls] == [0, 1, 2]
    assert controller.queue.retries("ns/a") == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
