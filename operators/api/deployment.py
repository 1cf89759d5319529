"""MiniDeployment (minik8s.dev/v1): the model of apps/v1 Deployment, from which its CRD is generated."""

from __future__ import annotations

import textwrap
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from operators.api.crdinfo import CRDInfo, PrinterColumn, Rule, Scale, cel, list_map
from operators.api.meta import (
    AGE_COLUMN,
    SELECTOR_IMMUTABLE,
    SELECTOR_MATCHES_TEMPLATE,
    SELECTOR_NOT_EMPTY,
    WORKLOAD_WIDE_COLUMNS,
    CustomResource,
    IntOrPercent,
    IntOrPercentUpTo100,
    KubeModel,
    LabelSelector,
    NonNegativeInt,
    PodTemplateSpec,
)

__all__ = [
    "BOTH_NOT_ZERO",
    "NON_ZERO_PATTERN",
    "PROGRESS_DEADLINE_AFTER_MIN_READY",
    "ROLLING_UPDATE_ONLY_FOR_ROLLING_UPDATE",
    "DeploymentCondition",
    "DeploymentStrategy",
    "MiniDeployment",
    "MiniDeploymentSpec",
    "MiniDeploymentStatus",
    "RollingUpdateDeployment",
]

# --- CEL rules for what apps/v1 ValidateDeploymentSpec checks across fields (upstream's messages) ---

NON_ZERO_PATTERN = r"^([+-]?[0-9]*[1-9][0-9]*|[0-9]*[1-9][0-9]*%)$"
"""An int-or-string's string that upstream getIntOrPercentValue reads as non-zero: an integer or a percentage
with a non-zero digit. It reads a percentage's number, else the string's number by strconv.Atoi, which is 0
for what is not a number: "abc" counts as 0 (and is refused besides, by IsValidPercent)."""

BOTH_NOT_ZERO = Rule(
    rule=textwrap.dedent(
        f"""\
        !has(self.maxSurge) || !has(self.maxUnavailable)
        || (type(self.maxSurge) == int ? self.maxSurge != 0 : self.maxSurge.matches('{NON_ZERO_PATTERN}'))
        || (type(self.maxUnavailable) == int ? self.maxUnavailable != 0
            : self.maxUnavailable.matches('{NON_ZERO_PATTERN}'))"""
    ),
    message="may not be 0 when `maxSurge` is 0",
    field_path=".maxUnavailable",
)
"""On spec.strategy.rollingUpdate: ValidateRollingUpdateDeployment; with both at 0 a rollout could never move."""

ROLLING_UPDATE_ONLY_FOR_ROLLING_UPDATE = Rule(
    rule="!has(self.rollingUpdate) || self.?type.orValue('RollingUpdate') != 'Recreate'",
    message="may not be specified when strategy `type` is 'Recreate'",
    field_path=".rollingUpdate",
    reason="FieldValueForbidden",
)
"""On spec.strategy: ValidateDeploymentStrategy."""

PROGRESS_DEADLINE_AFTER_MIN_READY = Rule(
    rule="!has(self.progressDeadlineSeconds) || self.progressDeadlineSeconds > self.?minReadySeconds.orValue(0)",
    message="must be greater than minReadySeconds",
    field_path=".progressDeadlineSeconds",
)
"""On the spec: ValidateDeploymentSpec; a pod must be able to become available before the deadline."""


class RollingUpdateDeployment(KubeModel):
    """Spec to control the desired behavior of rolling update."""

    model_config = ConfigDict(json_schema_extra=cel(BOTH_NOT_ZERO))

    max_unavailable: IntOrPercentUpTo100 = "25%"
    """The maximum number of pods that can be unavailable during the update.
    Value can be an absolute number (ex: 5) or a percentage of desired pods (ex: 10%).
    Absolute number is calculated from percentage by rounding down.
    This can not be 0 if MaxSurge is 0.
    Defaults to 25%.
    Example: when this is set to 30%, the old ReplicaSet can be scaled down to 70% of desired pods
    immediately when the rolling update starts. Once new pods are ready, old ReplicaSet
    can be scaled down further, followed by scaling up the new ReplicaSet, ensuring
    that the total number of pods available at all times during the update is at
    least 70% of desired pods."""

    max_surge: IntOrPercent = "25%"
    """The maximum number of pods that can be scheduled above the desired number of
    pods.
    Value can be an absolute number (ex: 5) or a percentage of desired pods (ex: 10%).
    This can not be 0 if MaxUnavailable is 0.
    Absolute number is calculated from percentage by rounding up.
    Defaults to 25%.
    Example: when this is set to 30%, the new ReplicaSet can be scaled up immediately when
    the rolling update starts, such that the total number of old and new pods do not exceed
    130% of desired pods. Once old pods have been killed,
    new ReplicaSet can be scaled up further, ensuring that total number of pods running
    at any time during the update is at most 130% of desired pods."""


class DeploymentStrategy(KubeModel):
    """DeploymentStrategy describes how to replace existing pods with new ones.

    How its defaults come close to upstream's. SetDefaults_Deployment sets rollingUpdate (to 25%/25%) only
    when the type is RollingUpdate, and a structural schema has no conditional defaults: a default on
    rollingUpdate itself would also land on a Recreate strategy, which must not have one. So the defaults sit
    one level up, on spec.strategy as a whole (RollingUpdate with 25%/25%), plus 25% on each of maxSurge and
    maxUnavailable once a rollingUpdate block is written, and RollingUpdate on `type`. `kubectl get md -o yaml`
    then reads exactly as for a Deployment when the strategy is omitted (the common case), set to Recreate, or
    given with a partial rollingUpdate. Only a strategy written as `{}` or `{type: RollingUpdate}` reads back
    without its rollingUpdate block, and the controller applies 25%/25% there (DeploymentStrategy.from_dict
    in operators.controllers.deployment.model).

    Switching a stored strategy to Recreate takes `rollingUpdate: null` in the same patch, as a JSON merge
    patch of a Deployment does; kubectl's strategic merge patch drops it for a Deployment (retainKeys), but
    custom resources only take JSON merge patches.
    """

    model_config = ConfigDict(json_schema_extra=cel(ROLLING_UPDATE_ONLY_FOR_ROLLING_UPDATE))

    type: Literal["Recreate", "RollingUpdate"] = "RollingUpdate"
    """Type of deployment. Can be "Recreate" or "RollingUpdate". Default is RollingUpdate."""

    rolling_update: RollingUpdateDeployment | None = None
    """Rolling update config params. Present only if DeploymentStrategyType =
    RollingUpdate."""


class MiniDeploymentSpec(KubeModel):
    """MiniDeploymentSpec is the specification of the desired behavior of the MiniDeployment (apps/v1
    DeploymentSpec)."""

    model_config = ConfigDict(json_schema_extra=cel(SELECTOR_MATCHES_TEMPLATE, PROGRESS_DEADLINE_AFTER_MIN_READY))

    replicas: NonNegativeInt = 1
    """Number of desired pods. This is a pointer to distinguish between explicit
    zero and not specified. Defaults to 1."""

    selector: LabelSelector = Field(json_schema_extra=cel(SELECTOR_IMMUTABLE, SELECTOR_NOT_EMPTY))
    """Label selector for pods. Existing ReplicaSets whose pods are
    selected by this will be the ones affected by this deployment.
    It must match the pod template's labels."""

    template: PodTemplateSpec
    """Template describes the pods that will be created.
    The only allowed template.spec.restartPolicy value is "Always"."""

    strategy: DeploymentStrategy = DeploymentStrategy(rolling_update=RollingUpdateDeployment())
    """The deployment strategy to use to replace existing pods with new ones."""

    # Go omits a zero minReadySeconds and a false paused (omitempty), where a CRD default writes them out:
    # the one difference between the defaulted specs of a minimal MiniDeployment and a minimal Deployment.
    min_ready_seconds: NonNegativeInt = 0
    """Minimum number of seconds for which a newly created pod should be ready
    without any of its container crashing, for it to be considered available.
    Defaults to 0 (pod will be considered available as soon as it is ready)"""

    revision_history_limit: NonNegativeInt = 10
    """The number of old ReplicaSets to retain to allow rollback.
    This is a pointer to distinguish between explicit zero and not specified.
    Defaults to 10."""

    paused: bool = False
    """Indicates that the deployment is paused."""

    progress_deadline_seconds: NonNegativeInt = 600
    """The maximum time in seconds for a deployment to make progress before it
    is considered to be failed. The deployment controller will continue to
    process failed deployments and a condition with a ProgressDeadlineExceeded
    reason will be surfaced in the deployment status. Note that progress will
    not be estimated during the time a deployment is paused. Defaults to 600s."""


class DeploymentCondition(KubeModel):
    """DeploymentCondition describes the state of a deployment at a certain point."""

    type: str
    """Type of deployment condition."""

    status: Literal["True", "False", "Unknown"]
    """Status of the condition, one of True, False, Unknown."""

    last_update_time: datetime | None = None
    """The last time this condition was updated."""

    last_transition_time: datetime | None = None
    """Last time the condition transitioned from one status to another."""

    reason: str | None = None
    """The reason for the condition's last transition."""

    message: str | None = None
    """A human readable message indicating details about the transition."""


class MiniDeploymentStatus(KubeModel):
    """MiniDeploymentStatus is the most recently observed status of the MiniDeployment (apps/v1
    DeploymentStatus)."""

    observed_generation: int | None = Field(default=None, ge=0)
    """The generation observed by the deployment controller."""

    replicas: int | None = Field(default=None, ge=0)
    """Total number of non-terminating pods targeted by this deployment (their labels match the selector)."""

    updated_replicas: int | None = Field(default=None, ge=0)
    """Total number of non-terminating pods targeted by this deployment that have the desired template spec."""

    ready_replicas: int | None = Field(default=None, ge=0)
    """Total number of non-terminating pods targeted by this Deployment with a Ready Condition."""

    available_replicas: int | None = Field(default=None, ge=0)
    """Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this
    deployment."""

    unavailable_replicas: int | None = Field(default=None, ge=0)
    """Total number of unavailable pods targeted by this deployment. This is the total number of
    pods that are still required for the deployment to have 100% available capacity. They may
    either be pods that are running but not yet available or pods that still have not been created."""

    terminating_replicas: int | None = Field(default=None, ge=0)
    """Total number of terminating pods (have a non-null .metadata.deletionTimestamp) targeted by this
    deployment."""

    conditions: list[DeploymentCondition] | None = Field(default=None, json_schema_extra=list_map("type"))
    """Represents the latest available observations of a deployment's current state."""

    collision_count: int | None = Field(default=None, ge=0)
    """Count of hash collisions for the Deployment. The Deployment controller uses this
    field as a collision avoidance mechanism when it needs to create the name for the
    newest ReplicaSet."""

    selector: str | None = None
    """The selector in its string form (`app=web,tier in (a,b)`), as the scale subresource reports it:
    the labelSelectorPath of this CRD, read by `kubectl scale` and the HorizontalPodAutoscaler, and the
    SELECTOR column of `kubectl get md -o wide`.
    (Not in apps/v1 DeploymentStatus, where the API server computes it.)"""

    ready_text: str | None = None
    """readyReplicas out of spec.replicas (`3/3`), the READY column of `kubectl get md`.
    (Not in apps/v1 DeploymentStatus, where kubectl's printer computes it.)"""


class MiniDeployment(CustomResource):
    """MiniDeployment enables declarative updates for Pods and MiniReplicaSets.
    It mirrors apps/v1 Deployment."""

    crd: ClassVar[CRDInfo] = CRDInfo(
        kind="MiniDeployment",
        plural="minideployments",
        singular="minideployment",
        short_names=("md",),
        categories=("all", "mini"),
        # `kubectl get deploy` columns, then the `-o wide` ones (priority 1).
        printer_columns=(
            PrinterColumn("Ready", "string", ".status.readyText", "Ready pods out of desired pods."),
            PrinterColumn("Up-to-date", "integer", ".status.updatedReplicas", "Number of updated pods."),
            PrinterColumn("Available", "integer", ".status.availableReplicas", "Number of available pods."),
            AGE_COLUMN,
            *WORKLOAD_WIDE_COLUMNS,
        ),
        scale=Scale(),
    )

    api_version: Literal["minik8s.dev/v1"] = "minik8s.dev/v1"
    kind: Literal["MiniDeployment"] = "MiniDeployment"

    spec: MiniDeploymentSpec
    """Specification of the desired behavior of the MiniDeployment."""

    status: MiniDeploymentStatus | None = None
    """Most recently observed status of the MiniDeployment."""
