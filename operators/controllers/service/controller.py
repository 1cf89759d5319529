"""The MiniService controller: informer events in, the owned Service and its EndpointSlices out.

This is the glue of pkg/controller/endpointslice/endpointslice_controller.go (syncService and the event
handlers) plus the owned Service (SV-01..SV-03). The decisions are made by the pure modules beside it:
owned.py (the Service to apply, and whether it is up to date), reconciler.py (the slices to create, update
and delete), utils.py, tracker.py, triggertime.py and status.py.

The status is written by a second work queue, the status lane (`STATUS_LANE`): syncService records what it
found (the conditions, the Service and the slices as it left them, the generation it acted on) and wakes the
lane, which computes the status from that record and writes it when it changed, the endpoint counts at most
once a second. So a status PATCH in flight never keeps the next pod change waiting for the Service's key, which
is what an endpoint's propagation time is made of (upstream's controller writes no status at all).

The entry point is a Kopf handler on MiniServices (`Manager.primary`). Pods come from the shared pod
informer; Services from a Service informer; EndpointSlices from an informer that lists and watches only
the slices this controller manages (the `endpointslice.kubernetes.io/managed-by` label), so the built-in
controller's slices are never read, never written, and never wake us (ES-01).
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from operators.controllers.service.model import (
    API_VERSION,
    CONTROLLER_NAME,
    FIELD_MANAGER,
    KIND,
    MiniServiceView,
    ServiceView,
)
from operators.controllers.service.owned import desired_service, foreign_message, is_owned_by, up_to_date
from operators.controllers.service.reconciler import Plan, reconcile
from operators.controllers.service.slices import ADDRESS_TYPE_IPV4, ADDRESS_TYPE_IPV6, EndpointSlice
from operators.controllers.service.status import ConditionState, calculate_status
from operators.controllers.service.topology import TopologyCache
from operators.controllers.service.tracker import EndpointSliceTracker
from operators.controllers.service.triggertime import TriggerTimeTracker
from operators.controllers.service.utils import MANAGED_BY_LABEL, SERVICE_NAME_LABEL, pod_endpoints_changed
from operators.kube.objects import Node, Pod, status_only_change
from operators.kube.resources import ENDPOINTSLICES, MINISERVICES, NODES, PODS, SERVICES
from operators.runtime.applier import apply_owned
from operators.runtime.client import ApiError, KubeClient
from operators.runtime.controller import Controller, Lane, Reconciler, Result, StaleCache, SyncError
from operators.runtime.events import EventRecorder, InvolvedObject
from operators.runtime.informers import BY_LABEL, BY_SELECTOR, Informer, index_by_label, index_by_selector
from operators.runtime.manager import Manager

__all__ = ["BY_SERVICE", "STATUS_LANE", "ServiceController"]

logger = logging.getLogger(__name__)
COMPONENT = "miniservice-controller"
BY_SERVICE = "service"  # EndpointSlices by `namespace/<kubernetes.io/service-name>`
STATUS_LANE = "miniservice-status"  # the work queue that writes the MiniServices' status
# endpointSliceChangeMinSyncDelay: a slice changed by someone else is looked at after a second, not at once.
SLICE_CHANGE_MIN_SYNC_DELAY = 1.0
STATUS_MIN_INTERVAL = 1.0  # seconds between two status writes that only update the endpoint counts
_COUNT_FIELDS = frozenset({"endpoints", "endpointsText"})


def _only_counts_differ(status: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """The new status differs from the current one in the endpoint counts and texts only."""
    keys = set(status) | set(current)
    return all(status.get(k) == current.get(k) for k in keys - _COUNT_FIELDS)


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """What syncService found, for the status lane: the MiniService it acted on (UID and generation), the
    conditions to set, and the Service and the slices as the sync saw or wrote them (the Service None when it
    is not ours to report)."""

    uid: str
    generation: int
    service_synced: ConditionState
    slices_synced: ConditionState | None  # None: the slices were not looked at; the condition stays
    service: ServiceView | None
    slices: Sequence[EndpointSlice]


def index_by_service(slice_: EndpointSlice) -> Iterable[str]:
    name = slice_.labels.get(SERVICE_NAME_LABEL)
    return (f"{slice_.namespace}/{name}",) if name else ()


class ServiceController:
    """Reconciles MiniServices: their Service, their EndpointSlices, their status."""

    name = "miniservice"

    def __init__(
        self,
        client: KubeClient,
        recorder: EventRecorder,
        minis: Informer[MiniServiceView],
        services: Informer[ServiceView],
        slices: Informer[EndpointSlice],
        pods: Informer[Pod],
        nodes: Informer[Node],
        controller_factory: Callable[[Reconciler], Controller],
        *,
        max_endpoints_per_slice: int = 100,
    ) -> None:
        """NewController: the client, the event recorder and the informers are made by the caller."""
        self.client = client
        self.recorder = recorder
        self.minis = minis
        self.services = services
        self.slices = slices
        self.pods = pods
        self.nodes = nodes
        self.max_endpoints_per_slice = max_endpoints_per_slice
        self.tracker = EndpointSliceTracker()
        self.trigger_times = TriggerTimeTracker()
        self.topology = TopologyCache()  # topology-mode: Auto hints (ES-12)
        self._outcomes: dict[str, SyncOutcome] = {}  # key -> what its last sync found, for the status lane
        self._status_written: dict[str, float] = {}  # key -> monotonic time of its last status write
        self.controller: Controller = controller_factory(self)
        self.status_lane: Controller = controller_factory(Lane(STATUS_LANE, self.sync_status))
        minis.subscribe(self._on_mini_service)
        services.subscribe(self._on_service)
        slices.subscribe(self._on_slice)
        pods.subscribe(self._on_pod)
        nodes.subscribe(self._on_node)

    @classmethod
    def setup(cls, manager: Manager) -> ServiceController:
        """Create the controller on `manager`: its informers and indexes, its event recorder, its workers."""
        minis = manager.primary(MINISERVICES, MiniServiceView.from_dict, id="miniservice")
        minis.add_index(BY_SELECTOR, index_by_selector)
        services = manager.informer(SERVICES, ServiceView.from_dict)
        slices = manager.informer(
            ENDPOINTSLICES, EndpointSlice.from_dict, label_selector=f"{MANAGED_BY_LABEL}={CONTROLLER_NAME}"
        )
        slices.add_index(BY_SERVICE, index_by_service)
        pods = manager.informer(PODS, Pod.from_dict)
        pods.add_index(BY_LABEL, index_by_label)
        nodes = manager.informer(NODES, Node.from_dict)
        return cls(
            manager.client,
            manager.event_recorder(COMPONENT),
            minis,
            services,
            slices,
            pods,
            nodes,
            lambda reconciler: manager.controller(reconciler, waits_for=[minis, services, slices, pods, nodes]),
            max_endpoints_per_slice=manager.options.max_endpoints_per_slice,
        )

    # --- events -> keys ----------------------------------------------------------------------------------------

    def _on_mini_service(self, old: MiniServiceView | None, new: MiniServiceView | None) -> None:
        """onServiceUpdate, onServiceDelete; a change of the status alone (our own write) needs no sync."""
        if old is not None and new is not None and status_only_change(old, new):
            return
        if (current := new or old) is not None:
            self.controller.enqueue(current.key)

    def _on_service(self, old: ServiceView | None, new: ServiceView | None) -> None:
        """The owned Service (or a foreign one holding the name) changed: its MiniService looks again."""
        current = new or old
        if current is None or (old is not None and new is not None and old.resource_version == new.resource_version):
            return
        if self.minis.get(current.namespace, current.name) is not None:
            self.controller.enqueue(current.key)

    def _on_slice(self, old: EndpointSlice | None, new: EndpointSlice | None) -> None:
        """onEndpointSliceAdd/Update/Delete: only a change we did not make ourselves queues the Service."""
        if new is not None:
            if self.tracker.should_sync(_service_key(new), new):
                self._queue_for_slice(new)
        elif old is not None:
            key = _service_key(old)
            if self.tracker.has(key, old) and not self.tracker.handle_deletion(key, old):
                self._queue_for_slice(old)

    def _queue_for_slice(self, slice_: EndpointSlice) -> None:
        if slice_.labels.get(SERVICE_NAME_LABEL):
            self.controller.enqueue_after(_service_key(slice_), SLICE_CHANGE_MIN_SYNC_DELAY)

    def _on_pod(self, old: Pod | None, new: Pod | None) -> None:
        """addPod, updatePod (GetServicesToUpdateOnPodChange), deletePod: the MiniServices selecting the pod."""
        if old is None or new is None:
            pod = new or old
            if pod is not None:
                self._enqueue_all(self._selecting(pod))
            return
        if old.resource_version == new.resource_version:
            return
        changed, labels_changed = pod_endpoints_changed(old, new)
        if not changed and not labels_changed:
            return
        services = self._selecting(new)
        if labels_changed:
            before = self._selecting(old)
            # determineNeededServiceUpdates: all of both when the endpoint changed, else those that differ.
            services = before | services if changed else before ^ services
        self._enqueue_all(services)

    def _on_node(self, old: Node | None, new: Node | None) -> None:
        """addNode, updateNode (readiness or zone changed), deleteNode: checkNodeTopologyDistribution."""
        if old is not None and new is not None and old.ready == new.ready and old.zone == new.zone:
            return
        self.topology.set_nodes(self.nodes.list(""))
        self._enqueue_all(self.topology.get_overloaded_services())

    def _selecting(self, pod: Pod) -> set[str]:
        return {m.key for m in self.minis.selecting(pod.namespace, pod.labels)}

    def _enqueue_all(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.controller.enqueue(key)

    # --- syncService -------------------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        """syncService: the owned Service first (SV-01..03), then the EndpointSlices (ES-01..13); what it found
        goes to the status lane."""
        namespace, name = key.split("/", 1)
        mini = self.minis.get(namespace, name)
        if mini is None:
            self.tracker.delete_service(key)  # the garbage collector removes the Service and its slices
            self.trigger_times.delete_service(key)
            self._outcomes.pop(key, None)
            self._status_written.pop(key, None)
            for address_type in (ADDRESS_TYPE_IPV4, ADDRESS_TYPE_IPV6):
                self.topology.remove_hints(key, address_type)
            return
        if mini.deletion_timestamp is not None:
            return
        service = self.services.get(namespace, name)
        if service is not None and not is_owned_by(service, mini):
            message = foreign_message(service, mini)
            self._report_service_problem(mini, "ServiceExists", message)
            return
        desired = desired_service(mini)
        if service is None or not up_to_date(desired, service):
            try:
                service = await self._apply_service(mini, desired, service)
            except ApiError as error:
                if error.namespace_terminating:
                    return  # it goes, and this MiniService with it: nothing to report to anyone
                if not (error.invalid or error.status == 400):
                    raise  # a conflict or an outage: retried; a refused spec waits for the user
                self._report_service_problem(mini, "FailedToApplyService", f"Service {name!r}: {error.message}")
                return
        service_ok = ConditionState(True, "ServiceUpToDate", f"Service {name!r} matches the spec")

        if not mini.match_labels:  # ES-01: a Service without a selector gets no slices from us
            no_selector = ConditionState(True, "NoSelector", "no selector: EndpointSlices are not managed")
            self._report(mini, service_ok, no_selector, service, self._cached_slices(key))
            return
        slices = self._cached_slices(key)
        if self.tracker.stale_slices(key, slices):
            raise StaleCache(f"{key}: the EndpointSlice cache has not seen our last writes yet")
        pods = self.pods.select(namespace, mini.selector)
        trigger_time = self.trigger_times.compute(key, service.creation_timestamp, pods)
        plan = reconcile(
            service,
            pods,
            slices,
            lambda node: self.nodes.get("", node),
            trigger_time=trigger_time,
            max_endpoints_per_slice=self.max_endpoints_per_slice,
            controller_name=CONTROLLER_NAME,
            topology=self.topology,
        )
        try:
            slices = await self._finalize(key, slices, plan)
        except ApiError as error:
            self._record_topology_events(mini, plan)
            message = f"Error updating Endpoint Slices for Service {key}: {error}"
            self.recorder.record(_involved(mini), "Warning", "FailedToUpdateEndpointSlices", message)
            failed = ConditionState(False, "FailedToUpdateEndpointSlices", message)
            self._report(mini, service_ok, failed, service, slices)
            raise
        self._record_topology_events(mini, plan)
        if plan.errors:
            skipped = ConditionState(False, "PodsSkipped", "; ".join(plan.errors))
            self._report(mini, service_ok, skipped, service, slices)
            raise SyncError("; ".join(plan.errors))  # the Service is synced again, with backoff
        synced = ConditionState(True, "EndpointSlicesUpToDate", f"{len(slices)} EndpointSlice(s) match the pods")
        self._report(mini, service_ok, synced, service, slices)

    def _record_topology_events(self, mini: MiniServiceView, plan: Plan) -> None:
        """The topology cache's events (hints enabled or disabled, and why), after the writes, as upstream."""
        for type_, reason, message in plan.events:
            self.recorder.record(_involved(mini), "Warning" if type_ == "Warning" else "Normal", reason, message)

    def _cached_slices(self, key: str) -> list[EndpointSlice]:
        """The Service's slices of this controller, less those being deleted (dropEndpointSlicesPendingDeletion)."""
        return [s for s in self.slices.by_index(BY_SERVICE, key) if s.deletion_timestamp is None]

    # --- the owned Service (SV-01..SV-03) ----------------------------------------------------------------------

    async def _apply_service(
        self, mini: MiniServiceView, desired: dict[str, Any], current: ServiceView | None
    ) -> ServiceView:
        """Server-side apply the Service (`apply_owned`: created only where no Service is, updated against
        the cached version), and take away a selector someone gave it."""
        path = SERVICES.path(mini.namespace, mini.name)
        current_version = current.resource_version if current is not None else None
        written = await apply_owned(
            self.client, path, desired, current_resource_version=current_version, field_manager=FIELD_MANAGER
        )
        if (written.get("spec") or {}).get("selector"):
            # Applying cannot remove a field another manager owns: a JSON patch can, against this version.
            remove = [
                {"op": "test", "path": "/metadata/resourceVersion", "value": written["metadata"]["resourceVersion"]},
                {"op": "remove", "path": "/spec/selector"},
            ]
            written = await self.client.patch(path, remove, patch_type="json")
        self.services.observe_write(current_version or "", written)
        if current is None:
            self.recorder.record(_involved(mini), "Normal", "CreatedService", f"Created Service {mini.name}")
        return ServiceView.from_dict(written)

    def _report_service_problem(self, mini: MiniServiceView, reason: str, message: str) -> None:
        """ServiceSynced=False with a Warning event, once per change of reason or message."""
        current = next((c for c in mini.conditions if c.type == "ServiceSynced"), None)
        if current is None or current.status != "False" or current.reason != reason or current.message != message:
            self.recorder.record(_involved(mini), "Warning", reason, message)
        problem = ConditionState(False, reason, message)
        self._report(mini, problem, None, None, self._cached_slices(mini.key))

    # --- finalize: the writes of the plan ----------------------------------------------------------------------

    async def _finalize(self, key: str, slices: Sequence[EndpointSlice], plan: Plan) -> list[EndpointSlice]:
        """finalize: create, update, delete, each write tracked; returns the slices as they now are."""
        by_name = {s.name: s for s in slices}
        for slice_ in plan.create:
            try:
                body = await self.client.create(ENDPOINTSLICES.path(slice_.namespace), slice_.to_dict())
            except ApiError as error:
                if error.namespace_terminating:
                    return list(by_name.values())  # creates will keep failing: drop the sync
                raise
            created = EndpointSlice.from_dict(body)
            self.tracker.update(key, created)
            by_name[created.name] = created
        for slice_ in plan.update:
            body = await self.client.replace(ENDPOINTSLICES.path(slice_.namespace, slice_.name), slice_.to_dict())
            updated = EndpointSlice.from_dict(body)
            self.tracker.update(key, updated)
            self.slices.observe_write(slice_.resource_version, body, view=updated)
            by_name[updated.name] = updated
        for slice_ in plan.delete:
            try:
                await self.client.delete(ENDPOINTSLICES.path(slice_.namespace, slice_.name), uid=slice_.uid)
            except ApiError as error:
                if not error.not_found:
                    raise
            self.tracker.expect_deletion(key, slice_)
            by_name.pop(slice_.name, None)
        return list(by_name.values())

    # --- status: the status lane ------------------------------------------------------------------------------

    def _report(
        self,
        mini: MiniServiceView,
        service_synced: ConditionState,
        slices_synced: ConditionState | None,
        service: ServiceView | None,
        slices: Sequence[EndpointSlice],
    ) -> None:
        """Record what this sync found and wake the status lane, which writes it without holding the key."""
        outcome = SyncOutcome(mini.uid, mini.generation, service_synced, slices_synced, service, slices)
        self._outcomes[mini.key] = outcome
        self.status_lane.enqueue(mini.key)

    async def sync_status(self, key: str) -> Result | None:
        """The status lane's sync: the status from the last sync's outcome, written
        (merge patch against the cached resourceVersion) only when it changed.

        When only the endpoint counts and texts changed, and the last status write of this MiniService was
        less than STATUS_MIN_INTERVAL ago, the write waits for the rest of that interval (a requeue): a
        Service whose pods flap gets its slices written at once and its status at most once a second.
        Anything else (a condition, the ClusterIP, a new generation) is written at once.
        """
        namespace, name = key.split("/", 1)
        mini = self.minis.get(namespace, name)
        outcome = self._outcomes.get(key)
        if mini is None or outcome is None or outcome.uid != mini.uid or mini.deletion_timestamp is not None:
            return None  # gone or going, or no sync has looked at this one (a namesake's outcome is not its own)
        service = outcome.service
        status = calculate_status(
            mini,
            service.spec if service is not None else None,
            service.load_balancer if service is not None else {},
            outcome.slices,
            outcome.service_synced,
            outcome.slices_synced,
            _now(),
            observed_generation=outcome.generation,
        )
        if status == mini.status:
            return None
        since = time.monotonic() - self._status_written.get(key, -STATUS_MIN_INTERVAL)
        if since < STATUS_MIN_INTERVAL and _only_counts_differ(status, mini.status):
            return Result(requeue_after=STATUS_MIN_INTERVAL - since)
        self._status_written[key] = time.monotonic()
        cleared = {field: None for field in mini.status if field not in status}  # a merge patch removes with null
        body = {"metadata": {"resourceVersion": mini.resource_version}, "status": {**status, **cleared}}
        written = await self.client.patch(MINISERVICES.path(namespace, name, "status"), body)
        self.minis.observe_write(mini.resource_version, written)
        return None


def _service_key(slice_: EndpointSlice) -> str:
    """ServiceControllerKey: the slice's namespace and its kubernetes.io/service-name label."""
    return f"{slice_.namespace}/{slice_.labels.get(SERVICE_NAME_LABEL, '')}"


def _involved(mini: MiniServiceView) -> InvolvedObject:
    return InvolvedObject(API_VERSION, KIND, mini.namespace, mini.name, mini.uid)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
