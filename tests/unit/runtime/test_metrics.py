"""Metrics: controller-runtime's names, labels, types and buckets; client-go's work queue metrics
(util/workqueue/metrics_test.go); the reconcile, client and leader metrics; the /metrics server.

The queue tests step a fake clock, as upstream's do, so durations are exact and nothing sleeps.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from operators.runtime.metrics import (
    RECONCILE_TIME_BUCKETS,
    Metrics,
    parse_bind_address,
    start_metrics_server,
)
from operators.runtime.ratelimit import ControllerRateLimiter, ItemExponentialBackoff, TokenBucket
from operators.runtime.workqueue import NoQueueMetrics, WorkQueue


class FakeClock:
    """testingclock.FakeClock: time moves only when the test steps it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def step(self, seconds: float) -> None:
        self.now += seconds


def value(metrics: Metrics, sample: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(sample, labels)


def queue_value(metrics: Metrics, sample: str, name: str = "test") -> float | None:
    labels = {"name": name, "controller": name}
    if sample == "workqueue_depth":
        labels["priority"] = ""
    return metrics.registry.get_sample_value(sample, labels)


def families(metrics: Metrics) -> dict[str, tuple[str, set[frozenset[str]]]]:
    """Parsed exposition: family name -> (type, the label-name sets of its samples, `le` left out)."""
    parsed = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        label_sets = {frozenset(sample.labels) - {"le"} for sample in family.samples}
        parsed[family.name] = (family.type, label_sets)
    return parsed


def _fast_limiter() -> ControllerRateLimiter:
    return ControllerRateLimiter(
        item=ItemExponentialBackoff(base=0.001, cap=1.0),
        overall=TokenBucket(qps=1e6, burst=1000),
    )


# --- names, labels, types, buckets -----------------------------------------------------------------------------


def test_exposition_has_controller_runtime_names_labels_and_types() -> None:
    metrics = Metrics(request_latency=True)
    queue = metrics.queue("replicaset")
    queue.add("ns/a")
    queue.get("ns/a")
    queue.done("ns/a")
    queue.retry()
    metrics.init_controller("replicaset", 5)
    metrics.observe_reconcile("replicaset", "success", 0.01)
    metrics.observe_request("GET", "200", "127.0.0.1:6443", 0.02)
    metrics.set_leader("mini-operators", True)

    # The parser names a counter's family without its "_total" suffix.
    queue_labels = {frozenset({"name", "controller"})}
    expected = {
        "workqueue_depth": ("gauge", {frozenset({"name", "controller", "priority"})}),
        "workqueue_adds": ("counter", queue_labels),
        "workqueue_queue_duration_seconds": ("histogram", queue_labels),
        "workqueue_work_duration_seconds": ("histogram", queue_labels),
        "workqueue_unfinished_work_seconds": ("gauge", queue_labels),
        "workqueue_longest_running_processor_seconds": ("gauge", queue_labels),
        "workqueue_retries": ("counter", queue_labels),
        "controller_runtime_reconcile": ("counter", {frozenset({"controller", "result"})}),
        "controller_runtime_reconcile_errors": ("counter", {frozenset({"controller"})}),
        "controller_runtime_reconcile_time_seconds": ("histogram", {frozenset({"controller"})}),
        "controller_runtime_active_workers": ("gauge", {frozenset({"controller"})}),
        "controller_runtime_max_concurrent_reconciles": ("gauge", {frozenset({"controller"})}),
        "rest_client_requests": ("counter", {frozenset({"code", "method", "host"})}),
        "rest_client_request_duration_seconds": ("histogram", {frozenset({"verb", "host"})}),
        "leader_election_master_status": ("gauge", {frozenset({"name"})}),
    }
    parsed = families(metrics)
    assert {name: parsed.get(name) for name in expected} == expected
    text = metrics.render().decode()
    for sample in ("workqueue_adds_total{", "workqueue_retries_total{", "controller_runtime_reconcile_total{"):
        assert sample in text
    assert "process_cpu_seconds_total" in text  # the process collector, as controller-runtime registers one


def test_no_created_series() -> None:
    """Go's client puts no `_created` series in the text format; neither do we."""
    metrics = Metrics(request_latency=True)
    metrics.queue("test").add("a")
    metrics.observe_reconcile("test", "success", 0.01)
    metrics.observe_request("GET", "200", "host:443", 0.01)
    assert b"_created" not in metrics.render()


def test_workqueue_buckets_are_controller_runtimes() -> None:
    """ExponentialBuckets(10e-9, 10, 12), with the `le` values Go's multiplication gives."""
    metrics = Metrics()
    metrics.queue("test").add("a")
    text = metrics.render().decode()
    for histogram in ("workqueue_queue_duration_seconds", "workqueue_work_duration_seconds"):
        (family,) = [f for f in text_string_to_metric_families(text) if f.name == histogram]
        les = [s.labels["le"] for s in family.samples if s.name.endswith("_bucket")]
        assert les == [
            "1e-08", "1e-07", "1e-06", "9.999999999999999e-06", "9.999999999999999e-05",
            "0.001", "0.01", "0.1", "1.0", "10.0", "100.0", "1000.0", "+Inf",
        ]  # fmt: skip


def test_reconcile_time_buckets_are_controller_runtimes() -> None:
    metrics = Metrics()
    metrics.observe_reconcile("test", "success", 0.01)
    (family,) = [
        f
        for f in text_string_to_metric_families(metrics.render().decode())
        if f.name == "controller_runtime_reconcile_time_seconds"
    ]
    les = [float(s.labels["le"]) for s in family.samples if s.name.endswith("_bucket")]
    assert les == [*RECONCILE_TIME_BUCKETS, float("inf")]
    assert len(RECONCILE_TIME_BUCKETS) == 40 and RECONCILE_TIME_BUCKETS[0] == 0.005 and RECONCILE_TIME_BUCKETS[-1] == 60


def test_two_metrics_have_registries_of_their_own() -> None:
    first, second = Metrics(), Metrics()
    first.queue("test").add("a")
    second.queue("test")
    assert queue_value(first, "workqueue_adds_total") == 1
    assert queue_value(second, "workqueue_adds_total") == 0


# --- the work queue's metrics (util/workqueue/metrics_test.go) --------------------------------------------------


async def test_metrics() -> None:
    """TestMetrics: adds, depth, queue latency and work duration through add/get/re-add/done/get/done."""
    clock = FakeClock()
    metrics = Metrics(clock=clock)
    queue: WorkQueue[str] = WorkQueue(name="test", metrics=metrics.queue("test"))

    queue.add("foo")
    assert queue_value(metrics, "workqueue_adds_total") == 1
    assert queue_value(metrics, "workqueue_depth") == 1

    clock.step(50e-6)
    # Start processing
    item = await queue.get()
    assert item == "foo"
    assert queue_value(metrics, "workqueue_queue_duration_seconds_sum") == pytest.approx(5e-05)
    assert queue_value(metrics, "workqueue_queue_duration_seconds_count") == 1

    # Add it back while processing; multiple adds of the same item are de-duped.
    for _ in range(5):
        queue.add(item)
    assert queue_value(metrics, "workqueue_adds_total") == 2
    # One thing remains in the queue (waiting for its own processing to end: not in len(queue) yet).
    assert queue_value(metrics, "workqueue_depth") == 1
    assert len(queue) == 0

    clock.step(25e-6)
    # Finish it up
    queue.done(item)
    assert queue_value(metrics, "workqueue_work_duration_seconds_sum") == pytest.approx(2.5e-05)
    assert queue_value(metrics, "workqueue_work_duration_seconds_count") == 1
    # One thing remains in the queue
    assert queue_value(metrics, "workqueue_depth") == 1

    # It should be back on the queue; it waited from its re-add, 25 µs ago.
    item = await queue.get()
    assert item == "foo"
    assert queue_value(metrics, "workqueue_queue_duration_seconds_sum") == pytest.approx(5e-05 + 2.5e-05)
    assert queue_value(metrics, "workqueue_queue_duration_seconds_count") == 2
    assert queue_value(metrics, "workqueue_depth") == 0

    clock.step(1e-3)
    assert queue_value(metrics, "workqueue_unfinished_work_seconds") == pytest.approx(0.001)
    assert queue_value(metrics, "workqueue_longest_running_processor_seconds") == pytest.approx(0.001)

    # Finish that one up
    queue.done(item)
    assert queue_value(metrics, "workqueue_work_duration_seconds_sum") == pytest.approx(2.5e-05 + 0.001)
    assert queue_value(metrics, "workqueue_work_duration_seconds_count") == 2
    assert queue_value(metrics, "workqueue_unfinished_work_seconds") == 0
    assert queue_value(metrics, "workqueue_longest_running_processor_seconds") == 0


async def test_coalesced_adds_count_once() -> None:
    """An add of a key already waiting is not an add: adds and depth follow the keys, not the calls."""
    metrics = Metrics(clock=FakeClock())
    queue: WorkQueue[str] = WorkQueue(name="test", metrics=metrics.queue("test"))
    queue.add("ns/a")
    queue.add("ns/b")
    queue.add("ns/a")
    assert queue_value(metrics, "workqueue_adds_total") == 2
    assert queue_value(metrics, "workqueue_depth") == 2 == len(queue)

    first = await queue.get()
    assert queue_value(metrics, "workqueue_depth") == 1
    second = await queue.get()
    assert queue_value(metrics, "workqueue_depth") == 0
    assert queue_value(metrics, "workqueue_queue_duration_seconds_count") == 2
    queue.done(first)
    queue.done(second)
    assert queue_value(metrics, "workqueue_work_duration_seconds_count") == 2
    assert queue_value(metrics, "workqueue_adds_total") == 2
    assert queue_value(metrics, "workqueue_retries_total") == 0


async def test_unfinished_work_sums_the_keys_being_processed() -> None:
    """updateUnfinishedWork: the sum of the processing ages, and the oldest, as of the scrape."""
    clock = FakeClock()
    metrics = Metrics(clock=clock)
    queue: WorkQueue[str] = WorkQueue(name="test", metrics=metrics.queue("test"))
    queue.add("ns/a")
    queue.add("ns/b")
    a = await queue.get()
    clock.step(2)
    b = await queue.get()
    clock.step(1)
    assert queue_value(metrics, "workqueue_unfinished_work_seconds") == pytest.approx(3 + 1)
    assert queue_value(metrics, "workqueue_longest_running_processor_seconds") == pytest.approx(3)
    queue.done(a)
    assert queue_value(metrics, "workqueue_unfinished_work_seconds") == pytest.approx(1)
    assert queue_value(metrics, "workqueue_longest_running_processor_seconds") == pytest.approx(1)
    queue.done(b)
    assert queue_value(metrics, "workqueue_unfinished_work_seconds") == 0


async def test_retries_count_every_accepted_delayed_add() -> None:
    """rateLimitingType.AddRateLimited is an AddAfter, and the delaying queue counts a retry per AddAfter."""
    metrics = Metrics(clock=FakeClock())
    queue: WorkQueue[str] = WorkQueue(name="test", rate_limiter=_fast_limiter(), metrics=metrics.queue("test"))
    queue.add_rate_limited("ns/a")
    queue.add_rate_limited("ns/a")  # superseded by the earlier pending one, still a retry
    assert queue_value(metrics, "workqueue_retries_total") == 2
    queue.add_after("ns/b", 10)  # a requeue-after
    queue.add_after("ns/c", 0)  # added at once, and counted as client-go counts it
    assert queue_value(metrics, "workqueue_retries_total") == 4
    assert queue_value(metrics, "workqueue_adds_total") == 1  # only ns/c is in the queue yet
    assert queue_value(metrics, "workqueue_depth") == 1
    queue.shut_down()
    queue.add_rate_limited("ns/d")  # refused: not counted
    assert queue_value(metrics, "workqueue_retries_total") == 4


async def test_delayed_add_counts_as_an_add_when_it_fires() -> None:
    metrics = Metrics()
    queue: WorkQueue[str] = WorkQueue(name="test", rate_limiter=_fast_limiter(), metrics=metrics.queue("test"))
    queue.add_rate_limited("ns/a")
    assert queue_value(metrics, "workqueue_adds_total") == 0
    assert await asyncio.wait_for(queue.get(), timeout=5) == "ns/a"  # woken by the delaying timer, 1 ms later
    assert queue_value(metrics, "workqueue_adds_total") == 1
    assert queue_value(metrics, "workqueue_queue_duration_seconds_count") == 1
    assert queue_value(metrics, "workqueue_depth") == 0
    queue.shut_down()


def test_queue_without_metrics_reports_to_nobody() -> None:
    queue: WorkQueue[str] = WorkQueue()
    assert isinstance(queue.metrics, NoQueueMetrics)
    queue.add("a")
    queue.add_after("b", 0)
    assert len(queue) == 2


def test_a_queue_needs_a_name_for_metrics() -> None:
    with pytest.raises(ValueError, match="name"):
        Metrics().queue("")


# --- controller, client, leader election -------------------------------------------------------------------------


def test_init_controller_publishes_zeroes() -> None:
    """controller-runtime's initMetrics: every result at 0, the worker count, no active worker."""
    metrics = Metrics()
    metrics.init_controller("replicaset", 5)
    for result in ("success", "error", "requeue", "requeue_after"):
        assert value(metrics, "controller_runtime_reconcile_total", controller="replicaset", result=result) == 0
    assert value(metrics, "controller_runtime_reconcile_errors_total", controller="replicaset") == 0
    assert value(metrics, "controller_runtime_max_concurrent_reconciles", controller="replicaset") == 5
    assert value(metrics, "controller_runtime_active_workers", controller="replicaset") == 0


def test_reconcile_counters() -> None:
    metrics = Metrics()
    for result, seconds in [("success", 0.01), ("error", 0.2), ("error", 0.3), ("requeue_after", 0.04)]:
        metrics.observe_reconcile("replicaset", result, seconds)
    metrics.observe_reconcile("deployment", "requeue", 2.0)

    def total(controller: str, result: str) -> float | None:
        return value(metrics, "controller_runtime_reconcile_total", controller=controller, result=result)

    assert [total("replicaset", r) for r in ("success", "error", "requeue_after")] == [1, 2, 1]
    assert total("replicaset", "requeue") is None  # never observed, and not initialised
    assert total("deployment", "requeue") == 1
    assert value(metrics, "controller_runtime_reconcile_errors_total", controller="replicaset") == 2
    assert value(metrics, "controller_runtime_reconcile_errors_total", controller="deployment") is None
    assert value(metrics, "controller_runtime_reconcile_time_seconds_count", controller="replicaset") == 4
    assert value(metrics, "controller_runtime_reconcile_time_seconds_sum", controller="replicaset") == pytest.approx(
        0.55
    )
    assert value(metrics, "controller_runtime_reconcile_time_seconds_bucket", controller="replicaset", le="0.05") == 2
    with pytest.raises(ValueError, match="not one of"):
        metrics.observe_reconcile("replicaset", "ok", 0.1)


def test_workers_gauges() -> None:
    metrics = Metrics()
    metrics.set_max_concurrent("replicaset", 5)
    metrics.set_active_workers("replicaset", 3)
    metrics.set_active_workers("replicaset", 2)
    assert value(metrics, "controller_runtime_max_concurrent_reconciles", controller="replicaset") == 5
    assert value(metrics, "controller_runtime_active_workers", controller="replicaset") == 2


def test_rest_client_requests() -> None:
    """Only the request counter by default; the latency histogram when asked for (RegisterRESTClientMetrics)."""
    metrics = Metrics()
    metrics.observe_request("GET", "200", "127.0.0.1:6443", 0.01)
    metrics.observe_request("GET", "200", "127.0.0.1:6443", 0.02)
    metrics.observe_request("POST", "<error>", "127.0.0.1:6443", 0.5)
    requests = "rest_client_requests_total"
    assert value(metrics, requests, code="200", method="GET", host="127.0.0.1:6443") == 2
    assert value(metrics, requests, code="<error>", method="POST", host="127.0.0.1:6443") == 1
    assert b"rest_client_request_duration_seconds" not in metrics.render()

    with_latency = Metrics(request_latency=True)
    with_latency.observe_request("GET", "200", "127.0.0.1:6443", 0.02)
    duration = "rest_client_request_duration_seconds"
    assert value(with_latency, f"{duration}_count", verb="GET", host="127.0.0.1:6443") == 1
    assert value(with_latency, f"{duration}_bucket", verb="GET", host="127.0.0.1:6443", le="0.025") == 1
    assert value(with_latency, f"{duration}_bucket", verb="GET", host="127.0.0.1:6443", le="0.005") == 0


def test_leader_election_master_status() -> None:
    metrics = Metrics()
    metrics.set_leader("mini-operators", True)
    assert value(metrics, "leader_election_master_status", name="mini-operators") == 1
    metrics.set_leader("mini-operators", False)
    assert value(metrics, "leader_election_master_status", name="mini-operators") == 0


# --- the /metrics server -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("0", None),
        ("", ("", 8080)),
        (":8080", ("", 8080)),
        ("127.0.0.1:9090", ("127.0.0.1", 9090)),
        ("[::1]:9090", ("::1", 9090)),
        ("localhost:0", ("localhost", 0)),
    ],
)
def test_parse_bind_address(address: str, expected: tuple[str, int] | None) -> None:
    assert parse_bind_address(address) == expected


@pytest.mark.parametrize("address", ["8080", "127.0.0.1", ":http", ":70000", "host:-1", "::1:80"])
def test_parse_bind_address_rejects(address: str) -> None:
    with pytest.raises(ValueError, match="bind address"):
        parse_bind_address(address)


async def test_server_disabled_by_0() -> None:
    assert await start_metrics_server(Metrics(), "0") is None


@pytest.mark.parametrize("address", ["127.0.0.1:0", ":0"])
async def test_server_serves_the_exposition(address: str) -> None:
    metrics = Metrics()
    metrics.observe_reconcile("replicaset", "success", 0.01)
    server = await start_metrics_server(metrics, address)
    assert server is not None
    try:
        assert server.port != 0
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{server.port}/metrics") as response:
                assert response.status == 200
                assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
                body = await response.text()
            async with session.get(f"http://127.0.0.1:{server.port}/other") as response:
                assert response.status == 404
    finally:
        await server.stop()
    assert 'controller_runtime_reconcile_total{controller="replicaset",result="success"} 1.0' in body
