"""Label selectors: metav1.LabelSelectorAsSelector parsing, labels.Selector matching and String().

Cases follow k8s.io/apimachinery pkg/labels/selector_test.go and pkg/apis/meta/v1/helpers_test.go.
"""

from __future__ import annotations

from typing import Any

import pytest

from operators.kube.selectors import (
    Everything,
    InvalidSelectorError,
    LabelSelector,
    Nothing,
    Requirement,
    is_superset,
)

# --- parsing ---------------------------------------------------------------------------------------------------


def test_parse_match_labels() -> None:
    selector = LabelSelector.parse({"matchLabels": {"b": "2", "a": "1"}})
    assert selector.requirements == (
        Requirement("a", "Equals", frozenset({"1"})),
        Requirement("b", "Equals", frozenset({"2"})),
    )
    assert not selector.nothing
    assert not selector.empty


def test_parse_match_expressions() -> None:
    selector = LabelSelector.parse(
        {
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["b", "a"]},
                {"key": "env", "operator": "NotIn", "values": ["prod"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "app", "operator": "Exists", "values": []},
            ]
        }
    )
    assert selector.requirements == (
        Requirement("app", "Exists"),
        Requirement("canary", "DoesNotExist"),
        Requirement("env", "NotIn", frozenset({"prod"})),
        Requirement("tier", "In", frozenset({"a", "b"})),
    )


def test_parse_is_order_independent_and_hashable() -> None:
    one = LabelSelector.parse(
        {
            "matchLabels": {"a": "1", "b": "2"},
            "matchExpressions": [{"key": "c", "operator": "In", "values": ["x", "y"]}],
        }
    )
    two = LabelSelector.parse(
        {
            "matchExpressions": [{"key": "c", "operator": "In", "values": ["y", "x"]}],
            "matchLabels": {"b": "2", "a": "1"},
        }
    )
    assert one == two
    assert hash(one) == hash(two)


def test_nil_selector_is_nothing() -> None:
    """A nil selector selects nothing (LabelSelectorAsSelector(nil) == labels.Nothing())."""
    selector = LabelSelector.parse(None)
    assert selector is Nothing
    assert selector.nothing
    assert not selector.empty
    assert not selector.matches({})
    assert not selector.matches(None)
    assert not selector.matches({"app": "web"})
    assert str(selector) == ""


@pytest.mark.parametrize(
    "raw",
    [{}, {"matchLabels": {}}, {"matchExpressions": []}, {"matchLabels": None, "matchExpressions": None}],
)
def test_empty_selector_is_everything(raw: dict[str, Any]) -> None:
    selector = LabelSelector.parse(raw)
    assert selector == Everything
    assert selector.empty
    assert selector.matches({})
    assert selector.matches(None)
    assert selector.matches({"app": "web", "x": "y"})
    assert str(selector) == ""


def test_from_labels() -> None:
    selector = LabelSelector.from_labels({"app": "web", "tier": "fe"})
    assert str(selector) == "app=web,tier=fe"
    assert selector.matches({"app": "web", "tier": "fe", "extra": "1"})
    assert not selector.matches({"app": "web"})
    assert LabelSelector.from_labels({}) == Everything


# --- matching --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "labels", "matches"),
    [
        ({"key": "x", "operator": "In", "values": ["y", "z"]}, {"x": "y"}, True),
        ({"key": "x", "operator": "In", "values": ["y", "z"]}, {"x": "z"}, True),
        ({"key": "x", "operator": "In", "values": ["y", "z"]}, {"x": "w"}, False),
        ({"key": "x", "operator": "In", "values": ["y"]}, {}, False),
        ({"key": "x", "operator": "In", "values": [""]}, {"x": ""}, True),
        ({"key": "x", "operator": "NotIn", "values": ["y"]}, {"x": "z"}, True),
        ({"key": "x", "operator": "NotIn", "values": ["y"]}, {"x": "y"}, False),
        ({"key": "x", "operator": "NotIn", "values": ["y"]}, {}, True),  # a missing label is "not in"
        ({"key": "x", "operator": "Exists"}, {"x": ""}, True),
        ({"key": "x", "operator": "Exists"}, {"y": "x"}, False),
        ({"key": "x", "operator": "DoesNotExist"}, {"y": "x"}, True),
        ({"key": "x", "operator": "DoesNotExist"}, {"x": ""}, False),
    ],
)
def test_requirement_matches(expression: dict[str, Any], labels: dict[str, str], matches: bool) -> None:
    selector = LabelSelector.parse({"matchExpressions": [expression]})
    assert selector.matches(labels) is matches
    (requirement,) = selector.requirements
    assert requirement.matches(labels) is matches


@pytest.mark.parametrize(
    ("labels", "matches"),
    [
        ({"app": "web", "tier": "fe"}, True),
        ({"app": "web", "tier": "be"}, True),
        ({"app": "web", "tier": "db"}, False),  # tier notin
        ({"app": "web"}, False),  # tier must exist
        ({"app": "api", "tier": "fe"}, False),  # app=web
        ({"app": "web", "tier": "fe", "canary": "true"}, False),  # !canary
        (None, False),
    ],
)
def test_selector_matches_all_requirements(labels: dict[str, str] | None, matches: bool) -> None:
    selector = LabelSelector.parse(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "Exists"},
                {"key": "tier", "operator": "NotIn", "values": ["db"]},
                {"key": "canary", "operator": "DoesNotExist"},
            ],
        }
    )
    assert selector.matches(labels) is matches


def test_match_labels_and_expression_on_the_same_key() -> None:
    selector = LabelSelector.parse(
        {"matchLabels": {"a": "x"}, "matchExpressions": [{"key": "a", "operator": "In", "values": ["y"]}]}
    )
    assert not selector.matches({"a": "x"})
    assert not selector.matches({"a": "y"})


# --- String() --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "string"),
    [
        ({"matchLabels": {"foo": "bar"}}, "foo=bar"),
        ({"matchLabels": {"z": "1", "a": "2", "m": "3"}}, "a=2,m=3,z=1"),
        ({"matchExpressions": [{"key": "foo", "operator": "In", "values": ["baz", "bar"]}]}, "foo in (bar,baz)"),
        ({"matchExpressions": [{"key": "foo", "operator": "NotIn", "values": ["bar"]}]}, "foo notin (bar)"),
        ({"matchExpressions": [{"key": "foo", "operator": "NotIn", "values": ["c", "a", "b"]}]}, "foo notin (a,b,c)"),
        ({"matchExpressions": [{"key": "foo", "operator": "Exists"}]}, "foo"),
        ({"matchExpressions": [{"key": "foo", "operator": "DoesNotExist"}]}, "!foo"),
        (
            {
                "matchLabels": {"a": "b"},
                "matchExpressions": [
                    {"key": "f", "operator": "Exists"},
                    {"key": "e", "operator": "NotIn", "values": ["z"]},
                    {"key": "d", "operator": "In", "values": ["y", "x"]},
                    {"key": "c", "operator": "DoesNotExist"},
                ],
            },
            "a=b,!c,d in (x,y),e notin (z),f",  # sorted by key, not by the formatted text
        ),
    ],
)
def test_string(raw: dict[str, Any], string: str) -> None:
    assert str(LabelSelector.parse(raw)) == string


def test_string_of_single_value_in_expression() -> None:
    raw = {"matchExpressions": [{"key": "foo", "operator": "In", "values": ["bar"]}]}
    assert str(LabelSelector.parse(raw)) == "foo in (bar)"


# --- invalid selectors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("app=web", r"selector must be an object, not str"),
        (["app"], r"selector must be an object, not list"),
        ({"matchLabels": ["app", "web"]}, r"matchLabels must be a map of strings"),
        ({"matchLabels": {"app": 1}}, r"matchLabels\['app'\] must be a string"),
        ({"matchLabels": {"app": True}}, r"matchLabels\['app'\] must be a string"),
        ({"matchExpressions": ["app"]}, r"matchExpressions\[0\] must be an object"),
        ({"matchExpressions": [{"operator": "Exists"}]}, r"matchExpressions\[0\]\.key must be a non-empty string"),
        ({"matchExpressions": [{"key": "", "operator": "Exists"}]}, r"matchExpressions\[0\]\.key must be"),
        ({"matchExpressions": [{"key": 5, "operator": "Exists"}]}, r"matchExpressions\[0\]\.key must be"),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "in", "values": ["x"]}]},
            r"matchExpressions\[1\]\.operator 'in' is not one of In, NotIn, Exists, DoesNotExist",
        ),
        ({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]}, r"operator 'Equals'"),
        ({"matchExpressions": [{"key": "a"}]}, r"operator None is not one of"),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": "x"}]}, r"values must be a list of strings"),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["x", 1]}]}, r"values must be a list"),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}, r"non-empty for operator In"),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn"}]}, r"non-empty for operator NotIn"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, r"empty for operator Exists"),
        (
            {"matchExpressions": [{"key": "a", "operator": "DoesNotExist", "values": ["x"]}]},
            r"empty for operator DoesNotExist",
        ),
    ],
)
def test_invalid_selectors(raw: Any, message: str) -> None:
    with pytest.raises(InvalidSelectorError, match=message):
        LabelSelector.parse(raw)


def test_invalid_selector_error_is_a_value_error() -> None:
    assert issubclass(InvalidSelectorError, ValueError)


@pytest.mark.parametrize(
    "raw",
    [
        {"matchLabels": {"a b": "c"}},
        {"matchLabels": {"a" * 64: "c"}},
        {"matchLabels": {"app": "bad value!"}},
        {"matchExpressions": [{"key": "-app", "operator": "Exists"}]},
        {"matchExpressions": [{"key": "app", "operator": "In", "values": ["a" * 64]}]},
    ],
)
def test_invalid_label_keys_and_values(raw: dict[str, Any]) -> None:
    with pytest.raises(InvalidSelectorError):
        LabelSelector.parse(raw)


def test_valid_qualified_keys_and_values_are_accepted() -> None:
    selector = LabelSelector.parse(
        {"matchLabels": {"app.kubernetes.io/name": "web-1.2_3", "x": "", "a" * 63: "b" * 63}}
    )
    assert selector.matches({"app.kubernetes.io/name": "web-1.2_3", "x": "", "a" * 63: "b" * 63})


# --- is_superset -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "subset", "expected"),
    [
        ({"app": "web", "tier": "fe"}, {"app": "web"}, True),
        ({"app": "web", "tier": "fe"}, {"app": "web", "tier": "fe"}, True),
        ({"app": "web"}, {"app": "web", "tier": "fe"}, False),
        ({"app": "web"}, {"app": "api"}, False),
        ({"app": "web"}, {}, True),
        ({}, {}, True),
        (None, {}, True),
        (None, {"app": "web"}, False),
        ({"app": ""}, {"app": ""}, True),
        ({}, {"app": ""}, False),  # a missing label is not an empty one
    ],
)
def test_is_superset(labels: dict[str, str] | None, subset: dict[str, str], expected: bool) -> None:
    assert is_superset(labels, subset.items()) is expected
