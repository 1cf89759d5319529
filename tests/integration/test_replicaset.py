"""MiniReplicaSet against the real API server, mirroring test/integration/replicaset/replicaset_test.go.

Each test is named after the upstream test it mirrors; the operator runs in-process (`operator` fixture).
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from operators.app import Manager
from operators.devcluster.cluster import Cluster
from operators.kube.objects import format_time
from operators.runtime.client import ApiError, KubeClient
from tests.integration.kubehelpers import (
    PodCreations,
    eventually,
    fail_pod,
    is_active,
    is_ready,
    list_pods,
    set_pod_ready,
)

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("operator")]

GROUP = "/apis/minik8s.dev/v1"


def mrs_path(namespace: str, name: str = "", sub: str = "") -> str:
    return f"{GROUP}/namespaces/{namespace}/minireplicasets" + (f"/{name}" if name else "") + (f"/{sub}" if sub else "")


def new_mrs(
    name: str,
    replicas: int,
    labels: dict[str, str] | None = None,
    *,
    template_labels: dict[str, str] | None = None,
    min_ready_seconds: int = 0,
    container: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """newRS of the upstream test: a MiniReplicaSet whose pods run one fake container."""
    labels = labels or {"name": name}
    return {
        "apiVersion": "minik8s.dev/v1",
        "kind": "MiniReplicaSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "minReadySeconds": min_ready_seconds,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": template_labels or labels},
                "spec": {"containers": [container or {"name": "fake-name", "image": "fakeimage"}]},
            },
        },
    }


def new_pod(name: str, labels: dict[str, str], owner_refs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """newMatchingPod of the upstream test."""
    metadata: dict[str, Any] = {"name": name, "labels": labels}
    if owner_refs:
        metadata["ownerReferences"] = owner_refs
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [{"name": "fake-name", "image": "fakeimage"}]},
    }


def owner_ref(rs: dict[str, Any], *, controller: bool) -> dict[str, Any]:
    return {
        "apiVersion": "minik8s.dev/v1",
        "kind": "MiniReplicaSet",
        "name": rs["metadata"]["name"],
        "uid": rs["metadata"]["uid"],
        "controller": controller,
    }


async def create_mrs(kube: KubeClient, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    return await kube.create(mrs_path(namespace), body)


async def controlled_pods(kube: KubeClient, namespace: str, rs: dict[str, Any], *, active: bool = True) -> list[Any]:
    pods = await list_pods(kube, namespace)
    uid = rs["metadata"]["uid"]
    mine = [
        p
        for p in pods
        if any(r["uid"] == uid and r.get("controller") for r in p["metadata"].get("ownerReferences", []))
    ]
    return [p for p in mine if is_active(p)] if active else mine


async def wait_rs_pods(
    kube: KubeClient, namespace: str, rs: dict[str, Any], count: int, *, ready: bool = True
) -> list[Any]:
    """waitRSStable: `count` active pods controlled by the RS (Ready too, by default)."""

    async def probe() -> list[Any] | None:
        pods = await controlled_pods(kube, namespace, rs)
        if len(pods) == count and (not ready or all(is_ready(p) for p in pods)):
            return pods or [None]
        return None

    pods = await eventually(probe, within=60, what=f"{count} pods of {rs['metadata']['name']}")
    return [p for p in pods if p is not None]


async def wait_status(kube: KubeClient, namespace: str, name: str, **expected: int) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        rs = await kube.get(mrs_path(namespace, name))
        status = rs.get("status") or {}
        observed = status.get("observedGeneration") == rs["metadata"]["generation"]
        return status if observed and all(status.get(k, 0) == v for k, v in expected.items()) else None

    return await eventually(probe, within=60, what=f"status {expected} of {name}")


# --- upstream integration tests ----------------------------------------------------------------------------------


# A container the CRD's schema accepts (it keeps container fields as written) and pod validation refuses.
REFUSED = {"name": "fake-name", "image": "fakeimage", "resources": {"requests": {"cpu": "-1"}}}


async def test_adoption(kube: KubeClient, namespace: str) -> None:
    """TestAdoption: a pod naming the RS as a plain owner, or no owner at all, is adopted as controller.

    The RS's own template is refused by the API server, so every pod it ends up with was adopted.
    """
    rs = await create_mrs(kube, namespace, new_mrs("rs", 3, container=REFUSED))
    other = await kube.create(
        f"/api/v1/namespaces/{namespace}/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other-controller"}},
    )
    other_ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "other-controller",
        "uid": other["metadata"]["uid"],
        "controller": True,
    }
    cases = {
        "owner-not-controller": [owner_ref(rs, controller=False)],
        "no-owner": [],
        "controller-already": [owner_ref(rs, controller=True)],
        "other-controller": [other_ref, owner_ref(rs, controller=False)],
    }
    for name, refs in cases.items():
        await kube.create(f"/api/v1/namespaces/{namespace}/pods", new_pod(name, {"name": "rs"}, refs))

    async def adopted() -> dict[str, list[tuple[str, bool]]] | None:
        pods = {p["metadata"]["name"]: p for p in await list_pods(kube, namespace)}
        refs = {
            n: [(r["name"], bool(r.get("controller"))) for r in pods[n]["metadata"].get("ownerReferences", [])]
            for n in cases
        }
        return refs if refs["owner-not-controller"] == [("rs", True)] and refs["no-owner"] == [("rs", True)] else None

    refs = await eventually(adopted, what="adoption")
    assert refs["controller-already"] == [("rs", True)]
    assert refs["other-controller"] == [("other-controller", True), ("rs", False)]  # RS-13: not ours to take
    await wait_status(kube, namespace, "rs", replicas=3)


async def test_rs_selector_immutability(kube: KubeClient, namespace: str) -> None:
    """TestRSSelectorImmutability (RS-25): the API server refuses a selector change."""
    await create_mrs(kube, namespace, new_mrs("rs", 0, {"a": "b"}))
    with pytest.raises(ApiError) as refused:
        await kube.patch(
            mrs_path(namespace, "rs"),
            {"spec": {"selector": {"matchLabels": {"a": "c"}}, "template": {"metadata": {"labels": {"a": "c"}}}}},
        )
    assert refused.value.status == 422
    assert "field is immutable" in refused.value.message


async def test_spec_replicas_change(kube: KubeClient, namespace: str) -> None:
    """TestSpecReplicasChange: scaling up and down through spec.replicas; observedGeneration follows."""
    rs = await create_mrs(kube, namespace, new_mrs("rs", 2))
    await wait_rs_pods(kube, namespace, rs, 2)
    for replicas in (3, 0, 1):
        await kube.patch(mrs_path(namespace, "rs"), {"spec": {"replicas": replicas}})
        await wait_rs_pods(kube, namespace, rs, replicas)
        await wait_status(kube, namespace, "rs", replicas=replicas, readyReplicas=replicas)
    # An annotation change bumps no generation; the status must stay observed.
    await kube.patch(mrs_path(namespace, "rs"), {"metadata": {"annotations": {"test": "annotation"}}})
    await wait_status(kube, namespace, "rs", replicas=1)
    # The operator keeps no bookkeeping on the object: no Kopf annotations, no finalizers (only status writes).
    metadata = (await kube.get(mrs_path(namespace, "rs")))["metadata"]
    assert metadata["annotations"] == {"test": "annotation"}
    assert not metadata.get("finalizers")


async def test_deleting_and_failed_pods(kube: KubeClient, namespace: str) -> None:
    """TestDeletingAndFailedPods (RS-02, RS-22): terminating and failed pods are replaced at once."""
    rs = await create_mrs(kube, namespace, new_mrs("rs", 2))
    first, second = await wait_rs_pods(kube, namespace, rs, 2)
    # A finalizer keeps the deleted pod Terminating, as a real kubelet would during its grace period.
    pod_path = f"/api/v1/namespaces/{namespace}/pods/{first['metadata']['name']}"
    await kube.patch(pod_path, {"metadata": {"finalizers": ["minik8s.dev/test"]}})
    await kube.delete(pod_path)
    await fail_pod(kube, namespace, second["metadata"]["name"])

    replacements = await wait_rs_pods(kube, namespace, rs, 2)
    names = {p["metadata"]["name"] for p in replacements}
    assert not names & {first["metadata"]["name"], second["metadata"]["name"]}
    status = await wait_status(kube, namespace, "rs", replicas=2, readyReplicas=2, terminatingReplicas=1)
    assert status["availableReplicas"] == 2
    failed = await kube.get(f"/api/v1/namespaces/{namespace}/pods/{second['metadata']['name']}")
    assert failed["status"]["phase"] == "Failed"  # RS-02: the RS never deletes failed pods itself
    await kube.patch(pod_path, {"metadata": {"finalizers": None}})
    await wait_status(kube, namespace, "rs", replicas=2, terminatingReplicas=0)


async def test_pod_deletion_cost(kube: KubeClient, namespace: str) -> None:
    """TestPodDeletionCost (RS-12 (4)): on scale-down the pod with the lower deletion cost goes first."""
    rs = await create_mrs(kube, namespace, new_mrs("rs", 2))
    pods = await wait_rs_pods(kube, namespace, rs, 2)
    costs = {pods[0]["metadata"]["name"]: "100", pods[1]["metadata"]["name"]: "-100"}
    for name, cost in costs.items():
        await kube.patch(
            f"/api/v1/namespaces/{namespace}/pods/{name}",
            {"metadata": {"annotations": {"controller.kubernetes.io/pod-deletion-cost": cost}}},
        )
    await kube.patch(mrs_path(namespace, "rs"), {"spec": {"replicas": 1}})
    (survivor,) = await wait_rs_pods(kube, namespace, rs, 1)
    assert survivor["metadata"]["name"] == pods[0]["metadata"]["name"]


async def test_overlapping_rss(kube: KubeClient, namespace: str) -> None:
    """TestOverlappingRSs: two RSs selecting the same labels each keep exactly their own pods."""
    labels = {"shared": "yes"}
    rs1 = await create_mrs(kube, namespace, new_mrs("rs-1", 1, labels, template_labels={**labels, "rs": "1"}))
    rs2 = await create_mrs(kube, namespace, new_mrs("rs-2", 2, labels, template_labels={**labels, "rs": "2"}))
    await wait_rs_pods(kube, namespace, rs1, 1)
    await wait_rs_pods(kube, namespace, rs2, 2)
    assert len(await list_pods(kube, namespace)) == 3
    await wait_status(kube, namespace, "rs-1", replicas=1)
    await wait_status(kube, namespace, "rs-2", replicas=2)


async def test_pod_orphaning_and_adoption_when_labels_change(kube: KubeClient, namespace: str) -> None:
    """TestPodOrphaningAndAdoptionWhenLabelsChange (RS-14, RS-15)."""
    rs = await create_mrs(kube, namespace, new_mrs("rs", 1))
    (pod,) = await wait_rs_pods(kube, namespace, rs, 1)
    path = f"/api/v1/namespaces/{namespace}/pods/{pod['metadata']['name']}"
    await kube.patch(path, {"metadata": {"labels": {"name": "changed"}}})

    async def released() -> bool:
        return not (await kube.get(path))["metadata"].get("ownerReferences")

    await eventually(released, what="the pod to be released")
    await wait_rs_pods(kube, namespace, rs, 1)  # a replacement
    await kube.patch(path, {"metadata": {"labels": {"name": "rs"}}})

    async def readopted_and_trimmed() -> bool:
        matching = [p for p in await list_pods(kube, namespace, "name=rs") if is_active(p)]
        return len(matching) == 1 and len(await controlled_pods(kube, namespace, rs)) == 1

    await eventually(readopted_and_trimmed, what="re-adoption, then the extra pod deleted")


async def test_general_pod_adoption(kube: KubeClient, namespace: str) -> None:
    """TestGeneralPodAdoption: orphans, and pods naming the RS as a non-controller owner, become its pods."""
    rs = await create_mrs(kube, namespace, new_mrs("rs", 1))
    (pod,) = await wait_rs_pods(kube, namespace, rs, 1)
    path = f"/api/v1/namespaces/{namespace}/pods/{pod['metadata']['name']}"
    for refs in ([owner_ref(rs, controller=False)], None):
        await kube.patch(path, {"metadata": {"ownerReferences": refs}})

        async def controlled() -> bool:
            refs = (await kube.get(path))["metadata"].get("ownerReferences") or []
            return refs == [dict(owner_ref(rs, controller=True), blockOwnerDeletion=True)]

        await eventually(controlled, what="the pod to be controlled again")


async def test_ready_and_available_replicas(kube: KubeClient, namespace: str) -> None:
    """TestReadyAndAvailableReplicas (RS-19, RS-21): availability waits out minReadySeconds."""
    rs = await create_mrs(kube, namespace, new_mrs("rs", 3, min_ready_seconds=3600))
    pods = await wait_rs_pods(kube, namespace, rs, 3)
    await set_pod_ready(kube, namespace, pods[0]["metadata"]["name"], False)
    # Pretend pods[1] has been ready for over an hour: available now.
    path = f"/api/v1/namespaces/{namespace}/pods/{pods[1]['metadata']['name']}"
    long_ago = format_time(datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2))
    current = await kube.get(path)
    conditions = [
        dict(c, lastTransitionTime=long_ago) if c["type"] == "Ready" else c for c in current["status"]["conditions"]
    ]
    await kube.patch(f"{path}/status", {"status": {"conditions": conditions}})
    await wait_status(kube, namespace, "rs", replicas=3, readyReplicas=2, availableReplicas=1)


async def test_ready_replicas_become_available_after_min_ready_seconds(kube: KubeClient, namespace: str) -> None:
    """RS-19: with no further events, availableReplicas catches up once minReadySeconds have passed."""
    await create_mrs(kube, namespace, new_mrs("rs", 2, min_ready_seconds=3))
    await wait_status(kube, namespace, "rs", replicas=2, readyReplicas=2, availableReplicas=2)


async def test_rs_scale_subresource(cluster: Cluster, kube: KubeClient, namespace: str) -> None:
    """TestRSScaleSubresource (RS-25): /scale reads and writes spec.replicas; `kubectl scale` works."""
    rs = await create_mrs(kube, namespace, new_mrs("rs", 1, {"app": "scaled"}))
    await wait_rs_pods(kube, namespace, rs, 1)
    scale = await eventually(lambda: _scale_with_selector(kube, namespace), what="the scale subresource's selector")
    assert scale["spec"]["replicas"] == 1
    assert scale["status"]["selector"] == "app=scaled"
    cluster.kubectl("scale", "mrs/rs", "-n", namespace, "--replicas=3")
    await wait_rs_pods(kube, namespace, rs, 3)
    await wait_status(kube, namespace, "rs", replicas=3, readyReplicas=3)


async def _scale_with_selector(kube: KubeClient, namespace: str) -> dict[str, Any] | None:
    scale = await kube.get(mrs_path(namespace, "rs", "scale"))
    return scale if scale.get("status", {}).get("selector") else None


async def test_extra_pods_adoption_and_deletion(kube: KubeClient, namespace: str) -> None:
    """TestExtraPodsAdoptionAndDeletion: more matching orphans than replicas: adopt all, delete the extra."""
    for index in range(3):
        await kube.create(f"/api/v1/namespaces/{namespace}/pods", new_pod(f"orphan-{index}", {"name": "rs"}))
    rs = await create_mrs(kube, namespace, new_mrs("rs", 2, container=REFUSED))  # it can only adopt
    pods = await wait_rs_pods(kube, namespace, rs, 2, ready=False)
    assert {p["metadata"]["name"] for p in pods} <= {f"orphan-{i}" for i in range(3)}  # adopted, none created
    await wait_status(kube, namespace, "rs", replicas=2)


async def test_fully_labeled_replicas(kube: KubeClient, namespace: str) -> None:
    """TestFullyLabeledReplicas (RS-21): pods missing a template-only label are not fully labeled."""
    labels = {"foo": "bar"}
    rs = await create_mrs(kube, namespace, new_mrs("rs", 2, labels, template_labels={**labels, "extra": "label"}))
    pods = await wait_rs_pods(kube, namespace, rs, 2)
    await wait_status(kube, namespace, "rs", replicas=2, fullyLabeledReplicas=2)
    await kube.patch(
        f"/api/v1/namespaces/{namespace}/pods/{pods[0]['metadata']['name']}", {"metadata": {"labels": {"extra": None}}}
    )
    await wait_status(kube, namespace, "rs", replicas=2, fullyLabeledReplicas=1)


async def test_replica_sets_default_gc_policy(kube: KubeClient, namespace: str) -> None:
    """TestReplicaSetsAppsV1DefaultGCPolicy: deleting the RS garbage-collects its pods (background cascade)."""
    rs = await create_mrs(kube, namespace, new_mrs("rs", 2))
    await wait_rs_pods(kube, namespace, rs, 2)
    await kube.delete(mrs_path(namespace, "rs"))

    async def gone() -> bool:
        return not await list_pods(kube, namespace)

    await eventually(gone, within=60, what="the pods to be garbage-collected")


# --- self-healing --------------------------------------------------------------------------------------------------


async def test_deleted_pod_is_replaced(kube: KubeClient, namespace: str) -> None:
    rs = await create_mrs(kube, namespace, new_mrs("rs", 3))
    pods = await wait_rs_pods(kube, namespace, rs, 3)
    await kube.delete(f"/api/v1/namespaces/{namespace}/pods/{pods[0]['metadata']['name']}")
    replaced = await wait_rs_pods(kube, namespace, rs, 3)
    assert pods[0]["metadata"]["name"] not in {p["metadata"]["name"] for p in replaced}


async def test_pods_lost_with_their_node_are_replaced(kube: KubeClient, namespace: str) -> None:
    """A node's pods vanish at once (force-deleted, as after a node failure): the RS restores the count."""
    rs = await create_mrs(kube, namespace, new_mrs("rs", 6))
    pods = await wait_rs_pods(kube, namespace, rs, 6)
    node = pods[0]["spec"]["nodeName"]
    lost = [p["metadata"]["name"] for p in pods if p["spec"]["nodeName"] == node]
    for name in lost:
        await kube.request(
            "DELETE",
            f"/api/v1/namespaces/{namespace}/pods/{name}",
            body={"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0},
        )
    replaced = await wait_rs_pods(kube, namespace, rs, 6)
    assert not set(lost) & {p["metadata"]["name"] for p in replaced}


# --- bad input -----------------------------------------------------------------------------------------------------


async def test_pod_refused_by_admission_sets_replica_failure(
    kube: KubeClient, namespace: str, operator: Manager
) -> None:
    """RS-23: pods the API server refuses give ReplicaFailure/FailedCreate and a Warning event, and the
    operator keeps serving the other MiniReplicaSets meanwhile.

    The namespace enforces the `restricted` Pod Security Standard, which the "bad" template does not meet:
    every schema accepts it (as apps/v1 accepts such a ReplicaSet, with a warning), admission refuses its pods.
    (A template that pod validation refuses, say a container name that is no DNS label, is refused by the
    CRD's schema up front, as apps/v1 refuses it.)
    """
    labels = {"pod-security.kubernetes.io/enforce": "restricted"}
    await kube.patch(f"/api/v1/namespaces/{namespace}", {"metadata": {"labels": labels}})
    restricted = {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    compliant = {"name": "fake-name", "image": "fakeimage", "securityContext": restricted}
    await create_mrs(kube, namespace, new_mrs("bad", 2))
    good = await create_mrs(kube, namespace, new_mrs("good", 3, container=compliant))

    async def failure() -> dict[str, Any] | None:
        status = (await kube.get(mrs_path(namespace, "bad"))).get("status") or {}
        return next((c for c in status.get("conditions", []) if c["type"] == "ReplicaFailure"), None)

    condition = await eventually(failure, what="the ReplicaFailure condition")
    assert condition["status"] == "True" and condition["reason"] == "FailedCreate"
    assert 'violates PodSecurity "restricted' in condition["message"]
    await wait_rs_pods(kube, namespace, good, 3)

    async def warning() -> list[Any]:
        events = (await kube.get(f"/api/v1/namespaces/{namespace}/events"))["items"]
        return [e for e in events if e["reason"] == "FailedCreate" and e["involvedObject"]["name"] == "bad"]

    (event, *_) = await eventually(warning, what="a FailedCreate event")
    assert event["type"] == "Warning" and event["message"].startswith("Error creating:")

    # Fixing the template clears the condition (RS-23) and the pods come.
    await kube.patch(mrs_path(namespace, "bad"), {"spec": {"template": {"spec": {"containers": [compliant]}}}})
    await wait_status(kube, namespace, "bad", replicas=2, readyReplicas=2)
    assert await failure() is None


async def test_successful_create_events_use_upstream_reasons(kube: KubeClient, namespace: str) -> None:
    rs = await create_mrs(kube, namespace, new_mrs("rs", 2))
    pods = await wait_rs_pods(kube, namespace, rs, 2)

    async def created() -> set[str] | None:
        events = (await kube.get(f"/api/v1/namespaces/{namespace}/events"))["items"]
        messages = {e["message"] for e in events if e["reason"] == "SuccessfulCreate"}
        return messages if len(messages) == 2 else None

    messages = await eventually(created, what="two SuccessfulCreate events")
    assert messages == {f"Created pod: {p['metadata']['name']}" for p in pods}


# --- expectations (RS-07..RS-10) -----------------------------------------------------------------------------------


async def test_no_double_creation_or_deletion_while_the_cache_lags(kube: KubeClient, namespace: str) -> None:
    """Every sync while pods are still arriving in the cache would over-create without expectations, and
    over-delete on scale-down: exactly 120 pods may ever exist, and 100 of them must go for 20 to stay."""
    async with PodCreations(kube, namespace) as created:
        rs = await create_mrs(kube, namespace, new_mrs("rs", 120))
        await wait_rs_pods(kube, namespace, rs, 120)
        await wait_status(kube, namespace, "rs", replicas=120, readyReplicas=120)
        await kube.patch(mrs_path(namespace, "rs"), {"spec": {"replicas": 20}})
        await wait_rs_pods(kube, namespace, rs, 20)
        await wait_status(kube, namespace, "rs", replicas=20, readyReplicas=20)

        async def deletions_done() -> bool:  # kwok removes terminating pods in its own time (slower under load)
            return len(await list_pods(kube, namespace)) == 20

        await eventually(deletions_done, what="the 100 deleted pods to be gone")  # a late extra create shows here
    assert len(created.uids) == 120
