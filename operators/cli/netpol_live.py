"""Live mode of `kubectl mini netpol`: read the cluster into bundle documents, and say every failure in one line.

The engine evaluates a snapshot; in live mode the snapshot comes from the API server instead of a YAML file.
One async `KubeClient` (the operator's shared client) lists Namespaces, Pods, Nodes, NetworkPolicies and
MiniNetworkPolicies at the cluster scope (policies select across namespaces: NP-08), all five at once
(asyncio.gather), each paginated as kubectl does (limit=500, then `continue`). The lists become exactly the
documents a bundle holds (`to_documents`), so `parse_objects` sees the same input in both modes.

Everything that can go wrong before the engine runs becomes a kubectl-style `error: ...` line (a `CliError`):
no kubeconfig, an unknown context, a refused or silent API server, and RBAC's 403 (which verb on which
resource, for which user, and what the command needs). The pure parts (`check_kubeconfig`'s reading aside)
take plain dicts and strings, so the unit tests exercise them without a cluster.
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from operators.cli.errors import CliError
from operators.networkpolicy import PolicyError, parse_policy
from operators.runtime.client import CONNECTION_ERRORS, ApiError, KubeClient

__all__ = [
    "NEEDED",
    "PAGE_SIZE",
    "RESOURCES",
    "LiveCluster",
    "PolicyKinds",
    "Resource",
    "check_kubeconfig",
    "connection_message",
    "forbidden_message",
    "list_all",
    "pod_document",
    "read_documents",
    "read_live",
    "to_documents",
]

PAGE_SIZE = 500  # kubectl's --chunk-size default: LIST pages of 500 items, chained by `continue`
PolicyKinds = Literal["all", "native", "mini"]
IN_CLUSTER_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True, slots=True)
class Resource:
    """One collection the live mode lists, cluster-wide."""

    name: str  # as RBAC and kubectl name it: `pods`, `networkpolicies.networking.k8s.io`
    path: str  # the cluster-scope collection path
    api_version: str
    kind: str


RESOURCES: tuple[Resource, ...] = (  # in the order a 403 is reported
    Resource("pods", "/api/v1/pods", "v1", "Pod"),
    Resource("namespaces", "/api/v1/namespaces", "v1", "Namespace"),
    Resource("nodes", "/api/v1/nodes", "v1", "Node"),
    Resource(
        "networkpolicies.networking.k8s.io",
        "/apis/networking.k8s.io/v1/networkpolicies",
        "networking.k8s.io/v1",
        "NetworkPolicy",
    ),
    Resource(
        "mininetworkpolicies.minik8s.dev",
        "/apis/minik8s.dev/v1/mininetworkpolicies",
        "minik8s.dev/v1",
        "MiniNetworkPolicy",
    ),
)
_BY_KIND = {resource.kind: resource for resource in RESOURCES}
NEEDED = "namespaces, pods, nodes, networkpolicies.networking.k8s.io and mininetworkpolicies.minik8s.dev"
_USER = re.compile(r'User "([^"]*)"')


@dataclass(frozen=True, slots=True)
class LiveCluster:
    """What the live mode read: bundle documents, the context's namespace, and what it left out and why."""

    documents: tuple[dict[str, Any], ...]
    namespace: str  # the kubeconfig context's namespace (or the in-cluster one), else "default"
    skipped_pods: Mapping[str, str] = field(default_factory=dict)  # "ns/name" -> why the engine cannot use it
    notes: tuple[str, ...] = ()  # one line each, for stderr


# ---------------------------------------------------------------------------------------------- the entry point


def read_live(*, kubeconfig: str | None, context: str | None, policies: PolicyKinds = "all") -> LiveCluster:
    """Read the cluster of the current (or given) context; every failure is a CliError with kubectl's wording."""
    namespace = check_kubeconfig(kubeconfig, context)

    async def read() -> LiveCluster:
        try:
            client = await KubeClient.from_kubeconfig(kubeconfig=kubeconfig, context=context)
        except Exception as error:  # kubernetes_asyncio's ConfigException, or a malformed file: one line
            raise CliError(f"invalid kubeconfig: {error}") from None
        try:
            documents, skipped, notes = await read_documents(client, policies=policies)
        except ApiError as error:
            raise CliError(_server_error(error)) from None
        except CONNECTION_ERRORS as error:
            raise CliError(connection_message(client.host, error, timeout=client.timeout)) from None
        finally:
            await client.close()
        return LiveCluster(tuple(documents), namespace, skipped, tuple(notes))

    return asyncio.run(read())


async def read_documents(
    client: KubeClient, *, policies: PolicyKinds = "all"
) -> tuple[list[dict[str, Any]], dict[str, str], list[str]]:
    """List every collection concurrently and convert: (documents, skipped pods, notes).

    A 403 on any list is reported for all denied lists at once (`forbidden_message`); a 404 on the
    MiniNetworkPolicy list means its CRD is not installed: none of them (a note when `policies` is "mini").
    """
    wanted = [r for r in RESOURCES if _wanted(r, policies)]
    results = await asyncio.gather(*(list_all(client, r.path) for r in wanted), return_exceptions=True)
    lists: dict[str, list[dict[str, Any]]] = {}
    denied: list[tuple[Resource, ApiError]] = []
    notes: list[str] = []
    for resource, result in zip(wanted, results, strict=True):
        if isinstance(result, ApiError) and result.status == 403:
            denied.append((resource, result))
        elif isinstance(result, ApiError) and result.not_found and resource.kind == "MiniNetworkPolicy":
            lists[resource.kind] = []
            if policies == "mini":
                notes.append("the MiniNetworkPolicy CRD (mininetworkpolicies.minik8s.dev) is not installed: none read")
        elif isinstance(result, BaseException):
            raise result
        else:
            lists[resource.kind] = result
    if denied:
        raise CliError(forbidden_message(denied))
    documents, skipped, warnings = to_documents(lists)
    return documents, skipped, notes + warnings


def _wanted(resource: Resource, policies: PolicyKinds) -> bool:
    if resource.kind == "NetworkPolicy":
        return policies != "mini"
    if resource.kind == "MiniNetworkPolicy":
        return policies != "native"
    return True


async def list_all(client: KubeClient, path: str) -> list[dict[str, Any]]:
    """Every item of a collection, page by page (limit + continue). A 410 (the continue token expired while
    paging, after etcd's compaction) starts the list again, as kubectl's pager falls back to a full list."""
    for _ in range(3):
        items: list[dict[str, Any]] = []
        query = {"limit": str(PAGE_SIZE)}
        try:
            while True:
                page = await client.get(path, query=query)
                items.extend(page.get("items") or ())
                token = (page.get("metadata") or {}).get("continue")
                if not token:
                    return items
                query = {"limit": str(PAGE_SIZE), "continue": token}
        except ApiError as error:
            if error.status != 410 or "continue" not in query:
                raise
    raise CliError(f"the list of {path} kept expiring while paging through it; try again")


# ---------------------------------------------------------------------------------------------- conversion (pure)


def to_documents(
    lists: Mapping[str, Sequence[Mapping[str, Any]]],
) -> tuple[list[dict[str, Any]], dict[str, str], list[str]]:
    """API list items by kind -> (bundle documents, skipped pods with their reason, warnings).

    Items of a LIST carry no kind; each document gets its kind and apiVersion back and keeps only what the
    engine reads. Two pods with one IP (a terminating pod whose IP was handed out again) would make the
    snapshot ambiguous: the second is left out, a pod being deleted before any other. A policy the engine
    refuses is left out with a warning, not fatal: one bad object of someone else must not stop a read-only
    what-if over the whole cluster.
    """
    documents: list[dict[str, Any]] = []
    for item in lists.get("Namespace", ()):
        documents.append(_namespace_document(item))
    for item in lists.get("Node", ()):
        documents.append(_node_document(item))
    skipped: dict[str, str] = {}
    owners: dict[str, str] = {}  # pod IP -> the pod that keeps it
    # Pods being deleted go last: when a terminating pod's IP already belongs to a new pod, the new one keeps it.
    for item in sorted(
        lists.get("Pod", ()), key=lambda pod: bool((pod.get("metadata") or {}).get("deletionTimestamp"))
    ):
        metadata = item.get("metadata") or {}
        key = f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"
        document, reason = pod_document(item)
        if document is None:
            skipped[key] = reason
        elif (ip := document["status"]["podIP"]) in owners:
            skipped[key] = f"its IP {ip} is the IP of {owners[ip]} too"
        else:
            owners[ip] = key
            documents.append(document)
    warnings: list[str] = []
    for kind in ("NetworkPolicy", "MiniNetworkPolicy"):
        for item in lists.get(kind, ()):
            document = _policy_document(item, kind)
            try:
                parse_policy(document)
            except PolicyError as error:
                warnings.append(f"left out {error}")
                continue
            documents.append(document)
    return documents, skipped, warnings


def _namespace_document(item: Mapping[str, Any]) -> dict[str, Any]:
    metadata = item.get("metadata") or {}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(metadata, namespaced=False)}


def _node_document(item: Mapping[str, Any]) -> dict[str, Any]:
    metadata = item.get("metadata") or {}
    addresses = [dict(a) for a in (item.get("status") or {}).get("addresses") or ()]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": _meta(metadata, namespaced=False),
        "status": {"addresses": addresses},
    }


def pod_document(item: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """A pod as the engine reads it (labels, node, container ports, IPs), or None and why it is left out.

    Left out: pods without an IP yet (Pending: nothing can connect to them), terminated pods (Succeeded or
    Failed: their IP may already belong to a new pod), and hostNetwork pods (they have the node's IP, which
    NetworkPolicy cannot tell apart from the node's own traffic: NP-12).
    """
    metadata = item.get("metadata") or {}
    spec = item.get("spec") or {}
    status = item.get("status") or {}
    phase = str(status.get("phase") or "")
    if spec.get("hostNetwork"):
        return None, "it uses the node's network (hostNetwork): NetworkPolicy does not apply to it"
    if phase in ("Succeeded", "Failed"):
        return None, f"it has terminated ({phase})"
    if not status.get("podIP"):
        return None, f"it has no IP yet ({phase or 'Pending'})"
    containers = [
        {"name": c.get("name", ""), **({"ports": [dict(p) for p in c["ports"]]} if c.get("ports") else {})}
        for c in spec.get("containers") or ()
    ]
    pod_status: dict[str, Any] = {"phase": phase, "podIP": status["podIP"]}
    if status.get("podIPs"):
        pod_status["podIPs"] = [dict(entry) for entry in status["podIPs"]]
    document_spec: dict[str, Any] = {"containers": containers}
    if spec.get("nodeName"):
        document_spec["nodeName"] = spec["nodeName"]
    document = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(metadata, namespaced=True),
        "spec": document_spec,
        "status": pod_status,
    }
    return document, ""


def _policy_document(item: Mapping[str, Any], kind: str) -> dict[str, Any]:
    metadata = item.get("metadata") or {}
    return {
        "apiVersion": _BY_KIND[kind].api_version,
        "kind": kind,
        "metadata": _meta(metadata, namespaced=True, labels=False),
        "spec": item.get("spec") or {},
    }


def _meta(metadata: Mapping[str, Any], *, namespaced: bool, labels: bool = True) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": metadata.get("name", "")}
    if namespaced:
        meta["namespace"] = metadata.get("namespace", "")
    if labels and metadata.get("labels"):
        meta["labels"] = dict(metadata["labels"])
    return meta


# ---------------------------------------------------------------------------------------------- errors (pure)


def forbidden_message(denied: Sequence[tuple[Resource, ApiError]]) -> str:
    """RBAC's refusal as one line: the verb, the resources, the user, and what the command needs.

    The API server's message reads `pods is forbidden: User "u" cannot list resource "pods" in API group ""
    at the cluster scope`; the user is taken from it.
    """
    user = next((m.group(1) for _, error in denied if (m := _USER.search(error.message))), "")
    names = ", ".join(resource.name for resource, _ in denied)
    who = f'for user "{user}"' if user else "for the current user"
    return f"cannot list {names} at the cluster scope: forbidden {who} — kubectl mini netpol needs get/list on {NEEDED}"


def connection_message(host: str, error: BaseException, *, timeout: float) -> str:
    """A request that got no answer, as kubectl words it: refused, timed out, or TLS."""
    cause = getattr(error, "os_error", error)
    if isinstance(cause, ConnectionRefusedError):
        return f"the connection to the server {host} was refused - did you specify the right host or port?"
    if isinstance(error, TimeoutError):
        return f"the server {host} did not answer within {timeout:g}s"
    if isinstance(error, ssl.SSLError):
        return f"cannot connect to the server {host}: TLS: {getattr(error, 'reason', None) or error}"
    detail = getattr(cause, "strerror", None) or str(error) or type(error).__name__
    return f"cannot connect to the server {host}: {detail}"


def _server_error(error: ApiError) -> str:
    """kubectl's wording for the other refusals: 401 as `You must be logged in`, else `Error from server (...)`."""
    if error.status == 401:
        return "You must be logged in to the server (Unauthorized)"
    return f"Error from server ({error.reason or error.status}): {error.message or error}"


# ---------------------------------------------------------------------------------------------- the kubeconfig


def check_kubeconfig(kubeconfig: str | None, context: str | None, environ: Mapping[str, str] | None = None) -> str:
    """Check the kubeconfig as kubectl would before any request, and return the context's namespace.

    The files are `--kubeconfig`, else the KUBECONFIG list (merged: the first file to define a name wins),
    else ~/.kube/config; with none of them (and no flag), a pod's in-cluster config is used, as the client does.
    """
    env = os.environ if environ is None else environ
    if kubeconfig:
        paths = [kubeconfig]
    else:
        paths = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p] or [
            str(Path(env.get("HOME", str(Path.home()))) / ".kube" / "config")
        ]
    configs: list[tuple[str, Mapping[str, Any]]] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            if kubeconfig:
                raise CliError(f"cannot read kubeconfig {path}: no such file") from None
            continue
        except OSError as error:
            raise CliError(f"cannot read kubeconfig {path}: {error.strerror or error}") from None
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            raise CliError(f"error loading config file {path}: {' '.join(str(error).split())}") from None
        if not isinstance(loaded, Mapping):
            raise CliError(f"error loading config file {path}: not a kubeconfig")
        configs.append((path, loaded))
    if not configs:
        if not context and env.get("KUBERNETES_SERVICE_HOST"):  # in a pod: the client uses the in-cluster config
            try:
                return IN_CLUSTER_NAMESPACE.read_text(encoding="utf-8").strip() or "default"
            except OSError:
                return "default"
        raise CliError(
            "no kubeconfig: pass --kubeconfig, set KUBECONFIG or create ~/.kube/config "
            "(or evaluate a file with -f BUNDLE.yaml)"
        )
    contexts: dict[str, Mapping[str, Any]] = {}
    current = ""
    for _, config in configs:
        for entry in config.get("contexts") or ():
            if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
                contexts.setdefault(entry["name"], entry.get("context") or {})
        current = current or str(config.get("current-context") or "")
    chosen = context or current
    if not chosen:
        raise CliError("the kubeconfig sets no current-context: pass --context NAME")
    if chosen not in contexts:
        raise CliError(f'context "{chosen}" does not exist')
    return str(contexts[chosen].get("namespace") or "default")
