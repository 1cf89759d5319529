"""Adoption and release decisions and patch bodies, as pkg/controller/controller_ref_manager.go (RS-13..RS-16).

`claim_objects` is the pure half of BaseControllerRefManager.ClaimObject applied to a list: which objects
are already mine, which orphans to adopt and which to release. Sending the patches, and the fresh GET of
the owner before the first adoption (`recheck_deletion_timestamp` judges its result), are the caller's.
Generic over any view with the fields of `Claimable`: pods for a MiniReplicaSet, MiniReplicaSets for a
MiniDeployment.
"""

from __future__ import annotations

import datetime
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar

from operators.kube.objects import OwnerReference
from operators.kube.selectors import LabelSelector

__all__ = [
    "ClaimResult",
    "Claimable",
    "Owner",
    "Verdict",
    "adopt_json_patch",
    "claim_object",
    "claim_objects",
    "delete_owner_ref_strategic_merge_patch",
    "owner_ref_controller_patch",
    "recheck_deletion_timestamp",
    "release_json_patch",
]


class Claimable(Protocol):
    """What ClaimObject reads of a candidate object (satisfied by `Pod` and `ReplicaSetView`)."""

    @property
    def uid(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def deletion_timestamp(self) -> datetime.datetime | None: ...
    @property
    def controller_ref(self) -> OwnerReference | None: ...


T = TypeVar("T", bound=Claimable)


@dataclass(frozen=True, slots=True)
class Owner:
    """The controller doing the claiming: enough to write its controller ownerRef and to judge deletion."""

    api_version: str
    kind: str
    name: str
    uid: str
    namespace: str = ""
    deleting: bool = False

    def controller_ref(self) -> OwnerReference:
        """metav1.NewControllerRef: controller=true, blockOwnerDeletion=true (RS-05, RS-16)."""
        return OwnerReference(
            api_version=self.api_version,
            kind=self.kind,
            name=self.name,
            uid=self.uid,
            controller=True,
            block_owner_deletion=True,
        )


class Verdict(Enum):
    """The outcome of ClaimObject for one object."""

    IGNORE = "ignore"  # someone else's, or an orphan I may not take: not mine
    KEEP = "keep"  # already mine and still matching: claimed, no action
    ADOPT = "adopt"  # a matching orphan: claimed once the adopt patch succeeds
    RELEASE = "release"  # mine but no longer matching: release it, not claimed


# --8<-- [start:claim-object]
def claim_object(owner: Owner, selector: LabelSelector, obj: Claimable) -> Verdict:
    """ClaimObject's decision for one object, rule for rule."""
    controller_ref = obj.controller_ref
    if controller_ref is not None:
        if controller_ref.uid != owner.uid:
            return Verdict.IGNORE  # RS-13: controlled by someone else
        if selector.matches(obj.labels):
            # RS-14: mine and matching; still claimed while I am being deleted, as that takes no action.
            return Verdict.KEEP
        # RS-14: mine but not matching: release, unless I am being deleted.
        return Verdict.IGNORE if owner.deleting else Verdict.RELEASE
    # RS-15: an orphan.
    if owner.deleting or not selector.matches(obj.labels):
        return Verdict.IGNORE
    if obj.deletion_timestamp is not None:
        return Verdict.IGNORE
    if owner.namespace and owner.namespace != obj.namespace:
        return Verdict.IGNORE
    return Verdict.ADOPT


# --8<-- [end:claim-object]


@dataclass(frozen=True, slots=True)
class ClaimResult(Generic[T]):
    """ClaimObject applied to a list, in input order."""

    verdicts: tuple[tuple[T, Verdict], ...]

    def _with(self, verdict: Verdict) -> list[T]:
        return [obj for obj, v in self.verdicts if v is verdict]

    @property
    def kept(self) -> list[T]:
        return self._with(Verdict.KEEP)

    @property
    def to_adopt(self) -> list[T]:
        return self._with(Verdict.ADOPT)

    @property
    def to_release(self) -> list[T]:
        return self._with(Verdict.RELEASE)

    def claimed(self, adopted_uids: Container[str] | None = None) -> list[T]:
        """The objects I now own, in input order, as ClaimPods returns them.

        `adopted_uids` are the orphans whose adopt patch succeeded; None assumes every adoption succeeded.
        """
        return [
            obj
            for obj, v in self.verdicts
            if v is Verdict.KEEP or (v is Verdict.ADOPT and (adopted_uids is None or obj.uid in adopted_uids))
        ]


def claim_objects(owner: Owner, selector: LabelSelector, objects: Iterable[T]) -> ClaimResult[T]:
    """ClaimPods / ClaimReplicaSets without the patches: the verdict for each object."""
    return ClaimResult(tuple((obj, claim_object(owner, selector, obj)) for obj in objects))


def recheck_deletion_timestamp(
    owner: Owner, fresh_uid: str, fresh_deletion_timestamp: datetime.datetime | None
) -> str | None:
    """RecheckDeletionTimestamp, judged on a fresh (uncached) GET of the owner (RS-15).

    Returns why adoption must not happen, or None when it may. Call once per sync, before the first adoption.
    """
    if fresh_uid != owner.uid:
        return f"original {owner.kind} {owner.namespace}/{owner.name} is gone: got uid {fresh_uid}, wanted {owner.uid}"
    if fresh_deletion_timestamp is not None:
        return f"{owner.namespace}/{owner.name} has just been deleted at {fresh_deletion_timestamp.isoformat()}"
    return None


# --- Patch bodies ----------------------------------------------------------------------------------


def owner_ref_controller_patch(owner: Owner, dependent_uid: str, finalizers: Sequence[str] = ()) -> dict[str, Any]:
    """ownerRefControllerPatch: a strategic-merge patch adding my controller ownerRef (RS-16).

    ownerReferences merge by uid in a strategic-merge patch, so other owners stay; metadata.uid acts as a
    precondition (the patch fails on a re-created object), and ValidateOwnerReferences rejects a second
    controller. Built-in kinds only: custom resources need `adopt_json_patch`.
    """
    metadata: dict[str, Any] = {"ownerReferences": [owner.controller_ref().to_dict()], "uid": dependent_uid}
    if finalizers:
        metadata["finalizers"] = list(finalizers)
    return {"metadata": metadata}


def delete_owner_ref_strategic_merge_patch(
    dependent_uid: str, owner_uids: Sequence[str], finalizers: Sequence[str] = ()
) -> dict[str, Any]:
    """GenerateDeleteOwnerRefStrategicMergeBytes: a strategic-merge patch releasing an object (RS-14).

    Each `{"$patch": "delete", "uid": ...}` removes the ownerRef with that uid; finalizers go through the
    `$deleteFromPrimitiveList` directive. Key order matches the Go struct, so json.dumps with compact
    separators gives upstream's exact bytes.
    """
    metadata: dict[str, Any] = {
        "uid": dependent_uid,
        "ownerReferences": [{"$patch": "delete", "uid": uid} for uid in owner_uids],
    }
    if finalizers:
        metadata["$deleteFromPrimitiveList/finalizers"] = list(finalizers)
    return {"metadata": metadata}


def adopt_json_patch(
    owner: Owner,
    dependent_uid: str,
    dependent_resource_version: str,
    existing_owner_references: Sequence[OwnerReference],
) -> list[dict[str, Any]]:
    """A JSON patch adopting a custom resource (RS-16): custom resources accept no strategic-merge patch.

    A JSON merge patch would replace the whole ownerReferences list, so this edits it in place instead, as
    upstream's strategic-merge patch (merging ownerReferences by uid) does: an existing reference to the owner
    (a plain owner, `controller: false`) is replaced by the controller reference; otherwise one is appended.
    Tests on uid (same object) and resourceVersion (the list edited is the current one) guard it; a stale view
    fails the test with 422 and the caller retries on the next sync.
    """
    ref = owner.controller_ref().to_dict()
    guards = [
        {"op": "test", "path": "/metadata/uid", "value": dependent_uid},
        {"op": "test", "path": "/metadata/resourceVersion", "value": dependent_resource_version},
    ]
    index = next((i for i, existing in enumerate(existing_owner_references) if existing.uid == owner.uid), None)
    if index is not None:
        return [*guards, {"op": "replace", "path": f"/metadata/ownerReferences/{index}", "value": ref}]
    if existing_owner_references:
        return [*guards, {"op": "add", "path": "/metadata/ownerReferences/-", "value": ref}]
    return [*guards, {"op": "add", "path": "/metadata/ownerReferences", "value": [ref]}]


def release_json_patch(
    owner_uid: str,
    dependent_uid: str,
    dependent_resource_version: str,
    existing_owner_references: Sequence[OwnerReference],
) -> list[dict[str, Any]] | None:
    """A JSON patch releasing a custom resource: remove my ownerRef by index (RS-14, RS-16).

    None when the object holds no ownerRef of mine (nothing to release, like upstream's ignored 422).
    """
    index = next((i for i, ref in enumerate(existing_owner_references) if ref.uid == owner_uid), None)
    if index is None:
        return None
    path = f"/metadata/ownerReferences/{index}"
    return [
        {"op": "test", "path": "/metadata/uid", "value": dependent_uid},
        {"op": "test", "path": "/metadata/resourceVersion", "value": dependent_resource_version},
        {"op": "test", "path": f"{path}/uid", "value": owner_uid},
        {"op": "remove", "path": path},
    ]
