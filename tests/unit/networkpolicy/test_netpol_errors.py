"""Bad input: every rejection is a typed PolicyError naming the object and the field, as API validation does."""

from __future__ import annotations

from typing import Any

import pytest

from operators.kube.objects import Pod
from operators.networkpolicy import Engine, PolicyError, Snapshot, parse_objects


def netpol(spec: dict[str, Any], kind: str = "NetworkPolicy") -> dict[str, Any]:
    return {"kind": kind, "metadata": {"namespace": "x", "name": "p"}, "spec": spec}


def ingress_from(peer: dict[str, Any]) -> dict[str, Any]:
    return netpol({"podSelector": {}, "ingress": [{"from": [peer]}]})


def ingress_ports(port: dict[str, Any]) -> dict[str, Any]:
    return netpol({"podSelector": {}, "ingress": [{"ports": [port]}]})


def a_pod(**status: Any) -> dict[str, Any]:
    return {"kind": "Pod", "metadata": {"namespace": "x", "name": "a"}, "status": status}


POLICY_FIELD = "spec.ingress[0].from[0]"
PORT_FIELD = "spec.ingress[0].ports[0]"

CASES = [
    # ipBlock (ValidateIPBlock)
    (
        "invalid-cidr",
        ingress_from({"ipBlock": {"cidr": "10.0.0.0/33"}}),
        f"{POLICY_FIELD}.ipBlock.cidr",
        "invalid CIDR",
    ),
    (
        "cidr-not-an-address",
        ingress_from({"ipBlock": {"cidr": "ten/8"}}),
        f"{POLICY_FIELD}.ipBlock.cidr",
        "invalid CIDR",
    ),
    (
        "cidr-without-prefix",
        ingress_from({"ipBlock": {"cidr": "10.0.0.1"}}),
        f"{POLICY_FIELD}.ipBlock.cidr",
        "prefix-length",
    ),
    ("cidr-missing", ingress_from({"ipBlock": {}}), f"{POLICY_FIELD}.ipBlock.cidr", "required"),
    (
        "except-outside-cidr",
        ingress_from({"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/24", "10.1.0.0/24"]}}),
        f"{POLICY_FIELD}.ipBlock.except[1]",
        "strict subset",
    ),
    (
        "except-equal-to-cidr",
        ingress_from({"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/16"]}}),
        f"{POLICY_FIELD}.ipBlock.except[0]",
        "strict subset",
    ),
    (
        "except-other-family",
        ingress_from({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["2001:db8::/64"]}}),
        f"{POLICY_FIELD}.ipBlock.except[0]",
        "strict subset",
    ),
    (
        "except-invalid",
        ingress_from({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["nope"]}}),
        f"{POLICY_FIELD}.ipBlock.except[0]",
        "invalid CIDR",
    ),
    # peers (ValidateNetworkPolicyPeer)
    ("empty-peer", ingress_from({}), POLICY_FIELD, "must specify a peer"),
    (
        "ipblock-and-selector",
        ingress_from({"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}),
        POLICY_FIELD,
        "may not specify both ipBlock and another peer",
    ),
    (
        "bad-selector-operator",
        ingress_from({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]}}),
        f"{POLICY_FIELD}.podSelector",
        "operator",
    ),
    # ports (ValidateNetworkPolicyPort)
    (
        "unknown-protocol",
        ingress_ports({"port": 80, "protocol": "ICMP"}),
        f"{PORT_FIELD}.protocol",
        "unsupported protocol 'ICMP'",
    ),
    (
        "lowercase-protocol",
        ingress_ports({"port": 80, "protocol": "tcp"}),
        f"{PORT_FIELD}.protocol",
        "unsupported protocol",
    ),
    ("port-zero", ingress_ports({"port": 0}), f"{PORT_FIELD}.port", "between 1 and 65535"),
    ("port-too-big", ingress_ports({"port": 70000}), f"{PORT_FIELD}.port", "between 1 and 65535"),
    ("quoted-number", ingress_ports({"port": "80"}), f"{PORT_FIELD}.port", "at least one letter"),
    ("bad-port-name", ingress_ports({"port": "Web_Port"}), f"{PORT_FIELD}.port", "invalid port name"),
    ("endport-without-port", ingress_ports({"endPort": 90}), f"{PORT_FIELD}.endPort", "`port` is not specified"),
    ("endport-with-named-port", ingress_ports({"port": "http", "endPort": 90}), f"{PORT_FIELD}.endPort", "non-numeric"),
    (
        "endport-below-port",
        ingress_ports({"port": 100, "endPort": 90}),
        f"{PORT_FIELD}.endPort",
        "greater than or equal to `port`",
    ),
    ("endport-not-a-number", ingress_ports({"port": 100, "endPort": "200"}), f"{PORT_FIELD}.endPort", "port number"),
    # spec
    ("missing-pod-selector", netpol({"ingress": []}), "spec.podSelector", "required"),
    (
        "bad-policy-type",
        netpol({"podSelector": {}, "policyTypes": ["Inbound"]}),
        "spec.policyTypes[0]",
        "unsupported value",
    ),
    (
        "three-policy-types",
        netpol({"podSelector": {}, "policyTypes": ["Ingress", "Egress", "Ingress"]}),
        "spec.policyTypes",
        "more than two",
    ),
    ("rules-not-a-list", netpol({"podSelector": {}, "egress": {"to": []}}), "spec.egress", "must be a list"),
    ("missing-spec", {"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "x"}}, "spec", "required"),
    # pods
    ("pod-without-ip", a_pod(phase="Pending"), "status.podIP", "needs every pod's IP"),
    ("pod-with-bad-ip", a_pod(podIP="10.0.0.300"), "status.podIP", "invalid IP address"),
    ("pod-ips-disagree", a_pod(podIP="10.0.0.1", podIPs=[{"ip": "10.0.0.2"}]), "status.podIPs[0].ip", "must equal"),
    (
        "pod-bad-container-protocol",
        {**a_pod(podIP="10.0.0.1"), "spec": {"containers": [{"ports": [{"containerPort": 80, "protocol": "HTTP"}]}]}},
        "spec.containers[0].ports[0].protocol",
        "unsupported protocol",
    ),
    (
        "pod-bad-container-port",
        {**a_pod(podIP="10.0.0.1"), "spec": {"containers": [{"ports": [{"containerPort": "eighty"}]}]}},
        "spec.containers[0].ports[0].containerPort",
        "port number",
    ),
]


@pytest.mark.parametrize(("obj", "field", "message"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_raises_a_policy_error_naming_object_and_field(obj: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_objects([obj])
    error = caught.value
    assert error.field == field
    assert message in error.message
    assert (error.namespace, error.name) == ("x", obj["metadata"]["name"])
    assert str(error).startswith(f"{obj['kind']} x/{obj['metadata']['name']}: {field}: ")
    assert "\n" not in str(error)


def test_the_crd_kind_is_named_in_its_errors() -> None:
    with pytest.raises(PolicyError, match=r"^MiniNetworkPolicy x/p: spec.podSelector: "):
        parse_objects([netpol({}, kind="MiniNetworkPolicy")])


def test_bundle_level_errors() -> None:
    with pytest.raises(PolicyError, match="not a Kubernetes object"):
        parse_objects(["just a string"])
    pod = {"kind": "Pod", "metadata": {"namespace": "x", "name": "a"}, "status": {"podIP": "10.0.0.1"}}
    with pytest.raises(PolicyError, match=r"^Pod x/a: defined twice"):
        parse_objects([pod, pod])
    twin = {**pod, "metadata": {"namespace": "x", "name": "b"}}
    with pytest.raises(PolicyError, match=r"^Pod x/b: status.podIP: IP 10.0.0.1 is already the IP of pod x/a"):
        parse_objects([pod, twin])
    with pytest.raises(PolicyError, match=r"metadata.name"):
        parse_objects([{"kind": "Namespace", "metadata": {}}])


def test_unknown_kinds_are_ignored_and_lists_expanded() -> None:
    pod = {"kind": "Pod", "metadata": {"namespace": "x", "name": "a"}, "status": {"podIP": "10.0.0.1"}}
    snapshot = parse_objects([{"kind": "List", "items": [pod, {"kind": "Service", "metadata": {"name": "s"}}]}, None])
    assert [p.key for p in snapshot.pods] == ["x/a"]
    assert [ns.name for ns in snapshot.namespaces] == ["x"]  # created implicitly (NP-09 label only)


def test_the_engine_itself_rejects_a_pod_without_an_ip() -> None:
    """Snapshots built in code skip parse_objects: the engine still raises the typed error."""
    with pytest.raises(PolicyError, match=r"^Pod x/a: status.podIP: required"):
        Engine(Snapshot(pods=(Pod(namespace="x", name="a", uid=""),)))
