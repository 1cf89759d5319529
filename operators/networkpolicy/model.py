"""The typed snapshot the engine evaluates: namespaces, pods, nodes and parsed NetworkPolicy specs."""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from operators.kube.objects import Pod
from operators.kube.selectors import LabelSelector

__all__ = [
    "NAMESPACE_NAME_LABEL",
    "PROTOCOLS",
    "Direction",
    "IPAddress",
    "IPBlock",
    "IPNetwork",
    "Namespace",
    "Node",
    "Peer",
    "Policy",
    "PolicyPort",
    "Protocol",
    "Rule",
    "Snapshot",
]

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Protocol = Literal["TCP", "UDP", "SCTP"]
PROTOCOLS: tuple[Protocol, ...] = ("TCP", "UDP", "SCTP")

# NP-09: the API server labels every namespace with its own name, so peers can select namespaces by name.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


class Direction(enum.Enum):
    """A policy type: which side of a connection a policy's rules restrict."""

    INGRESS = "Ingress"
    EGRESS = "Egress"

    @property
    def rules_field(self) -> str:
        """The spec field holding this direction's rules (`ingress` / `egress`)."""
        return self.value.lower()

    @property
    def peers_field(self) -> str:
        """The rule field holding the peers (`from` for ingress, `to` for egress)."""
        return "from" if self is Direction.INGRESS else "to"


@dataclass(frozen=True, slots=True)
class Namespace:
    """A namespace and its labels."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def selector_labels(self) -> Mapping[str, str]:
        """The labels namespaceSelectors see: always including the automatic name label (NP-09)."""
        return {**self.labels, NAMESPACE_NAME_LABEL: self.name}


@dataclass(frozen=True, slots=True)
class Node:
    """A node and its addresses: ingress from a pod's own node is always allowed (NP-12)."""

    name: str
    addresses: tuple[IPAddress, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicyPort:
    """networkingv1.NetworkPolicyPort after defaulting: protocol is never empty (NP-10)."""

    protocol: Protocol = "TCP"
    port: int | str | None = None  # None: every port of the protocol; str: a named container port (NP-11)
    end_port: int | None = None  # inclusive upper bound; only with a numeric `port` (NP-10)

    @property
    def name(self) -> str | None:
        """The named port this entry refers to, if any."""
        return self.port if isinstance(self.port, str) else None

    def matches_number(self, port: int, protocol: str) -> bool:
        """Whether a numeric (or absent) port entry admits `port/protocol`; named entries never do here."""
        if protocol != self.protocol or isinstance(self.port, str):
            return False
        if self.port is None:
            return True
        return self.port <= port <= (self.end_port if self.end_port is not None else self.port)

    def __str__(self) -> str:
        if self.port is None:
            return f"{self.protocol}/*"
        if self.end_port is not None:
            return f"{self.protocol}/{self.port}-{self.end_port}"
        return f"{self.protocol}/{self.port}"


@dataclass(frozen=True, slots=True)
class IPBlock:
    """networkingv1.IPBlock: an address matches when it is in `cidr` and in no `except` (NP-08)."""

    cidr: IPNetwork
    excepts: tuple[IPNetwork, ...] = ()

    def contains(self, ip: IPAddress) -> bool:
        if ip.version != self.cidr.version or ip not in self.cidr:
            return False
        return not any(ip in excluded for excluded in self.excepts)

    def __str__(self) -> str:
        if not self.excepts:
            return f"ipBlock {self.cidr}"
        return f"ipBlock {self.cidr} except {', '.join(str(e) for e in self.excepts)}"


@dataclass(frozen=True, slots=True)
class Peer:
    """networkingv1.NetworkPolicyPeer: either selectors (AND-ed when both are set) or an ipBlock (NP-08).

    `None` means the field is absent, which is not the same as `{}` (an empty selector selects everything).
    """

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None

    def __str__(self) -> str:
        if self.ip_block is not None:
            return str(self.ip_block)
        parts = []
        if self.namespace_selector is not None:
            parts.append(f"namespaceSelector {{{self.namespace_selector}}}")
        if self.pod_selector is not None:
            parts.append(f"podSelector {{{self.pod_selector}}}")
        return " AND ".join(parts)


@dataclass(frozen=True, slots=True)
class Rule:
    """One ingress or egress rule: it matches when a port AND a peer match; empty lists match all (NP-07)."""

    ports: tuple[PolicyPort, ...] = ()
    peers: tuple[Peer, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    """A NetworkPolicy (or MiniNetworkPolicy) spec, validated and with policyTypes defaulted (NP-02)."""

    namespace: str
    name: str
    pod_selector: LabelSelector
    policy_types: frozenset[Direction]
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    kind: str = "NetworkPolicy"

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def rules(self, direction: Direction) -> tuple[Rule, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a verdict depends on, at one point in time.

    The `with_*` / `without_*` methods return a modified copy: they are the "what-if" edits
    (label updates, policy updates and deletions) that the upstream e2e suite applies between probes.
    """

    namespaces: tuple[Namespace, ...] = ()
    pods: tuple[Pod, ...] = ()
    nodes: tuple[Node, ...] = ()
    policies: tuple[Policy, ...] = ()

    def with_policy(self, policy: Policy) -> Snapshot:
        """Create or replace (same namespace and name) a policy, as `kubectl apply`."""
        others = tuple(p for p in self.policies if (p.namespace, p.name) != (policy.namespace, policy.name))
        return dataclasses.replace(self, policies=(*others, policy))

    def without_policies(self, keys: Iterable[str] | None = None) -> Snapshot:
        """Delete the policies with the given `namespace/name` keys, or all of them."""
        if keys is None:
            return dataclasses.replace(self, policies=())
        doomed = set(keys)
        return dataclasses.replace(self, policies=tuple(p for p in self.policies if p.key not in doomed))

    def with_pod_labels(self, key: str, labels: Mapping[str, str]) -> Snapshot:
        """Merge `labels` into the labels of pod `namespace/name`."""
        if not any(pod.key == key for pod in self.pods):
            raise KeyError(f"no pod {key}")
        pods = tuple(
            dataclasses.replace(pod, labels={**pod.labels, **labels}) if pod.key == key else pod for pod in self.pods
        )
        return dataclasses.replace(self, pods=pods)

    def with_namespace_labels(self, name: str, labels: Mapping[str, str]) -> Snapshot:
        """Merge `labels` into the labels of namespace `name`."""
        if not any(ns.name == name for ns in self.namespaces):
            raise KeyError(f"no namespace {name}")
        namespaces = tuple(
            dataclasses.replace(ns, labels={**ns.labels, **labels}) if ns.name == name else ns for ns in self.namespaces
        )
        return dataclasses.replace(self, namespaces=namespaces)
