"""Ports of pkg/controller/deployment/rolling_test.go (Kubernetes v1.35).

Upstream calls each rolling-update step with a fake clientset and counts the ReplicaSet updates; ours return them
as `Scale` values, so each row asserts upstream's verdict ("scaled", the cleanup count) and the size written,
and, beyond upstream, the complete list of writes. Upstream's rows are unnamed: the ids are "scenario <i>" (its
t.Logf) and the row's comment.
"""

from __future__ import annotations

import pytest

from operators.controllers.deployment.rolling import (
    cleanup_unhealthy_replicas,
    reconcile_new_replica_set,
    reconcile_old_replica_sets,
    scale_down_old_replica_sets_for_rolling_update,
)
from operators.controllers.replicaset.model import ReplicaSetStatus
from tests.unit.deployment.builders import new_deployment, rs, utc

# --- TestDeploymentController_reconcileNewReplicaSet --------------------------------------------------------------

RECONCILE_NEW_REPLICA_SET_TESTS = [
    # deploymentReplicas, maxSurge, oldReplicas, newReplicas, scaleExpected, expectedNewReplicas
    pytest.param(10, 0, 10, 0, False, 0, id="scenario 0: should not scale up"),
    pytest.param(10, 2, 10, 0, True, 2, id="scenario 1"),
    pytest.param(10, 2, 5, 0, True, 7, id="scenario 2"),
    pytest.param(10, 2, 10, 2, False, 0, id="scenario 3"),
    pytest.param(10, 2, 2, 11, True, 10, id="scenario 4: should scale down"),
]


@pytest.mark.parametrize(
    ("deployment_replicas", "max_surge", "old_replicas", "new_replicas", "scale_expected", "expected_new_replicas"),
    RECONCILE_NEW_REPLICA_SET_TESTS,
)
def test_deployment_controller_reconcile_new_replica_set(
    deployment_replicas: int,
    max_surge: int,
    old_replicas: int,
    new_replicas: int,
    scale_expected: bool,
    expected_new_replicas: int,
) -> None:
    new_rs = rs("foo-v2", new_replicas)
    old_rs = rs("foo-v2", old_replicas)  # upstream names both "foo-v2"; only their sizes count here
    deployment = new_deployment("foo", deployment_replicas, None, max_surge, 0, {"foo": "bar"})
    write = reconcile_new_replica_set([new_rs, old_rs], new_rs, deployment)
    if not scale_expected:
        assert write is None, "no update action at all, not even of the annotations"
        return
    assert write is not None and write.size_changed  # scaled, in exactly one update
    assert write.rs == new_rs
    assert write.replicas == expected_new_replicas
    assert write.operation == ("up" if expected_new_replicas > new_replicas else "down")


# --- TestDeploymentController_reconcileOldReplicaSets -------------------------------------------------------------

RECONCILE_OLD_REPLICA_SETS_TESTS = [
    # deploymentReplicas, maxUnavailable, oldReplicas, newReplicas, readyPodsFromOldRS, readyPodsFromNewRS,
    # scaleExpected, expectedOldReplicas; then, beyond upstream, the sizes written to foo-old in order.
    pytest.param(10, 0, 10, 0, 10, 0, True, 9, [9], id="scenario 0"),
    pytest.param(10, 2, 10, 0, 10, 0, True, 8, [8], id="scenario 1"),
    pytest.param(
        10,
        2,
        10,
        0,
        8,
        0,
        True,
        8,
        [8],
        id="scenario 2: expect unhealthy replicas from old replica sets been cleaned up",
    ),
    pytest.param(
        10,
        2,
        10,
        0,
        9,
        0,
        True,
        8,
        [9, 8],
        id="scenario 3: expect 1 unhealthy replica from old replica sets been cleaned up, and 1 ready pod been scaled down",
    ),
    pytest.param(
        10,
        2,
        8,
        2,
        8,
        0,
        False,
        8,
        [],
        id="scenario 4: the unavailable pods from the newRS would not make us scale down old RSs in a further step",
    ),
]


@pytest.mark.parametrize(
    (
        "deployment_replicas",
        "max_unavailable",
        "old_replicas",
        "new_replicas",
        "ready_pods_from_old_rs",
        "ready_pods_from_new_rs",
        "scale_expected",
        "expected_old_replicas",
        "old_sizes_written",
    ),
    RECONCILE_OLD_REPLICA_SETS_TESTS,
)
def test_deployment_controller_reconcile_old_replica_sets(
    deployment_replicas: int,
    max_unavailable: int,
    old_replicas: int,
    new_replicas: int,
    ready_pods_from_old_rs: int,
    ready_pods_from_new_rs: int,
    scale_expected: bool,
    expected_old_replicas: int,
    old_sizes_written: list[int],
) -> None:
    """Upstream checks the verdict only. The table's expectedOldReplicas is where foo-old ends up when the update
    returns the ReplicaSet with its status (a real API server; Go's zero-value fake returns an empty object),
    which is what `Scale.result` models: scenario 3 cleans up 1 unhealthy replica, then scales 1 ready one down."""
    new_rs = rs(
        "foo-new", new_replicas, {"foo": "new"}, status=ReplicaSetStatus(available_replicas=ready_pods_from_new_rs)
    )
    old_rs = rs(
        "foo-old", old_replicas, {"foo": "old"}, status=ReplicaSetStatus(available_replicas=ready_pods_from_old_rs)
    )
    deployment = new_deployment("foo", deployment_replicas, None, 0, max_unavailable, {"foo": "new"})

    writes, scaled = reconcile_old_replica_sets([old_rs, new_rs], [old_rs], new_rs, deployment)

    assert scaled is scale_expected
    assert [(w.rs.name, w.replicas) for w in writes] == [("foo-old", size) for size in old_sizes_written]
    assert all(w.operation == "down" and w.size_changed for w in writes)
    if scale_expected:
        assert writes[-1].result.replicas == expected_old_replicas


def test_reconcile_old_replica_sets_stops_on_an_invalid_scale_down() -> None:
    """cleanupUnhealthyReplicas' "invalid request to scale down" (an old RS reporting more available replicas
    than it wants) makes reconcileOldReplicaSets report nothing scaled, without any write of its own."""
    stale = rs("foo-v1", 2, None, utc(2016, 5, 20, 1, 0, 0), status=ReplicaSetStatus(available_replicas=4))
    new_rs = rs("foo-v2", 2, None, utc(2016, 5, 20, 2, 0, 0), status=ReplicaSetStatus(available_replicas=2))
    deployment = new_deployment("foo", 4, None, 1, 1)
    assert reconcile_old_replica_sets([stale, new_rs], [stale], new_rs, deployment) == ([], False)


def test_reconcile_old_replica_sets_without_old_replicas() -> None:
    """oldPodsCount == 0: "can't scale down further"."""
    old_rs = rs("foo-old", 0, status=ReplicaSetStatus(available_replicas=0))
    new_rs = rs("foo-new", 10, status=ReplicaSetStatus(available_replicas=10))
    deployment = new_deployment("foo", 10, None, 0, 2)
    assert reconcile_old_replica_sets([old_rs, new_rs], [old_rs], new_rs, deployment) == ([], False)


# --- TestDeploymentController_cleanupUnhealthyReplicas ------------------------------------------------------------

CLEANUP_UNHEALTHY_REPLICAS_TESTS = [
    # oldReplicas, readyPods, unHealthyPods, maxCleanupCount, cleanupCountExpected
    pytest.param(10, 8, 2, 1, 1, id="scenario 0"),
    pytest.param(10, 8, 2, 3, 2, id="scenario 1"),
    pytest.param(10, 8, 2, 0, 0, id="scenario 2"),
    pytest.param(10, 10, 0, 3, 0, id="scenario 3"),
]


@pytest.mark.parametrize(
    ("old_replicas", "ready_pods", "unhealthy_pods", "max_cleanup_count", "cleanup_count_expected"),
    CLEANUP_UNHEALTHY_REPLICAS_TESTS,
)
def test_deployment_controller_cleanup_unhealthy_replicas(
    old_replicas: int, ready_pods: int, unhealthy_pods: int, max_cleanup_count: int, cleanup_count_expected: int
) -> None:
    old_rs = rs("foo-v2", old_replicas, status=ReplicaSetStatus(available_replicas=ready_pods))
    assert old_replicas - ready_pods == unhealthy_pods
    deployment = new_deployment("foo", 10, None, 2, 2)

    cleaned, writes, invalid = cleanup_unhealthy_replicas([old_rs], deployment, max_cleanup_count)

    assert not invalid
    cleanup_count = sum(w.rs.replicas - w.replicas for w in writes)
    assert cleanup_count == cleanup_count_expected
    # Beyond upstream: one update when anything is cleaned up, and the RS list as the updates left it.
    assert [(w.rs.name, w.replicas) for w in writes] == (
        [("foo-v2", old_replicas - cleanup_count_expected)] if cleanup_count_expected else []
    )
    assert [(r.name, r.replicas) for r in cleaned] == [("foo-v2", old_replicas - cleanup_count_expected)]


def test_cleanup_unhealthy_replicas_oldest_first_up_to_the_count() -> None:
    """cleanupUnhealthyReplicas sorts by creation time: the oldest RS loses its unhealthy replicas first."""
    newer = rs("foo-b", 3, None, utc(2016, 5, 20, 2, 0, 0), status=ReplicaSetStatus(available_replicas=1))
    older = rs("foo-a", 4, None, utc(2016, 5, 20, 1, 0, 0), status=ReplicaSetStatus(available_replicas=3))
    deployment = new_deployment("foo", 10, None, 2, 2)
    cleaned, writes, invalid = cleanup_unhealthy_replicas([newer, older], deployment, 2)
    assert not invalid
    assert [(w.rs.name, w.replicas) for w in writes] == [("foo-a", 3), ("foo-b", 2)]
    assert [(r.name, r.replicas) for r in cleaned] == [("foo-a", 3), ("foo-b", 2)]


# --- TestDeploymentController_scaleDownOldReplicaSetsForRollingUpdate ---------------------------------------------

SCALE_DOWN_OLD_REPLICA_SETS_FOR_ROLLING_UPDATE_TESTS = [
    # deploymentReplicas, maxUnavailable, readyPods, oldReplicas, scaleExpected, expectedOldReplicas
    pytest.param(10, 0, 10, 10, True, 9, id="scenario 0"),
    pytest.param(10, 2, 10, 10, True, 8, id="scenario 1"),
    pytest.param(10, 2, 8, 10, False, 0, id="scenario 2"),
    pytest.param(10, 2, 10, 0, False, 0, id="scenario 3"),
    pytest.param(10, 2, 1, 10, False, 0, id="scenario 4"),
]


@pytest.mark.parametrize(
    ("deployment_replicas", "max_unavailable", "ready_pods", "old_replicas", "scale_expected", "expected_old_replicas"),
    SCALE_DOWN_OLD_REPLICA_SETS_FOR_ROLLING_UPDATE_TESTS,
)
def test_deployment_controller_scale_down_old_replica_sets_for_rolling_update(
    deployment_replicas: int,
    max_unavailable: int,
    ready_pods: int,
    old_replicas: int,
    scale_expected: bool,
    expected_old_replicas: int,
) -> None:
    old_rs = rs("foo-v2", old_replicas, status=ReplicaSetStatus(available_replicas=ready_pods))
    deployment = new_deployment("foo", deployment_replicas, None, 0, max_unavailable, {"foo": "bar"})

    writes = scale_down_old_replica_sets_for_rolling_update([old_rs], [old_rs], deployment)

    scaled = sum(w.rs.replicas - w.replicas for w in writes)
    if not scale_expected:
        assert scaled == 0 and writes == []
        return
    assert scaled != 0
    assert len(writes) == 1, "expected only 1 update action"
    assert (writes[0].rs.name, writes[0].replicas, writes[0].operation) == ("foo-v2", expected_old_replicas, "down")


def test_scale_down_old_replica_sets_for_rolling_update_oldest_first() -> None:
    """Oldest first, each by as much as is left to scale down; empty RSs are skipped."""
    t = utc(2016, 5, 20, 0, 0, 0)
    empty = rs("foo-0", 0, None, t)
    oldest = rs("foo-1", 2, None, t.replace(hour=1), status=ReplicaSetStatus(available_replicas=2))
    older = rs("foo-2", 3, None, t.replace(hour=2), status=ReplicaSetStatus(available_replicas=3))
    new_rs = rs("foo-3", 5, None, t.replace(hour=3), status=ReplicaSetStatus(available_replicas=5))
    deployment = new_deployment("foo", 8, None, 0, 2)  # minAvailable 6, 10 available: 4 may go
    writes = scale_down_old_replica_sets_for_rolling_update(
        [older, empty, oldest, new_rs], [older, empty, oldest], deployment
    )
    assert [(w.rs.name, w.replicas) for w in writes] == [("foo-1", 0), ("foo-2", 1)]
