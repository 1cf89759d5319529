"""Models shared by the kinds: the base classes, label selectors, pod templates, conditions, CEL rules."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from operators.api.crdinfo import CRDInfo, PrinterColumn, Rule, cel, list_map

__all__ = [
    "AGE_COLUMN",
    "INT_OR_PERCENT_VALID",
    "LABEL_KEYS_VALID",
    "LABEL_KEY_VALID",
    "LABEL_VALUE_PATTERN",
    "LABEL_VALUE_VALID",
    "MAX_LABELS",
    "MAX_SELECTOR_TERMS",
    "NON_NEGATIVE",
    "PERCENT_AT_MOST_100",
    "PERCENT_MESSAGE",
    "PERCENT_PATTERN",
    "PERCENT_UP_TO_100_PATTERN",
    "PORT_NUMBER_VALID",
    "SELECTOR_IMMUTABLE",
    "SELECTOR_MATCHES_TEMPLATE",
    "SELECTOR_NOT_EMPTY",
    "WORKLOAD_WIDE_COLUMNS",
    "Condition",
    "Container",
    "CustomResource",
    "IntOrPercent",
    "IntOrPercentUpTo100",
    "IntOrString",
    "KubeModel",
    "LabelKey",
    "LabelSelector",
    "LabelSelectorRequirement",
    "LabelValue",
    "Labels",
    "NonNegativeInt",
    "PodSpec",
    "PodTemplateMetadata",
    "PodTemplateSpec",
    "PortNumber",
    "SelectorValue",
    "iana_svc_name_problems",
    "iana_svc_name_rules",
    "port_number",
]


class KubeModel(BaseModel):
    """Base of every model: Python attributes in snake_case, Kubernetes JSON in camelCase.

    `use_attribute_docstrings` turns the docstring under each field into its schema description, which
    the CRD carries and `kubectl explain` prints: the docstrings are copied from the upstream Go types.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        use_attribute_docstrings=True,
    )

    def to_kube(self) -> dict[str, Any]:
        """The object as the API server expects it: camelCase keys, unset optional fields omitted."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class CustomResource(KubeModel):
    """Base of a kind's root model; the subclass declares `crd`, `api_version`, `kind`, `spec` and `status`."""

    crd: ClassVar[CRDInfo]

    api_version: str
    """APIVersion defines the versioned schema of this representation of an object (`minik8s.dev/v1`)."""

    kind: str
    """Kind is a string value representing the REST resource this object represents."""

    metadata: dict[str, Any] = Field(default_factory=dict)
    """Standard object's metadata.
    More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"""


MAX_SELECTOR_TERMS = 256
"""Bound on matchExpressions and on values per requirement. Upstream has none, but the API server rejects
CEL rules whose worst-case cost it cannot bound; 256 is far beyond real selectors."""

MAX_LABELS = 256
"""Bound on the entries of a label map: matchLabels and a pod template's labels. Upstream has none (only
the request size), but the message naming an invalid key (LABEL_KEYS_VALID) is priced per key squared:
unbounded it is over 100 times the CEL cost budget, and 2,048 already 1.5 times. 256 is far beyond real
label sets."""

# --- Label keys and values: upstream's own validators, called from CEL ---
#
# apps/v1 checks every label key of a selector and of the template's labels with validation.IsQualifiedName,
# and every value with validation.IsValidLabelValue (ValidateLabelSelector, ValidateLabels). The API server's
# CEL `format` library (open to CRD rules since Kubernetes 1.32) calls those very functions:
# `format.qualifiedName().validate(s)` is optional.none() for a valid key, else optional.of(upstream's
# messages). So the rules below reject what apps/v1 rejects, in the words kubectl users know, without a copy
# of upstream's regexes.
#
# Upstream reports each of its messages; a rule reports one, so it shows the first (for `example.com/`,
# "name part must be non-empty"; the "name part must consist of ..." that follows adds nothing). The static
# `message` is what the API server shows when the messageExpression's text cannot be shown (a key over
# 5 KiB, or with a line break). A map's keys have no schema of their own, so the key rule sits on the map
# and its message names the key, as upstream's `Invalid value: "bad key": ...` does; of several bad keys it
# names one.

LABEL_KEY_VALID = Rule(
    rule="!format.qualifiedName().validate(self).hasValue()",
    message="must be a valid label key: an optional DNS subdomain prefix and '/', then a name",
    message_expression="format.qualifiedName().validate(self).value()[0]",
)
"""On a label key string (a matchExpressions key): upstream ValidateLabelName."""

LABEL_KEYS_VALID = Rule(
    rule="self.all(key, !format.qualifiedName().validate(key).hasValue())",
    message="keys must be valid label keys: an optional DNS subdomain prefix and '/', then a name",
    message_expression="self.filter(key, format.qualifiedName().validate(key).hasValue())"
    ".map(key, '\"' + key + '\": ' + format.qualifiedName().validate(key).value()[0])[0]",
)
"""On a map of labels (matchLabels, a template's labels): ValidateLabels' ValidateLabelName on each key."""

LABEL_VALUE_VALID = Rule(
    rule="!format.labelValue().validate(self).hasValue()",
    message="must be a valid label value: empty, or a name",
    message_expression="format.labelValue().validate(self).value()[0]",
)
"""On a label value string: upstream IsValidLabelValue. A value over 63 characters never gets here: the
schema's maxLength reports it first ("Too long"), and the API server skips CEL rules after such an error."""

DNS1123_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
"""A container name: upstream ValidateDNS1123Label, the one pod-template check a workload kind's CRD can make
cheaply. apps/v1 refuses such a Deployment at once; without it a MiniDeployment would be accepted and its every
pod refused. A schema pattern, not CEL: a CEL rule on every item of the unbounded containers list exceeds the
CRD's cost budget 88 times over. The API server's message then quotes the regex, as upstream's does, but not
upstream's sentence."""

LabelKey = Annotated[str, Field(max_length=253 + 1 + 63, json_schema_extra=cel(LABEL_KEY_VALID))]
"""A label key: an optional DNS subdomain prefix (at most 253 characters) and `/`, then a name of at most 63
characters. The 317-character bound is upstream's own, and keeps the rule's estimated cost low."""

LabelValue = Annotated[str, Field(max_length=63, json_schema_extra=cel(LABEL_VALUE_VALID))]
"""A label value: empty, or a name of at most 63 characters (upstream validation.IsValidLabelValue)."""

Labels = Annotated[dict[str, LabelValue], Field(max_length=MAX_LABELS, json_schema_extra=cel(LABEL_KEYS_VALID))]
"""A map of labels whose every key and value is valid (upstream ValidateLabels)."""

LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
"""Upstream's labelValueFmt, anchored: the regex IsValidLabelValue matches."""

SelectorValue = Annotated[str, Field(max_length=63, pattern=LABEL_VALUE_PATTERN)]
"""A value of a matchExpressions requirement: a label value, checked by an OpenAPI pattern instead of CEL.

A selector may hold 256 requirements of 256 values each, and the API server prices a rule for the worst
case: LABEL_VALUE_VALID on 65,536 strings comes to 5.5 times the budget of one rule, while a pattern costs
none of it. The same values are refused; only the wording differs ("should match '<upstream's regex>'")."""

IntOrString = Annotated[int | str, Field(json_schema_extra={"x-kubernetes-int-or-string": True})]
"""An integer or a string such as "25%" (intstr.IntOrString), for fields like maxSurge or targetPort."""

# --- Ports: validation.IsValidPortNum and IsValidPortName (Services and NetworkPolicies) ---

PORT_NUMBER_VALID = Rule(rule="self >= 1 && self <= 65535", message="must be between 1 and 65535, inclusive")
"""On a port number: validation.IsValidPortNum."""


def port_number(value: int) -> int:
    """The pydantic check of a port number (PORT_NUMBER_VALID)."""
    if not 1 <= value <= 65535:
        raise ValueError(PORT_NUMBER_VALID.message)
    return value


PortNumber = Annotated[int, AfterValidator(port_number), Field(json_schema_extra=cel(PORT_NUMBER_VALID))]
"""A port number, 1 to 65535 (validation.IsValidPortNum)."""

# IsValidPortName (an IANA_SVC_NAME): each check as CEL, as Python, and upstream's message when it fails.
_IANA_SVC_NAME_CHECKS: tuple[tuple[str, Callable[[str], bool], str], ...] = (
    ("size(self) <= 15", lambda name: len(name) <= 15, "must be no more than 15 characters"),
    (
        "self.matches('^[-a-z0-9]+$')",
        lambda name: re.fullmatch(r"[-a-z0-9]+", name) is not None,
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
    ),
    (
        "self.matches('[a-z]')",
        lambda name: re.search(r"[a-z]", name) is not None,
        "must contain at least one letter (a-z)",
    ),
    ("!self.contains('--')", lambda name: "--" not in name, "must not contain consecutive hyphens"),
    (
        "!self.startsWith('-') && !self.endsWith('-')",
        lambda name: not name.startswith("-") and not name.endswith("-"),
        "must not begin or end with a hyphen",
    ),
)


def iana_svc_name_rules(exempt: str) -> tuple[Rule, ...]:
    """IsValidPortName as CEL rules on an int-or-string, one per upstream message (a name breaking several
    checks is refused with each message); `exempt` is the CEL condition of a value that is not checked."""
    return tuple(Rule(rule=f"{exempt} || {check}", message=message) for check, _, message in _IANA_SVC_NAME_CHECKS)


def iana_svc_name_problems(name: str) -> list[str]:
    """IsValidPortName's messages for `name`, as the rules of `iana_svc_name_rules` report them."""
    return [message for _, ok, message in _IANA_SVC_NAME_CHECKS if not ok(name)]


# --- Counts and percentages: upstream's checks, in upstream's words ---
#
# A schema `minimum: 0` would refuse a negative count as well, but in the OpenAPI validator's words ("should be
# greater than or equal to 0"); a CEL rule can say what apps/v1 says. The pydantic validators mirror the rules,
# so that the models refuse what the API server refuses.

NON_NEGATIVE = Rule(rule="self >= 0", message="must be greater than or equal to 0")
"""On an integer: upstream ValidateNonnegativeField."""

PERCENT_PATTERN = r"^[0-9]+%$"
"""Upstream's percentFmt, anchored: what validation.IsValidPercent accepts ("25%", "0%", "007%")."""

PERCENT_MESSAGE = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
)
"""IsValidPercent's message, RegexError's double space included."""

INT_OR_PERCENT_VALID = (
    Rule(rule=f"type(self) != string || self.matches('{PERCENT_PATTERN}')", message=PERCENT_MESSAGE),
    Rule(rule="type(self) != int || self >= 0", message=NON_NEGATIVE.message),
)
"""On an int-or-string (`self` is an int or a string in CEL): upstream ValidatePositiveIntOrPercent, a
non-negative integer or a percentage."""

PERCENT_UP_TO_100_PATTERN = r"^0*([0-9]{1,2}|100)%$"
"""A well-formed percentage of at most 100%: leading zeros aside, at most two digits, or 100. A regex rather
than CEL's int(), which fails on "99999999999999999999%" where upstream simply finds it over 100%."""

PERCENT_AT_MOST_100 = Rule(
    rule=f"type(self) != string || !self.matches('{PERCENT_PATTERN}') || self.matches('{PERCENT_UP_TO_100_PATTERN}')",
    message="must not be greater than 100%",
)
"""On an int-or-string: upstream IsNotMoreThan100Percent (integers are not bounded)."""


def _non_negative(value: int) -> int:
    if value < 0:
        raise ValueError(NON_NEGATIVE.message)
    return value


def _int_or_percent(value: int | str) -> int | str:
    if isinstance(value, str) and not re.fullmatch(PERCENT_PATTERN, value):
        raise ValueError(PERCENT_MESSAGE)
    if isinstance(value, int) and value < 0:
        raise ValueError(NON_NEGATIVE.message)
    return value


def _percent_at_most_100(value: int | str) -> int | str:
    if isinstance(value, str) and int(value[:-1]) > 100:
        raise ValueError(PERCENT_AT_MOST_100.message)
    return value


NonNegativeInt = Annotated[int, AfterValidator(_non_negative), Field(json_schema_extra=cel(NON_NEGATIVE))]
"""A count that may not be negative (replicas, minReadySeconds, ...), refused in upstream's words."""

IntOrPercent = Annotated[
    int | str,
    AfterValidator(_int_or_percent),
    Field(json_schema_extra={"x-kubernetes-int-or-string": True, **cel(*INT_OR_PERCENT_VALID)}),
]
"""A non-negative integer or a percentage such as "25%" (a maxSurge)."""

IntOrPercentUpTo100 = Annotated[
    int | str,
    AfterValidator(_int_or_percent),
    AfterValidator(_percent_at_most_100),
    Field(json_schema_extra={"x-kubernetes-int-or-string": True, **cel(*INT_OR_PERCENT_VALID, PERCENT_AT_MOST_100)}),
]
"""A non-negative integer or a percentage of at most 100% (a maxUnavailable)."""


class LabelSelectorRequirement(KubeModel):
    """A label selector requirement is a selector that contains values, a key, and an operator that
    relates the key and values."""

    model_config = ConfigDict(
        json_schema_extra=cel(
            # Upstream: metav1validation.ValidateLabelSelectorRequirement.
            Rule(
                rule="!(self.operator in ['In', 'NotIn']) || (has(self.values) && size(self.values) > 0)",
                message="must be specified when `operator` is 'In' or 'NotIn'",
                field_path=".values",
                reason="FieldValueRequired",
            ),
            Rule(
                rule="!(self.operator in ['Exists', 'DoesNotExist']) || !has(self.values) || size(self.values) == 0",
                message="may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                field_path=".values",
                reason="FieldValueForbidden",
            ),
        )
    )

    key: LabelKey
    """key is the label key that the selector applies to."""

    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    """operator represents a key's relationship to a set of values.
    Valid operators are In, NotIn, Exists and DoesNotExist."""

    values: list[SelectorValue] | None = Field(default=None, max_length=MAX_SELECTOR_TERMS)
    """values is an array of string values. If the operator is In or NotIn,
    the values array must be non-empty. If the operator is Exists or DoesNotExist,
    the values array must be empty. This array is replaced during a strategic
    merge patch."""


class LabelSelector(KubeModel):
    """A label selector is a label query over a set of resources. The result of matchLabels and
    matchExpressions are ANDed. An empty label selector matches all objects. A null
    label selector matches no objects."""

    match_labels: Labels | None = None
    """matchLabels is a map of {key,value} pairs. A single {key,value} in the matchLabels
    map is equivalent to an element of matchExpressions, whose key field is "key", the
    operator is "In", and the values array contains only "value". The requirements are ANDed."""

    match_expressions: list[LabelSelectorRequirement] | None = Field(default=None, max_length=MAX_SELECTOR_TERMS)
    """matchExpressions is a list of label selector requirements. The requirements are ANDed."""


class PodTemplateMetadata(KubeModel):
    """The part of a pod template's metadata that is copied onto each pod created from it: labels,
    annotations and finalizers. Other metadata fields are pruned."""

    labels: Labels | None = None
    """Map of string keys and values that can be used to organize and categorize
    (scope and select) objects. May match selectors of replication controllers
    and services.
    More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels"""

    annotations: dict[str, str] | None = None
    """Annotations is an unstructured key value map stored with a resource that may be
    set by external tools to store and retrieve arbitrary metadata. They are not
    queryable and should be preserved when modifying objects.
    More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations"""

    finalizers: list[str] | None = None
    """Must be empty before the object is deleted from the registry. Each entry
    is an identifier for the responsible component that will remove the entry
    from the list. If the deletionTimestamp of the object is non-nil, entries
    in this list can only be removed."""


class Container(KubeModel):
    """A single application container that you want to run within a pod.
    Only name and image are declared here; every other container field is kept as written and
    validated by the API server when a pod is created."""

    model_config = ConfigDict(extra="allow")  # becomes x-kubernetes-preserve-unknown-fields

    name: str = Field(min_length=1, max_length=63, pattern=DNS1123_LABEL_PATTERN)
    """Name of the container specified as a DNS_LABEL.
    Each container in a pod must have a unique name (DNS_LABEL).
    Cannot be updated."""

    image: str | None = None
    """Container image name.
    More info: https://kubernetes.io/docs/concepts/containers/images
    This field is optional to allow higher level config management to default or override
    container images in workload controllers like Deployments and StatefulSets."""


class PodSpec(KubeModel):
    """PodSpec is a description of a pod.
    Only the fields a workload controller checks are declared; the rest is kept as written and validated
    by the API server when a pod is created (an error there surfaces as a FailedCreate event and a
    ReplicaFailure condition)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra=cel(
            # Upstream: ValidatePodTemplateSpecForReplicaSet, shared by ReplicaSets and Deployments.
            Rule(
                rule="!has(self.activeDeadlineSeconds)",
                message="activeDeadlineSeconds in ReplicaSet is not Supported",
                field_path=".activeDeadlineSeconds",
                reason="FieldValueForbidden",
            )
        ),
    )

    containers: list[Container] = Field(min_length=1, json_schema_extra=list_map("name"))
    """List of containers belonging to the pod.
    Containers cannot currently be added or removed.
    There must be at least one container in a Pod.
    Cannot be updated."""

    restart_policy: Literal["Always"] | None = None
    """Restart policy for all containers within the pod.
    One of Always, OnFailure, Never. In some contexts, only a subset of those values may be permitted.
    Default to Always.
    More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#restart-policy

    A pod template of a workload controller only permits Always."""

    active_deadline_seconds: int | None = None
    """Optional duration in seconds the pod may be active on the node relative to
    StartTime before the system will actively try to mark it failed and kill associated containers.
    Value must be a positive integer.

    Not supported in a pod template of a workload controller: must be omitted."""


class PodTemplateSpec(KubeModel):
    """PodTemplateSpec describes the data a pod should have when created from a template"""

    metadata: PodTemplateMetadata | None = None
    """Standard object's metadata.
    More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"""

    spec: PodSpec
    """Specification of the desired behavior of the pod.
    More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status"""


# The schema of a status condition (what the API server validates and `kubectl explain` shows); the controllers
# compute with its frozen view, operators.kube.objects.Condition.
class Condition(KubeModel):
    """Describes the state of an object at a certain point (ReplicaSetCondition in apps/v1)."""

    type: str
    """Type of the condition, for example ReplicaFailure."""

    status: Literal["True", "False", "Unknown"]
    """Status of the condition, one of True, False, Unknown."""

    last_transition_time: datetime | None = None
    """The last time the condition transitioned from one status to another."""

    reason: str | None = None
    """The reason for the condition's last transition."""

    message: str | None = None
    """A human readable message indicating details about the transition."""


# --- CEL rules shared by the workload kinds (MiniReplicaSet, MiniDeployment), attached to their specs ---

SELECTOR_IMMUTABLE = Rule(rule="self == oldSelf", message="field is immutable")
"""On spec.selector: a transition rule, so checked on update only (upstream ValidateImmutableField)."""

SELECTOR_NOT_EMPTY = Rule(
    rule="(has(self.matchLabels) && size(self.matchLabels) > 0)"
    " || (has(self.matchExpressions) && size(self.matchExpressions) > 0)",
    # Upstream ValidateReplicaSetSpec reports this very wording (it was copied from Deployments).
    message="empty selector is invalid for deployment",
)
"""On spec.selector: `{}` would select every pod in the namespace."""

SELECTOR_MATCHES_TEMPLATE = Rule(
    rule=textwrap.dedent(
        """\
        // Every matchLabels entry must be one of the template's labels ...
        (!has(self.selector.matchLabels) || self.selector.matchLabels.all(key,
          self.template.?metadata.?labels[?key].hasValue()
          && self.template.metadata.labels[key] == self.selector.matchLabels[key]))
        // ... and every matchExpressions requirement must hold for them.
        && (!has(self.selector.matchExpressions) || self.selector.matchExpressions.all(req,
          req.operator == 'In' ? self.template.?metadata.?labels[?req.key].hasValue()
            && has(req.values) && self.template.metadata.labels[req.key] in req.values
          : req.operator == 'NotIn' ? !self.template.?metadata.?labels[?req.key].hasValue()
            || !has(req.values) || !(self.template.metadata.labels[req.key] in req.values)
          : req.operator == 'Exists' ? self.template.?metadata.?labels[?req.key].hasValue()
          : !self.template.?metadata.?labels[?req.key].hasValue()))"""
    ),
    message="`selector` does not match template `labels`",
    field_path=".template.metadata.labels",
)
"""On the spec: the selector must select the pods the template makes, or the controller would create
pods forever. Each matchLabels entry must be among the template labels; each matchExpressions
requirement is evaluated against them (In, NotIn, Exists, DoesNotExist as labels.Selector.Matches)."""


# --- printer columns shared by the workload kinds (`kubectl get rs` / `kubectl get deploy` and their `-o wide`) ---

AGE_COLUMN = PrinterColumn("Age", "date", ".metadata.creationTimestamp", "Time since creation.")
WORKLOAD_WIDE_COLUMNS = (
    PrinterColumn(
        "Containers",
        "string",
        ".spec.template.spec.containers[*].name",
        "Name of the first container of the pod template.",
        priority=1,
    ),
    PrinterColumn(
        "Images",
        "string",
        ".spec.template.spec.containers[*].image",
        "Image of the first container of the pod template.",
        priority=1,
    ),
    PrinterColumn("Selector", "string", ".status.selector", "The label selector.", priority=1),
)
"""CONTAINERS, IMAGES and SELECTOR (priority 1: `-o wide` only), in the order kubectl prints them."""
