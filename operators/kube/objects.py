"""Frozen views of the object fields controllers read: metadata, owner references, pods and nodes.

Controllers keep these views in their caches instead of whole API objects: they are typed, hashable,
small, and cannot be mutated by accident (the Go controllers' "never mutate the cache" rule).
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

__all__ = [
    "Condition",
    "ConditionState",
    "ContainerPort",
    "Controllee",
    "NamespaceView",
    "Node",
    "OwnerReference",
    "Pod",
    "format_time",
    "meta_fields",
    "milli_value",
    "parse_time",
    "set_condition",
    "status_only_change",
]

DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
_DELETION_COST = re.compile(r"0|-[0-9]+|[1-9][0-9]*", re.ASCII)


def parse_time(value: str | None) -> datetime.datetime | None:
    """Parse an RFC 3339 timestamp as the API server writes it (`2026-01-02T03:04:05Z`)."""
    if not value:
        return None
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def format_time(value: datetime.datetime) -> str:
    """Format a time as metav1.Time serialises it: RFC 3339 in UTC, whole seconds (`2026-01-02T03:04:05Z`)."""
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition of a workload's status, as a controller reads and writes it (apps Condition).

    The CRD schema of the same thing is `operators.api.meta.Condition` (a pydantic model: what the API
    server validates); this frozen view is what the pure logic computes with.
    """

    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_transition_time: datetime.datetime | None = None

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Condition:
        return cls(**cls.fields_from(body))

    @staticmethod
    def fields_from(body: Mapping[str, Any]) -> dict[str, Any]:
        """The common fields of a condition body, for `from_dict` here and in kinds that add fields."""
        return {
            "type": str(body.get("type", "")),
            "status": str(body.get("status", "")),
            "reason": str(body.get("reason") or ""),
            "message": str(body.get("message") or ""),
            "last_transition_time": parse_time(body.get("lastTransitionTime")),
        }

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "status": self.status}
        if self.last_transition_time is not None:
            out["lastTransitionTime"] = format_time(self.last_transition_time)
        if self.reason:
            out["reason"] = self.reason
        if self.message:
            out["message"] = self.message
        return out


# How each common metadata field of a view is read from an object's `metadata`.
_META_READERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "namespace": lambda m: str(m.get("namespace", "")),
    "name": lambda m: str(m.get("name", "")),
    "uid": lambda m: str(m.get("uid", "")),
    "resource_version": lambda m: str(m.get("resourceVersion", "")),
    "generation": lambda m: int(m.get("generation") or 0),
    "labels": lambda m: dict(m.get("labels") or {}),
    "annotations": lambda m: dict(m.get("annotations") or {}),
    "owner_references": lambda m: tuple(OwnerReference.from_dict(r) for r in m.get("ownerReferences") or ()),
    "creation_timestamp": lambda m: parse_time(m.get("creationTimestamp")),
    "deletion_timestamp": lambda m: parse_time(m.get("deletionTimestamp")),
}


def meta_fields(body: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The named metadata fields of a view (`namespace`, `uid`, `labels`, …) read from an object, as keyword
    arguments: `cls(**meta_fields(body, "namespace", "name", "uid"), spec=…)`."""
    metadata: Mapping[str, Any] = body.get("metadata") or {}
    return {name: _META_READERS[name](metadata) for name in names}


@dataclass(frozen=True, slots=True)
class ConditionState:
    """What a sync found for one condition: True, or False, with a reason and a message."""

    ok: bool
    reason: str
    message: str = ""


def set_condition(
    conditions: Sequence[Condition], type_: str, state: ConditionState, now: datetime.datetime
) -> tuple[Condition, ...]:
    """Set one condition, in place in the list; its lastTransitionTime moves only when its status does."""
    status = "True" if state.ok else "False"
    current = next((c for c in conditions if c.type == type_), None)
    since = current.last_transition_time if current is not None and current.status == status else now
    updated = Condition(type_, status, state.reason, state.message, since)
    if current is None:
        return (*conditions, updated)
    return tuple(updated if c.type == type_ else c for c in conditions)


class _Versioned(Protocol):
    """What a view of a custom resource shows of its metadata (generation: its spec's version)."""

    @property
    def uid(self) -> str: ...

    @property
    def generation(self) -> int: ...

    @property
    def labels(self) -> Mapping[str, str]: ...

    @property
    def annotations(self) -> Mapping[str, str]: ...

    @property
    def deletion_timestamp(self) -> datetime.datetime | None: ...


def status_only_change(old: _Versioned, new: _Versioned) -> bool:
    """An update of the status alone (a controller's own status write, coming back through the watch): the
    same object, generation, labels, annotations and deletion state, so nothing a sync reads changed."""
    return (
        old.uid == new.uid
        and old.generation == new.generation
        and old.labels == new.labels
        and old.annotations == new.annotations
        and old.deletion_timestamp == new.deletion_timestamp
    )


@dataclass(frozen=True, slots=True)
class OwnerReference:
    """metav1.OwnerReference."""

    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool = False
    block_owner_deletion: bool = False

    @classmethod
    def from_dict(cls, ref: Mapping[str, Any]) -> OwnerReference:
        return cls(
            api_version=str(ref.get("apiVersion", "")),
            kind=str(ref.get("kind", "")),
            name=str(ref.get("name", "")),
            uid=str(ref.get("uid", "")),
            controller=bool(ref.get("controller", False)),
            block_owner_deletion=bool(ref.get("blockOwnerDeletion", False)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": self.controller,
            "blockOwnerDeletion": self.block_owner_deletion,
        }


class Controllee:
    """What every view of an object that a controller may own offers: its queue key and its controller.

    A mixin for the frozen view dataclasses (Pod, and the views of the Mini kinds) that declare these fields.
    """

    __slots__ = ()
    namespace: str
    name: str
    owner_references: tuple[OwnerReference, ...]

    @property
    def key(self) -> str:
        """The work-queue and expectations key, `namespace/name` (cache.MetaNamespaceKeyFunc)."""
        return f"{self.namespace}/{self.name}"

    @property
    def controller_ref(self) -> OwnerReference | None:
        """metav1.GetControllerOf: the owner reference with controller=true, if any."""
        return next((ref for ref in self.owner_references if ref.controller), None)


@dataclass(frozen=True, slots=True)
class ContainerPort:
    """corev1.ContainerPort (the fields Services and NetworkPolicies resolve named ports against)."""

    container_port: int
    protocol: str = "TCP"
    name: str = ""


@dataclass(frozen=True, slots=True)
class Pod(Controllee):
    """The fields of a corev1.Pod that the workload, endpoint and policy controllers read."""

    namespace: str
    name: str
    uid: str
    resource_version: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    owner_references: tuple[OwnerReference, ...] = ()
    creation_timestamp: datetime.datetime | None = None
    deletion_timestamp: datetime.datetime | None = None
    node_name: str = ""
    phase: str = ""
    ready: bool = False
    ready_since: datetime.datetime | None = None
    restart_count: int = 0  # the highest restartCount of the regular containers
    sidecar_restart_count: int = 0  # the highest of the restartable init containers (sidecars)
    pod_ips: tuple[str, ...] = ()
    ports: tuple[ContainerPort, ...] = ()
    hostname: str = ""
    subdomain: str = ""
    sidecar_ports: tuple[ContainerPort, ...] = ()  # of restartable init containers (sidecars)
    ready_transition_time: datetime.datetime | None = None  # of the Ready condition, whatever its status

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Pod:
        """Build the view from a pod as the API returns it (a dict, or a Kopf body)."""
        metadata: Mapping[str, Any] = body.get("metadata") or {}
        spec: Mapping[str, Any] = body.get("spec") or {}
        status: Mapping[str, Any] = body.get("status") or {}
        ready_condition = next(
            (c for c in status.get("conditions") or () if c.get("type") == "Ready"),
            None,
        )
        ready = ready_condition is not None and ready_condition.get("status") == "True"
        restarts = [int(s.get("restartCount", 0)) for s in status.get("containerStatuses") or ()]
        sidecars = {c.get("name") for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"}
        sidecar_restarts = [
            int(s.get("restartCount", 0))
            for s in status.get("initContainerStatuses") or ()
            if s.get("name") in sidecars
        ]
        pod_ips = tuple(p["ip"] for p in status.get("podIPs") or () if p.get("ip"))
        if not pod_ips and status.get("podIP"):
            pod_ips = (str(status["podIP"]),)
        ports = _container_ports(spec.get("containers") or ())
        sidecar_ports = _container_ports(c for c in spec.get("initContainers") or () if c.get("name") in sidecars)
        return cls(
            namespace=str(metadata.get("namespace", "")),
            name=str(metadata.get("name", "")),
            uid=str(metadata.get("uid", "")),
            resource_version=str(metadata.get("resourceVersion", "")),
            labels=dict(metadata.get("labels") or {}),
            annotations=dict(metadata.get("annotations") or {}),
            owner_references=tuple(OwnerReference.from_dict(ref) for ref in metadata.get("ownerReferences") or ()),
            creation_timestamp=parse_time(metadata.get("creationTimestamp")),
            deletion_timestamp=parse_time(metadata.get("deletionTimestamp")),
            node_name=str(spec.get("nodeName") or ""),
            phase=str(status.get("phase") or ""),
            ready=ready,
            ready_since=parse_time(ready_condition.get("lastTransitionTime")) if ready and ready_condition else None,
            restart_count=max(restarts, default=0),
            sidecar_restart_count=max(sidecar_restarts, default=0),
            pod_ips=pod_ips,
            ports=ports,
            hostname=str(spec.get("hostname") or ""),
            subdomain=str(spec.get("subdomain") or ""),
            sidecar_ports=sidecar_ports,
            ready_transition_time=parse_time(ready_condition.get("lastTransitionTime")) if ready_condition else None,
        )

    @property
    def deletion_cost(self) -> int:
        """The pod-deletion-cost annotation (RS-12 (4)); absent or invalid counts as 0, as upstream."""
        raw = self.annotations.get(DELETION_COST_ANNOTATION)
        # GetDeletionCostFromPodAnnotations: validFirstDigit (no "+", no leading zeros), then ParseInt(…, 10, 32).
        if raw is None or not _DELETION_COST.fullmatch(raw):
            return 0
        value = int(raw)
        return value if -(2**31) <= value < 2**31 else 0


def _container_ports(containers: Iterable[Mapping[str, Any]]) -> tuple[ContainerPort, ...]:
    return tuple(
        ContainerPort(
            container_port=int(p.get("containerPort", 0)),
            protocol=str(p.get("protocol") or "TCP"),
            name=str(p.get("name") or ""),
        )
        for container in containers
        for p in container.get("ports") or ()
    )


ZONE_LABEL = "topology.kubernetes.io/zone"
# hasExcludedLabels (topologycache, ES-12): nodes with either label, whatever its value, are control-plane nodes.
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")

# resource.Quantity: a signed decimal number, then an exponent (`e3`) or a suffix, decimal SI or binary.
_QUANTITY = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:[eE]([+-]?[0-9]+)|([a-zA-Z]*))")
_QUANTITY_SUFFIXES: dict[str, Fraction] = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    **{suffix: Fraction(2 ** (10 * power)) for power, suffix in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"), 1)},
}


def milli_value(quantity: object) -> int:
    """resource.Quantity's MilliValue: `"32"` is 32000, `"500m"` 500, `"1.5"` 1500, rounded up as Go rounds.

    A value that does not parse counts as 0 (the API server never stores one; Go would fail to decode it).
    """
    match = _QUANTITY.fullmatch(str(quantity).strip()) if quantity is not None else None
    if match is None:
        return 0
    number, exponent, suffix = match.groups()
    if exponent is not None:
        scale = Fraction(10) ** int(exponent)
    elif suffix in _QUANTITY_SUFFIXES:
        scale = _QUANTITY_SUFFIXES[suffix]
    else:
        return 0
    return math.ceil(Fraction(number) * scale * 1000)


@dataclass(frozen=True, slots=True)
class Node:
    """The fields of a corev1.Node that the endpoint and policy controllers read (a cluster-scoped object).

    `allocatable_cpu_millis` is status.allocatable.cpu in millicores (0 when absent): the topology cache
    weighs zones by it (ES-12).
    """

    name: str
    uid: str
    resource_version: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    ready: bool = False
    allocatable_cpu_millis: int = 0
    addresses: tuple[str, ...] = ()  # its InternalIP and ExternalIP addresses (NP-12: the node itself)

    namespace = ""  # cluster-scoped: the informer files it under the empty namespace

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Node:
        metadata: Mapping[str, Any] = body.get("metadata") or {}
        status: Mapping[str, Any] = body.get("status") or {}
        conditions = status.get("conditions") or ()
        allocatable: Mapping[str, Any] = status.get("allocatable") or {}
        return cls(
            name=str(metadata.get("name", "")),
            uid=str(metadata.get("uid", "")),
            resource_version=str(metadata.get("resourceVersion", "")),
            labels=dict(metadata.get("labels") or {}),
            ready=any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions),
            addresses=tuple(
                str(a.get("address"))
                for a in (body.get("status") or {}).get("addresses") or ()
                if a.get("type") in ("InternalIP", "ExternalIP") and a.get("address")
            ),
            allocatable_cpu_millis=milli_value(allocatable.get("cpu")),
        )

    @property
    def zone(self) -> str:
        """The node's `topology.kubernetes.io/zone` label, or "" (EndpointSlice `zone`)."""
        return self.labels.get(ZONE_LABEL, "")

    @property
    def control_plane(self) -> bool:
        """hasExcludedLabels: a control-plane (or, the old name, master) node; its CPU serves no endpoints."""
        return any(label in self.labels for label in CONTROL_PLANE_LABELS)


@dataclass(frozen=True, slots=True)
class NamespaceView:
    """The fields of a corev1.Namespace a policy's namespaceSelector reads (a cluster-scoped object)."""

    name: str
    uid: str
    resource_version: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    namespace = ""  # cluster-scoped: the informer files it under the empty namespace

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> NamespaceView:
        metadata: Mapping[str, Any] = body.get("metadata") or {}
        return cls(
            name=str(metadata.get("name", "")),
            uid=str(metadata.get("uid", "")),
            resource_version=str(metadata.get("resourceVersion", "")),
            labels=dict(metadata.get("labels") or {}),
        )
