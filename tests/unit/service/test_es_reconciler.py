"""Ports of k8s.io/endpointslice reconciler_test.go (and of the Endpoints controller's trigger-time tests).

Upstream runs the Reconciler against a fake clientset and counts the API actions it recorded; here `reconcile()`
returns a Plan, so each test asserts the number and the content of its creates, updates and deletes, and
`SliceStore` performs the Plan where a test goes on with the slices that result. Test names are upstream's;
table rows keep upstream's case names as pytest ids. Not ported: the metrics tests (TestReconcileEndpointSlicesMetrics*,
and the metrics half of every test), and TestPlaceHolderSliceCompare (placeholderSliceCompare is private here; its
cases are covered by TestReconcile1EndpointSlice). The topology cache itself is tested in test_es_topology.py.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from operators.controllers.service import reconciler
from operators.controllers.service.model import ServiceView
from operators.controllers.service.reconciler import Plan, reconcile
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
from operators.controllers.service.topology import TopologyCache, TopologyEvent
from operators.controllers.service.triggertime import TriggerTimeTracker
from operators.controllers.service.utils import (
    HEADLESS_LABEL,
    LAST_CHANGE_TRIGGER_TIME,
    MANAGED_BY_LABEL,
    SERVICE_NAME_LABEL,
    TOPOLOGY_AWARE_HINTS_ANNOTATION,
    new_endpoint_slice,
    pod_to_endpoint,
)
from operators.kube.objects import Node, Pod, format_time
from tests.unit.service.builders import (
    CONTROLLER_NAME,
    NAMESPACE,
    SliceStore,
    controller_ref,
    endpoint_meta,
    lengths,
    new_empty_endpoint_slice,
    new_node,
    new_pod,
    new_service,
    node_lookup,
    reconcile_helper,
    utc,
)

TRIGGER_TIME = utc(2026, 3, 1, 12, 0, 0, 123450)
TRIGGER_TIME_TEXT = "2026-03-01T12:00:00.12345Z"  # time.RFC3339Nano: trailing zeros dropped


def many_pods(count: int) -> list[Pod]:
    """The pods most tests start with: `count` of them, one in three not ready (i % 3 == 0)."""
    return [new_pod(i, ready=i % 3 != 0) for i in range(count)]


def endpoints_of(pods: list[Pod], service: ServiceView) -> list[Endpoint]:
    """podToEndpoint(pod, &corev1.Node{}, svc, IPv4) for each pod: what earlier syncs wrote (no zone)."""
    return [pod_to_endpoint(pod, None, service, ADDRESS_TYPE_IPV4) for pod in pods]


def verbs(store: SliceStore, since: int = 0) -> list[str]:
    return [verb for verb, _ in store.actions[since:]]


# --- TestReconcileEmpty --------------------------------------------------------------------------------------------


def test_reconcile_empty() -> None:
    """ES-11: even without pods, a Service gets one placeholder slice: no ports, no endpoints."""
    svc = new_service("foo")
    store = SliceStore()

    plan = reconcile_helper(store, svc, [])

    assert (len(plan.create), len(plan.update), len(plan.delete)) == (1, 0, 0)
    [slice_] = store.slices
    assert slice_.name.startswith(svc.name)
    assert slice_.labels[SERVICE_NAME_LABEL] == svc.name
    assert slice_.ports == ()
    assert slice_.endpoints == ()
    assert slice_.generation == 1


# --- TestReconcile1Pod ---------------------------------------------------------------------------------------------

POD1_NODE = new_node("node-1", zone="us-central1-a")


def _pod1_endpoint(address: str) -> Endpoint:
    return Endpoint(
        addresses=(address,),
        conditions=EndpointConditions(ready=True, serving=True, terminating=False),
        zone="us-central1-a",
        node_name="node-1",
        target_ref=ObjectReference("Pod", NAMESPACE, "pod1", ""),
    )


V4_ENDPOINT = _pod1_endpoint("1.2.3.4")
V6_ENDPOINT = _pod1_endpoint("1234::5678:0:0:9abc:def0")  # re-stringified as Go prints it (ES-05)
LABELS = {MANAGED_BY_LABEL: CONTROLLER_NAME, SERVICE_NAME_LABEL: "foo"}
HEADLESS_LABELS = {**LABELS, HEADLESS_LABEL: ""}
RESERVED_SERVICE_LABELS = {SERVICE_NAME_LABEL: "bad", MANAGED_BY_LABEL: "actor", HEADLESS_LABEL: "invalid"}

RECONCILE_1_POD = [
    pytest.param(
        {"clusterIP": "10.0.0.10", "ipFamilies": None},
        None,
        {ADDRESS_TYPE_IPV4: V4_ENDPOINT},
        LABELS,
        id="no-family-service",
    ),
    pytest.param({}, None, {ADDRESS_TYPE_IPV4: V4_ENDPOINT}, HEADLESS_LABELS, id="ipv4"),
    pytest.param({"clusterIP": "1.1.1.1"}, None, {ADDRESS_TYPE_IPV4: V4_ENDPOINT}, LABELS, id="ipv4-clusterip"),
    pytest.param(
        {}, {"foo": "bar"}, {ADDRESS_TYPE_IPV4: V4_ENDPOINT}, {**HEADLESS_LABELS, "foo": "bar"}, id="ipv4-labels"
    ),
    pytest.param({}, RESERVED_SERVICE_LABELS, {ADDRESS_TYPE_IPV4: V4_ENDPOINT}, HEADLESS_LABELS, id="ipv4-bad-labels"),
    pytest.param({"ipFamilies": ["IPv6"]}, None, {ADDRESS_TYPE_IPV6: V6_ENDPOINT}, HEADLESS_LABELS, id="ipv6"),
    pytest.param(
        {"clusterIP": "1234::5678:0000:0000:9abc:def1", "ipFamilies": ["IPv6"]},
        None,
        {ADDRESS_TYPE_IPV6: V6_ENDPOINT},
        LABELS,
        id="ipv6-clusterip",
    ),
    pytest.param(
        {"ipFamilies": ["IPv4", "IPv6"], "clusterIP": "10.0.0.10", "clusterIPs": ["10.0.0.10", "2000::1"]},
        None,
        {ADDRESS_TYPE_IPV6: V6_ENDPOINT, ADDRESS_TYPE_IPV4: V4_ENDPOINT},
        LABELS,
        id="dualstack-service",
    ),
]


@pytest.mark.parametrize(("spec", "labels", "expected_endpoint_per_slice", "expected_labels"), RECONCILE_1_POD)
def test_reconcile_1_pod(
    spec: Mapping[str, Any],
    labels: Mapping[str, str] | None,
    expected_endpoint_per_slice: Mapping[str, Endpoint],
    expected_labels: Mapping[str, str],
) -> None:
    """ES-04, ES-05, ES-07, ES-08: one dual-stack pod makes one slice per address type of the Service.

    The pod has a hostname but no subdomain, so no endpoint gets one. Upstream's table has no topology-mode
    Auto row in this version; the hints rows are in test_reconcile_traffic_distribution.
    """
    svc = new_service("foo", spec=spec, labels=labels)
    pod1 = new_pod(1, pod_ips=["1.2.3.4", "1234::5678:0000:0000:9abc:def0"], hostname="example-hostname")

    plan = reconcile(
        svc, [pod1], [], node_lookup([POD1_NODE]), trigger_time=TRIGGER_TIME, controller_name=CONTROLLER_NAME
    )

    assert (len(plan.create), len(plan.update), len(plan.delete), plan.errors) == (
        len(expected_endpoint_per_slice),
        0,
        0,
        [],
    )
    assert {s.address_type for s in plan.create} == set(expected_endpoint_per_slice)
    for slice_ in plan.create:
        assert slice_.generate_name.startswith(svc.name)
        assert dict(slice_.labels) == expected_labels
        assert slice_.annotations[LAST_CHANGE_TRIGGER_TIME] == TRIGGER_TIME_TEXT
        assert slice_.endpoints == (expected_endpoint_per_slice[slice_.address_type],)


# --- TestReconcile1EndpointSlice -----------------------------------------------------------------------------------


def _reconcile_1_endpoint_slice_cases() -> list[Any]:
    svc = new_service("foo")
    placeholder = dataclasses.replace(
        new_endpoint_slice(svc, (), ADDRESS_TYPE_IPV4, CONTROLLER_NAME), name="foo-abcde", uid="foo-abcde-uid"
    )
    different = new_empty_endpoint_slice(1, NAMESPACE, endpoint_meta(), svc, labels={"bar": "baz"})
    return [
        pytest.param(None, (1, 0, 0), id="No existing placeholder"),
        pytest.param(placeholder, (0, 0, 0), id="Existing placeholder that's the same"),
        pytest.param(different, (0, 1, 0), id="Existing placeholder that's different"),
    ]


@pytest.mark.parametrize(("existing", "writes"), _reconcile_1_endpoint_slice_cases())
def test_reconcile_1_endpoint_slice(existing: EndpointSlice | None, writes: tuple[int, int, int]) -> None:
    """ES-11: the placeholder is not churned; a different empty slice is turned into it (ES-10: by an update)."""
    svc = new_service("foo")
    store = SliceStore([existing] if existing is not None else [])

    plan = reconcile_helper(store, svc, [])

    assert (len(plan.create), len(plan.update), len(plan.delete)) == writes
    [slice_] = store.slices
    assert slice_.name.startswith(svc.name)
    assert slice_.labels[SERVICE_NAME_LABEL] == svc.name
    assert slice_.ports == ()
    assert slice_.endpoints == ()
    if existing is not None and writes == (0, 1, 0):
        assert slice_.name == existing.name  # recycled, not deleted and created
        assert "bar" not in slice_.labels


# --- TestReconcile1EndpointSlicePublishNotReadyAddresses -----------------------------------------------------------


def test_reconcile_1_endpoint_slice_publish_not_ready_addresses() -> None:
    """ES-04: with publishNotReadyAddresses every endpoint is ready, whatever its pod says."""
    svc = new_service("foo", spec={"publishNotReadyAddresses": True})
    store = SliceStore()

    plan = reconcile_helper(store, svc, many_pods(50))

    assert verbs(store) == ["create"]
    assert plan.update == plan.delete == []
    assert lengths(store.slices) == [50]
    assert all(e.conditions.ready is True for s in store.slices for e in s.endpoints)
    assert any(e.conditions.serving is False for s in store.slices for e in s.endpoints)


# --- TestReconcileManyPods -----------------------------------------------------------------------------------------


def test_reconcile_many_pods() -> None:
    """ES-02, ES-09: 250 pods and no slices make three creates, two of them full."""
    store = SliceStore()

    reconcile_helper(store, new_service("foo"), many_pods(250))

    assert verbs(store) == ["create"] * 3
    assert lengths(store.slices) == [50, 100, 100]


# --- TestReconcileEndpointSlicesSomePreexisting(WorseAllocation) ---------------------------------------------------


def _two_quarter_slices(pods: list[Pod], svc: ServiceView) -> list[EndpointSlice]:
    """Two existing slices holding about a quarter of the pods each: pods 1, 5, 9, … and pods 3, 7, 11, …"""
    meta = endpoint_meta()
    first = new_empty_endpoint_slice(1, NAMESPACE, meta, svc, endpoints=endpoints_of(pods[1 : len(pods) - 4 : 4], svc))
    second = new_empty_endpoint_slice(2, NAMESPACE, meta, svc, endpoints=endpoints_of(pods[3 : len(pods) - 4 : 4], svc))
    return [first, second]


def test_reconcile_endpoint_slices_some_preexisting() -> None:
    """ES-09: 62 + 61 endpoints exist, 127 are missing: one new full slice, and the other 27 go into the slice
    that ends up closest to full (62 -> 89): 1 create + 1 update instead of 2 updates + 1 create."""
    svc = new_service("foo")
    pods = many_pods(250)
    existing = _two_quarter_slices(pods, svc)
    assert lengths(existing) == [61, 62]
    store = SliceStore(existing)

    plan = reconcile_helper(store, svc, pods)

    assert verbs(store) == ["create", "update"]
    assert [s.name for s in plan.update] == ["foo-1"]
    assert lengths(store.slices) == [61, 89, 100]
    assert lengths(existing) == [61, 62]  # the cached slices were not mutated (frozen views)


def test_reconcile_endpoint_slices_some_preexisting_worse_allocation() -> None:
    """ES-09: 74 + 74 exist, 152 are missing: 52 would fit only split over both slices, so a second slice is
    created instead (2 creates rather than 2 updates + 1 create)."""
    svc = new_service("foo")
    pods = many_pods(300)
    store = SliceStore(_two_quarter_slices(pods, svc))

    plan = reconcile_helper(store, svc, pods)

    assert verbs(store) == ["create", "create"]
    assert plan.update == plan.delete == []
    assert lengths(store.slices) == [52, 74, 74, 100]


# --- TestReconcileEndpointSlicesUpdating / ServicesLabelsUpdating / ServicesReservedLabels --------------------------


def _target_port(port: int) -> dict[str, Any]:
    return {"ports": [{"targetPort": port, "protocol": "TCP", "name": "foo"}]}


def test_reconcile_endpoint_slices_updating() -> None:
    """ES-06, ES-10: a new target port puts every endpoint in a new port group; the creates that makes are
    turned into updates of the slices of the old group, so there are 3 updates and no create or delete."""
    pods = many_pods(250)
    store = SliceStore()
    reconcile_helper(store, new_service("foo"), pods)
    assert verbs(store) == ["create"] * 3
    assert lengths(store.slices) == [50, 100, 100]

    plan = reconcile_helper(store, new_service("foo", spec=_target_port(81)), pods)

    assert verbs(store, 3) == ["update"] * 3
    assert plan.create == plan.delete == []
    assert lengths(store.slices) == [50, 100, 100]
    assert {s.ports for s in store.slices} == {(EndpointPort("foo", 81, "TCP"),)}


def test_reconcile_endpoint_slices_services_labels_updating() -> None:
    """ES-08: a new Service label is copied onto every slice by updates, not by re-creating them."""
    pods = many_pods(250)
    store = SliceStore()
    reconcile_helper(store, new_service("foo"), pods)

    plan = reconcile_helper(store, new_service("foo", labels={"foo": "bar"}), pods)

    assert verbs(store, 3) == ["update"] * 3
    assert plan.create == plan.delete == []
    assert lengths(store.slices) == [50, 100, 100]
    assert all(s.labels["foo"] == "bar" for s in store.slices)


def test_reconcile_endpoint_slices_services_reserved_labels() -> None:
    """ES-08: the reserved labels on a Service (service-name, managed-by, headless) are not copied: no writes."""
    pods = many_pods(250)
    store = SliceStore()
    reconcile_helper(store, new_service("foo"), pods)

    plan = reconcile_helper(store, new_service("foo", labels=RESERVED_SERVICE_LABELS), pods)

    assert plan.empty
    assert len(store.actions) == 3
    assert lengths(store.slices) == [50, 100, 100]
    assert all(s.labels[SERVICE_NAME_LABEL] == "foo" for s in store.slices)


# --- TestReconcileEndpointSlicesRecycling --------------------------------------------------------------------------


def test_reconcile_endpoint_slices_recycling() -> None:
    """ES-09, ES-10: ten slices of 30 are left alone while they are right; once every slice must change, the
    endpoints are repacked into 3 full slices by recycling: 3 updates and 7 deletes, no create."""
    svc = new_service("foo")
    pods = many_pods(300)
    existing = [
        new_empty_endpoint_slice(
            n, NAMESPACE, endpoint_meta(), svc, endpoints=endpoints_of(pods[n * 30 : n * 30 + 30], svc)
        )
        for n in range(10)
    ]
    store = SliceStore(existing)

    first = reconcile_helper(store, svc, pods)
    assert first.empty  # all pods are accounted for: no repacking

    plan = reconcile_helper(store, new_service("foo", spec=_target_port(81)), pods)

    assert (len(plan.create), len(plan.update), len(plan.delete)) == (0, 3, 7)
    assert lengths(store.slices) == [100, 100, 100]
    assert {s.name for s in store.slices} < {s.name for s in existing}


# --- TestReconcileEndpointSlicesUpdatePacking ----------------------------------------------------------------------


def test_reconcile_endpoint_slices_update_packing() -> None:
    """ES-09: new endpoints go first into the slices being updated anyway, fullest first (80 -> 95), even when
    another slice (20) is being updated too."""
    svc = new_service("foo")
    in_first = [new_pod(i) for i in range(80)]
    in_second = [new_pod(i) for i in range(100, 120)]
    store = SliceStore(
        [
            new_empty_endpoint_slice(1, NAMESPACE, endpoint_meta(), svc, endpoints=endpoints_of(in_first, svc)),
            new_empty_endpoint_slice(2, NAMESPACE, endpoint_meta(), svc, endpoints=endpoints_of(in_second, svc)),
        ]
    )
    # One pod in ten turns not ready, so that endpoints of both slices change.
    pods = [new_pod(int(p.name[3:]), ready=i % 10 != 0) for i, p in enumerate([*in_first, *in_second])]
    pods += [new_pod(i) for i in range(200, 215)]  # no more than either slice could take

    plan = reconcile_helper(store, svc, pods)

    assert verbs(store) == ["update", "update"]
    assert plan.create == plan.delete == []
    assert lengths(store.slices) == [20, 95]
    first = store.get("foo-1")
    assert first is not None and len(first.endpoints) == 95


# --- TestReconcileEndpointSlicesReplaceDeprecated ------------------------------------------------------------------


def test_reconcile_endpoint_slices_replace_deprecated() -> None:
    """ES-07: slices of the deprecated address type "IP" are deleted, and new IPv4 slices perfectly packed."""
    svc = new_service("foo")
    in_first = [new_pod(i) for i in range(80)]
    in_second = [new_pod(i) for i in range(100, 150)]
    store = SliceStore(
        [
            new_empty_endpoint_slice(
                1, NAMESPACE, endpoint_meta(), svc, address_type="IP", endpoints=endpoints_of(in_first, svc)
            ),
            new_empty_endpoint_slice(
                2, NAMESPACE, endpoint_meta(), svc, address_type="IP", endpoints=endpoints_of(in_second, svc)
            ),
        ]
    )

    plan = reconcile_helper(store, svc, [*in_first, *in_second])

    assert verbs(store) == ["create", "create", "delete", "delete"]
    assert plan.update == []
    assert lengths(store.slices) == [30, 100]
    assert {s.address_type for s in store.slices} == {ADDRESS_TYPE_IPV4}


# --- TestReconcileEndpointSlicesRecreation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("owned_by_service", "expected_verbs"),
    [
        pytest.param(True, [], id="slice owned by Service"),
        pytest.param(False, ["create", "delete"], id="slice owned by other Service UID"),
    ],
)
def test_reconcile_endpoint_slices_recreation(owned_by_service: bool, expected_verbs: list[str]) -> None:
    """ES-10: a slice of a deleted namesake (another UID) is deleted, never recycled into the new Service's."""
    svc = new_service("foo")
    pod = new_pod(1)
    slice_ = new_empty_endpoint_slice(1, NAMESPACE, endpoint_meta(), svc, endpoints=endpoints_of([pod], svc))
    if not owned_by_service:
        slice_ = dataclasses.replace(
            slice_, owner_references=(dataclasses.replace(controller_ref(svc), uid="different"),)
        )
    store = SliceStore([slice_])

    reconcile_helper(store, svc, [pod])

    assert verbs(store) == expected_verbs
    assert len(store.slices) == 1


# --- TestReconcileEndpointSlicesNamedPorts -------------------------------------------------------------------------


def test_reconcile_endpoint_slices_named_ports() -> None:
    """ES-06: a named targetPort resolves per pod; pods resolving it to different numbers go to different slices."""
    svc = new_service(
        "named-port-example",
        spec={"ports": [{"targetPort": "http", "protocol": "TCP"}], "selector": {"foo": "bar"}, "ipFamilies": ["IPv4"]},
    )
    pods = [
        new_pod(
            i, ready=i % 3 != 0, container_ports=[{"name": "http", "containerPort": 8080 + i % 5, "protocol": "TCP"}]
        )
        for i in range(300)
    ]
    store = SliceStore()

    reconcile_helper(store, svc, pods)

    assert verbs(store) == ["create"] * 5
    assert lengths(store.slices) == [60] * 5
    assert {(s.ports, s.address_type) for s in store.slices} == {
        ((EndpointPort("", 8080 + i, "TCP"),), ADDRESS_TYPE_IPV4) for i in range(5)
    }


# --- TestReconcileMaxEndpointsPerSlice -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_endpoints_per_slice", "expected_slice_lengths"),
    [
        pytest.param(50, [50, 50, 50, 50, 50], id="maxEndpointsPerSlice: 50"),
        pytest.param(80, [10, 80, 80, 80], id="maxEndpointsPerSlice: 80"),
        pytest.param(150, [100, 150], id="maxEndpointsPerSlice: 150"),
        pytest.param(250, [250], id="maxEndpointsPerSlice: 250"),
        pytest.param(500, [250], id="maxEndpointsPerSlice: 500"),
    ],
)
def test_reconcile_max_endpoints_per_slice(max_endpoints_per_slice: int, expected_slice_lengths: list[int]) -> None:
    """ES-02: --max-endpoints-per-slice caps every slice."""
    store = SliceStore()

    plan = reconcile_helper(store, new_service("foo"), many_pods(250), max_endpoints_per_slice=max_endpoints_per_slice)

    assert len(plan.create) == len(expected_slice_lengths)
    assert lengths(store.slices) == expected_slice_lengths


# --- TestReconcilerFinalizeSvcDeletionTimestamp --------------------------------------------------------------------

FINALIZE_CASES = [
    pytest.param(False, True, True, False, (True, True, True), id="Attempt create and update, nil deletion timestamp"),
    pytest.param(True, True, True, False, (False, True, True), id="Attempt create and update, deletion timestamp set"),
    pytest.param(
        False,
        True,
        True,
        True,
        (False, True, True),
        id="Attempt create, update, and delete, nil deletion timestamp, recycling in action",
    ),
    pytest.param(
        True,
        True,
        True,
        True,
        (False, True, True),
        id="Attempt create, update, and delete, deletion timestamp set, recycling in action",
    ),
    pytest.param(True, False, True, True, (False, True, False), id="Attempt update delete, deletion timestamp set"),
]


@pytest.mark.parametrize(
    ("being_deleted", "attempt_create", "attempt_update", "attempt_delete", "expect_found"), FINALIZE_CASES
)
def test_reconciler_finalize_svc_deletion_timestamp(
    being_deleted: bool,
    attempt_create: bool,
    attempt_update: bool,
    attempt_delete: bool,
    expect_found: tuple[bool, bool, bool],
) -> None:
    """ES-10: no slice is created for a Service being deleted (the garbage collector would race it), while
    updates and deletes go on; a create is turned into an update of a slice that would be deleted.

    `expect_found` is whether slices named to-create, to-update and to-delete exist afterwards.
    """
    svc = new_service("foo", deletion_timestamp=utc(2026, 3, 1) if being_deleted else None)
    owned = EndpointSlice(namespace=NAMESPACE, owner_references=(controller_ref(svc),), ports=endpoint_meta())
    to_create = dataclasses.replace(owned, name="to-create")
    to_update = dataclasses.replace(owned, name="to-update", uid="to-update-uid", generation=1)
    to_delete = dataclasses.replace(owned, name="to-delete", uid="to-delete-uid", generation=1)
    store = SliceStore([to_update, to_delete])
    updated = to_update.with_endpoints([Endpoint(addresses=("10.2.3.4",))])
    plan = Plan(
        create=[to_create] if attempt_create else [],
        update=[updated] if attempt_update else [],
        delete=[to_delete] if attempt_delete else [],
    )

    reconciler._finalize(svc, plan, TRIGGER_TIME)
    store.apply(plan)

    found = tuple(store.get(name) is not None for name in ("to-create", "to-update", "to-delete"))
    assert found == expect_found
    after = store.get("to-update")
    assert after is not None and len(after.endpoints) == 1


# --- TestReconcilerPodMissingNode ----------------------------------------------------------------------------------

MISSING_NODE_CASES = [
    # (publishNotReady, nodes that exist, an existing slice with both pods, (create, update, delete), endpoints, error)
    pytest.param(False, ["node-0"], False, (1, 0, 0), 1, True, id="Create and publishNotReady false"),
    pytest.param(True, ["node-0"], False, (1, 0, 0), 2, False, id="Create and publishNotReady true"),
    pytest.param(False, ["node-0"], True, (0, 1, 0), 1, True, id="Update and publishNotReady false"),
    pytest.param(True, [], True, (0, 0, 0), 2, False, id="Update and publishNotReady true and all nodes missing"),
    pytest.param(True, ["node-0"], True, (0, 0, 0), 2, False, id="Update and publishNotReady true"),
    # The slice is updated (into the placeholder), not deleted.
    pytest.param(False, [], True, (0, 1, 0), 0, True, id="Update if publishNotReady false and no nodes are present"),
]


@pytest.mark.parametrize(
    ("publish_not_ready", "existing_nodes", "with_slice", "writes", "desired_endpoints", "expect_error"),
    MISSING_NODE_CASES,
)
def test_reconciler_pod_missing_node(
    publish_not_ready: bool,
    existing_nodes: list[str],
    with_slice: bool,
    writes: tuple[int, int, int],
    desired_endpoints: int,
    expect_error: bool,
) -> None:
    """ES-05: a pod whose node is not in the cache is left out, and the sync reported as failed (retried), unless
    publishNotReadyAddresses asks for every address; the other pods' slices are written all the same."""
    nodes = [new_node("node-0"), new_node("node-1")]
    pods = [new_pod(0, node_name="node-0"), new_pod(1, node_name="node-1")]
    service = new_service("foo")
    existing: list[EndpointSlice] = []
    if with_slice:
        endpoints = [
            pod_to_endpoint(pod, node, service, ADDRESS_TYPE_IPV4) for pod, node in zip(pods, nodes, strict=True)
        ]
        existing = [new_empty_endpoint_slice(1, NAMESPACE, endpoint_meta(), service, endpoints=endpoints)]
    store = SliceStore(existing)
    svc = new_service("foo", spec={"publishNotReadyAddresses": publish_not_ready})

    plan = reconcile(
        svc,
        pods,
        store.slices,
        node_lookup(n for n in nodes if n.name in existing_nodes),
        trigger_time=None,
        controller_name=CONTROLLER_NAME,
    )
    store.apply(plan)

    assert bool(plan.errors) == expect_error
    if expect_error:
        assert all("Not Found" in error for error in plan.errors)
    assert (len(plan.create), len(plan.update), len(plan.delete)) == writes
    assert len(store.slices) == 1
    assert sum(len(s.endpoints) for s in store.slices) == desired_endpoints


# --- TestReconcile_TrafficDistribution -----------------------------------------------------------------------------


def _with_cpu(node: Node, millis: int) -> Node:
    """The node with allocatable CPU (status.allocatable.cpu: "100m"), which the topology cache weighs zones by."""
    return dataclasses.replace(node, allocatable_cpu_millis=millis)


def _traffic_topology() -> tuple[list[Pod], list[Node]]:
    """node-0 in zone-a holds pod-0; node-1 in zone-b pods 1-3; node-2 in zone-c pods 4 and 5 (100m CPU each)."""
    nodes = [_with_cpu(new_node(f"node-{i}", zone=f"zone-{'abc'[i]}"), 100) for i in range(3)]
    placement = ["node-0", "node-1", "node-1", "node-1", "node-2", "node-2"]
    pods = [new_pod(i, node_name=node) for i, node in enumerate(placement)]
    return pods, nodes


TRAFFIC_CASES = [
    pytest.param(
        "PreferClose",
        "Disabled",
        {"zone-a": 1, "zone-b": 3, "zone-c": 2},
        None,
        0,
        id="trafficDistribution=PreferClose, topologyAnnotation=Disabled",
    ),
    # The annotation wins; each zone has a third of the CPU, so one of zone-b's three is hinted for zone-a.
    pytest.param(
        "PreferClose",
        "Auto",
        {"zone-a": 2, "zone-b": 2, "zone-c": 2},
        None,
        1,
        id="trafficDistribution=PreferClose, topologyAnnotation=Auto",
    ),
    pytest.param(None, "", {"": 6}, None, 0, id="trafficDistribution=nil, topologyAnnotation=<empty>"),
    pytest.param(
        "PreferSameNode",
        "Disabled",
        {"zone-a": 1, "zone-b": 3, "zone-c": 2},
        {"node-0": 1, "node-1": 3, "node-2": 2},
        0,
        id="trafficDistribution=PreferSameNode, PSTD enabled",
    ),
    # Upstream's row runs with the PreferSameTrafficDistribution gate off and expects no hints; the gate is
    # always on here (TRAFFIC_DISTRIBUTIONS), so PreferSameZone hints like PreferClose.
    pytest.param(
        "PreferSameZone",
        "Disabled",
        {"zone-a": 1, "zone-b": 3, "zone-c": 2},
        None,
        0,
        id="trafficDistribution=PreferSameZone, PSTD always enabled",
    ),
]


@pytest.mark.parametrize(
    ("traffic_distribution", "topology_annotation", "by_zone", "by_node", "cross_zone"),
    TRAFFIC_CASES,
)
def test_reconcile_traffic_distribution(
    traffic_distribution: str | None,
    topology_annotation: str,
    by_zone: Mapping[str, int],
    by_node: Mapping[str, int] | None,
    cross_zone: int,
) -> None:
    """ES-12: spec.trafficDistribution hints every ready endpoint for its own zone (and node, PreferSameNode);
    topology-mode Auto, when a topology cache is given (upstream gives one to every row), takes precedence."""
    pods, nodes = _traffic_topology()
    svc = new_service(
        "foo",
        spec={"trafficDistribution": traffic_distribution},
        annotations={TOPOLOGY_AWARE_HINTS_ANNOTATION: topology_annotation},
    )
    topology = TopologyCache()
    topology.set_nodes(nodes)

    plan = reconcile(
        svc, pods, [], node_lookup(nodes), trigger_time=None, controller_name=CONTROLLER_NAME, topology=topology
    )

    assert (len(plan.create), len(plan.update), len(plan.delete)) == (1, 0, 0)
    endpoints = [e for s in plan.create for e in s.endpoints]
    zone_hints = Counter(e.hints.for_zones[0] if e.hints and len(e.hints.for_zones) == 1 else "" for e in endpoints)
    assert dict(zone_hints) == by_zone
    crossing = [e for e in endpoints if e.hints and e.hints.for_zones and e.hints.for_zones[0] != e.zone]
    assert len(crossing) == cross_zone
    node_hints = Counter(e.hints.for_nodes[0] for e in endpoints if e.hints and len(e.hints.for_nodes) == 1)
    assert dict(node_hints) == dict(by_node or {})


def test_reconcile_traffic_distribution_topology_annotation_wins() -> None:
    """ES-12 (upstream's Auto row, run without a topology cache): topology-mode Auto still takes precedence
    over trafficDistribution, but without a cache to weigh the zones with, no endpoint is hinted."""
    pods, nodes = _traffic_topology()
    svc = new_service(
        "foo", spec={"trafficDistribution": "PreferClose"}, annotations={TOPOLOGY_AWARE_HINTS_ANNOTATION: "Auto"}
    )

    plan = reconcile(svc, pods, [], node_lookup(nodes), trigger_time=None, controller_name=CONTROLLER_NAME)

    assert [e.hints for s in plan.create for e in s.endpoints] == [None] * 6


def test_reconcile_traffic_distribution_hints_kept_then_removed() -> None:
    """ES-12 over several syncs: hinted slices are not rewritten while their hints are right; a not-ready
    endpoint gets no hint (trafficdist only hints ready ones); dropping trafficDistribution removes them."""
    pods, nodes = _traffic_topology()
    pods[5] = new_pod(5, ready=False, node_name="node-2")
    hinted = new_service("foo", spec={"trafficDistribution": "PreferClose"})
    store = SliceStore()

    reconcile_helper(store, hinted, pods, nodes)
    [slice_] = store.slices
    assert [e.hints for e in slice_.endpoints][-1] is None
    assert slice_.endpoints[0].hints == EndpointHints(for_zones=("zone-a",))

    assert reconcile_helper(store, hinted, pods, nodes).empty

    plan = reconcile_helper(store, new_service("foo"), pods, nodes)
    assert [s.name for s in plan.update] == [slice_.name]
    assert [e.hints for s in store.slices for e in s.endpoints] == [None] * 6


def test_reconcile_traffic_distribution_placement_ignores_hints() -> None:
    """ES-09 with ES-12: hints are not part of an endpoint's "changed" test (EndpointsEqualBeyondHash), so
    correctly hinted slices stay unchanged and new endpoints go to the one that ends closest to full: 8 new
    endpoints do not fit in the slice of 95, so the slice of 50 takes them all (1 update, not 2)."""
    zone_node = new_node("node-1", zone="zone-a")
    svc = new_service("foo", spec={"trafficDistribution": "PreferClose"})
    pods = [new_pod(i) for i in range(153)]

    def hinted(group: list[Pod]) -> list[Endpoint]:
        endpoints = [pod_to_endpoint(pod, zone_node, svc, ADDRESS_TYPE_IPV4) for pod in group]
        return [dataclasses.replace(e, hints=EndpointHints(for_zones=("zone-a",))) for e in endpoints]

    store = SliceStore(
        [
            new_empty_endpoint_slice(1, NAMESPACE, endpoint_meta(), svc, endpoints=hinted(pods[:95])),
            new_empty_endpoint_slice(2, NAMESPACE, endpoint_meta(), svc, endpoints=hinted(pods[95:145])),
        ]
    )

    plan = reconcile_helper(store, svc, pods, [zone_node])

    assert [s.name for s in plan.update] == ["foo-2"]
    assert plan.create == plan.delete == []
    assert lengths(store.slices) == [58, 95]
    assert all(e.hints == EndpointHints(for_zones=("zone-a",)) for s in store.slices for e in s.endpoints)


# --- TestReconcileTopology -----------------------------------------------------------------------------------------


def _topology_setup() -> tuple[ServiceView, list[Node], list[Pod], dict[str, list[Pod]], dict[str, EndpointSlice]]:
    """3 zones of 10 nodes (100m CPU each) with one pod each (pod<zone index * 100 + j>), and three slices
    written earlier without hints: zone-a-b (2 pods of zone-a, 3 of zone-b), zone-a-c (2 and 2), zone-c (3)."""
    svc = new_service("foo")
    nodes: list[Node] = []
    pods: list[Pod] = []
    for i, zone in enumerate(["zone-a", "zone-b", "zone-c"]):
        for j in range(10):
            node = _with_cpu(new_node(f"node-{zone}-{j}", zone=zone), 100)
            nodes.append(node)
            pods.append(new_pod(i * 100 + j, node_name=node.name))
    by_name = {n.name: n for n in nodes}
    slice_pods = {
        "zone-a-b": [pods[7], pods[8], pods[16], pods[17], pods[18]],
        "zone-a-c": [pods[5], pods[6], pods[25], pods[26]],
        "zone-c": [pods[27], pods[28], pods[29]],
    }
    labels = {MANAGED_BY_LABEL: CONTROLLER_NAME, SERVICE_NAME_LABEL: svc.name}
    slices = {
        name: dataclasses.replace(
            new_empty_endpoint_slice(
                0,
                NAMESPACE,
                endpoint_meta(),
                svc,
                endpoints=[pod_to_endpoint(p, by_name[p.node_name], svc, ADDRESS_TYPE_IPV4) for p in group],
                labels=labels,
            ),
            name=name,
        )
        for name, group in slice_pods.items()
    }
    return svc, nodes, pods, slice_pods, slices


TOPOLOGY_CASES = [
    # (cache, annotation, existing slices, (create, update, delete), hints by zone, cross-zone hints, event reasons)
    pytest.param(
        False,
        "auto",
        ["zone-c"],
        (0, 0, 0),
        None,
        0,
        [],
        id="no change, topologyCache disabled, annotation == auto",
    ),
    pytest.param(
        True,
        "auto",
        ["zone-c"],
        (0, 1, 0),
        {"zone-a": 1, "zone-b": 1, "zone-c": 1},
        2,
        ["TopologyAwareHintsEnabled"],
        id="enabling topologyCache, hintsAnnotation == auto",
    ),
    pytest.param(
        True,
        "auto",
        ["zone-a-c"],
        (0, 0, 0),
        None,
        0,
        ["TopologyAwareHintsDisabled"],
        id="topology enabled,  hintsAnnotation==auto, ratio beyond threshold",
    ),
    pytest.param(
        True,
        "Auto",
        ["zone-a-c", "zone-a-b"],
        (0, 2, 0),
        {"zone-a": 3, "zone-b": 3, "zone-c": 3},
        1,
        ["TopologyAwareHintsEnabled"],
        id="topology enabled, hintsAnnotation==Auto, more slices and endpoints",
    ),
    pytest.param(
        True,
        "disabled",
        ["zone-a-c", "zone-a-b"],
        (0, 0, 0),
        None,
        0,
        [],
        id="topology enabled, hintsAnnotation==disabled, more slices and endpoints",
    ),
]


@pytest.mark.parametrize(
    ("with_cache", "annotation", "existing", "writes", "hints", "cross_zone", "reasons"), TOPOLOGY_CASES
)
def test_reconcile_topology(
    with_cache: bool,
    annotation: str,
    existing: list[str],
    writes: tuple[int, int, int],
    hints: Mapping[str, int] | None,
    cross_zone: int,
    reasons: list[str],
) -> None:
    """ES-12: with a topology cache and topology-mode Auto, every endpoint gets one zone hint, the zones
    sharing them by CPU (a third each here); too few endpoints to share without overload leaves them bare."""
    base, nodes, _, slice_pods, slices = _topology_setup()
    svc = dataclasses.replace(base, annotations={TOPOLOGY_AWARE_HINTS_ANNOTATION: annotation})
    store = SliceStore(slices[name] for name in existing)
    topology: TopologyCache | None = None
    if with_cache:
        topology = TopologyCache()
        topology.set_nodes(nodes)
    pods = [pod for name in existing for pod in slice_pods[name]]

    plan = reconcile(
        svc,
        pods,
        store.slices,
        node_lookup(nodes),
        trigger_time=None,
        controller_name=CONTROLLER_NAME,
        topology=topology,
    )
    store.apply(plan)

    assert (len(plan.create), len(plan.update), len(plan.delete)) == writes
    assert [reason for _, reason, _ in plan.events] == reasons
    assert len(store.slices) == len(existing)
    endpoints = [e for s in store.slices for e in s.endpoints]
    if hints is None:
        assert all(e.hints is None or not e.hints.for_zones for e in endpoints)
        return
    assert all(e.hints is not None and len(e.hints.for_zones) == 1 and e.zone for e in endpoints)
    assert dict(Counter(e.hints.for_zones[0] for e in endpoints if e.hints)) == hints
    assert sum(1 for e in endpoints if e.hints and e.hints.for_zones[0] != e.zone) == cross_zone


def test_reconcile_topology_annotation_removed() -> None:
    """ES-12 (reconcileByAddressType's "Check 1"): once the annotation goes, the hints the cache gave are
    removed from the slices, the cache forgets them, and a TopologyAwareHintsDisabled warning says so, once."""
    base, nodes, _, slice_pods, slices = _topology_setup()
    auto = dataclasses.replace(base, annotations={TOPOLOGY_AWARE_HINTS_ANNOTATION: "Auto"})
    topology = TopologyCache()
    topology.set_nodes(nodes)
    store = SliceStore([slices["zone-c"]])
    pods = slice_pods["zone-c"]

    def sync(service: ServiceView) -> Plan:
        plan = reconcile(
            service,
            pods,
            store.slices,
            node_lookup(nodes),
            trigger_time=None,
            controller_name=CONTROLLER_NAME,
            topology=topology,
        )
        store.apply(plan)
        return plan

    assert sync(auto).events == [
        TopologyEvent("Normal", "TopologyAwareHintsEnabled", "Topology Aware Hints has been enabled, addressType: IPv4")
    ]
    assert topology.has_populated_hints(auto.key)
    assert sync(auto).empty  # the hints are right: nothing to write, nothing to announce

    plan = sync(base)

    assert plan.events == [
        TopologyEvent(
            "Warning", "TopologyAwareHintsDisabled", "Topology Aware Hints has been disabled, addressType: IPv4"
        )
    ]
    assert [s.name for s in plan.update] == ["zone-c"]
    assert [e.hints for s in store.slices for e in s.endpoints] == [None] * 3
    assert not topology.has_populated_hints(base.key)
    again = sync(base)
    assert again.empty
    assert again.events == []


def test_reconcile_topology_address_type_dropped() -> None:
    """ES-07 with ES-12: the slices of an address type the Service no longer has are deleted, and the cache
    forgets the hints it gave that address type."""
    svc = new_service("foo")  # IPv4 only
    topology = TopologyCache()
    topology.set_hints(svc.key, ADDRESS_TYPE_IPV6, {"zone-a": 1, "zone-b": 1})
    v6 = new_empty_endpoint_slice(1, NAMESPACE, endpoint_meta(), svc, address_type=ADDRESS_TYPE_IPV6)

    plan = reconcile(
        svc, [], [v6], node_lookup([]), trigger_time=None, controller_name=CONTROLLER_NAME, topology=topology
    )

    assert [s.name for s in plan.delete] == [v6.name]
    assert topology.endpoints_by_address_type(svc.key) is None


# --- TestReconcileHeadlessServiceNoPorts ---------------------------------------------------------------------------


def test_reconcile_headless_service_no_ports() -> None:
    """ES-06, ES-11: a headless Service without ports gets a slice without ports, and no churn afterwards."""
    svc = new_service(
        "headless-no-ports",
        spec={"clusterIP": "None", "ports": None, "selector": {"foo": "bar"}, "ipFamilies": ["IPv4"]},
    )
    pod = new_pod(1)
    store = SliceStore()

    reconcile_helper(store, svc, [pod])
    assert verbs(store) == ["create"]
    [slice_] = store.slices
    assert slice_.ports == ()
    assert len(slice_.endpoints) == 1

    assert reconcile_helper(store, svc, [pod]).empty


# --- TestLastTriggerChangeTimeAnnotation (endpoints_controller_test.go, on slices) ---------------------------------

OLD_TRIGGER_TIME = utc(2026, 3, 1, 11, 0, 0)
CREATED = utc(2026, 3, 1, 12, 30, 0)  # metav1.Time is stored to the second
CREATED_TEXT = "2026-03-01T12:30:00Z"


def _trigger_time_setup(
    annotations: Mapping[str, str], created: datetime.datetime | None
) -> tuple[SliceStore, ServiceView, list[Pod], datetime.datetime | None]:
    """The Endpoints test's setup as slices: an existing slice showing a stale endpoint (6.7.8.9:1000), one
    ready pod, and a Service of port 80 -> 8080; the trigger time is what the TriggerTimeTracker computes."""
    svc = new_service("foo", spec=_target_port(8080), creation_timestamp=created)
    stale = Endpoint(addresses=("6.7.8.9",), conditions=EndpointConditions(True, True, False))
    existing = new_empty_endpoint_slice(1, NAMESPACE, [EndpointPort("foo", 1000, "TCP")], svc, endpoints=[stale])
    store = SliceStore([dataclasses.replace(existing, annotations=dict(annotations))])
    pods = [new_pod(0)]
    trigger_time = TriggerTimeTracker().compute(svc.key, svc.creation_timestamp, pods)
    return store, svc, pods, trigger_time


def _assert_one_update(
    store: SliceStore, svc: ServiceView, pods: list[Pod], trigger_time: datetime.datetime | None
) -> EndpointSlice:
    plan = reconcile_helper(store, svc, pods, trigger_time=trigger_time)
    assert (len(plan.create), len(plan.update), len(plan.delete)) == (0, 1, 0)
    [slice_] = store.slices
    assert slice_.name == "foo-1"
    assert [e.addresses for e in slice_.endpoints] == [("1.2.3.4",)]
    assert slice_.ports == (EndpointPort("foo", 8080, "TCP"),)
    return slice_


def test_last_trigger_change_time_annotation() -> None:
    """ES-08: a Service seen for the first time stamps its writes with its creation time."""
    store, svc, pods, trigger_time = _trigger_time_setup({}, CREATED)
    assert trigger_time == CREATED

    slice_ = _assert_one_update(store, svc, pods, trigger_time)

    assert slice_.annotations[LAST_CHANGE_TRIGGER_TIME] == CREATED_TEXT


def test_last_trigger_change_time_annotation_annotation_overridden() -> None:
    """ES-08: an older trigger time on the slice is replaced by the new one."""
    old = {LAST_CHANGE_TRIGGER_TIME: format_time(OLD_TRIGGER_TIME)}
    store, svc, pods, trigger_time = _trigger_time_setup(old, CREATED)

    slice_ = _assert_one_update(store, svc, pods, trigger_time)

    assert slice_.annotations[LAST_CHANGE_TRIGGER_TIME] == CREATED_TEXT


def test_last_trigger_change_time_annotation_annotation_cleared() -> None:
    """ES-08: neither the pod nor the Service has a trigger time, so the annotation is removed."""
    store, svc, pods, trigger_time = _trigger_time_setup({LAST_CHANGE_TRIGGER_TIME: CREATED_TEXT}, None)
    assert trigger_time is None

    slice_ = _assert_one_update(store, svc, pods, trigger_time)

    assert LAST_CHANGE_TRIGGER_TIME not in slice_.annotations
