"""The core/v1 Service a MiniService owns (SV-01..SV-03): what it should be, and whether it is.

The API server allocates ClusterIPs and NodePorts and kube-proxy routes the Service; it has no selector, so
the built-in EndpointSlice controller leaves it alone and the EndpointSlices are ours to write. The
controller server-side applies `desired_service()` with its own field manager: fields it stops setting are
removed, fields the API server allocated are kept. `up_to_date()` decides whether an apply is needed at
all, so a sync triggered by a pod does not write the Service.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from operators.controllers.service.model import API_VERSION, CLUSTER_IP_NONE, KIND, MiniServiceView, ServiceView
from operators.kube.objects import OwnerReference

__all__ = ["APPLIED_HASH_ANNOTATION", "desired_service", "foreign_message", "is_owned_by", "up_to_date"]

# The hash of the configuration last applied: a MiniService edit that removes a field is seen as a change.
APPLIED_HASH_ANNOTATION = "minik8s.dev/applied-configuration-hash"
# Annotations of the MiniService that are about the MiniService itself, not its Service.
_NOT_COPIED_PREFIXES = ("kubectl.kubernetes.io/last-applied-configuration", "kopf.zalando.org/")


def desired_service(mini: MiniServiceView) -> dict[str, Any]:
    """The apply configuration of the owned Service: the MiniService's spec less its selector (SV-01).

    A selector-less headless Service is defaulted by the API server to RequireDualStack with both IP
    families, where a Service with a selector gets SingleStack: when the user chose no policy, the
    controller asks for SingleStack, so that the Service comes out as the one with a selector would.
    """
    spec = {key: value for key, value in mini.spec.raw.items() if key != "selector"}
    if spec.get("clusterIP") == CLUSTER_IP_NONE and "ipFamilyPolicy" not in spec:
        spec["ipFamilyPolicy"] = "SingleStack"
    # What the Service's own defaulting would rewrite is left for it to write: a targetPort of 0 or "" (the
    # port), a sessionAffinityConfig without ClientIP affinity (dropped). Sent as is, it would never read back.
    spec["ports"] = [_without_empty_target(port) for port in spec.get("ports") or ()]
    if not spec["ports"]:
        del spec["ports"]
    if spec.get("sessionAffinity") != "ClientIP":
        spec.pop("sessionAffinityConfig", None)
    annotations = {k: v for k, v in mini.annotations.items() if not k.startswith(_NOT_COPIED_PREFIXES)}
    owner = OwnerReference(API_VERSION, KIND, mini.name, mini.uid, controller=True, block_owner_deletion=True)
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": mini.name,
            "namespace": mini.namespace,
            "labels": dict(mini.labels),
            "annotations": annotations,
            "ownerReferences": [owner.to_dict()],
        },
        "spec": spec,
    }
    body["metadata"]["annotations"] = {**annotations, APPLIED_HASH_ANNOTATION: _hash(body)}
    return body


def _without_empty_target(port: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in port.items() if not (k == "targetPort" and v in (0, ""))}


def _hash(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def is_owned_by(service: ServiceView, mini: MiniServiceView) -> bool:
    """The Service's controller is this MiniService (by UID: not a deleted namesake's)."""
    ref = service.controller_ref
    return ref is not None and ref.kind == KIND and ref.api_version == API_VERSION and ref.uid == mini.uid


def foreign_message(service: ServiceView, mini: MiniServiceView) -> str:
    """Why the Service of this name is not ours to manage (SV-01: never taken over)."""
    ref = service.controller_ref
    holder = f"is controlled by {ref.kind} {ref.name!r}" if ref is not None else "is not controlled by this MiniService"
    return f"Service {mini.name!r} already exists and {holder}: the MiniService will not take it over"


def up_to_date(desired: Mapping[str, Any], service: ServiceView) -> bool:
    """No apply needed: the last applied configuration is this one, and every field it sets still has
    its value (someone's edit of the Service is reverted), and nobody gave the Service a selector.

    Fields the configuration leaves out are not compared: the API server's defaults and allocations
    (clusterIP, nodePort, ipFamilies, …) are its own.
    """
    metadata = desired["metadata"]
    if service.annotations.get(APPLIED_HASH_ANNOTATION) != metadata["annotations"][APPLIED_HASH_ANNOTATION]:
        return False
    if service.selector:
        return False
    return (
        _contains(service.labels, metadata["labels"])
        and _contains(service.annotations, metadata["annotations"])
        and _contains(service.spec.raw, desired["spec"], omitempty=True)
    )


def _contains(observed: Any, wanted: Any, *, omitempty: bool = False) -> bool:
    """`wanted` is part of `observed`: maps key by key, Service ports by (port, protocol), other lists whole.

    With `omitempty` (the spec), a field the Service lacks matches a zero value (`false`, `0`, `""`, `[]`,
    `{}`, null): the API server leaves those out, so `publishNotReadyAddresses: false` is never read back.
    """
    if isinstance(wanted, Mapping):
        return isinstance(observed, Mapping) and all(
            _contains(observed[key], value, omitempty=omitempty) if key in observed else omitempty and _is_zero(value)
            for key, value in wanted.items()
        )
    if isinstance(wanted, list) and wanted and all(isinstance(p, Mapping) and "port" in p for p in wanted):
        if not isinstance(observed, list) or len(observed) != len(wanted):
            return False
        by_key = {(p.get("port"), p.get("protocol", "TCP")): p for p in observed if isinstance(p, Mapping)}
        return all(_contains(by_key.get((p["port"], p.get("protocol", "TCP"))), p, omitempty=omitempty) for p in wanted)
    return bool(observed == wanted)


def _is_zero(value: Any) -> bool:
    """Go's zero value of a JSON field: what `omitempty` leaves out."""
    return value is None or value is False or value == 0 or value == "" or value == [] or value == {}
