"""The pure decisions of pkg/controller/deployment/rollback.go: the controller-side rollback.

`kubectl rollout undo` rolls back on the client (DP-35, `kubectl mini rollout undo`). The controller keeps the
older way too: the annotation deprecated.deployment.rollback.to (extensions/v1beta1's spec.rollbackTo,
round-tripped) names a revision (0: the previous one); the controller copies that ReplicaSet's template and
annotations into the Deployment and clears the annotation. The rollout that follows raises the old
ReplicaSet's revision (DP-10).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from operators.controllers.deployment.model import DeploymentView
from operators.controllers.deployment.util import (
    DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY,
    DEPRECATED_ROLLBACK_TO,
    equal_ignore_hash,
    last_revision,
    parse_int,
    revision,
    skip_copy_annotation,
)
from operators.controllers.replicaset.model import ReplicaSetView

__all__ = [
    "ROLLBACK_DONE",
    "ROLLBACK_REVISION_NOT_FOUND",
    "ROLLBACK_TEMPLATE_UNCHANGED",
    "Rollback",
    "get_rollback_to",
    "rollback",
    "set_deployment_annotations_to",
    "template_from_replica_set",
]

# deployment_util.go event reasons.
ROLLBACK_REVISION_NOT_FOUND = "DeploymentRollbackRevisionNotFound"
ROLLBACK_TEMPLATE_UNCHANGED = "DeploymentRollbackTemplateUnchanged"
ROLLBACK_DONE = "DeploymentRollback"


@dataclass(frozen=True, slots=True)
class Rollback:
    """What rollback does: one update of the Deployment (the annotation always cleared) and one event.

    `template` is the pod template to roll back to, None when the spec stays as it is.
    """

    annotations: Mapping[str, str]
    template: Mapping[str, Any] | None
    event_type: Literal["Normal", "Warning"]
    event_reason: str
    event_message: str
    revision: int = field(default=0)


def get_rollback_to(deployment: DeploymentView) -> int | None:
    """getRollbackTo: the revision the deprecated annotation asks for; None when absent or not a number."""
    value = deployment.annotations.get(DEPRECATED_ROLLBACK_TO, "")
    if not value:
        return None
    try:
        return parse_int(value, 64)  # strconv.ParseInt(v, 10, 64): no spaces, underscores or non-ASCII digits
    except ValueError:
        return None


def template_from_replica_set(rs_template: Mapping[str, Any]) -> dict[str, Any]:
    """SetFromReplicaSetTemplate: the RS's pod template without the pod-template-hash label."""
    template = copy.deepcopy(dict(rs_template))
    metadata = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (metadata.get("labels") or {}).items() if k != DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY}
    metadata["labels"] = labels
    template["metadata"] = metadata
    return template


def set_deployment_annotations_to(deployment_annotations: Mapping[str, str], rs: ReplicaSetView) -> dict[str, str]:
    """SetDeploymentAnnotationsTo: keep the Deployment's own bookkeeping annotations, take the rest from the RS.

    So that the change-cause of the revision rolled back to comes back with it, instead of the current one being
    copied onto that RS by the next sync.
    """
    kept = {k: v for k, v in deployment_annotations.items() if skip_copy_annotation(k)}
    kept.update({k: v for k, v in rs.annotations.items() if not skip_copy_annotation(k)})
    return kept


def rollback(deployment: DeploymentView, all_rss: Sequence[ReplicaSetView], to_revision: int) -> Rollback:
    """rollback: find the revision (0: LastRevision), then roll back to its template unless it is the current one."""
    cleared = {k: v for k, v in deployment.annotations.items() if k != DEPRECATED_ROLLBACK_TO}
    if to_revision == 0:
        to_revision = last_revision(all_rss)
        if to_revision == 0:
            return Rollback(cleared, None, "Warning", ROLLBACK_REVISION_NOT_FOUND, "Unable to find last revision.")
    for rs in all_rss:
        try:
            if revision(rs) != to_revision:
                continue
        except ValueError:
            continue
        if equal_ignore_hash(deployment.template, rs.template):
            message = f'The rollback revision contains the same template as current deployment "{deployment.name}"'
            return Rollback(cleared, None, "Warning", ROLLBACK_TEMPLATE_UNCHANGED, message, to_revision)
        annotations = {
            k: v for k, v in set_deployment_annotations_to(cleared, rs).items() if k != DEPRECATED_ROLLBACK_TO
        }
        message = f'Rolled back deployment "{deployment.name}" to revision {to_revision}'
        return Rollback(
            annotations, template_from_replica_set(rs.template), "Normal", ROLLBACK_DONE, message, to_revision
        )
    message = "Unable to find the revision to rollback to."
    return Rollback(cleared, None, "Warning", ROLLBACK_REVISION_NOT_FOUND, message, to_revision)
