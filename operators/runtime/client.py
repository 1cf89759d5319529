"""The one shared async API client: kubernetes_asyncio's connection pool and auth, raw JSON in and out.

We keep kubernetes_asyncio for what it does well (kubeconfig and in-cluster config, token refresh, one aiohttp
pool, the same HTTP stack as Kopf) and skip its model classes: controllers exchange plain JSON dicts, which
costs no deserialisation and lets a controller send exactly the patch it means. Every request passes one
semaphore (bounded concurrency) and, when configured, a client-side token bucket like client-go's QPS/burst.

Every request has a timeout (30 s by default): one half-open connection must never pin a worker, and the
key it was syncing, forever. A timed-out or refused request raises one of `CONNECTION_ERRORS`; callers treat
those as expected events (one log line, a retry with backoff), not as bugs.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config

from operators.runtime.ratelimit import TokenBucket

__all__ = [
    "CONNECTION_ERRORS",
    "DEFAULT_TIMEOUT",
    "ApiError",
    "KubeClient",
    "PatchType",
    "RequestObserver",
    "bearer_token",
    "decode_answer",
    "describe_error",
    "load_configuration",
]

# What a request raises when the API server could not answer: refused, reset, timed out. Expected events.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (aiohttp.ClientError, TimeoutError, OSError)
DEFAULT_TIMEOUT = 30.0  # seconds for one request, headers and body
METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
# (method, code, seconds) of every finished request; code is "<error>" when there was no answer, as client-go's.
RequestObserver = Callable[[str, str, float], None]

PatchType = Literal["merge", "strategic", "json", "apply"]
_PATCH_CONTENT_TYPES: dict[PatchType, str] = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",  # JSON is YAML
}
USER_AGENT = "mini-operators/0.1"


@dataclass
class ApiError(Exception):
    """A non-2xx answer of the API server, with its metav1.Status reason and message."""

    status: int
    reason: str
    message: str
    method: str = ""
    path: str = ""

    def __str__(self) -> str:
        return self.message or f"{self.method} {self.path}: HTTP {self.status} {self.reason}"

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        """409: a stale resourceVersion precondition (Conflict), or a create of an existing name (AlreadyExists)."""
        return self.status == 409

    @property
    def already_exists(self) -> bool:
        return self.status == 409 and self.reason == "AlreadyExists"

    @property
    def invalid(self) -> bool:
        return self.status == 422

    @property
    def namespace_terminating(self) -> bool:
        """Creation refused because the namespace is being deleted (apierrors.HasStatusCause NamespaceTerminating)."""
        return self.status == 403 and "because it is being terminated" in self.message


def decode_answer(status: int, reason: str, payload: bytes, *, method: str = "", path: str = "") -> dict[str, Any]:
    """An API answer decoded: the JSON object of a 2xx, else ApiError with the metav1.Status reason and message.
    A body that is not JSON (the server's plain "404 page not found" for a path it does not serve, such as a
    custom resource whose CRD is not installed) becomes the error's message, never a JSONDecodeError."""
    try:
        decoded = json.loads(payload) if payload else {}
    except ValueError:
        text = payload.decode(errors="replace").strip()
        if 200 <= status <= 299:
            raise ApiError(status, "InvalidResponse", f"not JSON: {text[:200]!r}", method, path) from None
        decoded = {"message": text[:200]}
    if not 200 <= status <= 299:
        details = decoded if isinstance(decoded, dict) else {}
        reason = str(details.get("reason", reason))
        raise ApiError(status, reason, str(details.get("message", "")), method, path)
    if not isinstance(decoded, dict):
        raise ApiError(status, "InvalidResponse", f"expected a JSON object, got {type(decoded).__name__}", method, path)
    return decoded


class KubeClient:
    """Raw-JSON requests through one kubernetes_asyncio ApiClient, bounded and optionally rate-limited."""

    def __init__(
        self,
        api: k8s_client.ApiClient,
        *,
        max_concurrency: int = 64,
        qps: float | None = None,
        burst: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        observer: RequestObserver | None = None,
    ) -> None:
        self.api = api
        self.api.user_agent = USER_AGENT
        self._slots = asyncio.Semaphore(max_concurrency)
        self.limiter = TokenBucket(qps=qps, burst=burst or max(1, int(qps))) if qps else None
        self.timeout = timeout
        self.observer = observer
        self.requests: Counter[str] = Counter()  # "VERB resource" -> count, for benchmarks and tests

    @classmethod
    async def from_kubeconfig(
        cls,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        max_concurrency: int = 64,
        qps: float | None = None,
        burst: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 (the client's per-request limit, not this call's)
    ) -> KubeClient:
        configuration = await load_configuration(kubeconfig=kubeconfig, context=context)
        # Same size as the semaphore: a request holding a slot never waits for a connection.
        configuration.connection_pool_maxsize = max_concurrency
        api = _PlainJsonApiClient(configuration)
        if not configuration.proxy and not urllib.request.getproxies():
            _stop_trusting_env(api)
        return cls(api, max_concurrency=max_concurrency, qps=qps, burst=burst, timeout=timeout)

    @property
    def host(self) -> str:
        """The API server's host:port, as client-go's request metrics label it."""
        return str(self.api.configuration.host).split("://", 1)[-1]

    async def close(self) -> None:
        await self.api.close()

    # --- verbs -------------------------------------------------------------------------------------------------

    async def get(self, path: str, *, query: Mapping[str, str] | None = None) -> dict[str, Any]:
        return await self.request("GET", path, query=query)

    async def list_metadata(self, path: str, *, query: Mapping[str, str] | None = None) -> dict[str, Any]:
        """LIST a collection as a PartialObjectMetadataList: names, UIDs and versions, without specs."""
        return await self.request("GET", path, query=query, accept=METADATA_ONLY)

    async def create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self.request("POST", path, body=body)

    async def patch(self, path: str, body: Any, *, patch_type: PatchType = "merge") -> dict[str, Any]:
        return await self.request("PATCH", path, body=body, content_type=_PATCH_CONTENT_TYPES[patch_type])

    async def replace(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PUT (Go's Update): the whole object, with its resourceVersion as the precondition."""
        return await self.request("PUT", path, body=body)

    async def apply(
        self, path: str, body: Mapping[str, Any], *, field_manager: str, force: bool = False
    ) -> dict[str, Any]:
        """Server-side apply `body` as `field_manager`; `force` takes over fields other managers own.

        A `metadata.resourceVersion` in the body is a precondition, as for an update.
        """
        query = {"fieldManager": field_manager, **({"force": "true"} if force else {})}
        return await self.request("PATCH", path, body=body, query=query, content_type=_PATCH_CONTENT_TYPES["apply"])

    async def delete(self, path: str, *, uid: str | None = None, propagation: str | None = None) -> dict[str, Any]:
        """DELETE with an optional UID precondition (never delete a re-created namesake)."""
        options: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if uid:
            options["preconditions"] = {"uid": uid}
        if propagation:
            options["propagationPolicy"] = propagation
        return await self.request("DELETE", path, body=options)

    async def watch(
        self, path: str, *, query: Mapping[str, str] | None = None, timeout_seconds: int = 300
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Stream the watch events ({"type": ..., "object": ...}) of a collection until the server closes it.

        A watch is long-lived, so it takes no concurrency slot; it still waits for the rate limiter. Only
        its start (connection and headers) is bound by the request timeout; the stream itself ends at the
        server's `timeoutSeconds`, and a caller that wants a silence limit sets one (the Reflector does).
        """
        self.requests[f"WATCH {_resource_of(path)}"] += 1
        if self.limiter is not None:
            await self.limiter.wait()
        params = {**(query or {}), "watch": "true", "timeoutSeconds": str(timeout_seconds)}
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.api.call_api(
                    path,
                    "GET",
                    query_params=list(params.items()),
                    header_params={"Accept": "application/json"},
                    auth_settings=["BearerToken"],
                    _preload_content=False,
                    _request_timeout=aiohttp.ClientTimeout(total=timeout_seconds + 30, connect=self.timeout),
                )
        except CONNECTION_ERRORS:
            self._observe("WATCH", "<error>", started)
            raise
        self._observe("WATCH", str(response.status), started)
        try:
            if response.status != 200:
                decoded = json.loads(await response.read() or b"{}")
                raise ApiError(
                    response.status,
                    str(decoded.get("reason", "")),
                    str(decoded.get("message", "")),
                    method="WATCH",
                    path=path,
                )
            async for line in response.content:
                if line.strip():
                    yield json.loads(line)
        finally:
            response.release()

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> dict[str, Any]:
        """Send one request; return the decoded JSON answer, or raise ApiError or one of CONNECTION_ERRORS."""
        self.requests[f"{method} {_resource_of(path)}"] += 1
        async with self._slots:
            if self.limiter is not None:
                await self.limiter.wait()
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.timeout):
                    response = await self.api.call_api(
                        path,
                        method,
                        query_params=list((query or {}).items()),
                        header_params={"Content-Type": content_type, "Accept": accept},
                        body=body,
                        auth_settings=["BearerToken"],
                        _preload_content=False,
                    )
                    try:
                        payload = await response.read()
                    finally:
                        response.release()
            except CONNECTION_ERRORS:
                self._observe(method, "<error>", started)
                raise
            self._observe(method, str(response.status), started)
        return decode_answer(response.status, response.reason or "", payload, method=method, path=path)

    def _observe(self, method: str, code: str, started: float) -> None:
        if self.observer is not None:
            self.observer(method, code, time.monotonic() - started)


class _PlainJsonApiClient(k8s_client.ApiClient):
    """kubernetes_asyncio's ApiClient for bodies that are JSON already.

    The generic client walks every element of every body, header and query parameter to turn its model
    classes into dicts; the runtime sends plain dicts, lists and strings only, and that walk over the
    body of a 100-endpoint EndpointSlice was ~12% of the MiniService controller's CPU. `json.dumps` still
    refuses anything that is not JSON.
    """

    def sanitize_for_serialization(self, obj: Any) -> Any:
        return obj


def describe_error(error: BaseException) -> str:
    """One log line for an expected failure: an API error's message, else its type and text (`TimeoutError`).

    A lost connection is an event, not a bug: callers log this instead of a stack trace.
    """
    if isinstance(error, ApiError):
        return str(error)
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _stop_trusting_env(api: k8s_client.ApiClient) -> None:
    """Swap kubernetes_asyncio's session for one with trust_env=False, keeping its connection pool.

    With trust_env=True aiohttp looks up proxy variables and ~/.netrc for every request, in a thread: about
    12% of the operator's CPU in the 500-pod benchmark. Only done when no proxy is configured at all.
    """
    rest = api.rest_client
    session: aiohttp.ClientSession = rest.pool_manager
    connector = session.connector
    session.detach()  # the new session takes over the connector; the old one is closed without closing it
    rest.pool_manager = aiohttp.ClientSession(connector=connector, trust_env=False, read_bufsize=2**21)


async def load_configuration(*, kubeconfig: str | None = None, context: str | None = None) -> k8s_client.Configuration:
    """In-cluster config when running in a pod (and no file was asked for), else the kubeconfig file."""
    configuration = k8s_client.Configuration()
    try:
        if kubeconfig or context:
            raise k8s_config.ConfigException("an explicit kubeconfig or context was asked for")
        k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except k8s_config.ConfigException:
        await k8s_config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
    return configuration


async def bearer_token(configuration: k8s_client.Configuration) -> str | None:
    """The current token (exec and auth-provider plugins refresh it), without the `Bearer ` prefix."""
    header: Any = configuration.get_api_key_with_prefix("BearerToken")
    if inspect.isawaitable(header):  # kubernetes_asyncio >= 33.3 made it a coroutine
        header = await header
    return str(header).split(" ", 1)[-1] if header else None


def _resource_of(path: str) -> str:
    """`/api/v1/namespaces/x/pods/y/status` -> `pods/status`: the label requests are counted by."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    parts = parts[2:] if parts[:1] == ["api"] else parts[3:]  # drop /api/v1 or /apis/<group>/<version>
    if len(parts) > 2 and parts[0] == "namespaces" and parts[2:] not in (["status"], ["finalize"]):
        parts = parts[2:]  # a namespaced resource: drop namespaces/<ns> (but keep a namespace's own subresources)
    if not parts:
        return "?"
    return parts[0] + (f"/{parts[2]}" if len(parts) > 2 else "")
