"""The Service a MiniService owns (owned.py): what it should be, and whether it still is (SV-01..SV-03).

No upstream test covers this (the built-in Service has no owner); the cases follow the contract: the owned
Service is the MiniService's spec without its selector, applied by server-side apply, and it is up to date
when the last applied configuration is this one and the Service still shows every field it sets, whatever
the API server allocated or defaulted beside them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest

from operators.controllers.service.model import API_VERSION, KIND, MiniServiceView, ServiceView
from operators.controllers.service.owned import (
    APPLIED_HASH_ANNOTATION,
    desired_service,
    foreign_message,
    is_owned_by,
    up_to_date,
)
from tests.unit.service.builders import mini_service

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def as_stored(desired: Mapping[str, Any], **spec_changes: Any) -> ServiceView:
    """The Service as the API server returns it after applying `desired`: a ClusterIP, the IP family and its
    policy, defaulted protocols, targetPorts and sessionAffinity, a NodePort on each port of a NodePort or
    LoadBalancer Service, a resourceVersion; then `spec_changes` (someone's edit, a None value removes)."""
    body = copy.deepcopy(dict(desired))
    spec = body["spec"]
    headless = spec.get("clusterIP") == "None"
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("clusterIP", "None" if headless else "10.96.0.20")
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    for i, port in enumerate(spec.get("ports") or ()):
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port["port"])
        if spec["type"] in ("NodePort", "LoadBalancer"):
            port.setdefault("nodePort", 30080 + i)
    for key, value in spec_changes.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    body["metadata"] = {**body["metadata"], "uid": "svc-uid", "resourceVersion": "7"}
    return ServiceView.from_dict(body)


# --- desired_service (SV-01) ---------------------------------------------------------------------------------------


def test_desired_service_drops_selector() -> None:
    """SV-01: the owned Service has the MiniService's spec but no selector, so that the built-in EndpointSlice
    controller leaves it alone (ES-01) and the slices are ours."""
    mini = mini_service(
        spec={"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}], "type": "NodePort"}
    )

    desired = desired_service(mini)

    assert desired["apiVersion"] == "v1"
    assert desired["kind"] == "Service"
    assert desired["spec"] == {"ports": [{"port": 80, "targetPort": 8080}], "type": "NodePort"}
    assert (desired["metadata"]["name"], desired["metadata"]["namespace"]) == (mini.name, mini.namespace)


def test_desired_service_owner_reference() -> None:
    """SV-01: the MiniService is the Service's controller (garbage collection removes it with the MiniService)."""
    [owner] = desired_service(mini_service())["metadata"]["ownerReferences"]

    assert owner == {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": "web",
        "uid": "web-uid",
        "controller": True,
        "blockOwnerDeletion": True,
    }


@pytest.mark.parametrize(
    ("spec", "expected_policy"),
    [
        pytest.param({"clusterIP": "None", "ports": [{"port": 80}]}, "SingleStack", id="headless without a policy"),
        pytest.param(
            {"clusterIP": "None", "ipFamilyPolicy": "PreferDualStack"}, "PreferDualStack", id="headless, policy chosen"
        ),
        pytest.param({"ports": [{"port": 80}]}, None, id="ClusterIP: left to the API server"),
    ],
)
def test_desired_service_headless_single_stack(spec: Mapping[str, Any], expected_policy: str | None) -> None:
    """SV-02: a selector-less headless Service would default to RequireDualStack; the controller asks for
    SingleStack unless the user chose, so that it comes out as a headless Service with a selector would."""
    desired = desired_service(mini_service(spec={"selector": {"app": "web"}, **spec}))

    assert desired["spec"].get("ipFamilyPolicy") == expected_policy


def test_desired_service_labels_and_annotations() -> None:
    """SV-01: labels and annotations are copied, except kubectl's last-applied-configuration and Kopf's own
    annotations, which are about the MiniService; the hash of the configuration is added."""
    mini = mini_service(
        labels={"team": "a"},
        annotations={LAST_APPLIED: "{...}", "kopf.zalando.org/last-handled-configuration": "{}", "note": "kept"},
    )

    metadata = desired_service(mini)["metadata"]

    assert metadata["labels"] == {"team": "a"}
    assert set(metadata["annotations"]) == {"note", APPLIED_HASH_ANNOTATION}
    assert metadata["annotations"]["note"] == "kept"


def test_desired_service_hash() -> None:
    """SV-03: the hash is a function of the configuration: the same for the same spec, different when a field
    is removed (an apply would remove it, so the Service is no longer up to date)."""
    with_ips = mini_service(spec={"selector": {"app": "web"}, "ports": [{"port": 80}], "externalIPs": ["1.2.3.4"]})
    without = mini_service(spec={"selector": {"app": "web"}, "ports": [{"port": 80}]})
    other_selector = mini_service(spec={"selector": {"app": "other"}, "ports": [{"port": 80}]})

    def hash_of(mini: MiniServiceView) -> str:
        return str(desired_service(mini)["metadata"]["annotations"][APPLIED_HASH_ANNOTATION])

    assert hash_of(with_ips) == hash_of(with_ips)
    assert hash_of(with_ips) != hash_of(without)
    assert hash_of(without) == hash_of(other_selector)  # the selector is not part of the Service


# --- up_to_date (SV-03) --------------------------------------------------------------------------------------------

NODE_PORT_SPEC = {"selector": {"app": "web"}, "type": "NodePort", "ports": [{"name": "http", "port": 80}]}


def test_up_to_date_after_apply() -> None:
    """SV-03: what the API server allocated or defaulted (clusterIP, nodePort, protocol, targetPort, families,
    policies) is not compared: right after an apply the Service is up to date."""
    desired = desired_service(mini_service(spec=NODE_PORT_SPEC, labels={"team": "a"}))

    assert up_to_date(desired, as_stored(desired)) is True


def test_up_to_date_allocated_node_port_ignored() -> None:
    """SV-03: a nodePort the API server chose (the spec names none) is not a difference, whatever it is."""
    desired = desired_service(mini_service(spec=NODE_PORT_SPEC))
    stored = as_stored(
        desired, ports=[{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 31999}]
    )

    assert up_to_date(desired, stored) is True


def test_up_to_date_requested_node_port_compared() -> None:
    """SV-03: a nodePort the spec asks for is compared like any field it sets."""
    spec = {**NODE_PORT_SPEC, "ports": [{"name": "http", "port": 80, "nodePort": 30123}]}
    desired = desired_service(mini_service(spec=spec))
    moved = as_stored(desired, ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30124}])

    assert up_to_date(desired, as_stored(desired)) is True
    assert up_to_date(desired, moved) is False


def test_up_to_date_foreign_selector() -> None:
    """SV-01: someone gave the Service a selector: the built-in controller would write slices for it too, so
    the Service is re-applied (the apply removes the field)."""
    desired = desired_service(mini_service(spec=NODE_PORT_SPEC))

    assert up_to_date(desired, as_stored(desired, selector={"app": "web"})) is False


def test_up_to_date_removed_field() -> None:
    """SV-03: the MiniService dropped a field: the Service still has it and the old hash, so an apply is due."""
    old = desired_service(mini_service(spec={**NODE_PORT_SPEC, "externalIPs": ["1.2.3.4"]}))
    new = desired_service(mini_service(spec=NODE_PORT_SPEC))

    assert up_to_date(new, as_stored(old)) is False


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param({"type": "ClusterIP"}, id="type changed"),
        pytest.param({"ports": [{"name": "http", "port": 81, "protocol": "TCP"}]}, id="port changed"),
        pytest.param({"ports": []}, id="ports removed"),
        pytest.param(
            {"ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "x", "port": 9, "protocol": "TCP"}]},
            id="port added",
        ),
    ],
)
def test_up_to_date_edited_service(edit: Mapping[str, Any]) -> None:
    """SV-03: someone edited a field the MiniService sets: the apply puts it back."""
    desired = desired_service(mini_service(spec=NODE_PORT_SPEC))

    assert up_to_date(desired, as_stored(desired, **edit)) is False


def test_up_to_date_metadata() -> None:
    """SV-03: a label or annotation the MiniService sets must be there with its value; others may be added."""
    desired = desired_service(mini_service(spec=NODE_PORT_SPEC, labels={"team": "a"}, annotations={"note": "x"}))
    stored = as_stored(desired)

    def with_metadata(labels: Mapping[str, str], annotations: Mapping[str, str]) -> ServiceView:
        return ServiceView.from_dict(
            {
                "metadata": {
                    "name": stored.name,
                    "namespace": stored.namespace,
                    "labels": labels,
                    "annotations": annotations,
                },
                "spec": dict(stored.spec.raw),
            }
        )

    assert up_to_date(desired, with_metadata({**stored.labels, "extra": "1"}, stored.annotations)) is True
    assert up_to_date(desired, with_metadata({"team": "b"}, stored.annotations)) is False
    assert up_to_date(desired, with_metadata(stored.labels, {**stored.annotations, "note": "y"})) is False
    assert up_to_date(desired, with_metadata(stored.labels, {})) is False  # no hash: never applied by us


def test_up_to_date_zero_values_left_out_by_the_api_server() -> None:
    """SV-03: `publishNotReadyAddresses: false`, `externalIPs: []` and the like are not stored (omitempty):
    a Service without them still matches, or every sync would apply it again."""
    spec = {**NODE_PORT_SPEC, "publishNotReadyAddresses": False, "externalIPs": []}
    desired = desired_service(mini_service(spec=spec))

    stored = as_stored(desired, publishNotReadyAddresses=None, externalIPs=None)

    assert up_to_date(desired, stored) is True
    assert up_to_date(desired, as_stored(desired, publishNotReadyAddresses=True)) is False


# --- is_owned_by / foreign_message (SV-01) -------------------------------------------------------------------------


def _service_owned_by(refs: list[dict[str, Any]]) -> ServiceView:
    return ServiceView.from_dict({"metadata": {"name": "web", "namespace": "test", "ownerReferences": refs}})


def _ref(uid: str = "web-uid", *, kind: str = KIND, controller: bool = True) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "name": "web", "uid": uid, "controller": controller}


@pytest.mark.parametrize(
    ("refs", "expected"),
    [
        pytest.param([_ref()], True, id="controlled by this MiniService"),
        pytest.param([_ref("old-uid")], False, id="controlled by a deleted namesake"),
        pytest.param([_ref(controller=False)], False, id="owned but not controlled"),
        pytest.param([_ref(kind="Deployment")], False, id="controlled by another kind"),
        pytest.param([], False, id="no owner"),
    ],
)
def test_is_owned_by(refs: list[dict[str, Any]], expected: bool) -> None:
    """SV-01: a Service is ours only if its controller is this MiniService, by UID; never taken over."""
    assert is_owned_by(_service_owned_by(refs), mini_service()) is expected


def test_foreign_message() -> None:
    """SV-01: the reason reported when the name is taken, naming the holder when there is one."""
    mini = mini_service()

    assert foreign_message(_service_owned_by([_ref(kind="Deployment")]), mini) == (
        "Service 'web' already exists and is controlled by Deployment 'web': the MiniService will not take it over"
    )
    assert "is not controlled by this MiniService" in foreign_message(_service_owned_by([]), mini)
