"""Smoke tests proving the local cluster is a real one: scheduling, kwok pods, GC, CEL, Services, RBAC."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from operators.devcluster.cluster import Cluster
from operators.runtime.client import ApiError, KubeClient
from tests.integration.kubehelpers import eventually, fail_pod, is_ready, list_pods, set_pod_ready

pytestmark = pytest.mark.cluster


def deployment(name: str, replicas: int, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "registry.k8s.io/pause:3.10",
                            "ports": [{"name": "http", "containerPort": 8080}],
                        }
                    ]
                },
            },
        },
    }


async def ready_pods(kube: KubeClient, namespace: str, selector: str, count: int) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        pods = await list_pods(kube, namespace, selector)
        ready = [p for p in pods if is_ready(p) and p["status"].get("podIP")]
        return ready if len(ready) == count and len(pods) == count else None

    return await eventually(probe, within=60, what=f"{count} ready pods ({selector})")


async def test_deployment_pods_are_scheduled_ready_and_spread(kube: KubeClient, namespace: str) -> None:
    await kube.create(f"/apis/apps/v1/namespaces/{namespace}/deployments", deployment("web", 3, {"app": "web"}))
    pods = await ready_pods(kube, namespace, "app=web", 3)
    assert all(p["status"]["phase"] == "Running" for p in pods)
    assert len({p["status"]["podIP"] for p in pods}) == 3
    nodes = {p["spec"]["nodeName"] for p in pods}
    assert nodes <= {"kwok-node-0", "kwok-node-1", "kwok-node-2"}
    assert len(nodes) >= 2, f"the scheduler put every pod on {nodes}"


async def test_deleting_a_deployment_garbage_collects_its_replicaset_and_pods(kube: KubeClient, namespace: str) -> None:
    await kube.create(f"/apis/apps/v1/namespaces/{namespace}/deployments", deployment("gc", 2, {"app": "gc"}))
    await ready_pods(kube, namespace, "app=gc", 2)
    await kube.delete(f"/apis/apps/v1/namespaces/{namespace}/deployments/gc")

    async def all_gone() -> bool:
        rss = (await kube.get(f"/apis/apps/v1/namespaces/{namespace}/replicasets"))["items"]
        return not rss and not await list_pods(kube, namespace, "app=gc")

    await eventually(all_gone, within=60, what="the ReplicaSet and pods to be garbage-collected")


async def test_crd_cel_rule_rejects_a_bad_object_with_its_message(cluster: Cluster, kube: KubeClient) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.smoke.minik8s.dev"},
        "spec": {
            "group": "smoke.minik8s.dev",
            "names": {"kind": "Gadget", "plural": "gadgets", "singular": "gadget"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"size": {"type": "integer"}},
                                    "x-kubernetes-validations": [
                                        {"rule": "self.size <= 10", "message": "size must be at most 10"}
                                    ],
                                }
                            },
                        }
                    },
                }
            ],
        },
    }
    try:
        await kube.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    except ApiError as error:
        if error.status != 409:
            raise
    cluster.kubectl("wait", "--for=condition=Established", "crd/gadgets.smoke.minik8s.dev", "--timeout=30s")
    path = "/apis/smoke.minik8s.dev/v1/namespaces/default/gadgets"
    gadget = {"apiVersion": "smoke.minik8s.dev/v1", "kind": "Gadget", "metadata": {"name": "big"}, "spec": {"size": 11}}
    with pytest.raises(ApiError) as refused:
        await kube.create(path, gadget)
    assert refused.value.status == 422
    assert "size must be at most 10" in refused.value.message


async def test_services_get_cluster_ips_and_builtin_endpointslices(kube: KubeClient, namespace: str) -> None:
    await kube.create(f"/apis/apps/v1/namespaces/{namespace}/deployments", deployment("svc", 2, {"app": "svc"}))
    pods = await ready_pods(kube, namespace, "app=svc", 2)
    service = await kube.create(
        f"/api/v1/namespaces/{namespace}/services",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "svc"},
            "spec": {"selector": {"app": "svc"}, "ports": [{"port": 80, "targetPort": "http"}]},
        },
    )
    assert service["spec"]["clusterIP"].startswith("10.96.")

    async def endpoints() -> set[str] | None:
        slices = (
            await kube.get(
                f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices",
                query={"labelSelector": "kubernetes.io/service-name=svc"},
            )
        )["items"]
        addresses = {a for s in slices for e in s.get("endpoints") or [] for a in e["addresses"]}
        ports = {p.get("port") for s in slices for p in s.get("ports") or []}
        return addresses if ports == {8080} else None

    addresses = await eventually(endpoints, what="the EndpointSlice of svc")
    assert addresses == {p["status"]["podIP"] for p in pods}


async def test_networkpolicy_objects_are_accepted(kube: KubeClient, namespace: str) -> None:
    policy = await kube.create(
        f"/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies",
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "deny"},
            "spec": {
                "podSelector": {},
                "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}],
            },
        },
    )
    assert policy["spec"]["policyTypes"] == ["Ingress"]  # defaulted by the API server (NP-02)


def test_rbac_denies_a_service_account_without_a_binding(cluster: Cluster, namespace: str) -> None:
    who = f"--as=system:serviceaccount:{namespace}:default"
    denied = cluster.kubectl("get", "pods", "-n", namespace, who, check=False)
    assert denied.returncode != 0 and "forbidden" in denied.stderr.lower()
    cluster.kubectl(
        "create", "rolebinding", "view", "-n", namespace, "--clusterrole=view", f"--serviceaccount={namespace}:default"
    )
    allowed = cluster.kubectl("auth", "can-i", "list", "pods", "-n", namespace, who, check=False)
    assert allowed.stdout.strip() == "yes"


async def test_pod_helpers_flip_readiness_and_fail_pods_without_kwok_reverting(
    kube: KubeClient, namespace: str
) -> None:
    await kube.create(f"/apis/apps/v1/namespaces/{namespace}/deployments", deployment("flip", 2, {"app": "flip"}))
    first, second = await ready_pods(kube, namespace, "app=flip", 2)
    name = first["metadata"]["name"]
    await set_pod_ready(kube, namespace, name, False)
    pod = await kube.get(f"/api/v1/namespaces/{namespace}/pods/{name}")
    assert not is_ready(pod)
    await eventually(lambda: _stays_not_ready(kube, namespace, name), within=10, what="kwok to leave it NotReady")
    await set_pod_ready(kube, namespace, name, True)
    assert is_ready(await kube.get(f"/api/v1/namespaces/{namespace}/pods/{name}"))
    await fail_pod(kube, namespace, second["metadata"]["name"])
    failed = await kube.get(f"/api/v1/namespaces/{namespace}/pods/{second['metadata']['name']}")
    assert failed["status"]["phase"] == "Failed"


async def _stays_not_ready(kube: KubeClient, namespace: str, name: str) -> bool:
    import asyncio

    await asyncio.sleep(2)
    return not is_ready(await kube.get(f"/api/v1/namespaces/{namespace}/pods/{name}"))


def test_pinned_kubectl_matches_the_server(cluster: Cluster) -> None:
    version = subprocess.run(
        [str(cluster.bin / "kubectl"), f"--kubeconfig={cluster.layout.kubeconfig}", "version", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert version.count('"gitVersion": "v1.35.4"') == 2
