"""discovery/v1 EndpointSlice as frozen views, and the EndpointSet the reconciler places (util/endpointset.go).

The reconciler compares what exists with what is wanted endpoint by endpoint. Two endpoints are "the same
endpoint" when their hash matches — the addresses, the hostname and the pod they point to (hashEndpoint) —
and "unchanged" when everything beyond the hash is equal as well (EndpointsEqualBeyondHash): conditions,
node, zone, target reference.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from operators.kube.objects import Controllee, OwnerReference, meta_fields

__all__ = [
    "ADDRESS_TYPE_IPV4",
    "ADDRESS_TYPE_IPV6",
    "Endpoint",
    "EndpointConditions",
    "EndpointHints",
    "EndpointPort",
    "EndpointSet",
    "EndpointSlice",
    "ObjectReference",
    "PortMapKey",
    "endpoints_equal_beyond_hash",
    "port_map_key",
]

ADDRESS_TYPE_IPV4 = "IPv4"
ADDRESS_TYPE_IPV6 = "IPv6"


@dataclass(frozen=True, slots=True)
class EndpointPort:
    """discovery.EndpointPort. The controller always sets name, port and protocol (Go pointers, never nil)."""

    name: str = ""
    port: int | None = None
    protocol: str = "TCP"
    app_protocol: str | None = None

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> EndpointPort:
        port = body.get("port")
        app_protocol = body.get("appProtocol")
        return cls(
            name=str(body.get("name") or ""),
            port=None if port is None else int(port),
            protocol=str(body.get("protocol") or "TCP"),
            app_protocol=None if app_protocol is None else str(app_protocol),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "protocol": self.protocol}
        if self.port is not None:
            out["port"] = self.port
        if self.app_protocol is not None:
            out["appProtocol"] = self.app_protocol
        return out


PortMapKey = tuple[EndpointPort, ...]


def port_map_key(ports: Iterable[EndpointPort]) -> PortMapKey:
    """NewPortMapKey: the identity of a list of ports regardless of order (slices group by it, ES-06)."""
    return tuple(sorted(ports, key=lambda p: (p.name, p.port or 0, p.protocol, p.app_protocol or "")))


@dataclass(frozen=True, slots=True)
class EndpointConditions:
    """discovery.EndpointConditions (ES-04). None is an unset *bool."""

    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> EndpointConditions:
        return cls(body.get("ready"), body.get("serving"), body.get("terminating"))

    def to_dict(self) -> dict[str, Any]:
        values = {"ready": self.ready, "serving": self.serving, "terminating": self.terminating}
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True, slots=True)
class EndpointHints:
    """discovery.EndpointHints: the zones (and nodes) that should consume this endpoint (ES-12)."""

    for_zones: tuple[str, ...] = ()
    for_nodes: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> EndpointHints:
        return cls(
            tuple(str(z.get("name", "")) for z in body.get("forZones") or ()),
            tuple(str(n.get("name", "")) for n in body.get("forNodes") or ()),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.for_zones:
            out["forZones"] = [{"name": zone} for zone in self.for_zones]
        if self.for_nodes:
            out["forNodes"] = [{"name": node} for node in self.for_nodes]
        return out


@dataclass(frozen=True, slots=True)
class ObjectReference:
    """The corev1.ObjectReference of an endpoint's pod (targetRef)."""

    kind: str = "Pod"
    namespace: str = ""
    name: str = ""
    uid: str = ""

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> ObjectReference:
        return cls(
            str(body.get("kind", "")),
            str(body.get("namespace", "")),
            str(body.get("name", "")),
            str(body.get("uid", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name, "uid": self.uid}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """discovery.Endpoint: one pod's addresses, conditions and topology (ES-04, ES-05)."""

    addresses: tuple[str, ...]
    conditions: EndpointConditions = EndpointConditions()
    hostname: str | None = None
    target_ref: ObjectReference | None = None
    node_name: str | None = None
    zone: str | None = None
    hints: EndpointHints | None = None

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Endpoint:
        target_ref = body.get("targetRef")
        hints = body.get("hints")
        return cls(
            addresses=tuple(str(a) for a in body.get("addresses") or ()),
            conditions=EndpointConditions.from_dict(body.get("conditions") or {}),
            hostname=body.get("hostname"),
            target_ref=None if target_ref is None else ObjectReference.from_dict(target_ref),
            node_name=body.get("nodeName"),
            zone=body.get("zone"),
            hints=None if hints is None else EndpointHints.from_dict(hints),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"addresses": list(self.addresses), "conditions": self.conditions.to_dict()}
        if self.hostname is not None:
            out["hostname"] = self.hostname
        if self.target_ref is not None:
            out["targetRef"] = self.target_ref.to_dict()
        if self.node_name is not None:
            out["nodeName"] = self.node_name
        if self.zone is not None:
            out["zone"] = self.zone
        if self.hints is not None:
            out["hints"] = self.hints.to_dict()
        return out

    @property
    def hash(self) -> tuple[tuple[str, ...], str, str, str]:
        """hashEndpoint: the sorted addresses, the hostname and the pod's namespace and name."""
        ref = self.target_ref
        return (
            tuple(sorted(self.addresses)),
            self.hostname or "",
            ref.namespace if ref is not None else "",
            ref.name if ref is not None else "",
        )


def endpoints_equal_beyond_hash(a: Endpoint, b: Endpoint) -> bool:
    """EndpointsEqualBeyondHash: conditions, node, zone and target reference all equal.

    Hints are not compared, as upstream: the desired endpoints never carry any (they are put on afterwards,
    ES-12), so comparing them would mark every hinted slice as changed and upset the placement (ES-09).
    """
    return (
        a.node_name == b.node_name
        and a.zone == b.zone
        and a.conditions == b.conditions
        and a.target_ref == b.target_ref
    )


@dataclass(frozen=True, slots=True)
class EndpointSlice(Controllee):
    """A discovery/v1 EndpointSlice. A slice to create has no name yet, only `generate_name` (ES-08)."""

    namespace: str
    name: str = ""
    uid: str = ""
    resource_version: str = ""
    generation: int = 0
    generate_name: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    owner_references: tuple[OwnerReference, ...] = ()
    deletion_timestamp: datetime.datetime | None = None
    address_type: str = ADDRESS_TYPE_IPV4
    endpoints: tuple[Endpoint, ...] = ()
    ports: tuple[EndpointPort, ...] = ()

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> EndpointSlice:
        meta = meta_fields(
            body,
            "namespace",
            "name",
            "uid",
            "resource_version",
            "generation",
            "labels",
            "annotations",
            "owner_references",
            "deletion_timestamp",
        )
        return cls(
            **meta,
            generate_name=str((body.get("metadata") or {}).get("generateName") or ""),
            address_type=str(body.get("addressType") or ADDRESS_TYPE_IPV4),
            endpoints=tuple(Endpoint.from_dict(e) for e in body.get("endpoints") or ()),
            ports=tuple(EndpointPort.from_dict(p) for p in body.get("ports") or ()),
        )

    def to_dict(self) -> dict[str, Any]:
        """The body to create (with generateName) or update (with name and resourceVersion) the slice."""
        metadata: dict[str, Any] = {
            "namespace": self.namespace,
            "labels": dict(self.labels),
            "ownerReferences": [ref.to_dict() for ref in self.owner_references],
        }
        if self.annotations:
            metadata["annotations"] = dict(self.annotations)
        if self.name:
            metadata["name"] = self.name
        else:
            metadata["generateName"] = self.generate_name
        if self.resource_version:
            metadata["resourceVersion"] = self.resource_version
        return {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": metadata,
            "addressType": self.address_type,
            "endpoints": [e.to_dict() for e in self.endpoints],
            "ports": [p.to_dict() for p in self.ports],
        }

    def with_endpoints(self, endpoints: Iterable[Endpoint]) -> EndpointSlice:
        return replace(self, endpoints=tuple(endpoints))


class EndpointSet:
    """EndpointSet: desired endpoints by hash; `pop_any` hands them out in a stable (insertion) order."""

    def __init__(self, endpoints: Iterable[Endpoint] = ()) -> None:
        self._items: dict[tuple[tuple[str, ...], str, str, str], Endpoint] = {}
        for endpoint in endpoints:
            self.insert(endpoint)

    def insert(self, endpoint: Endpoint) -> None:
        self._items[endpoint.hash] = endpoint

    def get(self, endpoint: Endpoint) -> Endpoint | None:
        """The desired endpoint with the same hash as `endpoint` (an existing one), if any."""
        return self._items.get(endpoint.hash)

    def delete(self, endpoint: Endpoint) -> None:
        self._items.pop(endpoint.hash, None)

    def pop_any(self) -> Endpoint:
        key = next(iter(self._items))
        return self._items.pop(key)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Endpoint]:
        return iter(list(self._items.values()))
