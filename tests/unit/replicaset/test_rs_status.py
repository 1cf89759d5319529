"""Ports of replica_set_utils_test.go (TestCalculateStatus, TestCalculateStatusConditions) and replica_set_test.go
(TestGetCondition, TestSetCondition, TestRemoveCondition), plus the RS-24 write-skip check."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from operators.controllers.replicaset.model import (
    REPLICA_FAILURE,
    ManageError,
    ReplicaSetStatus,
    ReplicaSetView,
)
from operators.controllers.replicaset.status import (
    calculate_status,
    get_condition,
    needs_status_update,
    remove_condition,
    set_condition,
)
from operators.kube.objects import Condition, OwnerReference, Pod
from operators.kube.selectors import LabelSelector

NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=datetime.UTC)
TEMPLATE_LABELS = {"name": "foo", "type": "production"}


def _new_replica_set(replicas: int, selector_labels: dict[str, str], min_ready_seconds: int = 0) -> ReplicaSetView:
    """newReplicaSet: template labels name=foo,type=production; the selector is `selector_labels`."""
    return ReplicaSetView(
        namespace="default",
        name="foobar",
        uid=f"uid-{replicas}-{len(selector_labels)}",
        generation=1,
        replicas=replicas,
        min_ready_seconds=min_ready_seconds,
        selector=LabelSelector.from_labels(selector_labels),
        template_labels=TEMPLATE_LABELS,
    )


def _new_pod(name: str, rs: ReplicaSetView, phase: str, terminating: bool = False) -> Pod:
    """newPod: labelled with the RS selector; Running means Ready with a zero lastTransitionTime."""
    labels = {r.key: next(iter(r.values)) for r in rs.selector.requirements}
    return Pod(
        namespace=rs.namespace,
        name=name,
        uid=name,
        labels=labels,
        owner_references=(OwnerReference("minik8s.dev/v1", "MiniReplicaSet", rs.name, rs.uid, controller=True),),
        phase=phase,
        ready=phase == "Running",
        deletion_timestamp=NOW if terminating else None,
    )


not_fully_labelled_rs = _new_replica_set(1, {"name": "foo"})
fully_labelled_rs = _new_replica_set(2, TEMPLATE_LABELS)  # 2 replicas for the condition tests
long_min_ready_seconds_rs = _new_replica_set(1, TEMPLATE_LABELS, min_ready_seconds=3600)

# TestCalculateStatus: (name, rs, active, terminating, replicas, fullyLabeled, ready, available).
# Upstream also runs these with the terminating-replicas gate off (TerminatingReplicas nil); here the gate is
# on (RS-22), so terminatingReplicas is always the number of terminating pods.
CALCULATE_STATUS_TESTS = [
    ("1 fully labelled pod", fully_labelled_rs, [_new_pod("pod1", fully_labelled_rs, "Running")], [], 1, 1, 1, 1),
    (
        "1 not fully labelled pod",
        not_fully_labelled_rs,
        [_new_pod("pod1", not_fully_labelled_rs, "Running")],
        [],
        1,
        0,
        1,
        1,
    ),
    (
        "2 fully labelled pods",
        fully_labelled_rs,
        [_new_pod("pod1", fully_labelled_rs, "Running"), _new_pod("pod2", fully_labelled_rs, "Running")],
        [],
        2,
        2,
        2,
        2,
    ),
    (
        "2 fully labelled pods with DeploymentPodReplacementPolicy",
        fully_labelled_rs,
        [_new_pod("pod1", fully_labelled_rs, "Running"), _new_pod("pod2", fully_labelled_rs, "Running")],
        [],
        2,
        2,
        2,
        2,
    ),
    (
        "2 not fully labelled pods",
        not_fully_labelled_rs,
        [_new_pod("pod1", not_fully_labelled_rs, "Running"), _new_pod("pod2", not_fully_labelled_rs, "Running")],
        [],
        2,
        0,
        2,
        2,
    ),
    (
        "1 fully labelled pod, 1 not fully labelled pod",
        not_fully_labelled_rs,
        [_new_pod("pod1", not_fully_labelled_rs, "Running"), _new_pod("pod2", fully_labelled_rs, "Running")],
        [],
        2,
        1,
        2,
        2,
    ),
    ("1 non-ready pod", fully_labelled_rs, [_new_pod("pod1", fully_labelled_rs, "Pending")], [], 1, 1, 0, 0),
    (
        "1 ready but non-available pod",
        long_min_ready_seconds_rs,
        [_new_pod("pod1", long_min_ready_seconds_rs, "Running")],
        [],
        1,
        1,
        1,
        0,
    ),
    (
        "1 fully labelled pod and 1 terminating without DeploymentPodReplacementPolicy",
        fully_labelled_rs,
        [_new_pod("pod1", fully_labelled_rs, "Running")],
        [_new_pod("pod2", fully_labelled_rs, "Running", terminating=True)],
        1,
        1,
        1,
        1,
    ),
    (
        "1 fully labelled pods and 2 terminating with DeploymentPodReplacementPolicy",
        fully_labelled_rs,
        [_new_pod("pod1", fully_labelled_rs, "Running")],
        [
            _new_pod("pod2", fully_labelled_rs, "Running", terminating=True),
            _new_pod("pod3", fully_labelled_rs, "Running", terminating=True),
        ],
        1,
        1,
        1,
        1,
    ),
]


@pytest.mark.parametrize(
    ("rs", "active", "terminating", "replicas", "fully_labeled", "ready", "available"),
    [case[1:] for case in CALCULATE_STATUS_TESTS],
    ids=[case[0] for case in CALCULATE_STATUS_TESTS],
)
def test_calculate_status(
    rs: ReplicaSetView,
    active: list[Pod],
    terminating: list[Pod],
    replicas: int,
    fully_labeled: int,
    ready: int,
    available: int,
) -> None:
    status = calculate_status(rs, active, None, NOW, terminating_pods=terminating)
    assert status == ReplicaSetStatus(
        replicas=replicas,
        fully_labeled_replicas=fully_labeled,
        ready_replicas=ready,
        available_replicas=available,
        terminating_replicas=len(terminating),
        observed_generation=rs.generation,
    )


def test_calculate_status_available_after_min_ready_seconds() -> None:
    rs = _new_replica_set(2, TEMPLATE_LABELS, min_ready_seconds=30)
    waited = dataclasses.replace(_new_pod("a", rs, "Running"), ready_since=NOW - datetime.timedelta(seconds=30))
    waiting = dataclasses.replace(_new_pod("b", rs, "Running"), ready_since=NOW - datetime.timedelta(seconds=29))
    status = calculate_status(rs, [waited, waiting], None, NOW)
    assert (status.ready_replicas, status.available_replicas) == (2, 1)


replica_failure_rs = dataclasses.replace(
    _new_replica_set(10, {"name": "foo"}),
    status=ReplicaSetStatus(conditions=(Condition(REPLICA_FAILURE, "True"),)),
)
rs2 = _new_replica_set(2, {"name": "foo"})
FAKE_ERROR = ManageError("create", "fake manageReplicasErr")

# TestCalculateStatusConditions: (name, rs, number of active pods, error, expected conditions).
# A new condition's lastTransitionTime is `now` in whole seconds (metav1.Time precision).
CALCULATE_STATUS_CONDITIONS_TESTS = [
    (
        "manageReplicasErr != nil && failureCond == nil, diff < 0",
        rs2,
        1,
        FAKE_ERROR,
        (Condition(REPLICA_FAILURE, "True", "FailedCreate", "fake manageReplicasErr", NOW.replace(microsecond=0)),),
    ),
    (
        "manageReplicasErr != nil && failureCond == nil, diff > 0",
        rs2,
        3,
        FAKE_ERROR,
        (Condition(REPLICA_FAILURE, "True", "FailedDelete", "fake manageReplicasErr", NOW.replace(microsecond=0)),),
    ),
    ("manageReplicasErr == nil && failureCond != nil", replica_failure_rs, 1, None, ()),
    (
        "manageReplicasErr != nil && failureCond != nil",
        replica_failure_rs,
        1,
        FAKE_ERROR,
        (Condition(REPLICA_FAILURE, "True"),),
    ),
    ("manageReplicasErr == nil && failureCond == nil", rs2, 1, None, ()),
]


@pytest.mark.parametrize(
    ("rs", "active_count", "error", "expected"),
    [case[1:] for case in CALCULATE_STATUS_CONDITIONS_TESTS],
    ids=[case[0] for case in CALCULATE_STATUS_CONDITIONS_TESTS],
)
def test_calculate_status_conditions(
    rs: ReplicaSetView,
    active_count: int,
    error: ManageError | None,
    expected: tuple[Condition, ...],
) -> None:
    active = [_new_pod(f"pod{i}", rs, "Running") for i in range(1, active_count + 1)]
    assert calculate_status(rs, active, error, NOW).conditions == expected


image_pull_back_off = "ImagePullBackOff"
cond_image_pull_back_off = Condition(image_pull_back_off, "True", "NonExistentImage")
cond_replica_failure = Condition(REPLICA_FAILURE, "True", "OtherFailure")
cond_replica_failure_2 = Condition(REPLICA_FAILURE, "True", "AnotherFailure")
example_status = ReplicaSetStatus(conditions=(cond_replica_failure,))


@pytest.mark.parametrize(
    ("condition_type", "expected"),
    [
        pytest.param(REPLICA_FAILURE, True, id="condition exists"),
        pytest.param(image_pull_back_off, False, id="condition does not exist"),
    ],
)
def test_get_condition(condition_type: str, expected: bool) -> None:
    assert (get_condition(example_status, condition_type) is not None) is expected


@pytest.mark.parametrize(
    ("conditions", "condition", "expected"),
    [
        pytest.param((), cond_replica_failure, (cond_replica_failure,), id="set for the first time"),
        pytest.param(
            (cond_image_pull_back_off,),
            cond_replica_failure,
            (cond_image_pull_back_off, cond_replica_failure),
            id="simple set",
        ),
        pytest.param((cond_replica_failure,), cond_replica_failure_2, (cond_replica_failure_2,), id="overwrite"),
    ],
)
def test_set_condition(
    conditions: tuple[Condition, ...],
    condition: Condition,
    expected: tuple[Condition, ...],
) -> None:
    assert set_condition(ReplicaSetStatus(conditions=conditions), condition).conditions == expected


def test_set_condition_same_status_and_reason_is_a_no_op() -> None:
    # RS-23: a new message or time does not replace a condition with the same status and reason.
    newer = dataclasses.replace(cond_replica_failure, message="again", last_transition_time=NOW)
    assert set_condition(example_status, newer) is example_status


@pytest.mark.parametrize(
    ("status", "condition_type", "expected"),
    [
        pytest.param(ReplicaSetStatus(), REPLICA_FAILURE, ReplicaSetStatus(), id="remove from empty status"),
        pytest.param(example_status, REPLICA_FAILURE, ReplicaSetStatus(), id="simple remove"),
        pytest.param(example_status, image_pull_back_off, example_status, id="doesn't remove anything"),
    ],
)
def test_remove_condition(status: ReplicaSetStatus, condition_type: str, expected: ReplicaSetStatus) -> None:
    assert remove_condition(status, condition_type) == expected


def test_needs_status_update() -> None:
    # RS-24: nothing changed and the generation was already observed: skip the write.
    rs = _new_replica_set(1, TEMPLATE_LABELS)
    pods = [_new_pod("pod1", rs, "Running")]
    steady = dataclasses.replace(rs, status=calculate_status(rs, pods, None, NOW))
    assert not needs_status_update(steady, calculate_status(steady, pods, None, NOW))
    # A new generation must be observed even when the counts are the same.
    bumped = dataclasses.replace(steady, generation=2)
    assert needs_status_update(bumped, calculate_status(bumped, pods, None, NOW))
    # A counter change, or a new condition, is written.
    assert needs_status_update(steady, calculate_status(steady, [], None, NOW))
    assert needs_status_update(steady, calculate_status(steady, pods, ManageError("delete", "boom"), NOW))
    # A status that never reported terminatingReplicas gets it written once.
    legacy = dataclasses.replace(steady, status=dataclasses.replace(steady.status, terminating_replicas=None))
    assert needs_status_update(legacy, calculate_status(legacy, pods, None, NOW))


def test_status_round_trips_through_dict() -> None:
    rs = _new_replica_set(2, TEMPLATE_LABELS)
    status = calculate_status(rs, [_new_pod("pod1", rs, "Running")], ManageError("create", "quota"), NOW)
    assert ReplicaSetStatus.from_dict(status.to_dict()) == status
    assert status.to_dict()["conditions"] == [
        {
            "type": "ReplicaFailure",
            "status": "True",
            "lastTransitionTime": "2026-03-01T12:00:00Z",
            "reason": "FailedCreate",
            "message": "quota",
        }
    ]
