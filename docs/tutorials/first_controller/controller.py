"""The greeting controller's glue: informer events in, the API calls that `reconcile()` plans out.

Shaped like every controller of the project (operators/controllers/replicaset/controller.py): `setup()`
declares the informers it reads and its workers on the Manager; event handlers only map an event to a
key and enqueue it; `sync(key)` reads the caches, asks the pure `reconcile()` for a plan, and performs it.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from docs.tutorials.first_controller.model import API_VERSION, CONFIGMAPS, GREETINGS, KIND, ConfigMapView, GreetingView
from docs.tutorials.first_controller.reconcile import FIELD_MANAGER, MANAGED_BY, Plan, reconcile
from operators.kube.objects import status_only_change
from operators.runtime.client import ApiError, KubeClient
from operators.runtime.controller import Controller, Reconciler, Result
from operators.runtime.events import EventRecorder, InvolvedObject
from operators.runtime.informers import Informer
from operators.runtime.manager import Manager

__all__ = ["GreetingController"]

logger = logging.getLogger(__name__)


class GreetingController:
    """Reconciles Greetings against their ConfigMaps."""

    name = "greeting"

    # --8<-- [start:setup]
    def __init__(
        self,
        client: KubeClient,
        recorder: EventRecorder,
        greetings: Informer[GreetingView],
        config_maps: Informer[ConfigMapView],
        controller_factory: Callable[[Reconciler], Controller],
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.greetings = greetings
        self.config_maps = config_maps
        self.controller = controller_factory(self)  # the work queue and its workers, which call sync()
        greetings.subscribe(self._on_greeting)
        config_maps.subscribe(self._on_config_map)

    @classmethod
    def setup(cls, manager: Manager) -> GreetingController:
        """Declare what the controller needs on `manager`: two informers, an event recorder, workers."""
        # Greetings come through Kopf: its `on.event` handler is the entry point that feeds this informer.
        greetings = manager.primary(GREETINGS, GreetingView.from_body, id="greeting")
        # ConfigMaps through the runtime's own list+watch, only those carrying our label.
        config_maps = manager.informer(
            CONFIGMAPS, ConfigMapView.from_dict, label_selector=f"{MANAGED_BY[0]}={MANAGED_BY[1]}"
        )
        return cls(
            manager.client,
            manager.event_recorder(FIELD_MANAGER),
            greetings,
            config_maps,
            # Workers start once both caches hold a complete listing (cache.WaitForCacheSync).
            lambda reconciler: manager.controller(reconciler, waits_for=[greetings, config_maps]),
        )

    # --8<-- [end:setup]

    # --- events -> keys ----------------------------------------------------------------------------------------

    # --8<-- [start:handlers]
    def _on_greeting(self, old: GreetingView | None, new: GreetingView | None) -> None:
        """Any change of a Greeting queues it, except our own status write coming back through the watch."""
        if old is not None and new is not None and status_only_change(old, new):
            return
        if (current := new or old) is not None:
            self.controller.enqueue(current.key)

    def _on_config_map(self, old: ConfigMapView | None, new: ConfigMapView | None) -> None:
        """A ConfigMap of ours changed or went away: queue the Greeting its controller reference names."""
        current = new or old
        if current is not None and (ref := current.controller_ref) is not None and ref.kind == KIND:
            self.controller.enqueue(f"{current.namespace}/{ref.name}")

    # --8<-- [end:handlers]

    # --- sync ----------------------------------------------------------------------------------------------------

    # --8<-- [start:sync]
    async def sync(self, key: str) -> Result | None:
        """Converge one Greeting from what the caches show; never from the event that queued it."""
        namespace, name = key.split("/", 1)
        greeting = self.greetings.get(namespace, name)
        if greeting is None:
            return None  # deleted: the garbage collector deletes its ConfigMap (our ownerReference)
        now = datetime.datetime.now(datetime.UTC)
        current = self.config_maps.get(namespace, name)
        plan = reconcile(greeting, current, now=now)
        if plan.write == "create" and not await self._create(greeting, plan):
            plan = reconcile(greeting, None, now=now, name_taken=True)  # what only the API server could tell
        elif plan.write == "update" and current is not None:
            await self._update(greeting, plan, current.resource_version)
        if plan.event is not None:
            self.recorder.record(_involved(greeting), plan.event.type, plan.event.reason, plan.event.message)
        if plan.status != greeting.status:
            await self._write_status(greeting, plan)
        return Result(requeue_after=plan.requeue_after) if plan.requeue_after is not None else None

    # --8<-- [end:sync]

    # --- the API calls -----------------------------------------------------------------------------------------

    # --8<-- [start:writes]
    async def _create(self, greeting: GreetingView, plan: Plan) -> bool:
        """Create the ConfigMap; False when its name is taken by one that is not ours."""
        assert plan.config_map is not None
        try:
            path = CONFIGMAPS.path(greeting.namespace)
            await self.client.request("POST", path, body=plan.config_map, query={"fieldManager": FIELD_MANAGER})
        except ApiError as error:
            if not error.already_exists:
                raise  # the worker logs it and retries the key with backoff
            # Our cache shows no ConfigMap of that name, the API server has one. Whose is it?
            existing = ConfigMapView.from_dict(
                await self.client.get(CONFIGMAPS.path(greeting.namespace, greeting.name))
            )
            ref = existing.controller_ref
            if ref is None or ref.uid != greeting.uid:
                return False  # someone else's: never take it over
            # Ours, but invisible to our cache: created by a sync the watch has not delivered yet, or
            # stripped of the label our informer selects on. Apply it again (the label included).
            await self._update(greeting, plan, existing.resource_version)
            return True
        logger.info("greeting %s: created ConfigMap", greeting.key)
        return True

    async def _update(self, greeting: GreetingView, plan: Plan, resource_version: str) -> None:
        """Server-side apply the fields we own, on the version we saw (409 Conflict if it changed since)."""
        assert plan.config_map is not None
        body = {**plan.config_map, "metadata": {**plan.config_map["metadata"], "resourceVersion": resource_version}}
        path = CONFIGMAPS.path(greeting.namespace, greeting.name)
        await self.client.apply(path, body, field_manager=FIELD_MANAGER, force=True)
        logger.info("greeting %s: updated ConfigMap", greeting.key)

    async def _write_status(self, greeting: GreetingView, plan: Plan) -> None:
        """Patch the status subresource, on the version we computed from (409 Conflict if it changed)."""
        path = GREETINGS.path(greeting.namespace, greeting.name, "status")
        patch = {"metadata": {"resourceVersion": greeting.resource_version}, "status": plan.status}
        written = await self.client.patch(path, patch)
        # Our write enters the cache now, so a sync before the watch delivers it does not compute from the
        # version it replaced (client-go's MutationCache; see Informer.observe_write).
        self.greetings.observe_write(greeting.resource_version, written)

    # --8<-- [end:writes]


def _involved(greeting: GreetingView) -> InvolvedObject:
    return InvolvedObject(API_VERSION, KIND, greeting.namespace, greeting.name, greeting.uid)
