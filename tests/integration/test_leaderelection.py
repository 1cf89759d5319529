"""Leader election on the real API server: two candidates for one Lease, exactly one leads; a release hands over at
once; after a crash the standby takes over no sooner than lease_duration after the last renewal it could see.

Each test has its own namespace, so its Lease is fresh. The waits are on the electors' callbacks and on the
Lease itself, with generous timeouts; the lower bound of the crash test is read from the Lease's own record.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from operators.kube.objects import parse_time
from operators.runtime.client import KubeClient
from operators.runtime.leaderelection import JITTER_FACTOR, LeaderElectionConfig, LeaderElector
from tests.integration.kubehelpers import eventually

pytestmark = pytest.mark.cluster

MARGIN = 5.0  # for API latency on a loaded machine, in upper bounds only


class Candidate:
    """One elector running in a task; its callbacks set events and note the monotonic time."""

    def __init__(self, kube: KubeClient, config: LeaderElectionConfig) -> None:
        self.identity = config.identity
        self.started, self.stopped = asyncio.Event(), asyncio.Event()
        self.started_at = 0.0
        self.elector = LeaderElector(
            kube, config, on_started_leading=self._on_started_leading, on_stopped_leading=self.stopped.set
        )
        self.task = asyncio.create_task(self.elector.run(), name=f"elector {self.identity}")

    def _on_started_leading(self) -> None:
        self.started_at = time.monotonic()
        self.started.set()

    async def stop(self) -> None:
        """Cancel run() (a crash, unless release() follows) and wait for it to end."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@contextlib.asynccontextmanager
async def two_candidates(kube: KubeClient, namespace: str, **timings: float) -> AsyncIterator[list[Candidate]]:
    configs = [
        LeaderElectionConfig(name="mini-operators", namespace=namespace, identity=f"candidate-{x}", **timings)
        for x in "ab"
    ]
    candidates = [Candidate(kube, config) for config in configs]
    try:
        yield candidates
    finally:
        for candidate in candidates:
            await candidate.stop()


async def first_leader(candidates: list[Candidate]) -> tuple[Candidate, Candidate]:
    """Wait until one candidate leads; return (leader, standby)."""
    waits = {asyncio.create_task(c.started.wait()): c for c in candidates}
    done, pending = await asyncio.wait(waits, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    assert done, "no candidate became leader within 30 s"
    leader = waits[done.pop()]
    (standby,) = [c for c in candidates if c is not leader]
    return leader, standby


async def lease_spec(kube: KubeClient, config: LeaderElectionConfig) -> dict[str, Any]:
    return dict((await kube.get(config.lease_path))["spec"])


async def settle_under(kube: KubeClient, leader: Candidate, standby: Candidate, renewals: int) -> None:
    """Wait until the standby has seen the leader and the leader renewed `renewals` times; check it stayed so."""

    async def standby_sees_leader() -> bool:
        return standby.elector.leader_identity == leader.identity

    await eventually(standby_sees_leader, within=30, what="the standby to observe the leader")
    renew_times: set[str] = set()

    async def renewed() -> bool:
        spec = await lease_spec(kube, leader.elector.config)
        assert spec["holderIdentity"] == leader.identity
        renew_times.add(spec["renewTime"])
        return len(renew_times) > renewals

    await eventually(renewed, within=60, interval=0.05, what=f"{renewals} renewals by the leader")
    assert leader.elector.is_leader
    assert not standby.started.is_set() and not standby.elector.is_leader


async def test_one_leader_and_release_hands_over_at_once(kube: KubeClient, namespace: str) -> None:
    """Exactly one of two candidates leads; once it is cancelled and releases, the other leads well before the
    lease would have expired."""
    async with two_candidates(kube, namespace, lease_duration=10, renew_deadline=5, retry_period=0.5) as candidates:
        leader, standby = await first_leader(candidates)
        await settle_under(kube, leader, standby, renewals=3)
        config = leader.elector.config
        assert (await lease_spec(kube, config))["leaseTransitions"] == 0

        await leader.stop()
        assert leader.stopped.is_set() and not leader.elector.is_leader
        released_at = time.monotonic()
        assert await leader.elector.release()

        async with asyncio.timeout(30):
            await standby.started.wait()
        assert standby.started_at - released_at < config.lease_duration  # taken because released, not expired
        spec = await lease_spec(kube, config)
        assert spec["holderIdentity"] == standby.identity
        assert spec["leaseTransitions"] == 1


async def test_crashed_leader_is_replaced_after_lease_duration(kube: KubeClient, namespace: str) -> None:
    """The leader is cancelled without releasing: the standby takes over no sooner than lease_duration after the
    last renewal, and within lease_duration plus two jittered retry periods (to see the last renewal, then to
    try once it expired) plus a margin for latency."""
    timings = {"lease_duration": 5.0, "renew_deadline": 4.0, "retry_period": 0.5}
    async with two_candidates(kube, namespace, **timings) as candidates:
        leader, standby = await first_leader(candidates)
        await settle_under(kube, leader, standby, renewals=2)
        config = leader.elector.config

        await leader.stop()
        crashed_at = time.monotonic()
        assert leader.stopped.is_set()
        # The last renewal we can read now; a renewal in flight at the crash may still land, which only makes
        # the real last renewal later.
        last_renewal = parse_time((await lease_spec(kube, config))["renewTime"])

        async with asyncio.timeout(config.lease_duration + 60):
            await standby.started.wait()
        spec = await lease_spec(kube, config)
        assert spec["holderIdentity"] == standby.identity
        assert spec["leaseTransitions"] == 1
        # Both candidates stamp the record with this process's wall clock: the standby's acquireTime is when it
        # decided the lease had expired, by its own observation of the last renewal.
        acquired = parse_time(spec["acquireTime"])
        assert acquired is not None and last_renewal is not None
        assert acquired - last_renewal >= datetime.timedelta(seconds=config.lease_duration)
        latest = config.lease_duration + 2 * config.retry_period * (1 + JITTER_FACTOR) + MARGIN
        assert standby.started_at - crashed_at <= latest
