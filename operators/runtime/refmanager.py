"""ControllerRefManager's I/O half (controller_ref_manager.go): carry out what `claim_objects` decided.

`claim_objects` (ownership.py, pure) says which candidates to keep, adopt and release. `claim` does it, as
ClaimPods / ClaimReplicaSets do: adoption only after a fresh GET of the owner (RS-15: not being deleted, the
same UID), every adoption and release in parallel, then one error naming every failure. The patches differ by
what is claimed (a strategic merge for pods, a guarded JSON patch for custom resources), so the caller passes
its `adopt` and `release`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from operators.kube.objects import parse_time
from operators.kube.resources import Resource
from operators.kube.selectors import LabelSelector
from operators.runtime.client import ApiError, KubeClient
from operators.runtime.controller import SyncError
from operators.runtime.ownership import Claimable, Owner, claim_objects, recheck_deletion_timestamp

__all__ = ["claim"]

T = TypeVar("T", bound=Claimable)

Adopt = Callable[[T], Awaitable[bool | str]]  # True: adopted; False: gone; str: why it failed
Release = Callable[[T], Awaitable[str | None]]  # None: released (or nothing to release); str: why it failed


async def claim(
    client: KubeClient,
    owner_resource: Resource,
    owner: Owner,
    selector: LabelSelector,
    candidates: Iterable[T],
    *,
    adopt: Adopt[T],
    release: Release[T],
    what: str,
) -> list[T]:
    """The candidates `owner` now controls, after adopting matching orphans and releasing what no longer matches.

    `what` names the candidates in the recheck's error ("cannot adopt pods: ..."). Raises SyncError with every
    failure when any adoption or release failed; the claimed list then is not to be trusted.
    """
    verdicts = claim_objects(owner, selector, candidates)
    errors: list[str] = []
    adopted: set[str] = set()
    if verdicts.to_adopt:
        if (refusal := await _recheck_owner(client, owner_resource, owner, what)) is not None:
            errors.append(refusal)
        else:
            results = await asyncio.gather(*(adopt(obj) for obj in verdicts.to_adopt))
            adopted = {obj.uid for obj, result in zip(verdicts.to_adopt, results, strict=True) if result is True}
            errors += [result for result in results if isinstance(result, str)]
    errors += [error for error in await asyncio.gather(*(release(obj) for obj in verdicts.to_release)) if error]
    if errors:
        raise SyncError("; ".join(errors))
    return verdicts.claimed(adopted)


# --8<-- [start:recheck]
async def _recheck_owner(client: KubeClient, resource: Resource, owner: Owner, what: str) -> str | None:
    """RS-15: adopt only if a fresh GET (not the cache) shows the same, undeleted owner."""
    try:
        fresh = await client.get(resource.path(owner.namespace, owner.name))
    except ApiError as error:
        return f"cannot adopt {what}: {error}"
    meta: dict[str, Any] = fresh.get("metadata") or {}
    return recheck_deletion_timestamp(owner, str(meta.get("uid", "")), parse_time(meta.get("deletionTimestamp")))


# --8<-- [end:recheck]
