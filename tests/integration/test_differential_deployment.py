"""The differential test: one scripted scenario against an apps/v1 Deployment and a MiniDeployment, side by side.

kube-controller-manager runs the Deployment, our operator the MiniDeployment, in the same namespace and the
same cluster. Each step is applied to both; the test waits until both have *settled* and then compares what
the two controllers produced, hashes and names aside: the ReplicaSets by revision (spec.replicas and the
revision, revision-history, desired-replicas, max-replicas and change-cause annotations), the deployment's
status counts, its conditions (type, status, reason, and the message with names replaced) and its revision
and change-cause annotations.

"Settled" is a fixpoint, not a pause: the ReplicaSets hold the sizes upstream's arithmetic reaches for that
step (written out per step below, and checked against KCM by the built-in arm: if the expectation were wrong,
the built-in arm would not settle either), every ReplicaSet's status has caught up with its spec, and the
deployment's status adds up its ReplicaSets' statuses for its latest generation. In a stuck step no new pod
ever becomes ready (its template's nodeSelector matches no node), so nothing moves after that point.

The steps also compare the *sequence* of ReplicaSet states each controller went through, read from a watch
that may not lose an event. That sequence is compared for the stuck steps only: there no pod becomes
available, so every decision depends on the controller's own earlier writes and the sequence is the same
however events interleave. In a step whose pods become ready, how many scale-ups fit between two readiness
events depends on timing, in KCM as in ours; there only the settled state is compared.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

import pytest

from operators.app import Manager
from operators.runtime.client import KubeClient
from tests.integration.deploymenthelpers import DEPLOYMENT, MINI_DEPLOYMENT, WorkloadKind
from tests.integration.kubehelpers import eventually

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("operator")]

ARMS: dict[str, WorkloadKind] = {"builtin": DEPLOYMENT, "mini": MINI_DEPLOYMENT}
REVISION = "deployment.kubernetes.io/revision"
RS_ANNOTATIONS = (
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "kubernetes.io/change-cause",
)
UNSCHEDULABLE = {"no-such-node": "true"}
SETTLE = 90.0

State = dict[int, int]  # revision -> spec.replicas of every ReplicaSet the deployment owns


def manifest(kind: WorkloadKind, name: str) -> dict[str, Any]:
    return {
        "apiVersion": kind.api_version,
        "kind": kind.kind,
        "metadata": {"name": name, "annotations": {"kubernetes.io/change-cause": "create"}},
        "spec": {
            "replicas": 4,
            "revisionHistoryLimit": 2,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "image-1"}]},
            },
        },
    }


def template_change(image: str, *, stuck: bool = False, cause: str | None = None) -> dict[str, Any]:
    """A merge patch of the template: a new image, and the unschedulable nodeSelector set or removed."""
    patch: dict[str, Any] = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "app", "image": image}],
                    "nodeSelector": UNSCHEDULABLE if stuck else None,
                }
            }
        }
    }
    if cause is not None:
        patch["metadata"] = {"annotations": {"kubernetes.io/change-cause": cause}}
    return patch


class ReplicaSetHistory:
    """Every distinct state of one deployment's ReplicaSets, in order, from a watch that loses nothing.

    The watch resumes from the last resourceVersion when the server ends it; an ERROR event (410: events
    compacted away) fails the test instead of silently missing states.
    """

    def __init__(self, kube: KubeClient, kind: WorkloadKind, namespace: str, owner_uid: str) -> None:
        self.kube, self.kind, self.namespace, self.owner_uid = kube, kind, namespace, owner_uid
        self.objects: dict[str, dict[str, Any]] = {}
        self.states: list[State] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        listed = await self.kube.get(self.kind.rs_path(self.namespace))
        for rs in listed["items"]:
            self.objects[rs["metadata"]["name"]] = rs
        self._record()
        self._task = asyncio.create_task(self._follow(listed["metadata"]["resourceVersion"]))

    async def _follow(self, version: str) -> None:
        while True:
            query = {"resourceVersion": version, "allowWatchBookmarks": "true"}
            async for event in self.kube.watch(self.kind.rs_path(self.namespace), query=query):
                if event["type"] == "ERROR":
                    raise AssertionError(f"the {self.kind.rs_plural} watch broke, states lost: {event['object']}")
                obj = event["object"]
                version = obj["metadata"]["resourceVersion"]
                if event["type"] == "BOOKMARK":
                    continue
                if event["type"] == "DELETED":
                    self.objects.pop(obj["metadata"]["name"], None)
                else:
                    self.objects[obj["metadata"]["name"]] = obj
                self._record()

    def _record(self) -> None:
        state = state_of(owned(self.objects.values(), self.owner_uid))
        if not self.states or self.states[-1] != state:
            self.states.append(state)

    def mark(self) -> int:
        """The position after which the next step's states start."""
        self.check()
        return len(self.states) - 1

    def since(self, mark: int) -> list[State]:
        self.check()
        return self.states[mark:]

    def check(self) -> None:
        if self._task is not None and self._task.done() and not self._task.cancelled():
            self._task.result()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def owned(replica_sets: Any, owner_uid: str) -> list[dict[str, Any]]:
    return [
        rs
        for rs in replica_sets
        if any(r.get("controller") and r["uid"] == owner_uid for r in rs["metadata"].get("ownerReferences") or ())
    ]


def state_of(replica_sets: list[dict[str, Any]]) -> State:
    return {int(rs["metadata"]["annotations"][REVISION]): rs["spec"]["replicas"] for rs in replica_sets}


class Arm:
    """One side of the comparison: a deployment of one kind, its ReplicaSet history, its snapshots."""

    def __init__(self, kube: KubeClient, kind: WorkloadKind, namespace: str, name: str) -> None:
        self.kube, self.kind, self.namespace, self.name = kube, kind, namespace, name
        self.history: ReplicaSetHistory | None = None

    async def create(self) -> None:
        created = await self.kube.create(self.kind.path(self.namespace), manifest(self.kind, self.name))
        self.history = ReplicaSetHistory(self.kube, self.kind, self.namespace, created["metadata"]["uid"])
        await self.history.start()

    async def patch(self, patch: Mapping[str, Any]) -> None:
        await self.kube.patch(self.kind.path(self.namespace, self.name), patch)

    async def read(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        deployment = await self.kube.get(self.kind.path(self.namespace, self.name))
        listed = await self.kube.get(self.kind.rs_path(self.namespace))
        return deployment, owned(listed["items"], deployment["metadata"]["uid"])

    async def settled(self, expected: State) -> dict[str, Any] | None:
        """The snapshot, once the fixpoint described in the module docstring is reached; else None."""
        deployment, replica_sets = await self.read()
        status = deployment.get("status") or {}
        if state_of(replica_sets) != expected:
            return None
        if status.get("observedGeneration") != deployment["metadata"]["generation"]:
            return None
        for rs in replica_sets:
            rs_status = rs.get("status") or {}
            caught_up = rs_status.get("observedGeneration") == rs["metadata"]["generation"]
            if not caught_up or rs_status.get("replicas", 0) != rs["spec"]["replicas"]:
                return None
        totals = {
            field: sum((rs.get("status") or {}).get(field, 0) for rs in replica_sets)
            for field in ("replicas", "readyReplicas", "availableReplicas")
        }
        if any(status.get(field, 0) != total for field, total in totals.items()):
            return None
        return self.snapshot(deployment, replica_sets)

    def snapshot(self, deployment: dict[str, Any], replica_sets: list[dict[str, Any]]) -> dict[str, Any]:
        status = deployment.get("status") or {}
        names = sorted({rs["metadata"]["name"] for rs in replica_sets} | {self.name}, key=len, reverse=True)

        def anonymous(message: str) -> str:
            for name in names:  # the longest first: an RS name starts with the deployment's
                message = message.replace(name, "<rs>" if name != self.name else "<deployment>")
            return re.sub(r"<deployment>-[a-z0-9]+", "<rs>", message)

        return {
            "status": {
                field: status.get(field, 0)
                for field in (
                    "replicas",
                    "updatedReplicas",
                    "readyReplicas",
                    "availableReplicas",
                    "unavailableReplicas",
                )
            },
            "conditions": sorted(
                (c["type"], c["status"], c.get("reason", ""), anonymous(c.get("message", "")))
                for c in status.get("conditions") or ()
            ),
            "annotations": {
                key: (deployment["metadata"].get("annotations") or {}).get(key)
                for key in (REVISION, "kubernetes.io/change-cause")
            },
            "replica_sets": {
                int(rs["metadata"]["annotations"][REVISION]): {
                    "replicas": rs["spec"]["replicas"],
                    **{key: (rs["metadata"].get("annotations") or {}).get(key) for key in RS_ANNOTATIONS},
                }
                for rs in replica_sets
            },
        }


def side_by_side(builtin: Any, mini: Any) -> str:
    left = json.dumps(builtin, indent=1, sort_keys=True, default=str).splitlines()
    right = json.dumps(mini, indent=1, sort_keys=True, default=str).splitlines()
    return "\n".join(difflib.unified_diff(left, right, "Deployment (KCM)", "MiniDeployment", lineterm=""))


class Scenario:
    def __init__(self, kube: KubeClient, namespace: str) -> None:
        self.arms = {label: Arm(kube, kind, namespace, f"web-{label}") for label, kind in ARMS.items()}
        self.marks: dict[str, int] = {}

    async def create(self) -> None:
        for arm in self.arms.values():
            await arm.create()

    async def step(self, patch: Mapping[str, Any]) -> None:
        """Apply the same patch to both, after marking where this step's ReplicaSet states begin."""
        for label, arm in self.arms.items():
            assert arm.history is not None
            self.marks[label] = arm.history.mark()
            await arm.patch(patch)

    async def settle(self, title: str, expected: State, *, compare_sequence: bool = False) -> dict[str, Any]:
        """Wait until both arms have reached `expected` and agree; fail with a side-by-side diff otherwise."""
        snapshots: dict[str, dict[str, Any] | None] = {}

        async def agreed() -> bool:
            for label, arm in self.arms.items():
                snapshots[label] = await arm.settled(expected)
            return snapshots["builtin"] is not None and snapshots["builtin"] == snapshots["mini"]

        try:
            await eventually(agreed, within=SETTLE, interval=0.5, what=f"both settled at {expected}")
        except AssertionError:
            states = {label: await arm.read() for label, arm in self.arms.items()}
            pretty = {label: arm.snapshot(*states[label]) for label, arm in self.arms.items()}
            reached = {label: state_of(replica_sets) for label, (_, replica_sets) in states.items()}
            raise AssertionError(
                f"step '{title}': the controllers did not both settle at {expected} and agree "
                f"(ReplicaSets now: {reached})\n" + side_by_side(pretty["builtin"], pretty["mini"])
            ) from None
        if compare_sequence:
            sequences = {}
            for label, arm in self.arms.items():
                assert arm.history is not None
                sequences[label] = arm.history.since(self.marks.get(label, 0))
            assert sequences["builtin"] == sequences["mini"], (
                f"step '{title}': different ReplicaSet sequences\n"
                + side_by_side(sequences["builtin"], sequences["mini"])
            )
        snapshot = snapshots["mini"]
        assert snapshot is not None
        return snapshot

    async def stop(self) -> None:
        for arm in self.arms.values():
            if arm.history is not None:
                await arm.history.stop()


def conditions(snapshot: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    return {kind: (status, reason) for kind, status, reason, _ in snapshot["conditions"]}


async def test_deployment_and_minideployment_produce_the_same_rollouts(
    kube: KubeClient, namespace: str, operator: Manager
) -> None:
    scenario = Scenario(kube, namespace)
    try:
        await scenario.create()
        first = await scenario.settle("1 create", {1: 4})
        assert conditions(first)["Progressing"] == ("True", "NewReplicaSetAvailable")

        await scenario.step(template_change("image-2", cause="image 2"))
        second = await scenario.settle("2 rolling update", {1: 0, 2: 4})
        assert second["replica_sets"][2]["kubernetes.io/change-cause"] == "image 2"

        # Stuck: 5 pods at most (4 + surge 1), 3 available at least (4 - 1): the new RS gets 2, the old keeps 3.
        await scenario.step(template_change("image-3", stuck=True, cause="image 3"))
        await scenario.settle("3 stuck rollout", {1: 0, 2: 3, 3: 2}, compare_sequence=True)

        # Scaled to 10 mid-rollout: 11 (10 + 1) shared in proportion to 3:2 of 5 -> 7 and 4 (DP-21).
        await scenario.step({"spec": {"replicas": 10}})
        await scenario.settle("4 scaled while stuck", {1: 0, 2: 7, 3: 4}, compare_sequence=True)

        # Paused: a template change makes no new RS, and every RS is then old: history is pruned to 2 old RSs
        # even while paused (DP-22), so revision 1 goes.
        await scenario.step({"spec": {"paused": True}})
        await scenario.settle("5a paused", {1: 0, 2: 7, 3: 4})
        await scenario.step(template_change("image-4", stuck=True, cause="image 4"))
        paused = await scenario.settle("5b template changed while paused", {2: 7, 3: 4})
        assert conditions(paused)["Progressing"] == ("Unknown", "DeploymentPaused")
        # Scaled to 6 while paused: 7 (6 + 1) for 11 -> 4 and 3.
        await scenario.step({"spec": {"replicas": 6}})
        await scenario.settle("5c scaled while paused", {2: 4, 3: 3}, compare_sequence=True)
        # Resumed: the new RS starts at 0 (7 already), revision 3's unavailable pods go first, then it grows to 2.
        await scenario.step({"spec": {"paused": False}})
        await scenario.settle("5d resumed, stuck again", {2: 4, 3: 1, 4: 2}, compare_sequence=True)

        # Roll back as `kubectl rollout undo --to-revision=2` does: revision 2's template, its change-cause.
        await scenario.step(template_change("image-2", cause="image 2"))
        back = await scenario.settle("6 rollback to revision 2", {3: 0, 4: 0, 5: 6})
        assert back["replica_sets"][5]["deployment.kubernetes.io/revision-history"] == "2"
        assert back["annotations"][REVISION] == "5"

        # One more rollout: three old RSs, two kept (revisionHistoryLimit 2): revision 3 goes.
        await scenario.step(template_change("image-5", cause="image 5"))
        await scenario.settle("7 history limit", {4: 0, 5: 0, 6: 6})

        # A deadline of 10 s and a stuck template: Progressing False, ProgressDeadlineExceeded, on both.
        stuck = template_change("image-6", stuck=True, cause="image 6")
        stuck["spec"]["progressDeadlineSeconds"] = 10
        await scenario.step(stuck)
        await scenario.settle("8a stuck again", {4: 0, 5: 0, 6: 5, 7: 2}, compare_sequence=True)

        async def timed_out() -> bool:
            deployments = [await arm.read() for arm in scenario.arms.values()]
            found = [
                next((c for c in (d.get("status") or {}).get("conditions") or () if c["type"] == "Progressing"), {})
                for d, _ in deployments
            ]
            return all(c.get("reason") == "ProgressDeadlineExceeded" and c.get("status") == "False" for c in found)

        await eventually(timed_out, within=60, interval=0.5, what="ProgressDeadlineExceeded on both")
        final = await scenario.settle("8b past the deadline", {4: 0, 5: 0, 6: 5, 7: 2})
        assert conditions(final)["Progressing"] == ("False", "ProgressDeadlineExceeded")
    finally:
        await scenario.stop()
