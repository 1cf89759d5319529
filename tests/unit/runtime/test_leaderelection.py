"""Leader election: client-go's leaderelection_test.go (TestTryAcquireOrRenewLeases, TestReleaseLeaseLeases,
TestReleaseMethodCallsGet, TestReleaseOnCancellation_Leases, TestFastPathLeaderElection,
TestLeaderElectionConfigValidation, TestLeaseSpecToLeaderElectionRecordRoundTrip), plus the renew deadline,
the standby's wait measured from its own observation, and the callbacks.

Upstream steps a fake clock. Here every test runs on a VirtualTimeLoop: whenever all tasks wait, the loop's clock
jumps to its next timer, so `asyncio.sleep`, `asyncio.timeout` and the elector's `clock=loop.time` all count
virtual seconds. Nothing waits in real time and load cannot change an outcome, so the tests can assert exact
times. The API is one in-memory Lease with the API server's resourceVersion checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime
import errno
import itertools
import logging
import re
import selectors
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import pytest

from operators.runtime.client import ApiError
from operators.runtime.leaderelection import (
    JITTER_FACTOR,
    LeaderElectionConfig,
    LeaderElectionRecord,
    LeaderElector,
    default_identity,
)

T = TypeVar("T")

# --- virtual time ----------------------------------------------------------------------------------------------


class _JumpingSelector(selectors.DefaultSelector):
    """Polls without blocking; where the loop would sleep until its next timer, moves the clock there instead."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self.loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            raise RuntimeError("every task waits and no timer is pending: the test would hang")
        self.loop.virtual_now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock moves only when every task waits, and then straight to the next timer."""

    def __init__(self) -> None:
        self.virtual_now = 0.0
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self.virtual_now


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main)


def now() -> float:
    return asyncio.get_running_loop().time()


# --- an in-memory Lease ----------------------------------------------------------------------------------------

NAMESPACE, NAME, IDENTITY = "foo", "bar", "baz"  # upstream's names
LEASES = f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases"
LEASE = f"{LEASES}/{NAME}"
WALL_START = datetime.datetime(2026, 11, 23, 20, 1, 2, 123456, tzinfo=datetime.UTC)
MICRO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def wall_clock() -> datetime.datetime:
    """Our wall clock: a fixed instant plus virtual seconds."""
    return WALL_START + datetime.timedelta(seconds=now())


class FakeLeaseServer:
    """get/create/request("PUT") on one Lease, refusing a PUT whose resourceVersion is stale (409), as the server.

    `before(verb)` runs before each request is served: it may raise (a failed request), wait (a slow or hung
    one), or write the Lease itself (another candidate getting in first).
    """

    def __init__(self, spec: Mapping[str, Any] | None = None) -> None:
        self.lease: dict[str, Any] | None = None
        self.resource_version = 0
        self.calls: list[tuple[str, float]] = []  # (verb, virtual time)
        self.before: Callable[[str], Awaitable[None]] | None = None
        if spec is not None:
            self.write(spec)

    @property
    def verbs(self) -> list[str]:
        return [verb for verb, _ in self.calls]

    @property
    def spec(self) -> dict[str, Any]:
        assert self.lease is not None
        return dict(self.lease["spec"])

    def write(self, spec: Mapping[str, Any]) -> None:
        """Someone else's write (another candidate, an admin): a new spec and resourceVersion."""
        metadata = {"name": NAME, "namespace": NAMESPACE}
        self._store({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": spec})

    async def get(self, path: str) -> dict[str, Any]:
        await self._serve("GET", path, LEASE)
        if self.lease is None:
            raise ApiError(404, "NotFound", f'leases.coordination.k8s.io "{NAME}" not found', "GET", path)
        return copy.deepcopy(self.lease)

    async def create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        await self._serve("POST", path, LEASES)
        if self.lease is not None:
            raise ApiError(409, "AlreadyExists", f'leases.coordination.k8s.io "{NAME}" already exists', "POST", path)
        return self._store(body)

    async def request(self, method: str, path: str, *, body: Any = None) -> dict[str, Any]:
        assert method == "PUT", method
        await self._serve("PUT", path, LEASE)
        if self.lease is None:
            raise ApiError(404, "NotFound", f'leases.coordination.k8s.io "{NAME}" not found', "PUT", path)
        if body["metadata"].get("resourceVersion") != self.lease["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", "the object has been modified; please apply your changes", "PUT", path)
        return self._store(body)

    async def _serve(self, verb: str, path: str, expected_path: str) -> None:
        assert path == expected_path, (verb, path)
        self.calls.append((verb, now()))
        if self.before is not None:
            await self.before(verb)

    def _store(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self.resource_version += 1
        lease = copy.deepcopy(dict(body))
        lease["metadata"] = {**lease["metadata"], "resourceVersion": str(self.resource_version)}
        self.lease = lease
        return copy.deepcopy(lease)


# --- an elector and what its callbacks saw -----------------------------------------------------------------------

CONFIG = LeaderElectionConfig(name=NAME, namespace=NAMESPACE, identity=IDENTITY)  # 15 s, 10 s, 2 s


@dataclass
class Callbacks:
    """Records every callback with its virtual time."""

    started: asyncio.Event = field(default_factory=asyncio.Event)
    stopped: asyncio.Event = field(default_factory=asyncio.Event)
    started_at: list[float] = field(default_factory=list)
    stopped_at: list[float] = field(default_factory=list)
    new_leaders: list[str] = field(default_factory=list)
    leading: list[bool] = field(default_factory=list)
    when_started: Callable[[], None] | None = None

    def on_started_leading(self) -> None:
        self.started_at.append(now())
        self.started.set()
        if self.when_started is not None:
            self.when_started()

    def on_stopped_leading(self) -> None:
        self.stopped_at.append(now())
        self.stopped.set()


def make_elector(server: FakeLeaseServer, config: LeaderElectionConfig = CONFIG) -> tuple[LeaderElector, Callbacks]:
    callbacks = Callbacks()
    elector = LeaderElector(
        server,
        config,
        on_started_leading=callbacks.on_started_leading,
        on_stopped_leading=callbacks.on_stopped_leading,
        on_new_leader=callbacks.new_leaders.append,
        on_leading_changed=callbacks.leading.append,
        clock=asyncio.get_running_loop().time,
        wall_clock=wall_clock,
    )
    return elector, callbacks


def record(holder: str, seconds: int = 0, transitions: int = 0) -> LeaderElectionRecord:
    return LeaderElectionRecord(holder_identity=holder, lease_duration_seconds=seconds, leader_transitions=transitions)


def held_by(holder: str, seconds: int = 10, renew: datetime.datetime | None = None) -> dict[str, Any]:
    return record(holder, seconds).to_spec() | ({"renewTime": renew.strftime("%Y-%m-%dT%H:%M:%S.%fZ")} if renew else {})


# --- TestTryAcquireOrRenewLeases ---------------------------------------------------------------------------------

HOUR = 3600.0


@dataclass(frozen=True)
class TryCase:
    name: str
    lease: dict[str, Any] | None  # the Lease's spec on the server; None: no Lease object
    verbs: list[str]
    expect_success: bool
    out_holder: str
    transition_leader: bool = False
    observed: LeaderElectionRecord | None = None  # what the elector saw before this attempt ...
    observed_ago: float = 0.0  # ... and how many seconds ago
    retry_after: float = 0.0  # a failed first attempt is retried this much later
    concurrent_write: bool = False  # another candidate writes between our GET and our PUT


TRY_CASES = [
    TryCase("acquire from no object", None, ["GET", "POST"], True, IDENTITY),
    TryCase("acquire from object without annotations", {}, ["GET", "PUT"], True, IDENTITY, transition_leader=True),
    TryCase(
        "acquire from led object with the lease duration seconds",
        held_by("bing", seconds=3),
        ["GET", "GET", "PUT"],
        True,
        IDENTITY,
        transition_leader=True,
        retry_after=3,
    ),
    TryCase("acquire from unled object", record("").to_spec(), ["GET", "PUT"], True, IDENTITY, transition_leader=True),
    TryCase(
        "acquire from led, unacked object",
        held_by("bing"),
        ["GET", "PUT"],
        True,
        IDENTITY,
        transition_leader=True,
        observed=record("bing", 10),
        observed_ago=1000 * HOUR,
    ),
    TryCase(
        "acquire from empty led, acked object",
        held_by(""),
        ["GET", "PUT"],
        True,
        IDENTITY,
        transition_leader=True,
        observed=record("", 10),
    ),
    # Upstream's record carries no leaseDurationSeconds there and relies on its real clock moving between two
    # readings; virtual time stands still, so the record says 10 s.
    TryCase(
        "don't acquire from led, acked object",
        held_by("bing"),
        ["GET"],
        False,
        "bing",
        observed=record("bing", 10),
    ),
    TryCase(
        "renew already acquired object",
        held_by(IDENTITY),
        ["GET", "PUT"],
        True,
        IDENTITY,
        observed=record(IDENTITY, 10),
    ),
    TryCase(
        "don't acquire when another candidate updates first (409 Conflict)",
        held_by("bing"),
        ["GET", "PUT"],
        False,
        "bing",
        observed=record("bing", 10),
        observed_ago=1000 * HOUR,
        concurrent_write=True,
    ),
]


@pytest.mark.parametrize("case", TRY_CASES, ids=[case.name for case in TRY_CASES])
def test_try_acquire_or_renew_leases(case: TryCase) -> None:
    async def main() -> None:
        server = FakeLeaseServer(case.lease)
        elector, callbacks = make_elector(server)
        if case.observed is not None:
            elector._observe(case.observed)
            await asyncio.sleep(case.observed_ago)
        if case.concurrent_write:

            async def bing_renews_first(verb: str) -> None:
                if verb == "PUT":
                    server.write(held_by("bing"))

            server.before = bing_renews_first

        succeeded = await elector._attempt()
        if succeeded != case.expect_success and case.retry_after:
            await asyncio.sleep(case.retry_after)
            succeeded = await elector._attempt()

        assert succeeded == case.expect_success
        assert elector.leader_identity == case.out_holder
        assert server.verbs == case.verbs, "wrong API interactions"
        assert elector._observed.leader_transitions == (1 if case.transition_leader else 0)
        elector._maybe_report_transition()
        assert callbacks.new_leaders == [case.out_holder]
        if succeeded:
            assert server.spec["holderIdentity"] == IDENTITY
            assert server.spec["leaseDurationSeconds"] == 15

    run_virtual(main())


def test_acquired_record_fields() -> None:
    """The Lease as written: our identity, whole-second duration, MicroTime stamps, transitions kept on renewal."""

    async def main() -> None:
        server = FakeLeaseServer()
        elector, _ = make_elector(server)
        assert await elector._attempt()
        assert server.spec == {
            "holderIdentity": IDENTITY,
            "leaseDurationSeconds": 15,
            "acquireTime": "2026-11-23T20:01:02.123456Z",
            "renewTime": "2026-11-23T20:01:02.123456Z",
            "leaseTransitions": 0,
        }
        await asyncio.sleep(2.5)
        assert await elector._attempt()  # a renewal keeps acquireTime and leaseTransitions
        assert server.spec["acquireTime"] == "2026-11-23T20:01:02.123456Z"
        assert server.spec["renewTime"] == "2026-11-23T20:01:04.623456Z"
        assert server.spec["leaseTransitions"] == 0
        assert MICRO_TIME.match(server.spec["renewTime"])

        server.write(server.spec)  # a new resourceVersion: the fast path conflicts, the slow path renews
        await asyncio.sleep(2)
        assert await elector._attempt()
        assert server.verbs[-3:] == ["PUT", "GET", "PUT"]
        assert server.spec["acquireTime"] == "2026-11-23T20:01:02.123456Z"
        assert server.spec["renewTime"] == "2026-11-23T20:01:06.623456Z"
        assert server.spec["leaseTransitions"] == 0

    run_virtual(main())


def test_lease_spec_to_leader_election_record_round_trip() -> None:
    spec = {
        "holderIdentity": "foo",
        "leaseDurationSeconds": 10,
        "acquireTime": "2026-11-23T20:01:02.123456Z",
        "renewTime": "2026-11-23T20:01:12.654321Z",
        "leaseTransitions": 1,
    }
    old_record = LeaderElectionRecord.from_spec(spec)
    assert old_record.to_spec() == spec
    assert LeaderElectionRecord.from_spec(old_record.to_spec()) == old_record


# --- release -----------------------------------------------------------------------------------------------------


def test_release_lease_leases() -> None:
    """TestReleaseLeaseLeases and TestReleaseMethodCallsGet: acquire, then release with a read and a write."""

    async def main() -> None:
        server = FakeLeaseServer()
        elector, callbacks = make_elector(server)
        assert await elector._attempt()
        elector._maybe_report_transition()
        await asyncio.sleep(1)

        assert await elector.release()

        assert server.verbs == ["GET", "POST", "GET", "PUT"]
        released_at = "2026-11-23T20:01:03.123456Z"
        assert server.spec == {
            "holderIdentity": "",
            "leaseDurationSeconds": 1,
            "acquireTime": released_at,
            "renewTime": released_at,
            "leaseTransitions": 0,
        }
        assert elector.leader_identity is None
        elector._maybe_report_transition()
        assert callbacks.new_leaders == [IDENTITY, ""]

    run_virtual(main())


def test_release_only_what_we_hold() -> None:
    """No write when we never held the lease, nor when the Lease we read names someone else by now."""

    async def main() -> None:
        server = FakeLeaseServer(held_by("bing"))
        standby, _ = make_elector(server)
        assert not await standby._attempt()
        assert await standby.release()
        assert server.verbs == ["GET"]

        server = FakeLeaseServer()
        deposed, _ = make_elector(server)
        assert await deposed._attempt()
        server.write(held_by("qux"))  # taken over while we were not looking
        assert await deposed.release()
        assert server.verbs == ["GET", "POST", "GET"]
        assert server.spec["holderIdentity"] == "qux"

    run_virtual(main())


def test_release_retries_a_conflict() -> None:
    """A renewal that raced the cancellation may land first: the release reads again and still releases."""

    async def main() -> None:
        server = FakeLeaseServer()
        elector, _ = make_elector(server)
        assert await elector._attempt()
        puts = 0

        async def late_renewal_lands(verb: str) -> None:
            nonlocal puts
            if verb == "PUT":
                puts += 1
                if puts == 1:
                    assert server.lease is not None
                    server.write(server.lease["spec"])  # same spec, new resourceVersion

        server.before = late_renewal_lands
        assert await elector.release()
        assert server.verbs == ["GET", "POST", "GET", "PUT", "GET", "PUT"]
        assert server.spec["holderIdentity"] == ""

    run_virtual(main())


def test_release_on_cancellation_leases() -> None:
    """TestReleaseOnCancellation_Leases: cancel a leading run(), then release(): the Lease is free at once."""

    async def main() -> None:
        server = FakeLeaseServer()
        elector, callbacks = make_elector(server)
        task = asyncio.create_task(elector.run())
        async with asyncio.timeout(100):
            await callbacks.started.wait()
        await asyncio.sleep(5)  # a few renewals
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert callbacks.stopped.is_set()
        assert callbacks.leading == [False, True, False]
        assert not elector.is_leader

        assert await elector.release()
        assert server.spec["holderIdentity"] == ""
        assert server.spec["leaseDurationSeconds"] == 1

    run_virtual(main())


# --- the run loop ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "conflict_on_put", "expected"),
    [
        ("Exercise fast path after lock acquired", None, ["GET", "POST", "PUT", "PUT"]),
        ("Fallback to slow path after fast path fails", 2, ["GET", "POST", "PUT", "PUT", "GET", "PUT", "PUT"]),
    ],
)
def test_fast_path_leader_election(name: str, conflict_on_put: int | None, expected: list[str]) -> None:
    """TestFastPathLeaderElection: a leader renews with one PUT; after a conflict it reads, then PUTs again."""

    async def main() -> None:
        server = FakeLeaseServer()
        elector, _ = make_elector(server)
        task = asyncio.create_task(elector.run())
        puts = 0

        async def count_puts(verb: str) -> None:
            nonlocal puts
            if verb != "PUT":
                return
            puts += 1
            if puts == conflict_on_put:
                raise ApiError(409, "Conflict", "fake conflict", "PUT", LEASE)
            if puts == len([v for v in expected if v == "PUT"]):
                task.cancel()  # delivered at the elector's next pause

        server.before = count_puts
        done, _ = await asyncio.wait({task}, timeout=100)
        assert done and task.cancelled(), "run() was not cancelled at the expected PUT"
        assert server.verbs == expected

    run_virtual(main())


ERRORS: list[Callable[[], BaseException]] = [
    lambda: ApiError(500, "InternalError", "etcdserver: request timed out", "GET", LEASE),
    lambda: aiohttp.ClientConnectionError("Cannot connect to host 127.0.0.1:6443"),
    lambda: TimeoutError(),
    lambda: ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
]


@pytest.mark.parametrize("make_error", ERRORS, ids=["ApiError", "ClientError", "TimeoutError", "OSError"])
def test_lost_lease_after_renew_deadline(
    make_error: Callable[[], BaseException], caplog: pytest.LogCaptureFixture
) -> None:
    """Every renewal attempt fails: leadership ends exactly renew_deadline after the last renewal; each failure
    is one log line without a traceback, and the loop never crashes."""

    async def main() -> None:
        server = FakeLeaseServer()
        elector, callbacks = make_elector(server)

        async def api_down(verb: str) -> None:
            raise make_error()

        callbacks.when_started = lambda: setattr(server, "before", api_down)
        async with asyncio.timeout(100):
            await elector.run()  # returns by itself: the lease is lost

        assert callbacks.started_at == [0.0]
        assert callbacks.stopped_at == [CONFIG.renew_deadline]
        assert callbacks.leading == [False, True, False]
        assert not elector.is_leader
        failed_attempts = server.calls[2:]
        assert (
            len([verb for verb, _ in failed_attempts if verb == "GET"]) >= CONFIG.renew_deadline / CONFIG.retry_period
        )

    caplog.set_level(logging.INFO, logger="operators.runtime.leaderelection")
    run_virtual(main())
    failures = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(failures) >= 6  # five failed attempts and the loss
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in caplog.records)
    assert "leadership lost" in failures[-1].getMessage()


def test_renew_deadline_cuts_off_a_hung_request() -> None:
    """A renewal that hangs is abandoned at renew_deadline, as client-go's timeout context cancels it."""

    async def main() -> None:
        server = FakeLeaseServer()
        elector, callbacks = make_elector(server)
        cancelled: list[str] = []

        async def hang(verb: str) -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(verb)
                raise

        callbacks.when_started = lambda: setattr(server, "before", hang)
        async with asyncio.timeout(100):
            await elector.run()
        assert callbacks.stopped_at == [CONFIG.renew_deadline]
        assert cancelled == ["PUT"]  # the fast-path renewal, the only request made

    run_virtual(main())


def test_lease_taken_over_ends_leadership_and_reports_new_leader() -> None:
    """Someone else writes the Lease: renewals conflict, then find it held, until the deadline ends our term."""

    async def main() -> None:
        server = FakeLeaseServer()
        elector, callbacks = make_elector(server)
        task = asyncio.create_task(elector.run())
        async with asyncio.timeout(100):
            await callbacks.started.wait()
        await asyncio.sleep(3)
        taken_at = now()
        server.write(held_by("qux", seconds=15))
        async with asyncio.timeout(100):
            await task
        assert taken_at < callbacks.stopped_at[0] <= taken_at + CONFIG.retry_period + CONFIG.renew_deadline
        assert callbacks.new_leaders == [IDENTITY, "qux"]
        assert elector.leader_identity == "qux"
        assert server.spec["holderIdentity"] == "qux"

    run_virtual(main())


# --- the standby -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("skew", [-20 * 365 * 24 * HOUR, 20 * 365 * 24 * HOUR], ids=["holder-clock-behind", "ahead"])
def test_standby_takes_over_lease_duration_after_last_observed_renewal(skew: float) -> None:
    """The standby waits lease_duration from when *it* saw the last renewal, whatever the holder's clock says.

    The holder "bing" writes renewTimes 20 years off ours: compared with our clock they would say "expired"
    (take over from a healthy leader) or "valid for 20 years" (never take over from a dead one).
    """

    async def main() -> None:
        bing_clock = WALL_START + datetime.timedelta(seconds=skew)
        server = FakeLeaseServer(held_by("bing", seconds=15, renew=bing_clock))
        elector, callbacks = make_elector(server)
        task = asyncio.create_task(elector.run())

        for _ in range(15):  # bing renews every 2 s for 30 s, then dies
            await asyncio.sleep(2)
            assert not elector.is_leader
            server.write(held_by("bing", seconds=15, renew=bing_clock + datetime.timedelta(seconds=now())))
        last_renewal = now()

        async with asyncio.timeout(100):
            await callbacks.started.wait()
        max_pause = CONFIG.retry_period * (1 + JITTER_FACTOR)
        # It saw the last renewal at its next read at the latest, and tries again at most max_pause after expiry.
        assert last_renewal + 15 <= callbacks.started_at[0] <= last_renewal + max_pause + 15 + max_pause
        assert callbacks.new_leaders == ["bing", IDENTITY]
        assert server.spec["holderIdentity"] == IDENTITY
        assert server.spec["leaseTransitions"] == 1

        reads = [t for verb, t in server.calls if verb == "GET"]
        pauses = [b - a for a, b in itertools.pairwise(reads)]
        assert all(CONFIG.retry_period - 1e-9 <= pause <= max_pause + 1e-9 for pause in pauses), pauses
        assert len(set(pauses)) > 1, "the acquire loop's pauses are not jittered"
        task.cancel()

    run_virtual(main())


def test_on_new_leader_once_per_change() -> None:
    """on_new_leader fires when the observed holder changes, not on each renewal by the same holder."""

    async def main() -> None:
        server = FakeLeaseServer(held_by("bing", seconds=15))
        elector, callbacks = make_elector(server)
        task = asyncio.create_task(elector.run())
        for holder in ["bing", "bing", "qux", "qux", "qux"]:
            await asyncio.sleep(5)  # longer than the standby's longest pause: it sees every write
            server.write(held_by(holder, seconds=15, renew=wall_clock()))
        await asyncio.sleep(5)
        assert callbacks.new_leaders == ["bing", "qux"]
        server.write(held_by("", seconds=1))  # qux released it
        async with asyncio.timeout(100):
            await callbacks.started.wait()
        assert callbacks.new_leaders == ["bing", "qux", IDENTITY]
        task.cancel()

    run_virtual(main())


# --- configuration -----------------------------------------------------------------------------------------------


def test_leader_election_config_validation() -> None:
    """TestLeaderElectionConfigValidation, and kube-controller-manager's defaults."""
    config = LeaderElectionConfig()
    assert (config.name, config.namespace) == ("mini-operators", "kube-system")
    assert (config.lease_duration, config.renew_deadline, config.retry_period) == (15.0, 10.0, 2.0)
    assert config.lease_path == "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/mini-operators"
    assert re.fullmatch(r".+_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", config.identity)
    assert default_identity() != default_identity()
    LeaderElectionConfig(lease_duration=15, renew_deadline=2, retry_period=1)  # upstream's valid one

    with pytest.raises(ValueError, match="identity must not be empty"):
        LeaderElectionConfig(identity="")


@pytest.mark.parametrize(
    ("timings", "message"),
    [
        ((10, 10, 2), r"lease_duration \(10s\) must be greater than renew_deadline \(10s\)"),
        ((15, 2.4, 2), r"renew_deadline \(2.4s\) must be greater than retry_period\*JitterFactor"),
        ((15, 10, 0), r"retry_period \(0s\) must be greater than zero"),
        ((15.5, 10, 2), r"lease_duration \(15.5s\) must be a whole number of seconds"),
        ((0.5, 0.4, 0.1), r"lease_duration \(0.5s\) must be a whole number of seconds"),
    ],
)
def test_leader_election_config_rejects(timings: tuple[float, float, float], message: str) -> None:
    lease, renew, retry = timings
    with pytest.raises(ValueError, match=message):
        LeaderElectionConfig(lease_duration=lease, renew_deadline=renew, retry_period=retry)
