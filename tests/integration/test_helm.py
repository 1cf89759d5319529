"""The Helm chart installed for real on the local cluster, and the operator run as the chart's ServiceAccount.

kwok runs no container: the operator Deployment's pods are admitted (Pod Security included), scheduled and made
Running and Ready as objects only. What the chart installs is exercised the way a user meets it:

- `helm lint --strict`, and values the schema refuses (on lint, template, install and upgrade);
- install into a namespace enforcing the `restricted` Pod Security Standard, upgrade with changed values,
  `helm template` through server-side dry-run, uninstall (the CRDs and the users' objects stay);
- the operator authenticated with a token of the chart's ServiceAccount: the integration suites of every
  controller pass with it, and no request is refused by RBAC (conftest.py records every refusal: a 403 in the
  authorizer's wording, and fails that session); the chart's own flags start the operator as that account
  (leader election on its Lease in the release namespace); `kubectl auth can-i` shows what it must not do;
- a user's Helm journey from a chart repository served on localhost.

Every test installs its own release (a random name: ClusterRoles are cluster-wide) into namespaces of its own,
and removes both. Helm's cache, config and data live under the test's tmp_path.
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from operators.devcluster.cluster import Cluster
from operators.runtime.client import ApiError, KubeClient
from tests.integration.conftest import InProcessOperator
from tests.integration.kubehelpers import eventually
from tests.integration.operatorproc import OperatorProcess

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "mini-operators"
# Every controller's suite, run as the chart's ServiceAccount.
CONTROLLER_SUITES = [
    "tests/integration/test_replicaset.py",
    "tests/integration/test_deployment.py",
    "tests/integration/test_service.py",
    "tests/integration/test_networkpolicy.py",
    "tests/integration/test_differential_deployment.py",
    "tests/integration/test_differential_service.py",
    "tests/integration/test_rollout_cli.py",
]
RBAC_REFUSAL = re.compile(r'is forbidden: User "system:serviceaccount:[^"]+" cannot ')
ANY_IMAGE = ["--set", "image.repository=registry.invalid/mini-operators", "--set", "image.tag=test"]


@dataclass
class Helm:
    """The pinned helm, with its own cache/config/data homes, against the local cluster's admin kubeconfig."""

    cluster: Cluster
    home: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KUBECONFIG": str(self.cluster.layout.kubeconfig),
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_DATA_HOME": str(self.home / "data"),
        }

    def __call__(self, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.cluster.bin / "helm"), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return result


@pytest.fixture
def helm(cluster: Cluster, tmp_path: Path) -> Helm:
    return Helm(cluster, tmp_path / "helm")


@pytest.fixture
async def make_namespace(kube: KubeClient) -> AsyncIterator[Callable[..., Any]]:
    """Create namespaces (with labels) for a test; all are deleted at its end."""
    made: list[str] = []

    async def make(prefix: str, labels: dict[str, str] | None = None) -> str:
        name = f"{prefix}-{secrets.token_hex(3)}"
        metadata = {"name": name, "labels": labels or {}}
        await kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
        made.append(name)
        return name

    yield make
    for name in made:
        try:
            await kube.delete(f"/api/v1/namespaces/{name}")
        except ApiError as error:
            if not error.not_found:
                raise


@pytest.fixture
def release(helm: Helm) -> Iterator[Callable[[str], str]]:
    """Release names for a test (random: the ClusterRoles they own are cluster-wide); uninstalled at its end."""
    made: list[tuple[str, str]] = []

    def name(namespace: str) -> str:
        made.append((f"mo-{secrets.token_hex(3)}", namespace))
        return made[-1][0]

    yield name
    for release_name, namespace in made:
        helm("uninstall", release_name, "-n", namespace, "--wait", "--ignore-not-found", check=False)


def restricted() -> dict[str, str]:
    return {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
    }


async def exists(kube: KubeClient, path: str) -> bool:
    try:
        await kube.get(path)
    except ApiError as error:
        if error.not_found:
            return False
        raise
    return True


def service_account_kubeconfig(cluster: Cluster, namespace: str, account: str, path: Path) -> Path:
    """A kubeconfig with a token of `account` (`kubectl create token`), same server and CA as the admin one."""
    token = cluster.kubectl("create", "token", account, "-n", namespace, "--duration", "2h").stdout.strip()
    config = yaml.safe_load(cluster.layout.kubeconfig.read_text())
    config["users"] = [{"name": account, "user": {"token": token}}]
    for context in config["contexts"]:
        context["context"]["user"] = account
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


# --- lint and schema --------------------------------------------------------------------------------------------------


async def test_helm_lint_strict_and_schema_refusals(
    helm: Helm, make_namespace: Callable[..., Any], release: Callable[[str], str]
) -> None:
    lint = helm("lint", "--strict", str(CHART))
    assert "1 chart(s) linted, 0 chart(s) failed" in lint.stdout
    bad = helm("lint", "--strict", str(CHART), "--set", "replicas=two", check=False)
    assert bad.returncode != 0 and "at '/replicas': got string, want integer" in bad.stdout + bad.stderr
    template = helm("template", "x", str(CHART), "--set", "unknownKey=1", check=False)
    assert template.returncode != 0 and "additional properties 'unknownKey' not allowed" in template.stderr

    namespace = await make_namespace("helm-schema")
    name = release(namespace)
    install = helm("install", name, str(CHART), "-n", namespace, "--set", "replicas=two", check=False)
    assert install.returncode != 0 and "at '/replicas': got string, want integer" in install.stderr
    helm("install", name, str(CHART), "-n", namespace, *ANY_IMAGE)
    upgrade = helm("upgrade", name, str(CHART), "-n", namespace, "--set", "unknownKey=1", check=False)
    assert upgrade.returncode != 0 and "additional properties 'unknownKey' not allowed" in upgrade.stderr
    history = json.loads(helm("history", name, "-n", namespace, "-o", "json").stdout)
    assert [entry["revision"] for entry in history] == [1], "a refused upgrade leaves no revision behind"


# --- install, upgrade, template, uninstall ----------------------------------------------------------------------------


async def test_install_upgrade_template_uninstall_in_a_restricted_namespace(
    cluster: Cluster,
    kube: KubeClient,
    crds: None,
    helm: Helm,
    make_namespace: Callable[..., Any],
    release: Callable[[str], str],
) -> None:
    namespace = await make_namespace("helm-restricted", restricted())
    users = await make_namespace("helm-users")
    name = release(namespace)
    fullname = f"{name}-mini-operators"

    install = helm("install", name, str(CHART), "-n", namespace, *ANY_IMAGE, "--wait", "--timeout", "120s")
    assert "violates PodSecurity" not in install.stderr and "would violate" not in install.stderr, install.stderr
    assert "kubectl get mrs,md,msvc,mnp -A" in install.stdout, "NOTES.txt tells what to run next"
    cluster.kubectl("wait", "--for=condition=Available", f"deployment/{fullname}", "-n", namespace, "--timeout=60s")
    pods = (await kube.get(f"/api/v1/namespaces/{namespace}/pods"))["items"]
    assert len(pods) == 1 and pods[0]["status"]["phase"] == "Running"
    assert pods[0]["spec"]["serviceAccountName"] == fullname

    # Upgrade: two replicas run with leader election, a PodDisruptionBudget keeps one.
    helm(
        "upgrade",
        name,
        str(CHART),
        "-n",
        namespace,
        "--reuse-values",
        "--set",
        "replicas=2,podDisruptionBudget.enabled=true",
        "--wait",
        "--timeout",
        "120s",
    )
    deployment = await kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{fullname}")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["status"].get("readyReplicas") == 2
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--leader-elect=true" in args and f"--leader-elect-resource-namespace={namespace}" in args
    pdb = await kube.get(f"/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{fullname}")
    assert pdb["spec"]["minAvailable"] == 1
    refused = helm(
        "upgrade",
        name,
        str(CHART),
        "-n",
        namespace,
        "--reuse-values",
        "--set",
        "leaderElection.enabled=false",
        check=False,
    )
    assert refused.returncode != 0 and "needs leaderElection.enabled=true" in refused.stderr

    # Every object of every optional part, checked by the API server (admission included) without being created.
    for values in (
        ["--set", "replicas=2,podDisruptionBudget.enabled=true,mirrorNative=true,agent.enabled=true"],
        ["--set", f"watchNamespaces={{{users}}}"],
    ):
        rendered = helm("template", f"dry-{secrets.token_hex(2)}", str(CHART), "-n", namespace, *values).stdout
        dry_run = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=rendered)
        assert "created (server dry run)" in dry_run.stdout

    # A user's object created meanwhile outlives the release, and so do the CRDs.
    mrs = {
        "apiVersion": "minik8s.dev/v1",
        "kind": "MiniReplicaSet",
        "metadata": {"name": "keep"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "keep"}},
            "template": {
                "metadata": {"labels": {"app": "keep"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    await kube.create(f"/apis/minik8s.dev/v1/namespaces/{users}/minireplicasets", mrs)
    helm("uninstall", name, "-n", namespace, "--wait")
    for path in (
        f"/apis/apps/v1/namespaces/{namespace}/deployments/{fullname}",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{fullname}",
        f"/api/v1/namespaces/{namespace}/services/{fullname}-metrics",
        f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{fullname}",
        f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{fullname}",
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles/{fullname}-leader-election",
        f"/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{fullname}",
    ):
        assert not await exists(kube, path), f"{path} outlived the release"
    for crd in ("minireplicasets", "minideployments", "miniservices", "mininetworkpolicies"):
        assert await exists(kube, f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}.minik8s.dev")
    assert await exists(kube, f"/apis/minik8s.dev/v1/namespaces/{users}/minireplicasets/keep")


# --- the operator as the chart's ServiceAccount -----------------------------------------------------------------------


def run_suites(cluster: Cluster, kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run integration tests in a child pytest whose operator uses `kubeconfig`, on this same cluster."""
    env = {
        **os.environ,
        "MINI_TEST_OPERATOR_KUBECONFIG": str(kubeconfig),
        "MINI_CLUSTER_DIR": str(cluster.layout.state_dir),
        "KUBECONFIG": str(cluster.layout.kubeconfig),
    }
    command = [sys.executable, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider"]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=1500)


@pytest.mark.timeout(1800)
async def test_every_controller_suite_passes_as_the_chart_service_account(
    cluster: Cluster,
    no_operator: InProcessOperator,
    kube: KubeClient,
    helm: Helm,
    make_namespace: Callable[..., Any],
    release: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """The chart's cluster-wide RBAC is enough: every controller's suite, with the operator using only a token of
    the chart's ServiceAccount, passes, and the operator's client never gets an RBAC refusal (the child session
    fails if it does). mirrorNative is on, as test_networkpolicy.py's mirroring tests need it."""
    namespace = await make_namespace("helm-rbac")
    name = release(namespace)
    helm("install", name, str(CHART), "-n", namespace, *ANY_IMAGE, "--set", "mirrorNative=true")
    kubeconfig = service_account_kubeconfig(cluster, namespace, f"{name}-mini-operators", tmp_path / "sa.kubeconfig")
    result = run_suites(cluster, kubeconfig, *CONTROLLER_SUITES)
    output = result.stdout + result.stderr
    tail = "\n".join(output.splitlines()[-40:])
    assert result.returncode == 0, f"the suites failed as the chart's ServiceAccount:\n{tail}"
    assert re.search(r"\d+ passed", output), tail
    assert "RBAC refusals" not in output and not RBAC_REFUSAL.search(output), tail


@pytest.mark.timeout(600)
async def test_a_missing_permission_is_caught(
    cluster: Cluster,
    no_operator: InProcessOperator,
    kube: KubeClient,
    helm: Helm,
    make_namespace: Callable[..., Any],
    release: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """The control experiment: the chart's ClusterRole less the Events rule, bound to another ServiceAccount, makes
    a passing MiniReplicaSet test's session fail with the refused request named. So the child sessions above do
    run their operator with the given kubeconfig, and a refusal does not go unnoticed."""
    namespace = await make_namespace("helm-control")
    name = release(namespace)
    rendered = helm("template", name, str(CHART), "-n", namespace, "--show-only", "templates/rbac.yaml").stdout
    role = next(doc for doc in yaml.safe_load_all(rendered) if doc and doc["kind"] == "ClusterRole")
    without_events = [rule for rule in role["rules"] if "events" not in rule["resources"]]
    assert len(without_events) == len(role["rules"]) - 1
    control = f"{name}-no-events"
    objects = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": control, "namespace": namespace}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": control},
            "rules": without_events,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": control},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": control},
            "subjects": [{"kind": "ServiceAccount", "name": control, "namespace": namespace}],
        },
    ]
    manifest = "\n---\n".join(yaml.safe_dump(o) for o in objects)
    cluster.kubectl("apply", "-f", "-", stdin=manifest)
    try:
        kubeconfig = service_account_kubeconfig(cluster, namespace, control, tmp_path / "control.kubeconfig")
        result = run_suites(
            cluster, kubeconfig, "tests/integration/test_replicaset.py", "-k", "test_spec_replicas_change"
        )
    finally:
        cluster.kubectl("delete", "clusterrole,clusterrolebinding", control, "--ignore-not-found")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "1 passed" in output, "the test itself passes: only the refusals fail the session"
    assert "RBAC refusals" in output and 'cannot create resource "events"' in output, output[-3000:]


async def test_chart_flags_start_the_operator_as_its_service_account(
    cluster: Cluster,
    no_operator: InProcessOperator,
    kube: KubeClient,
    crds: None,
    helm: Helm,
    make_namespace: Callable[..., Any],
    release: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """`mini-operators run` with exactly the Deployment's args (ports made free) and the ServiceAccount's token:
    it starts, syncs its caches, takes its Lease in the release namespace (the leader-election Role), answers
    on its liveness endpoint, and gives the Lease back on SIGTERM."""
    namespace = await make_namespace("helm-flags")
    name = release(namespace)
    helm("install", name, str(CHART), "-n", namespace, *ANY_IMAGE, "--set", "mirrorNative=true")
    deployment = await kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}-mini-operators")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    port = _free_port()
    args = [_on_free_ports(arg, port) for arg in args]
    kubeconfig = service_account_kubeconfig(cluster, namespace, f"{name}-mini-operators", tmp_path / "sa.kubeconfig")
    process = _ChartArgsOperator(kubeconfig, tmp_path / "operator.log", *args).start()
    try:
        await process.synced()
        lease_path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/mini-operators"

        async def held() -> str:
            try:
                return str((await kube.get(lease_path))["spec"].get("holderIdentity") or "")
            except ApiError as error:
                if error.not_found:
                    return ""
                raise

        assert await eventually(held, what="the operator to hold its Lease")
        await process.wait_for_log(r"manager: \d+ controllers started")
        assert await asyncio.to_thread(_http_status, f"http://127.0.0.1:{port}/healthz") == 200
    finally:
        code = process.stop()
    assert code == 0, process.tail()
    assert not await held(), "the Lease was given back on SIGTERM"
    assert not RBAC_REFUSAL.search(process.text()), process.tail()
    assert not process.tracebacks()


class _ChartArgsOperator(OperatorProcess):
    """`python -m operators run` with the chart's args as they are (OperatorProcess adds its own port flags)."""

    def start(self) -> _ChartArgsOperator:
        command = [sys.executable, "-m", "operators", "run", "--kubeconfig", str(self.kubeconfig), *self.args]
        env = {k: v for k, v in os.environ.items() if k != "MINI_TEST_OPERATOR_KUBECONFIG"}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)
        return self


def _on_free_ports(arg: str, liveness_port: int) -> str:
    """The Deployment's port flags moved to ports free on this machine (a pod has its own network; we do not)."""
    if arg.startswith("--metrics-bind-address="):
        return "--metrics-bind-address=127.0.0.1:0"
    if arg.startswith("--liveness="):
        return f"--liveness=http://127.0.0.1:{liveness_port}/healthz"
    return arg


def _http_status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        return int(response.status)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_service_account_can_do_what_it_needs_and_nothing_it_must_not(
    cluster: Cluster, helm: Helm, make_namespace: Callable[..., Any], release: Callable[[str], str]
) -> None:
    namespace = await make_namespace("helm-authz")
    watched = await make_namespace("helm-watched")
    other = await make_namespace("helm-other")
    name = release(namespace)
    helm("install", name, str(CHART), "-n", namespace, *ANY_IMAGE)
    account = f"system:serviceaccount:{namespace}:{name}-mini-operators"

    def can(*args: str) -> bool:
        result = cluster.kubectl("auth", "can-i", f"--as={account}", *args, check=False)
        assert result.stdout.strip() in ("yes", "no"), result.stdout + result.stderr
        return result.stdout.strip() == "yes"

    allowed = [
        ("list", "pods", "-A"),
        ("create", "pods", "-n", other),
        ("patch", "minireplicasets.minik8s.dev", "--subresource=status", "-n", other),
        ("create", "minireplicasets.minik8s.dev", "-n", other),
        ("update", "endpointslices.discovery.k8s.io", "-n", other),
        ("create", "events", "-n", other),
        ("watch", "nodes"),
        ("update", "leases.coordination.k8s.io/mini-operators", "-n", namespace),
    ]
    denied = [
        ("get", "secrets", "-n", namespace),
        ("list", "secrets", "-A"),
        ("delete", "nodes"),
        ("create", "customresourcedefinitions.apiextensions.k8s.io"),
        ("update", "customresourcedefinitions.apiextensions.k8s.io"),
        ("create", "pods", "--subresource=exec", "-n", other),
        ("update", "pods", "-n", other),
        ("delete", "minideployments.minik8s.dev", "-n", other),
        ("create", "networkpolicies.networking.k8s.io", "-n", other),  # mirrorNative is off
        ("create", "events.events.k8s.io", "-n", other),
        ("update", "leases.coordination.k8s.io/kube-controller-manager", "-n", "kube-system"),
        ("update", "leases.coordination.k8s.io/someone-else", "-n", namespace),
        ("escalate", "clusterroles.rbac.authorization.k8s.io"),
        ("create", "serviceaccounts/token", "-n", namespace),
    ]
    assert [a for a in allowed if not can(*a)] == [], "needed and refused"
    assert [d for d in denied if can(*d)] == [], "granted and not needed"

    # watchNamespaces: the namespaced rules only where the operator watches.
    helm("upgrade", name, str(CHART), "-n", namespace, "--reuse-values", "--set", f"watchNamespaces={{{watched}}}")
    assert can("create", "pods", "-n", watched) and can("list", "mininetworkpolicies.minik8s.dev", "-n", watched)
    assert not can("create", "pods", "-n", other) and not can("list", "pods", "-A")
    assert can("list", "nodes") and can("watch", "namespaces")


# --- the user's journey through a chart repository --------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


async def test_helm_repository_journey(
    helm: Helm, kube: KubeClient, make_namespace: Callable[..., Any], release: Callable[[str], str], tmp_path: Path
) -> None:
    """helm package and repo index make a repository, served on localhost; then what a user new to Helm types:
    repo add, search, show values, install --version, list, upgrade --version, rollback, uninstall."""
    public = tmp_path / "public"
    helm("package", str(CHART), "-d", str(public))
    helm("package", str(CHART), "-d", str(public), "--version", "0.1.1")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(public)))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="chart-repo", daemon=True)
    thread.start()
    try:
        helm("repo", "index", str(public), "--url", url)
        helm("repo", "add", "mini", url)
        search = helm("search", "repo", "mini", "--versions", "-o", "json")
        assert {(c["name"], c["version"]) for c in json.loads(search.stdout)} == {
            ("mini/mini-operators", "0.1.0"),
            ("mini/mini-operators", "0.1.1"),
        }
        assert "watchNamespaces:" in helm("show", "values", "mini/mini-operators").stdout

        namespace = await make_namespace("helm-journey")
        name = release(namespace)
        helm("install", name, "mini/mini-operators", "--version", "0.1.0", "-n", namespace, *ANY_IMAGE, "--wait")

        def listed() -> tuple[str, int, str]:
            (entry,) = json.loads(helm("list", "-n", namespace, "-o", "json").stdout)
            return entry["chart"], int(entry["revision"]), entry["status"]

        assert listed() == ("mini-operators-0.1.0", 1, "deployed")
        helm("upgrade", name, "mini/mini-operators", "--version", "0.1.1", "-n", namespace, "--reuse-values", "--wait")
        assert listed() == ("mini-operators-0.1.1", 2, "deployed")
        deployment = await kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}-mini-operators")
        assert deployment["metadata"]["labels"]["helm.sh/chart"] == "mini-operators-0.1.1"
        helm("rollback", name, "1", "-n", namespace, "--wait")
        assert listed() == ("mini-operators-0.1.0", 3, "deployed")
        helm("uninstall", name, "-n", namespace, "--wait")
        assert json.loads(helm("list", "-n", namespace, "-o", "json").stdout) == []
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_kubeconfig_for_a_service_account_keeps_server_and_ca(cluster: Cluster, tmp_path: Path) -> None:
    """The kubeconfig the RBAC tests give the operator: the admin one's server and CA, only the user swapped."""
    admin = yaml.safe_load(cluster.layout.kubeconfig.read_text())
    path = service_account_kubeconfig(cluster, "kube-system", "default", tmp_path / "k")
    mine = yaml.safe_load(path.read_text())
    assert mine["clusters"] == admin["clusters"]
    (user,) = mine["users"]
    payload = user["user"]["token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == "system:serviceaccount:kube-system:default"
