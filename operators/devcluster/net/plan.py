"""What the test bed builds for a set of nodes and pods: names, addresses and routes, decided without I/O.

Layout (nothing in the root network namespace is created or changed):

- `mini-underlay` (`mini-` is PREFIX, see below): a namespace holding the bridge `br0` that links the nodes,
  as a data-centre network would;
- one namespace per kwok node, `mini-<node>`, with `eth0` on the underlay at the node's InternalIP (/24), a
  bridge `cbr0` holding the last address of the node's pod CIDR (the pods' gateway), IP forwarding on, and a
  route to every other node's pod CIDR through that node's address;
- one namespace per running pod, `mini-pod-<10 hex of its UID>`, with `eth0` at exactly the pod IP kwok
  assigned and a default route through its node's gateway; the other end of its veth, `v<10 hex>`, is
  attached to its node's `cbr0`.

One address, one namespace: kwok hands the address of a pod being deleted to a new pod, so two pods can
claim it at once; `holders()` gives it to one. And an address keeps its MAC (`pod_mac()`), so the neighbour
caches of the other pods and of the node stay right when a new pod takes an address over.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PREFIX", "UNDERLAY", "NodeNet", "PodNet", "holders", "node_nets", "pod_mac", "pod_nets"]


def _prefix(value: str) -> str:
    if not re.fullmatch(r"mini[a-z0-9]{0,6}-", value):
        raise ValueError(f"MINI_NET_PREFIX={value!r}: expected 'mini', up to 6 of [a-z0-9], then '-' (as 'mini2-')")
    return value


# Every namespace the test bed makes starts with PREFIX; it removes only those it recorded. Two test beds on
# one machine (two clusters) need two prefixes: MINI_NET_PREFIX=mini2- for the second ("mini2-" does not
# start with "mini-", so neither bed sees the other's namespaces).
PREFIX = _prefix(os.environ.get("MINI_NET_PREFIX", "mini-"))
UNDERLAY = f"{PREFIX}underlay"


@dataclass(frozen=True, slots=True)
class NodeNet:
    """One kwok node's network namespace."""

    name: str
    index: int
    address: ipaddress.IPv4Address  # the node's InternalIP, on the underlay
    pod_cidr: ipaddress.IPv4Network

    @property
    def netns(self) -> str:
        return f"{PREFIX}{self.name}"

    @property
    def underlay_veth(self) -> str:
        """Its end of the veth in the underlay namespace (interface names are at most 15 characters)."""
        return f"u{self.index}"

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        """The last address of the pod CIDR: kwok hands pod IPs out from the first, so this one stays free."""
        return self.pod_cidr.broadcast_address - 1

    @property
    def bridge_mac(self) -> str:
        """The MAC of the pods' bridge, derived from the gateway address as a pod's from its IP."""
        return pod_mac(self.gateway)


@dataclass(frozen=True, slots=True)
class PodNet:
    """One pod's network namespace: its IP, its node, and the ports its responder serves."""

    key: str  # namespace/name
    uid: str
    address: ipaddress.IPv4Address
    node: str
    ports: tuple[tuple[int, str], ...] = field(default=())  # (containerPort, protocol), TCP and UDP only
    terminating: bool = field(default=False, compare=False)  # being deleted: not rewired for it, but yields its IP

    @property
    def tag(self) -> str:
        return hashlib.sha1(self.uid.encode()).hexdigest()[:10]

    @property
    def netns(self) -> str:
        return f"{PREFIX}pod-{self.tag}"

    @property
    def host_veth(self) -> str:
        return f"v{self.tag}"

    @property
    def mac(self) -> str:
        return pod_mac(self.address)


def pod_mac(address: ipaddress.IPv4Address) -> str:
    """The MAC of the pod holding `address`: 0a:58 and the address's four bytes, as the CNI bridge plugin
    derived it. A new pod taking a reused address over gets the same MAC, so a neighbour entry another pod
    cached for the old one still reaches it (a random MAC left such entries pointing at a removed veth until
    they expired, up to a minute of lost packets)."""
    return ":".join(f"{byte:02x}" for byte in (0x0A, 0x58, *address.packed))


def holders(pods: Iterable[PodNet], wired: Container[str]) -> dict[ipaddress.IPv4Address, PodNet]:
    """The one pod that holds each address. A pod not being deleted wins over one being deleted (kwok hands a
    terminating pod's address out again, and the network is the new pod's from then on); between equals, the
    one wired already keeps it, so nothing flaps; then the smaller UID, so the answer never depends on order."""
    out: dict[ipaddress.IPv4Address, PodNet] = {}
    for pod in sorted(pods, key=lambda p: (p.terminating, p.uid not in wired, p.uid)):
        out.setdefault(pod.address, pod)
    return out


def node_nets(nodes: Iterable[Mapping[str, Any]]) -> list[NodeNet]:
    """The kwok nodes (annotation kwok.x-k8s.io/node=fake) with an InternalIP and an IPv4 pod CIDR, by name."""
    found: list[tuple[str, ipaddress.IPv4Address, ipaddress.IPv4Network]] = []
    for node in nodes:
        metadata = node.get("metadata") or {}
        if (metadata.get("annotations") or {}).get("kwok.x-k8s.io/node") != "fake":
            continue
        internal = [
            a["address"] for a in (node.get("status") or {}).get("addresses") or () if a.get("type") == "InternalIP"
        ]
        cidr = (node.get("spec") or {}).get("podCIDR")
        if not internal or not cidr:
            continue
        network = ipaddress.ip_network(cidr)
        address = ipaddress.ip_address(internal[0])
        if isinstance(network, ipaddress.IPv4Network) and isinstance(address, ipaddress.IPv4Address):
            found.append((str(metadata["name"]), address, network))
    return [NodeNet(name, index, address, cidr) for index, (name, address, cidr) in enumerate(sorted(found))]


def pod_nets(pods: Iterable[Mapping[str, Any]], nodes: Mapping[str, NodeNet]) -> list[PodNet]:
    """The pods that get a namespace: on a test-bed node, with an IPv4 pod IP inside that node's pod CIDR,
    not finished, and not on the host network. A pod being deleted is marked `terminating`: it keeps its
    namespace until it is gone, or until a new pod is given its address (`holders()`)."""
    out: list[PodNet] = []
    for pod in pods:
        metadata, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
        node = nodes.get(str(spec.get("nodeName") or ""))
        ip = status.get("podIP")
        if node is None or not ip or spec.get("hostNetwork") or status.get("phase") in ("Succeeded", "Failed"):
            continue
        address = ipaddress.ip_address(ip)
        if not isinstance(address, ipaddress.IPv4Address) or address not in node.pod_cidr:
            continue
        ports = sorted(
            {
                (int(p["containerPort"]), str(p.get("protocol") or "TCP"))
                for container in spec.get("containers") or ()
                for p in container.get("ports") or ()
                if str(p.get("protocol") or "TCP") in ("TCP", "UDP")
            }
        )
        key = f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"
        uid, terminating = str(metadata.get("uid", "")), metadata.get("deletionTimestamp") is not None
        out.append(PodNet(key, uid, address, node.name, tuple(ports), terminating=terminating))
    return out
