"""The tutorial's greeting controller (docs/tutorials/first_controller): its pure logic, views and CRD.

`reconcile()` is tested the way the project tests upstream's pure functions: plain values in, a plan out.
"""

from __future__ import annotations

import datetime
from typing import Any

import yaml

from docs.tutorials.first_controller.api import CRD_FILE, GROUP, crd, crd_yaml
from docs.tutorials.first_controller.model import ConfigMapView, GreetingView
from docs.tutorials.first_controller.reconcile import (
    DATA_KEY,
    MANAGED_BY,
    NAME_TAKEN_RETRY,
    desired_config_map,
    reconcile,
)
from tests.unit.test_crds import structural_errors

T0 = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(minutes=1)


def greeting(
    message: str = "Hello", repeat: int = 1, *, generation: int = 1, status: dict[str, Any] | None = None
) -> GreetingView:
    return GreetingView.from_body(
        {
            "apiVersion": "tutorial.minik8s.dev/v1",
            "kind": "Greeting",
            "metadata": {
                "namespace": "ns",
                "name": "hello",
                "uid": "uid-1",
                "resourceVersion": "7",
                "generation": generation,
            },
            "spec": {"message": message, "repeat": repeat},
            "status": status or {},
        }
    )


def ours(g: GreetingView, data: dict[str, str] | None = None, *, labelled: bool = True) -> ConfigMapView:
    """The ConfigMap as the controller would have created it, with `data` instead if given."""
    body = desired_config_map(g)
    body["metadata"].update(uid="cm-uid", resourceVersion="9")
    if not labelled:
        body["metadata"]["labels"] = {}
    if data is not None:
        body["data"] = data
    return ConfigMapView.from_dict(body)


def ready(plan_status: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in plan_status["conditions"] if c["type"] == "Ready")


# --- the views ------------------------------------------------------------------------------------------------


def test_greeting_view_reads_spec_metadata_and_status() -> None:
    g = greeting("Hi", 3, generation=4, status={"lines": 3})
    assert (g.key, g.uid, g.resource_version, g.generation) == ("ns/hello", "uid-1", "7", 4)
    assert (g.message, g.repeat, g.status) == ("Hi", 3, {"lines": 3})


def test_greeting_view_defaults_repeat_to_one() -> None:
    view = GreetingView.from_body({"metadata": {"name": "x"}, "spec": {"message": "m"}})
    assert view.repeat == 1


def test_config_map_view_reads_controller_ref_and_data() -> None:
    cm = ours(greeting())
    assert cm.controller_ref is not None and cm.controller_ref.uid == "uid-1"
    assert cm.data == {DATA_KEY: "Hello\n"}
    assert cm.labels == dict([MANAGED_BY])


# --- desired state --------------------------------------------------------------------------------------------


def test_desired_config_map_is_named_labelled_owned_and_holds_the_lines() -> None:
    body = desired_config_map(greeting("Hi", 3))
    meta = body["metadata"]
    assert (meta["name"], meta["namespace"]) == ("hello", "ns")
    assert meta["labels"] == {"app.kubernetes.io/managed-by": "greeting-controller"}
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "tutorial.minik8s.dev/v1",
            "kind": "Greeting",
            "name": "hello",
            "uid": "uid-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert body["data"] == {"greeting": "Hi\nHi\nHi\n"}


# --- reconcile ------------------------------------------------------------------------------------------------


def test_reconcile_creates_a_missing_config_map() -> None:
    g = greeting(repeat=2)
    plan = reconcile(g, None, now=T0)
    assert plan.write == "create"
    assert plan.config_map == desired_config_map(g)
    assert plan.event is not None and (plan.event.type, plan.event.reason) == ("Normal", "CreatedConfigMap")
    assert plan.requeue_after is None
    assert plan.status["observedGeneration"] == 1
    assert (plan.status["configMap"], plan.status["lines"]) == ("hello", 2)
    assert ready(plan.status) == {
        "type": "Ready",
        "status": "True",
        "reason": "Synced",
        "message": "ConfigMap hello has 2 line(s)",
        "lastTransitionTime": "2026-01-02T03:04:05Z",
    }


def test_reconcile_does_nothing_when_the_config_map_is_right_and_status_is_stable() -> None:
    first = reconcile(greeting(), None, now=T0)
    g = greeting(status=first.status)  # the status as written and read back
    plan = reconcile(g, ours(g), now=T1)
    assert (plan.write, plan.config_map, plan.event, plan.requeue_after) == (None, None, None, None)
    assert plan.status == g.status  # so the glue writes no status either (lastTransitionTime kept)


def test_reconcile_repairs_edited_data() -> None:
    g = greeting("Hello")
    plan = reconcile(g, ours(g, {DATA_KEY: "tampered\n", "extra": "x"}), now=T0)
    assert plan.write == "update"
    assert plan.config_map == desired_config_map(g)
    assert plan.event is not None and plan.event.reason == "UpdatedConfigMap"


def test_reconcile_leaves_keys_someone_else_added() -> None:
    g = greeting("Hello")
    plan = reconcile(g, ours(g, {DATA_KEY: "Hello\n", "note": "added by a user"}), now=T0)
    assert (plan.write, plan.event) == (None, None)


def test_reconcile_restores_a_removed_label() -> None:
    g = greeting()
    assert reconcile(g, ours(g, labelled=False), now=T0).write == "update"


def test_reconcile_follows_a_spec_change_and_observes_its_generation() -> None:
    before = reconcile(greeting("Hello"), None, now=T0).status
    g = greeting("Hello", 3, generation=2, status=before)
    plan = reconcile(g, ours(greeting("Hello")), now=T1)
    assert plan.write == "update"
    assert plan.config_map is not None and plan.config_map["data"] == {"greeting": "Hello\nHello\nHello\n"}
    assert (plan.status["observedGeneration"], plan.status["lines"]) == (2, 3)
    assert ready(plan.status)["lastTransitionTime"] == "2026-01-02T03:04:05Z"  # still True: no transition


def test_reconcile_leaves_a_config_map_controlled_by_someone_else() -> None:
    g = greeting()
    other = ConfigMapView.from_dict(
        {
            "metadata": {
                "namespace": "ns",
                "name": "hello",
                "uid": "cm",
                "labels": dict([MANAGED_BY]),
                "ownerReferences": [
                    {"kind": "Greeting", "name": "hello", "uid": "an-older-greeting", "controller": True}
                ],
            }
        }
    )
    plan = reconcile(g, other, now=T0)
    assert (plan.write, plan.config_map) == (None, None)
    assert plan.event is not None and (plan.event.type, plan.event.reason) == ("Warning", "ConfigMapExists")
    assert plan.requeue_after is None  # our informer sees that one: its deletion wakes us
    assert (ready(plan.status)["status"], ready(plan.status)["reason"]) == ("False", "ConfigMapExists")
    assert plan.status["lines"] == 0


def test_reconcile_name_taken_by_an_unseen_config_map_looks_again_later() -> None:
    plan = reconcile(greeting(), None, now=T0, name_taken=True)
    assert plan.write is None
    assert plan.requeue_after == NAME_TAKEN_RETRY  # no watch event will say when the name is free
    assert ready(plan.status)["status"] == "False"


def test_ready_transition_time_moves_only_when_the_status_does() -> None:
    taken = reconcile(greeting(), None, now=T0, name_taken=True).status
    again = reconcile(greeting(status=taken), None, now=T1, name_taken=True).status
    assert ready(again)["lastTransitionTime"] == "2026-01-02T03:04:05Z"
    freed = reconcile(greeting(status=again), None, now=T1).status
    assert (ready(freed)["status"], ready(freed)["lastTransitionTime"]) == ("True", "2026-01-02T03:05:05Z")


# --- the CRD --------------------------------------------------------------------------------------------------


def test_crd_yaml_is_generated_from_the_model() -> None:
    assert CRD_FILE.read_text(encoding="utf-8") == crd_yaml(), (
        "run: python -m docs.tutorials.first_controller crd --write"
    )
    assert yaml.safe_load(crd_yaml()) == crd()


def test_crd_is_in_the_tutorial_group_structural_and_every_field_described() -> None:
    definition = crd()
    assert definition["metadata"]["name"] == f"greetings.{GROUP}"
    assert definition["spec"]["group"] == GROUP
    version = definition["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    assert structural_errors(version["schema"]["openAPIV3Schema"]) == []
