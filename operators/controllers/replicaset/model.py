"""Typed views of a MiniReplicaSet and its status, the inputs of the pure logic (apps/v1 types.go ReplicaSet).

A MiniReplicaSet mirrors apps/v1 ReplicaSet field for field, so `ReplicaSetView.from_dict` reads a
MiniReplicaSet body exactly as the Go controller reads a ReplicaSet.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from operators.kube.objects import Condition, Controllee, OwnerReference, parse_time
from operators.kube.selectors import LabelSelector, Nothing, read_with_selector_error

__all__ = [
    "API_VERSION",
    "KIND",
    "REPLICA_FAILURE",
    "ManageError",
    "ReplicaSetStatus",
    "ReplicaSetView",
]

API_VERSION = "minik8s.dev/v1"
KIND = "MiniReplicaSet"

# apps.ReplicaSetReplicaFailure: the only condition type the controller itself writes (RS-23).
REPLICA_FAILURE = "ReplicaFailure"


@dataclass(frozen=True, slots=True)
class ReplicaSetStatus:
    """apps.ReplicaSetStatus. `terminating_replicas` is None when never reported (a *int32 in Go)."""

    replicas: int = 0
    fully_labeled_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    terminating_replicas: int | None = None
    observed_generation: int = 0
    conditions: tuple[Condition, ...] = ()

    @classmethod
    def from_dict(cls, body: Mapping[str, Any] | None) -> ReplicaSetStatus:
        body = body or {}
        terminating = body.get("terminatingReplicas")
        return cls(
            replicas=int(body.get("replicas") or 0),
            fully_labeled_replicas=int(body.get("fullyLabeledReplicas") or 0),
            ready_replicas=int(body.get("readyReplicas") or 0),
            available_replicas=int(body.get("availableReplicas") or 0),
            terminating_replicas=None if terminating is None else int(terminating),
            observed_generation=int(body.get("observedGeneration") or 0),
            conditions=tuple(Condition.from_dict(c) for c in body.get("conditions") or ()),
        )

    def to_dict(self) -> dict[str, Any]:
        """The status body to write; the subresource replaces the whole status, so every field is present.

        `selector` (the string form the /scale subresource reads, RS-25) is the glue's to add.
        """
        out: dict[str, Any] = {
            "replicas": self.replicas,
            "fullyLabeledReplicas": self.fully_labeled_replicas,
            "readyReplicas": self.ready_replicas,
            "availableReplicas": self.available_replicas,
            "observedGeneration": self.observed_generation,
            "conditions": [c.to_dict() for c in self.conditions],
        }
        if self.terminating_replicas is not None:
            out["terminatingReplicas"] = self.terminating_replicas
        return out


@dataclass(frozen=True, slots=True)
class ReplicaSetView(Controllee):
    """The fields of a MiniReplicaSet the controller reads: identity, spec, and the current status."""

    namespace: str
    name: str
    uid: str
    generation: int = 0
    replicas: int = 1
    min_ready_seconds: int = 0
    selector: LabelSelector = Nothing
    template_labels: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    owner_references: tuple[OwnerReference, ...] = ()
    resource_version: str = ""
    deletion_timestamp: datetime.datetime | None = None
    status: ReplicaSetStatus = field(default_factory=ReplicaSetStatus)
    template: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the pod template
    selector_error: str = ""  # why spec.selector is invalid; the selector is then Nothing (RS-01)
    # Read by the MiniDeployment controller, which owns MiniReplicaSets: revisions and the desired/max-replicas
    # bookkeeping live in the annotations (DP-10, DP-12); the new RS is the oldest match (DP-06).
    annotations: Mapping[str, str] = field(default_factory=dict)
    creation_timestamp: datetime.datetime | None = None

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> ReplicaSetView:
        """Read a MiniReplicaSet body; an invalid selector becomes Nothing plus `selector_error` instead of raising.

        This is what the cache stores, so a malformed object cannot break the cache or the other objects.
        """
        return read_with_selector_error(cls.from_dict, body)

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> ReplicaSetView:
        """Read a MiniReplicaSet body; raises InvalidSelectorError on a selector the API would reject (RS-01)."""
        metadata: Mapping[str, Any] = body.get("metadata") or {}
        spec: Mapping[str, Any] = body.get("spec") or {}
        template_metadata: Mapping[str, Any] = (spec.get("template") or {}).get("metadata") or {}
        replicas = spec.get("replicas")
        return cls(
            namespace=str(metadata.get("namespace", "")),
            name=str(metadata.get("name", "")),
            uid=str(metadata.get("uid", "")),
            generation=int(metadata.get("generation") or 0),
            replicas=1 if replicas is None else int(replicas),  # RS-25: replicas defaults to 1
            min_ready_seconds=int(spec.get("minReadySeconds") or 0),
            selector=LabelSelector.parse(spec.get("selector")),
            template_labels=dict(template_metadata.get("labels") or {}),
            labels=dict(metadata.get("labels") or {}),
            owner_references=tuple(OwnerReference.from_dict(ref) for ref in metadata.get("ownerReferences") or ()),
            resource_version=str(metadata.get("resourceVersion", "")),
            deletion_timestamp=parse_time(metadata.get("deletionTimestamp")),
            status=ReplicaSetStatus.from_dict(body.get("status")),
            template=copy.deepcopy(dict(spec.get("template") or {})),  # never share the watch's dicts
            annotations=dict(metadata.get("annotations") or {}),
            creation_timestamp=parse_time(metadata.get("creationTimestamp")),
        )


@dataclass(frozen=True, slots=True)
class ManageError:
    """Why manageReplicas failed: the first create or delete error of the sync (RS-04, RS-06, RS-23).

    `kind` says which operation failed (for the FailedCreate/FailedDelete event); `message` is the error text
    that becomes the ReplicaFailure condition's message.
    """

    kind: Literal["create", "delete"]
    message: str

    @property
    def reason(self) -> str:
        return "FailedCreate" if self.kind == "create" else "FailedDelete"

    def __str__(self) -> str:
        return self.message
