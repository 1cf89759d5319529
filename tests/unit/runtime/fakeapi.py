"""A small in-process fake of the API server's pod LIST and WATCH, for the reflector and Kopf-feed tests.

It holds pods in memory under one global resourceVersion that grows by one with every change (etcd's revision,
as a string of digits) and serves what a reflector uses: LIST with `limit`/`continue` (pages come from a
snapshot, as from etcd), `labelSelector` (`k=v,...` only), the metadata-only Accept header, and WATCH from a
resourceVersion with `allowWatchBookmarks` and `timeoutSeconds`, as newline-delimited JSON events. A watch
replays the history after its resourceVersion, then streams live changes, so a client that resumes from the
right version loses nothing; one that asks for a version older than the kept history gets 410 Gone.

The test drives it with plain methods: `create`/`update`/`delete` change the state (objects are replaced,
never mutated, so a snapshot or an event in flight never changes under a reader); `expire_history`,
`expire_continue`, `close_watches`, `fail_watches`, `send_bookmark`, `silence`, `hang_next_request`,
`fail_next_request` and `stop`/`start` create the trouble a reflector must survive. `requests` records the
query of every LIST and WATCH, so a test can assert, say, "resumed from RV 7 without a second LIST".

Simplifications: pods only; a watch filters events by the object's current labels (no synthetic DELETED when
an object leaves a selector); a watch without a resourceVersion starts from now, without synthetic ADDED events,
and resourceVersion "0" means "after version 0" (not the real server's "any version").
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from kubernetes_asyncio import client as k8s_client

from operators.runtime.client import KubeClient

Obj = dict[str, Any]
CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter."
)


@dataclass(frozen=True)
class Request:
    """One LIST or WATCH the fake received."""

    verb: str  # "LIST" or "WATCH"
    path: str
    params: dict[str, str]
    accept: str


@dataclass(eq=False)
class _Watch:
    namespace: str
    selector: dict[str, str]
    bookmarks: bool
    queue: asyncio.Queue[Obj | None] = field(default_factory=asyncio.Queue)  # None ends the stream
    silent: bool = False  # open, but sent nothing (a half-open connection)

    def wants(self, obj: Obj) -> bool:
        return (not self.namespace or obj["metadata"]["namespace"] == self.namespace) and _matches(
            self.selector, obj["metadata"].get("labels") or {}
        )


class FakeApiServer:
    """Pods in memory behind `GET /api/v1/pods` and `GET /api/v1/namespaces/{ns}/pods`, on 127.0.0.1."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], Obj] = {}  # (namespace, name) -> pod
        self.rv = 0  # the global resourceVersion: that of the latest change
        self.requests: list[Request] = []
        self.port = 0  # chosen by the OS at the first start, kept across restarts
        self._history: list[tuple[int, str, Obj]] = []  # (rv, event type, object) of every kept change
        self._horizon = 0  # a watch from an older resourceVersion gets 410 Gone
        self._gone_in_stream = False  # ... as an ERROR event in a 200 stream, rather than an HTTP 410
        self._snapshots: dict[str, tuple[int, list[Obj]]] = {}  # continue token prefix -> (list rv, items)
        self._expire_continues = 0
        self._watches: list[_Watch] = []
        self._faults: list[tuple[str, int | None, str]] = []  # (path?query substring, status or None: hang, reason)
        self._after_list: list[Callable[[], None]] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # --- lifecycle -------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/v1/pods", self._pods)
        app.router.add_get("/api/v1/namespaces/{namespace}/pods", self._pods)
        # handler_cancellation: a handler (a watch, a hung request) ends when its client goes away.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Go down as a crashed server does: refuse connections and cut every open one, watches included."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # --- what the test reads ---------------------------------------------------------------------------------

    @property
    def lists(self) -> list[dict[str, str]]:
        return [r.params for r in self.requests if r.verb == "LIST"]

    @property
    def watches(self) -> list[dict[str, str]]:
        return [r.params for r in self.requests if r.verb == "WATCH"]

    @property
    def open_watches(self) -> int:
        return len(self._watches)

    # --- changes ---------------------------------------------------------------------------------------------

    def create(self, namespace: str, name: str, labels: dict[str, str] | None = None) -> Obj:
        assert (namespace, name) not in self.objects, f"{namespace}/{name} exists"
        uid = f"uid-{next(self._ids)}"
        metadata = {"namespace": namespace, "name": name, "uid": uid, "labels": labels or {}}
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": {}, "status": {"phase": "Pending"}}
        return self._commit("ADDED", pod)

    def update(self, namespace: str, name: str, labels: dict[str, str] | None = None) -> Obj:
        """A new version of the pod (new labels when given): a MODIFIED event."""
        pod = self.objects[(namespace, name)]
        metadata = {**pod["metadata"], **({"labels": labels} if labels is not None else {})}
        return self._commit("MODIFIED", {**pod, "metadata": metadata})

    def delete(self, namespace: str, name: str) -> Obj:
        return self._commit("DELETED", self.objects[(namespace, name)])

    def _commit(self, event_type: str, pod: Obj) -> Obj:
        self.rv += 1
        pod = {**pod, "metadata": {**pod["metadata"], "resourceVersion": str(self.rv)}}
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        if event_type == "DELETED":
            del self.objects[key]
        else:
            self.objects[key] = pod
        self._history.append((self.rv, event_type, pod))
        for watch in self._watches:
            if not watch.silent and watch.wants(pod):
                watch.queue.put_nowait({"type": event_type, "object": pod})
        return pod

    # --- trouble ---------------------------------------------------------------------------------------------

    def expire_history(self, upto_rv: int, *, in_stream: bool = False) -> None:
        """Forget the changes up to `upto_rv` (a compaction): older watches and continue tokens get 410 Gone.

        A watch from an older version is refused with HTTP 410, or, with `in_stream`, accepted and sent one
        ERROR event with code 410 (what kube-apiserver's watch cache does). Open watches are not affected.
        """
        self._horizon = upto_rv
        self._gone_in_stream = in_stream
        self._history = [entry for entry in self._history if entry[0] > upto_rv]

    def expire_continue(self, times: int = 1) -> None:
        """The next `times` requests with a continue token get 410 Expired."""
        self._expire_continues += times

    def close_watches(self) -> int:
        """End every open watch normally (the server's timeoutSeconds); return how many there were."""
        for watch in self._watches:
            watch.queue.put_nowait(None)
        return len(self._watches)

    def fail_watches(self, code: int = 410, reason: str = "Expired", message: str = "too old resource version") -> int:
        """Send every open watch (silenced ones too) an ERROR event with a metav1.Status, then end it."""
        for watch in self._watches:
            watch.queue.put_nowait({"type": "ERROR", "object": _status(code, reason, message)})
            watch.queue.put_nowait(None)
        return len(self._watches)

    def send_bookmark(self) -> None:
        """A BOOKMARK at the current resourceVersion to every open, unsilenced watch that allows them."""
        bookmark = {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": str(self.rv)}}
        for watch in self._watches:
            if watch.bookmarks and not watch.silent:
                watch.queue.put_nowait({"type": "BOOKMARK", "object": bookmark})

    def silence(self) -> None:
        """Keep the open watches open but send them nothing more (new watches are served normally)."""
        for watch in self._watches:
            watch.silent = True

    def hang_next_request(self, substring: str) -> None:
        """Accept the next request whose path and query contain `substring`, and never answer it."""
        self._faults.append((substring, None, ""))

    def fail_next_request(self, substring: str, code: int, reason: str = "InternalError") -> None:
        """Answer the next request whose path and query contain `substring` with HTTP `code` and a Status."""
        self._faults.append((substring, code, reason))

    def after_next_list(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the next LIST's answer is computed, before it is sent: a change made during
        the request, which the answer does not show."""
        self._after_list.append(callback)

    # --- the API ---------------------------------------------------------------------------------------------

    async def _pods(self, request: web.Request) -> web.StreamResponse:
        params = dict(request.query)
        watching = params.get("watch") in ("true", "1")
        accept = request.headers.get("Accept", "")
        self.requests.append(Request("WATCH" if watching else "LIST", request.path, params, accept))
        for fault in self._faults:
            substring, code, reason = fault
            if substring in request.path_qs:
                self._faults.remove(fault)
                if code is None:
                    await asyncio.Future()  # never answered; cancelled when the client or the server goes
                return _error(code or 500, reason, "injected failure")
        namespace = request.match_info.get("namespace", "")
        selector = dict(part.split("=", 1) for part in params.get("labelSelector", "").split(",") if part)
        if watching:
            return await self._watch(request, _Watch(namespace, selector, params.get("allowWatchBookmarks") == "true"))
        answer = self._list(namespace, selector, params, metadata_only="as=PartialObjectMetadataList" in accept)
        while self._after_list:
            self._after_list.pop(0)()
        return answer

    def _list(
        self, namespace: str, selector: dict[str, str], params: dict[str, str], metadata_only: bool
    ) -> web.Response:
        token = params.get("continue", "")
        limit = int(params.get("limit") or 0)
        if token:
            snapshot, _, offset = token.partition(":")
            found = self._snapshots.get(snapshot)
            if found is None or found[0] < self._horizon or self._expire_continues:
                self._expire_continues = max(0, self._expire_continues - 1)
                return _error(410, "Expired", CONTINUE_EXPIRED)
            (list_rv, items), start = found, int(offset)
        else:
            matching = (
                pod for pod in self.objects.values() if not namespace or pod["metadata"]["namespace"] == namespace
            )
            items = sorted(
                (pod for pod in matching if _matches(selector, pod["metadata"]["labels"])),
                key=lambda pod: (pod["metadata"]["namespace"], pod["metadata"]["name"]),  # etcd's key order
            )
            list_rv, start, snapshot = self.rv, 0, str(next(self._ids))
        end = start + limit if limit else len(items)
        metadata: Obj = {"resourceVersion": str(list_rv)}
        if end < len(items):
            self._snapshots[snapshot] = (list_rv, items)
            metadata |= {"continue": f"{snapshot}:{end}", "remainingItemCount": len(items) - end}
        page = items[start:end]
        if metadata_only:
            page = [
                {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": p["metadata"]}
                for p in page
            ]
            kind, api_version = "PartialObjectMetadataList", "meta.k8s.io/v1"
        else:
            kind, api_version = "PodList", "v1"
        return web.json_response({"kind": kind, "apiVersion": api_version, "metadata": metadata, "items": page})

    async def _watch(self, request: web.Request, watch: _Watch) -> web.StreamResponse:
        since = request.query.get("resourceVersion", "")
        start = int(since) if since else self.rv  # "0" is taken literally: the changes after version 0
        if since and start < self._horizon:
            message = f"too old resource version: {start} ({self._horizon})"
            if not self._gone_in_stream:
                return _error(410, "Expired", message)
            watch.queue.put_nowait({"type": "ERROR", "object": _status(410, "Expired", message)})
            watch.queue.put_nowait(None)
        else:
            # Replay and register without an await in between: no change can fall between the two.
            for rv, event_type, pod in self._history:
                if rv > start and watch.wants(pod):
                    watch.queue.put_nowait({"type": event_type, "object": pod})
            self._watches.append(watch)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        try:
            await response.prepare(request)
            async with asyncio.timeout(float(request.query.get("timeoutSeconds") or 0) or None):
                while (event := await watch.queue.get()) is not None:
                    await response.write(json.dumps(event).encode() + b"\n")
        except TimeoutError:
            pass  # timeoutSeconds: the stream ends normally
        finally:
            if watch in self._watches:
                self._watches.remove(watch)
        return response


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _status(code: int, reason: str, message: str) -> Obj:
    """A metav1.Status, the body of every error answer and of a watch's ERROR event."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _error(code: int, reason: str, message: str) -> web.Response:
    return web.json_response(_status(code, reason, message), status=code)


# --- helpers for the tests that drive it ---------------------------------------------------------------------


def kube_client(fake: FakeApiServer, *, timeout: float = 5.0) -> KubeClient:
    """A real KubeClient (kubernetes_asyncio's connection pool) pointed at the fake."""
    return KubeClient(k8s_client.ApiClient(k8s_client.Configuration(host=fake.url)), timeout=timeout)


async def eventually(condition: Callable[[], bool], within: float = 5.0, what: str = "condition") -> None:
    """Wait until `condition()` holds; fail after `within` seconds (generous: everything is in-process)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not met within {within} s")
        await asyncio.sleep(0.005)
