"""The policy engine: indexes built once per snapshot, then explained verdicts and whole-matrix bitsets.

Sets of pods are Python ints used as bitsets (bit i = the i-th pod in `Engine.pods`): resolving a selector
is a few ANDs/ORs over a label index, and a pod's allowed peers are the OR of its rules' peer sets.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from operators.kube.objects import Pod
from operators.kube.selectors import LabelSelector, Requirement
from operators.networkpolicy.errors import PolicyError
from operators.networkpolicy.model import (
    PROTOCOLS,
    Direction,
    IPAddress,
    IPBlock,
    Namespace,
    Peer,
    Policy,
    Rule,
    Snapshot,
)

__all__ = ["Endpoint", "Engine", "RuleMatch", "SideVerdict", "Verdict"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One end of a connection: a pod (at its primary IP), a node, or an address outside the cluster."""

    ip: IPAddress
    pod: Pod | None = None
    node: str = ""  # the node owning `ip`, when it is a node address

    def __str__(self) -> str:
        if self.pod is not None:
            return self.pod.key
        return f"{self.ip} (node {self.node})" if self.node else str(self.ip)


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that admits the connection: the policy, the rule index, and which port and peer matched."""

    policy: str
    direction: Direction
    rule_index: int
    port: str
    peer: str

    def __str__(self) -> str:
        return f"{self.policy} {self.direction.rules_field}[{self.rule_index}] (port {self.port}; peer {self.peer})"


@dataclass(frozen=True, slots=True)
class SideVerdict:
    """The verdict of one side: the source pod's egress or the destination pod's ingress."""

    direction: Direction
    pod: str
    allowed: bool
    isolating_policies: tuple[str, ...]
    matches: tuple[RuleMatch, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether `source` may open a connection to `destination` on `port/protocol`, and why (NP-04)."""

    source: Endpoint
    destination: Endpoint
    port: int
    protocol: str
    egress: SideVerdict | None  # None when the source is not a pod: no egress policy can apply
    ingress: SideVerdict | None  # None when the destination is not a pod
    notes: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return all(side.allowed for side in (self.egress, self.ingress) if side is not None)

    def explain(self) -> str:
        """A short human-readable report: the verdict line, then one line per side, then notes."""
        verdict = "ALLOWED" if self.allowed else "DENIED"
        lines = [f"{self.source} -> {self.destination} {self.protocol}/{self.port}: {verdict}"]
        lines.append(f"  egress:  {_side_text(self.egress, self.source, 'source')}")
        lines.append(f"  ingress: {_side_text(self.ingress, self.destination, 'destination')}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": str(self.source),
            "to": str(self.destination),
            "port": self.port,
            "protocol": self.protocol,
            "allowed": self.allowed,
            "egress": _side_dict(self.egress),
            "ingress": _side_dict(self.ingress),
            "notes": list(self.notes),
        }


def _side_text(side: SideVerdict | None, endpoint: Endpoint, role: str) -> str:
    if side is None:
        return f"allowed: the {role} {endpoint} is not a pod, so no policy restricts this side (NP-04)"
    return f"{'allowed' if side.allowed else 'DENIED'}: {side.reason}"


def _side_dict(side: SideVerdict | None) -> dict[str, Any] | None:
    if side is None:
        return None
    return {
        "pod": side.pod,
        "allowed": side.allowed,
        "isolatingPolicies": list(side.isolating_policies),
        "matchingRules": [str(match) for match in side.matches],
        "reason": side.reason,
    }


@dataclass(frozen=True, slots=True)
class _CompiledPeer:
    peer: Peer
    pods: int  # the pods the peer selects; for an ipBlock, the pods whose primary IP is in the block


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    policy: Policy
    direction: Direction
    index: int
    rule: Rule
    peers: tuple[_CompiledPeer, ...]
    peer_pods: int  # every pod some peer matches; every pod when the rule lists no peers (NP-07)
    selector_peer_pods: int  # the same, leaving out ipBlock peers: what a named egress port can reach (NP-11)


@dataclass(frozen=True, slots=True)
class _PortMatch:
    """How a rule's ports treat one (port, protocol): numerically, or through named ports of some pods."""

    numeric: bool
    named_pods: int  # destination pods on which a named port of the rule resolves to (port, protocol)


class Engine:
    """Evaluates connections over one snapshot; build a new engine for a new snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.pods: tuple[Pod, ...] = tuple(sorted(snapshot.pods, key=lambda pod: (pod.namespace, pod.name)))
        self._everyone = (1 << len(self.pods)) - 1
        self._index = {pod.key: i for i, pod in enumerate(self.pods)}
        self._ips = [_primary_ip(pod) for pod in self.pods]
        self._pod_by_ip = {ipaddress.ip_address(ip): i for i, pod in enumerate(self.pods) for ip in pod.pod_ips}
        self._node_by_ip = {ip: node.name for node in snapshot.nodes for ip in node.addresses}
        self._namespaces = _namespaces(snapshot)
        self._namespace_pods = self._index_namespaces()
        self._label_index = self._index_labels()
        self._selector_cache: dict[LabelSelector, int] = {}
        self._named_cache: dict[tuple[int, str], Mapping[str, int]] = {}
        self._rules = {direction: self._compile_rules(direction) for direction in Direction}
        self._isolating = {direction: self._index_isolation(direction) for direction in Direction}

    # ------------------------------------------------------------------------------------------ indexes

    def _index_namespaces(self) -> dict[str, int]:
        pods_of: dict[str, int] = dict.fromkeys(self._namespaces, 0)
        for i, pod in enumerate(self.pods):
            pods_of[pod.namespace] = pods_of.get(pod.namespace, 0) | 1 << i
        return pods_of

    def _index_labels(self) -> dict[str, dict[str, int]]:
        """key -> value -> pods carrying `key=value`: every pod selector resolves against this index."""
        index: dict[str, dict[str, int]] = {}
        for i, pod in enumerate(self.pods):
            for key, value in pod.labels.items():
                values = index.setdefault(key, {})
                values[value] = values.get(value, 0) | 1 << i
        return index

    def _compile_rules(self, direction: Direction) -> list[tuple[_CompiledRule, ...]]:
        """Per policy (in snapshot order), its rules for `direction` with every peer resolved to pods."""
        compiled = []
        for policy in self.snapshot.policies:
            rules = []
            for index, rule in enumerate(policy.rules(direction)):
                peers = tuple(_CompiledPeer(peer, self._peer_pods(peer, policy.namespace)) for peer in rule.peers)
                rules.append(
                    _CompiledRule(
                        policy=policy,
                        direction=direction,
                        index=index,
                        rule=rule,
                        peers=peers,
                        peer_pods=_union((p.pods for p in peers), empty=self._everyone),
                        selector_peer_pods=(
                            _union(p.pods for p in peers if p.peer.ip_block is None) if peers else self._everyone
                        ),
                    )
                )
            compiled.append(tuple(rules))
        return compiled

    def _index_isolation(self, direction: Direction) -> list[tuple[int, ...]]:
        """Per pod, the policies that isolate it for `direction`: they select it and list that type (NP-03)."""
        isolating: list[list[int]] = [[] for _ in self.pods]
        for p_index, policy in enumerate(self.snapshot.policies):
            if direction not in policy.policy_types:
                continue
            # NP-01: a policy selects pods of its own namespace only.
            selected = self._select_pods(policy.pod_selector) & self._namespace_pods.get(policy.namespace, 0)
            for i in _bits(selected):
                isolating[i].append(p_index)
        return [tuple(policies) for policies in isolating]

    def _select_pods(self, selector: LabelSelector) -> int:
        """All pods (any namespace) matching `selector`, as ANDs of per-requirement index lookups."""
        cached = self._selector_cache.get(selector)
        if cached is None:
            cached = 0 if selector.nothing else self._everyone
            for requirement in selector.requirements:
                cached &= self._requirement_pods(requirement)
            self._selector_cache[selector] = cached
        return cached

    def _requirement_pods(self, requirement: Requirement) -> int:
        values = self._label_index.get(requirement.key, {})
        match requirement.operator:
            case "Equals" | "In":
                return _union(values.get(value, 0) for value in requirement.values)
            case "NotIn":
                return self._everyone & ~_union(values.get(value, 0) for value in requirement.values)
            case "Exists":
                return _union(values.values())
            case "DoesNotExist":
                return self._everyone & ~_union(values.values())

    def _namespaces_pods(self, selector: LabelSelector) -> int:
        """The pods of every namespace whose labels (with the automatic name label, NP-09) match."""
        return _union(
            self._namespace_pods.get(name, 0)
            for name, namespace in self._namespaces.items()
            if selector.matches(namespace.selector_labels)
        )

    def _peer_pods(self, peer: Peer, policy_namespace: str) -> int:
        """NP-08: podSelector alone = the policy's namespace; namespaceSelector alone = whole namespaces;
        both = AND; ipBlock = pods whose IP is in the block (selectors never match external addresses)."""
        if peer.ip_block is not None:
            return self._block_pods(peer.ip_block)
        if peer.namespace_selector is None:
            in_namespaces = self._namespace_pods.get(policy_namespace, 0)
        else:
            in_namespaces = self._namespaces_pods(peer.namespace_selector)
        if peer.pod_selector is None:
            return in_namespaces
        return in_namespaces & self._select_pods(peer.pod_selector)

    def _block_pods(self, block: IPBlock) -> int:
        return _union(1 << i for i, ip in enumerate(self._ips) if block.contains(ip))

    def _named_index(self, port: int, protocol: str) -> Mapping[str, int]:
        """name -> pods with a container port of that name AND protocol whose number is `port` (NP-11)."""
        key = (port, protocol)
        if key not in self._named_cache:
            index: dict[str, int] = {}
            for i, pod in enumerate(self.pods):
                for container_port in pod.ports:
                    if container_port.name and (container_port.container_port, container_port.protocol) == key:
                        index[container_port.name] = index.get(container_port.name, 0) | 1 << i
            self._named_cache[key] = index
        return self._named_cache[key]

    def _port_match(self, rule: Rule, port: int, protocol: str) -> _PortMatch:
        """NP-10: no ports = every port; protocols never match across; endPort is an inclusive range."""
        if not rule.ports:
            return _PortMatch(numeric=True, named_pods=0)
        named = self._named_index(port, protocol)
        return _PortMatch(
            numeric=any(entry.matches_number(port, protocol) for entry in rule.ports),
            named_pods=_union(
                named.get(entry.name, 0)
                for entry in rule.ports
                if entry.name is not None and entry.protocol == protocol
            ),
        )

    # ------------------------------------------------------------------------------------------ matrix

    def ingress_sources(self, port: int, protocol: str) -> list[int]:
        """Per pod (in `pods` order), the source pods its ingress side admits on `port/protocol`."""
        _check_traffic(port, protocol)
        matches = self._rule_port_matches(Direction.INGRESS, port, protocol)
        allowed = []
        for i, policies in enumerate(self._isolating[Direction.INGRESS]):
            if not policies:  # NP-03: not isolated for ingress
                allowed.append(self._everyone)
                continue
            sources = 0
            for p_index in policies:
                for rule in self._rules[Direction.INGRESS][p_index]:
                    match = matches[id(rule)]
                    # Named ports resolve against the destination: the pod being evaluated (NP-11).
                    if match.numeric or match.named_pods >> i & 1:
                        sources |= rule.peer_pods
            allowed.append(sources)
        return allowed

    def egress_destinations(self, port: int, protocol: str) -> list[int]:
        """Per pod (in `pods` order), the destination pods its egress side admits on `port/protocol`."""
        _check_traffic(port, protocol)
        matches = self._rule_port_matches(Direction.EGRESS, port, protocol)
        by_policies: dict[tuple[int, ...], int] = {(): self._everyone}  # NP-03: not isolated for egress
        allowed = []
        for policies in self._isolating[Direction.EGRESS]:
            if policies not in by_policies:
                destinations = 0
                for p_index in policies:
                    for rule in self._rules[Direction.EGRESS][p_index]:
                        match = matches[id(rule)]
                        if match.numeric:
                            destinations |= rule.peer_pods
                        # NP-11: a named egress port needs a destination pod: ipBlock peers never count.
                        destinations |= match.named_pods & rule.selector_peer_pods
                by_policies[policies] = destinations
            allowed.append(by_policies[policies])
        return allowed

    def _rule_port_matches(self, direction: Direction, port: int, protocol: str) -> dict[int, _PortMatch]:
        return {
            id(rule): self._port_match(rule.rule, port, protocol) for rules in self._rules[direction] for rule in rules
        }

    # ------------------------------------------------------------------------------------------ verdicts

    def endpoint(self, ref: str | Endpoint, *, default_namespace: str = "default") -> Endpoint:
        """Resolve `namespace/pod`, a bare pod name (in `default_namespace`), or an IP address."""
        if isinstance(ref, Endpoint):
            return ref
        try:
            ip = ipaddress.ip_address(ref)
        except ValueError:
            key = ref if "/" in ref else f"{default_namespace}/{ref}"
            if key not in self._index:
                raise ValueError(f"no pod {key} in the snapshot") from None
            i = self._index[key]
            return Endpoint(ip=self._ips[i], pod=self.pods[i])
        if ip in self._pod_by_ip:
            return Endpoint(ip=ip, pod=self.pods[self._pod_by_ip[ip]])
        return Endpoint(ip=ip, node=self._node_by_ip.get(ip, ""))

    def evaluate(
        self, source: str | Endpoint, destination: str | Endpoint, port: int, protocol: str = "TCP"
    ) -> Verdict:
        """Decide and explain one connection: both the source's egress and the destination's ingress (NP-04)."""
        _check_traffic(port, protocol)
        src, dst = self.endpoint(source), self.endpoint(destination)
        notes = []
        if src.pod is None and dst.pod is None:
            notes.append("neither end is a pod: NetworkPolicy does not apply")
        if src.pod is not None and src.pod is dst.pod:
            notes.append(
                "pod to itself: upstream leaves loopback undefined and the e2e suite ignores it (NP-12); "
                "evaluated here like any other pair"
            )
        return Verdict(
            source=src,
            destination=dst,
            port=port,
            protocol=protocol,
            egress=None if src.pod is None else self._side(Direction.EGRESS, src.pod, src, dst, port, protocol),
            ingress=None if dst.pod is None else self._side(Direction.INGRESS, dst.pod, src, dst, port, protocol),
            notes=tuple(notes),
        )

    # --8<-- [start:side]
    def _side(
        self, direction: Direction, subject: Pod, src: Endpoint, dst: Endpoint, port: int, protocol: str
    ) -> SideVerdict:
        """The verdict of `subject`'s policies for `direction` (its egress as source, ingress as destination)."""
        policies = self._isolating[direction][self._index[subject.key]]
        isolating = tuple(self.snapshot.policies[p].key for p in policies)

        def verdict(allowed: bool, reason: str, matches: tuple[RuleMatch, ...] = ()) -> SideVerdict:
            return SideVerdict(direction, subject.key, allowed, isolating, matches, reason)

        if direction is Direction.INGRESS and src.node and src.node == subject.node_name:
            return verdict(True, f"the source is the node {src.node} of {subject.key}: always allowed (NP-12)")
        if not policies:
            return verdict(
                True, f"{subject.key} is not isolated: no policy selecting it has policyType {direction.value} (NP-03)"
            )
        other = dst if direction is Direction.EGRESS else src
        matches = tuple(
            match
            for p_index in policies
            for rule in self._rules[direction][p_index]
            if (match := self._rule_match(rule, other, dst, port, protocol)) is not None
        )
        isolated_by = ", ".join(isolating)
        if matches:
            return verdict(True, f"isolated by {isolated_by}; allowed by {'; '.join(map(str, matches))}", matches)
        return verdict(
            False,
            f"isolated by {isolated_by}, and no {direction.rules_field} rule of these policies matches (NP-05)",
        )

    # --8<-- [end:side]

    def _rule_match(
        self, rule: _CompiledRule, other: Endpoint, dst: Endpoint, port: int, protocol: str
    ) -> RuleMatch | None:
        """The rule's matching port and peer, or None. `other` is the far end; `dst` owns named ports."""
        port_text, numeric = self._matching_port(rule.rule, dst, port, protocol)
        if port_text is None:
            return None
        peer_text = self._matching_peer(rule, other, named_only=not numeric)
        if peer_text is None:
            return None
        return RuleMatch(rule.policy.key, rule.direction, rule.index, port_text, peer_text)

    def _matching_port(self, rule: Rule, dst: Endpoint, port: int, protocol: str) -> tuple[str | None, bool]:
        if not rule.ports:
            return "any (no ports listed)", True
        for index, entry in enumerate(rule.ports):
            if entry.matches_number(port, protocol):
                return f"ports[{index}] {entry}", True
        if dst.pod is not None:
            named = self._named_index(port, protocol)
            i = self._index[dst.pod.key]
            for index, entry in enumerate(rule.ports):
                if entry.name is not None and entry.protocol == protocol and named.get(entry.name, 0) >> i & 1:
                    return f"ports[{index}] {entry} (named port of {dst.pod.key})", False
        return None, False

    def _matching_peer(self, rule: _CompiledRule, other: Endpoint, *, named_only: bool) -> str | None:
        field = rule.direction.peers_field
        if not rule.peers:
            return f"any (no `{field}` peers listed)"
        for index, compiled in enumerate(rule.peers):
            block = compiled.peer.ip_block
            if block is not None:
                # NP-11: a port matched only by name never admits an ipBlock destination (egress).
                if block.contains(other.ip) and not (named_only and rule.direction is Direction.EGRESS):
                    return f"{field}[{index}] {compiled.peer}"
            elif other.pod is not None and compiled.pods >> self._index[other.pod.key] & 1:
                return f"{field}[{index}] {compiled.peer}"
        return None


def _namespaces(snapshot: Snapshot) -> dict[str, Namespace]:
    """The snapshot's namespaces, plus any that pods or policies use without declaring (name label only)."""
    namespaces = {namespace.name: namespace for namespace in snapshot.namespaces}
    for used in [*(pod.namespace for pod in snapshot.pods), *(p.namespace for p in snapshot.policies)]:
        namespaces.setdefault(used, Namespace(name=used))
    return namespaces


def _primary_ip(pod: Pod) -> IPAddress:
    if not pod.pod_ips:
        raise PolicyError(
            "required: the engine needs every pod's IP",
            kind="Pod",
            name=pod.name,
            namespace=pod.namespace,
            field="status.podIP",
        )
    try:
        return ipaddress.ip_address(pod.pod_ips[0])
    except ValueError:
        raise PolicyError(
            f"invalid IP address {pod.pod_ips[0]!r}",
            kind="Pod",
            name=pod.name,
            namespace=pod.namespace,
            field="status.podIP",
        ) from None


def _check_traffic(port: int, protocol: str) -> None:
    if not 1 <= port <= 65535:
        raise ValueError(f"port must be between 1 and 65535, not {port}")
    if protocol not in PROTOCOLS:
        raise ValueError(f"unsupported protocol {protocol!r}: must be one of {', '.join(PROTOCOLS)}")


def _union(sets: Iterable[int], *, empty: int = 0) -> int:
    """OR of bitsets; `empty` when there are none."""
    result, seen = 0, False
    for bits in sets:
        result |= bits
        seen = True
    return result if seen else empty


def _bits(bits: int) -> Sequence[int]:
    """The indexes of the set bits."""
    indexes = []
    while bits:
        low = bits & -bits
        indexes.append(low.bit_length() - 1)
        bits ^= low
    return indexes
