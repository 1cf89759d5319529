"""The core/v1 Service a MiniService owns (SV-01..SV-03): what it should be, and whether it is.

The API server allocates ClusterIPs and NodePorts and kube-proxy routes the Service; it has no selector, so
the built-in EndpointSlice controller leaves it alone and the EndpointSlices are ours to write. The
controller server-side applies `desired_service()` with its own field manager: fields it stops setting are
removed, fields the API server allocated are kept. `up_to_date()` decides whether an apply is needed at
all, so a sync triggered by a pod does not write the Service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from operators.controllers.service.model import API_VERSION, CLUSTER_IP_NONE, KIND, MiniServiceView, ServiceView
from operators.kube import applied
from operators.kube.applied import APPLIED_HASH_ANNOTATION
from operators.kube.objects import OwnerReference

__all__ = ["APPLIED_HASH_ANNOTATION", "desired_service", "foreign_message", "is_owned_by", "up_to_date"]


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
    annotations = applied.copied_annotations(mini.annotations)
    owner = OwnerReference(API_VERSION, KIND, mini.name, mini.uid, controller=True, block_owner_deletion=True)
    body = {
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
    return applied.stamp(body)


def _without_empty_target(port: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in port.items() if not (k == "targetPort" and v in (0, ""))}


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
    """No apply needed (`applied.up_to_date`), and nobody gave the Service a selector."""
    if service.selector:
        return False
    observed = {
        "metadata": {"labels": service.labels, "annotations": service.annotations},
        "spec": service.spec.raw,
    }
    return applied.up_to_date(desired, observed)
