"""The pure decisions of pkg/controller/deployment/sync.go: the new ReplicaSet, scaling, history cleanup, status.

getNewReplicaSet (DP-06..DP-11) is split into its decision, `plan_new_replica_set`, and the collision rule
`resolve_create_conflict` (DP-09) the glue applies when the create answers AlreadyExists. `scale` is the
proportional scaling of a running rollout (DP-19..DP-22), `is_scaling_event` tells a scale from a rollout,
`check_paused_conditions` writes the Paused/Resumed condition (DP-31), `cleanup_deployment` picks the old
ReplicaSets that history no longer keeps (DP-27) and `calculate_status` sums the ReplicaSets into the
Deployment's status (DP-28, DP-29).

Every scaleReplicaSet call of the Go code is a `Scale` here: the decision functions return the scales in the
order Go performs them, the glue performs them, stopping at the first failure as Go does.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from operators.controllers.deployment.model import (
    DEPLOYMENT_AVAILABLE,
    DEPLOYMENT_PROGRESSING,
    DeploymentStatus,
    DeploymentView,
)
from operators.controllers.deployment.util import (
    DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY,
    DESIRED_REPLICAS_ANNOTATION,
    FOUND_NEW_RS_REASON,
    MINIMUM_REPLICAS_AVAILABLE,
    MINIMUM_REPLICAS_UNAVAILABLE,
    PAUSED_DEPLOY_REASON,
    RESUMED_DEPLOY_REASON,
    REVISION_ANNOTATION,
    TIMED_OUT_REASON,
    compute_hash,
    equal_ignore_hash,
    filter_active_replica_sets,
    find_active_or_latest,
    find_new_replica_set,
    find_old_replica_sets,
    get_actual_replica_count_for_replica_sets,
    get_available_replica_count_for_replica_sets,
    get_deployment_condition,
    get_non_negative_int32_from_annotation,
    get_ready_replica_count_for_replica_sets,
    get_replica_count_for_replica_sets,
    get_replica_set_proportion,
    get_terminating_replica_count_for_replica_sets,
    has_progress_deadline,
    has_revision_history_limit,
    is_rolling_update,
    is_saturated,
    max_revision,
    max_surge,
    max_unavailable,
    new_deployment_condition,
    new_rs_new_replicas,
    replica_sets_by_creation_timestamp,
    replica_sets_by_revision,
    replicas_annotations_need_update,
    set_deployment_condition,
    set_new_replica_set_annotations,
    set_replicas_annotations,
)
from operators.controllers.replicaset.model import ReplicaSetView

__all__ = [
    "CreateReplicaSet",
    "NewReplicaSetPlan",
    "Scale",
    "UpdateReplicaSetAnnotations",
    "calculate_status",
    "check_paused_conditions",
    "cleanup_deployment",
    "is_scaling_event",
    "plan_new_replica_set",
    "replica_sets_by_size_newer",
    "replica_sets_by_size_older",
    "resolve_create_conflict",
    "scale",
    "scale_replica_set",
    "scale_replica_set_and_record_event",
    "split_replica_sets",
]


# --- scaleReplicaSet ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scale:
    """One scaleReplicaSet call: set the RS's spec.replicas and its desired/max-replicas annotations (DP-12).

    `operation` ("up", "down" or "" when only the annotations change) words the ScalingReplicaSet event, which
    is recorded only when the size changes. `result` is the ReplicaSet as the update leaves it: later steps of
    the same sync compute with it, as Go computes with the object the Update returned.
    """

    rs: ReplicaSetView
    replicas: int
    annotations: Mapping[str, str]
    operation: Literal["up", "down", ""]

    @property
    def size_changed(self) -> bool:
        return self.rs.replicas != self.replicas

    @property
    def result(self) -> ReplicaSetView:
        return dataclasses.replace(self.rs, replicas=self.replicas, annotations=dict(self.annotations))

    @property
    def event_message(self) -> str:
        return f"Scaled {self.operation} replica set {self.rs.name} from {self.rs.replicas} to {self.replicas}"


def scale_replica_set(
    rs: ReplicaSetView, new_scale: int, deployment: DeploymentView, operation: Literal["up", "down", ""]
) -> Scale | None:
    """scaleReplicaSet: the write to make, or None when neither the size nor the annotations need it."""
    desired, maximum = deployment.replicas, deployment.replicas + max_surge(deployment)
    if rs.replicas == new_scale and not replicas_annotations_need_update(rs.annotations, desired, maximum):
        return None
    annotations, _ = set_replicas_annotations(rs.annotations, desired, maximum)
    return Scale(rs, new_scale, annotations, operation)


def scale_replica_set_and_record_event(rs: ReplicaSetView, new_scale: int, deployment: DeploymentView) -> Scale | None:
    """scaleReplicaSetAndRecordEvent: nothing at all when the size is already right (annotations or not)."""
    if rs.replicas == new_scale:
        return None
    return scale_replica_set(rs, new_scale, deployment, "up" if rs.replicas < new_scale else "down")


# --- getNewReplicaSet (DP-06..DP-11) -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UpdateReplicaSetAnnotations:
    """The new RS exists but its annotations (revision, copied annotations) or minReadySeconds are behind."""

    rs: ReplicaSetView
    annotations: Mapping[str, str]
    min_ready_seconds: int


@dataclass(frozen=True, slots=True)
class CreateReplicaSet:
    """Create the new RS: `body` is the MiniReplicaSet to POST (no ownerReference yet: the glue adds it)."""

    name: str
    replicas: int
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class NewReplicaSetPlan:
    """What getNewReplicaSet does: at most one RS write, and the Deployment's revision and status after it.

    `new_rs` is the existing new RS (None when there is none, or when one is to be created). `revision` is the
    Deployment's revision annotation to set when it differs; `status` the Deployment status with the
    Progressing condition getNewReplicaSet writes (FoundNewReplicaSet here; NewReplicaSetCreated is the glue's,
    once the create succeeded).
    """

    new_rs: ReplicaSetView | None
    old_rss: list[ReplicaSetView]
    write: UpdateReplicaSetAnnotations | CreateReplicaSet | None
    revision: str | None
    status: DeploymentStatus


def split_replica_sets(
    deployment: DeploymentView, rs_list: Sequence[ReplicaSetView]
) -> tuple[ReplicaSetView | None, list[ReplicaSetView]]:
    """FindNewReplicaSet and FindOldReplicaSets: (the new RS or None, all the old ones)."""
    _, all_old = find_old_replica_sets(deployment, rs_list)
    return find_new_replica_set(deployment, rs_list), all_old


def plan_new_replica_set(
    deployment: DeploymentView, rs_list: Sequence[ReplicaSetView], create_if_not_existed: bool, now: datetime.datetime
) -> NewReplicaSetPlan:
    """getNewReplicaSet's decision.

    The existing new RS has its annotations brought up to date (the Deployment's copied annotations, its revision
    raised to max(old) + 1, DP-10, DP-11) and its minReadySeconds; when that needs a write, Go returns right after
    it, and so does the plan (no revision, no status change). Otherwise the Deployment's revision mirrors the new
    RS's, and a Deployment with a deadline but no Progressing condition gets FoundNewReplicaSet.

    Without a new RS, and when asked to create one, the plan carries the RS to create: named
    `<deployment>-<hash>`, the hash label on its labels, selector and template (DP-07, DP-08), sized by
    NewRSNewReplicas, with the new revision and the replicas annotations (DP-12).
    """
    new_rs, old_rss = split_replica_sets(deployment, rs_list)
    new_revision = str(max_revision(old_rss) + 1)
    status = deployment.status
    if new_rs is not None:
        annotations, annotations_updated = set_new_replica_set_annotations(
            deployment, new_rs.annotations, new_revision, exists=True
        )
        if annotations_updated or new_rs.min_ready_seconds != deployment.min_ready_seconds:
            write = UpdateReplicaSetAnnotations(new_rs, annotations, deployment.min_ready_seconds)
            return NewReplicaSetPlan(new_rs, old_rss, write, None, status)
        # Go sets the revision the existing new RS carries (set before, possibly by a rollback), not max(old) + 1.
        revision = new_rs.annotations.get(REVISION_ANNOTATION, "")
        if has_progress_deadline(deployment) and get_deployment_condition(status, DEPLOYMENT_PROGRESSING) is None:
            message = f'Found new replica set "{new_rs.name}"'
            condition = new_deployment_condition(DEPLOYMENT_PROGRESSING, "True", FOUND_NEW_RS_REASON, message, now)
            status = set_deployment_condition(status, condition)
        return NewReplicaSetPlan(new_rs, old_rss, None, revision, status)
    if not create_if_not_existed:
        return NewReplicaSetPlan(None, old_rss, None, None, status)
    return NewReplicaSetPlan(None, old_rss, _new_replica_set(deployment, old_rss, new_revision), new_revision, status)


def _new_replica_set(deployment: DeploymentView, old_rss: Sequence[ReplicaSetView], revision: str) -> CreateReplicaSet:
    template = dict(deployment.template)
    pod_template_hash = compute_hash(template, deployment.status.collision_count)
    template_metadata = dict(template.get("metadata") or {})
    labels = {**(template_metadata.get("labels") or {}), DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY: pod_template_hash}
    template["metadata"] = {**template_metadata, "labels": labels}
    selector = copy.deepcopy(dict(deployment.selector_spec))
    selector["matchLabels"] = {
        **(selector.get("matchLabels") or {}),
        DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY: pod_template_hash,
    }
    name = f"{deployment.name}-{pod_template_hash}"
    # NewRSNewReplicas sizes the RS as if it existed with 0 replicas among the old ones.
    draft = ReplicaSetView(namespace=deployment.namespace, name=name, uid="", replicas=0, template=template)
    replicas = new_rs_new_replicas(deployment, [*old_rss, draft], draft)
    annotations, _ = set_new_replica_set_annotations(deployment, {}, revision, exists=False)
    body = {
        "apiVersion": "minik8s.dev/v1",
        "kind": "MiniReplicaSet",
        "metadata": {"name": name, "namespace": deployment.namespace, "labels": labels, "annotations": annotations},
        "spec": {
            "replicas": replicas,
            "minReadySeconds": deployment.min_ready_seconds,
            "selector": selector,
            "template": template,
        },
    }
    return CreateReplicaSet(name, replicas, body)


def resolve_create_conflict(deployment: DeploymentView, existing: ReplicaSetView) -> bool:
    """DP-09: True when the RS that already has the new RS's name *is* the new RS (adopt it as created).

    That is the case when this Deployment controls it and its template equals the Deployment's, ignoring the hash:
    a slow cache, or a fast resync. Otherwise it is a hash collision: the glue bumps status.collisionCount, and
    the next sync computes another hash.
    """
    ref = existing.controller_ref
    return ref is not None and ref.uid == deployment.uid and equal_ignore_hash(deployment.template, existing.template)


# --- scale (DP-19..DP-22) ----------------------------------------------------------------------------------------


def replica_sets_by_size_older(replica_sets: Iterable[ReplicaSetView]) -> list[ReplicaSetView]:
    """controller.ReplicaSetsBySizeOlder: the largest first; equal sizes oldest first (scaling down)."""
    return sorted(replica_sets, key=lambda rs: (-rs.replicas, *replica_sets_by_creation_timestamp(rs)))


def replica_sets_by_size_newer(replica_sets: Iterable[ReplicaSetView]) -> list[ReplicaSetView]:
    """controller.ReplicaSetsBySizeNewer: the largest first; equal sizes newest first (scaling up)."""
    newest_first = sorted(replica_sets, key=replica_sets_by_creation_timestamp, reverse=True)
    return sorted(newest_first, key=lambda rs: -rs.replicas)  # stable: keeps newest first among equals


# --8<-- [start:proportional-scale]
def scale(deployment: DeploymentView, new_rs: ReplicaSetView | None, old_rss: Sequence[ReplicaSetView]) -> list[Scale]:
    """scale: the writes that bring the ReplicaSets to the Deployment's size without a new rollout step.

    DP-19: one active RS (or none: the newest) takes all the replicas. DP-20: a saturated new RS means every
    old RS goes to 0. DP-21: otherwise, for a rolling Deployment, replicas + maxSurge minus what the active RSs
    have is shared among them in proportion to their size (largest first; newer first when growing, older first
    when shrinking), each RS's share rounded, the leftover to the first one; every active RS is then written,
    even with an unchanged size, to bring its desired/max-replicas annotations up to date.
    """
    active_or_latest = find_active_or_latest(new_rs, old_rss)
    if active_or_latest is not None:
        if active_or_latest.replicas == deployment.replicas:
            return []
        single = scale_replica_set_and_record_event(active_or_latest, deployment.replicas, deployment)
        return [single] if single is not None else []
    if is_saturated(deployment, new_rs):
        return [
            s
            for old in filter_active_replica_sets(old_rss)
            if (s := scale_replica_set_and_record_event(old, 0, deployment))
        ]
    if not is_rolling_update(deployment):
        return []
    active = filter_active_replica_sets([*old_rss, new_rs])
    allowed_size = deployment.replicas + max_surge(deployment) if deployment.replicas > 0 else 0
    to_add = allowed_size - get_replica_count_for_replica_sets(active)
    operation: Literal["up", "down", ""] = ""
    if to_add > 0:
        active, operation = replica_sets_by_size_newer(active), "up"
    elif to_add < 0:
        active, operation = replica_sets_by_size_older(active), "down"
    added = 0
    sizes: dict[str, int] = {}
    for rs in active:
        if to_add != 0:
            proportion = get_replica_set_proportion(rs, deployment, to_add, added)
            sizes[rs.name] = rs.replicas + proportion
            added += proportion
        else:
            sizes[rs.name] = rs.replicas
    scales: list[Scale] = []
    for i, rs in enumerate(active):
        if i == 0 and to_add != 0:
            sizes[rs.name] = max(0, sizes[rs.name] + to_add - added)  # the leftover goes to the largest RS
        if (write := scale_replica_set(rs, sizes[rs.name], deployment, operation)) is not None:
            scales.append(write)
    return scales


# --8<-- [end:proportional-scale]


def is_scaling_event(deployment: DeploymentView, rs_list: Sequence[ReplicaSetView]) -> bool:
    """isScalingEvent: some active RS was last scaled for a different spec.replicas (its desired-replicas annotation).

    Go also runs getAllReplicaSetsAndSyncRevision first, which may write; the glue does that step in its own
    right (`plan_new_replica_set`) before asking. An unreadable annotation is skipped.
    """
    new_rs, old_rss = split_replica_sets(deployment, rs_list)
    for rs in filter_active_replica_sets([*old_rss, new_rs]):
        try:
            desired = get_non_negative_int32_from_annotation(rs.annotations, DESIRED_REPLICAS_ANNOTATION)
        except ValueError:
            continue
        if desired is not None and desired != deployment.replicas:
            return True
    return False


# --- checkPausedConditions (DP-31) -------------------------------------------------------------------------------


def check_paused_conditions(deployment: DeploymentView, now: datetime.datetime) -> DeploymentStatus | None:
    """checkPausedConditions: the status with Progressing Unknown DeploymentPaused/DeploymentResumed, or None.

    Only with a progress deadline, and never over a ProgressDeadlineExceeded already reported. Writing the
    condition resets the deadline clock, so a Deployment paused longer than its deadline is not reported as
    failed the moment it is resumed.
    """
    if not has_progress_deadline(deployment):
        return None
    current = get_deployment_condition(deployment.status, DEPLOYMENT_PROGRESSING)
    if current is not None and current.reason == TIMED_OUT_REASON:
        return None
    paused_condition_exists = current is not None and current.reason == PAUSED_DEPLOY_REASON
    if deployment.paused and not paused_condition_exists:
        reason, message = PAUSED_DEPLOY_REASON, "Deployment is paused"
    elif not deployment.paused and paused_condition_exists:
        reason, message = RESUMED_DEPLOY_REASON, "Deployment is resumed"
    else:
        return None
    condition = new_deployment_condition(DEPLOYMENT_PROGRESSING, "Unknown", reason, message, now)
    return set_deployment_condition(deployment.status, condition)


# --- cleanupDeployment (DP-27) -----------------------------------------------------------------------------------


def cleanup_deployment(deployment: DeploymentView, old_rss: Sequence[ReplicaSetView]) -> list[ReplicaSetView]:
    """cleanupDeployment: the old ReplicaSets to delete so that at most revisionHistoryLimit of them remain.

    Oldest revision first, skipping RSs being deleted, still holding replicas (by spec or status), or whose
    latest spec their controller has not yet observed.
    """
    if not has_revision_history_limit(deployment):
        return []
    assert deployment.revision_history_limit is not None  # has_revision_history_limit
    alive = [rs for rs in old_rss if rs.deletion_timestamp is None]
    diff = len(alive) - deployment.revision_history_limit
    if diff <= 0:
        return []
    # Only the `diff` oldest are candidates: one that cannot go yet is skipped, not replaced by a newer one.
    return [
        rs
        for rs in replica_sets_by_revision(alive)[:diff]
        if rs.status.replicas == 0 and rs.replicas == 0 and rs.generation <= rs.status.observed_generation
    ]


# --- calculateStatus (DP-28, DP-29) ------------------------------------------------------------------------------


def calculate_status(
    all_rss: Sequence[ReplicaSetView | None],
    new_rs: ReplicaSetView | None,
    deployment: DeploymentView,
    now: datetime.datetime,
) -> DeploymentStatus:
    """calculateStatus: the replica counts summed over the RSs, and the Available condition.

    unavailableReplicas counts against spec.replicas of the RSs (never below 0: more may be available than
    desired while scaling down). Available is True once availableReplicas ≥ replicas - maxUnavailable.
    """
    available = get_available_replica_count_for_replica_sets(all_rss)
    status = DeploymentStatus(
        observed_generation=deployment.generation,
        replicas=get_actual_replica_count_for_replica_sets(all_rss),
        updated_replicas=get_actual_replica_count_for_replica_sets([new_rs]),
        ready_replicas=get_ready_replica_count_for_replica_sets(all_rss),
        available_replicas=available,
        unavailable_replicas=max(0, get_replica_count_for_replica_sets(all_rss) - available),
        terminating_replicas=get_terminating_replica_count_for_replica_sets(all_rss),
        collision_count=deployment.status.collision_count,
        conditions=deployment.status.conditions,
        selector=str(deployment.selector),
        ready_text=f"{get_ready_replica_count_for_replica_sets(all_rss)}/{deployment.replicas}",
    )
    if available >= deployment.replicas - max_unavailable(deployment):
        condition = new_deployment_condition(
            DEPLOYMENT_AVAILABLE, "True", MINIMUM_REPLICAS_AVAILABLE, "Deployment has minimum availability.", now
        )
    else:
        condition = new_deployment_condition(
            DEPLOYMENT_AVAILABLE,
            "False",
            MINIMUM_REPLICAS_UNAVAILABLE,
            "Deployment does not have minimum availability.",
            now,
        )
    return set_deployment_condition(status, condition)
