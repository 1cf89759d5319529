"""The dev cluster's own lifecycle, on a second, throwaway cluster (own state dir and ports): up, no-op, down."""

from __future__ import annotations

from pathlib import Path

import pytest

from operators.devcluster.build import build
from operators.devcluster.cluster import Cluster, State
from operators.devcluster.components import Layout

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
