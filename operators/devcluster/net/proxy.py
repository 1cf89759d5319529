"""kube-proxy in each node's namespace, in nftables mode, so Services' ClusterIPs and NodePorts take packets.

kube-proxy runs as on a real node, one per node, from the toolchain's multicall binary, started with
`ip netns exec` in the node's namespace: the nftables table it programs (`ip kube-proxy`) lives there, never
in the machine's own namespace. It reaches the API server through a relay: the test bed listens on the API
server's address inside the node's namespace and forwards each connection to the real one (TLS passes
through untouched), so nothing is routed between the machine and the test bed's namespaces.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from urllib.parse import urlparse

import yaml

from operators.devcluster.net.netns import NetError
from operators.devcluster.net.plan import NodeNet
from operators.devcluster.net.sockets import in_netns

__all__ = ["KubeProxy", "api_endpoint"]

CLUSTER_CIDR = "10.244.0.0/16"  # every kwok node's pod CIDR is inside it (devcluster.components.node_manifest)


def api_endpoint(kubeconfig: Path) -> tuple[str, int]:
    """The API server's host and port, as the kubeconfig's current cluster names them."""
    config = yaml.safe_load(kubeconfig.read_text())
    context = next(c for c in config["contexts"] if c["name"] == config["current-context"])["context"]
    cluster = next(c for c in config["clusters"] if c["name"] == context["cluster"])["cluster"]
    url = urlparse(cluster["server"])
    if url.hostname is None or url.port is None:
        raise NetError(f"cannot relay to the API server {cluster['server']!r}: host and port needed")
    return url.hostname, url.port


class KubeProxy:
    """One node's kube-proxy and its API relay."""

    def __init__(self, node: NodeNet, binary: Path, kubeconfig: Path, log: Path) -> None:
        self.node, self.binary, self.kubeconfig, self.log = node, binary, kubeconfig, log
        self.process: asyncio.subprocess.Process | None = None
        self._relay: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        host, port = api_endpoint(self.kubeconfig)
        with in_netns(self.node.netns):
            relay_socket = socket.socket()
        relay_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        relay_socket.bind((host, port))
        relay_socket.listen(64)
        relay_socket.setblocking(False)
        self._relay = await asyncio.start_server(lambda r, w: _pipe_to(host, port, r, w), sock=relay_socket)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as sink:
            self.process = await asyncio.create_subprocess_exec(
                *("ip", "netns", "exec", self.node.netns, str(self.binary)),
                f"--kubeconfig={self.kubeconfig}",
                f"--hostname-override={self.node.name}",
                "--proxy-mode=nftables",
                f"--cluster-cidr={CLUSTER_CIDR}",
                "--metrics-bind-address=127.0.0.1:10249",
                "--healthz-bind-address=127.0.0.1:10256",
                "--conntrack-max-per-core=0",  # nf_conntrack_max is the machine's: left alone
                "--conntrack-tcp-timeout-established=0",
                "--conntrack-tcp-timeout-close-wait=0",
                stdout=sink,
                stderr=asyncio.subprocess.STDOUT,
            )

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._relay is not None:
            self._relay.close()


async def _pipe_to(host: str, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Relay one connection from a node's namespace to the API server (this thread's own namespace)."""
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
    except OSError:
        writer.close()
        return

    async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        with contextlib.suppress(OSError):
            sink.close()

    await asyncio.gather(copy(reader, upstream_writer), copy(upstream_reader, writer))
