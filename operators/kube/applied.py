"""Objects a controller keeps equal to a configuration it server-side applies: the stamp and the comparison.

A controller that owns an object (the Service of a MiniService, the NetworkPolicy a MiniNetworkPolicy
mirrors) applies its whole configuration with its own field manager, and should not apply again on every
sync when nothing changed. Two checks decide: the configuration carries a hash of itself in an annotation
(a field removed from the configuration changes the hash, so the apply that removes it happens), and every
field the configuration sets still has its value in the object (someone's edit is undone). Fields the
configuration leaves out are not compared: the API server's defaults and allocations are its own.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["APPLIED_HASH_ANNOTATION", "contains", "copied_annotations", "stamp", "up_to_date"]

APPLIED_HASH_ANNOTATION = "minik8s.dev/applied-configuration-hash"
# Annotations about the owner itself, not about what it owns.
_NOT_COPIED_PREFIXES = ("kubectl.kubernetes.io/last-applied-configuration", "kopf.zalando.org/")


def copied_annotations(annotations: Mapping[str, str]) -> dict[str, str]:
    """The owner's annotations that its owned object carries too (not kubectl's or Kopf's own)."""
    return {k: v for k, v in annotations.items() if not k.startswith(_NOT_COPIED_PREFIXES)}


def stamp(body: Mapping[str, Any]) -> dict[str, Any]:
    """The apply configuration with the hash of itself in its annotations."""
    stamped = copy.deepcopy(dict(body))
    metadata = stamped.setdefault("metadata", {})
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k != APPLIED_HASH_ANNOTATION}
    metadata["annotations"] = annotations
    digest = hashlib.sha256(json.dumps(stamped, sort_keys=True).encode()).hexdigest()[:16]
    metadata["annotations"] = {**annotations, APPLIED_HASH_ANNOTATION: digest}
    return stamped


def up_to_date(desired: Mapping[str, Any], observed: Mapping[str, Any]) -> bool:
    """No apply needed: `observed` was last applied from `desired` (`stamp`ed) and still has its fields."""
    wanted_metadata: Mapping[str, Any] = desired.get("metadata") or {}
    metadata: Mapping[str, Any] = observed.get("metadata") or {}
    wanted_annotations: Mapping[str, str] = wanted_metadata.get("annotations") or {}
    annotations: Mapping[str, str] = metadata.get("annotations") or {}
    if annotations.get(APPLIED_HASH_ANNOTATION) != wanted_annotations.get(APPLIED_HASH_ANNOTATION):
        return False
    return (
        contains(metadata.get("labels") or {}, wanted_metadata.get("labels") or {})
        and contains(annotations, wanted_annotations)
        and contains(observed.get("spec") or {}, desired.get("spec") or {}, omitempty=True)
    )


def contains(observed: Any, wanted: Any, *, omitempty: bool = False) -> bool:
    """`wanted` is part of `observed`: maps key by key, lists of ports by (port, protocol), other lists item
    by item (the API server defaults fields inside list items too: a policy port's protocol).

    With `omitempty` (a spec), a field the object lacks matches a zero value (`false`, `0`, `""`, `[]`,
    `{}`, null): the API server leaves those out, so `publishNotReadyAddresses: false` is never read back.
    """
    if isinstance(wanted, Mapping):
        return isinstance(observed, Mapping) and all(
            contains(observed[key], value, omitempty=omitempty) if key in observed else omitempty and _is_zero(value)
            for key, value in wanted.items()
        )
    if isinstance(wanted, list) and wanted and all(isinstance(p, Mapping) and "port" in p for p in wanted):
        if not isinstance(observed, list) or len(observed) != len(wanted):
            return False
        by_key = {(p.get("port"), p.get("protocol", "TCP")): p for p in observed if isinstance(p, Mapping)}
        return all(contains(by_key.get((p["port"], p.get("protocol", "TCP"))), p, omitempty=omitempty) for p in wanted)
    if isinstance(wanted, list) and isinstance(observed, list):
        return len(wanted) == len(observed) and all(
            contains(o, w, omitempty=omitempty) for o, w in zip(observed, wanted, strict=True)
        )
    return bool(observed == wanted)


def _is_zero(value: Any) -> bool:
    """Go's zero value of a JSON field: what `omitempty` leaves out."""
    return value is None or value is False or value == 0 or value == "" or value == [] or value == {}
