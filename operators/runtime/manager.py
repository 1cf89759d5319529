"""The manager: one Kopf registry, one API client, shared informers, leader election, metrics, the workers.

It is built like sample-controller's main(): `Manager.connect(options)` loads the kubeconfig and creates the
one API client; each controller's `setup(manager)` then declares what it needs (informers, indexes, its
Kopf entry point, its work queue) and receives the client and an event recorder in its constructor, so
nothing is bound later. Kopf's startup calls `start()`, which brings the declared parts to life:

1. the `/metrics` server;
2. every informer's feed: a `Reflector` per scope, or Kopf's watch for a controller's own custom resource;
3. leader election, when on: every process keeps warm caches, only the leader runs workers;
4. each controller's workers, which wait until the informers they read have synced.

Why leader election: expectations and caches live in one process. Two processes that both act would both
create the missing pods, then both delete the surplus. A standby that only watches costs memory, not
correctness, and takes over within a lease duration of the leader's death. Losing the lease ends the
process (kube-controller-manager does the same): its in-flight syncs cannot be trusted any more, and a
fresh start as a standby is the simplest correct state.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import kopf

from operators.kube.resources import Resource
from operators.runtime.client import KubeClient, bearer_token, load_configuration
from operators.runtime.controller import Controller, Reconciler
from operators.runtime.events import EventRecorder
from operators.runtime.informers import Informer, View
from operators.runtime.kopffeed import KopfFeed
from operators.runtime.leaderelection import LeaderElectionConfig, LeaderElector
from operators.runtime.metrics import Metrics, MetricsServer, start_metrics_server
from operators.runtime.reflector import Reflector

__all__ = ["Manager", "Options"]

logger = logging.getLogger(__name__)
V = TypeVar("V", bound=View)


@dataclass(frozen=True)
class Options:
    """How the operator process runs (the `run` command's flags)."""

    namespaces: tuple[str, ...] = ()  # watched namespaces; empty means cluster-wide
    workers: int = 5  # concurrent syncs per controller, as --concurrent-replicaset-syncs
    max_endpoints_per_slice: int = 100  # KCM's --max-endpoints-per-slice (ES-02)
    mirror_native_policies: bool = False  # --mirror-native: a NetworkPolicy mirrors each MiniNetworkPolicy
    qps: float | None = None  # client-side rate limit; None = off, 20/30 = kube-controller-manager's
    burst: int | None = None
    max_concurrency: int = 64  # API requests in flight
    request_timeout: float = 30.0  # seconds for one API request
    kubeconfig: str | None = None
    context: str | None = None
    leader_elect: bool = True  # as kube-controller-manager: on by default
    leader_election: LeaderElectionConfig = field(default_factory=LeaderElectionConfig)
    metrics_bind_address: str = ":8080"  # controller-runtime's --metrics-bind-address; "0" turns it off


class Manager:
    """Owns the shared runtime of one operator process."""

    def __init__(self, client: KubeClient, options: Options | None = None, *, metrics: Metrics | None = None) -> None:
        self.client = client
        self.options = options or Options()
        self.registry = kopf.OperatorRegistry()
        self.metrics = metrics or Metrics()
        self.controllers: list[Controller] = []
        self.leadership_lost = asyncio.Event()  # set when the lease is lost: the process must end
        self.elector: LeaderElector | None = None
        self._informers: dict[tuple[Resource, str, str], Informer[Any]] = {}  # (resource, labels, fields)
        self._kopf_feeds: dict[Resource, KopfFeed] = {}
        self._recorders: list[EventRecorder] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._metrics_server: MetricsServer | None = None
        self._elector_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._closed = False
        self._register_lifecycle()

    @classmethod
    async def connect(cls, options: Options | None = None) -> Manager:
        """Load the kubeconfig (or in-cluster configuration), create the client, and a manager around it."""
        o = options or Options()
        metrics = Metrics()
        client = await KubeClient.from_kubeconfig(
            kubeconfig=o.kubeconfig,
            context=o.context,
            max_concurrency=o.max_concurrency,
            qps=o.qps,
            burst=o.burst,
            timeout=o.request_timeout,
        )
        host = client.host
        client.observer = lambda method, code, seconds: metrics.observe_request(method, code, host, seconds)
        return cls(client, o, metrics=metrics)

    # --- declaring (before the operator runs) ------------------------------------------------------------------

    def informer(
        self,
        resource: Resource,
        view: Callable[[Mapping[str, Any]], V],
        *,
        label_selector: str = "",
        field_selector: str = "",
    ) -> Informer[V]:
        """The shared informer of `resource` (one per resource, as a SharedInformerFactory gives).

        With a label or field selector it is a filtered informer, shared only by callers asking for the same
        selectors (client-go's NewFilteredSharedInformerFactory); its reflector lists and watches with them.
        """
        key = (resource, label_selector, field_selector)
        if key not in self._informers:
            scopes = self.options.namespaces if resource.namespaced and self.options.namespaces else ("",)
            self._informers[key] = Informer(resource, view, scopes=scopes)
        return self._informers[key]

    def primary(self, resource: Resource, view: Callable[[Mapping[str, Any]], V], *, id: str) -> Informer[V]:
        """The informer of a controller's own custom resource, fed by Kopf: its handler is the entry point."""
        informer = self.informer(resource, view)
        if resource not in self._kopf_feeds:
            feed = KopfFeed(informer, self.client, namespaces=self.options.namespaces or ("",))
            feed.register(self.registry, id=id)
            self._kopf_feeds[resource] = feed
        return informer

    def controller(self, reconciler: Reconciler, *, waits_for: list[Informer[Any]]) -> Controller:
        """Workers for `reconciler`; they start syncing once every informer in `waits_for` has synced."""
        controller = Controller(reconciler, workers=self.options.workers, waits_for=waits_for, metrics=self.metrics)
        self.controllers.append(controller)
        return controller

    def event_recorder(self, component: str) -> EventRecorder:
        """An event recorder for `component` (`source.component` of its events), closed on cleanup."""
        recorder = EventRecorder(self.client, component)
        self._recorders.append(recorder)
        return recorder

    @property
    def metrics_server(self) -> MetricsServer | None:
        """The running /metrics server (None when off), with the port it bound."""
        return self._metrics_server

    # --- running -----------------------------------------------------------------------------------------------

    async def start(self) -> None:
        o = self.options
        self._metrics_server = await start_metrics_server(self.metrics, o.metrics_bind_address)
        started = time.monotonic()
        for (resource, labels, fields), informer in self._informers.items():
            if (feed := self._kopf_feeds.get(resource)) is not None and not labels and not fields:
                self._spawn(feed.run(), f"kopf-feed {informer.name}")
                continue
            scopes = o.namespaces if resource.namespaced and o.namespaces else ("",)
            for scope in scopes:
                reflector = Reflector(
                    self.client, informer, namespace=scope, label_selector=labels, field_selector=fields
                )
                self._spawn(reflector.run(), f"reflector {informer.name}")
        self._spawn(self._report_synced(started), "report-synced")
        if o.leader_elect:
            self.elector = LeaderElector(
                self.client,
                o.leader_election,
                on_started_leading=lambda: self._spawn(self._start_workers(), "start-workers"),
                on_stopped_leading=self._stopped_leading,
                on_leading_changed=lambda leading: self.metrics.set_leader(o.leader_election.name, leading),
            )
            self._elector_task = asyncio.create_task(self.elector.run(), name="leader-election")
            election = o.leader_election
            logger.info(
                "manager: leader election as %s on lease %s/%s", election.identity, election.namespace, election.name
            )
        else:
            await self._start_workers()

    async def stop(self) -> None:
        """Stop the workers, release the lease if we hold it, stop the feeds, close the client (once)."""
        if self._closed:
            return
        self._closed = True
        self._stopping = True
        if self._elector_task is not None:
            self._elector_task.cancel()
            await asyncio.gather(self._elector_task, return_exceptions=True)
        for controller in self.controllers:
            await controller.stop()
        if self.elector is not None:
            try:  # ReleaseOnCancel (a no-op unless the lease still names us): the standby need not wait
                await self.elector.release()
            except Exception as error:  # the lease then expires by itself
                logger.warning("manager: could not release the lease: %s", error)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for recorder in self._recorders:
            await recorder.close()
        self._recorders.clear()
        if self._metrics_server is not None:
            await self._metrics_server.stop()
            self._metrics_server = None
        requests = sorted(self.client.requests.items(), key=lambda item: -item[1])
        logger.info("manager: API requests made: %s", ", ".join(f"{k}={v}" for k, v in requests) or "none")
        await self.client.close()

    async def _start_workers(self) -> None:
        for controller in self.controllers:
            await controller.start()
        logger.info("manager: %d controllers started", len(self.controllers))

    def _stopped_leading(self) -> None:
        """The elector's run() ended: on our own shutdown, fine; otherwise the lease was lost and we must end."""
        if self._stopping:
            return
        logger.error("manager: leader election lost; stopping")
        for controller in self.controllers:
            self._spawn(controller.stop(), f"stop {controller.name}")
        self.leadership_lost.set()

    async def _report_synced(self, started: float) -> None:
        await asyncio.gather(*(informer.wait_synced() for informer in self._informers.values()))
        sizes = ", ".join(f"{informer.name}={len(informer)}" for informer in self._informers.values())
        logger.info("manager: caches synced in %.2f s (%s)", time.monotonic() - started, sizes)
        # What exists now (modules, the first listing's views) lives as long as the process: moved out of
        # the collector's sight, later collections no longer walk it (tens of thousands of cached views).
        gc.freeze()

    def _spawn(self, coroutine: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(coroutine, name=name))

    # --- Kopf --------------------------------------------------------------------------------------------------

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
            await self.start()

        @kopf.on.cleanup(registry=registry)
        async def cleanup(**_: Any) -> None:
            await self.stop()


class NoDiffBase(kopf.DiffBaseStorage):
    """Kopf's change detection, switched off: level-triggered controllers compare observed state, not diffs.

    On every event Kopf builds a deep-copied "essence" of the object to diff against the last handled one.
    Only on.create/update/field handlers use that diff, and we register none; skipping it saves the copy
    of every object on every event.
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
    settings.peering.standalone = True  # leader election is ours (a Lease, as KCM), not Kopf's peering
    settings.peering.mandatory = False
    settings.scanning.disabled = True  # cluster-wide or fixed namespaces: no CRD/namespace scanning
    settings.watching.server_timeout = 300  # re-establish watches regularly (kopf#585, #957)
    settings.watching.client_timeout = 330
