"""Slow-start batching of creates, as slowStartBatch in pkg/controller/replicaset/replica_set.go (RS-04).

Creating a burst of pods that are all doomed to fail (quota, admission) would flood the API server with
identical errors; starting with one call and doubling after each fully successful batch keeps that cheap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

__all__ = ["SLOW_START_INITIAL_BATCH_SIZE", "slow_start_batch", "slow_start_batch_sizes"]

# controller.SlowStartInitialBatchSize
SLOW_START_INITIAL_BATCH_SIZE = 1


def slow_start_batch_sizes(count: int, initial_batch_size: int = SLOW_START_INITIAL_BATCH_SIZE) -> Iterator[int]:
    """Yield the batch sizes for `count` calls: initial, then doubling, capped by what remains (10 → 1, 2, 4, 3)."""
    remaining = count
    batch_size = min(remaining, initial_batch_size)
    while batch_size > 0:
        yield batch_size
        remaining -= batch_size
        batch_size = min(2 * batch_size, remaining)


async def slow_start_batch(
    count: int, initial_batch_size: int, fn: Callable[[], Awaitable[None]]
) -> tuple[int, Exception | None]:
    """Call `fn` `count` times, each batch concurrently; stop after the first batch with an error.

    Returns the number of successful calls and the first error of the failing batch (None if all succeeded).
    The caller lowers its creation expectations by `count - successes` for the calls never made (RS-04).
    Cancellation is not an error: it propagates.
    """
    successes = 0
    for batch_size in slow_start_batch_sizes(count, initial_batch_size):
        results = await asyncio.gather(*(fn() for _ in range(batch_size)), return_exceptions=True)
        errors: list[Exception] = []
        for result in results:
            if isinstance(result, Exception):
                errors.append(result)
            elif isinstance(result, BaseException):
                raise result
        successes += batch_size - len(errors)
        if errors:
            return successes, errors[0]
    return successes, None
