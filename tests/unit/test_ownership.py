"""Ports of controller_ref_manager_test.go TestClaimPods and TestGeneratePatchBytesForDelete (RS-13..RS-16)."""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Sequence

import pytest

from operators.controllers.replicaset.model import ReplicaSetView
from operators.kube.objects import OwnerReference, Pod
from operators.kube.selectors import LabelSelector
from operators.runtime.ownership import (
    Owner,
    Verdict,
    adopt_json_patch,
    claim_objects,
    delete_owner_ref_strategic_merge_patch,
    owner_ref_controller_patch,
    recheck_deletion_timestamp,
    release_json_patch,
)

NOW = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
PRODUCTION_LABEL = {"type": "production"}
TEST_LABEL = {"type": "testing"}
PRODUCTION_LABEL_SELECTOR = LabelSelector.from_labels(PRODUCTION_LABEL)
CONTROLLER_UID = "123"


def _compact(body: object) -> str:
    return json.dumps(body, separators=(",", ":"))


def _owner(uid: str = CONTROLLER_UID, namespace: str = "default", deleting: bool = False) -> Owner:
    return Owner("v1", "ReplicationController", "rc", uid, namespace=namespace, deleting=deleting)


def _new_pod(name: str, labels: dict[str, str], owner: Owner | None, namespace: str = "default") -> Pod:
    """newPod: a controller ownerRef to `owner` when given (metav1.NewControllerRef)."""
    refs = () if owner is None else (owner.controller_ref(),)
    return Pod(namespace=namespace, name=name, uid=f"uid-{name}-{namespace}", labels=labels, owner_references=refs)


def _deleting(pod: Pod) -> Pod:
    return dataclasses.replace(pod, deletion_timestamp=NOW)


def _claim_pods_tests() -> list[tuple[str, Owner, list[Pod], list[str], int, tuple[str, ...]]]:
    """(name, owner, pods, claimed names, patches, finalizers)."""
    c = _owner()
    other = _owner(uid="AAAAA")
    deleting = _owner(deleting=True)
    cluster_scoped = _owner(namespace="")
    return [
        (
            "Claim pods with correct label",
            _owner(uid=""),
            [_new_pod("pod1", PRODUCTION_LABEL, None), _new_pod("pod2", TEST_LABEL, None)],
            ["pod1"],
            1,
            (),
        ),
        (
            "Controller marked for deletion can not claim pods",
            deleting,
            [_new_pod("pod1", PRODUCTION_LABEL, None), _new_pod("pod2", PRODUCTION_LABEL, None)],
            [],
            0,
            (),
        ),
        (
            "Controller marked for deletion can not claim new pods",
            deleting,
            [_new_pod("pod1", PRODUCTION_LABEL, deleting), _new_pod("pod2", PRODUCTION_LABEL, None)],
            ["pod1"],
            0,
            (),
        ),
        (
            "Controller can not claim pods owned by another controller",
            c,
            [_new_pod("pod1", PRODUCTION_LABEL, c), _new_pod("pod2", PRODUCTION_LABEL, other)],
            ["pod1"],
            0,
            (),
        ),
        (
            "Controller releases claimed pods when selector doesn't match",
            c,
            [_new_pod("pod1", PRODUCTION_LABEL, c), _new_pod("pod2", TEST_LABEL, c)],
            ["pod1"],
            1,
            (),
        ),
        (
            "Controller does not claim orphaned pods marked for deletion",
            c,
            [_deleting(_new_pod("pod1", PRODUCTION_LABEL, c)), _deleting(_new_pod("pod2", PRODUCTION_LABEL, None))],
            ["pod1"],
            0,
            (),
        ),
        (
            "Controller claims or release pods according to selector with finalizers",
            c,
            [
                _new_pod("pod1", PRODUCTION_LABEL, c),
                _new_pod("pod2", TEST_LABEL, c),
                _new_pod("pod3", PRODUCTION_LABEL, None),
            ],
            ["pod1", "pod3"],
            2,
            ("foo-finalizer", "bar-finalizer"),
        ),
        (
            "Controller does not claim pods of different namespace",
            c,
            [_new_pod("pod1", PRODUCTION_LABEL, None), _new_pod("pod2", PRODUCTION_LABEL, None, namespace="fakens")],
            ["pod1"],
            1,
            (),
        ),
        (
            "Cluster scoped controller claims pods of specified namespace",
            cluster_scoped,
            [_new_pod("pod1", PRODUCTION_LABEL, None), _new_pod("pod2", PRODUCTION_LABEL, None, namespace="fakens")],
            ["pod1", "pod2"],
            2,
            (),
        ),
    ]


CLAIM_PODS_TESTS = _claim_pods_tests()


@pytest.mark.parametrize(
    ("owner", "pods", "claimed", "patches", "finalizers"),
    [case[1:] for case in CLAIM_PODS_TESTS],
    ids=[case[0] for case in CLAIM_PODS_TESTS],
)
def test_claim_pods(owner: Owner, pods: list[Pod], claimed: list[str], patches: int, finalizers: Sequence[str]) -> None:
    result = claim_objects(owner, PRODUCTION_LABEL_SELECTOR, pods)
    assert [p.name for p in result.claimed()] == claimed
    # Upstream counts the patches the fake pod control received: one per adoption and per release.
    bodies = [owner_ref_controller_patch(owner, p.uid, finalizers) for p in result.to_adopt] + [
        delete_owner_ref_strategic_merge_patch(p.uid, [owner.uid], finalizers) for p in result.to_release
    ]
    assert len(bodies) == patches
    for body in bodies:
        patch = _compact(body)
        assert owner.uid in patch, f"Patch doesn't contain controller UID {owner.uid}"
        for finalizer in finalizers:
            assert finalizer in patch, f"Patch doesn't contain finalizer {finalizer}"


def test_claim_pods_failed_adoption_is_not_claimed() -> None:
    owner = _owner()
    pods = [
        _new_pod("mine", PRODUCTION_LABEL, owner),
        _new_pod("o1", PRODUCTION_LABEL, None),
        _new_pod("o2", PRODUCTION_LABEL, None),
    ]
    result = claim_objects(owner, PRODUCTION_LABEL_SELECTOR, pods)
    assert [v for _, v in result.verdicts] == [Verdict.KEEP, Verdict.ADOPT, Verdict.ADOPT]
    assert [p.name for p in result.claimed(adopted_uids={pods[2].uid})] == ["mine", "o2"]


def test_claim_replica_sets_uses_the_same_rules() -> None:
    # The MiniDeployment claims MiniReplicaSets through the same function (ClaimReplicaSets).
    deployment = Owner("minik8s.dev/v1", "MiniDeployment", "d", "d-uid", namespace="default")
    rs = ReplicaSetView(namespace="default", name="d-abc", uid="rs-uid", labels={"app": "web"})
    result = claim_objects(deployment, LabelSelector.from_labels({"app": "web"}), [rs])
    assert result.to_adopt == [rs]


@pytest.mark.parametrize(
    ("owner_uids", "dependent_uid", "finalizers", "want"),
    [
        pytest.param(
            ["ss1"],
            "ss2",
            [],
            r'{"metadata":{"uid":"ss2","ownerReferences":[{"$patch":"delete","uid":"ss1"}]}}',
            id="check the structure of patch bytes",
        ),
        pytest.param(
            ['ss1"hello'],
            "ss2",
            [],
            r'{"metadata":{"uid":"ss2","ownerReferences":[{"$patch":"delete","uid":"ss1\"hello"}]}}',
            id="check if parent uid is escaped",
        ),
        pytest.param(
            ["ss1"],
            'ss2"hello',
            [],
            r'{"metadata":{"uid":"ss2\"hello","ownerReferences":[{"$patch":"delete","uid":"ss1"}]}}',
            id="check if revision uid uid is escaped",
        ),
        pytest.param(
            ["ss1", "ss2"],
            "ss2",
            [],
            r'{"metadata":{"uid":"ss2","ownerReferences":[{"$patch":"delete","uid":"ss1"},{"$patch":"delete","uid":"ss2"}]}}',
            id="check the structure of patch bytes with multiple owners",
        ),
        pytest.param(
            ["ss1", "ss2"],
            "ss2",
            ["f1"],
            r'{"metadata":{"uid":"ss2","ownerReferences":[{"$patch":"delete","uid":"ss1"},{"$patch":"delete","uid":"ss2"}],"$deleteFromPrimitiveList/finalizers":["f1"]}}',
            id="check the structure of patch bytes with a finalizer and multiple owners",
        ),
    ],
)
def test_generate_patch_bytes_for_delete(
    owner_uids: list[str], dependent_uid: str, finalizers: list[str], want: str
) -> None:
    assert _compact(delete_owner_ref_strategic_merge_patch(dependent_uid, owner_uids, finalizers)) == want


def test_owner_ref_controller_patch() -> None:
    # The body upstream's AdoptPod sent as a literal before ownerRefControllerPatch replaced it.
    owner = Owner("minik8s.dev/v1", "MiniReplicaSet", "web", "rs-uid")
    assert _compact(owner_ref_controller_patch(owner, "pod-uid")) == (
        '{"metadata":{"ownerReferences":[{"apiVersion":"minik8s.dev/v1","kind":"MiniReplicaSet","name":"web",'
        '"uid":"rs-uid","controller":true,"blockOwnerDeletion":true}],"uid":"pod-uid"}}'
    )


def test_adopt_json_patch() -> None:
    # RS-16: custom resources take a JSON patch guarded by uid and resourceVersion.
    owner = Owner("minik8s.dev/v1", "MiniDeployment", "d", "d-uid")
    ref = owner.controller_ref().to_dict()
    guards = [
        {"op": "test", "path": "/metadata/uid", "value": "rs-uid"},
        {"op": "test", "path": "/metadata/resourceVersion", "value": "7"},
    ]
    assert adopt_json_patch(owner, "rs-uid", "7", []) == [
        *guards,
        {"op": "add", "path": "/metadata/ownerReferences", "value": [ref]},
    ]
    other = OwnerReference("v1", "ConfigMap", "cm", "cm-uid")
    assert adopt_json_patch(owner, "rs-uid", "7", [other]) == [
        *guards,
        {"op": "add", "path": "/metadata/ownerReferences/-", "value": ref},
    ]
    # A plain (non-controller) reference to the owner becomes the controller reference, in place: upstream's
    # strategic-merge patch merges ownerReferences by uid (TestGeneralReplicaSetAdoption), never two of one uid.
    plain = OwnerReference("minik8s.dev/v1", "MiniDeployment", "d", "d-uid", controller=False)
    assert adopt_json_patch(owner, "rs-uid", "7", [other, plain]) == [
        *guards,
        {"op": "replace", "path": "/metadata/ownerReferences/1", "value": ref},
    ]


def test_release_json_patch() -> None:
    mine = OwnerReference("minik8s.dev/v1", "MiniDeployment", "d", "d-uid", controller=True)
    other = OwnerReference("v1", "ConfigMap", "cm", "cm-uid")
    assert release_json_patch("d-uid", "rs-uid", "7", [other, mine]) == [
        {"op": "test", "path": "/metadata/uid", "value": "rs-uid"},
        {"op": "test", "path": "/metadata/resourceVersion", "value": "7"},
        {"op": "test", "path": "/metadata/ownerReferences/1/uid", "value": "d-uid"},
        {"op": "remove", "path": "/metadata/ownerReferences/1"},
    ]
    assert release_json_patch("d-uid", "rs-uid", "7", [other]) is None


def test_recheck_deletion_timestamp() -> None:
    owner = _owner()
    assert recheck_deletion_timestamp(owner, CONTROLLER_UID, None) is None
    gone = recheck_deletion_timestamp(owner, "new-uid", None)
    assert gone is not None and "is gone" in gone
    deleted = recheck_deletion_timestamp(owner, CONTROLLER_UID, NOW)
    assert deleted is not None and "has just been deleted" in deleted
