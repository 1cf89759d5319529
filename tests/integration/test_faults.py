"""Fault tests on the real cluster: watch gaps, an API server outage, kill -9, two processes, hung requests.

These are the faults clusterloader2's chaos steps and upstream's controller tests inject. Each test runs its
own operator (a separate process it can freeze, kill or start twice; or, for the hung request, an in-process
one with a seam in its client) after stopping the shared in-process operator (`no_operator`), so that no
other controller acts on its namespace. Each test names the runtime v2 finding it proves fixed.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from operators.devcluster.cluster import Cluster
from operators.runtime.client import CONNECTION_ERRORS, KubeClient
from operators.runtime.manager import Manager
from tests.integration.conftest import InProcessOperator
from tests.integration.kubehelpers import PodCreations, eventually, is_active, is_ready, list_pods
from tests.integration.operatorproc import OperatorProcess
from tests.integration.servicehelpers import MINI_MANAGER, SliceWatch
from tests.integration.test_replicaset import controlled_pods, create_mrs, mrs_path, new_mrs

pytestmark = [pytest.mark.cluster]

LEASE_DURATION, RETRY_PERIOD, JITTER = 15.0, 2.0, 1.2  # kube-controller-manager's defaults


@pytest.fixture
async def run_operator(
    no_operator: InProcessOperator, cluster: Cluster, kube: KubeClient, namespace: str, tmp_path: Path
) -> AsyncIterator[Callable[..., OperatorProcess]]:
    """Start `python -m operators run ARGS` processes; every one is stopped (and its log kept) at the end.

    Afterwards the test's pods are force-deleted and the cluster is checked to work again (a pod runs, a
    namespace gets its ServiceAccount): hundreds of gracefully deleted pods, or an API server restart,
    leave kwok and KCM busy for minutes, and the next test must not pay for this one.
    """
    started: list[OperatorProcess] = []

    def start(*args: str, name: str = "operator") -> OperatorProcess:
        process = OperatorProcess(cluster.layout.kubeconfig, tmp_path / f"{name}.log", *args).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
    await api_ready(kube)
    await kube.request("DELETE", f"/api/v1/namespaces/{namespace}/pods", query={"gracePeriodSeconds": "0"})
    await cluster_recovered(kube, namespace)


async def api_ready(kube: KubeClient) -> None:
    """After an API server restart: wait until it answers (connection errors are expected meanwhile)."""

    async def probe() -> bool:
        try:
            await kube.get("/api/v1/namespaces/default")
        except CONNECTION_ERRORS:
            return False
        return True

    await eventually(probe, within=60, what="the API server to answer again")


async def converged(
    kube: KubeClient, namespace: str, rs: dict[str, Any], count: int, *, within: float, ready: bool = True
) -> None:
    """`count` active pods controlled by `rs` (Ready too, unless `ready=False`) and a status saying so.

    `ready=False` checks only the controller's own part. After an API server restart, kube-scheduler and
    kwok (the kubelets' stand-in) wait out their own reflectors' backoff before pods are bound and Ready:
    measured here, 10 new pods unbound for over 30 s, and kwok idle for about 40 s. Their delay is not the
    operator's, so the 30 s bounds apply to the controller's part and readiness gets its own, longer wait.
    """

    async def probe() -> bool:
        pods = await controlled_pods(kube, namespace, rs)
        if len(pods) != count or (ready and not all(is_ready(p) for p in pods)):
            return False
        live = await kube.get(mrs_path(namespace, rs["metadata"]["name"]))
        status = live.get("status") or {}
        return (
            status.get("observedGeneration") == live["metadata"]["generation"]
            and status.get("replicas", 0) == count
            and (not ready or status.get("readyReplicas", 0) == count)
        )

    try:
        await eventually(probe, within=within, interval=0.25, what=f"{count} ready pods of {rs['metadata']['name']}")
    except AssertionError as error:  # say where it stands: the controller's part, the scheduler's, kwok's
        pods = await controlled_pods(kube, namespace, rs)
        unscheduled = sum(1 for p in pods if not p["spec"].get("nodeName"))
        unready = sum(1 for p in pods if not is_ready(p))
        live = await kube.get(mrs_path(namespace, rs["metadata"]["name"]))
        raise AssertionError(
            f"{error}: {len(pods)} active pods, {unscheduled} unscheduled, {unready} not ready; status {live.get('status')}"
        ) from None


async def active_count(kube: KubeClient, namespace: str) -> int:
    return sum(1 for pod in await list_pods(kube, namespace) if is_active(pod))


class ActivePods:
    """The lowest number of active pods seen in a namespace, on every event of a watch (relisting after 410).

    Checks "never fewer active pods than the target" during a scale-down: each event updates the count.
    Across an API server restart the watch cannot resume (the server's history starts anew): the helper
    lists again and counts from the listed state, and says how often it had to (`relists`).
    """

    def __init__(self, kube: KubeClient, namespace: str) -> None:
        self.kube, self.namespace = kube, namespace
        self.active: dict[str, bool] = {}
        self.minimum: int | None = None
        self.relists = 0
        self._task: asyncio.Task[None] | None = None

    def _see(self, pod: dict[str, Any], gone: bool = False) -> None:
        uid = pod["metadata"]["uid"]
        if gone:
            self.active.pop(uid, None)
        else:
            self.active[uid] = is_active(pod)
        count = sum(self.active.values())
        self.minimum = count if self.minimum is None else min(self.minimum, count)

    async def _follow(self) -> None:
        path = f"/api/v1/namespaces/{self.namespace}/pods"
        while True:
            try:
                listed = await self.kube.get(path)
            except CONNECTION_ERRORS:
                await asyncio.sleep(0.2)
                continue
            self.relists += 1
            self.active = {p["metadata"]["uid"]: is_active(p) for p in listed["items"]}
            if listed["items"]:
                self._see(listed["items"][0])
            version = listed["metadata"]["resourceVersion"]
            try:
                while True:
                    query = {"resourceVersion": version, "allowWatchBookmarks": "true"}
                    async for event in self.kube.watch(path, query=query):
                        if event["type"] == "ERROR":
                            raise LookupError(event["object"])
                        version = event["object"]["metadata"]["resourceVersion"]
                        if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                            self._see(event["object"], gone=event["type"] == "DELETED")
            except (LookupError, *CONNECTION_ERRORS):
                continue

    async def __aenter__(self) -> ActivePods:
        self._task = asyncio.create_task(self._follow())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        if self._task.done():
            self._task.result()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


# --- finding 1: ghost objects after a watch gap ------------------------------------------------------------------


async def test_relist_after_a_watch_gap_forgets_deleted_pods(
    run_operator: Callable[..., OperatorProcess], cluster: Cluster, kube: KubeClient, namespace: str
) -> None:
    """Freeze the operator, delete pods, compact etcd and restart the API server, resume: back to N, no extra.

    Resuming its watch is impossible (410 Gone), so the reflector lists again and replaces its cache: the
    deleted pods leave it, and exactly the missing ones are re-created.
    """
    operator = run_operator("-n", namespace, "--leader-elect=false")
    await operator.synced()
    rs = await create_mrs(kube, namespace, new_mrs("gap", 30))
    await converged(kube, namespace, rs, 30, within=60)

    operator.signal(signal.SIGSTOP)
    victims = (await controlled_pods(kube, namespace, rs))[:10]
    for pod in victims:
        await kube.delete(f"/api/v1/namespaces/{namespace}/pods/{pod['metadata']['name']}")

    async def victims_gone() -> bool:
        names = {p["metadata"]["name"] for p in await list_pods(kube, namespace)}
        return not names & {p["metadata"]["name"] for p in victims}

    await eventually(victims_gone, what="the deleted pods to be gone")
    cluster.compact_etcd()
    cluster.restart_component("kube-apiserver")
    await api_ready(kube)

    async with PodCreations(kube, namespace) as created:  # 20 survivors listed; every creation from here on
        operator.signal(signal.SIGCONT)
        await converged(kube, namespace, rs, 30, within=30, ready=False)
        await converged(kube, namespace, rs, 30, within=120)  # Ready: once kube-scheduler and kwok recover
    assert len(created.uids) == 30, f"expected exactly 10 replacements, {len(created.uids) - 20} pods were created"
    assert operator.tracebacks() == []


# --- findings 3 and 4: the API server away; failed deletes; tracebacks -----------------------------------------


async def outage(cluster: Cluster, kube: KubeClient, seconds: float = 20) -> None:
    """Stop kube-apiserver for `seconds` (the fault's own length: a scripted outage, not a wait)."""
    cluster.stop_component("kube-apiserver")
    await asyncio.sleep(seconds)
    cluster.start_component("kube-apiserver")
    await api_ready(kube)


async def cluster_recovered(kube: KubeClient, namespace: str) -> None:
    """Leave the cluster as we found it: KCM and kube-scheduler working again after their backoff.

    A pod of our namespace scheduled and Ready proves the scheduler and kwok; a fresh namespace with its
    default ServiceAccount proves kube-controller-manager (the next test's fixture needs that).
    """
    probe_pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "recovery-probe"},
        "spec": {"containers": [{"name": "c", "image": "fake"}]},
    }
    await kube.create(f"/api/v1/namespaces/{namespace}/pods", probe_pod)  # the namespace has no pods left

    async def scheduled() -> bool:
        return is_ready(await kube.get(f"/api/v1/namespaces/{namespace}/pods/recovery-probe"))

    await eventually(scheduled, within=120, what="kube-scheduler and kwok to run a pod again")
    name = f"{namespace[:50]}-probe"
    await kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:

        async def service_account() -> bool:
            items = (await kube.get(f"/api/v1/namespaces/{name}/serviceaccounts"))["items"]
            return any(sa["metadata"]["name"] == "default" for sa in items)

        await eventually(service_account, within=120, what="kube-controller-manager to work again")
    finally:
        await kube.delete(f"/api/v1/namespaces/{name}")


async def test_api_server_down_during_scale_up(
    run_operator: Callable[..., OperatorProcess], cluster: Cluster, kube: KubeClient, namespace: str
) -> None:
    operator = run_operator("-n", namespace, "--leader-elect=false")
    await operator.synced()
    rs = await create_mrs(kube, namespace, new_mrs("up", 300))

    async def started() -> bool:
        return await active_count(kube, namespace) >= 60

    await eventually(started, what="the scale-up to be under way")
    await outage(cluster, kube)
    await converged(kube, namespace, rs, 300, within=30, ready=False)
    assert len(await list_pods(kube, namespace)) == 300
    assert operator.tracebacks() == [], "a lost connection must be one log line, not a stack trace"


async def test_api_server_down_during_scale_down(
    run_operator: Callable[..., OperatorProcess], cluster: Cluster, kube: KubeClient, namespace: str
) -> None:
    """300 → 20 with the API server away for 20 s mid-way: converged within 30 s, never below 20 active."""
    operator = run_operator("-n", namespace, "--leader-elect=false")
    await operator.synced()
    rs = await create_mrs(kube, namespace, new_mrs("down", 300))
    await converged(kube, namespace, rs, 300, within=120)

    async with ActivePods(kube, namespace) as watched:
        await kube.patch(mrs_path(namespace, "down"), {"spec": {"replicas": 20}})

        async def under_way() -> bool:
            return watched.minimum is not None and watched.minimum <= 250

        await eventually(under_way, what="the scale-down to be under way")
        await outage(cluster, kube)
        await converged(kube, namespace, rs, 20, within=30, ready=False)
    assert watched.minimum is not None and watched.minimum >= 20, f"only {watched.minimum} active pods at one point"
    assert operator.tracebacks() == [], "a lost connection must be one log line, not a stack trace"


# --- kill -9 in the middle of a scale-up (kept from runtime v1: state is rebuilt from the cluster) ---------------


async def test_kill_9_during_scale_up_then_restart(
    run_operator: Callable[..., OperatorProcess], kube: KubeClient, namespace: str
) -> None:
    first = run_operator("-n", namespace, "--leader-elect=false", name="first")
    await first.synced()
    async with PodCreations(kube, namespace) as created:
        rs = await create_mrs(kube, namespace, new_mrs("killed", 300))

        async def midway() -> bool:
            return len(created.uids) >= 100

        await eventually(midway, what="100 pods created")
        first.kill()
        at_kill = len(created.uids)
        second = run_operator("-n", namespace, "--leader-elect=false", name="second")
        await converged(kube, namespace, rs, 300, within=120, ready=False)
    print(f"\npod UIDs ever created: {len(created.uids)} (goal 300; {at_kill} when killed)")
    assert len(await list_pods(kube, namespace)) == 300
    assert len(created.uids) == 300
    assert second.tracebacks() == []


# --- finding 2: two processes, leader election ---------------------------------------------------------------------


async def lease_holder(kube: KubeClient, namespace: str) -> str:
    try:
        lease = await kube.get(f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/mini-operators")
    except Exception:
        return ""
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


async def test_two_processes_with_leader_election_create_each_pod_once(
    run_operator: Callable[..., OperatorProcess], kube: KubeClient, namespace: str
) -> None:
    """Two processes, one lease: exactly 200 creations; kill -9 the leader and the standby finishes the job."""
    args = ("-n", namespace, "--leader-elect-resource-namespace", namespace)
    processes = [run_operator(*args, name="a"), run_operator(*args, name="b")]
    identities = [(await p.wait_for_log(r"leader election as (\S+)")).group(1) for p in processes]
    for process in processes:
        await process.synced()

    async def elected() -> str:
        holder = await lease_holder(kube, namespace)
        return holder if holder in identities else ""

    leader_identity = await eventually(elected, within=60, what="a leader")
    leader = processes[identities.index(leader_identity)]
    standby = processes[1 - identities.index(leader_identity)]

    async with PodCreations(kube, namespace) as created:
        rs = await create_mrs(kube, namespace, new_mrs("elected", 200))

        async def midway() -> bool:
            return len(created.uids) >= 50

        await eventually(midway, what="50 pods created by the leader")
        leader.kill()
        killed = time.monotonic()

        async def taken_over() -> bool:
            return await lease_holder(kube, namespace) == identities[processes.index(standby)]

        await eventually(taken_over, within=60, interval=0.1, what="the standby to take the lease")
        takeover = time.monotonic() - killed
        await converged(kube, namespace, rs, 200, within=60, ready=False)
    print(f"\ntakeover {takeover:.1f} s after kill -9; pod UIDs ever created: {len(created.uids)}")
    assert len(created.uids) == 200
    # client-go's bound, not a speed target: the standby reads the lease every retry period jittered by up to
    # 1.2x (2-4.4 s), so it may see the leader's last renewal one such period late; the lease expires a lease
    # duration after it saw it; the next read, one more period later, takes it. The last renewal is at most
    # the kill itself. Five seconds of slack for the requests themselves on a busy machine.
    worst = LEASE_DURATION + 2 * RETRY_PERIOD * (1 + JITTER)
    assert takeover <= worst + 5.0, f"takeover {takeover:.1f} s; client-go's worst case is {worst:.1f} s"
    assert "leader election lost" not in standby.text()


async def test_a_clean_shutdown_releases_the_lease(
    run_operator: Callable[..., OperatorProcess], kube: KubeClient, namespace: str
) -> None:
    """ReleaseOnCancel: SIGTERM gives the lease back, so a successor need not wait for it to expire."""
    operator = run_operator("-n", namespace, "--leader-elect-resource-namespace", namespace)
    identity = (await operator.wait_for_log(r"leader election as (\S+)")).group(1)

    async def leading() -> bool:
        return await lease_holder(kube, namespace) == identity

    await eventually(leading, within=60, what="the operator to lead")
    assert operator.stop() == 0
    assert await lease_holder(kube, namespace) == ""


# --- finding 3: a request that never answers -----------------------------------------------------------------------


class HangFirst:
    """A seam in the client: the first request that `matches(path, method, body)` is accepted and never
    answered; the ones after it go through."""

    def __init__(self, matches: Callable[[str, str, Any], bool]) -> None:
        self.matches = matches
        self.hanging = threading.Event()
        self.attempts = 0

    def install(self, manager: Manager) -> None:
        api = manager.client.api
        original = api.call_api

        async def call_api(path: str, method: str, *args: Any, body: Any = None, **kwargs: Any) -> Any:
            if self.matches(path, method, body):
                self.attempts += 1
                if self.attempts == 1:
                    self.hanging.set()
                    await asyncio.Event().wait()  # never answered
            return await original(path, method, *args, body=body, **kwargs)

        api.call_api = call_api


async def test_a_hung_request_times_out_and_its_key_is_retried(
    no_operator: InProcessOperator, kube: KubeClient, namespace: str
) -> None:
    """One worker, one hung create: the request timeout frees the worker, other keys sync, the key is retried.

    Without a timeout the only worker would wait forever, and neither MiniReplicaSet would ever converge.
    """
    pods = f"/api/v1/namespaces/{namespace}/pods"
    seam = HangFirst(
        lambda path, method, body: (method, path) == ("POST", pods) and body["metadata"]["generateName"] == "hung-"
    )
    no_operator.start(no_operator.default_options(workers=1, request_timeout=3.0), on_start=seam.install)
    try:
        hung = await create_mrs(kube, namespace, new_mrs("hung", 1))
        await eventually(lambda: _true(seam.hanging.is_set()), what="the hung request")
        other = await create_mrs(kube, namespace, new_mrs("other", 3))
        await converged(kube, namespace, other, 3, within=60)
        await converged(kube, namespace, hung, 1, within=60)
    finally:
        no_operator.stop()
    assert seam.attempts == 2, "the hung create was retried once, after its timeout"


async def _true(value: bool) -> bool:
    return value


# --- a status write that hangs must not hold the endpoints -------------------------------------------------------


async def test_a_hung_status_write_does_not_hold_the_endpoints(
    no_operator: InProcessOperator, kube: KubeClient, namespace: str
) -> None:
    """The MiniService's status is written by a lane of its own: while its status PATCH hangs, pods still
    become endpoints of its slices. With the status written at the end of syncService, the key would stay
    busy until the request timeout (60 s here), and no pod change of that Service would reach a slice."""
    status = f"/apis/minik8s.dev/v1/namespaces/{namespace}/miniservices/web/status"
    seam = HangFirst(lambda path, method, _: (method, path) == ("PATCH", status))
    no_operator.start(no_operator.default_options(request_timeout=60.0), on_start=seam.install)
    service = {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    body = {"apiVersion": "minik8s.dev/v1", "kind": "MiniService", "metadata": {"name": "web"}, "spec": service}
    try:
        await kube.create(f"/apis/minik8s.dev/v1/namespaces/{namespace}/miniservices", body)
        await eventually(lambda: _true(seam.hanging.is_set()), what="the hung status write")
        async with SliceWatch(kube, namespace) as watch:
            for index in range(3):
                pod = {"name": f"web-{index}", "labels": {"app": "web"}}
                container = {"name": "web", "image": "registry.k8s.io/pause:3.10"}
                await kube.create(
                    f"/api/v1/namespaces/{namespace}/pods",
                    {"apiVersion": "v1", "kind": "Pod", "metadata": pod, "spec": {"containers": [container]}},
                )

            def three_ready() -> bool:
                ready = [e for s in watch.of("web", MINI_MANAGER) for e in s.get("endpoints") or ()]
                return len([e for e in ready if (e.get("conditions") or {}).get("ready")]) == 3

            await watch.until(three_ready, within=30, what="3 ready endpoints while the status write hangs")
        assert seam.attempts == 1, "the status write is still hanging"
    finally:
        no_operator.stop()
