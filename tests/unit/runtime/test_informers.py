"""Informer store and fan-out, driven directly through upsert/remove (no Kopf)."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from operators.kube.objects import Pod
from operators.kube.resources import Resource
from operators.kube.selectors import LabelSelector
from operators.runtime.informers import (
    BY_CONTROLLER_UID,
    BY_LABEL,
    BY_SELECTOR,
    Informer,
    index_by_controller_uid,
    index_by_label,
    index_by_selector,
)

PODS = Resource("", "v1", "pods")

Event = tuple[Pod | None, Pod | None]


def pod(name: str, uid: str, namespace: str = "default", rv: str = "1", **labels: str) -> Pod:
    body: dict[str, Any] = {
        "metadata": {"namespace": namespace, "name": name, "uid": uid, "resourceVersion": rv, "labels": labels}
    }
    return Pod.from_dict(body)


def make_informer() -> tuple[Informer[Pod], list[Event]]:
    informer: Informer[Pod] = Informer(PODS, Pod.from_dict)
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
    informer: Informer[Pod] = Informer(PODS, Pod.from_dict)
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
    informer: Informer[Pod] = Informer(PODS, Pod.from_dict)
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
    assert "informer pods" in failures[0].getMessage()


def test_subscribers_are_called_in_subscription_order() -> None:
    informer: Informer[Pod] = Informer(PODS, Pod.from_dict)
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
        (Resource("", "v1", "pods"), "pods", "v1"),
        (Resource("minik8s.dev", "v1", "minireplicasets"), "minireplicasets.minik8s.dev", "minik8s.dev/v1"),
        (Resource("apps", "v1", "replicasets"), "replicasets.apps", "apps/v1"),
    ],
)
def test_resource_naming(resource: Resource, informer_id: str, api_version: str) -> None:
    informer: Informer[Pod] = Informer(resource, Pod.from_dict)
    assert informer.name == informer_id
    assert resource.api_version == api_version


def test_resource_path() -> None:
    assert PODS.path("ns") == "/api/v1/namespaces/ns/pods"
    assert PODS.path("ns", "a") == "/api/v1/namespaces/ns/pods/a"
    assert PODS.path("ns", "a", "status") == "/api/v1/namespaces/ns/pods/a/status"
    mrs = Resource("minik8s.dev", "v1", "minireplicasets")
    assert mrs.path("x", "y", "scale") == "/apis/minik8s.dev/v1/namespaces/x/minireplicasets/y/scale"


# --- replace: a complete listing of a scope -------------------------------------------------------------------


def changes(events: list[Event]) -> list[tuple[str, str, str]]:
    """(kind, name, uid) of each notification: add, update or delete."""
    out = []
    for old, new in events:
        view = new or old
        assert view is not None
        out.append(("add" if old is None else "delete" if new is None else "update", view.name, view.uid))
    return out


def test_replace_adds_updates_and_deletes() -> None:
    """Replace (the relist after a watch gap) makes the store equal to the listing and notifies the differences;
    an object whose resourceVersion did not change is not notified."""
    informer, events = make_informer()
    for name in ("same", "changed", "gone"):
        informer.upsert(pod(name, f"uid-{name}", rv="1"))
    events.clear()

    listed = [pod("same", "uid-same", rv="1"), pod("changed", "uid-changed", rv="7", v="2"), pod("new", "uid-new")]
    informer.replace(listed)

    assert changes(events) == [
        ("delete", "gone", "uid-gone"),
        ("update", "changed", "uid-changed"),
        ("add", "new", "uid-new"),
    ]
    assert events[0][0] == pod("gone", "uid-gone", rv="1"), "a delete carries the last cached state"
    assert events[1][0] is not None and events[1][0].resource_version == "1"
    assert sorted(p.name for p in informer) == ["changed", "new", "same"]
    assert informer.get("default", "changed") == listed[1]
    assert informer.has_synced()

    events.clear()
    informer.replace(listed)  # the same listing again: nothing to say
    assert events == []


def test_replace_recreated_object_deletes_the_old_then_adds_the_new() -> None:
    """The same name with another UID is another object: its predecessor is deleted first."""
    informer, events = make_informer()
    informer.upsert(pod("a", "uid-old", rv="1"))
    events.clear()
    informer.replace([pod("a", "uid-new", rv="9")])
    assert changes(events) == [("delete", "a", "uid-old"), ("add", "a", "uid-new")]


def test_replace_of_a_scope_touches_only_its_namespace() -> None:
    informer: Informer[Pod] = Informer(PODS, Pod.from_dict, scopes=("ns1", "ns2"))
    events: list[Event] = []
    informer.subscribe(lambda old, new: events.append((old, new)))
    informer.upsert(pod("x", "uid-x", namespace="ns2"))
    informer.upsert(pod("y", "uid-y", namespace="ns3"))  # a namespace nobody lists
    events.clear()

    informer.replace([pod("a", "uid-a", namespace="ns1")], "ns1")
    assert changes(events) == [("add", "a", "uid-a")], "ns2 and ns3 are not this listing's business"
    assert informer.get("ns2", "x") is not None and informer.get("ns3", "y") is not None
    assert not informer.has_synced(), "ns2 has not been listed yet"

    informer.replace([], "ns2")
    assert changes(events)[1:] == [("delete", "x", "uid-x")]
    assert informer.has_synced()
    assert informer.list("ns1") == [pod("a", "uid-a", namespace="ns1")]


def test_replace_of_all_namespaces() -> None:
    """Scope "" is every namespace: a listing of them all deletes what no namespace has any more."""
    informer, events = make_informer()
    informer.upsert(pod("x", "uid-x", namespace="ns1"))
    informer.upsert(pod("y", "uid-y", namespace="ns2"))
    events.clear()
    informer.replace([pod("y", "uid-y", namespace="ns2")])
    assert changes(events) == [("delete", "x", "uid-x")]
    assert "ns1" not in informer._store


async def test_has_synced_per_scope() -> None:
    """HasSynced holds once every scope's first complete listing has arrived, and stays."""
    informer: Informer[Pod] = Informer(PODS, Pod.from_dict, scopes=("a", "b"))
    assert not informer.has_synced()
    informer.mark_synced("a")
    informer.mark_synced("a")
    assert not informer.has_synced()
    informer.replace([], "b")
    assert informer.has_synced()
    await informer.wait_synced()  # returns at once
    informer.replace([], "a")
    assert informer.has_synced()
    assert Informer(PODS, Pod.from_dict, scopes=()).has_synced(), "nothing to wait for"


# --- indexes ---------------------------------------------------------------------------------------------------


def owned(name: str, uid: str, owner: str | None, rv: str = "1", **labels: str) -> Pod:
    refs = [{"apiVersion": "v1", "kind": "X", "name": owner, "uid": owner, "controller": True}] if owner else []
    refs.append({"apiVersion": "v1", "kind": "Y", "name": "not-a-controller", "uid": "uid-y", "controller": False})
    metadata = {"namespace": "default", "name": name, "uid": uid, "resourceVersion": rv, "labels": labels}
    return Pod.from_dict({"metadata": {**metadata, "ownerReferences": refs}})


def assert_index_is_a_scan(informer: Informer[Pod], index: str, func: Callable[[Pod], Any]) -> None:
    """The index holds exactly what scanning the store with its function gives, with no empty leftovers."""
    expected: dict[str, set[tuple[str, str]]] = {}
    for view in informer:
        for value in func(view):
            expected.setdefault(value, set()).add((view.namespace, view.name))
    assert set(informer._indexes[index]) == set(expected), f"index {index}: stale or missing values"
    for value, keys in expected.items():
        found = informer.by_index(index, value)
        assert {(v.namespace, v.name) for v in found} == keys
        assert all(v is informer.get(v.namespace, v.name) for v in found), "the index holds the cached views"


def test_indexes_follow_upsert_update_remove_and_replace() -> None:
    informer, _ = make_informer()
    informer.upsert(owned("early", "uid-early", "rs-1", app="web"))  # indexed by add_index
    informer.add_index(BY_CONTROLLER_UID, index_by_controller_uid)
    informer.add_index(BY_LABEL, index_by_label)
    informer.add_index(BY_LABEL, lambda view: ["ignored"])  # the same name again: the first one stays

    def check() -> None:
        assert_index_is_a_scan(informer, BY_CONTROLLER_UID, index_by_controller_uid)
        assert_index_is_a_scan(informer, BY_LABEL, index_by_label)

    check()
    assert [p.name for p in informer.by_index(BY_CONTROLLER_UID, "rs-1")] == ["early"]
    assert [p.name for p in informer.by_index(BY_LABEL, "default/app=web")] == ["early"]

    informer.upsert(owned("a", "uid-a", "rs-1", app="web", tier="fe"))
    informer.upsert(owned("b", "uid-b", None, app="db"))
    check()
    assert informer.by_index(BY_CONTROLLER_UID, "uid-y") == [], "only the controller reference counts"

    informer.upsert(owned("a", "uid-a", "rs-2", rv="2", app="api"))  # new owner, new labels
    check()
    assert [p.name for p in informer.by_index(BY_CONTROLLER_UID, "rs-1")] == ["early"]
    assert informer.by_index(BY_LABEL, "default/tier=fe") == []

    informer.remove(owned("early", "uid-early", "rs-1"))
    check()
    assert informer.by_index(BY_CONTROLLER_UID, "rs-1") == []

    informer.remove(owned("b", "uid-other", None))  # a stale DELETED (another UID) changes nothing
    check()
    assert [p.name for p in informer.by_index(BY_LABEL, "default/app=db")] == ["b"]

    informer.replace([owned("a", "uid-a2", "rs-3", rv="5", app="web"), owned("c", "uid-c", "rs-3", app="web")])
    check()
    assert sorted(p.name for p in informer.by_index(BY_CONTROLLER_UID, "rs-3")) == ["a", "c"]
    assert informer.by_index(BY_CONTROLLER_UID, "rs-2") == [] and informer.by_index(BY_LABEL, "default/app=db") == []

    informer.replace([])
    check()
    assert informer._indexes[BY_LABEL] == {} and informer._indexes[BY_CONTROLLER_UID] == {}


# --- select / selecting: through the indexes, equal to a scan -------------------------------------------------

KEYS = ("app", "tier", "env", "track")
VALUES = ("a", "b", "c")


def random_labels(rng: random.Random) -> dict[str, str]:
    return {key: rng.choice(VALUES) for key in KEYS if rng.random() < 0.6}


def random_selector(rng: random.Random, kind: str) -> LabelSelector:
    def values() -> list[str]:
        return rng.sample(VALUES, rng.randint(1, 2))

    keys = rng.sample(KEYS, rng.randint(1, 3))
    match kind:
        case "matchLabels":
            return LabelSelector.parse({"matchLabels": {key: rng.choice(VALUES) for key in keys}})
        case "In":
            return LabelSelector.parse(
                {"matchExpressions": [{"key": k, "operator": "In", "values": values()} for k in keys]}
            )
        case "NotIn":
            return LabelSelector.parse(
                {"matchExpressions": [{"key": k, "operator": "NotIn", "values": values()} for k in keys]}
            )
        case "Exists":
            operators = ("Exists", "DoesNotExist")
            return LabelSelector.parse(
                {"matchExpressions": [{"key": k, "operator": rng.choice(operators)} for k in keys]}
            )
        case "mixed":
            expressions = [
                {"key": k, "operator": op, **({"values": values()} if op in ("In", "NotIn") else {})}
                for k in keys
                for op in [rng.choice(("In", "NotIn", "Exists", "DoesNotExist"))]
            ]
            extra = rng.choice(KEYS)
            return LabelSelector.parse({"matchLabels": {extra: rng.choice(VALUES)}, "matchExpressions": expressions})
        case "everything":
            return LabelSelector.parse({})
        case _:
            return LabelSelector.parse(None)  # Nothing


SELECTOR_KINDS = ("matchLabels", "In", "NotIn", "Exists", "mixed", "everything", "nothing")


@pytest.mark.parametrize("indexed", [True, False], ids=["label-index", "no-index"])
@pytest.mark.parametrize("seed", range(3))
def test_select_equals_a_scan(seed: int, indexed: bool) -> None:
    rng = random.Random(seed)
    informer, _ = make_informer()
    if indexed:
        informer.add_index(BY_LABEL, index_by_label)
    for i in range(200):
        informer.upsert(pod(f"p{i}", f"uid-{i}", namespace=rng.choice(("ns1", "ns2")), **random_labels(rng)))
    for i in range(0, 200, 7):  # some churn, so the index has been updated and pruned
        namespace = "ns1" if informer.get("ns1", f"p{i}") else "ns2"
        informer.upsert(pod(f"p{i}", f"uid-{i}", namespace=namespace, rv="2", **random_labels(rng)))
    for i in range(3, 200, 11):
        for namespace in ("ns1", "ns2"):
            if (gone := informer.get(namespace, f"p{i}")) is not None:
                informer.remove(gone)

    for kind in SELECTOR_KINDS:
        for _ in range(40):
            selector = random_selector(rng, kind)
            for namespace in ("ns1", "ns2", "empty"):
                scan = [p for p in informer.list(namespace) if selector.matches(p.labels)]
                selected = informer.select(namespace, selector)
                assert sorted(p.name for p in selected) == sorted(p.name for p in scan), f"{kind}: {selector}"
                assert len(selected) == len({p.name for p in selected}), "no duplicates"


@dataclass(frozen=True)
class Selecting:
    """A selecting object's view (a ReplicaSet, a Service): who it is and which labels it wants."""

    namespace: str
    name: str
    uid: str
    resource_version: str
    selector: LabelSelector


def fed_directly(body: Any) -> Selecting:
    raise AssertionError("this informer is fed views, not API objects")


@pytest.mark.parametrize("seed", range(3))
def test_selecting_equals_a_scan(seed: int) -> None:
    rng = random.Random(seed)
    informer: Informer[Selecting] = Informer(Resource("apps", "v1", "replicasets"), fed_directly)
    informer.add_index(BY_SELECTOR, index_by_selector)

    def view(i: int, namespace: str, rv: str = "1") -> Selecting:
        return Selecting(namespace, f"rs{i}", f"uid-{i}", rv, random_selector(rng, rng.choice(SELECTOR_KINDS)))

    for i in range(120):
        informer.upsert(view(i, rng.choice(("ns1", "ns2"))))
    for i in range(0, 120, 5):  # a changed selector must leave its old index entries
        for namespace in ("ns1", "ns2"):
            if informer.get(namespace, f"rs{i}") is not None:
                informer.upsert(view(i, namespace, rv="2"))
    for i in range(2, 120, 9):
        for namespace in ("ns1", "ns2"):
            if (gone := informer.get(namespace, f"rs{i}")) is not None:
                informer.remove(gone)

    for _ in range(300):
        labels = random_labels(rng)
        for namespace in ("ns1", "ns2", "empty"):
            scan = [v for v in informer.list(namespace) if v.selector.matches(labels)]
            found = informer.selecting(namespace, labels)
            assert sorted(v.name for v in found) == sorted(v.name for v in scan), f"{labels}"
            assert len(found) == len({v.name for v in found}), "no duplicates"


def test_observe_write_takes_our_write_only_over_the_version_it_replaced() -> None:
    """MutationCache: our write enters the cache at once, never over a newer version; subscribers hear of it
    when the watch delivers it, as the change from the version it replaced (another controller may care)."""
    informer, events = make_informer()
    v1 = pod("a", "uid-a", rv="1")
    informer.upsert(v1)
    events.clear()

    def body(rv: str) -> dict[str, Any]:
        return {"metadata": {"namespace": "default", "name": "a", "uid": "uid-a", "resourceVersion": rv}}

    assert informer.observe_write("1", body("2")) is True
    assert informer.get("default", "a") == pod("a", "uid-a", rv="2")
    assert events == [], "subscribers are not told of our own write before the watch delivers it"
    informer.upsert(pod("a", "uid-a", rv="2"))  # the watch delivers the write
    assert events == [(v1, pod("a", "uid-a", rv="2"))], "then as the change from the version it replaced"
    events.clear()

    informer.upsert(pod("a", "uid-a", rv="3"))  # someone else's change arrived
    assert events == [(pod("a", "uid-a", rv="2"), pod("a", "uid-a", rv="3"))]
    assert informer.observe_write("2", body("4")) is False, "the cache no longer holds the version we replaced"
    assert informer.get("default", "a") == pod("a", "uid-a", rv="3")
    assert informer.observe_write("3", {"metadata": {**body("5")["metadata"], "uid": "uid-other"}}) is False
