"""Benchmark: the operator's cold start in a cluster full of pods, beside kube-controller-manager's, in one run.

Run:  .venv/bin/python benchmarks/startup.py [--pods 10000 | --pods 0,3000,6000,10000] [--mrs 1000]
          [--timeout 300] [--json] [--json-file PATH] [--keep-objects] [--operator-dir DIR] [--no-kcm] [--down]

The cluster ($MINI_CLUSTER_DIR / $MINI_CLUSTER_PORT_BASE's, brought up if needed) gets N pods already bound to
the kwok nodes (`spec.nodeName`, spread evenly; kwok makes them Running and Ready, no scheduler involved) in a few
namespaces, and M MiniReplicaSets with replicas 0 whose selectors match none of them. For each N, smallest first:

* mini: `python -m operators run --workers 5` starts as a fresh process; right after, the harness creates a
  1-replica MiniReplicaSet in a namespace of its own. Measured: process start -> caches synced (the last log line
  matching SYNCED_RE), process start -> that MiniReplicaSet's first pod (the harness's own watch), the operator's
  RSS once synced and at the first pod, its peak RSS (VmHWM), its CPU seconds until then. After --timeout without
  a first pod it reports "not synced after N s" with the RSS and CPU at that point.
* kcm: kube-controller-manager is restarted; right after, the harness creates a 1-replica apps/v1 ReplicaSet.
  Process start -> its first pod, KCM's RSS and CPU, as above.

The filler objects carry the label bench.minik8s.dev/startup and are reused when found; they are deleted at the
end unless --keep-objects (creating 10,000 pods takes minutes). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    IMAGE,
    Api,
    Operator,
    OperatorCode,
    Tracker,
    add_run_flags,
    bring_up,
    echo,
    kcm_pid,
    log_times,
    operator_code,
    proc_cpu,
    proc_memory,
    proc_start,
    until,
)

from operators.devcluster.cluster import Cluster, http_ok

# When the operator's caches have synced. The runtime with its own LIST/WATCH reflector logs one line per
# informer ("informer pods: synced, 10000 objects") and one once all have ("manager: caches synced in 4.20 s
# (...)"); the Kopf-based runtime logs none (Kopf holds the handlers back until its indexes have absorbed the
# initial listing, silently), so its time to synced is n/a. The time taken is that of the LAST matching line
# logged before the probe's first pod was seen (before the timeout when there was none): the slowest informer's,
# or the manager's line, whichever the code logs.
SYNCED_RE = re.compile(r"\bsynced\b")

LABEL = "bench.minik8s.dev/startup"  # on the filler namespaces ("objects"), pods ("fill") and MRSs ("idle")
NAMESPACES = tuple(f"bench-startup-{i}" for i in range(4))
PODS_PER_NODE = 1500  # kwok nodes admit 2000 pods: room is left for the probes' pods (and other benchmarks)
CREATE_CONCURRENCY = 64  # requests in flight while the harness creates the filler objects
OPERATOR_ARGS = ("--workers", "5")
SAMPLE_EVERY = 0.1  # seconds between /proc samples of the process under test
PROBE_LABELS = {"app": "bench-startup-probe"}


def namespace_of(index: int) -> str:
    return NAMESPACES[index % len(NAMESPACES)]


def fill_pod(index: int, nodes: int) -> dict[str, Any]:
    """A filler pod, bound to a kwok node already: the API server and kwok, no scheduler."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"fill-{index:05d}", "labels": {LABEL: "fill", "app": "bench-startup-fill"}},
        "spec": {
            "nodeName": f"kwok-node-{index % nodes}",
            "containers": [{"name": "pause", "image": IMAGE}],
            "terminationGracePeriodSeconds": 0,
        },
    }


def idle_mrs(index: int) -> dict[str, Any]:
    """A MiniReplicaSet with replicas 0 whose selector matches no pod but its own (it has none)."""
    name = f"idle-{index:04d}"
    labels = {LABEL + "-mrs": name}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "pause", "image": IMAGE}]}}
    spec = {"replicas": 0, "selector": {"matchLabels": labels}, "template": template}
    metadata = {"name": name, "labels": {LABEL: "idle"}}
    return {"apiVersion": "minik8s.dev/v1", "kind": "MiniReplicaSet", "metadata": metadata, "spec": spec}


def settled_status(mrs: dict[str, Any]) -> dict[str, Any]:
    """The status the controller would write for an idle MRS, so no run starts with 1000 status writes to do.

    A long-running controller leaves its objects with this status; a cold start then finds nothing to write.
    It matches the controller's needs_status_update field for field (terminatingReplicas 0, no conditions).
    """
    name = mrs["metadata"]["name"]
    zeros = dict.fromkeys(("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas"), 0)
    return {
        **zeros,
        "terminatingReplicas": 0,
        "observedGeneration": mrs["metadata"].get("generation", 1),
        "conditions": [],
        "selector": f"{LABEL}-mrs={name}",
    }


def settled(mrs: dict[str, Any]) -> bool:
    """Whether an idle MRS's status is the one settled_status() writes (the fields the controller compares)."""
    status = mrs.get("status") or {}
    counters = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "terminatingReplicas")
    return (
        all(status.get(k) == 0 for k in counters)
        and status.get("observedGeneration") == mrs["metadata"].get("generation")
        and not status.get("conditions")
    )


def probe(api_version: str, kind: str) -> dict[str, Any]:
    template = {"metadata": {"labels": PROBE_LABELS}, "spec": {"containers": [{"name": "pause", "image": IMAGE}]}}
    spec = {"replicas": 1, "selector": {"matchLabels": PROBE_LABELS}, "template": template}
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "probe"}, "spec": spec}


async def bounded(calls: Iterable[Callable[[], Awaitable[Any]]], limit: int = CREATE_CONCURRENCY) -> int:
    """Run the calls with at most `limit` in flight; return how many there were."""
    slots = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[Any]]) -> None:
        async with slots:
            await call()

    calls = list(calls)
    await asyncio.gather(*(one(call) for call in calls))
    return len(calls)


# --- the filler objects ----------------------------------------------------------------------------------------


async def ensure_namespaces(api: Api) -> None:
    existing = set(await api.names("/api/v1/namespaces", f"{LABEL}=objects"))
    for ns in NAMESPACES:
        if ns not in existing:
            await api.namespace(ns, {LABEL: "objects"})


async def ensure_pods(api: Api, count: int, nodes: int, wait: float) -> dict[str, float]:
    """Exactly `count` filler pods fill-00000.., Running; reuse what exists, create or delete (grace 0) the rest."""
    existing = set()
    for ns in NAMESPACES:
        existing |= {(ns, name) for name in await api.names(f"/api/v1/namespaces/{ns}/pods", f"{LABEL}=fill")}
    wanted = {(namespace_of(i), f"fill-{i:05d}"): i for i in range(count)}
    started = time.monotonic()

    def create(i: int) -> Callable[[], Awaitable[Any]]:
        return lambda: api.call("POST", f"/api/v1/namespaces/{namespace_of(i)}/pods", fill_pod(i, nodes))

    def delete(ns: str, name: str) -> Callable[[], Awaitable[Any]]:
        return lambda: api.call("DELETE", f"/api/v1/namespaces/{ns}/pods/{name}?gracePeriodSeconds=0")

    created = await bounded(create(i) for key, i in wanted.items() if key not in existing)
    deleted = await bounded(delete(*key) for key in existing if key not in wanted)
    posted = time.monotonic() - started
    # Wait for kwok to have made every one Running (set-up: polled, not timed).
    query = f"labelSelector={LABEL}%3Dfill&fieldSelector=status.phase%21%3DRunning&limit=1"
    while any([(await api.call("GET", f"/api/v1/namespaces/{ns}/pods?{query}"))["items"] for ns in NAMESPACES]):
        if time.monotonic() - started > wait:
            raise TimeoutError(f"filler pods not all Running after {wait:.0f} s")
        await asyncio.sleep(1.0)
    took = time.monotonic() - started
    if created or deleted:
        rate = f", {created / posted:.0f} POSTs/s" if created else ""
        echo(f"bench: {count} filler pods: {created} created, {deleted} deleted; all Running after {took:.1f}s{rate}")
    return {"created": created, "deleted": deleted, "posted_s": posted, "running_s": took}


async def ensure_mrs(api: Api, count: int) -> int:
    """Exactly `count` idle MiniReplicaSets, each with its settled status; return how many were created."""
    existing: dict[tuple[str, str], dict[str, Any]] = {}
    for ns in NAMESPACES:
        items = (await api.call("GET", f"/apis/minik8s.dev/v1/namespaces/{ns}/minireplicasets"))["items"]
        existing |= {(ns, mrs["metadata"]["name"]): mrs for mrs in items if mrs["metadata"]["labels"].get(LABEL)}
    wanted = {(namespace_of(i), f"idle-{i:04d}"): i for i in range(count)}

    def path(ns: str, name: str = "", sub: str = "") -> str:
        return f"/apis/minik8s.dev/v1/namespaces/{ns}/minireplicasets" + (f"/{name}" if name else "") + sub

    async def settle(ns: str, mrs: dict[str, Any]) -> None:
        status = {"status": settled_status(mrs)}
        await api.call("PATCH", path(ns, mrs["metadata"]["name"], "/status"), status, patch=True)

    def create(i: int) -> Callable[[], Awaitable[Any]]:
        async def call() -> None:
            await settle(namespace_of(i), await api.call("POST", path(namespace_of(i)), idle_mrs(i)))

        return call

    def fix(key: tuple[str, str]) -> Callable[[], Awaitable[Any]]:
        return lambda: settle(key[0], existing[key])

    def delete(key: tuple[str, str]) -> Callable[[], Awaitable[Any]]:
        return lambda: api.call("DELETE", path(*key))

    created = await bounded(create(i) for key, i in wanted.items() if key not in existing)
    await bounded(fix(key) for key, mrs in existing.items() if key in wanted and not settled(mrs))
    await bounded(delete(key) for key in existing if key not in wanted)
    if created:
        echo(f"bench: {count} idle MiniReplicaSets: {created} created")
    return created


async def delete_objects(api: Api) -> None:
    echo("bench: deleting the filler objects (--keep-objects keeps them for the next run)")
    await asyncio.gather(*(api.delete_namespace(ns, force_pods=True) for ns in NAMESPACES))


# --- the process under test --------------------------------------------------------------------------------------


@dataclass
class Sample:
    at: float  # time.monotonic()
    rss: float  # MiB
    cpu: float  # CPU seconds since the process started


@dataclass
class Sampler:
    """Samples a process's VmRSS and CPU every SAMPLE_EVERY s, so the values at a moment known later can be read."""

    pid: int
    samples: list[Sample] = field(default_factory=list)

    async def run(self) -> None:
        while True:
            self.take()
            await asyncio.sleep(SAMPLE_EVERY)

    def take(self) -> Sample:
        sample = Sample(time.monotonic(), proc_memory(self.pid)[0], proc_cpu(self.pid))
        self.samples.append(sample)
        return sample

    def at(self, moment: float) -> Sample:
        """The first sample taken at or after `moment` (the last one if none was)."""
        return next((s for s in self.samples if s.at >= moment), self.samples[-1])


@dataclass
class Startup:
    """One process start: the moments measured (monotonic, None when not reached) and the sampler."""

    start: float  # the process's start (fork), from /proc
    posted: float  # the probe object's POST answered
    first_pod: float | None
    sampler: Sampler
    deadline_hit: bool

    def result(self, synced: float | None, peak: float) -> dict[str, Any]:
        end = self.first_pod if self.first_pod is not None else self.sampler.samples[-1].at
        out: dict[str, Any] = {
            "posted_s": self.posted - self.start,
            "first_pod_s": None if self.first_pod is None else self.first_pod - self.start,
            "synced_s": None if synced is None else synced - self.start,
            "rss_peak_mib": peak,
            "timed_out": self.deadline_hit,
        }
        at_end = self.sampler.at(end)
        out |= {"rss_first_mib": at_end.rss, "cpu_first_s": at_end.cpu} if self.first_pod is not None else {}
        if synced is not None:
            at_synced = self.sampler.at(synced)
            out |= {"rss_synced_mib": at_synced.rss, "cpu_synced_s": at_synced.cpu}
        if self.deadline_hit:
            out |= {"rss_at_timeout_mib": at_end.rss, "cpu_at_timeout_s": at_end.cpu}
        return out


@dataclass
class Bench:
    api: Api
    cluster: Cluster
    code: OperatorCode
    timeout: float

    async def probe_namespace(self, arm: str) -> tuple[str, Tracker, asyncio.Task[None]]:
        ns = f"bench-startup-{arm}-{secrets.token_hex(3)}"
        await self.api.namespace(ns)
        await asyncio.sleep(1.0)  # KCM's other namespace bookkeeping (root CA ConfigMap) is done
        tracker = Tracker()
        tracker.expect(first_pod=lambda: len(tracker.seen) >= 1)
        return ns, tracker, tracker.follow(await self.api.watch(f"/api/v1/namespaces/{ns}/pods", tracker.on_pod))

    async def observe(self, pid: int, posted: float, tracker: Tracker, alive: Callable[[], None]) -> Startup:
        """Sample the process until the probe's first pod, or until --timeout after the process started."""
        start = proc_start(pid)
        sampler = Sampler(pid)
        task = asyncio.create_task(sampler.run())
        try:
            first_pod: float | None = await tracker.reach("first_pod", start + self.timeout, alive)
        except TimeoutError:
            first_pod = None
        finally:
            task.cancel()
        sampler.take()
        return Startup(start, posted, first_pod, sampler, deadline_hit=first_pod is None)

    async def mini(self, scale: int) -> dict[str, Any]:
        ns, tracker, watch = await self.probe_namespace("mini")
        log = self.cluster.layout.state_dir / "bench-logs" / f"startup-{scale}-{secrets.token_hex(2)}.log"
        log.parent.mkdir(exist_ok=True)
        operator = Operator(self.api, self.code, self.cluster.layout.kubeconfig, OPERATOR_ARGS, log)
        try:
            path = f"/apis/minik8s.dev/v1/namespaces/{ns}/minireplicasets"
            await self.api.call("POST", path, probe("minik8s.dev/v1", "MiniReplicaSet"))
            startup = await self.observe(operator.pid, time.monotonic(), tracker, operator.alive)
            peak = proc_memory(operator.pid)[1]
            until_ = startup.first_pod if startup.first_pod is not None else startup.sampler.samples[-1].at
            synced = [t for t in log_times(log, SYNCED_RE) if t <= until_]
            out = startup.result(max(synced) if synced else None, peak)
            try:
                counts = operator.stop(wait=30)
                out["requests"] = counts
            except (subprocess.TimeoutExpired, RuntimeError) as error:
                echo(f"bench:   the operator did not stop cleanly ({type(error).__name__}); killed")
            return out | {"warnings": operator.warnings(), "log": str(log)}
        finally:
            operator.kill()
            watch.cancel()
            await self.api.delete_namespace(ns)

    async def kcm(self) -> dict[str, Any]:
        ns, tracker, watch = await self.probe_namespace("kcm")
        old = kcm_pid(self.cluster.layout)
        restart = asyncio.create_task(asyncio.to_thread(restart_kcm, self.cluster))
        try:
            # The new PID is in the state file as soon as the process is started (before its /healthz answers).
            while (pid := kcm_pid(self.cluster.layout)) in (old, None) or not running(pid):
                if restart.done():
                    restart.result()  # raises what the restart raised
                    raise RuntimeError("kube-controller-manager restarted, but its PID is not in the state file")
                await asyncio.sleep(0.01)
            await self.api.call("POST", f"/apis/apps/v1/namespaces/{ns}/replicasets", probe("apps/v1", "ReplicaSet"))
            startup = await self.observe(pid, time.monotonic(), tracker, lambda: None)
            healthy = await restart
            out = startup.result(None, proc_memory(pid)[1]) | {"healthy_s": healthy - startup.start}
            return {k: v for k, v in out.items() if k != "synced_s"}
        finally:
            if not restart.done():
                await asyncio.gather(restart, return_exceptions=True)
            watch.cancel()
            # Without KCM (a failed restart) the namespace controller never finishes: do not wait for it.
            await self.api.delete_namespace(ns, wait=restart.exception() is None)


def running(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_port_closed(port: int, wait: float = 30) -> None:
    deadline = time.monotonic() + wait
    while port_open(port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"port {port} still taken {wait:.0f} s after kube-controller-manager was stopped")
        time.sleep(0.05)


def restart_kcm(cluster: Cluster) -> float:
    """Stop kube-controller-manager and start it again; return when (time.monotonic()) it answered /healthz.

    Between the two we wait for its port to close. A Go process's main thread can be a zombie while its other
    threads are still exiting and holding the listening socket; a stop that stops waiting on the zombie and a
    start that checks the port first then race (Cluster.restart_component lost that race once at 10,000 pods:
    "port ... is already in use"). Hence stop_component, the wait, then start_component.
    """
    name = "kube-controller-manager"
    port = cluster.layout.ports[name]
    if hasattr(cluster, "stop_component") and hasattr(cluster, "start_component"):
        cluster.stop_component(name)
        wait_port_closed(port)
        cluster.start_component(name)  # returns once /healthz answers
        return time.monotonic()
    # FALLBACK, for a cluster.py without stop_component/start_component: stop KCM by the PID the state file
    # records, start the same command line again, and record the new PID, so that `down` still stops what runs.
    layout, insecure = cluster.layout, ssl._create_unverified_context()  # KCM's serving cert is self-signed
    state = json.loads(layout.state_file.read_text())
    pid = state["pids"][name]
    argv = [arg.decode() for arg in Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")]
    os.kill(pid, signal.SIGTERM)
    try:
        wait_port_closed(port, wait=10)
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)
        wait_port_closed(port)
    with (layout.logs / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            cwd=layout.state_dir,
        )  # fmt: skip
    state["pids"][name] = process.pid
    layout.state_file.write_text(json.dumps(state, indent=2) + "\n")
    while not http_ok(f"https://127.0.0.1:{port}/healthz", context=insecure):
        time.sleep(0.05)
    return time.monotonic()


# --- report ------------------------------------------------------------------------------------------------------

ROWS = {  # arm -> (key, label, format)
    "mini": (
        ("synced_s", "time to caches synced (s)", "{:.2f}"),
        ("first_pod_s", "time to first pod of a new MRS (s)", "{:.2f}"),
        ("posted_s", "  (the MRS was created at, s)", "{:.2f}"),
        ("cpu_synced_s", "CPU s until synced", "{:.2f}"),
        ("cpu_first_s", "CPU s until first pod", "{:.2f}"),
        ("rss_synced_mib", "RSS once synced (MiB)", "{:.1f}"),
        ("rss_first_mib", "RSS at first pod (MiB)", "{:.1f}"),
        ("rss_peak_mib", "peak RSS, VmHWM (MiB)", "{:.1f}"),
        ("rss_at_timeout_mib", "RSS at the timeout (MiB)", "{:.1f}"),
        ("cpu_at_timeout_s", "CPU s at the timeout", "{:.1f}"),
        ("warnings", "log WARNING/ERROR lines", "{:.0f}"),
        ("watch_resumes", "harness watches resumed (server closed)", "{:.0f}"),
    ),
    "kcm": (
        ("first_pod_s", "time to first pod of a new RS (s)", "{:.2f}"),
        ("posted_s", "  (the RS was created at, s)", "{:.2f}"),
        ("healthy_s", "  (its /healthz answered at, s)", "{:.2f}"),
        ("cpu_first_s", "CPU s until first pod", "{:.2f}"),
        ("rss_first_mib", "RSS at first pod (MiB)", "{:.1f}"),
        ("rss_peak_mib", "peak RSS, VmHWM (MiB)", "{:.1f}"),
        ("rss_at_timeout_mib", "RSS at the timeout (MiB)", "{:.1f}"),
        ("cpu_at_timeout_s", "CPU s at the timeout", "{:.1f}"),
        ("watch_resumes", "harness watches resumed (server closed)", "{:.0f}"),
    ),
}
RATIOS = (
    ("first_pod_s", "time to first pod"),
    ("cpu_first_s", "CPU s until first pod"),
    ("rss_first_mib", "RSS at first pod"),
    ("rss_peak_mib", "peak RSS"),
)


def ratios_of(results: dict[int, dict[str, dict[str, Any]]]) -> dict[int, dict[str, float | None]]:
    out = {}
    for scale, arms in results.items():
        mini, kcm = arms.get("mini", {}), arms.get("kcm", {})
        out[scale] = {k: mini[k] / kcm[k] if mini.get(k) is not None and kcm.get(k) else None for k, _ in RATIOS}
    return out


def cell(arm: dict[str, Any], key: str, fmt: str, timeout: float) -> str:
    """A value; ">N" for a time the timeout cut short; "n/a" for the synced rows of code that logs no such line."""
    if (value := arm.get(key)) is not None:
        return fmt.format(value)
    if key in ("synced_s", "first_pod_s") and arm.get("timed_out"):
        return f">{timeout:.0f}"
    return "n/a" if key in ("synced_s", "cpu_synced_s", "rss_synced_mib") else "-"


def report(
    results: dict[int, dict[str, dict[str, Any]]], config: dict[str, Any], as_json: bool, json_file: Path | None
) -> None:
    ratios = ratios_of(results)
    document = json.dumps({"config": config, "results": results, "ratios": ratios}, indent=2)
    if json_file is not None:
        json_file.write_text(document + "\n")
    if as_json:
        print(document)
        return
    timeout, scales = config["timeout"], list(results)
    print(f"operator: {config['operator']}")
    print(f"cluster: {config['nodes']} kwok nodes, {config['mrs']} idle MiniReplicaSets; columns: pods in the cluster")
    for arm, rows in ROWS.items():
        if not any(arm in r for r in results.values()):
            continue
        print(f"\n== {arm} ==")
        print(f"  {'':<40}" + "".join(f"{scale:>10}" for scale in scales))
        for key, label, fmt in rows:
            if all(results[s].get(arm, {}).get(key) is None for s in scales) and key not in ("synced_s",):
                continue
            cells = [cell(results[s].get(arm, {}), key, fmt, timeout) for s in scales]
            print(f"  {label:<40}" + "".join(f"{c:>10}" for c in cells))
        for scale in scales:
            r = results[scale].get(arm, {})
            if r.get("timed_out"):
                print(
                    f"  at {scale} pods: not synced after {timeout:.0f} s; RSS {r['rss_at_timeout_mib']:.1f} MiB "
                    f"(peak {r['rss_peak_mib']:.1f}), CPU {r['cpu_at_timeout_s']:.1f} s at that point"
                )
            if r.get("requests"):
                print(f"  requests at {scale} pods: " + ", ".join(f"{k}={v}" for k, v in r["requests"].items()))
    if any("kcm" in r and "mini" in r for r in results.values()):
        print("\n== ratios mini/kcm (< 1 means Mini is faster / smaller) ==")
        print(f"  {'':<40}" + "".join(f"{scale:>10}" for scale in scales))
        for key, label in RATIOS:
            values = [ratios[s][key] for s in scales]
            print(f"  {label:<40}" + "".join(f"{'-' if v is None else f'{v:.2f}':>10}" for v in values))


# --- main --------------------------------------------------------------------------------------------------------


async def main_async(args: argparse.Namespace, cluster: Cluster, code: OperatorCode, nodes: int) -> dict[int, Any]:
    api = Api(cluster.layout)
    results: dict[int, dict[str, Any]] = {}
    try:
        await until(lambda: api.status("/apis/minik8s.dev/v1/minireplicasets"), 200)  # the CRD's storage is ready
        await ensure_namespaces(api)
        await ensure_mrs(api, args.mrs)
        bench = Bench(api, cluster, code, args.timeout)
        for scale in args.pods:
            fill = await ensure_pods(api, scale, nodes, wait=max(600.0, scale / 10))
            await asyncio.sleep(5.0)  # let kwok, KCM's garbage collector graph and the watch caches go quiet
            results[scale] = {"fill": fill}
            echo(f"bench: {scale} pods: mini (timeout {args.timeout:.0f}s) ...")
            resumed = api.resumed
            results[scale]["mini"] = mini = await bench.mini(scale) | {"watch_resumes": api.resumed - resumed}
            echo(f"bench:   synced at {mini['synced_s']}, first pod at {mini['first_pod_s']} (s)")
            if not args.no_kcm:
                await asyncio.sleep(2.0)
                echo(f"bench: {scale} pods: kube-controller-manager restart ...")
                resumed = api.resumed
                results[scale]["kcm"] = kcm = await bench.kcm() | {"watch_resumes": api.resumed - resumed}
                echo(f"bench:   first pod at {kcm['first_pod_s']} (s)")
        if not args.keep_objects and not args.down:
            await delete_objects(api)
        return results
    finally:
        await api.session.close()


def scales(text: str) -> list[int]:
    return sorted({int(part) for part in text.split(",") if part.strip()})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=scales, default=[10000], help="pods in the cluster, or a list: 0,3000,10000")
    parser.add_argument("--mrs", type=int, default=1000, help="idle MiniReplicaSets (replicas 0) (default 1000)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the first pod (default 300)")
    parser.add_argument("--keep-objects", action="store_true", help="leave the filler pods and MRSs for the next run")
    parser.add_argument("--no-kcm", action="store_true", help="skip the kube-controller-manager arm")
    add_run_flags(parser)
    args = parser.parse_args()
    code = operator_code(args)
    nodes = max(3, math.ceil(max(args.pods) / PODS_PER_NODE))
    cluster = bring_up(code, nodes=nodes)  # $MINI_CLUSTER_DIR and $MINI_CLUSTER_PORT_BASE pick a cluster of its own
    try:
        results = asyncio.run(main_async(args, cluster, code, nodes))
        config = {
            "pods": args.pods,
            "mrs": args.mrs,
            "timeout": args.timeout,
            "nodes": nodes,
            "operator_args": OPERATOR_ARGS,
            "synced_re": SYNCED_RE.pattern,
            "operator": code.describe(),
        }
        report(results, config, args.json, args.json_file)
    finally:
        if args.down:
            cluster.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
