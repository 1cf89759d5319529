"""The minik8s.dev/v1 API: pydantic models of every kind, the single source of truth for crds/*.yaml."""

from __future__ import annotations

from operators.api.crdinfo import GROUP, VERSION, CRDInfo
from operators.api.deployment import MiniDeployment, MiniDeploymentSpec, MiniDeploymentStatus
from operators.api.meta import CustomResource
from operators.api.networkpolicy import MiniNetworkPolicy, MiniNetworkPolicySpec, MiniNetworkPolicyStatus
from operators.api.replicaset import MiniReplicaSet, MiniReplicaSetSpec, MiniReplicaSetStatus
from operators.api.service import MiniService, MiniServiceSpec, MiniServiceStatus

__all__ = [
    "GROUP",
    "KINDS",
    "VERSION",
    "CRDInfo",
    "CustomResource",
    "MiniDeployment",
    "MiniDeploymentSpec",
    "MiniDeploymentStatus",
    "MiniNetworkPolicy",
    "MiniNetworkPolicySpec",
    "MiniNetworkPolicyStatus",
    "MiniReplicaSet",
    "MiniReplicaSetSpec",
    "MiniReplicaSetStatus",
    "MiniService",
    "MiniServiceSpec",
    "MiniServiceStatus",
]

KINDS: tuple[type[CustomResource], ...] = (MiniReplicaSet, MiniDeployment, MiniService, MiniNetworkPolicy)
"""Every kind the operators serve; `python -m operators.api.crdgen` writes one CRD for each.
To add a kind: write its root model (a CustomResource with a `crd` CRDInfo) in its own module, then
list it here and regenerate crds/."""
