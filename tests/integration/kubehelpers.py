"""Helpers for integration tests: waiting for conditions, and steering kwok pods (Ready, NotReady, Failed).

kwok's fast pod stage only acts on Pending pods that are not Ready, so once a pod is Running these status
patches stick: kwok does not fight the test.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from operators.kube.objects import format_time
from operators.runtime.client import KubeClient

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], *, within: float = 30, interval: float = 0.2, what: str = "condition"
) -> T:
    """Call `probe` until it returns a truthy value (returned) or `within` seconds pass (AssertionError, last value)."""
    deadline = time.monotonic() + within
    last: Any = None
    while True:
        last = await probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}; last value: {last!r}")
        await asyncio.sleep(interval)


async def list_pods(kube: KubeClient, namespace: str, selector: str = "") -> list[dict[str, Any]]:
    query = {"labelSelector": selector} if selector else None
    return list((await kube.get(f"/api/v1/namespaces/{namespace}/pods", query=query))["items"])


def is_ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def is_active(pod: dict[str, Any]) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def _now() -> str:
    return format_time(datetime.datetime.now(datetime.UTC))


async def set_pod_ready(kube: KubeClient, namespace: str, name: str, ready: bool) -> None:
    """Flip a running pod's Ready and ContainersReady conditions (a failing readiness probe, or recovery)."""
    path = f"/api/v1/namespaces/{namespace}/pods/{name}"
    pod = await kube.get(path)
    value = "True" if ready else "False"
    conditions = [
        dict(c, status=value, lastTransitionTime=_now()) if c["type"] in ("Ready", "ContainersReady") else c
        for c in pod["status"].get("conditions", [])
    ]
    statuses = [dict(s, ready=ready) for s in pod["status"].get("containerStatuses", [])]
    await kube.patch(f"{path}/status", {"status": {"conditions": conditions, "containerStatuses": statuses}})


async def fail_pod(kube: KubeClient, namespace: str, name: str) -> None:
    """Make a pod Failed, as when its containers exit with an error and restartPolicy is Never."""
    path = f"/api/v1/namespaces/{namespace}/pods/{name}"
    pod = await kube.get(path)
    conditions = [
        dict(c, status="False", lastTransitionTime=_now()) if c["type"] in ("Ready", "ContainersReady") else c
        for c in pod["status"].get("conditions", [])
    ]
    await kube.patch(f"{path}/status", {"status": {"phase": "Failed", "conditions": conditions}})


class PodCreations:
    """Watches a namespace's pods from now on and remembers the UID of every pod ever created there.

    A controller that over-creates, or deletes a pod it should have kept (and so has to replace it), leaves
    more UIDs behind than it needed: the count proves the work was done exactly once.

    The count is only worth something if no event was lost, so the watch behaves like a reflector that may
    not relist: when the API server ends the stream (its timeout, or a slow reader dropped under load — the
    cause of a flaky `assert 96 == 120` here), it resumes from the last resourceVersion it saw, which loses
    nothing. If it cannot resume (410 Gone: events were compacted away) or fails in any other way, the
    helper fails loudly on exit instead of reporting a short count.

    On a busy machine the watch may also simply lag behind the LISTs the test waits on. Leaving the block
    therefore first *catches up*: it stamps an annotation on one pod and waits for the watch to deliver that
    very change (matched by its resourceVersion); a watch delivers in order, so every earlier creation has
    been counted by then.
    """

    def __init__(self, kube: KubeClient, namespace: str) -> None:
        self.kube, self.namespace = kube, namespace
        self.uids: set[str] = set()
        self.streams = 0  # watch streams opened: more than one means the server ended one and we resumed
        self._task: asyncio.Task[None] | None = None
        self._delivered: set[str] = set()  # the resourceVersions of every event the watch delivered
        self._progress = asyncio.Event()  # set on each delivered event

    async def __aenter__(self) -> PodCreations:
        path = f"/api/v1/namespaces/{self.namespace}/pods"
        listed = await self.kube.get(path)
        self.uids |= {pod["metadata"]["uid"] for pod in listed["items"]}
        version = listed["metadata"]["resourceVersion"]

        async def follow() -> None:
            nonlocal version
            while True:
                self.streams += 1
                query = {"resourceVersion": version, "allowWatchBookmarks": "true"}
                async for event in self.kube.watch(path, query=query):
                    if event["type"] == "ERROR":
                        raise AssertionError(f"the pod watch of {self.namespace} broke, events lost: {event['object']}")
                    version = event["object"]["metadata"]["resourceVersion"]
                    if event["type"] == "ADDED":
                        self.uids.add(event["object"]["metadata"]["uid"])
                    self._delivered.add(version)
                    self._progress.set()

        self._task = asyncio.create_task(follow())
        return self

    def check(self) -> None:
        """Raise the watch's own failure, if it has failed (call before trusting `uids`)."""
        if self._task is not None and self._task.done() and not self._task.cancelled():
            self._task.result()  # a follow() that ended at all ended with an exception

    async def catch_up(self, within: float = 60) -> None:
        """Wait until the watch has delivered everything up to now (see the class docstring)."""
        pods = (await self.kube.get(f"/api/v1/namespaces/{self.namespace}/pods"))["items"]
        if not pods:
            return  # nothing to stamp; and no pod exists whose creation could be missing
        name = pods[0]["metadata"]["name"]
        stamped = await self.kube.patch(
            f"/api/v1/namespaces/{self.namespace}/pods/{name}",
            {"metadata": {"annotations": {"test.minik8s.dev/catch-up": str(time.monotonic())}}},
        )
        version = stamped["metadata"]["resourceVersion"]
        deadline = time.monotonic() + within
        while version not in self._delivered:
            self.check()
            self._progress.clear()
            if version in self._delivered:
                break
            await asyncio.wait_for(self._progress.wait(), timeout=max(0.0, deadline - time.monotonic()))

    async def __aexit__(self, error_type: object, *_: object) -> None:
        if error_type is None:
            await self.catch_up()
        self.check()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def set_node_label(kube: KubeClient, node: str, key: str, value: str | None) -> None:
    """Set (or, with None, remove) one label of a node: steer the scheduler's nodeSelector matching from a test."""
    await kube.patch(f"/api/v1/nodes/{node}", {"metadata": {"labels": {key: value}}})
