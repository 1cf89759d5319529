"""Helpers for Deployment and MiniDeployment integration tests: bodies, waiters, and a rollout-invariant watcher.

They mirror upstream's test/integration/deployment/util.go and test/utils/deployment.go, with the workload kind
as a parameter (`WorkloadKind`): the same test runs against the built-in apps/v1 Deployment, which the local
cluster's kube-controller-manager drives, and against our MiniDeployment. The built-in arm is a differential
check that the test itself encodes upstream behaviour.

Upstream's tests have no kubelet and mark pods Ready by hand; here kwok makes every scheduled pod Ready by itself.
Where upstream keeps pods *not* Ready (a stalled rollout, a deployment that is not yet available), the template
carries `PendingCapacity.node_selector`, which no node matches, so its pods stay Pending; `PendingCapacity.release`
later labels one node to match, the same pods schedule and kwok makes them Ready: upstream's "mark pods ready".
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from collections.abc import Callable, Mapping
from typing import Any

from operators.kube.objects import parse_time
from operators.kube.selectors import LabelSelector
from operators.runtime.client import KubeClient, PatchType
from tests.integration.kubehelpers import eventually, is_ready, set_node_label

# util.go constants.
FAKE_CONTAINER_NAME = "fake-name"
FAKE_IMAGE = "fakeimage"
TEST_LABELS: Mapping[str, str] = {"name": "test"}  # testLabels()

# apps/v1 and deployment_util.go names (read from upstream, not from the code under test).
HASH_LABEL = "pod-template-hash"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"

WAIT = 60.0  # upstream's pollTimeout


# --- The kind under test -----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WorkloadKind:
    """A Deployment-like kind and the ReplicaSet-like kind it owns: apps/v1 Deployment or minik8s.dev/v1 MiniDeployment."""

    api_version: str  # "apps/v1"
    kind: str  # "Deployment"
    rs_plural: str  # "replicasets"

    @property
    def plural(self) -> str:
        return self.kind.lower() + "s"

    @property
    def rs_kind(self) -> str:
        return self.kind.replace("Deployment", "ReplicaSet")

    @property
    def builtin(self) -> bool:
        return self.api_version == "apps/v1"

    def path(self, namespace: str, name: str = "", sub: str = "") -> str:
        return "/".join(
            part for part in (f"/apis/{self.api_version}/namespaces/{namespace}/{self.plural}", name, sub) if part
        )

    def rs_path(self, namespace: str, name: str = "") -> str:
        base = f"/apis/{self.api_version}/namespaces/{namespace}/{self.rs_plural}"
        return f"{base}/{name}" if name else base


DEPLOYMENT = WorkloadKind("apps/v1", "Deployment", "replicasets")
MINI_DEPLOYMENT = WorkloadKind("minik8s.dev/v1", "MiniDeployment", "minireplicasets")


# --- Bodies ------------------------------------------------------------------------------------------------------


def rolling_update(max_surge: int | str | None = None, max_unavailable: int | str | None = None) -> dict[str, Any]:
    """A RollingUpdate strategy; an omitted parameter defaults to 25%, as in apps/v1."""
    params = {"maxSurge": max_surge, "maxUnavailable": max_unavailable}
    return {"type": "RollingUpdate", "rollingUpdate": {k: v for k, v in params.items() if v is not None}}


RECREATE: Mapping[str, Any] = {"type": "Recreate"}


def new_deployment(
    kind: WorkloadKind,
    name: str,
    replicas: int,
    *,
    strategy: Mapping[str, Any] | None = None,
    image: str = FAKE_IMAGE,
    node_selector: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """newDeployment of util.go: a RollingUpdate deployment of one fake container, selecting `TEST_LABELS`.

    Tests set other fields on the returned body, as upstream's tests do on `tester.deployment`.
    """
    pod_spec: dict[str, Any] = {"containers": [{"name": FAKE_CONTAINER_NAME, "image": image}]}
    if node_selector:
        pod_spec["nodeSelector"] = dict(node_selector)
    return {
        "apiVersion": kind.api_version,
        "kind": kind.kind,
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(TEST_LABELS)},
            "strategy": dict(strategy or rolling_update()),
            "template": {"metadata": {"labels": dict(TEST_LABELS)}, "spec": pod_spec},
        },
    }


def template_patch(
    image: str, *, node_selector: Mapping[str, str] | None = None, replicas: int | None = None
) -> dict[str, Any]:
    """A merge patch that changes the template's image (and sets or, with None, removes its nodeSelector).

    The template has one container, so replacing the containers list changes only the image.
    """
    spec: dict[str, Any] = {
        "template": {
            "spec": {
                "containers": [{"name": FAKE_CONTAINER_NAME, "image": image}],
                "nodeSelector": dict(node_selector) if node_selector else None,
            }
        }
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {"spec": spec}


class PendingCapacity:
    """Pods that stay Pending until the test lets them run: upstream's pods that are never marked Ready.

    `node_selector` matches no node (the label value is the test's namespace, so tests never share it);
    `release()` labels one node to match it, so the Pending pods schedule there and kwok makes them Ready.
    `close()` removes the label again (call it at teardown).
    """

    KEY = "minik8s.dev/test-capacity"

    def __init__(self, kube: KubeClient, namespace: str) -> None:
        self.kube, self.value = kube, namespace
        self.node_selector: Mapping[str, str] = {self.KEY: namespace}
        self.node: str | None = None

    async def release(self) -> None:
        nodes = (await self.kube.get("/api/v1/nodes"))["items"]
        self.node = min(node["metadata"]["name"] for node in nodes)
        await set_node_label(self.kube, self.node, self.KEY, self.value)

    async def close(self) -> None:
        if self.node is not None:
            await set_node_label(self.kube, self.node, self.KEY, None)
            self.node = None


# --- Reading a deployment and its ReplicaSets ---------------------------------------------------------------------


def controller_of(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """metav1.GetControllerOf: the ownerReference with controller: true, if any."""
    return next((ref for ref in obj["metadata"].get("ownerReferences") or [] if ref.get("controller")), None)


def controlled_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    ref = controller_of(obj)
    return ref is not None and ref["uid"] == owner["metadata"]["uid"]


def selector_of(deployment: Mapping[str, Any]) -> LabelSelector:
    return LabelSelector.parse(deployment["spec"]["selector"])


async def get_deployment(kube: KubeClient, kind: WorkloadKind, namespace: str, name: str) -> dict[str, Any]:
    return await kube.get(kind.path(namespace, name))


async def list_replica_sets(
    kube: KubeClient, kind: WorkloadKind, deployment: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """deploymentutil.ListReplicaSets: the RSs the deployment's selector matches AND it controls, oldest first."""
    namespace = deployment["metadata"]["namespace"]
    selector = selector_of(deployment)
    items = (await kube.get(kind.rs_path(namespace), query={"labelSelector": str(selector)}))["items"]
    owned = [rs for rs in items if controlled_by(rs, deployment)]
    return sorted(owned, key=lambda rs: (rs["metadata"]["creationTimestamp"], rs["metadata"]["name"]))


def _without_hash(template: Mapping[str, Any]) -> dict[str, Any]:
    metadata = dict(template.get("metadata") or {})
    metadata["labels"] = {k: v for k, v in (metadata.get("labels") or {}).items() if k != HASH_LABEL}
    return {**template, "metadata": metadata}


def find_new_replica_set(deployment: Mapping[str, Any], replica_sets: list[dict[str, Any]]) -> dict[str, Any] | None:
    """deploymentutil.FindNewReplicaSet: the oldest RS whose template equals the deployment's, ignoring the hash."""
    wanted = _without_hash(deployment["spec"]["template"])
    return next((rs for rs in replica_sets if _without_hash(rs["spec"]["template"]) == wanted), None)


async def get_new_replica_set(
    kube: KubeClient, kind: WorkloadKind, namespace: str, name: str
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """testutil.GetNewReplicaSet on the current deployment: (deployment, its new RS or None)."""
    deployment = await get_deployment(kube, kind, namespace, name)
    return deployment, find_new_replica_set(deployment, await list_replica_sets(kube, kind, deployment))


async def get_old_replica_sets(kube: KubeClient, kind: WorkloadKind, namespace: str, name: str) -> list[dict[str, Any]]:
    """testutil.GetOldReplicaSets' allOldRSs: every controlled RS but the new one."""
    deployment, new = await get_new_replica_set(kube, kind, namespace, name)
    rss = await list_replica_sets(kube, kind, deployment)
    return [rs for rs in rss if new is None or rs["metadata"]["uid"] != new["metadata"]["uid"]]


def condition(obj: Mapping[str, Any], condition_type: str) -> dict[str, Any] | None:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == condition_type), None)


def replicas_fields(deployment: Mapping[str, Any]) -> tuple[int, int, int, int, int]:
    """The status fields checkDeploymentStatusReplicasFields compares: replicas, updated, ready, available, unavailable."""
    status = deployment.get("status") or {}
    fields = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas")
    a, b, c, d, e = (int(status.get(field) or 0) for field in fields)
    return a, b, c, d, e


def deployment_complete(deployment: Mapping[str, Any]) -> bool:
    """deploymentutil.DeploymentComplete, against the deployment's current spec and generation."""
    replicas = deployment["spec"]["replicas"]
    status = deployment.get("status") or {}
    counts = (status.get("updatedReplicas", 0), status.get("replicas", 0), status.get("availableReplicas", 0))
    return counts == (replicas,) * 3 and status.get("observedGeneration", 0) >= deployment["metadata"]["generation"]


# --- Waiters (each the namesake of test/utils/deployment.go or util.go) --------------------------------------------


async def _wait_deployment(
    kube: KubeClient,
    kind: WorkloadKind,
    namespace: str,
    name: str,
    accept: Callable[[dict[str, Any]], bool],
    what: str,
    within: float,
) -> dict[str, Any]:
    last: dict[str, Any] = {}

    async def probe() -> dict[str, Any] | None:
        nonlocal last
        last = await get_deployment(kube, kind, namespace, name)
        return last if accept(last) else None

    try:
        found = await eventually(probe, within=within, what=f"{kind.kind} {name}: {what}")
    except AssertionError as timed_out:
        status = last.get("status")
        raise AssertionError(f"{timed_out}\n  generation {last['metadata']['generation']}, status {status}") from None
    assert found is not None
    return found


async def wait_for_complete(
    kube: KubeClient, kind: WorkloadKind, namespace: str, name: str, *, within: float = WAIT
) -> dict[str, Any]:
    """WaitForDeploymentComplete (the pods are made Ready by kwok, not by the test)."""
    return await _wait_deployment(kube, kind, namespace, name, deployment_complete, "complete", within)


async def wait_for_observed(
    kube: KubeClient, kind: WorkloadKind, namespace: str, name: str, generation: int, *, within: float = WAIT
) -> dict[str, Any]:
    """WaitForObservedDeployment: status.observedGeneration >= generation."""

    def observed(d: dict[str, Any]) -> bool:
        return int((d.get("status") or {}).get("observedGeneration") or 0) >= generation

    return await _wait_deployment(kube, kind, namespace, name, observed, f"observedGeneration >= {generation}", within)


async def wait_for_condition(
    kube: KubeClient, kind: WorkloadKind, namespace: str, name: str, condition_type: str, reason: str
) -> dict[str, Any]:
    """WaitForDeploymentWithCondition: the condition of that type has that reason; returns the condition."""

    def has(d: dict[str, Any]) -> bool:
        found = condition(d, condition_type)
        return found is not None and found.get("reason") == reason

    deployment = await _wait_deployment(kube, kind, namespace, name, has, f"{condition_type} {reason}", WAIT)
    found = condition(deployment, condition_type)
    assert found is not None
    return found


async def wait_for_updated_replicas_gte(
    kube: KubeClient, kind: WorkloadKind, namespace: str, name: str, minimum: int, generation: int
) -> dict[str, Any]:
    """WaitForDeploymentUpdatedReplicasGTE: observed that generation and has at least `minimum` updated replicas."""

    def enough(d: dict[str, Any]) -> bool:
        status = d.get("status") or {}
        return bool(status.get("observedGeneration", 0) >= generation and status.get("updatedReplicas", 0) >= minimum)

    return await _wait_deployment(kube, kind, namespace, name, enough, f"updatedReplicas >= {minimum}", WAIT)


async def wait_for_ready_replicas(kube: KubeClient, kind: WorkloadKind, namespace: str, name: str) -> dict[str, Any]:
    """waitForReadyReplicas: status.readyReplicas == spec.replicas."""

    def ready(d: dict[str, Any]) -> bool:
        return bool((d.get("status") or {}).get("readyReplicas", 0) == d["spec"]["replicas"])

    return await _wait_deployment(kube, kind, namespace, name, ready, "readyReplicas == replicas", WAIT)


async def wait_for_revision_and_image(
    kube: KubeClient, kind: WorkloadKind, namespace: str, name: str, revision: str, image: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """WaitForDeploymentRevisionAndImage: the deployment and its new RS carry `revision` and run `image`."""

    def problem(deployment: Mapping[str, Any], new: Mapping[str, Any] | None) -> str | None:
        if new is None:
            return "no new replica set yet"
        if HASH_LABEL not in new["spec"]["selector"].get("matchLabels", {}):
            return f"new replica set {new['metadata']['name']} has no {HASH_LABEL} in its selector"
        for what, obj in (("deployment", deployment), ("new replica set", new)):
            if (obj["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION) != revision:
                return f"{what} {obj['metadata']['name']} is not at revision {revision}"
            if image not in [c["image"] for c in obj["spec"]["template"]["spec"]["containers"]]:
                return f"{what} {obj['metadata']['name']} does not run {image}"
        return None

    last = "not probed"

    async def probe() -> tuple[dict[str, Any], dict[str, Any]] | None:
        nonlocal last
        deployment, new = await get_new_replica_set(kube, kind, namespace, name)
        last = problem(deployment, new) or ""
        return None if last or new is None else (deployment, new)

    try:
        found = await eventually(probe, within=WAIT, what=f"{name} at revision {revision} with image {image}")
    except AssertionError as timed_out:
        raise AssertionError(f"{timed_out}: {last}") from None
    assert found is not None
    return found


async def wait_rs_stable(kube: KubeClient, kind: WorkloadKind, rs: Mapping[str, Any]) -> dict[str, Any]:
    """WaitRSStable: the RS observed the generation it had and has status.replicas == spec.replicas."""
    namespace, name = rs["metadata"]["namespace"], rs["metadata"]["name"]
    generation, replicas = rs["metadata"]["generation"], rs["spec"]["replicas"]

    async def probe() -> dict[str, Any] | None:
        current = await kube.get(kind.rs_path(namespace, name))
        status = current.get("status") or {}
        stable = status.get("observedGeneration", 0) >= generation and status.get("replicas", 0) == replicas
        return current if stable else None

    stable = await eventually(probe, within=WAIT, what=f"{kind.rs_kind} {name} stable at {replicas} replicas")
    assert stable is not None
    return stable


async def update_deployment(
    kube: KubeClient, kind: WorkloadKind, namespace: str, name: str, patch: Any, *, patch_type: PatchType = "merge"
) -> dict[str, Any]:
    """UpdateDeploymentWithRetries, as one patch (a patch cannot conflict, so there is nothing to retry)."""
    return await kube.patch(kind.path(namespace, name), patch, patch_type=patch_type)


# --- Rollout invariants, checked on a watch ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RolloutBounds:
    """What a rollout must respect, resolved to numbers by the test (DP-13: surge rounds up, unavailable down).

    `recreate` adds Recreate's own guarantee: pods of two templates never run at the same time.
    """

    replicas: int
    max_surge: int
    max_unavailable: int
    min_ready_seconds: int = 0
    recreate: bool = False

    @classmethod
    def rolling(
        cls, replicas: int, max_surge: int, max_unavailable: int, *, min_ready_seconds: int = 0
    ) -> RolloutBounds:
        return cls(replicas, max_surge, max_unavailable, min_ready_seconds)

    @classmethod
    def recreating(cls, replicas: int) -> RolloutBounds:
        """Recreate: MaxSurge is 0 (DP-14) and there is no availability floor (all old pods go first)."""
        return cls(replicas, 0, replicas, recreate=True)

    @property
    def max_total(self) -> int:
        return self.replicas + self.max_surge

    @property
    def min_available(self) -> int:
        return self.replicas - self.max_unavailable


def pod_available(pod: dict[str, Any], min_ready_seconds: int, now: datetime.datetime) -> bool:
    """podutil.IsPodAvailable for an active pod: Ready, and Ready since more than minReadySeconds."""
    if not is_ready(pod) or pod["metadata"].get("deletionTimestamp"):
        return False
    if min_ready_seconds == 0:
        return True
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    since = parse_time(ready.get("lastTransitionTime"))
    return since is not None and since + datetime.timedelta(seconds=min_ready_seconds) < now


def _terminal(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


class _Followed:
    """One collection, listed and then watched from the list's resourceVersion: a copy of it, kept event by event.

    Like kubehelpers.PodCreations, the watch resumes from its last resourceVersion when the server ends a
    stream (which loses nothing) and fails loudly on anything else: an ERROR event (410 Gone: events were
    compacted away) or a broken connection ends the task, and `check()` raises that failure. A copy that may
    have skipped a state would make every "never" below worthless.
    """

    def __init__(
        self, kube: KubeClient, path: str, query: Mapping[str, str], on_change: Callable[[_Followed], None]
    ) -> None:
        self.kube, self.path, self.query, self.on_change = kube, path, dict(query), on_change
        self.objects: dict[str, dict[str, Any]] = {}  # uid -> the latest object
        self.version = ""  # the resourceVersion of the latest event
        self.streams = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        listed = await self.kube.get(self.path, query=self.query)
        self.objects = {obj["metadata"]["uid"]: obj for obj in listed["items"]}
        self.version = listed["metadata"]["resourceVersion"]
        self.on_change(self)
        self._task = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        while True:
            self.streams += 1
            query = {**self.query, "resourceVersion": self.version, "allowWatchBookmarks": "true"}
            async for event in self.kube.watch(self.path, query=query):
                kind, obj = event["type"], event["object"]
                if kind == "ERROR":
                    raise AssertionError(f"the watch of {self.path} broke, states were skipped: {obj}")
                self.version = obj["metadata"]["resourceVersion"]
                if kind == "BOOKMARK":
                    continue
                if kind == "DELETED":
                    self.objects.pop(obj["metadata"]["uid"], None)
                else:
                    self.objects[obj["metadata"]["uid"]] = obj
                self.on_change(self)

    def check(self) -> None:
        """Raise the watch's own failure, if it has failed."""
        if self._task is not None and self._task.done() and not self._task.cancelled():
            self._task.result()  # a _follow() that ended at all ended with an exception

    async def caught_up(self) -> bool:
        """Whether the copy equals a fresh LIST (same objects at the same resourceVersions).

        Equal means every state up to the LIST's has been seen (a watch delivers in order, and any change
        after the copy's last event would show as a difference), without comparing resourceVersions as
        numbers, which the API forbids, and without touching an object to provoke an event.
        """
        self.check()
        listed = (await self.kube.get(self.path, query=self.query))["items"]
        fresh = {obj["metadata"]["uid"]: obj["metadata"]["resourceVersion"] for obj in listed}
        return fresh == {uid: obj["metadata"]["resourceVersion"] for uid, obj in self.objects.items()}

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class RolloutInvariants:
    """Watches a deployment's pods, its ReplicaSets and the deployment itself, and records every state that
    breaks the rollout's bounds. Use as `async with RolloutInvariants(...) as watcher:` around a rollout; on a
    clean exit it catches up with the cluster and raises AssertionError listing the violations, if any.

    Checked after every event, on the state that event leaves (each watch delivers one collection's changes
    in etcd order, so the copy goes through every state the cluster went through, none skipped):

    - surge: the sum of spec.replicas over the deployment's ReplicaSets <= replicas + maxSurge. This is what
      upstream checks (checkRollingUpdateStatus, "total pods created") and what the controller decides. The
      same bound on *pods* is not exact: after the controller scales an old RS down and the new one up, the
      new RS's pods may be created before the old RS's surplus pods are deleted, and nothing upstream orders
      the two (kube-controller-manager was seen running 14 pods for replicas 10 + maxSurge 3). So the pod
      count is only recorded (`peak_pods`), not asserted.
    - availability, once first reached: at least replicas - maxUnavailable available pods, counted from the
      pods as the ReplicaSet controller counts them (not terminating, Ready for more than minReadySeconds,
      IsPodAvailable), and status.availableReplicas of the deployment (upstream's "total pods available").
      The pods are the ground truth: ReplicaSet statuses are summaries written later, so their sum can hide a
      dip (an old RS still counting pods it has just deleted). With minReadySeconds > 0 a pod becomes
      available with no event, by time alone; a state is judged when its event arrives, never earlier, so a
      late judgement can only count *more* pods available: it may miss a short dip but never invents one.
    - Recreate: never pods of two templates (pod-template-hash values) non-terminal at once. A terminating pod
      counts, as in upstream's oldPodsRunning: Recreate waits until old pods are gone or terminal.
    """

    def __init__(self, kube: KubeClient, kind: WorkloadKind, namespace: str, name: str, bounds: RolloutBounds) -> None:
        self.kube, self.kind, self.namespace, self.name, self.bounds = kube, kind, namespace, name, bounds
        self.violations: list[str] = []
        self.peak_spec_total = 0  # the largest sum of RS spec.replicas seen
        self.peak_pods = 0  # the most non-terminating pods seen at once (recorded, not bounded)
        self.low_available_pods: int | None = None  # the fewest available pods once the floor was reached
        self.low_status_available: int | None = None  # likewise, from the deployment's status
        self.templates_seen: set[str] = set()  # pod-template-hash values of every pod seen
        self._uid = ""
        self._followed: list[_Followed] = []

    def _violate(self, followed: _Followed, message: str) -> None:
        self.violations.append(f"at resourceVersion {followed.version}: {message}")

    def _check_replica_sets(self, followed: _Followed) -> None:
        mine = {
            rs["metadata"]["name"]: rs["spec"].get("replicas", 0)
            for rs in followed.objects.values()
            if (controller_of(rs) or {}).get("uid") == self._uid
        }
        total = sum(mine.values())
        self.peak_spec_total = max(self.peak_spec_total, total)
        if total > self.bounds.max_total:
            self._violate(
                followed,
                f"{self.kind.rs_kind}s ask for {total} pods > replicas + maxSurge = {self.bounds.max_total}: {mine}",
            )

    def _check_pods(self, followed: _Followed) -> None:
        now = datetime.datetime.now(datetime.UTC)
        pods = list(followed.objects.values())
        running = [p for p in pods if not _terminal(p) and not p["metadata"].get("deletionTimestamp")]
        available = sum(pod_available(p, self.bounds.min_ready_seconds, now) for p in running)
        self.peak_pods = max(self.peak_pods, len(running))
        self.templates_seen |= {p["metadata"].get("labels", {}).get(HASH_LABEL, "") for p in pods}
        if self.low_available_pods is None and available >= self.bounds.min_available:
            self.low_available_pods = available  # the deployment is available: the floor holds from now on
        if self.low_available_pods is not None:
            self.low_available_pods = min(self.low_available_pods, available)
            if available < self.bounds.min_available:
                self._violate(
                    followed, f"{available} available pods < replicas - maxUnavailable = {self.bounds.min_available}"
                )
        if self.bounds.recreate:
            live = {
                p["metadata"]["name"]: p["metadata"].get("labels", {}).get(HASH_LABEL) for p in pods if not _terminal(p)
            }
            if len(set(live.values())) > 1:
                self._violate(followed, f"Recreate runs pods of two templates at once: {live}")

    def _check_deployment(self, followed: _Followed) -> None:
        for deployment in followed.objects.values():
            available = int((deployment.get("status") or {}).get("availableReplicas") or 0)
            if self.low_status_available is None and available >= self.bounds.min_available:
                self.low_status_available = available
            if self.low_status_available is not None:
                self.low_status_available = min(self.low_status_available, available)
                if available < self.bounds.min_available:
                    self._violate(
                        followed,
                        f"status.availableReplicas {available} < replicas - maxUnavailable = "
                        f"{self.bounds.min_available}",
                    )

    async def __aenter__(self) -> RolloutInvariants:
        deployment = await get_deployment(self.kube, self.kind, self.namespace, self.name)
        self._uid = deployment["metadata"]["uid"]
        pods = f"/api/v1/namespaces/{self.namespace}/pods"
        self._followed = [
            _Followed(self.kube, pods, {"labelSelector": str(selector_of(deployment))}, self._check_pods),
            _Followed(self.kube, self.kind.rs_path(self.namespace), {}, self._check_replica_sets),
            _Followed(
                self.kube,
                self.kind.path(self.namespace),
                {"fieldSelector": f"metadata.name={self.name}"},
                self._check_deployment,
            ),
        ]
        for followed in self._followed:
            await followed.start()
        return self

    def check(self) -> None:
        """Raise a watch's own failure, if one has failed (the recorded values are only worth something if not)."""
        for followed in self._followed:
            followed.check()

    async def catch_up(self, within: float = WAIT) -> None:
        """Wait until every watch has seen the cluster's current state (see _Followed.caught_up)."""

        async def all_caught_up() -> bool:
            return all([await followed.caught_up() for followed in self._followed])

        await eventually(all_caught_up, within=within, what="the rollout watches to catch up")

    async def __aexit__(self, error_type: object, *_: object) -> None:
        try:
            if error_type is None:
                await self.catch_up()
            self.check()
        finally:
            for followed in self._followed:
                await followed.stop()
        if error_type is None and self.violations:
            first = [v if len(v) < 400 else v[:400] + "..." for v in self.violations[:10]]
            more = f"\n  ... {len(self.violations) - 10} more" if len(self.violations) > 10 else ""
            raise AssertionError(
                f"rollout invariants of {self.kind.kind} {self.name} broken in {len(self.violations)} states "
                f"({self.bounds}):\n  " + "\n  ".join(first) + more
            )
