"""The greeting controller's decisions, pure: from a Greeting and its ConfigMap as observed, to a `Plan`.

No I/O, no Kopf, no client: `reconcile()` is a function of what the caches show, so it is tested with
plain values (tests/unit/test_first_controller.py) and the glue (controller.py) only performs the plan.
It is *level-triggered*: it never asks which event woke it. A deleted ConfigMap, an edited one, a changed
spec, a restart of the controller — each ends in the same comparison of the desired ConfigMap with the
observed one, and so in the same repair.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Literal

from docs.tutorials.first_controller.model import API_VERSION, KIND, ConfigMapView, GreetingView
from operators.kube.objects import ConditionState, set_condition
from operators.runtime.ownership import Owner

__all__ = [
    "DATA_KEY",
    "FIELD_MANAGER",
    "MANAGED_BY",
    "NAME_TAKEN_RETRY",
    "READY",
    "Event",
    "Plan",
    "desired_config_map",
    "reconcile",
]

FIELD_MANAGER = "greeting-controller"  # our name in managedFields, and the events' source
MANAGED_BY = ("app.kubernetes.io/managed-by", FIELD_MANAGER)  # the label our ConfigMap informer selects on
DATA_KEY = "greeting"
READY = "Ready"
NAME_TAKEN_RETRY = 10.0  # seconds: see reconcile(), name_taken


@dataclass(frozen=True, slots=True)
class Event:
    """A core/v1 Event to record about the Greeting."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


# --8<-- [start:plan]
@dataclass(frozen=True, slots=True)
class Plan:
    """What one sync does: bring the ConfigMap to `config_map` (`write`), show `status`, maybe look again."""

    write: Literal["create", "update"] | None  # None: the ConfigMap is right as it is (or not ours to touch)
    config_map: dict[str, Any] | None
    status: dict[str, Any]
    event: Event | None = None
    requeue_after: float | None = None  # seconds; for what no watch event will tell us


# --8<-- [end:plan]


# --8<-- [start:desired]
def desired_config_map(greeting: GreetingView) -> dict[str, Any]:
    """The ConfigMap a Greeting asks for: its name, our label, a controller reference to it, the message."""
    owner = Owner(API_VERSION, KIND, greeting.name, greeting.uid, greeting.namespace)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": greeting.name,
            "namespace": greeting.namespace,
            "labels": dict([MANAGED_BY]),
            "ownerReferences": [owner.controller_ref().to_dict()],
        },
        "data": {DATA_KEY: "".join(f"{greeting.message}\n" for _ in range(greeting.repeat))},
    }


# --8<-- [end:desired]


# --8<-- [start:reconcile]
def reconcile(
    greeting: GreetingView,
    current: ConfigMapView | None,
    *,
    now: datetime.datetime,
    name_taken: bool = False,
) -> Plan:
    """Compare the desired ConfigMap with `current` (ours, as cached; None if the cache has none).

    `name_taken` is what the API server told the glue when it tried to create the ConfigMap: a ConfigMap
    of that name exists that our cache cannot show, because it lacks our label. No watch event will tell us
    when it goes away, so the plan asks to look again after NAME_TAKEN_RETRY seconds.
    """
    desired = desired_config_map(greeting)
    if name_taken or (current is not None and not _controlled_by(current, greeting)):
        message = f"ConfigMap {greeting.name} exists and is not controlled by this Greeting"
        return Plan(
            write=None,
            config_map=None,
            status=_status(greeting, ConditionState(False, "ConfigMapExists", message), 0, now),
            event=Event("Warning", "ConfigMapExists", message),
            requeue_after=NAME_TAKEN_RETRY if name_taken else None,  # else: its deletion is an event we see
        )
    synced = ConditionState(True, "Synced", f"ConfigMap {greeting.name} has {greeting.repeat} line(s)")
    ready = _status(greeting, synced, greeting.repeat, now)
    if current is None:
        event = Event("Normal", "CreatedConfigMap", f"Created ConfigMap {greeting.name}")
        return Plan("create", desired, ready, event)
    # Compare only what we own: keys others add to the ConfigMap are theirs (server-side apply keeps them).
    if current.data.get(DATA_KEY) != desired["data"][DATA_KEY] or current.labels.get(MANAGED_BY[0]) != MANAGED_BY[1]:
        event = Event("Normal", "UpdatedConfigMap", f"Updated ConfigMap {greeting.name}")
        return Plan("update", desired, ready, event)
    return Plan(None, None, ready)


# --8<-- [end:reconcile]


def _controlled_by(config_map: ConfigMapView, greeting: GreetingView) -> bool:
    """Ours: its controller reference names this Greeting, by UID (a namesake re-created since is not us)."""
    ref = config_map.controller_ref
    return ref is not None and ref.kind == KIND and ref.uid == greeting.uid


def _status(greeting: GreetingView, ready: ConditionState, lines: int, now: datetime.datetime) -> dict[str, Any]:
    """The status to show, every field always set (a merge patch then replaces them all); the Ready
    condition's lastTransitionTime moves only when its status does."""
    conditions = set_condition(greeting.conditions, READY, ready, now)
    return {
        "observedGeneration": greeting.generation,
        "configMap": greeting.name,
        "lines": lines,
        "conditions": [condition.to_dict() for condition in conditions],
    }
