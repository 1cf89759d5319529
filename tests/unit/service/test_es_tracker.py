"""Ports of k8s.io/endpointslice util/endpointslice_tracker_test.go: the generations of the slices we wrote.

No ES item names the tracker: it guards the writes of ES-09..ES-11 against an informer cache that has not
caught up with them (a duplicate create, a lost update), and keeps our own writes from waking us (ES-01).

Upstream's tracker finds a slice's Service from its kubernetes.io/service-name label; ours is handed the
Service key (`namespace/name`) by the glue, which computes it the same way (ServiceControllerKey). `key_of`
below does that, so the rows read as upstream's. Test names are upstream's, rows keep its case names.
"""

from __future__ import annotations

import dataclasses

import pytest

from operators.controllers.service.slices import EndpointSlice
from operators.controllers.service.tracker import EndpointSliceTracker
from operators.controllers.service.utils import SERVICE_NAME_LABEL

EP_SLICE_1 = EndpointSlice(
    namespace="ns1", name="example-1", uid="original", generation=1, labels={SERVICE_NAME_LABEL: "svc1"}
)
EP_SLICE_1_DIFFERENT_NS = dataclasses.replace(EP_SLICE_1, namespace="ns2", uid="diff-ns")
EP_SLICE_1_DIFFERENT_SERVICE = dataclasses.replace(EP_SLICE_1, labels={SERVICE_NAME_LABEL: "svc2"}, uid="diff-svc")
EP_SLICE_1_NEWER_GEN = dataclasses.replace(EP_SLICE_1, generation=2)
SVC1 = "ns1/svc1"


def key_of(slice_: EndpointSlice) -> str:
    """getServiceNN: the slice's namespace and service-name label."""
    return f"{slice_.namespace}/{slice_.labels.get(SERVICE_NAME_LABEL, '')}"


def generations(tracker: EndpointSliceTracker, service: str) -> dict[str, int]:
    """generationsByService[service]: upstream's tests read the private map too."""
    return dict(tracker._by_service.get(service, {}))


# --- TestEndpointSliceTrackerUpdate --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checks_param", "expect_has", "expect_should_sync"),
    [
        pytest.param(EP_SLICE_1, True, False, id="same slice"),
        pytest.param(EP_SLICE_1_DIFFERENT_NS, False, True, id="different namespace"),
        pytest.param(EP_SLICE_1_DIFFERENT_SERVICE, False, True, id="different service"),
        pytest.param(EP_SLICE_1_NEWER_GEN, True, True, id="newer generation"),
    ],
)
def test_endpoint_slice_tracker_update(checks_param: EndpointSlice, expect_has: bool, expect_should_sync: bool) -> None:
    """ES-01: our own write is known (no resync for its echo); a newer generation is someone else's write."""
    tracker = EndpointSliceTracker()

    tracker.update(key_of(EP_SLICE_1), EP_SLICE_1)

    assert tracker.has(key_of(checks_param), checks_param) is expect_has
    assert tracker.should_sync(key_of(checks_param), checks_param) is expect_should_sync
    assert generations(tracker, SVC1) == {"original": 1}


# --- TestEndpointSliceTrackerStaleSlices ---------------------------------------------------------------------------


def _tracker_with(tracked: dict[str, int] | None, deleted: tuple[str, ...] = ()) -> EndpointSliceTracker:
    """An EndpointSliceTracker whose generationsByService holds `tracked` (and expected deletions) for ns1/svc1."""
    tracker = EndpointSliceTracker()
    if tracked is not None:
        tracker._by_service[SVC1] = dict(tracked)
    for uid in deleted:
        tracker.expect_deletion(SVC1, dataclasses.replace(EP_SLICE_1, uid=uid))
    return tracker


@pytest.mark.parametrize(
    ("tracker", "slices_param", "expect_newer"),
    [
        pytest.param(_tracker_with(None), [], False, id="empty tracker"),
        pytest.param(_tracker_with({}), [], False, id="empty slices"),
        pytest.param(_tracker_with({"original": 1}), [EP_SLICE_1], False, id="matching slices"),
        pytest.param(_tracker_with({"original": 2}), [EP_SLICE_1], True, id="newer slice in tracker"),
        pytest.param(_tracker_with({"original": 1}), [EP_SLICE_1_NEWER_GEN], False, id="newer slice in params"),
        pytest.param(
            _tracker_with({}, ("original",)), [EP_SLICE_1], True, id="slice in params is expected to be deleted"
        ),
        pytest.param(_tracker_with({"original": 1}), [], True, id="slice in tracker but not in params"),
    ],
)
def test_endpoint_slice_tracker_stale_slices(
    tracker: EndpointSliceTracker, slices_param: list[EndpointSlice], expect_newer: bool
) -> None:
    """ES-09..ES-11: a cache that misses one of our writes (an older generation, a slice we deleted, a slice we created)
    is stale: the sync is retried instead of acting on it."""
    assert tracker.stale_slices(SVC1, slices_param) is expect_newer


def test_endpoint_slice_tracker_stale_slices_deleted_and_gone() -> None:
    """ES-10: the other half of "expected to be deleted": once the cache no longer shows the slice, it is not stale."""
    assert _tracker_with({"original": 1}, ("gone",)).stale_slices(SVC1, [EP_SLICE_1]) is False


# --- TestEndpointSliceTrackerDeletion ------------------------------------------------------------------------------
# Upstream's rows also carry a deleteParam that its loop never uses (it always calls HandleDeletion(epSlice1)).


@pytest.mark.parametrize(
    ("expect_deletion_param", "checks_param", "expect_has", "expect_should_sync", "expected_resp"),
    [
        pytest.param(EP_SLICE_1, EP_SLICE_1, True, True, True, id="same slice"),
        pytest.param(EP_SLICE_1_DIFFERENT_NS, EP_SLICE_1_DIFFERENT_NS, True, True, False, id="different namespace"),
        pytest.param(
            EP_SLICE_1_DIFFERENT_NS,
            EP_SLICE_1,
            True,
            False,
            False,
            id="different namespace, check original ep slice",
        ),
        pytest.param(
            EP_SLICE_1_DIFFERENT_SERVICE, EP_SLICE_1_DIFFERENT_SERVICE, True, True, False, id="different service"
        ),
        pytest.param(
            EP_SLICE_1_DIFFERENT_SERVICE,
            EP_SLICE_1,
            True,
            False,
            False,
            id="expectDelete different service, check original ep slice, delete original",
        ),
        pytest.param(EP_SLICE_1_NEWER_GEN, EP_SLICE_1_NEWER_GEN, True, True, True, id="different generation"),
        pytest.param(
            EP_SLICE_1_NEWER_GEN,
            EP_SLICE_1,
            True,
            True,
            True,
            id="expectDelete different generation, check original ep slice, delete original",
        ),
    ],
)
def test_endpoint_slice_tracker_deletion(
    expect_deletion_param: EndpointSlice,
    checks_param: EndpointSlice,
    expect_has: bool,
    expect_should_sync: bool,
    expected_resp: bool,
) -> None:
    """ES-10: a deletion we made is expected (its watch event needs no resync); one we did not make is someone
    else's, and the Service is synced again."""
    tracker = EndpointSliceTracker()
    tracker.update(key_of(EP_SLICE_1), EP_SLICE_1)

    tracker.expect_deletion(key_of(expect_deletion_param), expect_deletion_param)

    assert tracker.has(key_of(checks_param), checks_param) is expect_has
    assert tracker.should_sync(key_of(checks_param), checks_param) is expect_should_sync
    assert tracker.handle_deletion(key_of(EP_SLICE_1), EP_SLICE_1) is expected_resp
    assert tracker.has(key_of(EP_SLICE_1), EP_SLICE_1) is False


# --- TestEndpointSliceTrackerDeleteService -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delete_service_param", "expect_has", "expect_should_sync"),
    [
        pytest.param("ns1/svc1", False, True, id="same service"),
        pytest.param("ns2/svc1", True, False, id="different namespace"),
        pytest.param("ns1/svc2", True, False, id="different service"),
    ],
)
def test_endpoint_slice_tracker_delete_service(
    delete_service_param: str, expect_has: bool, expect_should_sync: bool
) -> None:
    """ES-01: DeleteService forgets that Service's slices, and only those."""
    tracker = EndpointSliceTracker()
    tracker.update(key_of(EP_SLICE_1), EP_SLICE_1)

    tracker.delete_service(delete_service_param)

    assert tracker.has(key_of(EP_SLICE_1), EP_SLICE_1) is expect_has
    assert tracker.should_sync(key_of(EP_SLICE_1), EP_SLICE_1) is expect_should_sync
    if expect_has:
        assert generations(tracker, SVC1) == {"original": 1}


def test_endpoint_slice_tracker_handle_deletion_unknown() -> None:
    """ES-01: HandleDeletion of a slice never tracked: nothing to resync (true), and nothing is remembered."""
    tracker = EndpointSliceTracker()

    assert tracker.handle_deletion(SVC1, EP_SLICE_1) is True
    assert tracker.has(SVC1, EP_SLICE_1) is False
