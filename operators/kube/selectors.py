"""Label selectors: parsing, matching and formatting, as k8s.io/apimachinery/pkg/labels and metav1."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar, cast

__all__ = [
    "Everything",
    "InvalidSelectorError",
    "LabelSelector",
    "Nothing",
    "Requirement",
    "is_superset",
    "read_with_selector_error",
]

# "Equals" is what a matchLabels entry becomes (selection.Equals); the rest are matchExpressions operators.
Operator = Literal["Equals", "In", "NotIn", "Exists", "DoesNotExist"]
_OPERATORS: frozenset[str] = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})
# k8s.io/apimachinery/pkg/util/validation: IsQualifiedName (label keys) and IsValidLabelValue.
_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


class InvalidSelectorError(ValueError):
    """A label selector that metav1.LabelSelectorAsSelector would reject."""


@dataclass(frozen=True, slots=True)
class Requirement:
    """One requirement of a selector: `key operator (values)`; a matchLabels entry is `key Equals (value)`."""

    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        match self.operator:
            case "Equals" | "In":
                return self.key in labels and labels[self.key] in self.values
            case "NotIn":
                return self.key not in labels or labels[self.key] not in self.values
            case "Exists":
                return self.key in labels
            case "DoesNotExist":
                return self.key not in labels

    def __str__(self) -> str:
        values = ",".join(sorted(self.values))
        match self.operator:
            case "Equals":
                return f"{self.key}={values}"
            case "In":
                return f"{self.key} in ({values})"
            case "NotIn":
                return f"{self.key} notin ({values})"
            case "Exists":
                return self.key
            case "DoesNotExist":
                return f"!{self.key}"


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A parsed metav1.LabelSelector: every requirement must match (AND).

    `nothing=True` is labels.Nothing(), what a nil selector means to a controller: it matches no object.
    An empty (non-nil) selector has no requirements and matches everything.
    """

    requirements: tuple[Requirement, ...] = ()
    nothing: bool = False

    @classmethod
    def parse(cls, selector: Mapping[str, Any] | None) -> LabelSelector:
        """Parse a metav1.LabelSelector dict (matchLabels, matchExpressions), as LabelSelectorAsSelector."""
        if selector is None:
            return Nothing
        if not isinstance(selector, Mapping):
            raise InvalidSelectorError(f"selector must be an object, not {type(selector).__name__}")
        requirements: list[Requirement] = []
        match_labels = selector.get("matchLabels") or {}
        if not isinstance(match_labels, Mapping):
            raise InvalidSelectorError("matchLabels must be a map of strings")
        for key, value in match_labels.items():
            if not isinstance(value, str):
                raise InvalidSelectorError(f"matchLabels[{key!r}] must be a string")
            _validate_key(str(key), f"matchLabels[{key!r}]")
            _validate_value(value, f"matchLabels[{key!r}]")
            requirements.append(Requirement(str(key), "Equals", frozenset({value})))
        for index, expression in enumerate(selector.get("matchExpressions") or ()):
            requirements.append(_parse_expression(expression, index))
        return cls(tuple(sorted(requirements, key=lambda r: (r.key, r.operator, sorted(r.values)))))

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> LabelSelector:
        """labels.SelectorFromSet: equality on every given label."""
        return cls.parse({"matchLabels": dict(labels)})

    @property
    def empty(self) -> bool:
        """True for `{}`, which selects everything."""
        return not self.requirements and not self.nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.nothing:
            return False
        labels = labels or {}
        return all(requirement.matches(labels) for requirement in self.requirements)

    def __str__(self) -> str:
        """The string form of labels.Selector.String(), as the scale subresource and `kubectl get -l` use."""
        return ",".join(str(requirement) for requirement in self.requirements)


class _SelectingView(Protocol):
    """A frozen dataclass view of a selecting kind, with a field saying why its selector is invalid."""

    @property
    def selector_error(self) -> str: ...


SV = TypeVar("SV", bound=_SelectingView)


def read_with_selector_error(from_dict: Callable[[Mapping[str, Any]], SV], body: Mapping[str, Any]) -> SV:
    """Read `body` with `from_dict`; a selector the API would reject becomes Nothing plus `selector_error`.

    What a cache stores for a selecting kind (a ReplicaSet, a Deployment), so that one malformed object can
    break neither the cache nor the other objects: its controller reports the error instead (RS-01).
    """
    try:
        return from_dict(body)
    except InvalidSelectorError as error:
        spec = dict(body.get("spec") or {}, selector=None)
        view: Any = from_dict({**body, "spec": spec})  # a dataclass, which the protocol cannot say
        return cast(SV, dataclasses.replace(view, selector_error=str(error)))


Everything = LabelSelector()
Nothing = LabelSelector(nothing=True)


def _parse_expression(expression: Any, index: int) -> Requirement:
    where = f"matchExpressions[{index}]"
    if not isinstance(expression, Mapping):
        raise InvalidSelectorError(f"{where} must be an object")
    key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
    if not isinstance(key, str) or not key:
        raise InvalidSelectorError(f"{where}.key must be a non-empty string")
    if operator not in _OPERATORS:
        raise InvalidSelectorError(f"{where}.operator {operator!r} is not one of In, NotIn, Exists, DoesNotExist")
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise InvalidSelectorError(f"{where}.values must be a list of strings")
    if operator in ("In", "NotIn") and not values:
        raise InvalidSelectorError(f"{where}.values must be non-empty for operator {operator}")
    if operator in ("Exists", "DoesNotExist") and values:
        raise InvalidSelectorError(f"{where}.values must be empty for operator {operator}")
    _validate_key(key, f"{where}.key")
    for value in values:
        _validate_value(value, f"{where}.values")
    return Requirement(key, operator, frozenset(values))


def _validate_key(key: str, where: str) -> None:
    """validateLabelKey: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters."""
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        raise InvalidSelectorError(f"{where}: invalid label key {key!r}: the prefix must be a DNS subdomain")
    if not name or len(name) > 63 or not _NAME.fullmatch(name):
        raise InvalidSelectorError(
            f"{where}: invalid label key {key!r}: a name must be 63 characters or less, start and end with an "
            "alphanumeric character, and contain only alphanumerics, '-', '_' or '.'"
        )


def _validate_value(value: str, where: str) -> None:
    """validateLabelValue: empty, or a name of at most 63 characters."""
    if value and (len(value) > 63 or not _NAME.fullmatch(value)):
        raise InvalidSelectorError(
            f"{where}: invalid label value {value!r}: it must be 63 characters or less, start and end with an "
            "alphanumeric character, and contain only alphanumerics, '-', '_' or '.'"
        )


def is_superset(labels: Mapping[str, str] | None, subset: Iterable[tuple[str, str]]) -> bool:
    """True when `labels` holds every (key, value) of `subset` (fullyLabeledReplicas, RS-21)."""
    labels = labels or {}
    return all(labels.get(key) == value for key, value in subset)
