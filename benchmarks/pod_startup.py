"""Benchmark: how fast the local cluster turns a new pod into a Running, Ready pod with an IP (kwok's fast stages).

Run:  .venv/bin/python benchmarks/pod_startup.py [--pods 30] [--interval 0.2]

Creates bare pods one at a time in a fresh namespace of the local cluster ($MINI_CLUSTER_DIR /
$MINI_CLUSTER_PORT_BASE pick another one) and times, from the harness's own watch, creation → scheduled and
creation → Ready with a pod IP. No controller is involved: this is the floor every controller benchmark stands on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import statistics
import time
from typing import Any

from operators.devcluster.cluster import Cluster
from operators.runtime.client import KubeClient


def is_ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or [])
    return ready and bool(status.get("podIP"))


async def measure(kube: KubeClient, pods: int, interval: float) -> tuple[list[float], list[float]]:
    namespace = f"pod-startup-{secrets.token_hex(3)}"
    await kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    try:
        for _ in range(300):  # pods need the namespace's default ServiceAccount first
            if (await kube.get(f"/api/v1/namespaces/{namespace}/serviceaccounts"))["items"]:
                break
            await asyncio.sleep(0.1)
        path = f"/api/v1/namespaces/{namespace}/pods"
        version = (await kube.get(path))["metadata"]["resourceVersion"]
        created: dict[str, float] = {}
        scheduled: dict[str, float] = {}
        ready: dict[str, float] = {}
        all_ready = asyncio.Event()

        async def follow() -> None:
            async for event in kube.watch(path, query={"resourceVersion": version}):
                pod, now = event["object"], time.monotonic()
                name = pod["metadata"]["name"]
                if pod["spec"].get("nodeName"):
                    scheduled.setdefault(name, now)
                if is_ready(pod):
                    ready.setdefault(name, now)
                    if len(ready) == pods:
                        all_ready.set()

        watcher = asyncio.create_task(follow())
        await asyncio.sleep(0.3)  # let the watch start
        for index in range(pods):
            name = f"p{index}"
            created[name] = time.monotonic()
            body = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name},
                "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]},
            }
            await kube.create(path, body)
            await asyncio.sleep(interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_ready.wait(), timeout=30)
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        return ([scheduled[n] - created[n] for n in scheduled], [ready[n] - created[n] for n in ready])
    finally:
        await kube.delete(f"/api/v1/namespaces/{namespace}")


def summary(label: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[max(0, int(len(ms) * 0.9) - 1)]
    median = statistics.median(ms)
    return f"  {label:<28} n={len(ms):<4} median {median:6.1f} ms   p90 {p90:6.1f} ms   max {ms[-1]:6.1f} ms"


async def main_async(args: argparse.Namespace) -> None:
    cluster = Cluster(echo=lambda _: None)
    cluster.up()
    kube = await KubeClient.from_kubeconfig(kubeconfig=str(cluster.layout.kubeconfig))
    try:
        scheduled, ready = await measure(kube, args.pods, args.interval)
    finally:
        await kube.close()
    print(f"pod startup on the local cluster ({args.pods} pods, one every {args.interval}s):")
    print(summary("created -> scheduled", scheduled))
    print(summary("created -> Ready with an IP", ready))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=30, help="pods to create (default 30)")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between creations (default 0.2)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
