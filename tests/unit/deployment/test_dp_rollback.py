"""pkg/controller/deployment/rollback.go's behaviour: there is no rollback_test.go upstream, so this ports
deployment_controller_test.go's TestReentrantRollback and checks each documented branch of rollback,
rollbackToTemplate, getRollbackTo and SetDeploymentAnnotationsTo (deployment_util.go).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from operators.controllers.deployment.model import DeploymentView
from operators.controllers.deployment.rollback import (
    ROLLBACK_DONE,
    ROLLBACK_REVISION_NOT_FOUND,
    ROLLBACK_TEMPLATE_UNCHANGED,
    Rollback,
    get_rollback_to,
    rollback,
    set_deployment_annotations_to,
    template_from_replica_set,
)
from operators.controllers.deployment.sync import plan_new_replica_set
from operators.controllers.deployment.util import (
    DEPRECATED_ROLLBACK_TO,
    DESIRED_REPLICAS_ANNOTATION,
    LAST_APPLIED_CONFIG_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
)
from operators.controllers.replicaset.model import ReplicaSetView
from tests.unit.deployment.builders import new_deployment, new_replica_set, utc

NOW = utc(2026, 3, 1, 12, 0, 0)
CHANGE_CAUSE = "kubernetes.io/change-cause"


def _with_hash(template: Mapping[str, Any], value: str, **spec: Any) -> dict[str, Any]:
    labels = {**template["metadata"]["labels"], "pod-template-hash": value}
    return {"metadata": {"labels": labels}, "spec": {**template["spec"], **spec}}


# --- TestReentrantRollback ----------------------------------------------------------------------------------------


def test_reentrant_rollback() -> None:
    """A rollback to revision 0 (the previous one) of a Deployment whose new RS is up to date: the sync's
    getAllReplicaSetsAndSyncRevision writes no ReplicaSet, and the rollback is one update of the Deployment."""
    d = new_deployment(
        "foo", 1, selector={"foo": "bar"}, annotations={REVISION_ANNOTATION: "2", DEPRECATED_ROLLBACK_TO: "0"}
    )
    rs1 = new_replica_set(
        d,
        "deploymentrs-old",
        0,
        annotations={REVISION_ANNOTATION: "1"},
        template=_with_hash(d.template, "hash", terminationGracePeriodSeconds=1),
    )
    rs2 = new_replica_set(
        d, "deploymentrs-new", 1, annotations={REVISION_ANNOTATION: "2"}, template=_with_hash(d.template, "hash")
    )
    assert get_rollback_to(d) == 0

    plan = plan_new_replica_set(d, [rs1, rs2], True, NOW)
    assert (plan.new_rs, plan.old_rss, plan.write, plan.revision) == (rs2, [rs1], None, "2")  # no RS update
    assert plan.new_rs is not None

    done = rollback(d, [*plan.old_rss, plan.new_rs], 0)
    assert done == Rollback(
        annotations={REVISION_ANNOTATION: "2"},
        template={
            "metadata": {"labels": {"foo": "bar"}},
            "spec": {**d.template["spec"], "terminationGracePeriodSeconds": 1},
        },
        event_type="Normal",
        event_reason=ROLLBACK_DONE,
        event_message='Rolled back deployment "foo" to revision 1',
        revision=1,
    )


# --- rollback / rollbackToTemplate --------------------------------------------------------------------------------

D = new_deployment(
    "foo",
    3,
    selector={"foo": "bar"},
    annotations={
        REVISION_ANNOTATION: "3",
        CHANGE_CAUSE: "edit v3",
        LAST_APPLIED_CONFIG_ANNOTATION: "{}",
        DEPRECATED_ROLLBACK_TO: "1",
        "team": "web",
    },
)


def _revision(name: str, revision: str, image: str, **annotations: str) -> ReplicaSetView:
    template = _with_hash({**D.template, "spec": {"containers": [{"image": image}]}}, name)
    return new_replica_set(D, name, 0, template=template, annotations={REVISION_ANNOTATION: revision, **annotations})


V1 = _revision(
    "foo-1",
    "1",
    "v1",
    **{CHANGE_CAUSE: "create v1", REVISION_HISTORY_ANNOTATION: "0", DESIRED_REPLICAS_ANNOTATION: "3", "owner": "x"},
)
V2 = _revision("foo-2", "2", "v2", **{CHANGE_CAUSE: "edit v2"})
V3 = new_replica_set(D, "foo-3", 3, template=_with_hash(D.template, "foo-3"), annotations={REVISION_ANNOTATION: "3"})
MALFORMED = _revision("foo-x", "x", "vx")
CLEARED = {k: v for k, v in D.annotations.items() if k != DEPRECATED_ROLLBACK_TO}


def _rolled_back_to(rs_: ReplicaSetView, annotations: dict[str, str]) -> Rollback:
    return Rollback(
        annotations=annotations,
        template=template_from_replica_set(rs_.template),
        event_type="Normal",
        event_reason=ROLLBACK_DONE,
        event_message=f'Rolled back deployment "foo" to revision {rs_.annotations[REVISION_ANNOTATION]}',
        revision=int(rs_.annotations[REVISION_ANNOTATION]),
    )


ROLLBACK_TESTS = [
    pytest.param(
        [V1, V2, V3],
        1,
        _rolled_back_to(
            V1,
            # The Deployment keeps its own bookkeeping (revision, last-applied) and takes the rest from the RS, so
            # the change-cause of revision 1 comes back with it; desired-replicas and revision-history never move.
            {REVISION_ANNOTATION: "3", LAST_APPLIED_CONFIG_ANNOTATION: "{}", CHANGE_CAUSE: "create v1", "owner": "x"},
        ),
        id="to a revision: its template, and its annotations copied back",
    ),
    pytest.param(
        [V1, V2, V3],
        0,
        _rolled_back_to(V2, {REVISION_ANNOTATION: "3", LAST_APPLIED_CONFIG_ANNOTATION: "{}", CHANGE_CAUSE: "edit v2"}),
        id="to revision 0: LastRevision, the previous one",
    ),
    pytest.param(
        [MALFORMED, V2, V3],
        2,
        _rolled_back_to(V2, {REVISION_ANNOTATION: "3", LAST_APPLIED_CONFIG_ANNOTATION: "{}", CHANGE_CAUSE: "edit v2"}),
        id="a malformed revision is skipped",
    ),
    pytest.param(
        [V1, V2, V3],
        3,
        Rollback(
            CLEARED,
            None,
            "Warning",
            ROLLBACK_TEMPLATE_UNCHANGED,
            'The rollback revision contains the same template as current deployment "foo"',
            3,
        ),
        id="template unchanged: only the annotation is cleared",
    ),
    pytest.param(
        [V1, V2, V3],
        7,
        Rollback(
            CLEARED, None, "Warning", ROLLBACK_REVISION_NOT_FOUND, "Unable to find the revision to rollback to.", 7
        ),
        id="revision not found",
    ),
    pytest.param(
        [V3],
        0,
        Rollback(CLEARED, None, "Warning", ROLLBACK_REVISION_NOT_FOUND, "Unable to find last revision."),
        id="no last revision",
    ),
]


@pytest.mark.parametrize(("all_rss", "to_revision", "expected"), ROLLBACK_TESTS)
def test_rollback(all_rss: list[ReplicaSetView], to_revision: int, expected: Rollback) -> None:
    assert rollback(D, all_rss, to_revision) == expected


def test_rollback_template_drops_only_the_hash_label() -> None:
    """SetFromReplicaSetTemplate: the RS template, metadata and spec, without pod-template-hash."""
    template: dict[str, Any] = {
        "metadata": {"labels": {"foo": "bar", "pod-template-hash": "h"}, "annotations": {"a": "b"}},
        "spec": {"containers": [{"image": "v1"}]},
    }
    assert template_from_replica_set(template) == {
        "metadata": {"labels": {"foo": "bar"}, "annotations": {"a": "b"}},
        "spec": {"containers": [{"image": "v1"}]},
    }
    assert template["metadata"]["labels"] == {"foo": "bar", "pod-template-hash": "h"}, "the RS's is not modified"


def test_set_deployment_annotations_to() -> None:
    """SetDeploymentAnnotationsTo: the Deployment's skipped annotations, then every non-skipped one of the RS.
    Deployment annotations the RS lacks are dropped (annotations removed since that revision go with it)."""
    deployment = {REVISION_ANNOTATION: "5", MAX_REPLICAS_ANNOTATION: "4", CHANGE_CAUSE: "now", "gone": "yes"}
    replica_set = dataclasses.replace(
        V1, annotations={REVISION_ANNOTATION: "1", MAX_REPLICAS_ANNOTATION: "9", CHANGE_CAUSE: "then", "kept": "z"}
    )
    assert set_deployment_annotations_to(deployment, replica_set) == {
        REVISION_ANNOTATION: "5",
        MAX_REPLICAS_ANNOTATION: "4",
        CHANGE_CAUSE: "then",
        "kept": "z",
    }


# --- getRollbackTo ------------------------------------------------------------------------------------------------

GET_ROLLBACK_TO_TESTS = [
    pytest.param(None, None, id="no annotation"),
    pytest.param("", None, id="empty"),
    pytest.param("0", 0, id="0: the previous revision"),
    pytest.param("3", 3, id="a revision"),
    pytest.param("+3", 3, id="ParseInt accepts a sign"),
    pytest.param("-1", -1, id="negative (then not found)"),
    pytest.param("abc", None, id="invalid: ignored"),
    pytest.param(" 3", None, id="invalid for ParseInt: leading space"),
    pytest.param("1_0", None, id="invalid for ParseInt: underscore"),
    pytest.param("\uff13", None, id="invalid for ParseInt: non-ASCII digit"),
    pytest.param("9223372036854775808", None, id="invalid for ParseInt: beyond int64"),
]


@pytest.mark.parametrize(("value", "expected"), GET_ROLLBACK_TO_TESTS)
def test_get_rollback_to(value: str | None, expected: int | None) -> None:
    """getRollbackTo: strconv.ParseInt(revision, 10, 64) of the annotation; any error means no rollback."""
    annotations = {} if value is None else {DEPRECATED_ROLLBACK_TO: value}
    d: DeploymentView = dataclasses.replace(D, annotations=annotations)
    assert get_rollback_to(d) == expected
