"""Ports of pkg/controller/deployment/util/deployment_util_test.go and hash_test.go (Kubernetes v1.35).

Each parametrized table keeps the upstream test's name (in the function name) and its case names (as pytest ids).
Tests named test_..._dp_xx check a DP item of upstream-semantics.md that upstream covers only through the
controller tests.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import json
from typing import Any

import pytest

from operators.controllers.deployment import util
from operators.controllers.deployment.model import (
    DEPLOYMENT_AVAILABLE,
    DEPLOYMENT_PROGRESSING,
    DEPLOYMENT_REPLICA_FAILURE,
    RECREATE,
    ROLLING_UPDATE,
    DeploymentCondition,
    DeploymentStatus,
    DeploymentStrategy,
    DeploymentView,
    IntOrString,
)
from operators.controllers.deployment.util import (
    DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY,
    DESIRED_REPLICAS_ANNOTATION,
    MAX_INT32,
    MAX_REPLICAS_ANNOTATION,
    NEW_RS_AVAILABLE_REASON,
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    TIMED_OUT_REASON,
)
from operators.controllers.replicaset.model import ReplicaSetStatus, ReplicaSetView
from operators.kube.objects import Condition
from operators.kube.selectors import LabelSelector

NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.UTC)
LATER = NOW + datetime.timedelta(minutes=1)
BEFORE = NOW - datetime.timedelta(minutes=1)
HASH = DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY


# --- Fixtures mirroring the upstream helpers ---------------------------------------------------------------------


def generate_deployment(image: str, **changes: Any) -> DeploymentView:
    """generateDeployment: one replica of `image`, labels name=<image>, the template as the API server defaults it."""
    labels = {"name": image}
    template = {
        "metadata": {"labels": labels},
        "spec": {
            "containers": [
                {
                    "name": image,
                    "image": image,
                    "imagePullPolicy": "Always",
                    "terminationMessagePath": "/dev/termination-log",
                }
            ],
            "dnsPolicy": "ClusterFirst",
            "terminationGracePeriodSeconds": 30,
            "restartPolicy": "Always",
            "securityContext": {},
            "enableServiceLinks": True,
        },
    }
    view = DeploymentView(
        namespace="default",
        name=image,
        uid=f"{image}-uid",
        replicas=1,
        selector=LabelSelector.from_labels(labels),
        template=template,
    )
    return dataclasses.replace(view, **changes)


def generate_rs(
    deployment: DeploymentView,
    name: str,
    *,
    pod_template_hash: str | None = None,
    replicas: int = 0,
    created: datetime.datetime | None = None,
    annotations: dict[str, str] | None = None,
    status: ReplicaSetStatus | None = None,
) -> ReplicaSetView:
    """generateRS: an RS with the deployment's template (plus an optional pod-template-hash label), 0 replicas.

    Upstream's RS labels and template labels are one shared map, so setting the hash label sets it on both.
    """
    template = copy.deepcopy(dict(deployment.template))
    labels = dict(template["metadata"]["labels"])
    if pod_template_hash is not None:
        labels[HASH] = pod_template_hash
    template["metadata"]["labels"] = labels
    return ReplicaSetView(
        namespace=deployment.namespace,
        name=name,
        uid=f"{name}-uid",
        replicas=replicas,
        selector=LabelSelector.from_labels(labels),
        template_labels=labels,
        labels=labels,
        template=template,
        annotations=annotations or {},
        creation_timestamp=created,
        status=status or ReplicaSetStatus(),
    )


def rolling(replicas: int, max_surge: IntOrString | None, max_unavailable: IntOrString | None) -> DeploymentView:
    """A RollingUpdate Deployment, as the tests' `deployment(...)` closures build it."""
    return generate_deployment(
        "nginx", replicas=replicas, strategy=DeploymentStrategy(ROLLING_UPDATE, max_surge, max_unavailable)
    )


def recreate(replicas: int = 1) -> DeploymentView:
    return generate_deployment("nginx", replicas=replicas, strategy=DeploymentStrategy(RECREATE, None, None))


def pod_template(name: str, node_name: str, annotations: dict[str, str], labels: dict[str, str]) -> dict[str, Any]:
    """generatePodTemplateSpec."""
    return {"metadata": {"name": name, "annotations": annotations, "labels": labels}, "spec": {"nodeName": node_name}}


# --- TestEqualIgnoreHash -----------------------------------------------------------------------------------------

EQUAL_IGNORE_HASH_TESTS = [
    pytest.param(
        pod_template("foo", "foo-node", {}, {HASH: "value-1", "something": "else"}),
        pod_template("foo", "foo-node", {}, {HASH: "value-1", "something": "else"}),
        True,
        id="Same spec, same labels",
    ),
    pytest.param(
        pod_template("foo", "foo-node", {}, {HASH: "value-1", "something": "else"}),
        pod_template("foo", "foo-node", {}, {HASH: "value-2", "something": "else"}),
        True,
        id="Same spec, only pod-template-hash label value is different",
    ),
    pytest.param(
        pod_template("foo", "foo-node", {}, {"something": "else"}),
        pod_template("foo", "foo-node", {}, {HASH: "value-2", "something": "else"}),
        True,
        id="Same spec, the former doesn't have pod-template-hash label",
    ),
    pytest.param(
        pod_template("foo", "foo-node", {}, {"something": "else"}),
        pod_template("foo", "foo-node", {}, {HASH: "value-2"}),
        False,
        id="Same spec, the label is different, the former doesn't have pod-template-hash label, same number of labels",
    ),
    pytest.param(
        pod_template("foo", "foo-node", {}, {HASH: "value-1"}),
        pod_template("foo", "foo-node", {}, {"something": "else"}),
        False,
        id="Same spec, the label is different, the latter doesn't have pod-template-hash label, same number of labels",
    ),
    pytest.param(
        pod_template("foo", "foo-node", {}, {HASH: "value-1"}),
        pod_template("foo", "foo-node", {}, {HASH: "value-1", "something": "else"}),
        False,
        id="Same spec, the label is different, and the pod-template-hash label value is the same",
    ),
    pytest.param(
        pod_template("foo", "foo-node", {"former": "value"}, {HASH: "value-1", "something": "else"}),
        pod_template("foo", "foo-node", {"latter": "value"}, {HASH: "value-1", "something": "else"}),
        False,
        id="Different spec, same labels",
    ),
    pytest.param(
        pod_template("foo-1", "foo-node", {}, {HASH: "value-1", "something": "else"}),
        pod_template("foo-2", "foo-node", {}, {HASH: "value-2", "something": "else"}),
        False,
        id="Different spec, different pod-template-hash label value",
    ),
    pytest.param(
        pod_template("foo-1", "foo-node-1", {}, {"something": "else"}),
        pod_template("foo-2", "foo-node-2", {}, {HASH: "value-2", "something": "else"}),
        False,
        id="Different spec, the former doesn't have pod-template-hash label",
    ),
    pytest.param(
        pod_template("foo", "foo-node-1", {}, {"something": "else"}),
        pod_template("foo", "foo-node-2", {}, {"nothing": "else"}),
        False,
        id="Different spec, different labels",
    ),
]


@pytest.mark.parametrize(("former", "latter", "expected"), EQUAL_IGNORE_HASH_TESTS)
def test_equal_ignore_hash(former: dict[str, Any], latter: dict[str, Any], expected: bool) -> None:
    """TestEqualIgnoreHash: both orders, and neither input loses its labels (upstream checks they stay non-nil)."""
    before = copy.deepcopy((former, latter))
    assert util.equal_ignore_hash(former, latter) is expected
    assert util.equal_ignore_hash(latter, former) is expected  # "(reverse order)"
    assert (former, latter) == before


@pytest.mark.parametrize(
    ("former", "latter", "expected"),
    [
        pytest.param({"metadata": {"labels": {HASH: "x"}}}, {"metadata": {}}, True, id="only a hash label vs none"),
        pytest.param({"metadata": {"annotations": {}}}, {"metadata": {"annotations": None}}, True, id="empty vs null"),
        pytest.param({"spec": {"containers": []}}, {"spec": {}}, True, id="empty list vs absent"),
        pytest.param({"spec": {"hostNetwork": True}}, {"spec": {"hostNetwork": 1}}, False, id="true is not 1"),
        pytest.param({"spec": {"a": [1, 2]}}, {"spec": {"a": [2, 1]}}, False, id="list order matters"),
    ],
)
def test_equal_ignore_hash_semantic_equality_dp_06(
    former: dict[str, Any], latter: dict[str, Any], expected: bool
) -> None:
    """apiequality.Semantic: a nil map or slice equals an empty one; values keep their JSON types."""
    assert util.equal_ignore_hash(former, latter) is expected


# --- TestFindNewReplicaSet / TestFindOldReplicaSets --------------------------------------------------------------

DEPLOYMENT = generate_deployment("nginx")


def _with_container_name(deployment: DeploymentView, name: str) -> DeploymentView:
    template = copy.deepcopy(dict(deployment.template))
    template["spec"]["containers"][0]["name"] = name
    return dataclasses.replace(deployment, template=template)


_OLD_TEMPLATE_DEPLOYMENT = _with_container_name(generate_deployment("nginx"), "nginx-old-1")

NEW_RS = generate_rs(DEPLOYMENT, "nginx-new", pod_template_hash="hash", created=LATER)
NEW_RS_DUP = generate_rs(DEPLOYMENT, "nginx-dup", pod_template_hash="different-hash", created=NOW)
OLD_RS = generate_rs(_OLD_TEMPLATE_DEPLOYMENT, "nginx-old")


@pytest.mark.parametrize(
    ("rs_list", "expected"),
    [
        pytest.param(
            [NEW_RS, OLD_RS],
            NEW_RS,
            id="Get new ReplicaSet with the same template as Deployment spec but different pod-template-hash value",
        ),
        pytest.param(
            [NEW_RS, OLD_RS, NEW_RS_DUP],
            NEW_RS_DUP,
            id="Get the oldest new ReplicaSet when there are more than one ReplicaSet with the same template",
        ),
        pytest.param([OLD_RS], None, id="Get nil new ReplicaSet"),
    ],
)
def test_find_new_replica_set(rs_list: list[ReplicaSetView], expected: ReplicaSetView | None) -> None:
    """TestFindNewReplicaSet (DP-06)."""
    assert util.find_new_replica_set(DEPLOYMENT, rs_list) == expected


# TestFindOldReplicaSets has its own RSs: the new one has 1 replica, the old one was created a minute before NOW.
_NEW_RS_1 = dataclasses.replace(NEW_RS, replicas=1)
_OLD_RS_BEFORE = dataclasses.replace(OLD_RS, creation_timestamp=BEFORE)


@pytest.mark.parametrize(
    ("rs_list", "expected", "expected_require"),
    [
        pytest.param([_NEW_RS_1, _OLD_RS_BEFORE], [_OLD_RS_BEFORE], [], id="Get old ReplicaSets"),
        pytest.param([_OLD_RS_BEFORE], [_OLD_RS_BEFORE], [], id="Get old ReplicaSets with no new ReplicaSet"),
        pytest.param(
            [_OLD_RS_BEFORE, _NEW_RS_1, NEW_RS_DUP],
            [_OLD_RS_BEFORE, _NEW_RS_1],
            [_NEW_RS_1],
            id="Get old ReplicaSets with two new ReplicaSets, only the oldest new ReplicaSet is seen as new ReplicaSet",
        ),
        pytest.param([_NEW_RS_1], [], [], id="Get empty old ReplicaSets"),
    ],
)
def test_find_old_replica_sets(
    rs_list: list[ReplicaSetView],
    expected: list[ReplicaSetView],
    expected_require: list[ReplicaSetView],
) -> None:
    """TestFindOldReplicaSets: all old RSs, and those with spec.replicas != 0."""
    require, all_old = util.find_old_replica_sets(DEPLOYMENT, rs_list)
    by_age = util.replica_sets_by_creation_timestamp
    assert sorted(all_old, key=by_age) == sorted(expected, key=by_age)
    assert require == expected_require


# --- TestGetReplicaCountForReplicaSets ---------------------------------------------------------------------------


def _counted_rs(name: str, replicas: int, status_replicas: int, terminating: int | None, observed: int) -> Any:
    return generate_rs(
        generate_deployment(name),
        name,
        replicas=replicas,
        status=ReplicaSetStatus(
            replicas=status_replicas, terminating_replicas=terminating, observed_generation=observed
        ),
    )


# As upstream: rs2's observedGeneration stays 0 (the Go test sets rs1's twice), which does not matter since rs2
# reports a count; rs3 never synced and reports none; rs4 synced but reports none.
RS1 = _counted_rs("foo-rs", 1, 2, 3, observed=1)
RS2 = _counted_rs("bar-rs", 2, 3, 1, observed=0)
RS3 = _counted_rs("unsynced-rs", 3, 0, None, observed=0)
RS4 = _counted_rs("dropped-rs", 1, 1, None, observed=1)


@pytest.mark.parametrize(
    ("sets", "expected_count", "expected_actual", "expected_terminating"),
    [
        pytest.param([RS1], 1, 2, 3, id="scaling down rs1"),
        pytest.param([RS1, RS2], 3, 5, 4, id="scaling down rs1 and rs2"),
        pytest.param([RS3], 3, 0, 0, id="scaling up rs3"),
        pytest.param([RS1, RS2, RS3], 6, 5, 4, id="scaling down rs1 and rs2 and scaling up rs3"),
        pytest.param([RS4], 1, 1, None, id="invalid/unknown terminating status for rs4"),
        pytest.param(
            [RS1, RS2, RS3, RS4], 7, 6, None, id="invalid/unknown terminating status for rs4 with rs1, rs2 and rs3"
        ),
    ],
)
def test_get_replica_count_for_replica_sets(
    sets: list[ReplicaSetView], expected_count: int, expected_actual: int, expected_terminating: int | None
) -> None:
    """TestGetReplicaCountForReplicaSets (DP-28): spec, status and terminating sums."""
    assert util.get_replica_count_for_replica_sets(sets) == expected_count
    assert util.get_actual_replica_count_for_replica_sets(sets) == expected_actual
    assert util.get_terminating_replica_count_for_replica_sets(sets) == expected_terminating


def test_ready_and_available_replica_counts_skip_nil() -> None:
    """GetReadyReplicaCountForReplicaSets / GetAvailableReplicaCountForReplicaSets sum status and skip nil RSs."""
    a = generate_rs(DEPLOYMENT, "a", status=ReplicaSetStatus(ready_replicas=3, available_replicas=2))
    b = generate_rs(DEPLOYMENT, "b", status=ReplicaSetStatus(ready_replicas=4, available_replicas=1))
    assert util.get_ready_replica_count_for_replica_sets([a, None, b]) == 7
    assert util.get_available_replica_count_for_replica_sets([a, None, b]) == 3


# --- TestResolveFenceposts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_surge", "max_unavailable", "desired", "expect_surge", "expect_unavailable", "expect_error"),
    [
        pytest.param("0%", "0%", 0, 0, 1, False, id="0"),
        pytest.param("39%", "39%", 10, 4, 3, False, id="1"),
        pytest.param("oops", "39%", 10, 0, 0, True, id="2"),
        pytest.param("55%", "urg", 10, 0, 0, True, id="3"),
        pytest.param(None, "39%", 10, 0, 3, False, id="4"),
        pytest.param("39%", None, 10, 4, 0, False, id="5"),
        pytest.param(None, None, 10, 0, 1, False, id="6"),
    ],
)
def test_resolve_fenceposts(
    max_surge: str | None,
    max_unavailable: str | None,
    desired: int,
    expect_surge: int,
    expect_unavailable: int,
    expect_error: bool,
) -> None:
    """TestResolveFenceposts (DP-13); upstream's error cases return 0, 0 with the error, Python raises."""
    if expect_error:
        with pytest.raises(ValueError, match="invalid value for IntOrString"):
            util.resolve_fenceposts(max_surge, max_unavailable, desired)
        return
    assert util.resolve_fenceposts(max_surge, max_unavailable, desired) == (expect_surge, expect_unavailable)


@pytest.mark.parametrize(
    ("value", "total", "round_up", "expected"),
    [
        pytest.param(3, 10, True, 3, id="int as is"),
        pytest.param("25%", 10, True, 3, id="25% of 10 rounds up to 3"),
        pytest.param("25%", 10, False, 2, id="25% of 10 rounds down to 2"),
        pytest.param("100%", 7, False, 7, id="100%"),
        pytest.param("1%", 1, True, 1, id="1% of 1 rounds up to 1"),
        pytest.param("1%", 1, False, 0, id="1% of 1 rounds down to 0"),
        pytest.param("+5%", 100, True, 5, id="Atoi accepts a sign"),
    ],
)
def test_get_scaled_value_from_int_or_percent(value: IntOrString, total: int, round_up: bool, expected: int) -> None:
    """intstr.GetScaledValueFromIntOrPercent (intstr_test.go TestGetScaledValueFromIntOrPercent, abridged)."""
    assert util.get_scaled_value_from_int_or_percent(value, total, round_up) == expected


@pytest.mark.parametrize("value", ["5", "5 %", "1_0%", "%", None], ids=["no %", "space", "underscore", "bare %", "nil"])
def test_get_scaled_value_from_int_or_percent_errors(value: IntOrString | None) -> None:
    """Only "<Atoi>%" strings are percentages; "5" is not 5 (the deprecated GetValueFromIntOrPercent took it)."""
    with pytest.raises(ValueError):
        util.get_scaled_value_from_int_or_percent(value, 10, True)


# --- TestNewRSNewReplicas ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy_type", "dep_replicas", "new_rs_replicas", "max_surge", "expected"),
    [
        pytest.param(ROLLING_UPDATE, 1, 5, 1, 5, id="can not scale up - to newRSReplicas"),
        pytest.param(ROLLING_UPDATE, 6, 2, 10, 6, id="scale up - to depReplicas"),
        pytest.param(RECREATE, 3, 1, 1, 3, id="recreate - to depReplicas"),
    ],
)
def test_new_rs_new_replicas(
    strategy_type: str, dep_replicas: int, new_rs_replicas: int, max_surge: int, expected: int
) -> None:
    """TestNewRSNewReplicas (DP-15): allRSs is one other RS with 5 replicas."""
    deployment = generate_deployment(
        "nginx", replicas=dep_replicas, strategy=DeploymentStrategy(strategy_type, max_surge, 1)
    )
    new_rc = generate_rs(deployment, "new", replicas=new_rs_replicas)
    rs5 = generate_rs(deployment, "rs5", replicas=5)
    assert util.new_rs_new_replicas(deployment, [rs5], new_rc) == expected


def test_new_rs_new_replicas_unsupported_strategy() -> None:
    deployment = generate_deployment("nginx", strategy=DeploymentStrategy("BlueGreen", None, None))
    with pytest.raises(ValueError, match="isn't supported"):
        util.new_rs_new_replicas(deployment, [], generate_rs(deployment, "new"))


# --- TestGetCondition / TestSetCondition / TestRemoveCondition ---------------------------------------------------


def cond_progressing() -> DeploymentCondition:
    return DeploymentCondition(type=DEPLOYMENT_PROGRESSING, status="False", reason="ForSomeReason")


def cond_progressing2() -> DeploymentCondition:
    return DeploymentCondition(type=DEPLOYMENT_PROGRESSING, status="True", reason="BecauseItIs")


def cond_available() -> DeploymentCondition:
    return DeploymentCondition(type=DEPLOYMENT_AVAILABLE, status="True", reason="AwesomeController")


def status() -> DeploymentStatus:
    return DeploymentStatus(conditions=(cond_progressing(), cond_available()))


@pytest.mark.parametrize(
    ("status_", "cond_type", "expected"),
    [
        pytest.param(status(), DEPLOYMENT_AVAILABLE, True, id="condition exists"),
        pytest.param(status(), DEPLOYMENT_REPLICA_FAILURE, False, id="condition does not exist"),
    ],
)
def test_get_condition(status_: DeploymentStatus, cond_type: str, expected: bool) -> None:
    """TestGetCondition."""
    assert (util.get_deployment_condition(status_, cond_type) is not None) is expected


@pytest.mark.parametrize(
    ("status_", "cond", "expected_status"),
    [
        pytest.param(
            DeploymentStatus(),
            cond_available(),
            DeploymentStatus(conditions=(cond_available(),)),
            id="set for the first time",
        ),
        pytest.param(DeploymentStatus(conditions=(cond_progressing(),)), cond_available(), status(), id="simple set"),
        pytest.param(
            DeploymentStatus(conditions=(cond_progressing(),)),
            cond_progressing2(),
            DeploymentStatus(conditions=(cond_progressing2(),)),
            id="overwrite",
        ),
    ],
)
def test_set_condition(status_: DeploymentStatus, cond: DeploymentCondition, expected_status: DeploymentStatus) -> None:
    """TestSetCondition."""
    assert util.set_deployment_condition(status_, cond) == expected_status


@pytest.mark.parametrize(
    ("status_", "cond_type", "expected_status"),
    [
        pytest.param(DeploymentStatus(), DEPLOYMENT_PROGRESSING, DeploymentStatus(), id="remove from empty status"),
        pytest.param(
            DeploymentStatus(conditions=(cond_progressing(),)),
            DEPLOYMENT_PROGRESSING,
            DeploymentStatus(),
            id="simple remove",
        ),
        pytest.param(status(), DEPLOYMENT_REPLICA_FAILURE, status(), id="doesn't remove anything"),
    ],
)
def test_remove_condition(status_: DeploymentStatus, cond_type: str, expected_status: DeploymentStatus) -> None:
    """TestRemoveCondition."""
    assert util.remove_deployment_condition(status_, cond_type) == expected_status


def test_set_deployment_condition_transition_times_dp_32() -> None:
    """DP-32: same status and reason is a no-op; a new reason keeps lastTransitionTime; a new status takes it."""
    first = util.new_deployment_condition(DEPLOYMENT_PROGRESSING, "True", "NewReplicaSetCreated", "created", NOW)
    assert first.last_transition_time == first.last_update_time == NOW
    current = DeploymentStatus(conditions=(first,))

    same = util.new_deployment_condition(DEPLOYMENT_PROGRESSING, "True", "NewReplicaSetCreated", "again", LATER)
    assert util.set_deployment_condition(current, same) is current

    progressed = util.new_deployment_condition(DEPLOYMENT_PROGRESSING, "True", "ReplicaSetUpdated", "more", LATER)
    (updated,) = util.set_deployment_condition(current, progressed).conditions
    assert (updated.reason, updated.last_update_time, updated.last_transition_time) == ("ReplicaSetUpdated", LATER, NOW)

    failed = util.new_deployment_condition(DEPLOYMENT_PROGRESSING, "False", TIMED_OUT_REASON, "late", LATER)
    (flipped,) = util.set_deployment_condition(current, failed).conditions
    assert (flipped.status, flipped.last_transition_time) == ("False", LATER)


def test_new_deployment_condition_truncates_to_seconds() -> None:
    condition = util.new_deployment_condition(DEPLOYMENT_AVAILABLE, "True", "r", "m", NOW.replace(microsecond=999))
    assert condition.last_update_time == condition.last_transition_time == NOW


def test_replica_set_to_deployment_condition_dp_33() -> None:
    rs_condition = Condition("ReplicaFailure", "True", "FailedCreate", "quota", NOW)
    assert util.replica_set_to_deployment_condition(rs_condition) == DeploymentCondition(
        "ReplicaFailure", "True", "FailedCreate", "quota", NOW, NOW
    )


# --- TestDeploymentComplete / TestDeploymentProgressing / TestDeploymentTimedOut ---------------------------------


def _complete_case(
    desired: int, current: int, updated: int, available: int, max_unavailable: int, max_surge: int
) -> DeploymentView:
    return dataclasses.replace(
        rolling(desired, max_surge, max_unavailable),
        status=DeploymentStatus(replicas=current, updated_replicas=updated, available_replicas=available),
    )


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        pytest.param(_complete_case(5, 5, 5, 4, 1, 0), False, id="not complete: min but not all pods become available"),
        pytest.param(_complete_case(5, 5, 5, 3, 1, 0), False, id="not complete: min availability is not honored"),
        pytest.param(_complete_case(5, 5, 5, 5, 0, 0), True, id="complete"),
        pytest.param(
            _complete_case(5, 5, 4, 5, 0, 0), False, id="not complete: all pods are available but not updated"
        ),
        # old replica set: spec.replicas=1, status.replicas=1, status.availableReplicas=1
        # new replica set: spec.replicas=1, status.replicas=1, status.availableReplicas=0
        pytest.param(_complete_case(1, 2, 1, 1, 0, 1), False, id="not complete: still running old pods"),
        pytest.param(_complete_case(1, 1, 1, 0, 1, 1), False, id="not complete: one replica deployment never comes up"),
    ],
)
def test_deployment_complete(d: DeploymentView, expected: bool) -> None:
    """TestDeploymentComplete."""
    assert util.deployment_complete(d, d.status) is expected


def test_deployment_complete_needs_the_generation_observed() -> None:
    d = dataclasses.replace(_complete_case(5, 5, 5, 5, 0, 0), generation=2)
    assert not util.deployment_complete(d, dataclasses.replace(d.status, observed_generation=1))
    assert util.deployment_complete(d, dataclasses.replace(d.status, observed_generation=2))


def _progress_status(current: int, updated: int, ready: int, available: int) -> DeploymentStatus:
    return DeploymentStatus(
        replicas=current, updated_replicas=updated, ready_replicas=ready, available_replicas=available
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param((10, 4, 4, 4), (10, 6, 4, 4), True, id="progressing: updated pods"),
        pytest.param((10, 4, 4, 4), (10, 4, 4, 4), False, id="not progressing"),
        pytest.param((10, 4, 6, 6), (8, 4, 6, 6), True, id="progressing: old pods removed"),
        pytest.param((10, 7, 3, 3), (10, 6, 3, 3), False, id="not progressing: less new pods"),
        pytest.param((10, 4, 7, 7), (8, 8, 5, 5), True, id="progressing: less overall but more new pods"),
        pytest.param((10, 10, 9, 8), (10, 10, 10, 8), True, id="progressing: more ready pods"),
        pytest.param((10, 10, 10, 9), (10, 10, 10, 10), True, id="progressing: more available pods"),
    ],
)
def test_deployment_progressing(old: tuple[int, int, int, int], new: tuple[int, int, int, int], expected: bool) -> None:
    """TestDeploymentProgressing (DP-30): (current, updated, ready, available) before and after."""
    d = generate_deployment("nginx", status=_progress_status(*old))
    assert util.deployment_progressing(d, _progress_status(*new)) is expected


def _time(minute: int, second: int) -> datetime.datetime:
    return datetime.datetime(2016, 1, 1, 0, minute, second, tzinfo=datetime.UTC)


def _timed_out_case(reason: str, pds: int | None, last_update: datetime.datetime | None) -> DeploymentView:
    condition = DeploymentCondition(DEPLOYMENT_PROGRESSING, "True", reason, last_update_time=last_update)
    return generate_deployment("nginx", progress_deadline_seconds=pds, status=DeploymentStatus(conditions=(condition,)))


@pytest.mark.parametrize(
    ("d", "now", "expected"),
    [
        pytest.param(
            _timed_out_case("", None, _time(1, 9)),
            _time(1, 20),
            False,
            id="nil progressDeadlineSeconds specified - no timeout",
        ),
        pytest.param(
            _timed_out_case("", MAX_INT32, _time(1, 9)),
            _time(1, 20),
            False,
            id="infinite progressDeadlineSeconds specified - no timeout",
        ),
        pytest.param(
            _timed_out_case("", 10, _time(1, 9)),
            _time(1, 20),
            True,
            id="progressDeadlineSeconds: 10s, now - started => 00:01:20 - 00:01:09 => 11s",
        ),
        pytest.param(
            _timed_out_case("", 10, _time(1, 11)),
            _time(1, 20),
            False,
            id="progressDeadlineSeconds: 10s, now - started => 00:01:20 - 00:01:11 => 9s",
        ),
        pytest.param(
            _timed_out_case(NEW_RS_AVAILABLE_REASON, None, None),
            NOW,
            False,
            id="previous status was a complete deployment",
        ),
    ],
)
def test_deployment_timed_out(d: DeploymentView, now: datetime.datetime, expected: bool) -> None:
    """TestDeploymentTimedOut (DP-30): nowFn becomes the explicit `now`."""
    assert util.deployment_timed_out(d, d.status, now) is expected


@pytest.mark.parametrize(
    ("reason", "last_update", "expected"),
    [
        pytest.param("", _time(1, 10), False, id="exactly at the deadline is not past it"),
        pytest.param(NEW_RS_AVAILABLE_REASON, _time(0, 0), False, id="a finished rollout never times out"),
        pytest.param(TIMED_OUT_REASON, _time(1, 19), True, id="already timed out"),
        pytest.param("", None, True, id="unset lastUpdateTime is the zero time"),
    ],
)
def test_deployment_timed_out_edges_dp_30(reason: str, last_update: datetime.datetime | None, expected: bool) -> None:
    d = _timed_out_case(reason, 10, last_update)
    assert util.deployment_timed_out(d, d.status, _time(1, 20)) is expected


def test_deployment_timed_out_without_progressing_condition() -> None:
    d = generate_deployment("nginx", progress_deadline_seconds=10)
    assert util.deployment_timed_out(d, DeploymentStatus(), NOW) is False


# --- TestMaxUnavailable / TestMinAvailable / MaxSurge ------------------------------------------------------------


@pytest.mark.parametrize(
    ("deployment", "expected"),
    [
        pytest.param(rolling(10, 1, 5), 5, id="maxUnavailable less than replicas"),
        pytest.param(rolling(10, 1, 10), 10, id="maxUnavailable equal replicas"),
        pytest.param(rolling(5, 1, 10), 5, id="maxUnavailable greater than replicas"),
        pytest.param(rolling(0, 1, 10), 0, id="maxUnavailable with replicas is 0"),
        pytest.param(recreate(), 0, id="maxUnavailable with Recreate deployment strategy"),
        pytest.param(rolling(10, 1, "50%"), 5, id="maxUnavailable less than replicas with percents"),
        pytest.param(rolling(10, 1, "100%"), 10, id="maxUnavailable equal replicas with percents"),
        pytest.param(rolling(5, 1, "100%"), 5, id="maxUnavailable greater than replicas with percents"),
    ],
)
def test_max_unavailable(deployment: DeploymentView, expected: int) -> None:
    """TestMaxUnavailable (DP-14)."""
    assert util.max_unavailable(deployment) == expected


@pytest.mark.parametrize(
    ("deployment", "expected"),
    [
        pytest.param(rolling(10, 1, 5), 5, id="replicas greater than maxUnavailable"),
        pytest.param(rolling(10, 1, 10), 0, id="replicas equal maxUnavailable"),
        pytest.param(rolling(5, 1, 10), 0, id="replicas less than maxUnavailable"),
        pytest.param(rolling(0, 1, 10), 0, id="replicas is 0"),
        pytest.param(recreate(10), 0, id="minAvailable with Recreate deployment strategy"),
        pytest.param(rolling(10, 1, "60%"), 4, id="replicas greater than maxUnavailable with percents"),
        pytest.param(rolling(10, 1, "100%"), 0, id="replicas equal maxUnavailable with percents"),
        pytest.param(rolling(5, 1, "100%"), 0, id="replicas less than maxUnavailable with percents"),
    ],
)
def test_min_available(deployment: DeploymentView, expected: int) -> None:
    """TestMinAvailable."""
    assert util.min_available(deployment) == expected


@pytest.mark.parametrize(
    ("deployment", "expected"),
    [
        pytest.param(rolling(10, "25%", "25%"), 3, id="25% of 10 rounds up"),
        pytest.param(rolling(10, 2, "25%"), 2, id="absolute surge"),
        pytest.param(rolling(10, 20, 0), 20, id="surge is not capped at replicas"),
        pytest.param(rolling(0, "25%", "25%"), 0, id="replicas is 0"),
        pytest.param(recreate(10), 0, id="Recreate has no surge"),
        pytest.param(rolling(10, "oops", "25%"), 0, id="an invalid value counts as 0"),
    ],
)
def test_max_surge(deployment: DeploymentView, expected: int) -> None:
    """MaxSurge (DP-14); upstream has no table of its own, these follow its doc comment and ResolveFenceposts."""
    assert util.max_surge(deployment) == expected


# --- TestGetNonNegativeInt32FromAnnotation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotations", "expected_value", "expected_err"),
    [
        pytest.param(None, None, "", id="invalid empty"),
        pytest.param({"test": "invalid", "foo": "2"}, None, "invalid syntax", id="invalid"),
        pytest.param({"test": "-1", "foo": "2"}, None, "invalid syntax", id="invalid negative "),
        pytest.param({"test": "0", "foo": "2"}, 0, "", id="valid zero"),
        pytest.param({"test": "13", "foo": "2"}, 13, "", id="valid"),
        pytest.param({"test": str(MAX_INT32), "foo": "2"}, MAX_INT32, "", id="valid max"),
        pytest.param({"test": str(MAX_INT32 + 1), "foo": "2"}, None, "out of range", id="invalid max out of range"),
        pytest.param({"test": str(2**32), "foo": "2"}, None, "out of range", id="invalid max out of range 2"),
    ],
)
def test_get_non_negative_int32_from_annotation(
    annotations: dict[str, str] | None, expected_value: int | None, expected_err: str
) -> None:
    """TestGetNonNegativeInt32FromAnnotation; Go's (0, false, err) is a ValueError, (0, false, nil) is None."""
    if expected_err:
        with pytest.raises(ValueError, match=expected_err):
            util.get_non_negative_int32_from_annotation(annotations, "test")
    else:
        assert util.get_non_negative_int32_from_annotation(annotations, "test") == expected_value
    # The "Verbose" variant, through the desired-replicas annotation: errors count as absent.
    rs = generate_rs(
        DEPLOYMENT,
        "rs",
        annotations={} if annotations is None else {DESIRED_REPLICAS_ANNOTATION: annotations["test"]},
    )
    assert util.get_desired_replicas_annotation(rs) == expected_value


# --- TestAnnotationUtils / TestReplicasAnnotationsNeedUpdate -----------------------------------------------------


def test_annotation_utils() -> None:
    """TestAnnotationUtils: its three sub-tests run in order on one ReplicaSet, as upstream."""
    deployment = generate_deployment("nginx", annotations={REVISION_ANNOTATION: "1"})
    annotations: dict[str, str] = {}

    # SetNewReplicaSetAnnotations: raise the revision from 11 through 20 with a 5-character history limit.
    for i in range(10, 20):
        next_revision = str(i + 1)
        annotations, _ = util.set_new_replica_set_annotations(deployment, annotations, next_revision, True, 5)
        if i >= 12:
            assert annotations[REVISION_HISTORY_ANNOTATION] == f"{i - 1},{i}"
        assert annotations[REVISION_ANNOTATION] == next_revision

    # SetReplicasAnnotations
    annotations, updated = util.set_replicas_annotations(annotations, 10, 11)
    assert updated
    assert annotations[DESIRED_REPLICAS_ANNOTATION] == "10"
    assert annotations[MAX_REPLICAS_ANNOTATION] == "11"

    # IsSaturated
    annotations[DESIRED_REPLICAS_ANNOTATION] = "1"
    rs = generate_rs(
        deployment, "rs", replicas=1, annotations=annotations, status=ReplicaSetStatus(available_replicas=1)
    )
    assert util.is_saturated(deployment, rs)


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        pytest.param(None, True, id="test Annotations nil"),
        pytest.param(
            {DESIRED_REPLICAS_ANNOTATION: "8", MAX_REPLICAS_ANNOTATION: "20"}, True, id="test desiredReplicas update"
        ),
        pytest.param(
            {DESIRED_REPLICAS_ANNOTATION: "10", MAX_REPLICAS_ANNOTATION: "16"}, True, id="test maxReplicas update"
        ),
        pytest.param(
            {DESIRED_REPLICAS_ANNOTATION: "10", MAX_REPLICAS_ANNOTATION: "20"}, False, id="test needn't update"
        ),
    ],
)
def test_replicas_annotations_need_update(annotations: dict[str, str] | None, expected: bool) -> None:
    """TestReplicasAnnotationsNeedUpdate (DP-12)."""
    assert util.replicas_annotations_need_update(annotations, 10, 20) is expected
    # It predicts SetReplicasAnnotations exactly.
    assert util.set_replicas_annotations(annotations, 10, 20)[1] is expected


def test_set_new_replica_set_annotations_copies_and_skips_dp_11() -> None:
    """DP-11: every Deployment annotation but the skip list reaches the RS; a same value is not a change."""
    skipped = {
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
        REVISION_ANNOTATION: "7",
        REVISION_HISTORY_ANNOTATION: "1,2",
        DESIRED_REPLICAS_ANNOTATION: "9",
        MAX_REPLICAS_ANNOTATION: "9",
        "deprecated.deployment.rollback.to": "3",
    }
    deployment = generate_deployment("nginx", annotations={**skipped, "kubernetes.io/change-cause": "v2"})
    annotations, changed = util.set_new_replica_set_annotations(deployment, {REVISION_ANNOTATION: "3"}, "3", True)
    assert (annotations, changed) == ({REVISION_ANNOTATION: "3", "kubernetes.io/change-cause": "v2"}, True)
    assert util.set_new_replica_set_annotations(deployment, annotations, "3", True) == (annotations, False)


def test_set_new_replica_set_annotations_new_rs_gets_replica_annotations_dp_12() -> None:
    deployment = rolling(10, "25%", "25%")
    annotations, changed = util.set_new_replica_set_annotations(deployment, None, "4", False)
    assert changed
    assert annotations == {REVISION_ANNOTATION: "4", DESIRED_REPLICAS_ANNOTATION: "10", MAX_REPLICAS_ANNOTATION: "13"}


@pytest.mark.parametrize(
    ("before", "new_revision", "after", "changed"),
    [
        pytest.param({}, "1", {REVISION_ANNOTATION: "1"}, True, id="first revision, no history"),
        pytest.param(
            {REVISION_ANNOTATION: "2"},
            "5",
            {REVISION_ANNOTATION: "5", REVISION_HISTORY_ANNOTATION: "2"},
            True,
            id="rollback to revision 2 records it",
        ),
        pytest.param(
            {REVISION_ANNOTATION: "5", REVISION_HISTORY_ANNOTATION: "2"},
            "8",
            {REVISION_ANNOTATION: "8", REVISION_HISTORY_ANNOTATION: "2,5"},
            True,
            id="second rollback appends",
        ),
        pytest.param({REVISION_ANNOTATION: "9"}, "8", {REVISION_ANNOTATION: "9"}, False, id="never lowered"),
        pytest.param({REVISION_ANNOTATION: "10"}, "9", {REVISION_ANNOTATION: "10"}, False, id="compared as numbers"),
        pytest.param({REVISION_ANNOTATION: "x"}, "9", {REVISION_ANNOTATION: "x"}, False, id="malformed old revision"),
        pytest.param({REVISION_ANNOTATION: "1_0"}, "11", {REVISION_ANNOTATION: "1_0"}, False, id="ParseInt, not int()"),
        pytest.param({}, "nine", {}, False, id="malformed new revision"),
    ],
)
def test_set_new_replica_set_annotations_revisions_dp_10(
    before: dict[str, str], new_revision: str, after: dict[str, str], changed: bool
) -> None:
    """DP-10: the new RS's revision is only ever raised; raising one that had a revision is a rollback."""
    deployment = generate_deployment("nginx")
    assert util.set_new_replica_set_annotations(deployment, before, new_revision, True) == (after, changed)


def test_set_new_replica_set_annotations_history_too_long_is_left_alone() -> None:
    """The limit cannot fit even the new entry alone: upstream logs and keeps the history as it was."""
    deployment = generate_deployment("nginx")
    before = {REVISION_ANNOTATION: "123456", REVISION_HISTORY_ANNOTATION: "1,2"}
    annotations, changed = util.set_new_replica_set_annotations(deployment, before, "123457", True, 5)
    assert changed
    assert annotations == {REVISION_ANNOTATION: "123457", REVISION_HISTORY_ANNOTATION: "1,2"}


def test_set_deployment_revision() -> None:
    assert util.set_deployment_revision({}, "2") == ({REVISION_ANNOTATION: "2"}, True)
    assert util.set_deployment_revision({REVISION_ANNOTATION: "2"}, "2") == ({REVISION_ANNOTATION: "2"}, False)


def _with_revision(name: str, value: str | None, created: datetime.datetime | None = None) -> ReplicaSetView:
    annotations = {} if value is None else {REVISION_ANNOTATION: value}
    return generate_rs(DEPLOYMENT, name, annotations=annotations, created=created)


@pytest.mark.parametrize(
    ("revisions", "expected_max", "expected_last"),
    [
        pytest.param([], 0, 0, id="no replica sets"),
        pytest.param(["1", "3", "2"], 3, 2, id="distinct"),
        pytest.param(["3", "3"], 3, 3, id="equal maxima push each other down"),
        pytest.param(["2", None, "oops", "10"], 10, 2, id="absent is 0, malformed skipped"),
    ],
)
def test_max_and_last_revision(revisions: list[str | None], expected_max: int, expected_last: int) -> None:
    """MaxRevision / LastRevision (DP-10)."""
    sets = [_with_revision(f"rs{i}", value) for i, value in enumerate(revisions)]
    assert util.max_revision(sets) == expected_max
    assert util.last_revision(sets) == expected_last


def test_revision_parses_like_parse_int() -> None:
    assert util.revision(_with_revision("a", "+7")) == 7
    for bad in ("1_0", " 7", "7.0", str(2**63)):
        with pytest.raises(ValueError):
            util.revision(_with_revision("a", bad))


def test_replica_sets_by_revision_dp_27() -> None:
    """ReplicaSetsByRevision: by revision; equal or malformed revisions by age, then name."""
    a = _with_revision("a", "3", NOW)
    b = _with_revision("b", "1", LATER)
    c = _with_revision("c", "3", BEFORE)
    assert [rs.name for rs in util.replica_sets_by_revision([a, b, c])] == ["b", "c", "a"]


def test_is_saturated_dp_20() -> None:
    deployment = rolling(3, 1, 0)
    saturated = generate_rs(
        deployment,
        "rs",
        replicas=3,
        annotations={DESIRED_REPLICAS_ANNOTATION: "3"},
        status=ReplicaSetStatus(available_replicas=3),
    )
    assert util.is_saturated(deployment, saturated)
    assert not util.is_saturated(deployment, None)
    assert not util.is_saturated(deployment, dataclasses.replace(saturated, annotations={}))
    assert not util.is_saturated(
        deployment, dataclasses.replace(saturated, annotations={DESIRED_REPLICAS_ANNOTATION: "2"})
    )
    assert not util.is_saturated(
        deployment, dataclasses.replace(saturated, status=ReplicaSetStatus(available_replicas=2))
    )


# --- TestGetReplicaSetFraction and GetReplicaSetProportion (DP-21) -----------------------------------------------


@pytest.mark.parametrize(
    (
        "deployment_replicas",
        "deployment_status_replicas",
        "deployment_max_surge",
        "rs_replicas",
        "rs_annotations",
        "expected_fraction",
    ),
    [
        pytest.param(0, 0, 0, 10, None, -10, id="empty deployment always scales to 0"),
        pytest.param(
            10,
            0,
            0,
            5,
            None,
            0,
            id="unsynced deployment does not scale when max-replicas annotation is missing (removed by a 3rd party)",
        ),
        pytest.param(
            10,
            0,
            0,
            5,
            {MAX_REPLICAS_ANNOTATION: "0"},
            0,
            id="unsynced deployment does not scale when max-replicas annotation is incorrectly set to 0 (by a 3rd party)",
        ),
        pytest.param(
            120,
            100,
            0,
            50,
            None,
            10,
            id="scale up by 1/5 should increase RS replicas by 1/5 when max-replicas annotation is missing (removed by a 3rd party)",
        ),
        pytest.param(
            120,
            100,
            0,
            50,
            {MAX_REPLICAS_ANNOTATION: "0"},
            10,
            id="scale up by 1/5 should increase RS replicas by 1/5 when max-replicas annotation is incorrectly set to 0 (by a 3rd party)",
        ),
        pytest.param(
            120, 0, 0, 50, {MAX_REPLICAS_ANNOTATION: "100"}, 10, id="scale up by 1/5 should increase RS replicas by 1/5"
        ),
        # Not the whole 1/5 (10): the surge pods scale proportionally as well during a rollout.
        pytest.param(
            120,
            0,
            10,
            50,
            {MAX_REPLICAS_ANNOTATION: "110"},
            9,
            id="scale up with maxSurge by 1/5 should increase RS replicas approximately by 1/5",
        ),
        pytest.param(
            10, 0, 0, 6, {MAX_REPLICAS_ANNOTATION: "12"}, -1, id="scale down by 1/6 should decrease RS replicas by 1/6"
        ),
        pytest.param(
            100,
            0,
            10,
            50,
            {MAX_REPLICAS_ANNOTATION: "130"},
            -8,
            id="scale down with maxSurge by 1/6 should decrease RS replicas approximately by 1/6",
        ),
    ],
)
def test_get_replica_set_fraction(
    deployment_replicas: int,
    deployment_status_replicas: int,
    deployment_max_surge: int,
    rs_replicas: int,
    rs_annotations: dict[str, str] | None,
    expected_fraction: int,
) -> None:
    """TestGetReplicaSetFraction."""
    deployment = dataclasses.replace(
        rolling(deployment_replicas, deployment_max_surge, 1),
        status=DeploymentStatus(replicas=deployment_status_replicas),
    )
    rs = generate_rs(deployment, "rs", replicas=rs_replicas, annotations=rs_annotations)
    assert util.get_replica_set_fraction(rs, deployment) == expected_fraction


@pytest.mark.parametrize(
    ("rs_replicas", "to_add", "added", "expected"),
    [
        pytest.param(0, 5, 0, 0, id="an empty RS never scales up from zero"),
        pytest.param(5, 0, 0, 0, id="nothing to add"),
        pytest.param(5, 5, 5, 0, id="everything already added"),
        pytest.param(5, 5, 0, 5, id="scale up: the fraction fits"),
        pytest.param(5, 5, 3, 2, id="scale up: capped by what is left"),
        pytest.param(5, -8, 0, -2, id="scale down: the fraction fits"),
        pytest.param(5, -8, -7, -1, id="scale down: capped by what is left"),
    ],
)
def test_get_replica_set_proportion(rs_replicas: int, to_add: int, added: int, expected: int) -> None:
    """GetReplicaSetProportion: upstream has no table; derived from its doc comment (deployment 10 → 20 or → 6)."""
    replicas = 20 if to_add > 0 else 6
    deployment = rolling(replicas, 0, 1)
    # Last scaled when the deployment had 10 replicas: a 5-replica RS holds half of them.
    rs = generate_rs(deployment, "rs", replicas=rs_replicas, annotations={MAX_REPLICAS_ANNOTATION: "10"})
    assert util.get_replica_set_proportion(rs, deployment, to_add, added) == expected
    assert util.get_replica_set_proportion(None, deployment, to_add, added) == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(2.5, 3, id="half up"),
        pytest.param(-2.5, -3, id="half down"),
        pytest.param(3.5, 4, id="not to even"),
        pytest.param(2.4999999999999996, 2, id="just below half"),
        pytest.param(0.49999999999999994, 0, id="largest double below 0.5"),
        pytest.param(-0.4, 0, id="small negative"),
    ],
)
def test_round_to_int32(value: float, expected: int) -> None:
    """integer.RoundToInt32 is math.Round: half away from zero, unlike Python's round() (DP-21)."""
    assert util.round_to_int32(value) == expected


# --- FindActiveOrLatest, GetDeploymentsForReplicaSet -------------------------------------------------------------


def test_find_active_or_latest_dp_19() -> None:
    new = generate_rs(DEPLOYMENT, "new", replicas=0, created=LATER)
    old1 = generate_rs(DEPLOYMENT, "old1", replicas=0, created=BEFORE)
    old2 = generate_rs(DEPLOYMENT, "old2", replicas=0, created=NOW)
    assert util.find_active_or_latest(None, []) is None
    assert util.find_active_or_latest(new, [old1, old2]) is new  # none active: the new RS
    assert util.find_active_or_latest(None, [old1, old2]) is old2  # none active, no new RS: the newest old one
    busy = dataclasses.replace(old1, replicas=2)
    assert util.find_active_or_latest(new, [busy, old2]) is busy  # exactly one active
    assert util.find_active_or_latest(dataclasses.replace(new, replicas=1), [busy]) is None  # several active


def _labelled_rs(i: int) -> ReplicaSetView:
    return dataclasses.replace(
        generate_rs(DEPLOYMENT, f"test-replicaSet-{i}"),
        namespace="test",
        labels={"app": f"test-{i}", "label": f"label-{i}"},
    )


_DEPLOYMENTS = [
    generate_deployment(f"deployment-{i}", namespace="test", selector=LabelSelector.from_labels({"app": f"test-{i}"}))
    for i in range(3)
]


@pytest.mark.parametrize(
    ("rs", "expect"),
    [
        pytest.param(_labelled_rs(0), [_DEPLOYMENTS[0]], id="GetDeploymentsForReplicaSet for rs-0"),
        pytest.param(_labelled_rs(1), [_DEPLOYMENTS[1]], id="GetDeploymentsForReplicaSet for rs-1"),
        pytest.param(_labelled_rs(2), [_DEPLOYMENTS[2]], id="GetDeploymentsForReplicaSet for rs-2"),
        pytest.param(_labelled_rs(3), [], id="GetDeploymentsForReplicaSet for rs-3"),
        pytest.param(_labelled_rs(4), [], id="GetDeploymentsForReplicaSet for rs-4"),
    ],
)
def test_get_deployments_for_replica_set(rs: ReplicaSetView, expect: list[DeploymentView]) -> None:
    """TestGetDeploymentsForReplicaSet; upstream's "could not find" error is an empty list."""
    assert util.get_deployments_for_replica_set(_DEPLOYMENTS, rs) == expect


def test_get_deployments_for_replica_set_ignores_empty_selectors_and_other_namespaces() -> None:
    rs = _labelled_rs(0)
    everything = generate_deployment("all", namespace="test", selector=LabelSelector())
    elsewhere = dataclasses.replace(_DEPLOYMENTS[0], namespace="other")
    assert util.get_deployments_for_replica_set([everything, elsewhere], rs) == []
    assert util.get_deployments_for_replica_set(_DEPLOYMENTS, dataclasses.replace(rs, labels={})) == []


# --- hash_test.go TestPodTemplateSpecHash, and the hash pipeline (DP-07) -----------------------------------------

POD_SPEC = """
{
    "metadata": {"labels": {"app": "cats"}},
    "spec": {
        "containers": [
            {
                "name": "cats",
                "image": "registry/test/cats:v0.@@VERSION@@.0",
                "ports": [{"name": "http", "containerPort": 9077, "protocol": "TCP"}],
                "env": [
                    {"name": "DEPLOYMENT_ENVIRONMENT", "value": "cats-stubbed-functional"},
                    {"name": "APP_NAME", "value": "cats"}
                ],
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}},
                "livenessProbe": {
                    "httpGet": {"path": "/private/status", "port": 9077, "scheme": "HTTP"},
                    "initialDelaySeconds": 30, "timeoutSeconds": 1, "periodSeconds": 10,
                    "successThreshold": 1, "failureThreshold": 3
                },
                "readinessProbe": {
                    "httpGet": {"path": "/private/status", "port": 9077, "scheme": "HTTP"},
                    "initialDelaySeconds": 1, "timeoutSeconds": 1, "periodSeconds": 10,
                    "successThreshold": 1, "failureThreshold": 3
                },
                "terminationMessagePath": "/dev/termination-log",
                "imagePullPolicy": "IfNotPresent"
            }
        ],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {}
    }
}
"""


def test_pod_template_spec_hash() -> None:
    """TestPodTemplateSpecHash: 1000 templates differing only in the image version hash to 1000 values."""
    seen: dict[str, int] = {}
    for i in range(1000):
        template = json.loads(POD_SPEC.replace("@@VERSION@@", str(i), 1))
        value = util.compute_hash(template, None)
        assert value not in seen, f"Hash collision, old: {seen[value]} new: {i}"
        seen[value] = i


def test_compute_hash_is_canonical_and_uses_the_safe_alphabet_dp_07() -> None:
    template = json.loads(POD_SPEC.replace("@@VERSION@@", "1", 1))
    reordered = dict(reversed(list(template.items())))
    value = util.compute_hash(template, None)
    assert util.compute_hash(reordered, None) == value  # key order does not matter
    assert set(value) <= set("bcdfghjklmnpqrstvwxz2456789") and 1 <= len(value) <= 10
    # The collision count, when set, changes the hash: that is how a collision is escaped (DP-09).
    with_counts = {util.compute_hash(template, count) for count in (None, 0, 1, 2)}
    assert len(with_counts) == 4


def test_fnv32a_and_safe_encode_string_known_values() -> None:
    """The pipeline's pieces against fixed answers: FNV-1a test vectors, and SafeEncodeString's digit mapping."""
    assert util._fnv32a(b"") == 0x811C9DC5
    assert util._fnv32a(b"a") == 0xE40C292C
    assert util._fnv32a(b"foobar") == 0xBF9CF968
    # '0'..'9' are code points 48..57: 48 % 27 = 21 is the alphabet's '4', ..., 54 % 27 = 0 wraps to 'b'.
    assert util.safe_encode_string("0123456789") == "456789bcdf"
    assert util.compute_hash({}, None) == util.safe_encode_string(str(util._fnv32a(b"{}")))
    collided = util._fnv32a((1).to_bytes(4, "little") + bytes(4), util._fnv32a(b"{}"))
    assert util.compute_hash({}, 1) == util.safe_encode_string(str(collided))


# --- The views (DP-05) -------------------------------------------------------------------------------------------


def test_deployment_view_from_dict_applies_apps_v1_defaults_dp_05() -> None:
    view = DeploymentView.from_dict(
        {
            "metadata": {"namespace": "default", "name": "web", "uid": "u", "generation": 4, "annotations": {"a": "b"}},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}}},
        }
    )
    assert view.key == "default/web"
    assert (view.replicas, view.revision_history_limit, view.progress_deadline_seconds) == (1, 10, 600)
    assert view.strategy == DeploymentStrategy(ROLLING_UPDATE, "25%", "25%")
    assert view.selector.matches({"app": "web"}) and not view.paused
    assert view.status == DeploymentStatus()


def test_deployment_view_from_dict_reads_spec_and_status() -> None:
    view = DeploymentView.from_dict(
        {
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 0,
                "paused": True,
                "minReadySeconds": 5,
                "revisionHistoryLimit": 0,
                "progressDeadlineSeconds": 30,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2}},
            },
            "status": {
                "observedGeneration": 3,
                "replicas": 4,
                "updatedReplicas": 2,
                "collisionCount": 1,
                "conditions": [
                    {
                        "type": "Progressing",
                        "status": "True",
                        "reason": "ReplicaSetUpdated",
                        "lastUpdateTime": "2026-03-01T12:01:00Z",
                        "lastTransitionTime": "2026-03-01T12:00:00Z",
                    }
                ],
            },
        }
    )
    assert (view.replicas, view.paused, view.min_ready_seconds) == (0, True, 5)
    assert (view.revision_history_limit, view.progress_deadline_seconds) == (0, 30)
    assert view.strategy == DeploymentStrategy(ROLLING_UPDATE, 2, "25%")
    assert (view.status.collision_count, view.status.terminating_replicas) == (1, None)
    (condition,) = view.status.conditions
    assert (condition.last_update_time, condition.last_transition_time) == (LATER, NOW)
    assert DeploymentStatus.from_dict(view.status.to_dict()) == view.status  # round trip


def test_deployment_view_recreate_has_no_rolling_parameters() -> None:
    view = DeploymentView.from_dict({"spec": {"strategy": {"type": "Recreate"}}})
    assert view.strategy == DeploymentStrategy(RECREATE, None, None)


def test_deployment_view_from_body_keeps_a_bad_selector_as_nothing() -> None:
    view = DeploymentView.from_body({"metadata": {"name": "x"}, "spec": {"selector": {"matchLabels": {"a": "b c"}}}})
    assert view.selector_error and not view.selector.matches({"a": "b c"})


def test_owned_replica_set_view_from_dict() -> None:
    view = ReplicaSetView.from_dict(
        {
            "metadata": {
                "namespace": "default",
                "name": "web-abc",
                "uid": "u",
                "annotations": {REVISION_ANNOTATION: "2"},
                "creationTimestamp": "2026-03-01T12:00:00Z",
            },
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}},
            "status": {"availableReplicas": 2},
        }
    )
    assert (view.replicas, view.status.available_replicas, view.creation_timestamp) == (3, 2, NOW)
    assert util.revision(view) == 2
