"""Pod.from_dict and the other frozen views of operators.kube.objects."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest

from operators.kube.objects import DELETION_COST_ANNOTATION, ContainerPort, OwnerReference, Pod, parse_time

UTC = datetime.UTC

RS_OWNER = {
    "apiVersion": "minik8s.dev/v1",
    "kind": "MiniReplicaSet",
    "name": "web",
    "uid": "rs-uid",
    "controller": True,
    "blockOwnerDeletion": True,
}


def full_pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "namespace": "ns",
            "name": "web-abcde",
            "uid": "pod-uid",
            "resourceVersion": "42",
            "labels": {"app": "web"},
            "annotations": {DELETION_COST_ANNOTATION: "10"},
            "creationTimestamp": "2026-01-02T03:04:05Z",
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "cm-uid"},
                RS_OWNER,
            ],
        },
        "spec": {
            "nodeName": "node-1",
            "hostname": "h",
            "subdomain": "sub",
            "initContainers": [
                {"name": "setup"},
                {"name": "proxy", "restartPolicy": "Always"},
            ],
            "containers": [
                {
                    "name": "app",
                    "ports": [{"containerPort": 8080, "name": "http"}, {"containerPort": 53, "protocol": "UDP"}],
                },
                {"name": "metrics", "ports": [{"containerPort": 9090, "protocol": "TCP", "name": "metrics"}]},
                {"name": "noports"},
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.1",
            "podIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}],
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-01-02T03:04:06Z"},
                {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-02T03:05:00Z"},
            ],
            "containerStatuses": [
                {"name": "app", "restartCount": 2},
                {"name": "metrics", "restartCount": 7},
                {"name": "noports", "restartCount": 0},
            ],
            "initContainerStatuses": [
                {"name": "setup", "restartCount": 9},  # not a sidecar: ignored
                {"name": "proxy", "restartCount": 3},
            ],
        },
    }


def with_annotations(**annotations: str) -> Pod:
    return Pod.from_dict({"metadata": {"name": "p", "namespace": "ns", "uid": "u", "annotations": annotations}})


def test_pod_from_dict_full() -> None:
    pod = Pod.from_dict(full_pod())
    assert (pod.namespace, pod.name, pod.uid, pod.resource_version) == ("ns", "web-abcde", "pod-uid", "42")
    assert pod.key == "ns/web-abcde"
    assert pod.labels == {"app": "web"}
    assert pod.creation_timestamp == datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert pod.deletion_timestamp is None
    assert (pod.node_name, pod.phase, pod.hostname, pod.subdomain) == ("node-1", "Running", "h", "sub")
    assert pod.ready
    assert pod.ready_since == datetime.datetime(2026, 1, 2, 3, 5, tzinfo=UTC)
    assert pod.restart_count == 7
    assert pod.sidecar_restart_count == 3
    assert pod.pod_ips == ("10.0.0.1", "fd00::1")
    assert pod.ports == (
        ContainerPort(8080, "TCP", "http"),
        ContainerPort(53, "UDP", ""),
        ContainerPort(9090, "TCP", "metrics"),
    )
    assert pod.deletion_cost == 10


def test_pod_from_empty_dict() -> None:
    pod = Pod.from_dict({})
    assert pod == Pod(namespace="", name="", uid="")
    assert not pod.ready
    assert pod.ready_since is None
    assert pod.restart_count == 0
    assert pod.pod_ips == ()
    assert pod.ports == ()
    assert pod.controller_ref is None
    assert pod.deletion_cost == 0


def test_pod_from_dict_with_nulls() -> None:
    """Fields the API server (or a Kopf body) may send as null."""
    body = {
        "metadata": {"name": "p", "labels": None, "annotations": None, "ownerReferences": None},
        "spec": {"containers": None, "nodeName": None},
        "status": {"conditions": None, "containerStatuses": None, "podIPs": None, "phase": None},
    }
    pod = Pod.from_dict(body)
    assert (pod.labels, pod.annotations, pod.owner_references) == ({}, {}, ())
    assert (pod.node_name, pod.phase) == ("", "")


@pytest.mark.parametrize(
    ("conditions", "ready"),
    [
        ([{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-02T03:05:00Z"}], True),
        ([{"type": "Ready", "status": "False", "lastTransitionTime": "2026-01-02T03:05:00Z"}], False),
        ([{"type": "Ready", "status": "Unknown"}], False),
        ([{"type": "ContainersReady", "status": "True"}], False),
        ([], False),
    ],
)
def test_pod_ready(conditions: list[dict[str, str]], ready: bool) -> None:
    pod = Pod.from_dict({"status": {"conditions": conditions}})
    assert pod.ready is ready
    if ready:
        assert pod.ready_since == datetime.datetime(2026, 1, 2, 3, 5, tzinfo=UTC)
    else:
        assert pod.ready_since is None, "ready_since is only set for a ready pod"


def test_pod_ready_without_transition_time() -> None:
    pod = Pod.from_dict({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    assert pod.ready
    assert pod.ready_since is None


def test_restart_count_is_the_max_of_regular_containers() -> None:
    statuses = [{"name": "a", "restartCount": 1}, {"name": "b", "restartCount": 5}, {"name": "c"}]
    assert Pod.from_dict({"status": {"containerStatuses": statuses}}).restart_count == 5
    assert Pod.from_dict({"status": {"containerStatuses": []}}).restart_count == 0


def test_sidecar_restart_count_only_counts_restartable_init_containers() -> None:
    body = {
        "spec": {"initContainers": [{"name": "init"}, {"name": "side", "restartPolicy": "Always"}]},
        "status": {
            "containerStatuses": [{"name": "app", "restartCount": 1}],
            "initContainerStatuses": [{"name": "init", "restartCount": 4}, {"name": "side", "restartCount": 2}],
        },
    }
    pod = Pod.from_dict(body)
    assert (pod.restart_count, pod.sidecar_restart_count) == (1, 2)


@pytest.mark.parametrize(
    ("status", "pod_ips"),
    [
        ({"podIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}], "podIP": "10.0.0.1"}, ("10.0.0.1", "fd00::1")),
        ({"podIP": "10.0.0.2"}, ("10.0.0.2",)),
        ({"podIPs": [], "podIP": "10.0.0.3"}, ("10.0.0.3",)),
        ({"podIPs": [{"ip": ""}, {}], "podIP": "10.0.0.4"}, ("10.0.0.4",)),
        ({"podIPs": [{"ip": "10.0.0.5"}, {"ip": ""}]}, ("10.0.0.5",)),
        ({"podIP": ""}, ()),
        ({}, ()),
    ],
)
def test_pod_ips(status: dict[str, Any], pod_ips: tuple[str, ...]) -> None:
    assert Pod.from_dict({"status": status}).pod_ips == pod_ips


def test_ports_default_protocol_and_name() -> None:
    body = {"spec": {"containers": [{"ports": [{"containerPort": 80, "protocol": None, "name": None}]}]}}
    assert Pod.from_dict(body).ports == (ContainerPort(container_port=80, protocol="TCP", name=""),)


def test_controller_ref() -> None:
    pod = Pod.from_dict(full_pod())
    assert pod.controller_ref == OwnerReference("minik8s.dev/v1", "MiniReplicaSet", "web", "rs-uid", True, True)
    assert len(pod.owner_references) == 2

    not_controller = dict(RS_OWNER, controller=False)
    pod = Pod.from_dict({"metadata": {"ownerReferences": [not_controller]}})
    assert pod.owner_references[0].uid == "rs-uid"
    assert pod.controller_ref is None


def test_owner_reference_round_trip() -> None:
    ref = OwnerReference.from_dict(RS_OWNER)
    assert ref.to_dict() == RS_OWNER
    bare = OwnerReference.from_dict({"apiVersion": "v1", "kind": "Pod", "name": "n", "uid": "u"})
    assert (bare.controller, bare.block_owner_deletion) == (False, False)
    assert bare.to_dict()["controller"] is False


@pytest.mark.parametrize(
    ("raw", "cost"),
    [
        ("10", 10),
        ("0", 0),
        ("-7", -7),
        ("2147483647", 2**31 - 1),
        ("-2147483648", -(2**31)),
        ("2147483648", 0),  # out of int32 range
        ("-2147483649", 0),
        ("99999999999999999999", 0),
        ("abc", 0),
        ("", 0),
        ("1.5", 0),
        ("1e3", 0),
    ],
)
def test_deletion_cost(raw: str, cost: int) -> None:
    assert with_annotations(**{DELETION_COST_ANNOTATION: raw}).deletion_cost == cost


def test_deletion_cost_absent() -> None:
    assert with_annotations().deletion_cost == 0
    assert with_annotations(other="5").deletion_cost == 0


@pytest.mark.parametrize("raw", ["+10", "008", " 5", "5\n", "1_000"])
def test_deletion_cost_rejects_what_upstream_rejects(raw: str) -> None:
    assert with_annotations(**{DELETION_COST_ANNOTATION: raw}).deletion_cost == 0


def test_pod_view_is_frozen_and_does_not_share_input_dicts() -> None:
    body = full_pod()
    pod = Pod.from_dict(body)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pod.name = "other"  # type: ignore[misc]
    body["metadata"]["labels"]["app"] = "changed"
    body["metadata"]["annotations"].clear()
    assert pod.labels == {"app": "web"}
    assert pod.deletion_cost == 10


def test_deletion_timestamp() -> None:
    pod = Pod.from_dict({"metadata": {"deletionTimestamp": "2026-03-04T05:06:07Z"}})
    assert pod.deletion_timestamp == datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-02T03:04:05Z", datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T03:04:05.123456Z", datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
        ("2026-01-02T05:04:05+02:00", datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        (None, None),
        ("", None),
    ],
)
def test_parse_time(value: str | None, expected: datetime.datetime | None) -> None:
    assert parse_time(value) == expected
