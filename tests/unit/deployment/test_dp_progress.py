"""Ports of pkg/controller/deployment/progress_test.go (Kubernetes v1.35): TestRequeueStuckDeployment and
TestSyncRolloutStatus, with `now` in place of upstream's nowFn override, plus getReplicaFailures (DP-33).

Two adaptations, both of form rather than substance:
- requeueStuckDeployment returns `after` and queues the Deployment after `after + 1s` (AddAfter, plus a second
  against clock skew); `requeue_stuck_deployment` returns the delay it is queued with. Each row keeps upstream's
  expected duration and converts it (`queued`): -1 (no requeue) is None, 0 (requeue now, rate-limited) stays 0.
- Python times have microseconds, not nanoseconds: "less than a second" is 1µs before the deadline, not 1ns.
Upstream's TestSyncRolloutStatus compares its expected lastUpdate/lastTransition with testTime rather than with
the condition (so never fails on them); these rows assert the condition's times as syncRolloutStatus sets them.
"""

from __future__ import annotations

import datetime

import pytest

from operators.controllers.deployment.model import DeploymentCondition, DeploymentStatus, DeploymentView
from operators.controllers.deployment.progress import (
    get_replica_failures,
    requeue_stuck_deployment,
    sync_rollout_status,
)
from operators.controllers.deployment.util import MAX_INT32, get_deployment_condition
from operators.controllers.replicaset.model import ReplicaSetStatus, ReplicaSetView
from operators.kube.objects import Condition
from tests.unit.deployment.builders import (
    current_deployment,
    new_deployment_status,
    new_rs_with_available,
    rs,
    utc,
)

# --- TestRequeueStuckDeployment -----------------------------------------------------------------------------------

PDS = 60
INFINITE = MAX_INT32
FAILED = [DeploymentCondition(type="Progressing", status="False", reason="ProgressDeadlineExceeded")]
STUCK = [DeploymentCondition(type="Progressing", status="True", last_update_time=utc(2017, 2, 15, 18, 49, 0))]
GO_NO_REQUEUE = datetime.timedelta(microseconds=-1)  # time.Duration(-1)
SECOND = datetime.timedelta(seconds=1)


def queued(upstream: datetime.timedelta) -> datetime.timedelta | None:
    """The queue delay behind upstream's return value: none, now, or AddAfter(after + 1s)."""
    if upstream == GO_NO_REQUEUE:
        return None
    return upstream + SECOND if upstream > datetime.timedelta(0) else upstream


REQUEUE_STUCK_DEPLOYMENT_TESTS = [
    pytest.param(
        current_deployment(None, 4, 3, 3, 2),
        new_deployment_status(3, 3, 2),
        None,
        GO_NO_REQUEUE,
        id="nil progressDeadlineSeconds specified",
    ),
    pytest.param(
        current_deployment(INFINITE, 4, 3, 3, 2),
        new_deployment_status(3, 3, 2),
        None,
        GO_NO_REQUEUE,
        id="infinite progressDeadlineSeconds specified",
    ),
    pytest.param(
        current_deployment(PDS, 4, 3, 3, 2),
        new_deployment_status(3, 3, 2),
        None,
        GO_NO_REQUEUE,
        id="no progressing condition found",
    ),
    pytest.param(
        current_deployment(PDS, 3, 3, 3, 3),
        new_deployment_status(3, 3, 3),
        None,
        GO_NO_REQUEUE,
        id="complete deployment does not need to be requeued",
    ),
    pytest.param(
        current_deployment(PDS, 3, 3, 3, 0, FAILED),
        new_deployment_status(3, 3, 0),
        None,
        GO_NO_REQUEUE,
        id="already failed deployment does not need to be requeued",
    ),
    pytest.param(
        current_deployment(PDS, 3, 3, 3, 1, STUCK),
        new_deployment_status(3, 3, 1),
        utc(2017, 2, 15, 18, 49, 30),
        30 * SECOND,
        id="stuck deployment - 30s",
    ),
    pytest.param(
        current_deployment(PDS, 3, 3, 3, 1, STUCK),
        new_deployment_status(3, 3, 1),
        utc(2017, 2, 15, 18, 49, 59),
        1 * SECOND,
        id="stuck deployment - 1s",
    ),
    pytest.param(
        current_deployment(PDS, 3, 3, 3, 1, STUCK),
        new_deployment_status(3, 3, 1),
        utc(2017, 2, 15, 18, 49, 59, 1),  # upstream: 1ns past 18:49:59
        datetime.timedelta(0),
        id="failed deployment - less than a second => now",
    ),
    pytest.param(
        current_deployment(PDS, 3, 3, 3, 1, STUCK),
        new_deployment_status(3, 3, 1),
        utc(2017, 2, 15, 18, 50, 0),
        datetime.timedelta(0),
        id="failed deployment - now",
    ),
    pytest.param(
        current_deployment(PDS, 3, 3, 3, 1, STUCK),
        new_deployment_status(3, 3, 1),
        utc(2017, 2, 15, 18, 50, 1),
        datetime.timedelta(0),
        id="failed deployment - 1s after deadline",
    ),
    pytest.param(
        current_deployment(PDS, 3, 3, 3, 1, STUCK),
        new_deployment_status(3, 3, 1),
        utc(2017, 2, 15, 18, 51, 0),
        datetime.timedelta(0),
        id="failed deployment - 60s after deadline",
    ),
]


@pytest.mark.parametrize(("d", "status", "now", "expected"), REQUEUE_STUCK_DEPLOYMENT_TESTS)
def test_requeue_stuck_deployment(
    d: DeploymentView, status: DeploymentStatus, now: datetime.datetime | None, expected: datetime.timedelta
) -> None:
    now = now or utc(2026, 3, 1, 12, 0, 0)  # rows without nowFn return before reading the clock
    assert requeue_stuck_deployment(d, status, now) == queued(expected)


# --- TestSyncRolloutStatus ----------------------------------------------------------------------------------------

TEST_TIME = utc(2017, 2, 15, 18, 49, 0)
# What nowFn still returns when upstream runs this test (TestRequeueStuckDeployment left it there): past the deadline.
NOW = utc(2017, 2, 15, 18, 51, 0)
FAILED_TIMED_OUT = DeploymentCondition(type="Progressing", status="False", reason="ProgressDeadlineExceeded")
NEW_RS_AVAILABLE = DeploymentCondition(
    type="Progressing",
    status="True",
    reason="NewReplicaSetAvailable",
    last_update_time=TEST_TIME,
    last_transition_time=TEST_TIME,
)
REPLICA_SET_UPDATED = DeploymentCondition(
    type="Progressing",
    status="True",
    reason="ReplicaSetUpdated",
    last_update_time=TEST_TIME,
    last_transition_time=TEST_TIME,
)


def progressing(
    status: str,
    reason: str,
    message: str,
    last_update: datetime.datetime | None,
    last_transition: datetime.datetime | None,
) -> DeploymentCondition:
    return DeploymentCondition(
        type="Progressing",
        status=status,
        reason=reason,
        message=message,
        last_update_time=last_update,
        last_transition_time=last_transition,
    )


SYNC_ROLLOUT_STATUS_TESTS = [
    pytest.param(
        current_deployment(None, 3, 2, 2, 2, [REPLICA_SET_UPDATED]),
        [new_rs_with_available("bar", 0, 1, 1)],
        new_rs_with_available("foo", 3, 2, 2),
        None,
        id="General: remove Progressing condition and do not estimate progress if deployment has no Progress Deadline",
    ),
    pytest.param(
        current_deployment(PDS, 3, 3, 3, 3, [NEW_RS_AVAILABLE]),
        [new_rs_with_available("bar", 3, 3, 3)],
        None,
        NEW_RS_AVAILABLE,
        id="General: do not estimate progress of deployment with only one active ReplicaSet",
    ),
    pytest.param(
        current_deployment(PDS, 3, 2, 2, 2, [REPLICA_SET_UPDATED]),
        [new_rs_with_available("bar", 0, 1, 1)],
        new_rs_with_available("foo", 3, 2, 2),
        progressing("True", "ReplicaSetUpdated", 'ReplicaSet "foo" is progressing.', NOW, TEST_TIME),
        id="DeploymentProgressing: dont update lastTransitionTime if deployment already has Progressing=True",
    ),
    pytest.param(
        current_deployment(PDS, 3, 2, 2, 2, [FAILED_TIMED_OUT]),
        [new_rs_with_available("bar", 0, 1, 1)],
        new_rs_with_available("foo", 3, 2, 2),
        progressing("True", "ReplicaSetUpdated", 'ReplicaSet "foo" is progressing.', NOW, NOW),
        id="DeploymentProgressing: update everything if deployment has Progressing=False",
    ),
    pytest.param(
        current_deployment(PDS, 3, 2, 2, 2, []),
        [new_rs_with_available("bar", 0, 1, 1)],
        new_rs_with_available("foo", 3, 2, 2),
        progressing("True", "ReplicaSetUpdated", 'ReplicaSet "foo" is progressing.', NOW, NOW),
        id="DeploymentProgressing: create Progressing condition if it does not exist",
    ),
    pytest.param(
        current_deployment(PDS, 3, 3, 3, 3, [REPLICA_SET_UPDATED]),
        [],
        new_rs_with_available("foo", 3, 3, 3),
        progressing("True", "NewReplicaSetAvailable", 'ReplicaSet "foo" has successfully progressed.', NOW, TEST_TIME),
        id="DeploymentComplete: dont update lastTransitionTime if deployment already has Progressing=True",
    ),
    pytest.param(
        current_deployment(PDS, 3, 3, 3, 3, [FAILED_TIMED_OUT]),
        [],
        new_rs_with_available("foo", 3, 3, 3),
        progressing("True", "NewReplicaSetAvailable", 'ReplicaSet "foo" has successfully progressed.', NOW, NOW),
        id="DeploymentComplete: update everything if deployment has Progressing=False",
    ),
    pytest.param(
        current_deployment(PDS, 3, 3, 3, 3, []),
        [],
        new_rs_with_available("foo", 3, 3, 3),
        progressing("True", "NewReplicaSetAvailable", 'ReplicaSet "foo" has successfully progressed.', NOW, NOW),
        id="DeploymentComplete: create Progressing condition if it does not exist",
    ),
    pytest.param(
        current_deployment(PDS, 0, 3, 3, 3, [REPLICA_SET_UPDATED]),
        [new_rs_with_available("foo", 0, 0, 0)],
        None,
        progressing(
            "True", "NewReplicaSetAvailable", 'Deployment "progress-test" has successfully progressed.', NOW, TEST_TIME
        ),
        id="DeploymentComplete: defend against NPE when newRS=nil",
    ),
    pytest.param(
        current_deployment(PDS, 3, 2, 2, 2, [REPLICA_SET_UPDATED]),
        [],
        new_rs_with_available("foo", 3, 2, 2),
        progressing("False", "ProgressDeadlineExceeded", 'ReplicaSet "foo" has timed out progressing.', NOW, NOW),
        id="DeploymentTimedOut: update status if rollout exceeds Progress Deadline",
    ),
    pytest.param(
        current_deployment(PDS, 3, 2, 2, 2, [FAILED_TIMED_OUT]),
        [],
        new_rs_with_available("foo", 3, 2, 2),
        FAILED_TIMED_OUT,  # untouched
        id="DeploymentTimedOut: do not update status if deployment has existing timedOut condition",
    ),
]


@pytest.mark.parametrize(("d", "all_rss", "new_rs", "expected"), SYNC_ROLLOUT_STATUS_TESTS)
def test_sync_rollout_status(
    d: DeploymentView,
    all_rss: list[ReplicaSetView],
    new_rs: ReplicaSetView | None,
    expected: DeploymentCondition | None,
) -> None:
    all_rss = [*all_rss, new_rs] if new_rs is not None else all_rss
    status = sync_rollout_status(all_rss, new_rs, d, NOW)
    assert get_deployment_condition(status, "Progressing") == expected


def test_sync_rollout_status_resets_the_deadline_on_progress_dp_30() -> None:
    """Progress bumps lastUpdateTime even with an unchanged reason: the deadline clock restarts, and no timeout is
    reported for a rollout that is still moving (here: one more replica available since the last status)."""
    d = current_deployment(PDS, 3, 3, 2, 1, [REPLICA_SET_UPDATED])
    foo = new_rs_with_available("foo", 3, 2, 2)
    bar = new_rs_with_available("bar", 0, 1, 0)
    status = sync_rollout_status([bar, foo], foo, d, NOW)
    assert get_deployment_condition(status, "Progressing") == progressing(
        "True", "ReplicaSetUpdated", 'ReplicaSet "foo" is progressing.', NOW, TEST_TIME
    )


# --- getReplicaFailures (DP-33) -----------------------------------------------------------------------------------


def _failure(message: str) -> Condition:
    return Condition(
        type="ReplicaFailure", status="True", reason="FailedCreate", message=message, last_transition_time=TEST_TIME
    )


def _failing(name: str, message: str) -> ReplicaSetView:
    return rs(name, 1, status=ReplicaSetStatus(conditions=(_failure(message),)))


def _promoted(message: str) -> DeploymentCondition:
    return DeploymentCondition(
        type="ReplicaFailure",
        status="True",
        reason="FailedCreate",
        message=message,
        last_transition_time=TEST_TIME,
        last_update_time=TEST_TIME,
    )


def test_get_replica_failures_prefers_the_new_replica_set() -> None:
    old, new = _failing("old", "old quota"), _failing("new", "new quota")
    assert get_replica_failures([old, new], new) == [_promoted("new quota")]
    healthy = rs("new", 1)
    assert get_replica_failures([old, healthy], healthy) == [_promoted("old quota")]
    assert get_replica_failures([rs("old", 1), healthy], healthy) == []


def test_sync_rollout_status_copies_and_removes_replica_failure_dp_33() -> None:
    d = current_deployment(PDS, 1, 0, 0, 0)
    failing = _failing("foo", "exceeded quota")
    status = sync_rollout_status([failing], failing, d, NOW)
    assert get_deployment_condition(status, "ReplicaFailure") == _promoted("exceeded quota")
    healed = rs("foo", 1)
    with_failure = current_deployment(PDS, 1, 0, 0, 0, status.conditions)
    assert get_deployment_condition(sync_rollout_status([healed], healed, with_failure, NOW), "ReplicaFailure") is None
