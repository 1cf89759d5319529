"""CRD metadata declared beside the models: names, printer columns, subresources and CEL rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "ATOMIC",
    "GROUP",
    "VERSION",
    "CRDInfo",
    "PrinterColumn",
    "Rule",
    "Scale",
    "cel",
    "list_map",
]

GROUP = "minik8s.dev"
VERSION = "v1"

# The `reason` values a CRD validation rule may report (apiextensions.k8s.io/v1 ValidationRule.reason).
Reason = Literal["FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One CEL validation rule (`x-kubernetes-validations` entry), evaluated by the API server on write.

    `self` is the schema node the rule is attached to; a rule that mentions `oldSelf` is a transition
    rule, checked on updates only. `field_path` (JSONPath relative to that node) says where the error
    is reported, `reason` which kind of error (`Invalid` by default), as the upstream field.Error types.
    """

    rule: str
    message: str
    message_expression: str | None = None
    field_path: str | None = None
    reason: Reason | None = None

    def to_dict(self) -> dict[str, str]:
        """The rule as it appears in the CRD (camelCase keys, unset keys omitted)."""
        entry = {
            "rule": self.rule,
            "message": self.message,
            "messageExpression": self.message_expression,
            "fieldPath": self.field_path,
            "reason": self.reason,
        }
        return {key: value for key, value in entry.items() if value is not None}


def cel(*rules: Rule) -> dict[str, Any]:
    """Schema extras attaching CEL rules to a node: `Field(json_schema_extra=cel(...))` or model_config."""
    return {"x-kubernetes-validations": [rule.to_dict() for rule in rules]}


ATOMIC: dict[str, Any] = {"x-kubernetes-list-type": "atomic"}
"""`+listType=atomic`: the list is replaced as a whole by server-side apply, as upstream declares it."""


def list_map(*keys: str) -> dict[str, Any]:
    """Schema extras for a list of objects keyed by `keys` (`+listType=map`, `+listMapKey=...` in Go).

    The API server then rejects duplicate keys, and server-side apply merges the list item by item.
    """
    return {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": list(keys)}


@dataclass(frozen=True, slots=True)
class PrinterColumn:
    """An `additionalPrinterColumns` entry: a `kubectl get` column filled from a JSONPath.

    Server-side printing shows only the first value a JSONPath yields (`containers[*].image` prints the
    first image), and `priority=1` columns appear only with `-o wide`.
    """

    name: str
    type: Literal["integer", "number", "string", "boolean", "date"]
    json_path: str
    description: str
    priority: int = 0

    def to_dict(self) -> dict[str, Any]:
        column: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "jsonPath": self.json_path,
            "description": self.description,
        }
        if self.priority:
            column["priority"] = self.priority
        return column


@dataclass(frozen=True, slots=True)
class Scale:
    """The scale subresource: what `kubectl scale` and the HorizontalPodAutoscaler read and write.

    `label_selector_path` must point to a *string* field holding the selector in its text form
    (`app=web,tier in (a,b)`), which is why workload statuses carry a `selector` string.
    """

    spec_replicas_path: str = ".spec.replicas"
    status_replicas_path: str = ".status.replicas"
    label_selector_path: str | None = ".status.selector"

    def to_dict(self) -> dict[str, str]:
        scale = {
            "specReplicasPath": self.spec_replicas_path,
            "statusReplicasPath": self.status_replicas_path,
        }
        if self.label_selector_path is not None:
            scale["labelSelectorPath"] = self.label_selector_path
        return scale


@dataclass(frozen=True, slots=True)
class CRDInfo:
    """Everything a CustomResourceDefinition needs besides the schema, attached to a kind's root model.

    The schema itself (fields, types, defaults, descriptions, CEL rules) comes from the pydantic model;
    see `operators.api.crdgen`.
    """

    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    printer_columns: tuple[PrinterColumn, ...] = ()
    scale: Scale | None = None
    status_subresource: bool = True
    scope: Literal["Namespaced", "Cluster"] = "Namespaced"

    @property
    def name(self) -> str:
        """The CRD's own name, `<plural>.<group>`."""
        return f"{self.plural}.{GROUP}"
