"""The pure decisions of pkg/controller/deployment/rolling.go: one step of a rolling update (DP-16..DP-18).

A sync either scales the new ReplicaSet up (or down to spec.replicas), or else scales old ReplicaSets down,
never both (DP-18): `reconcile_new_replica_set` first, and only when it has nothing to do,
`reconcile_old_replica_sets`. Each returns the scaleReplicaSet writes, in Go's order, as `Scale`s.
"""

from __future__ import annotations

from collections.abc import Sequence

from operators.controllers.deployment.model import DeploymentView
from operators.controllers.deployment.sync import Scale, scale_replica_set_and_record_event
from operators.controllers.deployment.util import (
    get_available_replica_count_for_replica_sets,
    get_replica_count_for_replica_sets,
    max_unavailable,
    new_rs_new_replicas,
    replica_sets_by_creation_timestamp,
)
from operators.controllers.replicaset.model import ReplicaSetView

__all__ = [
    "cleanup_unhealthy_replicas",
    "reconcile_new_replica_set",
    "reconcile_old_replica_sets",
    "scale_down_old_replica_sets_for_rolling_update",
]


# --8<-- [start:reconcile-new]
def reconcile_new_replica_set(
    all_rss: Sequence[ReplicaSetView], new_rs: ReplicaSetView, deployment: DeploymentView
) -> Scale | None:
    """reconcileNewReplicaSet (DP-16): scale the new RS down to spec.replicas, or up as far as maxSurge allows."""
    if new_rs.replicas == deployment.replicas:
        return None
    if new_rs.replicas > deployment.replicas:
        return scale_replica_set_and_record_event(new_rs, deployment.replicas, deployment)
    return scale_replica_set_and_record_event(new_rs, new_rs_new_replicas(deployment, all_rss, new_rs), deployment)


# --8<-- [end:reconcile-new]


# --8<-- [start:reconcile-old]
def reconcile_old_replica_sets(
    all_rss: Sequence[ReplicaSetView],
    old_rss: Sequence[ReplicaSetView],
    new_rs: ReplicaSetView,
    deployment: DeploymentView,
) -> tuple[list[Scale], bool]:
    """reconcileOldReplicaSets (DP-17): how the active old RSs (`old_rss`) shrink, within maxUnavailable.

    At most maxScaledDown = Σspec(all) - minAvailable - (the new RS's unavailable replicas) can go: more would
    put availability at risk once the new RS's unavailable pods are counted. The unhealthy replicas of old RSs
    go first (they cost no availability and would otherwise block the rollout, kubernetes#16737); then old RSs
    shrink by as many available replicas as exceed minAvailable, counted over the RSs as the cleanup left them.
    Returns the writes and Go's "scaled down" verdict (which ends this sync's rollout step, DP-18).
    """
    if get_replica_count_for_replica_sets(old_rss) == 0:
        return [], False  # can't scale down further
    min_available = deployment.replicas - max_unavailable(deployment)
    new_rs_unavailable = new_rs.replicas - new_rs.status.available_replicas
    max_scaled_down = get_replica_count_for_replica_sets(all_rss) - min_available - new_rs_unavailable
    if max_scaled_down <= 0:
        return [], False
    cleaned, cleanups, invalid = cleanup_unhealthy_replicas(old_rss, deployment, max_scaled_down)
    if invalid:
        # An old RS reports more available replicas than it wants (its controller has not caught up with a
        # scale-down yet). Go keeps the scales made before it, reports "nothing scaled down" and waits for the
        # RS's status update to sync again; so do we.
        return cleanups, False
    scale_downs = scale_down_old_replica_sets_for_rolling_update([*cleaned, new_rs], cleaned, deployment)
    writes = [*cleanups, *scale_downs]
    return writes, any(write.size_changed for write in writes)


# --8<-- [end:reconcile-old]


def cleanup_unhealthy_replicas(
    old_rss: Sequence[ReplicaSetView], deployment: DeploymentView, max_cleanup_count: int
) -> tuple[list[ReplicaSetView], list[Scale], bool]:
    """cleanupUnhealthyReplicas: shrink old RSs (oldest first) by their unavailable replicas, up to the count.

    The ReplicaSet controller deletes not-ready, unscheduled and pending pods first (RS-12), so these scale-downs
    remove exactly the unhealthy pods. Returns the old RSs as the scales leave them (oldest first), the scales,
    and True when Go would have stopped with "invalid request to scale down": an RS with more available
    replicas than spec.replicas would be scaled *up* by the subtraction.
    """
    ordered = sorted(old_rss, key=replica_sets_by_creation_timestamp)
    scales: list[Scale] = []
    total = 0
    for i, rs in enumerate(ordered):
        if total >= max_cleanup_count:
            break
        if rs.replicas == 0 or rs.replicas == rs.status.available_replicas:
            continue  # nothing to scale down, or no unhealthy replicas
        count = min(max_cleanup_count - total, rs.replicas - rs.status.available_replicas)
        if count < 0:
            return ordered, scales, True
        if (write := scale_replica_set_and_record_event(rs, rs.replicas - count, deployment)) is not None:
            scales.append(write)
            ordered[i] = write.result
        total += count
    return ordered, scales, False


def scale_down_old_replica_sets_for_rolling_update(
    all_rss: Sequence[ReplicaSetView], old_rss: Sequence[ReplicaSetView], deployment: DeploymentView
) -> list[Scale]:
    """scaleDownOldReplicaSetsForRollingUpdate: shrink old RSs, oldest first, by the available pods over min."""
    min_available = deployment.replicas - max_unavailable(deployment)
    available = get_available_replica_count_for_replica_sets(all_rss)
    if available <= min_available:
        return []  # cannot scale down
    total_to_scale_down = available - min_available
    scales: list[Scale] = []
    total = 0
    for rs in sorted(old_rss, key=replica_sets_by_creation_timestamp):
        if total >= total_to_scale_down:
            break
        if rs.replicas == 0:
            continue
        count = min(rs.replicas, total_to_scale_down - total)
        if (write := scale_replica_set_and_record_event(rs, rs.replicas - count, deployment)) is not None:
            scales.append(write)
        total += count
    return scales
