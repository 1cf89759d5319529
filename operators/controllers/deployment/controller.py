"""The MiniDeployment controller: informer events in, syncDeployment out (pkg/controller/deployment/*.go).

This is the glue. Every decision is made by the pure modules beside it — sync.py (the new ReplicaSet, scaling,
history, status), rolling.py, recreate.py, progress.py, rollback.py and util.py — and this file maps events to
keys and performs the API calls those decisions ask for, in the order the Go controller makes them.

The entry point is a Kopf handler on MiniDeployments (`Manager.primary`). MiniReplicaSets come from the same
shared informer the MiniReplicaSet controller uses (one watch), indexed by controller UID; pods from the shared
pod informer, which only a Recreate rollout looks at (DP-24, DP-26).

Every write of ours goes into the cache at once (`observe_write`, client-go's MutationCache): the sync that
follows a few milliseconds later must compute from what we wrote, not from the version it replaced. Every
write of a ReplicaSet or of the Deployment's status carries the cached resourceVersion as a precondition, as
Go's Update does, so a decision made on a stale view fails with 409 Conflict and is made again.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from operators.controllers.deployment import progress, recreate, rolling
from operators.controllers.deployment.model import (
    API_VERSION,
    DEPLOYMENT_PROGRESSING,
    KIND,
    RECREATE,
    ROLLING_UPDATE,
    DeploymentStatus,
    DeploymentView,
)
from operators.controllers.deployment.rollback import get_rollback_to, rollback
from operators.controllers.deployment.sync import (
    CreateReplicaSet,
    Scale,
    UpdateReplicaSetAnnotations,
    calculate_status,
    check_paused_conditions,
    cleanup_deployment,
    is_scaling_event,
    plan_new_replica_set,
    resolve_create_conflict,
    scale,
)
from operators.controllers.deployment.util import (
    FAILED_RS_CREATE_REASON,
    NEW_REPLICA_SET_REASON,
    deployment_complete,
    filter_active_replica_sets,
    has_progress_deadline,
    new_deployment_condition,
    set_deployment_condition,
    set_deployment_revision,
)
from operators.controllers.replicaset.model import KIND as REPLICA_SET_KIND
from operators.controllers.replicaset.model import ReplicaSetView
from operators.kube.objects import OwnerReference, Pod
from operators.kube.resources import MINIDEPLOYMENTS, MINIREPLICASETS, PODS
from operators.runtime.client import ApiError, KubeClient
from operators.runtime.controller import Controller, Reconciler, Result, SyncError
from operators.runtime.events import EventRecorder, InvolvedObject
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
from operators.runtime.ownership import Owner, adopt_json_patch, release_json_patch
from operators.runtime.refmanager import claim

__all__ = ["MINIDEPLOYMENTS", "DeploymentController"]

logger = logging.getLogger(__name__)
COMPONENT = "minideployment-controller"


class DeploymentController:
    """Reconciles MiniDeployments against the MiniReplicaSets they own."""

    name = "minideployment"

    def __init__(
        self,
        client: KubeClient,
        recorder: EventRecorder,
        deployments: Informer[DeploymentView],
        replica_sets: Informer[ReplicaSetView],
        pods: Informer[Pod],
        controller_factory: Callable[[Reconciler], Controller],
    ) -> None:
        """NewDeploymentController: the client, the event recorder and the informers are made by the caller."""
        self.client = client
        self.recorder = recorder
        self.deployments = deployments
        self.replica_sets = replica_sets
        self.pods = pods
        self.controller: Controller = controller_factory(self)
        deployments.subscribe(self._on_deployment)
        replica_sets.subscribe(self._on_replica_set)
        pods.subscribe(self._on_pod)

    @classmethod
    def setup(cls, manager: Manager) -> DeploymentController:
        """Create the controller on `manager`: its informers and indexes, its event recorder, its workers."""
        deployments = manager.primary(MINIDEPLOYMENTS, DeploymentView.from_body, id="minideployment")
        deployments.add_index(BY_SELECTOR, index_by_selector)
        replica_sets = manager.informer(MINIREPLICASETS, ReplicaSetView.from_body)
        replica_sets.add_index(BY_CONTROLLER_UID, index_by_controller_uid)
        replica_sets.add_index(BY_LABEL, index_by_label)
        pods = manager.informer(PODS, Pod.from_dict)
        pods.add_index(BY_CONTROLLER_UID, index_by_controller_uid)
        pods.add_index(BY_LABEL, index_by_label)
        return cls(
            manager.client,
            manager.event_recorder(COMPONENT),
            deployments,
            replica_sets,
            pods,
            lambda reconciler: manager.controller(reconciler, waits_for=[deployments, replica_sets, pods]),
        )

    # --- events -> keys ----------------------------------------------------------------------------------------

    def _on_deployment(self, old: DeploymentView | None, new: DeploymentView | None) -> None:
        if (current := new or old) is not None:
            self.controller.enqueue(current.key)  # addDeployment, updateDeployment, deleteDeployment

    def _on_replica_set(self, old: ReplicaSetView | None, new: ReplicaSetView | None) -> None:
        if new is None:
            if old is not None:
                self._enqueue_owner(old)  # deleteReplicaSet
            return
        if old is None or old.uid != new.uid or new.deletion_timestamp is not None:
            if old is not None and old.uid != new.uid:
                self._enqueue_owner(old)
            self._replica_set_added(new)
            return
        if old.resource_version == new.resource_version:
            return  # a re-list delivered the same object again
        old_ref, new_ref = old.controller_ref, new.controller_ref
        if old_ref != new_ref and old_ref is not None:
            self._enqueue_owner(old)  # the ControllerRef changed: sync the old controller too
        if new_ref is not None:
            self._enqueue_owner(new)
            return
        if old.labels != new.labels or old_ref != new_ref:
            self._enqueue_selecting(new)  # an orphan that changed: who wants to adopt it now?

    def _replica_set_added(self, rs: ReplicaSetView) -> None:
        """addReplicaSet: its controller; or, for an orphan, every Deployment whose selector matches it."""
        if rs.deletion_timestamp is not None or rs.controller_ref is not None:
            self._enqueue_owner(rs)
        else:
            self._enqueue_selecting(rs)

    def _enqueue_owner(self, rs: ReplicaSetView) -> None:
        if (ref := rs.controller_ref) is not None and (d := self._resolve(rs.namespace, ref)) is not None:
            self.controller.enqueue(d.key)

    def _enqueue_selecting(self, rs: ReplicaSetView) -> None:
        """getDeploymentsForReplicaSet: an RS without labels, or a Deployment with an empty selector, matches none."""
        if not rs.labels:
            return
        for d in self.deployments.selecting(rs.namespace, rs.labels):
            if not d.selector.empty:
                self.controller.enqueue(d.key)

    def _on_pod(self, old: Pod | None, new: Pod | None) -> None:
        """deletePod (DP-26): a Recreate Deployment whose last pod is gone syncs at once to start the new ones."""
        if new is not None or old is None:
            return
        d = self._deployment_for_pod(old)
        if d is None or d.strategy.type != RECREATE:
            return
        rs_list = self.replica_sets.by_index(BY_CONTROLLER_UID, d.uid)
        if not any(self._pod_map(d, rs_list).values()):
            self.controller.enqueue(d.key)

    def _deployment_for_pod(self, pod: Pod) -> DeploymentView | None:
        """getDeploymentForPod: pod → its MiniReplicaSet → that RS's MiniDeployment, each by controllerRef."""
        ref = pod.controller_ref
        if ref is None or ref.kind != REPLICA_SET_KIND or not ref.api_version.startswith("minik8s.dev/"):
            return None
        rs = self.replica_sets.get(pod.namespace, ref.name)
        if rs is None or rs.uid != ref.uid or (rs_ref := rs.controller_ref) is None:
            return None
        return self._resolve(rs.namespace, rs_ref)

    def _resolve(self, namespace: str, ref: OwnerReference) -> DeploymentView | None:
        """resolveControllerRef: the cached Deployment the ref names, if it is really the one (same UID)."""
        if ref.kind != KIND or not ref.api_version.startswith("minik8s.dev/"):
            return None
        d = self.deployments.get(namespace, ref.name)
        return d if d is not None and d.uid == ref.uid else None

    # --- syncDeployment ----------------------------------------------------------------------------------------

    async def sync(self, key: str) -> Result | None:
        """syncDeployment (DP-01..DP-04): claim, then status only, paused, rollback, scale, or a rollout step."""
        namespace, name = key.split("/", 1)
        d = self.deployments.get(namespace, name)
        if d is None:
            return None  # deleted: the garbage collector removes its ReplicaSets
        if d.selector_error:
            self.recorder.record(_involved(d), "Warning", "InvalidSelector", d.selector_error)
            return None
        if d.selector.empty:  # DP-01
            message = "This deployment is selecting all pods. A non-empty selector is required."
            self.recorder.record(_involved(d), "Warning", "SelectingAll", message)
            if d.status.observed_generation < d.generation:
                status = {"observedGeneration": d.generation}
                await self._write_status_body(d, status)
            return None
        rs_list = await self._claim_replica_sets(d)  # DP-02
        if d.deletion_timestamp is not None:  # DP-03
            return await self._sync_status_only(d, rs_list)
        d = await self._check_paused_conditions(d)  # DP-04, DP-31
        if d.paused:
            return await self._sync(d, rs_list)
        if (to_revision := get_rollback_to(d)) is not None:
            return await self._rollback(d, rs_list, to_revision)
        d, rs_list, _, _ = await self._get_all_replica_sets_and_sync_revision(d, rs_list, create=False)
        if is_scaling_event(d, rs_list):
            return await self._sync(d, rs_list)
        if d.strategy.type == RECREATE:
            return await self._rollout_recreate(d, rs_list)
        if d.strategy.type == ROLLING_UPDATE:
            return await self._rollout_rolling(d, rs_list)
        raise SyncError(f"unexpected deployment strategy type: {d.strategy.type}")

    async def _sync_status_only(self, d: DeploymentView, rs_list: list[ReplicaSetView]) -> Result | None:
        """syncStatusOnly: a Deployment being deleted only reports."""
        d, rs_list, new_rs, old_rss = await self._get_all_replica_sets_and_sync_revision(d, rs_list, create=False)
        await self._sync_deployment_status(d, [*old_rss, new_rs], new_rs)
        return None

    async def _sync(self, d: DeploymentView, rs_list: list[ReplicaSetView]) -> Result | None:
        """sync: paused Deployments and scaling events (DP-19..DP-22): resize, no new rollout step."""
        d, rs_list, new_rs, old_rss = await self._get_all_replica_sets_and_sync_revision(d, rs_list, create=False)
        for write in scale(d, new_rs, old_rss):
            await self._scale(d, write)
        if d.paused and get_rollback_to(d) is None:
            await self._cleanup(d, old_rss)  # DP-22: history is still pruned while paused
        await self._sync_deployment_status(d, [*old_rss, new_rs], new_rs)
        return None

    # --8<-- [start:rollout-rolling]
    async def _rollout_rolling(self, d: DeploymentView, rs_list: list[ReplicaSetView]) -> Result | None:
        """rolloutRolling (DP-16..DP-18): scale up, else scale down, else clean up; then the rollout status."""
        d, rs_list, new_rs, old_rss = await self._get_all_replica_sets_and_sync_revision(d, rs_list, create=True)
        assert new_rs is not None  # created, or the sync failed
        all_rss = [*old_rss, new_rs]
        if (write := rolling.reconcile_new_replica_set(all_rss, new_rs, d)) is not None:
            await self._scale(d, write)
            return await self._sync_rollout_status(d, all_rss, new_rs)
        writes, scaled_down = rolling.reconcile_old_replica_sets(
            all_rss, filter_active_replica_sets(old_rss), new_rs, d
        )
        for write in writes:
            await self._scale(d, write)
        if scaled_down:
            return await self._sync_rollout_status(d, all_rss, new_rs)
        if deployment_complete(d, d.status):
            await self._cleanup(d, old_rss)
        return await self._sync_rollout_status(d, all_rss, new_rs)

    # --8<-- [end:rollout-rolling]

    async def _rollout_recreate(self, d: DeploymentView, rs_list: list[ReplicaSetView]) -> Result | None:
        """rolloutRecreate (DP-23..DP-25): old RSs to 0, wait for their pods to be gone, then the new RS."""
        d, rs_list, new_rs, old_rss = await self._get_all_replica_sets_and_sync_revision(d, rs_list, create=False)
        all_rss = [*old_rss, new_rs]
        scaled_down = False
        for write in recreate.scale_down_old_replica_sets_for_recreate(filter_active_replica_sets(old_rss), d):
            await self._scale(d, write)
            scaled_down = True
        if scaled_down:
            return await self._sync_rollout_status(d, all_rss, new_rs)
        if recreate.old_pods_running(new_rs, old_rss, self._pod_map(d, rs_list)):
            return await self._sync_rollout_status(d, all_rss, new_rs)
        if new_rs is None:
            d, rs_list, new_rs, old_rss = await self._get_all_replica_sets_and_sync_revision(d, rs_list, create=True)
            all_rss = [*old_rss, new_rs]
        assert new_rs is not None  # created, or the sync failed
        if (scale_up := recreate.scale_up_new_replica_set_for_recreate(new_rs, d)) is not None:
            await self._scale(d, scale_up)
        if deployment_complete(d, d.status):
            await self._cleanup(d, old_rss)
        return await self._sync_rollout_status(d, all_rss, new_rs)

    async def _rollback(self, d: DeploymentView, rs_list: list[ReplicaSetView], to_revision: int) -> Result | None:
        """rollback: the deprecated rollback annotation; the Deployment is updated and the annotation cleared."""
        d, rs_list, new_rs, old_rss = await self._get_all_replica_sets_and_sync_revision(d, rs_list, create=True)
        decision = rollback(d, [*old_rss, *([new_rs] if new_rs else [])], to_revision)
        patch: list[dict[str, Any]] = [
            {"op": "test", "path": "/metadata/resourceVersion", "value": d.resource_version},
            {"op": "replace", "path": "/metadata/annotations", "value": dict(decision.annotations)},
        ]
        if decision.template is not None:
            patch.append({"op": "replace", "path": "/spec/template", "value": dict(decision.template)})
        written = await self.client.patch(MINIDEPLOYMENTS.path(d.namespace, d.name), patch, patch_type="json")
        self.deployments.observe_write(d.resource_version, written)
        self.recorder.record(_involved(d), decision.event_type, decision.event_reason, decision.event_message)
        return None

    # --- getAllReplicaSetsAndSyncRevision / getNewReplicaSet (DP-06..DP-11) ------------------------------------

    async def _get_all_replica_sets_and_sync_revision(
        self, d: DeploymentView, rs_list: list[ReplicaSetView], *, create: bool
    ) -> tuple[DeploymentView, list[ReplicaSetView], ReplicaSetView | None, list[ReplicaSetView]]:
        """The new RS (brought up to date, or created) and the old ones; the Deployment's revision and status.

        Returns the Deployment and the RS list as our writes left them. Where Go returns right after updating the
        new RS's annotations (and makes the revision write on its next sync, after a conflict on its stale
        cache), this plans again with the written RS and carries on: the same writes, one sync sooner.
        """
        now = _now()
        plan = plan_new_replica_set(d, rs_list, create, now)
        if isinstance(plan.write, UpdateReplicaSetAnnotations):
            updated = await self._update_replica_set_annotations(plan.write)
            rs_list = [updated if rs.uid == updated.uid else rs for rs in rs_list]
            plan = plan_new_replica_set(d, rs_list, create, now)
        new_rs, status = plan.new_rs, plan.status
        if isinstance(plan.write, CreateReplicaSet):
            new_rs, created = await self._create_replica_set(d, plan.write)
            rs_list = [*rs_list, new_rs]
            if created and has_progress_deadline(d):
                message = f'Created new replica set "{new_rs.name}"'
                condition = new_deployment_condition(
                    DEPLOYMENT_PROGRESSING, "True", NEW_REPLICA_SET_REASON, message, now
                )
                status = set_deployment_condition(status, condition)
        if plan.revision is not None:
            annotations, changed = set_deployment_revision(d.annotations, plan.revision)
            if changed:
                d = await self._patch_deployment(d, {"metadata": {"annotations": annotations}})
        if status != d.status:
            d = await self._write_status(d, status)
        return d, rs_list, new_rs, plan.old_rss

    async def _update_replica_set_annotations(self, write: UpdateReplicaSetAnnotations) -> ReplicaSetView:
        return await self._update_replica_set(write.rs, write.annotations, {"minReadySeconds": write.min_ready_seconds})

    async def _create_replica_set(self, d: DeploymentView, write: CreateReplicaSet) -> tuple[ReplicaSetView, bool]:
        """Create the new RS (DP-08); AlreadyExists is the new RS itself, or a hash collision (DP-09).

        Returns the new RS and whether this call created it.
        """
        body = dict(write.body)
        body["metadata"] = {**body["metadata"], "ownerReferences": [_owner(d).controller_ref().to_dict()]}
        try:
            created = await self.client.create(MINIREPLICASETS.path(d.namespace), body)
        except ApiError as error:
            if error.already_exists:
                existing = self.replica_sets.get(d.namespace, write.name)
                if existing is None:  # our cache has not seen it yet (a create of ours moments ago): look again
                    raise SyncError(f"replica set {write.name} exists but is not in the cache yet") from error
                if resolve_create_conflict(d, existing):
                    return existing, False
                collisions = (d.status.collision_count or 0) + 1
                await self._write_status_body(d, {"collisionCount": collisions})
                logger.info("hash collision for %s: collisionCount %d", d.key, collisions)
                raise SyncError(f"hash collision creating {write.name}: collisionCount now {collisions}") from error
            if error.namespace_terminating:
                raise
            message = f'Failed to create new replica set "{write.name}": {error}'
            if has_progress_deadline(d):
                condition = new_deployment_condition(
                    DEPLOYMENT_PROGRESSING, "False", FAILED_RS_CREATE_REASON, message, _now()
                )
                with contextlib.suppress(ApiError):  # the failed create is the bigger issue; upstream ignores this too
                    await self._write_status(d, set_deployment_condition(d.status, condition))
            self.recorder.record(_involved(d), "Warning", FAILED_RS_CREATE_REASON, message)
            raise
        self.replica_sets.observe_write("", created)
        new_rs = ReplicaSetView.from_body(created)
        if write.replicas > 0:
            message = f"Scaled up replica set {new_rs.name} from 0 to {write.replicas}"
            self.recorder.record(_involved(d), "Normal", "ScalingReplicaSet", message)
        return new_rs, True

    # --- writes ------------------------------------------------------------------------------------------------

    async def _scale(self, d: DeploymentView, write: Scale) -> ReplicaSetView:
        """scaleReplicaSet: spec.replicas and the replicas annotations, against the RS version decided on."""
        updated = await self._update_replica_set(write.rs, write.annotations, {"replicas": write.replicas})
        if write.size_changed:
            self.recorder.record(_involved(d), "Normal", "ScalingReplicaSet", write.event_message)
        return updated

    async def _update_replica_set(
        self, rs: ReplicaSetView, annotations: Mapping[str, str], spec: Mapping[str, Any]
    ) -> ReplicaSetView:
        """Go's ReplicaSets().Update: annotations and spec fields, against the RS version the decision was made on."""
        body = {"metadata": {"resourceVersion": rs.resource_version, "annotations": dict(annotations)}, "spec": spec}
        written = await self.client.patch(MINIREPLICASETS.path(rs.namespace, rs.name), body)
        self.replica_sets.observe_write(rs.resource_version, written)
        return ReplicaSetView.from_body(written)

    async def _cleanup(self, d: DeploymentView, old_rss: Sequence[ReplicaSetView]) -> None:
        """cleanupDeployment (DP-27): delete the old RSs beyond revisionHistoryLimit."""
        for rs in cleanup_deployment(d, old_rss):
            try:
                await self.client.delete(MINIREPLICASETS.path(rs.namespace, rs.name), uid=rs.uid)
            except ApiError as error:
                if not error.not_found:
                    raise

    async def _check_paused_conditions(self, d: DeploymentView) -> DeploymentView:
        status = check_paused_conditions(d, _now())
        return d if status is None else await self._write_status(d, status)

    async def _sync_deployment_status(
        self, d: DeploymentView, all_rss: Sequence[ReplicaSetView | None], new_rs: ReplicaSetView | None
    ) -> None:
        """syncDeploymentStatus: calculateStatus, written when it differs."""
        status = calculate_status(all_rss, new_rs, d, _now())
        if status != d.status:
            await self._write_status(d, status)

    async def _sync_rollout_status(
        self, d: DeploymentView, all_rss: Sequence[ReplicaSetView | None], new_rs: ReplicaSetView | None
    ) -> Result | None:
        """syncRolloutStatus (DP-30, DP-33), and the deadline requeue when nothing changed (DP-34)."""
        now = _now()
        status = progress.sync_rollout_status(all_rss, new_rs, d, now)
        if status != d.status:
            await self._write_status(d, status)
            return None  # our own status update brings the Deployment back
        after = progress.requeue_stuck_deployment(d, status, now)
        if after is None:
            return None
        if after <= datetime.timedelta(0):
            return Result(rate_limited=True)  # the deadline is due now: enqueueRateLimited, checked again
        return Result(requeue_after=after.total_seconds())

    async def _write_status(self, d: DeploymentView, status: DeploymentStatus) -> DeploymentView:
        return await self._write_status_body(d, status.to_dict())

    async def _write_status_body(self, d: DeploymentView, status: Mapping[str, Any]) -> DeploymentView:
        """UpdateStatus: a merge patch of the status against the cached resourceVersion (409 on a stale view)."""
        body = {"metadata": {"resourceVersion": d.resource_version}, "status": dict(status)}
        written = await self.client.patch(MINIDEPLOYMENTS.path(d.namespace, d.name, "status"), body)
        self.deployments.observe_write(d.resource_version, written)
        return DeploymentView.from_body(written)

    async def _patch_deployment(self, d: DeploymentView, body: Mapping[str, Any]) -> DeploymentView:
        """A metadata merge patch of the Deployment (its revision annotation) against the cached resourceVersion.

        Upstream writes the annotation with UpdateStatus, which for apps/v1 also persists metadata; a custom
        resource's status subresource ignores metadata, so the revision takes a write of its own.
        """
        patch = {**body, "metadata": {**body.get("metadata", {}), "resourceVersion": d.resource_version}}
        written = await self.client.patch(MINIDEPLOYMENTS.path(d.namespace, d.name), patch)
        self.deployments.observe_write(d.resource_version, written)
        return DeploymentView.from_body(written)

    # --- claiming (DP-02: RS-13..RS-16 rules, CR→CR) -----------------------------------------------------------

    async def _claim_replica_sets(self, d: DeploymentView) -> list[ReplicaSetView]:
        """getReplicaSetsForDeployment: adopt matching orphans, release owned RSs that no longer match."""
        owner = _owner(d)
        return await claim(
            self.client,
            MINIDEPLOYMENTS,
            owner,
            d.selector,
            self.replica_sets.list(d.namespace),
            adopt=lambda rs: self._adopt(owner, rs),
            release=lambda rs: self._release(owner, rs),
            what="replica sets",
        )

    async def _adopt(self, owner: Owner, rs: ReplicaSetView) -> bool | str:
        patch = adopt_json_patch(owner, rs.uid, rs.resource_version, rs.owner_references)
        try:
            written = await self.client.patch(MINIREPLICASETS.path(rs.namespace, rs.name), patch, patch_type="json")
        except ApiError as error:
            return False if error.not_found else f"adopting replica set {rs.name}: {error}"
        self.replica_sets.observe_write(rs.resource_version, written)
        return True

    async def _release(self, owner: Owner, rs: ReplicaSetView) -> str | None:
        patch = release_json_patch(owner.uid, rs.uid, rs.resource_version, rs.owner_references)
        if patch is None:
            return None
        try:
            written = await self.client.patch(MINIREPLICASETS.path(rs.namespace, rs.name), patch, patch_type="json")
        except ApiError as error:
            if error.not_found:
                return None
            return f"releasing replica set {rs.name}: {error}"
        self.replica_sets.observe_write(rs.resource_version, written)
        return None

    def _pod_map(self, d: DeploymentView, rs_list: Sequence[ReplicaSetView]) -> dict[str, list[Pod]]:
        """getPodMapForDeployment: the pods the selector matches, by the UID of their RS (inactive ones too)."""
        pod_map: dict[str, list[Pod]] = {rs.uid: [] for rs in rs_list}
        for pod in self.pods.select(d.namespace, d.selector):
            if (ref := pod.controller_ref) is not None and ref.uid in pod_map:
                pod_map[ref.uid].append(pod)
        return pod_map


def _owner(d: DeploymentView) -> Owner:
    return Owner(API_VERSION, KIND, d.name, d.uid, d.namespace, deleting=d.deletion_timestamp is not None)


def _involved(d: DeploymentView) -> InvolvedObject:
    return InvolvedObject(API_VERSION, KIND, d.namespace, d.name, d.uid)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
