"""Benchmark: the MiniNetworkPolicy controller's recomputation per event, at 10,000 pods and 100 policies.

Run:  .venv/bin/python benchmarks/netpol_controller.py [--pods 10000] [--namespaces 10] [--policies 100]
          [--events 2000] [--json]

No cluster: the controller's informers are filled in memory with N pods (spread over the namespaces, each
with an app label of 20 values, a tier label and a named port) and P policies (P / namespaces per namespace:
a quarter select everything in their namespace, the rest one app; one in ten names a port in an egress rule
to every namespace, which makes every pod with a named port concern it). Then E pod events are replayed —
label changes, half of them moving a pod from one app to another — and for each event the harness times,
on one thread, what the controller does for it: the event handler finding the policies the change
concerns, and the status recomputation (`evaluate` + `calculate_status`, the engine's work) of each of
them. The API writes are left out: they are I/O on the event loop, not computation on it.

Printed: the policies woken per event, and the recomputation time per event (p50, p99, max) and per
policy sync. The issue's reference point: the whole engine takes about 250 ms for 10k pods and 100 policies.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import random
import statistics
import time
from typing import Any

from operators.controllers.networkpolicy.controller import BY_NAMED_PORT, NetworkPolicyController, index_by_named_port
from operators.controllers.networkpolicy.model import MiniNetworkPolicyView
from operators.controllers.networkpolicy.status import calculate_status
from operators.kube.objects import NamespaceView, Pod
from operators.kube.resources import MININETWORKPOLICIES, NAMESPACES, PODS
from operators.runtime.informers import BY_LABEL, BY_SELECTOR, Informer, index_by_label, index_by_selector

APPS = 20


class Keys:
    """Stands in for the work queue: collects the keys one event enqueues."""

    def __init__(self) -> None:
        self.keys: set[str] = set()

    def enqueue(self, key: str) -> None:
        self.keys.add(key)


def pod_body(index: int, namespace: str, app: int) -> dict[str, Any]:
    return {
        "metadata": {
            "namespace": namespace,
            "name": f"pod-{index}",
            "uid": f"uid-{index}",
            "resourceVersion": "1",
            "labels": {"app": f"app-{app}", "tier": "backend" if index % 2 else "frontend"},
        },
        "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
        "status": {"phase": "Running", "podIP": f"10.{index // 65536}.{index // 256 % 256}.{index % 256}"},
    }


def policy_body(index: int, namespace: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "podSelector": {} if index % 4 == 0 else {"matchLabels": {"app": f"app-{index % APPS}"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"tier": "frontend"}}}], "ports": [{"port": 8080}]}],
    }
    if index % 10 == 0:
        spec["egress"] = [{"to": [{"namespaceSelector": {}}], "ports": [{"port": "http"}]}]
    metadata = {"namespace": namespace, "name": f"policy-{index}", "uid": f"p-{index}", "resourceVersion": "1"}
    return {"metadata": metadata, "spec": spec}


def build(pods: int, namespaces: int, policies: int) -> tuple[NetworkPolicyController, Keys, Informer[Pod]]:
    policy_informer = Informer(MININETWORKPOLICIES, MiniNetworkPolicyView.from_dict)
    policy_informer.add_index(BY_SELECTOR, index_by_selector)
    pod_informer = Informer(PODS, Pod.from_dict)
    pod_informer.add_index(BY_LABEL, index_by_label)
    pod_informer.add_index(BY_NAMED_PORT, index_by_named_port)
    namespace_informer = Informer(NAMESPACES, NamespaceView.from_dict)
    keys = Keys()
    controller = NetworkPolicyController(
        client=None,  # type: ignore[arg-type]  # never called: the benchmark stops before the writes
        recorder=None,  # type: ignore[arg-type]
        policies=policy_informer,
        pods=pod_informer,
        namespaces=namespace_informer,
        natives=None,
        controller_factory=lambda _reconciler: keys,  # type: ignore[arg-type,return-value]
    )
    names = [f"ns-{n}" for n in range(namespaces)]
    namespace_informer.replace(
        NamespaceView.from_dict({"metadata": {"name": n, "uid": n, "labels": {"kubernetes.io/metadata.name": n}}})
        for n in names
    )
    pod_informer.replace(Pod.from_dict(pod_body(i, names[i % namespaces], i % APPS)) for i in range(pods))
    policy_informer.replace(
        MiniNetworkPolicyView.from_dict(policy_body(i, names[i % namespaces])) for i in range(policies)
    )
    keys.keys.clear()
    return controller, keys, pod_informer


def run(args: argparse.Namespace) -> dict[str, Any]:
    controller, keys, pods = build(args.pods, args.namespaces, args.policies)
    rng = random.Random(7)
    now = datetime.datetime.now(datetime.UTC)
    per_event: list[float] = []
    woken: list[int] = []
    per_sync: list[float] = []
    everyone = list(pods)
    for version in range(2, args.events + 2):
        old = rng.choice(everyone)
        labels = dict(old.labels)
        if version % 2:
            labels["app"] = f"app-{rng.randrange(APPS)}"  # moves between the policies selecting one app
        else:
            labels["rev"] = str(version)  # a change no podSelector looks at
        body = pod_body(int(old.name.split("-")[1]), old.namespace, 0)
        body["metadata"]["labels"] = labels
        body["metadata"]["resourceVersion"] = str(version)
        started = time.perf_counter()
        pods.upsert(Pod.from_dict(body))  # the informer's update, then the controller's handler
        for key in keys.keys:
            sync_started = time.perf_counter()
            namespace, name = key.split("/", 1)
            view = controller.policies.get(namespace, name)
            assert view is not None
            calculate_status(view, controller.evaluate(view), None, now)
            per_sync.append(time.perf_counter() - sync_started)
        per_event.append(time.perf_counter() - started)
        woken.append(len(keys.keys))
        keys.keys.clear()
        everyone = list(pods) if version % 500 == 0 else everyone
    return {
        "pods": args.pods,
        "namespaces": args.namespaces,
        "policies": args.policies,
        "events": args.events,
        "policies_woken_per_event_mean": statistics.fmean(woken),
        "event_ms_p50": _ms(per_event, 0.50),
        "event_ms_p99": _ms(per_event, 0.99),
        "event_ms_max": max(per_event) * 1000,
        "sync_ms_p50": _ms(per_sync, 0.50),
        "sync_ms_p99": _ms(per_sync, 0.99),
    }


def _ms(values: list[float], quantile: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--policies", type=int, default=100)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(_in_loop(args))  # informers make an asyncio.Event: they live in a loop
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.pods} pods in {args.namespaces} namespaces, {args.policies} policies, {args.events} pod events")
    print(f"  policies woken per event (mean): {result['policies_woken_per_event_mean']:.2f}")
    print(
        f"  recomputation per event:  p50 {result['event_ms_p50']:.2f} ms  p99 {result['event_ms_p99']:.2f} ms  "
        f"max {result['event_ms_max']:.2f} ms"
    )
    print(f"  one policy's status:      p50 {result['sync_ms_p50']:.2f} ms  p99 {result['sync_ms_p99']:.2f} ms")


async def _in_loop(args: argparse.Namespace) -> dict[str, Any]:
    return run(args)


if __name__ == "__main__":
    main()
