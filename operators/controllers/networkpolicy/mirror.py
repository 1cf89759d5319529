"""--mirror-native: the networking/v1 NetworkPolicy that mirrors a MiniNetworkPolicy, for clusters that enforce them.

On kind, kindnet enforces NetworkPolicies; our own enforcement is the dataplane's. With the flag, each
MiniNetworkPolicy owns a NetworkPolicy of the same name and spec, server-side applied and kept equal
(`kube.applied`), garbage-collected with it, and labelled `minik8s.dev/mirrored-from=<name>`. A
NetworkPolicy of that name that someone else made is never taken over: the Mirrored condition says so.
"""

from __future__ import annotations

from typing import Any

from operators.controllers.networkpolicy.model import (
    API_VERSION,
    KIND,
    MIRRORED_FROM_LABEL,
    MiniNetworkPolicyView,
    NativePolicyView,
)
from operators.kube import applied
from operators.kube.objects import OwnerReference

__all__ = ["desired_native_policy", "foreign_message", "is_mirror_of"]


def desired_native_policy(view: MiniNetworkPolicyView) -> dict[str, Any]:
    """The apply configuration of the mirror: the same spec, the owner's labels and annotations."""
    owner = OwnerReference(API_VERSION, KIND, view.name, view.uid, controller=True, block_owner_deletion=True)
    return applied.stamp(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {
                "name": view.name,
                "namespace": view.namespace,
                "labels": {**view.labels, MIRRORED_FROM_LABEL: view.name},
                "annotations": applied.copied_annotations(view.annotations),
                "ownerReferences": [owner.to_dict()],
            },
            "spec": dict(view.spec),
        }
    )


def is_mirror_of(native: NativePolicyView, view: MiniNetworkPolicyView) -> bool:
    """The NetworkPolicy's controller is this MiniNetworkPolicy (by UID: not a deleted namesake's)."""
    ref = native.controller_ref
    return ref is not None and ref.kind == KIND and ref.api_version == API_VERSION and ref.uid == view.uid


def foreign_message(native: NativePolicyView, view: MiniNetworkPolicyView) -> str:
    """Why the NetworkPolicy of this name is not ours to manage."""
    ref = native.controller_ref
    holder = f"is controlled by {ref.kind} {ref.name!r}" if ref is not None else "is not controlled by this policy"
    return f"NetworkPolicy {view.name!r} already exists and {holder}: it will not be taken over"
