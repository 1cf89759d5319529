"""Informer store and fan-out, driven directly through upsert/remove (no Kopf)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from operators.kube.objects import Pod
from operators.runtime.informers import Informer, Resource

PODS = Resource("", "v1", "pods")

Event = tuple[Pod | None, Pod | None]


def pod(name: str, uid: str, namespace: str = "default", rv: str = "1", **labels: str) -> Pod:
    body: dict[str, Any] = {
        "metadata": {"namespace": namespace, "name": name, "uid": uid, "resourceVersion": rv, "labels": labels}
    }
    return Pod.from_dict(body)


def make_informer() -> tuple[Informer[Pod], list[Event]]:
    informer: Informer[Pod] = Informer(PODS, Pod.from_dict, synced=asyncio.Event())
    events: list[Event] = []
    informer.subscribe(lambda old, new: events.append((old, new)))
    return informer, events


def test_upsert_notifies_add_then_update() -> None:
    informer, events = make_informer()
    v1 = pod("a", "uid-a", rv="1")
    v2 = pod("a", "uid-a", rv="2", app="web")
    informer.upsert(v1)
    informer.upsert(v2)
    assert events == [(None, v1), (v1, v2)]
    assert informer.get("default", "a") == v2


def test_store_holds_new_when_subscribers_run() -> None:
    informer: Informer[Pod] = Informer(PODS, Pod.from_dict, synced=asyncio.Event())
    seen: list[tuple[Pod | None, list[Pod]]] = []

    def subscriber(old: Pod | None, new: Pod | None) -> None:
        ref = new or old
        assert ref is not None
        seen.append((informer.get(ref.namespace, ref.name), informer.list(ref.namespace)))

    informer.subscribe(subscriber)
    v1 = pod("a", "uid-a", rv="1")
    v2 = pod("a", "uid-a", rv="2")
    informer.upsert(v1)
    informer.upsert(v2)
    informer.remove(v2)
    assert seen == [(v1, [v1]), (v2, [v2]), (None, [])]


def test_remove_notifies_and_drops_empty_namespaces() -> None:
    informer, events = make_informer()
    a = pod("a", "uid-a", namespace="ns1")
    b = pod("b", "uid-b", namespace="ns1")
    informer.upsert(a)
    informer.upsert(b)
    events.clear()

    informer.remove(a)
    assert events == [(a, None)]
    assert informer.get("ns1", "a") is None
    assert informer.list("ns1") == [b]

    informer.remove(b)
    assert events == [(a, None), (b, None)]
    assert informer.list("ns1") == []
    assert len(informer) == 0
    assert "ns1" not in informer._store, "an emptied namespace must be dropped from the store"


def test_remove_notifies_with_the_cached_view() -> None:
    """The deletion's `old` is the view subscribers last saw (the cached one), like an indexer's last state."""
    informer, events = make_informer()
    cached = pod("a", "uid-a", rv="5", app="web")
    informer.upsert(cached)
    events.clear()
    informer.remove(pod("a", "uid-a", rv="4"))
    assert events == [(cached, None)]
    assert events[0][0] is cached


def test_remove_of_a_stale_object_does_nothing() -> None:
    """A DELETED event of an old incarnation must not drop the re-created namesake (different uid)."""
    informer, events = make_informer()
    new = pod("a", "uid-new")
    informer.upsert(new)
    events.clear()
    informer.remove(pod("a", "uid-old"))
    assert events == []
    assert informer.get("default", "a") == new
    assert len(informer) == 1


def test_remove_of_an_unknown_object_notifies_and_keeps_the_store() -> None:
    informer, events = make_informer()
    other = pod("b", "uid-b")
    informer.upsert(other)
    events.clear()
    gone = pod("a", "uid-a")
    informer.remove(gone)
    assert events == [(gone, None)]
    assert informer.list("default") == [other]
    informer.remove(pod("x", "uid-x", namespace="elsewhere"))
    assert "elsewhere" not in informer._store


def test_list_get_iter_len() -> None:
    informer, _ = make_informer()
    assert len(informer) == 0
    assert list(informer) == []
    assert informer.list("default") == []
    assert informer.get("default", "a") is None

    a = pod("a", "uid-a", namespace="ns1")
    b = pod("b", "uid-b", namespace="ns1")
    c = pod("a", "uid-c", namespace="ns2")  # the same name in another namespace
    for p in (a, b, c):
        informer.upsert(p)
    informer.upsert(a)  # an update does not add a second entry

    assert len(informer) == 3
    assert sorted(p.uid for p in informer) == ["uid-a", "uid-b", "uid-c"]
    assert sorted(p.name for p in informer.list("ns1")) == ["a", "b"]
    assert informer.list("ns2") == [c]
    assert informer.list("nope") == []
    assert informer.get("ns1", "a") == a
    assert informer.get("ns2", "a") == c
    assert informer.get("ns1", "c") is None
    assert informer.get("nope", "a") is None

    listed = informer.list("ns1")
    listed.clear()  # list() returns a copy: the cache is not mutated through it
    assert len(informer.list("ns1")) == 2


def test_a_raising_subscriber_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="operators.runtime.informers")
    informer: Informer[Pod] = Informer(PODS, Pod.from_dict, synced=asyncio.Event())
    before: list[Event] = []
    after: list[Event] = []

    def broken(old: Pod | None, new: Pod | None) -> None:
        raise RuntimeError("subscriber bug")

    informer.subscribe(lambda old, new: before.append((old, new)))
    informer.subscribe(broken)
    informer.subscribe(lambda old, new: after.append((old, new)))

    a = pod("a", "uid-a")
    informer.upsert(a)
    informer.remove(a)
    assert before == after == [(None, a), (a, None)]
    assert informer.get("default", "a") is None

    failures = [r for r in caplog.records if r.name == "operators.runtime.informers"]
    assert len(failures) == 2
    assert all(r.exc_info is not None and r.exc_info[0] is RuntimeError for r in failures)
    assert "informer_pods_core" in failures[0].getMessage()


def test_subscribers_are_called_in_subscription_order() -> None:
    informer: Informer[Pod] = Informer(PODS, Pod.from_dict, synced=asyncio.Event())
    order: list[str] = []

    def recorder(name: str) -> Callable[[Pod | None, Pod | None], None]:
        return lambda old, new: order.append(name)

    for name in ("first", "second", "third"):
        informer.subscribe(recorder(name))
    informer.upsert(pod("a", "uid-a"))
    assert order == ["first", "second", "third"]


@pytest.mark.parametrize(
    ("resource", "informer_id", "api_version"),
    [
        (Resource("", "v1", "pods"), "informer_pods_core", "v1"),
        (Resource("minik8s.dev", "v1", "minireplicasets"), "informer_minireplicasets_minik8s_dev", "minik8s.dev/v1"),
        (Resource("apps", "v1", "replicasets"), "informer_replicasets_apps", "apps/v1"),
    ],
)
def test_resource_naming(resource: Resource, informer_id: str, api_version: str) -> None:
    informer: Informer[Pod] = Informer(resource, Pod.from_dict, synced=asyncio.Event())
    assert informer.id == informer_id
    assert resource.api_version == api_version


def test_resource_path() -> None:
    assert PODS.path("ns") == "/api/v1/namespaces/ns/pods"
    assert PODS.path("ns", "a") == "/api/v1/namespaces/ns/pods/a"
    assert PODS.path("ns", "a", "status") == "/api/v1/namespaces/ns/pods/a/status"
    mrs = Resource("minik8s.dev", "v1", "minireplicasets")
    assert mrs.path("x", "y", "scale") == "/apis/minik8s.dev/v1/namespaces/x/minireplicasets/y/scale"
