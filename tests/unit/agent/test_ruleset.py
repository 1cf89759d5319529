"""The policy agent's compiled table (operators/agent/ruleset.py): what each NP rule admits, per node."""

from __future__ import annotations

import ipaddress
from typing import Any

from operators.agent.ruleset import compile_ruleset
from operators.networkpolicy import parse_objects

NODE = "node-a"


def ns(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(
    namespace: str, name: str, ip: str, node: str = NODE, ports: list[dict[str, Any]] | None = None, **labels: str
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"namespace": namespace, "name": name, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "c", "ports": ports or []}]},
        "status": {"podIP": ip},
    }


def policy(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"namespace": namespace, "name": name},
        "spec": spec,
    }


def compiled(*objects: dict[str, Any]) -> Any:
    return compile_ruleset(parse_objects(list(objects)), NODE, ["172.30.0.10"])


def ip(text: str) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(text)


def net(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)


def test_default_deny_isolates_the_local_pods_and_admits_nothing() -> None:
    """NP-03, NP-07: podSelector {} with no ingress rules isolates every pod of the namespace on this node."""
    rules = compiled(
        ns("x"),
        pod("x", "a", "10.0.0.1", app="a"),
        pod("x", "far", "10.0.1.1", node="node-b"),
        policy("x", "deny", {"podSelector": {}, "policyTypes": ["Ingress"]}),
    )
    assert rules.ingress_isolated == {ip("10.0.0.1")}, "the pod of the other node is its own agent's"
    assert rules.ingress_allowed == frozenset() and rules.egress_isolated == frozenset()
    assert "delete table inet mini-netpol" in rules.text and "172.30.0.10" in rules.text


def test_pod_and_namespace_selectors_become_pod_addresses_on_the_rule_ports() -> None:
    """NP-04..NP-06, NP-10: peers selected across namespaces, one element per peer address and port range."""
    rules = compiled(
        ns("x"),
        ns("y", team="blue"),
        pod("x", "server", "10.0.0.1", app="server"),
        pod("x", "client", "10.0.0.2", app="client"),
        pod("y", "other", "10.0.1.2", node="node-b", app="client"),
        policy(
            "x",
            "allow",
            {
                "podSelector": {"matchLabels": {"app": "server"}},
                "ingress": [
                    {
                        "from": [
                            {"podSelector": {"matchLabels": {"app": "client"}}},
                            {"namespaceSelector": {"matchLabels": {"team": "blue"}}},
                        ],
                        "ports": [{"port": 80}, {"protocol": "UDP", "port": 5000, "endPort": 5010}],
                    }
                ],
            },
        ),
    )
    server = ip("10.0.0.1")
    assert rules.ingress_allowed == {
        (server, net("10.0.0.2/32"), "tcp", 80, 80),
        (server, net("10.0.1.2/32"), "tcp", 80, 80),
        (server, net("10.0.0.2/32"), "udp", 5000, 5010),
        (server, net("10.0.1.2/32"), "udp", 5000, 5010),
    }


def test_ip_block_excepts_are_cut_out_and_a_rule_without_ports_admits_every_port() -> None:
    """NP-08 (cidr minus except), NP-07 (no ports: all TCP and UDP ports)."""
    rules = compiled(
        ns("x"),
        pod("x", "a", "10.0.0.1", app="a"),
        policy(
            "x",
            "block",
            {
                "podSelector": {},
                "ingress": [{"from": [{"ipBlock": {"cidr": "192.168.0.0/24", "except": ["192.168.0.0/25"]}}]}],
            },
        ),
    )
    assert rules.ingress_allowed == {
        (ip("10.0.0.1"), net("192.168.0.128/25"), "tcp", 0, 65535),
        (ip("10.0.0.1"), net("192.168.0.128/25"), "udp", 0, 65535),
    }


def test_named_ports_resolve_on_the_pod_that_declares_them() -> None:
    """NP-11: an ingress named port on the local destination; an egress one on each destination pod."""
    http = [{"name": "http", "containerPort": 8080}]
    web = [{"name": "http", "containerPort": 9090}]
    rules = compiled(
        ns("x"),
        pod("x", "a", "10.0.0.1", ports=http, app="a"),
        pod("x", "web", "10.0.1.5", node="node-b", ports=web, app="web"),
        pod("x", "plain", "10.0.1.6", node="node-b", app="web"),
        policy("x", "in", {"podSelector": {"matchLabels": {"app": "a"}}, "ingress": [{"ports": [{"port": "http"}]}]}),
        policy(
            "x",
            "out",
            {
                "podSelector": {"matchLabels": {"app": "a"}},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": "http"}]}],
            },
        ),
    )
    assert rules.ingress_allowed == {(ip("10.0.0.1"), net("0.0.0.0/0"), "tcp", 8080, 8080)}
    assert rules.egress_allowed == {(ip("10.0.0.1"), net("10.0.1.5/32"), "tcp", 9090, 9090)}, "plain declares no http"


def test_an_egress_named_port_to_everywhere_resolves_on_every_pod_that_declares_it() -> None:
    """NP-11 with no peers (the e2e case "should allow egress access on one named port"): each declaring pod."""
    http = [{"name": "http", "containerPort": 8080}]
    rules = compiled(
        ns("x"),
        pod("x", "a", "10.0.0.1", app="a"),
        pod("x", "web", "10.0.1.5", node="node-b", ports=http),
        pod("x", "plain", "10.0.1.6", node="node-b"),
        policy("x", "out", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": "http"}]}]}),
    )
    assert rules.egress_allowed == {(ip("10.0.0.1"), net("10.0.1.5/32"), "tcp", 8080, 8080)}


def test_an_address_held_by_a_terminating_and_a_new_pod_is_the_new_pods() -> None:
    """kwok gives a terminating pod's IP to a new pod: the terminating one no longer owns it."""
    from operators.agent.ruleset import owners_of_addresses
    from operators.kube.objects import Pod

    old = Pod.from_dict(
        {
            "metadata": {"namespace": "x", "name": "old", "uid": "1", "deletionTimestamp": "2026-12-07T00:00:00Z"},
            "status": {"podIP": "10.0.0.1"},
        }
    )
    new = Pod.from_dict({"metadata": {"namespace": "x", "name": "new", "uid": "2"}, "status": {"podIP": "10.0.0.1"}})
    going = Pod.from_dict(
        {
            "metadata": {"namespace": "x", "name": "going", "uid": "3", "deletionTimestamp": "2026-12-07T00:00:00Z"},
            "status": {"podIP": "10.0.0.9"},
        }
    )
    assert [p.name for p in owners_of_addresses([old, new, going])] == ["new", "going"]


def overlapping(elements: frozenset[Any]) -> list[tuple[Any, Any]]:
    """Pairs of elements nftables would refuse together: same local pod and protocol, overlapping networks
    and overlapping port ranges."""
    items = sorted(elements, key=str)
    return [
        (a, b)
        for i, a in enumerate(items)
        for b in items[i + 1 :]
        if a[0] == b[0] and a[2] == b[2] and a[1].overlaps(b[1]) and a[3] <= b[4] and b[3] <= a[4]
    ]


def test_an_allow_all_policy_beside_a_narrower_one_compiles_to_disjoint_elements() -> None:
    """upstream's "should enforce multiple ingress policies with ingress allow-all policy taking precedence":
    NP-05 makes the union count, and nftables refuses overlapping elements in a concatenated interval set
    ("File exists"): the agent kept its previous table. The union is what the elements now hold, disjoint."""
    rules = compiled(
        ns("x", ns="x"),
        pod("x", "a", "10.0.0.1", app="a"),
        pod("x", "b", "10.0.0.2", app="b"),
        policy("x", "only-80", {"podSelector": {"matchLabels": {"app": "a"}}, "ingress": [{"ports": [{"port": 80}]}]}),
        policy("x", "allow-all", {"podSelector": {"matchLabels": {"app": "a"}}, "ingress": [{}]}),
        policy(
            "x",
            "b-and-block",
            {
                "podSelector": {"matchLabels": {"app": "b"}},
                "ingress": [
                    {"from": [{"podSelector": {"matchLabels": {"app": "a"}}}], "ports": [{"port": 80}]},
                    {"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 70, "endPort": 90}]},
                ],
            },
        ),
    )
    assert not overlapping(rules.ingress_allowed)
    a, b, everywhere = ip("10.0.0.1"), ip("10.0.0.2"), net("0.0.0.0/0")
    assert {(e[1], e[2], e[3], e[4]) for e in rules.ingress_allowed if e[0] == a} == {
        (everywhere, "tcp", 0, 65535),
        (everywhere, "udp", 0, 65535),
    }, "allow-all covers port 80 from anywhere: one element per protocol"
    assert {(e[1], e[3], e[4]) for e in rules.ingress_allowed if e[0] == b} == {(net("10.0.0.0/8"), 70, 90)}, (
        "the pod a on 80 lies inside the block's 70-90"
    )
