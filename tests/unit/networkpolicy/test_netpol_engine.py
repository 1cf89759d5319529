"""NetworkPolicy semantics, item by item (NP-01..NP-13), on a small hand-made cluster."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from operators.networkpolicy import Engine, parse_objects, reachability_matrix
from operators.networkpolicy.matrix import ReachabilityMatrix

# The cluster: prod/web and prod/api, dev/client; prod/web runs on node-1; 203.0.113.9 is outside.
NAMESPACES = [
    {"kind": "Namespace", "metadata": {"name": "prod", "labels": {"env": "prod"}}},
    {"kind": "Namespace", "metadata": {"name": "dev", "labels": {"env": "dev"}}},
]
NODES = [
    {
        "kind": "Node",
        "metadata": {"name": "node-1"},
        "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.1"}]},
    }
]
EXTERNAL = "203.0.113.9"


def pod(key: str, ip: str, labels: dict[str, str], ports: list[dict[str, Any]], node: str = "") -> dict[str, Any]:
    namespace, name = key.split("/")
    return {
        "kind": "Pod",
        "metadata": {"namespace": namespace, "name": name, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "main", "ports": ports}]},
        "status": {"podIP": ip},
    }


PODS = [
    pod(
        "prod/web",
        "10.1.0.1",
        {"app": "web"},
        [
            {"name": "http", "containerPort": 80},
            {"name": "dns", "containerPort": 53, "protocol": "UDP"},
            {"name": "metrics", "containerPort": 9090},
        ],
        node="node-1",
    ),
    pod("prod/api", "10.1.0.2", {"app": "api"}, [{"name": "http", "containerPort": 8080}]),
    pod("dev/client", "10.2.0.1", {"app": "client"}, []),
]


def policy(namespace: str, name: str, spec: dict[str, Any], kind: str = "NetworkPolicy") -> dict[str, Any]:
    return {"kind": kind, "metadata": {"namespace": namespace, "name": name}, "spec": spec}


def engine(*policies: dict[str, Any], pods: list[dict[str, Any]] | None = None) -> Engine:
    return Engine(parse_objects([*NAMESPACES, *NODES, *(PODS if pods is None else pods), *policies]))


def allowed(e: Engine, src: str, dst: str, port: int = 80, protocol: str = "TCP") -> bool:
    return e.evaluate(src, dst, port, protocol).allowed


DENY_INGRESS_PROD = policy("prod", "deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]})
DENY_EGRESS_PROD = policy("prod", "deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]})


def test_no_policies_allow_everything() -> None:
    e = engine()
    assert all(allowed(e, s, d) for s in ("prod/web", "dev/client", EXTERNAL) for d in ("prod/api", EXTERNAL))


def test_np01_a_policy_selects_pods_of_its_own_namespace_only() -> None:
    e = engine(policy("prod", "deny-all-web", {"podSelector": {}, "ingress": []}))
    assert not allowed(e, "dev/client", "prod/web")
    assert not allowed(e, "dev/client", "prod/api")
    assert allowed(e, "prod/web", "dev/client")  # dev/client is not selected: dev has no policy


@pytest.mark.parametrize(
    ("spec", "ingress_isolated", "egress_isolated"),
    [
        ({"podSelector": {}}, True, False),  # nothing at all: Ingress
        ({"podSelector": {}, "ingress": [{}]}, False, False),  # ingress rules only: Ingress (allow all)
        ({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "1.2.3.4/32"}}]}]}, True, True),
        ({"podSelector": {}, "egress": []}, True, False),  # `egress: []` is no egress rules: Ingress only
        ({"podSelector": {}, "ingress": [], "policyTypes": ["Egress"]}, False, True),  # explicit types win
    ],
    ids=["empty", "ingress-rules", "egress-rules", "empty-egress", "explicit-egress"],
)
def test_np02_policy_types_default_to_ingress_plus_egress_if_egress_rules_exist(
    spec: dict[str, Any], ingress_isolated: bool, egress_isolated: bool
) -> None:
    e = engine(policy("prod", "p", spec))
    assert allowed(e, "dev/client", "prod/web") is not ingress_isolated
    assert allowed(e, "prod/web", "dev/client") is not egress_isolated


def test_np03_directions_are_isolated_independently() -> None:
    e = engine(DENY_EGRESS_PROD)
    assert not allowed(e, "prod/web", "dev/client")  # egress isolated
    assert allowed(e, "dev/client", "prod/web")  # ingress of prod/web untouched
    verdict = e.evaluate("dev/client", "prod/web", 80)
    assert verdict.ingress is not None and verdict.ingress.isolating_policies == ()
    assert "not isolated" in verdict.ingress.reason and "NP-03" in verdict.ingress.reason


def test_np04_pod_to_pod_needs_both_sides_and_external_traffic_one_side() -> None:
    e = engine(DENY_EGRESS_PROD)
    assert not allowed(e, "prod/web", "prod/api")  # egress of the source denies
    assert not allowed(e, "prod/web", EXTERNAL)  # pod -> outside: only the source's egress
    assert allowed(e, EXTERNAL, "prod/web")  # outside -> pod: only the destination's ingress
    e = engine(DENY_INGRESS_PROD)
    assert not allowed(e, "dev/client", "prod/api")  # ingress of the destination denies
    assert not allowed(e, EXTERNAL, "prod/web")
    assert allowed(e, "prod/web", EXTERNAL)
    verdict = e.evaluate(EXTERNAL, "prod/web", 80)
    assert verdict.egress is None and verdict.ingress is not None


def test_np05_rules_of_all_selecting_policies_are_a_union() -> None:
    from_web = {
        "podSelector": {"matchLabels": {"app": "api"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}],
    }
    from_dev = {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"env": "dev"}}}]}]}
    e = engine(DENY_INGRESS_PROD, policy("prod", "from-web", from_web), policy("prod", "from-dev", from_dev))
    assert allowed(e, "prod/web", "prod/api")
    assert allowed(e, "dev/client", "prod/api")
    assert not allowed(e, "prod/api", "prod/api")
    verdict = e.evaluate("dev/client", "prod/api", 80)
    assert verdict.ingress is not None
    assert set(verdict.ingress.isolating_policies) == {"prod/deny-ingress", "prod/from-web", "prod/from-dev"}
    assert [m.policy for m in verdict.ingress.matches] == ["prod/from-dev"]


def test_np06_empty_ingress_denies_all_and_an_empty_rule_allows_all() -> None:
    deny = engine(policy("prod", "p", {"podSelector": {}, "ingress": []}))
    allow = engine(policy("prod", "p", {"podSelector": {}, "ingress": [{}]}))
    for source in ("prod/web", "dev/client", EXTERNAL):
        assert not allowed(deny, source, "prod/api")
        assert allowed(allow, source, "prod/api")


def test_np07_empty_ports_match_every_port_and_empty_peers_match_everyone() -> None:
    e = engine(policy("prod", "p", {"podSelector": {}, "ingress": [{"ports": [{"port": 8080}]}]}))
    assert allowed(e, EXTERNAL, "prod/api", 8080)  # no `from`: external addresses included
    assert not allowed(e, EXTERNAL, "prod/api", 80)
    e = engine(policy("prod", "p", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]}))
    assert allowed(e, "prod/web", "prod/api", 12345)  # no ports: every port


@pytest.mark.parametrize(
    ("peer", "expected"),
    [
        # podSelector alone: pods of the policy's namespace only
        (
            {"podSelector": {"matchLabels": {"app": "client"}}},
            {"prod/web": False, "dev/client": False, EXTERNAL: False},
        ),
        ({"podSelector": {}}, {"prod/web": True, "dev/client": False, EXTERNAL: False}),
        # namespaceSelector alone: every pod of the matching namespaces; {} = all namespaces, not external IPs
        (
            {"namespaceSelector": {"matchLabels": {"env": "dev"}}},
            {"prod/web": False, "dev/client": True, EXTERNAL: False},
        ),
        ({"namespaceSelector": {}}, {"prod/web": True, "dev/client": True, EXTERNAL: False}),
        # both in one peer: AND
        (
            {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "client"}}},
            {"prod/web": False, "dev/client": True, EXTERNAL: False},
        ),
        (
            {"namespaceSelector": {"matchLabels": {"env": "prod"}}, "podSelector": {"matchLabels": {"app": "client"}}},
            {"prod/web": False, "dev/client": False, EXTERNAL: False},
        ),
        # ipBlock: in cidr and not in any except; it matches pod IPs as well as external ones
        ({"ipBlock": {"cidr": "0.0.0.0/0"}}, {"prod/web": True, "dev/client": True, EXTERNAL: True}),
        (
            {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.2.0.0/16"]}},
            {"prod/web": True, "dev/client": False, EXTERNAL: False},
        ),
        (
            {"ipBlock": {"cidr": "203.0.113.0/24", "except": ["203.0.113.8/31"]}},
            {"prod/web": False, "dev/client": False, EXTERNAL: False},
        ),
        ({"ipBlock": {"cidr": "2001:db8::/32"}}, {"prod/web": False, "dev/client": False, EXTERNAL: False}),
    ],
)
def test_np08_peers(peer: dict[str, Any], expected: dict[str, bool]) -> None:
    e = engine(policy("prod", "p", {"podSelector": {"matchLabels": {"app": "api"}}, "ingress": [{"from": [peer]}]}))
    assert {source: allowed(e, source, "prod/api") for source in expected} == expected


def test_np08_separate_peers_are_or_ed() -> None:
    peers = [{"podSelector": {"matchLabels": {"app": "web"}}}, {"ipBlock": {"cidr": f"{EXTERNAL}/32"}}]
    e = engine(policy("prod", "p", {"podSelector": {"matchLabels": {"app": "api"}}, "ingress": [{"from": peers}]}))
    assert allowed(e, "prod/web", "prod/api")
    assert allowed(e, EXTERNAL, "prod/api")
    assert not allowed(e, "dev/client", "prod/api")


def test_np09_namespaces_are_selectable_by_their_automatic_name_label() -> None:
    by_name = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dev"}}}
    spec = {"podSelector": {}, "ingress": [{"from": [by_name]}]}
    # the Namespace objects carry no such label, and a bundle without Namespace objects works too
    for e in (engine(policy("prod", "p", spec)), Engine(parse_objects([*PODS, policy("prod", "p", spec)]))):
        assert allowed(e, "dev/client", "prod/web")
        assert not allowed(e, "prod/api", "prod/web")


@pytest.mark.parametrize(
    ("ports", "traffic", "expected"),
    [
        ([{"port": 53}], (53, "TCP"), True),  # protocol defaults to TCP
        ([{"port": 53}], (53, "UDP"), False),
        ([{"port": 53, "protocol": "UDP"}], (53, "UDP"), True),
        ([{"port": 53, "protocol": "UDP"}], (53, "SCTP"), False),  # SCTP is not UDP
        ([{"port": 53, "protocol": "SCTP"}], (53, "SCTP"), True),
        ([{"protocol": "UDP"}], (9999, "UDP"), True),  # no port: every port of the protocol
        ([{"protocol": "UDP"}], (9999, "TCP"), False),
        ([{"port": 8000, "endPort": 8080}], (7999, "TCP"), False),  # endPort: inclusive range
        ([{"port": 8000, "endPort": 8080}], (8000, "TCP"), True),
        ([{"port": 8000, "endPort": 8080}], (8080, "TCP"), True),
        ([{"port": 8000, "endPort": 8080}], (8081, "TCP"), False),
        ([{"port": 8000, "endPort": 8080, "protocol": "UDP"}], (8040, "TCP"), False),
    ],
)
def test_np10_ports_and_protocols(ports: list[dict[str, Any]], traffic: tuple[int, str], expected: bool) -> None:
    e = engine(policy("prod", "p", {"podSelector": {}, "ingress": [{"ports": ports}]}))
    assert allowed(e, "dev/client", "prod/api", *traffic) is expected


@pytest.mark.parametrize(
    ("port_entry", "destination", "traffic", "expected"),
    [
        ({"port": "http"}, "prod/web", (80, "TCP"), True),  # resolves against the destination pod
        ({"port": "http"}, "prod/api", (8080, "TCP"), True),  # the same name, another number
        ({"port": "http"}, "prod/api", (80, "TCP"), False),
        ({"port": "dns", "protocol": "UDP"}, "prod/web", (53, "UDP"), True),
        ({"port": "dns"}, "prod/web", (53, "UDP"), False),  # name AND protocol: `dns` is UDP, the entry TCP
        ({"port": "dns"}, "prod/web", (53, "TCP"), False),
        ({"port": "nope"}, "prod/web", (80, "TCP"), False),
    ],
)
def test_np11_named_ports_resolve_against_the_destination_pod(
    port_entry: dict[str, Any], destination: str, traffic: tuple[int, str], expected: bool
) -> None:
    e = engine(policy("prod", "p", {"podSelector": {}, "ingress": [{"ports": [port_entry]}]}))
    assert allowed(e, "dev/client", destination, *traffic) is expected


def test_np11_named_egress_ports_never_match_ip_block_destinations() -> None:
    to_block = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": "http"}]}
    e = engine(policy("dev", "p", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [to_block]}))
    assert not allowed(e, "dev/client", "prod/web")  # prod/web is in the block and has `http` on 80
    assert not allowed(e, "dev/client", EXTERNAL)
    to_pods = {"to": [{"namespaceSelector": {}}], "ports": [{"port": "http"}]}
    e = engine(policy("dev", "p", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [to_pods]}))
    assert allowed(e, "dev/client", "prod/web")  # the same name through a selector peer resolves
    numeric = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 80}]}
    e = engine(policy("dev", "p", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [numeric]}))
    assert allowed(e, "dev/client", "prod/web") and allowed(e, "dev/client", EXTERNAL)


def test_np12_ingress_from_the_pods_own_node_is_always_allowed() -> None:
    e = engine(DENY_INGRESS_PROD)
    verdict = e.evaluate("192.168.0.1", "prod/web", 80)
    assert verdict.allowed and verdict.ingress is not None and "NP-12" in verdict.ingress.reason
    assert not allowed(e, "192.168.0.1", "prod/api")  # prod/api runs elsewhere: a node is just an address
    assert str(verdict.source) == "192.168.0.1 (node node-1)"


def test_np12_pod_to_itself_is_evaluated_and_flagged_as_undefined_upstream() -> None:
    verdict = engine(DENY_INGRESS_PROD).evaluate("prod/web", "prod/web", 80)
    assert not verdict.allowed
    assert any("itself" in note for note in verdict.notes)
    assert not engine().evaluate("prod/web", "prod/api", 80).notes


def test_np13_a_pod_named_or_addressed_by_its_ip_is_the_same_endpoint() -> None:
    e = engine(
        policy(
            "prod", "p", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]}
        )
    )
    assert e.endpoint("10.1.0.1") == e.endpoint("prod/web") == e.endpoint("web", default_namespace="prod")
    assert allowed(e, "10.1.0.1", "10.1.0.2") and allowed(e, "prod/web", "prod/api")
    assert not allowed(e, "10.2.0.1", "10.1.0.2")


def test_explanation_names_policies_rules_ports_and_peers() -> None:
    spec = {
        "podSelector": {"matchLabels": {"app": "api"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": "http"}]}],
    }
    e = engine(DENY_INGRESS_PROD, policy("prod", "api-from-web", spec, kind="MiniNetworkPolicy"))
    text = e.evaluate("prod/web", "prod/api", 8080).explain()
    assert text.splitlines()[0] == "prod/web -> prod/api TCP/8080: ALLOWED"
    assert "prod/api-from-web ingress[0]" in text and "from[0] podSelector {app=web}" in text
    assert "named port of prod/api" in text
    denied = e.evaluate("dev/client", "prod/api", 8080)
    assert not denied.allowed
    assert denied.ingress is not None and denied.ingress.matches == ()
    assert "isolated by prod/deny-ingress, prod/api-from-web" in denied.explain()
    assert denied.to_dict()["ingress"]["allowed"] is False


def test_what_if_edits_of_a_snapshot() -> None:
    snapshot = parse_objects([*NAMESPACES, *PODS, DENY_INGRESS_PROD])
    assert not Engine(snapshot).evaluate("dev/client", "prod/web", 80).allowed
    assert Engine(snapshot.without_policies()).evaluate("dev/client", "prod/web", 80).allowed
    allow_labelled = parse_objects(
        [policy("prod", "deny-ingress", {"podSelector": {"matchLabels": {"locked": "yes"}}, "ingress": []})]
    ).policies[0]
    relaxed = snapshot.with_policy(allow_labelled)  # replaces the policy of the same name
    assert len(relaxed.policies) == 1 and Engine(relaxed).evaluate("dev/client", "prod/web", 80).allowed
    locked = relaxed.with_pod_labels("prod/web", {"locked": "yes"})
    assert not Engine(locked).evaluate("dev/client", "prod/web", 80).allowed
    with pytest.raises(KeyError):
        snapshot.with_namespace_labels("nope", {"a": "b"})


def _random_objects(rng: random.Random) -> list[dict[str, Any]]:
    """A random small cluster whose policies use every rule shape."""
    labels = ["a", "b", "c"]
    objects: list[dict[str, Any]] = [
        {"kind": "Namespace", "metadata": {"name": ns, "labels": {"team": rng.choice(labels)}}} for ns in ("n1", "n2")
    ]
    for i in range(12):
        ports = [
            {
                "name": rng.choice(["http", "web"]),
                "containerPort": rng.choice([80, 81]),
                "protocol": rng.choice(["TCP", "UDP"]),
            }
        ]
        objects.append(pod(f"n{i % 2 + 1}/p{i}", f"10.0.0.{i + 1}", {"app": rng.choice(labels)}, ports))

    def peer() -> dict[str, Any]:
        return rng.choice(
            [
                {"podSelector": {"matchLabels": {"app": rng.choice(labels)}}},
                {"namespaceSelector": {"matchLabels": {"team": rng.choice(labels)}}},
                {
                    "namespaceSelector": {},
                    "podSelector": {
                        "matchExpressions": [{"key": "app", "operator": "NotIn", "values": [rng.choice(labels)]}]
                    },
                },
                {"ipBlock": {"cidr": "10.0.0.0/28", "except": ["10.0.0.4/30"]}},
            ]
        )

    def rule(peers_field: str) -> dict[str, Any]:
        ports = rng.choice(
            [
                [],
                [{"port": 80}],
                [{"port": "http"}],
                [{"port": "web", "protocol": "UDP"}],
                [{"port": 80, "endPort": 81}],
            ]
        )
        return {peers_field: [peer() for _ in range(rng.randint(0, 2))], "ports": ports}

    for i in range(5):
        spec: dict[str, Any] = {"podSelector": rng.choice([{}, {"matchLabels": {"app": rng.choice(labels)}}])}
        spec["ingress"] = [rule("from") for _ in range(rng.randint(0, 2))]
        if rng.random() < 0.5:
            spec["egress"] = [rule("to") for _ in range(rng.randint(0, 2))]
            spec["policyTypes"] = rng.choice([["Egress"], ["Ingress", "Egress"]])
        objects.append(policy(rng.choice(["n1", "n2"]), f"p{i}", spec))
    return objects


@pytest.mark.parametrize("seed", range(25))
def test_matrix_agrees_with_the_explained_evaluation_on_random_clusters(seed: int) -> None:
    rng = random.Random(seed)
    e = Engine(parse_objects(_random_objects(rng)))
    for port, protocol in [(80, "TCP"), (81, "UDP"), (80, "SCTP")]:
        matrix = reachability_matrix(e, port, protocol)
        for source in matrix.pods:
            for destination in matrix.pods:
                verdict = e.evaluate(source, destination, port, protocol)
                assert matrix.allowed(source, destination) == verdict.allowed, verdict.explain()


def test_matrix_renders_like_the_upstream_truth_table() -> None:
    e = engine(DENY_INGRESS_PROD)
    matrix = reachability_matrix(e, 80)
    assert matrix.pods == ("dev/client", "prod/api", "prod/web")
    assert matrix.pretty().splitlines() == [
        "-\tdev/client\tprod/api\tprod/web",
        "dev/client\t.\tX\tX",
        "prod/api\t.\tX\tX",
        "prod/web\t.\tX\tX",
    ]
    assert matrix.to_json()["matrix"]["dev/client"] == {"dev/client": True, "prod/api": False, "prod/web": False}


@pytest.mark.parametrize("size", [0, 1, 2, 7, 64, 65])
def test_matrix_json_text_is_json_dumps_with_an_indent(size: int) -> None:
    """`-o json` writes the matrix row by row; the text is exactly json.dumps(to_json(), indent=2)."""
    rng = random.Random(size)
    pods = tuple(f"ns-{i % 3}/pod-{i}" + ('"quoted"' if i == 1 else "") for i in range(size))
    matrix = ReachabilityMatrix(443, "UDP", pods, tuple(rng.getrandbits(size) if size else 0 for _ in pods))
    assert matrix.json_text() == json.dumps(matrix.to_json(), indent=2)


def test_evaluate_rejects_bad_traffic_arguments() -> None:
    e = engine()
    with pytest.raises(ValueError, match="unsupported protocol"):
        e.evaluate("prod/web", "prod/api", 80, "ICMP")
    with pytest.raises(ValueError, match="between 1 and 65535"):
        reachability_matrix(e, 0)
    with pytest.raises(ValueError, match="no pod prod/nope"):
        e.evaluate("prod/web", "prod/nope", 80)
