"""Shared harness of the cluster benchmarks: the harness's own client and watches, /proc readings, the operator.

`replicaset.py` and `startup.py` import it (they run as scripts, so `benchmarks/` is on sys.path). Every timing
comes from the harness's own watches or from the operator's log timestamps, never from polling; polling is used
only for set-up and clean-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from operators.devcluster.cluster import Cluster, Layout

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "registry.k8s.io/pause:3.10"
READY_RE = re.compile(r"controllers started")  # the operator's startup line (both runtimes log it)
SUMMARY_RE = re.compile(r"manager: API requests made: (.*)$", re.MULTILINE)  # logged on SIGTERM
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")  # app.py's "%(asctime)s" (local time)
Goals = dict[str, Callable[[], bool]]  # name -> predicate over what the watches saw


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

    async def metric(self, name: str, *labels: str, kcm: bool = False) -> float:
        """The sum of a Prometheus metric over every label set that contains all of `labels`."""
        async with self.session.get(self.kcm if kcm else self.base + "/metrics", ssl=False if kcm else self.tls) as r:
            lines = (await r.text()).splitlines()
        return sum(
            float(x.rsplit(" ", 1)[1]) for x in lines if x.startswith(name + "{") and all(m in x for m in labels)
        )

    async def kcm_requests(self) -> float:
        """KCM's rest_client_requests_total, summed over code, host and method (all of its controllers)."""
        return await self.metric("rest_client_requests_total", kcm=True)

    async def watches(self) -> tuple[float, float]:
        """Open cluster-wide WATCHes on pods and on minireplicasets (apiserver_longrunning_requests)."""
        watch = ("apiserver_longrunning_requests", 'verb="WATCH"', 'scope="cluster"')
        return await self.metric(*watch, 'resource="pods"'), await self.metric(*watch, 'resource="minireplicasets"')

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
                raise TimeoutError(f"{name} not reached: {self.count()} pods, status {self.rs.get('status')}")
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

    def argv(self, kubeconfig: Path, *args: str) -> list[str]:
        """`python -m operators run`, quiet and standalone: no liveness endpoint, no metrics server, no lease.

        The flags are passed only where this code has them (`--help`): one harness runs old and new code.
        """
        argv = [sys.executable, "-m", "operators", "run", "--liveness", "", "--kubeconfig", str(kubeconfig)]
        if "--leader-elect" in self.help:
            argv.append("--leader-elect=false")
        if "--metrics-bind-address" in self.help:
            argv += ["--metrics-bind-address", "0"]
        return argv + list(args)

    def describe(self) -> str:
        """The tree and its commit, for the report."""
        head = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=self.root, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "operators"], cwd=self.root,
                               capture_output=True, text=True).stdout.strip()  # fmt: skip
        return f"{self.root} @ {head.stdout.strip()}" + (" (+ uncommitted changes)" if dirty else "")


class Operator:
    """`python -m operators run` as a subprocess, its log in a file, its summary line parsed on stop."""

    def __init__(self, api: Api, code: OperatorCode, kubeconfig: Path, args: tuple[str, ...], log: Path) -> None:
        self.api, self.log = api, log
        env = {**code.env, "KUBECONFIG": str(kubeconfig)}
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                code.argv(kubeconfig, *args), stdout=out, stderr=subprocess.STDOUT, cwd=code.root, env=env
            )
        self.pid = self.process.pid

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"the operator exited with {self.process.returncode}; see {self.log}")

    async def ready(self, baseline: tuple[float, float], wait: float = 60) -> None:
        """Wait for its startup line and for its two watches (pods, minireplicasets) to be open."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            self.alive()
            if READY_RE.search(self.log.read_text(errors="replace")):
                watches = await self.api.watches()
                if watches[0] > baseline[0] and watches[1] > baseline[1]:
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
