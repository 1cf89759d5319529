"""KopfFeed without Kopf: `feed.handle()` plays Kopf's events; the fake API server answers the metadata LISTs.

What is under test is what Kopf does not give an informer: HasSynced (every UID of a listing made at start has
been delivered, re-listing until that holds) and pruning (objects that vanished while Kopf was not looking).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import pytest

from operators.kube.objects import Pod
from operators.kube.resources import Resource
from operators.runtime import kopffeed
from operators.runtime.client import KubeClient
from operators.runtime.informers import Informer
from operators.runtime.kopffeed import KopfFeed
from tests.unit.runtime.fakeapi import FakeApiServer, eventually

PODS = Resource("", "v1", "pods")
METADATA_ONLY = "as=PartialObjectMetadataList"


class Feed:
    """A KopfFeed over a pod informer, with a subscriber that records (old, new) names."""

    def __init__(self, client: KubeClient, namespaces: tuple[str, ...] = ("",), prune_period: float = 3600) -> None:
        self.informer: Informer[Pod] = Informer(PODS, Pod.from_dict, scopes=namespaces)
        self.feed = KopfFeed(self.informer, client, namespaces=namespaces, prune_period=prune_period)
        self.deleted: list[tuple[str, str]] = []  # (name, uid) of every delete notification
        self.informer.subscribe(
            lambda old, new: self.deleted.append((old.name, old.uid)) if new is None and old else None
        )

    def names(self, namespace: str = "default") -> set[str]:
        return {p.name for p in self.informer.list(namespace)}


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kopffeed, "SYNC_RETRY", 0.01)
    monkeypatch.setattr(kopffeed, "RELIST_SETTLE", 0.05)


@asynccontextmanager
async def running(feed: KopfFeed) -> AsyncIterator[None]:
    task = asyncio.create_task(feed.run())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task  # re-raises what run() died of, if it died


def deleted_unseen(fake: FakeApiServer, namespace: str, name: str) -> dict[str, Any]:
    """Delete an object on the server without Kopf telling us; return its last state."""
    return fake.delete(namespace, name)


# --- HasSynced -------------------------------------------------------------------------------------------------


async def test_has_synced_after_every_listed_uid_is_handled(fake: FakeApiServer, client: KubeClient) -> None:
    p1 = fake.create("default", "p1")
    p2 = fake.create("default", "p2")
    f = Feed(client)
    async with running(f.feed):
        await eventually(lambda: len(fake.lists) >= 1, what="the first listing")
        f.feed.handle(None, p1)
        listed = len(fake.lists)
        # Two more listings: the first of them started after p1 was handled, and was judged incomplete.
        await eventually(lambda: len(fake.lists) >= listed + 2, what="listings after p1")
        assert not f.informer.has_synced(), "p2 was listed but Kopf has not delivered it"
        f.feed.handle(None, p2)
        await eventually(f.informer.has_synced, what="synced")

    assert f.names() == {"p1", "p2"}
    assert all(METADATA_ONLY in r.accept for r in fake.requests), "the listings ask for metadata only"
    assert all(r.params.get("limit") == "500" for r in fake.requests)


async def test_an_object_deleted_after_the_first_listing_does_not_block_sync(
    fake: FakeApiServer, client: KubeClient
) -> None:
    """p2 is listed, then deleted before Kopf lists it: Kopf never delivers it, and a later listing agrees."""
    p1 = fake.create("default", "p1")
    fake.create("default", "p2")
    f = Feed(client)
    async with running(f.feed):
        await eventually(lambda: len(fake.lists) >= 1, what="the first listing")
        deleted_unseen(fake, "default", "p2")
        f.feed.handle(None, p1)
        await eventually(f.informer.has_synced, what="synced")
    assert f.names() == {"p1"}


async def test_has_synced_per_namespace(fake: FakeApiServer, client: KubeClient) -> None:
    pa = fake.create("a", "pa")
    pb = fake.create("b", "pb")
    f = Feed(client, namespaces=("a", "b"))
    async with running(f.feed):
        f.feed.handle(None, pa)
        await eventually(lambda: any(r.path == "/api/v1/namespaces/b/pods" for r in fake.requests), what="b listed")
        assert not f.informer.has_synced()
        f.feed.handle(None, pb)
        await eventually(f.informer.has_synced, what="synced")
    assert {r.path for r in fake.requests} == {"/api/v1/namespaces/a/pods", "/api/v1/namespaces/b/pods"}


async def test_a_failed_initial_listing_is_retried(
    fake: FakeApiServer, client: KubeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="operators.runtime.kopffeed")
    p1 = fake.create("default", "p1")
    fake.fail_next_request("limit=", 500)
    f = Feed(client)
    f.feed.handle(None, p1)
    async with running(f.feed):
        await eventually(f.informer.has_synced, what="synced")
    assert len(fake.lists) == 2
    records = [r for r in caplog.records if r.name == "operators.runtime.kopffeed"]
    assert records and all(r.exc_info is None for r in records), "an expected failure is one line, no traceback"


# --- pruning ---------------------------------------------------------------------------------------------------


async def test_prune_removes_only_what_was_cached_before_the_request_and_is_not_listed(
    fake: FakeApiServer, client: KubeClient
) -> None:
    """`prune()` snapshots the cache (name -> UID) before it sends its LIST. After the answer it removes an
    object only if (1) it was in that snapshot, (2) its UID is absent from the answer, and (3) the cache still
    holds that same UID. Everything Kopf delivered while the request was in flight is therefore kept, even
    though the answer, computed earlier, does not show it."""
    f = Feed(client)
    kept = fake.create("default", "kept")
    ghost = fake.create("default", "ghost")
    old = fake.create("default", "replaced")
    going = fake.create("default", "going")
    for body in (kept, ghost, old, going):
        f.feed.handle(None, body)
    deleted_unseen(fake, "default", "ghost")  # Kopf missed its DELETED: only a prune can remove it
    old_gone = deleted_unseen(fake, "default", "replaced")  # Kopf is behind: it will deliver these late
    new = fake.create("default", "replaced")
    going_gone = deleted_unseen(fake, "default", "going")
    f.deleted.clear()

    def kopf_delivers_during_the_request() -> None:
        late = fake.create("default", "late")  # after the answer was computed: not in it
        f.feed.handle("ADDED", late)
        f.feed.handle("DELETED", old_gone)
        f.feed.handle("ADDED", new)  # cached "replaced" now has a UID the answer shows
        f.feed.handle("DELETED", going_gone)  # already removed by its event: no second delete

    fake.after_next_list(kopf_delivers_during_the_request)
    removed = await f.feed.prune()

    assert removed == 1
    assert f.names() == {"kept", "late", "replaced"}
    cached = f.informer.get("default", "replaced")
    assert cached is not None and cached.uid == new["metadata"]["uid"]
    assert sorted(f.deleted) == sorted(
        [
            ("replaced", old["metadata"]["uid"]),  # by Kopf's event
            ("going", going["metadata"]["uid"]),  # by Kopf's event
            ("ghost", ghost["metadata"]["uid"]),  # by the prune
        ]
    )
    assert f.deleted[-1] == ("ghost", ghost["metadata"]["uid"]), "the prune's delete comes after the answer"
    assert f.feed.prunes == 1
    assert len(fake.lists) == 1 and METADATA_ONLY in fake.requests[0].accept


async def test_prune_follows_a_kopf_relist(fake: FakeApiServer, client: KubeClient) -> None:
    """After sync, an event of type None means Kopf is replaying a fresh listing: prune once it settles."""
    a = fake.create("default", "a")
    b = fake.create("default", "b")
    f = Feed(client, prune_period=3600)  # no periodic prune during the test
    async with running(f.feed):
        f.feed.handle(None, a)
        f.feed.handle(None, b)
        await eventually(f.informer.has_synced, what="synced")
        listed = len(fake.lists)
        deleted_unseen(fake, "default", "b")  # during Kopf's watch gap
        f.feed.handle("MODIFIED", a)
        f.feed.handle(None, a)  # Kopf's relist replays what exists: b is not among it
        await eventually(lambda: f.feed.prunes == 1, what="a prune")
    assert f.names() == {"a"}
    assert f.deleted == [("b", b["metadata"]["uid"])]
    assert len(fake.lists) == listed + 1


async def test_prune_periodically(fake: FakeApiServer, client: KubeClient) -> None:
    a = fake.create("default", "a")
    b = fake.create("default", "b")
    f = Feed(client, prune_period=0.05)
    async with running(f.feed):
        f.feed.handle(None, a)
        f.feed.handle(None, b)
        await eventually(f.informer.has_synced, what="synced")
        deleted_unseen(fake, "default", "b")
        await eventually(lambda: f.informer.get("default", "b") is None, what="b pruned")
    assert f.names() == {"a"} and f.feed.prunes >= 1
