"""The pure helpers of pkg/controller/deployment/util/deployment_util.go (and the ReplicaSet helpers it borrows).

Revisions and the replica annotations (DP-10..DP-12), the rolling-update arithmetic (DP-13..DP-15, DP-21), finding
the new and old ReplicaSets (DP-06), the pod-template hash (DP-07), and the status predicates and conditions
(DP-28..DP-32). Everything takes frozen views and returns values: where Go mutates a ReplicaSet's annotations or
a status in place, these return the new mapping or status (plus Go's "changed" flag). Time is passed in as `now`.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from operators.controllers.deployment.model import (
    DEPLOYMENT_PROGRESSING,
    RECREATE,
    ROLLING_UPDATE,
    DeploymentCondition,
    DeploymentStatus,
    DeploymentView,
    IntOrString,
)
from operators.controllers.replicaset.model import ReplicaSetView
from operators.kube.objects import Condition

__all__ = [
    "DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY",
    "DEPRECATED_ROLLBACK_TO",
    "DESIRED_REPLICAS_ANNOTATION",
    "FAILED_RS_CREATE_REASON",
    "FOUND_NEW_RS_REASON",
    "LAST_APPLIED_CONFIG_ANNOTATION",
    "MAX_INT32",
    "MAX_REPLICAS_ANNOTATION",
    "MAX_REV_HISTORY_LENGTH_IN_CHARS",
    "MINIMUM_REPLICAS_AVAILABLE",
    "MINIMUM_REPLICAS_UNAVAILABLE",
    "NEW_REPLICA_SET_REASON",
    "NEW_RS_AVAILABLE_REASON",
    "PAUSED_DEPLOY_REASON",
    "REPLICA_SET_UPDATED_REASON",
    "RESUMED_DEPLOY_REASON",
    "REVISION_ANNOTATION",
    "REVISION_HISTORY_ANNOTATION",
    "TIMED_OUT_REASON",
    "compute_hash",
    "deployment_complete",
    "deployment_progressing",
    "deployment_timed_out",
    "equal_ignore_hash",
    "filter_active_replica_sets",
    "find_active_or_latest",
    "find_new_replica_set",
    "find_old_replica_sets",
    "get_actual_replica_count_for_replica_sets",
    "get_available_replica_count_for_replica_sets",
    "get_deployment_condition",
    "get_deployments_for_replica_set",
    "get_desired_replicas_annotation",
    "get_max_replicas_annotation",
    "get_non_negative_int32_from_annotation",
    "get_ready_replica_count_for_replica_sets",
    "get_replica_count_for_replica_sets",
    "get_replica_set_fraction",
    "get_replica_set_proportion",
    "get_scaled_value_from_int_or_percent",
    "get_terminating_replica_count_for_replica_sets",
    "has_progress_deadline",
    "has_revision_history_limit",
    "is_rolling_update",
    "is_saturated",
    "last_revision",
    "max_revision",
    "max_surge",
    "max_unavailable",
    "min_available",
    "new_deployment_condition",
    "new_rs_new_replicas",
    "parse_int",
    "remove_deployment_condition",
    "replica_set_to_deployment_condition",
    "replica_sets_by_creation_timestamp",
    "replica_sets_by_revision",
    "replicas_annotations_need_update",
    "resolve_fenceposts",
    "revision",
    "round_to_int32",
    "safe_encode_string",
    "set_deployment_condition",
    "set_deployment_revision",
    "set_new_replica_set_annotations",
    "set_replicas_annotations",
    "skip_copy_annotation",
]

# --- Annotations, labels and reasons (deployment_util.go constants) ----------------------------------------------

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED_CONFIG_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"  # v1.LastAppliedConfigAnnotation
DEPRECATED_ROLLBACK_TO = "deprecated.deployment.rollback.to"  # apps.DeprecatedRollbackTo
DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY = "pod-template-hash"  # apps.DefaultDeploymentUniqueLabelKey

# sync.go maxRevHistoryLengthInChars: the longest revision-history annotation the controller writes (DP-10).
MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000

# math.MaxInt32: the "unset" value of progressDeadlineSeconds and revisionHistoryLimit in extensions/v1beta1.
MAX_INT32 = 2**31 - 1

# Progressing reasons.
REPLICA_SET_UPDATED_REASON = "ReplicaSetUpdated"
FAILED_RS_CREATE_REASON = "ReplicaSetCreateError"
NEW_REPLICA_SET_REASON = "NewReplicaSetCreated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
PAUSED_DEPLOY_REASON = "DeploymentPaused"
RESUMED_DEPLOY_REASON = "DeploymentResumed"
# Available reasons.
MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"

# annotationsToSkip: never copied from the Deployment to its new ReplicaSet (DP-11).
_ANNOTATIONS_TO_SKIP = frozenset(
    {
        LAST_APPLIED_CONFIG_ANNOTATION,
        REVISION_ANNOTATION,
        REVISION_HISTORY_ANNOTATION,
        DESIRED_REPLICAS_ANNOTATION,
        MAX_REPLICAS_ANNOTATION,
        DEPRECATED_ROLLBACK_TO,
    }
)


class _Annotated(Protocol):
    """Any view with annotations (Revision takes a runtime.Object: a ReplicaSet or a Deployment)."""

    @property
    def annotations(self) -> Mapping[str, str]: ...


# --- Go number parsing -------------------------------------------------------------------------------------------
# Python's int() accepts "1_000", " 7 " and non-ASCII digits; strconv does not. These mirror strconv exactly.

_SIGNED = re.compile(r"[+-]?[0-9]+", re.ASCII)
_UNSIGNED = re.compile(r"[0-9]+", re.ASCII)


def parse_int(text: str, bits: int) -> int:
    """strconv.ParseInt(text, 10, bits) (Atoi is bits=64): a ValueError says "invalid syntax" or "out of range"."""
    if not _SIGNED.fullmatch(text):
        raise ValueError(f"parsing {text!r}: invalid syntax")
    value = int(text)
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise ValueError(f"parsing {text!r}: value out of range")
    return value


# --- Conditions (DP-30, DP-32) -----------------------------------------------------------------------------------


def new_deployment_condition(
    condition_type: str, status: str, reason: str, message: str, now: datetime.datetime
) -> DeploymentCondition:
    """NewDeploymentCondition: lastUpdateTime = lastTransitionTime = now, in metav1.Time's whole seconds."""
    stamp = now.replace(microsecond=0)
    return DeploymentCondition(
        type=condition_type,
        status=status,
        reason=reason,
        message=message,
        last_transition_time=stamp,
        last_update_time=stamp,
    )


def get_deployment_condition(status: DeploymentStatus, condition_type: str) -> DeploymentCondition | None:
    """GetDeploymentCondition: the condition of that type, if present."""
    return next((c for c in status.conditions if c.type == condition_type), None)


def set_deployment_condition(status: DeploymentStatus, condition: DeploymentCondition) -> DeploymentStatus:
    """SetDeploymentCondition (DP-32): add or replace the condition of that type, moved to the end.

    Same status and reason: a no-op, so lastUpdateTime is *not* bumped (progress.go bumps it by writing a
    condition with a new reason or status). Same status, new reason: replaced, but lastTransitionTime is kept,
    since the status did not transition.
    """
    current = get_deployment_condition(status, condition.type)
    if current is not None and current.status == condition.status and current.reason == condition.reason:
        return status
    if current is not None and current.status == condition.status:
        condition = dataclasses.replace(condition, last_transition_time=current.last_transition_time)
    kept = tuple(c for c in status.conditions if c.type != condition.type)
    return dataclasses.replace(status, conditions=(*kept, condition))


def remove_deployment_condition(status: DeploymentStatus, condition_type: str) -> DeploymentStatus:
    """RemoveDeploymentCondition: drop the condition of that type."""
    return dataclasses.replace(status, conditions=tuple(c for c in status.conditions if c.type != condition_type))


def replica_set_to_deployment_condition(condition: Condition) -> DeploymentCondition:
    """ReplicaSetToDeploymentCondition: promote a ReplicaSet condition (ReplicaFailure, DP-33).

    The ReplicaSet condition has no lastUpdateTime; its lastTransitionTime stands in for both.
    """
    return DeploymentCondition(
        type=condition.type,
        status=condition.status,
        reason=condition.reason,
        message=condition.message,
        last_transition_time=condition.last_transition_time,
        last_update_time=condition.last_transition_time,
    )


# --- Revisions and annotations (DP-10..DP-12) --------------------------------------------------------------------


def set_deployment_revision(annotations: Mapping[str, str], revision_: str) -> tuple[dict[str, str], bool]:
    """SetDeploymentRevision: the Deployment's annotations with its revision set, and whether that changed them."""
    out = dict(annotations)
    if out.get(REVISION_ANNOTATION, "") == revision_:
        return out, False
    out[REVISION_ANNOTATION] = revision_
    return out, True


def revision(obj: _Annotated) -> int:
    """Revision: the revision annotation as an int64; 0 when absent; ValueError when malformed."""
    value = obj.annotations.get(REVISION_ANNOTATION)
    return 0 if value is None else parse_int(value, 64)


def _revision_or_none(obj: _Annotated) -> int | None:
    try:
        return revision(obj)
    except ValueError:
        return None


def max_revision(replica_sets: Iterable[_Annotated]) -> int:
    """MaxRevision: the highest revision of the ReplicaSets, skipping malformed ones; 0 when there is none."""
    return max((v for v in map(_revision_or_none, replica_sets) if v is not None), default=0)


def last_revision(replica_sets: Iterable[_Annotated]) -> int:
    """LastRevision: the second-highest revision (the previous rollout), skipping malformed ones.

    As upstream, a revision equal to the maximum pushes the old maximum down, so two ReplicaSets at revision
    3 give 3.
    """
    highest = second = 0
    for value in map(_revision_or_none, replica_sets):
        if value is None:
            continue
        if value >= highest:
            highest, second = value, highest
        elif value > second:
            second = value
    return second


def skip_copy_annotation(key: str) -> bool:
    """skipCopyAnnotation (DP-11): annotations the Deployment never copies to (or back from) a ReplicaSet."""
    return key in _ANNOTATIONS_TO_SKIP


def set_new_replica_set_annotations(
    deployment: DeploymentView,
    rs_annotations: Mapping[str, str] | None,
    new_revision: str,
    exists: bool,
    rev_history_limit_in_chars: int = MAX_REV_HISTORY_LENGTH_IN_CHARS,
) -> tuple[dict[str, str], bool]:
    """SetNewReplicaSetAnnotations (DP-10..DP-12): the new ReplicaSet's annotations, and whether they changed.

    1. Copy the Deployment's annotations except the skip list (kubernetes.io/change-cause reaches the RS this way).
    2. Raise the revision to `new_revision`, never lower it: old RSs may have been deleted since the new RS got
       its number, so max(old) + 1 can be smaller than the revision it already has.
    3. When an RS that already had a revision is raised, this is a rollback to it: append the old number to
       revision-history, dropping the oldest entries to stay within `rev_history_limit_in_chars`.
    4. A ReplicaSet about to be created (`exists=False`) also gets desired-replicas and max-replicas.

    A malformed revision (old or new) stops after step 1 and reports False, as upstream, though the copied
    annotations are in the returned mapping (Go mutated the object in place too).
    """
    annotations = dict(rs_annotations or {})
    changed = False
    for key, value in deployment.annotations.items():
        if skip_copy_annotation(key) or annotations.get(key) == value:
            continue
        annotations[key] = value
        changed = True

    old_revision = annotations.get(REVISION_ANNOTATION)
    had_revision = old_revision is not None
    try:
        old = parse_int(old_revision, 64) if old_revision else 0  # an empty annotation counts as 0
        new = parse_int(new_revision, 64)
    except ValueError:
        return annotations, False
    if old < new:
        annotations[REVISION_ANNOTATION] = new_revision
        changed = True
        if had_revision:
            annotations[REVISION_HISTORY_ANNOTATION] = _append_revision_history(
                annotations.get(REVISION_HISTORY_ANNOTATION, ""), old_revision or "", rev_history_limit_in_chars
            )
    if not exists:
        annotations, replicas_changed = set_replicas_annotations(
            annotations, deployment.replicas, deployment.replicas + max_surge(deployment)
        )
        changed = changed or replicas_changed
    return annotations, changed


def _append_revision_history(history: str, old_revision: str, limit: int) -> str:
    """The revision-history bookkeeping of SetNewReplicaSetAnnotations: `history` with `old_revision` appended.

    Drop entries from the front until the result fits in `limit` characters; if even dropping all of them is
    not enough, the history is left as it was (upstream logs and skips).
    """
    old_revisions = history.split(",")
    if not old_revisions[0]:
        return old_revision
    total = len(history) + len(old_revision) + 1
    start = 0
    while total > limit and start < len(old_revisions):
        total -= len(old_revisions[start]) + 1
        start += 1
    if total > limit:
        return history
    return ",".join([*old_revisions[start:], old_revision])


def get_non_negative_int32_from_annotation(annotations: Mapping[str, str] | None, key: str) -> int | None:
    """getNonNegativeInt32FromAnnotation: None when absent; ValueError ("invalid syntax", "out of range") when bad.

    strconv.ParseUint(v, 10, 32): digits only, no sign; then at most MaxInt32.
    """
    value = (annotations or {}).get(key)
    if value is None:
        return None
    if not _UNSIGNED.fullmatch(value):
        raise ValueError(f"parsing {value!r}: invalid syntax")
    number = int(value)
    if number > 2**32 - 1:
        raise ValueError(f"parsing {value!r}: value out of range")
    if number > MAX_INT32:
        raise ValueError(f"value {number} is out of range (higher than {MAX_INT32})")
    return number


def _non_negative_int32_or_none(annotations: Mapping[str, str], key: str) -> int | None:
    """getNonNegativeInt32FromAnnotationVerbose: a malformed value counts as absent (upstream logs it)."""
    try:
        return get_non_negative_int32_from_annotation(annotations, key)
    except ValueError:
        return None


def get_desired_replicas_annotation(rs: ReplicaSetView) -> int | None:
    """GetDesiredReplicasAnnotation: deployment.spec.replicas when this RS was last scaled (DP-12)."""
    return _non_negative_int32_or_none(rs.annotations, DESIRED_REPLICAS_ANNOTATION)


def get_max_replicas_annotation(rs: ReplicaSetView) -> int | None:
    """getMaxReplicasAnnotation: deployment.spec.replicas + maxSurge when this RS was last scaled (DP-12)."""
    return _non_negative_int32_or_none(rs.annotations, MAX_REPLICAS_ANNOTATION)


def set_replicas_annotations(
    annotations: Mapping[str, str] | None, desired_replicas: int, max_replicas: int
) -> tuple[dict[str, str], bool]:
    """SetReplicasAnnotations (DP-12): set desired-replicas and max-replicas; True when either changed."""
    out = dict(annotations or {})
    changed = False
    for key, value in (
        (DESIRED_REPLICAS_ANNOTATION, str(desired_replicas)),
        (MAX_REPLICAS_ANNOTATION, str(max_replicas)),
    ):
        if out.get(key, "") != value:
            out[key] = value
            changed = True
    return out, changed


def replicas_annotations_need_update(
    annotations: Mapping[str, str] | None, desired_replicas: int, max_replicas: int
) -> bool:
    """ReplicasAnnotationsNeedUpdate: whether set_replicas_annotations would change anything."""
    if annotations is None:
        return True
    return annotations.get(DESIRED_REPLICAS_ANNOTATION, "") != str(desired_replicas) or annotations.get(
        MAX_REPLICAS_ANNOTATION, ""
    ) != str(max_replicas)


# --- Rolling-update arithmetic (DP-13..DP-15, DP-21) -------------------------------------------------------------


def get_scaled_value_from_int_or_percent(value: IntOrString | None, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent: an int as is, "p%" as p% of `total`, rounded up or down.

    A string without "%" is an error (only the deprecated GetValueFromIntOrPercent took "5" as 5%), as is None.
    The rounding is exact integer arithmetic; Go's float64 Ceil/Floor of p*total/100 gives the same result,
    because a non-integral quotient is at least 0.01 away from the nearest integer.
    """
    if value is None:
        raise ValueError("nil value for IntOrString")
    if isinstance(value, int):
        return value
    if not value.endswith("%"):
        raise ValueError("invalid value for IntOrString: invalid type: string is not a percentage")
    try:
        percent = parse_int(value[:-1], 64)
    except ValueError as error:
        raise ValueError(f"invalid value for IntOrString: invalid value {value!r}: {error}") from None
    scaled = percent * total
    return -(-scaled // 100) if round_up else scaled // 100


# --8<-- [start:resolve-fenceposts]
def resolve_fenceposts(
    max_surge_: IntOrString | None, max_unavailable_: IntOrString | None, desired: int
) -> tuple[int, int]:
    """ResolveFenceposts (DP-13): (surge, unavailable) for `desired` replicas; ValueError on a bad value.

    None counts as 0. Surge rounds up and unavailable rounds down, so a percentage never blocks a rollout by
    surging too little, nor breaks availability by removing too much. Both resolving to 0 would deadlock the
    rollout, so unavailable becomes 1 (validation forbids explicit 0/0; rounding down can still produce it).
    """
    surge = get_scaled_value_from_int_or_percent(0 if max_surge_ is None else max_surge_, desired, True)
    unavailable = get_scaled_value_from_int_or_percent(
        0 if max_unavailable_ is None else max_unavailable_, desired, False
    )
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


# --8<-- [end:resolve-fenceposts]


def is_rolling_update(deployment: DeploymentView) -> bool:
    """IsRollingUpdate: the strategy type is RollingUpdate."""
    return deployment.strategy.type == ROLLING_UPDATE


def max_unavailable(deployment: DeploymentView) -> int:
    """MaxUnavailable (DP-14): 0 unless rolling with replicas > 0; capped at spec.replicas.

    An unresolvable value counts as 0 ("error caught by validation", as upstream ignores it).
    """
    if not is_rolling_update(deployment) or deployment.replicas == 0:
        return 0
    try:
        _, unavailable = resolve_fenceposts(
            deployment.strategy.max_surge, deployment.strategy.max_unavailable, deployment.replicas
        )
    except ValueError:
        return 0
    return min(unavailable, deployment.replicas)


def min_available(deployment: DeploymentView) -> int:
    """MinAvailable: spec.replicas - maxUnavailable when rolling, else 0."""
    if not is_rolling_update(deployment):
        return 0
    return deployment.replicas - max_unavailable(deployment)


def max_surge(deployment: DeploymentView) -> int:
    """MaxSurge (DP-14): the resolved surge when rolling, else 0 (an unresolvable value counts as 0)."""
    if not is_rolling_update(deployment):
        return 0
    try:
        surge, _ = resolve_fenceposts(
            deployment.strategy.max_surge, deployment.strategy.max_unavailable, deployment.replicas
        )
    except ValueError:
        return 0
    return surge


def round_to_int32(value: float) -> int:
    """integer.RoundToInt32: Go's math.Round, half away from zero (Python's round() is half to even, DP-21)."""
    magnitude = abs(value)
    whole = math.floor(magnitude)
    if magnitude - whole >= 0.5:  # exact: subtracting a float's own floor never rounds
        whole += 1
    return int(math.copysign(whole, value))


# --8<-- [start:replica-set-fraction]
def get_replica_set_fraction(rs: ReplicaSetView, deployment: DeploymentView) -> int:
    """getReplicaSetFraction (DP-21): how many replicas this RS gains (or loses) in a proportional scale.

    The RS keeps its share of the Deployment: spec.replicas * (replicas + maxSurge now) / max-replicas (the same
    sum when it was last scaled), rounded half away from zero. Scaling to 0 takes the whole RS. A missing,
    malformed or 0 max-replicas annotation falls back to status.replicas; if that is 0 too, the RS stays put.
    """
    if deployment.replicas == 0:
        return -rs.replicas
    deployment_max_replicas = deployment.replicas + max_surge(deployment)
    before_scale = get_max_replicas_annotation(rs)
    if not before_scale:
        before_scale = deployment.status.replicas
        if before_scale == 0:
            return 0
    new_size = (rs.replicas * deployment_max_replicas) / before_scale
    return round_to_int32(new_size) - rs.replicas


# --8<-- [end:replica-set-fraction]


def get_replica_set_proportion(
    rs: ReplicaSetView | None, deployment: DeploymentView, replicas_to_add: int, replicas_added: int
) -> int:
    """GetReplicaSetProportion (DP-21): this RS's share of `replicas_to_add`, never beyond what is left.

    An empty RS never scales proportionally (we never scale up from zero). Scaling up takes the smaller of the
    fraction and what is left to add; scaling down the larger (the less negative) of the two.
    """
    if rs is None or rs.replicas == 0 or replicas_to_add == 0 or replicas_to_add == replicas_added:
        return 0
    fraction = get_replica_set_fraction(rs, deployment)
    allowed = replicas_to_add - replicas_added
    return min(fraction, allowed) if replicas_to_add > 0 else max(fraction, allowed)


# --8<-- [start:new-rs-new-replicas]
def new_rs_new_replicas(
    deployment: DeploymentView, all_replica_sets: Iterable[ReplicaSetView], new_rs: ReplicaSetView
) -> int:
    """NewRSNewReplicas (DP-15): the size the new RS should scale to now; ValueError on a bad strategy.

    Rolling: grow the new RS while the total of spec.replicas over all RSs stays within replicas + maxSurge, and
    never beyond spec.replicas. Recreate: straight to spec.replicas (the old RSs are already at 0).
    """
    if deployment.strategy.type == ROLLING_UPDATE:
        surge = get_scaled_value_from_int_or_percent(deployment.strategy.max_surge, deployment.replicas, True)
        current = get_replica_count_for_replica_sets(all_replica_sets)
        max_total = deployment.replicas + surge
        if current >= max_total:
            return new_rs.replicas
        scale_up = min(max_total - current, deployment.replicas - new_rs.replicas)
        return new_rs.replicas + scale_up
    if deployment.strategy.type == RECREATE:
        return deployment.replicas
    raise ValueError(f"deployment type {deployment.strategy.type} isn't supported")


# --8<-- [end:new-rs-new-replicas]


def is_saturated(deployment: DeploymentView, rs: ReplicaSetView | None) -> bool:
    """IsSaturated (DP-20): the RS owns every desired replica, by spec, annotation and availability.

    Unlike get_desired_replicas_annotation this parses with strconv.Atoi, as upstream.
    """
    if rs is None:
        return False
    try:
        desired = parse_int(rs.annotations.get(DESIRED_REPLICAS_ANNOTATION, ""), 64)
    except ValueError:
        return False
    return (
        rs.replicas == deployment.replicas
        and desired == deployment.replicas
        and rs.status.available_replicas == deployment.replicas
    )


# --- New and old ReplicaSets (DP-06) -----------------------------------------------------------------------------

_EPOCH = datetime.datetime.min.replace(tzinfo=datetime.UTC)  # a zero metav1.Time sorts first


def replica_sets_by_creation_timestamp(rs: ReplicaSetView) -> tuple[datetime.datetime, str]:
    """controller.ReplicaSetsByCreationTimestamp as a sort key: oldest first, then by name."""
    return rs.creation_timestamp or _EPOCH, rs.name


def _compare_by_revision(a: ReplicaSetView, b: ReplicaSetView) -> int:
    first, second = _revision_or_none(a), _revision_or_none(b)
    if first is None or second is None or first == second:
        key_a, key_b = replica_sets_by_creation_timestamp(a), replica_sets_by_creation_timestamp(b)
        return (key_a > key_b) - (key_a < key_b)
    return (first > second) - (first < second)


def replica_sets_by_revision(replica_sets: Iterable[ReplicaSetView]) -> list[ReplicaSetView]:
    """Sorted by ReplicaSetsByRevision: lowest revision first; ties and malformed revisions by creation time (DP-27).

    A comparator, not a key: an RS with a malformed revision compares by age with everything.
    """
    return sorted(replica_sets, key=functools.cmp_to_key(_compare_by_revision))


def filter_active_replica_sets(replica_sets: Iterable[ReplicaSetView | None]) -> list[ReplicaSetView]:
    """controller.FilterActiveReplicaSets: the RSs that have (or ought to have) pods, spec.replicas > 0."""
    return [rs for rs in replica_sets if rs is not None and rs.replicas > 0]


def find_active_or_latest(
    new_rs: ReplicaSetView | None, old_replica_sets: Sequence[ReplicaSetView]
) -> ReplicaSetView | None:
    """FindActiveOrLatest (DP-19): the only active RS; with none active, the new RS or else the newest old one.

    None when several are active: those need proportional scaling instead.
    """
    if new_rs is None and not old_replica_sets:
        return None
    newest_first = sorted(old_replica_sets, key=replica_sets_by_creation_timestamp, reverse=True)
    active = filter_active_replica_sets([*newest_first, new_rs])
    if not active:
        return new_rs if new_rs is not None else newest_first[0]
    return active[0] if len(active) == 1 else None


def _semantic(value: Any) -> Any:
    """A template value normalised for apiequality.Semantic.DeepEqual over JSON.

    Go treats a nil map or slice as equal to an empty one, and a JSON null is an absent field, so keys holding
    null, {} or [] are dropped. Booleans are tagged so that true never equals 1 as it does in Python. (Go would
    tell `securityContext: {}` from an absent pointer field; JSON without the schema cannot, so we do not.)
    """
    if isinstance(value, Mapping):
        normalised = {key: _semantic(item) for key, item in value.items()}
        return {key: item for key, item in normalised.items() if item is not None and item != {} and item != []}
    if isinstance(value, list):
        return [_semantic(item) for item in value]
    if isinstance(value, bool):
        return (bool, value)
    return value


def _without_hash_label(template: Mapping[str, Any]) -> Any:
    normalised = _semantic(template)
    labels = normalised.get("metadata", {}).get("labels")
    if labels is not None:
        labels.pop(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY, None)
    return _semantic(normalised)  # a labels map now empty counts as absent


def equal_ignore_hash(template1: Mapping[str, Any], template2: Mapping[str, Any]) -> bool:
    """EqualIgnoreHash (DP-06): two pod templates are equal apart from the pod-template-hash label's value.

    The hash label is ignored because the Deployment's own template never has it, and because a hash can change
    across versions (here: across hash functions) while the template does not. Neither input is modified.
    """
    return bool(_without_hash_label(template1) == _without_hash_label(template2))


def find_new_replica_set(deployment: DeploymentView, replica_sets: Iterable[ReplicaSetView]) -> ReplicaSetView | None:
    """FindNewReplicaSet (DP-06): the oldest RS whose template equals the Deployment's, ignoring the hash label.

    Several can match (kubernetes#40415, e.g. after a hash function change); taking the oldest is deterministic.
    """
    for rs in sorted(replica_sets, key=replica_sets_by_creation_timestamp):
        if equal_ignore_hash(rs.template, deployment.template):
            return rs
    return None


def find_old_replica_sets(
    deployment: DeploymentView, replica_sets: Sequence[ReplicaSetView]
) -> tuple[list[ReplicaSetView], list[ReplicaSetView]]:
    """FindOldReplicaSets (DP-06): (old RSs with spec.replicas != 0, all old RSs), in the given order."""
    new_rs = find_new_replica_set(deployment, replica_sets)
    all_old = [rs for rs in replica_sets if new_rs is None or rs.uid != new_rs.uid]
    return [rs for rs in all_old if rs.replicas != 0], all_old


def get_deployments_for_replica_set(deployments: Iterable[DeploymentView], rs: ReplicaSetView) -> list[DeploymentView]:
    """GetDeploymentsForReplicaSet: the Deployments in the RS's namespace whose selector matches its labels.

    Only the one named by the RS's controllerRef manages it. An RS without labels matches nothing, and neither
    does a Deployment with a nil, empty or invalid selector. Upstream returns an error where this returns [].
    """
    if not rs.labels:
        return []
    return [
        d for d in deployments if d.namespace == rs.namespace and not d.selector.empty and d.selector.matches(rs.labels)
    ]


# --- Replica counts (DP-28) --------------------------------------------------------------------------------------


def get_replica_count_for_replica_sets(replica_sets: Iterable[ReplicaSetView | None]) -> int:
    """GetReplicaCountForReplicaSets: the sum of spec.replicas."""
    return sum(rs.replicas for rs in replica_sets if rs is not None)


def get_actual_replica_count_for_replica_sets(replica_sets: Iterable[ReplicaSetView | None]) -> int:
    """GetActualReplicaCountForReplicaSets: the sum of status.replicas."""
    return sum(rs.status.replicas for rs in replica_sets if rs is not None)


def get_ready_replica_count_for_replica_sets(replica_sets: Iterable[ReplicaSetView | None]) -> int:
    """GetReadyReplicaCountForReplicaSets: the sum of status.readyReplicas."""
    return sum(rs.status.ready_replicas for rs in replica_sets if rs is not None)


def get_available_replica_count_for_replica_sets(replica_sets: Iterable[ReplicaSetView | None]) -> int:
    """GetAvailableReplicaCountForReplicaSets: the sum of status.availableReplicas."""
    return sum(rs.status.available_replicas for rs in replica_sets if rs is not None)


def get_terminating_replica_count_for_replica_sets(replica_sets: Iterable[ReplicaSetView | None]) -> int | None:
    """GetTerminatingReplicaCountForReplicaSets (DP-28): the sum of status.terminatingReplicas, or None if unknown.

    An RS never synced (observedGeneration 0) without a count contributes 0; an RS that was synced but reports no
    count makes the sum unknowable, so the result is None (the Deployment then leaves the field unset).
    """
    total = 0
    for rs in replica_sets:
        if rs is None:
            continue
        terminating = rs.status.terminating_replicas
        if terminating is None:
            if rs.status.observed_generation == 0:
                continue
            return None
        total += terminating
    return total


# --- Rollout status (DP-30) --------------------------------------------------------------------------------------


def deployment_complete(deployment: DeploymentView, new_status: DeploymentStatus) -> bool:
    """DeploymentComplete: every desired replica is updated and available, no old pod runs, generation observed."""
    return (
        new_status.updated_replicas == deployment.replicas
        and new_status.replicas == deployment.replicas
        and new_status.available_replicas == deployment.replicas
        and new_status.observed_generation >= deployment.generation
    )


def deployment_progressing(deployment: DeploymentView, new_status: DeploymentStatus) -> bool:
    """DeploymentProgressing (DP-30): compared with the current status, more updated, ready or available
    replicas, or fewer old ones."""
    old = deployment.status
    old_status_old_replicas = old.replicas - old.updated_replicas
    new_status_old_replicas = new_status.replicas - new_status.updated_replicas
    return (
        new_status.updated_replicas > old.updated_replicas
        or new_status_old_replicas < old_status_old_replicas
        or new_status.ready_replicas > old.ready_replicas
        or new_status.available_replicas > old.available_replicas
    )


def has_progress_deadline(deployment: DeploymentView) -> bool:
    """HasProgressDeadline: progressDeadlineSeconds is set and not MaxInt32 (extensions/v1beta1's "none")."""
    return deployment.progress_deadline_seconds is not None and deployment.progress_deadline_seconds != MAX_INT32


def has_revision_history_limit(deployment: DeploymentView) -> bool:
    """HasRevisionHistoryLimit: revisionHistoryLimit is set and not MaxInt32 (keep every revision)."""
    return deployment.revision_history_limit is not None and deployment.revision_history_limit != MAX_INT32


def deployment_timed_out(deployment: DeploymentView, new_status: DeploymentStatus, now: datetime.datetime) -> bool:
    """DeploymentTimedOut (DP-30): no progress reported for progressDeadlineSeconds.

    No deadline or no Progressing condition: never. NewReplicaSetAvailable: never, since a finished rollout
    cannot time out (the deployment may be resynced before the condition of a new rollout is written).
    ProgressDeadlineExceeded: already. Otherwise strictly lastUpdateTime + deadline < now; an unset
    lastUpdateTime is Go's zero time, long past.
    """
    if not has_progress_deadline(deployment):
        return False
    condition = get_deployment_condition(new_status, DEPLOYMENT_PROGRESSING)
    if condition is None:
        return False
    if condition.reason == NEW_RS_AVAILABLE_REASON:
        return False
    if condition.reason == TIMED_OUT_REASON:
        return True
    if condition.last_update_time is None:
        return True
    assert deployment.progress_deadline_seconds is not None  # has_progress_deadline
    deadline = condition.last_update_time + datetime.timedelta(seconds=deployment.progress_deadline_seconds)
    return deadline < now


# --- The pod-template hash (DP-07) -------------------------------------------------------------------------------

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand alphanums
_FNV32_OFFSET_BASIS = 0x811C9DC5
_FNV32_PRIME = 0x01000193


def safe_encode_string(text: str) -> str:
    """rand.SafeEncodeString: map each character through the vowel-free alphabet, so no words appear in names."""
    return "".join(_SAFE_ALPHABET[ord(char) % len(_SAFE_ALPHABET)] for char in text)


def _fnv32a(data: bytes, state: int = _FNV32_OFFSET_BASIS) -> int:
    for byte in data:
        state = ((state ^ byte) * _FNV32_PRIME) & 0xFFFFFFFF
    return state


def compute_hash(template: Mapping[str, Any], collision_count: int | None) -> str:
    """controller.ComputeHash (DP-07): the pod-template-hash label value for this template.

    Upstream feeds FNV-32a with hashutil.DeepHashObject, a spew dump of the Go PodTemplateSpec struct, which
    Python cannot reproduce. We feed it the canonical JSON of the template instead (sorted keys, no whitespace,
    UTF-8), then keep the rest of the pipeline: the collision count, when set, as 8 bytes (little-endian uint32
    and 4 zero bytes, as upstream writes its 8-byte buffer), then the decimal Sum32 through SafeEncodeString.
    The hashes are therefore stable and well spread, but never equal to upstream's for the same template.
    """
    canonical = json.dumps(template, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    state = _fnv32a(canonical.encode("utf-8"))
    if collision_count is not None:
        state = _fnv32a((collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4), state)
    return safe_encode_string(str(state))
