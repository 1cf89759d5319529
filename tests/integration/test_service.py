"""MiniService against the real API server: its owned Service (SV-01..SV-03), its slices, its status.

The endpoints themselves are compared with kube-controller-manager's in test_differential_service.py; these
tests cover what has no built-in twin: the Service the MiniService owns (created with a ClusterIP or
NodePorts from the API server, kept equal to the spec, garbage-collected with it, never taken over when
someone else's Service holds the name), the placeholder slice, and the status and its conditions.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from operators.runtime.client import ApiError, KubeClient
from tests.integration.kubehelpers import eventually, list_pods, set_pod_ready
from tests.integration.servicehelpers import MANAGED_BY, MINI_MANAGER, SliceWatch

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("operator")]

PORTS = [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]


def mini_service(name: str = "web", **spec: Any) -> dict[str, Any]:
    body = {"selector": {"app": "web"}, "ports": copy.deepcopy(PORTS)} | spec
    return {"apiVersion": "minik8s.dev/v1", "kind": "MiniService", "metadata": {"name": name}, "spec": body}


def minis(namespace: str, name: str = "") -> str:
    return f"/apis/minik8s.dev/v1/namespaces/{namespace}/miniservices" + (f"/{name}" if name else "")


def services(namespace: str, name: str = "") -> str:
    return f"/api/v1/namespaces/{namespace}/services" + (f"/{name}" if name else "")


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or () if c["type"] == type_), None)


async def owned_service(kube: KubeClient, namespace: str, name: str = "web", **expect: Any) -> dict[str, Any]:
    """The Service, once it exists, is controlled by the MiniService and its spec has the `expect`ed fields."""

    async def probe() -> dict[str, Any] | None:
        try:
            svc = await kube.get(services(namespace, name))
        except ApiError as error:
            if error.not_found:
                return None
            raise
        return svc if all(svc["spec"].get(k) == v for k, v in expect.items()) else None

    return await eventually(probe, within=60, what=f"Service {name} with {expect}")


async def mini_status(kube: KubeClient, namespace: str, name: str = "web", **expect: Any) -> dict[str, Any]:
    """The MiniService once its status has caught up with its generation and has the `expect`ed fields."""

    async def probe() -> dict[str, Any] | None:
        mini = await kube.get(minis(namespace, name))
        status = mini.get("status") or {}
        if status.get("observedGeneration") != mini["metadata"]["generation"]:
            return None
        return mini if all(status.get(k) == v for k, v in expect.items()) else None

    return await eventually(probe, within=60, what=f"MiniService {name} status with {expect}")


async def test_owned_service_and_garbage_collection(kube: KubeClient, namespace: str) -> None:
    """SV-01: a selector-less Service controlled by the MiniService, with a ClusterIP; ES-11: the placeholder
    slice; deleting the MiniService deletes both (garbage collection)."""
    mini = await kube.create(minis(namespace), mini_service())
    svc = await owned_service(kube, namespace)
    refs = svc["metadata"]["ownerReferences"]
    assert refs == [
        {
            "apiVersion": "minik8s.dev/v1",
            "kind": "MiniService",
            "name": "web",
            "uid": mini["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert "selector" not in svc["spec"], "the owned Service has no selector: the built-in controller ignores it"
    assert svc["spec"]["clusterIP"] not in ("", "None")
    status = (await mini_status(kube, namespace, clusterIP=svc["spec"]["clusterIP"]))["status"]
    assert status["portsText"] == "80/TCP"
    assert status["externalIPText"] == "<none>"
    assert status["endpointsText"] == "<none>"
    assert condition({"status": status}, "ServiceSynced")["status"] == "True"

    async with SliceWatch(kube, namespace) as watch:
        await watch.until(lambda: len(watch.of("web", MINI_MANAGER)) == 1, what="the placeholder slice")
        (placeholder,) = watch.of("web", MINI_MANAGER)
        assert not placeholder.get("endpoints") and not placeholder.get("ports")
        assert placeholder["metadata"]["ownerReferences"][0]["uid"] == svc["metadata"]["uid"]

        await kube.delete(minis(namespace, "web"), propagation="Foreground")
        await watch.until(lambda: not watch.of("web", MINI_MANAGER), what="the slices garbage-collected")

    async def service_gone() -> bool:
        try:
            await kube.get(services(namespace, "web"))
        except ApiError as error:
            return error.not_found
        return False

    await eventually(service_gone, within=60, what="the Service garbage-collected")


async def test_service_types(kube: KubeClient, namespace: str) -> None:
    """SV-02: NodePort gets NodePorts from the API server; back to ClusterIP they go; LoadBalancer is
    `<pending>` without a load-balancer controller; the PORT(S) text follows."""
    await kube.create(minis(namespace), mini_service(type="NodePort"))
    svc = await owned_service(kube, namespace, type="NodePort")
    node_port = svc["spec"]["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 32767
    await mini_status(kube, namespace, portsText=f"80:{node_port}/TCP")

    await kube.patch(minis(namespace, "web"), {"spec": {"type": "ClusterIP"}})
    svc = await owned_service(kube, namespace, type="ClusterIP")
    assert "nodePort" not in svc["spec"]["ports"][0]
    await mini_status(kube, namespace, portsText="80/TCP")

    await kube.patch(minis(namespace, "web"), {"spec": {"type": "LoadBalancer"}})
    svc = await owned_service(kube, namespace, type="LoadBalancer")
    assert svc["spec"]["ports"][0]["nodePort"] > 0
    await mini_status(kube, namespace, externalIPText="<pending>")


async def test_headless_service_comes_out_as_with_a_selector(kube: KubeClient, namespace: str) -> None:
    """SV-01: a headless MiniService's Service has the IP families a headless Service with a selector gets
    (a selector-less one would be defaulted to RequireDualStack); its slices carry the headless label."""
    await kube.create(
        services(namespace),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "twin"},
            "spec": mini_service(clusterIP="None")["spec"],
        },
    )
    await kube.create(minis(namespace), mini_service(clusterIP="None"))
    twin = await kube.get(services(namespace, "twin"))
    svc = await owned_service(kube, namespace, clusterIP="None")
    for field in ("ipFamilyPolicy", "ipFamilies", "clusterIPs", "type", "sessionAffinity", "internalTrafficPolicy"):
        assert svc["spec"].get(field) == twin["spec"].get(field), field
    async with SliceWatch(kube, namespace) as watch:
        await watch.until(lambda: len(watch.of("web", MINI_MANAGER)) == 1, what="the placeholder slice")
        (slice_,) = watch.of("web", MINI_MANAGER)
        assert slice_["metadata"]["labels"]["service.kubernetes.io/headless"] == ""


async def test_spec_changes_and_edits_of_the_service(kube: KubeClient, namespace: str) -> None:
    """SV-03: the Service follows the spec — a port added, sessionAffinity removed — and an edit of the
    Service itself (a selector added, a field changed) is undone."""
    await kube.create(minis(namespace), mini_service(sessionAffinity="ClientIP"))
    await owned_service(kube, namespace, sessionAffinity="ClientIP")

    ports = [*PORTS, {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"}]
    await kube.patch(minis(namespace, "web"), {"spec": {"ports": ports, "sessionAffinity": None}})
    svc = await owned_service(kube, namespace, sessionAffinity="None")
    assert [p["port"] for p in svc["spec"]["ports"]] == [80, 443]
    await mini_status(kube, namespace, portsText="80/TCP,443/TCP")

    await kube.patch(services(namespace, "web"), {"spec": {"selector": {"app": "web"}, "sessionAffinity": "ClientIP"}})

    async def reverted() -> bool:
        svc = await kube.get(services(namespace, "web"))
        return "selector" not in svc["spec"] and svc["spec"]["sessionAffinity"] == "None"

    await eventually(reverted, within=60, what="the edit of the Service undone")


async def test_foreign_service_is_never_taken_over(kube: KubeClient, namespace: str) -> None:
    """SV-01: a Service of that name that is not ours stays as it is; a condition and a Warning event say
    so; once it is gone the MiniService creates its own."""
    foreign = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": PORTS}}
    created = await kube.create(services(namespace), foreign)
    await kube.create(minis(namespace), mini_service())

    async def conflict() -> dict[str, Any] | None:
        mini = await kube.get(minis(namespace, "web"))
        found = condition(mini, "ServiceSynced")
        return found if found is not None and found["status"] == "False" else None

    found = await eventually(conflict, within=60, what="ServiceSynced=False")
    assert found["reason"] == "ServiceExists"
    assert "will not take it over" in found["message"]

    async def warning() -> list[dict[str, Any]]:
        items = (await kube.get(f"/api/v1/namespaces/{namespace}/events"))["items"]
        return [e for e in items if e["reason"] == "ServiceExists" and e["involvedObject"]["name"] == "web"]

    (event,) = await eventually(warning, within=30, what="the Warning event")
    assert event["type"] == "Warning" and event["involvedObject"]["kind"] == "MiniService"
    svc = await kube.get(services(namespace, "web"))
    assert svc["metadata"]["uid"] == created["metadata"]["uid"] and "ownerReferences" not in svc["metadata"]
    assert svc["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"], "not written at all"

    await kube.delete(services(namespace, "web"))
    svc = await owned_service(kube, namespace)
    assert svc["metadata"]["uid"] != created["metadata"]["uid"]
    assert svc["metadata"]["ownerReferences"][0]["kind"] == "MiniService"
    mini = await mini_status(kube, namespace, clusterIP=svc["spec"]["clusterIP"])
    assert condition(mini, "ServiceSynced")["status"] == "True"


async def test_refused_service_is_a_condition(kube: KubeClient, namespace: str) -> None:
    """A spec the schema cannot refuse but the API server does (a NodePort outside the cluster's range)
    becomes ServiceSynced=False with the API server's message and a Warning event; fixing it recovers."""
    ports = [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 80, "protocol": "TCP"}]
    await kube.create(minis(namespace), mini_service(type="NodePort", ports=ports))

    async def refused() -> dict[str, Any] | None:
        found = condition(await kube.get(minis(namespace, "web")), "ServiceSynced")
        return found if found is not None and found["reason"] == "FailedToApplyService" else None

    found = await eventually(refused, within=60, what="ServiceSynced=False FailedToApplyService")
    assert found["status"] == "False" and "range" in found["message"]
    ports[0].pop("nodePort")
    await kube.patch(minis(namespace, "web"), {"spec": {"ports": ports}})
    await owned_service(kube, namespace, type="NodePort")
    mini = await mini_status(kube, namespace)
    assert condition(mini, "ServiceSynced")["status"] == "True"


async def test_status_counts_endpoints(kube: KubeClient, namespace: str) -> None:
    """The status counts the endpoints of the slices: ready, serving, terminating; ENDPOINTS lists the ready."""
    await kube.create(minis(namespace), mini_service())
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"labels": {"app": "web"}, "finalizers": ["test.minik8s.dev/hold"]},
        "spec": {"containers": [{"name": "web", "image": "registry.k8s.io/pause:3.10"}]},
    }
    for index in range(4):
        await kube.create(
            f"/api/v1/namespaces/{namespace}/pods", pod | {"metadata": pod["metadata"] | {"name": f"p{index}"}}
        )

    async def running() -> bool:
        pods = await list_pods(kube, namespace)
        return len(pods) == 4 and all(p.get("status", {}).get("podIP") for p in pods)

    await eventually(running, within=60, what="4 running pods")
    try:
        await set_pod_ready(kube, namespace, "p0", False)
        await kube.delete(f"/api/v1/namespaces/{namespace}/pods/p1")
        mini = await mini_status(kube, namespace, endpoints={"ready": 2, "serving": 3, "terminating": 1})
        text = mini["status"]["endpointsText"]
        assert text.count(":8080") == 2, text
    finally:
        for index in range(4):
            await kube.patch(
                f"/api/v1/namespaces/{namespace}/pods/p{index}",
                [{"op": "remove", "path": "/metadata/finalizers"}],
                patch_type="json",
            )
    slices = (await kube.get(f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"))["items"]
    assert all(s["metadata"]["labels"][MANAGED_BY] == MINI_MANAGER for s in slices)
