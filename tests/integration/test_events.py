"""The event recorder against the real API server: aggregation of repeats, and the per-object spam filter."""

from __future__ import annotations

import pytest

from operators.runtime.client import KubeClient
from operators.runtime.events import SPAM_BURST, EventRecorder, InvolvedObject

pytestmark = pytest.mark.cluster


async def events_about(kube: KubeClient, namespace: str, name: str) -> list[dict[str, object]]:
    items = (await kube.get(f"/api/v1/namespaces/{namespace}/events"))["items"]
    return [e for e in items if e["involvedObject"]["name"] == name]


async def test_identical_events_are_aggregated_into_a_count(kube: KubeClient, namespace: str) -> None:
    """EventCorrelator: the same object, type, reason and message bump `count` instead of a new Event."""
    recorder = EventRecorder(kube, "test-controller")
    thing = InvolvedObject("v1", "ConfigMap", namespace, "thing", "uid-1")
    for _ in range(3):
        recorder.record(thing, "Warning", "FailedCreate", "Error creating: quota exceeded")
    recorder.record(thing, "Normal", "SuccessfulCreate", "Created pod: thing-abcde")
    await recorder.flush()
    await recorder.close()
    events = {e["reason"]: e for e in await events_about(kube, namespace, "thing")}
    assert set(events) == {"FailedCreate", "SuccessfulCreate"}
    assert events["FailedCreate"]["count"] == 3 and events["FailedCreate"]["type"] == "Warning"
    assert events["SuccessfulCreate"]["count"] == 1
    assert events["FailedCreate"]["source"] == {"component": "test-controller"}


async def test_spam_filter_lets_a_burst_of_25_through_per_object(kube: KubeClient, namespace: str) -> None:
    """EventSourceObjectSpamFilter: 25 events per (source, object), then one per 5 minutes."""
    recorder = EventRecorder(kube, "test-controller")
    busy = InvolvedObject("v1", "ConfigMap", namespace, "busy", "uid-2")
    quiet = InvolvedObject("v1", "ConfigMap", namespace, "quiet", "uid-3")
    for index in range(SPAM_BURST + 10):
        recorder.record(busy, "Normal", "SuccessfulCreate", f"Created pod: busy-{index}")
    recorder.record(quiet, "Normal", "SuccessfulCreate", "Created pod: quiet-0")  # another object: its own bucket
    await recorder.flush()
    await recorder.close()
    busy_events = await events_about(kube, namespace, "busy")
    assert sum(int(str(e["count"])) for e in busy_events) == SPAM_BURST
    # EventAggregator: nine distinct messages as they are, the rest combined into one event with a count.
    assert len(busy_events) == 10
    (combined,) = [e for e in busy_events if e["message"].startswith("(combined from similar events): ")]
    assert combined["count"] == SPAM_BURST - 9
    assert combined["message"] == f"(combined from similar events): Created pod: busy-{SPAM_BURST - 1}"
    assert len(await events_about(kube, namespace, "quiet")) == 1
