"""The stamp and the comparison of owned objects kept equal by server-side apply (operators/kube/applied.py)."""

from __future__ import annotations

from typing import Any

from operators.kube.applied import APPLIED_HASH_ANNOTATION, contains, stamp, up_to_date


def desired(**spec: Any) -> dict[str, Any]:
    return stamp({"metadata": {"name": "web", "labels": {"app": "web"}}, "spec": spec})


def test_stamp_changes_with_the_configuration_and_not_with_an_old_stamp() -> None:
    first = desired(policyTypes=["Ingress"])
    assert APPLIED_HASH_ANNOTATION in first["metadata"]["annotations"]
    assert stamp(first) == first, "stamping twice gives the same stamp"
    assert desired(policyTypes=["Egress"])["metadata"]["annotations"] != first["metadata"]["annotations"]


def test_up_to_date_ignores_what_the_server_added_and_sees_edits_and_removals() -> None:
    wanted = desired(ingress=[{"ports": [{"port": 80}]}])
    observed = {
        "metadata": {"labels": {"app": "web", "extra": "x"}, "annotations": dict(wanted["metadata"]["annotations"])},
        "spec": {"ingress": [{"ports": [{"port": 80, "protocol": "TCP"}]}], "policyTypes": ["Ingress"]},
    }
    assert up_to_date(wanted, observed), "defaults and extra labels are the server's and others' own"
    edited = {**observed, "spec": {"ingress": [{"ports": [{"port": 81, "protocol": "TCP"}]}]}}
    assert not up_to_date(wanted, edited), "an edit of a field we set is undone"
    assert not up_to_date(desired(), observed), "a field removed from the configuration: the stamp differs"


def test_contains_zero_values_and_lists() -> None:
    assert contains({}, {"publishNotReadyAddresses": False}, omitempty=True)
    assert not contains({}, {"publishNotReadyAddresses": False})
    ports = [{"port": 443, "protocol": "TCP", "nodePort": 30443}, {"port": 80, "protocol": "TCP"}]
    assert contains(ports, [{"port": 80}, {"port": 443}]), "ports match by (port, protocol), in any order"
    assert not contains(ports, [{"port": 80}]), "a port too many is a difference"
    assert not contains([{"a": 1}, {"b": 2}], [{"b": 2}, {"a": 1}]), "other lists are ordered"
