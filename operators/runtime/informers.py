"""Shared informers: caches of one resource kind, fed by Kopf, that tell subscribers what changed.

This is client-go's SharedInformer built from Kopf parts:

- The store is ours: namespace -> name -> view, where a view is a small frozen dataclass, never a whole
  object, so nobody can mutate the cache and it stays small.
- Kopf feeds it. An `@kopf.index` handler receives every add and update, and an `@kopf.on.event` handler
  every deletion; both run on the event loop, update the store first and only then tell the subscribers
  `(old, new)`. A subscriber that enqueues a key can therefore rely on the worker seeing the new state.
- HasSynced: Kopf runs no non-index handler until every index handler has absorbed its initial listing, so
  the first `on.event` call of any informer means every store is complete. Controllers start syncing only
  then, which is what keeps a controller from creating pods it merely has not seen yet. The Kopf index
  itself stays empty: we use the mechanism, not its storage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import kopf

__all__ = ["Informer", "Resource", "View"]

logger = logging.getLogger(__name__)


class View(Protocol):
    """What an informer needs of a cached view: its identity."""

    @property
    def namespace(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def uid(self) -> str: ...


V = TypeVar("V", bound=View)
Subscriber = Callable[[V | None, V | None], None]


@dataclass(frozen=True)
class Resource:
    """A resource as Kopf names it: group, version, plural (the core group is "")."""

    group: str
    version: str
    plural: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str, name: str = "", subresource: str = "") -> str:
        """The REST path of a namespaced object, or of the collection when `name` is empty."""
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        path = f"{prefix}/namespaces/{namespace}/{self.plural}"
        path += f"/{name}" if name else ""
        return path + (f"/{subresource}" if subresource else "")


class Informer(Generic[V]):
    """The cache of one resource kind and the fan-out of its changes to subscribers."""

    def __init__(self, resource: Resource, view: Callable[[Mapping[str, Any]], V], *, synced: asyncio.Event) -> None:
        self.resource = resource
        self.view = view
        self.id = f"informer_{resource.plural}_{(resource.group or 'core').replace('.', '_')}"
        self._synced = synced
        self._subscribers: list[Subscriber[V]] = []
        self._store: dict[str, dict[str, V]] = {}  # namespace -> name -> view

    def subscribe(self, subscriber: Subscriber[V]) -> None:
        """Call `subscriber(old, new)` on every add (old None), update, and delete (new None)."""
        self._subscribers.append(subscriber)

    def register(self, registry: kopf.OperatorRegistry) -> None:
        """Register the feeding handlers with Kopf."""
        r = self.resource

        @kopf.index(r.group, r.version, r.plural, id=self.id, registry=registry)
        async def added_or_updated(body: kopf.Body, **_: Any) -> dict[Any, Any]:
            self.upsert(self.view(body))
            return {}

        @kopf.on.event(r.group, r.version, r.plural, id=f"{self.id}_events", registry=registry)
        async def deleted(type: str | None, body: kopf.Body, **_: Any) -> None:
            self._synced.set()
            if type == "DELETED":
                self.remove(self.view(body))

    def upsert(self, new: V) -> None:
        """Store `new`, then notify (in that order: subscribers may enqueue work that reads the store)."""
        names = self._store.setdefault(new.namespace, {})
        old = names.get(new.name)
        names[new.name] = new
        self._notify(old, new)

    def remove(self, gone: V) -> None:
        names = self._store.get(gone.namespace, {})
        cached = names.get(gone.name)
        if cached is not None and cached.uid != gone.uid:
            return  # a newer object of the same name is cached already: the old one went with its ADDED event
        names.pop(gone.name, None)
        if not names:
            self._store.pop(gone.namespace, None)
        self._notify(cached or gone, None)

    def list(self, namespace: str) -> list[V]:
        """Every cached object of a namespace (a lister's `Pods(ns).List(labels.Everything())`)."""
        return list(self._store.get(namespace, {}).values())

    def get(self, namespace: str, name: str) -> V | None:
        return self._store.get(namespace, {}).get(name)

    def __iter__(self) -> Iterator[V]:
        for names in self._store.values():
            yield from names.values()

    def __len__(self) -> int:
        return sum(len(names) for names in self._store.values())

    def _notify(self, old: V | None, new: V | None) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(old, new)
            except Exception:  # one subscriber's bug must not starve the others or the cache
                logger.exception("informer %s: subscriber %r failed", self.id, subscriber)
