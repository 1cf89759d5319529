"""Shared informers: the cache of one resource kind, its indexes, HasSynced, and the fan-out of changes.

This is client-go's SharedIndexInformer without its transport. Something else feeds it: a `Reflector`
(LIST + WATCH of our own, for high-volume kinds such as pods) or Kopf's watch of a custom resource
(`kopffeed.KopfFeed`, where Kopf's handler is the controller's entry point). Either way the informer gets
the same two calls, with client-go's meaning:

- `replace(views, scope)`: a complete listing of one scope (a namespace, or "" for all of them). The store
  is made equal to it, and subscribers hear a delete for every cached object the listing no longer has, an
  update for every object whose resourceVersion changed, and an add for every new one. This is what makes
  the cache survive a watch gap: after a 410 Gone or a broken stream the reflector lists again, and objects
  deleted meanwhile leave the cache instead of haunting it (the Reflector's `Replace` and
  `DeletedFinalStateUnknown` in client-go).
- `apply(event_type, view)`: one watch event.

The store holds small frozen views, never whole objects, so nobody can mutate the cache and it stays small.
It is updated *before* subscribers are told `(old, new)`: a subscriber that enqueues a key can rely on the
worker seeing the new state. Secondary indexes (`add_index`) answer "which pods does this controller own"
or "which pods carry app=web" without scanning a namespace.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar

from operators.kube.objects import OwnerReference
from operators.kube.resources import Resource
from operators.kube.selectors import LabelSelector

__all__ = [
    "BY_CONTROLLER_UID",
    "BY_LABEL",
    "BY_SELECTOR",
    "Informer",
    "View",
    "index_by_controller_uid",
    "index_by_label",
    "index_by_selector",
]

logger = logging.getLogger(__name__)


class View(Protocol):
    """What an informer needs of a cached view: its identity and version."""

    @property
    def namespace(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def uid(self) -> str: ...

    @property
    def resource_version(self) -> str: ...


V = TypeVar("V", bound=View)
Subscriber = Callable[[V | None, V | None], None]
IndexFunc = Callable[[V], Iterable[str]]


# --- standard indexes -------------------------------------------------------------------------------------------

BY_CONTROLLER_UID = "controller-uid"
BY_LABEL = "label"
BY_SELECTOR = "selector"
_ANY = "*"  # the selector index's value for selectors without an equality requirement


class _Owned(Protocol):
    @property
    def controller_ref(self) -> OwnerReference | None: ...


class _Labelled(Protocol):
    @property
    def namespace(self) -> str: ...

    @property
    def labels(self) -> Mapping[str, str]: ...


def index_by_controller_uid(view: _Owned) -> Iterable[str]:
    """The UID of the object's controller (an owner reference with controller=true), if it has one."""
    ref = view.controller_ref
    return (ref.uid,) if ref is not None else ()


def index_by_label(view: _Labelled) -> Iterable[str]:
    """`namespace/key=value` for each label: the candidates of an equality selector, per namespace."""
    return [f"{view.namespace}/{key}={value}" for key, value in view.labels.items()]


class _Selecting(Protocol):
    @property
    def namespace(self) -> str: ...

    @property
    def selector(self) -> LabelSelector: ...


def index_by_selector(view: _Selecting) -> Iterable[str]:
    """Where a selecting object (a ReplicaSet, a Service) is filed, so that an object finds who selects it.

    Under `namespace/key=value` for each value of its first equality (or `In`) requirement: an object
    without that label cannot match. A selector with no such requirement is filed under `namespace/*`,
    which every lookup includes. A selector that matches nothing is not filed at all.
    """
    selector = view.selector
    if selector.nothing:
        return ()
    for requirement in selector.requirements:
        if requirement.operator in ("Equals", "In"):
            return [f"{view.namespace}/{requirement.key}={value}" for value in requirement.values]
    return (f"{view.namespace}/{_ANY}",)


class Informer(Generic[V]):
    """The cache of one resource kind and the fan-out of its changes to subscribers."""

    def __init__(self, resource: Resource, view: Callable[[Mapping[str, Any]], V], *, scopes: Iterable[str] = ("",)):
        self.resource = resource
        self.view = view
        self.name = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
        self._subscribers: list[Subscriber[V]] = []
        self._store: dict[str, dict[str, V]] = {}  # namespace -> name -> view
        # observe_write: the version each of our writes replaced, until the watch delivers that write
        self._replaced: dict[tuple[str, str], V] = {}
        self._index_funcs: dict[str, IndexFunc[V]] = {}
        self._indexes: dict[str, dict[str, dict[tuple[str, str], V]]] = {}  # index -> value -> key -> view
        self._unsynced = set(scopes)  # scopes whose first complete listing has not arrived yet
        self._synced = asyncio.Event()
        if not self._unsynced:
            self._synced.set()

    # --- configuration (before the informer is fed) --------------------------------------------------------

    def subscribe(self, subscriber: Subscriber[V]) -> None:
        """Call `subscriber(old, new)` on every add (old None), update, and delete (new None)."""
        self._subscribers.append(subscriber)

    def add_index(self, name: str, func: IndexFunc[V]) -> None:
        """Maintain a secondary index: `func(view)` gives the values the view is found under (`by_index`)."""
        if name in self._index_funcs:
            return  # shared informers: a second controller asking for the same standard index gets it
        self._index_funcs[name] = func
        index: dict[str, dict[tuple[str, str], V]] = {}
        for view in self:
            for value in func(view):
                index.setdefault(value, {})[(view.namespace, view.name)] = view
        self._indexes[name] = index

    # --- HasSynced -----------------------------------------------------------------------------------------

    def has_synced(self) -> bool:
        """True once every scope has delivered its first complete listing (cache.InformerSynced)."""
        return self._synced.is_set()

    async def wait_synced(self) -> None:
        await self._synced.wait()

    def mark_synced(self, scope: str) -> None:
        """The feed of `scope` has delivered everything that existed when it started."""
        self._unsynced.discard(scope)
        if not self._unsynced and not self._synced.is_set():
            self._synced.set()
            logger.info("informer %s: synced, %d objects", self.name, len(self))

    # --- feeding -------------------------------------------------------------------------------------------

    def replace(self, views: Iterable[V], scope: str = "") -> None:
        """Make the store's `scope` (a namespace, or "" for every namespace) equal to a complete listing."""
        listed: dict[tuple[str, str], V] = {(v.namespace, v.name): v for v in views}
        for namespace in [scope] if scope else list(self._store):
            for name, cached in list(self._store.get(namespace, {}).items()):
                fresh = listed.get((namespace, name))
                if fresh is None or fresh.uid != cached.uid:
                    self._delete(cached)  # vanished during the gap (or re-created: its add follows)
        for view in listed.values():
            current = self.get(view.namespace, view.name)
            if current is None or current.resource_version != view.resource_version:
                self.upsert(view)
        self.mark_synced(scope)

    def apply(self, event_type: str | None, view: V) -> None:
        """One watch event: ADDED, MODIFIED (or Kopf's None for a listed object) upsert; DELETED removes."""
        if event_type == "DELETED":
            self.remove(view)
        else:
            self.upsert(view)

    def upsert(self, new: V) -> None:
        """Store `new`, then notify (in that order: subscribers may enqueue work that reads the store).

        When `new` is a write of ours that `observe_write` put in the cache already, subscribers are told
        of the change from the version it replaced, as a watch event would have told them.
        """
        names = self._store.setdefault(new.namespace, {})
        old = names.get(new.name)
        replaced = self._replaced.pop((new.namespace, new.name), None)
        if replaced is not None and old is not None and old.resource_version == new.resource_version:
            old_for_subscribers: V | None = replaced
        else:
            old_for_subscribers = old
        names[new.name] = new
        if self._index_funcs:
            if old is not None:
                self._unindex(old)
            self._index(new)
        self._notify(old_for_subscribers, new)

    def remove(self, gone: V) -> None:
        """Drop the object `gone` names, unless a newer object of that name (another UID) is cached already."""
        cached = self.get(gone.namespace, gone.name)
        if cached is not None and cached.uid != gone.uid:
            return  # the old one went with its successor's ADDED event
        if cached is None:
            self._notify(gone, None)  # never seen (or already gone): subscribers may still hold expectations
            return
        self._delete(cached)

    def observe_write(self, written_against: str, body: Mapping[str, Any], *, view: V | None = None) -> bool:
        """Our own successful write (its response `body`) enters the cache now, if nothing else did meanwhile.

        client-go's MutationCache, for one case: a controller that writes status with a resourceVersion
        precondition and syncs again before the watch delivers its write would otherwise compute from a
        version it has itself replaced, and get 409 Conflict. The write is taken in only while the cache
        still holds `written_against`, the version the write replaced: then every event up to that version
        has been delivered, the next one is the write itself (the same version) or newer, and the cache
        never goes back. Subscribers are told when the watch delivers the write, of the change from the
        version it replaced: the informer is shared, and another controller may care about what this one
        wrote (a MiniReplicaSet's status is the MiniDeployment controller's input). True when the cache took it.
        """
        view = view if view is not None else self.view(body)  # the caller may have built it already
        cached = self.get(view.namespace, view.name)
        if cached is None or cached.uid != view.uid or cached.resource_version != written_against:
            return False
        self._store[view.namespace][view.name] = view
        self._replaced.setdefault((view.namespace, view.name), cached)  # the oldest version subscribers know
        if self._index_funcs:
            self._unindex(cached)
            self._index(view)
        return True

    def _delete(self, cached: V) -> None:
        self._replaced.pop((cached.namespace, cached.name), None)
        names = self._store[cached.namespace]
        del names[cached.name]
        if not names:
            del self._store[cached.namespace]
        if self._index_funcs:
            self._unindex(cached)
        self._notify(cached, None)

    # --- reading -------------------------------------------------------------------------------------------

    def get(self, namespace: str, name: str) -> V | None:
        return self._store.get(namespace, {}).get(name)

    def holding(self, body: Mapping[str, Any]) -> V | None:
        """The cached view of `body` when the cache holds that very version of it already, else None.

        That is a write of ours that `observe_write` took in: its watch event then needs no parsing (a
        MiniService's EndpointSlice of 100 endpoints costs about as much to parse as to reconcile).
        """
        metadata = body.get("metadata") or {}
        cached = self.get(metadata.get("namespace") or "", metadata.get("name") or "")
        if cached is None or cached.resource_version != metadata.get("resourceVersion"):
            return None
        return cached if cached.uid == metadata.get("uid") else None

    def by_index(self, index: str, value: str) -> list[V]:
        """The cached objects `index` files under `value` (cache.Indexer.ByIndex)."""
        return list(self._indexes[index].get(value, {}).values())

    def select(self, namespace: str, selector: LabelSelector) -> list[V]:
        """The objects of `namespace` that `selector` matches: through the label index when it can help.

        An equality or `In` requirement narrows the candidates to the objects carrying one of its
        key=value pairs; the smallest such set is filtered with the whole selector. Without the index, or
        for a selector with no such requirement, the namespace is scanned.
        """
        if selector.nothing:
            return []
        index = self._indexes.get(BY_LABEL)
        candidates: list[V] | None = None
        if index is not None:
            for requirement in selector.requirements:
                if requirement.operator not in ("Equals", "In"):
                    continue
                found: dict[tuple[str, str], V] = {}
                for value in requirement.values:
                    found.update(index.get(f"{namespace}/{requirement.key}={value}", {}))
                if candidates is None or len(found) < len(candidates):
                    candidates = list(found.values())
        if candidates is None:
            candidates = self.list(namespace)
        return [view for view in candidates if selector.matches(getattr(view, "labels", None))]

    def selecting(self, namespace: str, labels: Mapping[str, str]) -> list[V]:
        """The objects of `namespace` whose selector matches `labels` (through the selector index).

        The reverse of `select`: the ReplicaSets that want a pod, the Services that route to it.
        """
        index = self._indexes[BY_SELECTOR]
        found: dict[tuple[str, str], V] = dict(index.get(f"{namespace}/{_ANY}", {}))
        for key, value in labels.items():
            found.update(index.get(f"{namespace}/{key}={value}", {}))
        return [view for view in found.values() if getattr(view, "selector").matches(labels)]  # noqa: B009

    def __iter__(self) -> Iterator[V]:
        for names in self._store.values():
            yield from names.values()

    def __len__(self) -> int:
        return sum(len(names) for names in self._store.values())

    # --- internals -----------------------------------------------------------------------------------------

    def _index(self, view: V) -> None:
        key = (view.namespace, view.name)
        for name, func in self._index_funcs.items():
            index = self._indexes[name]
            for value in func(view):
                index.setdefault(value, {})[key] = view

    def _unindex(self, view: V) -> None:
        key = (view.namespace, view.name)
        for name, func in self._index_funcs.items():
            index = self._indexes[name]
            for value in func(view):
                bucket = index.get(value)
                if bucket is not None:
                    bucket.pop(key, None)
                    if not bucket:
                        del index[value]

    def _notify(self, old: V | None, new: V | None) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(old, new)
            except Exception:  # one subscriber's bug must not starve the others or the cache
                logger.exception("informer %s: subscriber %r failed", self.name, subscriber)

    # Defined last: inside the class body, `list` would otherwise name this method in the annotations above.
    def list(self, namespace: str) -> list[V]:
        """Every cached object of a namespace (a lister's `Pods(ns).List(labels.Everything())`)."""
        return list(self._store.get(namespace, {}).values())
