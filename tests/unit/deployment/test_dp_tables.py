"""Upstream's controller test tables against the pure modules: sync_test.go, rolling_test.go, recreate_test.go,
progress_test.go, and rollback.go's behaviour.

Upstream calls the controller with a fake clientset and reads the ReplicaSet updates it recorded; ours return the
writes as `Scale` values in Go's order, so each table row asserts the same sizes and the same verdicts.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest

from operators.controllers.deployment.model import (
    DeploymentCondition,
    DeploymentStatus,
    DeploymentStrategy,
    DeploymentView,
    IntOrString,
)
from operators.controllers.deployment.progress import requeue_stuck_deployment, sync_rollout_status
from operators.controllers.deployment.recreate import old_pods_running
from operators.controllers.deployment.rollback import ROLLBACK_DONE, ROLLBACK_REVISION_NOT_FOUND, rollback
from operators.controllers.deployment.rolling import (
    cleanup_unhealthy_replicas,
    reconcile_new_replica_set,
    reconcile_old_replica_sets,
    scale_down_old_replica_sets_for_rolling_update,
)
from operators.controllers.deployment.sync import (
    check_paused_conditions,
    cleanup_deployment,
    is_scaling_event,
    plan_new_replica_set,
    scale,
)
from operators.controllers.deployment.util import max_surge, set_replicas_annotations
from operators.controllers.replicaset.model import ReplicaSetStatus, ReplicaSetView
from operators.kube.objects import Pod
from operators.kube.selectors import LabelSelector

NOW = datetime.datetime(2016, 5, 20, 3, 0, 0, tzinfo=datetime.UTC)
NEW = datetime.datetime(2016, 5, 20, 2, 0, 0, tzinfo=datetime.UTC)
OLD = datetime.datetime(2016, 5, 20, 1, 0, 0, tzinfo=datetime.UTC)
OLDER = datetime.datetime(2016, 5, 20, 0, 0, 0, tzinfo=datetime.UTC)


def new_deployment(
    replicas: int,
    revision_history_limit: int | None = None,
    max_surge_: IntOrString | None = None,
    max_unavailable: IntOrString | None = None,
    **changes: Any,
) -> DeploymentView:
    """newDeployment of deployment_controller_test.go: RollingUpdate with maxSurge and maxUnavailable 0 unless given."""
    strategy = DeploymentStrategy(
        max_surge=0 if max_surge_ is None else max_surge_,
        max_unavailable=0 if max_unavailable is None else max_unavailable,
    )
    view = DeploymentView(
        namespace="default",
        name="foo",
        uid="foo-uid",
        replicas=replicas,
        selector=LabelSelector.from_labels({"foo": "bar"}),
        selector_spec={"matchLabels": {"foo": "bar"}},
        template={"metadata": {"labels": {"foo": "bar"}}, "spec": {"containers": [{"name": "a", "image": "a"}]}},
        strategy=strategy,
        revision_history_limit=revision_history_limit,
        generation=1,
    )
    return dataclasses.replace(view, **changes)


def rs(
    name: str, replicas: int, created: datetime.datetime | None = None, *, available: int = 0, **changes: Any
) -> ReplicaSetView:
    """rs() of the upstream tests: a ReplicaSet of `replicas`, created at `created`."""
    view = ReplicaSetView(
        namespace="default",
        name=name,
        uid=f"{name}-uid",
        replicas=replicas,
        creation_timestamp=created,
        status=ReplicaSetStatus(available_replicas=available),
    )
    return dataclasses.replace(view, **changes)


def sizes_after(scales: list[Any], *replica_sets: ReplicaSetView | None) -> dict[str, int]:
    """nameToSize of TestScale: every RS's size after the writes (an RS not written keeps its size)."""
    sizes = {r.name: r.replicas for r in replica_sets if r is not None}
    sizes.update({s.rs.name: s.replicas for s in scales})
    return sizes


# --- sync_test.go TestScale ---------------------------------------------------------------------------------------


def _annotated(rs_: ReplicaSetView, old_deployment: DeploymentView, desired: int | None = None) -> ReplicaSetView:
    replicas = old_deployment.replicas if desired is None else desired
    annotations, _ = set_replicas_annotations(rs_.annotations, replicas, replicas + max_surge(old_deployment))
    return dataclasses.replace(rs_, annotations=annotations)


def _updated_template(replicas: int) -> DeploymentView:
    d = new_deployment(replicas)
    return dataclasses.replace(d, template={**d.template, "metadata": {"labels": {"foo": "bar", "another": "label"}}})


SCALE_CASES: dict[str, tuple[Any, ...]] = {
    # name: (deployment, old deployment, new RS, old RSs, expected new, expected olds, desired annotations)
    "normal scaling event: 10 -> 12": (new_deployment(12), new_deployment(10), rs("foo-v1", 10, NEW), [], 12, []),
    "normal scaling event: 10 -> 5": (new_deployment(5), new_deployment(10), rs("foo-v1", 10, NEW), [], 5, []),
    "proportional scaling: 5 -> 10": (
        new_deployment(10), new_deployment(5), rs("foo-v2", 2, NEW), [rs("foo-v1", 3, OLD)], 4, [6],
    ),
    "proportional scaling: 5 -> 3": (
        new_deployment(3), new_deployment(5), rs("foo-v2", 2, NEW), [rs("foo-v1", 3, OLD)], 1, [2],
    ),
    "proportional scaling: 9 -> 4": (
        new_deployment(4), new_deployment(9), rs("foo-v2", 8, NEW), [rs("foo-v1", 1, OLD)], 4, [0],
    ),
    "proportional scaling: 7 -> 10": (
        new_deployment(10), new_deployment(7), rs("foo-v3", 2, NEW), [rs("foo-v2", 3, OLD), rs("foo-v1", 2, OLDER)],
        3, [4, 3],
    ),
    "proportional scaling: 13 -> 8": (
        new_deployment(8), new_deployment(13), rs("foo-v3", 2, NEW), [rs("foo-v2", 8, OLD), rs("foo-v1", 3, OLDER)],
        1, [5, 2],
    ),
    "leftover distribution: 3 -> 4": (
        new_deployment(4), new_deployment(3), rs("foo-v3", 1, NEW), [rs("foo-v2", 1, OLD), rs("foo-v1", 1, OLDER)],
        2, [1, 1],
    ),
    "leftover distribution: 3 -> 2": (
        new_deployment(2), new_deployment(3), rs("foo-v3", 1, NEW), [rs("foo-v2", 1, OLD), rs("foo-v1", 1, OLDER)],
        1, [1, 0],
    ),
    "proportional scaling (no new rs): 4 -> 5": (
        new_deployment(5), new_deployment(4), None, [rs("foo-v2", 2, OLD), rs("foo-v1", 2, OLDER)], None, [3, 2],
    ),
    "proportional scaling: 6 -> 0": (
        new_deployment(0), new_deployment(6), rs("foo-v3", 3, NEW), [rs("foo-v2", 2, OLD), rs("foo-v1", 1, OLDER)],
        0, [0, 0],
    ),
    "proportional scaling: 0 -> 6": (
        new_deployment(6), new_deployment(6), rs("foo-v3", 0, NEW), [rs("foo-v2", 0, OLD), rs("foo-v1", 0, OLDER)],
        6, [0, 0],
    ),
    "failed rs update": (
        new_deployment(5), new_deployment(5), rs("foo-v3", 2, NEW), [rs("foo-v2", 1, OLD), rs("foo-v1", 1, OLDER)],
        2, [2, 1], {"foo-v2": 3},
    ),
    "deployment with surge pods": (
        new_deployment(20, max_surge_=2), new_deployment(10, max_surge_=2), rs("foo-v2", 6, NEW),
        [rs("foo-v1", 6, OLD)], 11, [11],
    ),
    "change both surge and size": (
        new_deployment(50, max_surge_=6), new_deployment(10, max_surge_=3), rs("foo-v2", 5, NEW),
        [rs("foo-v1", 8, OLD)], 22, [34],
    ),
    "change both size and template": (
        _updated_template(14), new_deployment(10), None, [rs("foo-v2", 7, NEW), rs("foo-v1", 3, OLD)], None, [10, 4],
    ),
    "saturated but broken new replica set does not affect old pods": (
        new_deployment(2, max_surge_=1, max_unavailable=1), new_deployment(2, max_surge_=1, max_unavailable=1),
        rs("foo-v2", 2, NEW, available=0), [rs("foo-v1", 1, OLD)], 2, [1],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", SCALE_CASES.values(), ids=SCALE_CASES.keys())
def test_scale(case: tuple[Any, ...]) -> None:
    deployment, old_deployment, new_rs, old_rss, expected_new, expected_old, *rest = case
    desired: dict[str, int] = rest[0] if rest else {}
    if new_rs is not None:
        new_rs = _annotated(new_rs, old_deployment, desired.get(new_rs.name))
    old_rss = [_annotated(r, old_deployment, desired.get(r.name)) for r in old_rss]
    sizes = sizes_after(scale(deployment, new_rs, old_rss), new_rs, *old_rss)
    if new_rs is not None:
        assert sizes[new_rs.name] == expected_new
    assert [sizes[r.name] for r in old_rss] == expected_old


def test_scale_writes_the_annotations_of_every_active_replica_set_dp_12() -> None:
    """Proportional scaling writes every active RS, each with desired-replicas and max-replicas of the new size."""
    old_deployment, deployment = new_deployment(5), new_deployment(10)
    new_rs = _annotated(rs("foo-v2", 2, NEW), old_deployment)
    old = _annotated(rs("foo-v1", 3, OLD), old_deployment)
    writes = scale(deployment, new_rs, [old])
    assert [(w.rs.name, w.replicas, w.operation) for w in writes] == [("foo-v1", 6, "up"), ("foo-v2", 4, "up")]
    for write in writes:
        assert write.annotations["deployment.kubernetes.io/desired-replicas"] == "10"
        assert write.annotations["deployment.kubernetes.io/max-replicas"] == "10"
    assert writes[0].event_message == "Scaled up replica set foo-v1 from 3 to 6"


def test_is_scaling_event() -> None:
    d = new_deployment(5)
    current = _annotated(rs("foo-v1", 5, NEW, template=d.template), new_deployment(5))
    assert is_scaling_event(d, [current]) is False
    assert is_scaling_event(dataclasses.replace(d, replicas=7), [current]) is True
    unannotated = rs("foo-v1", 5, NEW, template=d.template)
    assert is_scaling_event(dataclasses.replace(d, replicas=7), [unannotated]) is False, "no annotation: no event"


# --- sync_test.go TestDeploymentController_cleanupDeployment ------------------------------------------------------


def with_status(name: str, spec: int, status: int, **changes: Any) -> ReplicaSetView:
    """newRSWithStatus: spec.replicas and status.replicas."""
    return rs(name, spec, status=ReplicaSetStatus(replicas=status), **changes)


CLEANUP_CASES = {
    "limit 1 of 3 empty": ([with_status(f"foo-{i}", 0, 0) for i in (1, 2, 3)], 1, 2),
    "only spec = status = 0 goes": (
        [
            with_status("foo-1", 0, 0),
            with_status("foo-2", 0, 1),
            with_status("foo-3", 1, 0),
            with_status("foo-4", 1, 1),
        ],
        0,
        1,
    ),
    "limit 0 of 2 empty": ([with_status("foo-1", 0, 0), with_status("foo-2", 0, 0)], 0, 2),
    "limit 0 of 2 busy": ([with_status("foo-1", 1, 1), with_status("foo-2", 1, 1)], 0, 0),
    "already being deleted": ([with_status("foo-1", 0, 0, deletion_timestamp=NOW)], 0, 0),
    "unlimited revisionHistoryLimit": ([with_status(f"foo-{i}", 0, 0) for i in (1, 2, 3)], 2**31 - 1, 0),
}


@pytest.mark.parametrize(("old_rss", "limit", "deletions"), CLEANUP_CASES.values(), ids=CLEANUP_CASES.keys())
def test_deployment_controller_cleanup_deployment(old_rss: list[ReplicaSetView], limit: int, deletions: int) -> None:
    assert len(cleanup_deployment(new_deployment(1, limit), old_rss)) == deletions


def test_cleanup_deployment_deletes_the_oldest_revisions_first_and_waits_for_observed_generation() -> None:
    def revision(name: str, number: int, **changes: Any) -> ReplicaSetView:
        return with_status(name, 0, 0, annotations={"deployment.kubernetes.io/revision": str(number)}, **changes)

    old = [revision("c", 3), revision("a", 1), revision("b", 2, generation=2)]
    # Two must go (3 old, limit 1): the two oldest are the candidates; b's spec is not yet observed, so it stays,
    # and c (newer) does not take its place.
    assert [r.name for r in cleanup_deployment(new_deployment(1, 1), old)] == ["a"]


# --- rolling_test.go ----------------------------------------------------------------------------------------------

RECONCILE_NEW = [  # deploymentReplicas, maxSurge, oldReplicas, newReplicas, scaleExpected, expectedNewReplicas
    (10, 0, 10, 0, False, None),
    (10, 2, 10, 0, True, 2),
    (10, 2, 5, 0, True, 7),
    (10, 2, 10, 2, False, None),
    (10, 2, 2, 11, True, 10),  # should scale down
]


@pytest.mark.parametrize(("replicas", "surge", "old", "new", "scale_expected", "expected"), RECONCILE_NEW)
def test_deployment_controller_reconcile_new_replica_set(
    replicas: int, surge: int, old: int, new: int, scale_expected: bool, expected: int | None
) -> None:
    new_rs, old_rs = rs("foo-v2", new), rs("foo-v2-old", old)
    deployment = new_deployment(replicas, max_surge_=surge, max_unavailable=0)
    write = reconcile_new_replica_set([new_rs, old_rs], new_rs, deployment)
    assert (write is not None) == scale_expected
    if write is not None:
        assert (write.rs.name, write.replicas) == ("foo-v2", expected)


RECONCILE_OLD = [  # deploymentReplicas, maxUnavailable, old, new, readyOld, readyNew, scaleExpected, expectedOld
    (10, 0, 10, 0, 10, 0, True, 9),
    (10, 2, 10, 0, 10, 0, True, 8),
    (10, 2, 10, 0, 8, 0, True, 8),  # unhealthy replicas of old RSs cleaned up
    (10, 2, 10, 0, 9, 0, True, 8),  # 1 unhealthy cleaned up, 1 ready scaled down
    (10, 2, 8, 2, 8, 0, False, None),  # the new RS's unavailable pods stop further scale-down
]


@pytest.mark.parametrize(
    ("replicas", "unavailable", "old", "new", "ready_old", "ready_new", "scale_expected", "expected"), RECONCILE_OLD
)
def test_deployment_controller_reconcile_old_replica_sets(
    replicas: int,
    unavailable: int,
    old: int,
    new: int,
    ready_old: int,
    ready_new: int,
    scale_expected: bool,
    expected: int | None,
) -> None:
    new_rs, old_rs = rs("foo-new", new, available=ready_new), rs("foo-old", old, available=ready_old)
    deployment = new_deployment(replicas, max_surge_=0, max_unavailable=unavailable)
    writes, scaled = reconcile_old_replica_sets([old_rs, new_rs], [old_rs], new_rs, deployment)
    assert scaled == scale_expected
    if scale_expected:
        assert writes[-1].rs.name == "foo-old" and writes[-1].replicas == expected


CLEANUP_UNHEALTHY = [  # oldReplicas, readyPods, maxCleanupCount, cleanupCountExpected
    (10, 8, 1, 1),
    (10, 8, 3, 2),
    (10, 8, 0, 0),
    (10, 10, 3, 0),
]


@pytest.mark.parametrize(("old", "ready", "max_count", "expected"), CLEANUP_UNHEALTHY)
def test_deployment_controller_cleanup_unhealthy_replicas(old: int, ready: int, max_count: int, expected: int) -> None:
    old_rs = rs("foo-v2", old, available=ready)
    deployment = new_deployment(10, max_surge_=2, max_unavailable=2)
    after, writes, invalid = cleanup_unhealthy_replicas([old_rs], deployment, max_count)
    assert not invalid
    assert sum(w.rs.replicas - w.replicas for w in writes) == expected
    assert after[0].replicas == old - expected


SCALE_DOWN_OLD = [  # deploymentReplicas, maxUnavailable, readyPods, oldReplicas, scaleExpected, expectedOld
    (10, 0, 10, 10, True, 9),
    (10, 2, 10, 10, True, 8),
    (10, 2, 8, 10, False, None),
    (10, 2, 10, 0, False, None),
    (10, 2, 1, 10, False, None),
]


@pytest.mark.parametrize(("replicas", "unavailable", "ready", "old", "scale_expected", "expected"), SCALE_DOWN_OLD)
def test_deployment_controller_scale_down_old_replica_sets_for_rolling_update(
    replicas: int, unavailable: int, ready: int, old: int, scale_expected: bool, expected: int | None
) -> None:
    old_rs = rs("foo-v2", old, available=ready)
    deployment = new_deployment(replicas, max_surge_=0, max_unavailable=unavailable)
    writes = scale_down_old_replica_sets_for_rolling_update([old_rs], [old_rs], deployment)
    assert bool(writes) == scale_expected
    if scale_expected:
        assert len(writes) == 1 and writes[0].replicas == expected


def test_cleanup_unhealthy_replicas_refuses_to_scale_up_as_upstream() -> None:
    """More available than desired (the RS controller has not caught up): Go's "invalid request" error, which
    reconcileOldReplicaSets turns into "nothing scaled down"."""
    stale = rs("foo-v1", 2, OLD, available=4)
    deployment = new_deployment(4, max_surge_=1, max_unavailable=1)
    _, writes, invalid = cleanup_unhealthy_replicas([stale], deployment, 3)
    assert invalid and writes == []
    new_rs = rs("foo-v2", 2, NEW, available=2)
    assert reconcile_old_replica_sets([stale, new_rs], [stale], new_rs, deployment) == ([], False)


# --- recreate_test.go TestOldPodsRunning --------------------------------------------------------------------------


def pod(uid: str, phase: str) -> Pod:
    return Pod(namespace="default", name=f"pod-{uid}-{phase}", uid=f"{uid}-{phase}", phase=phase)


OLD_PODS_RUNNING = {
    "no old RSs": ([], {}, False),
    "old RSs with running pods": (
        [rs("some", 0, uid="some-uid"), rs("other", 0, uid="other-uid")],
        {"some-uid": [pod("some", "Running")], "other-uid": [pod("other", "Running")]},
        True,
    ),
    "old RSs without pods but with non-zero status replicas": ([with_status("rs-1", 0, 1)], {}, True),
    "old RSs without pods or non-zero status replicas": ([with_status("rs-1", 0, 0)], {}, False),
    "old RSs with zero status replicas but pods in terminal state are present": (
        [with_status("rs-1", 0, 0)],
        {"rs-1-uid": [pod("a", "Failed"), pod("a", "Succeeded")]},
        False,
    ),
    "old RSs with zero status replicas but pod in unknown phase present": (
        [with_status("rs-1", 0, 0)],
        {"rs-1-uid": [pod("a", "Unknown")]},
        True,
    ),
    "old RSs with zero status replicas with pending pod present": (
        [with_status("rs-1", 0, 0)],
        {"rs-1-uid": [pod("a", "Pending")]},
        True,
    ),
    "old RSs with zero status replicas with running pod present": (
        [with_status("rs-1", 0, 0)],
        {"rs-1-uid": [pod("a", "Running")]},
        True,
    ),
    "old RSs with zero status replicas but pods in terminal state and pending are present": (
        [with_status("rs-1", 0, 0)],
        {"rs-1-uid": [pod("a", "Failed"), pod("a", "Succeeded"), pod("a", "Pending")]},
        True,
    ),
}


@pytest.mark.parametrize(("old_rss", "pod_map", "expected"), OLD_PODS_RUNNING.values(), ids=OLD_PODS_RUNNING.keys())
def test_old_pods_running(old_rss: list[ReplicaSetView], pod_map: dict[str, list[Pod]], expected: bool) -> None:
    new_rs = rs("new", 1, uid="new-uid")
    pod_map = {**pod_map, "new-uid": [pod("new", "Running")]}  # the new RS's pods never count
    assert old_pods_running(new_rs, old_rss, pod_map) is expected


# --- progress_test.go ---------------------------------------------------------------------------------------------


def progressing(reason: str, status: str, last_update: datetime.datetime) -> DeploymentCondition:
    return DeploymentCondition(
        type="Progressing",
        status=status,
        reason=reason,
        last_update_time=last_update,
        last_transition_time=last_update,
    )


def deadline_deployment(
    condition: DeploymentCondition | None, deadline: int | None = 10, **status: int
) -> DeploymentView:
    d = new_deployment(3, progress_deadline_seconds=deadline)
    conditions = (condition,) if condition is not None else ()
    return dataclasses.replace(d, status=DeploymentStatus(observed_generation=1, conditions=conditions, **status))


REQUEUE = {
    "nil progressDeadlineSeconds specified": (deadline_deployment(None, None), None),
    "infinite progressDeadlineSeconds specified": (deadline_deployment(None, 2**31 - 1), None),
    "no progressing condition found": (deadline_deployment(None), None),
    "complete deployment does not need to be requeued": (
        deadline_deployment(progressing("ReplicaSetUpdated", "True", NOW), replicas=3, updated_replicas=3,
                            available_replicas=3),
        None,
    ),
    "already failed deployment does not need to be requeued": (
        deadline_deployment(progressing("ProgressDeadlineExceeded", "False", NOW)), None,
    ),
    "stuck deployment - 30s": (
        deadline_deployment(progressing("ReplicaSetUpdated", "True", NOW - datetime.timedelta(seconds=30)), 60),
        datetime.timedelta(seconds=31),
    ),
    "stuck deployment - 1s": (
        deadline_deployment(progressing("ReplicaSetUpdated", "True", NOW - datetime.timedelta(seconds=59)), 60),
        datetime.timedelta(seconds=2),
    ),
    "failed deployment - less than a second => now": (
        deadline_deployment(progressing("ReplicaSetUpdated", "True", NOW - datetime.timedelta(seconds=60)), 60),
        datetime.timedelta(0),
    ),
    "failed deployment - less than a second => now (past)": (
        deadline_deployment(progressing("ReplicaSetUpdated", "True", NOW - datetime.timedelta(seconds=61)), 60),
        datetime.timedelta(0),
    ),
}  # fmt: skip


@pytest.mark.parametrize(("d", "expected"), REQUEUE.values(), ids=REQUEUE.keys())
def test_requeue_stuck_deployment(d: DeploymentView, expected: datetime.timedelta | None) -> None:
    """TestRequeueStuckDeployment: upstream returns the wait without its added second; the queue gets after + 1s."""
    assert requeue_stuck_deployment(d, d.status, NOW) == expected


def _status_rs(name: str, *, replicas: int, ready: int, available: int, created: datetime.datetime) -> ReplicaSetView:
    status = ReplicaSetStatus(replicas=replicas, ready_replicas=ready, available_replicas=available)
    return rs(name, replicas, created, status=status)


def test_sync_rollout_status_general_progress() -> None:
    """TestSyncRolloutStatus "General: remove Progressing condition and do not estimate progress if deployment has
    no Progress Deadline" and "DeploymentProgressing: dont update lastTransitionTime if deployment already has
    Progressing=True"."""
    new_rs = _status_rs("bar", replicas=2, ready=1, available=1, created=NEW)
    no_deadline = deadline_deployment(progressing("ReplicaSetUpdated", "True", OLD), None, replicas=2)
    status = sync_rollout_status([new_rs], new_rs, no_deadline, NOW)
    assert [c.type for c in status.conditions] == ["Available"]

    before = deadline_deployment(progressing("ReplicaSetUpdated", "True", OLD), 600, replicas=2)
    status = sync_rollout_status([new_rs], new_rs, before, NOW)
    cond = next(c for c in status.conditions if c.type == "Progressing")
    assert (cond.status, cond.reason, cond.message) == ("True", "ReplicaSetUpdated", 'ReplicaSet "bar" is progressing.')
    assert cond.last_transition_time == OLD and cond.last_update_time == NOW


def test_sync_rollout_status_complete_and_timed_out() -> None:
    """TestSyncRolloutStatus "DeploymentComplete: ..." and "DeploymentTimedOut: ..." rows."""
    complete_rs = _status_rs("bar", replicas=3, ready=3, available=3, created=NEW)
    d = deadline_deployment(progressing("ReplicaSetUpdated", "True", OLD), 600, replicas=3, updated_replicas=3)
    cond = next(
        c for c in sync_rollout_status([complete_rs], complete_rs, d, NOW).conditions if c.type == "Progressing"
    )
    assert (cond.status, cond.reason, cond.message) == (
        "True",
        "NewReplicaSetAvailable",
        'ReplicaSet "bar" has successfully progressed.',
    )

    stuck_rs = _status_rs("bar", replicas=1, ready=0, available=0, created=NEW)
    d = deadline_deployment(progressing("ReplicaSetUpdated", "True", OLD), 30, replicas=1, updated_replicas=1)
    cond = next(c for c in sync_rollout_status([stuck_rs], stuck_rs, d, NOW).conditions if c.type == "Progressing")
    assert (cond.status, cond.reason, cond.message) == (
        "False",
        "ProgressDeadlineExceeded",
        'ReplicaSet "bar" has timed out progressing.',
    )


def test_sync_rollout_status_does_not_report_progress_for_a_complete_resync() -> None:
    """ "General: do not estimate progress of deployment with only one active replica set"."""
    one = _status_rs("bar", replicas=3, ready=3, available=3, created=NEW)
    cond = progressing("NewReplicaSetAvailable", "True", OLD)
    d = deadline_deployment(cond, 600, replicas=3, updated_replicas=3, available_replicas=3, ready_replicas=3)
    status = sync_rollout_status([one], one, d, NOW)
    assert next(c for c in status.conditions if c.type == "Progressing") == cond


def test_replica_failure_copied_from_the_new_replica_set_dp_33() -> None:
    from operators.kube.objects import Condition

    failure = Condition(
        type="ReplicaFailure", status="True", reason="FailedCreate", message="quota", last_transition_time=OLD
    )
    new_rs = rs("bar", 1, NEW, status=ReplicaSetStatus(conditions=(failure,)))
    status = sync_rollout_status([new_rs], new_rs, deadline_deployment(None), NOW)
    copied = next(c for c in status.conditions if c.type == "ReplicaFailure")
    assert (copied.status, copied.reason, copied.message) == ("True", "FailedCreate", "quota")
    healthy = rs("bar", 1, NEW)
    with_failure = dataclasses.replace(deadline_deployment(None), status=status)
    assert all(
        c.type != "ReplicaFailure" for c in sync_rollout_status([healthy], healthy, with_failure, NOW).conditions
    )


# --- checkPausedConditions (DP-31) --------------------------------------------------------------------------------


def test_check_paused_conditions() -> None:
    running = deadline_deployment(progressing("ReplicaSetUpdated", "True", OLD))
    paused = check_paused_conditions(dataclasses.replace(running, paused=True), NOW)
    assert paused is not None
    cond = next(c for c in paused.conditions if c.type == "Progressing")
    assert (cond.status, cond.reason, cond.message) == ("Unknown", "DeploymentPaused", "Deployment is paused")
    assert check_paused_conditions(dataclasses.replace(running, paused=True, status=paused), NOW) is None
    resumed = check_paused_conditions(dataclasses.replace(running, status=paused), NOW)
    assert resumed is not None
    assert next(c for c in resumed.conditions if c.type == "Progressing").reason == "DeploymentResumed"
    timed_out = deadline_deployment(progressing("ProgressDeadlineExceeded", "False", OLD))
    assert check_paused_conditions(dataclasses.replace(timed_out, paused=True), NOW) is None, "never over a timeout"
    assert (
        check_paused_conditions(dataclasses.replace(running, paused=True, progress_deadline_seconds=None), NOW) is None
    )


# --- getNewReplicaSet (DP-06..DP-11) ------------------------------------------------------------------------------


def test_plan_new_replica_set_creates_with_hash_revision_and_annotations() -> None:
    d = new_deployment(4, max_surge_=1, max_unavailable=1, annotations={"kubernetes.io/change-cause": "v2"})
    old = rs("foo-old", 4, OLD, annotations={"deployment.kubernetes.io/revision": "3"})
    plan = plan_new_replica_set(d, [old], True, NOW)
    create = plan.write
    assert create is not None and plan.new_rs is None and plan.revision == "4"
    body: Any = getattr(create, "body", None)
    assert body is not None
    hash_ = body["spec"]["template"]["metadata"]["labels"]["pod-template-hash"]
    assert create.name == f"foo-{hash_}" == body["metadata"]["name"]  # type: ignore[union-attr]
    assert body["spec"]["selector"]["matchLabels"] == {"foo": "bar", "pod-template-hash": hash_}
    assert body["spec"]["replicas"] == 1, "NewRSNewReplicas: 4 + 1 surge - 4 old"
    assert body["metadata"]["annotations"] == {
        "kubernetes.io/change-cause": "v2",
        "deployment.kubernetes.io/revision": "4",
        "deployment.kubernetes.io/desired-replicas": "4",
        "deployment.kubernetes.io/max-replicas": "5",
    }


def test_plan_new_replica_set_raises_the_revision_of_an_old_template_and_records_history() -> None:
    """DP-10: rolling back to the RS of revision 1 raises it to max(old) + 1 and appends 1 to its history."""
    d = new_deployment(3)
    back = rs("foo-1", 0, OLDER, template=d.template, annotations={"deployment.kubernetes.io/revision": "1"})
    other = rs("foo-2", 3, OLD, annotations={"deployment.kubernetes.io/revision": "2"})
    plan = plan_new_replica_set(d, [back, other], False, NOW)
    update = plan.write
    assert update is not None and getattr(update, "rs", None) == back
    annotations = update.annotations  # type: ignore[union-attr]
    assert annotations["deployment.kubernetes.io/revision"] == "3"
    assert annotations["deployment.kubernetes.io/revision-history"] == "1"


def test_plan_new_replica_set_found_condition_once_up_to_date() -> None:
    d = new_deployment(3, annotations={"deployment.kubernetes.io/revision": "1"}, progress_deadline_seconds=600)
    current = rs("foo-1", 3, NEW, template=d.template, annotations={"deployment.kubernetes.io/revision": "1"})
    plan = plan_new_replica_set(d, [current], True, NOW)
    assert plan.write is None and plan.new_rs == current and plan.revision == "1"
    cond = next(c for c in plan.status.conditions if c.type == "Progressing")
    assert (cond.reason, cond.message) == ("FoundNewReplicaSet", 'Found new replica set "foo-1"')


# --- rollback.go ---------------------------------------------------------------------------------------------------


def test_rollback() -> None:
    d = new_deployment(
        3, annotations={"deprecated.deployment.rollback.to": "0", "deployment.kubernetes.io/revision": "2"}
    )
    one = rs(
        "foo-1",
        0,
        OLD,
        annotations={"deployment.kubernetes.io/revision": "1", "kubernetes.io/change-cause": "one"},
        template={"metadata": {"labels": {"foo": "bar", "pod-template-hash": "h1"}}, "spec": {"containers": []}},
    )
    two = rs("foo-2", 3, NEW, annotations={"deployment.kubernetes.io/revision": "2"}, template=d.template)
    done = rollback(d, [one, two], 0)
    assert (done.event_reason, done.revision, done.template) == (
        ROLLBACK_DONE,
        1,
        {"metadata": {"labels": {"foo": "bar"}}, "spec": {"containers": []}},
    )
    assert done.annotations == {"deployment.kubernetes.io/revision": "2", "kubernetes.io/change-cause": "one"}
    unchanged = rollback(d, [one, two], 2)
    assert (unchanged.event_reason, unchanged.template) == ("DeploymentRollbackTemplateUnchanged", None)
    missing = rollback(d, [one, two], 7)
    assert (missing.event_reason, missing.template) == (ROLLBACK_REVISION_NOT_FOUND, None)
    assert "deprecated.deployment.rollback.to" not in missing.annotations
    alone = rollback(d, [two], 0)
    assert (alone.event_reason, alone.event_message) == (ROLLBACK_REVISION_NOT_FOUND, "Unable to find last revision.")
