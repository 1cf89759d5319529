"""Lease-based leader election: client-go's tools/leaderelection with a coordination.k8s.io/v1 Lease as the lock.

Why. Two replicas of an operator acting at once would fight: both see a missing pod and both create one. So every
replica runs an elector and only the holder of one Lease acts; a standby keeps its caches warm but must not
sync anything, because the leader may be acting on the very same objects at the same moment.

A standby decides that the leader is gone by its own clock only. The Lease's renewTime was written by the
leader's clock, which may be minutes off from ours; comparing it with our clock would make a standby take over
from a healthy leader (or never take over from a dead one). As client-go does, we trust only that the record
*changed*: we note on our monotonic clock when we last saw it change, and the lease expires leaseDurationSeconds
after that observation. This tolerates any clock skew between candidates (not a skew in clock *rate*).

A leader that cannot renew within renew_deadline stops leading, before any standby can take over (a standby waits
lease_duration from its last observation of a renewal). But work already under way cannot be recalled, and
nothing fences out a deposed leader's late writes: so losing the lease must end the process, which restarts as a
fresh standby. The elector does not exit by itself; its caller does that in on_stopped_leading, as
kube-controller-manager's OnStoppedLeading logs "leaderelection lost" and exits.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import math
import random
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import aiohttp

from operators.kube.objects import parse_time
from operators.runtime.client import ApiError

__all__ = [
    "JITTER_FACTOR",
    "LeaderElectionConfig",
    "LeaderElectionRecord",
    "LeaderElector",
    "LeaseClient",
    "default_identity",
]

logger = logging.getLogger(__name__)

JITTER_FACTOR = 1.2  # leaderelection.JitterFactor: the acquire loop waits retry_period * (1 + rand * 1.2)
LEASES = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"

# What a failed attempt may raise: the API's answer, a broken connection, a timeout (TimeoutError is an OSError).
_API_ERRORS = (ApiError, aiohttp.ClientError, asyncio.TimeoutError, OSError)


def default_identity() -> str:
    """`hostname_uuid`, as kube-controller-manager builds its leader-election identity."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


@dataclass(frozen=True)
class LeaderElectionConfig:
    """Which Lease to hold, who we are, and the timings (kube-controller-manager's defaults: 15 s, 10 s, 2 s)."""

    name: str = "mini-operators"  # --leader-elect-resource-name
    namespace: str = "kube-system"  # --leader-elect-resource-namespace
    identity: str = field(default_factory=default_identity)
    lease_duration: float = 15.0  # how long a standby waits, from its last observed change, before taking over
    renew_deadline: float = 10.0  # how long the leader keeps retrying a renewal before it gives up leading
    retry_period: float = 2.0  # the pause between attempts

    def __post_init__(self) -> None:
        """The checks of NewLeaderElector, plus the Lease's own rule that the duration is whole seconds."""
        if self.lease_duration <= self.renew_deadline:
            raise ValueError(
                f"lease_duration ({self.lease_duration}s) must be greater than renew_deadline ({self.renew_deadline}s)"
            )
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            raise ValueError(
                f"renew_deadline ({self.renew_deadline}s) must be greater than retry_period*JitterFactor "
                f"({self.retry_period}s * {JITTER_FACTOR})"
            )
        if self.retry_period <= 0:
            raise ValueError(f"retry_period ({self.retry_period}s) must be greater than zero")
        if self.lease_duration != int(self.lease_duration):
            raise ValueError(
                f"lease_duration ({self.lease_duration}s) must be a whole number of seconds: "
                "the Lease stores spec.leaseDurationSeconds as an integer"
            )
        if not self.identity:
            raise ValueError("identity must not be empty")
        if not self.name or not self.namespace:
            raise ValueError("the Lease needs a name and a namespace")

    @property
    def lease_path(self) -> str:
        return f"{LEASES.format(namespace=self.namespace)}/{self.name}"


@dataclass(frozen=True, slots=True)
class LeaderElectionRecord:
    """resourcelock.LeaderElectionRecord: what the Lease's spec says about its holder."""

    holder_identity: str = ""
    lease_duration_seconds: int = 0
    acquire_time: datetime.datetime | None = None
    renew_time: datetime.datetime | None = None
    leader_transitions: int = 0

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> LeaderElectionRecord:
        """LeaseSpecToLeaderElectionRecord: absent fields read as empty."""
        return cls(
            holder_identity=spec.get("holderIdentity") or "",
            lease_duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
            acquire_time=parse_time(spec.get("acquireTime")),
            renew_time=parse_time(spec.get("renewTime")),
            leader_transitions=int(spec.get("leaseTransitions") or 0),
        )

    def to_spec(self) -> dict[str, Any]:
        """LeaderElectionRecordToLeaseSpec: every field written, the times as MicroTime."""
        return {
            "holderIdentity": self.holder_identity,
            "leaseDurationSeconds": self.lease_duration_seconds,
            "acquireTime": format_micro_time(self.acquire_time) if self.acquire_time else None,
            "renewTime": format_micro_time(self.renew_time) if self.renew_time else None,
            "leaseTransitions": self.leader_transitions,
        }


def format_micro_time(value: datetime.datetime) -> str:
    """metav1.MicroTime: RFC 3339 in UTC with six fractional digits (`2026-11-23T20:01:02.123456Z`)."""
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaseClient(Protocol):
    """The three verbs the elector uses; KubeClient has them."""

    async def get(self, path: str) -> dict[str, Any]: ...

    async def create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]: ...

    async def request(self, method: str, path: str, *, body: Any = None) -> dict[str, Any]: ...


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class LeaderElector:
    """One candidate for the Lease: `run()` acquires it, keeps renewing it, and returns once it is lost.

    Callbacks are plain functions, called on the event loop; they must not block (client-go runs them in
    goroutines): `on_started_leading` should start the work as tasks, `on_stopped_leading` should end the
    process. `on_stopped_leading` runs whenever `run()` ends, lost or cancelled, even if it never led (client-go
    defers it in Run). `on_new_leader(identity)` runs when the observed holder changes ("" once it is released).
    `on_leading_changed(leading)` is for the leader_election_master_status gauge: False at construction (as
    NewLeaderElector's leaderOff), True on acquiring, False when leadership ends.

    `clock` gives monotonic seconds for the expiry arithmetic and must be the clock the event loop sleeps by;
    `wall_clock` gives the times written into the record, which other candidates never compare with theirs.
    """

    def __init__(
        self,
        client: LeaseClient,
        config: LeaderElectionConfig,
        *,
        on_started_leading: Callable[[], None],
        on_stopped_leading: Callable[[], None],
        on_new_leader: Callable[[str], None] | None = None,
        on_leading_changed: Callable[[bool], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime.datetime] = _utc_now,
    ) -> None:
        self.client = client
        self.config = config
        self._on_started_leading = on_started_leading
        self._on_stopped_leading = on_stopped_leading
        self._on_new_leader = on_new_leader
        self._on_leading_changed = on_leading_changed
        self._clock = clock
        self._wall_clock = wall_clock
        # The record last read or written, and when (by `clock`) we saw it change: client-go's observedRecord
        # and observedTime. Never observed: expired long ago.
        self._observed = LeaderElectionRecord()
        self._observed_time = -math.inf
        self._lease: dict[str, Any] | None = None  # the Lease object last read or written (LeaseLock.lease)
        self._reported_leader = ""
        self._leading = False
        if on_leading_changed is not None:
            on_leading_changed(False)

    @property
    def is_leader(self) -> bool:
        """True from acquiring the lease until it is lost or `run()` ends."""
        return self._leading

    @property
    def leader_identity(self) -> str | None:
        """The holder we last observed (GetLeader), None if none."""
        return self._observed.holder_identity or None

    async def run(self) -> None:
        """Acquire the lease, call on_started_leading, renew until a renewal misses renew_deadline.

        Returns after on_stopped_leading once the lease is lost. Cancelling the task ends it as well; the caller
        may then call `release()` (ReleaseOnCancel), once the work the lease guards has stopped.
        """
        try:
            await self._acquire()
            self._set_leading(True)
            self._on_started_leading()
            await self._renew()
        finally:
            self._set_leading(False)
            self._on_stopped_leading()

    async def release(self) -> bool:
        """Give the lease up if we hold it: holder "", leaseDurationSeconds 1, so a standby takes over at once.

        As client-go's release: the Lease is read first and written only if it still names us (retrying a
        conflict with a renewal that raced the cancellation), all within renew_deadline. True when the lease
        is not ours any more; False when that could not be achieved (it then expires after lease_duration).
        """
        if not self._holds_record():
            return True
        try:
            async with asyncio.timeout(self.config.renew_deadline):
                while True:
                    current = await self._read()
                    if current.holder_identity != self.config.identity:
                        return True  # someone else took it over meanwhile: not ours to release
                    now = self._wall_clock()
                    released = LeaderElectionRecord(
                        lease_duration_seconds=1,
                        acquire_time=now,
                        renew_time=now,
                        leader_transitions=current.leader_transitions,
                    )
                    try:
                        await self._update(released)
                    except ApiError as error:
                        if error.conflict:
                            continue
                        raise
                    self._observe(released)
                    logger.info("leader election: released lease %s", self._describe())
                    return True
        except _API_ERRORS as error:
            logger.warning("leader election: failed to release lease %s: %s", self._describe(), _one_line(error))
            return False

    # --- the loops -------------------------------------------------------------------------------------------

    async def _acquire(self) -> None:
        """Try, then wait retry_period plus up to 120% jitter, until acquired (wait.JitterUntil, sliding)."""
        logger.info("leader election: attempting to acquire lease %s as %s", self._describe(), self.config.identity)
        while True:
            acquired = await self._attempt()
            self._maybe_report_transition()
            if acquired:
                logger.info("leader election: acquired lease %s", self._describe())
                return
            await asyncio.sleep(self.config.retry_period * (1 + random.random() * JITTER_FACTOR))

    async def _renew(self) -> None:
        """Renew now and then every retry_period; return when one renewal did not succeed within renew_deadline.

        Each renewal is wait.PollImmediateUntil under a renew_deadline timeout: attempts every retry_period,
        and the timeout cuts off the last one wherever it is, a hung request included.
        """
        while True:
            try:
                async with asyncio.timeout(self.config.renew_deadline):
                    await self._poll_until_renewed()
            except TimeoutError:
                self._maybe_report_transition()
                logger.warning(
                    "leader election: failed to renew lease %s within %ss: leadership lost",
                    self._describe(),
                    self.config.renew_deadline,
                )
                return
            self._maybe_report_transition()
            await asyncio.sleep(self.config.retry_period)

    async def _poll_until_renewed(self) -> None:
        """Attempt at once, then every retry_period, until an attempt succeeds (the caller bounds it in time)."""
        while True:
            if await self._attempt():
                return
            await asyncio.sleep(self.config.retry_period)

    async def _attempt(self) -> bool:
        """One tryAcquireOrRenew; an error is a failed attempt and one log line, never a crash of the loop.

        Every attempt is bounded by renew_deadline, as kube-controller-manager bounds each request of its
        leader-election client (its rest config Timeout is the renew deadline).
        """
        try:
            async with asyncio.timeout(self.config.renew_deadline):
                return await self._try_acquire_or_renew()
        except _API_ERRORS as error:
            logger.warning("leader election: lease %s: %s", self._describe(), _one_line(error))
            return False

    # --- one attempt -----------------------------------------------------------------------------------------

    async def _try_acquire_or_renew(self) -> bool:
        """Acquire the lease if it is free or expired, renew it if it is ours; False if another holder has it."""
        now = self._clock()
        stamp = self._wall_clock()
        record = LeaderElectionRecord(
            holder_identity=self.config.identity,
            lease_duration_seconds=int(self.config.lease_duration),
            acquire_time=stamp,
            renew_time=stamp,
        )

        # 1. The fast path: a leader whose lease is still valid writes over the Lease it last saw. One request;
        # if anything changed meanwhile the resourceVersion no longer matches and we read it afresh.
        if self._holds_record() and self._lease_valid(now) and self._lease is not None:
            renewal = replace(
                record,
                acquire_time=self._observed.acquire_time,
                leader_transitions=self._observed.leader_transitions,
            )
            try:
                await self._update(renewal)
            except _API_ERRORS as error:
                logger.info("leader election: optimistic renewal failed, reading the lease: %s", _one_line(error))
            else:
                self._observe(renewal)
                return True

        # 2. Read the Lease, or create it.
        try:
            current = await self._read()
        except ApiError as error:
            if not error.not_found:
                raise
            self._lease = await self.client.create(
                LEASES.format(namespace=self.config.namespace),
                {
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": self.config.name, "namespace": self.config.namespace},
                    "spec": record.to_spec(),
                },
            )
            self._observe(record)
            return True

        # 3. Another holder keeps it while the record changed less than its lease duration ago, by our clock.
        if current != self._observed:
            self._observe(current)
        if current.holder_identity and self._lease_valid(now) and not self._holds_record():
            logger.debug(
                "leader election: lease %s is held by %s and has not yet expired",
                self._describe(),
                current.holder_identity,
            )
            return False

        # 4. Renew our term (keeping when it began), or start a new one. The PUT carries the resourceVersion
        # we read: if another candidate wrote in between, it fails with 409 Conflict and we did not acquire.
        if self._holds_record():
            record = replace(record, acquire_time=current.acquire_time, leader_transitions=current.leader_transitions)
        else:
            record = replace(record, leader_transitions=current.leader_transitions + 1)
        await self._update(record)
        self._observe(record)
        return True

    async def _read(self) -> LeaderElectionRecord:
        """GET the Lease (LeaseLock.Get), remembering it for the next update."""
        self._lease = await self.client.get(self.config.lease_path)
        return LeaderElectionRecord.from_spec(self._lease.get("spec") or {})

    async def _update(self, record: LeaderElectionRecord) -> None:
        """PUT the Lease last seen with a new spec (LeaseLock.Update): optimistic concurrency on resourceVersion."""
        if self._lease is None:
            raise RuntimeError("the lease was neither read nor created")
        body = {**self._lease, "spec": record.to_spec()}
        self._lease = await self.client.request("PUT", self.config.lease_path, body=body)

    # --- bookkeeping -----------------------------------------------------------------------------------------

    def _observe(self, record: LeaderElectionRecord) -> None:
        """setObservedRecord: the record, and the local time we saw it."""
        self._observed = record
        self._observed_time = self._clock()

    def _lease_valid(self, now: float) -> bool:
        """isLeaseValid: less than the record's leaseDurationSeconds since we saw it change."""
        return self._observed_time + self._observed.lease_duration_seconds > now

    def _holds_record(self) -> bool:
        """client-go's IsLeader: the last observed record names us."""
        return self._observed.holder_identity == self.config.identity

    def _maybe_report_transition(self) -> None:
        holder = self._observed.holder_identity
        if holder == self._reported_leader:
            return
        self._reported_leader = holder
        if self._on_new_leader is not None:
            self._on_new_leader(holder)

    def _set_leading(self, leading: bool) -> None:
        if leading == self._leading:
            return
        self._leading = leading
        if self._on_leading_changed is not None:
            self._on_leading_changed(leading)

    def _describe(self) -> str:
        return f"{self.config.namespace}/{self.config.name}"


def _one_line(error: BaseException) -> str:
    """An expected failure in one line: a lost connection is an event, not a stack trace."""
    text = str(error) or type(error).__name__
    return text if isinstance(error, ApiError) else f"{type(error).__name__}: {text}"
