"""MiniNetworkPolicy (minik8s.dev/v1): the model of networking/v1 NetworkPolicy, from which its CRD is generated.

A MiniNetworkPolicy says which traffic the pods it selects may receive and send, with the spec of a NetworkPolicy
(NP-01..NP-13 in upstream-semantics.md): the offline engine (operators.networkpolicy) reads both kinds alike, and
the controller reports what it found in the status. The schema below therefore refuses what networking/v1
refuses, so that a MiniNetworkPolicy the API server accepts is one the engine can read.

Where the checks come from. networking/v1 ValidateNetworkPolicySpec (pkg/apis/networking/validation) runs after
SetDefaults_NetworkPolicy; each CEL rule below names the upstream check it mirrors (ValidateNetworkPolicyPort,
ValidateNetworkPolicyPeer, ValidateIPBlock, metav1 ValidateLabelSelector) and says what upstream says, in
upstream's words where a rule can carry them. Where a MiniNetworkPolicy differs:

- a missing spec or spec.podSelector is defaulted to `{}` by the schema, as SetDefaults_NetworkPolicy does: every
  pod of the namespace (NP-01).
- policyTypes has no default: upstream's (NP-02) depends on whether egress rules exist, and a structural default
  is unconditional. The engine applies NP-02 itself, and the controller reports the effective types in
  status.policyTypes.
- CIDRs are checked by the API server's CEL `isCIDR()`, which refuses the loose forms upstream still accepts
  for compatibility, with a warning that a future release will refuse them (feature StrictIPCIDRValidation):
  IPv4 octets with leading zeros (`010.0.0.0/8`) and IPv4-mapped IPv6 addresses (`::ffff:10.0.0.0/104`).
  Host bits after the prefix (`192.168.1.1/24`) are accepted, as upstream does.
- lists are bounded (MAX_RULES and the like), for the API server's CEL cost budget; upstream has no bounds.
- the label keys and values of a peer's selectors are checked by OpenAPI patterns, for the same budget: the
  same strings are refused, in the words "should match '<regex>'" (see PeerLabelSelector).
- a rule relating several fields reports on their parent object, or on the field its fieldPath names, and the
  message names the rest: upstream reports an `except` outside its cidr on `ipBlock.except[i]`, this schema on
  `ipBlock.except`, with the offending value in the message.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from operators.api.crdinfo import ATOMIC, CRDInfo, PrinterColumn, Rule, cel, list_map
from operators.api.meta import (
    AGE_COLUMN,
    LABEL_KEYS_VALID,
    PORT_NUMBER_VALID,
    Condition,
    CustomResource,
    IntOrString,
    KubeModel,
    LabelSelector,
    LabelSelectorRequirement,
    PortNumber,
    SelectorValue,
    iana_svc_name_problems,
    iana_svc_name_rules,
    port_number,
)

__all__ = [
    "CIDR_REQUIRED",
    "CIDR_VALID",
    "CIDR_VALID_MESSAGE",
    "END_PORT_NEEDS_NUMERIC_PORT",
    "END_PORT_NEEDS_PORT",
    "END_PORT_NOT_BELOW_PORT",
    "EXCEPT_STRICT_SUBSET",
    "EXCEPT_VALID",
    "LABEL_KEY_PATTERN",
    "LABEL_KEY_PREFIX_AT_MOST_253",
    "MAX_CIDR_LENGTH",
    "MAX_EXCEPTS",
    "MAX_PEERS",
    "MAX_PEER_SELECTOR_TERMS",
    "MAX_POLICY_PORTS",
    "MAX_PORT_NAME_LENGTH",
    "MAX_RULES",
    "PEER_IP_BLOCK_ALONE",
    "PEER_REQUIRED",
    "POLICY_PORT_NAME_VALID",
    "POLICY_PORT_NUMBER_VALID",
    "POLICY_TYPES_AT_MOST_TWO",
    "IPBlock",
    "MiniNetworkPolicy",
    "MiniNetworkPolicySpec",
    "MiniNetworkPolicyStatus",
    "NetworkPolicyEgressRule",
    "NetworkPolicyIngressRule",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
    "PeerLabelSelector",
    "PeerLabelSelectorRequirement",
]

# --- Bounds upstream does not have ---
#
# The API server prices every CEL rule for the worst case before it accepts the CRD: a rule on the items of a
# list is priced once per item the list may hold, and nested lists multiply (a label selector of a peer is priced
# once per peer of every rule). Unbounded, the rules on peers alone are priced far beyond the budget of a CRD
# (10 million per rule, 100 million in all). Hence these bounds, each well beyond real policies (upstream's only
# limit is the request size). The dearest rule is EXCEPT_STRICT_SUBSET, priced at some 3,900 per ipBlock of
# MAX_EXCEPTS entries: 4 million for the MAX_RULES * MAX_PEERS = 1,024 peers of a direction, 40% of its limit
# (64 rules of 64 peers would exceed it).

MAX_RULES = 32
"""Bound on spec.ingress and on spec.egress (rules per direction)."""

MAX_PEERS = 32
"""Bound on each rule's `from` (ingress) or `to` (egress) list. A longer list can be split across rules: the
rules of a direction are ORed (NP-05), as the peers of one rule are."""

MAX_POLICY_PORTS = 32
"""Bound on each rule's ports."""

MAX_EXCEPTS = 32
"""Bound on an ipBlock's except list. EXCEPT_STRICT_SUBSET compares each entry with the block's cidr."""

MAX_PEER_SELECTOR_TERMS = 32
"""Bound on the matchLabels entries and on the matchExpressions of a peer's selector (spec.podSelector has
meta's bounds, 256 of each). A peer's selectors are priced once per peer of every rule, MAX_RULES * MAX_PEERS
times per direction."""

MAX_CIDR_LENGTH = 49
"""The longest CIDR text there is: the longest IP address (45 characters, see service.MAX_IP_LENGTH) and `/128`.
The bound on a cidr and on an except entry."""

MAX_PORT_NAME_LENGTH = 63
"""Bound on a named port. Names over 15 characters are refused anyway (POLICY_PORT_NAME_VALID, in upstream's
words); this looser bound only keeps the name rules' estimated cost low, and a name over 63 characters is
refused as "Too long" instead."""

# --- Ports: upstream ValidateNetworkPolicyPort ---

POLICY_PORT_NUMBER_VALID = Rule(
    rule="type(self) != int || (self >= 1 && self <= 65535)", message=PORT_NUMBER_VALID.message
)
"""On a port, an int-or-string: a number is validation.IsValidPortNum's, 1 to 65535."""


POLICY_PORT_NAME_VALID = iana_svc_name_rules("type(self) != string")
"""On a port, an int-or-string: a name is validation.IsValidPortName's (an IANA_SVC_NAME, NP-11), one rule per
upstream message, so that a name breaking several checks is refused with each of upstream's messages. Unlike a
Service's targetPort (service.IANA_SVC_NAME_VALID), "" is no shorthand here: it is refused, as upstream does,
with "must contain only alpha-numeric characters ..." and "must contain at least one letter"."""

END_PORT_NEEDS_PORT = Rule(
    rule="!has(self.endPort) || has(self.port)",
    message="may not be specified when `port` is not specified",
    field_path=".endPort",
)
"""On a port: an endPort closes a range that port opens (NP-10)."""

END_PORT_NEEDS_NUMERIC_PORT = Rule(
    rule="!has(self.endPort) || !has(self.port) || type(self.port) == int",
    message="may not be specified when `port` is non-numeric",
    field_path=".endPort",
)
"""On a port: a range needs a numeric start; a named port is one port of each pod (NP-10, NP-11)."""

END_PORT_NOT_BELOW_PORT = Rule(
    rule="!has(self.endPort) || !has(self.port) || type(self.port) != int || self.endPort >= self.port",
    message="must be greater than or equal to `port`",
    field_path=".endPort",
)
"""On a port: the range port..endPort is inclusive and may not be empty (upstream quotes the port's value,
`endPort: Invalid value: 80: must be ...`; a rule on the port object quotes none)."""

# --- Peers: upstream ValidateNetworkPolicyPeer (NP-08) ---

PEER_REQUIRED = Rule(
    rule="has(self.podSelector) || has(self.namespaceSelector) || has(self.ipBlock)",
    message="must specify a peer",
    reason="FieldValueRequired",
)
"""On a peer: `{}` is no peer (to allow everyone, a rule leaves its from/to list out, NP-07)."""

PEER_IP_BLOCK_ALONE = Rule(
    rule="!has(self.ipBlock) || !(has(self.podSelector) || has(self.namespaceSelector))",
    message="may not specify both ipBlock and another peer",
    reason="FieldValueForbidden",
)
"""On a peer: an ipBlock stands alone; podSelector and namespaceSelector may go together (their AND, NP-08)."""

# --- The label selectors of peers: metav1 ValidateLabelSelector, priced per peer ---
#
# spec.podSelector is meta's LabelSelector, with every rule in upstream's words. A peer's podSelector and
# namespaceSelector are checked alike, but they are priced once per peer of every rule, and meta's per-string
# rules cost too much there: LABEL_VALUE_VALID is priced at 840 per matchLabels value and LABEL_KEY_VALID at
# 4,070 per matchExpressions key, against 10 million per rule and 100 million per CRD. So a peer's selector
# checks those strings with OpenAPI patterns, which cost nothing of the budget (as meta's SelectorValue already
# does for the values of matchExpressions): the same strings are refused, on the same fields, only the wording
# differs ("should match '<upstream's regex>'"). The matchLabels keys keep LABEL_KEYS_VALID (70 per key), and
# the matchExpressions keep meta's rules on their values (LabelSelectorRequirement).

_DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_QUALIFIED_NAME_PART = r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]"

LABEL_KEY_PATTERN = rf"^({_DNS_SUBDOMAIN}/)?{_QUALIFIED_NAME_PART}$"
"""Upstream IsQualifiedName as a regex: an optional DNS subdomain prefix and `/`, then a name of at most 63
characters. The prefix's own bound (253 characters) is LABEL_KEY_PREFIX_AT_MOST_253's."""

LABEL_KEY_PREFIX_AT_MOST_253 = Rule(
    rule="self.indexOf('/') <= 253", message="prefix part must be no more than 253 bytes"
)
"""On a label key checked by LABEL_KEY_PATTERN: the prefix before `/` is a DNS subdomain of at most 253
characters, in upstream's words (which count bytes: the pattern allows ASCII only). indexOf() is -1 without
a prefix."""


def _label_key_prefix(key: str) -> str:
    if key.find("/") > 253:
        raise ValueError(LABEL_KEY_PREFIX_AT_MOST_253.message)
    return key


PeerLabelKey = Annotated[
    str,
    Field(max_length=253 + 1 + 63, pattern=LABEL_KEY_PATTERN, json_schema_extra=cel(LABEL_KEY_PREFIX_AT_MOST_253)),
    AfterValidator(_label_key_prefix),
]
"""A label key of a peer's matchExpressions: IsQualifiedName, by LABEL_KEY_PATTERN and the prefix's bound."""

PeerLabels = Annotated[
    dict[str, SelectorValue], Field(max_length=MAX_PEER_SELECTOR_TERMS, json_schema_extra=cel(LABEL_KEYS_VALID))
]
"""The matchLabels of a peer's selector: keys by LABEL_KEYS_VALID (upstream's words), values by pattern."""


class PeerLabelSelectorRequirement(LabelSelectorRequirement):
    """A label selector requirement is a selector that contains values, a key, and an operator that
    relates the key and values."""

    key: PeerLabelKey
    """key is the label key that the selector applies to."""


class PeerLabelSelector(KubeModel):
    """A label selector is a label query over a set of resources. The result of matchLabels and
    matchExpressions are ANDed. An empty label selector matches all objects. A null
    label selector matches no objects."""

    match_labels: PeerLabels | None = None
    """matchLabels is a map of {key,value} pairs. A single {key,value} in the matchLabels
    map is equivalent to an element of matchExpressions, whose key field is "key", the
    operator is "In", and the values array contains only "value". The requirements are ANDed.
    At most 32 (a bound of this CRD; upstream has none)."""

    match_expressions: list[PeerLabelSelectorRequirement] | None = Field(
        default=None, max_length=MAX_PEER_SELECTOR_TERMS
    )
    """matchExpressions is a list of label selector requirements. The requirements are ANDed.
    At most 32 (a bound of this CRD; upstream has none)."""


# --- IP blocks: upstream ValidateIPBlock ---

CIDR_VALID_MESSAGE = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
"""validation.IsValidCIDRForLegacyField's message."""

CIDR_REQUIRED = Rule(rule="self != ''", message="must be a CIDR, such as 10.0.0.0/8", reason="FieldValueRequired")
"""On ipBlock.cidr: upstream reports an empty cidr as `cidr: Required value` (a missing one too; the schema's
`required` says that here)."""

CIDR_VALID = Rule(rule="self == '' || isCIDR(self)", message=CIDR_VALID_MESSAGE)
"""On ipBlock.cidr: a CIDR (see the module docstring for the loose forms upstream tolerates)."""

EXCEPT_VALID = Rule(rule="isCIDR(self)", message=CIDR_VALID_MESSAGE)
"""On each ipBlock.except entry."""

_INSIDE = "cidr(self.cidr).containsCIDR(cidr(e)) && cidr(e).prefixLength() > cidr(self.cidr).prefixLength()"
# Strictly inside: contained and longer-prefixed. containsCIDR() is false across IP families, as upstream's
# net.IPNet.Contains is, so an except of the other family is refused too.

EXCEPT_STRICT_SUBSET = Rule(
    rule=f"!has(self.except) || !isCIDR(self.cidr) || self.except.all(e, !isCIDR(e) || ({_INSIDE}))",
    message="each entry must be a strict subset of `cidr`",
    message_expression=f"'\"' + self.except.map(e, isCIDR(e) && !({_INSIDE}) ? e : '')"
    ".filter(e, e != '')[0] + '\": must be a strict subset of `cidr`'",
    field_path=".except",
)
"""On an ipBlock: every except lies strictly inside the cidr, of the same family and with a longer prefix
(upstream: `ipBlock.except[0]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr``). An entry
that is no CIDR at all is EXCEPT_VALID's to report."""

# --- policyTypes: upstream ValidateNetworkPolicySpec ---

POLICY_TYPES_AT_MOST_TWO = Rule(rule="size(self) <= 2", message="may not specify more than two policyTypes")
"""On spec.policyTypes, in upstream's words (a schema maxItems would say "must have at most 2 items"). Upstream
does not refuse a duplicate (`[Ingress, Ingress]` is accepted, and means Ingress), so neither does this."""


# --- pydantic mirrors: the models refuse what the schema refuses ---


def _port_number_or_name(value: int | str) -> int | str:
    if isinstance(value, int):
        return port_number(value)
    if problems := iana_svc_name_problems(value):
        raise ValueError(", ".join(problems))
    return value


_CIDR_SYNTAX = re.compile(r"[0-9a-fA-F.:]+/(0|[1-9][0-9]{0,2})")
# An address (no zone) and a decimal prefix length without leading zeros, as Go's netip.ParsePrefix wants;
# Python's ip_network would also take `10.0.0.0/255.0.0.0`, `/08` and a bare address.


_IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(value: str) -> _IPNetwork | None:
    """The network of a CIDR as CEL's isCIDR() accepts it (host bits allowed), or None."""
    if not _CIDR_SYNTAX.fullmatch(value):
        return None
    try:
        interface = ipaddress.ip_interface(value)  # the address as written, host bits and all
    except ValueError:  # out-of-range prefix, IPv4 leading zeros, ...
        return None
    if isinstance(interface, ipaddress.IPv6Interface) and interface.ip.ipv4_mapped is not None:
        return None
    return interface.network


def _strictly_inside(inner: _IPNetwork, outer: _IPNetwork) -> bool:
    """EXCEPT_STRICT_SUBSET's test: same family, a longer prefix, and inside."""
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.prefixlen > outer.prefixlen and inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.prefixlen > outer.prefixlen and inner.subnet_of(outer)
    return False


def _cidr(value: str) -> str:
    if value == "":
        raise ValueError(f"Required value: {CIDR_REQUIRED.message}")
    if _network(value) is None:
        raise ValueError(CIDR_VALID_MESSAGE)
    return value


def _except(value: str) -> str:
    if _network(value) is None:
        raise ValueError(CIDR_VALID_MESSAGE)
    return value


def _at_most_two(value: list[str]) -> list[str]:
    if len(value) > 2:
        raise ValueError(POLICY_TYPES_AT_MOST_TWO.message)
    return value


# --- field types carrying the per-field rules ---

PolicyPortNumberOrName = Annotated[
    IntOrString,
    AfterValidator(_port_number_or_name),
    Field(
        json_schema_extra={
            "x-kubernetes-int-or-string": True,
            "maxLength": MAX_PORT_NAME_LENGTH,
            **cel(POLICY_PORT_NUMBER_VALID, *POLICY_PORT_NAME_VALID),
        }
    ),
]
"""A port number or an IANA_SVC_NAME (ValidateNetworkPolicyPort)."""

CIDR = Annotated[
    str, AfterValidator(_cidr), Field(max_length=MAX_CIDR_LENGTH, json_schema_extra=cel(CIDR_REQUIRED, CIDR_VALID))
]
"""An ipBlock's cidr."""

ExceptCIDR = Annotated[
    str, AfterValidator(_except), Field(max_length=MAX_CIDR_LENGTH, json_schema_extra=cel(EXCEPT_VALID))
]
"""An entry of an ipBlock's except list."""

PolicyType = Literal["Ingress", "Egress"]
"""PolicyType string describes the NetworkPolicy type: Ingress or Egress."""


# --- the models ---


class NetworkPolicyPort(KubeModel):
    """NetworkPolicyPort describes a port to allow traffic on"""

    model_config = ConfigDict(
        json_schema_extra=cel(END_PORT_NEEDS_PORT, END_PORT_NEEDS_NUMERIC_PORT, END_PORT_NOT_BELOW_PORT)
    )

    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"
    """protocol represents the protocol (TCP, UDP, or SCTP) which traffic must match.
    If not specified, this field defaults to TCP."""

    port: PolicyPortNumberOrName | None = None
    """port represents the port on the given protocol. This can either be a numerical or named
    port on a pod. If this field is not provided, this matches all port names and
    numbers.
    If present, only traffic on the specified protocol AND port will be matched."""

    end_port: PortNumber | None = None
    """endPort indicates that the range of ports from port to endPort if set, inclusive,
    should be allowed by the policy. This field cannot be defined if the port field
    is not defined or if the port field is defined as a named (string) port.
    The endPort must be equal or greater than port."""

    @model_validator(mode="after")
    def _end_port(self) -> NetworkPolicyPort:
        if self.end_port is None:
            return self
        if self.port is None:
            raise ValueError(f"endPort: {END_PORT_NEEDS_PORT.message}")
        if isinstance(self.port, str):
            raise ValueError(f"endPort: {END_PORT_NEEDS_NUMERIC_PORT.message}")
        if self.end_port < self.port:
            raise ValueError(f"endPort: {END_PORT_NOT_BELOW_PORT.message}")
        return self


class IPBlock(KubeModel):
    """IPBlock describes a particular CIDR (Ex. "192.168.1.0/24","2001:db8::/64") that is allowed
    to the pods matched by a NetworkPolicySpec's podSelector. The except entry describes CIDRs
    that should not be included within this rule."""

    model_config = ConfigDict(json_schema_extra=cel(EXCEPT_STRICT_SUBSET))

    cidr: CIDR
    """cidr is a string representing the IPBlock
    Valid examples are "192.168.1.0/24" or "2001:db8::/64" """

    except_: list[ExceptCIDR] | None = Field(
        default=None, alias="except", max_length=MAX_EXCEPTS, json_schema_extra=ATOMIC
    )
    """except is a slice of CIDRs that should not be included within an IPBlock
    Valid examples are "192.168.1.0/24" or "2001:db8::/64"
    Except values will be rejected if they are outside the cidr range.
    At most 32 (a bound of this CRD; upstream has none)."""

    @model_validator(mode="after")
    def _strict_subsets(self) -> IPBlock:
        outer = _network(self.cidr)
        for entry in self.except_ or ():
            inner = _network(entry)
            if outer is not None and inner is not None and not _strictly_inside(inner, outer):
                raise ValueError(f'except: "{entry}" must be a strict subset of `cidr`')
        return self


class NetworkPolicyPeer(KubeModel):
    """NetworkPolicyPeer describes a peer to allow traffic to/from. Only certain combinations of
    fields are allowed"""

    model_config = ConfigDict(json_schema_extra=cel(PEER_REQUIRED, PEER_IP_BLOCK_ALONE))

    pod_selector: PeerLabelSelector | None = None
    """podSelector is a label selector which selects pods. This field follows standard label
    selector semantics; if present but empty, it selects all pods.

    If namespaceSelector is also set, then the NetworkPolicyPeer as a whole selects
    the pods matching podSelector in the Namespaces selected by NamespaceSelector.
    Otherwise it selects the pods matching podSelector in the policy's own namespace."""

    namespace_selector: PeerLabelSelector | None = None
    """namespaceSelector selects namespaces using cluster-scoped labels. This field follows
    standard label selector semantics; if present but empty, it selects all namespaces.

    If podSelector is also set, then the NetworkPolicyPeer as a whole selects
    the pods matching podSelector in the namespaces selected by namespaceSelector.
    Otherwise it selects all pods in the namespaces selected by namespaceSelector."""

    ip_block: IPBlock | None = Field(default=None, alias="ipBlock")
    """ipBlock defines policy on a particular IPBlock. If this field is set then
    neither of the other fields can be."""

    @model_validator(mode="after")
    def _one_kind_of_peer(self) -> NetworkPolicyPeer:
        selectors = self.pod_selector is not None or self.namespace_selector is not None
        if not selectors and self.ip_block is None:
            raise ValueError(f"Required value: {PEER_REQUIRED.message}")
        if selectors and self.ip_block is not None:
            raise ValueError(f"Forbidden: {PEER_IP_BLOCK_ALONE.message}")
        return self


class NetworkPolicyIngressRule(KubeModel):
    """NetworkPolicyIngressRule describes a particular set of traffic that is allowed to the pods
    matched by a NetworkPolicySpec's podSelector. The traffic must match both ports and from."""

    ports: list[NetworkPolicyPort] | None = Field(default=None, max_length=MAX_POLICY_PORTS, json_schema_extra=ATOMIC)
    """ports is a list of ports which should be made accessible on the pods selected for
    this rule. Each item in this list is combined using a logical OR. If this field is
    empty or missing, this rule matches all ports (traffic not restricted by port).
    If this field is present and contains at least one item, then this rule allows
    traffic only if the traffic matches at least one port in the list.
    At most 32 (a bound of this CRD; upstream has none)."""

    from_: list[NetworkPolicyPeer] | None = Field(
        default=None, alias="from", max_length=MAX_PEERS, json_schema_extra=ATOMIC
    )
    """from is a list of sources which should be able to access the pods selected for this rule.
    Items in this list are combined using a logical OR operation. If this field is
    empty or missing, this rule matches all sources (traffic not restricted by
    source). If this field is present and contains at least one item, this rule
    allows traffic only if the traffic matches at least one item in the from list.
    At most 32 (a bound of this CRD; upstream has none)."""


class NetworkPolicyEgressRule(KubeModel):
    """NetworkPolicyEgressRule describes a particular set of traffic that is allowed out of pods
    matched by a NetworkPolicySpec's podSelector. The traffic must match both ports and to."""

    ports: list[NetworkPolicyPort] | None = Field(default=None, max_length=MAX_POLICY_PORTS, json_schema_extra=ATOMIC)
    """ports is a list of destination ports for outgoing traffic.
    Each item in this list is combined using a logical OR. If this field is
    empty or missing, this rule matches all ports (traffic not restricted by port).
    If this field is present and contains at least one item, then this rule allows
    traffic only if the traffic matches at least one port in the list.
    At most 32 (a bound of this CRD; upstream has none)."""

    to: list[NetworkPolicyPeer] | None = Field(default=None, max_length=MAX_PEERS, json_schema_extra=ATOMIC)
    """to is a list of destinations for outgoing traffic of pods selected for this rule.
    Items in this list are combined using a logical OR operation. If this field is
    empty or missing, this rule matches all destinations (traffic not restricted by
    destination). If this field is present and contains at least one item, this rule
    allows traffic only if the traffic matches at least one item in the to list.
    At most 32 (a bound of this CRD; upstream has none)."""


class MiniNetworkPolicySpec(KubeModel):
    """MiniNetworkPolicySpec provides the specification of a MiniNetworkPolicy (networking/v1
    NetworkPolicySpec)."""

    pod_selector: LabelSelector = Field(default_factory=LabelSelector, json_schema_extra={"default": {}})
    """podSelector selects the pods to which this NetworkPolicy object applies.
    The array of rules is applied to any pods selected by this field. An empty
    selector matches all pods in the policy's namespace.
    Multiple network policies can select the same set of pods. In this case,
    the ingress rules for each are combined additively.
    This field is optional. If it is not specified, it defaults to an empty selector."""

    ingress: list[NetworkPolicyIngressRule] | None = Field(default=None, max_length=MAX_RULES, json_schema_extra=ATOMIC)
    """ingress is a list of ingress rules to be applied to the selected pods.
    Traffic is allowed to a pod if there are no NetworkPolicies selecting the pod
    (and cluster policy otherwise allows the traffic), OR if the traffic source is
    the pod's local node, OR if the traffic matches at least one ingress rule
    across all of the NetworkPolicy objects whose podSelector matches the pod. If
    this field is empty then this NetworkPolicy does not allow any traffic (and serves
    solely to ensure that the pods it selects are isolated by default).
    At most 32 (a bound of this CRD; upstream has none)."""

    egress: list[NetworkPolicyEgressRule] | None = Field(default=None, max_length=MAX_RULES, json_schema_extra=ATOMIC)
    """egress is a list of egress rules to be applied to the selected pods. Outgoing traffic
    is allowed if there are no NetworkPolicies selecting the pod (and cluster policy
    otherwise allows the traffic), OR if the traffic matches at least one egress rule
    across all of the NetworkPolicy objects whose podSelector matches the pod. If
    this field is empty then this NetworkPolicy limits all outgoing traffic (and serves
    solely to ensure that the pods it selects are isolated by default).
    At most 32 (a bound of this CRD; upstream has none)."""

    policy_types: Annotated[list[PolicyType], AfterValidator(_at_most_two)] | None = Field(
        default=None, json_schema_extra={**ATOMIC, **cel(POLICY_TYPES_AT_MOST_TWO)}
    )
    """policyTypes is a list of rule types that the NetworkPolicy relates to.
    Valid options are ["Ingress"], ["Egress"], or ["Ingress", "Egress"].
    If this field is not specified, it will default based on the existence of ingress or egress rules;
    policies that contain an egress section are assumed to affect egress, and all policies
    (whether or not they contain an ingress section) are assumed to affect ingress.
    If you want to write an egress-only policy, you must explicitly specify policyTypes [ "Egress" ].
    Likewise, if you want to write a policy that specifies that no egress is allowed,
    you must specify a policyTypes value that include "Egress" (since such a policy would not include
    an egress section and would otherwise default to just [ "Ingress" ]).
    The default is not written into the spec: status.policyTypes shows the types in effect."""


class MiniNetworkPolicyStatus(KubeModel):
    """MiniNetworkPolicyStatus is the most recently observed status of the MiniNetworkPolicy, written by its
    controller (a NetworkPolicy has none)."""

    observed_generation: int | None = Field(default=None, ge=0)
    """The generation of the MiniNetworkPolicy the controller last acted on."""

    policy_types: list[PolicyType] | None = Field(default=None, max_length=2, json_schema_extra=ATOMIC)
    """The policy types in effect: spec.policyTypes, or when it is empty, upstream's default (NP-02):
    Ingress, plus Egress if the policy has egress rules."""

    policy_types_text: str | None = None
    """policyTypes joined with commas (`Ingress,Egress`), the POLICY-TYPES column of `-o wide` (a printer
    column shows only the first value of a list)."""

    selected_pods: int | None = Field(default=None, ge=0)
    """How many pods of the namespace podSelector selects (NP-01), the SELECTED column."""

    pod_selector_text: str | None = None
    """The podSelector as `kubectl get netpol` prints it (`app=web,tier in (a,b)`, or `<none>` for the empty
    selector `{}`, which selects every pod), the POD-SELECTOR column."""

    conditions: list[Condition] | None = Field(default=None, json_schema_extra=list_map("type"))
    """The latest observations of the MiniNetworkPolicy's state. Accepted: True when the engine read the
    policy (reason Accepted); False with a reason saying why it cannot be enforced as written, such as
    NamedPortNotDeclared (a named port no selected pod declares, NP-11)."""


class MiniNetworkPolicy(CustomResource):
    """MiniNetworkPolicy describes what network traffic is allowed for a set of Pods.
    It mirrors networking/v1 NetworkPolicy."""

    crd: ClassVar[CRDInfo] = CRDInfo(
        kind="MiniNetworkPolicy",
        plural="mininetworkpolicies",
        singular="mininetworkpolicy",
        short_names=("mnetpol", "mnp"),
        categories=("all", "mini"),
        # `kubectl get netpol` columns plus SELECTED, then POLICY-TYPES for `-o wide`.
        printer_columns=(
            PrinterColumn("Pod-Selector", "string", ".status.podSelectorText", "The pods the policy applies to."),
            PrinterColumn("Selected", "integer", ".status.selectedPods", "How many pods the policy selects."),
            AGE_COLUMN,
            PrinterColumn(
                "Policy-Types", "string", ".status.policyTypesText", "The policy types in effect.", priority=1
            ),
        ),
    )

    api_version: Literal["minik8s.dev/v1"] = "minik8s.dev/v1"
    kind: Literal["MiniNetworkPolicy"] = "MiniNetworkPolicy"

    spec: MiniNetworkPolicySpec = Field(default_factory=MiniNetworkPolicySpec, json_schema_extra={"default": {}})
    """spec represents the specification of the desired behavior for this MiniNetworkPolicy."""

    status: MiniNetworkPolicyStatus | None = None
    """Most recently observed status of the MiniNetworkPolicy. Populated by the system. Read-only."""
