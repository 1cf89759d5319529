"""WorkQueue: client-go's workqueue (queue_test.go), delaying queue (delaying_queue_test.go) and
rate-limiting queue (rate_limiting_queue_test.go) semantics.

Upstream steps a fake clock; the queue here schedules on the event loop's clock, so the delaying tests use
small real delays (tens of milliseconds) and assert orderings and generous bounds rather than exact times.
"""

from __future__ import annotations

import asyncio

import pytest

from operators.runtime.ratelimit import ControllerRateLimiter, ItemExponentialBackoff, TokenBucket
from operators.runtime.workqueue import ShutDown, WorkQueue


async def wait_for_len(queue: WorkQueue[str], depth: int, within: float = 0.5) -> float:
    """Poll until `len(queue) == depth` (upstream's waitForAdded); return the seconds it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while len(queue) != depth:
        if loop.time() - start > within:
            raise AssertionError(f"queue length stayed {len(queue)}, expected {depth} within {within}s")
        await asyncio.sleep(0.001)
    return loop.time() - start


async def get_now(queue: WorkQueue[str]) -> str:
    """`get()` that must not block (the key is known to be queued)."""
    return await asyncio.wait_for(queue.get(), timeout=0.5)


# --- queue_test.go ---------------------------------------------------------------------------------------------


async def test_basic() -> None:
    """TestBasic: 50 producers, 10 consumers; nothing added after shut_down is handed out; the queue drains."""
    queue: WorkQueue[str] = WorkQueue()
    in_flight: set[str] = set()
    violations: list[str] = []
    processed: set[str] = set()

    async def producer(i: int) -> None:
        for _ in range(50):
            queue.add(f"key-{i}")
            await asyncio.sleep(0.001)

    async def consumer() -> None:
        while True:
            try:
                key = await queue.get()
            except ShutDown:
                return
            if key == "added after shutdown!":
                violations.append("got an item added after shutdown")
            if key in in_flight:
                violations.append(f"{key} handed to two workers at once")
            in_flight.add(key)
            await asyncio.sleep(0.003)
            in_flight.discard(key)
            processed.add(key)
            queue.done(key)

    consumers = [asyncio.create_task(consumer()) for _ in range(10)]
    await asyncio.gather(*(producer(i) for i in range(50)))
    queue.shut_down()
    queue.add("added after shutdown!")
    await asyncio.wait_for(asyncio.gather(*consumers), timeout=2)

    assert violations == []
    assert processed == {f"key-{i}" for i in range(50)}
    assert len(queue) == 0


async def test_add_while_processing() -> None:
    """TestAddWhileProcessing: every worker re-adds every item once (the dirty-while-processing case)."""
    queue: WorkQueue[int] = WorkQueue()
    for i in range(50):
        queue.add(i)
    in_flight: set[int] = set()
    violations: list[int] = []
    gets: dict[int, int] = {}

    async def consumer() -> None:
        counters: dict[int, int] = {}
        while True:
            try:
                item = await queue.get()
            except ShutDown:
                return
            if item in in_flight:
                violations.append(item)
            in_flight.add(item)
            gets[item] = gets.get(item, 0) + 1
            counters[item] = counters.get(item, 0) + 1
            if counters[item] < 2:
                queue.add(item)
            await asyncio.sleep(0)  # let the other workers try to take the item meanwhile
            in_flight.discard(item)
            queue.done(item)

    consumers = [asyncio.create_task(consumer()) for _ in range(10)]
    # Let the re-adds happen before shutting down, so that they are not refused.
    loop = asyncio.get_running_loop()
    start = loop.time()
    while len(gets) < 50 or any(n < 2 for n in gets.values()):
        assert loop.time() - start < 1, f"re-added items were not processed again: {gets}"
        await asyncio.sleep(0.001)
    queue.shut_down()
    await asyncio.wait_for(asyncio.gather(*consumers), timeout=1)

    assert violations == []
    assert all(n >= 2 for n in gets.values())
    assert len(queue) == 0


def test_len() -> None:
    """TestLen: a key already queued does not grow the queue (coalescing)."""
    queue: WorkQueue[str] = WorkQueue()
    queue.add("foo")
    assert len(queue) == 1
    queue.add("bar")
    assert len(queue) == 2
    queue.add("foo")  # should not increase the queue length
    assert len(queue) == 2


async def test_coalescing_a_key_added_twice_is_processed_once() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("ns/a")
    queue.add("ns/b")
    queue.add("ns/a")
    assert [await get_now(queue), await get_now(queue)] == ["ns/a", "ns/b"]  # FIFO, "ns/a" only once
    assert len(queue) == 0
    queue.done("ns/a")
    queue.done("ns/b")
    assert len(queue) == 0
    waiter = asyncio.create_task(queue.get())
    await asyncio.sleep(0.02)
    assert not waiter.done(), "a coalesced key must not be handed out a second time"
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)


async def test_reinsert() -> None:
    """TestReinsert: a key added back while processing is queued again when done() is called."""
    queue: WorkQueue[str] = WorkQueue()
    queue.add("foo")
    item = await get_now(queue)
    assert item == "foo"
    queue.add(item)  # add it back while processing
    queue.done(item)
    item = await get_now(queue)  # it should be back on the queue
    assert item == "foo"
    queue.done(item)
    assert len(queue) == 0


async def test_key_added_while_processing_waits_for_done() -> None:
    """A key being processed is never handed to a second worker: it is queued again only by done()."""
    queue: WorkQueue[str] = WorkQueue()
    queue.add("ns/a")
    key = await get_now(queue)
    queue.add("ns/a")
    queue.add("ns/a")  # still coalesced with the pending re-add
    assert len(queue) == 0, "a dirty key being processed must not be in the queue"

    getters = [asyncio.create_task(queue.get()) for _ in range(3)]
    await asyncio.sleep(0.02)
    assert not any(g.done() for g in getters), "the key was handed out while still being processed"

    queue.done(key)
    done, pending = await asyncio.wait(getters, timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
    assert [t.result() for t in done] == ["ns/a"]
    await asyncio.sleep(0.02)
    assert all(not t.done() for t in pending), "the key was handed out twice"
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def test_done_without_re_add_does_not_requeue() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("ns/a")
    queue.done(await get_now(queue))
    assert len(queue) == 0
    queue.add("ns/a")  # not processing any more: queued at once
    assert len(queue) == 1


async def test_shut_down_makes_waiting_get_raise() -> None:
    queue: WorkQueue[str] = WorkQueue()
    getters = [asyncio.create_task(queue.get()) for _ in range(3)]
    await asyncio.sleep(0.01)
    assert not any(g.done() for g in getters)
    queue.shut_down()
    results = await asyncio.wait_for(asyncio.gather(*getters, return_exceptions=True), timeout=0.5)
    assert all(isinstance(r, ShutDown) for r in results), results
    with pytest.raises(ShutDown):
        await asyncio.wait_for(queue.get(), timeout=0.5)


async def test_shut_down_hands_out_queued_keys_then_raises() -> None:
    """Like upstream Get(): queued keys are still handed out after ShutDown; new adds are refused."""
    queue: WorkQueue[str] = WorkQueue()
    queue.add("foo")
    queue.shut_down()
    queue.add("added after shutdown!")
    assert len(queue) == 1
    assert await get_now(queue) == "foo"
    queue.done("foo")
    with pytest.raises(ShutDown):
        await asyncio.wait_for(queue.get(), timeout=0.5)


async def test_queue_drainage_with_dirty_item() -> None:
    """TestQueueDrainageUsingShutDownWithDrainWithDirtyItem: done() after shut_down still requeues a dirty key."""
    queue: WorkQueue[str] = WorkQueue()
    queue.add("foo")
    gotten = await get_now(queue)
    queue.add("foo")
    queue.shut_down()
    queue.done(gotten)
    again = await get_now(queue)  # not ShutDown: done() put the key back
    assert again == "foo"
    queue.done(again)
    with pytest.raises(ShutDown):
        await asyncio.wait_for(queue.get(), timeout=0.5)


# --- delaying_queue_test.go ------------------------------------------------------------------------------------


async def test_simple_queue() -> None:
    """TestSimpleQueue: add_after fires after the delay, once."""
    queue: WorkQueue[str] = WorkQueue()
    queue.add_after("foo", 0.03)
    assert len(queue) == 0, "should not have added yet"
    elapsed = await wait_for_len(queue, 1)
    assert elapsed >= 0.02
    queue.done(await get_now(queue))
    await asyncio.sleep(0.05)
    assert len(queue) == 0, "should not have added again"


async def test_deduping() -> None:
    """TestDeduping: of two add_after of one key, the earlier wins and the later one does not fire again."""
    queue: WorkQueue[str] = WorkQueue()
    loop = asyncio.get_running_loop()

    start = loop.time()
    queue.add_after("foo", 0.03)
    queue.add_after("foo", 0.12)  # later: ignored
    await wait_for_len(queue, 1)
    assert loop.time() - start < 0.1, "the earlier add_after should have fired"
    queue.done(await get_now(queue))
    await asyncio.sleep(max(0.0, start + 0.16 - loop.time()))  # step past the second add
    assert len(queue) == 0, "the superseded add_after fired"

    # Again, but this time the earlier one comes second and overrides.
    start = loop.time()
    queue.add_after("foo", 0.12)
    queue.add_after("foo", 0.03)
    assert len(queue) == 0
    await wait_for_len(queue, 1)
    assert loop.time() - start < 0.1, "the earlier add_after should override the later one"
    queue.done(await get_now(queue))
    await asyncio.sleep(max(0.0, start + 0.16 - loop.time()))
    assert len(queue) == 0, "the superseded add_after fired"


async def test_add_two_fire_early() -> None:
    """TestAddTwoFireEarly: keys come out in the order of their ready times, not of their add_after calls."""
    queue: WorkQueue[str] = WorkQueue()
    queue.add_after("foo", 0.12)  # first
    queue.add_after("bar", 0.02)  # second
    assert len(queue) == 0

    await wait_for_len(queue, 1)
    assert await get_now(queue) == "bar"

    queue.add_after("baz", 0.25)  # third, after "foo"
    await wait_for_len(queue, 1)
    assert await get_now(queue) == "foo"
    assert len(queue) == 0, "baz fired early"

    await wait_for_len(queue, 1)
    assert await get_now(queue) == "baz"


async def test_copy_shifting() -> None:
    """TestCopyShifting: three delayed keys added latest-first come out earliest-first."""
    queue: WorkQueue[str] = WorkQueue()
    queue.add_after("foo", 0.09)
    queue.add_after("bar", 0.06)
    queue.add_after("baz", 0.03)
    assert len(queue) == 0
    await wait_for_len(queue, 3)
    assert [await get_now(queue) for _ in range(3)] == ["baz", "bar", "foo"]


async def test_add_after_non_positive_delay_adds_at_once() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add_after("foo", 0)
    queue.add_after("bar", -1)
    assert len(queue) == 2


async def test_add_after_of_a_queued_key_coalesces_when_it_fires() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("foo")
    queue.add_after("foo", 0.02)
    await asyncio.sleep(0.05)
    assert len(queue) == 1


async def test_add_after_is_dropped_by_shut_down() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add_after("foo", 0.02)
    queue.shut_down()
    queue.add_after("bar", 0.01)
    await asyncio.sleep(0.05)
    assert len(queue) == 0


# --- rate_limiting_queue_test.go -------------------------------------------------------------------------------


def _fast_limiter() -> ControllerRateLimiter:
    """1 ms doubling to 1 s per item, and an overall bucket too large to matter."""
    return ControllerRateLimiter(
        item=ItemExponentialBackoff(base=0.001, cap=1.0),
        overall=TokenBucket(qps=1e6, burst=1000),
    )


async def test_rate_limiting_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """TestRateLimitingQueue: add_rate_limited delays by the limiter's backoff; forget resets it."""
    queue: WorkQueue[str] = WorkQueue(rate_limiter=_fast_limiter())
    delays: list[tuple[str, float]] = []
    original_add_after = queue.add_after

    def recording_add_after(key: str, delay: float) -> None:
        delays.append((key, delay))
        original_add_after(key, delay)

    monkeypatch.setattr(queue, "add_after", recording_add_after)

    queue.add_rate_limited("one")
    queue.add_rate_limited("one")
    assert queue.retries("one") == 2
    queue.add_rate_limited("two")
    queue.add_rate_limited("two")
    queue.forget("one")
    assert queue.retries("one") == 0
    assert queue.retries("two") == 2
    queue.add_rate_limited("one")

    assert [key for key, _ in delays] == ["one", "one", "two", "two", "one"]
    assert [d for _, d in delays] == pytest.approx([0.001, 0.002, 0.001, 0.002, 0.001])


async def test_add_rate_limited_key_comes_back_after_the_backoff() -> None:
    limiter = ControllerRateLimiter(
        item=ItemExponentialBackoff(base=0.04, cap=1.0),
        overall=TokenBucket(qps=1e6, burst=1000),
    )
    queue: WorkQueue[str] = WorkQueue(rate_limiter=limiter)
    queue.add_rate_limited("ns/a")
    assert len(queue) == 0
    elapsed = await wait_for_len(queue, 1)
    assert 0.03 <= elapsed < 0.5
    assert await get_now(queue) == "ns/a"
    assert queue.retries("ns/a") == 1
    queue.forget("ns/a")
    assert queue.retries("ns/a") == 0


def test_default_rate_limiter_is_the_controller_default() -> None:
    queue: WorkQueue[str] = WorkQueue()
    assert isinstance(queue.rate_limiter, ControllerRateLimiter)
    assert queue.rate_limiter.item.base == pytest.approx(0.005)
    assert queue.rate_limiter.item.cap == pytest.approx(1000.0)
    assert (queue.rate_limiter.overall.qps, queue.rate_limiter.overall.burst) == (10, 100)
