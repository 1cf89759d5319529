"""The MiniNetworkPolicy status (operators/controllers/networkpolicy/status.py): NP-01, NP-02, NP-09 and the
Accepted condition's transitions and events."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from operators.controllers.networkpolicy.model import MiniNetworkPolicyView
from operators.controllers.networkpolicy.status import calculate_status, evaluate
from operators.kube.objects import ConditionState, Pod
from operators.networkpolicy.model import Rule

NOW = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC)
LATER = NOW + datetime.timedelta(minutes=5)


def policy(spec: dict[str, Any], *, status: dict[str, Any] | None = None, generation: int = 1) -> MiniNetworkPolicyView:
    return MiniNetworkPolicyView.from_dict(
        {
            "metadata": {"namespace": "ns", "name": "p", "uid": "u1", "generation": generation},
            "spec": spec,
            "status": status or {},
        }
    )


def pod(name: str, labels: dict[str, str], *, ports: list[dict[str, Any]] | None = None, phase: str = "Running") -> Pod:
    return Pod.from_dict(
        {
            "metadata": {"namespace": "ns", "name": name, "uid": name, "labels": labels},
            "spec": {"containers": [{"name": "c", "ports": ports or []}]},
            "status": {"phase": phase, "podIP": "10.0.0.1"},
        }
    )


def status_of(
    view: MiniNetworkPolicyView, selected: list[Pod], destinations: list[Pod] | None = None
) -> dict[str, Any]:
    evaluation = evaluate(view, selected, declares_among(destinations or []))
    return calculate_status(view, evaluation, None, NOW)[0]


def declares_among(pods: list[Pod]) -> Callable[[Rule, str, str], bool]:
    """The glue's egress lookup, over a plain list of the pods the rule's peers select."""
    return lambda _rule, name, protocol: any(
        (p.name, p.protocol) == (name, protocol) for pod in pods for p in pod.ports
    )


def accepted(status: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == "Accepted")


def test_policy_types_default_to_ingress_plus_egress_when_it_has_egress_rules() -> None:
    """NP-02: no policyTypes is [Ingress], plus Egress when egress rules exist; given ones are kept."""
    assert status_of(policy({"podSelector": {}}), [])["policyTypes"] == ["Ingress"]
    assert status_of(policy({"podSelector": {}, "egress": [{}]}), [])["policyTypes"] == ["Ingress", "Egress"]
    assert status_of(policy({"podSelector": {}, "policyTypes": ["Egress"]}), [])["policyTypes"] == ["Egress"]
    assert status_of(policy({"podSelector": {}, "egress": [{}]}), [])["policyTypesText"] == "Ingress,Egress", (
        "the POLICY-TYPES column: a printer column would show only the first value of the list"
    )


def test_selected_pods_and_selector_text() -> None:
    """NP-01: the pods the podSelector selects, finished pods not counted; POD-SELECTOR as kubectl prints it."""
    view = policy({"podSelector": {"matchLabels": {"app": "web"}}})
    status = status_of(view, [pod("a", {"app": "web"}), pod("b", {"app": "web"}, phase="Succeeded")])
    assert status["selectedPods"] == 1
    assert status["podSelectorText"] == "app=web"
    assert status["observedGeneration"] == 1
    assert status_of(policy({"podSelector": {}}), [])["podSelectorText"] == "<none>"


def test_named_port_no_selected_pod_declares_is_a_warning_reason() -> None:
    """NP-09: an ingress rule naming a port no selected pod declares matches nothing: Accepted stays True,
    with the reason NamedPortNotDeclared and a Warning event; declaring it clears both."""
    spec = {"podSelector": {}, "ingress": [{"ports": [{"port": "http"}]}]}
    view = policy(spec)
    evaluation = evaluate(view, [pod("a", {}, ports=[{"name": "metrics", "containerPort": 9090}])], declares_among([]))
    status, events = calculate_status(view, evaluation, None, NOW)
    condition = accepted(status)
    assert (condition["status"], condition["reason"]) == ("True", "NamedPortNotDeclared")
    assert "'http'/TCP" in condition["message"] and "ingress[0]" in condition["message"]
    assert [(e.type, e.reason) for e in events] == [("Warning", "NamedPortNotDeclared")]

    warned = policy(spec, status=status)
    evaluation = evaluate(warned, [pod("a", {}, ports=[{"name": "http", "containerPort": 8080}])], declares_among([]))
    status, events = calculate_status(warned, evaluation, None, LATER)
    assert accepted(status)["reason"] == "Accepted"
    assert accepted(status)["lastTransitionTime"] == "2026-12-07T12:00:00Z", "still True: no transition"
    assert [(e.type, e.reason) for e in events] == [("Normal", "Accepted")]


def test_named_egress_port_resolves_on_the_destinations() -> None:
    """NP-09 for egress: the named port must be declared by a pod the rule's peers select (other namespaces too)."""
    spec = {"podSelector": {}, "egress": [{"to": [{"podSelector": {}}], "ports": [{"port": "dns", "protocol": "UDP"}]}]}
    view = policy(spec)
    dns = pod("coredns", {}, ports=[{"name": "dns", "containerPort": 53, "protocol": "UDP"}])
    dns_tcp = pod("other", {}, ports=[{"name": "dns", "containerPort": 53, "protocol": "TCP"}])
    assert accepted(status_of(view, [], [dns]))["reason"] == "Accepted"
    assert accepted(status_of(view, [], [dns_tcp]))["reason"] == "NamedPortNotDeclared", "the protocol must match"


def test_a_policy_the_engine_refuses_is_not_accepted() -> None:
    """What the schema could not refuse, the engine does: Accepted=False, InvalidPolicy, a Warning; no policyTypes."""
    view = policy({"podSelector": {}, "ingress": [{"ports": [{"port": 80, "endPort": 79}]}]})
    evaluation = evaluate(view, [], declares_among([]))
    status, events = calculate_status(view, evaluation, None, NOW)
    assert (accepted(status)["status"], accepted(status)["reason"]) == ("False", "InvalidPolicy")
    assert "endPort" in accepted(status)["message"]
    assert "policyTypes" not in status
    assert [(e.type, e.reason) for e in events] == [("Warning", "InvalidPolicy")]
    again = calculate_status(policy(view.spec, status=status), evaluation, None, LATER)[1]
    assert again == [], "the same problem is not reported twice"


def test_mirrored_condition_only_while_mirroring() -> None:
    """--mirror-native adds the Mirrored condition; without it the condition is dropped."""
    view = policy({"podSelector": {}})
    evaluation = evaluate(view, [], declares_among([]))
    mirrored = ConditionState(False, "NetworkPolicyExists", "NetworkPolicy 'p' already exists")
    status = calculate_status(view, evaluation, mirrored, NOW)[0]
    assert [c["type"] for c in status["conditions"]] == ["Accepted", "Mirrored"]
    status = calculate_status(policy(view.spec, status=status), evaluation, None, NOW)[0]
    assert [c["type"] for c in status["conditions"]] == ["Accepted"]
