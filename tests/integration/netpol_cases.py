"""The upstream e2e NetworkPolicy cases, async, on the live cluster: the model, its operations, and every f.It.

kubernetes test/e2e/network/netpol/network_policy.go, case by case, as tests/unit/networkpolicy/
test_netpol_conformance.py ports it offline: one class per ginkgo.Context (TCP, UDP, SCTP), one static
coroutine per f.It, named after it in snake_case, its statements in upstream order (CreatePolicy /
UpdatePolicy / label edits, Expect*, ValidateOrFail). Every case runs on the full model: namespaces x, y, z
(under unique names) with pods a, b, c, each serving 80 and 81 on TCP, UDP and SCTP, as older upstream versions
ran every test; the two expectations the offline port guards with `k8s.has(...)` therefore always apply.

`Model.validate` is ValidateOrFail with the probes replaced by `kubectl mini netpol matrix` reading the cluster
live; tests/integration/test_netpol_packets.py subclasses it to probe every cell with real packets too. Each
operation that changes the cluster returns only once the API serves the change (a LIST, then a WATCH from
it), so a case that mutates mid-case validates after each step against what every reader now sees.

Two lists: `E2E_CASES`, the thirteen cases the live-CLI test runs, and `ALL_CASES`, every case of the three
contexts. Upstream IDs: NP-01..NP-13 (docs/explanation/upstream-ids.md) are what the truth tables check.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

from operators.runtime.client import KubeClient
from tests.unit.networkpolicy.netpol_e2e import (
    NAMESPACE_LABEL_KEY,
    Peer,
    Reachability,
    gen_network_policy,
    gen_network_policy_with_match_label,
    host_cidr,
    make_large_cidr_for_ip,
    pretty_print,
)

__all__ = [
    "ALL_CASES",
    "CONTEXTS",
    "E2E_CASES",
    "MINI_NETPOL",
    "NETPOL",
    "Case",
    "Context",
    "MiniCli",
    "Model",
    "NetworkPolicyBetweenServerAndClient",
    "NetworkPolicyBetweenServerAndClientUsingSCTP",
    "NetworkPolicyBetweenServerAndClientUsingUDP",
    "context_of",
    "create_policy",
]

NETPOL = "/apis/networking.k8s.io/v1/namespaces/{}/networkpolicies"
MINI_NETPOL = "/apis/minik8s.dev/v1/namespaces/{}/mininetworkpolicies"
REFLECTED_WAIT = 30.0  # seconds for the API to serve a write it acknowledged (it is immediate: a safety net)

Obj = dict[str, Any]
MiniCli = Callable[..., Awaitable[tuple[int, str, str]]]  # `kubectl mini ARGS` -> (exit code, stdout, stderr)


async def create_policy(kube: KubeClient, policy: Mapping[str, Any], namespace: str, *, mini: bool = False) -> Obj:
    """Create a NetworkPolicy (or, with `mini`, the same spec as a MiniNetworkPolicy) in `namespace`."""
    body = {**policy, "metadata": {**policy["metadata"], "namespace": namespace}}
    if mini:
        body |= {"apiVersion": "minik8s.dev/v1", "kind": "MiniNetworkPolicy"}
    return await kube.create((MINI_NETPOL if mini else NETPOL).format(namespace), body)


# ---------------------------------------------------------------------------------------------- the model


class Model:
    """The upstream e2e model (x, y, z x a, b, c) on the cluster, under unique namespace names.

    Methods mirror kubeManager and the helpers of test/e2e/network/netpol (CreatePolicy, UpdatePolicy,
    cleanNetworkPolicies, AddNamespaceLabel, AddPodLabels); `validate` is ValidateOrFail, with the probes
    replaced by `kubectl mini netpol matrix` reading the cluster live. Every write waits until the API
    serves it (see `_until_served`).
    """

    def __init__(self, kube: KubeClient, mini: MiniCli, names: Mapping[str, str], ips: Mapping[str, str]) -> None:
        self.kube, self.mini, self.names, self.ips = kube, mini, names, ips
        self.pods = tuple(ips)
        self.validated: list[tuple[int, str]] = []  # (port, protocol) of every table checked, in order

    def ns(self, base: str) -> str:
        return self.names[base]

    def pod(self, base: str, name: str) -> str:
        return f"{self.names[base]}/{name}"

    def pod_ip(self, base: str, name: str) -> str:
        return self.ips[self.pod(base, name)]

    # --- operations (kubeManager) ----------------------------------------------------------------------------

    async def create_policy(self, policy: Mapping[str, Any], base: str) -> None:
        """CreatePolicy."""
        await create_policy(self.kube, policy, self.ns(base))
        await self._until_served(NETPOL.format(self.ns(base)), policy["metadata"]["name"], lambda obj: obj is not None)

    async def update_policy(self, policy: Mapping[str, Any], base: str) -> None:
        """UpdatePolicy: the policy of the same name gets this spec."""
        path = NETPOL.format(self.ns(base)) + "/" + policy["metadata"]["name"]
        current = await self.kube.get(path)
        updated = await self.kube.replace(path, {**policy, "metadata": current["metadata"]})
        await self._until_served(
            NETPOL.format(self.ns(base)),
            policy["metadata"]["name"],
            lambda obj: obj is not None and obj["spec"] == updated["spec"],
        )

    async def delete_policy(self, name: str, base: str) -> None:
        """DeletePolicy: gone from the API (NetworkPolicies have no finalizers)."""
        await self.kube.delete(f"{NETPOL.format(self.ns(base))}/{name}")  # answers a Status, not the object
        await self._until_served(NETPOL.format(self.ns(base)), name, lambda obj: obj is None)

    async def clean_network_policies(self) -> None:
        """kubeManager.cleanNetworkPolicies: every NetworkPolicy of the model's namespaces deleted."""
        for base, namespace in self.names.items():
            listed = await self.kube.get(NETPOL.format(namespace))
            for policy in listed["items"]:
                await self.delete_policy(policy["metadata"]["name"], base)

    async def add_namespace_label(self, base: str, key: str, value: str) -> None:
        """AddNamespaceLabel (a merge patch: the other labels stay)."""
        await self.kube.patch(f"/api/v1/namespaces/{self.ns(base)}", {"metadata": {"labels": {key: value}}})
        await self._until_served("/api/v1/namespaces", self.ns(base), lambda obj: _has_labels(obj, {key: value}))

    async def add_pod_labels(self, base: str, name: str, labels: Mapping[str, str]) -> None:
        """AddPodLabels (a merge patch: the model's own labels, pod=<name> among them, stay)."""
        path = f"/api/v1/namespaces/{self.ns(base)}/pods/{name}"
        await self.kube.patch(path, {"metadata": {"labels": dict(labels)}})
        await self._until_served(f"/api/v1/namespaces/{self.ns(base)}/pods", name, lambda obj: _has_labels(obj, labels))

    async def _until_served(self, collection: str, name: str, served: Callable[[Obj | None], bool]) -> None:
        """LIST the object `name` of `collection`, then WATCH from that version until `served(object, or None
        once deleted)`: from then on every reader (the CLI, the agents' informers) sees the write."""
        query = {"fieldSelector": f"metadata.name={name}"}
        listed = await self.kube.get(collection, query=query)
        current: Obj | None = listed["items"][0] if listed["items"] else None
        version = listed["metadata"]["resourceVersion"]
        async with asyncio.timeout(REFLECTED_WAIT):
            while not served(current):
                watch = self.kube.watch(collection, query={**query, "resourceVersion": version})
                async with contextlib.aclosing(watch) as events:
                    async for event in events:
                        assert event["type"] != "ERROR", event["object"]
                        version = event["object"]["metadata"]["resourceVersion"]
                        current = None if event["type"] == "DELETED" else event["object"]
                        if served(current):
                            break

    # --- ValidateOrFail --------------------------------------------------------------------------------------

    async def validate(self, port: int, protocol: str, reachability: Reachability) -> None:
        """ValidateOrFail with ignoreLoopback: every non-loopback cell of the live matrix as expected."""
        self.validated.append((port, protocol))
        flags = [flag for name in self.names.values() for flag in ("-n", name)]
        code, out, err = await self.mini(
            "netpol", "matrix", *flags, "--port", str(port), "--protocol", protocol, "-o", "json"
        )
        assert (code, err) == (0, ""), err
        observed = json.loads(out)["matrix"]
        assert sorted(observed) == sorted(self.pods)
        wrong = [
            (s, d) for s in self.pods for d in self.pods if s != d and reachability.expected[s][d] != observed[s][d]
        ]
        assert not wrong, (
            f"{len(wrong)} wrong results on {protocol}/{port}: {wrong}\n"
            f"expected:\n{pretty_print(self.pods, reachability.expected)}\n\nobserved:\n{pretty_print(self.pods, observed)}"
        )


def _has_labels(obj: Obj | None, labels: Mapping[str, str]) -> bool:
    return obj is not None and labels.items() <= (obj["metadata"].get("labels") or {}).items()


def match_labels(**labels: str) -> Obj:
    return {"matchLabels": labels}


def match_expression(key: str, operator: str, *values: str) -> Obj:
    return {"matchExpressions": [{"key": key, "operator": operator, "values": list(values)}]}


Case = Callable[[Model], Awaitable[None]]


class Context:
    """A ginkgo.Context of network_policy.go: its f.It cases are the static coroutines of a subclass."""

    PROTOCOL: ClassVar[str]  # the protocol its tables are validated on (the TCP context's one UDP table aside)


# ---------------------------------------------------------------------------------------------- shared bodies
# Upstream repeats three cases in each protocol context, each validating on its own protocol; the UDP and SCTP
# contexts share these bodies (and the TCP context the last one, identical there).


async def _default_deny_ingress(k8s: Model, protocol: str) -> None:
    """Namespace x isolated for ingress: nothing reaches its pods (NP-02, NP-03)."""
    await k8s.create_policy(gen_network_policy("deny-all", {}, ingress=[]), "x")
    reachability = Reachability(k8s.pods, True)
    reachability.expect_peer(Peer(), Peer(namespace=k8s.ns("x")), False)
    await k8s.validate(80, protocol, reachability)


async def _ports(k8s: Model, protocol: str) -> None:
    """x/a admits namespace y on port 81 of `protocol` only (NP-10)."""
    ingress_rule = {
        "from": [{"namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: k8s.ns("y")})}],
        "ports": [{"port": 81, "protocol": protocol}],
    }
    policy = gen_network_policy_with_match_label("allow-ingress-on-port-81-ns-x", {"pod": "a"}, ingress=[ingress_rule])
    await k8s.create_policy(policy, "x")
    reachability = Reachability(k8s.pods, True)
    reachability.expect_peer(Peer(namespace=k8s.ns("x")), Peer(namespace=k8s.ns("x"), pod="a"), False)
    reachability.expect_peer(Peer(namespace=k8s.ns("z")), Peer(namespace=k8s.ns("x"), pod="a"), False)
    await k8s.validate(81, protocol, reachability)


async def _only_from_y_a(k8s: Model, protocol: str) -> None:
    """x/a admits y/a only: the TCP case of that name, and its UDP and SCTP twins."""
    ingress_rule = {
        "from": [
            {
                "namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: k8s.ns("y")}),
                "podSelector": match_labels(pod="a"),
            }
        ]
    }
    policy = gen_network_policy_with_match_label(
        "allow-ns-y-pod-a-via-namespace-pod-selector", {"pod": "a"}, ingress=[ingress_rule]
    )
    await k8s.create_policy(policy, "x")
    reachability = Reachability(k8s.pods, True)
    reachability.expect_all_ingress(k8s.pod("x", "a"), False)
    reachability.expect(k8s.pod("y", "a"), k8s.pod("x", "a"), True)
    await k8s.validate(80, protocol, reachability)


# ---------------------------------------------------------------------------------------------- TCP


class NetworkPolicyBetweenServerAndClient(Context):
    """ginkgo.Context("NetworkPolicy between server and client"): TCP tables (one case checks UDP too)."""

    PROTOCOL: ClassVar[str] = "TCP"

    @staticmethod
    async def should_support_a_default_deny_ingress_policy(k8s: Model) -> None:
        await k8s.create_policy(gen_network_policy("deny-ingress", {}, ingress=[]), "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_peer(Peer(), Peer(namespace=k8s.ns("x")), False)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_support_a_default_deny_all_policy(k8s: Model) -> None:
        await k8s.create_policy(gen_network_policy("deny-all", {}, ingress=[], egress=[]), "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_peer(Peer(), Peer(namespace=k8s.ns("x")), False)
        reachability.expect_peer(Peer(namespace=k8s.ns("x")), Peer(), False)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_enforce_policy_to_allow_traffic_from_pods_within_server_namespace_based_on_podselector(
        k8s: Model,
    ) -> None:
        ingress_rule = {"from": [{"podSelector": match_labels(pod="b")}]}
        policy = gen_network_policy_with_match_label("x-a-allows-x-b", {"pod": "a"}, ingress=[ingress_rule])
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_all_ingress(k8s.pod("x", "a"), False)
        reachability.expect(k8s.pod("x", "b"), k8s.pod("x", "a"), True)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_enforce_policy_to_allow_ingress_traffic_for_a_target(k8s: Model) -> None:
        # "having a deny all ingress policy"
        await k8s.create_policy(gen_network_policy("deny-all", {}, ingress=[]), "x")
        # Allow Ingress traffic only to pod x/a from any pod
        ingress_rule: Obj = {"from": [{"podSelector": {}, "namespaceSelector": {}}]}
        allow_policy = gen_network_policy_with_match_label("allow-all-to-a", {"pod": "a"}, ingress=[ingress_rule])
        await k8s.create_policy(allow_policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_all_ingress(k8s.pod("x", "a"), True)
        reachability.expect_all_ingress(k8s.pod("x", "b"), False)
        reachability.expect_all_ingress(k8s.pod("x", "c"), False)  # the full-model version's x/c
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_enforce_policy_to_allow_ingress_traffic_from_pods_in_all_namespaces(k8s: Model) -> None:
        ingress_rule: Obj = {"from": [{"namespaceSelector": {"matchLabels": {}}}]}
        policy = gen_network_policy_with_match_label("allow-from-another-ns", {"pod": "a"}, ingress=[ingress_rule])
        await k8s.create_policy(policy, "x")
        await k8s.validate(80, "TCP", Reachability(k8s.pods, True))

    @staticmethod
    async def should_enforce_policy_to_allow_traffic_only_from_a_different_namespace_based_on_namespaceselector(
        k8s: Model,
    ) -> None:
        ingress_rule = {"from": [{"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL_KEY: k8s.ns("y")}}}]}
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-ns-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_peer(Peer(namespace=k8s.ns("x")), Peer(namespace=k8s.ns("x"), pod="a"), False)
        reachability.expect_peer(Peer(namespace=k8s.ns("z")), Peer(namespace=k8s.ns("x"), pod="a"), False)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_enforce_policy_based_on_podselector_with_matchexpressions(k8s: Model) -> None:
        ingress_rule = {"from": [{"podSelector": match_expression("pod", "In", "b")}]}
        policy = gen_network_policy_with_match_label("x-a-allows-x-b", {"pod": "a"}, ingress=[ingress_rule])
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_all_ingress(k8s.pod("x", "a"), False)
        reachability.expect(k8s.pod("x", "b"), k8s.pod("x", "a"), True)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_enforce_policy_based_on_namespaceselector_with_matchexpressions(k8s: Model) -> None:
        ingress_rule = {"from": [{"namespaceSelector": match_expression(NAMESPACE_LABEL_KEY, "In", k8s.ns("y"))}]}
        policy = gen_network_policy_with_match_label("allow-ns-y-match-selector", {"pod": "a"}, ingress=[ingress_rule])
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        # disallow all traffic from the x or z namespaces
        reachability.expect_peer(Peer(namespace=k8s.ns("x")), Peer(namespace=k8s.ns("x"), pod="a"), False)
        reachability.expect_peer(Peer(namespace=k8s.ns("z")), Peer(namespace=k8s.ns("x"), pod="a"), False)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_enforce_policy_based_on_podselector_or_namespaceselector(k8s: Model) -> None:
        ingress_rule = {
            "from": [
                {"namespaceSelector": match_expression(NAMESPACE_LABEL_KEY, "NotIn", k8s.ns("x"))},
                {"podSelector": match_labels(pod="b")},
            ]
        }
        policy = gen_network_policy_with_match_label("allow-ns-y-match-selector", {"pod": "a"}, ingress=[ingress_rule])
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect(k8s.pod("x", "a"), k8s.pod("x", "a"), False)
        reachability.expect(k8s.pod("x", "c"), k8s.pod("x", "a"), False)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_enforce_policy_based_on_podselector_and_namespaceselector(k8s: Model) -> None:
        selector = {"matchExpressions": [{"key": NAMESPACE_LABEL_KEY, "operator": "NotIn", "values": [k8s.ns("x")]}]}
        ingress_rule = {"from": [{"namespaceSelector": selector, "podSelector": {"matchLabels": {"pod": "b"}}}]}
        policy = gen_network_policy_with_match_label(
            "allow-ns-y-podselector-and-nsselector", {"pod": "a"}, ingress=[ingress_rule]
        )
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_all_ingress(k8s.pod("x", "a"), False)
        reachability.expect(k8s.pod("y", "b"), k8s.pod("x", "a"), True)
        reachability.expect(k8s.pod("z", "b"), k8s.pod("x", "a"), True)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_enforce_policy_based_on_multiple_podselectors_and_namespaceselectors(k8s: Model) -> None:
        ingress_rule = {
            "from": [
                {
                    "namespaceSelector": match_expression(NAMESPACE_LABEL_KEY, "NotIn", k8s.ns("x")),
                    "podSelector": match_expression("pod", "In", "b", "c"),
                }
            ]
        }
        policy = gen_network_policy_with_match_label("allow-ns-y-z-pod-b-c", {"pod": "a"}, ingress=[ingress_rule])
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_peer(Peer(namespace=k8s.ns("x")), Peer(namespace=k8s.ns("x"), pod="a"), False)
        reachability.expect(k8s.pod("y", "a"), k8s.pod("x", "a"), False)
        reachability.expect(k8s.pod("z", "a"), k8s.pod("x", "a"), False)  # the full-model version's z/a
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_enforce_policy_based_on_any_podselectors(k8s: Model) -> None:
        ingress_rule = {"from": [{"podSelector": match_labels(pod="b")}, {"podSelector": match_labels(pod="c")}]}
        policy = gen_network_policy_with_match_label("allow-ns-x-pod-b-c", {"pod": "a"}, ingress=[ingress_rule])
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_all_ingress(k8s.pod("x", "a"), False)
        # Connect Pods b and c to pod a from namespace nsX
        reachability.expect(k8s.pod("x", "b"), k8s.pod("x", "a"), True)
        reachability.expect(k8s.pod("x", "c"), k8s.pod("x", "a"), True)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_enforce_policy_to_allow_traffic_only_from_a_pod_in_a_different_namespace_based_on_podselector_and_namespaceselector(
        k8s: Model,
    ) -> None:
        await _only_from_y_a(k8s, "TCP")

    @staticmethod
    async def should_enforce_policy_based_on_ports(k8s: Model) -> None:
        ingress_rule = {
            "from": [{"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL_KEY: k8s.ns("y")}}}],
            "ports": [{"port": 81, "protocol": "TCP"}],
        }
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-ns-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_peer(Peer(namespace=k8s.ns("x")), Peer(namespace=k8s.ns("x"), pod="a"), False)
        reachability.expect_peer(Peer(namespace=k8s.ns("y")), Peer(namespace=k8s.ns("x"), pod="a"), True)
        reachability.expect_peer(Peer(namespace=k8s.ns("z")), Peer(namespace=k8s.ns("x"), pod="a"), False)
        await k8s.validate(81, "TCP", reachability)

    @staticmethod
    async def should_enforce_multiple_stacked_policies_with_overlapping_podselectors(k8s: Model) -> None:
        allowed_labels = match_labels(**{NAMESPACE_LABEL_KEY: k8s.ns("y")})
        ingress_rule = {"from": [{"namespaceSelector": allowed_labels}], "ports": [{"port": 81, "protocol": "TCP"}]}
        allow_port81 = gen_network_policy_with_match_label(
            "allow-client-a-via-ns-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        await k8s.create_policy(allow_port81, "x")

        reachability_allow = Reachability(k8s.pods, True)
        reachability_allow.expect_peer(Peer(namespace=k8s.ns("x")), Peer(namespace=k8s.ns("x"), pod="a"), False)
        reachability_allow.expect_peer(Peer(namespace=k8s.ns("y")), Peer(namespace=k8s.ns("x"), pod="a"), True)
        reachability_allow.expect_peer(Peer(namespace=k8s.ns("z")), Peer(namespace=k8s.ns("x"), pod="a"), False)
        # "Verifying traffic on port 81."
        await k8s.validate(81, "TCP", reachability_allow)

        reachability_deny = Reachability(k8s.pods, True)
        reachability_deny.expect_all_ingress(k8s.pod("x", "a"), False)
        # "Verifying traffic on port 80."
        await k8s.validate(80, "TCP", reachability_deny)

        ingress_rule = {"from": [{"namespaceSelector": allowed_labels}], "ports": [{"port": 80, "protocol": "TCP"}]}
        allow_port80 = gen_network_policy_with_match_label(
            "allow-client-a-via-ns-selector-80", {"pod": "a"}, ingress=[ingress_rule]
        )
        await k8s.create_policy(allow_port80, "x")
        # "Verifying that we can add a policy to unblock port 80"
        await k8s.validate(80, "TCP", reachability_allow)

    @staticmethod
    async def should_support_allow_all_policy(k8s: Model) -> None:
        policy = gen_network_policy_with_match_label("allow-all", {}, ingress=[{}])
        await k8s.create_policy(policy, "x")
        # "Testing pods can connect to both ports when an 'allow-all' policy is present."
        reachability = Reachability(k8s.pods, True)
        await k8s.validate(80, "TCP", reachability)
        await k8s.validate(81, "TCP", reachability)

    @staticmethod
    async def should_allow_ingress_access_on_one_named_port(k8s: Model) -> None:
        policy = gen_network_policy_with_match_label("allow-all", {}, ingress=[{"ports": [{"port": "serve-81-tcp"}]}])
        await k8s.create_policy(policy, "x")
        await k8s.validate(81, "TCP", Reachability(k8s.pods, True))
        reachability_port80 = Reachability(k8s.pods, True)
        reachability_port80.expect_peer(Peer(), Peer(namespace=k8s.ns("x")), False)
        await k8s.validate(80, "TCP", reachability_port80)

    @staticmethod
    async def should_allow_ingress_access_from_namespace_on_one_named_port(k8s: Model) -> None:
        ingress_rule = {
            "from": [{"namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: k8s.ns("y")})}],
            "ports": [{"port": "serve-80-tcp", "protocol": "TCP"}],
        }
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-ns-selector-80", {"pod": "a"}, ingress=[ingress_rule]
        )
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        # disallow all traffic from the x or z namespaces
        reachability.expect_peer(Peer(namespace=k8s.ns("x")), Peer(namespace=k8s.ns("x"), pod="a"), False)
        reachability.expect_peer(Peer(namespace=k8s.ns("z")), Peer(namespace=k8s.ns("x"), pod="a"), False)
        # "Verify that port 80 is allowed for namespace y"
        await k8s.validate(80, "TCP", reachability)

        # "Verify that port 81 is blocked for all namespaces including y"
        reachability_fail = Reachability(k8s.pods, True)
        reachability_fail.expect_all_ingress(k8s.pod("x", "a"), False)
        await k8s.validate(81, "TCP", reachability_fail)

    @staticmethod
    async def should_allow_egress_access_on_one_named_port(k8s: Model) -> None:
        policy = gen_network_policy_with_match_label("allow-egress", {}, egress=[{"ports": [{"port": "serve-80-tcp"}]}])
        await k8s.create_policy(policy, "x")
        await k8s.validate(80, "TCP", Reachability(k8s.pods, True))
        reachability_port81 = Reachability(k8s.pods, True)
        reachability_port81.expect_peer(Peer(namespace=k8s.ns("x")), Peer(), False)
        await k8s.validate(81, "TCP", reachability_port81)

    @staticmethod
    async def should_enforce_updated_policy(k8s: Model) -> None:
        # "Using the simplest possible mutation: start with allow all, then switch to deny all"
        # part 1) allow all
        policy = gen_network_policy_with_match_label("allow-all-mutate-to-deny-all", {}, ingress=[{}])
        await k8s.create_policy(policy, "x")
        await k8s.validate(81, "TCP", Reachability(k8s.pods, True))

        # part 2) update the policy to deny all
        policy["spec"]["ingress"] = []
        await k8s.update_policy(policy, "x")
        reachability_deny = Reachability(k8s.pods, True)
        reachability_deny.expect_peer(Peer(), Peer(namespace=k8s.ns("x")), False)
        await k8s.validate(81, "TCP", reachability_deny)

    @staticmethod
    async def should_allow_ingress_access_from_updated_namespace(k8s: Model) -> None:
        ingress_rule = {"from": [{"namespaceSelector": {"matchLabels": {"ns2": "updated"}}}]}
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-ns-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_all_ingress(k8s.pod("x", "a"), False)
        await k8s.validate(80, "TCP", reachability)
        await k8s.add_namespace_label("y", "ns2", "updated")
        reachability_with_label = Reachability(k8s.pods, True)
        reachability_with_label.expect_all_ingress(k8s.pod("x", "a"), False)
        reachability_with_label.expect_peer(Peer(namespace=k8s.ns("y")), Peer(), True)
        await k8s.validate(80, "TCP", reachability_with_label)

    @staticmethod
    async def should_allow_ingress_access_from_updated_pod(k8s: Model) -> None:
        # add a new label
        labels = {"pod": "b", "pod2": "updated"}
        ingress_rule = {"from": [{"podSelector": {"matchLabels": labels}}]}
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-pod-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_all_ingress(k8s.pod("x", "a"), False)
        await k8s.validate(80, "TCP", reachability)

        await k8s.add_pod_labels("x", "b", labels)
        # "x/b is able to reach x/a when label is updated"
        reachability_with_label = Reachability(k8s.pods, True)
        reachability_with_label.expect_all_ingress(k8s.pod("x", "a"), False)
        reachability_with_label.expect(k8s.pod("x", "b"), k8s.pod("x", "a"), True)
        await k8s.validate(80, "TCP", reachability_with_label)

    @staticmethod
    async def should_deny_ingress_from_pods_on_other_namespaces(k8s: Model) -> None:
        ingress_rules: Obj = {"from": [{"podSelector": {"matchLabels": {}}}]}
        policy = gen_network_policy("deny-empty-policy", {}, ingress=[ingress_rules])
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_peer(Peer(namespace=k8s.ns("y")), Peer(namespace=k8s.ns("x")), False)
        reachability.expect_peer(Peer(namespace=k8s.ns("z")), Peer(namespace=k8s.ns("x")), False)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_deny_ingress_access_to_updated_pod(k8s: Model) -> None:
        policy = gen_network_policy("deny-ingress-via-label-selector", match_labels(target="isolated"), ingress=[])
        await k8s.create_policy(policy, "x")
        # "Verify that everything can reach x/a"
        await k8s.validate(80, "TCP", Reachability(k8s.pods, True))

        await k8s.add_pod_labels("x", "a", {"target": "isolated"})
        reachability_isolated = Reachability(k8s.pods, True)
        reachability_isolated.expect_all_ingress(k8s.pod("x", "a"), False)
        await k8s.validate(80, "TCP", reachability_isolated)

    @staticmethod
    async def should_deny_egress_from_pods_based_on_podselector(k8s: Model) -> None:
        policy = gen_network_policy("deny-egress-pod-a", match_labels(pod="a"), egress=[])
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_all_egress(k8s.pod("x", "a"), False)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_deny_egress_from_all_pods_in_a_namespace(k8s: Model) -> None:
        await k8s.create_policy(gen_network_policy("deny-egress-ns-x", {}, egress=[]), "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_peer(Peer(namespace=k8s.ns("x")), Peer(), False)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_work_with_ingress_egress_specified_together(k8s: Model) -> None:
        ingress_rule = {"from": [{"podSelector": match_labels(pod="b")}]}
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-pod-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        # add an egress rule on to it... (don't use named ports)
        policy["spec"]["egress"] = [{"ports": [{"port": 80}]}]
        policy["spec"]["policyTypes"] = ["Egress", "Ingress"]
        await k8s.create_policy(policy, "x")

        reachability_port80 = Reachability(k8s.pods, True)
        reachability_port80.expect_all_ingress(k8s.pod("x", "a"), False)
        reachability_port80.expect(k8s.pod("x", "b"), k8s.pod("x", "a"), True)
        await k8s.validate(80, "TCP", reachability_port80)

        # "validating that port 81 doesn't work"
        # meanwhile no egress traffic on 81 should work, since our egress policy is on 80
        reachability_port81 = Reachability(k8s.pods, True)
        reachability_port81.expect_all_ingress(k8s.pod("x", "a"), False)
        reachability_port81.expect_all_egress(k8s.pod("x", "a"), False)
        reachability_port81.expect(k8s.pod("x", "b"), k8s.pod("x", "a"), True)
        await k8s.validate(81, "TCP", reachability_port81)

    @staticmethod
    async def should_support_denying_of_egress_traffic_on_the_client_side_even_if_the_server_explicitly_allows_this_traffic(
        k8s: Model,
    ) -> None:
        # x/a --> y/a and y/b
        # Egress allowed to y/a only. Egress to y/b should be blocked
        # Ingress on y/a and y/b allow traffic from x/a
        # Expectation: traffic from x/a to y/a allowed only, traffic from x/a to y/b denied by egress policy

        # Building egress policy for x/a to y/a only
        egress_rule1 = {
            "to": [
                {
                    "namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: k8s.ns("y")}),
                    "podSelector": match_labels(pod="a"),
                }
            ]
        }
        egress_policy = gen_network_policy_with_match_label("allow-to-ns-y-pod-a", {"pod": "a"}, egress=[egress_rule1])
        await k8s.create_policy(egress_policy, "x")

        # Creating ingress policy to allow from x/a to y/a and y/b
        ingress_rule = {
            "from": [
                {
                    "namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: k8s.ns("x")}),
                    "podSelector": match_labels(pod="a"),
                }
            ]
        }
        allow_ingress_pod_a = gen_network_policy_with_match_label(
            "allow-from-xa-on-ya-match-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        allow_ingress_pod_b = gen_network_policy_with_match_label(
            "allow-from-xa-on-yb-match-selector", {"pod": "b"}, ingress=[ingress_rule]
        )
        await k8s.create_policy(allow_ingress_pod_a, "y")
        await k8s.create_policy(allow_ingress_pod_b, "y")

        reachability = Reachability(k8s.pods, True)
        reachability.expect_peer(Peer(namespace=k8s.ns("x"), pod="a"), Peer(), False)
        reachability.expect_peer(Peer(), Peer(namespace=k8s.ns("y"), pod="a"), False)
        reachability.expect_peer(Peer(namespace=k8s.ns("x"), pod="a"), Peer(namespace=k8s.ns("y"), pod="a"), True)
        reachability.expect_peer(Peer(), Peer(namespace=k8s.ns("y"), pod="b"), False)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_enforce_egress_policy_allowing_traffic_to_a_server_in_a_different_namespace_based_on_podselector_and_namespaceselector(
        k8s: Model,
    ) -> None:
        peer = {
            "namespaceSelector": {"matchLabels": {NAMESPACE_LABEL_KEY: k8s.ns("y")}},
            "podSelector": {"matchLabels": {"pod": "a"}},
        }
        policy = gen_network_policy_with_match_label("allow-to-ns-y-pod-a", {"pod": "a"}, egress=[{"to": [peer]}])
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_all_egress(k8s.pod("x", "a"), False)
        reachability.expect(k8s.pod("x", "a"), k8s.pod("y", "a"), True)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_enforce_ingress_policy_allowing_any_port_traffic_to_a_server_on_a_specific_protocol(
        k8s: Model,
    ) -> None:
        ingress_rule = {"ports": [{"protocol": "TCP"}]}
        policy = gen_network_policy_with_match_label("allow-ingress-by-proto", {"pod": "a"}, ingress=[ingress_rule])
        await k8s.create_policy(policy, "x")
        await k8s.validate(80, "TCP", Reachability(k8s.pods, True))
        reachability_udp = Reachability(k8s.pods, True)
        reachability_udp.expect_peer(Peer(), Peer(namespace=k8s.ns("x"), pod="a"), False)
        await k8s.validate(80, "UDP", reachability_udp)

    @staticmethod
    async def should_enforce_multiple_ingress_policies_with_ingress_allow_all_policy_taking_precedence(
        k8s: Model,
    ) -> None:
        policy_allow_only_port80 = gen_network_policy_with_match_label(
            "allow-ingress-port-80", {}, ingress=[{"ports": [{"port": 80}]}]
        )
        await k8s.create_policy(policy_allow_only_port80, "x")
        # "The policy targets port 80 -- so let's make sure traffic on port 81 is blocked"
        reachability = Reachability(k8s.pods, True)
        reachability.expect_peer(Peer(), Peer(namespace=k8s.ns("x")), False)
        await k8s.validate(81, "TCP", reachability)

        # "Allowing all ports"
        await k8s.create_policy(gen_network_policy_with_match_label("allow-ingress", {}, ingress=[{}]), "x")
        await k8s.validate(81, "TCP", Reachability(k8s.pods, True))

    @staticmethod
    async def should_enforce_multiple_egress_policies_with_egress_allow_all_policy_taking_precedence(
        k8s: Model,
    ) -> None:
        policy_allow_port80 = gen_network_policy_with_match_label(
            "allow-egress-port-80", {}, egress=[{"ports": [{"port": 80}]}]
        )
        await k8s.create_policy(policy_allow_port80, "x")
        # "Making sure ingress doesn't work other than port 80"
        reachability = Reachability(k8s.pods, True)
        reachability.expect_peer(Peer(namespace=k8s.ns("x")), Peer(), False)
        await k8s.validate(81, "TCP", reachability)

        # "Allowing all ports"
        await k8s.create_policy(gen_network_policy_with_match_label("allow-egress", {}, egress=[{}]), "x")
        await k8s.validate(81, "TCP", Reachability(k8s.pods, True))

    @staticmethod
    async def should_stop_enforcing_policies_after_they_are_deleted(k8s: Model) -> None:
        # "Creating a network policy for the server which denies all traffic."
        # Deny all traffic into and out of "x".
        await k8s.create_policy(gen_network_policy("deny-all", {}, ingress=[], egress=[]), "x")
        reachability = Reachability(k8s.pods, True)
        # Expect all traffic into, and out of "x" to be False.
        reachability.expect_peer(Peer(namespace=k8s.ns("x")), Peer(), False)
        reachability.expect_peer(Peer(), Peer(namespace=k8s.ns("x")), False)
        await k8s.validate(80, "TCP", reachability)

        await k8s.clean_network_policies()  # upstream then sleeps 3 s; the validation below waits instead
        # Now the policy is deleted, we expect all connectivity to work again.
        await k8s.validate(80, "TCP", Reachability(k8s.pods, True))

    @staticmethod
    async def should_allow_egress_access_to_server_in_cidr_block(k8s: Model) -> None:
        egress_rule = {"to": [{"ipBlock": {"cidr": host_cidr(k8s.pod_ip("y", "b"))}}]}
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-cidr-egress-rule", {"pod": "a"}, egress=[egress_rule]
        )
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_all_egress(k8s.pod("x", "a"), False)
        reachability.expect(k8s.pod("x", "a"), k8s.pod("y", "b"), True)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_enforce_except_clause_while_egress_access_to_server_in_cidr_block(k8s: Model) -> None:
        pod_b_ip = k8s.pod_ip("x", "b")
        # Create a rule that allows egress to a large set of IPs around podB, but not podB itself.
        egress_rule = {"to": [{"ipBlock": {"cidr": make_large_cidr_for_ip(pod_b_ip), "except": [host_cidr(pod_b_ip)]}}]}
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-cidr-egress-rule", {"pod": "a"}, egress=[egress_rule]
        )
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect(k8s.pod("x", "a"), k8s.pod("x", "b"), False)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_ensure_an_ip_overlapping_both_ipblock_cidr_and_ipblock_except_is_allowed(k8s: Model) -> None:
        pod_b_ip = k8s.pod_ip("x", "b")
        egress_rule = {"to": [{"ipBlock": {"cidr": make_large_cidr_for_ip(pod_b_ip), "except": [host_cidr(pod_b_ip)]}}]}
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-cidr-egress-rule", {"pod": "a"}, egress=[egress_rule]
        )
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect(k8s.pod("x", "a"), k8s.pod("x", "b"), False)
        await k8s.validate(80, "TCP", reachability)
        allow = gen_network_policy_with_match_label(
            "allow-client-a-via-cidr-egress-rule",
            {"pod": "a"},
            egress=[{"to": [{"ipBlock": {"cidr": host_cidr(pod_b_ip)}}]}],
        )
        await k8s.update_policy(allow, "x")
        reachability_allow = Reachability(k8s.pods, True)
        reachability_allow.expect_all_egress(k8s.pod("x", "a"), False)
        reachability_allow.expect(k8s.pod("x", "a"), k8s.pod("x", "b"), True)
        await k8s.validate(80, "TCP", reachability_allow)

    @staticmethod
    async def should_enforce_policies_to_check_ingress_and_egress_policies_can_be_controlled_independently_based_on_podselector(
        k8s: Model,
    ) -> None:
        target_labels = {"pod": "a"}
        # "Creating a network policy for pod-a which allows Egress traffic to pod-b."
        allow_egress_policy = gen_network_policy("allow-egress-for-target", match_labels(**target_labels), egress=[{}])
        await k8s.create_policy(allow_egress_policy, "x")
        await k8s.validate(80, "TCP", Reachability(k8s.pods, True))

        # "Creating a network policy for pod-a that denies traffic from pod-b."
        deny_all_ingress_policy = gen_network_policy(
            "deny-ingress-via-label-selector", match_labels(**target_labels), ingress=[]
        )
        await k8s.create_policy(deny_all_ingress_policy, "x")
        deny_ingress_to_x_reachability = Reachability(k8s.pods, True)
        deny_ingress_to_x_reachability.expect_all_ingress(k8s.pod("x", "a"), False)
        await k8s.validate(80, "TCP", deny_ingress_to_x_reachability)

    @staticmethod
    async def should_not_mistakenly_treat_protocol_sctp_as_protocol_tcp_even_if_the_plugin_doesnt_support_sctp(
        k8s: Model,
    ) -> None:
        # "Creating a default-deny ingress policy." Empty podSelector blocks the entire namespace
        await k8s.create_policy(gen_network_policy("deny-ingress", {}, ingress=[]), "x")
        # "Creating a network policy for the server which allows traffic only via SCTP on port 81."
        ingress_rule = {"ports": [{"port": 81, "protocol": "SCTP"}]}
        policy = gen_network_policy_with_match_label(
            "allow-only-sctp-ingress-on-port-81", {"pod": "a"}, ingress=[ingress_rule]
        )
        await k8s.create_policy(policy, "x")
        # "Trying to connect to TCP port 81, which should be blocked by the deny-ingress policy."
        reachability = Reachability(k8s.pods, True)
        reachability.expect_peer(Peer(), Peer(namespace=k8s.ns("x")), False)
        await k8s.validate(81, "TCP", reachability)

    @staticmethod
    async def should_properly_isolate_pods_that_are_selected_by_a_policy_allowing_sctp_even_if_the_plugin_doesnt_support_sctp(
        k8s: Model,
    ) -> None:
        # "Creating a network policy for the server which allows traffic only via SCTP on port 80."
        ingress_rule = {"ports": [{"port": 80, "protocol": "SCTP"}]}
        policy = gen_network_policy_with_match_label(
            "allow-only-sctp-ingress-on-port-80", {"pod": "a"}, ingress=[ingress_rule]
        )
        await k8s.create_policy(policy, "x")
        # "Trying to connect to TCP port 81, which should be blocked by implicit isolation."
        reachability = Reachability(k8s.pods, True)
        reachability.expect_all_ingress(k8s.pod("x", "a"), False)
        await k8s.validate(81, "TCP", reachability)

    @staticmethod
    async def should_not_allow_access_by_tcp_when_a_policy_specifies_only_udp(k8s: Model) -> None:
        ingress_rule = {"ports": [{"port": 81, "protocol": "UDP"}]}
        policy = gen_network_policy_with_match_label(
            "allow-only-udp-ingress-on-port-81", {"pod": "a"}, ingress=[ingress_rule]
        )
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_all_ingress(k8s.pod("x", "a"), False)
        await k8s.validate(81, "TCP", reachability)

    @staticmethod
    async def should_enforce_policy_to_allow_traffic_based_on_namespaceselector_with_matchlabels_using_default_ns_label(
        k8s: Model,
    ) -> None:
        ingress_rule = {"from": [{"namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: k8s.ns("y")})}]}
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-ns-selector-for-immutable-ns-label", {"pod": "a"}, ingress=[ingress_rule]
        )
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_peer(Peer(namespace=k8s.ns("x")), Peer(namespace=k8s.ns("x"), pod="a"), False)
        reachability.expect_peer(Peer(namespace=k8s.ns("z")), Peer(namespace=k8s.ns("x"), pod="a"), False)
        await k8s.validate(80, "TCP", reachability)

    @staticmethod
    async def should_enforce_policy_based_on_namespaceselector_with_matchexpressions_using_default_ns_label(
        k8s: Model,
    ) -> None:
        egress_rule = {"to": [{"namespaceSelector": match_expression(NAMESPACE_LABEL_KEY, "NotIn", k8s.ns("y"))}]}
        policy = gen_network_policy_with_match_label(
            "allow-ns-y-match-selector-for-immutable-ns-label", {"pod": "a"}, egress=[egress_rule]
        )
        await k8s.create_policy(policy, "x")
        reachability = Reachability(k8s.pods, True)
        reachability.expect_peer(Peer(namespace=k8s.ns("x"), pod="a"), Peer(namespace=k8s.ns("y")), False)
        await k8s.validate(80, "TCP", reachability)


# ---------------------------------------------------------------------------------------------- UDP and SCTP


class NetworkPolicyBetweenServerAndClientUsingUDP(Context):
    """ginkgo.Context("NetworkPolicy between server and client using UDP") of "Netpol [LinuxOnly]"."""

    PROTOCOL: ClassVar[str] = "UDP"

    @staticmethod
    async def should_support_a_default_deny_ingress_policy(k8s: Model) -> None:
        await _default_deny_ingress(k8s, "UDP")

    @staticmethod
    async def should_enforce_policy_based_on_ports(k8s: Model) -> None:
        await _ports(k8s, "UDP")

    @staticmethod
    async def should_enforce_policy_to_allow_traffic_only_from_a_pod_in_a_different_namespace_based_on_podselector_and_namespaceselector(
        k8s: Model,
    ) -> None:
        await _only_from_y_a(k8s, "UDP")


class NetworkPolicyBetweenServerAndClientUsingSCTP(Context):
    """ginkgo.Context("NetworkPolicy between server and client using SCTP") of "Netpol [Feature:SCTPConnectivity]"."""

    PROTOCOL: ClassVar[str] = "SCTP"

    @staticmethod
    async def should_support_a_default_deny_ingress_policy(k8s: Model) -> None:
        await _default_deny_ingress(k8s, "SCTP")

    @staticmethod
    async def should_enforce_policy_based_on_ports(k8s: Model) -> None:
        await _ports(k8s, "SCTP")

    @staticmethod
    async def should_enforce_policy_to_allow_traffic_only_from_a_pod_in_a_different_namespace_based_on_podselector_and_namespaceselector(
        k8s: Model,
    ) -> None:
        await _only_from_y_a(k8s, "SCTP")


# ---------------------------------------------------------------------------------------------- the lists

CONTEXTS: tuple[type[Context], ...] = (
    NetworkPolicyBetweenServerAndClient,
    NetworkPolicyBetweenServerAndClientUsingUDP,
    NetworkPolicyBetweenServerAndClientUsingSCTP,
)


def _cases_of(context: type[Context]) -> list[Case]:
    """The f.It coroutines of a context, in source (upstream) order."""
    return [getattr(context, name) for name, value in vars(context).items() if isinstance(value, staticmethod)]


_CONTEXT_OF: dict[Case, type[Context]] = {case: context for context in CONTEXTS for case in _cases_of(context)}
ALL_CASES: list[Case] = list(_CONTEXT_OF)


def context_of(case: Case) -> type[Context]:
    """The ginkgo.Context class a case belongs to (its PROTOCOL says which protocol it validates on)."""
    return _CONTEXT_OF[case]


_TCP = NetworkPolicyBetweenServerAndClient
E2E_CASES: list[Case] = [
    _TCP.should_support_a_default_deny_ingress_policy,
    _TCP.should_support_a_default_deny_all_policy,
    _TCP.should_enforce_policy_to_allow_traffic_only_from_a_different_namespace_based_on_namespaceselector,
    _TCP.should_enforce_policy_based_on_podselector_and_namespaceselector,
    _TCP.should_enforce_policy_based_on_ports,
    _TCP.should_allow_ingress_access_on_one_named_port,
    _TCP.should_allow_egress_access_on_one_named_port,
    _TCP.should_allow_ingress_access_from_updated_namespace,
    _TCP.should_deny_egress_from_all_pods_in_a_namespace,
    _TCP.should_enforce_egress_policy_allowing_traffic_to_a_server_in_a_different_namespace_based_on_podselector_and_namespaceselector,
    _TCP.should_allow_egress_access_to_server_in_cidr_block,
    _TCP.should_ensure_an_ip_overlapping_both_ipblock_cidr_and_ipblock_except_is_allowed,
    _TCP.should_not_allow_access_by_tcp_when_a_policy_specifies_only_udp,
]
