"""Benchmark: MiniDeployment against the built-in apps/v1 Deployment: a rolling update and a fan-out, same cluster run.

Run:  .venv/bin/python benchmarks/deployment.py [--scenario rolling,fanout] [--arms mini,builtin] [--repeat 1]
          [--no-warmup] [--replicas 100] [--deployments 50] [--fanout-replicas 20] [--timeout 600]
          [--json] [--json-file PATH] [--operator-dir DIR] [--down]

Two scenarios, each arm in a fresh namespace, the arms one after the other (the scheduler and kwok are shared),
their order alternating every repetition, after a discarded warm-up round; medians are printed:

* rolling: a Deployment of N replicas (default 100), RollingUpdate 25%/25%, minReadySeconds 1, is created and
  rolled out; then its image changes. Timed: the change -> the rollout complete (observedGeneration caught up,
  updatedReplicas == availableReplicas == replicas == N, every ReplicaSet that existed before the change at 0).
  On every pod event of the update it also records the most pods alive and the fewest Ready at once.
* fanout: D Deployments (default 50) of R replicas (default 20) are created at once. Timed: the POSTs -> every
  Deployment's availableReplicas == R for its current generation.

Arms: `builtin` is apps/v1 Deployment (kube-controller-manager's deployment and replicaset controllers, at their
defaults); `mini` is MiniDeployment -> MiniReplicaSet (the operator, both controllers, at its defaults), with
KCM's controllers still running (they ignore the Mini kinds); `mini-qps20` (not run by default) is the operator
throttled to 20 QPS / 30 burst. Times come from the harness's own watches; requests and CPU as replicaset.py
measures them (operator: its request summary and its process's CPU; built-in: the delta of KCM's
rest_client_requests_total and the whole KCM process's CPU). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import secrets
import statistics
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from harness import (
    IMAGE,
    Api,
    Goals,
    OperatorCode,
    Tracker,
    add_run_flags,
    bring_up,
    echo,
    measure_phase,
    operator_code,
    until,
)

from operators.devcluster.cluster import Layout

NEW_IMAGE = "registry.k8s.io/pause:3.9"  # the rolling update's new image (kwok runs no container: any tag will do)
MINI_WATCHES = ("pods", "minireplicasets", "minideployments")  # the operator's watches, open before the clock
THROTTLE = ("--kube-api-qps", "20", "--kube-api-burst", "30")
SURGE = UNAVAILABLE = 0.25  # the rolling update's maxSurge / maxUnavailable


@dataclass(frozen=True)
class Arm:
    name: str
    api_version: str
    kind: str
    plural: str
    rs_plural: str
    operator_args: tuple[str, ...] | None  # None: KCM's built-in controllers, no operator running

    def path(self, namespace: str, name: str = "") -> str:
        return f"/apis/{self.api_version}/namespaces/{namespace}/{self.plural}" + (f"/{name}" if name else "")

    def rs_path(self, namespace: str) -> str:
        return f"/apis/{self.api_version}/namespaces/{namespace}/{self.rs_plural}"


ARMS = {
    "mini": Arm("mini", "minik8s.dev/v1", "MiniDeployment", "minideployments", "minireplicasets", ()),
    "mini-qps20": Arm("mini-qps20", "minik8s.dev/v1", "MiniDeployment", "minideployments", "minireplicasets", THROTTLE),
    "builtin": Arm("builtin", "apps/v1", "Deployment", "deployments", "replicasets", None),
}


def manifest(arm: Arm, name: str, replicas: int, *, min_ready: int = 0) -> dict[str, Any]:
    """The same Deployment body for both kinds (the contract: apiVersion and kind swapped), its own selector."""
    labels = {"app": name}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "pause", "image": IMAGE}]}}
    strategy = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": f"{SURGE:.0%}", "maxUnavailable": f"{UNAVAILABLE:.0%}"},
    }
    spec = {
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": template,
        "strategy": strategy,
        "minReadySeconds": min_ready,
    }
    return {"apiVersion": arm.api_version, "kind": arm.kind, "metadata": {"name": name}, "spec": spec}


# --- what "done" means, read from the harness's watches (the same for both arms) -------------------------------


def caught_up(deployment: dict[str, Any] | None, after_generation: int = 0) -> bool:
    """The controller has seen this Deployment's spec: a generation newer than `after_generation`, observed."""
    if deployment is None:
        return False
    generation = deployment["metadata"].get("generation", 0)
    observed = (deployment.get("status") or {}).get("observedGeneration", 0)
    return bool(generation > after_generation and observed >= generation)


def rolled_out(deployment: dict[str, Any] | None, replicas: int, after_generation: int = 0) -> bool:
    """Rollout complete: caught up, and updatedReplicas == availableReplicas == replicas == `replicas`."""
    if not caught_up(deployment, after_generation):
        return False
    assert deployment is not None
    status = deployment.get("status") or {}
    return bool(status.get("updatedReplicas") == status.get("availableReplicas") == status.get("replicas") == replicas)


def available(deployment: dict[str, Any] | None, replicas: int) -> bool:
    """The fan-out's goal for one Deployment: caught up, availableReplicas == `replicas`."""
    return caught_up(deployment) and (deployment or {}).get("status", {}).get("availableReplicas") == replicas


def scaled_to_zero(replicasets: dict[str, dict[str, Any]], names: set[str]) -> bool:
    """Every ReplicaSet of `names` has spec.replicas 0 and no pods counted in its status (or is gone)."""
    return all(
        rs["spec"].get("replicas", 1) == 0 and (rs.get("status") or {}).get("replicas", 0) == 0
        for name, rs in replicasets.items()
        if name in names
    )


class Envelope:
    """The rolling update's bounds as the harness's pod watch saw them, checked on every pod event.

    Between `start()` and the goal `until`: the most pods alive (not terminating) at once and the fewest Ready
    (and not terminating) at once. Upstream bounds the ReplicaSets' spec.replicas by N + maxSurge and the
    available pods by N - maxUnavailable; the pods themselves can briefly exceed the first (an old ReplicaSet
    scaled down in spec whose pods are not deleted yet, while the new one creates), so these are reported beside
    the bounds, not asserted. Ready counts pods Ready but not yet available (minReadySeconds) too.
    """

    def __init__(self, tracker: Tracker, until: str) -> None:
        self.tracker, self.until = tracker, until
        self.most_alive: int | None = None
        self.fewest_ready: int | None = None

    def start(self) -> None:
        self.most_alive = self.tracker.count(terminating=False)
        self.fewest_ready = self.tracker.count(ready=True, terminating=False)

    def on_pod(self, type_: str, pod: dict[str, Any]) -> None:
        self.tracker.on_pod(type_, pod)
        if self.most_alive is None or self.fewest_ready is None or self.until in self.tracker.marks:
            return
        self.most_alive = max(self.most_alive, self.tracker.count(terminating=False))
        self.fewest_ready = min(self.fewest_ready, self.tracker.count(ready=True, terminating=False))


# --- the scenarios ---------------------------------------------------------------------------------------------


@dataclass
class Bench:
    api: Api
    layout: Layout
    code: OperatorCode
    args: argparse.Namespace

    async def phase(
        self, arm: Arm, ns: str, tracker: Tracker, goals: Goals, act: Callable[[], Awaitable[Any]], pods: int
    ) -> dict[str, Any]:
        """One measured phase (harness.measure_phase) and its cost per pod: `pods` is what the phase creates."""
        out = await measure_phase(
            self.api, self.layout, self.code, arm.operator_args, tracker, goals, act,
            limit=self.args.timeout, log_name=ns, watched=MINI_WATCHES,
        )  # fmt: skip
        return out | {"requests_per_pod": out["requests"] / pods, "cpu_ms_per_pod": 1000 * out["cpu_s"] / pods}

    async def fresh_namespace(self, scenario: str, arm: Arm) -> str:
        ns = f"bench-{scenario}-{arm.name}-{secrets.token_hex(3)}"
        await self.api.namespace(ns)
        await asyncio.sleep(1.0)  # and the namespace's other KCM bookkeeping (root CA ConfigMap) is done
        return ns

    async def rolling(self, arm: Arm) -> dict[str, Any]:
        """Create N replicas and roll them out, then change the image: the update is the timed phase."""
        n, name = self.args.replicas, "roll"
        ns = await self.fresh_namespace("roll", arm)
        tracker = Tracker()
        envelope = Envelope(tracker, until="rolled_out_s")
        deployments, replicasets = tracker.store("deployments"), tracker.store("replicasets")
        watches = [
            tracker.follow(await self.api.watch(f"/api/v1/namespaces/{ns}/pods", envelope.on_pod)),
            tracker.follow(await self.api.watch(arm.path(ns), deployments)),
            tracker.follow(await self.api.watch(arm.rs_path(ns), replicasets)),
        ]
        seen = tracker.objects
        try:
            goals: Goals = {
                "all_created_s": lambda: len(tracker.seen) >= n,
                "complete_s": lambda: rolled_out(seen["deployments"].get(name), n),
            }
            body = manifest(arm, name, n, min_ready=1)
            create = await self.phase(arm, ns, tracker, goals, lambda: self.api.call("POST", arm.path(ns), body), n)

            old = set(seen["replicasets"])  # the ReplicaSet(s) of the first rollout
            generation = seen["deployments"][name]["metadata"]["generation"]
            created_before = len(tracker.seen)
            goals = {
                "new_created_s": lambda: len(tracker.seen) - created_before >= n,
                "rolled_out_s": lambda: (
                    rolled_out(seen["deployments"].get(name), n, generation)
                    and scaled_to_zero(seen["replicasets"], old)
                ),
            }
            containers = [{"name": "pause", "image": NEW_IMAGE}]
            change = {"spec": {"template": {"spec": {"containers": containers}}}}

            async def update() -> None:
                envelope.start()
                await self.api.call("PATCH", arm.path(ns, name), change, patch=True)

            update_ = await self.phase(arm, ns, tracker, goals, update, n)
            update_ |= {"most_alive": envelope.most_alive, "fewest_ready": envelope.fewest_ready}
            update_ |= {"replicasets": len(seen["replicasets"])}
        finally:
            for task in watches:
                task.cancel()
            await self.api.purge_namespace(ns)
        return {f"create_{k}": v for k, v in create.items()} | {f"update_{k}": v for k, v in update_.items()}

    async def fanout(self, arm: Arm) -> dict[str, Any]:
        """D Deployments of R replicas created at once (concurrent POSTs), until every one is available."""
        d, r = self.args.deployments, self.args.fanout_replicas
        names = [f"fan-{i:03d}" for i in range(d)]
        ns = await self.fresh_namespace("fan", arm)
        tracker = Tracker()
        deployments = tracker.store("deployments")
        watches = [
            tracker.follow(await self.api.watch(f"/api/v1/namespaces/{ns}/pods", tracker.on_pod)),
            tracker.follow(await self.api.watch(arm.path(ns), deployments)),
        ]
        seen = tracker.objects["deployments"]
        try:
            goals: Goals = {
                "created_s": lambda: len(tracker.seen) >= d * r,
                "ready_s": lambda: tracker.count(ready=True, terminating=False) >= d * r,
                "available_s": lambda: len(seen) == d and all(available(seen.get(x), r) for x in names),
            }

            async def create() -> None:
                await asyncio.gather(*(self.api.call("POST", arm.path(ns), manifest(arm, x, r)) for x in names))

            return await self.phase(arm, ns, tracker, goals, create, d * r)
        finally:
            for task in watches:
                task.cancel()
            await self.api.purge_namespace(ns)


SCENARIOS: dict[str, Callable[[Bench, Arm], Awaitable[dict[str, Any]]]] = {
    "rolling": Bench.rolling,
    "fanout": Bench.fanout,
}

# --- report ----------------------------------------------------------------------------------------------------

ROWS = {  # scenario -> (key, label, format)
    "rolling": (
        ("create_complete_s", "create: time to rollout complete (s)", "{:.2f}"),
        ("create_requests_per_pod", "create: API requests per pod", "{:.3f}"),
        ("create_cpu_ms_per_pod", "create: controller CPU ms per pod", "{:.1f}"),
        ("create_kcm_other", "create: KCM requests meanwhile", "{:.0f}"),
        ("update_new_created_s", "update: time to N new pods created (s)", "{:.2f}"),
        ("update_rolled_out_s", "update: time to rollout complete (s)", "{:.2f}"),
        ("update_drain_s", "update: writes drained, s after the goal", "{:.1f}"),
        ("update_requests", "update: API requests", "{:.0f}"),
        ("update_requests_per_pod", "update: API requests per pod", "{:.3f}"),
        ("update_cpu_s", "update: controller CPU s", "{:.2f}"),
        ("update_cpu_ms_per_pod", "update: controller CPU ms per pod", "{:.1f}"),
        ("update_most_alive", "update: most pods alive at once (N+25%)", "{:.0f}"),
        ("update_fewest_ready", "update: fewest pods Ready at once (N-25%)", "{:.0f}"),
        ("update_replicasets", "update: ReplicaSets at the end", "{:.0f}"),
        ("update_rss_mib", "update: controller RSS at the end MiB", "{:.1f}"),
        ("update_kcm_other", "update: KCM requests meanwhile", "{:.0f}"),
        ("update_warnings", "update: operator WARNING/ERROR lines", "{:.0f}"),
        ("update_load_avg", "load average (1 min) after the update", "{:.2f}"),
        ("watch_resumes", "harness watches resumed (server closed)", "{:.0f}"),
    ),
    "fanout": (
        ("created_s", "time to all pods created (s)", "{:.2f}"),
        ("ready_s", "time to all pods Ready (s)", "{:.2f}"),
        ("available_s", "time to all Deployments available (s)", "{:.2f}"),
        ("drain_s", "writes drained, s after the goal", "{:.1f}"),
        ("requests", "API requests", "{:.0f}"),
        ("requests_per_pod", "API requests per pod", "{:.3f}"),
        ("cpu_s", "controller CPU s", "{:.2f}"),
        ("cpu_ms_per_pod", "controller CPU ms per pod", "{:.1f}"),
        ("rss_mib", "controller RSS at the end MiB", "{:.1f}"),
        ("kcm_other", "KCM requests meanwhile", "{:.0f}"),
        ("warnings", "operator WARNING/ERROR lines", "{:.0f}"),
        ("load_avg", "load average (1 min) at the end", "{:.2f}"),
        ("watch_resumes", "harness watches resumed (server closed)", "{:.0f}"),
    ),
}
RATIOS = {  # scenario -> (key, label, goal or None): Mini / built-in of the medians
    "rolling": (
        ("update_rolled_out_s", "rolling update time", 1.0),
        ("update_requests_per_pod", "requests/pod", None),
        ("update_cpu_ms_per_pod", "CPU/pod (operator / whole KCM)", None),
        ("create_complete_s", "first rollout time", None),
    ),
    "fanout": (
        ("available_s", "time to all available", 0.5),
        ("requests_per_pod", "requests/pod", None),
        ("cpu_ms_per_pod", "CPU/pod (operator / whole KCM)", None),
        ("ready_s", "time to all pods Ready", None),
    ),
}


def median(rounds: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rounds if r.get(key) is not None]
    return statistics.median(values) if values else None


def ratios_of(medians: dict[str, dict[str, float | None]], scenario: str) -> dict[str, dict[str, float | None]]:
    """Mini / built-in of the medians, for every Mini arm that ran beside the built-in one."""
    base = medians.get("builtin")
    if base is None:
        return {}
    return {
        f"{arm}/builtin": {key: ratio(m[key], base[key]) for key, _, _ in RATIOS[scenario]}
        for arm, m in medians.items()
        if arm != "builtin"
    }


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def report(
    results: dict[str, dict[str, list[dict[str, Any]]]], config: dict[str, Any], args: argparse.Namespace
) -> None:
    medians = {
        scenario: {arm: {key: median(rounds, key) for key, _, _ in ROWS[scenario]} for arm, rounds in arms.items()}
        for scenario, arms in results.items()
    }
    ratios = {scenario: ratios_of(medians[scenario], scenario) for scenario in results}
    document = json.dumps({"config": config, "rounds": results, "medians": medians, "ratios": ratios}, indent=2)
    if args.json_file is not None:
        args.json_file.write_text(document + "\n")
    if args.json:
        print(document)
        return
    print(f"operator: {config['operator']}")
    print(f"load average at the start: {config['load_avg_start']}, at the end: {config['load_avg_end']}")
    for scenario, arms in results.items():
        print(f"\n#### {scenario}: {config['scenarios'][scenario]}")
        for arm, rounds in arms.items():
            print(f"\n== {scenario} / {arm} ({len(rounds)} repetition(s) after warm-up) ==")
            header = "".join(f"{'r' + str(i + 1):>10}" for i in range(len(rounds)))
            print(f"  {'':<42}{header}{'median':>10}")
            for key, label, fmt in ROWS[scenario]:
                if (m := medians[scenario][arm][key]) is None:
                    continue
                cells = "".join(f"{fmt.format(r[key]) if r.get(key) is not None else '-':>10}" for r in rounds)
                print(f"  {label:<42}{cells}{fmt.format(m):>10}")
            for phase in ("", "create_", "update_"):
                for key, what in (("by_request", "requests by verb"), ("kcm_other_by_method", "KCM meanwhile")):
                    if counts := rounds[-1].get(f"{phase}{key}"):
                        print(f"  {phase}{what} (last): " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        for name, values in ratios[scenario].items():
            parts = []
            for key, label, goal in RATIOS[scenario]:
                if (value := values[key]) is not None:
                    met = "" if goal is None else f" (goal <= {goal}: {'met' if value <= goal else 'NOT met'})"
                    parts.append(f"{label} {value:.2f}{met}")
            print(f"\n  ratio {name} (< 1: Mini faster / cheaper): " + ", ".join(parts))


# --- main ------------------------------------------------------------------------------------------------------


async def main_async(args: argparse.Namespace, layout: Layout, code: OperatorCode) -> dict[str, Any]:
    api = Api(layout)
    arms = [ARMS[name] for name in args.arms]
    try:
        for arm in arms:  # the kinds are served: a CRD just applied needs a moment; a missing one would stall
            try:
                served = functools.partial(api.status, f"/apis/{arm.api_version}/{arm.plural}")
                await asyncio.wait_for(until(served, 200), 30)
            except TimeoutError:
                raise SystemExit(
                    f"{arm.kind} is not served by the API server: is its CRD in {code.root}/crds?"
                ) from None
        bench = Bench(api, layout, code, args)
        results: dict[str, dict[str, list[dict[str, Any]]]] = {s: {a.name: [] for a in arms} for s in args.scenario}
        for round_ in range(0 if args.no_warmup else -1, args.repeat):
            order = arms[round_ % len(arms) :] + arms[: round_ % len(arms)]  # alternates the arms every round
            label = "warm-up" if round_ < 0 else f"repetition {round_ + 1}"
            for scenario in args.scenario:
                for arm in order:
                    echo(f"bench: {label}: {scenario}, {arm.name} (load average {os.getloadavg()[0]:.2f}) ...")
                    resumed = api.resumed
                    result = await SCENARIOS[scenario](bench, arm) | {"watch_resumes": api.resumed - resumed}
                    goal = "update_rolled_out_s" if scenario == "rolling" else "available_s"
                    requests = result.get("update_requests", result.get("requests"))
                    echo(f"bench:   {goal} {result[goal]:.2f}s, {requests:.0f} requests")
                    if round_ >= 0:
                        results[scenario][arm.name].append(result)
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
    parser.add_argument("--scenario", type=csv(tuple(SCENARIOS)), default=list(SCENARIOS), help="rolling,fanout")
    parser.add_argument("--arms", type=csv(tuple(ARMS)), default=["mini", "builtin"], help="of mini,mini-qps20,builtin")
    parser.add_argument("--repeat", type=int, default=1, help="measured repetitions after the warm-up (median)")
    parser.add_argument("--no-warmup", action="store_true", help="skip the discarded warm-up round")
    parser.add_argument("--replicas", type=int, default=100, help="rolling: replicas (default 100)")
    parser.add_argument("--deployments", type=int, default=50, help="fanout: deployments (default 50)")
    parser.add_argument("--fanout-replicas", type=int, default=20, help="fanout: replicas each (default 20)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per phase before giving up")
    add_run_flags(parser)
    args = parser.parse_args()
    code = operator_code(args)
    cluster = bring_up(code)  # $MINI_CLUSTER_DIR and $MINI_CLUSTER_PORT_BASE pick a cluster of its own
    try:
        load_start = os.getloadavg()
        results = asyncio.run(main_async(args, cluster.layout, code))
        config = {
            "scenarios": {
                "rolling": f"{args.replicas} replicas, RollingUpdate 25%/25%, minReadySeconds 1, image changed",
                "fanout": f"{args.deployments} Deployments x {args.fanout_replicas} replicas created at once",
            },
            "arms": args.arms,
            "repeat": args.repeat,
            "warmup": not args.no_warmup,
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
