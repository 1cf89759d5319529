"""`net up|down|status` of `python -m operators.devcluster`: the test bed as a background process of its own."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from operators.devcluster.cluster import Cluster
from operators.devcluster.net.bed import TestBed, remove_recorded
from operators.devcluster.net.netns import NetError, existing, require_support
from operators.devcluster.net.plan import PREFIX

__all__ = ["bed_for", "net_down", "net_status", "net_up"]


def bed_for(cluster: Cluster, state_file: Path | None = None, *, kube_proxy: bool = True) -> TestBed:
    """A test bed for `cluster`, its record kept in `state_file` (by default the one `net up` uses, in the
    cluster's state directory; tests pass their own, so that they never remove a running bed's namespaces),
    with kube-proxy in every node's namespace unless `kube_proxy` is False."""
    kubectl = [str(cluster.bin / "kubectl"), f"--kubeconfig={cluster.layout.kubeconfig}"]
    proxy = (cluster.bin / "kube-proxy", cluster.layout.kubeconfig) if kube_proxy else None
    return TestBed(lambda *args: [*kubectl, *args], state_file or _state_file(cluster), kube_proxy=proxy)


def _state_file(cluster: Cluster) -> Path:
    return cluster.layout.state_dir / "net" / "namespaces.json"


def _pid_file(cluster: Cluster) -> Path:
    return cluster.layout.state_dir / "net" / "bed.pid"


def net_up(cluster: Cluster) -> None:
    """Start the test bed in the background (a no-op when it runs); wait until the nodes are wired."""
    require_support()
    if (pid := _running(cluster)) is not None:
        print(f"net: the test bed is running (pid {pid})")
        return
    log = cluster.layout.state_dir / "net" / "bed.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "operators.devcluster.net.serve"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _pid_file(cluster).write_text(str(process.pid))
    deadline = time.monotonic() + 60
    while not any(n.startswith(f"{PREFIX}kwok") for n in existing()):
        if process.poll() is not None:
            raise NetError(f"the test bed exited ({process.returncode}); its log: {log}")
        if time.monotonic() > deadline:
            raise NetError(f"the test bed did not wire the nodes within 60 s; its log: {log}")
        time.sleep(0.2)
    print(f"net: up (pid {process.pid}, log {log}); pods get namespaces as they start: `net status`")


def net_down(cluster: Cluster) -> None:
    """Stop the background test bed (it removes its namespaces) and remove whatever it recorded and left."""
    before = len(existing())
    if (pid := _running(cluster)) is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    _pid_file(cluster).unlink(missing_ok=True)
    remove_recorded(_state_file(cluster))
    print(f"net: down ({before - len(existing())} namespaces removed)")


def net_status(cluster: Cluster) -> bool:
    """Print the test bed's process and namespaces; True when it runs."""
    pid = _running(cluster)
    names = sorted(existing())
    pods = [n for n in names if n.startswith(f"{PREFIX}pod-")]
    print(f"net: {'running, pid ' + str(pid) if pid else 'not running'}")
    print(f"  namespaces: {len(names) - len(pods)} for the underlay and nodes, {len(pods)} for pods")
    for name in names:
        if not name.startswith(f"{PREFIX}pod-"):
            print(f"    {name}")
    return pid is not None


def _running(cluster: Cluster) -> int | None:
    try:
        pid = int(_pid_file(cluster).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _serve() -> None:
    bed = bed_for(Cluster(echo=lambda _: None))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await bed.start()
    logging.getLogger(__name__).info("test bed: %d nodes wired, following pods", len(bed.nodes))
    try:
        await stop.wait()
    finally:
        await bed.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    asyncio.run(_serve())
