"""Typed views of a MiniDeployment and of the MiniReplicaSets it owns, the inputs of the pure logic (apps/v1 types.go).

A MiniDeployment mirrors apps/v1 Deployment field for field, so `DeploymentView.from_dict` reads a MiniDeployment
body exactly as the Go controller reads a Deployment, with the apps/v1 defaults applied (DP-05).
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from operators.kube.objects import Condition, format_time, parse_time
from operators.kube.selectors import LabelSelector, Nothing, read_with_selector_error

__all__ = [
    "API_VERSION",
    "DEFAULT_MAX_SURGE",
    "DEFAULT_MAX_UNAVAILABLE",
    "DEFAULT_PROGRESS_DEADLINE_SECONDS",
    "DEFAULT_REVISION_HISTORY_LIMIT",
    "DEPLOYMENT_AVAILABLE",
    "DEPLOYMENT_PROGRESSING",
    "DEPLOYMENT_REPLICA_FAILURE",
    "KIND",
    "RECREATE",
    "ROLLING_UPDATE",
    "DeploymentCondition",
    "DeploymentStatus",
    "DeploymentStrategy",
    "DeploymentView",
    "IntOrString",
]

API_VERSION = "minik8s.dev/v1"
KIND = "MiniDeployment"

# apps.DeploymentStrategyType.
ROLLING_UPDATE = "RollingUpdate"
RECREATE = "Recreate"

# apps.DeploymentConditionType.
DEPLOYMENT_AVAILABLE = "Available"
DEPLOYMENT_PROGRESSING = "Progressing"
DEPLOYMENT_REPLICA_FAILURE = "ReplicaFailure"

# pkg/apis/apps/v1/defaults.go SetDefaults_Deployment (DP-05).
DEFAULT_MAX_SURGE = "25%"
DEFAULT_MAX_UNAVAILABLE = "25%"
DEFAULT_REVISION_HISTORY_LIMIT = 10
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600

# intstr.IntOrString: an absolute number, or a percentage string such as "25%".
IntOrString: TypeAlias = int | str


@dataclass(frozen=True, slots=True)
class DeploymentStrategy:
    """apps.DeploymentStrategy with its RollingUpdate parameters flattened in.

    `max_surge` / `max_unavailable` are None where Go has a nil *IntOrString: always for Recreate, which has no
    rollingUpdate block.
    """

    type: str = ROLLING_UPDATE
    max_surge: IntOrString | None = DEFAULT_MAX_SURGE
    max_unavailable: IntOrString | None = DEFAULT_MAX_UNAVAILABLE

    @classmethod
    def from_dict(cls, body: Mapping[str, Any] | None) -> DeploymentStrategy:
        """Read spec.strategy with SetDefaults_Deployment: RollingUpdate, and 25%/25% for each missing field."""
        body = body or {}
        strategy_type = str(body.get("type") or ROLLING_UPDATE)
        if strategy_type != ROLLING_UPDATE:
            return cls(type=strategy_type, max_surge=None, max_unavailable=None)
        rolling: Mapping[str, Any] = body.get("rollingUpdate") or {}
        surge, unavailable = rolling.get("maxSurge"), rolling.get("maxUnavailable")
        return cls(
            type=strategy_type,
            max_surge=DEFAULT_MAX_SURGE if surge is None else _int_or_string(surge),
            max_unavailable=DEFAULT_MAX_UNAVAILABLE if unavailable is None else _int_or_string(unavailable),
        )


def _int_or_string(value: Any) -> IntOrString:
    """An IntOrString as JSON carries it: a number stays a number, anything else is kept as its string."""
    return value if isinstance(value, int) and not isinstance(value, bool) else str(value)


@dataclass(frozen=True, slots=True)
class DeploymentCondition(Condition):
    """apps.DeploymentCondition: a Condition plus lastUpdateTime, the time of the last progress report (DP-30)."""

    last_update_time: datetime.datetime | None = None

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> DeploymentCondition:
        return cls(**Condition.fields_from(body), last_update_time=parse_time(body.get("lastUpdateTime")))

    def to_dict(self) -> dict[str, Any]:
        out = Condition.to_dict(self)
        if self.last_update_time is not None:
            out["lastUpdateTime"] = format_time(self.last_update_time)
        return out


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    """apps.DeploymentStatus. `terminating_replicas` and `collision_count` are None when unset (*int32 in Go)."""

    observed_generation: int = 0
    replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    unavailable_replicas: int = 0
    terminating_replicas: int | None = None
    collision_count: int | None = None
    conditions: tuple[DeploymentCondition, ...] = ()
    # Not in apps/v1: the selector as a string (the /scale subresource's labelSelectorPath and the -o wide
    # SELECTOR column) and "ready/desired" for the READY column, which kubectl computes for a Deployment and a
    # printer column cannot.
    selector: str = ""
    ready_text: str = ""

    @classmethod
    def from_dict(cls, body: Mapping[str, Any] | None) -> DeploymentStatus:
        body = body or {}
        terminating, collisions = body.get("terminatingReplicas"), body.get("collisionCount")
        return cls(
            observed_generation=int(body.get("observedGeneration") or 0),
            replicas=int(body.get("replicas") or 0),
            updated_replicas=int(body.get("updatedReplicas") or 0),
            ready_replicas=int(body.get("readyReplicas") or 0),
            available_replicas=int(body.get("availableReplicas") or 0),
            unavailable_replicas=int(body.get("unavailableReplicas") or 0),
            terminating_replicas=None if terminating is None else int(terminating),
            collision_count=None if collisions is None else int(collisions),
            conditions=tuple(DeploymentCondition.from_dict(c) for c in body.get("conditions") or ()),
            selector=str(body.get("selector") or ""),
            ready_text=str(body.get("readyText") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        """The status body to write as a JSON merge patch: every field present, an unset pointer as null (removed)."""
        return {
            "observedGeneration": self.observed_generation,
            "replicas": self.replicas,
            "updatedReplicas": self.updated_replicas,
            "readyReplicas": self.ready_replicas,
            "availableReplicas": self.available_replicas,
            "unavailableReplicas": self.unavailable_replicas,
            "terminatingReplicas": self.terminating_replicas,
            "collisionCount": self.collision_count,
            "conditions": [c.to_dict() for c in self.conditions],
            "selector": self.selector or None,
            "readyText": self.ready_text or None,
        }


@dataclass(frozen=True, slots=True)
class DeploymentView:
    """The fields of a MiniDeployment the controller reads: identity, spec, and the current status.

    The defaults are the apps/v1 defaults (DP-05). `progress_deadline_seconds=None` means no deadline and
    `revision_history_limit=None` keeps every old ReplicaSet, as a nil pointer does in Go.
    """

    namespace: str
    name: str
    uid: str
    resource_version: str = ""
    generation: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    deletion_timestamp: datetime.datetime | None = None
    replicas: int = 1
    selector: LabelSelector = Nothing
    template: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the pod template
    strategy: DeploymentStrategy = field(default_factory=DeploymentStrategy)
    min_ready_seconds: int = 0
    revision_history_limit: int | None = DEFAULT_REVISION_HISTORY_LIMIT
    progress_deadline_seconds: int | None = DEFAULT_PROGRESS_DEADLINE_SECONDS
    paused: bool = False
    status: DeploymentStatus = field(default_factory=DeploymentStatus)
    selector_error: str = ""  # why spec.selector is invalid; the selector is then Nothing
    # spec.selector as written: the new ReplicaSet's selector is this plus the pod-template-hash label (DP-08).
    selector_spec: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> str:
        """The work-queue key, `namespace/name` (cache.MetaNamespaceKeyFunc)."""
        return f"{self.namespace}/{self.name}"

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> DeploymentView:
        """Read a MiniDeployment body; an invalid selector becomes Nothing plus `selector_error` instead of raising."""
        return read_with_selector_error(cls.from_dict, body)

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> DeploymentView:
        """Read a MiniDeployment body with the apps/v1 defaults; raises InvalidSelectorError on a bad selector."""
        metadata: Mapping[str, Any] = body.get("metadata") or {}
        spec: Mapping[str, Any] = body.get("spec") or {}
        replicas = spec.get("replicas")
        history = spec.get("revisionHistoryLimit")
        deadline = spec.get("progressDeadlineSeconds")
        return cls(
            namespace=str(metadata.get("namespace", "")),
            name=str(metadata.get("name", "")),
            uid=str(metadata.get("uid", "")),
            resource_version=str(metadata.get("resourceVersion", "")),
            generation=int(metadata.get("generation") or 0),
            labels=dict(metadata.get("labels") or {}),
            annotations=dict(metadata.get("annotations") or {}),
            deletion_timestamp=parse_time(metadata.get("deletionTimestamp")),
            replicas=1 if replicas is None else int(replicas),
            selector=LabelSelector.parse(spec.get("selector")),
            template=copy.deepcopy(dict(spec.get("template") or {})),  # never share the watch's dicts
            strategy=DeploymentStrategy.from_dict(spec.get("strategy")),
            min_ready_seconds=int(spec.get("minReadySeconds") or 0),
            revision_history_limit=DEFAULT_REVISION_HISTORY_LIMIT if history is None else int(history),
            progress_deadline_seconds=DEFAULT_PROGRESS_DEADLINE_SECONDS if deadline is None else int(deadline),
            paused=bool(spec.get("paused", False)),
            status=DeploymentStatus.from_dict(body.get("status")),
            selector_spec=copy.deepcopy(dict(spec.get("selector") or {})),
        )
