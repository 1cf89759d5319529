"""Topology-aware hints for `service.kubernetes.io/topology-mode: Auto` (k8s.io/endpointslice topologycache), ES-12.

A Service with that annotation (or the deprecated `service.kubernetes.io/topology-aware-hints`) gets a zone
hint on every ready endpoint, so that kube-proxy in a zone routes to the endpoints hinted for it. The
hints follow the CPU of the cluster: a zone holding 40% of the allocatable CPU of the ready worker nodes
should receive about 40% of the endpoints. Each endpoint is first hinted for its own zone; then zones
with more endpoints than their share give some to zones with fewer. No endpoint may carry more than
`1 + OVERLOAD_THRESHOLD` times its fair load; when that cannot be met the hints are removed instead,
and an event says why.

`TopologyCache` holds the two inputs that outlive a sync: the CPU share of each zone (`set_nodes`, fed by
the node informer) and, per Service and address type, how many endpoints each zone was given at the last
sync (to find Services a node change overloaded, and to announce "enabled" once). Everything else is pure:
`add_hints` takes a `SliceInfo` (the slices a sync creates, updates and leaves alone) and returns new
slices, never changing the frozen ones it was given.

Go iterates maps in random order wherever zones are compared or handed endpoints; here zones are always
taken in name order, so that the same inputs give the same hints.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import NamedTuple

from operators.controllers.service.slices import Endpoint, EndpointHints, EndpointSlice
from operators.controllers.service.utils import remove_hints
from operators.kube.objects import Node

__all__ = [
    "DISABLED_REASON",
    "ENABLED_REASON",
    "INSUFFICIENT_NODE_INFO",
    "INSUFFICIENT_NUMBER_OF_ENDPOINTS",
    "MIN_ALLOCATION_EXCEEDS_OVERLOAD_THRESHOLD",
    "NODES_READY_IN_ONE_ZONE_ONLY",
    "NO_ALLOCATED_HINTS_FOR_ZONES",
    "NO_ZONE_SPECIFIED",
    "OVERLOAD_THRESHOLD",
    "TOPOLOGY_AWARE_HINTS_DISABLED",
    "TOPOLOGY_AWARE_HINTS_ENABLED",
    "Allocation",
    "SliceInfo",
    "TopologyCache",
    "TopologyEvent",
    "endpoint_ready",
    "format_with_address_type",
    "get_giving_and_receiving_zones",
    "get_hints_by_zone",
    "get_most",
    "redistribute_hints",
    "remove_hints_from_slices",
    "service_overloaded",
]

# overloadThreshold: the most any one endpoint may be overloaded, 20% above its fair share of the traffic.
OVERLOAD_THRESHOLD = 0.2

# event.go: the messages of the TopologyAwareHints events.
NO_ZONE_SPECIFIED = "One or more endpoints do not have a zone specified"
NO_ALLOCATED_HINTS_FOR_ZONES = "No hints allocated for zones"
TOPOLOGY_AWARE_HINTS_ENABLED = "Topology Aware Hints has been enabled"
TOPOLOGY_AWARE_HINTS_DISABLED = "Topology Aware Hints has been disabled"
INSUFFICIENT_NODE_INFO = "Insufficient Node information: allocatable CPU or zone not specified on one or more nodes"
NODES_READY_IN_ONE_ZONE_ONLY = "Nodes only ready in one zone"
INSUFFICIENT_NUMBER_OF_ENDPOINTS = "Insufficient number of endpoints"
MIN_ALLOCATION_EXCEEDS_OVERLOAD_THRESHOLD = (
    "Unable to allocate minimum required endpoints to each zone without exceeding overload threshold"
)

# The reasons of those events.
DISABLED_REASON = "TopologyAwareHintsDisabled"
ENABLED_REASON = "TopologyAwareHintsEnabled"

EndpointZoneInfo = dict[str, int]  # EndpointZoneInfo: zone -> endpoints hinted for it


class TopologyEvent(NamedTuple):
    """EventBuilder: an event for the Service, returned rather than recorded (the glue records it)."""

    type: str  # "Normal" or "Warning"
    reason: str
    message: str


def format_with_address_type(message: str, address_type: str) -> str:
    """FormatWithAddressType: `<message>, addressType: IPv4`."""
    return f"{message}, addressType: {address_type}"


@dataclass(frozen=True, slots=True)
class Allocation:
    """allocation: how many endpoints a zone should be hinted; `desired` is its exact CPU share."""

    minimum: int = 0
    maximum: int = 0
    desired: float = 0.0


@dataclass(frozen=True, slots=True)
class SliceInfo:
    """SliceInfo: one sync's slices of one Service and address type, as the placement left them (ES-09)."""

    service_key: str
    address_type: str
    to_create: tuple[EndpointSlice, ...] = ()
    to_update: tuple[EndpointSlice, ...] = ()
    unchanged: tuple[EndpointSlice, ...] = ()

    def total_ready_endpoints(self) -> int:
        """getTotalReadyEndpoints: only ready endpoints receive traffic, so only they are shared out."""
        slices = (*self.to_create, *self.to_update, *self.unchanged)
        return sum(1 for slice_ in slices for endpoint in slice_.endpoints if endpoint_ready(endpoint))


def endpoint_ready(endpoint: Endpoint) -> bool:
    """EndpointReady: the Ready condition is set and true (unset counts as not ready)."""
    return endpoint.conditions.ready is True


def _zone_hint(zone: str) -> EndpointHints:
    return EndpointHints(for_zones=(zone,))


class TopologyCache:
    """TopologyCache: the CPU share of each zone, and the hints last given to each Service (ES-12).

    Upstream guards it with a mutex for its worker goroutines; here every method runs to completion
    without awaiting, so on the controller's event loop each call is atomic.
    """

    def __init__(self) -> None:
        """NewTopologyCache: no nodes seen yet (empty ratios: "Nodes only ready in one zone")."""
        self._sufficient_node_info = False
        # None once set_nodes found the nodes insufficient for hints; {} before it was ever called (as upstream).
        self._cpu_by_zone: dict[str, int] | None = {}
        self._cpu_ratios_by_zone: dict[str, float] | None = {}
        self._endpoints_by_service: dict[str, dict[str, EndpointZoneInfo]] = {}
        self._hints_populated_by_service: set[str] = set()

    # --- what the tests and the glue read ------------------------------------------------------------------

    @property
    def sufficient_node_info(self) -> bool:
        return self._sufficient_node_info

    @property
    def cpu_by_zone(self) -> Mapping[str, int] | None:
        """Allocatable millicores by zone, None when the nodes do not allow hints."""
        return None if self._cpu_by_zone is None else MappingProxyType(self._cpu_by_zone)

    @property
    def cpu_ratios_by_zone(self) -> Mapping[str, float] | None:
        """Each zone's share of the allocatable CPU, None when the nodes do not allow hints."""
        return None if self._cpu_ratios_by_zone is None else MappingProxyType(self._cpu_ratios_by_zone)

    def endpoints_by_address_type(self, service_key: str) -> Mapping[str, Mapping[str, int]] | None:
        """endpointsByService[service_key]: the hints per zone last given, by address type; None if none."""
        by_type = self._endpoints_by_service.get(service_key)
        if by_type is None:
            return None
        return {address_type: dict(zones) for address_type, zones in by_type.items()}

    # --- nodes ---------------------------------------------------------------------------------------------

    def set_nodes(self, nodes: Iterable[Node]) -> None:
        """SetNodes: the CPU of the ready worker nodes, by zone.

        Control-plane nodes and nodes that are not ready are skipped. A single counted node without a zone
        or without allocatable CPU makes the whole picture unreliable: then, as with fewer than two zones,
        the cache holds no ratios and every Service using hints loses them at its next sync.
        """
        cpu_by_zone: dict[str, int] = {}
        sufficient_node_info = True
        total_cpu = 0
        for node in nodes:
            if node.control_plane or not node.ready:
                continue
            zone = node.zone
            if not zone or node.allocatable_cpu_millis == 0:
                cpu_by_zone = {}
                sufficient_node_info = False
                break
            total_cpu += node.allocatable_cpu_millis
            cpu_by_zone[zone] = cpu_by_zone.get(zone, 0) + node.allocatable_cpu_millis

        if total_cpu == 0 or not sufficient_node_info or len(cpu_by_zone) < 2:
            self._sufficient_node_info = False
            self._cpu_by_zone = None
            self._cpu_ratios_by_zone = None
        else:
            self._sufficient_node_info = True
            self._cpu_by_zone = cpu_by_zone
            self._cpu_ratios_by_zone = {zone: cpu / total_cpu for zone, cpu in cpu_by_zone.items()}

    def get_overloaded_services(self) -> list[str]:
        """GetOverloadedServices: the keys of the Services whose hints the current ratios overload (sorted).

        After `set_nodes` the glue requeues these, so that their next sync re-balances (or removes) hints.
        """
        ratios = self._cpu_ratios_by_zone or {}
        return sorted(
            key
            for key, by_type in self._endpoints_by_service.items()
            if any(service_overloaded(zones, ratios) for zones in by_type.values())
        )

    # --- hints of one Service ------------------------------------------------------------------------------

    def has_populated_hints(self, service_key: str) -> bool:
        """HasPopulatedHints: the last sync of the Service gave its endpoints hints (for some address type)."""
        return service_key in self._hints_populated_by_service

    def set_hints(self, service_key: str, address_type: str, allocated_hints_by_zone: Mapping[str, int]) -> None:
        """SetHints: remember the hints per zone given to a Service's endpoints of one address type."""
        self._endpoints_by_service.setdefault(service_key, {})[address_type] = dict(allocated_hints_by_zone)
        self._hints_populated_by_service.add(service_key)

    def remove_hints(self, service_key: str, address_type: str) -> None:
        """RemoveHints: forget a Service's hints of one address type (and that it has any at all)."""
        by_type = self._endpoints_by_service.get(service_key)
        if by_type is not None:
            by_type.pop(address_type, None)
            if not by_type:
                del self._endpoints_by_service[service_key]
        self._hints_populated_by_service.discard(service_key)

    def add_hints(self, info: SliceInfo) -> tuple[list[EndpointSlice], list[EndpointSlice], list[TopologyEvent]]:
        """AddHints: the slices to create and to update, with zone hints, and the events to record.

        1. Every ready endpoint is hinted for its own zone. Unchanged slices whose hints no longer fit the
           allocations are updated too (getAllocatedHintsByZone).
        2. Zones hinted more endpoints than their CPU share give the surplus to zones hinted fewer.
        When no allocation is possible (too few nodes, zones or endpoints; an endpoint without a zone),
        the hints are removed from every slice instead, with a TopologyAwareHintsDisabled warning.
        """
        allocations, problem = self._get_allocations(info.total_ready_endpoints())
        if problem is not None:
            event = problem._replace(message=format_with_address_type(problem.message, info.address_type))
            return self._disable(info, event)

        allocated_hints_by_zone, info = get_allocated_hints_by_zone(info, allocations)
        allocatable = [*info.to_create, *info.to_update]

        # Step 1: same-zone hints for all ready endpoints as a starting point.
        hinted: list[EndpointSlice] = []
        for slice_ in allocatable:
            endpoints: list[Endpoint] = []
            for endpoint in slice_.endpoints:
                if not endpoint_ready(endpoint):
                    # Upstream clears the hints of a copy of the endpoint: in effect it keeps the ones it has.
                    endpoints.append(endpoint)
                    continue
                if not endpoint.zone:
                    event = TopologyEvent(
                        "Warning", DISABLED_REASON, format_with_address_type(NO_ZONE_SPECIFIED, info.address_type)
                    )
                    return self._disable(info, event)
                allocated_hints_by_zone[endpoint.zone] = allocated_hints_by_zone.get(endpoint.zone, 0) + 1
                endpoints.append(replace(endpoint, hints=_zone_hint(endpoint.zone)))
            hinted.append(slice_.with_endpoints(endpoints))

        # Step 2: which zones give endpoints, which receive them. Step 3: hand them over.
        giving, receiving = get_giving_and_receiving_zones(allocations, allocated_hints_by_zone)
        hinted, redistributions = redistribute_hints(hinted, giving, receiving)
        for zone, diff in redistributions.items():
            allocated_hints_by_zone[zone] = allocated_hints_by_zone.get(zone, 0) + diff

        if not allocated_hints_by_zone:
            event = TopologyEvent(
                "Warning", DISABLED_REASON, format_with_address_type(NO_ALLOCATED_HINTS_FOR_ZONES, info.address_type)
            )
            return self._disable(info, event)

        events: list[TopologyEvent] = []
        if not self.has_populated_hints(info.service_key):  # announced once, not at every sync
            message = format_with_address_type(TOPOLOGY_AWARE_HINTS_ENABLED, info.address_type)
            events.append(TopologyEvent("Normal", ENABLED_REASON, message))
        self.set_hints(info.service_key, info.address_type, allocated_hints_by_zone)
        created = len(info.to_create)
        return hinted[:created], hinted[created:], events

    def _disable(
        self, info: SliceInfo, event: TopologyEvent
    ) -> tuple[list[EndpointSlice], list[EndpointSlice], list[TopologyEvent]]:
        """The "insufficient" exits of AddHints: forget the Service's hints, strip them, say why."""
        self.remove_hints(info.service_key, info.address_type)
        to_create, to_update = remove_hints_from_slices(info)
        return to_create, to_update, [event]

    def _get_allocations(self, num_endpoints: int) -> tuple[dict[str, Allocation], TopologyEvent | None]:
        """getAllocations: each zone's minimum and maximum number of hinted endpoints, or why there are none.

        A zone's minimum is its share over (1 + threshold), rounded up: fewer would overload its endpoints.
        Its maximum is the minimum plus what the other zones' minimums leave over.
        """
        ratios = self._cpu_ratios_by_zone
        if ratios is None:
            return {}, TopologyEvent("Warning", DISABLED_REASON, INSUFFICIENT_NODE_INFO)
        if len(ratios) < 2:
            return {}, TopologyEvent("Warning", DISABLED_REASON, NODES_READY_IN_ONE_ZONE_ONLY)
        counts = f"({num_endpoints} endpoints, {len(ratios)} zones)"
        if len(ratios) > num_endpoints:
            return {}, TopologyEvent("Warning", DISABLED_REASON, f"{INSUFFICIENT_NUMBER_OF_ENDPOINTS} {counts}")

        remaining_min_endpoints = num_endpoints
        min_total = 0
        minimums: dict[str, tuple[int, float]] = {}
        for zone in sorted(ratios):
            desired = ratios[zone] * num_endpoints
            minimum = math.ceil(desired * (1 / (1 + OVERLOAD_THRESHOLD)))
            minimums[zone] = (minimum, max(desired, float(minimum)))
            min_total += minimum
            remaining_min_endpoints -= minimum
            if remaining_min_endpoints < 0:
                message = f"{MIN_ALLOCATION_EXCEEDS_OVERLOAD_THRESHOLD} {counts}"
                return {}, TopologyEvent("Warning", DISABLED_REASON, message)

        allocations = {
            zone: Allocation(minimum=minimum, maximum=minimum + num_endpoints - min_total, desired=desired)
            for zone, (minimum, desired) in minimums.items()
        }
        return allocations, None


# --- utils.go and sliceinfo.go ----------------------------------------------------------------------------------


def remove_hints_from_slices(info: SliceInfo) -> tuple[list[EndpointSlice], list[EndpointSlice]]:
    """RemoveHintsFromSlices: no hints on the slices written; unchanged slices with hints become updates."""
    return remove_hints(list(info.to_create), list(info.to_update), list(info.unchanged))


def get_allocated_hints_by_zone(
    info: SliceInfo, allocations: Mapping[str, Allocation]
) -> tuple[EndpointZoneInfo, SliceInfo]:
    """getAllocatedHintsByZone: the hints the unchanged slices already give each zone, and the SliceInfo with
    the unchanged slices whose hints are no longer valid (see `get_hints_by_zone`) moved to the updates."""
    allocated: EndpointZoneInfo = {}
    unchanged: list[EndpointSlice] = []
    to_update = list(info.to_update)
    for slice_ in info.unchanged:
        hints_by_zone = get_hints_by_zone(slice_, allocated, allocations)
        if hints_by_zone is None:
            to_update.append(slice_)
            continue
        unchanged.append(slice_)
        for zone, count in hints_by_zone.items():
            allocated[zone] = allocated.get(zone, 0) + count
    return allocated, replace(info, to_update=tuple(to_update), unchanged=tuple(unchanged))


def get_hints_by_zone(
    slice_: EndpointSlice, allocated_hints_by_zone: Mapping[str, int], allocations: Mapping[str, Allocation]
) -> dict[str, int] | None:
    """getHintsByZone: the hints per zone of a slice's ready endpoints, or None when the slice must be updated:
    a ready endpoint without a zone hint, a hint for a zone that needs none, or more hints for a zone than
    its maximum allows together with those `allocated_hints_by_zone` counts already."""
    hints_by_zone: dict[str, int] = {}
    for endpoint in slice_.endpoints:
        if not endpoint_ready(endpoint):
            continue
        if endpoint.hints is None or not endpoint.hints.for_zones:
            return None
        for zone in endpoint.hints.for_zones:
            if zone not in allocations:
                return None
            hints_by_zone[zone] = hints_by_zone.get(zone, 0) + 1
    for zone, count in hints_by_zone.items():
        if count + allocated_hints_by_zone.get(zone, 0) > allocations[zone].maximum:
            return None
    return hints_by_zone


def get_giving_and_receiving_zones(
    allocations: Mapping[str, Allocation], allocated_hints_by_zone: Mapping[str, int]
) -> tuple[dict[str, int], dict[str, int]]:
    """getGivingAndReceivingZones: how many endpoints each zone gives away, and how many each receives.

    The exact surplus and shortfall of each zone (hinted minus desired) are turned into whole endpoints one
    at a time, from the zone with the largest surplus to the zone with the largest shortfall, until neither
    has a whole endpoint left, or either has less than half of one: an endpoint stays in its zone unless
    moving it clearly improves the balance.
    """
    giving_desired: dict[str, float] = {}
    receiving_desired: dict[str, float] = {}
    for zone, allocation in allocations.items():
        allocated = allocated_hints_by_zone.get(zone, 0)
        if allocated > allocation.desired:
            giving_desired[zone] = allocated - allocation.desired
        elif allocated < allocation.desired:
            receiving_desired[zone] = allocation.desired - allocated

    giving: dict[str, int] = {}
    receiving: dict[str, int] = {}
    while True:
        giving_zone, to_give = get_most(giving_desired)
        receiving_zone, to_receive = get_most(receiving_desired)
        if (
            not giving_zone
            or not receiving_zone
            or (to_give < 1.0 and to_receive < 1.0)
            or to_give < 0.5
            or to_receive < 0.5
        ):
            break
        giving[giving_zone] = giving.get(giving_zone, 0) + 1
        giving_desired[giving_zone] -= 1
        receiving[receiving_zone] = receiving.get(receiving_zone, 0) + 1
        receiving_desired[receiving_zone] -= 1
    return giving, receiving


def get_most(zones: Mapping[str, float]) -> tuple[str, float]:
    """getMost: the zone with the greatest positive value, and that value; ("", 0.0) when none is positive.

    On a tie the first zone by name wins (Go's pick depends on its random map order).
    """
    best, most = "", 0.0
    for zone in sorted(zones):
        if zones[zone] > most:
            best, most = zone, zones[zone]
    return best, most


def redistribute_hints(
    slices: Sequence[EndpointSlice], giving_zones: Mapping[str, int], receiving_zones: Mapping[str, int]
) -> tuple[list[EndpointSlice], dict[str, int]]:
    """redistributeHints: re-hint ready endpoints of giving zones for receiving zones, in slice order.

    Returns the slices (new ones where a hint changed) and the change of hinted endpoints per zone.
    Receiving zones are served in name order (Go: random map order).
    """
    giving = dict(giving_zones)
    receiving = dict(receiving_zones)
    redistributions: dict[str, int] = {}
    result: list[EndpointSlice] = []
    for slice_ in slices:
        endpoints = list(slice_.endpoints)
        for index, endpoint in enumerate(endpoints):
            if not giving or not receiving:
                break
            if not endpoint_ready(endpoint) or not endpoint.zone:  # a zone-less one is refused by add_hints
                continue
            if giving.get(endpoint.zone, 0) <= 0:
                continue
            to_zone = next((zone for zone in sorted(receiving) if receiving[zone] > 0), None)
            if to_zone is None:
                continue
            endpoints[index] = replace(endpoint, hints=_zone_hint(to_zone))
            _take_one(giving, endpoint.zone)
            _take_one(receiving, to_zone)
            redistributions[to_zone] = redistributions.get(to_zone, 0) + 1
            redistributions[endpoint.zone] = redistributions.get(endpoint.zone, 0) - 1
        changed = any(new is not old for new, old in zip(endpoints, slice_.endpoints, strict=True))
        result.append(slice_.with_endpoints(endpoints) if changed else slice_)
    return result, redistributions


def _take_one(zones: dict[str, int], zone: str) -> None:
    """One endpoint given (or received): the zone is dropped when it has none left to give (or receive)."""
    if zones[zone] == 1:
        del zones[zone]
    else:
        zones[zone] -= 1


def service_overloaded(endpoint_zone_info: Mapping[str, int], zone_ratios: Mapping[str, float]) -> bool:
    """serviceOverloaded: some zone is hinted fewer endpoints than its CPU share needs (or none at all).

    A Service with hints is overloaded when there are no ratios any more (the nodes no longer allow hints).
    """
    if not endpoint_zone_info:
        return False
    if not zone_ratios:
        return True
    total = float(sum(endpoint_zone_info.values()))
    for zone, ratio in zone_ratios.items():
        if zone not in endpoint_zone_info:
            return True
        if endpoint_zone_info[zone] < math.ceil(total * ratio * (1 / (1 + OVERLOAD_THRESHOLD))):
            return True
    return False
