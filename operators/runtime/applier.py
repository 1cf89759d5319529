"""Server-side apply of an object a controller owns, without ever taking over someone else's object."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from operators.runtime.client import ApiError, KubeClient
from operators.runtime.controller import StaleCache

__all__ = ["apply_owned"]


async def apply_owned(
    client: KubeClient,
    path: str,
    desired: Mapping[str, Any],
    *,
    current_resource_version: str | None,
    field_manager: str,
) -> dict[str, Any]:
    """Apply `desired` at `path`; `current_resource_version` is the cached version, None when none is cached.

    An update forces (the fields are ours) and carries the cached version as a precondition, so an object
    deleted and re-created by someone else meanwhile is refused (409), not taken over. A create first makes
    sure no object of that name exists that the cache has not shown yet (StaleCache: retried), and does not
    force: an object someone creates between that GET and the apply conflicts instead of being merged into.
    """
    body = copy.deepcopy(dict(desired))
    if current_resource_version is not None:
        body["metadata"] = {**body.get("metadata", {}), "resourceVersion": current_resource_version}
    else:
        try:
            await client.get(path)
        except ApiError as error:
            if not error.not_found:
                raise
        else:
            raise StaleCache(f"{path} exists but the cache has not seen it yet")
    return await client.apply(path, body, field_manager=field_manager, force=current_resource_version is not None)
