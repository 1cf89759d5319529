"""MiniService (minik8s.dev/v1): the model of core/v1 Service, from which its CRD is generated.

A MiniService owns a real, selector-less Service of the same name: the API server allocates its cluster IP
and node ports and kube-proxy routes them, while the MiniService's controller writes the EndpointSlices
(SV-01..03, ES-01). The schema below therefore refuses what core/v1 refuses, so that a MiniService the API
server accepts never makes a Service the API server then refuses.

Where the checks come from. core/v1 ValidateService (pkg/apis/core/validation) runs after the Service's
defaults (SetDefaults_Service) and after the registry's allocation pre-checks (pkg/registry/core/service/
storage/alloc.go); each CEL rule below names the upstream check it mirrors and says what upstream says, in
upstream's words where a rule can carry them. Two kinds of upstream checks cannot be made here, and are the
API server's own when the controller creates the Service (a failure shows in the ServiceSynced condition):

- the allocation ranges: a clusterIP outside --service-cluster-ip-range, a nodePort outside
  --service-node-port-range (30000-32767 by default), an IP family the cluster does not serve;
- the loose IP syntax of legacy fields: upstream still accepts "010.0.0.1" and IPv4-mapped IPv6 addresses
  (with a warning that a future release will refuse them, feature StrictIPCIDRValidation); the API server's
  CEL `isIP()`/`isCIDR()` already refuse them, so a MiniService is that much stricter.

Upstream defaults that depend on other fields cannot be CRD defaults (a structural default is unconditional),
so the owned Service gets them from the API server's own SetDefaults_Service when the controller writes it:
targetPort = port when omitted (or 0, or ""), externalTrafficPolicy Cluster when the service is externally
accessible, allocateLoadBalancerNodePorts true for a LoadBalancer, a 10800 s clientIP timeout for ClientIP
affinity, and no sessionAffinityConfig at all when sessionAffinity is None (upstream drops it, so it is
accepted and ignored here too; the controller leaves out what that defaulting would rewrite).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, ConfigDict, Field

from operators.api.crdinfo import ATOMIC, CRDInfo, PrinterColumn, Rule, cel, list_map
from operators.api.meta import (
    AGE_COLUMN,
    PORT_NUMBER_VALID,
    Condition,
    CustomResource,
    IntOrString,
    KubeModel,
    Labels,
    PortNumber,
    iana_svc_name_problems,
    iana_svc_name_rules,
)

__all__ = [
    "ALLOCATE_NODE_PORTS_ONLY_FOR_LOAD_BALANCER",
    "CLIENT_IP_TIMEOUT_IN_RANGE",
    "CLUSTER_IPS_EMPTY_WITHOUT_CLUSTER_IP",
    "CLUSTER_IPS_ENTRY_VALID",
    "CLUSTER_IPS_MATCH_CLUSTER_IP",
    "CLUSTER_IPS_MATCH_IP_FAMILIES",
    "CLUSTER_IP_VALID",
    "EXTERNAL_IP_VALID",
    "EXTERNAL_TRAFFIC_POLICY_ONLY_WHEN_EXTERNAL",
    "HEADLESS_ONLY_FOR_CLUSTER_IP",
    "IANA_SVC_NAME_VALID",
    "IP_FAMILIES_UNIQUE",
    "IP_VALID_MESSAGE",
    "LOAD_BALANCER_CLASS_IMMUTABLE",
    "LOAD_BALANCER_CLASS_ONLY_FOR_LOAD_BALANCER",
    "MAX_EXTERNAL_IPS",
    "MAX_IP_LENGTH",
    "MAX_PORTS",
    "MAX_SOURCE_RANGES",
    "MAX_SOURCE_RANGE_LENGTH",
    "MAX_TARGET_PORT_LENGTH",
    "MULTIPLE_CLUSTER_IPS_NEED_DUAL_STACK",
    "MULTIPLE_IP_FAMILIES_NEED_DUAL_STACK",
    "NODE_PORTS_UNIQUE",
    "NODE_PORT_NOT_FOR_CLUSTER_IP",
    "NONE_IS_THE_ONLY_CLUSTER_IP",
    "ONE_CLUSTER_IP_PER_FAMILY",
    "PORTS_REQUIRED",
    "PORT_NAMES_REQUIRED",
    "PORT_NAMES_UNIQUE",
    "PORT_NAME_VALID",
    "PORT_NUMBER_VALID",
    "QUALIFIED_NAME_VALID",
    "SOURCE_RANGES_ONLY_FOR_LOAD_BALANCER",
    "SOURCE_RANGE_VALID",
    "TARGET_PORT_NUMBER_VALID",
    "ClientIPConfig",
    "EndpointCounts",
    "LoadBalancerIngress",
    "LoadBalancerStatus",
    "MiniService",
    "MiniServiceSpec",
    "MiniServiceStatus",
    "PortStatus",
    "ServicePort",
    "SessionAffinityConfig",
]

# --- Bounds upstream does not have ---
#
# The API server prices every CEL rule for the worst case before it accepts the CRD: a rule on the items of an
# unbounded list, or on an unbounded string, is priced as if the request (3 MiB) were all that list or string.
# Hence these bounds, each far beyond real Services (upstream's only limit is the request size).

MAX_PORTS = 256
"""Bound on spec.ports. The name and nodePort uniqueness rules compare every port with every other one,
a cost that grows with the square of this bound."""

MAX_EXTERNAL_IPS = 256
"""Bound on spec.externalIPs."""

MAX_SOURCE_RANGES = 256
"""Bound on spec.loadBalancerSourceRanges."""

MAX_IP_LENGTH = 45
"""The longest IP address text there is (INET6_ADDRSTRLEN - 1: `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`);
the bound on the clusterIPs and externalIPs strings."""

MAX_TARGET_PORT_LENGTH = 63
"""Bound on a targetPort name. Names over 15 characters are refused anyway (IANA_SVC_NAME_VALID, in upstream's
words); this looser bound only keeps the name rules' estimated cost low (unbounded, each is priced 8 to 32
times the budget), and a name over 63 characters is refused as "Too long" instead."""

MAX_SOURCE_RANGE_LENGTH = 64
"""Bound on a loadBalancerSourceRanges string: the longest CIDR (49 characters) and room for the surrounding
spaces upstream tolerates there."""

# --- Ports: upstream validateServicePort and ValidatePortNumOrName ---

TARGET_PORT_NUMBER_VALID = Rule(
    rule="type(self) != int || (self >= 0 && self <= 65535)",
    message=PORT_NUMBER_VALID.message,
)
"""On targetPort, an int-or-string: a number is IsValidPortNum's, except 0, which SetDefaults_Service turns
into the service port before validation (so upstream accepts it; the controller does the same)."""


# "" is exempt: SetDefaults_Service replaces an empty targetPort with the service port.
IANA_SVC_NAME_VALID = iana_svc_name_rules("type(self) != string || self == ''")
"""On targetPort: validation.IsValidPortName (an IANA_SVC_NAME), one rule per upstream message, so that a
name breaking several checks is refused with each of upstream's messages."""

PORT_NAME_VALID = Rule(
    rule="!format.dns1123Label().validate(self).hasValue()",
    message="must be a DNS label: lowercase alphanumeric characters or '-', starting and ending with one",
    message_expression="format.dns1123Label().validate(self).value()[0]",
)
"""On a port's name: ValidateDNS1123Label, through the API server's format library (see LABEL_KEY_VALID in
operators/api/meta.py), which reports upstream's own message."""

QUALIFIED_NAME_VALID = Rule(
    rule="!format.qualifiedName().validate(self).hasValue()",
    message="must be a qualified name: an optional DNS subdomain prefix and '/', then a name",
    message_expression="format.qualifiedName().validate(self).value()[0]",
)
"""On appProtocol and loadBalancerClass: ValidateQualifiedName (label-key syntax)."""


_HAS_NAME = "p.?name.orValue('') != ''"
_NAMES = f"self.filter(p, {_HAS_NAME}).map(p, p.name)"
_OTHER_PORT = "(q.port != p.port || q.protocol != p.protocol)"  # (port, protocol) is the list's key

PORT_NAMES_REQUIRED = Rule(
    rule=f"size(self) <= 1 || self.all(p, {_HAS_NAME})",
    message="each port must have a name when there is more than one port",
    reason="FieldValueRequired",
)
"""On spec.ports: validateServicePort requires names when there are several ports (upstream reports
`spec.ports[1].name: Required value`)."""

PORT_NAMES_UNIQUE = Rule(
    rule=f"size({_NAMES}.distinct()) == size({_NAMES})",
    message="Duplicate value: each port needs a name of its own",
    message_expression=f"'Duplicate value: \"' + self.map(p, {_HAS_NAME}"
    f" && self.exists(q, {_OTHER_PORT} && q.?name.orValue('') == p.name) ? p.name : '')"
    ".filter(name, name != '')[0] + '\" (each port needs a name of its own)'",
)
"""On spec.ports: validateServicePort's allNames (upstream: `spec.ports[1].name: Duplicate value: "http"`).

Cost. Comparing every port with every other is quadratic, and the API server stops a rule that runs out of
its per-call budget. The rule uses `distinct()`, priced at about 2 per comparison: 256 ports with long names
pass well within the budget, where an `all(p, exists_one(q, ...))` over the same ports runs out of it. Only
the message, evaluated once a duplicate was found, still compares port by port; past some 230 ports with
long names it runs out of budget, and the MiniService is then refused with the API server's "call cost exceeds
limit" instead of the duplicate's name.

Why the messages name no index. A rule's fieldPath is fixed, so the error is reported on spec.ports, and a
message could only name the port by computing its index; the two-variable comprehensions that can
(`transformList(i, p, ...)`) are priced by the API server at over 100 times the budget, and so is any
concatenation with `string(int)`, whose length it cannot bound (which is why NODE_PORTS_UNIQUE's message
cannot name the port number). The map-then-filter in the message is for the same reason: the API server can
bound the length of `cond ? p.name : ''`, not that of `self.filter(...)[0].name`."""

_NODE_PORT_KEYS = (
    "self.filter(p, p.?nodePort.orValue(0) != 0)"
    ".map(p, p.nodePort * 4 + (p.protocol == 'TCP' ? 0 : p.protocol == 'UDP' ? 1 : 2))"
)
# Each (nodePort, protocol) pair encoded as one number, for distinct(): strings made with string(int) could
# not be bounded (see PORT_NAMES_UNIQUE).

NODE_PORTS_UNIQUE = Rule(
    rule=f"size({_NODE_PORT_KEYS}.distinct()) == size({_NODE_PORT_KEYS})",
    message="Duplicate value: two ports have the same nodePort and protocol",
)
"""On spec.ports: ValidateService's check for duplicate (protocol, nodePort) pairs (upstream:
`spec.ports[1].nodePort: Duplicate value: 30080`; the registry's allocator, which runs first, says
"provided port is already allocated"). The same nodePort may serve TCP and UDP. Duplicate (port, protocol)
pairs need no rule: the list is a map keyed by both, and the API server refuses a duplicate key itself
(`spec.ports[1]: Duplicate value: ...`), as upstream does."""

# --- Cluster IPs and IP families: upstream ValidateServiceClusterIPsRelatedFields and alloc.go ---

IP_VALID_MESSAGE = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
"""validation.IsValidIPForLegacyField's message."""

CLUSTER_IP_VALID = Rule(rule="self == '' || self == 'None' || isIP(self)", message=IP_VALID_MESSAGE)
"""On spec.clusterIP: "", "None" or an IP address (upstream checks clusterIPs[0], which the registry copies
from clusterIP when only clusterIP is given)."""

CLUSTER_IPS_ENTRY_VALID = Rule(rule="self == 'None' || isIP(self)", message=IP_VALID_MESSAGE)
"""On each spec.clusterIPs entry: "None" or an IP address (that "None" may only be the first and only entry,
NONE_IS_THE_ONLY_CLUSTER_IP checks on the list)."""

NONE_IS_THE_ONLY_CLUSTER_IP = Rule(
    rule="size(self) <= 1 || !self.exists(ip, ip == 'None')", message="'None' must be the first and only value"
)
"""On spec.clusterIPs."""

ONE_CLUSTER_IP_PER_FAMILY = Rule(
    rule="size(self) <= 1 || !isIP(self[0]) || !isIP(self[1]) || ip(self[0]).family() != ip(self[1]).family()",
    message="may specify no more than one IP for each IP family",
)
"""On spec.clusterIPs: two addresses must be one IPv4 and one IPv6 (netutils.IsDualStackIPStrings)."""

CLUSTER_IPS_MATCH_CLUSTER_IP = Rule(
    rule="self.?clusterIP.orValue('') == '' || size(self.?clusterIPs.orValue([])) == 0"
    " || self.clusterIPs[0] == self.clusterIP",
    message="first value must match `clusterIP`",
    field_path=".clusterIPs",
)
"""On the spec: clusterIP and clusterIPs[0] are one address."""

CLUSTER_IPS_EMPTY_WITHOUT_CLUSTER_IP = Rule(
    rule="self.?clusterIP.orValue('') != '' || size(self.?clusterIPs.orValue([])) == 0",
    message="must be empty when `clusterIP` is not specified",
    field_path=".clusterIPs",
)
"""On the spec: on create, the registry fills clusterIPs from clusterIP, never the other way round."""


# The cluster IPs as upstream validates them: on create, the registry copies a lone clusterIP into clusterIPs.
_CLUSTER_IPS = (
    "(size(self.?clusterIPs.orValue([])) > 0 ? self.clusterIPs[0] : has(self.clusterIP) ? self.clusterIP : '')",
    "(size(self.?clusterIPs.orValue([])) > 1 ? self.clusterIPs[1] : '')",
)


def _family_matches(index: int) -> Rule:
    ip, family = _CLUSTER_IPS[index], f"self.ipFamilies[{index}]"
    return Rule(
        rule=f"size(self.?ipFamilies.orValue([])) <= {index}"
        f" || !isIP({ip}) || (ip({ip}).family() == 6) == ({family} == 'IPv6')",
        message=f"each cluster IP must be of the family `ipFamilies[{index}]` names",
        message_expression=f"'expected an ' + {family} + ' value as indicated by `ipFamilies[{index}]`'",
        field_path=".clusterIPs",
    )


CLUSTER_IPS_MATCH_IP_FAMILIES = (_family_matches(0), _family_matches(1))
"""On the spec: the i-th cluster IP is of family ipFamilies[i] (upstream reports it on spec.clusterIPs[i]).
"None" and "" are no IP, so they are never checked."""

IP_FAMILIES_UNIQUE = Rule(
    rule="size(self) <= 1 || self[0] != self[1]",
    message="Duplicate value",
    message_expression="'ipFamilies[1]: Duplicate value: \"' + self[1] + '\"'",
)
"""On spec.ipFamilies: upstream's `spec.ipFamilies[1]: Duplicate value: "IPv4"`."""

_POLICY = (
    "self.?ipFamilyPolicy.orValue("
    "self.?clusterIP.orValue('') == 'None' && size(self.?selector.orValue({})) == 0"
    " ? 'RequireDualStack' : 'SingleStack')"
)
# alloc.go's default policy: RequireDualStack for a headless service without selector, else SingleStack.

MULTIPLE_IP_FAMILIES_NEED_DUAL_STACK = Rule(
    rule=f"{_POLICY} != 'SingleStack' || size(self.?ipFamilies.orValue([])) < 2",
    message="must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified",
    field_path=".ipFamilyPolicy",
)
"""On the spec: alloc.go's initIPFamilyFields (an omitted policy is SingleStack, see _POLICY)."""

MULTIPLE_CLUSTER_IPS_NEED_DUAL_STACK = Rule(
    rule=f"{_POLICY} != 'SingleStack' || size(self.?clusterIPs.orValue([])) < 2",
    message="must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified",
    field_path=".ipFamilyPolicy",
)
"""On the spec: alloc.go's initIPFamilyFields."""

# --- Which fields go with which type: upstream ValidateService ---

PORTS_REQUIRED = Rule(
    rule="size(self.?ports.orValue([])) > 0 || self.?clusterIP.orValue('') == 'None'",
    message="must be specified unless `clusterIP` is 'None'",
    field_path=".ports",
    reason="FieldValueRequired",
)
"""On the spec: only a headless service may have no ports (upstream: `spec.ports: Required value`)."""

HEADLESS_ONLY_FOR_CLUSTER_IP = Rule(
    rule="self.?clusterIP.orValue('') != 'None' || !(self.type in ['NodePort', 'LoadBalancer'])",
    message="may not be set to 'None' for NodePort or LoadBalancer services",
    message_expression="\"may not be set to 'None' for \" + self.type + ' services'",
    field_path=".clusterIP",
)
"""On the spec: a NodePort or LoadBalancer service needs a cluster IP (upstream reports it on
spec.clusterIPs[0], the copy of clusterIP)."""

NODE_PORT_NOT_FOR_CLUSTER_IP = Rule(
    rule="self.type != 'ClusterIP' || !has(self.ports) || self.ports.all(p, p.?nodePort.orValue(0) == 0)",
    message="nodePort may not be used when `type` is 'ClusterIP'",
    field_path=".ports",
    reason="FieldValueForbidden",
)
"""On the spec: upstream `spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'`."""

EXTERNAL_TRAFFIC_POLICY_ONLY_WHEN_EXTERNAL = Rule(
    rule="!has(self.externalTrafficPolicy) || self.type in ['NodePort', 'LoadBalancer']"
    " || size(self.?externalIPs.orValue([])) > 0",
    message="may only be set for externally-accessible services",
    field_path=".externalTrafficPolicy",
)
"""On the spec: validateServiceExternalTrafficPolicy; externally accessible is NodePort, LoadBalancer, or
ClusterIP with externalIPs (apiservice.ExternallyAccessible)."""


def _only_for_load_balancer(field: str) -> Rule:
    return Rule(
        rule=f"!has(self.{field}) || self.type == 'LoadBalancer'",
        message="may only be used when `type` is 'LoadBalancer'",
        field_path=f".{field}",
        reason="FieldValueForbidden",
    )


LOAD_BALANCER_CLASS_ONLY_FOR_LOAD_BALANCER = _only_for_load_balancer("loadBalancerClass")
"""On the spec: validateLoadBalancerClassField."""

SOURCE_RANGES_ONLY_FOR_LOAD_BALANCER = Rule(
    rule="size(self.?loadBalancerSourceRanges.orValue([])) == 0 || self.type == 'LoadBalancer'",
    message="may only be used when `type` is 'LoadBalancer'",
    field_path=".loadBalancerSourceRanges",
    reason="FieldValueForbidden",
)
"""On the spec: ValidateService (upstream names the field `spec.LoadBalancerSourceRanges`, capitalised)."""

ALLOCATE_NODE_PORTS_ONLY_FOR_LOAD_BALANCER = _only_for_load_balancer("allocateLoadBalancerNodePorts")
"""On the spec: ValidateService."""

LOAD_BALANCER_CLASS_IMMUTABLE = Rule(
    rule="oldSelf.type != 'LoadBalancer' || self.type != 'LoadBalancer'"
    " || (has(self.loadBalancerClass) == has(oldSelf.loadBalancerClass)"
    " && (!has(self.loadBalancerClass) || self.loadBalancerClass == oldSelf.loadBalancerClass))",
    message="may not change once set",
    field_path=".loadBalancerClass",
)
"""On the spec, on update: validateLoadBalancerClassField; a LoadBalancer keeps its class (set or not) as long
as it stays a LoadBalancer. (Written with has(), not `self.?loadBalancerClass.orValue('')`: the API server
cannot bound the length of an orValue() and prices that comparison at over 100 times the budget.)"""

CLIENT_IP_TIMEOUT_IN_RANGE = Rule(
    rule="self.sessionAffinity != 'ClientIP'"
    " || !has(self.sessionAffinityConfig) || !has(self.sessionAffinityConfig.clientIP)"
    " || !has(self.sessionAffinityConfig.clientIP.timeoutSeconds)"
    " || (self.sessionAffinityConfig.clientIP.timeoutSeconds > 0"
    " && self.sessionAffinityConfig.clientIP.timeoutSeconds <= 86400)",
    message="must be greater than 0 and less than 86400",
    field_path=".sessionAffinityConfig.clientIP.timeoutSeconds",
)
"""On the spec: validateAffinityTimeout (86400 itself is allowed, whatever the message says). Only with
ClientIP affinity: with None, SetDefaults_Service drops the whole sessionAffinityConfig unvalidated."""

# --- Addresses: upstream ValidateEndpointIP (externalIPs) and IsValidCIDRForLegacyField ---

EXTERNAL_IP_VALID = (
    Rule(rule="isIP(self)", message=IP_VALID_MESSAGE),
    Rule(
        rule="!isIP(self) || !ip(self).isUnspecified()",
        message="may not be unspecified (0.0.0.0, ::)",
        message_expression="'may not be unspecified (' + self + ')'",
    ),
    Rule(
        rule="!isIP(self) || !ip(self).isLoopback()",
        message="may not be in the loopback range (127.0.0.0/8, ::1/128)",
    ),
    Rule(
        rule="!isIP(self) || !ip(self).isLinkLocalUnicast()",
        message="may not be in the link-local range (169.254.0.0/16, fe80::/10)",
    ),
    Rule(
        rule="!isIP(self) || !ip(self).isLinkLocalMulticast()",
        message="may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
    ),
)
"""On each spec.externalIPs entry: a valid IP address, and not one of ValidateEndpointIP's special ones."""

SOURCE_RANGE_VALID = Rule(
    rule="isCIDR(self.trim())",
    message="must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
)
"""On each spec.loadBalancerSourceRanges entry: a CIDR, surrounding spaces allowed (an upstream accident kept
for compatibility)."""


# --- Field types carrying the per-field rules, with pydantic mirrors (the models refuse what the schema does) ---


def _target_port(value: int | str) -> int | str:
    if isinstance(value, int) and not 0 <= value <= 65535:
        raise ValueError(TARGET_PORT_NUMBER_VALID.message)
    if isinstance(value, str) and (problems := iana_svc_name_problems(value) if value else []):
        raise ValueError(", ".join(problems))
    return value


TargetPort = Annotated[
    IntOrString,
    AfterValidator(_target_port),
    Field(
        json_schema_extra={
            "x-kubernetes-int-or-string": True,
            "maxLength": MAX_TARGET_PORT_LENGTH,
            **cel(TARGET_PORT_NUMBER_VALID, *IANA_SVC_NAME_VALID),
        }
    ),
]
"""A port number or an IANA_SVC_NAME (ValidatePortNumOrName); 0 and "" stand for the service port."""

ClusterIPsEntry = Annotated[str, Field(max_length=MAX_IP_LENGTH, json_schema_extra=cel(CLUSTER_IPS_ENTRY_VALID))]
"""An entry of clusterIPs."""

ExternalIP = Annotated[str, Field(max_length=MAX_IP_LENGTH, json_schema_extra=cel(*EXTERNAL_IP_VALID))]
"""An entry of externalIPs."""

SourceRange = Annotated[str, Field(max_length=MAX_SOURCE_RANGE_LENGTH, json_schema_extra=cel(SOURCE_RANGE_VALID))]
"""An entry of loadBalancerSourceRanges."""

QualifiedName = Annotated[str, Field(max_length=253 + 1 + 63, json_schema_extra=cel(QUALIFIED_NAME_VALID))]
"""A label-style name with an optional DNS subdomain prefix, such as `kubernetes.io/h2c`."""


class ServicePort(KubeModel):
    """ServicePort contains information on service's port."""

    name: str | None = Field(default=None, max_length=63, json_schema_extra=cel(PORT_NAME_VALID))
    """The name of this port within the service. This must be a DNS_LABEL.
    All ports within a ServiceSpec must have unique names. When considering
    the endpoints for a Service, this must match the 'name' field in the
    EndpointPort.
    Optional if only one ServicePort is defined on this service."""

    protocol: Literal["SCTP", "TCP", "UDP"] = "TCP"
    """The IP protocol for this port. Supports "TCP", "UDP", and "SCTP".
    Default is TCP."""

    app_protocol: QualifiedName | None = None
    """The application protocol for this port.
    This is used as a hint for implementations to offer richer behavior for protocols that they understand.
    This field follows standard Kubernetes label syntax.
    Valid values are either un-prefixed protocol names (reserved for IANA standard service names, as per
    RFC-6335 and https://www.iana.org/assignments/service-names), Kubernetes-defined prefixed names
    ('kubernetes.io/h2c', 'kubernetes.io/ws', 'kubernetes.io/wss'), or implementation-defined prefixed
    names such as mycompany.com/my-custom-protocol."""

    port: PortNumber
    """The port that will be exposed by this service."""

    target_port: TargetPort | None = None
    """Number or name of the port to access on the pods targeted by the service.
    Number must be in the range 1 to 65535. Name must be an IANA_SVC_NAME.
    If this is a string, it will be looked up as a named port in the
    target Pod's container ports. If this is not specified, the value
    of the 'port' field is used (an identity map).
    This field is ignored for services with clusterIP=None, and should be
    omitted or set equal to the 'port' field.
    More info: https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service"""

    node_port: int | None = Field(default=None, ge=0, le=65535)
    """The port on each node on which this service is exposed when type is
    NodePort or LoadBalancer.  Usually assigned by the system. If a value is
    specified, in-range, and not in use it will be used, otherwise the
    operation will fail.  If not specified, a port will be allocated if this
    Service requires one.  If this field is specified when creating a
    Service which does not need it, creation will fail.
    More info: https://kubernetes.io/docs/concepts/services-networking/service/#type-nodeport"""


class ClientIPConfig(KubeModel):
    """ClientIPConfig represents the configurations of Client IP based session affinity."""

    timeout_seconds: int = 10800
    """timeoutSeconds specifies the seconds of ClientIP type session sticky time.
    The value must be >0 && <=86400(for 1 day) if ServiceAffinity == "ClientIP".
    Default value is 10800(for 3 hours)."""


class SessionAffinityConfig(KubeModel):
    """SessionAffinityConfig represents the configurations of session affinity."""

    client_ip: ClientIPConfig | None = Field(default=None, alias="clientIP")
    """clientIP contains the configurations of Client IP based session affinity."""


class MiniServiceSpec(KubeModel):
    """MiniServiceSpec describes the attributes that a user creates on a MiniService (core/v1 ServiceSpec).
    ExternalName services are not supported."""

    model_config = ConfigDict(
        json_schema_extra=cel(
            PORTS_REQUIRED,
            HEADLESS_ONLY_FOR_CLUSTER_IP,
            NODE_PORT_NOT_FOR_CLUSTER_IP,
            CLUSTER_IPS_MATCH_CLUSTER_IP,
            CLUSTER_IPS_EMPTY_WITHOUT_CLUSTER_IP,
            *CLUSTER_IPS_MATCH_IP_FAMILIES,
            MULTIPLE_IP_FAMILIES_NEED_DUAL_STACK,
            MULTIPLE_CLUSTER_IPS_NEED_DUAL_STACK,
            CLIENT_IP_TIMEOUT_IN_RANGE,
            EXTERNAL_TRAFFIC_POLICY_ONLY_WHEN_EXTERNAL,
            LOAD_BALANCER_CLASS_ONLY_FOR_LOAD_BALANCER,
            LOAD_BALANCER_CLASS_IMMUTABLE,
            SOURCE_RANGES_ONLY_FOR_LOAD_BALANCER,
            ALLOCATE_NODE_PORTS_ONLY_FOR_LOAD_BALANCER,
        )
    )

    ports: list[ServicePort] | None = Field(
        default=None,
        max_length=MAX_PORTS,
        json_schema_extra={
            **list_map("port", "protocol"),
            **cel(PORT_NAMES_REQUIRED, PORT_NAMES_UNIQUE, NODE_PORTS_UNIQUE),
        },
    )
    """The list of ports that are exposed by this service.
    At most 256 (a bound of this CRD; upstream has none).
    More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"""

    selector: Annotated[Labels, Field(json_schema_extra={"x-kubernetes-map-type": "atomic"})] | None = None
    """Route service traffic to pods with label keys and values matching this
    selector. If empty or not present, the MiniService manages no endpoints: some
    other process may write EndpointSlices for its Service.
    More info: https://kubernetes.io/docs/concepts/services-networking/service/"""

    cluster_ip: str | None = Field(default=None, alias="clusterIP", json_schema_extra=cel(CLUSTER_IP_VALID))
    """clusterIP is the IP address of the service and is usually assigned
    randomly. If an address is specified manually, is in-range (as per
    system configuration), and is not in use, it will be allocated to the
    service; otherwise creation of the service will fail.  Valid values are "None",
    empty string (""), or a valid IP address. Setting this to "None" makes a
    "headless service" (no virtual IP), which is useful when direct endpoint
    connections are preferred and proxying is not required.
    More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"""

    cluster_ips: list[ClusterIPsEntry] | None = Field(
        default=None,
        alias="clusterIPs",
        max_length=2,
        json_schema_extra={**ATOMIC, **cel(NONE_IS_THE_ONLY_CLUSTER_IP, ONE_CLUSTER_IP_PER_FAMILY)},
    )
    """ClusterIPs is a list of IP addresses assigned to this service, and are
    usually assigned randomly.  If an address is specified manually, is
    in-range (as per system configuration), and is not in use, it will be
    allocated to the service; otherwise creation of the service will fail.
    Valid values are "None", empty string (""), or a valid IP address.  Setting
    this to "None" makes a "headless service" (no virtual IP).
    If this field is not specified, it will be initialized from the clusterIP field.  If this field is
    specified, clients must ensure that clusterIPs[0] and clusterIP have the same value.

    This field may hold a maximum of two entries (dual-stack IPs, in either order).
    These IPs must correspond to the values of the ipFamilies field. Both
    clusterIPs and ipFamilies are governed by the ipFamilyPolicy field.
    More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"""

    type: Literal["ClusterIP", "LoadBalancer", "NodePort"] = "ClusterIP"
    """type determines how the Service is exposed. Defaults to ClusterIP. Valid
    options are ClusterIP, NodePort, and LoadBalancer (ExternalName, which a
    core/v1 Service supports, is not supported by MiniService).
    "ClusterIP" allocates a cluster-internal IP address for load-balancing
    to endpoints. If clusterIP is "None", no virtual IP is
    allocated and the endpoints are published as a set of endpoints rather
    than a virtual IP.
    "NodePort" builds on ClusterIP and allocates a port on every node which
    routes to the same endpoints as the clusterIP.
    "LoadBalancer" builds on NodePort and creates an external load-balancer
    (if supported in the current cloud) which routes to the same endpoints
    as the clusterIP.
    More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types"""

    external_ips: list[ExternalIP] | None = Field(
        default=None, alias="externalIPs", max_length=MAX_EXTERNAL_IPS, json_schema_extra=ATOMIC
    )
    """externalIPs is a list of IP addresses for which nodes in the cluster
    will also accept traffic for this service.  These IPs are not managed by
    Kubernetes.  The user is responsible for ensuring that traffic arrives
    at a node with this IP.  A common example is external load-balancers
    that are not part of the Kubernetes system.
    At most 256 (a bound of this CRD; upstream has none)."""

    session_affinity: Literal["ClientIP", "None"] = "None"
    """Supports "ClientIP" and "None". Used to maintain session affinity.
    Enable client IP based session affinity.
    Must be ClientIP or None.
    Defaults to None.
    More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"""

    session_affinity_config: SessionAffinityConfig | None = None
    """sessionAffinityConfig contains the configurations of session affinity.
    Ignored unless sessionAffinity is ClientIP (a Service drops it then)."""

    publish_not_ready_addresses: bool | None = None
    """publishNotReadyAddresses indicates that any agent which deals with endpoints for this
    Service should disregard any indications of ready/not-ready.
    The primary use case for setting this field is for a StatefulSet's Headless Service to
    propagate SRV DNS records for its Pods for the purpose of peer discovery.
    The Kubernetes controllers that generate Endpoints and EndpointSlice resources for
    Services interpret this to mean that all endpoints are considered "ready" even if the
    Pods themselves are not."""

    external_traffic_policy: Literal["Cluster", "Local"] | None = None
    """externalTrafficPolicy describes how nodes distribute service traffic they
    receive on one of the Service's "externally-facing" addresses (NodePorts,
    ExternalIPs, and LoadBalancer IPs). If set to "Local", the proxy will configure
    the service in a way that assumes that external load balancers will take care
    of balancing the service traffic between nodes, and so each node will deliver
    traffic only to the node-local endpoints of the service, without masquerading
    the client source IP. (Traffic mistakenly sent to a node with no endpoints will
    be dropped.) The default value, "Cluster", uses the standard behavior of
    routing to all endpoints evenly (possibly modified by topology and other
    features). May only be set for NodePort and LoadBalancer services, and for
    ClusterIP services with externalIPs."""

    internal_traffic_policy: Literal["Cluster", "Local"] = "Cluster"
    """InternalTrafficPolicy describes how nodes distribute service traffic they
    receive on the ClusterIP. If set to "Local", the proxy will assume that pods
    only want to talk to endpoints of the service on the same node as the pod,
    dropping the traffic if there are no local endpoints. The default value,
    "Cluster", uses the standard behavior of routing to all endpoints evenly
    (possibly modified by topology and other features)."""

    ip_families: list[Literal["IPv4", "IPv6"]] | None = Field(
        default=None, max_length=2, json_schema_extra={**ATOMIC, **cel(IP_FAMILIES_UNIQUE)}
    )
    """IPFamilies is a list of IP families (e.g. IPv4, IPv6) assigned to this
    service. This field is usually assigned automatically based on cluster
    configuration and the ipFamilyPolicy field. If this field is specified
    manually, the requested family is available in the cluster,
    and ipFamilyPolicy allows it, it will be used; otherwise creation of
    the service will fail. Valid values are "IPv4" and "IPv6".

    This field may hold a maximum of two entries (dual-stack families, in
    either order).  These families must correspond to the values of the
    clusterIPs field, if specified. Both clusterIPs and ipFamilies are
    governed by the ipFamilyPolicy field."""

    ip_family_policy: Literal["PreferDualStack", "RequireDualStack", "SingleStack"] | None = None
    """IPFamilyPolicy represents the dual-stack-ness requested or required by
    this Service. If there is no value provided, then this field will be set
    to SingleStack. Services can be "SingleStack" (a single IP family),
    "PreferDualStack" (two IP families on dual-stack configured clusters or
    a single IP family on single-stack clusters), or "RequireDualStack"
    (two IP families on dual-stack configured clusters, otherwise fail). The
    ipFamilies and clusterIPs fields depend on the value of this field."""

    load_balancer_class: QualifiedName | None = None
    """loadBalancerClass is the class of the load balancer implementation this Service belongs to.
    If specified, the value of this field must be a label-style identifier, with an optional prefix,
    e.g. "internal-vip" or "example.com/internal-vip". Unprefixed names are reserved for end-users.
    This field can only be set when the Service type is 'LoadBalancer'. If not set, the default load
    balancer implementation is used. If set, it is assumed that a load balancer
    implementation is watching for Services with a matching class.
    Once set, it can not be changed."""

    load_balancer_source_ranges: list[SourceRange] | None = Field(
        default=None, max_length=MAX_SOURCE_RANGES, json_schema_extra=ATOMIC
    )
    """If specified and supported by the platform, this will restrict traffic through the cloud-provider
    load-balancer will be restricted to the specified client IPs. This field will be ignored if the
    cloud-provider does not support the feature.
    At most 256 (a bound of this CRD; upstream has none).
    More info: https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/"""

    allocate_load_balancer_node_ports: bool | None = None
    """allocateLoadBalancerNodePorts defines if NodePorts will be automatically
    allocated for services with type LoadBalancer.  Default is "true". It
    may be set to "false" if the cluster load-balancer does not rely on
    NodePorts.  If the caller requests specific NodePorts (by specifying a
    value), those requests will be respected, regardless of this field.
    This field may only be set for services with type LoadBalancer."""

    traffic_distribution: Literal["PreferClose", "PreferSameZone", "PreferSameNode"] | None = None
    """TrafficDistribution offers a way to express preferences for how traffic
    is distributed to Service endpoints. Implementations can use this field
    as a hint, but are not required to guarantee strict adherence. If the
    field is not set, the implementation will apply its default routing
    strategy. If set to "PreferClose" or "PreferSameZone", implementations should prioritize
    endpoints that are in the same zone; "PreferSameNode", endpoints on the same node."""


class PortStatus(KubeModel):
    """PortStatus represents the error condition of a service port."""

    port: int
    """Port is the port number of the service port of which status is recorded here."""

    protocol: Literal["SCTP", "TCP", "UDP"]
    """Protocol is the protocol of the service port of which status is recorded here.
    The supported values are: "TCP", "UDP", "SCTP"."""

    error: str | None = Field(
        default=None,
        max_length=316,
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
    )
    """Error is to record the problem with the service port.
    Built-in error values use CamelCase names; cloud provider specific error values have names of the
    form foo.example.com/CamelCase."""


class LoadBalancerIngress(KubeModel):
    """LoadBalancerIngress represents the status of a load-balancer ingress point:
    traffic intended for the service should be sent to an ingress point."""

    ip: str | None = None
    """IP is set for load-balancer ingress points that are IP based."""

    hostname: str | None = None
    """Hostname is set for load-balancer ingress points that are DNS based."""

    ip_mode: Literal["VIP", "Proxy"] | None = None
    """IPMode specifies how the load-balancer IP behaves, and may only be specified when the ip field is specified.
    Setting this to "VIP" indicates that traffic is delivered to the node with
    the destination set to the load-balancer's IP and port.
    Setting this to "Proxy" indicates that traffic is delivered to the node or pod with
    the destination set to the node's IP and node port or the pod's IP and port."""

    ports: list[PortStatus] | None = Field(default=None, json_schema_extra=ATOMIC)
    """Ports is a list of records of service ports.
    If used, every port defined in the service should have an entry in it."""


class LoadBalancerStatus(KubeModel):
    """LoadBalancerStatus represents the status of a load-balancer."""

    ingress: list[LoadBalancerIngress] | None = Field(default=None, json_schema_extra=ATOMIC)
    """Ingress is a list containing ingress points for the load-balancer.
    Traffic intended for the service should be sent to these ingress points."""


class EndpointCounts(KubeModel):
    """How many endpoints the MiniService's EndpointSlices hold, by condition (ES-04)."""

    ready: int | None = Field(default=None, ge=0)
    """Endpoints ready to receive traffic: serving and not terminating, or any endpoint when
    publishNotReadyAddresses is set."""

    serving: int | None = Field(default=None, ge=0)
    """Endpoints whose pod is Ready, terminating or not."""

    terminating: int | None = Field(default=None, ge=0)
    """Endpoints whose pod is being deleted."""


class MiniServiceStatus(KubeModel):
    """MiniServiceStatus represents the current status of a MiniService: its Service's allocated addresses
    (core/v1 ServiceStatus and the spec fields the API server fills in) and its endpoints."""

    observed_generation: int | None = Field(default=None, ge=0)
    """The generation of the MiniService the controller last acted on."""

    cluster_ip: str | None = Field(default=None, alias="clusterIP")
    """The cluster IP the API server allocated to the Service (`None` for a headless service)."""

    cluster_ips: list[str] | None = Field(default=None, alias="clusterIPs", json_schema_extra=ATOMIC)
    """The cluster IPs the API server allocated to the Service, one per IP family."""

    load_balancer: LoadBalancerStatus | None = None
    """LoadBalancer contains the current status of the load-balancer, if one is present."""

    endpoints: EndpointCounts | None = None
    """Counts of the endpoints in the MiniService's EndpointSlices."""

    ports_text: str | None = None
    """The ports as `kubectl get svc` prints them (`80:30080/TCP,443/TCP`), the PORT(S) column."""

    external_ip_text: str | None = Field(default=None, alias="externalIPText")
    """The external IPs as `kubectl get svc` prints them (`<none>`, `<pending>`, or the IPs joined by `,`),
    the EXTERNAL-IP column."""

    endpoints_text: str | None = None
    """The endpoints as `kubectl get endpoints` prints them (`10.0.0.1:80,10.0.0.2:80 + 1 more...`, or
    `<none>`), the ENDPOINTS column."""

    selector_text: str | None = None
    """The selector as `kubectl get svc -o wide` prints it (`app=web,tier=db`, or `<none>`), the SELECTOR
    column."""

    conditions: list[Condition] | None = Field(default=None, json_schema_extra=list_map("type"))
    """The latest observations of the MiniService's state: ServiceSynced (its Service is as the spec says)
    and EndpointSlicesSynced (its EndpointSlices match the selected pods)."""


class MiniService(CustomResource):
    """MiniService is a named abstraction of software service (for example, mysql) consisting of local port
    (for example 3306) that the proxy listens on, and the selector that determines which pods will answer
    requests sent through the proxy. It mirrors core/v1 Service (ExternalName excepted)."""

    crd: ClassVar[CRDInfo] = CRDInfo(
        kind="MiniService",
        plural="miniservices",
        singular="miniservice",
        short_names=("msvc",),
        categories=("all", "mini"),
        # `kubectl get svc` columns plus ENDPOINTS (`kubectl get endpoints`), then SELECTOR for `-o wide`.
        printer_columns=(
            PrinterColumn("Type", "string", ".spec.type", "How the service is exposed."),
            PrinterColumn("Cluster-IP", "string", ".status.clusterIP", "The cluster IP of the service."),
            PrinterColumn("External-IP", "string", ".status.externalIPText", "External IPs or load-balancer ingress."),
            PrinterColumn("Port(s)", "string", ".status.portsText", "Ports, with node ports, and protocols."),
            PrinterColumn("Endpoints", "string", ".status.endpointsText", "Addresses of the ready endpoints."),
            AGE_COLUMN,
            PrinterColumn("Selector", "string", ".status.selectorText", "The pod selector.", priority=1),
        ),
    )

    api_version: Literal["minik8s.dev/v1"] = "minik8s.dev/v1"
    kind: Literal["MiniService"] = "MiniService"

    spec: MiniServiceSpec
    """Spec defines the behavior of a service.
    More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status"""

    status: MiniServiceStatus | None = None
    """Most recently observed status of the service. Populated by the system. Read-only.
    More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status"""
