"""Pod predicates and the deletion ordering, as pkg/controller/controller_utils.go and pkg/api/v1/pod/util.go.

Everything here is pure: a `Pod` view (and, where time matters, an explicit `now`) in, a decision out.
"""

from __future__ import annotations

import datetime
import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from operators.kube.objects import Pod
from operators.kube.selectors import LabelSelector

__all__ = [
    "POD_FAILED",
    "POD_PENDING",
    "POD_RUNNING",
    "POD_SUCCEEDED",
    "POD_UNKNOWN",
    "RankedPod",
    "active_pods_with_ranks_key",
    "active_pods_with_ranks_less",
    "filter_active_pods",
    "filter_claimed_pods",
    "filter_terminating_pods",
    "is_pod_active",
    "is_pod_available",
    "is_pod_ready",
    "is_pod_terminal",
    "is_pod_terminating",
    "logarithmic_rank_diff",
    "pod_key",
]

POD_PENDING = "Pending"
POD_RUNNING = "Running"
POD_SUCCEEDED = "Succeeded"
POD_FAILED = "Failed"
POD_UNKNOWN = "Unknown"

# controller_utils.go podPhaseToOrdinal; a phase not in the map (e.g. "") counts as 0, like Pending.
_PHASE_ORDINAL: dict[str, int] = {POD_PENDING: 0, POD_UNKNOWN: 1, POD_RUNNING: 2}


def pod_key(pod: Pod) -> str:
    """controller.PodKey: `namespace/name`, the key of deletion expectations (RS-08)."""
    return f"{pod.namespace}/{pod.name}"


def is_pod_terminal(pod: Pod) -> bool:
    """podutil.IsPodTerminal: the pod reached Succeeded or Failed and can never run again."""
    return pod.phase in (POD_SUCCEEDED, POD_FAILED)


def is_pod_active(pod: Pod) -> bool:
    """controller.IsPodActive (RS-02): not finished and not being deleted."""
    return not is_pod_terminal(pod) and pod.deletion_timestamp is None


def is_pod_terminating(pod: Pod) -> bool:
    """controller.isPodTerminating (RS-22): deletion requested, but the pod has not reached a terminal phase."""
    return not is_pod_terminal(pod) and pod.deletion_timestamp is not None


def is_pod_ready(pod: Pod) -> bool:
    """podutil.IsPodReady: the Ready condition is True."""
    return pod.ready


def is_pod_available(pod: Pod, min_ready_seconds: int, now: datetime.datetime) -> bool:
    """podutil.IsPodAvailable: ready, and ready for at least minReadySeconds (RS-21).

    minReadySeconds == 0 makes every ready pod available, even without a Ready lastTransitionTime.
    Otherwise the transition time must be known and `ready_since + minReadySeconds <= now`: the bound is
    inclusive since upstream switched from Before() to Compare() <= 0.
    """
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds == 0:
        return True
    if pod.ready_since is None:
        return False
    return pod.ready_since + datetime.timedelta(seconds=min_ready_seconds) <= now


def filter_active_pods(pods: Iterable[Pod]) -> list[Pod]:
    """controller.FilterActivePods (RS-02)."""
    return [pod for pod in pods if is_pod_active(pod)]


def filter_terminating_pods(pods: Iterable[Pod]) -> list[Pod]:
    """controller.FilterTerminatingPods (RS-22)."""
    return [pod for pod in pods if is_pod_terminating(pod)]


def filter_claimed_pods(owner_uid: str, selector: LabelSelector, pods: Iterable[Pod]) -> list[Pod]:
    """controller.FilterClaimedPods: pods controlled by `owner_uid` that its selector still matches (RS-22).

    Used for terminating pods, which are never adopted or released: only already-owned ones count.
    """
    return [
        pod
        for pod in pods
        if pod.controller_ref is not None and pod.controller_ref.uid == owner_uid and selector.matches(pod.labels)
    ]


# --- ActivePodsWithRanks (RS-12) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RankedPod:
    """One element of controller.ActivePodsWithRanks: a pod and its rank (RS-12 (5))."""

    pod: Pod
    rank: int


def logarithmic_rank_diff(t1: datetime.datetime, t2: datetime.datetime, now: datetime.datetime) -> int:
    """controller.logarithmicRankDiff: compare `now - t` of two times in whole log2 buckets.

    Go takes log2 of the durations in nanoseconds, so this does too: the bucket edges would move otherwise.
    A time at or after `now` falls in bucket -1. A negative result means t1 is more recent.
    """

    def bucket(t: datetime.datetime) -> int:
        elapsed = now - t
        nanoseconds = (elapsed.days * 86_400 + elapsed.seconds) * 10**9 + elapsed.microseconds * 1_000
        return int(math.log2(nanoseconds)) if nanoseconds > 0 else -1

    return bucket(t1) - bucket(t2)


def _after_or_zero(t1: datetime.datetime | None, t2: datetime.datetime | None) -> bool:
    """controller.afterOrZero: a zero (unknown) time sorts first; otherwise the later time does."""
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _pod_ready_time(pod: Pod) -> datetime.datetime | None:
    """controller.podReadyTime: the Ready lastTransitionTime of a ready pod, or zero (None)."""
    return pod.ready_since if is_pod_ready(pod) else None


def _newer_first(
    t1: datetime.datetime | None, t2: datetime.datetime | None, uid1: str, uid2: str, now: datetime.datetime
) -> bool:
    """The LogarithmicScaleDown comparison shared by RS-12 (6) and (8); only called when t1 != t2.

    With both times known, compare log2 buckets of their age; equal buckets fall back to the lower UID, a
    pseudo-random but stable order that spreads scale-down over otherwise equivalent pods.
    """
    if t1 is None or t2 is None:
        return _after_or_zero(t1, t2)
    rank_diff = logarithmic_rank_diff(t1, t2, now)
    if rank_diff == 0:
        return uid1 < uid2
    return rank_diff < 0


# --8<-- [start:ranking]
def active_pods_with_ranks_less(a: RankedPod, b: RankedPod, now: datetime.datetime) -> bool:
    """ActivePodsWithRanks.Less: True when `a` should be deleted before `b` (RS-12).

    Each rule decides only if the pods differ on it; otherwise the next rule is tried.
    """
    pa, pb = a.pod, b.pod
    # (1) Unassigned < assigned.
    if pa.node_name != pb.node_name and (not pa.node_name or not pb.node_name):
        return not pa.node_name
    # (2) Pending < Unknown < Running.
    phase_a, phase_b = _PHASE_ORDINAL.get(pa.phase, 0), _PHASE_ORDINAL.get(pb.phase, 0)
    if phase_a != phase_b:
        return phase_a < phase_b
    # (3) Not ready < ready.
    if is_pod_ready(pa) != is_pod_ready(pb):
        return not is_pod_ready(pa)
    # (4) Lower controller.kubernetes.io/pod-deletion-cost < higher (the PodDeletionCost gate is on).
    if pa.deletion_cost != pb.deletion_cost:
        return pa.deletion_cost < pb.deletion_cost
    # (5) Doubled up < not doubled up: more active related pods on the same node goes first.
    if a.rank != b.rank:
        return a.rank > b.rank
    # (6) Both ready: ready for a shorter time goes first (log2 buckets, then UID).
    if is_pod_ready(pa) and is_pod_ready(pb):
        ready_a, ready_b = _pod_ready_time(pa), _pod_ready_time(pb)
        if ready_a != ready_b:
            return _newer_first(ready_a, ready_b, pa.uid, pb.uid, now)
    # (7) Higher max container restart count goes first; on a tie, the sidecars' (compareMaxContainerRestarts).
    if pa.restart_count != pb.restart_count:
        return pa.restart_count > pb.restart_count
    if pa.sidecar_restart_count != pb.sidecar_restart_count:
        return pa.sidecar_restart_count > pb.sidecar_restart_count
    # (8) Newer creationTimestamp goes first (unknown first; log2 buckets, then UID).
    if pa.creation_timestamp != pb.creation_timestamp:
        return _newer_first(pa.creation_timestamp, pb.creation_timestamp, pa.uid, pb.uid, now)
    # (9) Otherwise equal.
    return False


# --8<-- [end:ranking]


def active_pods_with_ranks_key(now: datetime.datetime) -> Callable[[RankedPod], Any]:
    """A `sorted()` key putting the pods to delete first: `sorted(ranked, key=active_pods_with_ranks_key(now))`."""

    def compare(a: RankedPod, b: RankedPod) -> int:
        if active_pods_with_ranks_less(a, b, now):
            return -1
        if active_pods_with_ranks_less(b, a, now):
            return 1
        return 0

    return functools.cmp_to_key(compare)
