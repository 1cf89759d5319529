"""Frozen views of a Greeting and of a ConfigMap: what the informer caches hold and the pure logic reads.

A controller never computes from the raw JSON in its cache: it reads small typed views that nobody can
mutate by accident (client-go's rule "never mutate an object from the cache", made impossible here).
The views reuse the project's building blocks (`operators.kube.objects`): metadata readers, owner
references, conditions.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from operators.kube.objects import Condition, Controllee, OwnerReference, meta_fields
from operators.kube.resources import Resource

__all__ = ["API_VERSION", "CONFIGMAPS", "GREETINGS", "KIND", "ConfigMapView", "GreetingView"]

API_VERSION = "tutorial.minik8s.dev/v1"
KIND = "Greeting"
GREETINGS = Resource("tutorial.minik8s.dev", "v1", "greetings")
CONFIGMAPS = Resource("", "v1", "configmaps")


# --8<-- [start:greeting-view]
@dataclass(frozen=True, slots=True)
class GreetingView:
    """The fields of a Greeting the controller reads: identity, spec, and the status it last wrote."""

    namespace: str
    name: str
    uid: str
    resource_version: str = ""
    generation: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    deletion_timestamp: datetime.datetime | None = None
    message: str = ""
    repeat: int = 1
    status: Mapping[str, Any] = field(default_factory=dict)  # as stored: compared with the status we want

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> GreetingView:
        """Build the view from a Greeting as the API (or Kopf's watch) delivers it."""
        spec: Mapping[str, Any] = body.get("spec") or {}
        return cls(
            **meta_fields(body, "namespace", "name", "uid", "resource_version", "generation", "labels", "annotations"),
            **meta_fields(body, "deletion_timestamp"),
            message=str(spec.get("message", "")),
            repeat=int(spec.get("repeat") or 1),
            status=dict(body.get("status") or {}),
        )

    # --8<-- [end:greeting-view]

    @property
    def key(self) -> str:
        """The work-queue key, `namespace/name` (cache.MetaNamespaceKeyFunc)."""
        return f"{self.namespace}/{self.name}"

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return tuple(Condition.from_dict(c) for c in self.status.get("conditions") or ())


@dataclass(frozen=True, slots=True)
class ConfigMapView(Controllee):
    """The fields of a ConfigMap the controller reads: identity, labels, its controller, its data."""

    namespace: str
    name: str
    uid: str
    resource_version: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    owner_references: tuple[OwnerReference, ...] = ()
    data: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> ConfigMapView:
        return cls(
            **meta_fields(body, "namespace", "name", "uid", "resource_version", "labels", "owner_references"),
            data=dict(body.get("data") or {}),
        )
