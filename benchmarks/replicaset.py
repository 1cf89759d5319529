"""Benchmark: a MiniReplicaSet against a built-in apps/v1 ReplicaSet (500 replicas, same template, same cluster run).

Run:  .venv/bin/python benchmarks/replicaset.py [--replicas 500] [--rounds 1] [--no-warmup] [--json] [--down]
          [--json-file PATH] [--operator-dir DIR]

Four arms, each in a fresh namespace, A/B interleaved (the order rotates every round) after a discarded warm-up
round: `mini` (the operator at its defaults: no client-side QPS limit), `mini-qps20` (the operator throttled to
kube-controller-manager's 20 QPS / 30 burst), `builtin` (KCM's replicaset controller at its defaults) and `raw`
(no controller: the harness POSTs the N pods from one async KubeClient, 32 and then 64 in flight: the physical
limit). Each controller arm scales 0 -> N (the object is created) and then N -> 0. Times come from the harness's
own watches on pods and on the ReplicaSet. Requests: for Mini the operator's own summary line (its watches are not
counted); for the built-in arm the delta of KCM's rest_client_requests_total (all of KCM's controllers: the others
are idle). The operator runs only during the Mini arms, once per phase (a new process for the scale-down, so both
phases get their own request counts). The cluster is $MINI_CLUSTER_DIR / $MINI_CLUSTER_PORT_BASE's, brought up if
needed, left up unless --down. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import (
    IMAGE,
    Api,
    Goals,
    Operator,
    OperatorCode,
    Tracker,
    add_run_flags,
    bring_up,
    echo,
    kcm_pid,
    operator_code,
    proc_cpu,
    proc_memory,
    until,
)

from operators.devcluster.cluster import Layout

HERE = Path(__file__).resolve().parent
SETTLE = 2.0  # seconds after a phase converged before requests are counted (trailing events, status writes)
RAW_CONCURRENCY = (32, 64)  # requests in flight for the raw create-rate arm; the best is reported


@dataclass(frozen=True)
class Arm:
    name: str
    api_version: str
    kind: str
    plural: str
    operator_args: tuple[str, ...] | None  # None: the built-in controller, no operator running

    def path(self, namespace: str, name: str = "") -> str:
        return f"/apis/{self.api_version}/namespaces/{namespace}/{self.plural}" + (f"/{name}" if name else "")


THROTTLE = ("--kube-api-qps", "20", "--kube-api-burst", "30")
ARMS = (
    Arm("mini", "minik8s.dev/v1", "MiniReplicaSet", "minireplicasets", ()),
    Arm("mini-qps20", "minik8s.dev/v1", "MiniReplicaSet", "minireplicasets", THROTTLE),
    Arm("builtin", "apps/v1", "ReplicaSet", "replicasets", None),
    Arm("raw", "v1", "Pod", "pods", None),  # no controller: the harness POSTs the N pods itself
)


def manifest(arm: Arm, name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": f"bench-{arm.name}"}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "pause", "image": IMAGE}]}}
    spec = {"replicas": replicas, "selector": {"matchLabels": labels}, "template": template}
    return {"apiVersion": arm.api_version, "kind": arm.kind, "metadata": {"name": name}, "spec": spec}


@dataclass
class Bench:
    api: Api
    layout: Layout
    code: OperatorCode
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
            operator = Operator(self.api, self.code, self.layout.kubeconfig, arm.operator_args, log)
            await operator.ready(baseline)
        pid = operator.pid if operator else kcm_pid(self.layout)
        assert pid is not None, "kube-controller-manager is not running"
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
            return out | {"warnings": operator.warnings()}
        finally:
            if operator is not None:
                operator.kill()

    async def arm(self, arm: Arm) -> dict[str, Any]:
        """One arm in a fresh namespace: scale 0 -> N (create), N -> 0, delete the namespace."""
        if arm.name == "raw":
            return await self.raw()
        n, ns, name = self.replicas, f"bench-{arm.name}-{secrets.token_hex(3)}", "bench"
        await self.api.namespace(ns)
        await asyncio.sleep(1.0)  # and the namespace's other KCM bookkeeping (root CA ConfigMap) is done
        tracker = Tracker()
        watches = [
            tracker.follow(await self.api.watch(f"/api/v1/namespaces/{ns}/pods", tracker.on_pod)),
            tracker.follow(await self.api.watch(arm.path(ns), tracker.on_rs)),
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
            await self.api.delete_namespace(ns)
        down = {k if k.startswith("down_") else f"down_{k}": v for k, v in down.items()}
        return up | {"requests_per_pod": up["requests"] / n} | down

    async def raw(self) -> dict[str, Any]:
        """The physical limit: N pod POSTs from one async KubeClient, once per bound on the requests in flight."""
        n = self.replicas
        out: dict[str, Any] = {}
        for concurrency in RAW_CONCURRENCY:
            out |= {f"raw{concurrency}_{key}": value for key, value in (await self.raw_once(concurrency)).items()}
        best = min(RAW_CONCURRENCY, key=lambda c: out[f"raw{c}_s"])
        return out | {
            "created_s": out[f"raw{best}_s"],
            "pods_per_s": n / out[f"raw{best}_s"],
            "best_concurrency": best,
            "requests": out[f"raw{best}_requests"],
            "requests_per_pod": out[f"raw{best}_requests"] / n,
            "client_cpu_s": out[f"raw{best}_client_cpu_s"],
        }

    async def raw_once(self, concurrency: int) -> dict[str, float]:
        """One raw round in a fresh namespace: rawcreate.py POSTs N pods with `concurrency` requests in flight.

        The client runs in a process of its own, as the operator does, started and ready (imports done, client
        created) before the clock starts; the harness's watch times it exactly as it times the controllers.
        """
        n, ns = self.replicas, f"bench-raw-{secrets.token_hex(3)}"
        await self.api.namespace(ns)
        await asyncio.sleep(1.0)  # as the other arms: KCM's namespace bookkeeping is done
        tracker = Tracker()
        watch = tracker.follow(await self.api.watch(f"/api/v1/namespaces/{ns}/pods", tracker.on_pod))
        argv = ["--kubeconfig", str(self.layout.kubeconfig), "--namespace", ns, "--pods", str(n)]
        client = await asyncio.create_subprocess_exec(
            sys.executable, str(HERE / "rawcreate.py"), *argv, "--concurrency", str(concurrency),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=HERE.parent,
        )  # fmt: skip
        assert client.stdin is not None and client.stdout is not None
        try:
            if (await client.stdout.readline()).strip() != b"ready":
                raise RuntimeError(f"rawcreate.py did not start (exit code {await client.wait()})")
            tracker.expect(created=lambda: len(tracker.seen) >= n)
            start = time.monotonic()
            client.stdin.write(b"go\n")
            await client.stdin.drain()
            created = await tracker.reach("created", start + self.timeout, lambda: None) - start
            report = json.loads(await client.stdout.readline())
            await client.wait()
            return {"s": created, **report}
        finally:
            if client.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    client.kill()
                await client.wait()
            watch.cancel()
            await self.api.delete_namespace(ns, force_pods=True)


# --- report ------------------------------------------------------------------------------------------------------

ROWS = (  # key, label, format
    ("created_s", "time to all pods created (s)", "{:.2f}"),
    *((f"raw{c}_s", f"  raw, {c} in flight: all created (s)", "{:.2f}") for c in RAW_CONCURRENCY),
    *((f"raw{c}_post_s", f"  raw, {c} in flight: last POST answered", "{:.2f}") for c in RAW_CONCURRENCY),
    ("pods_per_s", "raw: pods created per second (best)", "{:.0f}"),
    ("best_concurrency", "raw: requests in flight of the best", "{:.0f}"),
    ("client_cpu_s", "raw: client process CPU s over the POSTs", "{:.2f}"),
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
    ("watch_resumes", "harness watches resumed (server closed)", "{:.0f}"),
)
RATIO_LABELS = {
    "created_s": "time to all created",
    "ready_s": "time to all Ready",
    "requests_per_pod": "requests/pod",
    "cpu_s": "CPU s per scale-up (operator / whole KCM)",
    "down_gone_s": "scale-down to 0",
    "rss_vs_kcm": "operator peak RSS / KCM RSS (all of KCM)",
}
RAW_GOAL = 1.5  # Mini's time to all created may be at most this multiple of the raw create time


def median(results: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in results if r.get(key) is not None]
    return statistics.median(values) if values else None


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def ratios_of(medians: dict[str, dict[str, float | None]]) -> dict[str, dict[str, float | None]]:
    """Mini / built-in for every Mini arm, and Mini / raw for the create time and the requests per pod."""
    base, raw = medians["builtin"], medians["raw"]
    out: dict[str, dict[str, float | None]] = {}
    for arm in ("mini", "mini-qps20"):
        m = medians[arm]
        keys = ("created_s", "ready_s", "requests_per_pod", "cpu_s", "down_gone_s")
        out[f"{arm}/builtin"] = {k: ratio(m[k], base[k]) for k in keys} | {
            "rss_vs_kcm": ratio(m["rss_peak_mib"], base["rss_mib"])
        }
        out[f"{arm}/raw"] = {k: ratio(m[k], raw[k]) for k in ("created_s", "requests_per_pod")}
    return out


def report(
    results: dict[str, list[dict[str, Any]]], as_json: bool, config: dict[str, Any], json_file: Path | None = None
) -> None:
    medians = {arm: {key: median(rs, key) for key, _, _ in ROWS} for arm, rs in results.items()}
    ratios = ratios_of(medians)
    document = json.dumps({"config": config, "rounds": results, "medians": medians, "ratios": ratios}, indent=2)
    if json_file is not None:
        json_file.write_text(document + "\n")
    if as_json:
        print(document)
        return
    print(f"operator: {config['operator']}")
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
    for name, values in ratios.items():
        cells = [f"{RATIO_LABELS[k]} {v:.2f}" for k, v in values.items() if v is not None]
        if name.endswith("/raw"):  # the raw arm makes exactly one request per pod
            cells = [c.replace("requests/pod", "requests/pod (raw: 1 POST per pod)") for c in cells]
        if name == "mini/raw" and (created := values.get("created_s")) is not None:
            cells[0] += f" (goal <= {RAW_GOAL}: {'met' if created <= RAW_GOAL else 'NOT met'})"
        print(f"  {name}: " + ", ".join(cells))


async def main_async(args: argparse.Namespace, layout: Layout, code: OperatorCode) -> dict[str, list[dict[str, Any]]]:
    api = Api(layout)
    try:
        await until(lambda: api.status("/apis/minik8s.dev/v1/minireplicasets"), 200)  # the CRD's storage is ready
        bench = Bench(api, layout, code, args.replicas, args.timeout)
        results: dict[str, list[dict[str, Any]]] = {arm.name: [] for arm in ARMS}
        for round_ in range(0 if args.no_warmup else -1, args.rounds):
            order = ARMS[round_ % len(ARMS) :] + ARMS[: round_ % len(ARMS)]
            for arm in order:
                label = "warm-up" if round_ < 0 else f"round {round_ + 1}"
                echo(f"bench: {label}: {arm.name}, {args.replicas} replicas ...")
                resumed = api.resumed
                result = await bench.arm(arm) | {"watch_resumes": api.resumed - resumed}
                done = "ready" if "ready_s" in result else "created"
                echo(f"bench:   {done} in {result[done + '_s']:.2f}s, {result['requests']:.0f} requests")
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
    add_run_flags(parser)
    args = parser.parse_args()
    code = operator_code(args)
    cluster = bring_up(code)  # $MINI_CLUSTER_DIR and $MINI_CLUSTER_PORT_BASE pick a cluster of its own
    try:
        results = asyncio.run(main_async(args, cluster.layout, code))
        config = {
            "replicas": args.replicas,
            "rounds": args.rounds,
            "warmup": not args.no_warmup,
            "raw_concurrency": RAW_CONCURRENCY,
            "operator": code.describe(),
        }
        report(results, args.json, config, args.json_file)
    finally:
        if args.down:
            cluster.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
