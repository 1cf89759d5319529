"""The MiniReplicaSet controller: informer events in, syncReplicaSet out (pkg/controller/replicaset/replica_set.go).

This is the glue. Every decision is made by the pure modules beside it (sync.py, status.py, deletion.py,
slowstart.py, and the runtime's ownership and expectations); this file maps events to keys (RS-17..RS-20)
and performs the API calls those decisions ask for.

The entry point is a Kopf handler on MiniReplicaSets (`Manager.primary`): Kopf's watch feeds the shared
MiniReplicaSet informer, whose subscriber enqueues the key. Pods, far more numerous, come from the
runtime's own reflector, indexed by controller UID and by label so that a sync looks only at the pods it
owns or selects, and a pod event finds the MiniReplicaSets selecting it without scanning the namespace.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable
from typing import Any

from operators.controllers.podcontrol import PodControl, pod_from_template
from operators.controllers.podutil import filter_active_pods, filter_claimed_pods, filter_terminating_pods, pod_key
from operators.controllers.replicaset.deletion import get_pod_keys
from operators.controllers.replicaset.model import API_VERSION, KIND, ManageError, ReplicaSetView
from operators.controllers.replicaset.slowstart import SLOW_START_INITIAL_BATCH_SIZE, slow_start_batch
from operators.controllers.replicaset.status import calculate_status, needs_status_update
from operators.controllers.replicaset.sync import (
    ScaleDown,
    ScaleUp,
    availability_requeue_after,
    indirectly_related_pods,
    manage_replicas,
    replica_sets_with_same_controller,
)
from operators.kube.objects import OwnerReference, Pod
from operators.kube.resources import MINIREPLICASETS, PODS
from operators.runtime.client import ApiError, KubeClient
from operators.runtime.controller import Controller, Reconciler, Result, SyncError
from operators.runtime.events import EventRecorder, InvolvedObject
from operators.runtime.expectations import UIDTrackingControllerExpectations
from operators.runtime.informers import (
    BY_CONTROLLER_UID,
    BY_LABEL,
    BY_SELECTOR,
    Informer,
    index_by_controller_uid,
    index_by_label,
    index_by_selector,
)
from operators.runtime.manager import Manager
from operators.runtime.ownership import Owner, delete_owner_ref_strategic_merge_patch, owner_ref_controller_patch
from operators.runtime.refmanager import claim

__all__ = ["MINIREPLICASETS", "ReplicaSetController"]

logger = logging.getLogger(__name__)
COMPONENT = "minireplicaset-controller"


class ReplicaSetController:
    """Reconciles MiniReplicaSets against their pods."""

    name = "minireplicaset"

    def __init__(
        self,
        client: KubeClient,
        recorder: EventRecorder,
        replica_sets: Informer[ReplicaSetView],
        pods: Informer[Pod],
        controller_factory: Callable[[Reconciler], Controller],
    ) -> None:
        """NewReplicaSetController: the client, the event recorder and the informers are made by the caller."""
        self.client = client
        self.recorder = recorder
        self.pod_control = PodControl(client, recorder)
        self.replica_sets = replica_sets
        self.pods = pods
        self.expectations = UIDTrackingControllerExpectations()
        self.controller: Controller = controller_factory(self)
        replica_sets.subscribe(self._on_replica_set)
        pods.subscribe(self._on_pod)

    @classmethod
    def setup(cls, manager: Manager) -> ReplicaSetController:
        """Create the controller on `manager`: its informers and indexes, its event recorder, its workers."""
        replica_sets = manager.primary(MINIREPLICASETS, ReplicaSetView.from_body, id="minireplicaset")
        replica_sets.add_index(BY_SELECTOR, index_by_selector)
        pods = manager.informer(PODS, Pod.from_dict)
        pods.add_index(BY_CONTROLLER_UID, index_by_controller_uid)
        pods.add_index(BY_LABEL, index_by_label)
        return cls(
            manager.client,
            manager.event_recorder(COMPONENT),
            replica_sets,
            pods,
            lambda reconciler: manager.controller(reconciler, waits_for=[replica_sets, pods]),
        )

    # --- events -> keys (RS-17, RS-18, RS-20) ------------------------------------------------------------------

    def _on_replica_set(self, old: ReplicaSetView | None, new: ReplicaSetView | None) -> None:
        if old is not None and (new is None or old.uid != new.uid):
            self.expectations.delete_expectations(old.key)  # RS-10: deleted, or re-created under the same name
        if (current := new or old) is not None:
            self.controller.enqueue(current.key)  # RS-20

    def _on_pod(self, old: Pod | None, new: Pod | None) -> None:
        if new is None:
            if old is not None:
                self._pod_deleted(old)
            return
        if old is None or old.uid != new.uid:
            if old is not None:
                self._pod_deleted(old)
            self._pod_added(new)
            return
        self._pod_updated(old, new)

    # --8<-- [start:pod-added]
    def _pod_added(self, pod: Pod) -> None:
        if pod.deletion_timestamp is not None:
            self._pod_deleted(pod)  # RS-17: a pod that shows up terminating counts as deleted
            return
        if (ref := pod.controller_ref) is not None:
            if (rs := self._resolve(pod.namespace, ref)) is not None:
                self.expectations.creation_observed(rs.key)  # RS-07: only pods that name us count
                self.controller.enqueue(rs.key)
            return
        for rs in self._replica_sets_selecting(pod):  # an orphan: wake everyone who might adopt it
            self.controller.enqueue(rs.key)

    # --8<-- [end:pod-added]

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        if old.resource_version == new.resource_version:
            return  # a re-list delivered the same object again
        labels_changed = old.labels != new.labels
        if new.deletion_timestamp is not None:
            self._pod_deleted(new)  # RS-18: graceful deletion started; don't wait for the delete event
            if labels_changed:
                self._pod_deleted(old)
            return
        old_ref, new_ref = old.controller_ref, new.controller_ref
        if old_ref != new_ref and old_ref is not None and (rs := self._resolve(old.namespace, old_ref)):
            self.controller.enqueue(rs.key)  # the old owner lost a pod
        if new_ref is not None:
            if (rs := self._resolve(new.namespace, new_ref)) is not None:
                self.controller.enqueue(rs.key)
                if rs.min_ready_seconds > 0 and new.ready and not old.ready:
                    # RS-19: no event marks the moment minReadySeconds have passed; look again then.
                    self.controller.enqueue_after(rs.key, rs.min_ready_seconds + 1)
            return
        if labels_changed or old_ref != new_ref:
            for rs in self._replica_sets_selecting(new):
                self.controller.enqueue(rs.key)

    # --8<-- [start:pod-deleted]
    def _pod_deleted(self, pod: Pod) -> None:
        if (ref := pod.controller_ref) is None or (rs := self._resolve(pod.namespace, ref)) is None:
            return
        self.expectations.deletion_observed(rs.key, pod_key(pod))  # RS-08
        self.controller.enqueue(rs.key)

    # --8<-- [end:pod-deleted]

    def _resolve(self, namespace: str, ref: OwnerReference) -> ReplicaSetView | None:
        """resolveControllerRef: the cached RS the ref names, if it is really the one (same UID)."""
        if ref.kind != KIND or not ref.api_version.startswith("minik8s.dev/"):
            return None
        rs = self.replica_sets.get(namespace, ref.name)
        return rs if rs is not None and rs.uid == ref.uid else None

    def _replica_sets_selecting(self, pod: Pod) -> list[ReplicaSetView]:
        """getPodReplicaSets: an empty or invalid selector selects nothing here, never everything."""
        return [rs for rs in self.replica_sets.selecting(pod.namespace, pod.labels) if not rs.selector.empty]

    def _candidate_pods(self, rs: ReplicaSetView) -> list[Pod]:
        """The pods a sync of `rs` must look at: those it controls and those its selector matches.

        Upstream lists the whole namespace; every other pod is owned by someone else and does not match,
        so claiming, counting and ranking come out the same from these two index lookups.
        """
        found = {pod.uid: pod for pod in self.pods.by_index(BY_CONTROLLER_UID, rs.uid)}
        found.update((pod.uid, pod) for pod in self.pods.select(rs.namespace, rs.selector))
        return [pod for pod in found.values() if pod.namespace == rs.namespace]

    # --- sync (RS-01) ------------------------------------------------------------------------------------------

    # --8<-- [start:sync]
    async def sync(self, key: str) -> Result | None:
        namespace, name = key.split("/", 1)
        rs = self.replica_sets.get(namespace, name)
        if rs is None:
            self.expectations.delete_expectations(key)
            return None
        if rs.selector_error:
            # RS-01 logs and does not requeue; we also tell the user, on the object.
            self.recorder.record(_involved(rs), "Warning", "InvalidSelector", rs.selector_error)
            return None
        now = datetime.datetime.now(datetime.UTC)
        rs_needs_sync = self.expectations.satisfied_expectations(key) and rs.deletion_timestamp is None
        pods = self._candidate_pods(rs)
        claimed = await self._claim_pods(rs, filter_active_pods(pods))  # RS-02, RS-13..16
        terminating = filter_claimed_pods(rs.uid, rs.selector, filter_terminating_pods(pods))

        manage_error: ManageError | None = None
        if rs_needs_sync:
            manage_error = await self._manage_replicas(rs, claimed, now)

        status = calculate_status(rs, claimed, manage_error, now, terminating_pods=terminating)  # RS-21..23
        if needs_status_update(rs, status):  # RS-24
            await self._update_status(rs, {**status.to_dict(), "selector": str(rs.selector)})
        if manage_error is not None:
            raise SyncError(manage_error.message)
        delay = availability_requeue_after(rs, status, claimed, now)  # RS-19
        return Result(requeue_after=delay.total_seconds()) if delay is not None else None

    # --8<-- [end:sync]

    async def _update_status(self, rs: ReplicaSetView, status: dict[str, Any]) -> None:
        """updateReplicaSetStatus: write with the cached resourceVersion; on a conflict, once more with a fresh one.

        The resourceVersion is a precondition (UpdateStatus in Go), so a write based on an object someone
        else changed meanwhile fails with 409 Conflict instead of silently winning. Upstream then GETs the
        object and retries once (statusUpdateRetries = 1). A second conflict fails the sync, and the key is
        retried. Our own write goes into the cache at once (`observe_write`): the next sync, often only
        milliseconds later, must not compute from the version this write replaced.
        """
        path = MINIREPLICASETS.path(rs.namespace, rs.name, "status")
        version = rs.resource_version
        for attempt in range(2):
            try:
                written = await self.client.patch(path, {"metadata": {"resourceVersion": version}, "status": status})
                self.replica_sets.observe_write(version, written)
                return
            except ApiError as error:
                if not error.conflict or attempt == 1:
                    raise
            fresh = await self.client.get(MINIREPLICASETS.path(rs.namespace, rs.name))
            meta: dict[str, Any] = fresh.get("metadata") or {}
            if meta.get("uid") != rs.uid:
                return  # deleted and re-created: the new object gets its own sync
            version = str(meta.get("resourceVersion", ""))

    async def _manage_replicas(
        self, rs: ReplicaSetView, active: list[Pod], now: datetime.datetime
    ) -> ManageError | None:
        related_sets = replica_sets_with_same_controller(rs, self.replica_sets.list(rs.namespace))
        selected = [pod for related in related_sets for pod in self.pods.select(rs.namespace, related.selector)]
        decision = manage_replicas(rs, active, indirectly_related_pods(related_sets, selected), now)
        logger.debug("sync %s: %d active pods for %d replicas: %s", rs.key, len(active), rs.replicas, decision)
        match decision:
            case ScaleUp(count=count):
                return await self._create_pods(rs, count)
            case ScaleDown(pods=pods):
                return await self._delete_pods(rs, pods)
        return None

    # --8<-- [start:create-pods]
    async def _create_pods(self, rs: ReplicaSetView, count: int) -> ManageError | None:
        """RS-04, RS-05, RS-07: expect, then create in slow-start batches; unexpect what was never created."""
        self.expectations.expect_creations(rs.key, count)
        owner = Owner(API_VERSION, KIND, rs.name, rs.uid, rs.namespace)
        try:
            body = pod_from_template(
                rs.template, namespace=rs.namespace, generate_name=f"{rs.name}-", controller_ref=owner.controller_ref()
            )
        except ValueError as error:
            self.expectations.lower_expectations(rs.key, count, 0)
            self.recorder.record(_involved(rs), "Warning", "FailedCreate", f"Error creating: {error}")
            return ManageError("create", str(error))

        async def create() -> None:
            try:
                await self.pod_control.create_pod(_involved(rs), body)
            except ApiError as error:
                if error.namespace_terminating:
                    return  # RS-04: every further create would fail the same way; nothing to do
                raise

        successes, failure = await slow_start_batch(count, SLOW_START_INITIAL_BATCH_SIZE, create)
        if skipped := count - successes:
            self.expectations.lower_expectations(rs.key, skipped, 0)
        return ManageError("create", _one_line(failure)) if failure is not None else None

    # --8<-- [end:create-pods]

    # --8<-- [start:delete-pods]
    async def _delete_pods(self, rs: ReplicaSetView, pods: tuple[Pod, ...]) -> ManageError | None:
        """RS-06, RS-08: expect the deletions by pod key, then delete them all in parallel.

        A delete that failed *for any reason* (refused, timed out, connection lost) is marked observed at
        once, as upstream does: otherwise the expectation would wait for an event that never comes, and the
        controller would stop scaling this MiniReplicaSet until the expectation expired (5 minutes). A
        timed-out delete that did reach the server is harmless: its event finds the key no longer expected.
        """
        self.expectations.expect_deletions(rs.key, get_pod_keys(pods))

        async def delete(pod: Pod) -> Exception | None:
            try:
                await self.pod_control.delete_pod(_involved(rs), pod)
            except Exception as error:
                self.expectations.deletion_observed(rs.key, pod_key(pod))  # it will never be observed
                return None if isinstance(error, ApiError) and error.not_found else error
            return None

        errors = [error for error in await asyncio.gather(*(delete(pod) for pod in pods)) if error is not None]
        return ManageError("delete", _one_line(errors[0])) if errors else None

    # --8<-- [end:delete-pods]

    # --- claiming (RS-13..RS-16) -------------------------------------------------------------------------------

    # --8<-- [start:claim-pods]
    async def _claim_pods(self, rs: ReplicaSetView, pods: list[Pod]) -> list[Pod]:
        owner = Owner(API_VERSION, KIND, rs.name, rs.uid, rs.namespace, deleting=rs.deletion_timestamp is not None)
        return await claim(
            self.client,
            MINIREPLICASETS,
            owner,
            rs.selector,
            pods,
            adopt=lambda pod: self._adopt(owner, pod),
            release=lambda pod: self._release(owner, pod),
            what="pods",
        )

    # --8<-- [end:claim-pods]

    async def _adopt(self, owner: Owner, pod: Pod) -> bool | str:
        """True when adopted; False when the pod is gone; an error message otherwise."""
        try:
            await self.client.patch(
                PODS.path(pod.namespace, pod.name), owner_ref_controller_patch(owner, pod.uid), patch_type="strategic"
            )
        except ApiError as error:
            return False if error.not_found else f"adopting pod {pod.name}: {error}"
        return True

    async def _release(self, owner: Owner, pod: Pod) -> str | None:
        try:
            await self.client.patch(
                PODS.path(pod.namespace, pod.name),
                delete_owner_ref_strategic_merge_patch(pod.uid, [owner.uid]),
                patch_type="strategic",
            )
        except ApiError as error:
            if error.not_found or error.invalid:  # gone, or re-created (uid precondition): nothing to release
                return None
            return f"releasing pod {pod.name}: {error}"
        return None


def _involved(rs: ReplicaSetView) -> InvolvedObject:
    return InvolvedObject(API_VERSION, KIND, rs.namespace, rs.name, rs.uid)


def _one_line(error: Exception) -> str:
    """An error as one line for a condition message: its text, or its type when it has none (a timeout)."""
    return str(error) or type(error).__name__
