"""`kubectl mini rollout`'s pure parts, mirroring kubectl's polymorphichelpers tests (rollout_status_test.go,
history_test.go, rollback_test.go) and the argument conventions of pkg/cmd/rollout."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from operators.cli.errors import CliError
from operators.cli.rollout.command import parse_duration, parse_target
from operators.cli.rollout.history import (
    controlled_by,
    describe_template,
    history_table,
    revision_for_undo,
    undo_patch,
)
from operators.cli.rollout.status import rollout_status


def deployment(generation: int, spec_replicas: int | None, /, **status: int) -> dict[str, Any]:
    spec = {} if spec_replicas is None else {"replicas": spec_replicas}
    return {"metadata": {"name": "foo", "generation": generation}, "spec": spec, "status": status}


# TestDeploymentStatusViewerStatus: the upstream table, with the kind named as ours.
STATUS_CASES = {
    "updated < replicas": (
        deployment(0, 1, observedGeneration=1, replicas=1, updatedReplicas=0, availableReplicas=1),
        'Waiting for minideployment "foo" rollout to finish: 0 out of 1 new replicas have been updated...',
        False,
    ),
    "old replicas pending termination": (
        deployment(1, 1, observedGeneration=1, replicas=2, updatedReplicas=1, availableReplicas=2),
        'Waiting for minideployment "foo" rollout to finish: 1 old replicas are pending termination...',
        False,
    ),
    "updated replicas not yet available": (
        deployment(1, 2, observedGeneration=1, replicas=2, updatedReplicas=2, availableReplicas=1),
        'Waiting for minideployment "foo" rollout to finish: 1 of 2 updated replicas are available...',
        False,
    ),
    "rolled out": (
        deployment(1, 2, observedGeneration=1, replicas=2, updatedReplicas=2, availableReplicas=2),
        'minideployment "foo" successfully rolled out',
        True,
    ),
    "spec update not observed": (
        deployment(2, 2, observedGeneration=1, replicas=2, updatedReplicas=2, availableReplicas=2),
        "Waiting for deployment spec update to be observed...",
        False,
    ),
    "no spec.replicas": (
        deployment(1, None, observedGeneration=1, replicas=1, updatedReplicas=1, availableReplicas=1),
        'minideployment "foo" successfully rolled out',
        True,
    ),
}


@pytest.mark.parametrize(("body", "message", "done"), STATUS_CASES.values(), ids=STATUS_CASES.keys())
def test_deployment_status_viewer_status(body: dict[str, Any], message: str, done: bool) -> None:
    assert rollout_status(body) == (message, done)


def test_status_past_the_progress_deadline_is_an_error() -> None:
    body = deployment(1, 2, observedGeneration=1, replicas=2, updatedReplicas=1)
    body["status"]["conditions"] = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]
    with pytest.raises(CliError, match='minideployment "foo" exceeded its progress deadline'):
        rollout_status(body)


def test_status_of_another_revision_is_an_error() -> None:
    body = deployment(1, 1, observedGeneration=1, replicas=1, updatedReplicas=1, availableReplicas=1)
    body["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "3"}
    assert rollout_status(body, revision=3)[1] is True
    with pytest.raises(CliError, match=r"desired revision \(2\) is different from the running revision \(3\)"):
        rollout_status(body, revision=2)


def rs(name: str, revision: str | None, *, image: str = "a", cause: str = "", owner: str = "uid-d") -> dict[str, Any]:
    annotations = {"deployment.kubernetes.io/desired-replicas": "3"}
    if revision is not None:
        annotations["deployment.kubernetes.io/revision"] = revision
    if cause:
        annotations["kubernetes.io/change-cause"] = cause
    return {
        "metadata": {
            "name": name,
            "annotations": annotations,
            "ownerReferences": [{"uid": owner, "controller": True}],
        },
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "web", "pod-template-hash": name}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            }
        },
    }


def test_history_table_sorted_by_revision_with_none_for_no_cause() -> None:
    table = history_table([rs("b", "2", cause="image b"), rs("a", "1"), rs("x", "junk"), rs("c", "10", cause="c")])
    assert table.splitlines() == ["REVISION  CHANGE-CAUSE", "1         <none>", "2         image b", "10        c"]
    assert history_table([rs("x", None)]) == "No rollout history found."


def test_controlled_by_keeps_only_the_deployments_replica_sets() -> None:
    owned, foreign = rs("a", "1"), rs("b", "2", owner="uid-other")
    assert controlled_by({"metadata": {"uid": "uid-d"}}, [owned, foreign]) == [owned]


def test_describe_template_shows_labels_cause_and_containers() -> None:
    text = describe_template(rs("a", "1")["spec"]["template"], "image a")
    assert text.splitlines()[:4] == [
        "Pod Template:",
        "  Labels:\tapp=web",
        "\tpod-template-hash=a",
        "  Annotations:\tkubernetes.io/change-cause=image a",
    ]
    assert "    Image:\ta" in text.splitlines()


# DeploymentRollbacker / deploymentRevision.
def test_undo_to_zero_picks_the_previous_revision() -> None:
    sets = [rs("a", "1"), rs("c", "3"), rs("b", "2")]
    assert revision_for_undo("foo", sets, 0)["metadata"]["name"] == "b"
    assert revision_for_undo("foo", sets, 1)["metadata"]["name"] == "a"


@pytest.mark.parametrize(
    ("sets", "to_revision", "message"),
    [
        ([rs("a", "1")], 5, "unable to find specified revision 5 in history"),
        ([rs("a", "1")], -1, "unable to find specified revision -1 in history"),
        ([rs("a", "1")], 0, 'no rollout history found for minideployment "foo"'),
    ],
)
def test_undo_revision_not_found(sets: list[dict[str, Any]], to_revision: int, message: str) -> None:
    with pytest.raises(CliError, match=message):
        revision_for_undo("foo", sets, to_revision)


def test_undo_patch_restores_template_without_hash_and_the_revisions_annotations() -> None:
    current = {
        "metadata": {
            "annotations": {"deployment.kubernetes.io/revision": "2", "kubernetes.io/change-cause": "image b"},
        },
        "spec": {"template": rs("b", "2", image="b")["spec"]["template"]},
    }
    target = rs("a", "1", image="a", cause="image a")
    patch = undo_patch(current, target)
    assert patch is not None
    template, annotations = patch[0]["value"], patch[1]["value"]
    assert [op["path"] for op in patch] == ["/spec/template", "/metadata/annotations"]
    assert template["metadata"]["labels"] == {"app": "web"}
    assert template["spec"]["containers"][0]["image"] == "a"
    # the Deployment keeps its own revision; the RS's change-cause comes back; the RS's replica bookkeeping doesn't
    assert annotations == {"deployment.kubernetes.io/revision": "2", "kubernetes.io/change-cause": "image a"}


def test_undo_to_the_current_template_is_skipped() -> None:
    current = {
        "metadata": {},
        "spec": {"template": {**rs("x", "2")["spec"]["template"], "metadata": {"labels": {"app": "web"}}}},
    }
    assert undo_patch(current, rs("a", "1")) is None


@pytest.mark.parametrize(
    ("words", "name"),
    [
        (["md/web"], "web"),
        (["md", "web"], "web"),
        (["minideployment/web"], "web"),
        (["minideployments", "web"], "web"),
        (["minideployment.minik8s.dev/web"], "web"),
    ],
)
def test_parse_target(words: list[str], name: str) -> None:
    assert parse_target(words) == name


@pytest.mark.parametrize(
    ("words", "message"),
    [(["deployment/web"], "built-in kind"), (["pods/web"], 'resource type "pods"'), (["web"], "type of resource")],
)
def test_parse_target_refuses(words: list[str], message: str) -> None:
    with pytest.raises(CliError, match=message):
        parse_target(words)


@pytest.mark.parametrize(("text", "seconds"), [("0", 0), ("30s", 30), ("5m", 300), ("1h30m", 5400), ("500ms", 0.5)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_parse_duration_refuses_garbage() -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration("5 minutes")
