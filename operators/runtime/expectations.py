"""Controller expectations, as ControllerExpectations in pkg/controller/controller_utils.go (RS-07..RS-10).

After issuing creates or deletes, a controller records how many it expects to observe and skips
manageReplicas until its informer has seen them all (or the record is older than the TTL): otherwise a sync
running on a stale cache would create or delete the same pods again.

Plain in-memory state, meant for a single event loop (no locks); keys are `namespace/name` strings.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = [
    "EXPECTATIONS_TIMEOUT",
    "Clock",
    "ControllerExpectations",
    "UIDTrackingControllerExpectations",
]

# controller.ExpectationsTimeout: a dropped watch event delays a controller by at most this much (RS-09).
EXPECTATIONS_TIMEOUT = datetime.timedelta(minutes=5)

Clock = Callable[[], datetime.datetime]


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(slots=True)
class _ControlleeExpectations:
    """ControlleeExpectations: outstanding adds and deletes, and when they were set."""

    add: int
    delete: int
    timestamp: datetime.datetime

    def fulfilled(self) -> bool:
        return self.add <= 0 and self.delete <= 0


class ControllerExpectations:
    """ControllerExpectations: per controller key, the creates and deletes still to be observed."""

    def __init__(self, clock: Clock = _utc_now, ttl: datetime.timedelta = EXPECTATIONS_TIMEOUT) -> None:
        self._clock = clock
        self._ttl = ttl
        self._store: dict[str, _ControlleeExpectations] = {}

    def get_expectations(self, key: str) -> tuple[int, int] | None:
        """The outstanding (adds, deletes) for `key`, or None when nothing is recorded."""
        exp = self._store.get(key)
        return None if exp is None else (exp.add, exp.delete)

    # --8<-- [start:satisfied]
    def satisfied_expectations(self, key: str) -> bool:
        """RS-09: no record, or everything observed, or the record expired: the controller may sync."""
        exp = self._store.get(key)
        if exp is None:
            return True
        return exp.fulfilled() or self._clock() - exp.timestamp > self._ttl

    # --8<-- [end:satisfied]

    def delete_expectations(self, key: str) -> None:
        """RS-10: forget `key` (the controller was deleted, or re-created with a new UID)."""
        self._store.pop(key, None)

    def set_expectations(self, key: str, add: int, delete: int) -> None:
        """Replace whatever was recorded for `key`, stamping it with the current time."""
        self._store[key] = _ControlleeExpectations(add, delete, self._clock())

    def expect_creations(self, key: str, adds: int) -> None:
        """RS-07: call before issuing `adds` creates."""
        self.set_expectations(key, adds, 0)

    def expect_deletions(self, key: str, dels: int) -> None:
        self.set_expectations(key, 0, dels)

    def lower_expectations(self, key: str, add: int, delete: int) -> None:
        """Decrement the counts, e.g. for creates or deletes that failed and will never be observed."""
        exp = self._store.get(key)
        if exp is not None:
            exp.add -= add
            exp.delete -= delete

    def raise_expectations(self, key: str, add: int, delete: int) -> None:
        exp = self._store.get(key)
        if exp is not None:
            exp.add += add
            exp.delete += delete

    def creation_observed(self, key: str) -> None:
        """RS-07: a pod this controller owns was added (or a create failed)."""
        self.lower_expectations(key, 1, 0)

    def deletion_observed(self, key: str) -> None:
        self.lower_expectations(key, 0, 1)


class UIDTrackingControllerExpectations:
    """UIDTrackingControllerExpectations: deletions tracked by pod key so none is counted twice (RS-08).

    A graceful delete shows up first as an update setting deletionTimestamp and later as the delete event;
    both report the deletion, and only the first for each expected key may lower the count.
    """

    def __init__(self, expectations: ControllerExpectations | None = None) -> None:
        self.expectations = expectations if expectations is not None else ControllerExpectations()
        self._uids: dict[str, set[str]] = {}

    def get_uids(self, key: str) -> frozenset[str] | None:
        """The pod keys whose deletion `key` still waits for, or None when nothing is recorded."""
        uids = self._uids.get(key)
        return None if uids is None else frozenset(uids)

    def expect_deletions(self, key: str, deleted_keys: Iterable[str]) -> None:
        """RS-08: record the pod keys about to be deleted (replacing any earlier set) and their count."""
        expected = set(deleted_keys)
        self._uids[key] = expected
        self.expectations.expect_deletions(key, len(expected))

    def deletion_observed(self, key: str, deleted_key: str) -> None:
        """RS-08: count the deletion of `deleted_key` once, and only if it was expected."""
        uids = self._uids.get(key)
        if uids is not None and deleted_key in uids:
            self.expectations.deletion_observed(key)
            uids.discard(deleted_key)

    def delete_expectations(self, key: str) -> None:
        """RS-10: forget both the counts and the tracked keys."""
        self.expectations.delete_expectations(key)
        self._uids.pop(key, None)

    # The rest is ControllerExpectations unchanged.

    def get_expectations(self, key: str) -> tuple[int, int] | None:
        return self.expectations.get_expectations(key)

    def satisfied_expectations(self, key: str) -> bool:
        return self.expectations.satisfied_expectations(key)

    def expect_creations(self, key: str, adds: int) -> None:
        self.expectations.expect_creations(key, adds)

    def creation_observed(self, key: str) -> None:
        self.expectations.creation_observed(key)

    def lower_expectations(self, key: str, add: int, delete: int) -> None:
        self.expectations.lower_expectations(key, add, delete)

    def raise_expectations(self, key: str, add: int, delete: int) -> None:
        self.expectations.raise_expectations(key, add, delete)
