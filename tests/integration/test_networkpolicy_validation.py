"""The MiniNetworkPolicy CRD against the real API server, side by side with networking/v1 NetworkPolicy.

Differential: each spec goes to the API server twice with dryRun=All, as a NetworkPolicy and as a
MiniNetworkPolicy (same body, apiVersion and kind swapped); the two must be refused or accepted alike, and the
MiniNetworkPolicy's message must name the same field. The pydantic model is held to the same verdicts. The case
names are those of upstream's TestValidateNetworkPolicy (pkg/apis/networking/validation/validation_test.go)
where one matches; the accepted specs include the examples of the NetworkPolicy page of the Kubernetes docs. No
controller is involved: these tests exercise the schema, its defaults, CEL rules, bounds, printer columns and
explain output only (operators/api/networkpolicy.py says where a CRD cannot follow upstream, and why).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from operators.api.meta import MAX_LABELS, MAX_SELECTOR_TERMS
from operators.api.networkpolicy import (
    MAX_EXCEPTS,
    MAX_PEER_SELECTOR_TERMS,
    MAX_PEERS,
    MAX_POLICY_PORTS,
    MAX_RULES,
    MiniNetworkPolicySpec,
)
from operators.devcluster.cluster import Cluster
from operators.networkpolicy.model import Direction
from operators.networkpolicy.parse import parse_policy
from operators.runtime.client import ApiError, KubeClient

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("crds")]

KINDS = {
    "NetworkPolicy": ("networking.k8s.io/v1", "/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies"),
    "MiniNetworkPolicy": ("minik8s.dev/v1", "/apis/minik8s.dev/v1/namespaces/{namespace}/mininetworkpolicies"),
}
BASE_SPEC: dict[str, Any] = {"podSelector": {"matchLabels": {"a": "b"}}}  # upstream's makeValidNetworkPolicy


def manifest(kind: str, name: str = "probe", **spec: Any) -> dict[str, Any]:
    """A NetworkPolicy or MiniNetworkPolicy selecting a=b; `spec` adds or overrides (or, with None, removes) fields."""
    api_version, _ = KINDS[kind]
    body = {key: value for key, value in (BASE_SPEC | spec).items() if value is not None}
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": body}


def collection(kind: str, namespace: str) -> str:
    return KINDS[kind][1].format(namespace=namespace)


async def dry_run(kube: KubeClient, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create server-side without persisting: defaulting and validation both run."""
    return await kube.request("POST", collection(body["kind"], namespace), body=body, query={"dryRun": "All"})


# --- spec builders, after upstream's tweaks (setIngressFromIPBlockIPV4, setEgressPorts, ...) ---


def from_(*peers: dict[str, Any]) -> dict[str, Any]:
    """One ingress rule from these peers."""
    return {"ingress": [{"from": list(peers)}]}


def to(*peers: dict[str, Any]) -> dict[str, Any]:
    """One egress rule to these peers."""
    return {"egress": [{"to": list(peers)}]}


def ingress_ports(*ports: dict[str, Any]) -> dict[str, Any]:
    return {"ingress": [{"ports": list(ports)}]}


def egress_ports(*ports: dict[str, Any]) -> dict[str, Any]:
    """One egress rule to NAMESPACE_PEER on these ports (upstream's setEgressToNamespaceSelector + setEgressPorts)."""
    return {"egress": [{"to": [NAMESPACE_PEER], "ports": list(ports)}]}


def port(number: int | str | None = None, protocol: str | None = None, end_port: int | None = None) -> dict[str, Any]:
    fields = {"protocol": protocol, "port": number, "endPort": end_port}
    return {key: value for key, value in fields.items() if value is not None}


def ip_block(cidr: str, *excepts: str) -> dict[str, Any]:
    return {"ipBlock": {"cidr": cidr, "except": list(excepts)} if excepts else {"cidr": cidr}}


def selector(**labels: str) -> dict[str, Any]:
    return {"matchLabels": labels}


NAMESPACE_PEER = {"namespaceSelector": selector(c="d")}
POD_PEER = {"podSelector": selector(c="d")}
IPV4_BLOCK = ip_block("192.168.0.0/16", "192.168.3.0/24", "192.168.4.0/24")
IPV6_BLOCK = ip_block("fd00:192:168::/48", "fd00:192:168:3::/64", "fd00:192:168:4::/64")
INVALID_SELECTOR = {"matchLabels": {"NoUppercaseOrSpecialCharsLike=Equals": "b"}}
UPSTREAM_PORTS = (port(80), port(protocol="TCP"), port(443, "TCP"), port("dns", "UDP"), port(7777, "SCTP"))

# --- invalid specs: refused by both, about the same field ---------------------------------------------------

NAME_PART = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with"
PORT_RANGE = "must be between 1 and 65535, inclusive"
CIDR_MESSAGE = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
PROTOCOLS = 'supported values: "TCP", "UDP", "SCTP"'
NOT_A_SUBSET = "must be a strict subset of `cidr`"
TOO_MANY_TYPES = "may not specify more than two policyTypes"
PEER_FORBIDDEN = "Forbidden: may not specify both ipBlock and another peer"
PEER_REQUIRED = "Required value: must specify a peer"
KEY_253 = ".".join(["p" * 63] * 3 + ["p" * 61]) + "/key"  # a 253-character prefix, upstream's longest
LONG_PREFIX = "p" + KEY_253  # a 254-character one

# id: (spec fields, what both messages name (a field path, or several), text both messages contain).
# The field is upstream's path or a prefix of it: a rule relating an ipBlock's except entries to its cidr reports
# on `ipBlock.except`, where upstream names the entry, `ipBlock.except[0]`; its message names the entry's value.
# Where both messages cannot share upstream's words (a peer's selector checks label keys and values by regex, see
# operators/api/networkpolicy.py), they share the offending value.
INVALID: dict[str, tuple[dict[str, Any], str | tuple[str, ...], str]] = {
    # peers (ValidateNetworkPolicyPeer)
    "namespaceSelector and ipBlock": (from_(NAMESPACE_PEER | IPV4_BLOCK), "spec.ingress[0].from[0]", PEER_FORBIDDEN),
    "podSelector and ipBlock": (to(POD_PEER | IPV4_BLOCK), "spec.egress[0].to[0]", PEER_FORBIDDEN),
    "missing from and to type": (
        from_({}) | to({}),
        ("spec.ingress[0].from[0]", "spec.egress[0].to[0]"),
        PEER_REQUIRED,
    ),
    "peer with a null podSelector": (from_({"podSelector": None}), "spec.ingress[0].from[0]", PEER_REQUIRED),
    # label selectors (metav1 ValidateLabelSelector)
    "invalid spec.podSelector": (
        {"podSelector": INVALID_SELECTOR},
        'spec.podSelector.matchLabels: Invalid value: "NoUppercaseOrSpecialCharsLike=Equals"',
        NAME_PART,
    ),
    "invalid ingress.from.podSelector": (
        from_({"podSelector": INVALID_SELECTOR}),
        'spec.ingress[0].from[0].podSelector.matchLabels: Invalid value: "NoUppercaseOrSpecialCharsLike=Equals"',
        NAME_PART,
    ),
    "invalid egress.to.podSelector": (
        to({"podSelector": INVALID_SELECTOR}),
        'spec.egress[0].to[0].podSelector.matchLabels: Invalid value: "NoUppercaseOrSpecialCharsLike=Equals"',
        NAME_PART,
    ),
    "invalid ingress.from.namespaceSelector": (
        from_({"namespaceSelector": INVALID_SELECTOR}),
        'spec.ingress[0].from[0].namespaceSelector.matchLabels: Invalid value: "NoUppercaseOrSpecialCharsLike=Equals"',
        NAME_PART,
    ),
    "invalid spec.podSelector label value": (
        {"podSelector": selector(app="-web")},
        "spec.podSelector.matchLabels",
        'Invalid value: "-web": a valid label must be an empty string or consist of alphanumeric characters',
    ),
    "invalid peer label value": (
        to({"namespaceSelector": selector(team="-web")}),
        "spec.egress[0].to[0].namespaceSelector.matchLabels",
        'Invalid value: "-web"',
    ),
    "invalid spec.podSelector operator": (
        {"podSelector": {"matchExpressions": [{"key": "app", "operator": "Near"}]}},
        "spec.podSelector.matchExpressions[0].operator",
        'value: "Near"',  # upstream's "Invalid value: ...: not a valid selector operator", the enum's "Unsupported"
    ),
    "In without values": (
        {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In"}]}},
        "spec.podSelector.matchExpressions[0].values",
        "Required value: must be specified when `operator` is 'In' or 'NotIn'",
    ),
    "Exists with values": (
        {"podSelector": {"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["web"]}]}},
        "spec.podSelector.matchExpressions[0].values",
        "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
    ),
    "peer NotIn without values": (
        to({"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "NotIn", "values": []}]}}),
        "spec.egress[0].to[0].namespaceSelector.matchExpressions[0].values",
        "Required value: must be specified when `operator` is 'In' or 'NotIn'",
    ),
    "peer DoesNotExist with values": (
        from_({"podSelector": {"matchExpressions": [{"key": "app", "operator": "DoesNotExist", "values": ["x"]}]}}),
        "spec.ingress[0].from[0].podSelector.matchExpressions[0].values",
        "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
    ),
    "invalid peer expression key": (
        from_({"podSelector": {"matchExpressions": [{"key": "a b", "operator": "Exists"}]}}),
        "spec.ingress[0].from[0].podSelector.matchExpressions[0].key",
        'Invalid value: "a b"',
    ),
    "invalid peer expression value": (
        from_({"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["-x"]}]}}),
        "spec.ingress[0].from[0].podSelector.matchExpressions[0].values[0]",
        'Invalid value: "-x"',
    ),
    "spec.podSelector key prefix too long": (
        {"podSelector": {"matchExpressions": [{"key": LONG_PREFIX, "operator": "Exists"}]}},
        "spec.podSelector.matchExpressions[0].key",
        "prefix part must be no more than 253 bytes",
    ),
    "peer key prefix too long": (
        to({"podSelector": {"matchExpressions": [{"key": LONG_PREFIX, "operator": "Exists"}]}}),
        "spec.egress[0].to[0].podSelector.matchExpressions[0].key",
        "prefix part must be no more than 253 bytes",
    ),
    # ports (ValidateNetworkPolicyPort)
    "invalid ingress.ports.protocol": (
        ingress_ports(port(80, "ICMP")),
        "spec.ingress[0].ports[0].protocol",
        f'Unsupported value: "ICMP": {PROTOCOLS}',
    ),
    "invalid ingress.ports.port (int)": (ingress_ports(port(123456789)), "spec.ingress[0].ports[0].port", PORT_RANGE),
    "invalid ingress.ports.port (str)": (
        ingress_ports(port("!@#$")),
        "spec.ingress[0].ports[0].port",
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
    ),
    "invalid egress.ports.protocol": (
        egress_ports(port(80, "ICMP")),
        "spec.egress[0].ports[0].protocol",
        f'Unsupported value: "ICMP": {PROTOCOLS}',
    ),
    "invalid egress.ports.port (int)": (egress_ports(port(123456789)), "spec.egress[0].ports[0].port", PORT_RANGE),
    "invalid egress.ports.port (str)": (
        egress_ports(port("!@#$")),
        "spec.egress[0].ports[0].port",
        "must contain at least one letter (a-z)",
    ),
    "port 0": (ingress_ports(port(0)), "spec.ingress[0].ports[0].port", PORT_RANGE),
    "empty port name": (ingress_ports(port("")), "spec.ingress[0].ports[0].port", "must contain at least one letter"),
    "port name too long": (
        ingress_ports(port("a-very-long-port")),
        "spec.ingress[0].ports[0].port",
        "must be no more than 15 characters",
    ),
    "port name with consecutive hyphens": (
        ingress_ports(port("web--http")),
        "spec.ingress[0].ports[0].port",
        "must not contain consecutive hyphens",
    ),
    "port name beginning with a hyphen": (
        ingress_ports(port("-http")),
        "spec.ingress[0].ports[0].port",
        "must not begin or end with a hyphen",
    ),
    "multiple ports defined, one port range is invalid": (
        egress_ports(port(35000, "UDP", 32768), port(32000, end_port=32768)),
        "spec.egress[0].ports[0].endPort",
        "must be greater than or equal to `port`",
    ),
    "endPort defined with named/string port": (
        egress_ports(port("dns", "UDP", 32768), port(32000, end_port=32768)),
        "spec.egress[0].ports[0].endPort",
        "may not be specified when `port` is non-numeric",
    ),
    "endPort defined without port defined": (
        egress_ports(port(protocol="TCP", end_port=32768)),
        "spec.egress[0].ports[0].endPort",
        "may not be specified when `port` is not specified",
    ),
    "port is greater than endPort": (
        egress_ports(port(35000, "SCTP", 32768)),
        "spec.egress[0].ports[0].endPort",
        "must be greater than or equal to `port`",
    ),
    "multiple invalid port ranges defined": (
        egress_ports(port(35000, "UDP", 32768), port(protocol="TCP", end_port=32768), port("https", "TCP", 32768)),
        ("spec.egress[0].ports[0].endPort", "spec.egress[0].ports[1].endPort", "spec.egress[0].ports[2].endPort"),
        "may not be specified when `port` is",
    ),
    "invalid endport range defined": (
        egress_ports(port(30000, "TCP", 65537)),
        "spec.egress[0].ports[0].endPort",
        PORT_RANGE,
    ),
    # ipBlocks (ValidateIPBlock)
    "missing cidr field": (
        from_(ip_block("", "192.168.3.0/24")),
        "spec.ingress[0].from[0].ipBlock.cidr",
        "Required value",
    ),
    "ipBlock without cidr": (from_({"ipBlock": {}}), "spec.ingress[0].from[0].ipBlock.cidr", "Required value"),
    "invalid cidr format": (from_(ip_block("192.168.5.6")), "spec.ingress[0].from[0].ipBlock.cidr", CIDR_MESSAGE),
    "invalid ipv6 cidr format": (
        from_(ip_block("fd00:192:168::")),
        "spec.ingress[0].from[0].ipBlock.cidr",
        CIDR_MESSAGE,
    ),
    "cidr prefix out of range": (to(ip_block("10.0.0.0/33")), "spec.egress[0].to[0].ipBlock.cidr", CIDR_MESSAGE),
    "except field is an empty string": (
        from_(ip_block("192.168.0.0/16", "")),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        CIDR_MESSAGE,
    ),
    "except field is an space string": (
        from_(ip_block("192.168.0.0/16", " ")),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        CIDR_MESSAGE,
    ),
    "except field is an invalid ip": (
        from_(ip_block("192.168.0.0/16", "300.300.300.300")),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        CIDR_MESSAGE,
    ),
    "except IP is outside of CIDR range": (
        from_(ip_block("192.168.8.0/24", "192.168.9.1/32")),
        "spec.ingress[0].from[0].ipBlock.except",
        f'Invalid value: "192.168.9.1/32": {NOT_A_SUBSET}',
    ),
    "except IP is not strictly within CIDR range": (
        from_(ip_block("192.168.0.0/24", "192.168.0.0/24")),
        "spec.ingress[0].from[0].ipBlock.except",
        f'Invalid value: "192.168.0.0/24": {NOT_A_SUBSET}',
    ),
    "except IPv6 is outside of CIDR range": (
        from_(ip_block("fd00:192:168:1::/64", "fd00:192:168:2::/64")),
        "spec.ingress[0].from[0].ipBlock.except",
        f'Invalid value: "fd00:192:168:2::/64": {NOT_A_SUBSET}',
    ),
    "except of the other IP family": (
        to(ip_block("10.0.0.0/8", "10.1.0.0/16", "2001:db8::/64")),
        "spec.egress[0].to[0].ipBlock.except",
        f'Invalid value: "2001:db8::/64": {NOT_A_SUBSET}',
    ),
    # policyTypes
    "invalid policyTypes": (
        to(IPV4_BLOCK) | {"policyTypes": ["foo", "bar"]},
        ("spec.policyTypes[0]", "spec.policyTypes[1]"),
        'Unsupported value: "foo": supported values: "Ingress", "Egress"',
    ),
    # upstream returns at once with TOO_MANY_TYPES; the CRD's enum refuses each value first (its rules then wait)
    "too many policyTypes": (to(IPV4_BLOCK) | {"policyTypes": ["foo", "bar", "baz"]}, "spec.policyTypes", ""),
    "too many valid policyTypes": (
        {"policyTypes": ["Ingress", "Egress", "Ingress"]},
        "spec.policyTypes",
        TOO_MANY_TYPES,
    ),
}

MODEL_BLIND = {
    "invalid spec.podSelector",
    "invalid ingress.from.podSelector",
    "invalid egress.to.podSelector",
    "invalid ingress.from.namespaceSelector",
    "invalid spec.podSelector label value",
    "spec.podSelector key prefix too long",
    "In without values",
    "Exists with values",
    "peer NotIn without values",
    "peer DoesNotExist with values",
}
"""Cases the pydantic model accepts: meta's label keys, spec.podSelector's label values and the values rules of a
requirement are CEL rules with no pydantic mirror (see operators/api/meta.py)."""


@pytest.mark.parametrize(("spec", "field", "message"), INVALID.values(), ids=INVALID.keys())
async def test_validate_network_policy_refusals(
    kube: KubeClient, namespace: str, spec: dict[str, Any], field: str | tuple[str, ...], message: str
) -> None:
    """TestValidateNetworkPolicy's errorCases (and a few more): the NetworkPolicy is refused, and the
    MiniNetworkPolicy too, about the same field and, where a CRD can say it, in upstream's words."""
    fields = (field,) if isinstance(field, str) else field
    for kind in KINDS:
        with pytest.raises(ApiError) as refused:
            await dry_run(kube, namespace, manifest(kind, **spec))
        assert refused.value.status == 422, f"{kind}: {refused.value}"
        for expected in (*fields, message):
            assert expected in refused.value.message, f"{kind}: {refused.value.message}"


@pytest.mark.parametrize(("case", "spec"), [(case, spec) for case, (spec, _, _) in INVALID.items()], ids=INVALID.keys())
def test_the_model_refuses_what_the_schema_refuses(case: str, spec: dict[str, Any]) -> None:
    """MiniNetworkPolicySpec's validators mirror the schema's rules, bar MODEL_BLIND."""
    body = manifest("MiniNetworkPolicy", **spec)["spec"]
    if case in MODEL_BLIND:
        assert MiniNetworkPolicySpec.model_validate(body).to_kube() == body
    else:
        with pytest.raises(ValidationError):
            MiniNetworkPolicySpec.model_validate(body)


# --- valid specs: accepted by both, defaulted alike ----------------------------------------------------------

DOCS_EXAMPLE: dict[str, Any] = {
    # https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-resource
    "podSelector": {"matchLabels": {"role": "db"}},
    "policyTypes": ["Ingress", "Egress"],
    "ingress": [
        {
            "from": [
                ip_block("172.17.0.0/16", "172.17.1.0/24"),
                {"namespaceSelector": selector(project="myproject")},
                {"podSelector": selector(role="frontend")},
            ],
            "ports": [port(6379, "TCP")],
        }
    ],
    "egress": [{"to": [ip_block("10.0.0.0/24")], "ports": [port(5978, "TCP")]}],
}

VALID: dict[str, dict[str, Any]] = {
    # TestValidateNetworkPolicy's successCases
    "empty ingress rule": {"ingress": [{}]},
    "empty port": {"ingress": [{"ports": [{}]}]},
    "ingress ports": ingress_ports(*UPSTREAM_PORTS),
    "ingress from podSelector": from_(POD_PEER),
    "ingress from namespaceSelector": from_(NAMESPACE_PEER),
    "ingress from podSelector and namespaceSelector": from_({"podSelector": selector(e="f")} | NAMESPACE_PEER),
    "egress to namespaceSelector, ingress from ipBlock": to(NAMESPACE_PEER) | from_(IPV4_BLOCK),
    "ingress from ipBlock": from_(IPV4_BLOCK),
    "egress to ipBlock, Egress only": to(IPV4_BLOCK) | {"policyTypes": ["Egress"]},
    "egress to ipBlock, Ingress and Egress": to(IPV4_BLOCK) | {"policyTypes": ["Ingress", "Egress"]},
    "egress ports": egress_ports(*UPSTREAM_PORTS),
    "egress to namespaceSelector, ingress from IPv6 ipBlock": to(NAMESPACE_PEER) | from_(IPV6_BLOCK),
    "ingress from IPv6 ipBlock": from_(IPV6_BLOCK),
    "egress to IPv6 ipBlock, Egress only": to(IPV6_BLOCK) | {"policyTypes": ["Egress"]},
    "endPort range and a named port": egress_ports(port(32000, end_port=32768), port("dns", "UDP")),
    "endPort ranges": {
        "egress": [{"to": [NAMESPACE_PEER], "ports": [port(30000, end_port=32768), port(32000, end_port=32768)]}],
        "ingress": [{"from": [{"podSelector": selector(e="f")}], "ports": [port(32768, "TCP", 32768)]}],
    },
    # the NetworkPolicy page of the Kubernetes docs
    "docs: the NetworkPolicy resource": DOCS_EXAMPLE,
    "docs: targeting a range of ports": {
        "podSelector": {"matchLabels": {"role": "db"}},
        "policyTypes": ["Egress"],
        "egress": [{"to": [ip_block("10.0.0.0/24")], "ports": [port(32000, "TCP", 32768)]}],
    },
    "docs: default deny all ingress traffic": {"podSelector": {}, "policyTypes": ["Ingress"]},
    "docs: allow all ingress traffic": {"podSelector": {}, "ingress": [{}]},
    "docs: default deny all egress traffic": {"podSelector": {}, "policyTypes": ["Egress"]},
    "docs: allow all egress traffic": {"podSelector": {}, "egress": [{}], "policyTypes": ["Egress"]},
    "docs: default deny all ingress and all egress": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    "docs: a namespace by name (NP-09)": from_({"namespaceSelector": selector(**{"kubernetes.io/metadata.name": "x"})}),
    # edges
    "named port": ingress_ports(port("http")),
    "port name of 15 characters": ingress_ports(port("a-long-name-123", "UDP")),
    "port and endPort 65535": ingress_ports(port(65535, "SCTP", 65535)),
    "all pods of all namespaces": from_({"podSelector": {}, "namespaceSelector": {}}),
    "cidr with host bits (the docs' 192.168.1.1/24)": from_(ip_block("192.168.1.1/24", "192.168.1.128/25")),
    "except of one address": to(ip_block("10.0.0.0/8", "10.0.0.1/32")),
    "duplicate policyTypes": {"policyTypes": ["Ingress", "Ingress"]},
    "empty rules": {"ingress": [], "egress": []},
    "selector expressions": {
        "podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]},
        **to({"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]}}),
    },
    "label key with a 253-character prefix": {
        "podSelector": {"matchExpressions": [{"key": KEY_253, "operator": "Exists"}]},
        **to({"podSelector": {"matchExpressions": [{"key": KEY_253, "operator": "Exists"}]}}),
    },
}


def without_empty_lists(value: Any) -> Any:
    """`value` as Go would write it back: its `omitempty` lists drop out when empty; a custom resource keeps them."""
    if isinstance(value, dict):
        return {key: without_empty_lists(item) for key, item in value.items() if item != []}
    if isinstance(value, list):
        return [without_empty_lists(item) for item in value]
    return value


@pytest.mark.parametrize("spec", VALID.values(), ids=VALID.keys())
async def test_validate_network_policy_accepts(kube: KubeClient, namespace: str, spec: dict[str, Any]) -> None:
    """TestValidateNetworkPolicy's successCases and the docs' examples: both accepted and read back alike,
    every port's protocol defaulted to TCP (NP-10), policyTypes defaulted for the NetworkPolicy only (NP-02).
    The model accepts them too, with the same defaults, and the engine reads the MiniNetworkPolicy with the
    policy types the API server wrote into the NetworkPolicy."""
    written = manifest("NetworkPolicy", **spec)["spec"]
    upstream = (await dry_run(kube, namespace, manifest("NetworkPolicy", **spec)))["spec"]
    accepted = await dry_run(kube, namespace, manifest("MiniNetworkPolicy", **spec))
    mini = accepted["spec"]
    types = upstream["policyTypes"]
    if "policyTypes" not in written:  # NP-02's default, which only the NetworkPolicy writes
        assert types == (["Ingress", "Egress"] if written.get("egress") else ["Ingress"])
        del upstream["policyTypes"]
    assert without_empty_lists(mini) == upstream
    assert MiniNetworkPolicySpec.model_validate(written).to_kube() == mini
    assert parse_policy(accepted).policy_types == {Direction(value) for value in types}


# --- where a CRD cannot follow upstream ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [{"podSelector": None}, {"podSelector": None, "ingress": [{}]}],
    ids=["no podSelector", "no podSelector, allow all ingress"],
)
async def test_a_missing_pod_selector_selects_every_pod(kube: KubeClient, namespace: str, spec: dict[str, Any]) -> None:
    """A missing podSelector is `{}`, every pod of the namespace (NP-01), for both kinds: the CRD's
    default does what NetworkPolicy's defaulting does."""
    upstream = await dry_run(kube, namespace, manifest("NetworkPolicy", **spec))
    mini = await dry_run(kube, namespace, manifest("MiniNetworkPolicy", **spec))
    assert upstream["spec"]["podSelector"] == mini["spec"]["podSelector"] == {}


async def test_a_missing_spec_selects_every_pod(kube: KubeClient, namespace: str) -> None:
    """A NetworkPolicy without spec selects every pod and denies their ingress; so does a MiniNetworkPolicy
    (its policyTypes are defaulted in status, NP-02: see test_policy_types_are_not_defaulted)."""
    bodies = {kind: {key: value for key, value in manifest(kind).items() if key != "spec"} for kind in KINDS}
    upstream = await dry_run(kube, namespace, bodies["NetworkPolicy"])
    assert upstream["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    mini = await dry_run(kube, namespace, bodies["MiniNetworkPolicy"])
    assert mini["spec"] == {"podSelector": {}}


@pytest.mark.parametrize(
    ("rules", "types"),
    [({}, ["Ingress"]), ({"ingress": [{}]}, ["Ingress"]), ({"egress": [{}]}, ["Ingress", "Egress"])],
    ids=["no rules", "ingress rules", "egress rules"],
)
async def test_policy_types_are_not_defaulted(
    kube: KubeClient, namespace: str, rules: dict[str, Any], types: list[str]
) -> None:
    """NP-02: SetDefaults_NetworkPolicy writes Ingress, plus Egress when egress rules exist. That depends on
    another field, which a structural default cannot; the MiniNetworkPolicy keeps policyTypes unset, and its
    controller reports the effective types in status.policyTypes."""
    upstream = await dry_run(kube, namespace, manifest("NetworkPolicy", **rules))
    mini = await dry_run(kube, namespace, manifest("MiniNetworkPolicy", **rules))
    assert upstream["spec"]["policyTypes"] == types
    assert "policyTypes" not in mini["spec"]


@pytest.mark.parametrize(
    "cidr",
    ["001.002.003.000/0", "010.0.0.0/8", "10.0.0.0/08", "::ffff:10.0.0.0/104"],
    ids=["legacy cidr format with strict validation", "leading zeros", "prefix with a leading zero", "IPv4-mapped"],
)
async def test_legacy_cidr_formats_are_refused(kube: KubeClient, namespace: str, cidr: str) -> None:
    """Upstream still accepts these (StrictIPCIDRValidation is off by default, and its own test refuses the first
    only with the gate on); the CRD's isCIDR() refuses them, as will a future upstream, and so does the engine."""
    accepted = await dry_run(kube, namespace, manifest("NetworkPolicy", **from_(ip_block(cidr))))
    assert accepted["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"] == cidr
    with pytest.raises(ApiError) as refused:
        await dry_run(kube, namespace, manifest("MiniNetworkPolicy", **from_(ip_block(cidr))))
    assert f"spec.ingress[0].from[0].ipBlock.cidr: Invalid value: {json.dumps(cidr)}: {CIDR_MESSAGE}" in str(
        refused.value
    )
    with pytest.raises(ValidationError):
        MiniNetworkPolicySpec.model_validate(manifest("MiniNetworkPolicy", **from_(ip_block(cidr)))["spec"])


async def test_a_null_rule_is_refused(kube: KubeClient, namespace: str) -> None:
    """Go decodes `ingress: [null]` as one empty rule (allow all, NP-06); a CRD schema refuses the null."""
    upstream = await dry_run(kube, namespace, manifest("NetworkPolicy", ingress=[None]))
    assert upstream["spec"]["ingress"] == [{}]
    with pytest.raises(ApiError) as refused:
        await dry_run(kube, namespace, manifest("MiniNetworkPolicy", ingress=[None]))
    assert "spec.ingress[0]" in refused.value.message and "must be of type object" in refused.value.message


# --- bounds: what the CEL cost budget needs ------------------------------------------------------------------


def long_selector(terms: int, text: str) -> dict[str, Any]:
    """A selector of `terms` matchLabels entries and `terms` matchExpressions, with long keys and values."""
    return {
        "matchLabels": {f"k{i}.example.com/{text}": text for i in range(terms)},
        "matchExpressions": [
            {"key": f"e{i}.example.com/{text}", "operator": "In", "values": [text, f"{text}-2"]} for i in range(terms)
        ],
    }


def at_the_bounds(selector_rules: int) -> dict[str, Any]:
    """Every list at its bound: MAX_RULES rules per direction of MAX_POLICY_PORTS ports and MAX_PEERS peers, the
    first `selector_rules` with selectors of MAX_PEER_SELECTOR_TERMS terms, the others ipBlocks of MAX_EXCEPTS
    excepts; spec.podSelector at meta's bounds. (Every peer's selectors at their bounds would not fit in a
    request: the API server takes 3 MiB.)"""
    text = "x" * 40

    def peers(rule: int) -> list[dict[str, Any]]:
        if rule < selector_rules:
            selectors = long_selector(MAX_PEER_SELECTOR_TERMS, text)
            return [{"podSelector": selectors, "namespaceSelector": selectors}] * MAX_PEERS
        return [
            ip_block(f"10.{rule}.{peer}.0/24", *(f"10.{rule}.{peer}.{4 * i}/30" for i in range(MAX_EXCEPTS)))
            for peer in range(MAX_PEERS)
        ]

    ports = [port(f"port-{i}", "UDP") if i % 2 else port(1000 + i, end_port=2000 + i) for i in range(MAX_POLICY_PORTS)]
    return {
        "podSelector": {
            "matchLabels": {f"k{i}.example.com/{text}": text for i in range(MAX_LABELS)},
            "matchExpressions": [
                {"key": f"e{i}.example.com/{text}", "operator": "NotIn", "values": [text]}
                for i in range(MAX_SELECTOR_TERMS)
            ],
        },
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"ports": ports, "from": peers(rule)} for rule in range(MAX_RULES)],
        "egress": [{"ports": ports, "to": peers(rule)} for rule in range(MAX_RULES)],
    }


@pytest.mark.parametrize("selector_rules", [0, 1], ids=["ipBlocks", "selectors"])
async def test_the_crds_bounds_fit_the_cel_cost_budget(kube: KubeClient, namespace: str, selector_rules: int) -> None:
    """MAX_RULES, MAX_PEERS, MAX_POLICY_PORTS, MAX_EXCEPTS, MAX_PEER_SELECTOR_TERMS and meta's selector bounds, all
    at once: the API server evaluates every rule within its runtime cost budget and accepts the
    MiniNetworkPolicy, as it does the NetworkPolicy."""
    spec = at_the_bounds(selector_rules)
    for kind in KINDS:
        accepted = (await dry_run(kube, namespace, manifest(kind, **spec)))["spec"]
        assert len(accepted["egress"]) == MAX_RULES, kind
        assert [len(rule["from"]) for rule in accepted["ingress"]] == [MAX_PEERS] * MAX_RULES, kind


def one_more(bound: str) -> tuple[dict[str, Any], str, int]:
    """A spec one item over `bound`, the field the API server names, and the bound."""
    peer = ip_block("10.0.0.0/8")
    if bound == "MAX_RULES":
        return {"ingress": [{}] * (MAX_RULES + 1)}, "spec.ingress", MAX_RULES
    if bound == "MAX_PEERS":
        return to(*[peer] * (MAX_PEERS + 1)), "spec.egress[0].to", MAX_PEERS
    if bound == "MAX_POLICY_PORTS":
        return ingress_ports(*[port(80)] * (MAX_POLICY_PORTS + 1)), "spec.ingress[0].ports", MAX_POLICY_PORTS
    if bound == "MAX_EXCEPTS":
        excepts = [f"10.{i}.0.0/16" for i in range(MAX_EXCEPTS + 1)]
        return from_(ip_block("10.0.0.0/8", *excepts)), "spec.ingress[0].from[0].ipBlock.except", MAX_EXCEPTS
    selectors = long_selector(MAX_PEER_SELECTOR_TERMS + 1, "x")
    return from_({"podSelector": selectors}), "spec.ingress[0].from[0].podSelector.match", MAX_PEER_SELECTOR_TERMS


@pytest.mark.parametrize(
    "bound", ["MAX_RULES", "MAX_PEERS", "MAX_POLICY_PORTS", "MAX_EXCEPTS", "MAX_PEER_SELECTOR_TERMS"]
)
async def test_one_over_a_bound_is_the_crds_own_refusal(kube: KubeClient, namespace: str, bound: str) -> None:
    """Upstream has no such bounds: the NetworkPolicy is accepted, the MiniNetworkPolicy refused as "Too many"."""
    spec, field, limit = one_more(bound)
    await dry_run(kube, namespace, manifest("NetworkPolicy", **spec))
    with pytest.raises(ApiError) as refused:
        await dry_run(kube, namespace, manifest("MiniNetworkPolicy", **spec))
    assert field in refused.value.message and f"Too many: {limit + 1}: must have at most {limit}" in str(refused.value)
    with pytest.raises(ValidationError):
        MiniNetworkPolicySpec.model_validate(manifest("MiniNetworkPolicy", **spec)["spec"])


# --- kubectl: columns, explain --------------------------------------------------------------------------------


def apply(cluster: Cluster, namespace: str, body: dict[str, Any]) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(body))


def table(cluster: Cluster, namespace: str, *args: str) -> list[list[str]]:
    return [line.split() for line in cluster.kubectl("get", *args, "-n", namespace).stdout.splitlines()]


async def test_kubectl_get_prints_the_network_policy_columns(
    cluster: Cluster, kube: KubeClient, namespace: str
) -> None:
    """`kubectl get mnp` prints `kubectl get netpol`'s columns plus SELECTED, and -o wide adds POLICY-TYPES. No
    controller runs here: the test writes the status a controller would, and reads it back in the columns."""
    for kind in KINDS:
        apply(cluster, namespace, manifest(kind, name="columns", podSelector=selector(app="web")))
    path = f"{collection('MiniNetworkPolicy', namespace)}/columns/status"
    status = {
        "podSelectorText": "app=web",
        "selectedPods": 2,
        "policyTypes": ["Ingress", "Egress"],
        "policyTypesText": "Ingress,Egress",
        "observedGeneration": 1,
    }
    await kube.patch(path, {"status": status})
    upstream = table(cluster, namespace, "netpol")
    assert upstream == [["NAME", "POD-SELECTOR", "AGE"], ["columns", "app=web", upstream[1][2]]]
    header, row = table(cluster, namespace, "mnp", "-o", "wide")
    assert header == ["NAME", "POD-SELECTOR", "SELECTED", "AGE", "POLICY-TYPES"]
    assert row == ["columns", "app=web", "2", row[3], "Ingress,Egress"]
    assert table(cluster, namespace, "mnetpol")[0] == ["NAME", "POD-SELECTOR", "SELECTED", "AGE"]


def test_kubectl_explain_teaches_the_ip_block(cluster: Cluster) -> None:
    explained = cluster.kubectl("explain", "mininetworkpolicy.spec.ingress.from.ipBlock").stdout
    assert "KIND:       MiniNetworkPolicy" in explained
    assert "ipBlock defines policy on a particular IPBlock. If this field is set then" in explained
    assert "cidr\t<string> -required-" in explained
    assert "except\t<[]string>" in explained
    assert "rejected if they are outside the cidr range" in explained
    status = cluster.kubectl("explain", "mnp.status.podSelectorText").stdout
    assert "`kubectl get netpol`" in status and "<none>" in status
