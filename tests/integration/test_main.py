"""The operator's real entry point: the `mini-operators run` console script, its liveness endpoint, its exit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from operators.devcluster.cluster import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("crds")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_console_script_serves_liveness_and_stops_cleanly(cluster: Cluster, namespace: str) -> None:
    script = Path(sys.executable).with_name("mini-operators")
    url = f"http://127.0.0.1:{free_port()}/healthz"
    env = dict(os.environ, KUBECONFIG=str(cluster.layout.kubeconfig))
    # Scoped to this test's empty namespace: the session's in-process operator serves everything else.
    process = subprocess.Popen(
        [str(script), "run", "-n", namespace, f"--liveness={url}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "no liveness answer within 60 s"
                time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "manager: API requests made:" in output
    assert "Traceback" not in output


def test_run_refuses_a_burst_without_a_qps_limit() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "operators", "run", "--kube-api-burst", "30"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "--kube-api-burst needs --kube-api-qps" in result.stderr


@pytest.mark.parametrize("value", ["0", "1001"])
def test_run_refuses_max_endpoints_per_slice_out_of_range(value: str) -> None:
    """ES-02: --max-endpoints-per-slice takes kube-controller-manager's range, 1 to 1000."""
    result = subprocess.run(
        [sys.executable, "-m", "operators", "run", "--max-endpoints-per-slice", value],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--max-endpoints-per-slice must be between 1 and 1000" in result.stderr
