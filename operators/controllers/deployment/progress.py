"""The pure decisions of pkg/controller/deployment/progress.go: the Progressing condition and its deadline.

`sync_rollout_status` is syncRolloutStatus without the write (DP-30, DP-33): the status a rollout step ends
with. `requeue_stuck_deployment` is requeueStuckDeployment (DP-34): no event marks the moment a deadline
passes, so the glue looks again when it would.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence

from operators.controllers.deployment.model import (
    DEPLOYMENT_PROGRESSING,
    DEPLOYMENT_REPLICA_FAILURE,
    DeploymentCondition,
    DeploymentStatus,
    DeploymentView,
)
from operators.controllers.deployment.sync import calculate_status
from operators.controllers.deployment.util import (
    NEW_RS_AVAILABLE_REASON,
    REPLICA_SET_UPDATED_REASON,
    TIMED_OUT_REASON,
    deployment_complete,
    deployment_progressing,
    deployment_timed_out,
    get_deployment_condition,
    has_progress_deadline,
    new_deployment_condition,
    remove_deployment_condition,
    replica_set_to_deployment_condition,
    set_deployment_condition,
)
from operators.controllers.replicaset.model import REPLICA_FAILURE, ReplicaSetView

__all__ = ["get_replica_failures", "requeue_stuck_deployment", "sync_rollout_status"]


def sync_rollout_status(
    all_rss: Sequence[ReplicaSetView | None],
    new_rs: ReplicaSetView | None,
    deployment: DeploymentView,
    now: datetime.datetime,
) -> DeploymentStatus:
    """syncRolloutStatus: calculateStatus plus the Progressing and ReplicaFailure conditions.

    With a progress deadline and a rollout not yet known complete: complete → True NewReplicaSetAvailable;
    progress since the current status → True ReplicaSetUpdated with lastUpdateTime = now (the deadline clock
    restarts); otherwise, past the deadline → False ProgressDeadlineExceeded. Without a deadline the condition
    is removed. ReplicaFailure is the new RS's (else any RS's), or removed.
    """
    status = calculate_status(all_rss, new_rs, deployment, now)
    if not has_progress_deadline(deployment):
        status = remove_deployment_condition(status, DEPLOYMENT_PROGRESSING)
    current = get_deployment_condition(deployment.status, DEPLOYMENT_PROGRESSING)
    # One active RS with every replica updated and already reported complete: a resync, not a rollout.
    is_complete_deployment = (
        status.replicas == status.updated_replicas and current is not None and current.reason == NEW_RS_AVAILABLE_REASON
    )
    if has_progress_deadline(deployment) and not is_complete_deployment:
        subject = f'ReplicaSet "{new_rs.name}"' if new_rs is not None else f'Deployment "{deployment.name}"'
        if deployment_complete(deployment, status):
            condition = new_deployment_condition(
                DEPLOYMENT_PROGRESSING, "True", NEW_RS_AVAILABLE_REASON, f"{subject} has successfully progressed.", now
            )
            status = set_deployment_condition(status, condition)
        elif deployment_progressing(deployment, status):
            # Progress bumps lastUpdateTime even with an unchanged reason, which set_deployment_condition would
            # ignore: replace the condition, keeping lastTransitionTime while the status stays True.
            condition = new_deployment_condition(
                DEPLOYMENT_PROGRESSING, "True", REPLICA_SET_UPDATED_REASON, f"{subject} is progressing.", now
            )
            if current is not None:
                if current.status == "True":
                    condition = dataclasses.replace(condition, last_transition_time=current.last_transition_time)
                status = remove_deployment_condition(status, DEPLOYMENT_PROGRESSING)
            status = set_deployment_condition(status, condition)
        elif deployment_timed_out(deployment, status, now):
            condition = new_deployment_condition(
                DEPLOYMENT_PROGRESSING, "False", TIMED_OUT_REASON, f"{subject} has timed out progressing.", now
            )
            status = set_deployment_condition(status, condition)
    failures = get_replica_failures(all_rss, new_rs)
    if failures:
        return set_deployment_condition(status, failures[0])
    return remove_deployment_condition(status, DEPLOYMENT_REPLICA_FAILURE)


def get_replica_failures(
    all_rss: Sequence[ReplicaSetView | None], new_rs: ReplicaSetView | None
) -> list[DeploymentCondition]:
    """getReplicaFailures (DP-33): the new RS's ReplicaFailure conditions, else those of every RS."""
    if new_rs is not None:
        found = [replica_set_to_deployment_condition(c) for c in new_rs.status.conditions if c.type == REPLICA_FAILURE]
        if found:
            return found
    return [
        replica_set_to_deployment_condition(c)
        for rs in all_rss
        if rs is not None
        for c in rs.status.conditions
        if c.type == REPLICA_FAILURE
    ]


def requeue_stuck_deployment(
    deployment: DeploymentView, new_status: DeploymentStatus, now: datetime.datetime
) -> datetime.timedelta | None:
    """requeueStuckDeployment (DP-34): when to look at a rollout again for its deadline; None for never.

    Only with a deadline, a Progressing condition, and a rollout neither complete nor timed out: at
    lastUpdateTime + progressDeadlineSeconds, plus a second against clock skew in the delay; under a second
    left means now (timedelta 0: the glue requeues rate-limited, as Go does).
    """
    current = get_deployment_condition(deployment.status, DEPLOYMENT_PROGRESSING)
    if not has_progress_deadline(deployment) or current is None:
        return None
    if deployment_complete(deployment, new_status) or current.reason == TIMED_OUT_REASON:
        return None
    assert deployment.progress_deadline_seconds is not None  # has_progress_deadline
    last_update = current.last_update_time or datetime.datetime.min.replace(tzinfo=datetime.UTC)
    after = last_update + datetime.timedelta(seconds=deployment.progress_deadline_seconds) - now
    if after < datetime.timedelta(seconds=1):
        return datetime.timedelta(0)
    return after + datetime.timedelta(seconds=1)
