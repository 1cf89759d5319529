"""The network test bed with real packets: pods as network namespaces at their kwok IPs, answering on their ports.

These tests need root and network namespaces. Where the machine has neither they are skipped with the
reason in pytest's summary (`make test` prints it with -rs), never silently.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from operators.agent.ruleset import compile_ruleset, owners_of_addresses
from operators.devcluster.cluster import Cluster
from operators.devcluster.net.agents import start_agents
from operators.devcluster.net.bed import TestBed
from operators.devcluster.net.netns import existing
from operators.devcluster.net.serve import bed_for
from operators.kube.objects import Pod
from operators.networkpolicy import parse_objects
from operators.runtime.client import KubeClient
from tests.integration.kubehelpers import eventually, list_pods, set_pod_ready

pytestmark = [pytest.mark.cluster]


def _unsupported() -> str | None:
    if os.geteuid() != 0:
        return "the network test bed needs root (network namespaces); not root here"
    if shutil.which("ip") is None or not os.path.exists("/proc/self/ns/net"):
        return "the network test bed needs iproute2 and network namespaces; missing here"
    return None


if (reason := _unsupported()) is not None:
    pytest.skip(reason, allow_module_level=True)


def pod(name: str, ports: list[dict[str, Any]]) -> dict[str, Any]:
    container = {"name": "c", "image": "registry.k8s.io/pause:3.10", "ports": ports}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [container]}}


@pytest.fixture
async def bed(cluster: Cluster, tmp_path: Path) -> AsyncIterator[TestBed]:
    testbed = bed_for(cluster, tmp_path / "namespaces.json")
    await testbed.start()
    try:
        yield testbed
    finally:
        await testbed.stop()
    assert not existing(), "every namespace the test bed made is gone"


async def test_pods_answer_on_their_ports_at_their_ips(kube: KubeClient, namespace: str, bed: TestBed) -> None:
    """A pod is reached at the IP kwok gave it, on the ports it declares, TCP and UDP, from another pod
    (on whichever nodes they run: the node routes are used); an undeclared port does not answer."""
    ports = [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 81, "protocol": "UDP"}]
    for name in ("server", "client"):
        await kube.create(f"/api/v1/namespaces/{namespace}/pods", pod(name, ports))

    async def ips() -> dict[str, str] | None:
        found = {p["metadata"]["name"]: (p.get("status") or {}).get("podIP") for p in await list_pods(kube, namespace)}
        return found if len(found) == 2 and all(found.values()) else None

    addresses = await eventually(ips, within=60, what="two pods with IPs")
    await bed.wait_for({f"{namespace}/server", f"{namespace}/client"})
    client = f"{namespace}/client"
    assert await bed.probe(client, addresses["server"], 80, "TCP") == "server"
    assert await bed.probe(client, addresses["server"], 81, "UDP") == "server"
    assert await bed.probe(client, addresses["server"], 82, "TCP", wait=0.5) is None
    assert await bed.probe(f"{namespace}/server", addresses["client"], 80, "TCP") == "client"


async def test_a_reused_address_reaches_the_new_pod_at_once(bed: TestBed) -> None:
    """kwok hands the address of a pod being deleted to a new pod. While both claim it, the new pod holds it
    (one namespace per address); and a client that was talking to the old pod reaches the new one at once,
    because the address keeps its MAC: its neighbour cache still points at the right place. (A random MAC
    left the client's entry on the removed veth for up to a minute: the agent test's refused probes.)
    The pods are fed to the bed as watch events, at the top of a node's CIDR, where kwok hands out none."""
    node = next(iter(bed.nodes.values()))
    tag = uuid.uuid4().hex[:8]

    def claim(name: str, address: ipaddress.IPv4Address, **metadata: str) -> dict[str, Any]:
        body = pod(name, [{"containerPort": 80}])
        body["metadata"].update(namespace="bedtest", uid=f"bedtest-{name}-{tag}", **metadata)
        return {**body, "spec": {**body["spec"], "nodeName": node.name}, "status": {"podIP": str(address)}}

    shared = node.gateway - 2
    client, old, new = claim("client", node.gateway - 1), claim("old", shared), claim("new", shared)
    try:
        bed.observe("ADDED", client)
        bed.observe("ADDED", old)
        await bed.wait_for({"bedtest/client", "bedtest/old"})
        assert await bed.probe("bedtest/client", str(shared), 80) == "old"

        bed.observe("MODIFIED", claim("old", shared, deletionTimestamp="2026-12-07T19:09:39Z"))
        bed.observe("ADDED", new)
        await bed.wait_for({"bedtest/new"})
        assert [p.key for p in bed.pods.values() if p.address == shared] == ["bedtest/new"]
        assert await bed.probe("bedtest/client", str(shared), 80) == "new"
    finally:
        for body in (client, old, new):
            bed.observe("DELETED", body)
    assert not {p.key for p in bed.pods.values()} & {"bedtest/client", "bedtest/old", "bedtest/new"}


async def test_pods_that_go_lose_their_namespace(kube: KubeClient, namespace: str, bed: TestBed) -> None:
    """The bed follows pods: a deleted pod's namespace and listeners go, and it answers no more."""
    await kube.create(f"/api/v1/namespaces/{namespace}/pods", pod("gone", [{"containerPort": 80}]))
    await kube.create(f"/api/v1/namespaces/{namespace}/pods", pod("stays", [{"containerPort": 80}]))
    await bed.wait_for({f"{namespace}/gone", f"{namespace}/stays"})
    gone = bed.pod(f"{namespace}/gone")
    assert gone.netns in existing()
    await kube.delete(f"/api/v1/namespaces/{namespace}/pods/gone")

    async def removed() -> bool:
        return gone.uid not in bed.pods and gone.netns not in existing()

    await eventually(removed, within=60, what="the deleted pod's namespace removed")
    assert await bed.probe(f"{namespace}/stays", str(gone.address), 80, "TCP", wait=0.5) is None


async def service_answers(bed: TestBed, client: str, address: str, port: int, tries: int = 20) -> list[str | None]:
    """The names of the pods answering `tries` new connections from `client` to `address:port`."""
    return [await bed.probe(client, address, port, "TCP") for _ in range(tries)]


async def serve_web(kube: KubeClient, namespace: str, servers: list[str], **spec: Any) -> None:
    """Pods `servers` labelled app=web, listening on 8080, and the MiniService `web` (port 80 -> 8080) that
    selects them; `spec` adds to its spec (a type)."""
    for name in servers:
        body = pod(name, [{"containerPort": 8080}])
        body["metadata"]["labels"] = {"app": "web"}
        await kube.create(f"/api/v1/namespaces/{namespace}/pods", body)
    spec = {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}], **spec}
    await kube.create(
        f"/apis/minik8s.dev/v1/namespaces/{namespace}/miniservices",
        {"apiVersion": "minik8s.dev/v1", "kind": "MiniService", "metadata": {"name": "web"}, "spec": spec},
    )


async def web_ready(kube: KubeClient, namespace: str, ready: int) -> dict[str, Any] | None:
    """The MiniService `web`'s status once it counts `ready` ready endpoints, else None."""
    status = (await kube.get(f"/apis/minik8s.dev/v1/namespaces/{namespace}/miniservices/web")).get("status") or {}
    return status if (status.get("endpoints") or {}).get("ready") == ready else None


async def web_cluster_ip(kube: KubeClient, namespace: str, ready: int) -> str:
    """The ClusterIP of the MiniService `web`, once it has `ready` ready endpoints."""

    async def cluster_ip() -> str | None:
        status = await web_ready(kube, namespace, ready)
        return status.get("clusterIP") if status is not None else None

    return await eventually(cluster_ip, within=60, what=f"the MiniService with {ready} ready endpoints")


@pytest.mark.usefixtures("operator")
@pytest.mark.skipif(
    shutil.which("nft") is None, reason="kube-proxy's nftables mode needs `nft` (apt-get install nftables)"
)
async def test_a_miniservice_clusterip_reaches_ready_endpoints_only(
    kube: KubeClient, namespace: str, bed: TestBed
) -> None:
    """kube-proxy (nftables, in each node's namespace) routes a MiniService's ClusterIP from its Mini
    EndpointSlices: the answers come from the ready endpoints, and a pod gone NotReady gets no new connection."""
    servers = ["web-0", "web-1", "web-2"]
    await serve_web(kube, namespace, servers)
    await kube.create(f"/api/v1/namespaces/{namespace}/pods", pod("client", []))
    await bed.wait_for({f"{namespace}/{name}" for name in [*servers, "client"]})
    address = await web_cluster_ip(kube, namespace, ready=3)
    client = f"{namespace}/client"

    async def all_answer() -> bool:
        return set(await service_answers(bed, client, address, 80)) == set(servers)

    await eventually(all_answer, within=60, what="kube-proxy routing the ClusterIP to all three pods")

    await set_pod_ready(kube, namespace, "web-0", False)

    async def web0_left() -> bool:
        answers = await service_answers(bed, client, address, 80)
        return None not in answers and "web-0" not in answers

    await eventually(web0_left, within=60, what="web-0 out of the Service's rotation")
    answers = await service_answers(bed, client, address, 80, tries=30)
    assert set(answers) <= {"web-1", "web-2"} and None not in answers, answers


@pytest.mark.usefixtures("operator")
@pytest.mark.skipif(
    shutil.which("nft") is None, reason="kube-proxy's nftables mode needs `nft` (apt-get install nftables)"
)
async def test_a_miniservice_nodeport_is_open_on_every_node(kube: KubeClient, namespace: str, bed: TestBed) -> None:
    """SV-02 with packets: a NodePort MiniService's port answers on every node's address, from a pod."""
    await serve_web(kube, namespace, ["web"], type="NodePort")
    await kube.create(f"/api/v1/namespaces/{namespace}/pods", pod("client", []))
    await bed.wait_for({f"{namespace}/web", f"{namespace}/client"})

    async def node_port() -> int | None:
        svc = await kube.get(f"/api/v1/namespaces/{namespace}/services/web")
        ready = await web_ready(kube, namespace, 1) is not None
        return int(svc["spec"]["ports"][0]["nodePort"]) if ready else None

    port = await eventually(node_port, within=60, what="the NodePort and its ready endpoint")
    for node in bed.nodes.values():

        async def answered(address: str = str(node.address)) -> bool:
            return await bed.probe(f"{namespace}/client", address, port, "TCP") == "web"

        await eventually(answered, within=60, what=f"the NodePort {port} answering on {node.name}")


async def compile_and_apply(kube: KubeClient, bed: TestBed) -> int:
    """What the policy agent will do, done by the test: the cluster's pods, namespaces and policies
    compiled for each node (operators/agent/ruleset.py) and loaded into its namespace with `nft -f`."""
    namespaces = (await kube.get("/api/v1/namespaces"))["items"]
    listed = [p for p in (await kube.get("/api/v1/pods"))["items"] if (p.get("status") or {}).get("podIP")]
    owners = {(p.namespace, p.name) for p in owners_of_addresses([Pod.from_dict(p) for p in listed])}
    pods = [p for p in listed if (p["metadata"]["namespace"], p["metadata"]["name"]) in owners]
    policies = (await kube.get("/apis/networking.k8s.io/v1/networkpolicies"))["items"]
    for obj, kind in [
        *((n, "Namespace") for n in namespaces),
        *((p, "Pod") for p in pods),
        *((p, "NetworkPolicy") for p in policies),
    ]:
        obj["kind"] = kind
    snapshot = parse_objects([*namespaces, *pods, *policies])
    elements = 0
    for node in bed.nodes.values():
        ruleset = compile_ruleset(snapshot, node.name, [str(node.address), str(node.gateway)])
        process = await asyncio.create_subprocess_exec(
            *("ip", "netns", "exec", node.netns, "nft", "-f", "-"),
            stdin=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await process.communicate(ruleset.text.encode())
        assert process.returncode == 0, f"nft refused the ruleset of {node.name}: {err.decode()}\n{ruleset.text}"
        elements += ruleset.elements
    return elements


@pytest.mark.skipif(
    shutil.which("nft") is None, reason="the compiled policies are loaded with `nft` (apt-get install nftables)"
)
async def test_compiled_policies_are_enforced_with_real_packets(kube: KubeClient, namespace: str, bed: TestBed) -> None:
    """NP-03, NP-04, NP-10 with packets: a policy admitting one client on one port; the other client, and
    the other port, are refused; the replies of admitted connections pass (conntrack)."""
    ports = [{"containerPort": 80}, {"containerPort": 81}]
    for name, role in (("server", "server"), ("friend", "friend"), ("stranger", "stranger")):
        body = pod(name, ports)
        body["metadata"]["labels"] = {"role": role}
        await kube.create(f"/api/v1/namespaces/{namespace}/pods", body)
    spec = {
        "podSelector": {"matchLabels": {"role": "server"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "friend"}}}], "ports": [{"port": 80}]}],
    }
    await kube.create(
        f"/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies",
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "friends"}, "spec": spec},
    )
    await bed.wait_for({f"{namespace}/{name}" for name in ("server", "friend", "stranger")})
    server = str(bed.pod(f"{namespace}/server").address)
    assert await bed.probe(f"{namespace}/stranger", server, 80) == "server", "no policy loaded yet: open"

    assert await compile_and_apply(kube, bed) >= 1
    assert await bed.probe(f"{namespace}/friend", server, 80) == "server"
    assert await bed.probe(f"{namespace}/friend", server, 81, wait=0.5) is None, "port 81 is not admitted"
    assert await bed.probe(f"{namespace}/stranger", server, 80, wait=0.5) is None, "not a friend"
    assert await bed.probe(f"{namespace}/server", str(bed.pod(f"{namespace}/stranger").address), 80) == "stranger", (
        "the server itself is not isolated for egress"
    )


@pytest.fixture
async def agents(cluster: Cluster, bed: TestBed, tmp_path: Path) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """`python -m operators agent` for every node of the bed, loading its table into the node's namespace;
    their logs are printed when the test fails (pytest shows captured output)."""
    processes = await start_agents(bed, cluster.layout.kubeconfig, tmp_path, native=True)
    yield processes
    for node in bed.nodes.values():  # what each node enforced at the end (shown if the test failed)
        listed = await asyncio.create_subprocess_exec(
            *("ip", "netns", "exec", node.netns, "nft", "list", "ruleset"), stdout=asyncio.subprocess.PIPE
        )
        ruleset, _ = await listed.communicate()
        print(f"--- nft ruleset of {node.name}\n{ruleset.decode()}")
    for process in processes:
        process.terminate()
    for process in processes:
        await process.wait()
    for path in sorted(tmp_path.glob("agent-*.log")):  # noqa: ASYNC240 (after the test; shown if it failed)
        print(f"--- {path.name}\n{path.read_text()}")


@pytest.mark.skipif(
    shutil.which("nft") is None, reason="the agent loads its table with `nft` (apt-get install nftables)"
)
async def test_the_agent_enforces_a_mininetworkpolicy_and_follows_its_changes(
    kube: KubeClient, namespace: str, bed: TestBed, agents: list[asyncio.subprocess.Process]
) -> None:
    """The policy agent, one per node: a MiniNetworkPolicy admitting one client on port 80 is enforced with
    real packets; deleting it opens the server again (NP-01..NP-04)."""
    for name, role in (("server", "server"), ("friend", "friend"), ("stranger", "stranger")):
        body = pod(name, [{"containerPort": 80}])
        body["metadata"]["labels"] = {"role": role}
        await kube.create(f"/api/v1/namespaces/{namespace}/pods", body)
    await bed.wait_for({f"{namespace}/{name}" for name in ("server", "friend", "stranger")})
    server = str(bed.pod(f"{namespace}/server").address)
    spec = {
        "podSelector": {"matchLabels": {"role": "server"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "friend"}}}], "ports": [{"port": 80}]}],
    }
    path = f"/apis/minik8s.dev/v1/namespaces/{namespace}/mininetworkpolicies"
    await kube.create(
        path, {"apiVersion": "minik8s.dev/v1", "kind": "MiniNetworkPolicy", "metadata": {"name": "p"}, "spec": spec}
    )

    async def stranger_refused() -> bool:
        return await bed.probe(f"{namespace}/stranger", server, 80, wait=0.3) is None

    await eventually(stranger_refused, within=30, what="the agent enforcing the policy")
    assert await bed.probe(f"{namespace}/friend", server, 80) == "server"
    assert all(process.returncode is None for process in agents), "the agents run"

    await kube.delete(f"{path}/p")

    async def stranger_admitted() -> bool:
        return await bed.probe(f"{namespace}/stranger", server, 80, wait=0.3) == "server"

    await eventually(stranger_admitted, within=30, what="the agent lifting the deleted policy")


@pytest.mark.usefixtures("operator")
@pytest.mark.skipif(
    shutil.which("nft") is None, reason="kube-proxy and the agent need `nft` (apt-get install nftables)"
)
async def test_a_policy_sees_the_pod_ip_and_target_port_after_service_dnat(
    kube: KubeClient, namespace: str, bed: TestBed, agents: list[asyncio.subprocess.Process]
) -> None:
    """NP-13: kube-proxy rewrites a connection to a MiniService's ClusterIP:80 to a backend pod's IP and its
    targetPort 8080 before the policy agent looks at it. So a rule admitting port 80 (the Service's port)
    admits nobody through the Service, and a rule admitting 8080 admits the friend, and still not the stranger."""
    servers = ["web-0", "web-1"]
    await serve_web(kube, namespace, servers)
    for role in ("friend", "stranger"):
        body = pod(role, [])
        body["metadata"]["labels"] = {"role": role}
        await kube.create(f"/api/v1/namespaces/{namespace}/pods", body)
    await bed.wait_for({f"{namespace}/{name}" for name in [*servers, "friend", "stranger"]})
    address = await web_cluster_ip(kube, namespace, ready=2)
    friend, stranger = f"{namespace}/friend", f"{namespace}/stranger"

    async def answered_by_all(client: str) -> bool:
        return set(await service_answers(bed, client, address, 80)) == set(servers)

    await eventually(lambda: answered_by_all(stranger), within=60, what="the ClusterIP open to all (no policy)")

    def policy(port: int) -> dict[str, Any]:
        rule = {"from": [{"podSelector": {"matchLabels": {"role": "friend"}}}], "ports": [{"port": port}]}
        spec = {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [rule]}
        return {"apiVersion": "minik8s.dev/v1", "kind": "MiniNetworkPolicy", "metadata": {"name": "p"}, "spec": spec}

    path = f"/apis/minik8s.dev/v1/namespaces/{namespace}/mininetworkpolicies"
    await kube.create(path, policy(80))

    async def nobody_through_the_service() -> bool:
        answers = await service_answers(bed, friend, address, 80, tries=6)
        return answers == [None] * 6

    await eventually(nobody_through_the_service, within=30, what="a rule on the Service's port admitting nobody")
    assert set(await service_answers(bed, stranger, address, 80, tries=6)) == {None}

    await kube.replace(f"{path}/p", policy(8080) | {"metadata": (await kube.get(f"{path}/p"))["metadata"]})
    await eventually(lambda: answered_by_all(friend), within=30, what="a rule on the targetPort admitting the friend")
    assert set(await service_answers(bed, stranger, address, 80, tries=6)) == {None}, "the stranger stays out"
    assert all(process.returncode is None for process in agents), "the agents run"
