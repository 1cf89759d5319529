"""The Reflector against a fake API server: paginated LIST, WATCH, resume, relist after 410, backoff, timeouts.

Named after client-go's tools/cache/reflector_test.go where a test there checks the same thing. Each test runs
a real KubeClient and a real Informer against `fakeapi.FakeApiServer`, and waits on conditions, never on time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any

import pytest

from operators.kube.objects import Pod
from operators.kube.resources import Resource
from operators.runtime.client import KubeClient
from operators.runtime.informers import Informer
from operators.runtime.reflector import Backoff, Reflector
from tests.unit.runtime.fakeapi import FakeApiServer, eventually, kube_client

PODS = Resource("", "v1", "pods")
LOGGER = "operators.runtime.reflector"

Change = tuple[str, str, str]  # ("add" | "update" | "delete", name, uid)


class Recorder:
    """An informer with a subscriber that records every notification, in order."""

    def __init__(self, scopes: tuple[str, ...] = ("",)) -> None:
        self.informer: Informer[Pod] = Informer(PODS, Pod.from_dict, scopes=scopes)
        self.events: list[tuple[Pod | None, Pod | None]] = []
        self.informer.subscribe(lambda old, new: self.events.append((old, new)))

    @property
    def changes(self) -> list[Change]:
        out: list[Change] = []
        for old, new in self.events:
            kind = "add" if old is None else "delete" if new is None else "update"
            view = new or old
            assert view is not None
            out.append((kind, view.name, view.uid))
        return out

    def state(self, namespace: str = "default") -> dict[str, tuple[str, str]]:
        return {p.name: (p.uid, p.resource_version) for p in self.informer.list(namespace)}


def server_state(fake: FakeApiServer, namespace: str = "default") -> dict[str, tuple[str, str]]:
    return {
        name: (pod["metadata"]["uid"], pod["metadata"]["resourceVersion"])
        for (ns, name), pod in fake.objects.items()
        if ns == namespace
    }


def reflector(client: KubeClient, recorder: Recorder, **options: object) -> Reflector[Pod]:
    options.setdefault("backoff", Backoff(initial=0.01, cap=0.05))
    return Reflector(client, recorder.informer, **options)  # type: ignore[arg-type]


@asynccontextmanager
async def running(*reflectors: Reflector[Pod]) -> AsyncIterator[None]:
    """Run reflectors for the block; re-raise what one died of (a test would otherwise only time out)."""
    tasks = [asyncio.create_task(r.run()) for r in reflectors]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task


@contextmanager
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Expected failures (refused, timed out, 410) are one log line each, never a stack trace."""
    caplog.set_level(logging.INFO, logger="operators")
    yield
    traced = [r for r in caplog.records if r.name.startswith("operators") and r.exc_info]
    assert not traced, f"tracebacks logged: {[r.getMessage() for r in traced]}"


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


async def synced_and_watching(fake: FakeApiServer, recorder: Recorder, watches: int = 1) -> None:
    await eventually(recorder.informer.has_synced, what="informer synced")
    await eventually(lambda: fake.open_watches == watches, what=f"{watches} open watch(es)")


# --- LIST ------------------------------------------------------------------------------------------------------


async def test_reflector_watch_list_page_size(fake: FakeApiServer, client: KubeClient) -> None:
    """1,203 pods in pages of 500: three LIST requests chained by continue tokens, one replace, synced."""
    for i in range(1203):
        fake.create("default", f"pod-{i:04d}")
    recorder = Recorder()
    r = reflector(client, recorder)
    async with running(r):
        await synced_and_watching(fake, recorder)

    assert [params.get("limit") for params in fake.lists] == ["500", "500", "500"]
    tokens = [params.get("continue") for params in fake.lists]
    assert tokens[0] is None and tokens[1] and tokens[2] and tokens[1] != tokens[2]
    assert all("resourceVersion" not in params for params in fake.lists), "a relist is a consistent read"
    assert len(recorder.informer) == 1203 and recorder.state() == server_state(fake)
    assert [kind for kind, _, _ in recorder.changes] == ["add"] * 1203
    assert r.lists == 1
    assert fake.watches[0]["resourceVersion"] == "1203", "the watch starts at the list's resourceVersion"


async def test_reflector_full_list_if_expired(fake: FakeApiServer, client: KubeClient) -> None:
    """The continue token expires between pages: the list starts over and still ends complete, replaced once."""
    for i in range(10):
        fake.create("default", f"pod-{i}")
    fake.expire_continue(times=1)
    recorder = Recorder()
    r = reflector(client, recorder, page_size=4)
    async with running(r):
        await synced_and_watching(fake, recorder)

    assert [params.get("continue") is not None for params in fake.lists] == [False, True, False, True, True]
    assert recorder.state() == server_state(fake) and len(recorder.informer) == 10
    assert [kind for kind, _, _ in recorder.changes] == ["add"] * 10, "no partial listing reached the informer"
    assert r.lists == 1


async def test_informer_has_synced_per_scope(fake: FakeApiServer, client: KubeClient) -> None:
    """Two namespaces, two reflectors: HasSynced waits for both listings."""
    fake.create("a", "pa")
    fake.create("b", "pb")
    recorder = Recorder(scopes=("a", "b"))
    ra = reflector(client, recorder, namespace="a")
    rb = reflector(client, recorder, namespace="b")
    async with running(ra):
        await eventually(lambda: ra.lists == 1 and fake.open_watches == 1, what="namespace a listed")
        assert not recorder.informer.has_synced()
        assert [p.name for p in recorder.informer] == ["pa"]
        async with running(rb):
            await eventually(recorder.informer.has_synced, what="synced")
            await eventually(lambda: fake.open_watches == 2, what="both watching")
            assert sorted(p.name for p in recorder.informer) == ["pa", "pb"]
            assert {r.path for r in fake.requests} == {"/api/v1/namespaces/a/pods", "/api/v1/namespaces/b/pods"}

            fake.create("b", "pb2")  # each reflector feeds its own scope
            await eventually(lambda: recorder.informer.get("b", "pb2") is not None)
            assert recorder.informer.get("a", "pb2") is None


# --- WATCH -----------------------------------------------------------------------------------------------------


async def test_reflector_list_and_watch(fake: FakeApiServer, client: KubeClient) -> None:
    """Watch events apply in order, and each moves the reflector's resourceVersion."""
    fake.create("default", "foo")
    recorder = Recorder()
    r = reflector(client, recorder)
    async with running(r):
        await synced_and_watching(fake, recorder)
        recorder.events.clear()
        bar = fake.create("default", "bar")
        fake.update("default", "foo", labels={"app": "web"})
        fake.update("default", "bar")
        fake.delete("default", "foo")
        await eventually(lambda: len(recorder.events) == 4, what="four notifications")
        await eventually(lambda: r.resource_version == str(fake.rv))

    uid = bar["metadata"]["uid"]
    assert [(kind, name) for kind, name, _ in recorder.changes] == [
        ("add", "bar"),
        ("update", "foo"),
        ("update", "bar"),
        ("delete", "foo"),
    ]
    old_foo, new_foo = recorder.events[1]
    assert old_foo is not None and new_foo is not None and new_foo.labels == {"app": "web"} and not old_foo.labels
    assert recorder.state() == server_state(fake) == {"bar": (uid, "4")}
    assert len(fake.lists) == 1


async def test_reflector_resumes_after_a_normal_close(fake: FakeApiServer, client: KubeClient) -> None:
    """The server ends the watch (its timeoutSeconds): watch again from the last version, without a LIST."""
    recorder = Recorder()
    r = reflector(client, recorder)
    async with running(r):
        await synced_and_watching(fake, recorder)
        fake.create("default", "a")
        fake.create("default", "b")
        await eventually(lambda: r.resource_version == "2")
        assert fake.close_watches() == 1
        await eventually(lambda: len(fake.watches) == 2 and fake.open_watches == 1, what="a second watch")
        fake.create("default", "c")
        await eventually(lambda: recorder.informer.get("default", "c") is not None)

    assert [w["resourceVersion"] for w in fake.watches] == ["0", "2"]
    assert len(fake.lists) == 1 and r.lists == 1
    assert [name for _, name, _ in recorder.changes] == ["a", "b", "c"]


async def test_watch_timeout(fake: FakeApiServer, client: KubeClient) -> None:
    """Each watch asks for a timeoutSeconds between 1x and 2x min_watch_timeout (5 to 10 minutes by default);
    when the server honours it, the stream ends normally and the reflector resumes from the same version."""
    recorder = Recorder()
    async with running(reflector(client, recorder)):
        await synced_and_watching(fake, recorder)
    assert 300 <= int(fake.watches[0]["timeoutSeconds"]) <= 600

    r = reflector(client, recorder, min_watch_timeout=1.0)
    async with running(r):
        await eventually(lambda: len(fake.watches) >= 3, what="the 1 s watch to end and be replaced")
    assert [w["timeoutSeconds"] for w in fake.watches[1:3]] == ["1", "1"]
    assert fake.watches[1]["resourceVersion"] == fake.watches[2]["resourceVersion"] == "0"
    assert len(fake.lists) == 2, "one LIST per reflector: the server's close is no gap"


async def test_reflector_resource_version_update(fake: FakeApiServer, client: KubeClient) -> None:
    """A BOOKMARK moves the resourceVersion without an object: no notification, and the next watch starts there."""
    mine = fake.create("a", "mine")
    recorder = Recorder(scopes=("a",))
    r = reflector(client, recorder, namespace="a")
    async with running(r):
        await synced_and_watching(fake, recorder)
        assert fake.watches[0]["allowWatchBookmarks"] == "true"
        for i in range(3):
            fake.create("b", f"other-{i}")  # the global version moves; this watch hears nothing of it
        assert r.resource_version == "1"
        fake.send_bookmark()
        await eventually(lambda: r.resource_version == "4", what="the bookmark's version")
        fake.close_watches()
        await eventually(lambda: len(fake.watches) == 2)

    assert fake.watches[1]["resourceVersion"] == "4"
    assert recorder.changes == [("add", "mine", mine["metadata"]["uid"])], "a bookmark notifies nobody"
    assert len(recorder.informer) == 1 and len(fake.lists) == 1


# --- relist after 410 Gone -------------------------------------------------------------------------------------


def make_gap(fake: FakeApiServer) -> None:
    """Changes a watcher misses: each kind of difference a relist must turn into notifications."""
    fake.delete("default", "gone")
    fake.update("default", "changed", labels={"v": "2"})
    labels = fake.objects[("default", "renamed-a")]["metadata"]["labels"]
    fake.delete("default", "renamed-a")
    fake.create("default", "renamed-b", labels=labels)
    fake.delete("default", "recreated")
    fake.create("default", "recreated")  # the same name, a new UID
    fake.create("default", "new")


def expect_relisted(recorder: Recorder, before: dict[str, str], fake: FakeApiServer) -> None:
    after = {name: uid for name, (uid, _) in server_state(fake).items()}
    assert recorder.state() == server_state(fake)
    changes = recorder.changes
    deletes = [c for c in changes if c[0] == "delete"]
    others = [c for c in changes if c[0] != "delete"]
    assert sorted(deletes) == [
        ("delete", "gone", before["gone"]),
        ("delete", "recreated", before["recreated"]),
        ("delete", "renamed-a", before["renamed-a"]),
    ]
    assert sorted(others) == [
        ("add", "new", after["new"]),
        ("add", "recreated", after["recreated"]),
        ("add", "renamed-b", after["renamed-b"]),
        ("update", "changed", before["changed"]),
    ]
    assert changes.index(("delete", "recreated", before["recreated"])) < changes.index(
        ("add", "recreated", after["recreated"])
    ), "the old incarnation leaves before the new one arrives"
    assert all(name != "kept" for _, name, _ in changes), "an unchanged object is not notified"
    for old, new in recorder.events:
        if new is None:
            assert old is not None and old.uid == before[old.name], "a delete carries the last cached state"


async def start_with_gap_candidates(fake: FakeApiServer, client: KubeClient) -> tuple[Recorder, Reflector[Pod]]:
    for name in ("kept", "gone", "changed", "renamed-a", "recreated"):
        fake.create("default", name, labels={"app": name})
    recorder = Recorder()
    return recorder, reflector(client, recorder)


async def test_relist_on_gone_mid_watch(fake: FakeApiServer, client: KubeClient) -> None:
    """The open watch misses changes, then gets an ERROR event with code 410: list again and reconcile."""
    recorder, r = await start_with_gap_candidates(fake, client)
    async with running(r):
        await synced_and_watching(fake, recorder)
        before = {name: uid for name, (uid, _) in recorder.state().items()}
        recorder.events.clear()
        fake.silence()
        make_gap(fake)
        assert fake.fail_watches(410) == 1
        await eventually(lambda: r.lists == 2, what="a relist")
        await eventually(lambda: fake.open_watches == 1, what="watching again")

    expect_relisted(recorder, before, fake)
    assert len(fake.lists) == 2 and "resourceVersion" not in fake.lists[1]
    assert fake.watches[1]["resourceVersion"] == str(fake.rv), "the new watch starts at the relist's version"


@pytest.mark.parametrize("in_stream", [False, True], ids=["http-410", "error-event-410"])
async def test_relist_on_gone_when_resuming(fake: FakeApiServer, client: KubeClient, in_stream: bool) -> None:
    """The watch ends; meanwhile the history was compacted past our version: the resumed watch gets 410 Gone
    (an HTTP 410, or a 200 stream whose first event is an ERROR 410) and the reflector relists."""
    recorder, r = await start_with_gap_candidates(fake, client)
    async with running(r):
        await synced_and_watching(fake, recorder)
        before = {name: uid for name, (uid, _) in recorder.state().items()}
        recorder.events.clear()
        fake.silence()
        make_gap(fake)
        fake.expire_history(fake.rv, in_stream=in_stream)
        fake.close_watches()
        await eventually(lambda: r.lists == 2, what="a relist")
        await eventually(lambda: fake.open_watches == 1, what="watching again")

    expect_relisted(recorder, before, fake)
    assert [w["resourceVersion"] for w in fake.watches] == ["5", "5", str(fake.rv)]


# --- failures: retried with backoff, logged without a traceback -----------------------------------------------


async def test_reflector_list_and_watch_init_conn_backoff(
    fake: FakeApiServer, client: KubeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The API server is down when the reflector starts: it backs off, retries, and syncs once it is up."""
    fake.create("default", "a")
    await fake.stop()
    recorder = Recorder()
    with no_tracebacks(caplog):
        async with running(reflector(client, recorder)):
            await eventually(lambda: len(warnings_of(caplog)) >= 3, what="three refused attempts")
            assert not recorder.informer.has_synced()
            await fake.start()
            await synced_and_watching(fake, recorder)
    assert recorder.state() == server_state(fake)
    assert all("retrying in" in message for message in warnings_of(caplog))


async def test_reflector_recovers_when_the_server_comes_back(
    fake: FakeApiServer, client: KubeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The server goes down mid-watch and comes back with its history: the watch resumes, no relist."""
    recorder = Recorder()
    r = reflector(client, recorder)
    with no_tracebacks(caplog):
        async with running(r):
            await synced_and_watching(fake, recorder)
            fake.create("default", "before")
            await eventually(lambda: recorder.informer.get("default", "before") is not None)
            await fake.stop()
            fake.create("default", "while-down")  # written through another API server, say
            await eventually(lambda: len(warnings_of(caplog)) >= 3, what="three failed attempts")
            await fake.start()
            await eventually(lambda: recorder.informer.get("default", "while-down") is not None)
    assert r.lists == 1 and len(fake.lists) == 1
    assert fake.watches[-1]["resourceVersion"] == "1"


async def test_kube_client_request_timeout(fake: FakeApiServer) -> None:
    """A request the server never answers raises TimeoutError after the client's timeout."""
    kube = kube_client(fake, timeout=0.2)
    fake.hang_next_request("limit=")
    try:
        with pytest.raises(TimeoutError):
            await kube.get("/api/v1/pods", query={"limit": "1"})
        assert (await kube.get("/api/v1/pods", query={"limit": "1"}))["kind"] == "PodList", "the next one works"
    finally:
        await kube.close()


async def test_reflector_retries_a_hung_list(fake: FakeApiServer, caplog: pytest.LogCaptureFixture) -> None:
    fake.create("default", "a")
    fake.hang_next_request("limit=")
    kube = kube_client(fake, timeout=0.2)
    recorder = Recorder()
    try:
        with no_tracebacks(caplog):
            async with running(reflector(kube, recorder)):
                await synced_and_watching(fake, recorder)
    finally:
        await kube.close()
    assert len(fake.lists) == 2
    assert any("TimeoutError" in message for message in warnings_of(caplog))
    assert recorder.state() == server_state(fake)


async def test_reflector_retries_a_hung_watch(fake: FakeApiServer, caplog: pytest.LogCaptureFixture) -> None:
    """A watch request that is never answered is given up after the request timeout and made again."""
    fake.hang_next_request("watch=true")
    kube = kube_client(fake, timeout=0.2)
    recorder = Recorder()
    r = reflector(kube, recorder)
    try:
        with no_tracebacks(caplog):
            async with running(r):
                await synced_and_watching(fake, recorder)
                fake.create("default", "a")
                await eventually(lambda: recorder.informer.get("default", "a") is not None)
    finally:
        await kube.close()
    assert [w["resourceVersion"] for w in fake.watches] == ["0", "0"]
    assert r.lists == 1


class CountingBackoff(Backoff):
    def __init__(self) -> None:
        super().__init__(initial=0.01, cap=0.05)
        self.delays = 0

    def next(self) -> float:
        self.delays += 1
        return super().next()


async def test_reflector_backs_off_after_a_watch_request_timeout(
    fake: FakeApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A watch request that times out is a failed request (module doc, point 5: "timeouts back off"), not a
    silent stream: it is logged as a timeout and retried after a backoff delay."""
    fake.hang_next_request("watch=true")
    kube = kube_client(fake, timeout=0.2)
    recorder = Recorder()
    backoff = CountingBackoff()
    try:
        with no_tracebacks(caplog):
            async with running(reflector(kube, recorder, backoff=backoff)):
                await synced_and_watching(fake, recorder)
    finally:
        await kube.close()
    assert [w["resourceVersion"] for w in fake.watches] == ["0", "0"]
    assert backoff.delays >= 1, "the retry waited for the backoff"
    assert any("TimeoutError" in message and "retrying in" in message for message in warnings_of(caplog)), warnings_of(
        caplog
    )


async def test_reflector_watch_inactivity_timeout(
    fake: FakeApiServer, client: KubeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A stream that stays open but sends nothing (a half-open connection) is replaced from the same version."""
    recorder = Recorder()
    r = reflector(client, recorder, inactivity_timeout=0.2)
    with no_tracebacks(caplog):
        async with running(r):
            await synced_and_watching(fake, recorder)
            fake.silence()
            fake.create("default", "a")  # the silent stream never delivers it
            await eventually(lambda: recorder.informer.get("default", "a") is not None, what="a new watch")
    assert fake.watches[0]["resourceVersion"] == fake.watches[1]["resourceVersion"] == "0"
    assert r.lists == 1
    assert any("nothing for" in message for message in warnings_of(caplog))


async def test_reflector_list_and_watch_with_errors(
    fake: FakeApiServer, client: KubeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A LIST answered with an error is retried after a backoff."""
    fake.create("default", "a")
    fake.fail_next_request("limit=", 500)
    recorder = Recorder()
    r = reflector(client, recorder)
    with no_tracebacks(caplog):
        async with running(r):
            await synced_and_watching(fake, recorder)
    assert len(fake.lists) == 2 and r.lists == 1
    assert recorder.state() == server_state(fake)
    assert any("retrying in" in message for message in warnings_of(caplog))


async def test_no_relist_on_too_many_requests(fake: FakeApiServer, client: KubeClient) -> None:
    """429 on the watch: back off and watch again from the same version; no relist (client-go's test of the name)."""
    fake.fail_next_request("watch=true", 429, reason="TooManyRequests")
    recorder = Recorder()
    r = reflector(client, recorder)
    async with running(r):
        await synced_and_watching(fake, recorder)
    assert [w["resourceVersion"] for w in fake.watches] == ["0", "0"]
    assert len(fake.lists) == 1


@pytest.mark.parametrize("where", ["error-event", "http-status"])
async def test_reflector_relists_after_a_watch_error(fake: FakeApiServer, client: KubeClient, where: str) -> None:
    """A watch the server ends with an error other than 410 or 429 (an InternalError: "etcdserver: no leader")
    cannot be trusted to resume: client-go's ListAndWatch returns and lists again after a backoff (only refused
    connections and 429 are retried as a watch), and the reflector's own doc says so ("So does a watch that
    cannot be resumed for any other reason the server gives")."""
    recorder = Recorder()
    r = reflector(client, recorder)
    async with running(r):
        await synced_and_watching(fake, recorder)
        if where == "error-event":
            fake.fail_watches(500, reason="InternalError", message="etcdserver: no leader")
            watches = 2  # the failed one, then the one after the relist
        else:
            fake.fail_next_request("watch=true", 500)
            fake.close_watches()
            watches = 3  # the closed one, the refused one, then the one after the relist
        await eventually(lambda: len(fake.watches) == watches and fake.open_watches == 1, what="watching again")
    assert len(fake.lists) == 2, "an error ends the watch for good: list again"


async def test_reflector_takes_our_own_write_from_the_cache(fake: FakeApiServer, client: KubeClient) -> None:
    """A MODIFIED event of a version `observe_write` took in already is not parsed again: the cached view is
    the one stored, and subscribers are told of the change from the version the write replaced. Any other
    event is parsed as always."""
    fake.create("default", "foo")
    parsed: list[str] = []
    recorder = Recorder()

    def counting_view(body: Mapping[str, Any]) -> Pod:
        parsed.append(body["metadata"]["resourceVersion"])
        return Pod.from_dict(body)

    recorder.informer.view = counting_view
    r = reflector(client, recorder)
    async with running(r):
        await synced_and_watching(fake, recorder)
        before = recorder.informer.get("default", "foo")
        assert before is not None
        recorder.events.clear()
        parsed.clear()
        written = fake.update("default", "foo", labels={"app": "web"})  # as if this controller wrote it
        ours = Pod.from_dict(written)
        assert recorder.informer.observe_write(before.resource_version, written, view=ours)
        fake.update("default", "foo")  # then somebody else's change
        await eventually(lambda: len(recorder.events) == 2, what="two notifications")

    assert recorder.events[0] == (before, ours)
    assert recorder.events[0][1] is ours, "the cached view of our write, not a second parse of it"
    assert parsed == [str(fake.rv)], "only the other change was parsed"
    assert recorder.state() == server_state(fake)
