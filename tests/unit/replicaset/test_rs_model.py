"""ReplicaSetView: reading MiniReplicaSet bodies, including malformed ones the schema would normally stop."""

from __future__ import annotations

from typing import Any

import pytest

from operators.controllers.replicaset.model import ReplicaSetView
from operators.kube.selectors import Nothing


def body(selector: Any, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "minik8s.dev/v1",
        "kind": "MiniReplicaSet",
        "metadata": {"name": "rs", "namespace": "ns", "uid": "u1", "generation": 3},
        "spec": {"selector": selector, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {}}, **spec},
    }


def test_reads_the_fields_the_controller_needs() -> None:
    view = ReplicaSetView.from_body(body({"matchLabels": {"a": "b"}}, replicas=4, minReadySeconds=7))
    assert (view.key, view.uid, view.generation, view.replicas, view.min_ready_seconds) == ("ns/rs", "u1", 3, 4, 7)
    assert str(view.selector) == "a=b" and view.selector_error == ""
    assert view.template["metadata"]["labels"] == {"a": "b"}


def test_replicas_default_to_one() -> None:
    assert ReplicaSetView.from_body(body({"matchLabels": {"a": "b"}})).replicas == 1


def test_the_template_is_a_copy_not_the_watched_dict() -> None:
    raw = body({"matchLabels": {"a": "b"}})
    view = ReplicaSetView.from_body(raw)
    raw["spec"]["template"]["metadata"]["labels"]["a"] = "changed"
    assert view.template["metadata"]["labels"] == {"a": "b"}


@pytest.mark.parametrize(
    ("selector", "error"),
    [
        ({"matchExpressions": [{"key": "a", "operator": "Bogus"}]}, "operator 'Bogus'"),
        ({"matchExpressions": [{"key": "a", "operator": "In"}]}, "must be non-empty"),
        ({"matchLabels": {"a": 1}}, "must be a string"),
        ({"matchLabels": {"bad key": "x"}}, "invalid label key"),
        ("a=b", "must be an object"),
    ],
)
def test_a_malformed_selector_selects_nothing_and_says_why(selector: Any, error: str) -> None:
    """RS-01: an invalid selector is reported (the sync posts a Warning event), never raised into the cache."""
    view = ReplicaSetView.from_body(body(selector))
    assert view.selector == Nothing
    assert error in view.selector_error
    assert not view.selector.matches({"a": "b"})
