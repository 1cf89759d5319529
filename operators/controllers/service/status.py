"""A MiniService's status: what its Service got from the API server, its endpoints, and two conditions.

The printer columns of `kubectl get msvc` are JSONPaths, so the texts `kubectl get svc` computes in Go
(PORT(S), EXTERNAL-IP; ENDPOINTS as `kubectl get endpoints` shows them) are computed here and stored.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from operators.controllers.service.model import (
    ENDPOINT_SLICES_SYNCED,
    SERVICE_SYNCED,
    MiniServiceView,
    ServicePort,
    ServiceSpecView,
)
from operators.controllers.service.slices import EndpointSlice
from operators.kube.objects import ConditionState, set_condition

__all__ = [
    "ConditionState",
    "calculate_status",
    "endpoints_text",
    "external_ip_text",
    "ports_text",
    "selector_text",
]

_MAX_ENDPOINTS_SHOWN = 3  # kubectl's formatEndpoints
_LOAD_BALANCER_WIDTH = 16  # kubectl's loadBalancerWidth


def calculate_status(
    mini: MiniServiceView,
    service: ServiceSpecView | None,
    load_balancer: Mapping[str, Any],
    slices: Sequence[EndpointSlice],
    service_synced: ConditionState,
    slices_synced: ConditionState | None,
    now: datetime.datetime,
    *,
    observed_generation: int | None = None,
) -> dict[str, Any]:
    """The whole status to write. `service` is the owned Service's spec (None while there is none);
    `slices_synced` None keeps that condition as it is (the slices were not looked at);
    `observed_generation` is the generation the sync acted on (default: `mini`'s)."""
    spec = service or mini.spec
    ready = serving = terminating = 0
    for slice_ in slices:
        for endpoint in slice_.endpoints:
            ready += endpoint.conditions.ready is True
            serving += endpoint.conditions.serving is True
            terminating += endpoint.conditions.terminating is True
    conditions = set_condition(mini.conditions, SERVICE_SYNCED, service_synced, now)
    if slices_synced is not None:
        conditions = set_condition(conditions, ENDPOINT_SLICES_SYNCED, slices_synced, now)
    status: dict[str, Any] = {
        "observedGeneration": mini.generation if observed_generation is None else observed_generation,
        "endpoints": {"ready": ready, "serving": serving, "terminating": terminating},
        "portsText": ports_text(spec.ports),
        "externalIPText": external_ip_text(spec, load_balancer),
        "endpointsText": endpoints_text(slices),
        "selectorText": selector_text(mini.match_labels),
        "conditions": [c.to_dict() for c in conditions],
    }
    if service is not None:
        if service.cluster_ip:
            status["clusterIP"] = service.cluster_ip
        if service.cluster_ips:
            status["clusterIPs"] = list(service.cluster_ips)
        if load_balancer:
            status["loadBalancer"] = dict(load_balancer)
    return status


def selector_text(selector: Mapping[str, str]) -> str:
    """labels.FormatLabels: `key=value` pairs sorted by key, joined by commas; `<none>` without a selector."""
    return ",".join(f"{key}={selector[key]}" for key in sorted(selector)) or "<none>"


def ports_text(ports: Sequence[ServicePort]) -> str:
    """makePortString: `80/TCP`, `80:30080/TCP` with a NodePort, joined by commas; `<none>` without ports."""
    pieces = [f"{p.port}:{p.node_port}/{p.protocol}" if p.node_port > 0 else f"{p.port}/{p.protocol}" for p in ports]
    return ",".join(pieces) or "<none>"


def external_ip_text(spec: ServiceSpecView, load_balancer: Mapping[str, Any], *, wide: bool = False) -> str:
    """getServiceExternalIP: externalIPs; for a LoadBalancer its ingress too, or `<pending>` before it has one."""
    if spec.type != "LoadBalancer":
        return ",".join(spec.external_ips) or "<none>"
    lb = _load_balancer_text(load_balancer, wide)
    if spec.external_ips:
        return ",".join([*(lb.split(",") if lb else []), *spec.external_ips])
    return lb or "<pending>"


def _load_balancer_text(load_balancer: Mapping[str, Any], wide: bool) -> str:
    """loadBalancerStatusStringer: the ingress IPs (else hostnames), sorted and unique (a sets.String), and
    clipped to loadBalancerWidth (16) characters, the last three of them `...`, unless wide."""
    ingress = {str(i.get("ip") or i.get("hostname") or "") for i in load_balancer.get("ingress") or ()}
    text = ",".join(sorted(i for i in ingress if i))
    if not wide and len(text) > _LOAD_BALANCER_WIDTH:
        text = text[: _LOAD_BALANCER_WIDTH - 3] + "..."
    return text


def endpoints_text(slices: Sequence[EndpointSlice]) -> str:
    """formatEndpoints of `kubectl get endpoints`: ready `ip:port`s, three at most, `+ N more...`."""
    shown: list[str] = []
    count = 0
    for slice_ in sorted(slices, key=lambda s: s.name):
        addresses = [a for e in slice_.endpoints if e.conditions.ready is not False for a in e.addresses[:1]]
        targets = [None] if not slice_.ports else [p.port for p in slice_.ports]
        for port in targets:
            count += len(addresses)
            for address in addresses:
                if len(shown) < _MAX_ENDPOINTS_SHOWN:
                    shown.append(address if port is None else _join_host_port(address, port))
    if not shown:
        return "<none>"
    text = ",".join(shown)
    return f"{text} + {count - _MAX_ENDPOINTS_SHOWN} more..." if count > _MAX_ENDPOINTS_SHOWN else text


def _join_host_port(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
