"""The network test bed's plan (operators/devcluster/net/plan.py): which nodes and pods get namespaces, and how."""

from __future__ import annotations

import ipaddress
from typing import Any

from operators.devcluster.net.plan import holders, node_nets, pod_mac, pod_nets


def node(name: str, index: int, *, fake: bool = True) -> dict[str, Any]:
    annotations = {"kwok.x-k8s.io/node": "fake"} if fake else {}
    return {
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"podCIDR": f"10.244.{index * 16}.0/20"},
        "status": {
            "addresses": [
                {"type": "Hostname", "address": name},
                {"type": "InternalIP", "address": f"172.30.0.{10 + index}"},
            ]
        },
    }


def pod(name: str, node_name: str, ip: str | None, **extra: Any) -> dict[str, Any]:
    ports = [
        {"containerPort": 80},
        {"containerPort": 81, "protocol": "UDP"},
        {"containerPort": 82, "protocol": "SCTP"},
    ]
    spec = {"nodeName": node_name, "containers": [{"name": "c", "ports": ports}], **extra.pop("spec", {})}
    status = {"phase": "Running", **({"podIP": ip} if ip else {}), **extra.pop("status", {})}
    return {"metadata": {"namespace": "x", "name": name, "uid": f"uid-{name}"}, "spec": spec, "status": status}


def test_nodes_are_the_kwok_nodes_with_their_address_and_pod_cidr() -> None:
    nets = node_nets([node("kwok-node-1", 1), node("kwok-node-0", 0), node("real", 2, fake=False)])
    assert [(n.name, n.index, str(n.address), str(n.pod_cidr)) for n in nets] == [
        ("kwok-node-0", 0, "172.30.0.10", "10.244.0.0/20"),
        ("kwok-node-1", 1, "172.30.0.11", "10.244.16.0/20"),
    ]
    assert nets[0].gateway == ipaddress.ip_address("10.244.15.254"), "the last address: kwok hands out the first"
    assert (nets[0].netns, nets[0].underlay_veth) == ("mini-kwok-node-0", "u0")


def test_pods_with_an_ip_on_a_bed_node_get_a_namespace_with_their_tcp_and_udp_ports() -> None:
    nodes = {n.name: n for n in node_nets([node("kwok-node-0", 0)])}
    pods = [
        pod("a", "kwok-node-0", "10.244.0.5"),
        pod("no-ip", "kwok-node-0", None),
        pod("elsewhere", "other-node", "10.244.0.6"),
        pod("outside", "kwok-node-0", "10.9.0.1"),
        pod("host", "kwok-node-0", "10.244.0.7", spec={"hostNetwork": True}),
        pod("done", "kwok-node-0", "10.244.0.8", status={"phase": "Succeeded"}),
    ]
    (wired,) = pod_nets(pods, nodes)
    assert (wired.key, str(wired.address), wired.node) == ("x/a", "10.244.0.5", "kwok-node-0")
    assert wired.ports == ((80, "TCP"), (81, "UDP")), "SCTP: the kernel here has none"
    assert wired.netns.startswith("mini-pod-") and len(wired.host_veth) <= 15


def test_a_pod_being_deleted_yields_its_address_to_a_new_pod() -> None:
    """kwok hands the address of a terminating pod to a new pod: one namespace per address, the new pod's;
    when the new pod goes, the old one (still terminating) holds it again."""
    nodes = {n.name: n for n in node_nets([node("kwok-node-0", 0)])}
    deleted = {"deletionTimestamp": "2026-12-07T19:09:39Z"}
    old = pod("old", "kwok-node-0", "10.244.0.5")
    old["metadata"].update(deleted)
    new, other = pod("new", "kwok-node-0", "10.244.0.5"), pod("other", "kwok-node-0", "10.244.0.6")
    claims = pod_nets([old, new, other], nodes)
    assert [p.terminating for p in claims] == [True, False, False]
    held = holders(claims, wired={"uid-old", "uid-other"})
    assert {str(a): p.key for a, p in held.items()} == {"10.244.0.5": "x/new", "10.244.0.6": "x/other"}
    assert holders(claims[:1] + claims[2:], wired=set())[claims[0].address].key == "x/old"
    assert claims[0] == pod_nets([pod("old", "kwok-node-0", "10.244.0.5")], nodes)[0], (
        "being deleted is not a change of network: the pod is not rewired for it"
    )


def test_between_two_live_claims_the_wired_pod_keeps_the_address_then_the_smaller_uid() -> None:
    nodes = {n.name: n for n in node_nets([node("kwok-node-0", 0)])}
    a, b = pod_nets([pod("a", "kwok-node-0", "10.244.0.5"), pod("b", "kwok-node-0", "10.244.0.5")], nodes)
    assert holders([b, a], wired={"uid-b"})[a.address] is b, "no flapping: the wired one stays"
    assert holders([b, a], wired=set())[a.address] is a, "otherwise the order of events does not matter"


def test_an_address_keeps_its_mac_like_the_cni_bridge_plugin() -> None:
    """A new pod with a reused address gets the old pod's MAC: other pods' neighbour caches stay right."""
    assert pod_mac(ipaddress.IPv4Address("10.244.16.5")) == "0a:58:0a:f4:10:05"
    nodes = {n.name: n for n in node_nets([node("kwok-node-0", 0)])}
    first, second = pod_nets([pod("a", "kwok-node-0", "10.244.0.5"), pod("b", "kwok-node-0", "10.244.0.5")], nodes)
    assert first.mac == second.mac and first.netns != second.netns


def test_the_pods_gateway_has_a_fixed_mac() -> None:
    """A bridge left to itself takes the lowest MAC of its ports and changes it as pods come and go: a pod's
    cached gateway entry then points nowhere (cross-node connections were lost that way). Fixed, from its IP."""
    (net,) = node_nets([node("kwok-node-1", 1)])
    assert net.bridge_mac == "0a:58:0a:f4:1f:fe" == pod_mac(net.gateway)
