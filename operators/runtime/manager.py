"""The manager: one Kopf registry, one API client, shared informers and every controller's workers.

A controller asks the manager for the informers it needs (`informer()` shares one per resource, as a
SharedInformerFactory does) and for a `Controller` around its reconciler; the manager registers the Kopf
handlers, creates the client on startup, and starts the workers once every cache has synced.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import kopf

from operators.runtime.client import KubeClient, bearer_token, load_configuration
from operators.runtime.controller import Controller, Reconciler
from operators.runtime.events import EventRecorder
from operators.runtime.informers import Informer, Resource, View

__all__ = ["Manager", "Options"]

logger = logging.getLogger(__name__)
V = TypeVar("V", bound=View)


@dataclass(frozen=True)
class Options:
    """How the operator process runs (the `run` command's flags)."""

    namespaces: tuple[str, ...] = ()  # watched namespaces; empty means cluster-wide
    workers: int = 5  # concurrent syncs per controller, as --concurrent-replicaset-syncs
    qps: float | None = None  # client-side rate limit; None = off, 20/30 = kube-controller-manager's
    burst: int | None = None
    max_concurrency: int = 64  # API requests in flight
    kubeconfig: str | None = None
    context: str | None = None


class Manager:
    """Owns the shared runtime of one operator process."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self.registry = kopf.OperatorRegistry()
        self.synced = asyncio.Event()
        self.controllers: list[Controller] = []
        self._informers: dict[Resource, Informer[Any]] = {}
        self._client: KubeClient | None = None
        self._recorders: list[EventRecorder] = []
        self._on_start: list[Callable[[Manager], None]] = []
        self._register_lifecycle()

    @property
    def client(self) -> KubeClient:
        if self._client is None:
            raise RuntimeError("the API client exists only while the operator runs (after startup)")
        return self._client

    def informer(self, resource: Resource, view: Callable[[Mapping[str, Any]], V]) -> Informer[V]:
        """The shared informer of `resource`, created and registered on first use."""
        if resource not in self._informers:
            informer: Informer[V] = Informer(resource, view, synced=self.synced)
            informer.register(self.registry)
            self._informers[resource] = informer
        return self._informers[resource]

    def controller(self, reconciler: Reconciler) -> Controller:
        controller = Controller(reconciler, workers=self.options.workers)
        self.controllers.append(controller)
        return controller

    def on_start(self, callback: Callable[[Manager], None]) -> None:
        """Run `callback(manager)` on startup, once the client exists (controllers take their handles here)."""
        self._on_start.append(callback)

    def event_recorder(self, component: str) -> EventRecorder:
        """An event recorder for `component` (`source.component` of its events), closed on cleanup."""
        recorder = EventRecorder(self.client, component)
        self._recorders.append(recorder)
        return recorder

    def _register_lifecycle(self) -> None:
        registry = self.registry

        @kopf.on.login(registry=registry)
        async def login(**_: Any) -> kopf.ConnectionInfo:
            """Kopf's watches use the same kubeconfig and context as our client (--kubeconfig, --context)."""
            config = await load_configuration(kubeconfig=self.options.kubeconfig, context=self.options.context)
            return kopf.ConnectionInfo(
                server=str(config.host),
                ca_path=config.ssl_ca_cert,
                insecure=not config.verify_ssl,
                certificate_path=config.cert_file,
                private_key_path=config.key_file,
                scheme="Bearer",
                token=await bearer_token(config),
            )

        @kopf.on.startup(registry=registry)
        async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
            configure(settings)
            o = self.options
            self._client = await KubeClient.from_kubeconfig(
                kubeconfig=o.kubeconfig, context=o.context, max_concurrency=o.max_concurrency, qps=o.qps, burst=o.burst
            )
            for callback in self._on_start:
                callback(self)
            for controller in self.controllers:
                await controller.start(self.synced)
            logger.info("manager: %d controllers started, waiting for the caches to sync", len(self.controllers))

        @kopf.on.cleanup(registry=registry)
        async def cleanup(**_: Any) -> None:
            for controller in self.controllers:
                await controller.stop()
            for recorder in self._recorders:
                await recorder.close()
            self._recorders.clear()
            if self._client is not None:
                requests = sorted(self._client.requests.items(), key=lambda item: -item[1])
                logger.info("manager: API requests made: %s", ", ".join(f"{k}={v}" for k, v in requests) or "none")
                await self._client.close()
                self._client = None


class NoDiffBase(kopf.DiffBaseStorage):
    """Kopf's change detection, switched off: level-triggered controllers compare observed state, not diffs.

    On every event Kopf builds a deep-copied "essence" of the object to diff against the last handled one.
    Only on.create/update/field handlers use that diff, and we register none; skipping it saves the copy
    of every pod on every event.
    """

    def build(self, *, body: kopf.Body, extra_fields: Any = None) -> kopf.BodyEssence:
        return cast(kopf.BodyEssence, {})

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        return None


def configure(settings: kopf.OperatorSettings) -> None:
    """Kopf settings for level-triggered controllers that keep no state in the objects they watch."""
    settings.posting.enabled = False  # our events carry upstream reasons; log lines are not events
    settings.persistence.diffbase_storage = NoDiffBase()
    settings.peering.standalone = True  # one replica (Recreate); no KopfPeering objects to watch
    settings.peering.mandatory = False
    settings.scanning.disabled = True  # cluster-wide or fixed namespaces: no CRD/namespace scanning
    settings.watching.server_timeout = 300  # re-establish watches regularly (kopf#585, #957)
    settings.watching.client_timeout = 330
