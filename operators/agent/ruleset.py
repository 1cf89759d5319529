"""Policies compiled into one node's nftables table (the "compiled" design of the policy agent): pure.

Every decision is the NetworkPolicy semantics of the engine's model (operators/networkpolicy: NP-01..NP-13):
which pods a policy isolates, which peers and ports each rule admits, named ports resolved on the pod that
declares them. The result is the text of one table, `inet mini-netpol`, for `nft -f`: the table is deleted
and re-created in the same transaction, so an update is atomic.

    set ingress_isolated / egress_isolated   the node's pods some policy isolates (NP-03)
    set ingress_allowed  {dst . src . protocol . port}, egress_allowed {src . dst . protocol . port}
                         with intervals: a peer may be a CIDR (ipBlock minus its excepts, NP-08), a port a
                         range (endPort, or every port of a rule without ports, NP-10)
    chain forward        replies of allowed connections pass (conntrack); an isolated source must match an
                         egress element, an isolated destination an ingress element or come from the node
                         itself (NP-12); everything else is left alone

IPv4 only, as the test bed; SCTP is not compiled (this kernel has no SCTP).
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from operators.kube.objects import Pod
from operators.kube.selectors import Everything
from operators.networkpolicy.model import Direction, Peer, Policy, PolicyPort, Rule, Snapshot

__all__ = ["TABLE", "Element", "Ruleset", "compile_ruleset", "disjoint", "owners_of_addresses"]

TABLE = "mini-netpol"
_PROTOCOLS = {"TCP": "tcp", "UDP": "udp"}
_EVERYWHERE = ipaddress.IPv4Network("0.0.0.0/0")

# (local pod, peer network, protocol, first port, last port)
Element = tuple[ipaddress.IPv4Address, ipaddress.IPv4Network, str, int, int]


@dataclass(frozen=True, slots=True)
class Ruleset:
    """One node's compiled table: its text for `nft -f`, and what it holds."""

    text: str
    ingress_isolated: frozenset[ipaddress.IPv4Address]
    egress_isolated: frozenset[ipaddress.IPv4Address]
    ingress_allowed: frozenset[Element]
    egress_allowed: frozenset[Element]

    @property
    def elements(self) -> int:
        return len(self.ingress_allowed) + len(self.egress_allowed)


def compile_ruleset(snapshot: Snapshot, node: str, node_addresses: Sequence[str]) -> Ruleset:
    """The table for the pods of `node`, from every namespace, pod and policy of the cluster."""
    peers = _Peers(snapshot)
    local = [pod for pod in snapshot.pods if pod.node_name == node and _ipv4(pod) is not None]
    policies_in: dict[str, list[Policy]] = {}
    for policy in snapshot.policies:
        policies_in.setdefault(policy.namespace, []).append(policy)
    isolated: dict[Direction, set[ipaddress.IPv4Address]] = {Direction.INGRESS: set(), Direction.EGRESS: set()}
    allowed: dict[Direction, set[Element]] = {Direction.INGRESS: set(), Direction.EGRESS: set()}
    for direction in (Direction.INGRESS, Direction.EGRESS):
        for pod in local:
            address = _ipv4(pod)
            assert address is not None
            policies = [p for p in policies_in.get(pod.namespace, ()) if _isolates(p, pod, direction)]
            if not policies:
                continue  # NP-03: not isolated in this direction, everything passes
            isolated[direction].add(address)
            for policy in policies:
                for rule in policy.rules(direction):
                    networks = peers.networks(rule, policy)
                    allowed[direction] |= _elements(rule, pod, address, networks, direction, snapshot)
    allowed = {direction: disjoint(elements) for direction, elements in allowed.items()}
    text = _render(node_addresses, isolated, allowed)
    return Ruleset(
        text,
        frozenset(isolated[Direction.INGRESS]),
        frozenset(isolated[Direction.EGRESS]),
        frozenset(allowed[Direction.INGRESS]),
        frozenset(allowed[Direction.EGRESS]),
    )


def disjoint(elements: Iterable[Element]) -> set[Element]:
    """The same admitted traffic as elements that do not overlap: nftables refuses a concatenated interval set
    whose elements overlap ("File exists"), and an allow-all rule beside a narrower one on the same pod, or a
    pod selector beside an ipBlock holding that pod, makes them overlap (NP-05: the union is what counts).
    Per local pod and protocol, the port axis is cut at every range boundary; the networks admitted on each
    slice are collapsed (contained ones dropped, neighbours merged); neighbouring slices with the same
    networks are joined again."""
    groups: dict[tuple[ipaddress.IPv4Address, str], list[tuple[ipaddress.IPv4Network, int, int]]] = {}
    for local, network, protocol, first, last in elements:
        groups.setdefault((local, protocol), []).append((network, first, last))
    out: set[Element] = set()
    for (local, protocol), items in groups.items():
        if not _overlap(items):  # the common case, checked in O(n log n): nothing to cut
            out.update((local, network, protocol, first, last) for network, first, last in items)
            continue
        cuts = sorted({first for _, first, _ in items} | {last + 1 for _, _, last in items})
        slices: list[tuple[int, int, tuple[ipaddress.IPv4Network, ...]]] = []
        for start, end in itertools.pairwise(cuts):
            covering = (network for network, first, last in items if first <= start and end - 1 <= last)
            networks = tuple(ipaddress.collapse_addresses(covering))
            if not networks:
                continue
            if slices and slices[-1][1] == start - 1 and slices[-1][2] == networks:
                slices[-1] = (slices[-1][0], end - 1, networks)
            else:
                slices.append((start, end - 1, networks))
        out.update((local, network, protocol, first, last) for first, last, networks in slices for network in networks)
    return out


def _overlap(items: Sequence[tuple[ipaddress.IPv4Network, int, int]]) -> bool:
    """Whether two of one pod's (network, first port, last port) overlap: two distinct port ranges that
    overlap, or, on one range, two networks that do."""
    by_range: dict[tuple[int, int], list[ipaddress.IPv4Network]] = {}
    for network, first, last in items:
        by_range.setdefault((first, last), []).append(network)
    ranges = sorted(by_range)
    if any(previous[1] >= following[0] for previous, following in itertools.pairwise(ranges)):
        return True
    for networks in by_range.values():
        ordered = sorted(set(networks), key=lambda n: (int(n.network_address), -n.prefixlen))
        if any(a.broadcast_address >= b.network_address for a, b in itertools.pairwise(ordered)):
            return True
    return False


def owners_of_addresses(pods: Iterable[Pod]) -> list[Pod]:
    """The pods that hold their IP: an address held by a pod being deleted and by a new pod (kwok hands out
    the address of a terminating pod again) is the new pod's; the other no longer takes packets there."""
    live = {ip for pod in pods if pod.deletion_timestamp is None for ip in pod.pod_ips}
    return [pod for pod in pods if pod.deletion_timestamp is None or not live.intersection(pod.pod_ips)]


def _isolates(policy: Policy, pod: Pod, direction: Direction) -> bool:
    """NP-01, NP-02: a policy of the pod's namespace selecting it, with this policy type."""
    return (
        direction in policy.policy_types
        and policy.namespace == pod.namespace
        and policy.pod_selector.matches(pod.labels)
    )


def _elements(
    rule: Rule,
    pod: Pod,
    address: ipaddress.IPv4Address,
    peers: Sequence[tuple[ipaddress.IPv4Network, Pod | None]],
    direction: Direction,
    snapshot: Snapshot,
) -> set[Element]:
    """What one rule admits for one local pod: every (peer network, protocol, port range) it matches."""
    out: set[Element] = set()
    for port in rule.ports or (PolicyPort("TCP"), PolicyPort("UDP")):  # NP-07: no ports, every port
        protocol = _PROTOCOLS.get(port.protocol)
        if protocol is None:
            continue  # SCTP: no kernel support here
        for network, peer_pod in peers:
            if direction is Direction.EGRESS and isinstance(port.port, str) and peer_pod is None:
                # A named port towards addresses (no peers, or an ipBlock): it names a port of whichever pod
                # in that range declares it (NP-11), each such pod on its own number.
                for target in snapshot.pods:
                    target_address = _ipv4(target)
                    if target_address is not None and target_address in network:
                        for first, last in _port_ranges(port, target):
                            out.add((address, ipaddress.IPv4Network(target_address), protocol, first, last))
                continue
            for first, last in _port_ranges(port, pod if direction is Direction.INGRESS else peer_pod):
                out.add((address, network, protocol, first, last))
    return out


class _Peers:
    """The peers of each rule, resolved once per compilation: a rule admits the same peers for every pod its
    policy selects (resolving them again for each pod made a 1,000-pod x 100-policy node take seconds)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.labels = {ns.name: ns.selector_labels for ns in snapshot.namespaces}
        self.pods_in: dict[str, list[Pod]] = {}
        for pod in snapshot.pods:
            self.pods_in.setdefault(pod.namespace, []).append(pod)
        self._networks: dict[tuple[int, int], list[tuple[ipaddress.IPv4Network, Pod | None]]] = {}

    def networks(self, rule: Rule, policy: Policy) -> list[tuple[ipaddress.IPv4Network, Pod | None]]:
        """The rule's peers as networks: pods' addresses (/32, with the pod, for named ports), ipBlocks
        minus their excepts (NP-08), or everywhere for a rule without peers (NP-07)."""
        key = (id(policy), id(rule))  # both live as long as the snapshot being compiled
        if (found := self._networks.get(key)) is not None:
            return found
        found = [(_EVERYWHERE, None)] if not rule.peers else []
        for peer in rule.peers:
            if peer.ip_block is not None:
                found += [(network, None) for network in _ip_block_networks(peer)]
                continue
            for pod in self._pods(peer, policy):
                if (address := _ipv4(pod)) is not None:
                    found.append((ipaddress.IPv4Network(address), pod))
        self._networks[key] = found
        return found

    def _pods(self, peer: Peer, policy: Policy) -> Iterable[Pod]:
        """NP-04..NP-06: podSelector in the policy's namespace, namespaceSelector, or both AND-ed."""
        pod_selector = peer.pod_selector or Everything
        if peer.namespace_selector is None:
            namespaces = [policy.namespace]
        else:
            namespaces = [name for name, labels in self.labels.items() if peer.namespace_selector.matches(labels)]
        for namespace in namespaces:
            yield from (pod for pod in self.pods_in.get(namespace, ()) if pod_selector.matches(pod.labels))


def _ip_block_networks(peer: Peer) -> list[ipaddress.IPv4Network]:
    """The ipBlock's CIDR with its excepts cut out (NP-08), as the networks that remain."""
    assert peer.ip_block is not None
    cidr = peer.ip_block.cidr
    if not isinstance(cidr, ipaddress.IPv4Network):
        return []
    remaining = [cidr]
    for excluded in peer.ip_block.excepts:
        if not isinstance(excluded, ipaddress.IPv4Network):
            continue
        next_remaining: list[ipaddress.IPv4Network] = []
        for network in remaining:
            if excluded.subnet_of(network):
                next_remaining += list(network.address_exclude(excluded))
            elif not network.subnet_of(excluded):
                next_remaining.append(network)
        remaining = next_remaining
    return sorted(remaining)


def _port_ranges(port: PolicyPort, owner: Pod | None) -> list[tuple[int, int]]:
    """A port entry as ranges: a number (to endPort), every port, or a named port resolved on `owner`, the
    pod that declares it (NP-11); a named port nobody here declares admits nothing."""
    if port.port is None:
        return [(0, 65535)]
    if isinstance(port.port, int):
        return [(port.port, port.end_port if port.end_port is not None else port.port)]
    if owner is None:
        return []
    return sorted(
        {
            (p.container_port, p.container_port)
            for p in (*owner.ports, *owner.sidecar_ports)
            if p.name == port.port and p.protocol == port.protocol
        }
    )


def _ipv4(pod: Pod) -> ipaddress.IPv4Address | None:
    for ip in pod.pod_ips:
        address = ipaddress.ip_address(ip)
        if isinstance(address, ipaddress.IPv4Address):
            return address
    return None


def _render(
    node_addresses: Sequence[str],
    isolated: dict[Direction, set[ipaddress.IPv4Address]],
    allowed: dict[Direction, set[Element]],
) -> str:
    def elements(values: Iterable[str]) -> str:
        listed = sorted(values)
        return f"elements = {{ {', '.join(listed)} }}" if listed else ""

    def element(item: Element) -> str:
        local, network, protocol, first, last = item
        peer = str(network.network_address) if network.prefixlen == 32 else str(network)
        ports = str(first) if first == last else f"{first}-{last}"
        return f"{local} . {peer} . {protocol} . {ports}"

    lines = [
        f"table inet {TABLE}",
        f"delete table inet {TABLE}",
        f"table inet {TABLE} {{",
        f"  set node_addresses {{ type ipv4_addr; {elements(node_addresses)} }}",
        f"  set ingress_isolated {{ type ipv4_addr; {elements(map(str, isolated[Direction.INGRESS]))} }}",
        f"  set egress_isolated {{ type ipv4_addr; {elements(map(str, isolated[Direction.EGRESS]))} }}",
        "  set ingress_allowed { type ipv4_addr . ipv4_addr . inet_proto . inet_service; flags interval; "
        f"{elements(map(element, allowed[Direction.INGRESS]))} }}",
        "  set egress_allowed { type ipv4_addr . ipv4_addr . inet_proto . inet_service; flags interval; "
        f"{elements(map(element, allowed[Direction.EGRESS]))} }}",
        "  chain ingress_check {",
        "    ip daddr . ip saddr . meta l4proto . th dport @ingress_allowed return",
        "    ip saddr @node_addresses return",
        "    drop",
        "  }",
        "  chain egress_check {",
        "    ip saddr . ip daddr . meta l4proto . th dport @egress_allowed return",
        "    drop",
        "  }",
        "  chain forward {",
        # NP-13: the forward hook comes after kube-proxy's DNAT (prerouting), so a connection to a Service is
        # judged at the backend pod's IP and targetPort (tests/integration/test_netbed.py, with packets).
        "    type filter hook forward priority filter - 5; policy accept;",
        "    ct state established,related accept",
        "    ip saddr @egress_isolated jump egress_check",
        "    ip daddr @ingress_isolated jump ingress_check",
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"
