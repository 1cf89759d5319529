"""Shared harness of the cluster benchmarks: the harness's own client and watches, /proc readings, the operator.

`replicaset.py` and `startup.py` import it (they run as scripts, so `benchmarks/` is on sys.path). Every timing
comes from the harness's own watches or from the operator's log timestamps, never from polling; polling is used
only for set-up and clean-up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import functools
import json
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from operators.devcluster.cluster import Cluster, Layout

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "registry.k8s.io/pause:3.10"
READY_RE = re.compile(r"controllers started")  # the operator's startup line (both runtimes log it)
SUMMARY_RE = re.compile(r"manager: API requests made: (.*)$", re.MULTILINE)  # logged on SIGTERM
METHOD_LABEL = re.compile(r'method="([A-Z]+)"')  # in rest_client_requests_total's labels
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")  # app.py's "%(asctime)s" (local time)
Goals = dict[str, Callable[[], bool]]  # name -> predicate over what the watches saw
OPERATOR_WATCHES = ("pods", "minireplicasets")  # the operator's cluster-wide watches that Operator.ready waits for
SETTLE = 2.0  # seconds after a phase's last goal before its requests and CPU are read (trailing writes, events)
QUIET = 2.0  # a controller has drained when its request counter has not moved for this long (see drained())
DRAIN_LIMIT = 300.0  # seconds: give up waiting for a controller to drain


def echo(line: str) -> None:
    """Progress goes to stderr, so stdout holds only the report (or the JSON)."""
    print(line, file=sys.stderr, flush=True)


class Api:
    """The harness's own client: aiohttp with the admin token; the API server's CA, KCM's cert unverified."""

    def __init__(self, layout: Layout) -> None:
        self.base = f"https://127.0.0.1:{layout.ports['kube-apiserver']}"
        self.kcm = f"https://127.0.0.1:{layout.ports['kube-controller-manager']}/metrics"
        token = next(line.split(",")[0] for line in (layout.state_dir / "tokens.csv").read_text().splitlines()
                     if line.split(",")[1] == "admin")  # fmt: skip
        self.tls = ssl.create_default_context(cafile=str(layout.pki / "ca.crt"))
        self.session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"})
        self.resumed = 0  # watches the API server closed and the harness resumed (see watch())

    async def call(self, method: str, path: str, body: Any = None, *, patch: bool = False) -> dict[str, Any]:
        headers = {"Content-Type": "application/merge-patch+json" if patch else "application/json"}
        async with self.session.request(method, self.base + path, json=body, headers=headers, ssl=self.tls) as r:
            payload: dict[str, Any] = await r.json(content_type=None)
            if r.status >= 300:
                raise RuntimeError(f"{method} {path}: HTTP {r.status} {payload.get('message', '')}")
            return payload

    async def status(self, path: str) -> int:
        async with self.session.get(self.base + path, ssl=self.tls) as r:
            return r.status

    async def names(self, path: str, selector: str) -> list[str]:
        """The names of a collection's objects matching a label selector (paginated LIST, metadata only)."""
        accept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
        names: list[str] = []
        query = {"labelSelector": selector, "limit": "5000"}
        while True:
            async with self.session.get(self.base + path, params=query, headers={"Accept": accept}, ssl=self.tls) as r:
                r.raise_for_status()
                page = await r.json()
            names += [item["metadata"]["name"] for item in page.get("items") or ()]
            if not (token := page["metadata"].get("continue")):
                return names
            query["continue"] = token

    async def metric(self, name: str, *labels: str, kcm: bool = False, url: str | None = None) -> float:
        """The sum of a Prometheus metric over every label set that contains all of `labels`.

        From the API server, KCM (`kcm`), or another /metrics address (`url`: the operator's, plain HTTP).
        """
        target = url or (self.kcm if kcm else self.base + "/metrics")
        async with self.session.get(target, ssl=False if url or kcm else self.tls) as r:
            lines = (await r.text()).splitlines()
        return sum(
            float(x.rsplit(" ", 1)[1]) for x in lines if x.startswith(name + "{") and all(m in x for m in labels)
        )

    async def kcm_requests(self) -> float:
        """KCM's rest_client_requests_total, summed over code, host and method (all of its controllers)."""
        return await self.metric("rest_client_requests_total", kcm=True)

    async def kcm_requests_by_method(self) -> dict[str, float]:
        """KCM's rest_client_requests_total per HTTP method (GET, POST, ...), summed over code and host."""
        async with self.session.get(self.kcm, ssl=False) as r:
            lines = (await r.text()).splitlines()
        counts: dict[str, float] = {}
        for line in lines:
            if line.startswith("rest_client_requests_total{") and (method := METHOD_LABEL.search(line)):
                counts[method.group(1)] = counts.get(method.group(1), 0) + float(line.rsplit(" ", 1)[1])
        return counts

    async def watches(self, resources: tuple[str, ...] = OPERATOR_WATCHES) -> tuple[float, ...]:
        """Open cluster-wide WATCHes on each of `resources` (apiserver_longrunning_requests), in that order."""
        watch = ("apiserver_longrunning_requests", 'verb="WATCH"', 'scope="cluster"')
        return tuple([await self.metric(*watch, f'resource="{resource}"') for resource in resources])

    async def watch(self, path: str, handle: Callable[[str, dict[str, Any]], None]) -> asyncio.Task[None]:
        """List (for a resourceVersion), then stream every later event to `handle` in a task.

        The API server closes a watch whose reader falls behind ("Forcing watcher close due to unresponsiveness"
        in its log; it happens on a busy 2-core machine while the harness itself POSTs hundreds of pods). The
        stream then resumes from the last resourceVersion it saw, as a reflector does, and counts it in
        `resumed`. An ERROR event (410 Gone: that version has left the watch cache) ends the task with an
        exception, which Tracker.follow turns into a failed phase instead of a silent stall.
        """
        rv = (await self.call("GET", path + "?limit=1"))["metadata"]["resourceVersion"]
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)

        async def stream() -> None:
            nonlocal rv
            while True:
                query = {"watch": "1", "resourceVersion": rv, "allowWatchBookmarks": "true", "timeoutSeconds": "3600"}
                async with self.session.get(self.base + path, params=query, ssl=self.tls, timeout=timeout) as r:
                    r.raise_for_status()
                    async for line in r.content:
                        event = json.loads(line)
                        if event["type"] == "ERROR":
                            raise RuntimeError(f"watch {path}: {event['object'].get('message')}")
                        rv = event["object"]["metadata"]["resourceVersion"]
                        if event["type"] != "BOOKMARK":
                            handle(event["type"], event["object"])
                self.resumed += 1
                echo(f"bench: the API server closed the watch on {path}; resuming from resourceVersion {rv}")

        return asyncio.create_task(stream())

    async def namespace(self, name: str, labels: dict[str, str] | None = None) -> None:
        """Create a namespace and wait until pods can be created in it."""
        await self.call("POST", "/api/v1/namespaces", {"metadata": {"name": name, "labels": labels or {}}})
        # Pods are refused until KCM has created the namespace's default ServiceAccount.
        await until(lambda: self.status(f"/api/v1/namespaces/{name}/serviceaccounts/default"), 200)

    async def delete_namespace(self, name: str, *, force_pods: bool = False, wait: bool = True) -> None:
        """Delete a namespace and wait until it is gone; `force_pods` first deletes its pods with grace 0."""
        if force_pods:  # no wait for kwok's pod-delete stage, pod by pod
            await self.call("DELETE", f"/api/v1/namespaces/{name}/pods?gracePeriodSeconds=0")
        await self.call("DELETE", f"/api/v1/namespaces/{name}")
        if wait:
            await until(lambda: self.status(f"/api/v1/namespaces/{name}"), 404)

    async def purge_namespace(self, name: str) -> None:
        """Delete a namespace whose controllers may still be running, without waiting for kwok pod by pod.

        The namespace goes first: once it is terminating the API server refuses new pods in it, so a
        ReplicaSet controller cannot replace the pods deleted next, all at once with grace 0. Then wait until
        the namespace is gone (its namespaced objects with it).
        """
        await self.call("DELETE", f"/api/v1/namespaces/{name}")
        await self.call("DELETE", f"/api/v1/namespaces/{name}/pods?gracePeriodSeconds=0")
        await until(lambda: self.status(f"/api/v1/namespaces/{name}"), 404)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def drained(counters: Sequence[Callable[[], Awaitable[float]]], limit: float = DRAIN_LIMIT) -> None:
    """Wait until none of `counters` (request totals) has moved for QUIET s, or `limit` s have passed.

    Why: kube-controller-manager's controllers post their Events through the same rate-limited client as their
    writes, from a queue; after a 1,000-pod phase at 20 QPS hundreds of them are still queued when the last
    goal is met, and would otherwise land in the next phase's counts (or be rejected once the namespace is
    gone). The operator too posts its events from a queue, and drops what is left when it stops.
    (Polling is fine here: this is accounting, not a timing.)
    """
    deadline = time.monotonic() + limit
    last = [await counter() for counter in counters]
    while time.monotonic() < deadline:
        await asyncio.sleep(QUIET)
        now = [await counter() for counter in counters]
        if now == last:
            return
        last = now


async def until(status: Callable[[], Awaitable[int]], wanted: int) -> None:
    """Poll until a GET answers `wanted` (set-up and clean-up only: every timing comes from watches)."""
    while await status() != wanted:  # noqa: ASYNC110
        await asyncio.sleep(0.25)


# --- /proc ---------------------------------------------------------------------------------------------------


def proc_memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (utime + stime)."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def proc_start(pid: int) -> float:
    """When a process started (fork), on the time.monotonic() clock, to the kernel's 10 ms tick.

    /proc/PID/stat's starttime counts clock ticks since boot (CLOCK_BOOTTIME), which differs from the monotonic
    clock only by time spent suspended: a constant offset while we run.
    """
    ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    offset = time.clock_gettime(time.CLOCK_BOOTTIME) - time.monotonic()
    return ticks / os.sysconf("SC_CLK_TCK") - offset


def log_times(log: Path, pattern: re.Pattern[str]) -> list[float]:
    """The timestamps of the log lines matching `pattern`, on the time.monotonic() clock (millisecond lines)."""
    offset = time.time() - time.monotonic()
    times = []
    for line in log.read_text(errors="replace").splitlines():
        if pattern.search(line) and (stamp := LOG_TIME.match(line)):
            wall = datetime.datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            times.append(wall - offset)
    return times


# --- what the harness's watches saw --------------------------------------------------------------------------


class Tracker:
    """What the harness's watches saw, and the monotonic time each goal was first met (set on the event)."""

    def __init__(self) -> None:
        self.pods: dict[str, tuple[bool, bool]] = {}  # live pod uid -> (ready, terminating)
        self.seen: set[str] = set()
        self.rs: dict[str, Any] = {}
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}  # kind -> name -> last object (see store())
        self.goals: Goals = {}
        self.marks: dict[str, float] = {}
        self.changed = asyncio.Event()
        self.error: BaseException | None = None  # a watch of this tracker's failed

    def follow(self, watch: asyncio.Task[None]) -> asyncio.Task[None]:
        """Fail `reach` when this watch task fails (rather than wait for events that will never come)."""

        def done(task: asyncio.Task[None]) -> None:
            if not task.cancelled() and task.exception() is not None:
                self.error = task.exception()
                self.changed.set()

        watch.add_done_callback(done)
        return watch

    def on_pod(self, type_: str, pod: dict[str, Any]) -> None:
        uid = pod["metadata"]["uid"]
        if type_ == "DELETED":
            self.pods.pop(uid, None)
        else:
            self.seen.add(uid)
            conditions = pod.get("status", {}).get("conditions") or []
            ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
            self.pods[uid] = (ready, "deletionTimestamp" in pod["metadata"])
        self.check()

    def on_rs(self, type_: str, rs: dict[str, Any]) -> None:
        self.rs = rs
        self.check()

    def store(self, kind: str) -> Callable[[str, dict[str, Any]], None]:
        """A watch handler keeping every object of a collection by name in `objects[kind]` (DELETED removes it).

        For watches of many objects (deployments and their ReplicaSets); `on_rs` keeps one ReplicaSet.
        """
        objects = self.objects.setdefault(kind, {})

        def handle(type_: str, obj: dict[str, Any]) -> None:
            name = obj["metadata"]["name"]
            if type_ == "DELETED":
                objects.pop(name, None)
            else:
                objects[name] = obj
            self.check()

        return handle

    def count(self, *, ready: bool | None = None, terminating: bool | None = None) -> int:
        return sum(ready in (None, r) and terminating in (None, t) for r, t in self.pods.values())

    def status_is(self, replicas: int) -> bool:
        status, meta = self.rs.get("status", {}), self.rs.get("metadata", {})
        return bool(
            status.get("observedGeneration", 0) >= meta.get("generation", 1)
            and status.get("replicas", 0) == replicas
            and status.get("readyReplicas", 0) == replicas
        )

    def expect(self, **goals: Callable[[], bool]) -> None:
        self.goals.update(goals)
        self.check()

    def check(self) -> None:
        now = time.monotonic()
        for name, goal in self.goals.items():
            if name not in self.marks and goal():
                self.marks[name] = now
        self.changed.set()

    async def reach(self, name: str, deadline: float, alive: Callable[[], None]) -> float:
        while name not in self.marks:
            alive()
            if self.error is not None:
                raise RuntimeError(f"the harness's watch failed while waiting for {name}") from self.error
            if time.monotonic() > deadline:
                stored = {kind: len(objects) for kind, objects in self.objects.items()}
                raise TimeoutError(f"{name} not reached: {self.count()} pods, {stored}, status {self.rs.get('status')}")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 1.0)
        return self.marks[name]


# --- the operator --------------------------------------------------------------------------------------------


class OperatorCode:
    """Which operator code runs: a source tree (its working directory and PYTHONPATH) and the flags it knows.

    The harness itself always runs from this checkout; `--operator-dir` points the operator at another tree
    (a git worktree of an older commit, say) so before/after numbers come from the same harness.
    """

    def __init__(self, root: Path = ROOT) -> None:
        self.root = root.resolve()
        self.env = {**os.environ, "PYTHONPATH": str(self.root)}

    @functools.cached_property
    def help(self) -> str:
        argv = [sys.executable, "-m", "operators", "run", "--help"]
        return subprocess.run(argv, cwd=self.root, env=self.env, capture_output=True, text=True, check=True).stdout

    def argv(self, kubeconfig: Path, *args: str, metrics: str = "0") -> list[str]:
        """`python -m operators run`, quiet and standalone: no liveness endpoint, no lease, and no metrics server
        unless `metrics` names an address for it.

        The flags are passed only where this code has them (`--help`): one harness runs old and new code.
        """
        argv = [sys.executable, "-m", "operators", "run", "--liveness", "", "--kubeconfig", str(kubeconfig)]
        if "--leader-elect" in self.help:
            argv.append("--leader-elect=false")
        if "--metrics-bind-address" in self.help:
            argv += ["--metrics-bind-address", metrics]
        return argv + list(args)

    def describe(self) -> str:
        """The tree and its commit, for the report."""
        head = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=self.root, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "operators"], cwd=self.root,
                               capture_output=True, text=True).stdout.strip()  # fmt: skip
        return f"{self.root} @ {head.stdout.strip()}" + (" (+ uncommitted changes)" if dirty else "")


class Operator:
    """`python -m operators run` as a subprocess, its log in a file, its summary line parsed on stop."""

    def __init__(
        self, api: Api, code: OperatorCode, kubeconfig: Path, args: tuple[str, ...], log: Path, *, metrics: bool = False
    ) -> None:
        """`metrics`: serve /metrics on a free local port (`metrics_url`), where the code has the flag."""
        self.api, self.log = api, log
        self.metrics_url: str | None = None
        address = "0"
        if metrics and "--metrics-bind-address" in code.help:
            port = free_port()
            address, self.metrics_url = f"127.0.0.1:{port}", f"http://127.0.0.1:{port}/metrics"
        env = {**code.env, "KUBECONFIG": str(kubeconfig)}
        argv = code.argv(kubeconfig, *args, metrics=address)
        with log.open("wb") as out:
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=code.root, env=env)
        self.pid = self.process.pid

    async def requests(self) -> float:
        """Its rest_client_requests_total so far (needs `metrics`)."""
        assert self.metrics_url is not None
        return await self.api.metric("rest_client_requests_total", url=self.metrics_url)

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"the operator exited with {self.process.returncode}; see {self.log}")

    async def ready(
        self, baseline: tuple[float, ...], wait: float = 60, *, resources: tuple[str, ...] = OPERATOR_WATCHES
    ) -> None:
        """Wait for its startup line and for its watches on `resources` to be open (`baseline`: before it ran)."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            self.alive()
            if READY_RE.search(self.log.read_text(errors="replace")):
                watches = await self.api.watches(resources)
                if all(now > before for now, before in zip(watches, baseline, strict=True)):
                    await asyncio.sleep(1.0)  # the initial listing is handed to the handlers
                    return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"operator not ready after {wait:.0f}s; see {self.log}")

    def stop(self, wait: float = 60) -> dict[str, int]:
        """SIGTERM, wait, and return its `manager: API requests made:` counts ("VERB resource" -> n)."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=wait)
        match = SUMMARY_RE.search(self.log.read_text(errors="replace"))
        if match is None:
            raise RuntimeError(f"no request summary in {self.log}")
        pairs = [item.rsplit("=", 1) for item in match.group(1).split(", ") if "=" in item]
        return {key: int(value) for key, value in pairs}

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def warnings(self) -> int:
        return len(re.findall(r" (WARNING|ERROR) ", self.log.read_text(errors="replace")))


# --- one measured phase --------------------------------------------------------------------------------------


async def measure_phase(
    api: Api,
    layout: Layout,
    code: OperatorCode,
    operator_args: tuple[str, ...] | None,
    tracker: Tracker,
    goals: Goals,
    act: Callable[[], Awaitable[Any]],
    *,
    limit: float,
    log_name: str,
    watched: tuple[str, ...] = OPERATOR_WATCHES,
) -> dict[str, Any]:
    """One phase: `act` at time 0, the time of each goal (seconds, on the tracker's events), the controller's cost.

    Every goal must be met within `limit` seconds of `act`, or the phase fails with TimeoutError.

    The controller under test is a fresh operator process run with `operator_args`, ready (its watches on
    `watched` open) before the clock starts and stopped after the phase, so the phase has its own request
    summary; or, with None, kube-controller-manager. Once the last goal is met the phase waits SETTLE s, then
    until the controllers have drained (see drained(); `drain_s`: how long after the last goal), and reads the
    controller's CPU s (utime+stime: the operator process / the whole KCM), RSS and API requests (the operator's
    summary line by verb and resource / the delta of KCM's rest_client_requests_total by HTTP method); for the
    operator also KCM's requests meanwhile (`kcm_other`: its other controllers' noise) and its log's
    WARNING/ERROR lines.
    """
    operator = None
    if operator_args is not None:
        baseline = await api.watches(watched)
        log = layout.state_dir / "bench-logs" / f"{log_name}-{secrets.token_hex(2)}.log"
        log.parent.mkdir(exist_ok=True)
        operator = Operator(api, code, layout.kubeconfig, operator_args, log, metrics=True)
        await operator.ready(baseline, resources=watched)
    pid = operator.pid if operator else kcm_pid(layout)
    if pid is None:
        raise RuntimeError("kube-controller-manager is not running")
    alive = operator.alive if operator else (lambda: None)
    kcm0, cpu0, rss0 = await api.kcm_requests_by_method(), proc_cpu(pid), proc_memory(pid)[0]
    try:
        tracker.expect(**goals)
        start = time.monotonic()
        await act()
        deadline = start + limit
        out: dict[str, Any] = {name: await tracker.reach(name, deadline, alive) - start for name in goals}
        await asyncio.sleep(SETTLE)
        counters = [api.kcm_requests] + ([operator.requests] if operator and operator.metrics_url else [])
        await drained(counters)
        out |= {"drain_s": time.monotonic() - start - max(out.values())}
        rss, peak = proc_memory(pid)
        out |= {"cpu_s": proc_cpu(pid) - cpu0, "rss_mib": rss, "rss_delta_mib": rss - rss0}
        out |= {"load_avg": os.getloadavg()[0]}
        kcm1 = await api.kcm_requests_by_method()
        kcm_by = {method: n - kcm0.get(method, 0) for method, n in kcm1.items()}
        kcm = sum(kcm_by.values())
        by_method = {method: int(n) for method, n in sorted(kcm_by.items(), key=lambda kv: -kv[1]) if n}
        if operator is None:
            return out | {"requests": kcm, "by_request": by_method}
        counts = operator.stop()
        out |= {"rss_peak_mib": peak, "requests": sum(counts.values()), "by_request": counts}
        out |= {"kcm_other": kcm, "kcm_other_by_method": by_method}
        return out | {"warnings": operator.warnings()}
    finally:
        if operator is not None:
            operator.kill()


# --- the cluster ---------------------------------------------------------------------------------------------


def bring_up(code: OperatorCode, *, nodes: int = 3) -> Cluster:
    """The cluster of $MINI_CLUSTER_DIR / $MINI_CLUSTER_PORT_BASE, up with the built-in controllers, CRDs applied."""
    cluster = Cluster(Layout.default(), echo=echo)
    cluster.up(builtin_controllers=True, nodes=nodes)
    cluster.kubectl("apply", "--server-side", "-f", str(code.root / "crds"))
    return cluster


def kcm_pid(layout: Layout) -> int | None:
    """kube-controller-manager's PID as the cluster's state file records it; None while it is stopped."""
    try:
        pid = json.loads(layout.state_file.read_text())["pids"].get("kube-controller-manager")
    except json.JSONDecodeError:  # caught mid-write by a restart
        return None
    return int(pid) if pid else None


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    """The flags every cluster benchmark takes: its output, the cluster's fate, and which operator code runs."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--json-file", type=Path, help="also write the JSON report to this file")
    parser.add_argument("--down", action="store_true", help="stop the cluster afterwards")
    parser.add_argument(
        "--operator-dir", type=Path, help="run the operator from this source tree (default: this checkout)"
    )


def operator_code(args: argparse.Namespace) -> OperatorCode:
    """The OperatorCode `--operator-dir` names (this checkout by default)."""
    return OperatorCode(args.operator_dir) if args.operator_dir else OperatorCode()
