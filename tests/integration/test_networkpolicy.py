"""The MiniNetworkPolicy controller against the real API server: status, conditions, events, --mirror-native.

Enforcement with packets is the dataplane's; here the policy's status follows pods and spec changes (NP-01,
NP-02, NP-09), and with --mirror-native its networking/v1 twin is created, kept equal, never taken over
from someone else, and garbage-collected with it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from operators.runtime.client import ApiError, KubeClient
from operators.runtime.manager import Manager
from tests.integration.conftest import InProcessOperator
from tests.integration.kubehelpers import eventually

pytestmark = [pytest.mark.cluster]

SPEC: dict[str, Any] = {
    "podSelector": {"matchLabels": {"app": "web"}},
    "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}], "ports": [{"port": 80}]}],
}


def policies(namespace: str, name: str = "") -> str:
    return f"/apis/minik8s.dev/v1/namespaces/{namespace}/mininetworkpolicies" + (f"/{name}" if name else "")


def natives(namespace: str, name: str = "") -> str:
    return f"/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies" + (f"/{name}" if name else "")


def manifest(name: str = "web", spec: dict[str, Any] | None = None) -> dict[str, Any]:
    body = copy.deepcopy(spec if spec is not None else SPEC)
    return {"apiVersion": "minik8s.dev/v1", "kind": "MiniNetworkPolicy", "metadata": {"name": name}, "spec": body}


def pod(name: str, labels: dict[str, str], ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    container = {"name": "c", "image": "registry.k8s.io/pause:3.10", "ports": ports or []}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [container]},
    }


def accepted(obj: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or () if c["type"] == "Accepted"), None)


async def status_with(kube: KubeClient, namespace: str, name: str = "web", **expect: Any) -> dict[str, Any]:
    """The policy once its status has caught up with its generation and has the `expect`ed fields."""

    async def probe() -> dict[str, Any] | None:
        obj = await kube.get(policies(namespace, name))
        status = obj.get("status") or {}
        if status.get("observedGeneration") != obj["metadata"]["generation"]:
            return None
        return obj if all(status.get(k) == v for k, v in expect.items()) else None

    return await eventually(probe, within=60, what=f"MiniNetworkPolicy {name} status with {expect}")


async def warnings(kube: KubeClient, namespace: str, reason: str) -> list[dict[str, Any]]:
    items = (await kube.get(f"/api/v1/namespaces/{namespace}/events"))["items"]
    return [e for e in items if e["reason"] == reason and e["involvedObject"]["kind"] == "MiniNetworkPolicy"]


@pytest.mark.usefixtures("operator")
async def test_status_follows_pods_and_spec(kube: KubeClient, namespace: str) -> None:
    """NP-01: selectedPods follows pods as they come, go and change labels; NP-02: policyTypes follows the spec."""
    await kube.create(policies(namespace), manifest())
    obj = await status_with(kube, namespace, selectedPods=0, policyTypes=["Ingress"], podSelectorText="app=web")
    assert (accepted(obj) or {}).get("reason") == "Accepted"

    for name in ("a", "b", "c"):
        await kube.create(f"/api/v1/namespaces/{namespace}/pods", pod(name, {"app": "web"}))
    await kube.create(f"/api/v1/namespaces/{namespace}/pods", pod("other", {"app": "db"}))
    await status_with(kube, namespace, selectedPods=3)
    await kube.patch(f"/api/v1/namespaces/{namespace}/pods/c", {"metadata": {"labels": {"app": "cache"}}})
    await status_with(kube, namespace, selectedPods=2)
    await kube.delete(f"/api/v1/namespaces/{namespace}/pods/b")
    await status_with(kube, namespace, selectedPods=1)

    await kube.patch(policies(namespace, "web"), {"spec": {"egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}})
    await status_with(kube, namespace, policyTypes=["Ingress", "Egress"])
    await kube.patch(policies(namespace, "web"), {"spec": {"podSelector": {"matchLabels": None}}})  # now {}
    await status_with(kube, namespace, selectedPods=3, podSelectorText="<none>")


@pytest.mark.usefixtures("operator")
async def test_named_port_no_pod_declares_is_a_warning(kube: KubeClient, namespace: str) -> None:
    """NP-09: a rule's named port that no selected pod declares: Accepted=True with NamedPortNotDeclared and
    a Warning event; a pod that declares it turns the reason back to Accepted."""
    spec = {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"ports": [{"port": "http"}]}]}
    await kube.create(policies(namespace), manifest(spec=spec))
    await kube.create(f"/api/v1/namespaces/{namespace}/pods", pod("a", {"app": "web"}))

    async def reason(expected: str) -> dict[str, Any] | None:
        condition = accepted(await kube.get(policies(namespace, "web")))
        return condition if condition is not None and condition["reason"] == expected else None

    condition = await eventually(lambda: reason("NamedPortNotDeclared"), within=60, what="NamedPortNotDeclared")
    assert condition["status"] == "True" and "'http'" in condition["message"]
    await eventually(lambda: warnings(kube, namespace, "NamedPortNotDeclared"), within=30, what="the Warning event")

    ports = [{"name": "http", "containerPort": 8080}]
    await kube.create(f"/api/v1/namespaces/{namespace}/pods", pod("b", {"app": "web"}, ports))
    await eventually(lambda: reason("Accepted"), within=60, what="Accepted again")


@pytest.fixture
def mirroring_operator(no_operator: InProcessOperator) -> Iterator[Manager]:
    """The operator with --mirror-native; stopped afterwards, so the next test gets the default one."""
    manager = no_operator.start(no_operator.default_options(mirror_native_policies=True))
    yield manager
    no_operator.stop()


@pytest.mark.usefixtures("mirroring_operator")
async def test_mirror_native_creates_updates_and_collects(kube: KubeClient, namespace: str) -> None:
    """--mirror-native: the NetworkPolicy of the same name and spec, owned, kept equal (an edit of it is
    undone, a spec change follows) and garbage-collected with the MiniNetworkPolicy."""
    created = await kube.create(policies(namespace), manifest())

    async def native(port: int) -> dict[str, Any] | None:
        try:
            obj = await kube.get(natives(namespace, "web"))
        except ApiError as error:
            if error.not_found:
                return None
            raise
        return obj if obj["spec"]["ingress"][0]["ports"][0]["port"] == port else None

    mirror = await eventually(lambda: native(80), within=60, what="the mirrored NetworkPolicy")
    (ref,) = mirror["metadata"]["ownerReferences"]
    assert (ref["kind"], ref["uid"], ref["controller"]) == ("MiniNetworkPolicy", created["metadata"]["uid"], True)
    assert mirror["metadata"]["labels"]["minik8s.dev/mirrored-from"] == "web"
    assert mirror["spec"]["podSelector"] == SPEC["podSelector"]
    obj = await status_with(kube, namespace)
    assert any(c["type"] == "Mirrored" and c["status"] == "True" for c in obj["status"]["conditions"])

    await kube.patch(policies(namespace, "web"), {"spec": {"ingress": [{"ports": [{"port": 8080}]}]}})
    await eventually(lambda: native(8080), within=60, what="the mirror following the spec")
    await kube.patch(natives(namespace, "web"), {"spec": {"ingress": [{"ports": [{"port": 9}]}]}})
    await eventually(lambda: native(8080), within=60, what="an edit of the mirror undone")

    await kube.delete(policies(namespace, "web"), propagation="Foreground")

    async def collected() -> bool:
        try:
            await kube.get(natives(namespace, "web"))
        except ApiError as error:
            return error.not_found
        return False

    await eventually(collected, within=60, what="the mirror garbage-collected")


@pytest.mark.usefixtures("mirroring_operator")
async def test_mirror_never_takes_over_a_foreign_network_policy(kube: KubeClient, namespace: str) -> None:
    """A NetworkPolicy of that name made by someone else stays as it is: Mirrored=False, a Warning event."""
    foreign = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "web"}}
    made = await kube.create(natives(namespace), foreign | {"spec": {"podSelector": {}}})
    await kube.create(policies(namespace), manifest())

    async def refused() -> dict[str, Any] | None:
        obj = await kube.get(policies(namespace, "web"))
        found = [c for c in (obj.get("status") or {}).get("conditions") or () if c["type"] == "Mirrored"]
        return found[0] if found and found[0]["status"] == "False" else None

    condition = await eventually(refused, within=60, what="Mirrored=False")
    assert condition["reason"] == "NetworkPolicyExists"
    await eventually(lambda: warnings(kube, namespace, "NetworkPolicyExists"), within=30, what="the Warning event")
    still = await kube.get(natives(namespace, "web"))
    assert still["metadata"]["resourceVersion"] == made["metadata"]["resourceVersion"], "not written at all"
