"""The Reflector: LIST, then WATCH from the list's resourceVersion, and relist after any gap (client-go's Reflector).

One reflector keeps one informer scope (a namespace, or "" for all) equal to the API server's state:

1. LIST in pages (`limit`/`continue`, 500 objects a page as client-go) and `informer.replace()` the scope.
   Replacing is what removes objects that vanished while we were not watching.
2. WATCH from the list's resourceVersion with `allowWatchBookmarks`. Every event moves our resourceVersion
   forward; BOOKMARK events move it without an object, so a quiet resource still has a fresh version.
3. When the server ends the watch normally (its `timeoutSeconds`, randomised between 5 and 10 minutes as
   client-go does so that reflectors do not reconnect in lock-step), watch again from the last version: no
   relist, no lost event.
4. 410 Gone (the version is older than the API server's history: after an apiserver restart, an etcd
   compaction, a long pause of this process) means events were lost: go back to 1. So does, after a
   backoff, a watch the server ends with any other error (429 Too Many Requests only retries the watch).
5. Connection errors and timeouts back off with jitter (0.8 s doubling, capped) and retry the watch from the
   last version; a watch that sends nothing at all, not even a bookmark, for `inactivity_timeout` is taken for
   a half-open connection and replaced.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from operators.runtime.client import CONNECTION_ERRORS, ApiError, KubeClient, describe_error
from operators.runtime.informers import Informer, View

__all__ = ["Backoff", "Reflector"]

logger = logging.getLogger(__name__)
V = TypeVar("V", bound=View)

# Failures after which the watch is tried again (with backoff): no answer, an error answer, a garbled line.
RETRYABLE: tuple[type[Exception], ...] = (*CONNECTION_ERRORS, ApiError, ValueError)
PAGE_SIZE = 500  # client-go's pager default
MIN_WATCH_TIMEOUT = 300.0  # client-go's minWatchTimeout; each watch asks for 1-2x this
INACTIVITY_TIMEOUT = 90.0  # the API server sends a bookmark about once a minute to watchers that allow them


class Backoff:
    """Exponential backoff with jitter, reset after a quiet period (client-go's ExponentialBackoffManager)."""

    def __init__(self, initial: float = 0.8, cap: float = 10.0, factor: float = 2.0, jitter: float = 1.0) -> None:
        self.initial, self.cap, self.factor, self.jitter = initial, cap, factor, jitter
        self._next = initial

    def next(self) -> float:
        """The delay before the next attempt, and grow the one after it."""
        delay = self._next * (1 + self.jitter * random.random())
        self._next = min(self._next * self.factor, self.cap)
        return min(delay, self.cap)

    def reset(self) -> None:
        self._next = self.initial


class _Expired(Exception):
    """The watch cannot resume from our resourceVersion (410 Gone): relist."""


class _Unresumable(Exception):
    """The server ended the watch with an error other than 410 or 429: relist after a backoff, as client-go."""


def _watch_error(error: ApiError) -> Exception:
    """What a watch error means: 410 relist now; 429 (throttled) retry the watch; anything else relist later."""
    if error.status == 410:
        return _Expired(str(error))
    if error.status == 429:
        return error
    return _Unresumable(str(error) or f"HTTP {error.status}")


class Reflector(Generic[V]):
    """Keeps one scope of an informer equal to the API server, through any number of watch gaps."""

    def __init__(
        self,
        client: KubeClient,
        informer: Informer[V],
        *,
        namespace: str = "",
        label_selector: str = "",
        field_selector: str = "",
        page_size: int = PAGE_SIZE,
        min_watch_timeout: float = MIN_WATCH_TIMEOUT,
        inactivity_timeout: float = INACTIVITY_TIMEOUT,
        backoff: Backoff | None = None,
    ) -> None:
        self.client = client
        self.informer = informer
        self.namespace = namespace
        self.path = informer.resource.path(namespace)
        self.selectors = {"labelSelector": label_selector, "fieldSelector": field_selector}
        self.page_size = page_size
        self.min_watch_timeout = min_watch_timeout
        self.inactivity_timeout = inactivity_timeout
        self.backoff = backoff or Backoff()
        self.resource_version: str | None = None  # None: the next step is a LIST
        self.lists = 0  # completed listings, for tests and the log
        self.name = f"{informer.name}" + (f" in {namespace}" if namespace else "")

    async def run(self) -> None:
        """List and watch until cancelled."""
        while True:
            try:
                if self.resource_version is None:
                    await self._list()
                if await self._watch():
                    self.backoff.reset()
                    continue
            except asyncio.CancelledError:
                raise
            except _Expired as gone:
                logger.info("reflector %s: %s; listing again", self.name, gone)
                self.resource_version = None
                continue
            except _Unresumable as error:
                delay = self.backoff.next()
                logger.warning("reflector %s: %s; listing again in %.1f s", self.name, error, delay)
                self.resource_version = None
                await asyncio.sleep(delay)
                continue
            except RETRYABLE as error:
                delay = self.backoff.next()
                logger.warning("reflector %s: %s; retrying in %.1f s", self.name, describe_error(error), delay)
                await asyncio.sleep(delay)
                continue
            # A watch that ended at once without a single event: do not spin against a server that does this.
            await asyncio.sleep(self.backoff.next())

    async def _list(self) -> None:
        """LIST the scope page by page, then replace the informer's scope with the result."""
        views: list[V] = []
        query = self._query(limit=str(self.page_size))
        while True:
            try:
                page = await self.client.get(self.path, query=query)
            except ApiError as error:
                if error.status == 410 and "continue" in query:  # the continue token expired: start again
                    raise _Expired(f"list continuation expired: {error}") from error
                raise
            views.extend(self.informer.view(item) for item in page.get("items") or ())
            metadata: Mapping[str, Any] = page.get("metadata") or {}
            if token := metadata.get("continue"):
                query["continue"] = str(token)
                continue
            self.informer.replace(views, self.namespace)
            self.resource_version = str(metadata.get("resourceVersion", ""))
            self.lists += 1
            return

    async def _watch(self) -> bool:
        """Watch from our resourceVersion until the server ends the stream; True when it carried anything."""
        timeout = int(self.min_watch_timeout * (1 + random.random()))
        query = self._query(resourceVersion=self.resource_version or "", allowWatchBookmarks="true")
        stream = self.client.watch(self.path, query=query, timeout_seconds=timeout)
        received = False
        try:
            while True:
                silence = asyncio.timeout(self.inactivity_timeout)
                try:
                    async with silence:
                        event = await anext(stream)
                except StopAsyncIteration:
                    return received
                except TimeoutError:
                    if not silence.expired():
                        raise  # the client's own request timeout (the watch did not start): back off
                    logger.warning(
                        "reflector %s: nothing for %.0f s, watching again", self.name, self.inactivity_timeout
                    )
                    return True  # a silent stream is replaced at once, from the same version
                except ApiError as error:
                    raise _watch_error(error) from error
                received = True
                self._handle(event)
        finally:
            await stream.aclose()

    def _handle(self, event: Mapping[str, Any]) -> None:
        event_type = event.get("type")
        body: Mapping[str, Any] = event.get("object") or {}
        if event_type == "ERROR":
            code = int(body.get("code") or 500)
            raise _watch_error(ApiError(code, str(body.get("reason", "")), str(body.get("message", ""))))
        version = (body.get("metadata") or {}).get("resourceVersion")
        if event_type in ("ADDED", "MODIFIED", "DELETED"):
            known = self.informer.holding(body) if event_type == "MODIFIED" else None
            self.informer.apply(event_type, known if known is not None else self.informer.view(body))
        elif event_type != "BOOKMARK":
            logger.warning("reflector %s: ignoring a watch event of type %r", self.name, event_type)
            return
        if version:
            self.resource_version = str(version)

    def _query(self, **extra: str) -> dict[str, str]:
        return {key: value for key, value in {**self.selectors, **extra}.items() if value}
