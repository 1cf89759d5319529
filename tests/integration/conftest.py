"""Integration fixtures: the local cluster (once per session), a fresh namespace per test, the operator.

The session brings the local cluster up, or reuses a running one, and stops it at the end only if it started
it. Every test gets its own namespace, deleted afterwards. Tests that need the controllers ask for `operator`,
which runs the real operator in-process, in the test's event loop, against the real API server.

With MINI_TEST_OPERATOR_KUBECONFIG set, the operator (in-process, and `OperatorProcess` children) uses that
kubeconfig while the tests' own client keeps the admin one: tests/integration/test_helm.py runs the controllers'
suites as the Helm chart's ServiceAccount that way. Every RBAC refusal the in-process operator then gets (a 403
from the authorizer, not from admission) is recorded, and fails the session at its end.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import secrets
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from operators.app import serve
from operators.devcluster.build import build
from operators.devcluster.cluster import Cluster
from operators.runtime.client import ApiError, KubeClient
from operators.runtime.manager import Manager, Options
from tests.integration.kubehelpers import eventually

REPO = Path(__file__).resolve().parents[2]
OPERATOR_KUBECONFIG = "MINI_TEST_OPERATOR_KUBECONFIG"  # the operator's own credentials (see the module doc)
RBAC_REFUSAL = re.compile(r'is forbidden: User ".*" cannot ')


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    build()
    cluster = Cluster(echo=lambda line: print(line, flush=True))
    was_up = cluster.status() if cluster.layout.state_file.exists() else False
    cluster.up(builtin_controllers=True)
    os.environ["KUBECONFIG"] = str(cluster.layout.kubeconfig)
    yield cluster
    if not was_up and not os.environ.get("MINI_KEEP_CLUSTER"):
        cluster.down()


@pytest.fixture(scope="session")
async def kube(cluster: Cluster) -> AsyncIterator[KubeClient]:
    client = await KubeClient.from_kubeconfig(kubeconfig=str(cluster.layout.kubeconfig))
    yield client
    await client.close()


@pytest.fixture(scope="session")
def crds(cluster: Cluster) -> None:
    """The project's CRDs, applied server-side and Established."""
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")


@pytest.fixture
async def namespace(kube: KubeClient, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A fresh namespace named after the test, ready for pods (its default ServiceAccount exists)."""
    base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"{base}-{secrets.token_hex(3)}"
    await kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    async def default_service_account() -> bool:
        items = (await kube.get(f"/api/v1/namespaces/{name}/serviceaccounts"))["items"]
        return any(sa["metadata"]["name"] == "default" for sa in items)

    await eventually(default_service_account, what=f"the default ServiceAccount in {name}")
    yield name
    await kube.delete(f"/api/v1/namespaces/{name}")


class InProcessOperator:
    """The real operator, run in-process in a thread of its own (as kopf.testing.KopfRunner does).

    Kopf cancels every task of its loop that it did not start when it stops, and the tests' tasks are none
    of its business, hence the thread. One runs at a time: most tests share the default one for the whole
    session; fault tests stop it (`no_operator`) so that their own operator processes are the only ones
    acting, and the next test that needs it starts it again.
    """

    def __init__(self, kubeconfig: str, *, record_forbidden: bool = False) -> None:
        self.kubeconfig = kubeconfig
        self.record_forbidden = record_forbidden
        self.forbidden: list[str] = []  # "VERB path: message" of every RBAC refusal, when recorded
        self.manager: Manager | None = None
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    def default_options(self, **changes: object) -> Options:
        options = Options(kubeconfig=self.kubeconfig, leader_elect=False, metrics_bind_address="0")
        return dataclasses.replace(options, **changes)  # type: ignore[arg-type]

    def start(self, options: Options | None = None, *, on_start: Callable[[Manager], None] | None = None) -> Manager:
        self.stop()
        built: list[Manager] = []

        def keep(manager: Manager) -> None:
            built.append(manager)
            if self.record_forbidden:
                _record_forbidden(manager.client, self.forbidden)
            if on_start is not None:
                on_start(manager)  # before Kopf starts: fault seams hook into the client here

        stop, ready = threading.Event(), threading.Event()
        run = serve(options or self.default_options(), stop_flag=stop, ready_flag=ready, built=keep)
        thread = threading.Thread(target=lambda: asyncio.run(run), name="operator", daemon=True)
        thread.start()
        assert ready.wait(timeout=60), "the operator did not start within 60 s"
        self.manager, self._stop, self._thread = built[0], stop, thread
        return built[0]

    def ensure_default(self) -> Manager:
        return self.manager if self.manager is not None else self.start()

    def stop(self) -> None:
        if self._thread is None or self._stop is None:
            return
        self._stop.set()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the operator did not stop within 30 s"
        self.manager = self._stop = self._thread = None


def _record_forbidden(client: KubeClient, forbidden: list[str]) -> None:
    """Note every RBAC refusal the operator's client gets (all its verbs go through `request` or `watch`)."""
    request, watch = client.request, client.watch

    def note(method: str, path: str, error: ApiError) -> None:
        # The authorizer's wording; admission refusals (PodSecurity, quota, a terminating namespace) are 403s too.
        if error.status == 403 and RBAC_REFUSAL.search(error.message):
            forbidden.append(f"{method} {path}: {error.message}")

    async def checked_request(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return await request(method, path, **kwargs)
        except ApiError as error:
            note(method, path, error)
            raise

    async def checked_watch(path: str, **kwargs: Any) -> AsyncGenerator[dict[str, Any], None]:
        try:
            async for event in watch(path, **kwargs):
                yield event
        except ApiError as error:
            note("WATCH", path, error)
            raise

    client.request = checked_request  # type: ignore[method-assign]
    client.watch = checked_watch  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def operator_runner(cluster: Cluster, crds: None) -> Iterator[InProcessOperator]:
    own = os.environ.get(OPERATOR_KUBECONFIG)
    runner = InProcessOperator(own or str(cluster.layout.kubeconfig), record_forbidden=bool(own))
    yield runner
    runner.stop()
    if runner.forbidden:
        pytest.fail(
            f"the operator got {len(runner.forbidden)} RBAC refusals as {own}:\n" + "\n".join(runner.forbidden[:20]),
            pytrace=False,
        )


@pytest.fixture
def operator(operator_runner: InProcessOperator) -> Manager:
    """The operator, running in-process, as `python -m operators run --leader-elect=false` would."""
    return operator_runner.ensure_default()


@pytest.fixture
def no_operator(operator_runner: InProcessOperator) -> InProcessOperator:
    """No in-process operator is running (a fault test runs its own); the runner lets a test start one."""
    operator_runner.stop()
    return operator_runner
