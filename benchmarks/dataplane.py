"""Benchmark: the policy agent on the network test bed: policy change → enforcement, and the table's load time.

Run (as root, nftables installed, the local cluster up, no other test bed running):
    .venv/bin/python benchmarks/dataplane.py [--changes 20] [--pods 30]

The test bed and one agent per node (`python -m operators agent --netns …`) run as in
tests/integration/test_netbed.py. In a fresh namespace a server pod, a friend and a stranger, plus
`--pods` more pods, are created and wired. Then, `--changes` times: a MiniNetworkPolicy admitting only the
friend is created at t0, and the stranger probes the server (a new TCP connection, 50 ms timeout) until it
is refused: enforcement; then the policy is deleted at t0' and the stranger probes until it is admitted
again: lifting. Times are taken by the harness (monotonic clock), so they include the watch delivering the
change, the agent's compilation, `nft -f`, and up to one probe interval. Printed: p50/p90/max of both, and
the agents' own table load times from their logs; then the test bed itself: the time to wire the pods,
and its probe throughput, one probe at a time and all at once.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from operators.devcluster.cluster import Cluster
from operators.devcluster.net.agents import start_agents
from operators.devcluster.net.bed import TestBed
from operators.devcluster.net.serve import bed_for
from operators.runtime.client import KubeClient

PROBE_WAIT = 0.05


def pod(name: str, role: str) -> dict[str, Any]:
    container = {"name": "c", "image": "registry.k8s.io/pause:3.10", "ports": [{"containerPort": 80}]}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"role": role}},
        "spec": {"containers": [container]},
    }


async def until(bed: TestBed, source: str, server: str, *, answered: bool, deadline: float = 30.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        if (await bed.probe(source, server, 80, wait=PROBE_WAIT) is not None) == answered:
            return time.monotonic()
    raise TimeoutError(f"{source} -> {server}: still {'refused' if answered else 'answered'} after {deadline} s")


def load_times(logs: Path) -> list[float]:
    """The agents' own `table loaded …, N ms` lines: compile + nft -f, in milliseconds."""
    pattern = re.compile(r"table loaded.*?, (\d+) ms")
    return [float(m) for f in logs.glob("*.log") for m in pattern.findall(f.read_text())]


async def probe_throughput(bed: TestBed, sources: list[str], server: str, probes: int) -> dict[str, float]:
    """Probes per second: one at a time (a prober's latency), and all at once from every pod in turn (as the
    e2e truth tables probe every cell together). Every probe must be answered: a lost one fails the run."""
    rates = {}
    started = time.monotonic()
    for i in range(probes):
        assert await bed.probe(sources[i % len(sources)], server, 80) == "server"
    rates["sequential"] = probes / (time.monotonic() - started)
    started = time.monotonic()
    answers = await asyncio.gather(*(bed.probe(sources[i % len(sources)], server, 80) for i in range(probes)))
    rates["concurrent"] = probes / (time.monotonic() - started)
    assert all(answer == "server" for answer in answers), f"{answers.count(None)} probes unanswered"
    return rates


async def main(args: argparse.Namespace) -> None:
    cluster = Cluster(echo=lambda _: None)
    kube = await KubeClient.from_kubeconfig(kubeconfig=str(cluster.layout.kubeconfig))
    namespace = f"bench-dataplane-{int(time.time())}"
    logs = Path(tempfile.mkdtemp(prefix="agent-logs-"))
    with tempfile.TemporaryDirectory() as state:
        bed = bed_for(cluster, Path(state) / "namespaces.json", kube_proxy=False)
        await bed.start()
        agents = []
        try:
            agents = await start_agents(bed, cluster.layout.kubeconfig, logs, native=False)
            await kube.create(
                "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
            )
            names = {"server": "server", "friend": "friend", "stranger": "stranger"}
            names |= {f"extra-{i}": "extra" for i in range(args.pods)}
            await asyncio.gather(
                *(kube.create(f"/api/v1/namespaces/{namespace}/pods", pod(n, r)) for n, r in names.items())
            )
            t0 = time.monotonic()
            await bed.wait_for({f"{namespace}/{n}" for n in names}, within=120)
            wired = time.monotonic() - t0
            server = str(bed.pod(f"{namespace}/server").address)
            stranger = f"{namespace}/stranger"
            path = f"/apis/minik8s.dev/v1/namespaces/{namespace}/mininetworkpolicies"
            spec = {
                "podSelector": {"matchLabels": {"role": "server"}},
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "friend"}}}]}],
            }
            enforce, lift = [], []
            for _ in range(args.changes):
                t0 = time.monotonic()
                await kube.create(
                    path,
                    {
                        "apiVersion": "minik8s.dev/v1",
                        "kind": "MiniNetworkPolicy",
                        "metadata": {"name": "p"},
                        "spec": spec,
                    },
                )
                enforce.append(await until(bed, stranger, server, answered=False) - t0)
                t0 = time.monotonic()
                await kube.delete(f"{path}/p")
                lift.append(await until(bed, stranger, server, answered=True) - t0)
            throughput = await probe_throughput(bed, [f"{namespace}/{n}" for n in names], server, args.probes)
        finally:
            for agent in agents:
                agent.terminate()
            for agent in agents:
                await agent.wait()
            await bed.stop()
            await kube.delete(f"/api/v1/namespaces/{namespace}")
            await kube.close()
    loads = load_times(logs)
    print(f"{args.changes} policy changes, {len(names)} pods in the namespace, {len(bed.nodes)} nodes with an agent")
    for title, values in (("policy created -> enforced", enforce), ("policy deleted -> lifted", lift)):
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        print(
            f"  {title:28s} p50 {statistics.median(values) * 1000:6.0f} ms  p90 {p90 * 1000:6.0f} ms  "
            f"max {max(values) * 1000:6.0f} ms"
        )
    print(f"  test bed: {len(names)} pods created -> wired and answering in {wired:.1f} s")
    for mode, rate in throughput.items():
        print(f"  test bed probes, {mode:10s} {rate:7.0f} connections/s ({args.probes} probes, TCP, answered)")
    if loads:
        print(
            f"  agent table load (compile + nft -f): median {statistics.median(loads):.0f} ms, max {max(loads):.0f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--pods", type=int, default=30)
    parser.add_argument("--probes", type=int, default=500, help="probes for the test bed's throughput")
    asyncio.run(main(parser.parse_args()))
