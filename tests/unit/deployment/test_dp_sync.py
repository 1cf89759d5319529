"""Ports of pkg/controller/deployment/sync_test.go (Kubernetes v1.35) and of the pure parts of getNewReplicaSet,
isScalingEvent and checkPausedConditions, which upstream only tests through a whole controller.

Upstream runs dc.scale and dc.cleanupDeployment against a fake clientset and reads back the ReplicaSet updates
and deletes it recorded. `scale` returns those updates as `Scale` values in Go's order and `cleanup_deployment`
the ReplicaSets to delete, so every row asserts what upstream asserts (through the same nameToSize bookkeeping,
wasntUpdated included) and, beyond upstream, the exact sequence of writes Go makes, worked out from sync.go.
Test ids are upstream's case names; where upstream's rows are unnamed, "scenario <i>" and the row's comment.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from operators.controllers.deployment.model import DeploymentCondition, DeploymentStatus, DeploymentView
from operators.controllers.deployment.sync import (
    CreateReplicaSet,
    UpdateReplicaSetAnnotations,
    calculate_status,
    check_paused_conditions,
    cleanup_deployment,
    is_scaling_event,
    plan_new_replica_set,
    resolve_create_conflict,
    scale,
)
from operators.controllers.deployment.util import (
    DESIRED_REPLICAS_ANNOTATION,
    MAX_INT32,
    MAX_REPLICAS_ANNOTATION,
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    compute_hash,
    max_surge,
)
from operators.controllers.replicaset.model import ReplicaSetStatus, ReplicaSetView
from operators.kube.objects import OwnerReference
from tests.unit.deployment.builders import (
    annotated_as_scaled_by,
    new_deployment,
    new_replica_set,
    new_rs_with_status,
    rs,
    utc,
)

NOW = utc(2026, 3, 1, 12, 0, 0)
EARLIER = utc(2026, 3, 1, 11, 0, 0)

# --- TestScale ----------------------------------------------------------------------------------------------------

NEW_TIMESTAMP = utc(2016, 5, 20, 2, 0, 0)
OLD_TIMESTAMP = utc(2016, 5, 20, 1, 0, 0)
OLDER_TIMESTAMP = utc(2016, 5, 20, 0, 0, 0)


def updated_template(replicas: int) -> DeploymentView:
    """TestScale's updatedTemplate: newDeployment with one more template label (so no RS matches it)."""
    d = new_deployment("foo", replicas, selector={"foo": "bar"})
    return dataclasses.replace(d, template={**d.template, "metadata": {"labels": {"foo": "bar", "another": "label"}}})


@dataclass(frozen=True)
class ScaleTest:
    """A row of TestScale, plus `writes`: Go's scaleReplicaSet calls that reach the API, in order."""

    deployment: DeploymentView
    old_deployment: DeploymentView
    new_rs: ReplicaSetView | None
    old_rss: list[ReplicaSetView]
    expected_new: int | None
    expected_old: list[int]
    writes: list[tuple[str, int, str]]  # (ReplicaSet, spec.replicas written, scaling operation)
    wasnt_updated: frozenset[str] = frozenset()
    desired_replicas_annotations: Mapping[str, int] = field(default_factory=dict)


SCALE_TESTS = [
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 12),
            old_deployment=new_deployment("foo", 10),
            new_rs=rs("foo-v1", 10, None, NEW_TIMESTAMP),
            old_rss=[],
            expected_new=12,
            expected_old=[],
            writes=[("foo-v1", 12, "up")],
        ),
        id="normal scaling event: 10 -> 12",
    ),
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 5),
            old_deployment=new_deployment("foo", 10),
            new_rs=rs("foo-v1", 10, None, NEW_TIMESTAMP),
            old_rss=[],
            expected_new=5,
            expected_old=[],
            writes=[("foo-v1", 5, "down")],
        ),
        id="normal scaling event: 10 -> 5",
    ),
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 10),
            old_deployment=new_deployment("foo", 5),
            new_rs=rs("foo-v2", 2, None, NEW_TIMESTAMP),
            old_rss=[rs("foo-v1", 3, None, OLD_TIMESTAMP)],
            expected_new=4,
            expected_old=[6],
            writes=[("foo-v1", 6, "up"), ("foo-v2", 4, "up")],
        ),
        id="proportional scaling: 5 -> 10",
    ),
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 3),
            old_deployment=new_deployment("foo", 5),
            new_rs=rs("foo-v2", 2, None, NEW_TIMESTAMP),
            old_rss=[rs("foo-v1", 3, None, OLD_TIMESTAMP)],
            expected_new=1,
            expected_old=[2],
            writes=[("foo-v1", 2, "down"), ("foo-v2", 1, "down")],
        ),
        id="proportional scaling: 5 -> 3",
    ),
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 4),
            old_deployment=new_deployment("foo", 9),
            new_rs=rs("foo-v2", 8, None, NEW_TIMESTAMP),
            old_rss=[rs("foo-v1", 1, None, OLD_TIMESTAMP)],
            expected_new=4,
            expected_old=[0],
            writes=[("foo-v2", 4, "down"), ("foo-v1", 0, "down")],
        ),
        id="proportional scaling: 9 -> 4",
    ),
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 10),
            old_deployment=new_deployment("foo", 7),
            new_rs=rs("foo-v3", 2, None, NEW_TIMESTAMP),
            old_rss=[rs("foo-v2", 3, None, OLD_TIMESTAMP), rs("foo-v1", 2, None, OLDER_TIMESTAMP)],
            expected_new=3,
            expected_old=[4, 3],
            writes=[("foo-v2", 4, "up"), ("foo-v3", 3, "up"), ("foo-v1", 3, "up")],
        ),
        id="proportional scaling: 7 -> 10",
    ),
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 8),
            old_deployment=new_deployment("foo", 13),
            new_rs=rs("foo-v3", 2, None, NEW_TIMESTAMP),
            old_rss=[rs("foo-v2", 8, None, OLD_TIMESTAMP), rs("foo-v1", 3, None, OLDER_TIMESTAMP)],
            expected_new=1,
            expected_old=[5, 2],
            writes=[("foo-v2", 5, "down"), ("foo-v1", 2, "down"), ("foo-v3", 1, "down")],
        ),
        id="proportional scaling: 13 -> 8",
    ),
    # Scales up the new replica set.
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 4),
            old_deployment=new_deployment("foo", 3),
            new_rs=rs("foo-v3", 1, None, NEW_TIMESTAMP),
            old_rss=[rs("foo-v2", 1, None, OLD_TIMESTAMP), rs("foo-v1", 1, None, OLDER_TIMESTAMP)],
            expected_new=2,
            expected_old=[1, 1],
            # The leftover goes to the first (newest when scaling up); the others get only their annotations.
            writes=[("foo-v3", 2, "up"), ("foo-v2", 1, "up"), ("foo-v1", 1, "up")],
        ),
        id="leftover distribution: 3 -> 4",
    ),
    # Scales down the older replica set.
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 2),
            old_deployment=new_deployment("foo", 3),
            new_rs=rs("foo-v3", 1, None, NEW_TIMESTAMP),
            old_rss=[rs("foo-v2", 1, None, OLD_TIMESTAMP), rs("foo-v1", 1, None, OLDER_TIMESTAMP)],
            expected_new=1,
            expected_old=[1, 0],
            writes=[("foo-v1", 0, "down"), ("foo-v2", 1, "down"), ("foo-v3", 1, "down")],
        ),
        id="leftover distribution: 3 -> 2",
    ),
    # Scales up the latest replica set first.
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 5),
            old_deployment=new_deployment("foo", 4),
            new_rs=None,
            old_rss=[rs("foo-v2", 2, None, OLD_TIMESTAMP), rs("foo-v1", 2, None, OLDER_TIMESTAMP)],
            expected_new=None,
            expected_old=[3, 2],
            writes=[("foo-v2", 3, "up"), ("foo-v1", 2, "up")],
        ),
        id="proportional scaling (no new rs): 4 -> 5",
    ),
    # Scales down to zero
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 0),
            old_deployment=new_deployment("foo", 6),
            new_rs=rs("foo-v3", 3, None, NEW_TIMESTAMP),
            old_rss=[rs("foo-v2", 2, None, OLD_TIMESTAMP), rs("foo-v1", 1, None, OLDER_TIMESTAMP)],
            expected_new=0,
            expected_old=[0, 0],
            writes=[("foo-v3", 0, "down"), ("foo-v2", 0, "down"), ("foo-v1", 0, "down")],
        ),
        id="proportional scaling: 6 -> 0",
    ),
    # Scales up from zero
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 6),
            old_deployment=new_deployment("foo", 6),
            new_rs=rs("foo-v3", 0, None, NEW_TIMESTAMP),
            old_rss=[rs("foo-v2", 0, None, OLD_TIMESTAMP), rs("foo-v1", 0, None, OLDER_TIMESTAMP)],
            expected_new=6,
            expected_old=[0, 0],
            writes=[("foo-v3", 6, "up")],  # FindActiveOrLatest: no RS is active, so the new one takes all
            wasnt_updated=frozenset({"foo-v2", "foo-v1"}),
        ),
        id="proportional scaling: 0 -> 6",
    ),
    # Scenario: deployment.spec.replicas == 3 ( foo-v1.spec.replicas == foo-v2.spec.replicas == foo-v3.spec.replicas == 1 )
    # Deployment is scaled to 5. foo-v3.spec.replicas and foo-v2.spec.replicas should increment by 1 but foo-v2 fails to
    # update.
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 5),
            old_deployment=new_deployment("foo", 5),
            new_rs=rs("foo-v3", 2, None, NEW_TIMESTAMP),
            old_rss=[rs("foo-v2", 1, None, OLD_TIMESTAMP), rs("foo-v1", 1, None, OLDER_TIMESTAMP)],
            expected_new=2,
            expected_old=[2, 1],
            writes=[("foo-v2", 2, "up")],  # foo-v3 and foo-v1 already have their size and annotations
            wasnt_updated=frozenset({"foo-v3", "foo-v1"}),
            desired_replicas_annotations={"foo-v2": 3},
        ),
        id="failed rs update",
    ),
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 20, None, 2),
            old_deployment=new_deployment("foo", 10, None, 2),
            new_rs=rs("foo-v2", 6, None, NEW_TIMESTAMP),
            old_rss=[rs("foo-v1", 6, None, OLD_TIMESTAMP)],
            expected_new=11,
            expected_old=[11],
            writes=[("foo-v2", 11, "up"), ("foo-v1", 11, "up")],
        ),
        id="deployment with surge pods",
    ),
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 50, None, 6),
            old_deployment=new_deployment("foo", 10, None, 3),
            new_rs=rs("foo-v2", 5, None, NEW_TIMESTAMP),
            old_rss=[rs("foo-v1", 8, None, OLD_TIMESTAMP)],
            expected_new=22,
            expected_old=[34],
            writes=[("foo-v1", 34, "up"), ("foo-v2", 22, "up")],
        ),
        id="change both surge and size",
    ),
    pytest.param(
        ScaleTest(
            deployment=updated_template(14),
            old_deployment=new_deployment("foo", 10, selector={"foo": "bar"}),
            new_rs=None,
            old_rss=[rs("foo-v2", 7, None, NEW_TIMESTAMP), rs("foo-v1", 3, None, OLD_TIMESTAMP)],
            expected_new=None,
            expected_old=[10, 4],
            writes=[("foo-v2", 10, "up"), ("foo-v1", 4, "up")],
        ),
        id="change both size and template",
    ),
    pytest.param(
        ScaleTest(
            deployment=new_deployment("foo", 2, None, 1, 1),
            old_deployment=new_deployment("foo", 2, None, 1, 1),
            new_rs=rs("foo-v2", 2, None, NEW_TIMESTAMP, status=ReplicaSetStatus(available_replicas=0)),
            old_rss=[rs("foo-v1", 1, None, OLD_TIMESTAMP)],
            expected_new=2,
            expected_old=[1],
            writes=[],  # not saturated (nothing available) and already at replicas + maxSurge: nothing to do
        ),
        id="saturated but broken new replica set does not affect old pods",
    ),
]


@pytest.mark.parametrize("test", SCALE_TESTS)
def test_scale(test: ScaleTest) -> None:
    desired = test.desired_replicas_annotations
    new_rs = None
    if test.new_rs is not None:
        new_rs = annotated_as_scaled_by(test.new_rs, test.old_deployment, desired.get(test.new_rs.name))
    old_rss = [annotated_as_scaled_by(r, test.old_deployment, desired.get(r.name)) for r in test.old_rss]

    writes = scale(test.deployment, new_rs, old_rss)

    # Upstream's check: the sizes after every update, except those of the RSs in wasntUpdated.
    name_to_size = {r.name: r.replicas for r in (new_rs, *old_rss) if r is not None}
    for write in writes:
        if write.rs.name not in test.wasnt_updated:
            name_to_size[write.rs.name] = write.replicas
    if test.expected_new is not None and new_rs is not None:
        assert name_to_size[new_rs.name] == test.expected_new
    assert len(test.expected_old) == len(old_rss)
    assert [name_to_size[r.name] for r in old_rss] == test.expected_old

    # Beyond upstream: which RS is written, to which size, in what order; each write carries the Deployment's
    # desired-replicas and max-replicas (DP-12) and is made on the RS as the cache had it.
    assert [(w.rs.name, w.replicas, w.operation) for w in writes] == test.writes
    maximum = test.deployment.replicas + max_surge(test.deployment)
    inputs = {r.name: r for r in (new_rs, *old_rss) if r is not None}
    for write in writes:
        assert write.rs == inputs[write.rs.name]
        assert write.annotations[DESIRED_REPLICAS_ANNOTATION] == str(test.deployment.replicas)
        assert write.annotations[MAX_REPLICAS_ANNOTATION] == str(maximum)
        assert write.event_message == (
            f"Scaled {write.operation} replica set {write.rs.name} from {write.rs.replicas} to {write.replicas}"
        )


def test_scale_saturated_new_replica_set_scales_old_replica_sets_to_zero_dp_20() -> None:
    """scale's IsSaturated branch (no TestScale row reaches it): every active old RS goes to 0, oldest untouched."""
    d = new_deployment("foo", 3, None, 1, 0)
    new_rs = annotated_as_scaled_by(
        rs("foo-v3", 3, None, NEW_TIMESTAMP, status=ReplicaSetStatus(replicas=3, available_replicas=3)), d
    )
    old_rss = [
        annotated_as_scaled_by(rs("foo-v2", 1, None, OLD_TIMESTAMP), d),
        annotated_as_scaled_by(rs("foo-v1", 0, None, OLDER_TIMESTAMP), d),
    ]
    writes = scale(d, new_rs, old_rss)
    assert [(w.rs.name, w.replicas, w.operation) for w in writes] == [("foo-v2", 0, "down")]
    # Not saturated until every desired replica is available: then it is proportional scaling instead.
    unavailable = dataclasses.replace(new_rs, status=ReplicaSetStatus(replicas=3, available_replicas=2))
    assert scale(d, unavailable, old_rss) == []  # 3 + 1 already: nothing to add


def test_scale_paused_deployment_dp_22() -> None:
    """The decisions behind test/integration TestScalePausedDeployment: a paused Deployment still scales, and its
    sync (getAllReplicaSetsAndSyncRevision with createIfNotExisted=false) creates no new ReplicaSet."""
    before = new_deployment("foo", 1, selector={"foo": "bar"}, paused=True)
    only = annotated_as_scaled_by(new_replica_set(before, "foo-1", 1, creation_timestamp=OLD_TIMESTAMP), before)
    scaled = dataclasses.replace(before, replicas=2)
    assert [(w.rs.name, w.replicas, w.operation) for w in scale(scaled, only, [])] == [("foo-1", 2, "up")]

    edited = dataclasses.replace(scaled, template={**scaled.template, "spec": {"containers": [{"image": "v2"}]}})
    plan = plan_new_replica_set(edited, [only], False, NOW)
    assert (plan.new_rs, plan.old_rss, plan.write, plan.revision) == (None, [only], None, None)
    assert [(w.rs.name, w.replicas) for w in scale(edited, plan.new_rs, plan.old_rss)] == [("foo-1", 2)]


# --- TestDeploymentController_cleanupDeployment -------------------------------------------------------------------

SELECTOR = {"foo": "bar"}
ALREADY_DELETED = new_rs_with_status("foo-1", 0, 0, SELECTOR, deletion_timestamp=NOW)

CLEANUP_DEPLOYMENT_TESTS = [
    pytest.param(
        [
            new_rs_with_status("foo-1", 0, 0, SELECTOR),
            new_rs_with_status("foo-2", 0, 0, SELECTOR),
            new_rs_with_status("foo-3", 0, 0, SELECTOR),
        ],
        1,
        2,
        ["foo-1", "foo-2"],
        id="scenario 0",
    ),
    pytest.param(
        [
            new_rs_with_status("foo-1", 0, 0, SELECTOR),
            new_rs_with_status("foo-2", 0, 1, SELECTOR),
            new_rs_with_status("foo-3", 1, 0, SELECTOR),
            new_rs_with_status("foo-4", 1, 1, SELECTOR),
        ],
        0,
        1,
        ["foo-1"],
        id="scenario 1: only delete the replica set with Spec.Replicas = Status.Replicas = 0",
    ),
    pytest.param(
        [new_rs_with_status("foo-1", 0, 0, SELECTOR), new_rs_with_status("foo-2", 0, 0, SELECTOR)],
        0,
        2,
        ["foo-1", "foo-2"],
        id="scenario 2",
    ),
    pytest.param(
        [new_rs_with_status("foo-1", 1, 1, SELECTOR), new_rs_with_status("foo-2", 1, 1, SELECTOR)],
        0,
        0,
        [],
        id="scenario 3",
    ),
    pytest.param([ALREADY_DELETED], 0, 0, [], id="scenario 4: already deleted"),
    pytest.param(
        [
            new_rs_with_status("foo-1", 0, 0, SELECTOR),
            new_rs_with_status("foo-2", 0, 0, SELECTOR),
            new_rs_with_status("foo-3", 0, 0, SELECTOR),
        ],
        MAX_INT32,
        0,
        [],
        id="scenario 5: with unlimited revisionHistoryLimit",
    ),
]


@pytest.mark.parametrize(
    ("old_rss", "revision_history_limit", "expected_deletions", "deleted"), CLEANUP_DEPLOYMENT_TESTS
)
def test_deployment_controller_cleanup_deployment(
    old_rss: list[ReplicaSetView], revision_history_limit: int, expected_deletions: int, deleted: list[str]
) -> None:
    d = new_deployment("foo", 1, revision_history_limit, selector=SELECTOR)
    to_delete = cleanup_deployment(d, old_rss)
    assert len(to_delete) == expected_deletions
    assert [r.name for r in to_delete] == deleted  # beyond upstream: which ones, in Go's order (oldest first)


# --- TestDeploymentController_cleanupDeploymentOrder --------------------------------------------------------------

ORDER_NOW = utc(2026, 3, 1, 12, 0, 0)
MINUTE = datetime.timedelta(minutes=1)


def rs_with_revision_and_creation_timestamp(
    name: str, replicas: int, timestamp: datetime.datetime, revision: str
) -> ReplicaSetView:
    """newRSWithRevisionAndCreationTimestamp: status.replicas = spec.replicas, the revision annotation if any."""
    annotations = {REVISION_ANNOTATION: revision} if revision else {}
    status = ReplicaSetStatus(replicas=replicas)
    return rs(name, replicas, SELECTOR, timestamp, annotations=annotations, status=status)


def _order_rs(name: str, replicas: int, minutes: int, revision: str) -> ReplicaSetView:
    return rs_with_revision_and_creation_timestamp(name, replicas, ORDER_NOW + minutes * MINUTE, revision)


# for all test cases, creationTimestamp order keeps as: rs1 < rs2 < rs3 < r4
CLEANUP_ORDER_TESTS = [
    pytest.param(
        [_order_rs("foo-1", 0, -1, "1"), _order_rs("foo-2", 0, 0, "2")],
        1,
        {"foo-1"},
        id="revision order: rs1 < rs2, delete rs1",
    ),
    pytest.param(
        [_order_rs("foo-1", 0, -1, "2"), _order_rs("foo-2", 0, 0, "1")],
        1,
        {"foo-2"},
        id="revision order: rs2 < rs1, delete rs2",
    ),
    pytest.param(
        [_order_rs("foo-1", 0, -1, "1"), _order_rs("foo-2", 0, 0, "")],
        1,
        {"foo-2"},
        id="rs1 has revision but rs2 doesn't have revision, delete rs2",
    ),
    pytest.param(
        [_order_rs("foo-1", 0, -1, ""), _order_rs("foo-2", 0, 0, "2")],
        1,
        {"foo-1"},
        id="rs1 doesn't have revision while rs2 has revision, delete rs1",
    ),
    pytest.param(
        [_order_rs("foo-1", 1, -1, "1"), _order_rs("foo-2", 0, 0, "2"), _order_rs("foo-3", 0, 1, "3")],
        1,
        {"foo-2"},
        id="revision order: rs1 < rs2 < r3, but rs1 has replicas, delete rs2",
    ),
    pytest.param(
        [_order_rs("foo-1", 1, -1, "1"), _order_rs("foo-2", 1, 0, "2"), _order_rs("foo-3", 0, 1, "3")],
        1,
        set(),
        id="revision order: rs1 < rs2 < r3, both rs1 && rs2 have replicas, don't delete",
    ),
    pytest.param(
        [
            _order_rs("foo-1", 0, -1, "3"),
            _order_rs("foo-2", 0, 0, "1"),
            _order_rs("foo-3", 0, 1, "4"),
            _order_rs("foo-4", 0, 2, "2"),
        ],
        2,
        {"foo-2", "foo-4"},
        id="revision order: rs2 < rs4 < rs1 < rs3, delete rs2 && rs4",
    ),
]


@pytest.mark.parametrize(("old_rss", "revision_history_limit", "expected_deleted"), CLEANUP_ORDER_TESTS)
def test_deployment_controller_cleanup_deployment_order(
    old_rss: list[ReplicaSetView], revision_history_limit: int, expected_deleted: set[str]
) -> None:
    d = new_deployment("foo", 1, revision_history_limit, selector=SELECTOR)
    assert {r.name for r in cleanup_deployment(d, old_rss)} == expected_deleted


def test_cleanup_deployment_waits_until_the_replica_set_controller_observed_the_scale_down_dp_27() -> None:
    """cleanupDeployment's third guard (no upstream row): generation > status.observedGeneration is kept."""
    unobserved = rs_with_revision_and_creation_timestamp("foo-1", 0, ORDER_NOW - MINUTE, "1")
    unobserved = dataclasses.replace(unobserved, generation=2, status=ReplicaSetStatus(observed_generation=1))
    newer = rs_with_revision_and_creation_timestamp("foo-2", 0, ORDER_NOW, "2")
    d = new_deployment("foo", 1, 1, selector=SELECTOR)
    assert cleanup_deployment(d, [unobserved, newer]) == [], "only the one oldest is a candidate, and it must wait"
    observed = dataclasses.replace(unobserved, status=ReplicaSetStatus(observed_generation=2))
    assert cleanup_deployment(d, [observed, newer]) == [observed]


# --- getNewReplicaSet (DP-06..DP-11) ------------------------------------------------------------------------------


def test_sync_deployment_creates_replica_set() -> None:
    """TestSyncDeploymentCreatesReplicaSet: a Deployment without ReplicaSets creates one of 1 replica (the
    Deployment's status updates that follow, NewReplicaSetCreated among them, are the glue's)."""
    d = new_deployment("foo", 1, selector={"foo": "bar"})
    plan = plan_new_replica_set(d, [], True, NOW)

    assert isinstance(plan.write, CreateReplicaSet)
    pod_template_hash = compute_hash(d.template, None)
    name = f"foo-{pod_template_hash}"
    labels = {"foo": "bar", "pod-template-hash": pod_template_hash}
    assert (plan.write.name, plan.write.replicas) == (name, 1)
    assert plan.write.body == {
        "apiVersion": "minik8s.dev/v1",
        "kind": "MiniReplicaSet",
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": labels,
            "annotations": {
                REVISION_ANNOTATION: "1",
                DESIRED_REPLICAS_ANNOTATION: "1",
                MAX_REPLICAS_ANNOTATION: "1",
            },
        },
        "spec": {
            "replicas": 1,
            "minReadySeconds": 0,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"image": "foo/bar"}]}},
        },
    }
    assert (plan.new_rs, plan.old_rss, plan.revision, plan.status) == (None, [], "1", d.status)


def _progressing(reason: str, status: str, at: datetime.datetime | None) -> DeploymentCondition:
    return DeploymentCondition(
        type="Progressing", status=status, reason=reason, last_update_time=at, last_transition_time=at
    )


def _other_template(d: DeploymentView, image: str) -> dict[str, Any]:
    return {**d.template, "spec": {"containers": [{"image": image}]}}


def test_get_new_replica_set_sized_by_new_rs_new_replicas_with_the_next_revision() -> None:
    """A new RS is created with NewRSNewReplicas (maxSurge above the old RSs) and revision max(old) + 1."""
    d = new_deployment("foo", 4, None, 1, 1, selector={"foo": "bar"}, annotations={"kubernetes.io/change-cause": "v2"})
    old = new_replica_set(d, "foo-old", 4, template=_other_template(d, "v1"), annotations={REVISION_ANNOTATION: "3"})
    plan = plan_new_replica_set(d, [old], True, NOW)
    assert isinstance(plan.write, CreateReplicaSet)
    assert plan.write.replicas == 1 == plan.write.body["spec"]["replicas"]
    assert plan.write.body["metadata"]["annotations"] == {
        "kubernetes.io/change-cause": "v2",
        REVISION_ANNOTATION: "4",
        DESIRED_REPLICAS_ANNOTATION: "4",
        MAX_REPLICAS_ANNOTATION: "5",
    }
    assert (plan.new_rs, plan.old_rss, plan.revision) == (None, [old], "4")


def test_get_new_replica_set_name_follows_the_collision_count_dp_09() -> None:
    """After a collision the hash, hence the name, changes with status.collisionCount."""
    d = new_deployment("foo", 1, selector={"foo": "bar"})
    first = plan_new_replica_set(d, [], True, NOW).write
    bumped = dataclasses.replace(d, status=DeploymentStatus(collision_count=1))
    second = plan_new_replica_set(bumped, [], True, NOW).write
    assert isinstance(first, CreateReplicaSet) and isinstance(second, CreateReplicaSet)
    assert first.name == f"foo-{compute_hash(d.template, None)}"
    assert second.name == f"foo-{compute_hash(d.template, 1)}" != first.name


def test_get_new_replica_set_without_create_returns_nothing() -> None:
    """createIfNotExisted=false (sync, syncStatusOnly, isScalingEvent): no new RS, no write, no revision."""
    d = new_deployment("foo", 1, selector={"foo": "bar"})
    old = new_replica_set(d, "foo-old", 1, template=_other_template(d, "v1"))
    plan = plan_new_replica_set(d, [old], False, NOW)
    assert (plan.new_rs, plan.old_rss, plan.write, plan.revision, plan.status) == (None, [old], None, None, d.status)


def test_get_new_replica_set_existing_keeps_its_own_revision() -> None:
    """An up-to-date new RS: no write, and the Deployment's revision is the RS's ("since it set by before"), not
    max(old) + 1 (here 3); no progress deadline, so no condition."""
    d = new_deployment("foo", 1, selector={"foo": "bar"})
    new_rs = new_replica_set(d, "foo-new", 1, annotations={REVISION_ANNOTATION: "5"})
    old = new_replica_set(d, "foo-old", 0, template=_other_template(d, "v1"), annotations={REVISION_ANNOTATION: "2"})
    plan = plan_new_replica_set(d, [old, new_rs], True, NOW)
    assert (plan.new_rs, plan.old_rss, plan.write, plan.revision, plan.status) == (new_rs, [old], None, "5", d.status)


@pytest.mark.parametrize(
    ("deadline", "conditions", "found"),
    [
        pytest.param(600, (), True, id="deadline, no Progressing condition: FoundNewReplicaSet"),
        pytest.param(600, (_progressing("ReplicaSetUpdated", "True", EARLIER),), False, id="already Progressing"),
        pytest.param(None, (), False, id="no deadline"),
        pytest.param(MAX_INT32, (), False, id="infinite deadline"),
    ],
)
def test_get_new_replica_set_found_new_replica_set_condition(
    deadline: int | None, conditions: tuple[DeploymentCondition, ...], found: bool
) -> None:
    d = new_deployment(
        "foo",
        1,
        selector={"foo": "bar"},
        progress_deadline_seconds=deadline,
        status=DeploymentStatus(conditions=conditions),
    )
    new_rs = new_replica_set(d, "foo-new", 1, annotations={REVISION_ANNOTATION: "1"})
    plan = plan_new_replica_set(d, [new_rs], True, NOW)
    assert (plan.write, plan.revision) == (None, "1")
    if found:
        assert plan.status.conditions == (
            DeploymentCondition(
                type="Progressing",
                status="True",
                reason="FoundNewReplicaSet",
                message='Found new replica set "foo-new"',
                last_transition_time=NOW,
                last_update_time=NOW,
            ),
        )
    else:
        assert plan.status == d.status


def test_get_new_replica_set_raises_an_old_revision_and_returns_after_the_update_dp_10() -> None:
    """Rolling back to revision 1: its RS is raised to max(old) + 1 with 1 in revision-history, the Deployment's
    annotations are copied, and Go returns right after the RS update (no revision, no condition yet)."""
    d = new_deployment(
        "foo",
        3,
        selector={"foo": "bar"},
        progress_deadline_seconds=600,
        annotations={"kubernetes.io/change-cause": "back to v1", REVISION_ANNOTATION: "3"},
    )
    back = new_replica_set(d, "foo-1", 0, annotations={REVISION_ANNOTATION: "1", "kubernetes.io/change-cause": "v1"})
    other = new_replica_set(d, "foo-3", 3, template=_other_template(d, "v3"), annotations={REVISION_ANNOTATION: "3"})
    plan = plan_new_replica_set(d, [back, other], True, NOW)
    assert plan.write == UpdateReplicaSetAnnotations(
        back,
        {
            REVISION_ANNOTATION: "4",
            REVISION_HISTORY_ANNOTATION: "1",
            "kubernetes.io/change-cause": "back to v1",
        },
        0,
    )
    assert (plan.new_rs, plan.old_rss, plan.revision, plan.status) == (back, [other], None, d.status)


def test_get_new_replica_set_updates_min_ready_seconds() -> None:
    d = new_deployment("foo", 1, selector={"foo": "bar"}, min_ready_seconds=5)
    new_rs = new_replica_set(d, "foo-new", 1, annotations={REVISION_ANNOTATION: "1"})
    plan = plan_new_replica_set(d, [new_rs], True, NOW)
    assert plan.write == UpdateReplicaSetAnnotations(new_rs, {REVISION_ANNOTATION: "1"}, 5)
    assert plan.revision is None


def _owned_by(uid: str) -> tuple[OwnerReference, ...]:
    return (OwnerReference("minik8s.dev/v1", "MiniDeployment", "foo", uid, controller=True),)


def _hashed(template: Mapping[str, Any], value: str) -> dict[str, Any]:
    labels = {**template["metadata"]["labels"], "pod-template-hash": value}
    return {**template, "metadata": {"labels": labels}}


RESOLVE_CREATE_CONFLICT_TESTS = [
    pytest.param(_owned_by("foo-uid"), "same", True, id="our new RS, not yet in the cache: adopt it"),
    pytest.param(_owned_by("foo-uid"), "other", False, id="hash collision: ours, another template"),
    pytest.param((), "same", False, id="hash collision: same template, no controller"),
    pytest.param(_owned_by("bar-uid"), "same", False, id="hash collision: same template, another controller"),
    pytest.param(
        (OwnerReference("minik8s.dev/v1", "MiniDeployment", "foo", "foo-uid", controller=False),),
        "same",
        False,
        id="hash collision: an owner reference that is not the controller",
    ),
]


@pytest.mark.parametrize(("owners", "template", "is_ours"), RESOLVE_CREATE_CONFLICT_TESTS)
def test_resolve_create_conflict_dp_09(owners: tuple[OwnerReference, ...], template: str, is_ours: bool) -> None:
    """getNewReplicaSet's AlreadyExists branch (test/integration TestDeploymentHashCollision drives it)."""
    d = new_deployment("foo", 1, selector={"foo": "bar"})
    rs_template = _hashed(d.template if template == "same" else _other_template(d, "collides"), "h")
    existing = new_replica_set(d, "foo-h", 1, template=rs_template, owner_references=owners)
    assert resolve_create_conflict(d, existing) is is_ours


# --- isScalingEvent -----------------------------------------------------------------------------------------------

SCALING_D = new_deployment("foo", 5, selector={"foo": "bar"})


def _scaled(name: str, replicas: int, desired: str | None, *, old: bool = False) -> ReplicaSetView:
    template = _other_template(SCALING_D, "v1") if old else SCALING_D.template
    annotations = {} if desired is None else {DESIRED_REPLICAS_ANNOTATION: desired}
    return new_replica_set(SCALING_D, name, replicas, template=template, annotations=annotations)


IS_SCALING_EVENT_TESTS = [
    pytest.param([], False, id="no replica sets"),
    pytest.param([_scaled("new", 5, "5")], False, id="new RS last scaled for the current replicas"),
    pytest.param([_scaled("new", 5, "3")], True, id="new RS last scaled for other replicas"),
    pytest.param([_scaled("new", 5, None)], False, id="no desired-replicas annotation"),
    pytest.param([_scaled("new", 5, "five")], False, id="malformed annotation is skipped"),
    pytest.param([_scaled("new", 5, "-3")], False, id="negative annotation is skipped"),
    pytest.param([_scaled("new", 0, "3")], False, id="inactive RS with a stale annotation"),
    pytest.param([_scaled("new", 5, "5"), _scaled("old", 2, "3", old=True)], True, id="active old RS, stale"),
    pytest.param([_scaled("new", 5, "5"), _scaled("old", 0, "3", old=True)], False, id="inactive old RS, stale"),
]


@pytest.mark.parametrize(("rs_list", "expected"), IS_SCALING_EVENT_TESTS)
def test_is_scaling_event(rs_list: list[ReplicaSetView], expected: bool) -> None:
    """isScalingEvent: some active RS's desired-replicas annotation differs from spec.replicas."""
    assert is_scaling_event(SCALING_D, rs_list) is expected


# --- checkPausedConditions (DP-31) --------------------------------------------------------------------------------

AVAILABLE = DeploymentCondition(
    type="Available", status="True", reason="MinimumReplicasAvailable", last_transition_time=EARLIER
)


def _paused_case(paused: bool, deadline: int | None, progressing: DeploymentCondition | None) -> DeploymentView:
    conditions = (progressing, AVAILABLE) if progressing is not None else (AVAILABLE,)
    return new_deployment(
        "foo",
        1,
        paused=paused,
        progress_deadline_seconds=deadline,
        status=DeploymentStatus(conditions=conditions),
    )


def _unknown(reason: str, message: str, transition: datetime.datetime) -> DeploymentCondition:
    return DeploymentCondition(
        type="Progressing",
        status="Unknown",
        reason=reason,
        message=message,
        last_update_time=NOW,
        last_transition_time=transition,
    )


PAUSED = _unknown("DeploymentPaused", "Deployment is paused", NOW)
CHECK_PAUSED_CONDITIONS_TESTS = [
    pytest.param(_paused_case(True, None, None), None, id="no progress deadline"),
    pytest.param(_paused_case(True, MAX_INT32, None), None, id="infinite progress deadline"),
    pytest.param(
        _paused_case(True, 600, _progressing("ReplicaSetUpdated", "True", EARLIER)),
        (AVAILABLE, PAUSED),
        id="paused: Progressing Unknown DeploymentPaused, moved last",
    ),
    pytest.param(_paused_case(True, 600, None), (AVAILABLE, PAUSED), id="paused without a Progressing condition"),
    pytest.param(
        _paused_case(True, 600, _unknown("DeploymentPaused", "Deployment is paused", EARLIER)),
        None,
        id="paused and already reported",
    ),
    pytest.param(
        _paused_case(False, 600, _unknown("DeploymentPaused", "Deployment is paused", EARLIER)),
        (AVAILABLE, _unknown("DeploymentResumed", "Deployment is resumed", EARLIER)),
        id="resumed: DeploymentResumed, Unknown since the pause",
    ),
    pytest.param(
        _paused_case(False, 600, _progressing("ReplicaSetUpdated", "True", EARLIER)),
        None,
        id="neither paused nor resumed",
    ),
    pytest.param(
        _paused_case(True, 600, _progressing("ProgressDeadlineExceeded", "False", EARLIER)),
        None,
        id="timed out: a pause does not overwrite it",
    ),
]


@pytest.mark.parametrize(("d", "expected"), CHECK_PAUSED_CONDITIONS_TESTS)
def test_check_paused_conditions(d: DeploymentView, expected: tuple[DeploymentCondition, ...] | None) -> None:
    status = check_paused_conditions(d, NOW)
    if expected is None:
        assert status is None
    else:
        assert status == dataclasses.replace(d.status, conditions=expected)


# --- calculateStatus (DP-28, DP-29) -------------------------------------------------------------------------------


def test_calculate_status_dp_28_dp_29() -> None:
    """calculateStatus (no upstream table): the sums, unavailable never below 0, the Available condition."""
    d = new_deployment("foo", 4, None, 1, 1, selector={"foo": "bar"}, generation=7)
    d = dataclasses.replace(d, status=DeploymentStatus(collision_count=2, conditions=(AVAILABLE,)))
    new_rs = rs("new", 2, status=ReplicaSetStatus(replicas=2, ready_replicas=1, available_replicas=1))
    old_rs = rs("old", 3, status=ReplicaSetStatus(replicas=3, ready_replicas=3, available_replicas=3))
    status = calculate_status([old_rs, new_rs], new_rs, d, NOW)
    assert status == DeploymentStatus(
        observed_generation=7,
        replicas=5,
        updated_replicas=2,
        ready_replicas=4,
        available_replicas=4,
        unavailable_replicas=1,
        terminating_replicas=0,  # never synced (observedGeneration 0) and no count: none terminating
        collision_count=2,
        conditions=(AVAILABLE,),  # 4 >= 4 - 1: still True, and unchanged
        selector="foo=bar",
        ready_text="4/4",
    )
    broken = dataclasses.replace(old_rs, status=ReplicaSetStatus(replicas=3))
    status = calculate_status([broken, new_rs], new_rs, d, NOW)
    assert status.unavailable_replicas == 4
    assert status.conditions == (
        DeploymentCondition(
            type="Available",
            status="False",
            reason="MinimumReplicasUnavailable",
            message="Deployment does not have minimum availability.",
            last_transition_time=NOW,
            last_update_time=NOW,
        ),
    )
    scaled_down = dataclasses.replace(new_rs, replicas=0)
    assert calculate_status([old_rs, scaled_down], scaled_down, d, NOW).unavailable_replicas == 0
