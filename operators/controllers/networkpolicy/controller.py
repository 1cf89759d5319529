"""The MiniNetworkPolicy controller: pod, namespace and policy events in; status, events and mirrors out.

The decisions are the policy engine's (operators/networkpolicy: NP-01..NP-13) and the pure modules beside
this one: status.py (effective policyTypes, selected pods, the Accepted condition and its events) and
mirror.py (the NetworkPolicy that mirrors a policy with --mirror-native). This file maps events to the
policies they concern and performs the writes.

Work per event stays small: a pod change wakes only the policies of its namespace whose podSelector matches
its old or new labels (the selector index), plus — when the pod declares named ports — the few policies
whose egress rules name a port; a namespace's label change wakes only those. Each sync reads the selected
pods through the label index, never the whole cluster, and the work queue coalesces a burst of events into
one sync per policy. Enforcement is the dataplane's; with --mirror-native, the cluster's network plugin's.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from typing import Any

from operators.controllers.networkpolicy.mirror import desired_native_policy, foreign_message, is_mirror_of
from operators.controllers.networkpolicy.model import (
    API_VERSION,
    FIELD_MANAGER,
    KIND,
    MIRRORED,
    MiniNetworkPolicyView,
    NativePolicyView,
)
from operators.controllers.networkpolicy.status import Evaluation, calculate_status, evaluate
from operators.kube import applied
from operators.kube.objects import ConditionState, NamespaceView, Pod, status_only_change
from operators.kube.resources import MININETWORKPOLICIES, NAMESPACES, NETWORKPOLICIES, PODS
from operators.kube.selectors import Everything
from operators.networkpolicy.model import Peer, Rule
from operators.runtime.applier import apply_owned
from operators.runtime.client import ApiError, KubeClient
from operators.runtime.controller import Controller, Reconciler, Result
from operators.runtime.events import EventRecorder, InvolvedObject
from operators.runtime.informers import BY_LABEL, BY_SELECTOR, Informer, index_by_label, index_by_selector
from operators.runtime.manager import Manager

__all__ = ["BY_NAMED_PORT", "NetworkPolicyController", "index_by_named_port"]

logger = logging.getLogger(__name__)
COMPONENT = "mininetworkpolicy-controller"
BY_NAMED_PORT = "named-port"  # pods by `namespace/<port name>/<protocol>` of each port they declare


def index_by_named_port(pod: Pod) -> Iterable[str]:
    return {f"{pod.namespace}/{port.name}/{port.protocol}" for port in (*pod.ports, *pod.sidecar_ports) if port.name}


class NetworkPolicyController:
    """Reconciles MiniNetworkPolicies: their status, and with `mirror` their NetworkPolicy."""

    name = "mininetworkpolicy"

    def __init__(
        self,
        client: KubeClient,
        recorder: EventRecorder,
        policies: Informer[MiniNetworkPolicyView],
        pods: Informer[Pod],
        namespaces: Informer[NamespaceView],
        natives: Informer[NativePolicyView] | None,
        controller_factory: Callable[[Reconciler], Controller],
    ) -> None:
        """`natives` is the NetworkPolicy informer with --mirror-native, else None (no mirrors)."""
        self.client = client
        self.recorder = recorder
        self.policies = policies
        self.pods = pods
        self.namespaces = namespaces
        self.natives = natives
        self.controller: Controller = controller_factory(self)
        self._named_egress: set[str] = set()  # the policies whose egress rules name a port
        policies.subscribe(self._on_policy)
        pods.subscribe(self._on_pod)
        namespaces.subscribe(self._on_namespace)
        if natives is not None:
            natives.subscribe(self._on_native)

    @classmethod
    def setup(cls, manager: Manager) -> NetworkPolicyController:
        """Create the controller on `manager`: its informers and indexes, its event recorder, its workers."""
        policies = manager.primary(MININETWORKPOLICIES, MiniNetworkPolicyView.from_dict, id="mininetworkpolicy")
        policies.add_index(BY_SELECTOR, index_by_selector)
        pods = manager.informer(PODS, Pod.from_dict)
        pods.add_index(BY_LABEL, index_by_label)
        pods.add_index(BY_NAMED_PORT, index_by_named_port)
        namespaces = manager.informer(NAMESPACES, NamespaceView.from_dict)
        natives = None
        if manager.options.mirror_native_policies:
            natives = manager.informer(NETWORKPOLICIES, NativePolicyView.from_dict)
        informers: list[Informer[Any]] = [policies, pods, namespaces, *([natives] if natives else [])]
        return cls(
            manager.client,
            manager.event_recorder(COMPONENT),
            policies,
            pods,
            namespaces,
            natives,
            lambda reconciler: manager.controller(reconciler, waits_for=informers),
        )

    # --- events -> keys ----------------------------------------------------------------------------------------

    def _on_policy(self, old: MiniNetworkPolicyView | None, new: MiniNetworkPolicyView | None) -> None:
        """A policy added, changed or deleted; a change of its status alone (our own write) needs no sync."""
        if old is not None and new is not None and status_only_change(old, new):
            return
        if new is not None and new.named_egress_ports:
            self._named_egress.add(new.key)
        elif (current := new or old) is not None:
            self._named_egress.discard(current.key)
        if (current := new or old) is not None:
            self.controller.enqueue(current.key)

    def _on_pod(self, old: Pod | None, new: Pod | None) -> None:
        """The policies selecting the pod before or after (NP-01), and those whose egress names a port."""
        if old is not None and new is not None:
            if old.resource_version == new.resource_version:
                return
            terminal = ("Succeeded", "Failed")
            if dict(old.labels) == dict(new.labels) and (old.phase in terminal) == (new.phase in terminal):
                return  # nothing a policy's status depends on
        keys: set[str] = set()
        for pod in (p for p in (old, new) if p is not None):
            keys |= {policy.key for policy in self.policies.selecting(pod.namespace, pod.labels)}
            if any(port.name for port in (*pod.ports, *pod.sidecar_ports)):
                keys |= self._named_egress
        for key in keys:
            self.controller.enqueue(key)

    def _on_namespace(self, old: NamespaceView | None, new: NamespaceView | None) -> None:
        """A namespace's labels decide which pods an egress rule's namespaceSelector reaches."""
        if old is not None and new is not None and dict(old.labels) == dict(new.labels):
            return
        for key in self._named_egress:
            self.controller.enqueue(key)

    def _on_native(self, old: NativePolicyView | None, new: NativePolicyView | None) -> None:
        """The mirror (or a foreign NetworkPolicy holding the name) changed: its policy looks again."""
        current = new or old
        if current is not None and self.policies.get(current.namespace, current.name) is not None:
            self.controller.enqueue(current.key)

    # --- sync --------------------------------------------------------------------------------------------------

    async def sync(self, key: str) -> Result | None:
        """Evaluate the policy with the engine, mirror it if asked, write its status and its Events."""
        namespace, name = key.split("/", 1)
        view = self.policies.get(namespace, name)
        if view is None or view.deletion_timestamp is not None:
            return None  # the garbage collector removes its mirror
        evaluation = self.evaluate(view)
        mirrored = await self._mirror(view) if self.natives is not None else None
        status, events = calculate_status(view, evaluation, mirrored, datetime.datetime.now(datetime.UTC))
        for event in events:
            self.recorder.record(
                _involved(view), "Warning" if event.type == "Warning" else "Normal", event.reason, event.message
            )
        if status != view.status:
            cleared = {field: None for field in view.status if field not in status}  # a merge patch removes with null
            body = {"metadata": {"resourceVersion": view.resource_version}, "status": {**status, **cleared}}
            written = await self.client.patch(MININETWORKPOLICIES.path(namespace, name, "status"), body)
            self.policies.observe_write(view.resource_version, written)
        return None

    def evaluate(self, view: MiniNetworkPolicyView) -> Evaluation:
        """The engine's view of the policy from the caches: the recomputation one event costs."""
        selected = self.pods.select(view.namespace, view.selector)
        return evaluate(
            view, selected, lambda rule, name, protocol: self._declared(view.namespace, rule, name, protocol)
        )

    def _declared(self, namespace: str, rule: Rule, name: str, protocol: str) -> bool:
        """Whether a pod the egress rule's peers select (NP-04..NP-07) declares the named port: looked up in
        the named-port index, namespace by namespace, stopping at the first pod found."""
        peers = rule.peers or (Peer(pod_selector=Everything, namespace_selector=Everything),)  # no peers: all
        for peer in peers:
            if peer.ip_block is not None:
                continue  # an address range: no pod's declared ports name it
            if peer.namespace_selector is None:
                names = [namespace]
            else:
                names = [ns.name for ns in self.namespaces if peer.namespace_selector.matches(ns.labels)]
            selector = peer.pod_selector or Everything
            for name_space in names:
                for pod in self.pods.by_index(BY_NAMED_PORT, f"{name_space}/{name}/{protocol}"):
                    if pod.phase not in ("Succeeded", "Failed") and selector.matches(pod.labels):
                        return True
        return False

    # --- --mirror-native ---------------------------------------------------------------------------------------

    async def _mirror(self, view: MiniNetworkPolicyView) -> ConditionState:
        """Keep the NetworkPolicy of the same name equal to the spec; never take over a foreign one."""
        assert self.natives is not None
        native = self.natives.get(view.namespace, view.name)
        if native is not None and not is_mirror_of(native, view):
            state = ConditionState(False, "NetworkPolicyExists", foreign_message(native, view))
            self._record_mirror_transition(view, state)
            return state
        desired = desired_native_policy(view)
        if native is None or not applied.up_to_date(desired, native.observed):
            path = NETWORKPOLICIES.path(view.namespace, view.name)
            current = native.resource_version if native is not None else None
            try:
                written = await apply_owned(
                    self.client, path, desired, current_resource_version=current, field_manager=FIELD_MANAGER
                )
            except ApiError as error:
                if not (error.invalid or error.status == 400):
                    raise
                state = ConditionState(
                    False, "FailedToApplyNetworkPolicy", f"NetworkPolicy {view.name!r}: {error.message}"
                )
                self._record_mirror_transition(view, state)
                return state
            self.natives.observe_write(current or "", written)
        state = ConditionState(True, "NetworkPolicyUpToDate", f"NetworkPolicy {view.name!r} mirrors the spec")
        self._record_mirror_transition(view, state)
        return state

    def _record_mirror_transition(self, view: MiniNetworkPolicyView, state: ConditionState) -> None:
        current = next((c for c in view.conditions if c.type == MIRRORED), None)
        if current is not None and current.reason == state.reason and current.message == state.message:
            return
        if not state.ok:
            self.recorder.record(_involved(view), "Warning", state.reason, state.message)
        elif current is None or current.status != "True":
            self.recorder.record(_involved(view), "Normal", "Mirrored", state.message)


def _involved(view: MiniNetworkPolicyView) -> InvolvedObject:
    return InvolvedObject(API_VERSION, KIND, view.namespace, view.name, view.uid)
