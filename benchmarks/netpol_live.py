"""Benchmark: `kubectl mini netpol matrix -A` on a live cluster of 1,000 pods and 100 policies (target: < 2 s wall).

Run:  MINI_CLUSTER_DIR=/tmp/bench-np MINI_CLUSTER_PORT_BASE=27100 .venv/bin/python benchmarks/netpol_live.py \
          [--pods 1000] [--policies 100] [--runs 5] [--keep] [--down]

Brings up the local cluster of $MINI_CLUSTER_DIR (use one of your own), applies crds/, and creates, through the
API, the snapshot of netpol_matrix.py (same seed, same rule shapes): 10 namespaces, N pods that kwok runs (and
gives IPs), M NetworkPolicies, every fifth one a MiniNetworkPolicy. Then it times the whole command, N runs each:

* `process`: `python -m operators.cli.main netpol matrix -A --port 80` as a user runs it, a fresh interpreter
  each time: start-up and imports, the kubeconfig, the five concurrent paginated LISTs, parsing, the engine,
  the 1,000 x 1,000 table printed to a pipe that is read and dropped;
* `in-process`: the same `main([...])` in this process, stdout to a buffer: everything but the interpreter and
  the imports;
* and the phases of one in-process run: the reads (`read_live`), parse + engine + matrix, rendering.

The namespaces are deleted at the end (not waited for) unless --keep.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from netpol_matrix import generate  # benchmarks/ is on sys.path: this runs as a script

from operators.cli import netpol_live
from operators.cli.main import main as cli_main
from operators.devcluster.cluster import Cluster
from operators.networkpolicy import Engine, parse_objects, reachability_matrix
from operators.runtime.client import ApiError, KubeClient

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "netpol-bench"


def manifests(pods: int, policies: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """netpol_matrix.py's objects as API objects: (namespaces, pods, policies), namespaces renamed netpol-bench-N."""
    objects = generate(pods, policies)
    rename = {
        o["metadata"]["name"]: f"{PREFIX}-{i}" for i, o in enumerate(o for o in objects if o["kind"] == "Namespace")
    }
    namespaces: list[dict[str, Any]] = []
    pod_bodies: list[dict[str, Any]] = []
    policy_bodies: list[dict[str, Any]] = []
    for obj in objects:
        metadata = dict(obj["metadata"])
        if obj["kind"] == "Namespace":
            namespaces.append(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {**metadata, "name": rename[metadata["name"]]}}
            )
            continue
        metadata["namespace"] = rename[metadata["namespace"]]
        if obj["kind"] == "Pod":
            containers = [{**c, "image": "fakeimage"} for c in obj["spec"]["containers"]]
            spec = {"automountServiceAccountToken": False, "containers": containers}
            pod_bodies.append({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
        else:
            mini = len(policy_bodies) % 5 == 4
            kind = (
                {"apiVersion": "minik8s.dev/v1", "kind": "MiniNetworkPolicy"}
                if mini
                else {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy"}
            )
            policy_bodies.append({**kind, "metadata": metadata, "spec": obj["spec"]})
    return namespaces, pod_bodies, policy_bodies


async def populate(kube: KubeClient, pods: int, policies: int) -> None:
    """Create everything (64 requests in flight), then wait until every pod has an IP (a LIST each second)."""
    namespaces, pod_bodies, policy_bodies = manifests(pods, policies)
    for namespace in namespaces:
        with contextlib.suppress(ApiError):  # already there from a --keep run
            await kube.create("/api/v1/namespaces", namespace)

    async def create(body: dict[str, Any]) -> None:
        group = "/api/v1" if body["apiVersion"] == "v1" else f"/apis/{body['apiVersion']}"
        plural = {"Pod": "pods", "NetworkPolicy": "networkpolicies", "MiniNetworkPolicy": "mininetworkpolicies"}[
            body["kind"]
        ]
        try:
            await kube.create(f"{group}/namespaces/{body['metadata']['namespace']}/{plural}", body)
        except ApiError as error:
            if not error.already_exists:
                raise

    started = time.monotonic()
    await asyncio.gather(*(create(body) for body in [*pod_bodies, *policy_bodies]))
    print(
        f"created {len(pod_bodies)} pods and {len(policy_bodies)} policies in {time.monotonic() - started:.1f}s",
        file=sys.stderr,
    )
    wanted = {f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in pod_bodies}
    while True:  # set-up only: polling is fine here
        items = await netpol_live.list_all(kube, "/api/v1/pods")
        running = {
            f"{p['metadata']['namespace']}/{p['metadata']['name']}"
            for p in items
            if (p.get("status") or {}).get("podIP")
        }
        if wanted <= running:
            break
        await asyncio.sleep(1)
    print(f"all pods have IPs after {time.monotonic() - started:.1f}s", file=sys.stderr)


async def delete_namespaces(kube: KubeClient, pods: int, policies: int) -> None:
    for namespace in manifests(pods, policies)[0]:
        with contextlib.suppress(ApiError):
            await kube.delete(f"/api/v1/namespaces/{namespace['metadata']['name']}")


def time_process(argv: list[str], runs: int) -> list[float]:
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "operators.cli.main", *argv], cwd=ROOT, capture_output=True, check=False
        )
        walls.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"the CLI failed: {done.stderr.decode()}")
    return walls


def time_in_process(argv: list[str], runs: int) -> tuple[list[float], str]:
    walls, out = [], ""
    for _ in range(runs):
        buffer = io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(buffer):
            code = cli_main(argv)
        walls.append(time.perf_counter() - started)
        assert code == 0
        out = buffer.getvalue()
    return walls, out


def phases(kubeconfig: str) -> dict[str, float]:
    started = time.perf_counter()
    cluster = netpol_live.read_live(kubeconfig=kubeconfig, context=None)
    read = time.perf_counter()
    matrix = reachability_matrix(Engine(parse_objects(cluster.documents)), 80, "TCP")
    evaluated = time.perf_counter()
    matrix.pretty()
    rendered = time.perf_counter()
    return {"reads": read - started, "parse + engine + matrix": evaluated - read, "render": rendered - evaluated}


def line(label: str, walls: list[float]) -> str:
    return f"  {label:<12} min {min(walls):.3f} s   median {statistics.median(walls):.3f} s   (n={len(walls)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each kind (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the namespaces (the next run reuses them)")
    parser.add_argument("--down", action="store_true", help="stop the cluster at the end")
    args = parser.parse_args()

    cluster = Cluster(echo=lambda text: print(text, file=sys.stderr))
    cluster.up(builtin_controllers=True)
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(ROOT / "crds"))
    cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    kubeconfig = str(cluster.layout.kubeconfig)

    async def with_client(action: Any) -> None:
        kube = await KubeClient.from_kubeconfig(kubeconfig=kubeconfig)
        try:
            await action(kube, args.pods, args.policies)
        finally:
            await kube.close()

    try:
        asyncio.run(with_client(populate))
        argv = ["--kubeconfig", kubeconfig, "netpol", "matrix", "-A", "--port", "80"]
        time_in_process(argv, 1)  # warm-up: imports, the API server's caches
        in_process, out = time_in_process(argv, args.runs)
        process = time_process(argv, args.runs)
        phase = phases(kubeconfig)
        rows = len(out.splitlines()) - 1
        print(
            f"kubectl mini netpol matrix -A --port 80, live: {rows} pods x {args.policies} policies, {rows**2:,} cells"
        )
        print(line("process", process))
        print(line("in-process", in_process))
        print("  one in-process run: " + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in phase.items()))
        print("  target: < 2 s wall")
    finally:
        if not args.keep:
            asyncio.run(with_client(delete_namespaces))
        if args.down:
            cluster.down()


if __name__ == "__main__":
    main()
