"""The dev cluster's own lifecycle, on throwaway clusters (own state dirs and ports): up, no-op, down, and faults."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from operators.devcluster.__main__ import main
from operators.devcluster.build import build
from operators.devcluster.cluster import Cluster, State
from operators.devcluster.components import Layout
from operators.runtime.client import ApiError, KubeClient

pytestmark = pytest.mark.cluster


def test_up_is_idempotent_and_down_stops_exactly_what_up_started(tmp_path: Path) -> None:
    build()
    said: list[str] = []
    cluster = Cluster(Layout(tmp_path / "cluster", port_base=28000), echo=said.append)
    try:
        cluster.up(nodes=1, builtin_controllers=False)
        state = State.load(cluster.layout.state_file)
        assert state is not None and set(state.pids) == {
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kwok",
        }
        assert not state.builtin_controllers
        assert cluster.layout.etcd_data.is_dir()
        nodes = cluster.kubectl("get", "nodes", "-o", "name").stdout.split()
        assert nodes == ["node/kwok-node-0"]

        said.clear()
        cluster.up(nodes=1, builtin_controllers=False)
        assert "cluster: already up (built-in workload controllers off)" in said
        assert State.load(cluster.layout.state_file) == state  # nothing restarted

        cluster.up(nodes=1, builtin_controllers=True)  # only kube-controller-manager restarts
        restarted = State.load(cluster.layout.state_file)
        assert restarted is not None and restarted.builtin_controllers
        assert {n: p for n, p in restarted.pids.items() if n != "kube-controller-manager"} == {
            n: p for n, p in state.pids.items() if n != "kube-controller-manager"
        }
        assert restarted.pids["kube-controller-manager"] != state.pids["kube-controller-manager"]
    finally:
        cluster.down()
    for pid in restarted.pids.values():
        assert not Path(f"/proc/{pid}").exists() or b"kube" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert not cluster.layout.state_dir.exists()
    assert not cluster.layout.etcd_data.exists()
    assert not cluster.status()


def test_status_of_a_cluster_that_is_not_running(tmp_path: Path) -> None:
    said: list[str] = []
    cluster = Cluster(Layout(tmp_path / "none", port_base=28100), echo=said.append)
    assert cluster.status() is False
    assert said == ["cluster: not running"]


def test_default_layout_honours_both_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MINI_CLUSTER_DIR", str(tmp_path))
    monkeypatch.setenv("MINI_CLUSTER_PORT_BASE", "29000")
    layout = Layout.default()
    assert layout.state_dir == tmp_path and layout.ports["kube-apiserver"] == 29443


# --- single components, on one more throwaway cluster shared by the tests below (starting one costs seconds)

FAULT_PORT_BASE = 28500
OTHERS = ("etcd", "kube-controller-manager", "kube-scheduler", "kwok")


@pytest.fixture(scope="module")
def spare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    build()
    cluster = Cluster(Layout(tmp_path_factory.mktemp("spare") / "cluster", port_base=FAULT_PORT_BASE))
    cluster.up(nodes=1)
    yield cluster
    cluster.down()


@pytest.fixture
def said(spare: Cluster) -> list[str]:
    """What the spare cluster says during one test; every test starts with all of its components running."""
    lines: list[str] = []
    spare.echo = lines.append
    spare.up(nodes=1)
    lines.clear()
    return lines


def pids(cluster: Cluster) -> dict[str, int | None]:
    state = State.load(cluster.layout.state_file)
    assert state is not None
    return state.pids


def runs(pid: int | None) -> bool:
    """The process is there and not a zombie (it may be our child, reaped later)."""
    try:
        return pid is not None and Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def configmap_value(cluster: Cluster, name: str) -> str:
    return cluster.kubectl("get", "configmap", name, "-o", "jsonpath={.data.kept}").stdout


def etcd_has(cluster: Cluster, key: str) -> bool:
    """Ask etcd itself (its JSON gateway), not the API server, whose watch cache could still hold the object."""
    body = json.dumps({"key": base64.b64encode(key.encode()).decode(), "count_only": True}).encode()
    url = f"http://127.0.0.1:{cluster.layout.ports['etcd']}/v3/kv/range"
    with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=10) as response:
        return int(json.loads(response.read()).get("count", 0)) == 1


def wait_until(probe: Callable[[], bool], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not probe():
        assert time.monotonic() < deadline, f"timed out after {within}s waiting for {what}"
        time.sleep(0.2)


def test_a_stopped_apiserver_is_reported_stopped_and_starts_again_on_the_same_etcd(
    spare: Cluster, said: list[str]
) -> None:
    spare.kubectl("create", "configmap", "before-apiserver-stop", "--from-literal=kept=yes")
    before = pids(spare)

    spare.stop_component("kube-apiserver")
    stopped = pids(spare)
    assert stopped["kube-apiserver"] is None  # recorded as stopped, not with the old PID
    assert not runs(before["kube-apiserver"])
    assert {n: stopped[n] for n in OTHERS} == {n: before[n] for n in OTHERS}
    said.clear()
    assert spare.status() is False
    assert re.search(r"^  kube-apiserver +- +stopped$", "\n".join(said), re.MULTILINE), said
    assert any(line.startswith("  api server") and line.endswith("NOT READY") for line in said), said
    with socket.socket() as probe:  # nothing listens on the API server's port any more
        assert probe.connect_ex(("127.0.0.1", spare.layout.ports["kube-apiserver"])) != 0
    unreachable = spare.kubectl("get", "configmap", "before-apiserver-stop", "--request-timeout=10s", check=False)
    assert unreachable.returncode != 0 and "was refused" in unreachable.stderr, unreachable.stderr

    pid = spare.start_component("kube-apiserver")
    assert pid != before["kube-apiserver"] and pids(spare)["kube-apiserver"] == pid and runs(pid)
    said.clear()
    assert spare.status() is True, said
    assert configmap_value(spare, "before-apiserver-stop") == "yes"  # etcd kept it


def test_up_on_a_partly_running_cluster_starts_only_what_is_missing(
    spare: Cluster, said: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the command line, as `make up` runs it: stop two components, `status` says so, `up` starts them."""
    monkeypatch.setenv("MINI_CLUSTER_DIR", str(spare.layout.state_dir))
    monkeypatch.setenv("MINI_CLUSTER_PORT_BASE", str(FAULT_PORT_BASE))
    spare.kubectl("create", "configmap", "before-partial-up", "--from-literal=kept=yes")
    before = pids(spare)

    assert main(["stop", "kube-scheduler"]) == 0
    assert main(["stop", "kwok"]) == 0
    assert main(["status"]) == 1
    status = capsys.readouterr().out
    assert re.search(r"^  kube-scheduler +- +stopped$", status, re.MULTILINE), status
    assert re.search(r"^  kwok +- +stopped$", status, re.MULTILINE), status

    assert main(["up", "--nodes", "1"]) == 0
    assert "cluster: partly running; starting kube-scheduler, kwok (etcd's data is kept)" in capsys.readouterr().out
    after = pids(spare)
    kept = ("etcd", "kube-apiserver", "kube-controller-manager")
    assert {n: after[n] for n in kept} == {n: before[n] for n in kept}
    for name in ("kube-scheduler", "kwok"):
        assert after[name] != before[name] and runs(after[name]) and not runs(before[name])
    assert main(["status"]) == 0
    assert configmap_value(spare, "before-partial-up") == "yes"


def test_restarting_etcd_keeps_its_data(spare: Cluster, said: list[str]) -> None:
    spare.kubectl("create", "configmap", "before-etcd-restart", "--from-literal=kept=yes")
    before = pids(spare)

    pid = spare.restart_component("etcd")
    assert pid != before["etcd"] and not runs(before["etcd"]) and pids(spare)["etcd"] == pid
    assert f"cluster: stopped etcd (pid {before['etcd']})" in said
    assert etcd_has(spare, "/registry/configmaps/default/before-etcd-restart")
    after = pids(spare)
    assert {n: after[n] for n in after if n != "etcd"} == {n: before[n] for n in before if n != "etcd"}
    # The API server reconnects on its own; a quorum read then comes from the restarted etcd.
    wait_until(
        lambda: spare.kubectl("get", "configmap", "before-etcd-restart", check=False).returncode == 0,
        within=60,
        what="the API server to read from the restarted etcd",
    )
    assert configmap_value(spare, "before-etcd-restart") == "yes"


async def test_a_watch_from_before_a_compaction_gets_410_after_an_apiserver_restart(
    spare: Cluster, said: list[str]
) -> None:
    path = "/api/v1/namespaces/default/configmaps"
    old = spare.kubectl("create", "configmap", "old", "-o", "jsonpath={.metadata.resourceVersion}").stdout
    spare.kubectl("create", "configmap", "newer")  # so that the compaction lies past `old`

    revision = await asyncio.to_thread(spare.compact_etcd)
    assert revision > int(old)
    assert await asyncio.to_thread(spare.compact_etcd) >= revision  # compacting again is no error
    await asyncio.to_thread(spare.restart_component, "kube-apiserver")

    kube = await KubeClient.from_kubeconfig(kubeconfig=str(spare.layout.kubeconfig))
    try:
        first: dict[str, Any] | None = None
        try:
            async for event in kube.watch(path, query={"resourceVersion": old}, timeout_seconds=30):
                first = event
                break
        except ApiError as error:  # 410 as the answer's status
            assert error.status == 410, error
        else:  # or, as the API server does once a watch is accepted, 410 as its first event
            assert first is not None, "the watch ended without an event"
            assert first["type"] == "ERROR" and first["object"]["code"] == 410, first
    finally:
        await kube.close()
