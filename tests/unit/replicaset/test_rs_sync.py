"""manageReplicas decisions (RS-03, RS-11), related pods (RS-12 (5)) and the availability requeue (RS-19).

Upstream covers these through the controller with fakes (TestSyncReplicaSetCreateFailures,
TestSyncReplicaSetDeletes, TestUpdatePods minReadySeconds); here the pure decisions are checked directly.
"""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from operators.controllers.replicaset.model import ReplicaSetStatus, ReplicaSetView
from operators.controllers.replicaset.sync import (
    BURST_REPLICAS,
    ScaleDown,
    ScaleUp,
    availability_requeue_after,
    indirectly_related_pods,
    manage_replicas,
    next_availability_check,
    replica_sets_with_same_controller,
)
from operators.kube.objects import OwnerReference, Pod
from operators.kube.selectors import LabelSelector

NOW = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
SELECTOR = LabelSelector.from_labels({"app": "web"})


def _rs(replicas: int, *, name: str = "web", min_ready_seconds: int = 0, owner: str | None = None) -> ReplicaSetView:
    refs = () if owner is None else (OwnerReference("minik8s.dev/v1", "MiniDeployment", "d", owner, controller=True),)
    return ReplicaSetView(
        namespace="default",
        name=name,
        uid=f"{name}-uid",
        replicas=replicas,
        min_ready_seconds=min_ready_seconds,
        selector=SELECTOR,
        template_labels={"app": "web"},
        owner_references=refs,
    )


def _pods(count: int, *, ready: bool = True, node: str = "n1", prefix: str = "p") -> list[Pod]:
    return [
        Pod(
            namespace="default",
            name=f"{prefix}{i}",
            uid=f"{prefix}{i}",
            labels={"app": "web"},
            phase="Running",
            ready=ready,
            node_name=node,
        )
        for i in range(count)
    ]


def test_manage_replicas_in_sync_does_nothing() -> None:
    assert manage_replicas(_rs(3), _pods(3), [], NOW) is None


def test_manage_replicas_scale_up() -> None:
    assert manage_replicas(_rs(5), _pods(2), [], NOW) == ScaleUp(3)


def test_manage_replicas_scale_up_capped_at_burst_replicas() -> None:
    # RS-03: at most burstReplicas creates per sync; the next sync creates the rest.
    assert manage_replicas(_rs(2000), [], [], NOW) == ScaleUp(BURST_REPLICAS)
    assert manage_replicas(_rs(2000), [], [], NOW, burst_replicas=10) == ScaleUp(10)


def test_manage_replicas_scale_down_capped_at_burst_replicas() -> None:
    action = manage_replicas(_rs(0), _pods(600), [], NOW)
    assert isinstance(action, ScaleDown)
    assert len(action.pods) == BURST_REPLICAS


def test_manage_replicas_scale_down_to_zero_keeps_input_order() -> None:
    # RS-11: deleting them all needs no ranking.
    pods = _pods(3)
    assert manage_replicas(_rs(0), pods, [], NOW) == ScaleDown(tuple(pods))


def test_manage_replicas_scale_down_prefers_not_ready_then_doubled_up() -> None:
    ready_n1 = _pods(2, node="n1", prefix="a")
    ready_n2 = _pods(2, node="n2", prefix="b")
    not_ready = _pods(1, ready=False, node="n1", prefix="c")
    active = ready_n1[:1] + ready_n2 + not_ready
    # Related pods (a sibling RS of the same Deployment) put a second pod on n1: n1 is doubled up.
    related = active + ready_n1[1:]
    action = manage_replicas(_rs(2), active, related, NOW)
    assert isinstance(action, ScaleDown)
    assert [p.name for p in action.pods] == ["c0", "a0"]


def test_replica_sets_with_same_controller() -> None:
    mine = _rs(1, name="a", owner="deploy-1")
    sibling = _rs(1, name="b", owner="deploy-1")
    stranger = _rs(1, name="c", owner="deploy-2")
    orphan = _rs(1, name="d")
    everyone = [mine, sibling, stranger, orphan]
    assert [rs.name for rs in replica_sets_with_same_controller(mine, everyone)] == ["a", "b"]
    # Without a controller there are no related sets at all, as upstream.
    assert replica_sets_with_same_controller(orphan, everyone) == []


def test_indirectly_related_pods_deduplicates_by_uid() -> None:
    web = _rs(1, name="a", owner="x")
    also_web = _rs(1, name="b", owner="x")
    pods = [*_pods(2), Pod(namespace="default", name="db", uid="db", labels={"app": "db"})]
    pods.append(dataclasses.replace(pods[0], namespace="other"))
    assert [p.name for p in indirectly_related_pods([web, also_web], pods)] == ["p0", "p1"]


def _ready_pod(name: str, ready_for: datetime.timedelta | None) -> Pod:
    return Pod(
        namespace="default",
        name=name,
        uid=name,
        phase="Running",
        ready=True,
        ready_since=None if ready_for is None else NOW - ready_for,
    )


def test_next_availability_check_is_the_earliest_pending_pod() -> None:
    pods = [
        _ready_pod("long-available", datetime.timedelta(seconds=100)),
        _ready_pod("soon", datetime.timedelta(seconds=25)),
        _ready_pod("later", datetime.timedelta(seconds=5)),
        _ready_pod("unknown-transition", None),
        Pod(namespace="default", name="not-ready", uid="nr", phase="Running"),
    ]
    assert next_availability_check(pods, 30, NOW) == datetime.timedelta(seconds=5)
    assert next_availability_check(pods[:1], 30, NOW) is None
    assert next_availability_check(pods, 0, NOW) is None


@pytest.mark.parametrize(
    ("min_ready_seconds", "ready", "available", "pods", "expected"),
    [
        pytest.param(0, 1, 0, [], None, id="no minReadySeconds"),
        pytest.param(30, 2, 2, [], None, id="all ready pods available"),
        pytest.param(
            30, 1, 0, [_ready_pod("p", datetime.timedelta(seconds=12))], datetime.timedelta(seconds=18), id="precise"
        ),
        pytest.param(30, 1, 0, [_ready_pod("p", None)], datetime.timedelta(seconds=30), id="fallback"),
    ],
)
def test_availability_requeue_after(
    min_ready_seconds: int, ready: int, available: int, pods: list[Pod], expected: datetime.timedelta | None
) -> None:
    rs = _rs(2, min_ready_seconds=min_ready_seconds)
    status = ReplicaSetStatus(replicas=2, ready_replicas=ready, available_replicas=available)
    assert availability_requeue_after(rs, status, pods, NOW) == expected


def test_replica_set_view_from_dict() -> None:
    view = ReplicaSetView.from_dict(
        {
            "apiVersion": "minik8s.dev/v1",
            "kind": "MiniReplicaSet",
            "metadata": {
                "namespace": "default",
                "name": "web",
                "uid": "u1",
                "generation": 3,
                "resourceVersion": "42",
                "ownerReferences": [
                    {
                        "apiVersion": "minik8s.dev/v1",
                        "kind": "MiniDeployment",
                        "name": "d",
                        "uid": "d1",
                        "controller": True,
                    }
                ],
            },
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "minReadySeconds": 5,
                "template": {"metadata": {"labels": {"app": "web", "tier": "fe"}}},
            },
            "status": {"replicas": 2, "observedGeneration": 2},
        }
    )
    assert view.key == "default/web"
    assert view.replicas == 1  # RS-25: defaulted
    assert view.min_ready_seconds == 5
    assert view.selector.matches({"app": "web"}) and not view.selector.matches({"app": "db"})
    assert dict(view.template_labels) == {"app": "web", "tier": "fe"}
    assert view.controller_ref is not None and view.controller_ref.uid == "d1"
    assert view.status == ReplicaSetStatus(replicas=2, observed_generation=2)
