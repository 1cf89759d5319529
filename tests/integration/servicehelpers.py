"""Helpers for the MiniService tests: a loss-proof watch of a namespace's EndpointSlices, and their normal form.

`SliceWatch` keeps the namespace's EndpointSlices (the built-in controller's and ours) as a watch delivers
them, and `until(predicate)` waits for the predicate to hold on that state, re-checking on every event — no
polling. Like `PodCreations`, it resumes a stream the API server ended from the last resourceVersion it saw
and fails loudly when it cannot (410 Gone, an ERROR event): a lost event fails the test, it never passes
or fails it by chance.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from operators.runtime.client import KubeClient

MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
SERVICE_NAME = "kubernetes.io/service-name"
BUILTIN_MANAGER = "endpointslice-controller.k8s.io"
MINI_MANAGER = "endpointslice.minik8s.dev"

# One endpoint in normal form: what both controllers must agree on (names of generated objects aside).
NormalEndpoint = tuple[Any, ...]


class SliceWatch:
    """The EndpointSlices of one namespace, followed by a watch that may not lose an event."""

    def __init__(self, kube: KubeClient, namespace: str) -> None:
        self.kube, self.namespace = kube, namespace
        self.slices: dict[str, dict[str, Any]] = {}
        self.events = 0
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    @property
    def path(self) -> str:
        return f"/apis/discovery.k8s.io/v1/namespaces/{self.namespace}/endpointslices"

    async def __aenter__(self) -> SliceWatch:
        listed = await self.kube.get(self.path)
        self.slices = {s["metadata"]["name"]: s for s in listed["items"]}
        version = listed["metadata"]["resourceVersion"]

        async def follow() -> None:
            nonlocal version
            while True:
                query = {"resourceVersion": version, "allowWatchBookmarks": "true"}
                async for event in self.kube.watch(self.path, query=query):
                    kind, obj = event["type"], event["object"]
                    if kind == "ERROR":
                        raise AssertionError(f"the EndpointSlice watch of {self.namespace} broke: {obj}")
                    version = obj["metadata"]["resourceVersion"]
                    if kind == "DELETED":
                        self.slices.pop(obj["metadata"]["name"], None)
                    elif kind in ("ADDED", "MODIFIED"):
                        self.slices[obj["metadata"]["name"]] = obj
                    self.events += 1
                    self._changed.set()

        self._task = asyncio.create_task(follow())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def of(self, service: str, manager: str) -> list[dict[str, Any]]:
        """The slices of `service` that `manager` manages."""
        return [
            s
            for s in self.slices.values()
            if s["metadata"].get("labels", {}).get(SERVICE_NAME) == service
            and s["metadata"]["labels"].get(MANAGED_BY) == manager
        ]

    async def until(self, predicate: Callable[[], bool], *, within: float = 60, what: str = "the slices") -> None:
        """Wait until `predicate()` holds, evaluated now and after every delivered event."""
        deadline = time.monotonic() + within
        while True:
            self._check()
            if predicate():
                return
            self._changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {within}s waiting for {what}")
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=remaining)
            except TimeoutError:
                self._check()
                if predicate():
                    return
                raise AssertionError(f"timed out after {within}s waiting for {what}") from None

    def _check(self) -> None:
        if self._task is not None and self._task.done() and not self._task.cancelled():
            self._task.result()


def normal_endpoints(slices: Iterable[Mapping[str, Any]], *, hints: bool = False) -> set[NormalEndpoint]:
    """Each endpoint with its slice's ports: addresses, conditions, node, zone, pod, ports (and hints)."""
    out: set[NormalEndpoint] = set()
    for slice_ in slices:
        ports = tuple(
            sorted(
                (p.get("name", ""), p.get("port"), p.get("protocol", "TCP"), p.get("appProtocol"))
                for p in slice_.get("ports") or ()
            )
        )
        for e in slice_.get("endpoints") or ():
            c = e.get("conditions") or {}
            ref = e.get("targetRef") or {}
            record: tuple[Any, ...] = (
                tuple(sorted(e.get("addresses") or ())),
                c.get("ready"),
                c.get("serving"),
                c.get("terminating"),
                e.get("nodeName"),
                e.get("zone"),
                (ref.get("kind"), ref.get("namespace"), ref.get("name"), ref.get("uid")),
                ports,
                slice_.get("addressType"),
            )
            if hints:
                record += (repr(e.get("hints")),)
            out.add(record)
    return out


def hostnames(slices: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Pod name -> the endpoint's hostname, for the endpoints that have one."""
    return {
        e["targetRef"]["name"]: e["hostname"]
        for s in slices
        for e in s.get("endpoints") or ()
        if e.get("hostname") and e.get("targetRef")
    }
