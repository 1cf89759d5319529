"""Port of replica_set_test.go TestSlowStartBatch (RS-04)."""

from __future__ import annotations

import asyncio

import pytest

from operators.controllers.replicaset.slowstart import slow_start_batch, slow_start_batch_sizes


class FakeError(Exception):
    pass


@pytest.mark.parametrize(
    ("count", "call_limit", "expected_successes", "expect_error", "expected_call_count"),
    [
        pytest.param(10, 0, 0, True, 1, id="callLimit = 0 (all fail)"),
        pytest.param(10, 10, 10, False, 10, id="callLimit = count (all succeed)"),
        pytest.param(10, 5, 5, True, 7, id="callLimit < count (some succeed)"),
    ],
)
async def test_slow_start_batch(
    count: int, call_limit: int, expected_successes: int, expect_error: bool, expected_call_count: int
) -> None:
    fake_error = FakeError("fake error")
    calls = 0

    async def fn() -> None:
        nonlocal calls
        calls += 1
        call_number = calls  # counted and judged at once, as under upstream's mutex
        await asyncio.sleep(0)  # let the other calls of the batch start: they run concurrently
        if call_number > call_limit:
            raise fake_error

    successes, error = await slow_start_batch(count, 1, fn)
    assert successes == expected_successes
    assert error is (fake_error if expect_error else None)
    # slowStartBatch stops trying more calls after a batch fails.
    assert calls == expected_call_count


async def test_slow_start_batch_runs_a_batch_concurrently() -> None:
    running = peak = 0

    async def fn() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        running -= 1

    assert await slow_start_batch(10, 1, fn) == (10, None)
    assert peak == 4  # the largest batch of 1, 2, 4, 3


@pytest.mark.parametrize(
    ("count", "initial", "expected"),
    [
        (10, 1, [1, 2, 4, 3]),
        (0, 1, []),
        (1, 1, [1]),
        (7, 1, [1, 2, 4]),
        (10, 3, [3, 6, 1]),
        (500, 1, [1, 2, 4, 8, 16, 32, 64, 128, 245]),
    ],
)
def test_slow_start_batch_sizes(count: int, initial: int, expected: list[int]) -> None:
    sizes = list(slow_start_batch_sizes(count, initial))
    assert sizes == expected
    assert sum(sizes) == count
