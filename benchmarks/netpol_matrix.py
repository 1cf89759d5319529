"""Benchmark: the full reachability matrix of 1,000 pods under 100 NetworkPolicies (target: < 2 s on one core).

Run:  .venv/bin/python benchmarks/netpol_matrix.py [--pods 1000] [--policies 100] [--repeat 3]

The snapshot is generated with a fixed seed and mixes every rule shape the engine handles: pod and namespace
selectors (matchLabels and matchExpressions), AND-ed peers, ipBlocks with except, numeric, named and
endPort ports, ingress and egress. "evaluate" = build the engine's indexes + compute the 1,000 x 1,000
matrix; parsing the objects and rendering the matrix as a dict are timed separately.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from operators.networkpolicy import Engine, parse_objects, reachability_matrix

APPS = [f"app-{i}" for i in range(25)]
TEAMS = ["red", "green", "blue"]


def generate(pods: int, policies: int, seed: int = 42) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    namespaces = [f"ns-{i}" for i in range(max(1, pods // 100))]
    objects: list[dict[str, Any]] = [
        {"kind": "Namespace", "metadata": {"name": ns, "labels": {"team": rng.choice(TEAMS)}}} for ns in namespaces
    ]
    for i in range(pods):
        ports = [{"name": "http", "containerPort": rng.choice([80, 8080])}, {"name": "metrics", "containerPort": 9090}]
        if i % 7 == 0:
            ports.append({"name": "dns", "containerPort": 53, "protocol": "UDP"})
        objects.append(
            {
                "kind": "Pod",
                "metadata": {
                    "namespace": namespaces[i % len(namespaces)],
                    "name": f"pod-{i}",
                    "labels": {"app": rng.choice(APPS), "tier": rng.choice(["web", "api", "db"]), "idx": str(i)},
                },
                "spec": {"containers": [{"name": "main", "ports": ports}]},
                "status": {"podIP": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"},
            }
        )
    objects.extend(_policy(rng, f"policy-{i}", rng.choice(namespaces)) for i in range(policies))
    return objects


def _policy(rng: random.Random, name: str, namespace: str) -> dict[str, Any]:
    def selector() -> dict[str, Any]:
        return rng.choice(
            [
                {},
                {"matchLabels": {"app": rng.choice(APPS)}},
                {"matchLabels": {"tier": rng.choice(["web", "api", "db"])}},
                {"matchExpressions": [{"key": "app", "operator": "In", "values": rng.sample(APPS, 3)}]},
                {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
            ]
        )

    def peer() -> dict[str, Any]:
        return rng.choice(
            [
                {"podSelector": selector()},
                {"namespaceSelector": {"matchLabels": {"team": rng.choice(TEAMS)}}},
                {"namespaceSelector": {}, "podSelector": selector()},
                {"ipBlock": {"cidr": "10.0.0.0/16", "except": [f"10.0.{rng.randrange(4)}.0/24"]}},
            ]
        )

    def ports() -> list[dict[str, Any]]:
        return rng.choice(
            [[], [{"port": 80}], [{"port": "http"}], [{"port": 8000, "endPort": 9100}], [{"protocol": "UDP"}]]
        )

    def rules() -> list[dict[str, Any]]:
        return [
            {"peers": [peer() for _ in range(rng.randint(0, 2))], "ports": ports()} for _ in range(rng.randint(0, 2))
        ]

    spec: dict[str, Any] = {"podSelector": selector()}
    if rng.random() < 0.8:
        spec["ingress"] = [{"from": r["peers"], "ports": r["ports"]} for r in rules()]
    if rng.random() < 0.4:
        spec["egress"] = [{"to": r["peers"], "ports": r["ports"]} for r in rules()]
        spec["policyTypes"] = ["Ingress", "Egress"] if "ingress" in spec else ["Egress"]
    return {"kind": "NetworkPolicy", "metadata": {"namespace": namespace, "name": name}, "spec": spec}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    objects = generate(args.pods, args.policies)
    timings: dict[str, list[float]] = {"parse": [], "index": [], "matrix": [], "evaluate": [], "to_dict": []}
    allowed = 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        snapshot = parse_objects(objects)
        parsed = time.perf_counter()
        engine = Engine(snapshot)
        indexed = time.perf_counter()
        matrix = reachability_matrix(engine, 80, "TCP")
        computed = time.perf_counter()
        as_dict = matrix.to_dict()
        rendered = time.perf_counter()
        timings["parse"].append(parsed - start)
        timings["index"].append(indexed - parsed)
        timings["matrix"].append(computed - indexed)
        timings["evaluate"].append(computed - parsed)
        timings["to_dict"].append(rendered - computed)
        allowed = sum(cell for row in as_dict.values() for cell in row.values())

    best = {name: min(values) for name, values in timings.items()}
    median = {name: statistics.median(values) for name, values in timings.items()}
    cells = len(matrix.pods) ** 2
    print(f"netpol matrix: {len(matrix.pods)} pods x {len(snapshot.policies)} policies, TCP/80, {cells:,} cells")
    print(f"  allowed cells: {allowed:,} ({allowed / cells:.1%})")
    for name in ("parse", "index", "matrix", "to_dict"):
        print(f"  {name:<9} best {best[name]:.3f} s   median {median[name]:.3f} s")
    print(
        f"  EVALUATE (index + matrix): best {best['evaluate']:.3f} s, median {median['evaluate']:.3f} s (target < 2 s)"
    )


if __name__ == "__main__":
    main()
