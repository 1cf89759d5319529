"""Shared informers: caches of one resource kind, fed by Kopf indexes, that tell subscribers what changed.

This is client-go's SharedInformer built from Kopf parts:

- The cache is a Kopf index (`@kopf.index`), keyed by namespace (to list) and by (namespace, name) (to get).
  It holds small frozen views, never whole objects, and nobody can mutate them.
- Subscribers get `(old, new)` for every change: the index handler still sees the previous view in its own
  index while it builds the new one, so no second copy of the cache is needed. Deletions arrive through an
  `@kopf.on.event` handler as `(old, None)`.
- HasSynced: Kopf runs no non-index handler until every index has absorbed its initial listing, so the first
  `on.event` call of any informer means all caches are complete. Controllers start syncing only then, which
  is what keeps a controller from creating pods it merely has not seen yet.
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
        self._index: kopf.Index[Any, V] | None = None

    def subscribe(self, subscriber: Subscriber[V]) -> None:
        """Call `subscriber(old, new)` on every add (old None), update, and delete (new None)."""
        self._subscribers.append(subscriber)

    def register(self, registry: kopf.OperatorRegistry) -> None:
        """Register the index and the deletion handler with Kopf."""
        r = self.resource

        @kopf.index(r.group, r.version, r.plural, id=self.id, registry=registry)
        def index(body: kopf.Body, **kwargs: Any) -> dict[Any, V]:
            new = self.view(body)
            own: kopf.Index[Any, V] = kwargs[self.id]
            old = _first(own.get((new.namespace, new.name)))
            self._notify(old, new)
            return {new.namespace: new, (new.namespace, new.name): new}

        @kopf.on.event(r.group, r.version, r.plural, id=f"{self.id}_events", registry=registry)
        def events(type: str | None, body: kopf.Body, **_: Any) -> None:
            self._synced.set()
            if type == "DELETED":
                self._notify(self.view(body), None)

    def bind(self, indices: Mapping[str, Any]) -> None:
        """Take the index object from Kopf's handler kwargs (on startup)."""
        self._index = indices[self.id]

    def list(self, namespace: str) -> list[V]:
        """Every cached object of a namespace (a lister's `Pods(ns).List(labels.Everything())`)."""
        return list(self._store().get(namespace, ()))

    def get(self, namespace: str, name: str) -> V | None:
        found: V | None = _first(self._store().get((namespace, name)))
        return found

    def __iter__(self) -> Iterator[V]:
        index = self._store()
        for key in index:
            if isinstance(key, str):
                yield from index[key]

    def _store(self) -> kopf.Index[Any, V]:
        if self._index is None:
            raise RuntimeError(f"{self.id} is not bound to its Kopf index yet (bind() on startup)")
        return self._index

    def _notify(self, old: V | None, new: V | None) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(old, new)
            except Exception:  # one subscriber's bug must not starve the others or the cache
                logger.exception("informer %s: subscriber %r failed", self.id, subscriber)


def _first(store: Any) -> Any:
    if store is None:
        return None
    return next(iter(store), None)
