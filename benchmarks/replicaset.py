"""Benchmark: a MiniReplicaSet against a built-in apps/v1 ReplicaSet (500 replicas, same template, same cluster run).

Run:  .venv/bin/python benchmarks/replicaset.py [--replicas 500] [--rounds 1] [--no-warmup] [--json] [--down]

Three arms, each in a fresh namespace, A/B interleaved (the order rotates every round) after a discarded warm-up
round: `mini` (the operator at its defaults: no client-side QPS limit), `mini-qps20` (the operator throttled to
kube-controller-manager's 20 QPS / 30 burst) and `builtin` (KCM's replicaset controller at its defaults). Each arm
scales 0 -> N (the object is created) and then N -> 0. Times come from the harness's own watches on pods and on the
ReplicaSet. Requests: for Mini the operator's own summary line (its watches are not counted); for the built-in
arm the delta of KCM's rest_client_requests_total (all of KCM's controllers: the others are idle). The operator
runs only during the Mini arms, once per phase (a new process for the scale-down, so both phases get their own
request counts). The cluster is $MINI_CLUSTER_DIR / $MINI_CLUSTER_PORT_BASE's, brought up if needed, left up
unless --down. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from operators.devcluster.cluster import Cluster, Layout

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "registry.k8s.io/pause:3.10"
SETTLE = 2.0  # seconds after a phase converged before requests are counted (trailing events, status writes)


@dataclass(frozen=True)
class Arm:
    name: str
    api_version: str
    kind: str
    plural: str
    operator_args: tuple[str, ...] | None  # None: the built-in controller, no operator running

    def path(self, namespace: str, name: str = "") -> str:
        return f"/apis/{self.api_version}/namespaces/{namespace}/{self.plural}" + (f"/{name}" if name else "")


Goals = dict[str, Callable[[], bool]]  # name -> predicate over what the watches saw
THROTTLE = ("--kube-api-qps", "20", "--kube-api-burst", "30")
ARMS = (
    Arm("mini", "minik8s.dev/v1", "MiniReplicaSet", "minireplicasets", ()),
    Arm("mini-qps20", "minik8s.dev/v1", "MiniReplicaSet", "minireplicasets", THROTTLE),
    Arm("builtin", "apps/v1", "ReplicaSet", "replicasets", None),
)


class Api:
    """The harness's own client: aiohttp with the admin token; the API server's CA, KCM's cert unverified."""

    def __init__(self, layout: Layout) -> None:
        self.base = f"https://127.0.0.1:{layout.ports['kube-apiserver']}"
        self.kcm = f"https://127.0.0.1:{layout.ports['kube-controller-manager']}/metrics"
        token = next(line.split(",")[0] for line in (layout.state_dir / "tokens.csv").read_text().splitlines()
                     if line.split(",")[1] == "admin")  # fmt: skip
        self.tls = ssl.create_default_context(cafile=str(layout.pki / "ca.crt"))
        self.session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"})

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
        """List (for a resourceVersion), then stream every later event to `handle` in a task."""
        rv = (await self.call("GET", path + "?limit=1"))["metadata"]["resourceVersion"]
        query = {"watch": "1", "resourceVersion": rv, "allowWatchBookmarks": "true", "timeoutSeconds": "3600"}
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)

        async def stream() -> None:
            async with self.session.get(self.base + path, params=query, ssl=self.tls, timeout=timeout) as r:
                r.raise_for_status()
                async for line in r.content:
                    event = json.loads(line)
                    if event["type"] == "ERROR":
                        raise RuntimeError(f"watch {path}: {event['object'].get('message')}")
                    if event["type"] != "BOOKMARK":
                        handle(event["type"], event["object"])

        return asyncio.create_task(stream())


async def until(status: Callable[[], Awaitable[int]], wanted: int) -> None:
    """Poll until a GET answers `wanted` (set-up and clean-up only: every timing comes from watches)."""
    while await status() != wanted:  # noqa: ASYNC110
        await asyncio.sleep(0.25)


def proc_memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (utime + stime)."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


class Tracker:
    """What the harness's watches saw, and the monotonic time each goal was first met (set on the event)."""

    def __init__(self) -> None:
        self.pods: dict[str, tuple[bool, bool]] = {}  # live pod uid -> (ready, terminating)
        self.seen: set[str] = set()
        self.rs: dict[str, Any] = {}
        self.goals: Goals = {}
        self.marks: dict[str, float] = {}
        self.changed = asyncio.Event()

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
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not reached: {self.count()} pods, status {self.rs.get('status')}")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 1.0)
        return self.marks[name]


class Operator:
    """`python -m operators run` as a subprocess, its log in a file, its summary line parsed on stop."""

    def __init__(self, api: Api, kubeconfig: Path, args: tuple[str, ...], log: Path) -> None:
        self.api, self.log = api, log
        argv = [sys.executable, "-m", "operators", "run", "--liveness", "", "--kubeconfig", str(kubeconfig), *args]
        env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
        with log.open("wb") as out:
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        self.pid = self.process.pid

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"the operator exited with {self.process.returncode}; see {self.log}")

    async def ready(self, baseline: tuple[float, float], wait: float = 60) -> None:
        """Wait for its startup handler and for its two watches (pods, minireplicasets) to be open."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            self.alive()
            if "controllers started" in self.log.read_text(errors="replace"):
                watches = await self.api.watches()
                if watches[0] > baseline[0] and watches[1] > baseline[1]:
                    await asyncio.sleep(1.0)  # the initial listing is handed to the handlers
                    return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"operator not ready after {wait:.0f}s; see {self.log}")

    def stop(self) -> dict[str, int]:
        """SIGTERM, wait, and return its `manager: API requests made:` counts ("VERB resource" -> n)."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        match = re.search(r"manager: API requests made: (.*)$", self.log.read_text(errors="replace"), re.MULTILINE)
        if match is None:
            raise RuntimeError(f"no request summary in {self.log}")
        pairs = [item.rsplit("=", 1) for item in match.group(1).split(", ") if "=" in item]
        return {key: int(value) for key, value in pairs}


def manifest(arm: Arm, name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": f"bench-{arm.name}"}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "pause", "image": IMAGE}]}}
    spec = {"replicas": replicas, "selector": {"matchLabels": labels}, "template": template}
    return {"apiVersion": arm.api_version, "kind": arm.kind, "metadata": {"name": name}, "spec": spec}


@dataclass
class Bench:
    api: Api
    layout: Layout
    kcm_pid: int
    replicas: int
    timeout: float

    async def phase(
        self, arm: Arm, ns: str, tracker: Tracker, goals: Goals, act: Callable[[], Awaitable[Any]]
    ) -> dict[str, Any]:
        """Run one phase (`act` scales), time `goals`, and measure the controller's requests, CPU and memory."""
        operator = None
        if arm.operator_args is not None:
            baseline = await self.api.watches()
            log = self.layout.state_dir / "bench-logs" / f"{ns}-{secrets.token_hex(2)}.log"
            log.parent.mkdir(exist_ok=True)
            operator = Operator(self.api, self.layout.kubeconfig, arm.operator_args, log)
            await operator.ready(baseline)
        pid = operator.pid if operator else self.kcm_pid
        alive = operator.alive if operator else (lambda: None)
        kcm0, cpu0, rss0 = await self.api.kcm_requests(), proc_cpu(pid), proc_memory(pid)[0]
        try:
            tracker.expect(**goals)
            start = time.monotonic()
            await act()
            deadline = start + self.timeout
            out: dict[str, Any] = {name: await tracker.reach(name, deadline, alive) - start for name in goals}
            await asyncio.sleep(SETTLE)
            rss, peak = proc_memory(pid)
            out |= {"cpu_s": proc_cpu(pid) - cpu0, "rss_mib": rss, "rss_delta_mib": rss - rss0}
            kcm = await self.api.kcm_requests() - kcm0
            if operator is None:
                return out | {"requests": kcm}
            counts = operator.stop()
            out |= {"rss_peak_mib": peak, "requests": sum(counts.values()), "by_request": counts, "kcm_other": kcm}
            return out | {"warnings": len(re.findall(r" (WARNING|ERROR) ", operator.log.read_text(errors="replace")))}
        finally:
            if operator is not None and operator.process.poll() is None:
                operator.process.kill()
                operator.process.wait()

    async def arm(self, arm: Arm) -> dict[str, Any]:
        """One arm in a fresh namespace: scale 0 -> N (create), N -> 0, delete the namespace."""
        n, ns, name = self.replicas, f"bench-{arm.name}-{secrets.token_hex(3)}", "bench"
        await self.api.call("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
        # Pods are refused until KCM has created the namespace's default ServiceAccount.
        await until(lambda: self.api.status(f"/api/v1/namespaces/{ns}/serviceaccounts/default"), 200)
        await asyncio.sleep(1.0)  # and the namespace's other KCM bookkeeping (root CA ConfigMap) is done
        tracker = Tracker()
        watches = [
            await self.api.watch(f"/api/v1/namespaces/{ns}/pods", tracker.on_pod),
            await self.api.watch(arm.path(ns), tracker.on_rs),
        ]
        try:
            up_goals = {
                "created_s": lambda: len(tracker.seen) >= n,
                "ready_s": lambda: tracker.count(ready=True, terminating=False) >= n,
                "status_s": lambda: tracker.status_is(n),
            }
            create = lambda: self.api.call("POST", arm.path(ns), manifest(arm, name, n))  # noqa: E731
            up = await self.phase(arm, ns, tracker, up_goals, create)
            down_goals = {
                "down_deleting_s": lambda: tracker.count(terminating=False) == 0,
                "down_gone_s": lambda: tracker.count() == 0,
                "down_status_s": lambda: tracker.status_is(0),
            }
            scale = lambda: self.api.call("PATCH", arm.path(ns, name), {"spec": {"replicas": 0}}, patch=True)  # noqa: E731
            down = await self.phase(arm, ns, tracker, down_goals, scale)
        finally:
            for task in watches:
                task.cancel()
            await self.api.call("DELETE", f"/api/v1/namespaces/{ns}")
            await until(lambda: self.api.status(f"/api/v1/namespaces/{ns}"), 404)
        down = {k if k.startswith("down_") else f"down_{k}": v for k, v in down.items()}
        return up | {"requests_per_pod": up["requests"] / n} | down


# --- report ------------------------------------------------------------------------------------------------------

ROWS = (  # key, label, format
    ("created_s", "time to all pods created (s)", "{:.2f}"),
    ("ready_s", "time to all pods Ready (s)", "{:.2f}"),
    ("status_s", "time to status.readyReplicas=N (s)", "{:.2f}"),
    ("requests", "API requests, scale-up", "{:.0f}"),
    ("requests_per_pod", "API requests per pod created", "{:.3f}"),
    ("cpu_s", "controller CPU s, scale-up", "{:.2f}"),
    ("rss_peak_mib", "operator peak RSS (VmHWM) MiB", "{:.1f}"),
    ("rss_mib", "controller RSS at end of scale-up MiB", "{:.1f}"),
    ("rss_delta_mib", "controller RSS growth in scale-up MiB", "{:.1f}"),
    ("kcm_other", "KCM requests meanwhile (other ctrls)", "{:.0f}"),
    ("down_deleting_s", "scale-down: all pods terminating (s)", "{:.2f}"),
    ("down_gone_s", "scale-down: all pods gone (s)", "{:.2f}"),
    ("down_requests", "API requests, scale-down", "{:.0f}"),
    ("down_cpu_s", "controller CPU s, scale-down", "{:.2f}"),
    ("warnings", "operator log WARNING/ERROR lines", "{:.0f}"),
)


def median(results: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in results if r.get(key) is not None]
    return statistics.median(values) if values else None


def report(results: dict[str, list[dict[str, Any]]], as_json: bool, config: dict[str, Any]) -> None:
    medians = {arm: {key: median(rs, key) for key, _, _ in ROWS} for arm, rs in results.items()}
    base = medians["builtin"]
    ratios: dict[str, dict[str, float | None]] = {}
    for arm in ("mini", "mini-qps20"):
        m = medians[arm]
        pairs = {k: (m[k], base[k]) for k in ("created_s", "ready_s", "requests_per_pod", "down_gone_s")}
        pairs["rss_vs_kcm"] = (m["rss_peak_mib"], base["rss_mib"])
        ratios[f"{arm}/builtin"] = {k: a / b if a is not None and b else None for k, (a, b) in pairs.items()}
    if as_json:
        print(json.dumps({"config": config, "rounds": results, "medians": medians, "ratios": ratios}, indent=2))
        return
    for arm, rounds in results.items():
        print(f"\n== {arm} ({len(rounds)} round(s) after warm-up) ==")
        print(f"  {'':<40}" + "".join(f"{'r' + str(i + 1):>10}" for i in range(len(rounds))) + f"{'median':>10}")
        for key, label, fmt in ROWS:
            if medians[arm][key] is None:
                continue
            cells = [fmt.format(r[key]) if r.get(key) is not None else "-" for r in rounds]
            print(f"  {label:<40}" + "".join(f"{c:>10}" for c in cells) + f"{fmt.format(medians[arm][key]):>10}")
        if "by_request" in rounds[-1]:
            print(
                "  requests by verb (last round): " + ", ".join(f"{k}={v}" for k, v in rounds[-1]["by_request"].items())
            )
    print("\n== ratios (medians; < 1 means Mini is faster / cheaper) ==")
    labels = {"created_s": "time to all created", "ready_s": "time to all Ready", "requests_per_pod": "requests/pod",
              "down_gone_s": "scale-down to 0", "rss_vs_kcm": "operator peak RSS / KCM RSS (all of KCM)"}  # fmt: skip
    for name, values in ratios.items():
        print(f"  {name}: " + ", ".join(f"{labels[k]} {v:.2f}" for k, v in values.items() if v is not None))


async def main_async(args: argparse.Namespace, layout: Layout) -> dict[str, list[dict[str, Any]]]:
    api = Api(layout)
    try:
        await until(lambda: api.status("/apis/minik8s.dev/v1/minireplicasets"), 200)  # the CRD's storage is ready
        kcm_pid = json.loads(layout.state_file.read_text())["pids"]["kube-controller-manager"]
        bench = Bench(api, layout, kcm_pid, args.replicas, args.timeout)
        results: dict[str, list[dict[str, Any]]] = {arm.name: [] for arm in ARMS}
        for round_ in range(0 if args.no_warmup else -1, args.rounds):
            order = ARMS[round_ % len(ARMS) :] + ARMS[: round_ % len(ARMS)]
            for arm in order:
                label = "warm-up" if round_ < 0 else f"round {round_ + 1}"
                print(f"bench: {label}: {arm.name}, {args.replicas} replicas ...", file=sys.stderr, flush=True)
                result = await bench.arm(arm)
                print(f"bench:   ready in {result['ready_s']:.2f}s, {result['requests']:.0f} requests",
                      file=sys.stderr, flush=True)  # fmt: skip
                if round_ >= 0:
                    results[arm.name].append(result)
        return results
    finally:
        await api.session.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=500, help="replicas per ReplicaSet (default 500)")
    parser.add_argument("--rounds", type=int, default=1, help="measured rounds after the warm-up (default 1)")
    parser.add_argument("--no-warmup", action="store_true", help="skip the discarded warm-up round")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per phase before giving up")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--down", action="store_true", help="stop the cluster afterwards")
    args = parser.parse_args()
    layout = Layout.default()  # $MINI_CLUSTER_DIR and $MINI_CLUSTER_PORT_BASE pick a cluster of its own
    cluster = Cluster(layout, echo=lambda line: print(line, file=sys.stderr))
    cluster.up(builtin_controllers=True)
    cluster.kubectl("apply", "--server-side", "-f", str(ROOT / "crds"))
    try:
        results = asyncio.run(main_async(args, layout))
        config = {"replicas": args.replicas, "rounds": args.rounds, "warmup": not args.no_warmup}
        report(results, args.json, config)
    finally:
        if args.down:
            cluster.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
