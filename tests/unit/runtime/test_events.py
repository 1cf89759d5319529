"""The EventAggregator of client-go's events_cache.go (TestEventAggregatorByReasonFunc and the aggregate test)."""

from __future__ import annotations

from operators.runtime.events import AGGREGATE_INTERVAL, AGGREGATE_MAX_EVENTS, COMBINED, EventAggregator, InvolvedObject

POD_OWNER = InvolvedObject("minik8s.dev/v1", "MiniReplicaSet", "ns", "web", "uid-1")


def test_similar_events_are_combined_from_the_tenth_distinct_message() -> None:
    aggregator = EventAggregator()
    seen = [
        aggregator.aggregate(POD_OWNER, "Normal", "SuccessfulCreate", f"Created pod: web-{i}", 0.0) for i in range(12)
    ]
    singles, combined = seen[: AGGREGATE_MAX_EVENTS - 1], seen[AGGREGATE_MAX_EVENTS - 1 :]
    assert [message for _, message in singles] == [f"Created pod: web-{i}" for i in range(9)]
    assert len({key for key, _ in singles}) == 9, "each distinct message its own event"
    assert {key for key, _ in combined} == {(POD_OWNER, "Normal", "SuccessfulCreate", COMBINED)}, "one event"
    assert combined[-1][1] == f"{COMBINED}Created pod: web-11", "carrying the latest message"


def test_other_reasons_types_and_objects_are_not_similar() -> None:
    aggregator = EventAggregator()
    for i in range(AGGREGATE_MAX_EVENTS - 1):
        aggregator.aggregate(POD_OWNER, "Normal", "SuccessfulCreate", f"Created pod: web-{i}", 0.0)
    other = InvolvedObject("minik8s.dev/v1", "MiniReplicaSet", "ns", "db", "uid-2")
    for obj, type_, reason in [(other, "Normal", "SuccessfulCreate"), (POD_OWNER, "Warning", "SuccessfulCreate"),
                               (POD_OWNER, "Normal", "SuccessfulDelete")]:  # fmt: skip
        _, message = aggregator.aggregate(obj, type_, reason, "Created pod: web-x", 1.0)
        assert message == "Created pod: web-x"


def test_a_repeated_message_is_not_a_new_distinct_one() -> None:
    aggregator = EventAggregator()
    for _ in range(20):
        key, message = aggregator.aggregate(POD_OWNER, "Warning", "FailedCreate", "quota exceeded", 0.0)
    assert message == "quota exceeded" and key[3] == "quota exceeded", "the eventLogger counts these instead"


def test_ten_quiet_minutes_start_the_count_again() -> None:
    aggregator = EventAggregator()
    for i in range(AGGREGATE_MAX_EVENTS):
        aggregator.aggregate(POD_OWNER, "Normal", "SuccessfulCreate", f"Created pod: web-{i}", 0.0)
    _, message = aggregator.aggregate(
        POD_OWNER, "Normal", "SuccessfulCreate", "Created pod: late", AGGREGATE_INTERVAL + 1
    )
    assert message == "Created pod: late"
