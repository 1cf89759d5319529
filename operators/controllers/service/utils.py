"""From pods to endpoints (k8s.io/endpointslice utils.go, util/controller_utils.go, trafficdist): pure functions.

Which pods are endpoints (ES-03), their conditions (ES-04), addresses, topology and hostname (ES-05), the
ports each pod resolves a Service's ports to (ES-06), the address types of a Service (ES-07), the metadata
of a new slice (ES-08), and the topology hints of `trafficDistribution` (ES-12).
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from operators.controllers.service.model import ServicePort, ServiceView
from operators.controllers.service.slices import (
    ADDRESS_TYPE_IPV4,
    ADDRESS_TYPE_IPV6,
    Endpoint,
    EndpointConditions,
    EndpointHints,
    EndpointPort,
    EndpointSlice,
    ObjectReference,
)
from operators.kube.objects import Node, OwnerReference, Pod

__all__ = [
    "HEADLESS_LABEL",
    "LAST_CHANGE_TRIGGER_TIME",
    "MANAGED_BY_LABEL",
    "SERVICE_NAME_LABEL",
    "TOPOLOGY_MODE_ANNOTATION",
    "address_types_for_service",
    "find_port",
    "get_endpoint_ports",
    "get_slice_to_fill",
    "hints_enabled",
    "new_endpoint_slice",
    "owned_by",
    "pod_endpoints_changed",
    "pod_to_endpoint",
    "reconcile_traffic_hints",
    "remove_hints",
    "set_endpoint_slice_labels",
    "should_pod_be_in_endpoints",
    "with_trigger_time",
]

SERVICE_NAME_LABEL = "kubernetes.io/service-name"  # discovery.LabelServiceName
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"  # discovery.LabelManagedBy
HEADLESS_LABEL = "service.kubernetes.io/headless"  # v1.IsHeadlessService
LAST_CHANGE_TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"  # v1.EndpointsLastChangeTriggerTime
TOPOLOGY_MODE_ANNOTATION = "service.kubernetes.io/topology-mode"  # v1.AnnotationTopologyMode
TOPOLOGY_AWARE_HINTS_ANNOTATION = "service.kubernetes.io/topology-aware-hints"  # the deprecated spelling
_RESERVED_LABELS = frozenset({SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL})
_SLOPPY_IPV4 = re.compile(r"[0-9]+(\.[0-9]+){3}")  # dotted quads, leading zeros allowed
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


# --- which pods, and what they become (ES-03..ES-05) ---------------------------------------------------------


def should_pod_be_in_endpoints(pod: Pod, include_terminating: bool = True) -> bool:
    """ShouldPodBeInEndpoints (ES-03): not terminal (Succeeded/Failed), has an IP; terminating ones if asked."""
    if pod.phase in ("Succeeded", "Failed"):
        return False
    if not pod.pod_ips:
        return False
    return include_terminating or pod.deletion_timestamp is None


# --8<-- [start:pod-to-endpoint]
def pod_to_endpoint(pod: Pod, node: Node | None, service: ServiceView, address_type: str) -> Endpoint:
    """podToEndpoint (ES-04, ES-05): ready = publishNotReadyAddresses || (serving && !terminating)."""
    serving = pod.ready
    terminating = pod.deletion_timestamp is not None
    ready = service.spec.publish_not_ready_addresses or (serving and not terminating)
    zone = node.zone if node is not None else ""
    return Endpoint(
        addresses=_endpoint_addresses(pod, address_type),
        conditions=EndpointConditions(ready=ready, serving=serving, terminating=terminating),
        hostname=pod.hostname if _should_set_hostname(pod, service) else None,
        target_ref=ObjectReference("Pod", pod.namespace, pod.name, pod.uid),
        node_name=pod.node_name or None,
        zone=zone or None,
    )


# --8<-- [end:pod-to-endpoint]


def _should_set_hostname(pod: Pod, service: ServiceView) -> bool:
    """ShouldSetHostname: the pod names a hostname, and the Service is its subdomain."""
    return bool(pod.hostname) and pod.subdomain == service.name and pod.namespace == service.namespace


def _address_type(ip: str) -> str:
    try:
        return ADDRESS_TYPE_IPV6 if ipaddress.ip_address(ip).version == 6 else ADDRESS_TYPE_IPV4
    except ValueError:
        return ADDRESS_TYPE_IPV6 if ":" in ip else ADDRESS_TYPE_IPV4  # utilnet.IsIPv6String: only ":" decides


def _endpoint_addresses(pod: Pod, address_type: str) -> tuple[str, ...]:
    """getEndpointAddresses: the pod IPs of one family, re-stringified as Go prints them (ES-05)."""
    addresses: list[str] = []
    for raw in pod.pod_ips:
        family, text = _parse_ip_sloppy(raw)
        if family == address_type:
            addresses.append(text)
    return tuple(addresses)


@functools.lru_cache(maxsize=65536)
def _parse_ip_sloppy(ip: str) -> tuple[str, str]:
    """utilnet.ParseIPSloppy, then IsIPv6 and String(): `1234::5678:0000:0000:9abc:def0` is written
    `1234::5678:0:0:9abc:def0`, leading zeros of IPv4 octets are dropped, and an IPv4-mapped IPv6
    address is IPv4. An address that does not parse is kept as it is, in the IPv4 family."""
    if _SLOPPY_IPV4.fullmatch(ip) and all(int(octet) <= 255 for octet in ip.split(".")):
        return ADDRESS_TYPE_IPV4, ".".join(str(int(octet)) for octet in ip.split("."))
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return ADDRESS_TYPE_IPV4, ip  # Go would print "<nil>"; the API server never stores such a pod IP
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return ADDRESS_TYPE_IPV4, str(parsed.ipv4_mapped)
        return ADDRESS_TYPE_IPV6, parsed.compressed
    return ADDRESS_TYPE_IPV4, str(parsed)


def pod_endpoints_changed(old: Pod, new: Pod) -> tuple[bool, bool]:
    """podEndpointsChanged: (did what the pod's endpoint shows change, did which Services select it change).

    A change of hostname or subdomain counts as a label change, as upstream (hostNameAndDomainAreEqual).
    The node name is not compared: it is set before the pod has an IP, so before it is an endpoint. Beyond
    upstream, becoming terminal (Succeeded/Failed) is a change too: ES-03 drops the pod then.
    """
    labels_changed = (
        dict(old.labels) != dict(new.labels) or old.hostname != new.hostname or old.subdomain != new.subdomain
    )
    changed = (
        old.deletion_timestamp != new.deletion_timestamp
        or old.ready != new.ready
        or old.pod_ips != new.pod_ips
        or (old.phase in ("Succeeded", "Failed")) != (new.phase in ("Succeeded", "Failed"))
    )
    return changed, labels_changed


# --- ports (ES-06) ----------------------------------------------------------------------------------------------


# --8<-- [start:find-port]
def find_port(pod: Pod, service_port: ServicePort) -> int | None:
    """findPort: a numeric targetPort as is; a named one is the first container port with that name and
    protocol, then the sidecars' (restartable init containers). None when the pod has no such port."""
    target = service_port.effective_target_port
    if isinstance(target, int):
        return target
    for port in (*pod.ports, *pod.sidecar_ports):
        if port.name == target and port.protocol == service_port.protocol:
            return port.container_port
    return None


# --8<-- [end:find-port]


def get_endpoint_ports(service: ServiceView, pod: Pod) -> tuple[EndpointPort, ...]:
    """getEndpointPorts: one entry per Service port the pod resolves (a headless Service may have none)."""
    ports: list[EndpointPort] = []
    for service_port in service.spec.ports:
        number = find_port(pod, service_port)
        if number is None:
            continue  # "Failed to find port for service": the pod serves the other ports only
        ports.append(EndpointPort(service_port.name, number, service_port.protocol, service_port.app_protocol))
    return tuple(ports)


# --- address types (ES-07) --------------------------------------------------------------------------------------


def address_types_for_service(service: ServiceView) -> tuple[str, ...]:
    """getAddressTypesForService: from spec.ipFamilies; without them, the ClusterIP's family, or both."""
    families = {"IPv4": ADDRESS_TYPE_IPV4, "IPv6": ADDRESS_TYPE_IPV6}
    types = tuple(dict.fromkeys(families[f] for f in service.spec.ip_families if f in families))
    if types:
        return types
    if service.spec.ip_set:
        return (_address_type(service.spec.cluster_ip),)
    return (ADDRESS_TYPE_IPV4, ADDRESS_TYPE_IPV6)


# --- slices (ES-08) ---------------------------------------------------------------------------------------------


def new_endpoint_slice(
    service: ServiceView, ports: tuple[EndpointPort, ...], address_type: str, controller_name: str
) -> EndpointSlice:
    """newEndpointSlice: generateName `<service>-`, controlled by the Service, the Service's labels (ES-08)."""
    slice_ = EndpointSlice(
        namespace=service.namespace,
        generate_name=_endpoint_slice_prefix(service.name),
        owner_references=(OwnerReference("v1", "Service", service.name, service.uid, True, True),),
        address_type=address_type,
        ports=ports,
    )
    labels, _ = set_endpoint_slice_labels(slice_, service, controller_name)
    return replace(slice_, labels=labels)


def _endpoint_slice_prefix(service_name: str) -> str:
    """getEndpointSlicePrefix: `<name>-` unless that is no longer a valid name prefix."""
    prefix = f"{service_name}-"
    if len(prefix) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(prefix + "a"):
        return service_name
    return prefix


def owned_by(slice_: EndpointSlice, service: ServiceView) -> bool:
    """ownedBy: the slice has an owner reference to this Service (same UID: not a deleted namesake)."""
    return any(
        ref.uid == service.uid and ref.kind == "Service" and ref.api_version == "v1" for ref in slice_.owner_references
    )


def set_endpoint_slice_labels(
    slice_: EndpointSlice, service: ServiceView, controller_name: str
) -> tuple[dict[str, str], bool]:
    """setEndpointSliceLabels: the Service's labels plus the reserved ones; True when the non-reserved differ."""
    slice_labels = {k: v for k, v in slice_.labels.items() if k not in _RESERVED_LABELS}
    labels = {k: v for k, v in service.labels.items() if k not in _RESERVED_LABELS}
    updated = slice_labels != labels
    if not service.spec.ip_set:
        labels[HEADLESS_LABEL] = ""
    labels[SERVICE_NAME_LABEL] = service.name
    labels[MANAGED_BY_LABEL] = controller_name
    return labels, updated


def get_slice_to_fill(slices: Iterable[EndpointSlice], num_endpoints: int, max_endpoints: int) -> EndpointSlice | None:
    """getSliceToFill: the slice that ends up closest to full with `num_endpoints` more, if any has room."""
    closest_diff = max_endpoints
    closest: EndpointSlice | None = None
    for slice_ in slices:
        diff = max_endpoints - (num_endpoints + len(slice_.endpoints))
        if 0 <= diff < closest_diff:
            closest_diff, closest = diff, slice_
            if closest_diff == 0:
                return closest
    return closest


def with_trigger_time(slice_: EndpointSlice, trigger_time: datetime.datetime | None) -> EndpointSlice:
    """addTriggerTimeAnnotation: stamp the last-change-trigger-time, or clear it when there is none."""
    annotations = dict(slice_.annotations)
    if trigger_time is not None:
        annotations[LAST_CHANGE_TRIGGER_TIME] = _rfc3339_nano(trigger_time)
    else:
        annotations.pop(LAST_CHANGE_TRIGGER_TIME, None)
    return replace(slice_, annotations=annotations)


def _rfc3339_nano(value: datetime.datetime) -> str:
    """time.RFC3339Nano in UTC: fractional seconds without trailing zeros, none when whole."""
    value = value.astimezone(datetime.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


# --- topology hints (ES-12) -------------------------------------------------------------------------------------


def hints_enabled(annotations: Mapping[str, str]) -> bool:
    """hintsEnabled: topology-aware-hints (deprecated, wins) or topology-mode set to Auto."""
    value = annotations.get(TOPOLOGY_AWARE_HINTS_ANNOTATION, annotations.get(TOPOLOGY_MODE_ANNOTATION))
    return value in ("Auto", "auto")


def _wanted_hints(endpoint: Endpoint, traffic_distribution: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """preferCloseHeuristic: a ready endpoint is hinted for its own zone (and, for PreferSameNode, its node)."""
    zones = (endpoint.zone,) if endpoint.zone is not None else ()
    nodes = (endpoint.node_name,) if endpoint.node_name is not None and traffic_distribution == "PreferSameNode" else ()
    return zones, nodes


def _hints_of(endpoint: Endpoint) -> tuple[tuple[str, ...], tuple[str, ...]]:
    hints = endpoint.hints
    return (hints.for_zones, hints.for_nodes) if hints is not None else ((), ())


def reconcile_traffic_hints(
    traffic_distribution: str,
    to_create: list[EndpointSlice],
    to_update: list[EndpointSlice],
    unchanged: list[EndpointSlice],
) -> tuple[list[EndpointSlice], list[EndpointSlice]]:
    """trafficdist.ReconcileHints: hints on every slice written, and on unchanged slices whose hints are wrong.

    Only ready endpoints are looked at (endpointReady): a not-ready endpoint keeps the hints it has.
    """

    def ready(endpoint: Endpoint) -> bool:
        return endpoint.conditions.ready is True

    def needs_update(slice_: EndpointSlice) -> bool:
        return any(ready(e) and _hints_of(e) != _wanted_hints(e, traffic_distribution) for e in slice_.endpoints)

    def hinted(endpoint: Endpoint) -> Endpoint:
        if not ready(endpoint):
            return endpoint
        zones, nodes = _wanted_hints(endpoint, traffic_distribution)
        return replace(endpoint, hints=EndpointHints(zones, nodes) if zones or nodes else None)

    def update(slice_: EndpointSlice) -> EndpointSlice:
        return slice_.with_endpoints(hinted(e) for e in slice_.endpoints)

    stale = [s for s in unchanged if needs_update(s)]
    return [update(s) for s in to_create], [update(s) for s in [*to_update, *stale]]


def remove_hints(
    to_create: list[EndpointSlice], to_update: list[EndpointSlice], unchanged: list[EndpointSlice]
) -> tuple[list[EndpointSlice], list[EndpointSlice]]:
    """topologycache.RemoveHintsFromSlices: no hints on slices written; unchanged slices with hints are updated."""

    def bare(slice_: EndpointSlice) -> EndpointSlice:
        if all(e.hints is None for e in slice_.endpoints):
            return slice_  # the usual case: nothing to take off
        return slice_.with_endpoints(e if e.hints is None else replace(e, hints=None) for e in slice_.endpoints)

    hinted = [s for s in unchanged if any(e.hints is not None for e in s.endpoints)]
    return [bare(s) for s in to_create], [bare(s) for s in [*to_update, *hinted]]
