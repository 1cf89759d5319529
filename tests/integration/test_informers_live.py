"""Informers fed by the runtime's reflector against the real API server: cluster scope, selectors, indexes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from operators.kube.objects import Node, Pod
from operators.kube.resources import NODES, PODS
from operators.runtime.client import KubeClient
from operators.runtime.informers import BY_LABEL, Informer, index_by_label
from operators.runtime.reflector import Reflector
from tests.integration.kubehelpers import eventually

pytestmark = [pytest.mark.cluster]


@asynccontextmanager
async def reflecting(reflector: Reflector[Any]) -> AsyncIterator[None]:
    task = asyncio.create_task(reflector.run())
    try:
        await asyncio.wait_for(reflector.informer.wait_synced(), timeout=30)
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def pod(name: str, labels: dict[str, str], node: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "fake"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels}, "spec": spec}


async def until(condition: Callable[[], bool], what: str) -> None:
    async def probe() -> bool:
        return condition()

    await eventually(probe, within=30, interval=0.05, what=what)


async def test_cluster_scoped_nodes_with_their_zones(kube: KubeClient) -> None:
    nodes: Informer[Node] = Informer(NODES, Node.from_dict)
    async with reflecting(Reflector(kube, nodes)):
        kwok = sorted((n.name, n.zone) for n in nodes if n.name.startswith("kwok-node-"))
        assert kwok[:3] == [("kwok-node-0", "zone-a"), ("kwok-node-1", "zone-b"), ("kwok-node-2", "zone-a")]
        assert nodes.get("", "kwok-node-0") is not None


async def test_label_selector_informer_forgets_a_pod_relabelled_out_of_it(kube: KubeClient, namespace: str) -> None:
    """A watch with a labelSelector reports an object that stops matching as DELETED; the cache follows."""
    pods: Informer[Pod] = Informer(PODS, Pod.from_dict, scopes=(namespace,))
    pods.add_index(BY_LABEL, index_by_label)
    seen: list[tuple[str | None, str | None]] = []
    pods.subscribe(lambda old, new: seen.append((old and old.name, new and new.name)))
    path = PODS.path(namespace)
    await kube.create(path, pod("web-1", {"app": "web"}))
    await kube.create(path, pod("db-1", {"app": "db"}))
    async with reflecting(Reflector(kube, pods, namespace=namespace, label_selector="app=web")):
        assert [p.name for p in pods.list(namespace)] == ["web-1"]
        await kube.create(path, pod("web-2", {"app": "web"}))
        await until(lambda: pods.get(namespace, "web-2") is not None, "web-2 in the cache")
        assert {p.name for p in pods.by_index(BY_LABEL, f"{namespace}/app=web")} == {"web-1", "web-2"}
        await kube.patch(PODS.path(namespace, "web-1"), {"metadata": {"labels": {"app": "db"}}})
        await until(lambda: pods.get(namespace, "web-1") is None, "web-1 to leave the cache")
    assert ("web-1", None) in seen
    assert {p.name for p in pods.by_index(BY_LABEL, f"{namespace}/app=web")} == {"web-2"}


async def test_field_selector_informer_sees_one_nodes_pods(kube: KubeClient, namespace: str) -> None:
    pods: Informer[Pod] = Informer(PODS, Pod.from_dict, scopes=(namespace,))
    path = PODS.path(namespace)
    await kube.create(path, pod("on-0", {"app": "x"}, node="kwok-node-0"))
    await kube.create(path, pod("on-1", {"app": "x"}, node="kwok-node-1"))
    async with reflecting(Reflector(kube, pods, namespace=namespace, field_selector="spec.nodeName=kwok-node-0")):
        assert [p.name for p in pods.list(namespace)] == ["on-0"]
        assert pods.get(namespace, "on-0") is not None and pods.get(namespace, "on-0").node_name == "kwok-node-0"  # type: ignore[union-attr]
