"""Ports of pkg/controller/deployment/recreate_test.go (Kubernetes v1.35): TestScaleDownOldReplicaSets and
TestOldPodsRunning, plus the new ReplicaSet's scale-up that upstream only tests through the controller."""

from __future__ import annotations

import pytest

from operators.controllers.deployment.model import RECREATE, DeploymentStrategy
from operators.controllers.deployment.recreate import (
    old_pods_running,
    scale_down_old_replica_sets_for_recreate,
    scale_up_new_replica_set_for_recreate,
)
from operators.controllers.replicaset.model import ReplicaSetView
from operators.kube.objects import Pod
from tests.unit.deployment.builders import new_deployment, new_replica_set, new_rs_with_status

# --- TestScaleDownOldReplicaSets ----------------------------------------------------------------------------------

SCALE_DOWN_OLD_REPLICA_SETS_TESTS = [
    pytest.param([3], id="scenario 0"),
]


@pytest.mark.parametrize("old_rs_sizes", SCALE_DOWN_OLD_REPLICA_SETS_TESTS)
def test_scale_down_old_replica_sets(old_rs_sizes: list[int]) -> None:
    d = new_deployment("foo", 3, selector={"foo": "bar"})
    old_rss = [new_replica_set(d, f"{d.name}-{n}", size) for n, size in enumerate(old_rs_sizes)]
    assert all(r.replicas != 0 for r in old_rss), "broken test - original and expected RS have the same size"

    writes = scale_down_old_replica_sets_for_recreate(old_rss, d)

    # Upstream checks that every old RS, as the updates returned it, has 0 replicas.
    assert [w.result.replicas for w in writes] == [0] * len(old_rss)
    assert [(w.rs, w.replicas, w.operation) for w in writes] == [(r, 0, "down") for r in old_rss]


def test_scale_down_old_replica_sets_skips_the_empty_ones() -> None:
    """scaleDownOldReplicaSetsForRecreate: "Scaling not required" for an RS already at 0 (not even annotations)."""
    d = new_deployment("foo", 3, selector={"foo": "bar"})
    empty, busy = new_replica_set(d, "foo-0", 0), new_replica_set(d, "foo-1", 2)
    assert [(w.rs.name, w.replicas) for w in scale_down_old_replica_sets_for_recreate([empty, busy], d)] == [
        ("foo-1", 0)
    ]


# --- TestOldPodsRunning -------------------------------------------------------------------------------------------


def pod(phase: str = "") -> Pod:
    """A pod with only a phase, as upstream's literals (the "supposedly a pod" ones have none)."""
    return Pod(namespace="", name="", uid="", phase=phase)


def rs_with_uid(uid: str) -> ReplicaSetView:
    """rsWithUID."""
    d = new_deployment("foo", 1, selector={"foo": "bar"})
    return new_replica_set(d, f"foo-{uid}", 0, uid=uid)


def pod_map_with_uids(uids: list[str]) -> dict[str, list[Pod]]:
    """podMapWithUIDs: two pods (without a phase) per UID."""
    return {uid: [pod(), pod()] for uid in uids}


OLD_PODS_RUNNING_TESTS = [
    pytest.param(None, [], {}, False, id="no old RSs"),
    pytest.param(
        None,
        [rs_with_uid("some-uid"), rs_with_uid("other-uid")],
        pod_map_with_uids(["some-uid", "other-uid"]),
        True,
        id="old RSs with running pods",
    ),
    pytest.param(
        None, [new_rs_with_status("rs-1", 0, 1)], {}, True, id="old RSs without pods but with non-zero status replicas"
    ),
    pytest.param(
        None, [new_rs_with_status("rs-1", 0, 0)], {}, False, id="old RSs without pods or non-zero status replicas"
    ),
    pytest.param(
        None,
        [new_rs_with_status("rs-1", 0, 0)],
        {"uid-1": [pod("Failed"), pod("Succeeded")]},
        False,
        id="old RSs with zero status replicas but pods in terminal state are present",
    ),
    pytest.param(
        None,
        [new_rs_with_status("rs-1", 0, 0)],
        {"uid-1": [pod("Unknown")]},
        True,
        id="old RSs with zero status replicas but pod in unknown phase present",
    ),
    pytest.param(
        None,
        [new_rs_with_status("rs-1", 0, 0)],
        {"uid-1": [pod("Pending")]},
        True,
        id="old RSs with zero status replicas with pending pod present",
    ),
    pytest.param(
        None,
        [new_rs_with_status("rs-1", 0, 0)],
        {"uid-1": [pod("Running")]},
        True,
        id="old RSs with zero status replicas with running pod present",
    ),
    pytest.param(
        None,
        [new_rs_with_status("rs-1", 0, 0)],
        {"uid-1": [pod("Failed"), pod("Succeeded")], "uid-2": [], "uid-3": [pod("Pending")]},
        True,
        id="old RSs with zero status replicas but pods in terminal state and pending are present",
    ),
]


@pytest.mark.parametrize(("new_rs", "old_rss", "pod_map", "has_old_pods_running"), OLD_PODS_RUNNING_TESTS)
def test_old_pods_running(
    new_rs: ReplicaSetView | None,
    old_rss: list[ReplicaSetView],
    pod_map: dict[str, list[Pod]],
    has_old_pods_running: bool,
) -> None:
    assert old_pods_running(new_rs, old_rss, pod_map) is has_old_pods_running


def test_old_pods_running_ignores_the_new_replica_sets_pods() -> None:
    """oldPodsRunning skips the pods listed under the new RS's UID (upstream's table never sets newRS)."""
    new_rs = rs_with_uid("new-uid")
    old_rss = [new_rs_with_status("rs-1", 0, 0)]
    assert old_pods_running(new_rs, old_rss, {"new-uid": [pod("Running")], "rs-1": [pod("Succeeded")]}) is False
    assert old_pods_running(None, old_rss, {"new-uid": [pod("Running")]}) is True


# --- scaleUpNewReplicaSetForRecreate (DP-25) ----------------------------------------------------------------------


def test_scale_up_new_replica_set_for_recreate() -> None:
    d = new_deployment("foo", 3, selector={"foo": "bar"}, strategy=DeploymentStrategy(RECREATE, None, None))
    new_rs = new_replica_set(d, "foo-new", 0)
    write = scale_up_new_replica_set_for_recreate(new_rs, d)
    assert write is not None
    assert (write.rs, write.replicas, write.operation, write.event_message) == (
        new_rs,
        3,
        "up",
        "Scaled up replica set foo-new from 0 to 3",
    )
    assert scale_up_new_replica_set_for_recreate(write.result, d) is None
