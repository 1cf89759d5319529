"""EndpointSliceTracker (k8s.io/endpointslice util/endpointslice_tracker.go): our writes, by generation.

The slice informer can lag behind our own writes. The tracker remembers, per Service, the generation of
every slice we created or updated and the slices we deleted. A sync whose cache is older than that
(`stale_slices`) is refused and retried, instead of creating a duplicate slice or losing an update; and a
watch event that only echoes our own write (`should_sync` false) does not queue the Service again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

__all__ = ["EndpointSliceTracker"]

_DELETION_EXPECTED = -1


class _Slice(Protocol):
    @property
    def namespace(self) -> str: ...

    @property
    def uid(self) -> str: ...

    @property
    def generation(self) -> int: ...


class EndpointSliceTracker:
    """Generations of the slices we wrote, per Service key (`namespace/name`)."""

    def __init__(self) -> None:
        self._by_service: dict[str, dict[str, int]] = {}

    def has(self, service: str, slice_: _Slice) -> bool:
        """Has: whether the slice is tracked for its Service."""
        return slice_.uid in self._by_service.get(service, {})

    def should_sync(self, service: str, slice_: _Slice) -> bool:
        """ShouldSync: a slice we do not know, or newer than our last write of it (someone else wrote it)."""
        generation = self._by_service.get(service, {}).get(slice_.uid)
        return generation is None or slice_.generation > generation

    def stale_slices(self, service: str, slices: Iterable[_Slice]) -> bool:
        """StaleSlices: the cached slices miss a write of ours (an older generation, or a deleted slice still there)."""
        tracked = self._by_service.get(service)
        if not tracked:
            return False
        cached = {s.uid: s.generation for s in slices}
        for uid, generation in tracked.items():
            if generation == _DELETION_EXPECTED:
                if uid in cached:
                    return True
                continue
            if uid not in cached or cached[uid] < generation:
                return True
        return False

    def update(self, service: str, slice_: _Slice) -> None:
        """Update: we wrote this slice; its generation is now at least this."""
        self._by_service.setdefault(service, {})[slice_.uid] = slice_.generation

    def expect_deletion(self, service: str, slice_: _Slice) -> None:
        """ExpectDeletion: we deleted this slice; the cache must not show it any more."""
        self._by_service.setdefault(service, {})[slice_.uid] = _DELETION_EXPECTED

    def handle_deletion(self, service: str, slice_: _Slice) -> bool:
        """HandleDeletion: forget the slice; True when we deleted it ourselves (nothing to resync)."""
        tracked = self._by_service.get(service)
        if tracked is None or slice_.uid not in tracked:
            return True
        generation = tracked.pop(slice_.uid)
        return generation == _DELETION_EXPECTED

    def delete_service(self, service: str) -> None:
        """DeleteService: the Service is gone; forget all its slices."""
        self._by_service.pop(service, None)
