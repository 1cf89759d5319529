"""The EndpointSlice reconciler (k8s.io/endpointslice reconciler.go): pods and existing slices in, a plan out.

`reconcile()` is Reconcile, reconcileByAddressType, reconcileByPortMapping and the pure half of finalize:
it decides which slices to create, update and delete, and the glue performs those writes. The placement
minimises churn (ES-09): endpoints stay in the slice they are in; a slice whose endpoints changed is
updated, and filled up first with new endpoints, fullest first; what remains goes into the unchanged slice
that ends closest to full, else into new slices. A create is turned into an update of a slice that would
be deleted (ES-10); a Service without endpoints keeps one empty placeholder slice (ES-11).

Topology hints (ES-12) come last, per address type: `service.kubernetes.io/topology-mode: Auto` hints by the
CPU of each zone through a `TopologyCache` (topology.py) when the controller passes one; otherwise
`spec.trafficDistribution` hints every endpoint for its own zone; otherwise no endpoint has hints.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from operators.controllers.service.model import ServiceView
from operators.controllers.service.slices import (
    Endpoint,
    EndpointPort,
    EndpointSet,
    EndpointSlice,
    PortMapKey,
    endpoints_equal_beyond_hash,
    port_map_key,
)
from operators.controllers.service.topology import (
    DISABLED_REASON,
    TOPOLOGY_AWARE_HINTS_DISABLED,
    SliceInfo,
    TopologyCache,
    TopologyEvent,
    format_with_address_type,
)
from operators.controllers.service.utils import (
    address_types_for_service,
    get_endpoint_ports,
    get_slice_to_fill,
    hints_enabled,
    new_endpoint_slice,
    owned_by,
    pod_to_endpoint,
    reconcile_traffic_hints,
    remove_hints,
    set_endpoint_slice_labels,
    should_pod_be_in_endpoints,
    with_trigger_time,
)
from operators.kube.objects import Node, Pod

__all__ = ["DEFAULT_MAX_ENDPOINTS_PER_SLICE", "TRAFFIC_DISTRIBUTIONS", "Plan", "reconcile"]

DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100  # ES-02, --max-endpoints-per-slice (1..1000)
TRAFFIC_DISTRIBUTIONS = frozenset({"PreferClose", "PreferSameZone", "PreferSameNode"})


@dataclass
class Plan:
    """The writes one sync makes, in finalize's order (create, update, delete), and what went wrong.

    `errors` are pods skipped because their node is unknown: the slices are written without them and the
    Service is synced again later (upstream returns the aggregate error after finalize). `events` are the
    topology-hint events (ES-12) to record on the Service after the writes: (type, reason, message).
    """

    create: list[EndpointSlice] = field(default_factory=list)
    update: list[EndpointSlice] = field(default_factory=list)
    delete: list[EndpointSlice] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def reconcile(
    service: ServiceView,
    pods: Iterable[Pod],
    existing: Sequence[EndpointSlice],
    node: Callable[[str], Node | None],
    *,
    trigger_time: datetime.datetime | None,
    max_endpoints_per_slice: int = DEFAULT_MAX_ENDPOINTS_PER_SLICE,
    controller_name: str,
    topology: TopologyCache | None = None,
) -> Plan:
    """Reconcile: slices of address types the Service no longer has are deleted (ES-07); each type it has
    is reconciled on its own. `existing` must hold only this Service's slices of this controller that are
    not being deleted (ES-01); `node(name)` looks a node up in the cache. `topology` is the controller's
    topology cache (ES-12): without it, topology-mode Auto gives no hints; with it, this call updates it."""
    plan = Plan()
    supported = address_types_for_service(service)
    by_type: dict[str, list[EndpointSlice]] = {}
    stale_types: list[EndpointSlice] = []
    for slice_ in existing:
        if slice_.address_type in supported:
            by_type.setdefault(slice_.address_type, []).append(slice_)
        else:
            if topology is not None:  # the hints of an address type the Service dropped are forgotten too
                topology.remove_hints(service.key, slice_.address_type)
            stale_types.append(slice_)
    pods = sorted(pods, key=lambda p: p.name)  # a stable order: the same inputs give the same slices
    settings = _Settings(max_endpoints_per_slice, controller_name, topology)
    for address_type in supported:
        typed = _reconcile_by_address_type(service, pods, by_type.get(address_type, []), node, address_type, settings)
        _finalize(service, typed, trigger_time)
        plan.create += typed.create
        plan.update += typed.update
        plan.delete += typed.delete
        plan.errors += typed.errors
        plan.events += typed.events
    plan.delete += stale_types
    by_name = {s.name: s for s in existing}
    plan.update = [s for s in plan.update if s.name not in by_name or not _same_content(s, by_name[s.name])]
    return plan


def _reconcile_by_address_type(
    service: ServiceView,
    pods: Sequence[Pod],
    existing: list[EndpointSlice],
    node: Callable[[str], Node | None],
    address_type: str,
    settings: _Settings,
) -> Plan:
    """reconcileByAddressType: desired endpoints grouped by their resolved ports, each group placed, then hinted."""
    max_endpoints, controller_name = settings.max_endpoints, settings.controller_name
    plan = Plan()
    existing_by_ports: dict[PortMapKey, list[EndpointSlice]] = {}
    for slice_ in existing:
        if owned_by(slice_, service):
            existing_by_ports.setdefault(port_map_key(slice_.ports), []).append(slice_)
        else:
            plan.delete.append(slice_)  # left over from a deleted Service of the same name

    desired_ports: dict[PortMapKey, tuple[EndpointPort, ...]] = {}
    desired: dict[PortMapKey, EndpointSet] = {}
    for pod in pods:
        if not should_pod_be_in_endpoints(pod, include_terminating=True):
            continue
        ports = get_endpoint_ports(service, pod)
        key = port_map_key(ports)
        desired_ports.setdefault(key, ports)
        endpoints = desired.setdefault(key, EndpointSet())
        pod_node = node(pod.node_name) if pod.node_name else None
        if pod_node is None and not service.spec.publish_not_ready_addresses:
            where = f"{service.namespace}/{service.name}"
            plan.errors.append(f"skipping Pod {pod.name} for Service {where}: Node {pod.node_name} Not Found")
            continue
        endpoint = pod_to_endpoint(pod, pod_node, service, address_type)
        if endpoint.addresses:
            endpoints.insert(endpoint)

    for key, endpoints in desired.items():
        existing_group = existing_by_ports.get(key, [])
        group = _Group(desired_ports[key], address_type, max_endpoints, controller_name)
        create, update, delete = _reconcile_by_port_mapping(service, existing_group, endpoints, group)
        plan.create += create
        plan.update += update
        plan.delete += delete
    for key, slices in existing_by_ports.items():
        if key not in desired:
            plan.delete += slices  # a set of ports no pod resolves to any more

    if len(existing) == len(plan.delete) and not plan.create:  # ES-11: the placeholder
        placeholder = new_endpoint_slice(service, (), address_type, controller_name)
        if len(plan.delete) == 1 and _same_placeholder(plan.delete[0], placeholder):
            plan.delete = []  # it exists already: do not delete and re-create it
        else:
            plan.create.append(placeholder)

    _reconcile_hints(service, existing, address_type, settings.topology, plan)
    return plan


def _reconcile_hints(
    service: ServiceView,
    existing: Sequence[EndpointSlice],
    address_type: str,
    topology: TopologyCache | None,
    plan: Plan,
) -> None:
    """The hints of the slices about to be written, and of unchanged slices whose hints are wrong (ES-12).

    The topology annotation wins over trafficDistribution. When it is not in force (or there is no cache),
    hints the cache gave earlier are forgotten, with a TopologyAwareHintsDisabled warning ("Check 1"),
    and unless trafficDistribution hints instead, every hint is removed ("Check 2").
    """
    annotation = hints_enabled(service.annotations)
    traffic = service.spec.traffic_distribution
    use_traffic_distribution = traffic in TRAFFIC_DISTRIBUTIONS and not annotation
    unchanged = _unchanged(existing, plan.update, plan.delete)
    if topology is not None and annotation:
        info = SliceInfo(service.key, address_type, tuple(plan.create), tuple(plan.update), tuple(unchanged))
        plan.create, plan.update, events = topology.add_hints(info)
        plan.events += events
    else:
        if topology is not None:
            if topology.has_populated_hints(service.key):
                message = format_with_address_type(TOPOLOGY_AWARE_HINTS_DISABLED, address_type)
                plan.events.append(TopologyEvent("Warning", DISABLED_REASON, message))
            topology.remove_hints(service.key, address_type)
        if not use_traffic_distribution:
            plan.create, plan.update = remove_hints(plan.create, plan.update, unchanged)
    if traffic is not None and use_traffic_distribution:
        plan.create, plan.update = reconcile_traffic_hints(traffic, plan.create, plan.update, unchanged)


@dataclass(frozen=True, slots=True)
class _Settings:
    """The Reconciler's own settings: its flag values and its topology cache."""

    max_endpoints: int
    controller_name: str
    topology: TopologyCache | None


@dataclass(frozen=True, slots=True)
class _Group:
    """endpointMeta, and the settings a port group is placed with."""

    ports: tuple[EndpointPort, ...]
    address_type: str
    max_endpoints: int
    controller_name: str


# --8<-- [start:placement]
def _reconcile_by_port_mapping(
    service: ServiceView, existing: list[EndpointSlice], desired: EndpointSet, group: _Group
) -> tuple[list[EndpointSlice], list[EndpointSlice], list[EndpointSlice]]:
    """reconcileByPortMapping: keep, update, fill, then create (ES-09). Returns (create, update, delete)."""
    max_endpoints, controller_name = group.max_endpoints, group.controller_name
    slices_by_name: dict[str, EndpointSlice] = {}
    unchanged: dict[str, None] = {}  # insertion-ordered sets of slice names
    to_update: dict[str, None] = {}
    to_delete: dict[str, None] = {}

    # 1. Keep the desired endpoints where they are, updated; drop the others.
    for slice_ in existing:
        slices_by_name[slice_.name] = slice_
        kept: list[Endpoint] = []
        endpoint_updated = False
        for endpoint in slice_.endpoints:
            wanted = desired.get(endpoint)
            if wanted is None:
                continue
            kept.append(wanted)
            if not endpoints_equal_beyond_hash(wanted, endpoint):
                endpoint_updated = True
            desired.delete(endpoint)
        labels, labels_changed = set_endpoint_slice_labels(slice_, service, controller_name)
        if endpoint_updated or len(kept) != len(slice_.endpoints):
            if not kept:
                to_delete[slice_.name] = None
            else:
                slices_by_name[slice_.name] = replace(slice_, endpoints=tuple(kept), labels=labels)
                to_update[slice_.name] = None
        elif labels_changed:
            slices_by_name[slice_.name] = replace(slice_, labels=labels)
            to_update[slice_.name] = None
        else:
            unchanged[slice_.name] = None

    # 2. Fill the slices being updated anyway, fullest first.
    if desired and to_update:
        for name in sorted(to_update, key=lambda n: -len(slices_by_name[n].endpoints)):
            slices_by_name[name] = _fill(slices_by_name[name], desired, max_endpoints)

    # 3. The rest: into the unchanged slice closest to full, else into new slices.
    to_create: list[EndpointSlice] = []
    while desired:
        target: EndpointSlice | None = None
        if len(desired) < max_endpoints and unchanged:
            target = get_slice_to_fill([slices_by_name[n] for n in unchanged], len(desired), max_endpoints)
        if target is None:
            target = new_endpoint_slice(service, group.ports, group.address_type, controller_name)
        target = _fill(target, desired, max_endpoints)
        if target.name:
            slices_by_name[target.name] = target
            to_update[target.name] = None
            unchanged.pop(target.name, None)
        else:
            to_create.append(target)

    return to_create, [slices_by_name[n] for n in to_update], [slices_by_name[n] for n in to_delete]


# --8<-- [end:placement]


def _fill(slice_: EndpointSlice, desired: EndpointSet, max_endpoints: int) -> EndpointSlice:
    endpoints = list(slice_.endpoints)
    while desired and len(endpoints) < max_endpoints:
        endpoints.append(desired.pop_any())
    return slice_.with_endpoints(endpoints)


def _finalize(service: ServiceView, plan: Plan, trigger_time: datetime.datetime | None) -> None:
    """finalize's decisions (ES-10): creates become updates of slices that would be deleted (same address
    type, owned by this Service); no creates while the Service is being deleted; every write stamped."""
    index = 0
    while index < len(plan.delete) and plan.create:
        doomed = plan.delete[index]
        slice_ = plan.create[-1]
        if doomed.address_type == slice_.address_type and owned_by(doomed, service):
            plan.create.pop()
            recycled = replace(slice_, name=doomed.name, uid=doomed.uid, resource_version=doomed.resource_version)
            plan.update.append(replace(recycled, generation=doomed.generation, annotations=doomed.annotations))
            del plan.delete[index]
        else:
            index += 1
    if service.deletion_timestamp is not None:
        plan.create = []
    plan.create = [with_trigger_time(s, trigger_time) for s in plan.create]
    plan.update = [with_trigger_time(s, trigger_time) for s in plan.update]


def _same_placeholder(existing: EndpointSlice, placeholder: EndpointSlice) -> bool:
    """placeholderSliceCompare: a placeholder compares by namespace, labels, owner references and content."""
    return (
        existing.namespace == placeholder.namespace
        and dict(existing.labels) == dict(placeholder.labels)
        and existing.owner_references == placeholder.owner_references
        and existing.address_type == placeholder.address_type
        and not existing.endpoints
        and not existing.ports
    )


def _same_content(a: EndpointSlice, b: EndpointSlice) -> bool:
    """An update that would write what is there already (hints removed and put back) is not made.

    Upstream makes it: the API server then stores nothing new, but the request is still sent.
    """
    return (a.endpoints, a.ports, dict(a.labels), a.owner_references) == (
        b.endpoints,
        b.ports,
        dict(b.labels),
        b.owner_references,
    )


def _unchanged(
    existing: Sequence[EndpointSlice], to_update: Sequence[EndpointSlice], to_delete: Sequence[EndpointSlice]
) -> list[EndpointSlice]:
    """unchangedSlices: the existing slices neither updated nor deleted."""
    changed = {s.name for s in to_update} | {s.name for s in to_delete}
    return [s for s in existing if s.name not in changed]
