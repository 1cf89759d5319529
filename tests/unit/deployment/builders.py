"""The fixtures of upstream's deployment controller tests (deployment_controller_test.go, progress_test.go), as views.

test_dp_util.py has the fixtures of deployment_util_test.go (generateDeployment, generateRS); the controller tests
build their objects differently, and their tables only hold with these shapes: `rs()` has an empty pod template
and no UID, `new_deployment()` has maxSurge = maxUnavailable = 0 and no progress deadline or history limit (the
unit tests build Go structs, which nothing defaults), `current_deployment()` is a Recreate Deployment.
UIDs that upstream draws from uuid.NewUUID() are derived from the name here, so that runs are deterministic.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from operators.controllers.deployment.model import (
    API_VERSION,
    KIND,
    RECREATE,
    ROLLING_UPDATE,
    DeploymentCondition,
    DeploymentStatus,
    DeploymentStrategy,
    DeploymentView,
    IntOrString,
)
from operators.controllers.deployment.util import max_surge, set_replicas_annotations
from operators.controllers.replicaset.model import ReplicaSetStatus, ReplicaSetView
from operators.kube.objects import OwnerReference
from operators.kube.selectors import LabelSelector

__all__ = [
    "annotated_as_scaled_by",
    "current_deployment",
    "new_deployment",
    "new_deployment_status",
    "new_replica_set",
    "new_rs_with_available",
    "new_rs_with_status",
    "rs",
    "utc",
    "with_replicas_annotations",
]


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0
) -> datetime.datetime:
    """metav1.Date(..., time.UTC), to the microsecond (Go's has nanoseconds)."""
    return datetime.datetime(year, month, day, hour, minute, second, microsecond, tzinfo=datetime.UTC)


def _selector(labels: Mapping[str, str] | None) -> tuple[LabelSelector, dict[str, Any]]:
    """&metav1.LabelSelector{MatchLabels: labels}, parsed and as written."""
    spec: dict[str, Any] = {"matchLabels": dict(labels or {})}
    return LabelSelector.parse(spec), spec


def rs(
    name: str,
    replicas: int,
    selector: Mapping[str, str] | None = None,
    timestamp: datetime.datetime | None = None,
    **changes: Any,
) -> ReplicaSetView:
    """rs(): a ReplicaSet in namespace default with an empty template, no UID, no annotations and no status."""
    view = ReplicaSetView(
        namespace="default",
        name=name,
        uid="",
        replicas=replicas,
        selector=_selector(selector)[0],
        creation_timestamp=timestamp,
    )
    return dataclasses.replace(view, **changes)


def new_rs_with_status(
    name: str, spec_replicas: int, status_replicas: int, selector: Mapping[str, str] | None = None, **changes: Any
) -> ReplicaSetView:
    """newRSWithStatus: rs() with no timestamp and status.replicas set."""
    return rs(name, spec_replicas, selector, None, status=ReplicaSetStatus(replicas=status_replicas), **changes)


def new_rs_with_available(
    name: str, spec_replicas: int, status_replicas: int, available_replicas: int
) -> ReplicaSetView:
    """newRSWithAvailable (progress_test.go): rs() with status.replicas and status.availableReplicas."""
    status = ReplicaSetStatus(replicas=status_replicas, available_replicas=available_replicas)
    return rs(name, spec_replicas, status=status)


def new_deployment(
    name: str,
    replicas: int,
    revision_history_limit: int | None = None,
    max_surge_: IntOrString | None = None,
    max_unavailable: IntOrString | None = None,
    selector: Mapping[str, str] | None = None,
    **changes: Any,
) -> DeploymentView:
    """newDeployment: RollingUpdate with maxSurge and maxUnavailable 0 unless given; template labels = selector."""
    parsed, spec = _selector(selector)
    view = DeploymentView(
        namespace="default",
        name=name,
        uid=f"{name}-uid",
        replicas=replicas,
        selector=parsed,
        selector_spec=spec,
        template={"metadata": {"labels": dict(selector or {})}, "spec": {"containers": [{"image": "foo/bar"}]}},
        strategy=DeploymentStrategy(
            ROLLING_UPDATE,
            max_surge=0 if max_surge_ is None else max_surge_,
            max_unavailable=0 if max_unavailable is None else max_unavailable,
        ),
        revision_history_limit=revision_history_limit,
        progress_deadline_seconds=None,
    )
    return dataclasses.replace(view, **changes)


def new_replica_set(d: DeploymentView, name: str, replicas: int, **changes: Any) -> ReplicaSetView:
    """newReplicaSet: the Deployment's selector, labels and template, and a controller reference to it."""
    labels = dict(d.selector_spec.get("matchLabels") or {})
    owner = OwnerReference(API_VERSION, KIND, d.name, d.uid, controller=True, block_owner_deletion=True)
    view = ReplicaSetView(
        namespace="default",
        name=name,
        uid=f"{name}-uid",
        replicas=replicas,
        selector=d.selector,
        labels=labels,
        template_labels=dict(d.template.get("metadata", {}).get("labels") or {}),
        template=d.template,
        owner_references=(owner,),
    )
    return dataclasses.replace(view, **changes)


def new_deployment_status(replicas: int, updated_replicas: int, available_replicas: int) -> DeploymentStatus:
    """newDeploymentStatus (progress_test.go)."""
    return DeploymentStatus(replicas=replicas, updated_replicas=updated_replicas, available_replicas=available_replicas)


def current_deployment(
    pds: int | None,
    replicas: int,
    status_replicas: int,
    updated_replicas: int,
    available_replicas: int,
    conditions: Sequence[DeploymentCondition] = (),
) -> DeploymentView:
    """currentDeployment (progress_test.go): a Recreate Deployment "progress-test" with that status (generation 0)."""
    status = dataclasses.replace(
        new_deployment_status(status_replicas, updated_replicas, available_replicas), conditions=tuple(conditions)
    )
    return DeploymentView(
        namespace="",
        name="progress-test",
        uid="progress-test-uid",
        replicas=replicas,
        strategy=DeploymentStrategy(RECREATE, None, None),
        revision_history_limit=None,
        progress_deadline_seconds=pds,
        status=status,
    )


def with_replicas_annotations(rs_: ReplicaSetView, desired: int, maximum: int) -> ReplicaSetView:
    """deploymentutil.SetReplicasAnnotations on a test's ReplicaSet."""
    annotations, _ = set_replicas_annotations(rs_.annotations, desired, maximum)
    return dataclasses.replace(rs_, annotations=annotations)


def annotated_as_scaled_by(rs_: ReplicaSetView, d: DeploymentView, desired: int | None = None) -> ReplicaSetView:
    """TestScale's setup: the annotations as `d` (or `desired`) left them: desired, desired + MaxSurge(d)."""
    replicas = d.replicas if desired is None else desired
    return with_replicas_annotations(rs_, replicas, replicas + max_surge(d))
