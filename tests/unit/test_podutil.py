"""Ports of controller_utils_test.go (TestSortingActivePodsWithRanks, TestActivePodFiltering,
TestCountTerminatingPods) and pkg/api/v1/pod/util_test.go (TestIsPodAvailable)."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from operators.controllers.podutil import (
    RankedPod,
    active_pods_with_ranks_key,
    active_pods_with_ranks_less,
    filter_active_pods,
    filter_claimed_pods,
    filter_terminating_pods,
    is_pod_active,
    is_pod_available,
    is_pod_terminating,
    logarithmic_rank_diff,
)
from operators.kube.objects import DELETION_COST_ANNOTATION, OwnerReference, Pod
from operators.kube.selectors import LabelSelector

NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=datetime.UTC)
THEN_1_MONTH = datetime.datetime(2026, 2, 1, 12, 0, 0, 123456, tzinfo=datetime.UTC)  # now.AddDate(0, -1, 0)
THEN_2_HOURS = NOW - datetime.timedelta(hours=2)
THEN_5_HOURS = NOW - datetime.timedelta(hours=5)
THEN_8_HOURS = NOW - datetime.timedelta(hours=8)


def _pod(
    name: str,
    node: str,
    phase: str,
    ready: bool,
    restarts: int,
    ready_since: datetime.datetime | None,
    created: datetime.datetime | None,
    annotations: dict[str, str] | None = None,
) -> Pod:
    """The `pod` helper of TestSortingActivePodsWithRanks: restarts and readiness only on ready pods."""
    return Pod(
        namespace="default",
        name=name,
        uid="",
        node_name=node,
        phase=phase,
        ready=ready,
        ready_since=ready_since if ready else None,
        restart_count=restarts if ready else 0,
        creation_timestamp=created,
        annotations=annotations or {},
    )


unscheduled_pod = _pod("unscheduled", "", "Pending", False, 0, None, None)
scheduled_pending_pod = _pod("pending", "node", "Pending", False, 0, None, None)
unknown_phase_pod = _pod("unknown-phase", "node", "Unknown", False, 0, None, None)
running_not_ready_pod = _pod("not-ready", "node", "Running", False, 0, None, None)
running_ready_no_last_transition_time_pod = _pod(
    "ready-no-last-transition-time", "node", "Running", True, 0, None, None
)
running_ready_now = _pod("ready-now", "node", "Running", True, 0, NOW, NOW)
running_ready_then = _pod("ready-then", "node", "Running", True, 0, THEN_1_MONTH, THEN_1_MONTH)
running_ready_now_high_restarts = _pod("ready-high-restarts", "node", "Running", True, 9001, NOW, NOW)
running_ready_now_created_then = _pod("ready-now-created-then", "node", "Running", True, 0, NOW, THEN_1_MONTH)
low_pod_deletion_cost = _pod(
    "low-deletion-cost", "node", "Running", True, 0, NOW, THEN_1_MONTH, {DELETION_COST_ANNOTATION: "10"}
)
high_pod_deletion_cost = _pod(
    "high-deletion-cost", "node", "Running", True, 0, NOW, THEN_1_MONTH, {DELETION_COST_ANNOTATION: "100"}
)
unscheduled_5_hours = _pod("unscheduled-5-hours", "", "Pending", False, 0, THEN_5_HOURS, THEN_5_HOURS)
unscheduled_8_hours = _pod("unscheduled-10-hours", "", "Pending", False, 0, THEN_8_HOURS, THEN_8_HOURS)
ready_2_hours = _pod("ready-2-hours", "", "Running", True, 0, THEN_2_HOURS, THEN_1_MONTH)
ready_5_hours = _pod("ready-5-hours", "", "Running", True, 0, THEN_5_HOURS, THEN_1_MONTH)
ready_10_hours = _pod("ready-10-hours", "", "Running", True, 0, THEN_8_HOURS, THEN_1_MONTH)


# TestSortingActivePodsWithRanks: equalityTests (p2 defaults to p1; both ranked 1).
EQUALITY_TESTS: list[tuple[Pod, Pod | None]] = [
    (unscheduled_pod, None),
    (scheduled_pending_pod, None),
    (unknown_phase_pod, None),
    (running_not_ready_pod, None),
    (running_ready_now_created_then, None),
    (running_ready_now, None),
    (running_ready_then, None),
    (running_ready_now_high_restarts, None),
    (running_ready_now_created_then, None),
    (unscheduled_5_hours, unscheduled_8_hours),  # same log2 bucket of age, same (empty) UID
    (ready_5_hours, ready_10_hours),
]


@pytest.mark.parametrize(("p1", "p2"), EQUALITY_TESTS, ids=[f"equality-{i}" for i in range(len(EQUALITY_TESTS))])
def test_sorting_active_pods_with_ranks_equality(p1: Pod, p2: Pod | None) -> None:
    a, b = RankedPod(p1, 1), RankedPod(p2 if p2 is not None else p1, 1)
    assert not active_pods_with_ranks_less(a, b, NOW)
    assert not active_pods_with_ranks_less(b, a, NOW)


# TestSortingActivePodsWithRanks: inequalityTests, (lesser, rank), (greater, rank).
INEQUALITY_TESTS: list[tuple[tuple[Pod, int], tuple[Pod, int]]] = [
    ((unscheduled_pod, 1), (scheduled_pending_pod, 2)),
    ((unscheduled_pod, 2), (scheduled_pending_pod, 1)),
    ((scheduled_pending_pod, 1), (unknown_phase_pod, 2)),
    ((unknown_phase_pod, 1), (running_not_ready_pod, 2)),
    ((running_not_ready_pod, 1), (running_ready_no_last_transition_time_pod, 1)),
    ((running_ready_no_last_transition_time_pod, 1), (running_ready_now, 1)),
    ((running_ready_now, 2), (running_ready_no_last_transition_time_pod, 1)),
    ((running_ready_now, 1), (running_ready_then, 1)),
    ((running_ready_now, 2), (running_ready_then, 1)),
    ((running_ready_now_high_restarts, 1), (running_ready_now, 1)),
    ((running_ready_now, 2), (running_ready_now_high_restarts, 1)),
    ((running_ready_now, 1), (running_ready_now_created_then, 1)),
    ((running_ready_now_created_then, 2), (running_ready_now, 1)),
    ((low_pod_deletion_cost, 2), (high_pod_deletion_cost, 1)),
    ((ready_2_hours, 1), (ready_5_hours, 1)),
]


@pytest.mark.parametrize(
    ("lesser", "greater"), INEQUALITY_TESTS, ids=[f"inequality-{i}" for i in range(len(INEQUALITY_TESTS))]
)
def test_sorting_active_pods_with_ranks_inequality(lesser: tuple[Pod, int], greater: tuple[Pod, int]) -> None:
    a, b = RankedPod(*lesser), RankedPod(*greater)
    assert active_pods_with_ranks_less(a, b, NOW), f"{a.pod.name} (rank {a.rank}) should sort first"
    assert not active_pods_with_ranks_less(b, a, NOW), f"{b.pod.name} (rank {b.rank}) should not sort first"


def test_sorting_active_pods_with_ranks_deletion_cost_disabled() -> None:
    # Upstream inequality case 14 runs with the PodDeletionCost gate off: the annotation is then ignored and
    # the higher rank wins. This controller always honours the annotation, so the case is expressed as
    # "pods without the annotation", and the gate-on behaviour (cost beats rank) is asserted beside it.
    high = RankedPod(dataclasses.replace(high_pod_deletion_cost, annotations={}), 2)
    low = RankedPod(dataclasses.replace(low_pod_deletion_cost, annotations={}), 1)
    assert active_pods_with_ranks_less(high, low, NOW)
    assert not active_pods_with_ranks_less(low, high, NOW)
    assert active_pods_with_ranks_less(RankedPod(low_pod_deletion_cost, 1), RankedPod(high_pod_deletion_cost, 2), NOW)


def test_sorting_active_pods_with_ranks_sorted_order() -> None:
    # Every pair of the inequality table agrees with a full sort that uses the key.
    pods = [
        RankedPod(running_ready_then, 1),
        RankedPod(running_ready_now, 1),
        RankedPod(running_not_ready_pod, 1),
        RankedPod(unknown_phase_pod, 1),
        RankedPod(scheduled_pending_pod, 1),
        RankedPod(unscheduled_pod, 1),
        RankedPod(running_ready_no_last_transition_time_pod, 1),
    ]
    ordered = [p.pod.name for p in sorted(pods, key=active_pods_with_ranks_key(NOW))]
    assert ordered == [
        "unscheduled",
        "pending",
        "unknown-phase",
        "not-ready",
        "ready-no-last-transition-time",
        "ready-now",
        "ready-then",
    ]


def test_same_log2_bucket_breaks_ties_by_lower_uid() -> None:
    older = dataclasses.replace(ready_10_hours, uid="b")
    newer = dataclasses.replace(ready_5_hours, uid="a")
    assert logarithmic_rank_diff(THEN_5_HOURS, THEN_8_HOURS, NOW) == 0
    assert active_pods_with_ranks_less(RankedPod(newer, 1), RankedPod(older, 1), NOW)
    assert active_pods_with_ranks_less(RankedPod(dataclasses.replace(older, uid="0"), 1), RankedPod(newer, 1), NOW)


def test_logarithmic_rank_diff_uses_nanoseconds() -> None:
    # 2 hours = 7.2e12 ns (bucket 42), 5 hours = 1.8e13 ns (bucket 44); a time at or after now is bucket -1.
    assert logarithmic_rank_diff(THEN_2_HOURS, THEN_5_HOURS, NOW) == -2
    assert logarithmic_rank_diff(NOW, THEN_2_HOURS, NOW) == -1 - 42
    # 1 microsecond = 1000 ns: bucket 9 (log2(1000) = 9.97), against bucket -1 for `now` itself.
    assert logarithmic_rank_diff(NOW - datetime.timedelta(microseconds=1), NOW, NOW) == 9 - (-1)


# TestIsPodAvailable: (ready, ready_since seconds before now or None for a zero time, minReadySeconds, expected)
IS_POD_AVAILABLE_TESTS: list[tuple[bool, int | None, int, bool]] = [
    (False, 0, 0, False),
    (True, 0, 1, False),
    (True, None, 1, False),  # zero lastTransitionTime
    (True, 0, 0, True),
    (True, 51, 50, True),
    (True, 51, 51, True),  # inclusive: ready_since + minReadySeconds == now
    (True, 51, 52, False),
]


@pytest.mark.parametrize(("ready", "before", "min_ready_seconds", "expected"), IS_POD_AVAILABLE_TESTS)
def test_is_pod_available(ready: bool, before: int | None, min_ready_seconds: int, expected: bool) -> None:
    ready_since = None if before is None else NOW - datetime.timedelta(seconds=before)
    pod = Pod(namespace="default", name="pod", uid="u", ready=ready, ready_since=ready_since if ready else None)
    assert is_pod_available(pod, min_ready_seconds, NOW) is expected


def test_active_pod_filtering() -> None:
    phases = {"pod-1": "Succeeded", "pod-2": "Failed", "pod-3": "", "pod-4": "", "pod-5": ""}
    pods = [Pod(namespace="default", name=name, uid=name, phase=phase) for name, phase in phases.items()]
    assert sorted(p.name for p in filter_active_pods(pods)) == ["pod-3", "pod-4", "pod-5"]


def test_count_terminating_pods() -> None:
    def pod(name: str, phase: str, deleting: bool) -> Pod:
        return Pod(namespace="default", name=name, uid=name, phase=phase, deletion_timestamp=NOW if deleting else None)

    pods = [
        pod("0", "Succeeded", False),
        pod("1", "Failed", False),
        pod("2", "Pending", True),
        pod("3", "Running", True),
        pod("4", "Running", False),
        pod("5", "Running", False),
        pod("6", "Running", False),
    ]
    assert [p.name for p in filter_terminating_pods(pods)] == ["2", "3"]
    # RS-02: neither terminating nor finished pods are active.
    assert [p.name for p in pods if is_pod_active(p)] == ["4", "5", "6"]
    # RS-22: a finished pod with a deletionTimestamp is not terminating.
    assert not is_pod_terminating(dataclasses.replace(pods[0], deletion_timestamp=NOW))


def test_filter_claimed_pods() -> None:
    mine = OwnerReference("minik8s.dev/v1", "MiniReplicaSet", "rs", "rs-uid", controller=True)
    other = OwnerReference("minik8s.dev/v1", "MiniReplicaSet", "other", "other-uid", controller=True)
    selector = LabelSelector.from_labels({"app": "web"})
    pods = [
        Pod(namespace="default", name="owned", uid="1", labels={"app": "web"}, owner_references=(mine,)),
        Pod(namespace="default", name="owned-unmatched", uid="2", labels={"app": "db"}, owner_references=(mine,)),
        Pod(namespace="default", name="foreign", uid="3", labels={"app": "web"}, owner_references=(other,)),
        Pod(namespace="default", name="orphan", uid="4", labels={"app": "web"}),
    ]
    assert [p.name for p in filter_claimed_pods("rs-uid", selector, pods)] == ["owned"]


def test_sidecar_restarts_break_a_tie_of_regular_restarts() -> None:
    """compareMaxContainerRestarts (RS-12 (7)): equal regular restarts, then the sidecars' decide."""
    base = _pod("base", "node", "Running", True, 3, THEN_2_HOURS, THEN_5_HOURS)
    flaky_sidecar = dataclasses.replace(base, name="flaky-sidecar", sidecar_restart_count=7)
    assert active_pods_with_ranks_less(RankedPod(flaky_sidecar, 0), RankedPod(base, 0), NOW)
    assert not active_pods_with_ranks_less(RankedPod(base, 0), RankedPod(flaky_sidecar, 0), NOW)
    more_regular = dataclasses.replace(base, name="more-regular", restart_count=4)
    assert active_pods_with_ranks_less(RankedPod(more_regular, 0), RankedPod(flaky_sidecar, 0), NOW)


def test_pod_view_counts_only_restartable_init_containers_as_sidecars() -> None:
    pod = Pod.from_dict(
        {
            "metadata": {"name": "p", "namespace": "n", "uid": "u"},
            "spec": {
                "initContainers": [{"name": "sidecar", "restartPolicy": "Always"}, {"name": "setup"}],
                "containers": [{"name": "main"}],
            },
            "status": {
                "containerStatuses": [{"name": "main", "restartCount": 2}],
                "initContainerStatuses": [{"name": "sidecar", "restartCount": 5}, {"name": "setup", "restartCount": 9}],
            },
        }
    )
    assert (pod.restart_count, pod.sidecar_restart_count) == (2, 5)
