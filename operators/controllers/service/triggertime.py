"""TriggerTimeTracker (pkg/controller/util/endpoint/trigger_time_tracker.go): the last-change-trigger-time.

The `endpoints.kubernetes.io/last-change-trigger-time` annotation of a slice tells kube-proxy's latency
metric when the change it carries began: the earliest of the changes this sync picks up — a pod whose
Ready condition moved since the last sync, or the Service's creation for a Service seen the first time.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from operators.kube.objects import Pod

__all__ = ["TriggerTimeTracker"]


@dataclass
class _ServiceState:
    pod_trigger_times: dict[str, datetime.datetime] = field(default_factory=dict)
    service_trigger_time: datetime.datetime | None = None


class TriggerTimeTracker:
    """The trigger times each Service's last sync saw, per Service key."""

    def __init__(self) -> None:
        self._states: dict[str, _ServiceState] = {}

    def compute(self, service: str, created: datetime.datetime | None, pods: Iterable[Pod]) -> datetime.datetime | None:
        """ComputeEndpointLastChangeTriggerTime: the earliest change since the previous call for `service`."""
        desired = _ServiceState(
            {p.name: p.ready_transition_time for p in pods if p.ready_transition_time is not None}, created
        )
        previous = self._states.get(service)
        self._states[service] = desired
        if previous is None:
            return desired.service_trigger_time  # a new Service: its creation
        changed = [
            when
            for name, when in desired.pod_trigger_times.items()
            if (before := previous.pod_trigger_times.get(name)) is None or before < when
        ]
        if desired.service_trigger_time is not None and (
            previous.service_trigger_time is None or previous.service_trigger_time < desired.service_trigger_time
        ):
            changed.append(desired.service_trigger_time)
        return min(changed, default=None)

    def delete_service(self, service: str) -> None:
        self._states.pop(service, None)
