"""Deployments against the real API server, mirroring test/integration/deployment/deployment_test.go.

Every test runs twice: against the built-in apps/v1 Deployment (kube-controller-manager's controller: the
differential arm, proof that the test encodes upstream behaviour) and against our MiniDeployment. Tests are named
after the upstream test they mirror; where upstream marks pods Ready by hand, kwok does it here, and where
upstream keeps them not Ready, their template has a nodeSelector no node matches (`PendingCapacity`).

The last tests check a rollout's invariants on a watch, state by state (`RolloutInvariants`), for three
RollingUpdate parameter sets and Recreate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from operators.runtime.client import KubeClient
from tests.integration.deploymenthelpers import (
    DESIRED_REPLICAS_ANNOTATION,
    FAKE_IMAGE,
    HASH_LABEL,
    LAST_APPLIED_ANNOTATION,
    RECREATE,
    TEST_LABELS,
    PendingCapacity,
    RolloutBounds,
    RolloutInvariants,
    WorkloadKind,
    controller_of,
    get_deployment,
    get_new_replica_set,
    get_old_replica_sets,
    new_deployment,
    replicas_fields,
    rolling_update,
    template_patch,
    update_deployment,
    wait_for_complete,
    wait_for_condition,
    wait_for_observed,
    wait_for_ready_replicas,
    wait_for_revision_and_image,
    wait_for_updated_replicas_gte,
    wait_rs_stable,
)
from tests.integration.kubehelpers import eventually, is_active, list_pods

pytestmark = pytest.mark.cluster

KINDS = [
    pytest.param(("apps/v1", "Deployment", "replicasets"), id="Deployment"),
    pytest.param(("minik8s.dev/v1", "MiniDeployment", "minireplicasets"), id="MiniDeployment"),
]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> WorkloadKind:
    """The kind under test. The built-in arm needs only kube-controller-manager; ours needs the operator."""
    kind = WorkloadKind(*request.param)
    if not kind.builtin:
        request.getfixturevalue("operator")
    return kind


@pytest.fixture
async def pending(kube: KubeClient, namespace: str) -> AsyncIterator[PendingCapacity]:
    """A nodeSelector that keeps pods Pending, and the node label that lets them run (removed at the end)."""
    capacity = PendingCapacity(kube, namespace)
    yield capacity
    await capacity.close()


async def create(kube: KubeClient, kind: WorkloadKind, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    return await kube.create(kind.path(namespace), body)


def replicas_of(rs: dict[str, Any]) -> int:
    return int(rs["spec"]["replicas"])


def check_rs_hash_labels(rs: dict[str, Any]) -> str:
    """checkRSHashLabels: the same non-empty hash in the RS's labels, selector and template labels; its name ends with it."""
    hashes = (
        rs["metadata"]["labels"].get(HASH_LABEL),
        rs["spec"]["selector"]["matchLabels"].get(HASH_LABEL),
        rs["spec"]["template"]["metadata"]["labels"].get(HASH_LABEL),
    )
    assert len(set(hashes)) == 1 and hashes[0], f"mismatching {HASH_LABEL} in {rs['metadata']['name']}: {hashes}"
    assert rs["metadata"]["name"].endswith(hashes[0])
    return str(hashes[0])


def check_pods_hash_label(pods: list[dict[str, Any]]) -> str:
    """checkPodsHashLabel: every pod carries the same non-empty hash."""
    hashes = {pod["metadata"]["labels"].get(HASH_LABEL) for pod in pods}
    assert len(hashes) == 1 and None not in hashes, f"pods with mismatching {HASH_LABEL}: {hashes}"
    return str(hashes.pop())


# --- upstream integration tests ----------------------------------------------------------------------------------


async def test_new_deployment(kube: KubeClient, namespace: str, kind: WorkloadKind) -> None:
    """TestNewDeployment (DP-08, DP-11): the new RS gets the deployment's annotations except last-applied, and
    pod-template-hash in its labels, selector and template; every pod carries that hash.

    Upstream runs 20 replicas with minReadySeconds 4; neither is what it checks, so 3 replicas and none here.
    """
    name = "test-new-deployment"
    body = new_deployment(kind, name, 3)
    body["metadata"]["annotations"] = {
        "test": "should-copy-to-replica-set",
        LAST_APPLIED_ANNOTATION: "should-not-copy-to-replica-set",
    }
    await create(kube, kind, namespace, body)
    await wait_for_revision_and_image(kube, kind, namespace, name, "1", FAKE_IMAGE)
    await wait_for_complete(kube, kind, namespace, name)

    _, new_rs = await get_new_replica_set(kube, kind, namespace, name)
    assert new_rs is not None
    annotations = new_rs["metadata"]["annotations"]
    assert annotations.get("test") == "should-copy-to-replica-set"
    assert LAST_APPLIED_ANNOTATION not in annotations
    rs_hash = check_rs_hash_labels(new_rs)

    pods = await list_pods(kube, namespace, "name=test")
    assert len(pods) == 3
    assert check_pods_hash_label(pods) == rs_hash


async def test_deployment_rolling_update(
    kube: KubeClient, namespace: str, kind: WorkloadKind, pending: PendingCapacity
) -> None:
    """TestDeploymentRollingUpdate: roll out, then roll over a rollout that cannot finish; old RSs end at 0.

    Upstream: 20 replicas, 25%/25%, minReadySeconds 4, the rolling bounds polled. Here 10 replicas and
    minReadySeconds 1 (availability still lags readiness, so the bounds bite), the bounds checked on a watch.
    """
    name = "test-rolling-update-deployment"
    body = new_deployment(kind, name, 10, strategy=rolling_update("25%", "25%"))
    body["spec"]["minReadySeconds"] = 1
    await create(kube, kind, namespace, body)
    await wait_for_revision_and_image(kube, kind, namespace, name, "1", FAKE_IMAGE)
    await wait_for_complete(kube, kind, namespace, name)

    # 25% of 10: maxSurge rounds up to 3, maxUnavailable down to 2 (DP-13).
    bounds = RolloutBounds.rolling(10, 3, 2, min_ready_seconds=1)
    async with RolloutInvariants(kube, kind, namespace, name, bounds) as watcher:
        # 1. Roll out a new image.
        await update_deployment(kube, kind, namespace, name, template_patch("new-image"))
        await wait_for_revision_and_image(kube, kind, namespace, name, "2", "new-image")
        await wait_for_complete(kube, kind, namespace, name)
        # 2. Roll over before the previous rollout finishes: revision 3's pods stay Pending.
        dont_finish = template_patch("dont-finish", node_selector=pending.node_selector)
        await update_deployment(kube, kind, namespace, name, dont_finish)
        await wait_for_revision_and_image(kube, kind, namespace, name, "3", "dont-finish")
        await update_deployment(kube, kind, namespace, name, template_patch("rollover"))
        await wait_for_revision_and_image(kube, kind, namespace, name, "4", "rollover")
        await wait_for_complete(kube, kind, namespace, name)

    old = await get_old_replica_sets(kube, kind, namespace, name)
    assert [replicas_of(rs) for rs in old] == [0, 0, 0]
    assert watcher.peak_spec_total == 13  # the surge was used, not merely respected


async def test_paused_deployment(kube: KubeClient, namespace: str, kind: WorkloadKind) -> None:
    """TestPausedDeployment (DP-22): a paused deployment starts no rollout, neither its first nor a new one.

    Upstream checks for "no new RS" right after creation; here after the controller has observed the
    generation, so a controller that wrongly rolls out has had its chance to.
    """
    name = "test-paused-deployment"
    body = new_deployment(kind, name, 1)
    body["spec"]["paused"] = True
    body["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 1
    created = await create(kube, kind, namespace, body)
    deployment = await wait_for_observed(kube, kind, namespace, name, created["metadata"]["generation"])
    _, new_rs = await get_new_replica_set(kube, kind, namespace, name)
    assert new_rs is None

    resumed = await update_deployment(kube, kind, namespace, name, {"spec": {"paused": False}})
    await wait_for_observed(kube, kind, namespace, name, resumed["metadata"]["generation"])
    await wait_for_revision_and_image(kube, kind, namespace, name, "1", FAKE_IMAGE)
    await wait_for_complete(kube, kind, namespace, name)
    _, new_rs = await get_new_replica_set(kube, kind, namespace, name)
    assert new_rs is not None

    paused = await update_deployment(kube, kind, namespace, name, {"spec": {"paused": True}})
    await wait_for_observed(kube, kind, namespace, name, paused["metadata"]["generation"])
    changed = await update_deployment(
        kube, kind, namespace, name, {"spec": {"template": {"spec": {"terminationGracePeriodSeconds": 0}}}}
    )
    deployment = await wait_for_observed(kube, kind, namespace, name, changed["metadata"]["generation"])
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 0
    _, new_rs = await get_new_replica_set(kube, kind, namespace, name)
    assert new_rs is None

    old = await get_old_replica_sets(kube, kind, namespace, name)
    assert len(old) == 1
    assert old[0]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 1


async def test_scale_paused_deployment(kube: KubeClient, namespace: str, kind: WorkloadKind) -> None:
    """TestScalePausedDeployment (DP-22): a paused deployment still scales. Upstream scales 1 -> 10; 1 -> 3 here."""
    name = "test-scale-paused-deployment"
    body = new_deployment(kind, name, 1)
    body["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 1
    await create(kube, kind, namespace, body)
    await wait_for_revision_and_image(kube, kind, namespace, name, "1", FAKE_IMAGE)
    await wait_for_complete(kube, kind, namespace, name)
    _, new_rs = await get_new_replica_set(kube, kind, namespace, name)
    assert new_rs is not None

    paused = await update_deployment(kube, kind, namespace, name, {"spec": {"paused": True}})
    await wait_for_observed(kube, kind, namespace, name, paused["metadata"]["generation"])
    scaled = await update_deployment(kube, kind, namespace, name, {"spec": {"replicas": 3}})
    await wait_for_observed(kube, kind, namespace, name, scaled["metadata"]["generation"])

    _, rs = await get_new_replica_set(kube, kind, namespace, name)
    assert rs is not None and rs["metadata"]["uid"] == new_rs["metadata"]["uid"]
    assert replicas_of(rs) == 3
    await wait_for_complete(kube, kind, namespace, name)


async def test_deployment_hash_collision(kube: KubeClient, namespace: str, kind: WorkloadKind) -> None:
    """TestDeploymentHashCollision (DP-09): the RS named after the template's hash no longer has that template,
    so status.collisionCount goes to 1 and a new RS (another hash) becomes revision 2."""
    name = "test-hash-collision-deployment"
    await create(kube, kind, namespace, new_deployment(kind, name, 1))
    await wait_for_revision_and_image(kube, kind, namespace, name, "1", FAKE_IMAGE)

    _, new_rs = await get_new_replica_set(kube, kind, namespace, name)
    assert new_rs is not None
    await kube.patch(
        kind.rs_path(namespace, new_rs["metadata"]["name"]),
        {"spec": {"template": {"spec": {"terminationGracePeriodSeconds": 5}}}},
    )

    async def collision_count() -> int | None:
        status = (await get_deployment(kube, kind, namespace, name)).get("status") or {}
        return status.get("collisionCount")

    assert await eventually(collision_count, what="status.collisionCount") == 1
    _, second = await wait_for_revision_and_image(kube, kind, namespace, name, "2", FAKE_IMAGE)
    assert second["metadata"]["name"] != new_rs["metadata"]["name"]


async def test_failed_deployment(
    kube: KubeClient, namespace: str, kind: WorkloadKind, pending: PendingCapacity
) -> None:
    """TestFailedDeployment (DP-30): pods that never get Ready time the deployment out after
    progressDeadlineSeconds; once they are Ready it completes and reports NewReplicaSetAvailable."""
    name = "progress-check"
    body = new_deployment(kind, name, 1, node_selector=pending.node_selector)
    body["spec"]["progressDeadlineSeconds"] = 3
    created = await create(kube, kind, namespace, body)
    await wait_for_updated_replicas_gte(kube, kind, namespace, name, 1, created["metadata"]["generation"])

    timed_out = await wait_for_condition(kube, kind, namespace, name, "Progressing", "ProgressDeadlineExceeded")
    assert timed_out["status"] == "False"

    await pending.release()  # upstream: mark the pods Ready
    await wait_for_complete(kube, kind, namespace, name)
    complete = await wait_for_condition(kube, kind, namespace, name, "Progressing", "NewReplicaSetAvailable")
    assert complete["status"] == "True"


async def test_overlapping_deployments(kube: KubeClient, namespace: str, kind: WorkloadKind) -> None:
    """TestOverlappingDeployments (DP-02): two deployments with the same selector each keep their own RS."""
    names = ("first-deployment", "second-deployment")
    rss = []
    for name in names:
        await create(kube, kind, namespace, new_deployment(kind, name, 1))
        await wait_for_revision_and_image(kube, kind, namespace, name, "1", FAKE_IMAGE)
        await wait_for_complete(kube, kind, namespace, name)
        _, new_rs = await get_new_replica_set(kube, kind, namespace, name)
        assert new_rs is not None
        rss.append(new_rs)
    assert rss[0]["metadata"]["uid"] != rss[1]["metadata"]["uid"]

    await update_deployment(kube, kind, namespace, names[0], {"spec": {"replicas": 2}})
    await wait_for_complete(kube, kind, namespace, names[0])
    for name, rs in zip(names, rss, strict=True):
        deployment = await get_deployment(kube, kind, namespace, name)
        current = await kube.get(kind.rs_path(namespace, rs["metadata"]["name"]))
        assert replicas_of(current) == deployment["spec"]["replicas"], name


async def test_scaled_rollout_deployment(
    kube: KubeClient, namespace: str, kind: WorkloadKind, pending: PendingCapacity
) -> None:
    """TestScaledRolloutDeployment (DP-12, DP-15, DP-17, DP-21): scaling up or down while a rollout is stuck
    proceeds, and every RS ends with desired-replicas = the new spec.replicas.

    Upstream asserts the minimum availability at two points; here the stuck rollouts run under the invariant
    watcher, and must stop exactly where the bounds meet: the old RS at replicas - maxUnavailable, the new RS
    at replicas + maxSurge minus that.
    """
    name = "test-scaled-rollout-deployment"
    await create(kube, kind, namespace, new_deployment(kind, name, 10, strategy=rolling_update(3, 2)))
    await wait_for_revision_and_image(kube, kind, namespace, name, "1", FAKE_IMAGE)
    await wait_for_complete(kube, kind, namespace, name)
    _, first = await get_new_replica_set(kube, kind, namespace, name)
    assert first is not None

    async def stuck_at(old_name: str, old_replicas: int, new_replicas: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """The stalled rollout's final split, both RSs stable there."""

        async def split() -> tuple[dict[str, Any], dict[str, Any]] | None:
            _, new_rs = await get_new_replica_set(kube, kind, namespace, name)
            old_rs = await kube.get(kind.rs_path(namespace, old_name))
            if new_rs is None or (replicas_of(old_rs), replicas_of(new_rs)) != (old_replicas, new_replicas):
                return None
            return old_rs, new_rs

        found = await eventually(split, within=60, what=f"old {old_replicas} / new {new_replicas}")
        assert found is not None
        return await wait_rs_stable(kube, kind, found[0]), await wait_rs_stable(kube, kind, found[1])

    # Roll out an image whose pods stay Pending: the rollout stalls.
    async with RolloutInvariants(kube, kind, namespace, name, RolloutBounds.rolling(10, 3, 2)):
        patch = template_patch("fakeimage2", node_selector=pending.node_selector)
        await update_deployment(kube, kind, namespace, name, patch)
        await wait_for_revision_and_image(kube, kind, namespace, name, "2", "fakeimage2")
        deployment = await get_deployment(kube, kind, namespace, name)
        assert deployment["status"]["availableReplicas"] >= 8  # MinAvailable
        first, second = await stuck_at(first["metadata"]["name"], 8, 5)

    # Scale up and roll out a runnable image at once.
    await update_deployment(kube, kind, namespace, name, template_patch("fakeimage3", replicas=20))
    await wait_for_revision_and_image(kube, kind, namespace, name, "3", "fakeimage3")
    await wait_for_complete(kube, kind, namespace, name)
    _, third = await get_new_replica_set(kube, kind, namespace, name)
    assert third is not None
    for rs in (first, second, third):
        current = await kube.get(kind.rs_path(namespace, rs["metadata"]["name"]))
        assert current["metadata"]["annotations"][DESIRED_REPLICAS_ANNOTATION] == "20", rs["metadata"]["name"]

    # Stall again, at 20 replicas.
    async with RolloutInvariants(kube, kind, namespace, name, RolloutBounds.rolling(20, 3, 2)):
        patch = template_patch("fakeimage4", node_selector=pending.node_selector)
        await update_deployment(kube, kind, namespace, name, patch)
        await wait_for_revision_and_image(kube, kind, namespace, name, "4", "fakeimage4")
        deployment = await get_deployment(kube, kind, namespace, name)
        assert deployment["status"]["availableReplicas"] >= 18  # MinAvailable
        third, fourth = await stuck_at(third["metadata"]["name"], 18, 5)

    # Scale down and roll out a runnable image at once.
    await update_deployment(kube, kind, namespace, name, template_patch("fakeimage5", replicas=5))
    await wait_for_revision_and_image(kube, kind, namespace, name, "5", "fakeimage5")
    await wait_for_complete(kube, kind, namespace, name)
    _, fifth = await get_new_replica_set(kube, kind, namespace, name)
    assert fifth is not None
    for rs in (third, fourth, fifth):
        current = await kube.get(kind.rs_path(namespace, rs["metadata"]["name"]))
        assert current["metadata"]["annotations"][DESIRED_REPLICAS_ANNOTATION] == "5", rs["metadata"]["name"]


async def test_spec_replicas_change(kube: KubeClient, namespace: str, kind: WorkloadKind) -> None:
    """TestSpecReplicasChange (DP-19): a Recreate deployment scales its RS up and down; a spec change that is
    not a scale (revisionHistoryLimit) is observed too."""
    name = "deployment"
    await create(kube, kind, namespace, new_deployment(kind, name, 1, strategy=RECREATE))
    for replicas in (2, 0, 1):  # scaleDeployment
        await update_deployment(kube, kind, namespace, name, {"spec": {"replicas": replicas}})
        await wait_for_complete(kube, kind, namespace, name)
        _, new_rs = await get_new_replica_set(kube, kind, namespace, name)
        assert new_rs is not None and replicas_of(new_rs) == replicas

    before = (await get_deployment(kube, kind, namespace, name))["metadata"]["generation"]
    updated = await update_deployment(kube, kind, namespace, name, {"spec": {"revisionHistoryLimit": 4}})
    assert updated["metadata"]["generation"] > before
    await wait_for_observed(kube, kind, namespace, name, updated["metadata"]["generation"])


async def test_deployment_available_condition(
    kube: KubeClient, namespace: str, kind: WorkloadKind, pending: PendingCapacity
) -> None:
    """TestDeploymentAvailableCondition (DP-28, DP-29): Available stays False while pods are not Ready, and
    while they are Ready for less than minReadySeconds; it turns True when minReadySeconds is lowered.

    Upstream runs 10 replicas; 3 here (the default 25% then allows no unavailable replica: all 3 must be).
    """
    name = "deployment"
    body = new_deployment(kind, name, 3, node_selector=pending.node_selector)
    body["spec"]["minReadySeconds"] = 3600
    body["spec"]["progressDeadlineSeconds"] = 7200  # must exceed minReadySeconds
    created = await create(kube, kind, namespace, body)

    await wait_for_updated_replicas_gte(kube, kind, namespace, name, 3, created["metadata"]["generation"])
    await wait_for_condition(kube, kind, namespace, name, "Available", "MinimumReplicasUnavailable")
    assert replicas_fields(await get_deployment(kube, kind, namespace, name)) == (3, 3, 0, 0, 3)

    await pending.release()  # upstream: mark the pods Ready without waiting for the deployment to complete
    await wait_for_ready_replicas(kube, kind, namespace, name)
    await wait_for_condition(kube, kind, namespace, name, "Available", "MinimumReplicasUnavailable")
    assert replicas_fields(await get_deployment(kube, kind, namespace, name)) == (3, 3, 3, 0, 3)

    updated = await update_deployment(kube, kind, namespace, name, {"spec": {"minReadySeconds": 1}})
    await wait_for_observed(kube, kind, namespace, name, updated["metadata"]["generation"])
    available = await wait_for_condition(kube, kind, namespace, name, "Available", "MinimumReplicasAvailable")
    assert available["status"] == "True"
    assert replicas_fields(await get_deployment(kube, kind, namespace, name)) == (3, 3, 3, 3, 0)


async def test_general_replica_set_adoption(kube: KubeClient, namespace: str, kind: WorkloadKind) -> None:
    """TestGeneralReplicaSetAdoption (DP-02): an RS whose only owner is not its controller is adopted.

    Upstream's other owner is a StatefulSet that does not exist; a real cluster's garbage collector would
    delete an RS whose only owner is missing, so here the other owner is a ConfigMap that exists.
    """
    name = "deployment"
    await create(kube, kind, namespace, new_deployment(kind, name, 1))
    await wait_for_revision_and_image(kube, kind, namespace, name, "1", FAKE_IMAGE)
    await wait_for_complete(kube, kind, namespace, name)
    deployment, rs = await get_new_replica_set(kube, kind, namespace, name)
    assert rs is not None
    other = await kube.create(
        f"/api/v1/namespaces/{namespace}/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other-owner"}},
    )
    not_controllers = [
        ({"apiVersion": "v1", "kind": "ConfigMap", "name": "other-owner", "uid": other["metadata"]["uid"]}, 2),
        ({"apiVersion": kind.api_version, "kind": kind.kind, "name": name, "uid": deployment["metadata"]["uid"]}, 1),
    ]
    path = kind.rs_path(namespace, rs["metadata"]["name"])
    for owner, expected_refs in not_controllers:  # testRSControllerRefPatch
        await kube.patch(path, {"metadata": {"ownerReferences": [{**owner, "controller": False}]}})

        async def controlled() -> dict[str, Any] | None:
            current = await kube.get(path)
            return current if controller_of(current) is not None else None

        current = await eventually(controlled, what=f"the controllerRef of {rs['metadata']['name']}")
        assert current is not None
        ref = controller_of(current)
        assert ref is not None and ref["uid"] == deployment["metadata"]["uid"]
        assert len(current["metadata"]["ownerReferences"]) == expected_refs


async def test_deployment_scale_subresource(kube: KubeClient, namespace: str, kind: WorkloadKind) -> None:
    """TestDeploymentScaleSubresource: /scale reads and writes spec.replicas, and reports the selector.

    Upstream updates the Scale with RetryOnConflict: a PUT carries a resourceVersion that every status
    write outdates. A merge patch of /scale (what `kubectl scale` sends) needs no retry.
    """
    name = "deployment"
    await create(kube, kind, namespace, new_deployment(kind, name, 2))
    await wait_for_revision_and_image(kube, kind, namespace, name, "1", FAKE_IMAGE)
    await wait_for_complete(kube, kind, namespace, name)

    for replicas in (3, 0):  # testScalingUsingScaleSubresource
        deployment = await get_deployment(kube, kind, namespace, name)
        scale = await kube.get(kind.path(namespace, name, "scale"))
        assert scale["spec"]["replicas"] == deployment["spec"]["replicas"]
        assert scale["status"]["selector"] == "name=test"
        await kube.patch(kind.path(namespace, name, "scale"), {"spec": {"replicas": replicas}})
        deployment = await get_deployment(kube, kind, namespace, name)
        assert deployment["spec"]["replicas"] == replicas


async def test_replica_set_orphaning_and_adoption_when_labels_change(
    kube: KubeClient, namespace: str, kind: WorkloadKind
) -> None:
    """TestReplicaSetOrphaningAndAdoptionWhenLabelsChange (DP-02, DP-09): an RS relabelled out of the
    selector is released, and the deployment's next RS avoids its name (collisionCount 1); relabelled back,
    it is adopted again."""
    name = "deployment"
    await create(kube, kind, namespace, new_deployment(kind, name, 1))
    await wait_for_revision_and_image(kube, kind, namespace, name, "1", FAKE_IMAGE)
    await wait_for_complete(kube, kind, namespace, name)
    deployment, rs = await get_new_replica_set(kube, kind, namespace, name)
    assert rs is not None
    ref = controller_of(rs)
    assert ref is not None and ref["uid"] == deployment["metadata"]["uid"]

    path = kind.rs_path(namespace, rs["metadata"]["name"])
    relabel = [{"op": "replace", "path": "/metadata/labels", "value": {"new-name": "new-test"}}]
    await kube.patch(path, relabel, patch_type="json")

    async def released() -> bool:
        return controller_of(await kube.get(path)) is None

    await eventually(released, what=f"{rs['metadata']['name']} to be released")

    async def new_replica_set() -> dict[str, Any] | None:
        return (await get_new_replica_set(kube, kind, namespace, name))[1]

    new_rs = await eventually(new_replica_set, what="a new replica set after the orphaning")
    assert new_rs is not None and new_rs["metadata"]["uid"] != rs["metadata"]["uid"]
    assert (await get_deployment(kube, kind, namespace, name))["status"]["collisionCount"] == 1

    relabel = [{"op": "replace", "path": "/metadata/labels", "value": dict(TEST_LABELS)}]
    await kube.patch(path, relabel, patch_type="json")

    async def adopted() -> bool:
        ref = controller_of(await kube.get(path))
        return ref is not None and ref["uid"] == deployment["metadata"]["uid"]

    await eventually(adopted, what=f"{rs['metadata']['name']} to be adopted again")


# --- rollout invariants ------------------------------------------------------------------------------------------

ROLLOUTS = [
    pytest.param(rolling_update(3, 2), RolloutBounds.rolling(10, 3, 2), id="maxSurge3-maxUnavailable2"),
    # 25% of 10: maxSurge rounds up to 3, maxUnavailable down to 2 (DP-13).
    pytest.param(rolling_update("25%", "25%"), RolloutBounds.rolling(10, 3, 2), id="25%-25%"),
    pytest.param(rolling_update(1, 0), RolloutBounds.rolling(10, 1, 0), id="maxUnavailable0"),
    pytest.param(RECREATE, RolloutBounds.recreating(10), id="Recreate"),
]


@pytest.mark.parametrize(("strategy", "bounds"), ROLLOUTS)
async def test_rollout_invariants(
    kube: KubeClient, namespace: str, kind: WorkloadKind, strategy: dict[str, Any], bounds: RolloutBounds
) -> None:
    """A 10-replica rollout never asks for more than replicas + maxSurge pods, never has fewer than
    replicas - maxUnavailable available once it had them, and (Recreate) never runs two templates at once;
    and it does use its surge: the bound is reached, not merely respected."""
    name = "rollout"
    await create(kube, kind, namespace, new_deployment(kind, name, 10, strategy=strategy))
    await wait_for_complete(kube, kind, namespace, name)

    async with RolloutInvariants(kube, kind, namespace, name, bounds) as watcher:
        await update_deployment(kube, kind, namespace, name, template_patch("new-image"))
        await wait_for_revision_and_image(kube, kind, namespace, name, "2", "new-image")
        await wait_for_complete(kube, kind, namespace, name)

    assert watcher.peak_spec_total == bounds.max_total
    assert len(watcher.templates_seen) == 2  # both templates' pods were watched
    old = await get_old_replica_sets(kube, kind, namespace, name)
    assert [replicas_of(rs) for rs in old] == [0]
    pods = [pod for pod in await list_pods(kube, namespace, "name=test") if is_active(pod)]
    assert len(pods) == 10 and {pod["spec"]["containers"][0]["image"] for pod in pods} == {"new-image"}
