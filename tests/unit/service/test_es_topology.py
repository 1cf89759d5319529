"""Ports of k8s.io/endpointslice topologycache tests (topologycache_test.go, utils_test.go, sliceinfo_test.go): ES-12.

Upstream's TestAddHints sets the cache's cpuRatiosByZone directly; here the ratios are made the way the
controller makes them, by `set_nodes` with nodes whose CPUs have those ratios (300m/400m/300m for
0.3/0.4/0.3), and "no ratios" (nil) is a cache that was given no usable nodes. Upstream compares event
messages by prefix; these tests compare them whole. TestTopologyCacheRace is not ported: the cache is
used from one event loop, without threads. Table rows keep upstream's case names as pytest ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from operators.controllers.service.slices import (
    ADDRESS_TYPE_IPV4,
    ADDRESS_TYPE_IPV6,
    Endpoint,
    EndpointConditions,
    EndpointHints,
    EndpointSlice,
)
from operators.controllers.service.topology import (
    INSUFFICIENT_NODE_INFO,
    NO_ZONE_SPECIFIED,
    NODES_READY_IN_ONE_ZONE_ONLY,
    TOPOLOGY_AWARE_HINTS_ENABLED,
    Allocation,
    SliceInfo,
    TopologyCache,
    TopologyEvent,
    get_giving_and_receiving_zones,
    get_hints_by_zone,
    redistribute_hints,
    service_overloaded,
)
from operators.kube.objects import Node

SERVICE_KEY = "ns/svc"


def endpoint(
    address: str = "",
    zone: str | None = None,
    ready: bool | None = True,
    hint: str | None = None,
    hints: EndpointHints | None = None,
) -> Endpoint:
    """A discovery.Endpoint as the Go tests write them: addresses, zone, Ready, hints for one zone."""
    return Endpoint(
        addresses=(address,) if address else (),
        conditions=EndpointConditions(ready=ready),
        zone=zone,
        hints=hints if hints is not None else (EndpointHints(for_zones=(hint,)) if hint is not None else None),
    )


def slice_of(*endpoints: Endpoint, name: str = "") -> EndpointSlice:
    return EndpointSlice(namespace="ns", name=name, endpoints=endpoints)


def node(zone: str, cpu: str, ready: bool = True, labels: Mapping[str, str] | None = None, name: str = "node") -> Node:
    """TestSetNodes' nodeInfo as the informer reads it: zone label, Ready condition, allocatable CPU."""
    all_labels = dict(labels or {})
    if zone:
        all_labels["topology.kubernetes.io/zone"] = zone
    body: dict[str, Any] = {
        "metadata": {"name": name, "labels": all_labels},
        "status": {
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "allocatable": {"cpu": cpu},
        },
    }
    return Node.from_dict(body)


def cache_with_ratios(millis_by_zone: Mapping[str, int] | None) -> TopologyCache:
    """A cache whose cpuRatiosByZone are millis/total, one node per zone; None: set_nodes found no usable nodes."""
    cache = TopologyCache()
    if millis_by_zone is None:
        cache.set_nodes([])
    else:
        cache.set_nodes([node(zone, f"{millis}m", name=zone) for zone, millis in millis_by_zone.items()])
    return cache


# --- TestAddHints -----------------------------------------------------------------------------------------------

A, B, C = "zone-a", "zone-b", "zone-c"

ADD_HINTS_CASES = [
    pytest.param(
        None,
        SliceInfo(SERVICE_KEY, ADDRESS_TYPE_IPV4),
        None,
        [],
        [],
        [TopologyEvent("Warning", "TopologyAwareHintsDisabled", f"{INSUFFICIENT_NODE_INFO}, addressType: IPv4")],
        id="empty",
    ),
    pytest.param(
        None,
        SliceInfo(SERVICE_KEY, ADDRESS_TYPE_IPV4, to_create=(slice_of(endpoint("10.1.2.3", A)),)),
        None,
        [slice_of(endpoint("10.1.2.3", A))],
        [],
        [TopologyEvent("Warning", "TopologyAwareHintsDisabled", f"{INSUFFICIENT_NODE_INFO}, addressType: IPv4")],
        id="slice to create, no zone ratios",
    ),
    pytest.param(
        {A: 300, B: 400, C: 300},
        SliceInfo(
            SERVICE_KEY, ADDRESS_TYPE_IPV4, to_create=(slice_of(endpoint("10.1.2.3", A), endpoint("10.1.2.4", B)),)
        ),
        None,
        [slice_of(endpoint("10.1.2.3", A), endpoint("10.1.2.4", B))],
        [],
        [
            TopologyEvent(
                "Warning",
                "TopologyAwareHintsDisabled",
                "Insufficient number of endpoints (2 endpoints, 3 zones), addressType: IPv4",
            )
        ],
        id="slice to create with 2 endpoints, zone ratios require 3",
    ),
    pytest.param(
        {A: 450, B: 550},
        SliceInfo(
            SERVICE_KEY, ADDRESS_TYPE_IPV4, to_create=(slice_of(endpoint("10.1.2.3", A), endpoint("10.1.2.4", B)),)
        ),
        {ADDRESS_TYPE_IPV4: {A: 1, B: 1}},
        [slice_of(endpoint("10.1.2.3", A, hint=A), endpoint("10.1.2.4", B, hint=B))],
        [],
        [TopologyEvent("Normal", "TopologyAwareHintsEnabled", f"{TOPOLOGY_AWARE_HINTS_ENABLED}, addressType: IPv4")],
        id="slice to create with 2 endpoints, zone ratios only require 2",
    ),
    pytest.param(
        {A: 450, B: 550},
        SliceInfo(
            SERVICE_KEY,
            ADDRESS_TYPE_IPV4,
            to_create=(
                slice_of(
                    endpoint("10.1.2.3", A),
                    endpoint("10.1.2.4", B),
                    endpoint("10.1.2.5", B, ready=False),
                    endpoint("10.1.2.6", B, ready=None),
                ),
            ),
        ),
        {ADDRESS_TYPE_IPV4: {A: 1, B: 1}},
        [
            slice_of(
                endpoint("10.1.2.3", A, hint=A),
                endpoint("10.1.2.4", B, hint=B),
                endpoint("10.1.2.5", B, ready=False),
                endpoint("10.1.2.6", B, ready=None),
            )
        ],
        [],
        [TopologyEvent("Normal", "TopologyAwareHintsEnabled", f"{TOPOLOGY_AWARE_HINTS_ENABLED}, addressType: IPv4")],
        id="slice to create with 2 ready, 1 unready, 1 unknown endpoints, zone ratios only require 2",
    ),
    pytest.param(
        {A: 350, B: 350, C: 300},
        SliceInfo(
            SERVICE_KEY,
            ADDRESS_TYPE_IPV4,
            to_create=(
                slice_of(endpoint("10.1.2.3", A), endpoint("10.1.2.4", B)),
                slice_of(endpoint("10.1.3.3", C), endpoint("10.1.3.4", C), endpoint("10.1.3.4", A)),
            ),
            to_update=(
                slice_of(endpoint("10.2.2.3", A), endpoint("10.2.2.4", A)),
                slice_of(endpoint("10.2.3.3", B), endpoint("10.2.3.4", C), endpoint("10.2.3.4", A)),
            ),
        ),
        {ADDRESS_TYPE_IPV4: {A: 4, B: 3, C: 3}},
        [
            slice_of(endpoint("10.1.2.3", A, hint=B), endpoint("10.1.2.4", B, hint=B)),
            slice_of(endpoint("10.1.3.3", C, hint=C), endpoint("10.1.3.4", C, hint=C), endpoint("10.1.3.4", A, hint=A)),
        ],
        [
            slice_of(endpoint("10.2.2.3", A, hint=A), endpoint("10.2.2.4", A, hint=A)),
            slice_of(endpoint("10.2.3.3", B, hint=B), endpoint("10.2.3.4", C, hint=C), endpoint("10.2.3.4", A, hint=A)),
        ],
        [TopologyEvent("Normal", "TopologyAwareHintsEnabled", f"{TOPOLOGY_AWARE_HINTS_ENABLED}, addressType: IPv4")],
        id="slices to create and update within 3 zone threshold",
    ),
]


@pytest.mark.parametrize(
    ("cpu_by_zone", "slice_info", "endpoints_by_address_type", "to_create", "to_update", "events"), ADD_HINTS_CASES
)
def test_add_hints(
    cpu_by_zone: Mapping[str, int] | None,
    slice_info: SliceInfo,
    endpoints_by_address_type: Mapping[str, Mapping[str, int]] | None,
    to_create: Sequence[EndpointSlice],
    to_update: Sequence[EndpointSlice],
    events: Sequence[TopologyEvent],
) -> None:
    """ES-12: ready endpoints are hinted for their zone, the surplus of a zone given to zones short of their
    CPU share; too few nodes, zones or endpoints remove the hints instead, with a warning saying which."""
    cache = cache_with_ratios(cpu_by_zone)

    got_create, got_update, got_events = cache.add_hints(slice_info)

    assert [s.endpoints for s in got_create] == [s.endpoints for s in to_create]
    assert [s.endpoints for s in got_update] == [s.endpoints for s in to_update]
    assert got_events == list(events)
    assert cache.endpoints_by_address_type(SERVICE_KEY) == endpoints_by_address_type
    assert cache.has_populated_hints(SERVICE_KEY) == (endpoints_by_address_type is not None)


def test_add_hints_enabled_event_once() -> None:
    """ES-12 (AddHints' hintsEnabled): TopologyAwareHintsEnabled is announced when hints start, not at every sync."""
    cache = cache_with_ratios({A: 500, B: 500})
    info = SliceInfo(
        SERVICE_KEY, ADDRESS_TYPE_IPV4, to_create=(slice_of(endpoint("10.1.2.3", A), endpoint("10.1.2.4", B)),)
    )

    _, _, first = cache.add_hints(info)
    _, _, second = cache.add_hints(info)

    assert [e.reason for e in first] == ["TopologyAwareHintsEnabled"]
    assert second == []


def test_add_hints_endpoint_without_zone() -> None:
    """ES-12: one ready endpoint without a zone disables hints for the whole Service and address type, and
    unchanged slices that carry hints are updated without them."""
    cache = cache_with_ratios({A: 500, B: 500})
    hinted = slice_of(endpoint("10.1.2.5", A, hint=A), endpoint("10.1.2.6", B, hint=B), name="hinted")
    info = SliceInfo(
        SERVICE_KEY,
        ADDRESS_TYPE_IPV6,
        to_create=(slice_of(endpoint("10.1.2.3", A), endpoint("10.1.2.4", None)),),
        unchanged=(hinted,),
    )
    cache.set_hints(SERVICE_KEY, ADDRESS_TYPE_IPV6, {A: 1, B: 1})

    to_create, to_update, events = cache.add_hints(info)

    assert events == [TopologyEvent("Warning", "TopologyAwareHintsDisabled", f"{NO_ZONE_SPECIFIED}, addressType: IPv6")]
    assert [e.hints for s in [*to_create, *to_update] for e in s.endpoints] == [None] * 4
    assert [s.name for s in to_update] == ["hinted"]
    assert not cache.has_populated_hints(SERVICE_KEY)


def test_add_hints_fresh_cache() -> None:
    """NewTopologyCache before any SetNodes holds empty (not nil) ratios: "Nodes only ready in one zone"."""
    _, _, events = TopologyCache().add_hints(SliceInfo(SERVICE_KEY, ADDRESS_TYPE_IPV4))

    assert events == [
        TopologyEvent("Warning", "TopologyAwareHintsDisabled", f"{NODES_READY_IN_ONE_ZONE_ONLY}, addressType: IPv4")
    ]


def test_add_hints_keeps_valid_unchanged_slices() -> None:
    """getAllocatedHintsByZone: an unchanged slice whose hints still fit the allocations is not rewritten,
    and its hints count towards its zones; one with a hint for a zone that has no nodes any more is."""
    cache = cache_with_ratios({A: 500, B: 500})
    good = slice_of(endpoint("10.0.0.1", A, hint=A), endpoint("10.0.0.2", B, hint=B), name="good")
    stale = slice_of(endpoint("10.0.0.3", A, hint=C), endpoint("10.0.0.4", B, hint=B), name="stale")
    info = SliceInfo(SERVICE_KEY, ADDRESS_TYPE_IPV4, unchanged=(good, stale))

    to_create, to_update, _ = cache.add_hints(info)

    assert to_create == []
    assert [s.name for s in to_update] == ["stale"]
    assert [e.hints for e in to_update[0].endpoints] == [EndpointHints((A,)), EndpointHints((B,))]
    assert cache.endpoints_by_address_type(SERVICE_KEY) == {ADDRESS_TYPE_IPV4: {A: 2, B: 2}}


# --- TestSetNodes -----------------------------------------------------------------------------------------------

CONTROL_PLANE = {"node-role.kubernetes.io/control-plane": ""}

SET_NODES_CASES = [
    pytest.param([], False, None, None, id="empty"),
    pytest.param([node(A, "1000m")], False, None, None, id="single node"),
    pytest.param([node(A, "1000m"), node(A, "1000m")], False, None, None, id="single zone"),
    pytest.param([node(A, "1000m"), node(B, "1000m")], True, {A: 1000, B: 1000}, {A: 0.5, B: 0.5}, id="2 zones"),
    pytest.param(
        [node(A, "1000m", ready=False), node(B, "1000m")],
        False,
        None,
        None,
        id="2 zones, unready node in 1, ready node in 1",
    ),
    pytest.param(
        [node(A, "1000m"), node(B, "1000m", labels=CONTROL_PLANE)],
        False,
        None,
        None,
        id="2 zones, control plane node in 1, ready node in 1",
    ),
    pytest.param(
        [node(A, "1000m"), node(B, "1000m"), node(B, "1000m", ready=False)],
        True,
        {A: 1000, B: 1000},
        {A: 0.5, B: 0.5},
        id="2 zones, unready node in 1, ready node in 2",
    ),
    pytest.param(
        [node(A, "1000m"), node(B, "1000m"), node(B, "1000m", labels=CONTROL_PLANE)],
        True,
        {A: 1000, B: 1000},
        {A: 0.5, B: 0.5},
        id="2 zones, control plane node in 1, ready node in 2",
    ),
    pytest.param(
        [
            node(A, "1000m"),
            node(A, "1000m"),
            node(A, "1000m"),
            node(A, "2000m"),
            node(B, "3000m"),
            node(B, "1500m"),
            node(C, "500m"),
        ],
        True,
        {A: 5000, B: 4500, C: 500},
        {A: 0.5, B: 0.45, C: 0.05},
        id="3 zones, 4 nodes in 1, 2 nodes in 1, 1 node in 1",
    ),
    # Beyond upstream's table: the rules the Go comments state.
    pytest.param(
        [node(A, "1"), node(B, "1"), node("", "1")], False, None, None, id="a ready node without a zone: insufficient"
    ),
    pytest.param([node(A, "1"), node(B, "0")], False, None, None, id="a ready node without CPU: insufficient"),
    pytest.param(
        [node(A, "1"), node(B, "1"), node("", "1", labels={"node-role.kubernetes.io/master": ""})],
        True,
        {A: 1000, B: 1000},
        {A: 0.5, B: 0.5},
        id="a master node without a zone is ignored",
    ),
    pytest.param(
        [node(A, "32"), node(B, "500m")],
        True,
        {A: 32000, B: 500},
        {A: 32000 / 32500, B: 500 / 32500},
        id="whole cores and millicores",
    ),
]


@pytest.mark.parametrize(("nodes", "sufficient", "cpu_by_zone", "ratios"), SET_NODES_CASES)
def test_set_nodes(
    nodes: list[Node],
    sufficient: bool,
    cpu_by_zone: Mapping[str, int] | None,
    ratios: Mapping[str, float] | None,
) -> None:
    """ES-12: the CPU of ready, non-control-plane nodes by zone; fewer than 2 zones, or any counted node
    without a zone or CPU, leaves no ratios at all."""
    cache = TopologyCache()

    cache.set_nodes(nodes)

    assert cache.sufficient_node_info == sufficient
    assert (None if cache.cpu_by_zone is None else dict(cache.cpu_by_zone)) == cpu_by_zone
    assert (None if cache.cpu_ratios_by_zone is None else dict(cache.cpu_ratios_by_zone)) == ratios


# --- GetOverloadedServices (checkNodeTopologyDistribution's question) ---------------------------------------------


def test_get_overloaded_services() -> None:
    """ES-12: after a node change, the Services whose hinted zones now fall short of their CPU share (or that
    have hints while the nodes no longer allow any) are the ones the controller syncs again."""
    cache = cache_with_ratios({A: 500, B: 500})
    cache.set_hints("ns/balanced", ADDRESS_TYPE_IPV4, {A: 2, B: 2})
    cache.set_hints("ns/lopsided", ADDRESS_TYPE_IPV4, {A: 3, B: 1})
    assert cache.get_overloaded_services() == ["ns/lopsided"]

    cache.set_nodes([node(A, "1000m"), node(B, "1000m"), node(C, "2000m")])
    assert cache.get_overloaded_services() == ["ns/balanced", "ns/lopsided"]  # zone-c has no hints

    cache.set_nodes([node(A, "1000m")])
    assert cache.get_overloaded_services() == ["ns/balanced", "ns/lopsided"]


@pytest.mark.parametrize(
    ("zone_info", "ratios", "overloaded"),
    [
        pytest.param({}, {A: 0.5, B: 0.5}, False, id="no hints"),
        pytest.param({A: 1}, {}, True, id="hints but no ratios"),
        pytest.param({A: 5, B: 5}, {A: 0.5, B: 0.5}, False, id="even"),
        pytest.param({A: 6, B: 4}, {A: 0.5, B: 0.5}, True, id="zone-b below its minimum of 5"),
        pytest.param({A: 5, B: 5}, {A: 0.4, B: 0.4, C: 0.2}, True, id="a zone without hints"),
    ],
)
def test_service_overloaded(zone_info: Mapping[str, int], ratios: Mapping[str, float], overloaded: bool) -> None:
    """serviceOverloaded: some zone gets fewer endpoints than ceil(total * ratio / (1 + threshold))."""
    assert service_overloaded(zone_info, ratios) is overloaded


def test_remove_hints() -> None:
    """RemoveHints forgets one address type; HasPopulatedHints is then false for the Service altogether."""
    cache = TopologyCache()
    cache.set_hints(SERVICE_KEY, ADDRESS_TYPE_IPV4, {A: 1})
    cache.set_hints(SERVICE_KEY, ADDRESS_TYPE_IPV6, {A: 1})

    cache.remove_hints(SERVICE_KEY, ADDRESS_TYPE_IPV4)

    assert cache.endpoints_by_address_type(SERVICE_KEY) == {ADDRESS_TYPE_IPV6: {A: 1}}
    assert not cache.has_populated_hints(SERVICE_KEY)
    cache.remove_hints(SERVICE_KEY, ADDRESS_TYPE_IPV6)
    assert cache.endpoints_by_address_type(SERVICE_KEY) is None


# --- Test_redistributeHints -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slices", "giving", "receiving", "redistributions"),
    [
        pytest.param([], {}, {}, {}, id="empty"),
        pytest.param([slice_of(endpoint(zone=A, hint=A))], {A: 1}, {B: 1}, {A: -1, B: 1}, id="single endpoint"),
        pytest.param(
            [slice_of(endpoint(zone=A, hint=A), endpoint(zone=A, hint=A), endpoint(zone=A, hint=A))],
            {A: 2},
            {B: 1, C: 1},
            {A: -2, B: 1, C: 1},
            id="endpoints from 1 zone redistributed to 2 other zones",
        ),
    ],
)
def test_redistribute_hints(
    slices: list[EndpointSlice], giving: dict[str, int], receiving: dict[str, int], redistributions: dict[str, int]
) -> None:
    """ES-12: endpoints of giving zones are re-hinted for receiving zones, one by one, in slice order."""
    hinted, actual = redistribute_hints(slices, giving, receiving)

    assert actual == redistributions
    moved = [e.hints.for_zones[0] for s in hinted for e in s.endpoints if e.hints and e.hints.for_zones[0] != e.zone]
    assert sorted(moved) == sorted(zone for zone, diff in redistributions.items() for _ in range(max(diff, 0)))


# --- Test_getGivingAndReceivingZones ----------------------------------------------------------------------------


def desired(**zones: float) -> dict[str, Allocation]:
    return {zone.replace("_", "-"): Allocation(desired=value) for zone, value in zones.items()}


@pytest.mark.parametrize(
    ("allocations", "allocated", "giving", "receiving"),
    [
        pytest.param({}, {}, {}, {}, id="empty"),
        pytest.param(
            desired(zone_a=1.2, zone_b=1.1, zone_c=1.0),
            {A: 1, B: 1, C: 1},
            {},
            {},
            id="simple allocation with no need for rebalancing",
        ),
        pytest.param(
            desired(zone_a=5.1, zone_b=5.1, zone_c=5.8),
            {A: 16},
            {A: 10},
            {B: 5, C: 5},
            id="preference for same zone even when giving an extra endpoint would result in slightly better distribution",
        ),
        pytest.param(
            desired(zone_a=5.0, zone_b=5.6, zone_c=5.4),
            {A: 16},
            {A: 11},
            {B: 6, C: 5},
            id="when 2 zones need < 1 endpoint, give to zone that needs endpoint most",
        ),
        pytest.param(
            desired(zone_a=5.0, zone_b=5.6, zone_c=5.4),
            {B: 8, C: 8},
            {B: 2, C: 3},
            {A: 5},
            id="when 2 zones have extra endpoints, give from zone with most extra",
        ),
        pytest.param(
            desired(zone_a=5.0, zone_b=5.0, zone_c=5.0),
            {A: 6, B: 6, C: 6},
            {},
            {},
            id="ensure function can handle unexpected data (more allocated than allocations)",
        ),
        pytest.param(
            desired(zone_a=-5.0, zone_b=-5.0, zone_c=-5.0),
            {A: 6, B: 6, C: 6},
            {},
            {},
            id="ensure function can handle unexpected data (negative allocations)",
        ),
        pytest.param(
            desired(zone_a=5.0, zone_b=5.0, zone_c=5.0),
            {A: -4, B: -3, C: -2},
            {},
            {},
            id="ensure function can handle unexpected data (negative allocated)",
        ),
        pytest.param(
            desired(zone_a=5.0, zone_b=5.0, zone_c=5.0),
            {A: -40, B: 20, C: 20},
            {B: 15, C: 15},
            {A: 30},
            id="ensure function can handle unexpected data (negative for 1 zone)",
        ),
    ],
)
def test_get_giving_and_receiving_zones(
    allocations: dict[str, Allocation],
    allocated: dict[str, int],
    giving: dict[str, int],
    receiving: dict[str, int],
) -> None:
    """ES-12: whole endpoints move from the zone with the most surplus to the zone with the most need, while
    that clearly helps (at least half an endpoint each side, and a whole one on one side)."""
    assert get_giving_and_receiving_zones(allocations, allocated) == (giving, receiving)


# --- Test_getHintsByZone ----------------------------------------------------------------------------------------


def maximum(**zones: int) -> dict[str, Allocation]:
    return {zone.replace("_", "-"): Allocation(maximum=value) for zone, value in zones.items()}


@pytest.mark.parametrize(
    ("slice_", "allocated", "allocations", "hints_by_zone"),
    [
        pytest.param(slice_of(), {}, {}, {}, id="empty"),
        pytest.param(slice_of(endpoint(zone=A, hint=A)), {A: 1}, maximum(zone_a=3), {A: 1}, id="single zone hint"),
        pytest.param(
            slice_of(
                endpoint(zone=A, hint=A), endpoint(zone=A, hint=A, ready=False), endpoint(zone=A, hint=A, ready=None)
            ),
            {A: 1},
            maximum(zone_a=3),
            {A: 1},
            id="single zone hint with 1 unready endpoint and 1 unknown endpoint",
        ),
        pytest.param(
            slice_of(endpoint(zone=A, hint=A), endpoint(zone=A, hint=B), endpoint(zone=B, hint=B)),
            {A: 1, B: 1, C: 1},
            maximum(zone_a=3, zone_b=3, zone_c=3),
            {A: 1, B: 2},
            id="multiple zone hints",
        ),
        pytest.param(
            slice_of(endpoint(zone=A, hint="zone-non-existent")),
            {A: 1, B: 1, C: 1},
            maximum(zone_a=3),
            None,
            id="invalid by zones that no longer requires any allocations",
        ),
        pytest.param(slice_of(endpoint(zone=A)), {}, maximum(zone_a=3), None, id="invalid by endpoints with nil hints"),
        pytest.param(
            slice_of(endpoint(zone=A, hints=EndpointHints(for_zones=()))),
            {},
            maximum(zone_a=3),
            None,
            id="invalid by endpoint with no hints",
        ),
        pytest.param(
            slice_of(endpoint(zone=A, hint=A), endpoint(zone=A, hint=A)),
            {A: 1},
            maximum(zone_a=2),
            None,
            id="invalid by hints that would make minimum allocations impossible",
        ),
    ],
)
def test_get_hints_by_zone(
    slice_: EndpointSlice,
    allocated: dict[str, int],
    allocations: dict[str, Allocation],
    hints_by_zone: dict[str, int] | None,
) -> None:
    """ES-12: the zone hints of a slice's ready endpoints, or None when the slice must be rewritten."""
    assert get_hints_by_zone(slice_, allocated, allocations) == hints_by_zone


# --- Test_getTotalReadyEndpoints (sliceinfo_test.go) ------------------------------------------------------------


def slice_with_n_endpoints(ready: int, unready: int) -> EndpointSlice:
    """sliceWithNEndpoints: `ready` ready endpoints, then `unready` not-ready ones."""
    endpoints = [endpoint(f"10.1.2.{i}", ready=i < ready) for i in range(ready + unready)]
    return slice_of(*endpoints)


@pytest.mark.parametrize(
    ("slice_info", "total_ready", "total"),
    [
        pytest.param(SliceInfo("", ""), 0, 0, id="empty"),
        pytest.param(SliceInfo("", "", to_create=(slice_with_n_endpoints(0, 0),)), 0, 0, id="empty slice"),
        pytest.param(
            SliceInfo("", "", to_create=(slice_with_n_endpoints(15, 0), slice_with_n_endpoints(8, 0))),
            23,
            23,
            id="multiple slices",
        ),
        pytest.param(
            SliceInfo(
                "",
                "",
                to_create=(slice_with_n_endpoints(15, 0), slice_with_n_endpoints(8, 0)),
                to_update=(slice_with_n_endpoints(2, 0),),
                unchanged=(slice_with_n_endpoints(100, 0), slice_with_n_endpoints(90, 0)),
            ),
            215,
            215,
            id="slices for all",
        ),
        pytest.param(
            SliceInfo(
                "",
                "",
                to_create=(slice_with_n_endpoints(15, 3), slice_with_n_endpoints(5, 4)),
                to_update=(slice_with_n_endpoints(3, 8),),
                unchanged=(slice_with_n_endpoints(98, 2), slice_with_n_endpoints(90, 6)),
            ),
            211,
            234,
            id="slices for all with some unready",
        ),
    ],
)
def test_get_total_ready_endpoints(slice_info: SliceInfo, total_ready: int, total: int) -> None:
    """ES-12: only ready endpoints are shared out between zones."""
    slices = (*slice_info.to_create, *slice_info.to_update, *slice_info.unchanged)
    assert sum(len(s.endpoints) for s in slices) == total  # the helper, as upstream checks it
    assert slice_info.total_ready_endpoints() == total_ready


# --- the Node view's allocatable CPU ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpu", "millis"),
    [("32", 32000), ("500m", 500), ("1.5", 1500), ("2k", 2_000_000), ("1e-3", 1), ("100u", 1), ("", 0), ("lots", 0)],
)
def test_node_allocatable_cpu(cpu: str, millis: int) -> None:
    """status.allocatable.cpu as resource.Quantity's MilliValue (rounded up); unparsable counts as none."""
    assert node(A, cpu).allocatable_cpu_millis == millis
