"""Ports of pkg/controller/util/endpoint/trigger_time_tracker_test.go (k8s.io/endpointslice util): the
endpoints.kubernetes.io/last-change-trigger-time each sync stamps on the slices it writes (ES-08).

Upstream's tester keeps one TriggerTimeTracker per test and calls ComputeEndpointLastChangeTriggerTime with a
Service and pods; here `compute(key, service creation time, pods)`. A pod's trigger time is the last transition
time of its Ready condition, so the pods are built with only that. Test names are upstream's.
"""

from __future__ import annotations

import datetime

from operators.controllers.service.triggertime import TriggerTimeTracker
from operators.kube.objects import Pod, format_time
from tests.unit.service.builders import utc

T0 = utc(2019, 1, 1)
T1, T2, T3, T4, T5 = (T0 + datetime.timedelta(seconds=s) for s in range(1, 6))
NAMESPACE = "ttNamespace1"
SERVICE = f"{NAMESPACE}/my-service"


def create_pod(name: str, ready_time: datetime.datetime) -> Pod:
    """createPod: a pod whose Ready condition last changed at `ready_time`."""
    condition = {"type": "Ready", "status": "True", "lastTransitionTime": format_time(ready_time)}
    return Pod.from_dict({"metadata": {"namespace": NAMESPACE, "name": name}, "status": {"conditions": [condition]}})


def test_new_service_no_pods() -> None:
    """ES-08: a new Service is stamped with its creation time."""
    tracker = TriggerTimeTracker()
    assert tracker.compute(SERVICE, T2, []) == T2


def test_new_service_existing_pods() -> None:
    """ES-08: pods were created before the Service: the trigger time is when the Service was created."""
    tracker = TriggerTimeTracker()
    pods = [create_pod("pod1", T0), create_pod("pod2", T1), create_pod("pod3", T5)]
    assert tracker.compute(SERVICE, T3, pods) == T3


def test_pods_added() -> None:
    """ES-08: new pods: the earliest of their Ready transitions."""
    tracker = TriggerTimeTracker()
    assert tracker.compute(SERVICE, T0, []) == T0

    assert tracker.compute(SERVICE, T0, [create_pod("pod1", T2), create_pod("pod2", T1)]) == T1


def test_pods_updated() -> None:
    """ES-08: updated pods: the earliest Ready transition that moved."""
    tracker = TriggerTimeTracker()
    pod3 = create_pod("pod3", T3)
    assert tracker.compute(SERVICE, T0, [create_pod("pod1", T1), create_pod("pod2", T2), pod3]) == T0

    # pod3 does not change: the earliest of the changes is pod2's.
    assert tracker.compute(SERVICE, T0, [create_pod("pod1", T5), create_pod("pod2", T4), pod3]) == T4


def test_pods_updated_no_op() -> None:
    """ES-08: nothing changed since the last sync: no trigger time (the annotation is cleared)."""
    tracker = TriggerTimeTracker()
    pods = [create_pod("pod1", T1), create_pod("pod2", T2), create_pod("pod3", T3)]
    assert tracker.compute(SERVICE, T0, pods) == T0

    assert tracker.compute(SERVICE, T0, pods) is None  # nothing has changed


def test_pod_deleted_then_added() -> None:
    """ES-08: a pod removed and back is a change again."""
    tracker = TriggerTimeTracker()
    pod1 = create_pod("pod1", T1)
    assert tracker.compute(SERVICE, T0, [pod1, create_pod("pod2", T2)]) == T0

    assert tracker.compute(SERVICE, T0, [pod1]) is None

    assert tracker.compute(SERVICE, T0, [pod1, create_pod("pod2", T4)]) == T4


def test_service_deleted_then_added() -> None:
    """ES-08: a Service deleted and created again is new."""
    tracker = TriggerTimeTracker()
    pods = [create_pod("pod1", T1), create_pod("pod2", T2)]
    assert tracker.compute(SERVICE, T0, pods) == T0

    tracker.delete_service(SERVICE)

    assert tracker.compute(SERVICE, T3, pods) == T3


def test_service_updated_no_pod_change() -> None:
    """ES-08: a Service update (its ports, say) has no trigger time of its own: nothing to stamp."""
    tracker = TriggerTimeTracker()
    pods = [create_pod("pod1", T1), create_pod("pod2", T2)]
    assert tracker.compute(SERVICE, T0, pods) == T0

    assert tracker.compute(SERVICE, T0, pods) is None


def test_services_are_tracked_apart() -> None:
    """ES-08: the state is per Service key: a second Service is new even when the first has seen these pods."""
    tracker = TriggerTimeTracker()
    pods = [create_pod("pod1", T1)]
    assert tracker.compute(SERVICE, T0, pods) == T0

    assert tracker.compute(f"{NAMESPACE}/other", T2, pods) == T2
    assert tracker.compute(SERVICE, T0, pods) is None


def test_pod_without_ready_condition_has_no_trigger_time() -> None:
    """ES-08, getPodTriggerTime: a pod without a Ready condition contributes nothing."""
    tracker = TriggerTimeTracker()
    assert tracker.compute(SERVICE, T0, []) == T0
    no_condition = Pod.from_dict({"metadata": {"namespace": NAMESPACE, "name": "pod1"}})

    assert tracker.compute(SERVICE, T0, [no_condition]) is None
