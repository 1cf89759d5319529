"""Ports of controller_utils_test.go TestControllerExpectations and TestUIDExpectations (RS-07..RS-10)."""

from __future__ import annotations

import datetime
import random

from operators.runtime.expectations import (
    EXPECTATIONS_TIMEOUT,
    ControllerExpectations,
    UIDTrackingControllerExpectations,
)


class FakeClock:
    """testingclock.FakeClock: time only moves when stepped."""

    def __init__(self) -> None:
        self.now = datetime.datetime(2009, 11, 10, 23, 0, 0, tzinfo=datetime.UTC)

    def __call__(self) -> datetime.datetime:
        return self.now

    def step(self, delta: datetime.timedelta) -> None:
        self.now += delta


def test_controller_expectations() -> None:
    ttl = datetime.timedelta(seconds=30)
    clock = FakeClock()
    e = ControllerExpectations(clock=clock, ttl=ttl)
    # In practice a controller only creates or deletes in one pass; both at once exercise the counters.
    adds, dels = 10, 30
    rc_key = "default/foobar"

    e.set_expectations(rc_key, adds, dels)
    for _ in range(adds + 1):
        e.creation_observed(rc_key)
    # There are still delete expectations.
    assert not e.satisfied_expectations(rc_key), "Rc will sync before expectations are met"
    for _ in range(dels + 1):
        e.deletion_observed(rc_key)

    # "Expectations have been surpassed"
    assert e.get_expectations(rc_key) == (-1, -1)
    assert e.satisfied_expectations(rc_key), "Expectations are met but the rc will not sync"

    # "Old expectations are cleared because of ttl"
    e.set_expectations(rc_key, 1, 2)
    assert e.get_expectations(rc_key) == (1, 2)
    assert not e.satisfied_expectations(rc_key)
    clock.step(ttl + datetime.timedelta(microseconds=1))  # Go steps ttl + 1ns
    assert e.satisfied_expectations(rc_key), "Expectations should have expired but didn't"


def test_controller_expectations_default_ttl_is_five_minutes() -> None:
    # RS-09
    clock = FakeClock()
    e = ControllerExpectations(clock=clock)
    e.expect_creations("ns/rs", 3)
    clock.step(EXPECTATIONS_TIMEOUT)
    assert not e.satisfied_expectations("ns/rs")
    clock.step(datetime.timedelta(microseconds=1))
    assert e.satisfied_expectations("ns/rs")


def test_controller_expectations_lower_and_delete() -> None:
    e = ControllerExpectations(clock=FakeClock())
    assert e.satisfied_expectations("ns/rs")  # no record: sync
    e.expect_creations("ns/rs", 3)
    e.creation_observed("ns/rs")
    e.lower_expectations("ns/rs", 1, 0)  # e.g. a create that was skipped after a failed batch (RS-04)
    assert e.get_expectations("ns/rs") == (1, 0)
    assert not e.satisfied_expectations("ns/rs")
    e.raise_expectations("ns/rs", 1, 0)
    assert e.get_expectations("ns/rs") == (2, 0)
    e.delete_expectations("ns/rs")  # RS-10
    assert e.get_expectations("ns/rs") is None
    assert e.satisfied_expectations("ns/rs")
    # Observations without a record are ignored rather than creating one.
    e.creation_observed("ns/rs")
    assert e.get_expectations("ns/rs") is None


def test_uid_expectations() -> None:
    uid_exp = UIDTrackingControllerExpectations(ControllerExpectations())
    cases = [2, 1, 0, 5]  # "Replication controller with 2 replicas", 1, no replicas, 5
    random.shuffle(cases)  # upstream shuffles too: the cases share one expectations store
    for num_replicas in cases:
        rc_name = f"rc-{num_replicas}"
        rc_key = f"default/{rc_name}"
        rc_pod_names = [f"default/pod{i}-{rc_name}" for i in range(5)]
        uid_exp.expect_deletions(rc_key, rc_pod_names)
        assert not uid_exp.satisfied_expectations(rc_key), f"{rc_key} satisfied expectations before deletion"

        for key in rc_pod_names:
            uid_exp.deletion_observed(rc_key, key)
        assert uid_exp.satisfied_expectations(rc_key), f"{rc_key} didn't satisfy expectations after deletion"

        uid_exp.delete_expectations(rc_key)
        assert uid_exp.get_uids(rc_key) is None, f"Failed to delete uid expectations for {rc_key}"


def test_uid_expectations_count_each_deletion_once() -> None:
    # RS-08: the update setting deletionTimestamp and the later delete event report the same pod.
    uid_exp = UIDTrackingControllerExpectations(ControllerExpectations(clock=FakeClock()))
    uid_exp.expect_deletions("ns/rs", ["ns/a", "ns/b"])
    uid_exp.deletion_observed("ns/rs", "ns/a")
    uid_exp.deletion_observed("ns/rs", "ns/a")
    uid_exp.deletion_observed("ns/rs", "ns/unexpected")
    assert uid_exp.get_expectations("ns/rs") == (0, 1)
    assert uid_exp.get_uids("ns/rs") == frozenset({"ns/b"})
    assert not uid_exp.satisfied_expectations("ns/rs")
    uid_exp.deletion_observed("ns/rs", "ns/b")
    assert uid_exp.satisfied_expectations("ns/rs")
