"""Typed views of a MiniNetworkPolicy and of the networking/v1 NetworkPolicy that mirrors it.

The spec stays as the API server returned it (`spec`): the policy engine (operators/networkpolicy) parses
it, with its NP-xx semantics, when the controller computes the status; the cache only needs the pod
selector, to find the policies a pod change concerns.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from operators.kube.objects import Condition, Controllee, OwnerReference, meta_fields
from operators.kube.selectors import InvalidSelectorError, LabelSelector, Nothing

__all__ = [
    "ACCEPTED",
    "API_VERSION",
    "FIELD_MANAGER",
    "KIND",
    "MIRRORED",
    "MIRRORED_FROM_LABEL",
    "MiniNetworkPolicyView",
    "NativePolicyView",
]

API_VERSION = "minik8s.dev/v1"
KIND = "MiniNetworkPolicy"
FIELD_MANAGER = "mininetworkpolicy-controller.minik8s.dev"  # server-side apply of the mirrored NetworkPolicy
MIRRORED_FROM_LABEL = "minik8s.dev/mirrored-from"  # on each mirrored NetworkPolicy: `kubectl get netpol -l …`

# The condition types the controller writes.
ACCEPTED = "Accepted"  # the engine accepts the policy (with a warning reason when a named port is unresolved)
MIRRORED = "Mirrored"  # --mirror-native: the NetworkPolicy of the same name matches the spec


_META = ("namespace", "name", "uid", "resource_version", "labels", "annotations", "owner_references")


@dataclass(frozen=True, slots=True)
class MiniNetworkPolicyView(Controllee):
    """The fields of a MiniNetworkPolicy the controller reads."""

    namespace: str
    name: str
    uid: str
    resource_version: str = ""
    generation: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    owner_references: tuple[OwnerReference, ...] = ()
    deletion_timestamp: datetime.datetime | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)
    selector: LabelSelector = Nothing  # spec.podSelector; Nothing while it cannot be parsed
    status: Mapping[str, Any] = field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> MiniNetworkPolicyView:
        spec: Mapping[str, Any] = body.get("spec") or {}
        status: Mapping[str, Any] = body.get("status") or {}
        try:
            selector = LabelSelector.parse(spec.get("podSelector"))
        except InvalidSelectorError:
            selector = Nothing  # the status says why (the engine refuses the policy)
        return cls(
            **meta_fields(body, *_META, "generation", "deletion_timestamp"),
            spec=dict(spec),
            selector=selector,
            status=dict(status),
            conditions=tuple(Condition.from_dict(c) for c in status.get("conditions") or ()),
        )

    @property
    def body(self) -> dict[str, Any]:
        """The policy as the engine parses it."""
        metadata = {"namespace": self.namespace, "name": self.name}
        return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": dict(self.spec)}

    @property
    def named_egress_ports(self) -> bool:
        """Whether an egress rule names a port: then pods in other namespaces matter to the status."""
        return any(
            isinstance(port.get("port"), str)
            for rule in self.spec.get("egress") or ()
            for port in (rule or {}).get("ports") or ()
        )


@dataclass(frozen=True, slots=True)
class NativePolicyView(Controllee):
    """A networking/v1 NetworkPolicy: the mirror of a MiniNetworkPolicy, or a foreign one holding its name."""

    namespace: str
    name: str
    uid: str
    resource_version: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    owner_references: tuple[OwnerReference, ...] = ()
    spec: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> NativePolicyView:
        return cls(**meta_fields(body, *_META), spec=dict(body.get("spec") or {}))

    @property
    def observed(self) -> dict[str, Any]:
        """The object as `kube.applied.up_to_date` compares it."""
        return {"metadata": {"labels": self.labels, "annotations": self.annotations}, "spec": self.spec}
