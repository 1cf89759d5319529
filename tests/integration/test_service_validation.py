"""The MiniService CRD against the real API server, side by side with core/v1 Service.

Differential: each spec goes to the API server twice with dryRun=All, as a core/v1 Service and as a MiniService
(same body, apiVersion and kind swapped); the two must be refused or accepted alike, and the MiniService's
message must name the same field. The case names are those of upstream's TestValidateServiceCreate
(pkg/apis/core/validation/validation_test.go) where one matches. No controller is involved: these tests
exercise the schema, its defaults, CEL rules, printer columns and explain output only (operators/api/service.py
says where a CRD cannot follow upstream, and why).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from operators.api.meta import MAX_LABELS
from operators.api.service import MAX_EXTERNAL_IPS, MAX_PORTS, MAX_SOURCE_RANGES
from operators.devcluster.cluster import Cluster
from operators.runtime.client import ApiError, KubeClient

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("crds")]

KINDS = {
    "Service": ("v1", "/api/v1/namespaces/{namespace}/services"),
    "MiniService": ("minik8s.dev/v1", "/apis/minik8s.dev/v1/namespaces/{namespace}/miniservices"),
}
BASE_SPEC: dict[str, Any] = {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}
CLUSTER_IP = "10.96.77.7"  # inside the dev cluster's service CIDR (operators.devcluster.components.SERVICE_CIDR)


def manifest(kind: str, name: str = "probe", **spec: Any) -> dict[str, Any]:
    """A Service or MiniService selecting app=web on port 80; `spec` overrides (or, with None, removes) fields."""
    api_version, _ = KINDS[kind]
    body = {key: value for key, value in (BASE_SPEC | spec).items() if value is not None}
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": body}


def collection(kind: str, namespace: str) -> str:
    return KINDS[kind][1].format(namespace=namespace)


async def dry_run(kube: KubeClient, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create server-side without persisting: defaulting, allocation checks and validation all run."""
    return await kube.request("POST", collection(body["kind"], namespace), body=body, query={"dryRun": "All"})


def ports(*entries: dict[str, Any]) -> list[dict[str, Any]]:
    return list(entries)


def port(number: int = 80, **fields: Any) -> dict[str, Any]:
    return {"port": number, **fields}


# --- invalid specs: refused by both, about the same field ---------------------------------------------------

NAME_PART = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with"
LABEL_VALUE = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'"
DNS_LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'"
PORT_RANGE = "must be between 1 and 65535, inclusive"
IP_MESSAGE = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
ONLY_LOAD_BALANCER = "Forbidden: may only be used when `type` is 'LoadBalancer'"
DUAL_STACK = "must be 'RequireDualStack' or 'PreferDualStack' when multiple"

# id: (spec fields, what both messages name (a field path, or several substrings), text both messages contain).
# The field is upstream's path or a prefix of it: a CEL rule that relates several fields reports on the field
# its fieldPath names (`spec.ports` for a per-port check made across ports, `spec.clusterIP` where upstream
# reports on its copy `spec.clusterIPs[0]`); the message then names the rest (see operators/api/service.py).
INVALID: dict[str, tuple[dict[str, Any], str | tuple[str, ...], str]] = {
    # ports
    "missing ports": ({"ports": None}, "spec.ports", "Required value"),
    "invalid port (0)": ({"ports": ports(port(0))}, "spec.ports[0].port", PORT_RANGE),
    "invalid port (65536)": ({"ports": ports(port(65536))}, "spec.ports[0].port", PORT_RANGE),
    "invalid protocol": (
        {"ports": ports(port(protocol="HTTP"))},
        "spec.ports[0].protocol",
        'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ),
    "invalid port name": ({"ports": ports(port(name="HTTP"))}, "spec.ports[0].name", DNS_LABEL),
    "too long port name": ({"ports": ports(port(name="p" * 64))}, "spec.ports[0].name", "63"),
    "empty multi-port port[1] name": (
        {"ports": ports(port(80, name="http"), port(443))},
        ("spec.ports", "name"),
        "Required value",
    ),
    "dup port name": (
        {"ports": ports(port(80, name="http"), port(443, name="http"))},
        ("spec.ports", "name"),
        'Duplicate value: "http"',
    ),
    "invalid duplicate ports (with same protocol)": (
        {"ports": ports(port(80, name="a"), port(80, name="b"))},
        "spec.ports[1]",
        "Duplicate value",
    ),
    "invalid TargetPort int (negative)": (
        {"ports": ports(port(targetPort=-1))},
        "spec.ports[0].targetPort",
        PORT_RANGE,
    ),
    "invalid TargetPort int (65536)": (
        {"ports": ports(port(targetPort=65536))},
        "spec.ports[0].targetPort",
        PORT_RANGE,
    ),
    "TargetPort name too long": (
        {"ports": ports(port(targetPort="a-very-long-port"))},
        "spec.ports[0].targetPort",
        "must be no more than 15 characters",
    ),
    "TargetPort name with an underscore": (
        {"ports": ports(port(targetPort="web_http"))},
        "spec.ports[0].targetPort",
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
    ),
    "TargetPort name without a letter": (
        {"ports": ports(port(targetPort="8080"))},
        "spec.ports[0].targetPort",
        "must contain at least one letter (a-z)",
    ),
    "TargetPort name with consecutive hyphens": (
        {"ports": ports(port(targetPort="web--http"))},
        "spec.ports[0].targetPort",
        "must not contain consecutive hyphens",
    ),
    "TargetPort name beginning with a hyphen": (
        {"ports": ports(port(targetPort="-http"))},
        "spec.ports[0].targetPort",
        "must not begin or end with a hyphen",
    ),
    "invalid appProtocol": (
        {"ports": ports(port(appProtocol="not a protocol"))},
        "spec.ports[0].appProtocol",
        NAME_PART,
    ),
    # node ports
    "invalid cluster service with NodePort": (
        {"ports": ports(port(nodePort=30080))},
        ("spec.ports", "nodePort"),
        "may not be used when `type` is 'ClusterIP'",
    ),
    "invalid public service with duplicate NodePort": (
        {"type": "NodePort", "ports": ports(port(80, name="a", nodePort=30081), port(81, name="b", nodePort=30081))},
        ("spec.ports", "nodePort"),
        "",
    ),
    # type, cluster IPs and IP families
    "invalid type": ({"type": "Ingress"}, "spec.type", 'Unsupported value: "Ingress"'),
    "invalid node port with clusterIP None": (
        {"type": "NodePort", "clusterIP": "None"},
        "spec.clusterIP",
        "may not be set to 'None' for NodePort services",
    ),
    "LoadBalancer type cannot have None ClusterIP": (
        {"type": "LoadBalancer", "clusterIP": "None"},
        "spec.clusterIP",
        "may not be set to 'None' for LoadBalancer services",
    ),
    "invalid cluster ip": ({"clusterIP": "invalid"}, "spec.clusterIP", IP_MESSAGE),
    "invalid, garbage second ip": (
        {"clusterIP": CLUSTER_IP, "clusterIPs": [CLUSTER_IP, "garbage"], "ipFamilyPolicy": "PreferDualStack"},
        "spec.clusterIPs[1]",
        IP_MESSAGE,
    ),
    "invalid, NONE + IP": (
        {"clusterIP": "None", "clusterIPs": ["None", CLUSTER_IP], "ipFamilyPolicy": "PreferDualStack"},
        "spec.clusterIPs",
        "'None' must be the first and only value",
    ),
    "invalid, same ip family (v4)": (
        {"clusterIP": CLUSTER_IP, "clusterIPs": [CLUSTER_IP, "10.96.77.8"], "ipFamilyPolicy": "PreferDualStack"},
        "spec.clusterIPs",
        "may specify no more than one IP for each IP family",
    ),
    "invalid, more than two ips": (
        {"clusterIP": CLUSTER_IP, "clusterIPs": [CLUSTER_IP, "2001:db8::1", "10.96.77.8"]},
        "spec.clusterIPs",
        "",  # upstream "may only hold up to 2 values", the schema's maxItems "must have at most 2 items"
    ),
    "invalid cluster ip != clusterIP in single ip service": (
        {"clusterIP": CLUSTER_IP, "clusterIPs": ["10.96.77.8"]},
        "spec.clusterIPs",
        "first value must match `clusterIP`",
    ),
    "clusterIPs without clusterIP": (
        {"clusterIPs": [CLUSTER_IP]},
        "spec.clusterIPs",
        "must be empty when `clusterIP` is not specified",
    ),
    "invalid, families don't match (v4=>v6)": (
        {"clusterIP": CLUSTER_IP, "ipFamilies": ["IPv6"]},
        "spec.clusterIPs",
        "expected an IPv6 value as indicated by `ipFamilies[0]`",
    ),
    "invalid, service with invalid ipFamilies": (
        {"ipFamilies": ["IPv5"]},
        "spec.ipFamilies[0]",
        'Unsupported value: "IPv5"',
    ),
    "invalid, service with same ip families": (
        {"ipFamilies": ["IPv4", "IPv4"], "ipFamilyPolicy": "PreferDualStack"},
        "spec.ipFamilies",
        'Duplicate value: "IPv4"',
    ),
    "IPFamilyPolicy(singleStack) is set for two families": (
        {"ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "SingleStack"},
        "spec.ipFamilyPolicy",
        f"{DUAL_STACK} IP families are specified",
    ),
    "two families without a policy": (
        {"ipFamilies": ["IPv4", "IPv6"]},
        "spec.ipFamilyPolicy",
        f"{DUAL_STACK} IP families are specified",
    ),
    "invalid ipFamilyPolicy": (
        {"ipFamilyPolicy": "DualStack"},
        "spec.ipFamilyPolicy",
        'Unsupported value: "DualStack"',
    ),
    # session affinity
    "invalid session affinity": (
        {"sessionAffinity": "Sticky"},
        "spec.sessionAffinity",
        'Unsupported value: "Sticky": supported values: "ClientIP", "None"',
    ),
    "invalid timeoutSeconds field": (
        {"sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 0}}},
        "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
        "must be greater than 0 and less than 86400",
    ),
    "timeoutSeconds over a day": (
        {"sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 86401}}},
        "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
        "must be greater than 0 and less than 86400",
    ),
    # traffic policies and distribution
    "invalid externalTraffic field": (
        {"externalTrafficPolicy": "Local"},
        "spec.externalTrafficPolicy",
        "may only be set for externally-accessible services",
    ),
    "unsupported externalTrafficPolicy": (
        {"type": "NodePort", "externalTrafficPolicy": "Global"},
        "spec.externalTrafficPolicy",
        'Unsupported value: "Global": supported values: "Cluster", "Local"',
    ),
    "invalid internalTraffic field": (
        {"internalTrafficPolicy": "Node"},
        "spec.internalTrafficPolicy",
        'Unsupported value: "Node": supported values: "Cluster", "Local"',
    ),
    "invalid trafficDistribution": (
        {"trafficDistribution": "Nearby"},
        "spec.trafficDistribution",
        'Unsupported value: "Nearby"',
    ),
    # LoadBalancer-only fields
    "loadBalancerClass on a NodePort service": (
        {"type": "NodePort", "loadBalancerClass": "example.com/lb"},
        "spec.loadBalancerClass",
        ONLY_LOAD_BALANCER,
    ),
    "invalid loadBalancerClass": (
        {"type": "LoadBalancer", "loadBalancerClass": "example.com/not a class"},
        "spec.loadBalancerClass",
        NAME_PART,
    ),
    "invalid source range for non LoadBalancer type service": (
        {"loadBalancerSourceRanges": ["10.0.0.0/8"]},
        # upstream capitalises the field: spec.LoadBalancerSourceRanges
        "oadBalancerSourceRanges",
        ONLY_LOAD_BALANCER,
    ),
    "invalid LoadBalancer source range (invalid CIDR)": (
        {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/33"]},
        "oadBalancerSourceRanges[0]",
        "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
    ),
    "Use AllocateLoadBalancerNodePorts when type is not LoadBalancer": (
        {"type": "NodePort", "allocateLoadBalancerNodePorts": False},
        "spec.allocateLoadBalancerNodePorts",
        ONLY_LOAD_BALANCER,
    ),
    # selector and external IPs
    "invalid selector (key)": ({"selector": {"bad key": "web"}}, 'spec.selector: Invalid value: "bad key"', NAME_PART),
    "invalid selector (value)": (
        {"selector": {"app": "-web"}},
        "spec.selector",
        f'Invalid value: "-web": {LABEL_VALUE}',
    ),
    "invalid externalIPs (not an IP)": ({"externalIPs": ["host.example.com"]}, "spec.externalIPs[0]", IP_MESSAGE),
    "invalid externalIPs unspecified": (
        {"externalIPs": ["0.0.0.0"]},
        "spec.externalIPs[0]",
        "may not be unspecified (0.0.0.0)",
    ),
    "invalid externalIPs loopback": (
        {"externalIPs": ["127.0.0.1"]},
        "spec.externalIPs[0]",
        "may not be in the loopback range (127.0.0.0/8, ::1/128)",
    ),
    "invalid externalIPs link-local": (
        {"externalIPs": ["169.254.10.10"]},
        "spec.externalIPs[0]",
        "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
    ),
    "invalid externalIPs link-local multicast": (
        {"externalIPs": ["224.0.0.10"]},
        "spec.externalIPs[0]",
        "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
    ),
}


@pytest.mark.parametrize(("spec", "field", "message"), INVALID.values(), ids=INVALID.keys())
async def test_validate_service_create_refusals(
    kube: KubeClient, namespace: str, spec: dict[str, Any], field: str | tuple[str, ...], message: str
) -> None:
    """TestValidateServiceCreate's invalid cases: the Service is refused, and the MiniService too, about the
    same field and, where a CRD can say it, in upstream's words."""
    fields = (field,) if isinstance(field, str) else field
    for kind in KINDS:
        with pytest.raises(ApiError) as refused:
            await dry_run(kube, namespace, manifest(kind, **spec))
        assert refused.value.status == 422, f"{kind}: {refused.value}"
        for expected in (*fields, message):
            assert expected in refused.value.message, f"{kind}: {refused.value.message}"


# --- valid edge cases: accepted by both, defaulted alike -----------------------------------------------------

VALID: dict[str, dict[str, Any]] = {
    "default": {},
    "nil selector": {"selector": None},
    "missing ports but headless": {"clusterIP": "None", "ports": None},
    "valid port headless": {"clusterIP": "None"},
    "valid cluster ip - empty": {"clusterIP": ""},
    "valid, single ip": {"clusterIP": CLUSTER_IP},
    "valid, single ip + single family": {"clusterIP": CLUSTER_IP, "clusterIPs": [CLUSTER_IP], "ipFamilies": ["IPv4"]},
    "valid type=NodePort service with NodePort": {"type": "NodePort", "ports": ports(port(nodePort=30080))},
    "valid type=NodePort service without NodePort": {"type": "NodePort"},
    "duplicate nodeports (different protocols)": {
        "type": "NodePort",
        "ports": ports(port(53, name="dns", nodePort=30053), port(53, name="dns-udp", protocol="UDP", nodePort=30053)),
    },
    "valid duplicate ports (with different protocols)": {
        "ports": ports(port(53, name="dns"), port(53, name="dns-udp", protocol="UDP"))
    },
    "named targetPort": {"ports": ports(port(targetPort="http"))},
    "TargetPort name of 15 characters": {"ports": ports(port(targetPort="a-long-name-123"))},
    "TargetPort 0 (the service port)": {"ports": ports(port(targetPort=0))},
    "TargetPort omitted": {"ports": ports(port())},
    "appProtocol": {"ports": ports(port(appProtocol="kubernetes.io/h2c"))},
    "valid type loadbalancer 2 ports": {
        "type": "LoadBalancer",
        "ports": ports(port(80, name="http"), port(443, name="https", appProtocol="https")),
    },
    "valid type - loadbalancer with allocateLoadBalancerNodePorts=false": {
        "type": "LoadBalancer",
        "allocateLoadBalancerNodePorts": False,
    },
    "valid LoadBalancer source range with whitespace": {
        "type": "LoadBalancer",
        "loadBalancerSourceRanges": ["  10.0.0.0/8  ", "2001:db8::/64"],
        "loadBalancerClass": "example.com/internal-vip",
    },
    "valid externalIPs": {"externalIPs": ["203.0.113.10", "2001:db8::10"]},
    "externalTrafficPolicy Local with externalIPs": {"externalIPs": ["203.0.113.10"], "externalTrafficPolicy": "Local"},
    "externalTrafficPolicy Local on a LoadBalancer": {"type": "LoadBalancer", "externalTrafficPolicy": "Local"},
    "internalTrafficPolicy field set to Local": {"internalTrafficPolicy": "Local"},
    "client IP affinity, default timeout": {"sessionAffinity": "ClientIP"},
    "client IP affinity, a day": {
        "sessionAffinity": "ClientIP",
        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 86400}},
    },
    "valid, headless-no-selector + multi family": {
        "selector": None,
        "clusterIP": "None",
        "ipFamilies": ["IPv4", "IPv6"],
    },
    "publishNotReadyAddresses": {"clusterIP": "None", "publishNotReadyAddresses": True},
    "trafficDistribution PreferSameNode": {"trafficDistribution": "PreferSameNode"},
    "trafficDistribution PreferClose": {"trafficDistribution": "PreferClose"},
}

DEFAULTED = ("type", "sessionAffinity", "internalTrafficPolicy")


@pytest.mark.parametrize("spec", VALID.values(), ids=VALID.keys())
async def test_validate_service_create_accepts(kube: KubeClient, namespace: str, spec: dict[str, Any]) -> None:
    """TestValidateServiceCreate's valid cases: both accepted, with SetDefaults_Service's unconditional
    defaults (type, sessionAffinity, internalTrafficPolicy, each port's protocol)."""
    service = (await dry_run(kube, namespace, manifest("Service", **spec)))["spec"]
    mini = (await dry_run(kube, namespace, manifest("MiniService", **spec)))["spec"]
    assert {key: mini[key] for key in DEFAULTED} == {key: service[key] for key in DEFAULTED}
    protocols = [(p["port"], p["protocol"]) for p in service.get("ports", [])]
    assert [(p["port"], p["protocol"]) for p in mini.get("ports", [])] == protocols


async def test_minimal_miniservice_reads_back_with_a_minimal_services_defaults(
    kube: KubeClient, namespace: str
) -> None:
    """The spec a kubectl user reads back: the Service's own fields as written plus its defaults. The fields the
    API server allocates (clusterIP(s), ipFamilies, ipFamilyPolicy) and the defaults that depend on other fields
    (targetPort = port) are the controller's to apply: they show on the Service it writes, and in the
    MiniService's status."""
    service = (await dry_run(kube, namespace, manifest("Service", ports=ports(port()))))["spec"]
    mini = (await dry_run(kube, namespace, manifest("MiniService", ports=ports(port()))))["spec"]
    allocated = {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"}
    assert allocated <= service.keys() and not allocated & mini.keys()
    assert service["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert mini == {
        "selector": {"app": "web"},
        "ports": [{"port": 80, "protocol": "TCP"}],
        "type": "ClusterIP",
        "sessionAffinity": "None",
        "internalTrafficPolicy": "Cluster",
    }
    assert {key: service[key] for key in mini if key != "ports"} == {key: mini[key] for key in mini if key != "ports"}


# --- where a CRD cannot follow upstream ----------------------------------------------------------------------


async def test_external_name_is_not_supported(kube: KubeClient, namespace: str) -> None:
    """A Service may be an ExternalName alias; a MiniService may not (its type enum leaves it out)."""
    spec: dict[str, Any] = {"type": "ExternalName", "externalName": "db.example.com", "selector": None, "ports": None}
    accepted = await dry_run(kube, namespace, manifest("Service", **spec))
    assert accepted["spec"]["type"] == "ExternalName"
    with pytest.raises(ApiError) as refused:
        await dry_run(kube, namespace, manifest("MiniService", **spec))
    assert refused.value.status == 422
    assert 'spec.type: Unsupported value: "ExternalName"' in refused.value.message


@pytest.mark.parametrize("node_port", [70000, -1])
async def test_node_port_outside_any_range_is_refused(kube: KubeClient, namespace: str, node_port: int) -> None:
    """Upstream refuses it in its node port allocator, which a dry run skips (the dry run accepts it): so both
    objects are created for real. The MiniService's schema allows 0 to 65535, the Service's allocator only its
    range (30000-32767 by default), and both name the port."""
    for kind in KINDS:
        body = manifest(kind, type="NodePort", ports=ports(port(nodePort=node_port)))
        with pytest.raises(ApiError) as refused:
            await kube.create(collection(kind, namespace), body)
        assert refused.value.status == 422, f"{kind}: {refused.value}"
        assert f"spec.ports[0].nodePort: Invalid value: {node_port}" in refused.value.message, refused.value.message


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"type": "NodePort", "ports": ports(port(nodePort=80))}, "spec.ports[0].nodePort"),
        ({"clusterIP": "192.168.77.7"}, "spec.clusterIPs"),
        ({"ipFamilies": ["IPv6"]}, "spec.ipFamilies[0]"),
        ({"ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "PreferDualStack"}, "spec.ipFamilies[1]"),
    ],
    ids=[
        "nodePort outside the node port range",
        "clusterIP outside the service CIDR",
        "IP family not served",
        "valid, IPFamilyPolicy(preferDualStack) is set for two families (note: alloc sets families)",
    ],
)
async def test_allocation_ranges_are_the_api_servers_own(
    kube: KubeClient, namespace: str, spec: dict[str, Any], field: str
) -> None:
    """Ranges and families are flags of the API server (--service-node-port-range, --service-cluster-ip-range,
    a single-stack IPv4 cluster here): its Service allocator refuses what they exclude, a CRD schema cannot see
    them. Such a MiniService is accepted, and its controller reports the API server's refusal of the Service
    (ServiceSynced False). Created for real, since a dry run skips the node port allocator."""
    with pytest.raises(ApiError) as refused:
        await kube.create(collection("Service", namespace), manifest("Service", **spec))
    assert refused.value.status == 422 and field in refused.value.message, refused.value.message
    created = await kube.create(collection("MiniService", namespace), manifest("MiniService", **spec))
    written = {
        key: [{"protocol": "TCP"} | p for p in value] if key == "ports" else value for key, value in spec.items()
    }
    assert {key: created["spec"][key] for key in spec} == written


async def test_the_crds_bounds_fit_the_cel_cost_budget(kube: KubeClient, namespace: str) -> None:
    """MAX_PORTS, MAX_EXTERNAL_IPS, MAX_SOURCE_RANGES and meta's MAX_LABELS, all at once, with long names: the
    API server evaluates every rule within its runtime cost budget and accepts the MiniService, as it does the
    Service. One port more is the CRD's own bound (upstream has none)."""
    long = "x" * 50
    spec: dict[str, Any] = {
        "type": "LoadBalancer",
        "selector": {f"k{i}.example.com/{long}": long for i in range(MAX_LABELS)},
        "ports": [{"name": f"p{i}-{long}", "port": 1000 + i, "targetPort": f"t{i}"} for i in range(MAX_PORTS)],
        "externalIPs": [f"203.0.113.{i % 250 + 1}" for i in range(MAX_EXTERNAL_IPS)],
        "loadBalancerSourceRanges": [f"  10.{i}.0.0/16  " for i in range(MAX_SOURCE_RANGES)],
    }
    for kind in KINDS:
        accepted = await dry_run(kube, namespace, manifest(kind, **spec))
        assert len(accepted["spec"]["ports"]) == MAX_PORTS, kind
    one_more: dict[str, Any] = spec | {"ports": [*spec["ports"], {"name": "one-more", "port": 80}]}
    assert (await dry_run(kube, namespace, manifest("Service", **one_more)))["spec"]["ports"][-1]["port"] == 80
    with pytest.raises(ApiError) as refused:
        await dry_run(kube, namespace, manifest("MiniService", **one_more))
    assert f"spec.ports: Too many: {MAX_PORTS + 1}: must have at most {MAX_PORTS} items" in refused.value.message


async def test_session_affinity_config_with_none_is_dropped_not_refused(kube: KubeClient, namespace: str) -> None:
    """ "sessionAffinityConfig can't be set when session affinity is None" in ValidateService never fires for v1:
    SetDefaults_Service drops the config first. So both accept it; a CRD cannot drop a field, so the
    MiniService keeps it, and its controller ignores it (as its schema description says)."""
    spec: dict[str, Any] = {"sessionAffinity": "None", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}}
    service = (await dry_run(kube, namespace, manifest("Service", **spec)))["spec"]
    mini = (await dry_run(kube, namespace, manifest("MiniService", **spec)))["spec"]
    assert "sessionAffinityConfig" not in service
    assert mini["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 60}}


# --- updates ---------------------------------------------------------------------------------------------


async def test_load_balancer_class_may_not_change_once_set(kube: KubeClient, namespace: str) -> None:
    """TestValidateServiceUpdate ("update LoadBalancer type of service with a different loadBalancerClass"):
    refused with "may not change once set" for both; other changes go through."""
    for kind in KINDS:
        path = f"{collection(kind, namespace)}/lb"
        body = manifest(kind, name="lb", type="LoadBalancer", loadBalancerClass="example.com/a")
        await kube.create(collection(kind, namespace), body)
        with pytest.raises(ApiError) as refused:
            await kube.patch(path, {"spec": {"loadBalancerClass": "example.com/b"}})
        assert refused.value.status == 422, kind
        assert "spec.loadBalancerClass" in refused.value.message, refused.value.message
        assert "may not change once set" in refused.value.message, refused.value.message
        patched = await kube.patch(path, {"spec": {"sessionAffinity": "ClientIP"}})
        assert patched["spec"]["loadBalancerClass"] == "example.com/a"


# --- kubectl: columns, explain --------------------------------------------------------------------------------


def apply(cluster: Cluster, namespace: str, body: dict[str, Any]) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(body))


def header(cluster: Cluster, namespace: str, *args: str) -> list[str]:
    return cluster.kubectl("get", *args, "-n", namespace).stdout.splitlines()[0].split()


def test_kubectl_get_prints_the_service_columns(cluster: Cluster, namespace: str) -> None:
    """`kubectl get msvc` prints `kubectl get svc`'s header plus ENDPOINTS, and -o wide adds SELECTOR as for
    a Service (no controller runs here, so the status columns are empty; the headers are the point)."""
    for kind in KINDS:
        apply(cluster, namespace, manifest(kind, name="columns"))
    service = header(cluster, namespace, "svc")
    assert service == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert header(cluster, namespace, "msvc") == [*service[:-1], "ENDPOINTS", "AGE"]
    wide = header(cluster, namespace, "msvc", "-o", "wide")
    assert wide == [*service[:-1], "ENDPOINTS", "AGE", "SELECTOR"]
    assert header(cluster, namespace, "svc", "-o", "wide") == [*service, "SELECTOR"]


def test_kubectl_explain_teaches_the_target_port(cluster: Cluster) -> None:
    explained = cluster.kubectl("explain", "miniservice.spec.ports.targetPort").stdout
    assert "KIND:       MiniService" in explained
    assert "Number or name of the port to access on the pods targeted by the service." in explained
    assert "Name must be an IANA_SVC_NAME." in explained
    spec = cluster.kubectl("explain", "msvc.spec.type").stdout
    assert "ENUM:\n    ClusterIP\n    LoadBalancer\n    NodePort\n" in spec
    assert "ExternalName" in spec and "not supported" in spec
