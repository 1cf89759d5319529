"""Kubernetes Events with upstream's reasons, spam filter and aggregation (client-go tools/record).

`record()` never blocks the controller: it queues the event, and one background task posts the queue in
order, as client-go's broadcaster does (so under a client-side QPS limit, events wait behind the creates
instead of taking their tokens first). As upstream's EventCorrelator does: each (source, object) pair has a
token bucket of 25 events refilled at one per five minutes; similar events (same object, type and reason) with
a tenth distinct message within ten minutes are combined into one "(combined from similar events): ..." event
(EventAggregator); and an event identical to a recent one bumps that event's `count` instead of creating
another (eventLogger). So a 500-pod scale-up posts about as many events as kube-controller-manager would.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from operators.kube.objects import format_time
from operators.runtime.client import CONNECTION_ERRORS, ApiError, KubeClient
from operators.runtime.ratelimit import TokenBucket

__all__ = ["EventAggregator", "EventRecorder", "InvolvedObject"]

logger = logging.getLogger(__name__)
EventType = Literal["Normal", "Warning"]
SPAM_BURST, SPAM_QPS = 25, 1 / 300  # EventSourceObjectSpamFilter defaults
CACHE_SIZE = 4096  # LRU size of the correlator's cache, as upstream's maxLruCacheEntries
AGGREGATE_MAX_EVENTS, AGGREGATE_INTERVAL = 10, 600.0  # defaultAggregateMaxEvents, defaultAggregateIntervalInSeconds
COMBINED = "(combined from similar events): "


class EventAggregator:
    """client-go's EventAggregator (EventAggregatorByReasonFunc): what key and message an event is posted under.

    Events of one (object, type, reason) with different messages are similar. Up to nine distinct messages
    within ten minutes of each other are posted as they are; from the tenth on, every similar event becomes
    the one combined event (its key is the same, so the eventLogger bumps its count) carrying the latest
    message. Ten minutes without a similar event start the count again.
    """

    def __init__(self) -> None:
        self._records: OrderedDict[tuple[InvolvedObject, str, str], tuple[set[str], float]] = OrderedDict()

    def aggregate(
        self, obj: InvolvedObject, type_: str, reason: str, message: str, now: float
    ) -> tuple[tuple[InvolvedObject, str, str, str], str]:
        """(the dedup key, the message to post) for one event at monotonic time `now`."""
        key = (obj, type_, reason)
        messages, last = self._records.get(key, (set(), now))
        if now - last > AGGREGATE_INTERVAL:
            messages = set()
        messages.add(message)
        _lru_put(self._records, key, (messages, now))
        if len(messages) < AGGREGATE_MAX_EVENTS:
            return (obj, type_, reason, message), message
        messages.pop()  # never grow the set beyond the threshold
        return (obj, type_, reason, COMBINED), COMBINED + message


@dataclass(frozen=True, slots=True)
class InvolvedObject:
    """The object an event is about (corev1.ObjectReference)."""

    api_version: str
    kind: str
    namespace: str
    name: str
    uid: str

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> InvolvedObject:
        meta = body["metadata"]
        return cls(body["apiVersion"], body["kind"], meta.get("namespace", ""), meta["name"], meta.get("uid", ""))


class EventRecorder:
    """Posts core/v1 Events for one component (`source.component`, e.g. `minireplicaset-controller`)."""

    def __init__(self, client: KubeClient, component: str, *, max_pending: int = 1000) -> None:
        self.client = client
        self.component = component
        self._buckets: OrderedDict[InvolvedObject, TokenBucket] = OrderedDict()
        self._recent: OrderedDict[tuple[InvolvedObject, str, str, str], tuple[str, int]] = OrderedDict()
        self._aggregator = EventAggregator()
        self._queue: asyncio.Queue[tuple[InvolvedObject, EventType, str, str]] = asyncio.Queue(max_pending)
        self._poster: asyncio.Task[None] | None = None

    def record(self, obj: InvolvedObject, type_: EventType, reason: str, message: str) -> None:
        """Queue one event (Eventf); dropped, as upstream, when the object's spam bucket is empty."""
        bucket = _lru_get(self._buckets, obj, lambda: TokenBucket(qps=SPAM_QPS, burst=SPAM_BURST))
        if not bucket.try_take():
            return
        try:
            self._queue.put_nowait((obj, type_, reason, message))
        except asyncio.QueueFull:
            logger.warning("dropping event %s %s for %s/%s: too many pending", type_, reason, obj.namespace, obj.name)
            return
        if self._poster is None:
            self._poster = asyncio.get_running_loop().create_task(self._post_forever(), name=f"{self.component}-events")

    async def flush(self) -> None:
        """Wait until every queued event has been posted (tests, shutdown)."""
        await self._queue.join()

    async def close(self) -> None:
        """Stop posting; events still queued are dropped."""
        if self._poster is not None:
            self._poster.cancel()
            await asyncio.gather(self._poster, return_exceptions=True)
            self._poster = None

    async def _post_forever(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self._post(*event)
            finally:
                self._queue.task_done()

    async def _post(self, obj: InvolvedObject, type_: EventType, reason: str, message: str) -> None:
        now = format_time(datetime.datetime.now(datetime.UTC))
        path = f"/api/v1/namespaces/{obj.namespace or 'default'}/events"
        key, message = self._aggregator.aggregate(obj, type_, reason, message, time.monotonic())
        try:
            if (seen := self._recent.get(key)) is not None:
                name, count = seen
                self._recent[key] = (name, count + 1)
                patch = {"count": count + 1, "lastTimestamp": now, "message": message[:1024]}
                await self.client.patch(f"{path}/{name}", patch)
                return
            name = f"{obj.name}.{secrets.token_hex(8)}"
            _lru_put(self._recent, key, (name, 1))
            await self.client.create(path, _event_body(name, obj, type_, reason, message, now, self.component))
        except ApiError as error:
            if error.not_found and key in self._recent:  # the aggregated event expired: start a new one
                del self._recent[key]
            if error.namespace_terminating:
                return  # the namespace and its events are going away
            logger.warning("could not post event %s for %s/%s: %s", reason, obj.namespace, obj.name, error)
        except CONNECTION_ERRORS as error:  # the API server is away: an expected event, one line
            logger.warning("could not post event %s for %s/%s: %r", reason, obj.namespace, obj.name, error)
        except Exception:  # an event is best effort; never let it break a sync
            logger.exception("could not post event %s for %s/%s", reason, obj.namespace, obj.name)


def _event_body(
    name: str, obj: InvolvedObject, type_: str, reason: str, message: str, now: str, component: str
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": obj.namespace or "default"},
        "involvedObject": {
            "apiVersion": obj.api_version,
            "kind": obj.kind,
            "namespace": obj.namespace,
            "name": obj.name,
            "uid": obj.uid,
        },
        "type": type_,
        "reason": reason,
        "message": message[:1024],
        "source": {"component": component},
        "reportingComponent": component,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }


def _lru_get(cache: OrderedDict[Any, Any], key: Any, make: Any) -> Any:
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = make()
    _lru_put(cache, key, value)
    return value


def _lru_put(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
