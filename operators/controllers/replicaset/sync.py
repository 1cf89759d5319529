"""The pure decisions of syncReplicaSet and manageReplicas in pkg/controller/replicaset/replica_set.go.

What to create or delete (RS-03, RS-11, RS-12), which pods are related for ranking, and when to requeue so
that availableReplicas catches up with minReadySeconds (RS-19). Running the creates and deletes, and the
expectations bookkeeping around them, is the glue's.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from operators.controllers.podutil import is_pod_ready
from operators.controllers.replicaset.deletion import get_pods_to_delete
from operators.controllers.replicaset.model import ReplicaSetStatus, ReplicaSetView
from operators.kube.objects import Pod

__all__ = [
    "BURST_REPLICAS",
    "ScaleDown",
    "ScaleUp",
    "availability_requeue_after",
    "indirectly_related_pods",
    "manage_replicas",
    "next_availability_check",
    "replica_sets_with_same_controller",
]

# replicaset.BurstReplicas: the most pods created or deleted in one sync (RS-03).
BURST_REPLICAS = 500


@dataclass(frozen=True, slots=True)
class ScaleUp:
    """Create `count` pods from the template (slow-start batched, RS-04), after ExpectCreations(count)."""

    count: int


@dataclass(frozen=True, slots=True)
class ScaleDown:
    """Delete these pods in parallel (RS-06), after ExpectDeletions(their keys)."""

    pods: tuple[Pod, ...]


# --8<-- [start:manage-replicas]
def manage_replicas(
    rs: ReplicaSetView,
    active_pods: Sequence[Pod],
    related_pods: Iterable[Pod],
    now: datetime.datetime,
    burst_replicas: int = BURST_REPLICAS,
) -> ScaleUp | ScaleDown | None:
    """What manageReplicas would do for these claimed active pods; None when the count is right.

    The caller only asks when expectations are satisfied and the RS is not being deleted (RS-01).
    """
    diff = len(active_pods) - rs.replicas  # RS-03
    if diff < 0:
        return ScaleUp(min(-diff, burst_replicas))
    if diff > 0:
        diff = min(diff, burst_replicas)
        return ScaleDown(tuple(get_pods_to_delete(active_pods, related_pods, diff, now)))  # RS-11, RS-12
    return None


# --8<-- [end:manage-replicas]


def replica_sets_with_same_controller(
    rs: ReplicaSetView, replica_sets: Iterable[ReplicaSetView]
) -> list[ReplicaSetView]:
    """getReplicaSetsWithSameController: every RS (this one included) controlled by this RS's controller.

    An RS without a controller has no related sets, so its deletion ranks (RS-12 (5)) are all 0, as upstream.
    """
    controller = rs.controller_ref
    if controller is None:
        return []
    return [
        other
        for other in replica_sets
        if other.namespace == rs.namespace
        and other.controller_ref is not None
        and other.controller_ref.uid == controller.uid
    ]


def indirectly_related_pods(related_sets: Iterable[ReplicaSetView], pods: Iterable[Pod]) -> list[Pod]:
    """getIndirectlyRelatedPods: the pods any related RS selects, each once (by UID), in a single namespace."""
    candidates = list(pods)
    seen: set[str] = set()
    related: list[Pod] = []
    for rs in related_sets:
        for pod in candidates:
            if pod.namespace == rs.namespace and rs.selector.matches(pod.labels) and pod.uid not in seen:
                seen.add(pod.uid)
                related.append(pod)
    return related


def next_availability_check(
    pods: Iterable[Pod], min_ready_seconds: int, now: datetime.datetime
) -> datetime.timedelta | None:
    """controller.FindMinNextPodAvailabilityCheck: how long until the next ready pod becomes available.

    None when no ready pod is still waiting out minReadySeconds (or minReadySeconds is 0). A pod with an
    unknown Ready transition time can never become available and is skipped.
    """
    if min_ready_seconds <= 0:
        return None
    waits = [
        pod.ready_since + datetime.timedelta(seconds=min_ready_seconds) - now
        for pod in pods
        if is_pod_ready(pod) and pod.ready_since is not None
    ]
    pending = [wait for wait in waits if wait > datetime.timedelta(0)]
    return min(pending, default=None)


def availability_requeue_after(
    rs: ReplicaSetView, new_status: ReplicaSetStatus, active_pods: Iterable[Pod], now: datetime.datetime
) -> datetime.timedelta | None:
    """The tail of syncReplicaSet (RS-19): requeue when some ready pod is not yet available.

    No pod event marks the moment a pod becomes available, so without this requeue availableReplicas would
    lag until the next unrelated event. Falls back to a whole minReadySeconds when no precise time is known.
    """
    if rs.min_ready_seconds <= 0 or new_status.ready_replicas == new_status.available_replicas:
        return None
    precise = next_availability_check(active_pods, rs.min_ready_seconds, now)
    return precise if precise is not None else datetime.timedelta(seconds=rs.min_ready_seconds)
