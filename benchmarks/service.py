"""Benchmark: MiniService against kube-controller-manager's EndpointSlice controller, on the same pods, same run.

Run:  .venv/bin/python benchmarks/service.py [--scenario propagation,scale] [--repeat 1] [--no-warmup]
          [--propagation-pods 100] [--flips 200] [--pods 10000] [--services 1000] [--timeout 600]
          [--json] [--json-file PATH] [--operator-dir DIR] [--down]

Two scenarios, each round in a fresh namespace, after a discarded warm-up round; medians are printed:

* propagation: P pods (default 100, label app=bench, a container port named `http`) are selected by a core
  Service `builtin` (the built-in arm) and a MiniService `mini` (the operator, running throughout), with the
  same spec. Every pod is made NotReady (its Ready and ContainersReady conditions patched False, as
  tests/integration/kubehelpers.set_pod_ready does; kwok leaves a Running pod's status alone), then flipped
  Ready one at a time, F flips in all (default 200), cycling through the pods and flipping them all back
  NotReady between rounds. Timed per flip and per arm: just before the status PATCH -> the first event of the
  harness's EndpointSlice watch showing that pod's endpoint with conditions.ready true (ES-04) in a slice of
  that arm. Reported: p50/p90/p99/max per arm, and mini/builtin (the issue's goal: p99 no worse).
* scale: N pods (default 10,000) are created by the harness, bound to kwok nodes, Running and Ready; service j
  of S (default 1,000) selects the N/S pods labelled svc=j. Then per arm, the order alternating every round: the
  S Services (`b-0000`...) or MiniServices (`m-0000`...) are created at once (concurrent POSTs); timed until
  every one has slices of its arm with all its N/S endpoints ready. Controller CPU, RSS and requests as
  deployment.py measures them (harness.measure_phase: a fresh operator for mini; KCM for builtin). Then, with
  both arms' Services present and an operator running: 100 pods of 100 different Services (pod i has
  svc=i mod S) are flipped NotReady, then Ready; the EndpointSlice writes per pod change of each arm are the
  ADDED/MODIFIED/DELETED events of its slices on the harness's watch, divided by 200.

Timings come from the harness's own watches (harness.Api.watch), never from polling: one watch of the
namespace's pods, one of its EndpointSlices whose events are filed by their managed-by label (ES-01), which is
what a watch per arm with that label as its selector would deliver. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import functools
import json
import math
import os
import secrets
import statistics
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from harness import (
    IMAGE,
    SETTLE,
    Api,
    Goals,
    Operator,
    OperatorCode,
    Tracker,
    add_run_flags,
    bring_up,
    drained,
    echo,
    kcm_pid,
    measure_phase,
    operator_code,
    proc_cpu,
    proc_memory,
    until,
)
from startup import CREATE_CONCURRENCY, PODS_PER_NODE, bounded

from operators.devcluster.cluster import Layout

MANAGED_BY = "endpointslice.kubernetes.io/managed-by"  # discovery.LabelManagedBy (ES-01, ES-08)
SERVICE_NAME = "kubernetes.io/service-name"  # discovery.LabelServiceName
ARM_OF = {  # the managed-by label's value -> the arm whose controller wrote the slice
    "endpointslice.minik8s.dev": "mini",
    "endpointslice-controller.k8s.io": "builtin",
}
ARMS = ("mini", "builtin")
MINI_WATCHES = ("pods", "miniservices", "services", "endpointslices")  # the operator's watches, open before the clock
PORTS = [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]  # a named targetPort (ES-06)
WRITE_FLIPS = 100  # scale: pods flipped NotReady, then Ready, for the writes per pod change
SLICES = "/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices"
PODS = "/api/v1/namespaces/{ns}/pods"


def pod_manifest(name: str, labels: dict[str, str], node: str) -> dict[str, Any]:
    """A pod bound to a kwok node already (no scheduler: kwok makes it Running and Ready with an IP)."""
    container = {"name": "pause", "image": IMAGE, "ports": [{"name": "http", "containerPort": 8080}]}
    spec = {"nodeName": node, "containers": [container], "terminationGracePeriodSeconds": 0}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels}, "spec": spec}


def service_manifest(arm: str, name: str, selector: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The same ServiceSpec for both kinds (apiVersion and kind swapped); returns (collection path, body)."""
    spec = {"selector": selector, "ports": PORTS}
    if arm == "mini":
        body = {"apiVersion": "minik8s.dev/v1", "kind": "MiniService", "metadata": {"name": name}, "spec": spec}
        return "/apis/minik8s.dev/v1/namespaces/{ns}/miniservices", body
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}
    return "/api/v1/namespaces/{ns}/services", body


def readiness_patch(pod: dict[str, Any], ready: bool) -> dict[str, Any]:
    """The status merge patch of kubehelpers.set_pod_ready: Ready and ContainersReady set, containers' `ready` too.

    Built from the pod as the harness's watch last saw it: once a pod is Running only the harness writes its
    status, and only these fields, so the other conditions in the (replaced) list are current.
    """
    value = "True" if ready else "False"
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = pod.get("status") or {}
    conditions = [
        dict(c, status=value, lastTransitionTime=now) if c["type"] in ("Ready", "ContainersReady") else c
        for c in status.get("conditions") or ()
    ]
    statuses = [dict(s, ready=ready) for s in status.get("containerStatuses") or ()]
    return {"status": {"conditions": conditions, "containerStatuses": statuses}}


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile: the smallest value with at least q% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


# --- what the harness's watches saw ------------------------------------------------------------------------------


class Seen:
    """A namespace's pods and EndpointSlices as the harness's watches delivered them, kept incrementally.

    Pods: the last object by name and the set of Ready ones. Slices: filed by arm (the managed-by label, ES-01),
    each endpoint by its targetRef's pod name; a pod is *ready* in an arm when a slice of that arm shows its
    endpoint with conditions.ready true (ES-04), and per arm and Service the ready pods are counted as events
    arrive, so checking a goal on every event stays cheap at 10,000 endpoints. Every ADDED/MODIFIED/DELETED slice
    event is counted per arm: with no event lost (the watch resumes from its last resourceVersion), that is
    every write of each controller that changed a slice. `tracker` is told of every event (its goals are
    checked then); a phase gives it a fresh one.
    """

    def __init__(self) -> None:
        self.tracker = Tracker()
        self.pods: dict[str, dict[str, Any]] = {}
        self.ready_pods: set[str] = set()
        self.slices: dict[str, dict[str, tuple[str, dict[str, bool]]]] = {arm: {} for arm in ARMS}
        self.where: dict[str, dict[str, dict[str, bool]]] = {arm: {} for arm in ARMS}  # arm -> pod -> slice -> ready
        self.ready: dict[str, dict[str, set[str]]] = {arm: {} for arm in ARMS}  # arm -> service -> ready pods
        self.total: Counter[str] = Counter()  # arm -> pods ready in it
        self.events: dict[str, Counter[str]] = {arm: Counter() for arm in ARMS}  # arm -> event type -> count

    def on_pod(self, type_: str, pod: dict[str, Any]) -> None:
        name = pod["metadata"]["name"]
        if type_ == "DELETED":
            self.pods.pop(name, None)
            self.ready_pods.discard(name)
        else:
            self.pods[name] = pod
            conditions = (pod.get("status") or {}).get("conditions") or ()
            if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                self.ready_pods.add(name)
            else:
                self.ready_pods.discard(name)
        self.tracker.check()

    def on_slice(self, type_: str, slice_: dict[str, Any]) -> None:
        labels = slice_["metadata"].get("labels") or {}
        arm = ARM_OF.get(labels.get(MANAGED_BY, ""))
        if arm is None:
            return
        self.events[arm][type_] += 1
        name = slice_["metadata"]["name"]
        touched: set[tuple[str, str]] = set()
        if (old := self.slices[arm].pop(name, None)) is not None:
            service, endpoints = old
            for pod in endpoints:
                self.where[arm].get(pod, {}).pop(name, None)
                touched.add((service, pod))
        if type_ != "DELETED":
            service = labels.get(SERVICE_NAME, "")
            endpoints = {
                e["targetRef"]["name"]: (e.get("conditions") or {}).get("ready") is True
                for e in slice_.get("endpoints") or ()
                if e.get("targetRef")
            }
            self.slices[arm][name] = (service, endpoints)
            for pod, ready in endpoints.items():
                self.where[arm].setdefault(pod, {})[name] = ready
                touched.add((service, pod))
        for service, pod in touched:
            self._refresh(arm, service, pod)
        self.tracker.check()

    def _refresh(self, arm: str, service: str, pod: str) -> None:
        in_slices = self.where[arm].get(pod) or {}
        if not in_slices:
            self.where[arm].pop(pod, None)
        ready_pods = self.ready[arm].setdefault(service, set())
        before = pod in ready_pods
        if any(in_slices.values()):
            ready_pods.add(pod)
        else:
            ready_pods.discard(pod)
        self.total[arm] += (pod in ready_pods) - before

    def state(self, arm: str, pod: str) -> bool | None:
        """True: a slice of `arm` shows the pod's endpoint ready; False: only not ready; None: no endpoint."""
        in_slices = self.where[arm].get(pod)
        return None if not in_slices else any(in_slices.values())

    def converged(self, arm: str, services: list[str], per_service: int) -> bool:
        """Every one of `services` has slices of `arm` with `per_service` endpoints ready."""
        return self.total[arm] >= len(services) * per_service and all(
            len(self.ready[arm].get(s, ())) >= per_service for s in services
        )

    def writes(self, arm: str) -> int:
        """The slice events of `arm` so far: each is one write that changed one of its slices."""
        return sum(self.events[arm].values())


# --- the scenarios -------------------------------------------------------------------------------------------------


@dataclass
class Bench:
    api: Api
    layout: Layout
    code: OperatorCode
    args: argparse.Namespace
    nodes: int

    async def fresh_namespace(self, scenario: str) -> str:
        ns = f"bench-svc-{scenario}-{secrets.token_hex(3)}"
        await self.api.namespace(ns)
        await asyncio.sleep(1.0)  # and the namespace's other KCM bookkeeping (root CA ConfigMap) is done
        return ns

    async def create_pods(self, ns: str, names: list[str], labels: Callable[[int], dict[str, str]]) -> None:
        """POST the pods, CREATE_CONCURRENCY at a time (as startup.py fills its cluster), spread over the nodes."""
        started = time.monotonic()

        def create(i: int, name: str) -> Callable[[], Awaitable[Any]]:
            body = pod_manifest(name, labels(i), f"kwok-node-{i % self.nodes}")
            return lambda: self.api.call("POST", PODS.format(ns=ns), body)

        await bounded(create(i, name) for i, name in enumerate(names))
        took = time.monotonic() - started
        echo(f"bench:   {len(names)} pods POSTed in {took:.1f}s ({len(names) / took:.0f}/s)")

    async def create_services(self, ns: str, arm: str, names: list[str], selector: Callable[[int], dict[str, str]]
                              ) -> None:  # fmt: skip
        def create(i: int, name: str) -> Callable[[], Awaitable[Any]]:
            path, body = service_manifest(arm, name, selector(i))
            return lambda: self.api.call("POST", path.format(ns=ns), body)

        await bounded(create(i, name) for i, name in enumerate(names))

    async def set_ready(self, ns: str, seen: Seen, names: Iterable[str], ready: bool) -> None:
        """Patch the pods' readiness, CREATE_CONCURRENCY at a time."""

        def flip(name: str) -> Callable[[], Awaitable[Any]]:
            path = f"{PODS.format(ns=ns)}/{name}/status"
            return lambda: self.api.call("PATCH", path, readiness_patch(seen.pods[name], ready), patch=True)

        await bounded(flip(name) for name in names)

    async def wait(self, seen: Seen, name: str, goal: Callable[[], bool], alive: Callable[[], None],
                   limit: float | None = None) -> float:  # fmt: skip
        """Wait (on the watches' events) until `goal` holds; returns when (monotonic). For set-up, and not timed."""
        seen.tracker.expect(**{name: goal})
        try:
            return await seen.tracker.reach(name, time.monotonic() + (limit or self.args.timeout), alive)
        finally:
            seen.tracker.goals.pop(name, None)
            seen.tracker.marks.pop(name, None)

    async def start_operator(self, name: str) -> Operator:
        """A fresh `python -m operators run`, ready: its startup line logged, its watches on MINI_WATCHES open."""
        baseline = await self.api.watches(MINI_WATCHES)
        log = self.layout.state_dir / "bench-logs" / f"{name}-{secrets.token_hex(2)}.log"
        log.parent.mkdir(exist_ok=True)
        operator = Operator(self.api, self.code, self.layout.kubeconfig, (), log, metrics=True)
        try:
            await operator.ready(baseline, resources=MINI_WATCHES)
        except BaseException:
            operator.kill()
            raise
        return operator

    async def propagation(self, order: list[str]) -> dict[str, dict[str, Any]]:
        """P pods, one Service of each arm selecting them all: F readiness flips, one at a time, timed per arm."""
        p, flips = self.args.propagation_pods, self.args.flips
        ns = await self.fresh_namespace("prop")
        seen = Seen()
        watches = [
            seen.tracker.follow(await self.api.watch(PODS.format(ns=ns), seen.on_pod)),
            seen.tracker.follow(await self.api.watch(SLICES.format(ns=ns), seen.on_slice)),
        ]
        names = [f"web-{i:04d}" for i in range(p)]
        operator: Operator | None = None
        try:
            await self.create_pods(ns, names, lambda i: {"app": "bench"})
            await self.wait(seen, "pods_ready", lambda: len(seen.ready_pods) >= p, lambda: None)
            operator = await self.start_operator(ns)
            alive = operator.alive
            for arm in order:
                await self.create_services(ns, arm, [arm], lambda i: {"app": "bench"})

            def everywhere(ready: bool) -> Callable[[], bool]:
                return lambda: all(seen.state(arm, pod) is ready for arm in ARMS for pod in names)

            await self.wait(seen, "all_ready", everywhere(True), alive)
            await self.set_ready(ns, seen, names, False)
            await self.wait(seen, "none_ready", everywhere(False), alive)

            kcm = kcm_pid(self.layout)
            assert kcm is not None and operator.metrics_url is not None
            pids = {"mini": operator.pid, "builtin": kcm}
            requests: dict[str, Callable[[], Awaitable[float]]] = {
                "mini": operator.requests,
                "builtin": self.api.kcm_requests,
            }
            cpu0 = {arm: proc_cpu(pid) for arm, pid in pids.items()}
            requests0 = {arm: await counter() for arm, counter in requests.items()}
            latencies: dict[str, list[float]] = {arm: [] for arm in ARMS}
            for k in range(flips):
                if k and k % p == 0:  # a round through the pods is done: all back to NotReady
                    await self.set_ready(ns, seen, names, False)
                    await self.wait(seen, f"none_ready_{k}", everywhere(False), alive)
                pod = names[k % p]
                goals = {f"{k}/{arm}": functools.partial(lambda a, x: seen.state(a, x) is True, arm, pod)
                         for arm in ARMS}  # fmt: skip
                seen.tracker.expect(**goals)
                start = time.monotonic()  # t0: just before the status PATCH
                await self.api.call("PATCH", f"{PODS.format(ns=ns)}/{pod}/status",
                                    readiness_patch(seen.pods[pod], True), patch=True)  # fmt: skip
                for arm in ARMS:
                    at = await seen.tracker.reach(f"{k}/{arm}", start + self.args.timeout, alive)
                    latencies[arm].append(1000 * (at - start))
                for goal in goals:
                    seen.tracker.goals.pop(goal)
            await asyncio.sleep(SETTLE)
            out: dict[str, dict[str, Any]] = {}
            for arm in ARMS:
                values = latencies[arm]
                out[arm] = {
                    "flips": len(values),
                    "p50_ms": percentile(values, 50),
                    "p90_ms": percentile(values, 90),
                    "p99_ms": percentile(values, 99),
                    "max_ms": max(values),
                    "mean_ms": statistics.fmean(values),
                    "cpu_s": proc_cpu(pids[arm]) - cpu0[arm],
                    "requests": await requests[arm]() - requests0[arm],
                    "rss_mib": proc_memory(pids[arm])[0],
                    "slice_writes": seen.writes(arm),
                    "latencies_ms": [round(v, 2) for v in values],
                    "load_avg": os.getloadavg()[0],
                }
            out["mini"] |= {"by_request": operator.stop(), "warnings": operator.warnings()}
            return out
        finally:
            if operator is not None:
                operator.kill()
            for task in watches:
                task.cancel()
            await self.api.purge_namespace(ns)

    async def scale(self, order: list[str]) -> dict[str, dict[str, Any]]:
        """N pods, S Services per arm created at once (timed), then the slice writes per pod readiness change."""
        n, s = self.args.pods, self.args.services
        per = n // s
        ns = await self.fresh_namespace("scale")
        seen = Seen()
        pod_watch = seen.tracker.follow(await self.api.watch(PODS.format(ns=ns), seen.on_pod))
        slice_watch = await self.api.watch(SLICES.format(ns=ns), seen.on_slice)
        pods = [f"p-{i:05d}" for i in range(n)]
        try:
            await self.create_pods(ns, pods, lambda i: {"app": "bench", "svc": str(i % s)})
            started = time.monotonic()
            await self.wait(seen, "pods_ready", lambda: len(seen.ready_pods) >= n, lambda: None, max(600, n / 10))
            echo(f"bench:   {n} pods Running and Ready {time.monotonic() - started:.1f}s after the POSTs")
            pod_watch.cancel()  # the harness keeps the pods as they are now: only it writes their status from here on
            await asyncio.sleep(5.0)  # let kwok, KCM's garbage collector graph and the watch caches go quiet
            out: dict[str, dict[str, Any]] = {}
            for arm in order:
                services = [f"{arm[0]}-{j:04d}" for j in range(s)]
                seen.tracker = Tracker()
                seen.tracker.follow(slice_watch)
                goals: Goals = {"converged_s": functools.partial(seen.converged, arm, services, per)}
                echo(f"bench:   {arm}: {s} Services at once ...")
                result = await measure_phase(
                    self.api, self.layout, self.code, () if arm == "mini" else None, seen.tracker, goals,
                    functools.partial(self.create_services, ns, arm, services, lambda j: {"svc": str(j)}),
                    limit=self.args.timeout, log_name=f"{ns}-{arm}", watched=MINI_WATCHES,
                )  # fmt: skip
                result |= {"slices": len(seen.slices[arm]), "requests_per_service": result["requests"] / s}
                echo(f"bench:   {arm}: converged in {result['converged_s']:.2f}s, {result['requests']:.0f} requests")
                out[arm] = result
            for arm, writes in (await self.writes(ns, seen, slice_watch, pods[: min(WRITE_FLIPS, n)])).items():
                out[arm] |= writes
            echo("bench:   slice writes per pod change: " + ", ".join(
                f"{arm} {out[arm]['writes_per_change']:.2f}" for arm in ARMS))  # fmt: skip
            return out
        finally:
            pod_watch.cancel()
            slice_watch.cancel()
            await self.purge_scale(ns, s)

    async def purge_scale(self, ns: str, services: int, chunk: int = 100) -> None:
        """harness.purge_namespace, with the pods deleted a few Services' worth at a time.

        One collection DELETE of 10,000 pods outlasts the API server's 60 s request timeout (HTTP 504); one of
        the pods of `chunk` Services (1,000 by default) does not.
        """
        await self.api.call("DELETE", f"/api/v1/namespaces/{ns}")
        for first in range(0, services, chunk):
            selector = urllib.parse.quote(f"svc in ({','.join(str(j) for j in range(first, first + chunk))})")
            await self.api.call("DELETE", f"{PODS.format(ns=ns)}?gracePeriodSeconds=0&labelSelector={selector}")
        await until(lambda: self.api.status(f"/api/v1/namespaces/{ns}"), 404)

    async def writes(
        self, ns: str, seen: Seen, slice_watch: asyncio.Task[None], pods: list[str]
    ) -> dict[str, dict[str, Any]]:
        """Both arms' Services present and the operator running: flip `pods` NotReady, then Ready; count writes.

        Pods p-00000.. are labelled svc=0, 1, ...: with S >= 100 each of the 100 is the only pod of its Service
        that changes, so an ideal controller writes one slice per pod change.
        """
        seen.tracker = Tracker()
        seen.tracker.follow(slice_watch)
        operator = await self.start_operator(f"{ns}-writes")
        try:
            assert operator.metrics_url is not None
            await drained([self.api.kcm_requests, operator.requests])  # the operator's start-up resync is over
            before = {arm: seen.writes(arm) for arm in ARMS}
            kcm0 = await self.api.kcm_requests_by_method()
            out: dict[str, dict[str, Any]] = {arm: {} for arm in ARMS}
            for ready, key in ((False, "writes_notready_s"), (True, "writes_ready_s")):
                goals = {arm: functools.partial(lambda a, r: all(seen.state(a, x) is r for x in pods), arm, ready)
                         for arm in ARMS}  # fmt: skip
                seen.tracker.expect(**{f"{key}/{arm}": goal for arm, goal in goals.items()})
                start = time.monotonic()
                await self.set_ready(ns, seen, pods, ready)
                for arm in ARMS:
                    at = await seen.tracker.reach(f"{key}/{arm}", start + self.args.timeout, operator.alive)
                    out[arm][key] = at - start
            await asyncio.sleep(SETTLE)
            await drained([self.api.kcm_requests, operator.requests])
            kcm1 = await self.api.kcm_requests_by_method()
            changes = 2 * len(pods)
            for arm in ARMS:
                writes = seen.writes(arm) - before[arm]
                out[arm] |= {"writes": writes, "writes_per_change": writes / changes}
            counts = operator.stop()
            mine = {k: v for k, v in counts.items() if k.split()[-1] == "endpointslices" and not k.startswith("GET")}
            out["mini"] |= {"writes_requests": mine}
            kcm_by = {m: int(v - kcm0.get(m, 0)) for m, v in kcm1.items() if v - kcm0.get(m, 0)}
            out["builtin"] |= {"writes_requests": kcm_by}
            return out
        finally:
            operator.kill()


SCENARIOS: dict[str, Callable[[Bench, list[str]], Awaitable[dict[str, dict[str, Any]]]]] = {
    "propagation": Bench.propagation,
    "scale": Bench.scale,
}

# --- report --------------------------------------------------------------------------------------------------------

ROWS = {  # scenario -> (key, label, format)
    "propagation": (
        ("p50_ms", "pod Ready -> endpoint ready, p50 (ms)", "{:.1f}"),
        ("p90_ms", "pod Ready -> endpoint ready, p90 (ms)", "{:.1f}"),
        ("p99_ms", "pod Ready -> endpoint ready, p99 (ms)", "{:.1f}"),
        ("max_ms", "pod Ready -> endpoint ready, max (ms)", "{:.1f}"),
        ("mean_ms", "pod Ready -> endpoint ready, mean (ms)", "{:.1f}"),
        ("flips", "flips timed", "{:.0f}"),
        ("slice_writes", "slice events of the arm (whole scenario)", "{:.0f}"),
        ("requests", "requests during the flips (KCM: all)", "{:.0f}"),
        ("cpu_s", "CPU s during the flips (KCM: whole)", "{:.2f}"),
        ("rss_mib", "RSS at the end (MiB)", "{:.1f}"),
        ("warnings", "operator WARNING/ERROR lines", "{:.0f}"),
        ("load_avg", "load average (1 min) at the end", "{:.2f}"),
        ("watch_resumes", "harness watches resumed (server closed)", "{:.0f}"),
    ),
    "scale": (
        ("converged_s", "create -> all endpoints ready (s)", "{:.2f}"),
        ("drain_s", "writes drained, s after the goal", "{:.1f}"),
        ("requests", "API requests", "{:.0f}"),
        ("requests_per_service", "API requests per Service", "{:.2f}"),
        ("cpu_s", "controller CPU s (KCM: whole)", "{:.2f}"),
        ("rss_mib", "controller RSS at the end (MiB)", "{:.1f}"),
        ("rss_peak_mib", "operator peak RSS, VmHWM (MiB)", "{:.1f}"),
        ("slices", "slices of the arm at the end", "{:.0f}"),
        ("kcm_other", "KCM requests meanwhile", "{:.0f}"),
        ("warnings", "operator WARNING/ERROR lines", "{:.0f}"),
        ("writes_notready_s", "flipped pods NotReady -> all shown (s)", "{:.2f}"),
        ("writes_ready_s", "flipped pods Ready -> all shown (s)", "{:.2f}"),
        ("writes", "slice writes for the pod changes", "{:.0f}"),
        ("writes_per_change", "slice writes per pod change", "{:.2f}"),
        ("load_avg", "load average (1 min) after the phase", "{:.2f}"),
        ("watch_resumes", "harness watches resumed (server closed)", "{:.0f}"),
    ),
}
RATIOS = {  # scenario -> (key, label, goal or None): mini / builtin of the medians
    "propagation": (
        ("p99_ms", "p99", 1.0),
        ("p50_ms", "p50", None),
        ("p90_ms", "p90", None),
        ("max_ms", "max", None),
    ),
    "scale": (
        ("converged_s", "time to converged", None),
        ("requests", "requests", None),
        ("cpu_s", "CPU (operator / whole KCM)", None),
        ("rss_mib", "RSS (operator / whole KCM)", None),
        ("writes_per_change", "slice writes per pod change", None),
    ),
}


def median(rounds: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rounds if r.get(key) is not None]
    return statistics.median(values) if values else None


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def report(
    results: dict[str, dict[str, list[dict[str, Any]]]], config: dict[str, Any], args: argparse.Namespace
) -> None:
    medians = {
        scenario: {arm: {key: median(rounds, key) for key, _, _ in ROWS[scenario]} for arm, rounds in arms.items()}
        for scenario, arms in results.items()
    }
    ratios = {
        scenario: {key: ratio(medians[scenario]["mini"][key], medians[scenario]["builtin"][key])
                   for key, _, _ in RATIOS[scenario]}
        for scenario in results
    }  # fmt: skip
    document = json.dumps({"config": config, "rounds": results, "medians": medians, "ratios": ratios}, indent=2)
    if args.json_file is not None:
        args.json_file.write_text(document + "\n")
    if args.json:
        print(document)
        return
    print(f"operator: {config['operator']}")
    print(f"cluster: {config['nodes']} kwok nodes")
    print(f"load average at the start: {config['load_avg_start']}, at the end: {config['load_avg_end']}")
    for scenario, arms in results.items():
        print(f"\n#### {scenario}: {config['scenarios'][scenario]}")
        for arm, rounds in arms.items():
            print(f"\n== {scenario} / {arm} ({len(rounds)} repetition(s) after warm-up) ==")
            header = "".join(f"{'r' + str(i + 1):>10}" for i in range(len(rounds)))
            print(f"  {'':<44}{header}{'median':>10}")
            for key, label, fmt in ROWS[scenario]:
                if (m := medians[scenario][arm][key]) is None:
                    continue
                cells = "".join(f"{fmt.format(r[key]) if r.get(key) is not None else '-':>10}" for r in rounds)
                print(f"  {label:<44}{cells}{fmt.format(m):>10}")
            for key, what in (
                ("by_request", "requests by verb"),
                ("kcm_other_by_method", "KCM meanwhile"),
                ("writes_requests", "write phase: requests (mini: its slice writes; KCM: all)"),
            ):
                if counts := rounds[-1].get(key):
                    print(f"  {what} (last): " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        parts = []
        for key, label, goal in RATIOS[scenario]:
            if (value := ratios[scenario][key]) is not None:
                met = "" if goal is None else f" (goal <= {goal}: {'met' if value <= goal else 'NOT met'})"
                parts.append(f"{label} {value:.2f}{met}")
        print("\n  ratio mini/builtin (< 1: Mini faster / cheaper): " + ", ".join(parts))


# --- main ----------------------------------------------------------------------------------------------------------


async def main_async(args: argparse.Namespace, layout: Layout, code: OperatorCode, nodes: int) -> dict[str, Any]:
    api = Api(layout)
    try:
        try:  # the kind is served: a CRD just applied needs a moment; a missing one would stall
            await asyncio.wait_for(until(lambda: api.status("/apis/minik8s.dev/v1/miniservices"), 200), 30)
        except TimeoutError:
            raise SystemExit(f"MiniService is not served by the API server: is its CRD in {code.root}/crds?") from None
        bench = Bench(api, layout, code, args, nodes)
        results: dict[str, dict[str, list[dict[str, Any]]]] = {s: {arm: [] for arm in ARMS} for s in args.scenario}
        for round_ in range(0 if args.no_warmup else -1, args.repeat):
            order = list(ARMS[round_ % 2 :] + ARMS[: round_ % 2])  # alternates the arms every round
            label = "warm-up" if round_ < 0 else f"repetition {round_ + 1}"
            for scenario in args.scenario:
                echo(f"bench: {label}: {scenario}, {' then '.join(order)} (load average {os.getloadavg()[0]:.2f}) ...")
                resumed = api.resumed
                result = await SCENARIOS[scenario](bench, order)
                for arm in ARMS:
                    result[arm]["watch_resumes"] = api.resumed - resumed
                    if round_ >= 0:
                        results[scenario][arm].append(result[arm])
                if scenario == "propagation":
                    echo("bench:   p99 " + ", ".join(f"{arm} {result[arm]['p99_ms']:.1f} ms" for arm in ARMS))
        return results
    finally:
        await api.session.close()


def csv(choices: tuple[str, ...]) -> Callable[[str], list[str]]:
    def parse(value: str) -> list[str]:
        items = [item.strip() for item in value.split(",") if item.strip()]
        if unknown := [item for item in items if item not in choices]:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown)} (choose from {', '.join(choices)})")
        return items

    return parse


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", type=csv(tuple(SCENARIOS)), default=list(SCENARIOS), help="propagation,scale")
    parser.add_argument("--repeat", type=int, default=1, help="measured repetitions after the warm-up (median)")
    parser.add_argument("--no-warmup", action="store_true", help="skip the discarded warm-up round")
    parser.add_argument("--propagation-pods", type=int, default=100, help="propagation: pods (default 100)")
    parser.add_argument("--flips", type=int, default=200, help="propagation: readiness flips timed (default 200)")
    parser.add_argument("--pods", type=int, default=10000, help="scale: pods (default 10000)")
    parser.add_argument("--services", type=int, default=1000, help="scale: Services per arm (default 1000)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per phase before giving up")
    add_run_flags(parser)
    args = parser.parse_args()
    if args.pods % args.services:
        parser.error("--pods must be a multiple of --services (each Service selects pods/services pods)")
    code = operator_code(args)
    # kwok nodes admit 2,000 pods each; startup.py puts 1,500 on one, and one node more leaves room to spare.
    nodes = max(3, math.ceil(args.pods / PODS_PER_NODE) + 1) if "scale" in args.scenario else 3
    cluster = bring_up(code, nodes=nodes)  # $MINI_CLUSTER_DIR and $MINI_CLUSTER_PORT_BASE pick a cluster of its own
    try:
        load_start = os.getloadavg()
        results = asyncio.run(main_async(args, cluster.layout, code, nodes))
        config = {
            "scenarios": {
                "propagation": f"{args.propagation_pods} pods, {args.flips} readiness flips one at a time",
                "scale": f"{args.pods} pods, {args.services} Services per arm created at once "
                f"({args.pods // args.services} pods each); then {min(WRITE_FLIPS, args.pods)} pods NotReady, Ready",
            },
            "repeat": args.repeat,
            "warmup": not args.no_warmup,
            "nodes": nodes,
            "create_concurrency": CREATE_CONCURRENCY,
            "operator": code.describe(),
            "load_avg_start": " ".join(f"{x:.2f}" for x in load_start),
            "load_avg_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        }
        report(results, config, args)
    finally:
        if args.down:
            cluster.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
