"""Rate limiters: TokenBucket (golang.org/x/time/rate), ItemExponentialBackoff and ControllerRateLimiter
(client-go's default_rate_limiters_test.go)."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from operators.runtime.ratelimit import ControllerRateLimiter, ItemExponentialBackoff, TokenBucket


class FakeClock:
    """A clock the test steps by hand."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def step(self, seconds: float) -> None:
        self.now += seconds


# --- TokenBucket -----------------------------------------------------------------------------------------------


def test_token_bucket_starts_full_with_burst() -> None:
    bucket = TokenBucket(qps=10, burst=3, clock=FakeClock())
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]


def test_token_bucket_refills_at_qps() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=10, burst=3, clock=clock)
    for _ in range(3):
        assert bucket.try_take()
    assert not bucket.try_take()
    clock.step(0.05)  # half a token
    assert not bucket.try_take()
    clock.step(0.05)  # one token
    assert bucket.try_take()
    assert not bucket.try_take()


def test_token_bucket_refill_is_capped_at_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=10, burst=3, clock=clock)
    for _ in range(3):
        assert bucket.try_take()
    clock.step(3600)  # an hour idle saves up `burst` tokens, not 36000
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]


def test_token_bucket_reserve_goes_into_debt() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=10, burst=1, clock=clock)
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(0.1)
    assert bucket.reserve() == pytest.approx(0.2)  # reservations queue up behind each other
    assert not bucket.try_take(), "no token while the bucket is in debt"
    clock.step(0.2)  # pays the debt back to zero tokens
    assert not bucket.try_take()
    assert bucket.reserve() == pytest.approx(0.1)
    clock.step(0.2)
    assert bucket.try_take()


def test_token_bucket_try_take_does_not_go_into_debt() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=10, burst=1, clock=clock)
    assert bucket.try_take()
    for _ in range(5):
        assert not bucket.try_take()
    clock.step(0.1)  # refusals took nothing: one interval gives one token
    assert bucket.try_take()


@pytest.mark.parametrize(("qps", "burst"), [(0, 1), (-1, 1), (10, 0), (10, -5)])
def test_token_bucket_invalid_arguments(qps: float, burst: int) -> None:
    with pytest.raises(ValueError, match="qps > 0 and burst >= 1"):
        TokenBucket(qps=qps, burst=burst)


async def test_token_bucket_wait() -> None:
    bucket = TokenBucket(qps=50, burst=1)  # the real clock: one token every 20 ms
    loop = asyncio.get_running_loop()
    start = loop.time()
    await bucket.wait()
    assert loop.time() - start < 0.015, "the first token was there"
    await bucket.wait()
    await bucket.wait()
    assert 0.03 <= loop.time() - start < 0.5


# --- ItemExponentialBackoff ------------------------------------------------------------------------------------


def test_item_exponential_failure_rate_limiter() -> None:
    limiter = ItemExponentialBackoff(base=0.001, cap=1.0)
    assert [limiter.when("one") for _ in range(5)] == pytest.approx([0.001, 0.002, 0.004, 0.008, 0.016])
    assert limiter.retries("one") == 5

    assert [limiter.when("two") for _ in range(2)] == pytest.approx([0.001, 0.002])
    assert limiter.retries("two") == 2

    limiter.forget("one")
    assert limiter.retries("one") == 0
    assert limiter.when("one") == pytest.approx(0.001)
    assert limiter.retries("two") == 2, "forget() is per item"


def test_item_exponential_backoff_defaults() -> None:
    """5 ms, 10 ms, 20 ms ... capped at 1000 s (workqueue.DefaultControllerRateLimiter's per-item part)."""
    limiter = ItemExponentialBackoff()
    delays = [limiter.when("k") for _ in range(20)]
    assert delays[:4] == pytest.approx([0.005, 0.010, 0.020, 0.040])
    assert delays[17] == pytest.approx(0.005 * 2**17)  # 655.36 s: still under the cap
    assert delays[18:] == [1000.0, 1000.0]
    assert all(a <= b for a, b in itertools.pairwise(delays))


def test_item_exponential_backoff_forget_of_unknown_item() -> None:
    limiter = ItemExponentialBackoff()
    limiter.forget("never-failed")
    assert limiter.retries("never-failed") == 0


def test_item_exponential_failure_rate_limiter_overflow() -> None:
    """TestItemExponentialFailureRateLimiterOverFlow."""
    limiter = ItemExponentialBackoff(base=0.001, cap=1000.0)
    for _ in range(5):
        limiter.when("one")
    assert limiter.when("one") == pytest.approx(0.032)

    for _ in range(1000):
        limiter.when("overflow1")
    assert limiter.when("overflow1") == 1000.0

    limiter = ItemExponentialBackoff(base=60.0, cap=1000 * 3600.0)
    for _ in range(2):
        limiter.when("two")
    assert limiter.when("two") == pytest.approx(240.0)

    for _ in range(1000):
        limiter.when("overflow2")
    assert limiter.when("overflow2") == 1000 * 3600.0


def test_item_exponential_backoff_never_overflows() -> None:
    limiter = ItemExponentialBackoff()
    for _ in range(1024):  # 2.0**0 .. 2.0**1023 are still finite
        limiter.when("forever-failing")
    assert limiter.when("forever-failing") == 1000.0  # 2.0**1024


# --- ControllerRateLimiter (TestMaxOfRateLimiter) ----------------------------------------------------------------


def test_max_of_rate_limiter() -> None:
    """The larger of the per-item backoff and the overall bucket's reservation delay."""
    clock = FakeClock()
    limiter = ControllerRateLimiter(
        item=ItemExponentialBackoff(base=0.001, cap=1.0),
        overall=TokenBucket(qps=1, burst=2, clock=clock),
    )
    assert limiter.when("one") == pytest.approx(0.001)  # bucket had a token: the item backoff wins
    assert limiter.when("one") == pytest.approx(0.002)  # last token
    assert limiter.when("two") == pytest.approx(1.0)  # bucket in debt by one token at 1 qps: the bucket wins
    assert limiter.when("two") == pytest.approx(2.0)
    assert limiter.retries("one") == 2
    assert limiter.retries("two") == 2

    limiter.forget("one")
    assert limiter.retries("one") == 0
    clock.step(10)  # the bucket refills to its burst
    assert limiter.when("one") == pytest.approx(0.001)

    for _ in range(12):
        limiter.when("three")
    clock.step(100)  # the bucket is full again: the item backoff (at its cap) is the larger
    assert limiter.when("three") == pytest.approx(1.0)


def test_controller_rate_limiter_slows_a_storm_across_keys() -> None:
    """With the defaults, 100 different keys fail at 5 ms each; the 101st waits for the 10-qps bucket."""
    clock = FakeClock()
    limiter = ControllerRateLimiter(overall=TokenBucket(qps=10, burst=100, clock=clock))
    assert all(limiter.when(f"key-{i}") == pytest.approx(0.005) for i in range(100))
    assert limiter.when("key-100") == pytest.approx(0.1)
    assert limiter.when("key-101") == pytest.approx(0.2)
