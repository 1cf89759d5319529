"""Parse and validate Kubernetes objects (dicts) into the engine's typed snapshot, as the API server would."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from operators.kube.objects import Pod
from operators.kube.selectors import InvalidSelectorError, LabelSelector
from operators.networkpolicy.errors import PolicyError
from operators.networkpolicy.model import (
    PROTOCOLS,
    Direction,
    IPAddress,
    IPBlock,
    IPNetwork,
    Namespace,
    Node,
    Peer,
    Policy,
    PolicyPort,
    Protocol,
    Rule,
    Snapshot,
)

__all__ = [
    "POLICY_KINDS",
    "parse_namespace",
    "parse_node",
    "parse_objects",
    "parse_pod",
    "parse_policy",
]

# The policy kinds the engine accepts: the native API and this project's CRD, which has the same spec shape.
POLICY_KINDS: Mapping[str, str] = {
    "NetworkPolicy": "networking.k8s.io/v1",
    "MiniNetworkPolicy": "minik8s.dev/v1",
}
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class _Where:
    """The object being parsed, so that every error can name it."""

    kind: str
    name: str
    namespace: str = ""

    def error(self, field: str, message: str) -> PolicyError:
        return PolicyError(message, kind=self.kind, name=self.name, namespace=self.namespace, field=field)


# ---------------------------------------------------------------------------------------------- bundle


def parse_objects(documents: Iterable[Any], *, default_namespace: str = "default") -> Snapshot:
    """Build a snapshot from Namespace, Pod, Node, NetworkPolicy and MiniNetworkPolicy objects.

    Other kinds (Deployments, Services, ...) are ignored, `kind: List` is expanded, and a namespace that
    pods or policies use without declaring it is created with only its automatic name label (NP-09).
    """
    namespaces: dict[str, Namespace] = {}
    pods: dict[str, Pod] = {}
    nodes: dict[str, Node] = {}
    policies: dict[tuple[str, str, str], Policy] = {}
    for index, obj in enumerate(_expand_lists(documents)):
        kind = _kind_of(obj, index)
        if kind == "Namespace":
            _add_unique(namespaces, parse_namespace(obj), lambda ns: ns.name, kind)
        elif kind == "Pod":
            _add_unique(pods, parse_pod(obj, default_namespace=default_namespace), lambda p: p.key, kind)
        elif kind == "Node":
            _add_unique(nodes, parse_node(obj), lambda n: n.name, kind)
        elif kind in POLICY_KINDS:
            policy = parse_policy(obj, default_namespace=default_namespace)
            _add_unique(policies, policy, lambda p: (p.kind, p.namespace, p.name), kind)
    _check_unique_pod_ips(pods.values())
    for used in [*(p.namespace for p in pods.values()), *(p.namespace for p in policies.values())]:
        namespaces.setdefault(used, Namespace(name=used))
    return Snapshot(
        namespaces=tuple(namespaces.values()),
        pods=tuple(pods.values()),
        nodes=tuple(nodes.values()),
        policies=tuple(policies.values()),
    )


def _expand_lists(documents: Iterable[Any]) -> Iterator[Any]:
    for document in documents:
        if document is None:  # an empty YAML document (`---` twice)
            continue
        if isinstance(document, Mapping) and document.get("kind") == "List":
            yield from _expand_lists(document.get("items") or ())
        else:
            yield document


def _kind_of(obj: Any, index: int) -> str:
    if not isinstance(obj, Mapping) or not isinstance(obj.get("kind"), str):
        raise PolicyError("not a Kubernetes object (a mapping with a `kind`)", kind="document", name=str(index))
    return cast(str, obj["kind"])


def _add_unique(table: dict[_K, _V], value: _V, key_of: Callable[[_V], _K], kind: str) -> None:
    key = key_of(value)
    if key in table:
        name = key if isinstance(key, str) else "/".join(str(part) for part in key[1:])  # type: ignore[index]
        raise PolicyError("defined twice in the bundle", kind=kind, name=name)
    table[key] = value


def _check_unique_pod_ips(pods: Iterable[Pod]) -> None:
    owner: dict[str, str] = {}
    for pod in pods:
        ip = pod.pod_ips[0]
        if ip in owner:
            where = _Where("Pod", pod.name, pod.namespace)
            raise where.error("status.podIP", f"IP {ip} is already the IP of pod {owner[ip]}")
        owner[ip] = pod.key


# ---------------------------------------------------------------------------------------------- objects


def _metadata(obj: Mapping[str, Any], kind: str, *, namespaced: bool, default_namespace: str) -> _Where:
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        raise PolicyError("required: an object with a name", kind=kind, name="?", field="metadata")
    name = metadata.get("name")
    namespace = (metadata.get("namespace") or default_namespace) if namespaced else ""
    if not isinstance(name, str) or not name:
        raise PolicyError("required: a non-empty string", kind=kind, name="?", field="metadata.name")
    if not isinstance(namespace, str):
        raise PolicyError("must be a string", kind=kind, name=name, field="metadata.namespace")
    return _Where(kind, name, namespace)


def _labels(value: Any, where: _Where, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise where.error(field, "must be a map of strings to strings")
    return dict(value)


def parse_namespace(obj: Mapping[str, Any]) -> Namespace:
    where = _metadata(obj, "Namespace", namespaced=False, default_namespace="")
    labels = _labels(obj["metadata"].get("labels"), where, "metadata.labels")
    return Namespace(name=where.name, labels=labels)


def parse_node(obj: Mapping[str, Any]) -> Node:
    """A node's IP addresses come from status.addresses (InternalIP, ExternalIP; hostnames are skipped)."""
    where = _metadata(obj, "Node", namespaced=False, default_namespace="")
    addresses: list[IPAddress] = []
    for index, entry in enumerate((obj.get("status") or {}).get("addresses") or ()):
        if not isinstance(entry, Mapping) or entry.get("type") not in ("InternalIP", "ExternalIP"):
            continue
        addresses.append(_ip(entry.get("address"), where, f"status.addresses[{index}].address"))
    return Node(name=where.name, addresses=tuple(addresses))


def parse_pod(obj: Mapping[str, Any], *, default_namespace: str = "default") -> Pod:
    """Validate the fields the engine reads (IP, labels, container ports) and build the shared Pod view."""
    where = _metadata(obj, "Pod", namespaced=True, default_namespace=default_namespace)
    _labels(obj["metadata"].get("labels"), where, "metadata.labels")
    status = obj.get("status") or {}
    ips = [entry.get("ip") for entry in status.get("podIPs") or () if isinstance(entry, Mapping)]
    primary = status.get("podIP") or (ips[0] if ips else None)
    if not primary:
        raise where.error("status.podIP", "required: the engine needs every pod's IP (is the pod running?)")
    _ip(primary, where, "status.podIP")
    for index, ip in enumerate(ips):
        _ip(ip, where, f"status.podIPs[{index}].ip")
    if ips and ips[0] != primary:
        raise where.error("status.podIPs[0].ip", f"must equal status.podIP {primary!r}, not {ips[0]!r}")
    spec = obj.get("spec") or {}
    for c_index, container in enumerate(spec.get("containers") or ()):
        for p_index, port in enumerate(container.get("ports") or ()):
            _container_port(port, where, f"spec.containers[{c_index}].ports[{p_index}]")
    return Pod.from_dict({**obj, "metadata": {**obj["metadata"], "namespace": where.namespace}})


def _container_port(port: Any, where: _Where, field: str) -> None:
    if not isinstance(port, Mapping):
        raise where.error(field, "must be an object")
    number = port.get("containerPort")
    if not _is_port_number(number):
        raise where.error(f"{field}.containerPort", f"must be a port number between 1 and 65535, not {number!r}")
    _protocol(port.get("protocol"), where, f"{field}.protocol")
    name = port.get("name")
    if name is not None and not (isinstance(name, str) and _port_name_problem(name) is None):
        raise where.error(f"{field}.name", f"{name!r} is not a valid port name")


# ---------------------------------------------------------------------------------------------- policies


def parse_policy(obj: Mapping[str, Any], *, default_namespace: str = "default") -> Policy:
    """Validate a NetworkPolicy / MiniNetworkPolicy as the API server does, then default policyTypes (NP-02)."""
    kind = str(obj.get("kind") or "NetworkPolicy")
    where = _metadata(obj, kind, namespaced=True, default_namespace=default_namespace)
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        raise where.error("spec", "required: an object")
    if "podSelector" not in spec or spec["podSelector"] is None:
        raise where.error("spec.podSelector", "required (use {} to select every pod in the namespace)")
    pod_selector = _selector(spec["podSelector"], where, "spec.podSelector")
    ingress = _rules(spec.get("ingress"), Direction.INGRESS, where)
    egress = _rules(spec.get("egress"), Direction.EGRESS, where)
    return Policy(
        kind=kind,
        namespace=where.namespace,
        name=where.name,
        pod_selector=pod_selector,
        policy_types=_policy_types(spec.get("policyTypes"), has_egress_rules=bool(egress), where=where),
        ingress=ingress,
        egress=egress,
    )


def _policy_types(value: Any, *, has_egress_rules: bool, where: _Where) -> frozenset[Direction]:
    # NP-02, pkg/apis/networking/v1/defaults.go: no policyTypes means Ingress, plus Egress if egress rules exist.
    if not value:
        return frozenset({Direction.INGRESS, Direction.EGRESS} if has_egress_rules else {Direction.INGRESS})
    if not isinstance(value, list):
        raise where.error("spec.policyTypes", "must be a list")
    if len(value) > 2:
        raise where.error("spec.policyTypes", "may not specify more than two policyTypes")
    types: set[Direction] = set()
    for index, item in enumerate(value):
        if item not in ("Ingress", "Egress"):
            raise where.error(f"spec.policyTypes[{index}]", f'unsupported value {item!r}: "Ingress" or "Egress"')
        types.add(Direction(item))
    return frozenset(types)


def _rules(value: Any, direction: Direction, where: _Where) -> tuple[Rule, ...]:
    field = f"spec.{direction.rules_field}"
    if value is None:
        return ()
    if not isinstance(value, list):
        raise where.error(field, "must be a list of rules")
    return tuple(_rule(rule, direction, where, f"{field}[{index}]") for index, rule in enumerate(value))


def _rule(value: Any, direction: Direction, where: _Where, field: str) -> Rule:
    if value is None:
        return Rule()
    if not isinstance(value, Mapping):
        raise where.error(field, "must be an object")
    ports = _list(value.get("ports"), where, f"{field}.ports")
    peers_field = direction.peers_field
    peers = _list(value.get(peers_field), where, f"{field}.{peers_field}")
    return Rule(
        ports=tuple(_port(port, where, f"{field}.ports[{index}]") for index, port in enumerate(ports)),
        peers=tuple(_peer(peer, where, f"{field}.{peers_field}[{index}]") for index, peer in enumerate(peers)),
    )


def _list(value: Any, where: _Where, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise where.error(field, "must be a list")
    return value


def _port(value: Any, where: _Where, field: str) -> PolicyPort:
    """ValidateNetworkPolicyPort, then the protocol default (NP-10)."""
    if not isinstance(value, Mapping):
        raise where.error(field, "must be an object")
    protocol = _protocol(value.get("protocol"), where, f"{field}.protocol")
    port, end_port = value.get("port"), value.get("endPort")
    if port is not None and not isinstance(port, str) and not _is_port_number(port):
        raise where.error(f"{field}.port", f"must be a port number between 1 and 65535 or a port name, not {port!r}")
    if isinstance(port, str) and (problem := _port_name_problem(port)) is not None:
        raise where.error(f"{field}.port", f"invalid port name {port!r}: {problem}")
    if end_port is not None:
        if port is None:
            raise where.error(f"{field}.endPort", "may not be specified when `port` is not specified")
        if isinstance(port, str):
            raise where.error(f"{field}.endPort", "may not be specified when `port` is non-numeric")
        if not _is_port_number(end_port):
            raise where.error(f"{field}.endPort", f"must be a port number between 1 and 65535, not {end_port!r}")
        if end_port < port:
            raise where.error(f"{field}.endPort", f"must be greater than or equal to `port` ({port}), not {end_port}")
    return PolicyPort(protocol=protocol, port=port, end_port=end_port)


def _protocol(value: Any, where: _Where, field: str) -> Protocol:
    if value is None:
        return "TCP"  # NP-10: SetDefaults_NetworkPolicyPort / the container port default
    if value not in PROTOCOLS:
        raise where.error(field, f"unsupported protocol {value!r}: must be one of {', '.join(PROTOCOLS)}")
    return cast(Protocol, value)


def _is_port_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def _port_name_problem(name: str) -> str | None:
    """validation.IsValidPortName (an IANA_SVC_NAME), or None when the name is valid."""
    if not 1 <= len(name) <= 15:
        return "must be 1 to 15 characters"
    if not _IANA_SVC_NAME.match(name) or "--" in name:
        return "must be lowercase alphanumerics and single hyphens, starting and ending alphanumeric"
    if not any(c.isalpha() for c in name):
        return "must contain at least one letter (a number must not be quoted)"
    return None


def _peer(value: Any, where: _Where, field: str) -> Peer:
    """ValidateNetworkPolicyPeer: at least one field, and ipBlock never together with a selector (NP-08)."""
    if not isinstance(value, Mapping):
        raise where.error(field, "must be an object")
    pod_selector = value.get("podSelector")
    namespace_selector = value.get("namespaceSelector")
    ip_block = value.get("ipBlock")
    if pod_selector is None and namespace_selector is None and ip_block is None:
        raise where.error(field, "must specify a peer: podSelector, namespaceSelector or ipBlock")
    if ip_block is not None and (pod_selector is not None or namespace_selector is not None):
        raise where.error(field, "may not specify both ipBlock and another peer")
    if ip_block is not None:
        return Peer(ip_block=_ip_block(ip_block, where, f"{field}.ipBlock"))
    return Peer(
        pod_selector=None if pod_selector is None else _selector(pod_selector, where, f"{field}.podSelector"),
        namespace_selector=(
            None if namespace_selector is None else _selector(namespace_selector, where, f"{field}.namespaceSelector")
        ),
    )


def _selector(value: Any, where: _Where, field: str) -> LabelSelector:
    try:
        return LabelSelector.parse(value)
    except InvalidSelectorError as error:
        raise where.error(field, str(error)) from None


def _ip_block(value: Any, where: _Where, field: str) -> IPBlock:
    """ValidateIPBlock: a valid cidr, and every except a strict subset of it."""
    if not isinstance(value, Mapping):
        raise where.error(field, "must be an object")
    cidr = _cidr(value.get("cidr"), where, f"{field}.cidr")
    excepts: list[IPNetwork] = []
    for index, raw in enumerate(_list(value.get("except"), where, f"{field}.except")):
        excluded = _cidr(raw, where, f"{field}.except[{index}]")
        if not _strict_subnet(excluded, cidr):
            raise where.error(f"{field}.except[{index}]", f"{raw!r} must be a strict subset of `cidr` {cidr}")
        excepts.append(excluded)
    return IPBlock(cidr=cidr, excepts=tuple(excepts))


def _strict_subnet(inner: IPNetwork, outer: IPNetwork) -> bool:
    if inner.version != outer.version or inner.prefixlen <= outer.prefixlen:
        return False
    return inner.network_address in outer


def _cidr(value: Any, where: _Where, field: str) -> IPNetwork:
    if not isinstance(value, str) or not value:
        raise where.error(field, "required: a CIDR such as 10.0.0.0/8")
    if "/" not in value:
        raise where.error(field, f"invalid CIDR {value!r}: the /prefix-length is missing")
    try:
        # strict=False: like Go's net.ParseCIDR, host bits may be set ("192.168.1.1/24" is the upstream example).
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise where.error(field, f"invalid CIDR {value!r}") from None


def _ip(value: Any, where: _Where, field: str) -> IPAddress:
    if not isinstance(value, str):
        raise where.error(field, f"must be an IP address, not {value!r}")
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise where.error(field, f"invalid IP address {value!r}") from None
