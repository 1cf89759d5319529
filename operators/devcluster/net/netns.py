"""Makes and removes the test bed's namespaces, links, addresses and routes with `ip` (iproute2)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from operators.devcluster.net.plan import PREFIX, UNDERLAY, NodeNet, PodNet

__all__ = [
    "NetError",
    "add_node",
    "add_pod",
    "bridged_traffic_through_netfilter",
    "existing",
    "remove",
    "remove_pod",
    "require_support",
    "routes_between",
]


class NetError(RuntimeError):
    """An `ip` command failed, or this machine cannot run the test bed."""


def require_support() -> None:
    """Refuse, in one line, where the test bed cannot run: not root, no `ip`, no network namespaces."""
    if os.geteuid() != 0:
        raise NetError("the network test bed needs root (it creates network namespaces); run it as root")
    if shutil.which("ip") is None:
        raise NetError("the network test bed needs iproute2's `ip` command (apt-get install iproute2)")
    if not os.path.exists("/proc/self/ns/net"):
        raise NetError("this kernel has no network namespaces (/proc/self/ns/net is missing)")


def _ip(*args: str, netns: str | None = None) -> None:
    command = ["ip", *(("-n", netns) if netns else ()), *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise NetError(f"{' '.join(command)}: {result.stderr.strip()}")


def _sysctl(netns: str, key: str, value: str) -> None:
    result = subprocess.run(
        ["ip", "netns", "exec", netns, "sysctl", "-q", "-w", f"{key}={value}"], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise NetError(f"sysctl {key}={value} in {netns}: {result.stderr.strip()}")


def existing() -> set[str]:
    """The network namespaces with the test bed's prefix that exist now."""
    result = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    return {line.split()[0] for line in result.stdout.splitlines() if line.startswith(PREFIX)}


def add_underlay() -> None:
    """The namespace with the bridge that links the nodes."""
    _ip("netns", "add", UNDERLAY)
    _ip("link", "set", "lo", "up", netns=UNDERLAY)
    _ip("link", "add", "br0", "type", "bridge", netns=UNDERLAY)
    _ip("link", "set", "br0", "up", netns=UNDERLAY)


def add_node(node: NodeNet) -> None:
    """A node's namespace: eth0 on the underlay at its InternalIP, the pods' bridge cbr0, forwarding on."""
    ns = node.netns
    _ip("netns", "add", ns)
    _ip("link", "set", "lo", "up", netns=ns)
    _ip("link", "add", node.underlay_veth, "type", "veth", "peer", "name", "eth0", "netns", ns, netns=UNDERLAY)
    _ip("link", "set", node.underlay_veth, "master", "br0", "up", netns=UNDERLAY)
    _ip("addr", "add", f"{node.address}/24", "dev", "eth0", netns=ns)
    _ip("link", "set", "eth0", "up", netns=ns)
    # A fixed MAC: a bridge without one takes the lowest MAC of its ports and changes it as pods come and go,
    # and a pod that cached the gateway's old MAC sends into the void until its neighbour entry expires.
    _ip("link", "add", "cbr0", "address", node.bridge_mac, "type", "bridge", netns=ns)
    _ip("addr", "add", f"{node.gateway}/{node.pod_cidr.prefixlen}", "dev", "cbr0", netns=ns)
    _ip("link", "set", "cbr0", "up", netns=ns)
    _sysctl(ns, "net.ipv4.ip_forward", "1")


def bridged_traffic_through_netfilter(node: NodeNet) -> None:
    """Packets bridged between two pods of the node pass its IPv4 netfilter hooks (br_netfilter), as on a
    real node: a Service's reply from a pod on the same bridge must meet the conntrack entry that DNATed it."""
    _sysctl(node.netns, "net.bridge.bridge-nf-call-iptables", "1")


def routes_between(nodes: Sequence[NodeNet]) -> None:
    """Every node reaches every other node's pod CIDR through that node's address."""
    for node in nodes:
        for other in nodes:
            if other.name != node.name:
                _ip("route", "replace", str(other.pod_cidr), "via", str(other.address), netns=node.netns)


def add_pod(pod: PodNet, node: NodeNet) -> None:
    """A pod's namespace: eth0 with exactly its IP and the MAC derived from it, its veth's other end on its
    node's bridge, a default route."""
    ns = pod.netns
    _ip("netns", "add", ns)
    try:
        _ip("link", "set", "lo", "up", netns=ns)
        peer = ("peer", "name", "eth0", "address", pod.mac, "netns", ns)
        _ip("link", "add", pod.host_veth, "type", "veth", *peer, netns=node.netns)
        _ip("link", "set", pod.host_veth, "master", "cbr0", "up", netns=node.netns)
        _ip("addr", "add", f"{pod.address}/{node.pod_cidr.prefixlen}", "dev", "eth0", netns=ns)
        _ip("link", "set", "eth0", "up", netns=ns)
        _ip("route", "add", "default", "via", str(node.gateway), netns=ns)
    except NetError:
        remove(ns)  # never leave half a pod behind
        raise


def remove_pod(pod: PodNet, node: NodeNet) -> None:
    """Unplug a pod, then delete its namespace. Deleting the veth from the node's side takes the pod's eth0
    off the bridge at once; `ip netns del` alone frees the namespace only when nothing holds it any more (a
    socket of the responder closing late), and until then its eth0 still answered for the pod's address."""
    subprocess.run(["ip", "-n", node.netns, "link", "del", pod.host_veth], capture_output=True, check=False)
    remove(pod.netns)


def remove(netns: str) -> None:
    """Delete one of our namespaces (its veth ends go with it); an absent one is fine."""
    if not netns.startswith(PREFIX):
        raise NetError(f"refusing to delete {netns!r}: not a test-bed namespace")
    subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)
