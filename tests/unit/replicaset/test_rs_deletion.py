"""Ports of replica_set_test.go TestGetPodsToDelete and TestGetPodKeys (RS-11, RS-12)."""

from __future__ import annotations

import datetime

import pytest

from operators.controllers.replicaset.deletion import (
    get_pod_keys,
    get_pods_ranked_by_related_pods_on_same_node,
    get_pods_to_delete,
)
from operators.kube.objects import OwnerReference, Pod

NOW = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
RS_REF = OwnerReference("minik8s.dev/v1", "MiniReplicaSet", "foobar", "rs-uid", controller=True)


def _new_pod(name: str, phase: str, node: str = "", ready: bool | None = None) -> Pod:
    """newPod: a Running pod gets a True Ready condition with a zero lastTransitionTime unless told otherwise."""
    return Pod(
        namespace="default",
        name=name,
        uid="",
        labels={"name": "foo"},
        owner_references=(RS_REF,),
        phase=phase,
        node_name=node,
        ready=(phase == "Running") if ready is None else ready,
    )


unscheduled_pending_pod = _new_pod("unscheduled-pending-pod", "Pending")
scheduled_pending_pod = _new_pod("scheduled-pending-pod", "Pending", "fake-node")
scheduled_running_not_ready_pod = _new_pod("scheduled-running-not-ready-pod", "Running", "fake-node", ready=False)
scheduled_running_ready_pod_on_node_1 = _new_pod("scheduled-running-ready-pod-on-node-1", "Running", "fake-node-1")
scheduled_running_ready_pod_on_node_2 = _new_pod("scheduled-running-ready-pod-on-node-2", "Running", "fake-node-2")

# (name, pods, related (None: the pods themselves), diff, expected)
GET_PODS_TO_DELETE_TESTS: list[tuple[str, list[Pod], list[Pod] | None, int, list[Pod]]] = [
    ("len(pods) = 0 (i.e., diff = 0 too)", [], None, 0, []),
    (
        "diff = len(pods)",
        [scheduled_running_not_ready_pod, scheduled_running_ready_pod_on_node_1],
        None,
        2,
        [scheduled_running_not_ready_pod, scheduled_running_ready_pod_on_node_1],
    ),
    (
        "diff < len(pods)",
        [scheduled_running_ready_pod_on_node_1, scheduled_running_not_ready_pod],
        None,
        1,
        [scheduled_running_not_ready_pod],
    ),
    (
        "various pod phases and conditions, diff = len(pods)",
        [
            scheduled_running_ready_pod_on_node_1,
            scheduled_running_ready_pod_on_node_1,
            scheduled_running_ready_pod_on_node_2,
            scheduled_running_not_ready_pod,
            scheduled_pending_pod,
            unscheduled_pending_pod,
        ],
        None,
        6,
        [
            scheduled_running_ready_pod_on_node_1,
            scheduled_running_ready_pod_on_node_1,
            scheduled_running_ready_pod_on_node_2,
            scheduled_running_not_ready_pod,
            scheduled_pending_pod,
            unscheduled_pending_pod,
        ],
    ),
    (
        "various pod phases and conditions, diff = len(pods), relatedPods empty",
        [
            scheduled_running_ready_pod_on_node_1,
            scheduled_running_ready_pod_on_node_1,
            scheduled_running_ready_pod_on_node_2,
            scheduled_running_not_ready_pod,
            scheduled_pending_pod,
            unscheduled_pending_pod,
        ],
        [],
        6,
        [
            scheduled_running_ready_pod_on_node_1,
            scheduled_running_ready_pod_on_node_1,
            scheduled_running_ready_pod_on_node_2,
            scheduled_running_not_ready_pod,
            scheduled_pending_pod,
            unscheduled_pending_pod,
        ],
    ),
    (
        "scheduled vs unscheduled, diff < len(pods)",
        [scheduled_pending_pod, unscheduled_pending_pod],
        None,
        1,
        [unscheduled_pending_pod],
    ),
    (
        "ready vs not-ready, diff < len(pods)",
        [scheduled_running_ready_pod_on_node_1, scheduled_running_not_ready_pod, scheduled_running_not_ready_pod],
        None,
        2,
        [scheduled_running_not_ready_pod, scheduled_running_not_ready_pod],
    ),
    (
        "ready and colocated with another ready pod vs not colocated, diff < len(pods)",
        [scheduled_running_ready_pod_on_node_1, scheduled_running_ready_pod_on_node_2],
        [
            scheduled_running_ready_pod_on_node_1,
            scheduled_running_ready_pod_on_node_2,
            scheduled_running_ready_pod_on_node_2,
        ],
        1,
        [scheduled_running_ready_pod_on_node_2],
    ),
    (
        "pending vs running, diff < len(pods)",
        [scheduled_pending_pod, scheduled_running_not_ready_pod],
        None,
        1,
        [scheduled_pending_pod],
    ),
    (
        "various pod phases and conditions, diff < len(pods)",
        [
            scheduled_running_ready_pod_on_node_1,
            scheduled_running_ready_pod_on_node_2,
            scheduled_running_not_ready_pod,
            scheduled_pending_pod,
            unscheduled_pending_pod,
        ],
        None,
        3,
        [unscheduled_pending_pod, scheduled_pending_pod, scheduled_running_not_ready_pod],
    ),
]


@pytest.mark.parametrize(
    ("pods", "related", "diff", "expected"),
    [case[1:] for case in GET_PODS_TO_DELETE_TESTS],
    ids=[case[0] for case in GET_PODS_TO_DELETE_TESTS],
)
def test_get_pods_to_delete(pods: list[Pod], related: list[Pod] | None, diff: int, expected: list[Pod]) -> None:
    got = get_pods_to_delete(pods, pods if related is None else related, diff, NOW)
    assert [p.name for p in got] == [p.name for p in expected]


def test_get_pods_to_delete_ranks_count_only_active_related_pods() -> None:
    # RS-12 (5): a terminating related pod on node 2 does not make node 2 "doubled up".
    terminating = Pod(namespace="default", name="gone", uid="g", node_name="fake-node-2", deletion_timestamp=NOW)
    ranked = get_pods_ranked_by_related_pods_on_same_node(
        [scheduled_running_ready_pod_on_node_1, scheduled_running_ready_pod_on_node_2],
        [scheduled_running_ready_pod_on_node_1, scheduled_running_ready_pod_on_node_2, terminating],
    )
    assert [r.rank for r in ranked] == [1, 1]


@pytest.mark.parametrize(
    ("pods", "expected"),
    [
        pytest.param([], [], id="len(pods) = 0 (i.e., pods = nil)"),
        pytest.param(
            [_new_pod("pod1", "Running"), _new_pod("pod2", "Running")],
            ["default/pod1", "default/pod2"],
            id="len(pods) > 0",
        ),
    ],
)
def test_get_pod_keys(pods: list[Pod], expected: list[str]) -> None:
    assert get_pod_keys(pods) == expected
