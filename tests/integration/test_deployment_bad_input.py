"""Bad input that passes the schema: a MiniDeployment surfaces it as a Deployment does, and nothing else suffers.

A pod template that every schema accepts but admission refuses for pods — a container without the security
context of a namespace that enforces the `restricted` Pod Security Standard: apps/v1 accepts such a Deployment
too, with a warning — makes the ReplicaSet's pod creates fail: the ReplicaSet gets ReplicaFailure/FailedCreate
and the Deployment copies it (DP-33). The test runs the same template as an apps/v1 Deployment beside it and
compares the conditions the two controllers write, while a healthy MiniDeployment in the same namespace keeps
being served. (A template that pod *validation* refuses is refused by the CRD's schema up front, as apps/v1
refuses it: see test_deployment_validation.py.)
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from operators.app import Manager
from operators.runtime.client import KubeClient
from tests.integration.kubehelpers import eventually

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("operator")]

KINDS = {
    "Deployment": ("apps/v1", "/apis/apps/v1", "deployments", "replicasets"),
    "MiniDeployment": ("minik8s.dev/v1", "/apis/minik8s.dev/v1", "minideployments", "minireplicasets"),
}


# What the `restricted` Pod Security Standard asks of a container.
RESTRICTED = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _body(kind: str, name: str, replicas: int, *, restricted: bool) -> dict[str, Any]:
    api_version = KINDS[kind][0]
    container: dict[str, Any] = {"name": "app", "image": "registry.k8s.io/pause:3.10"}
    if restricted:
        container["securityContext"] = RESTRICTED
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container]},
            },
        },
    }


def _path(kind: str, namespace: str, name: str = "") -> str:
    _, prefix, plural, _ = KINDS[kind]
    return f"{prefix}/namespaces/{namespace}/{plural}" + (f"/{name}" if name else "")


async def _conditions(kube: KubeClient, kind: str, namespace: str, name: str) -> dict[str, dict[str, Any]]:
    status = (await kube.get(_path(kind, namespace, name))).get("status") or {}
    return {c["type"]: c for c in status.get("conditions") or []}


async def test_pod_template_refused_by_the_api_server_surfaces_as_replica_failure(
    kube: KubeClient, namespace: str, operator: Manager
) -> None:
    """DP-33 and the bad-input rule: ReplicaFailure copied from the RS, as the built-in controller does; a
    FailedCreate Warning on the RS; the other MiniDeployment keeps being served; fixing the template heals it."""
    labels = {"pod-security.kubernetes.io/enforce": "restricted"}
    await kube.patch(f"/api/v1/namespaces/{namespace}", {"metadata": {"labels": labels}})
    for kind in KINDS:
        await kube.create(_path(kind, namespace), _body(kind, f"bad-{kind.lower()}", 2, restricted=False))
    await kube.create(_path("MiniDeployment", namespace), _body("MiniDeployment", "good", 2, restricted=True))

    async def failures() -> dict[str, dict[str, Any]] | None:
        found = {}
        for kind in KINDS:
            conditions = await _conditions(kube, kind, namespace, f"bad-{kind.lower()}")
            if "ReplicaFailure" not in conditions:
                return None
            found[kind] = conditions
        return found

    seen = await eventually(failures, within=60, what="ReplicaFailure on both deployments")
    for kind, conditions in seen.items():
        failure = conditions["ReplicaFailure"]
        assert (failure["status"], failure["reason"]) == ("True", "FailedCreate"), kind
        assert 'violates PodSecurity "restricted' in failure["message"], kind
    # The two controllers agree on every condition's type, status and reason.
    summary = {
        kind: sorted((c["type"], c["status"], c["reason"]) for c in conditions.values())
        for kind, conditions in seen.items()
    }
    assert summary["MiniDeployment"] == summary["Deployment"]

    async def warned() -> list[dict[str, Any]]:
        events = (await kube.get(f"/api/v1/namespaces/{namespace}/events"))["items"]
        return [
            e
            for e in events
            if e["involvedObject"]["kind"] == "MiniReplicaSet"
            and e["involvedObject"]["name"].startswith("bad-minideployment-")
            and e["reason"] == "FailedCreate"
        ]

    (event, *_) = await eventually(warned, what="a FailedCreate event on the MiniReplicaSet")
    assert event["type"] == "Warning"

    # Meanwhile the healthy MiniDeployment is served: scale it and see it converge.
    await kube.patch(_path("MiniDeployment", namespace, "good"), {"spec": {"replicas": 4}})

    async def good_available() -> bool:
        status = (await kube.get(_path("MiniDeployment", namespace, "good"))).get("status") or {}
        return status.get("availableReplicas") == 4 and status.get("updatedReplicas") == 4

    await eventually(good_available, within=60, what="the healthy MiniDeployment at 4 available replicas")

    # Fixing the template rolls out a new ReplicaSet; ReplicaFailure goes away with the failing one's pods.
    fixed = copy.deepcopy(_body("MiniDeployment", "bad-minideployment", 2, restricted=True))
    await kube.patch(_path("MiniDeployment", namespace, "bad-minideployment"), {"spec": fixed["spec"]})

    async def healed() -> bool:
        md = await kube.get(_path("MiniDeployment", namespace, "bad-minideployment"))
        status = md.get("status") or {}
        conditions = {c["type"] for c in status.get("conditions") or []}
        return status.get("availableReplicas") == 2 and "ReplicaFailure" not in conditions

    await eventually(healed, within=60, what="the fixed MiniDeployment available, without ReplicaFailure")
