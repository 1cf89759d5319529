"""Prometheus metrics of the controller runtime, named and labelled as controller-runtime's, and their /metrics server.

Dashboards and alerts written for controller-runtime operators and for kube-controller-manager work unchanged:
the work queue metrics are client-go's (`workqueue_*`, with controller-runtime's labels `name`, `controller` and,
on the depth, `priority`), the reconcile metrics are controller-runtime's (`controller_runtime_*`), the API
client metrics are client-go's (`rest_client_*`) and the leader-election gauge is client-go's. Each `Metrics`
owns its own registry, never prometheus_client's global one, so that tests can run several operators in one
process.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from operators.runtime.workqueue import QueueMetrics

__all__ = [
    "RECONCILE_RESULTS",
    "Metrics",
    "MetricsServer",
    "PrometheusQueueMetrics",
    "parse_bind_address",
    "start_metrics_server",
]

logger = logging.getLogger(__name__)


def exponential_buckets(start: float, factor: float, count: int) -> tuple[float, ...]:
    """prometheus.ExponentialBuckets, multiplied step by step as Go does.

    Computing `start * factor**i` instead would give other floats for some buckets, and so other `le` label
    values: Go's loop gives le="9.999999999999999e-06", which dashboards and recording rules may name.
    """
    buckets = []
    for _ in range(count):
        buckets.append(start)
        start *= factor
    return tuple(buckets)


# controller-runtime's buckets (pkg/internal/metrics/workqueue.go, pkg/internal/controller/metrics/metrics.go,
# pkg/metrics/client_go_adapter.go).
WORKQUEUE_BUCKETS = exponential_buckets(10e-9, 10, 12)  # 10 ns to 1000 s
RECONCILE_TIME_BUCKETS = (
    *(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
    *(1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60),
)
REST_CLIENT_LATENCY_BUCKETS = (0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)

# The values of controller_runtime_reconcile_total's `result` label.
RECONCILE_RESULTS = ("error", "requeue_after", "requeue", "success")


class PrometheusQueueMetrics(QueueMetrics):
    """One work queue's metrics: client-go's defaultQueueMetrics and defaultRetryMetrics, hook for hook."""

    def __init__(
        self,
        name: str,
        *,
        depth: Gauge,
        adds: Counter,
        latency: Histogram,
        work_duration: Histogram,
        retries: Counter,
        clock: Callable[[], float],
    ) -> None:
        self.name = name
        self._depth = depth
        self._adds = adds
        self._latency = latency
        self._work_duration = work_duration
        self._retries = retries
        self._clock = clock
        self._add_times: dict[Hashable, float] = {}
        self._processing_start_times: dict[Hashable, float] = {}

    def add(self, key: Hashable) -> None:
        self._adds.inc()
        self._depth.inc()
        self._add_times.setdefault(key, self._clock())

    def get(self, key: Hashable) -> None:
        self._depth.dec()
        now = self._clock()
        self._processing_start_times[key] = now
        added = self._add_times.pop(key, None)
        if added is not None:
            self._latency.observe(now - added)

    def done(self, key: Hashable) -> None:
        started = self._processing_start_times.pop(key, None)
        if started is not None:
            self._work_duration.observe(self._clock() - started)

    def retry(self) -> None:
        self._retries.inc()

    def unfinished_work(self) -> tuple[float, float]:
        """The seconds spent so far on the keys being processed: their sum, and the longest one."""
        now = self._clock()
        ages = [now - started for started in self._processing_start_times.values()]
        return sum(ages), max(ages, default=0.0)


class _UnfinishedWorkCollector:
    """workqueue_unfinished_work_seconds and workqueue_longest_running_processor_seconds, computed at scrape.

    client-go sets these two gauges from a ticker every 500 ms (updateUnfinishedWork); computing the same sums
    when Prometheus scrapes gives the exact value at scrape time and needs no background task.
    """

    UNFINISHED = "workqueue_unfinished_work_seconds"
    LONGEST = "workqueue_longest_running_processor_seconds"

    def __init__(self, queues: dict[str, PrometheusQueueMetrics]) -> None:
        self._queues = queues

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterable[Metric]:
        unfinished, longest = self._families()
        for name, queue in self._queues.items():
            total, oldest = queue.unfinished_work()
            unfinished.add_metric([name, name], total)
            longest.add_metric([name, name], oldest)
        return [unfinished, longest]

    def _families(self) -> list[GaugeMetricFamily]:
        labels = ["name", "controller"]
        return [
            GaugeMetricFamily(
                self.UNFINISHED,
                "How many seconds of work has been done that is in progress and hasn't been observed by "
                "work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads "
                "by observing the rate at which this increases.",
                labels=labels,
            ),
            GaugeMetricFamily(
                self.LONGEST,
                "How many seconds has the longest running processor for workqueue been running.",
                labels=labels,
            ),
        ]


class _WithoutCreated:
    """The families of a registry less prometheus_client's `*_created` series.

    Go's client does not put them in the text format, so an operator written in Go has none; dropping them
    here, rather than with prometheus_client.disable_created_metrics(), changes no process-wide setting.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            created = family.name + "_created"
            if not any(sample.name == created for sample in family.samples):
                yield family
                continue
            trimmed = Metric(family.name, family.documentation, family.type, family.unit)
            trimmed.samples = [sample for sample in family.samples if sample.name != created]
            yield trimmed


class Metrics:
    """The metrics of one operator process, in a registry of their own; `render()` is what /metrics serves.

    The REST client's request latency histogram is opt-in, as in controller-runtime (RegisterRESTClientMetrics);
    its request counter is always there.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, request_latency: bool = False) -> None:
        self.registry = CollectorRegistry()
        self._clock = clock
        self._queues: dict[str, PrometheusQueueMetrics] = {}
        registry = self.registry

        queue_labels = ["name", "controller"]
        self._depth = Gauge(
            "workqueue_depth",
            "Current depth of workqueue by workqueue and priority",
            [*queue_labels, "priority"],
            registry=registry,
        )
        self._adds = Counter(
            "workqueue_adds_total", "Total number of adds handled by workqueue", queue_labels, registry=registry
        )
        self._latency = Histogram(
            "workqueue_queue_duration_seconds",
            "How long in seconds an item stays in workqueue before being requested",
            queue_labels,
            buckets=WORKQUEUE_BUCKETS,
            registry=registry,
        )
        self._work_duration = Histogram(
            "workqueue_work_duration_seconds",
            "How long in seconds processing an item from workqueue takes.",
            queue_labels,
            buckets=WORKQUEUE_BUCKETS,
            registry=registry,
        )
        registry.register(_UnfinishedWorkCollector(self._queues))
        self._retries = Counter(
            "workqueue_retries_total",
            "Total number of items added to the workqueue with a non-zero delay "
            "(rate-limited requeues, explicit RequeueAfter or AddAfter calls)",
            queue_labels,
            registry=registry,
        )

        self._reconcile_total = Counter(
            "controller_runtime_reconcile_total",
            "Total number of reconciliations per controller",
            ["controller", "result"],
            registry=registry,
        )
        self._reconcile_errors = Counter(
            "controller_runtime_reconcile_errors_total",
            "Total number of reconciliation errors per controller",
            ["controller"],
            registry=registry,
        )
        self._reconcile_time = Histogram(
            "controller_runtime_reconcile_time_seconds",
            "Length of time per reconciliation per controller",
            ["controller"],
            buckets=RECONCILE_TIME_BUCKETS,
            registry=registry,
        )
        self._max_concurrent = Gauge(
            "controller_runtime_max_concurrent_reconciles",
            "Maximum number of concurrent reconciles per controller",
            ["controller"],
            registry=registry,
        )
        self._active_workers = Gauge(
            "controller_runtime_active_workers",
            "Number of currently used workers per controller",
            ["controller"],
            registry=registry,
        )

        self._requests = Counter(
            "rest_client_requests_total",
            "Number of HTTP requests, partitioned by status code, method, and host.",
            ["code", "method", "host"],
            registry=registry,
        )
        self._request_latency = (
            Histogram(
                "rest_client_request_duration_seconds",
                "Request latency in seconds. Broken down by verb and host.",
                ["verb", "host"],
                buckets=REST_CLIENT_LATENCY_BUCKETS,
                registry=registry,
            )
            if request_latency
            else None
        )

        self._leader = Gauge(
            "leader_election_master_status",
            "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates "
            "master. 'name' is the string used to identify the lease. Please make sure to group by name.",
            ["name"],
            registry=registry,
        )

        # controller-runtime also registers the process and Go runtime collectors; these are Python's.
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)

    # --- work queues -------------------------------------------------------------------------------------------

    def queue(self, name: str) -> PrometheusQueueMetrics:
        """The metrics of the work queue `name` (the controller's name, as controller-runtime names its queues).

        A second queue of the same name (a controller started again) continues the counters and takes over the
        unfinished-work gauges from the first.
        """
        if not name:
            raise ValueError("a work queue needs a name to have metrics")
        metrics = PrometheusQueueMetrics(
            name,
            depth=self._depth.labels(name, name, ""),  # no priority: client-go's queue has none
            adds=self._adds.labels(name, name),
            latency=self._latency.labels(name, name),
            work_duration=self._work_duration.labels(name, name),
            retries=self._retries.labels(name, name),
            clock=self._clock,
        )
        self._queues[name] = metrics
        return metrics

    # --- controllers -------------------------------------------------------------------------------------------

    def init_controller(self, controller: str, max_concurrent_reconciles: int) -> None:
        """Publish a controller's series before its first reconcile, at zero (controller-runtime's initMetrics)."""
        for result in RECONCILE_RESULTS:
            self._reconcile_total.labels(controller, result)
        self._reconcile_errors.labels(controller)
        self.set_max_concurrent(controller, max_concurrent_reconciles)
        self.set_active_workers(controller, 0)

    def observe_reconcile(self, controller: str, result: str, seconds: float) -> None:
        """One reconcile ended with `result` (one of RECONCILE_RESULTS) after `seconds`."""
        if result not in RECONCILE_RESULTS:
            raise ValueError(f"reconcile result {result!r} is not one of {', '.join(RECONCILE_RESULTS)}")
        self._reconcile_total.labels(controller, result).inc()
        if result == "error":
            self._reconcile_errors.labels(controller).inc()
        self._reconcile_time.labels(controller).observe(seconds)

    def set_active_workers(self, controller: str, n: int) -> None:
        self._active_workers.labels(controller).set(n)

    def set_max_concurrent(self, controller: str, n: int) -> None:
        self._max_concurrent.labels(controller).set(n)

    # --- API client and leader election ------------------------------------------------------------------------

    def observe_request(self, method: str, code: str, host: str, seconds: float) -> None:
        """One API request: `method` as sent ("GET"), `code` the HTTP status or "<error>" when there was no
        response (client-go's sanitize), `host` the API server's host:port."""
        self._requests.labels(code, method, host).inc()
        if self._request_latency is not None:
            self._request_latency.labels(method, host).observe(seconds)

    def set_leader(self, name: str, leading: bool) -> None:
        """Whether this process holds the lease `name` (1) or stands by (0)."""
        self._leader.labels(name).set(1 if leading else 0)

    # --- exposition --------------------------------------------------------------------------------------------

    def render(self) -> bytes:
        """Every metric in the Prometheus text format (CONTENT_TYPE_LATEST)."""
        return generate_latest(_WithoutCreated(self.registry))


# --- the /metrics server ---------------------------------------------------------------------------------------

DEFAULT_BIND_ADDRESS = ":8080"


def parse_bind_address(address: str) -> tuple[str, int] | None:
    """controller-runtime's --metrics-bind-address: "0" disables the server (None), "" means ":8080".

    Otherwise `host:port` as Go's net.Listen takes it: an empty host is every interface, an IPv6 host is in
    brackets ("[::1]:8080"), and port 0 lets the kernel pick a free port.
    """
    if address == "0":
        return None
    address = address or DEFAULT_BIND_ADDRESS
    host, colon, port = address.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]")
    if not colon or not port.isdigit() or int(port) > 65535 or (":" in host and not bracketed):
        raise ValueError(f'metrics bind address {address!r} is not host:port, ":port" or "0"')
    return (host[1:-1] if bracketed else host), int(port)


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket as Go's net.Listen("tcp", …) opens it.

    An empty host is one dual-stack socket (IPv6 and IPv4) where the system has IPv6: letting asyncio open a
    socket per address family instead would, with port 0, give each family a different port.
    """
    if not host:
        if socket.has_dualstack_ipv6():
            return socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True)
        return socket.create_server(("", port))
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


@dataclass
class MetricsServer:
    """A running /metrics endpoint; `port` is the bound port (the one picked when port 0 was asked for)."""

    host: str
    port: int
    _runner: web.AppRunner

    async def stop(self) -> None:
        await self._runner.cleanup()


async def start_metrics_server(metrics: Metrics, bind_address: str) -> MetricsServer | None:
    """Serve `GET /metrics` on `bind_address` until `stop()`; None when the address is "0" (disabled)."""
    parsed = parse_bind_address(bind_address)
    if parsed is None:
        logger.info('metrics: server disabled (bind address "0")')
        return None
    host, port = parsed

    async def serve_metrics(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", serve_metrics)
    runner = web.AppRunner(app, access_log=None)  # Prometheus scrapes every few seconds: no line per scrape
    sock = _listen(host, port)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
    except BaseException:
        await runner.cleanup()
        sock.close()
        raise
    bound_port = int(sock.getsockname()[1])
    logger.info("metrics: serving on %s:%d/metrics", host or "*", bound_port)
    return MetricsServer(host, bound_port, runner)
