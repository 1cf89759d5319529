"""`kubectl mini netpol` reading the live cluster: the same answers as a bundle, the upstream e2e tables, errors.

Policies are only objects here: no controller or CNI enforces them, and none is needed. What is tested is the
read path (concurrent paginated LISTs, the conversion to bundle documents, --policies, -n) and what the CLI
prints. The CLI runs in-process (`operators.cli.main.main`) in a worker thread, as it runs its own event loop;
its output is captured with capsys. Pods get their IPs from kwok: the tests wait for them on a WATCH.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from operators.cli import netpol_live
from operators.cli.main import main
from operators.devcluster.cluster import Cluster
from operators.runtime.client import KubeClient
from tests.integration.kubehelpers import eventually
from tests.integration.netpol_cases import E2E_CASES, Model, create_policy
from tests.unit.networkpolicy.netpol_e2e import (
    gen_network_policy,
    gen_network_policy_with_match_label,
    host_cidr,
)

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("crds")]

RUN_LABEL = "netpol-live-test"  # every pod of a test carries RUN_LABEL=<token>: one WATCH follows them all
WAIT = 60.0  # seconds for kwok to run the pods
DELETION_WAIT = (
    180.0  # seconds for the namespace controller to delete earlier tests' namespaces (~10 s each, 10 at once)
)


# ---------------------------------------------------------------------------------------------- helpers


class Cli:
    """`kubectl mini --kubeconfig K ARGS`, in-process: (exit code, stdout, stderr)."""

    def __init__(self, kubeconfig: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.kubeconfig = kubeconfig
        self.capsys = capsys

    async def __call__(self, *argv: str, kubeconfig: str | None = None) -> tuple[int, str, str]:
        self.capsys.readouterr()  # drop anything printed before
        code = await asyncio.to_thread(main, ["--kubeconfig", kubeconfig or self.kubeconfig, *argv])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err


@pytest.fixture
def mini(cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(str(cluster.layout.kubeconfig), capsys)


Objects = Callable[..., Awaitable[None]]


@pytest.fixture
async def namespaces(kube: KubeClient) -> AsyncIterator[Callable[..., Awaitable[list[str]]]]:
    """make(*bases, labels=...) -> fresh namespaces `<base>-<token>`, deleted at the end (not waited for)."""
    created: list[str] = []

    async def make(*bases: str, labels: Mapping[str, Mapping[str, str]] | None = None) -> list[str]:
        token = secrets.token_hex(3)
        names = []
        for base in bases:
            name = f"{base}-{token}"
            metadata = {"name": name, "labels": {**(labels or {}).get(base, {})}}
            await kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
            created.append(name)
            names.append(name)
        return names

    yield make
    for name in created:
        await kube.delete(f"/api/v1/namespaces/{name}")


async def wait_for_terminating_namespaces(kube: KubeClient) -> None:
    """Until every namespace being deleted is gone: a live read lists every pod of the cluster, and the pods of
    a terminating namespace (an earlier test's) could vanish between two reads that must agree."""
    listed = await kube.get("/api/v1/namespaces")
    terminating = {ns["metadata"]["name"] for ns in listed["items"] if ns["metadata"].get("deletionTimestamp")}
    await wait_until_gone(kube, "/api/v1/namespaces", terminating)


async def wait_until_gone(kube: KubeClient, path: str, names: set[str]) -> None:
    """LIST, then WATCH from its version until none of `names` is left in the collection."""
    listed = await kube.get(path)
    left = names & {item["metadata"]["name"] for item in listed["items"]}
    version = listed["metadata"]["resourceVersion"]
    async with asyncio.timeout(DELETION_WAIT):
        while left:
            async with contextlib.aclosing(kube.watch(path, query={"resourceVersion": version})) as events:
                async for event in events:
                    assert event["type"] != "ERROR", event["object"]
                    version = event["object"]["metadata"]["resourceVersion"]
                    if event["type"] == "DELETED":
                        left.discard(event["object"]["metadata"]["name"])
                    if not left:
                        break


def model_pod(namespace: str, name: str, token: str, *, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """model.go's pod: label pod=<name>; one container per port x protocol, port named serve-<port>-<protocol>."""
    containers = [
        {
            "name": f"cont-{port}-{protocol.lower()}",
            "image": "fakeimage",
            "ports": [{"containerPort": port, "name": f"serve-{port}-{protocol.lower()}", "protocol": protocol}],
        }
        for port in (80, 81)
        for protocol in ("TCP", "UDP", "SCTP")
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"pod": name, RUN_LABEL: token, **(labels or {})},
        },
        "spec": {"automountServiceAccountToken": False, "containers": containers},
    }


async def run_pods(kube: KubeClient, pods: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Create the pods (all with one RUN_LABEL token) and wait until kwok gave each an IP: `ns/name` -> IP."""
    bodies = list(pods)
    token = bodies[0]["metadata"]["labels"][RUN_LABEL]
    await asyncio.gather(*(kube.create(f"/api/v1/namespaces/{p['metadata']['namespace']}/pods", p) for p in bodies))
    query = {"labelSelector": f"{RUN_LABEL}={token}"}
    listed = await kube.get("/api/v1/pods", query=query)
    ips = {_key(pod): (pod.get("status") or {}).get("podIP") for pod in listed["items"]}
    version = listed["metadata"]["resourceVersion"]
    async with asyncio.timeout(WAIT):
        while not _all_have_ips(ips, len(bodies)):
            watch = kube.watch("/api/v1/pods", query={**query, "resourceVersion": version})
            async with contextlib.aclosing(watch) as events:
                async for event in events:
                    assert event["type"] != "ERROR", event["object"]
                    version = event["object"]["metadata"]["resourceVersion"]
                    if event["type"] in ("ADDED", "MODIFIED"):
                        ips[_key(event["object"])] = (event["object"].get("status") or {}).get("podIP")
                    if _all_have_ips(ips, len(bodies)):
                        break
    return {key: str(ip) for key, ip in ips.items()}


def _key(pod: Mapping[str, Any]) -> str:
    return f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"


def _all_have_ips(ips: Mapping[str, str | None], count: int) -> bool:
    return len(ips) == count and all(ips.values())


# ---------------------------------------------------------------------------------------------- (1) live = bundle


async def test_live_and_bundle_give_the_same_answers(
    kube: KubeClient, namespaces: Callable[..., Awaitable[list[str]]], mini: Cli, tmp_path: Path
) -> None:
    """Every command prints the same thing reading the cluster and reading a bundle dumped from the same reads."""
    await wait_for_terminating_namespaces(kube)
    shop, monitoring = await namespaces("shop", "monitoring", labels={"monitoring": {"purpose": "monitoring"}})
    token = secrets.token_hex(3)
    pods = [
        model_pod(shop, "frontend", token, labels={"app": "frontend"}),
        model_pod(shop, "backend", token, labels={"app": "backend"}),
        model_pod(shop, "db", token, labels={"app": "db"}),
        model_pod(monitoring, "prometheus", token, labels={"app": "prometheus"}),
    ]
    ips = await run_pods(kube, pods)
    deny = gen_network_policy("default-deny-ingress", {}, ingress=[])
    web = gen_network_policy_with_match_label("allow-web", {"app": "frontend"}, ingress=[{"ports": [{"port": 80}]}])
    backend_rule = {
        "from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}],
        "ports": [{"port": "serve-80-tcp"}],
    }
    backend = gen_network_policy_with_match_label("allow-frontend", {"app": "backend"}, ingress=[backend_rule])
    db_rule = {
        "from": [
            {"podSelector": {"matchLabels": {"app": "backend"}}},
            {"ipBlock": {"cidr": "10.0.0.0/8", "except": [host_cidr(ips[f"{shop}/frontend"])]}},
        ],
        "ports": [{"port": 81}],
    }
    db = gen_network_policy_with_match_label("db", {"app": "db"}, ingress=[db_rule], egress=[])
    monitoring_rule = {"from": [{"namespaceSelector": {"matchLabels": {"purpose": "monitoring"}}}]}
    allow_monitoring = gen_network_policy("allow-monitoring", {}, ingress=[monitoring_rule])
    for policy in (deny, web, backend, db):
        await create_policy(kube, policy, shop)
    await create_policy(kube, allow_monitoring, shop, mini=True)

    documents, skipped, notes = await netpol_live.read_documents(kube)
    assert (skipped, notes) == ({}, [])
    bundle = tmp_path / "cluster.yaml"
    bundle.write_text(yaml.safe_dump_all(documents))

    ns = ["-n", shop, "-n", monitoring]
    commands = [
        ["netpol", "matrix", *ns, "--port", "80"],
        ["netpol", "matrix", *ns, "--port", "81", "-o", "wide"],
        ["netpol", "matrix", *ns, "--port", "80", "--protocol", "UDP", "-o", "json"],
        ["netpol", "matrix", *ns, "--port", "81", "--policies", "native"],
        ["netpol", "explain", "--from", f"{shop}/frontend", "--to", f"{shop}/backend", "--port", "80"],
        ["netpol", "explain", "-n", shop, "--from", "backend", "--to", "db", "--port", "81", "-o", "json"],
        ["netpol", "explain", "--from", "10.1.2.3", "--to", f"{shop}/db", "--port", "81"],
        ["netpol", "who-can", "--to", f"{shop}/db"],
        ["netpol", "who-can", "-n", shop, "--to", "backend", "--port", "80", "-o", "json"],
        ["netpol", "who-can", "--to", f"{shop}/frontend", "--port", "80", "--policies", "mini"],
    ]
    for command in commands:
        live = await mini(*command)
        offline = await mini(*command, "-f", str(bundle))
        assert live == offline, f"kubectl mini {' '.join(command)}: live and bundle differ"
        assert live[0] == 0 and live[1], live

    # and the answers are the ones the policies mean
    _, out, _ = await mini("netpol", "matrix", *ns, "--port", "80", "-o", "json")
    matrix = json.loads(out)["matrix"]
    assert matrix[f"{shop}/frontend"][f"{shop}/backend"] is True  # named port serve-80-tcp (NP-11)
    assert matrix[f"{shop}/db"][f"{shop}/backend"] is False  # db's egress: [] (NP-06)
    assert matrix[f"{monitoring}/prometheus"][f"{shop}/db"] is True  # the MiniNetworkPolicy (NP-08, NP-09)
    _, out, _ = await mini("netpol", "who-can", "--to", f"{shop}/db", "--port", "81")
    sources = [line.split("   ")[0] for line in out.splitlines()[2:]]
    assert f"{shop}/backend" in sources and f"{shop}/frontend" not in sources  # ipBlock except (NP-08)
    assert f"ipBlock 10.0.0.0/8 except {host_cidr(ips[f'{shop}/frontend'])}" in sources


# ---------------------------------------------------------------------------------------------- (2) upstream e2e
# The cases and their Model live in tests/integration/netpol_cases.py (shared with the packet test).


@pytest.mark.parametrize("case", E2E_CASES, ids=lambda case: case.__name__)
async def test_upstream_e2e_netpol_through_the_live_cli(
    case: Callable[[Model], Awaitable[None]],
    kube: KubeClient,
    namespaces: Callable[..., Awaitable[list[str]]],
    mini: Cli,
) -> None:
    """test/e2e/network/netpol network_policy.go, one f.It each, on x/y/z x a/b/c pods of the cluster."""
    x, y, z = await namespaces("x", "y", "z", labels={base: {"ns": base} for base in "xyz"})
    token = secrets.token_hex(3)
    ips = await run_pods(kube, (model_pod(ns, pod, token) for ns in (x, y, z) for pod in "abc"))
    await case(Model(kube, mini, {"x": x, "y": y, "z": z}, ips))


# ---------------------------------------------------------------------------------------------- (3) --policies


async def test_policies_flag_counts_only_native_or_only_mini_policies(
    kube: KubeClient, namespaces: Callable[..., Awaitable[list[str]]], mini: Cli
) -> None:
    """A native deny-all and a MiniNetworkPolicy letting b in: all = union (NP-05), native = deny, mini = b only."""
    (ns,) = await namespaces("policies")
    token = secrets.token_hex(3)
    await run_pods(kube, (model_pod(ns, pod, token) for pod in "abc"))
    await create_policy(kube, gen_network_policy("deny-ingress", {"matchLabels": {"pod": "a"}}, ingress=[]), ns)
    allow_b = gen_network_policy_with_match_label(
        "allow-b", {"pod": "a"}, ingress=[{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}]
    )
    await create_policy(kube, allow_b, ns, mini=True)

    async def sources_of_a(*flags: str) -> list[str]:
        code, out, err = await mini("netpol", "matrix", "-n", ns, "--port", "80", "-o", "json", *flags)
        assert (code, err) == (0, "")
        matrix = json.loads(out)["matrix"]
        return [source.split("/")[1] for source in sorted(matrix) if matrix[source][f"{ns}/a"]]

    assert await sources_of_a() == ["b"]
    assert await sources_of_a("--policies", "all") == ["b"]
    assert await sources_of_a("--policies", "native") == []
    assert await sources_of_a("--policies", "mini") == ["b"]
    code, out, _ = await mini(
        "netpol", "explain", "-n", ns, "--from", "b", "--to", "a", "--port", "80", "--policies", "native"
    )
    assert code == 0 and out.splitlines()[0] == f"{ns}/b -> {ns}/a TCP/80: DENIED"
    assert f"isolated by {ns}/deny-ingress," in out
    code, out, _ = await mini("netpol", "who-can", "-n", ns, "--to", "a", "--port", "80", "--policies", "mini")
    assert [row.split()[:2] for row in out.splitlines()[2:3]] == [[f"{ns}/b", f"{ns}/allow-b"]]


# ---------------------------------------------------------------------------------------------- (4) errors


def service_account_kubeconfig(cluster: Cluster, namespace: str, path: Path) -> Path:
    """The admin kubeconfig with the user swapped for a token of the namespace's default ServiceAccount."""
    token = cluster.kubectl("create", "token", "default", "-n", namespace).stdout.strip()
    config = yaml.safe_load(Path(cluster.layout.kubeconfig).read_text())
    config["users"] = [{"name": "sa", "user": {"token": token}}]
    config["contexts"][0]["context"]["user"] = "sa"
    path.write_text(yaml.safe_dump(config))
    return path


async def may_list(kube: KubeClient, user: str, group: str, resource: str) -> bool:
    """A SubjectAccessReview: may `user` list `resource` cluster-wide? (RBAC's cache follows a new binding.)"""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {"user": user, "resourceAttributes": {"group": group, "resource": resource, "verb": "list"}},
    }
    answer = await kube.create("/apis/authorization.k8s.io/v1/subjectaccessreviews", review)
    return bool(answer["status"].get("allowed"))


async def test_rbac_denial_and_a_missing_context_are_one_line_each(
    kube: KubeClient, namespace: str, cluster: Cluster, mini: Cli, tmp_path: Path
) -> None:
    """A ServiceAccount without rights gets RBAC's refusal named (verb, resources, user); then with list on all
    but MiniNetworkPolicies, only that one is named. An unknown --context is kubectl's line."""
    sa_config = service_account_kubeconfig(cluster, namespace, tmp_path / "sa.kubeconfig")
    user = f"system:serviceaccount:{namespace}:default"
    needs = f"kubectl mini netpol needs get/list on {netpol_live.NEEDED}"

    code, out, err = await mini("netpol", "matrix", "--port", "80", kubeconfig=str(sa_config))
    assert (code, out) == (1, "")
    assert err == (
        "error: cannot list pods, namespaces, nodes, networkpolicies.networking.k8s.io, mininetworkpolicies.minik8s.dev "
        f'at the cluster scope: forbidden for user "{user}" — {needs}\n'
    )

    role = f"netpol-reader-{namespace}"
    rules = [
        {"apiGroups": [""], "resources": ["pods", "namespaces", "nodes"], "verbs": ["get", "list"]},
        {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["get", "list"]},
    ]
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    await kube.create(f"{rbac}/clusterroles", {"metadata": {"name": role}, "rules": rules})
    binding = {
        "metadata": {"name": role},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}],
    }
    await kube.create(f"{rbac}/clusterrolebindings", binding)
    try:
        await eventually(lambda: may_list(kube, user, "networking.k8s.io", "networkpolicies"), what="the binding")
        code, _, err = await mini("netpol", "who-can", "--to", "a", "--port", "80", kubeconfig=str(sa_config))
        assert (code, err) == (
            1,
            f'error: cannot list mininetworkpolicies.minik8s.dev at the cluster scope: forbidden for user "{user}" — {needs}\n',
        )
        code, _, err = await mini("netpol", "matrix", "--port", "80", "--policies", "native", kubeconfig=str(sa_config))
        assert (code, err) == (0, "No resources found in default namespace.\n")  # mini policies not asked for
    finally:
        await kube.delete(f"{rbac}/clusterrolebindings/{role}")
        await kube.delete(f"{rbac}/clusterroles/{role}")

    code, out, err = await mini("netpol", "explain", "--context", "foo", "--from", "a", "--to", "b", "--port", "80")
    assert (code, out, err) == (1, "", 'error: context "foo" does not exist\n')
