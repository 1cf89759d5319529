"""A MiniNetworkPolicy's status, computed by the policy engine: what a CRD schema cannot say.

- `policyTypes`: the effective types (NP-02: Ingress, plus Egress when there are egress rules), which a CRD
  cannot default because the default depends on another field;
- `selectedPods`: the pods of its namespace its podSelector selects now (NP-01);
- the `Accepted` condition: False when the engine refuses the spec (what the schema could not refuse), and
  True with the warning reason `NamedPortNotDeclared` when a rule names a port that no pod it could apply
  to declares (NP-09: such a rule matches nothing, which is legal but rarely meant);
- `Mirrored`, with --mirror-native: whether the NetworkPolicy of the same name matches.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from operators.controllers.networkpolicy.model import ACCEPTED, MIRRORED, MiniNetworkPolicyView
from operators.kube.objects import Condition, ConditionState, Pod, set_condition
from operators.networkpolicy.errors import PolicyError
from operators.networkpolicy.model import Direction, Policy, Rule
from operators.networkpolicy.parse import parse_policy

__all__ = ["Evaluation", "Event", "calculate_status", "evaluate"]

ACCEPTED_REASON = "Accepted"
INVALID_REASON = "InvalidPolicy"
NAMED_PORT_REASON = "NamedPortNotDeclared"
_ORDER = (Direction.INGRESS, Direction.EGRESS)


@dataclass(frozen=True, slots=True)
class Event:
    """An Event to record about the policy: a transition of its Accepted condition."""

    type: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What the engine made of one policy."""

    policy: Policy | None  # None when the engine refused it
    error: str = ""
    selected_pods: int = 0
    undeclared: tuple[str, ...] = ()  # one message per named port no candidate pod declares

    @property
    def accepted(self) -> ConditionState:
        if self.policy is None:
            return ConditionState(False, INVALID_REASON, self.error)
        if self.undeclared:
            return ConditionState(True, NAMED_PORT_REASON, "; ".join(self.undeclared))
        return ConditionState(True, ACCEPTED_REASON, "the policy is valid and in effect")


def evaluate(
    view: MiniNetworkPolicyView,
    selected: Sequence[Pod],
    egress_declares: Callable[[Rule, str, str], bool],
) -> Evaluation:
    """Parse the policy with the engine and check its named ports.

    `selected` are the pods its podSelector selects: the destinations of its ingress rules, whose named
    ports resolve on them. `egress_declares(rule, name, protocol)` says whether any pod the egress rule's
    peers select declares that port (the glue answers from an index, without listing those pods).
    """
    try:
        policy = parse_policy(view.body)
    except PolicyError as error:
        return Evaluation(None, error=str(error))
    live = [pod for pod in selected if pod.phase not in ("Succeeded", "Failed")]
    undeclared: list[str] = []
    named_ingress = any(_named_ports(rule) for rule in policy.ingress)
    if Direction.INGRESS in policy.policy_types and named_ingress:
        declared = {(p.name, p.protocol) for pod in live for p in (*pod.ports, *pod.sidecar_ports) if p.name}
        for index, rule in enumerate(policy.ingress):
            undeclared += [
                f"ingress[{index}]: port {name!r}/{protocol} is declared by none of the {len(live)} pods it selects"
                for name, protocol in _named_ports(rule)
                if (name, protocol) not in declared
            ]
    if Direction.EGRESS in policy.policy_types:
        for index, rule in enumerate(policy.egress):
            undeclared += [
                f"egress[{index}]: port {name!r}/{protocol} is declared by none of the pods the rule's peers select"
                for name, protocol in _named_ports(rule)
                if not egress_declares(rule, name, protocol)
            ]
    return Evaluation(policy, selected_pods=len(live), undeclared=tuple(undeclared))


def _named_ports(rule: Rule) -> list[tuple[str, str]]:
    return [(port.port, port.protocol) for port in rule.ports if isinstance(port.port, str)]


def calculate_status(
    view: MiniNetworkPolicyView,
    evaluation: Evaluation,
    mirrored: ConditionState | None,
    now: datetime.datetime,
) -> tuple[dict[str, Any], list[Event]]:
    """The whole status to write, and the Events its Accepted transition calls for.

    `mirrored` None (no --mirror-native) drops the Mirrored condition: it describes nothing any more.
    """
    accepted = evaluation.accepted
    conditions = set_condition(view.conditions, ACCEPTED, accepted, now)
    if mirrored is not None:
        conditions = set_condition(conditions, MIRRORED, mirrored, now)
    else:
        conditions = tuple(c for c in conditions if c.type != MIRRORED)
    status: dict[str, Any] = {
        "observedGeneration": view.generation,
        "selectedPods": evaluation.selected_pods,
        "podSelectorText": _selector_text(view),
        "conditions": [c.to_dict() for c in conditions],
    }
    if evaluation.policy is not None:
        status["policyTypes"] = [d.value for d in _ORDER if d in evaluation.policy.policy_types]
        status["policyTypesText"] = ",".join(status["policyTypes"])  # a printer column shows one value of a list
    return status, _events(view.conditions, accepted)


def _selector_text(view: MiniNetworkPolicyView) -> str:
    """metav1.FormatLabelSelector, as the POD-SELECTOR column of `kubectl get netpol`: `<none>` for {}."""
    if view.selector.nothing:
        return "<invalid>"
    return str(view.selector) or "<none>"


def _events(before: Sequence[Condition], accepted: ConditionState) -> list[Event]:
    """A Warning when the policy becomes refused or gets a new warning; Normal when it recovers."""
    previous = next((c for c in before if c.type == ACCEPTED), None)
    if previous is not None and previous.reason == accepted.reason and previous.message == accepted.message:
        return []
    if accepted.reason != ACCEPTED_REASON:
        return [Event("Warning", accepted.reason, accepted.message)]
    if previous is not None:
        return [Event("Normal", ACCEPTED_REASON, "the policy is valid and in effect again")]
    return []
