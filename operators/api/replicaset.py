"""MiniReplicaSet (minik8s.dev/v1): the model of apps/v1 ReplicaSet, from which its CRD is generated."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from operators.api.crdinfo import CRDInfo, PrinterColumn, Scale, cel, list_map
from operators.api.meta import (
    AGE_COLUMN,
    SELECTOR_IMMUTABLE,
    SELECTOR_MATCHES_TEMPLATE,
    SELECTOR_NOT_EMPTY,
    WORKLOAD_WIDE_COLUMNS,
    Condition,
    CustomResource,
    KubeModel,
    LabelSelector,
    PodTemplateSpec,
)

__all__ = ["MiniReplicaSet", "MiniReplicaSetSpec", "MiniReplicaSetStatus"]


class MiniReplicaSetSpec(KubeModel):
    """MiniReplicaSetSpec is the specification of a MiniReplicaSet (apps/v1 ReplicaSetSpec)."""

    model_config = ConfigDict(json_schema_extra=cel(SELECTOR_MATCHES_TEMPLATE))

    replicas: int = Field(default=1, ge=0)
    """Replicas is the number of desired pods.
    This is a pointer to distinguish between explicit zero and unspecified.
    Defaults to 1.
    More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset"""

    min_ready_seconds: int = Field(default=0, ge=0)
    """Minimum number of seconds for which a newly created pod should be ready
    without any of its container crashing, for it to be considered available.
    Defaults to 0 (pod will be considered available as soon as it is ready)"""

    selector: LabelSelector = Field(json_schema_extra=cel(SELECTOR_IMMUTABLE, SELECTOR_NOT_EMPTY))
    """Selector is a label query over pods that should match the replica count.
    Label keys and values that must match in order to be controlled by this replica set.
    It must match the pod template's labels.
    More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"""

    template: PodTemplateSpec
    """Template is the object that describes the pod that will be created if
    insufficient replicas are detected.
    More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#pod-template"""


class MiniReplicaSetStatus(KubeModel):
    """MiniReplicaSetStatus represents the current status of a MiniReplicaSet (apps/v1 ReplicaSetStatus)."""

    replicas: int = Field(default=0, ge=0)
    """Replicas is the most recently observed number of non-terminating pods.
    More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset"""

    fully_labeled_replicas: int | None = Field(default=None, ge=0)
    """The number of non-terminating pods that have labels matching the labels of the pod template of the
    replicaset."""

    ready_replicas: int | None = Field(default=None, ge=0)
    """The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition."""

    available_replicas: int | None = Field(default=None, ge=0)
    """The number of available non-terminating pods (ready for at least minReadySeconds) for this replica
    set."""

    terminating_replicas: int | None = Field(default=None, ge=0)
    """The number of terminating pods for this replica set. Terminating pods have a non-null
    .metadata.deletionTimestamp and have not yet reached the Failed or Succeeded .status.phase."""

    observed_generation: int | None = None
    """ObservedGeneration reflects the generation of the most recently observed ReplicaSet."""

    conditions: list[Condition] | None = Field(default=None, json_schema_extra=list_map("type"))
    """Represents the latest available observations of a replica set's current state."""

    selector: str | None = None
    """The selector in its string form (`app=web,tier in (a,b)`), as the scale subresource reports it:
    the labelSelectorPath of this CRD, read by `kubectl scale` and the HorizontalPodAutoscaler.
    (Not in apps/v1 ReplicaSetStatus, where the API server computes it.)"""


class MiniReplicaSet(CustomResource):
    """MiniReplicaSet ensures that a specified number of pod replicas are running at any given time.
    It mirrors apps/v1 ReplicaSet."""

    crd: ClassVar[CRDInfo] = CRDInfo(
        kind="MiniReplicaSet",
        plural="minireplicasets",
        singular="minireplicaset",
        short_names=("mrs",),
        categories=("all", "mini"),
        # `kubectl get rs` columns, then the `-o wide` ones (priority 1).
        printer_columns=(
            PrinterColumn("Desired", "integer", ".spec.replicas", "Number of desired pods."),
            PrinterColumn("Current", "integer", ".status.replicas", "Number of non-terminating pods."),
            PrinterColumn("Ready", "integer", ".status.readyReplicas", "Number of ready pods."),
            AGE_COLUMN,
            *WORKLOAD_WIDE_COLUMNS,
        ),
        scale=Scale(),
    )

    api_version: Literal["minik8s.dev/v1"] = "minik8s.dev/v1"
    kind: Literal["MiniReplicaSet"] = "MiniReplicaSet"

    spec: MiniReplicaSetSpec
    """Spec defines the specification of the desired behavior of the MiniReplicaSet.
    More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status"""

    status: MiniReplicaSetStatus | None = None
    """Status is the most recently observed status of the MiniReplicaSet.
    This data may be out of date by some window of time.
    Populated by the system.
    Read-only.
    More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status"""
