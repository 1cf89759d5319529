"""The tutorial's greeting controller (docs/tutorials/first_controller) on the local cluster, step by step.

The controller runs in-process (its own Manager and Kopf operator in a thread, scoped to the test's
namespace), as `python -m docs.tutorials.first_controller run -n NAMESPACE` would; every wait is a watch.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from docs.tutorials.first_controller.api import CRD_FILE
from docs.tutorials.first_controller.app import options, serve
from docs.tutorials.first_controller.reconcile import NAME_TAKEN_RETRY
from operators.devcluster.cluster import Cluster
from operators.runtime.client import KubeClient

pytestmark = [pytest.mark.cluster]

Body = dict[str, Any]
GREETINGS = "/apis/tutorial.minik8s.dev/v1/namespaces/{ns}/greetings"
CONFIGMAPS = "/api/v1/namespaces/{ns}/configmaps"


@pytest.fixture(scope="module")
def greeting_crd(cluster: Cluster) -> None:
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRD_FILE))
    cluster.kubectl("wait", "--for=condition=Established", "crd/greetings.tutorial.minik8s.dev", "--timeout=60s")


@pytest.fixture
def greeting_controller(cluster: Cluster, greeting_crd: None, namespace: str) -> Iterator[None]:
    """The controller, watching only `namespace`, in a thread of its own (Kopf owns its event loop's tasks)."""
    stop, ready = threading.Event(), threading.Event()
    run = serve(
        options(namespaces=(namespace,), kubeconfig=str(cluster.layout.kubeconfig)), stop_flag=stop, ready_flag=ready
    )
    thread = threading.Thread(target=lambda: asyncio.run(run), name="greeting-controller", daemon=True)
    thread.start()
    assert ready.wait(timeout=60), "the greeting controller did not start within 60 s"
    yield
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the greeting controller did not stop within 30 s"


async def watch_until(
    kube: KubeClient, collection: str, name: str, done: Callable[[Body | None], bool], *, within: float = 30
) -> Body | None:
    """The object `name` of `collection` (None: absent) once `done` holds for it: a LIST, then its WATCH."""
    return await watch_selected(kube, collection, f"metadata.name={name}", done, within=within)


async def watch_selected(
    kube: KubeClient, collection: str, fields: str, done: Callable[[Body | None], bool], *, within: float = 30
) -> Body | None:
    """The first object of `collection` matching the field selector `fields` for which `done` holds."""
    query = {"fieldSelector": fields}
    async with asyncio.timeout(within):
        listing = await kube.get(collection, query=query)
        current: Body | None = listing["items"][0] if listing["items"] else None
        if done(current):
            return current
        version = listing["metadata"]["resourceVersion"]
        while True:  # a watch the server ends (timeoutSeconds) is resumed from the last version seen
            async for event in kube.watch(collection, query={**query, "resourceVersion": version}):
                obj = event["object"]
                version = obj["metadata"]["resourceVersion"]
                current = None if event["type"] == "DELETED" else obj
                if done(current):
                    return current


def greeting(name: str, message: str, repeat: int = 1) -> Body:
    return {
        "apiVersion": "tutorial.minik8s.dev/v1",
        "kind": "Greeting",
        "metadata": {"name": name},
        "spec": {"message": message, "repeat": repeat},
    }


def ready_condition(body: Body | None) -> Body:
    conditions = ((body or {}).get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == "Ready"), {})


def holds(text: str) -> Callable[[Body | None], bool]:
    return lambda cm: cm is not None and (cm.get("data") or {}).get("greeting") == text


@pytest.mark.usefixtures("greeting_controller")
async def test_greeting_lifecycle(kube: KubeClient, namespace: str) -> None:
    """Create → ConfigMap and Ready; update → follows; ConfigMap deleted or edited → repaired; delete → collected."""
    greetings, config_maps = GREETINGS.format(ns=namespace), CONFIGMAPS.format(ns=namespace)
    created = await kube.create(greetings, greeting("hello", "Hello, Kubernetes!"))

    cm = await watch_until(kube, config_maps, "hello", holds("Hello, Kubernetes!\n"))
    assert cm is not None
    assert cm["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "greeting-controller"}
    [ref] = cm["metadata"]["ownerReferences"]
    assert (ref["kind"], ref["uid"], ref["controller"]) == ("Greeting", created["metadata"]["uid"], True)
    status = await watch_until(kube, greetings, "hello", lambda g: ready_condition(g).get("status") == "True")
    assert status is not None
    assert {k: status["status"][k] for k in ("observedGeneration", "configMap", "lines")} == {
        "observedGeneration": 1,
        "configMap": "hello",
        "lines": 1,
    }

    # A spec change: the ConfigMap follows, and the status observes the new generation.
    await kube.patch(f"{greetings}/hello", {"spec": {"repeat": 3}})
    await watch_until(kube, config_maps, "hello", holds("Hello, Kubernetes!\n" * 3))
    await watch_until(
        kube, greetings, "hello", lambda g: g is not None and g.get("status", {}).get("observedGeneration") == 2
    )

    # Level-triggered: whatever happened to the ConfigMap, the sync compares and repairs.
    await kube.patch(f"{config_maps}/hello", {"data": {"greeting": "tampered"}})
    await watch_until(kube, config_maps, "hello", holds("Hello, Kubernetes!\n" * 3))
    await kube.delete(f"{config_maps}/hello")
    await watch_until(kube, config_maps, "hello", holds("Hello, Kubernetes!\n" * 3))
    # Without its label the ConfigMap leaves our filtered informer; the create finds it ours and relabels it.
    await kube.patch(f"{config_maps}/hello", {"metadata": {"labels": None}})
    labelled = {"app.kubernetes.io/managed-by": "greeting-controller"}
    await watch_until(
        kube, config_maps, "hello", lambda cm: cm is not None and cm["metadata"].get("labels") == labelled
    )

    # Deleting the Greeting: the garbage collector follows our controller reference and deletes the ConfigMap.
    await kube.delete(f"{greetings}/hello")
    assert await watch_until(kube, config_maps, "hello", lambda cm: cm is None) is None


@pytest.mark.usefixtures("greeting_controller")
async def test_greeting_never_takes_over_a_foreign_config_map(kube: KubeClient, namespace: str) -> None:
    """A ConfigMap of that name that is not ours: Ready=False ConfigMapExists, a Warning; once it goes, ours."""
    greetings, config_maps = GREETINGS.format(ns=namespace), CONFIGMAPS.format(ns=namespace)
    foreign = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "taken"}, "data": {"mine": "yes"}}
    await kube.create(config_maps, foreign)
    await kube.create(greetings, greeting("taken", "Hi"))

    blocked = await watch_until(
        kube, greetings, "taken", lambda g: ready_condition(g).get("reason") == "ConfigMapExists"
    )
    assert ready_condition(blocked)["status"] == "False"
    event = await watch_selected(
        kube, f"/api/v1/namespaces/{namespace}/events", "involvedObject.name=taken", lambda e: e is not None
    )
    assert event is not None and (event["type"], event["reason"]) == ("Warning", "ConfigMapExists")
    untouched = await kube.get(f"{config_maps}/taken")
    assert untouched["data"] == {"mine": "yes"} and "ownerReferences" not in untouched["metadata"]

    # No watch of ours sees the foreign ConfigMap go (it lacks our label): the requeue finds the name free.
    await kube.delete(f"{config_maps}/taken")
    cm = await watch_until(kube, config_maps, "taken", holds("Hi\n"), within=NAME_TAKEN_RETRY + 30)
    assert cm is not None and cm["metadata"]["ownerReferences"][0]["kind"] == "Greeting"
    await watch_until(kube, greetings, "taken", lambda g: ready_condition(g).get("status") == "True")
