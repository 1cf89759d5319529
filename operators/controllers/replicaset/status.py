"""Status computation and conditions, as pkg/controller/replicaset/replica_set_utils.go (RS-21..RS-24)."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence

from operators.controllers.podutil import is_pod_available, is_pod_ready
from operators.controllers.replicaset.model import (
    REPLICA_FAILURE,
    ManageError,
    ReplicaSetStatus,
    ReplicaSetView,
)
from operators.kube.objects import Condition, Pod
from operators.kube.selectors import is_superset

__all__ = [
    "calculate_status",
    "get_condition",
    "needs_status_update",
    "new_replica_set_condition",
    "remove_condition",
    "set_condition",
]


def calculate_status(
    rs: ReplicaSetView,
    active_pods: Sequence[Pod],
    manage_error: ManageError | None,
    now: datetime.datetime,
    *,
    terminating_pods: Sequence[Pod] = (),
) -> ReplicaSetStatus:
    """calculateStatus: the status a sync should write, from the claimed active and terminating pods.

    `active_pods` are the claimed active pods (RS-21); `terminating_pods` the pods this RS controls that are
    terminating (controller.FilterClaimedPods over FilterTerminatingPods, RS-22). observedGeneration is set
    here rather than at write time as upstream does; needs_status_update accounts for it (RS-24).
    """
    fully_labeled = ready = available = 0
    template_labels = tuple(rs.template_labels.items())
    for pod in active_pods:
        # The template labels are a superset of the selector, so a pod can match one and not the other.
        if is_superset(pod.labels, template_labels):
            fully_labeled += 1
        if is_pod_ready(pod):
            ready += 1
            if is_pod_available(pod, rs.min_ready_seconds, now):
                available += 1

    status = rs.status
    failure = get_condition(rs.status, REPLICA_FAILURE)
    if manage_error is not None and failure is None:
        # RS-23: upstream derives the reason from the sign of diff, not from the error; the two agree,
        # since manageReplicas only creates when short and only deletes when over.
        diff = len(active_pods) - rs.replicas
        reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
        condition = new_replica_set_condition(REPLICA_FAILURE, "True", reason, manage_error.message, now)
        status = set_condition(status, condition)
    elif manage_error is None and failure is not None:
        # RS-23: a clean sync removes the condition.
        status = remove_condition(status, REPLICA_FAILURE)

    return ReplicaSetStatus(
        replicas=len(active_pods),
        fully_labeled_replicas=fully_labeled,
        ready_replicas=ready,
        available_replicas=available,
        terminating_replicas=len(terminating_pods),  # RS-22: DeploymentReplicaSetTerminatingReplicas is on
        observed_generation=rs.generation,
        conditions=status.conditions,
    )


def needs_status_update(rs: ReplicaSetView, new_status: ReplicaSetStatus) -> bool:
    """The inverse of updateReplicaSetStatus's early return (RS-24).

    Skip the write when every counter and the conditions are unchanged and the current status already
    observed this generation.
    """
    old = rs.status
    unchanged = (
        old.replicas == new_status.replicas
        and old.fully_labeled_replicas == new_status.fully_labeled_replicas
        and old.ready_replicas == new_status.ready_replicas
        and old.available_replicas == new_status.available_replicas
        and old.terminating_replicas == new_status.terminating_replicas
        and rs.generation == old.observed_generation
        and old.conditions == new_status.conditions
    )
    return not unchanged


def new_replica_set_condition(
    condition_type: str, status: str, reason: str, message: str, now: datetime.datetime
) -> Condition:
    """NewCondition, with lastTransitionTime = now truncated to metav1.Time's whole seconds."""
    return Condition(condition_type, status, reason, message, now.replace(microsecond=0))


def get_condition(status: ReplicaSetStatus, condition_type: str) -> Condition | None:
    """GetCondition: the condition of that type, if present."""
    return next((c for c in status.conditions if c.type == condition_type), None)


def set_condition(status: ReplicaSetStatus, condition: Condition) -> ReplicaSetStatus:
    """SetCondition: add or replace; an existing condition with the same status and reason is kept as is."""
    current = get_condition(status, condition.type)
    if current is not None and current.status == condition.status and current.reason == condition.reason:
        return status
    kept = tuple(c for c in status.conditions if c.type != condition.type)
    return dataclasses.replace(status, conditions=(*kept, condition))


def remove_condition(status: ReplicaSetStatus, condition_type: str) -> ReplicaSetStatus:
    """RemoveCondition: drop the condition of that type."""
    return dataclasses.replace(status, conditions=tuple(c for c in status.conditions if c.type != condition_type))
