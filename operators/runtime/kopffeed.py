"""Kopf's watch of a custom resource as an informer feed: the controller's entry point, with relist semantics.

Each controller's own custom resource reaches it through Kopf: an async `@kopf.on.event` handler, the
controller's entry point, puts every event into the shared informer, whose subscribers enqueue keys. Kopf
lists and watches, restarts its watch on 410 Gone, logs in, and handles signals — but it tells a handler
neither that its listing is complete nor which objects vanished while its watch was down. Two small pieces
add what an informer needs:

- **HasSynced.** On start we LIST the resource ourselves, metadata only (names and UIDs, no specs). The
  cache is synced once it has seen every UID of that listing, through Kopf's events. An object deleted
  between our listing and Kopf's would never be seen, so the listing is repeated until the condition holds.
- **Pruning.** After each Kopf relist (we notice its replayed objects: events of type None once synced) and
  every `prune_period` seconds, another metadata-only LIST removes from the cache every object that was
  cached before the request was sent and is absent from its answer. A LIST without a resourceVersion is a
  consistent read, so an absent object is really gone; an object that appeared during the request is kept.

One watch stream per resource (Kopf's); the two LISTs are cheap (a few hundred bytes per object).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import kopf

from operators.runtime.client import CONNECTION_ERRORS, ApiError, KubeClient
from operators.runtime.informers import Informer, View

__all__ = ["KopfFeed"]

logger = logging.getLogger(__name__)

LIST_ERRORS: tuple[type[Exception], ...] = (*CONNECTION_ERRORS, ApiError)
PRUNE_PERIOD = 30.0
SYNC_RETRY = 1.0  # seconds between listings while waiting for Kopf to deliver what the first one showed
RELIST_SETTLE = 1.0  # after Kopf's replayed objects stop arriving, prune this much later


class KopfFeed:
    """Feeds one informer from a Kopf `on.event` handler; adds HasSynced and pruning (see the module doc)."""

    def __init__(
        self,
        informer: Informer[Any],
        client: KubeClient,
        *,
        namespaces: Iterable[str] = ("",),
        prune_period: float = PRUNE_PERIOD,
    ) -> None:
        self.informer = informer
        self.client = client
        self.namespaces = tuple(namespaces) or ("",)
        self.prune_period = prune_period
        self.prunes = 0  # completed prunes, for tests
        self._seen: set[str] | None = set()  # UIDs delivered by Kopf, kept only until synced
        self._relisted = asyncio.Event()

    def register(self, registry: kopf.OperatorRegistry, *, id: str) -> None:
        """Register the entry-point handler: every Kopf event of the resource goes into the informer."""
        r = self.informer.resource

        @kopf.on.event(r.group, r.version, r.plural, id=id, registry=registry)
        async def entry_point(type: str | None, body: kopf.Body, **_: Any) -> None:
            self.handle(type, body)

    def handle(self, event_type: str | None, body: Any) -> None:
        """One Kopf event: None (listed), ADDED, MODIFIED or DELETED."""
        view: View = self.informer.view(body)
        self.informer.apply(event_type, view)
        if self._seen is not None:
            self._seen.add(view.uid)
        elif event_type is None:
            self._relisted.set()  # Kopf is replaying a fresh listing: objects may have vanished meanwhile

    async def run(self) -> None:
        """Wait for the cache to hold the first listing, then prune it after relists and periodically."""
        await self._sync()
        while True:
            try:
                await asyncio.wait_for(self._relisted.wait(), timeout=self.prune_period)
                await self._settle()
            except TimeoutError:
                pass
            self._relisted.clear()
            try:
                await self.prune()
            except LIST_ERRORS as error:
                logger.warning("informer %s: could not list for pruning: %s", self.informer.name, error)

    async def _sync(self) -> None:
        for namespace in self.namespaces:
            while True:
                try:
                    listed = await self._list_uids(namespace)
                except LIST_ERRORS as error:
                    logger.warning("informer %s: initial listing failed: %s", self.informer.name, error)
                    await asyncio.sleep(SYNC_RETRY)
                    continue
                assert self._seen is not None
                if listed <= self._seen:
                    break
                await asyncio.sleep(SYNC_RETRY)  # Kopf is still delivering its own listing
        self._seen = None
        for namespace in self.namespaces:
            self.informer.mark_synced(namespace)

    async def _settle(self) -> None:
        """Wait until Kopf's replay has gone quiet for RELIST_SETTLE seconds."""
        while True:
            self._relisted.clear()
            try:
                await asyncio.wait_for(self._relisted.wait(), timeout=RELIST_SETTLE)
            except TimeoutError:
                return

    async def prune(self) -> int:
        """Remove cached objects that no longer exist; return how many were removed."""
        removed = 0
        for namespace in self.namespaces:
            before = {(v.namespace, v.name): v.uid for v in self._cached(namespace)}
            listed = await self._list_uids(namespace)
            for (ns, name), uid in before.items():
                cached = self.informer.get(ns, name)
                if uid not in listed and cached is not None and cached.uid == uid:
                    logger.info("informer %s: %s/%s vanished unseen; removing it", self.informer.name, ns, name)
                    self.informer.remove(cached)
                    removed += 1
        self.prunes += 1
        return removed

    def _cached(self, namespace: str) -> list[View]:
        return list(self.informer.list(namespace) if namespace else self.informer)

    async def _list_uids(self, namespace: str) -> set[str]:
        path = self.informer.resource.path(namespace)
        uids: set[str] = set()
        query: dict[str, str] = {"limit": "500"}
        while True:
            page = await self.client.list_metadata(path, query=query)
            uids.update(str((item.get("metadata") or {}).get("uid", "")) for item in page.get("items") or ())
            if token := (page.get("metadata") or {}).get("continue"):
                query["continue"] = str(token)
                continue
            return uids
