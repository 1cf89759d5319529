"""Typed views of a MiniService and of the core/v1 Service it owns: the inputs of the pure logic.

A MiniService's spec is a core/v1 ServiceSpec (less ExternalName), so one `ServiceSpecView` reads both: the
MiniService's spec is what the user asked for, the owned Service's is what the API server made of it
(allocated ClusterIPs and NodePorts, defaulted IP families). The EndpointSlices are the owned Service's,
exactly as the upstream controller writes them for a Service with a selector; the selector is the
MiniService's, since the owned Service has none (SV-01..03).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from operators.kube.objects import Condition, Controllee, OwnerReference, meta_fields
from operators.kube.selectors import LabelSelector, Nothing

__all__ = [
    "API_VERSION",
    "CLUSTER_IP_NONE",
    "CONTROLLER_NAME",
    "ENDPOINT_SLICES_SYNCED",
    "FIELD_MANAGER",
    "KIND",
    "SERVICE_SYNCED",
    "MiniServiceView",
    "ServicePort",
    "ServiceSpecView",
    "ServiceView",
]

API_VERSION = "minik8s.dev/v1"
KIND = "MiniService"
# The managed-by label value of our slices (ES-01, ES-08): the built-in controller's is endpointslice-controller.k8s.io.
CONTROLLER_NAME = "endpointslice.minik8s.dev"
FIELD_MANAGER = "miniservice-controller.minik8s.dev"  # server-side apply of the owned Service (SV-01)
CLUSTER_IP_NONE = "None"

# The condition types the controller writes on a MiniService.
SERVICE_SYNCED = "ServiceSynced"  # the owned Service exists and matches the spec
ENDPOINT_SLICES_SYNCED = "EndpointSlicesSynced"  # the EndpointSlices match the selected pods


@dataclass(frozen=True, slots=True)
class ServicePort:
    """corev1.ServicePort. `target_port` is an int or a port name; 0 means unset (defaults to `port`)."""

    port: int
    protocol: str = "TCP"
    name: str = ""
    target_port: int | str = 0
    node_port: int = 0
    app_protocol: str | None = None

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> ServicePort:
        target = body.get("targetPort")
        app_protocol = body.get("appProtocol")
        return cls(
            port=int(body.get("port") or 0),
            protocol=str(body.get("protocol") or "TCP"),
            name=str(body.get("name") or ""),
            target_port=(target if isinstance(target, str) else int(target or 0)),
            node_port=int(body.get("nodePort") or 0),
            app_protocol=None if app_protocol is None else str(app_protocol),
        )

    @property
    def effective_target_port(self) -> int | str:
        """The target port as the API server defaults it: the service port when unset."""
        return self.target_port if self.target_port not in (0, "") else self.port


@dataclass(frozen=True, slots=True)
class ServiceSpecView:
    """The fields of a ServiceSpec the controller reads (the raw spec stays in `raw` for the owned Service)."""

    type: str = "ClusterIP"
    cluster_ip: str = ""
    cluster_ips: tuple[str, ...] = ()
    ip_families: tuple[str, ...] = ()
    ports: tuple[ServicePort, ...] = ()
    external_ips: tuple[str, ...] = ()
    publish_not_ready_addresses: bool = False
    traffic_distribution: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any] | None) -> ServiceSpecView:
        spec = spec or {}
        traffic = spec.get("trafficDistribution")
        return cls(
            type=str(spec.get("type") or "ClusterIP"),
            cluster_ip=str(spec.get("clusterIP") or ""),
            cluster_ips=tuple(str(ip) for ip in spec.get("clusterIPs") or ()),
            ip_families=tuple(str(f) for f in spec.get("ipFamilies") or ()),
            ports=tuple(ServicePort.from_dict(p) for p in spec.get("ports") or ()),
            external_ips=tuple(str(ip) for ip in spec.get("externalIPs") or ()),
            publish_not_ready_addresses=bool(spec.get("publishNotReadyAddresses", False)),
            traffic_distribution=None if traffic is None else str(traffic),
            raw=dict(spec),
        )

    @property
    def headless(self) -> bool:
        """`clusterIP: None`."""
        return self.cluster_ip == CLUSTER_IP_NONE

    @property
    def ip_set(self) -> bool:
        """isServiceIPSet: a ClusterIP other than None was requested or allocated."""
        return self.cluster_ip not in ("", CLUSTER_IP_NONE)


_SERVICE_META = (
    "namespace",
    "name",
    "uid",
    "resource_version",
    "labels",
    "annotations",
    "owner_references",
    "creation_timestamp",
    "deletion_timestamp",
)


@dataclass(frozen=True, slots=True)
class ServiceView(Controllee):
    """A core/v1 Service: the one a MiniService owns, or a foreign one holding its name."""

    namespace: str
    name: str
    uid: str
    resource_version: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    owner_references: tuple[OwnerReference, ...] = ()
    creation_timestamp: datetime.datetime | None = None
    deletion_timestamp: datetime.datetime | None = None
    spec: ServiceSpecView = ServiceSpecView()
    selector: Mapping[str, str] = field(default_factory=dict)
    load_balancer: Mapping[str, Any] = field(default_factory=dict)  # status.loadBalancer, copied to the MiniService

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> ServiceView:
        spec: Mapping[str, Any] = body.get("spec") or {}
        return cls(
            **meta_fields(body, *_SERVICE_META),
            spec=ServiceSpecView.from_dict(spec),
            selector=dict(spec.get("selector") or {}),
            load_balancer=dict((body.get("status") or {}).get("loadBalancer") or {}),
        )


@dataclass(frozen=True, slots=True)
class MiniServiceView(Controllee):
    """The fields of a MiniService the controller reads: identity, spec, and the status it last wrote."""

    namespace: str
    name: str
    uid: str
    resource_version: str = ""
    generation: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    owner_references: tuple[OwnerReference, ...] = ()
    creation_timestamp: datetime.datetime | None = None
    deletion_timestamp: datetime.datetime | None = None
    spec: ServiceSpecView = ServiceSpecView()
    match_labels: Mapping[str, str] = field(default_factory=dict)
    status: Mapping[str, Any] = field(default_factory=dict)
    observed_generation: int = 0
    conditions: tuple[Condition, ...] = ()

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> MiniServiceView:
        spec: Mapping[str, Any] = body.get("spec") or {}
        status: Mapping[str, Any] = body.get("status") or {}
        return cls(
            **meta_fields(body, *_SERVICE_META, "generation"),
            spec=ServiceSpecView.from_dict(spec),
            match_labels=dict(spec.get("selector") or {}),
            status=dict(status),
            observed_generation=int(status.get("observedGeneration") or 0),
            conditions=tuple(Condition.from_dict(c) for c in status.get("conditions") or ()),
        )

    @property
    def selector(self) -> LabelSelector:
        """The pods it routes to; no selector (or an empty one) selects none: ES-01 skips the Service."""
        return LabelSelector.from_labels(self.match_labels) if self.match_labels else Nothing
