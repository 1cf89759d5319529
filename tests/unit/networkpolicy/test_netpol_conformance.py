"""Port of kubernetes test/e2e/network/netpol/network_policy.go: every test block, every expected matrix.

One class per ginkgo Context, one test per `f.It`, named after it; the statements follow the upstream
ones in order (initializeResources, CreatePolicy / UpdatePolicy, label edits, Expect*, ValidateOrFail).
Each test runs on two topologies: the pods upstream now creates for that test ("upstream"), and the full
3 x 3 model that older upstream versions used for every test ("full"). Two tests carry one extra
expectation from that older full-model version, guarded by `k8s.has(...)` (upstream dropped it with the pod).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from netpol_e2e import (
    ALL_PODS,
    NAMESPACE_LABEL_KEY,
    Cluster,
    Peer,
    Reachability,
    gen_network_policy,
    gen_network_policy_with_match_label,
    host_cidr,
    make_large_cidr_for_ip,
    validate_or_fail,
)

X, Y, Z = "x", "y", "z"
TCP, UDP, SCTP = "TCP", "UDP", "SCTP"

InitializeResources = Callable[..., Cluster]
Rule = dict[str, Any]


@pytest.fixture(params=["upstream", "full"])
def initialize_resources(request: pytest.FixtureRequest) -> InitializeResources:
    """initializeResources(protocols, ports, pods...): the test's own pods, or all nine."""

    def initialize(protocols: list[str], ports: list[int], *pods: str) -> Cluster:
        return Cluster(pods if request.param == "upstream" else ALL_PODS, ports=ports, protocols=protocols)

    return initialize


def pod(namespace: str, name: str) -> str:
    """NewPodString."""
    return f"{namespace}/{name}"


def match_labels(**labels: str) -> dict[str, object]:
    return {"matchLabels": labels}


def match_expression(key: str, operator: str, *values: str) -> dict[str, object]:
    return {"matchExpressions": [{"key": key, "operator": operator, "values": list(values)}]}


def validate(k8s: Cluster, to_port: int, protocol: str, reachability: Reachability) -> None:
    validate_or_fail(k8s, to_port=to_port, protocol=protocol, reachability=reachability)


class TestNetworkPolicyBetweenServerAndClient:
    """ginkgo.Context("NetworkPolicy between server and client")."""

    def test_should_support_a_default_deny_ingress_policy(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a", "y/b")
        policy = gen_network_policy("deny-ingress", {}, ingress=[])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(), Peer(namespace=X), False)
        validate(k8s, 80, TCP, reachability)

    def test_should_support_a_default_deny_all_policy(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a")
        policy = gen_network_policy("deny-all", {}, ingress=[], egress=[])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(), Peer(namespace=X), False)
        reachability.expect_peer(Peer(namespace=X), Peer(), False)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_policy_to_allow_traffic_from_pods_within_server_namespace_based_on_podselector(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "x/c", "y/a")
        ingress_rule = {"from": [{"podSelector": match_labels(pod="b")}]}
        policy = gen_network_policy_with_match_label("x-a-allows-x-b", {"pod": "a"}, ingress=[ingress_rule])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_ingress(pod(X, "a"), False)
        reachability.expect(pod(X, "b"), pod(X, "a"), True)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_policy_to_allow_ingress_traffic_for_a_target(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a")
        # "having a deny all ingress policy"
        k8s.create_policy(gen_network_policy("deny-all", {}, ingress=[]), X)
        # Allow Ingress traffic only to pod x/a from any pod
        ingress_rule: Rule = {"from": [{"podSelector": {}, "namespaceSelector": {}}]}
        allow_policy = gen_network_policy_with_match_label("allow-all-to-a", {"pod": "a"}, ingress=[ingress_rule])
        k8s.create_policy(allow_policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_ingress(pod(X, "a"), True)
        reachability.expect_all_ingress(pod(X, "b"), False)
        if k8s.has(pod(X, "c")):  # from the full-model version of this test, before upstream trimmed its pods
            reachability.expect_all_ingress(pod(X, "c"), False)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_policy_to_allow_ingress_traffic_from_pods_in_all_namespaces(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a", "z/a")
        ingress_rule: Rule = {"from": [{"namespaceSelector": {"matchLabels": {}}}]}
        policy = gen_network_policy_with_match_label("allow-from-another-ns", {"pod": "a"}, ingress=[ingress_rule])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_policy_to_allow_traffic_only_from_a_different_namespace_based_on_namespaceselector(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a", "z/a")
        ingress_rule = {"from": [{"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL_KEY: Y}}}]}
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-ns-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        # disallow all traffic from the x or z namespaces
        reachability.expect_peer(Peer(namespace=X), Peer(namespace=X, pod="a"), False)
        reachability.expect_peer(Peer(namespace=Z), Peer(namespace=X, pod="a"), False)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_policy_based_on_podselector_with_matchexpressions(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a")
        ingress_rule = {"from": [{"podSelector": match_expression("pod", "In", "b")}]}
        policy = gen_network_policy_with_match_label("x-a-allows-x-b", {"pod": "a"}, ingress=[ingress_rule])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_ingress(pod(X, "a"), False)
        reachability.expect(pod(X, "b"), pod(X, "a"), True)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_policy_based_on_namespaceselector_with_matchexpressions(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a", "z/a")
        ingress_rule = {"from": [{"namespaceSelector": match_expression(NAMESPACE_LABEL_KEY, "In", Y)}]}
        policy = gen_network_policy_with_match_label("allow-ns-y-match-selector", {"pod": "a"}, ingress=[ingress_rule])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        # disallow all traffic from the x or z namespaces
        reachability.expect_peer(Peer(namespace=X), Peer(namespace=X, pod="a"), False)
        reachability.expect_peer(Peer(namespace=Z), Peer(namespace=X, pod="a"), False)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_policy_based_on_podselector_or_namespaceselector(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "x/c", "y/a")
        ingress_rule = {
            "from": [
                {"namespaceSelector": match_expression(NAMESPACE_LABEL_KEY, "NotIn", X)},
                {"podSelector": match_labels(pod="b")},
            ]
        }
        policy = gen_network_policy_with_match_label("allow-ns-y-match-selector", {"pod": "a"}, ingress=[ingress_rule])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect(pod(X, "a"), pod(X, "a"), False)
        reachability.expect(pod(X, "c"), pod(X, "a"), False)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_policy_based_on_podselector_and_namespaceselector(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a", "y/b", "z/b")
        ingress_rule = {
            "from": [
                {
                    "namespaceSelector": match_expression(NAMESPACE_LABEL_KEY, "NotIn", X),
                    "podSelector": match_labels(pod="b"),
                }
            ]
        }
        policy = gen_network_policy_with_match_label(
            "allow-ns-y-podselector-and-nsselector", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_ingress(pod(X, "a"), False)
        reachability.expect(pod(Y, "b"), pod(X, "a"), True)
        reachability.expect(pod(Z, "b"), pod(X, "a"), True)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_policy_based_on_multiple_podselectors_and_namespaceselectors(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a", "y/b", "y/c")
        ingress_rule = {
            "from": [
                {
                    "namespaceSelector": match_expression(NAMESPACE_LABEL_KEY, "NotIn", X),
                    "podSelector": match_expression("pod", "In", "b", "c"),
                }
            ]
        }
        policy = gen_network_policy_with_match_label("allow-ns-y-z-pod-b-c", {"pod": "a"}, ingress=[ingress_rule])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(namespace=X), Peer(namespace=X, pod="a"), False)
        reachability.expect(pod(Y, "a"), pod(X, "a"), False)
        if k8s.has(pod(Z, "a")):  # from the full-model version of this test, before upstream trimmed its pods
            reachability.expect(pod(Z, "a"), pod(X, "a"), False)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_policy_based_on_any_podselectors(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "x/c")
        ingress_rule = {"from": [{"podSelector": match_labels(pod="b")}, {"podSelector": match_labels(pod="c")}]}
        policy = gen_network_policy_with_match_label("allow-ns-x-pod-b-c", {"pod": "a"}, ingress=[ingress_rule])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_ingress(pod(X, "a"), False)
        # Connect Pods b and c to pod a from namespace nsX
        reachability.expect(pod(X, "b"), pod(X, "a"), True)
        reachability.expect(pod(X, "c"), pod(X, "a"), True)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_policy_to_allow_traffic_only_from_a_pod_in_a_different_namespace_based_on_podselector_and_namespaceselector(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a", "y/b", "z/a")
        ingress_rule = {
            "from": [
                {"namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: Y}), "podSelector": match_labels(pod="a")}
            ]
        }
        policy = gen_network_policy_with_match_label(
            "allow-ns-y-pod-a-via-namespace-pod-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_ingress(pod(X, "a"), False)
        reachability.expect(pod(Y, "a"), pod(X, "a"), True)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_policy_based_on_ports(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([TCP], [81], "x/a", "x/b", "y/a", "y/b", "z/a")
        # "Creating a network allowPort81Policy which only allows allow listed namespaces (y) to connect on
        # exactly one port (81)"
        ingress_rule = {
            "from": [{"namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: Y})}],
            "ports": [{"port": 81, "protocol": TCP}],
        }
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-ns-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(namespace=X), Peer(namespace=X, pod="a"), False)
        reachability.expect_peer(Peer(namespace=Y), Peer(namespace=X, pod="a"), True)
        reachability.expect_peer(Peer(namespace=Z), Peer(namespace=X, pod="a"), False)
        validate(k8s, 81, TCP, reachability)

    def test_should_enforce_multiple_stacked_policies_with_overlapping_podselectors(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80, 81], "x/a", "x/b", "y/a", "y/b", "z/a")
        allowed_labels = match_labels(**{NAMESPACE_LABEL_KEY: Y})
        ingress_rule = {"from": [{"namespaceSelector": allowed_labels}], "ports": [{"port": 81, "protocol": TCP}]}
        allow_port81 = gen_network_policy_with_match_label(
            "allow-client-a-via-ns-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(allow_port81, X)

        reachability_allow = Reachability(k8s.pod_strings, True)
        reachability_allow.expect_peer(Peer(namespace=X), Peer(namespace=X, pod="a"), False)
        reachability_allow.expect_peer(Peer(namespace=Y), Peer(namespace=X, pod="a"), True)
        reachability_allow.expect_peer(Peer(namespace=Z), Peer(namespace=X, pod="a"), False)
        # "Verifying traffic on port 81."
        validate(k8s, 81, TCP, reachability_allow)

        reachability_deny = Reachability(k8s.pod_strings, True)
        reachability_deny.expect_all_ingress(pod(X, "a"), False)
        # "Verifying traffic on port 80."
        validate(k8s, 80, TCP, reachability_deny)

        ingress_rule = {"from": [{"namespaceSelector": allowed_labels}], "ports": [{"port": 80, "protocol": TCP}]}
        allow_port80 = gen_network_policy_with_match_label(
            "allow-client-a-via-ns-selector-80", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(allow_port80, X)
        # "Verifying that we can add a policy to unblock port 80"
        validate(k8s, 80, TCP, reachability_allow)

    def test_should_support_allow_all_policy(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([TCP], [80, 81], "x/a", "x/b", "y/a")
        policy = gen_network_policy_with_match_label("allow-all", {}, ingress=[{}])
        k8s.create_policy(policy, X)

        # "Testing pods can connect to both ports when an 'allow-all' policy is present."
        reachability = Reachability(k8s.pod_strings, True)
        validate(k8s, 80, TCP, reachability)
        validate(k8s, 81, TCP, reachability)

    def test_should_allow_ingress_access_on_one_named_port(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([TCP], [80, 81], "x/a", "x/b", "y/a")
        # "Blocking all ports other then 81 in the entire namespace"
        ingress_rules = {"ports": [{"port": "serve-81-tcp"}]}
        policy = gen_network_policy_with_match_label("allow-all", {}, ingress=[ingress_rules])
        k8s.create_policy(policy, X)

        reachability_port81 = Reachability(k8s.pod_strings, True)
        validate(k8s, 81, TCP, reachability_port81)

        # disallow all traffic to the x namespace
        reachability_port80 = Reachability(k8s.pod_strings, True)
        reachability_port80.expect_peer(Peer(), Peer(namespace=X), False)
        validate(k8s, 80, TCP, reachability_port80)

    def test_should_allow_ingress_access_from_namespace_on_one_named_port(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80, 81], "x/a", "x/b", "y/a", "z/a")
        ingress_rule = {
            "from": [{"namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: Y})}],
            "ports": [{"port": "serve-80-tcp", "protocol": TCP}],
        }
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-ns-selector-80", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        # disallow all traffic from the x or z namespaces
        reachability.expect_peer(Peer(namespace=X), Peer(namespace=X, pod="a"), False)
        reachability.expect_peer(Peer(namespace=Z), Peer(namespace=X, pod="a"), False)
        # "Verify that port 80 is allowed for namespace y"
        validate(k8s, 80, TCP, reachability)

        # "Verify that port 81 is blocked for all namespaces including y"
        reachability_fail = Reachability(k8s.pod_strings, True)
        reachability_fail.expect_all_ingress(pod(X, "a"), False)
        validate(k8s, 81, TCP, reachability_fail)

    def test_should_allow_egress_access_on_one_named_port(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([TCP], [80, 81], "x/a", "y/a")
        egress_rule = {"ports": [{"port": "serve-80-tcp"}]}
        policy = gen_network_policy_with_match_label("allow-egress", {}, egress=[egress_rule])
        k8s.create_policy(policy, X)

        reachability_port80 = Reachability(k8s.pod_strings, True)
        validate(k8s, 80, TCP, reachability_port80)

        # meanwhile no traffic over 81 should work, since our egress policy is on 80
        reachability_port81 = Reachability(k8s.pod_strings, True)
        reachability_port81.expect_peer(Peer(namespace=X), Peer(), False)
        validate(k8s, 81, TCP, reachability_port81)

    def test_should_enforce_updated_policy(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([TCP], [81], "x/a", "y/a")
        # "Using the simplest possible mutation: start with allow all, then switch to deny all"
        # part 1) allow all
        policy = gen_network_policy_with_match_label("allow-all-mutate-to-deny-all", {}, ingress=[{}])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        validate(k8s, 81, TCP, reachability)

        # part 2) update the policy to deny all
        policy["spec"]["ingress"] = []
        k8s.update_policy(policy, X)

        reachability_deny = Reachability(k8s.pod_strings, True)
        reachability_deny.expect_peer(Peer(), Peer(namespace=X), False)
        validate(k8s, 81, TCP, reachability_deny)

    def test_should_allow_ingress_access_from_updated_namespace(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "y/a")
        ingress_rule = {"from": [{"namespaceSelector": match_labels(ns2="updated")}]}
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-ns-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_ingress(pod(X, "a"), False)
        validate(k8s, 80, TCP, reachability)

        # add a new label
        k8s.add_namespace_label(Y, "ns2", "updated")

        # anything from namespace 'y' should be able to get to x/a
        reachability_with_label = Reachability(k8s.pod_strings, True)
        reachability_with_label.expect_all_ingress(pod(X, "a"), False)
        reachability_with_label.expect_peer(Peer(namespace=Y), Peer(), True)
        validate(k8s, 80, TCP, reachability_with_label)

    def test_should_allow_ingress_access_from_updated_pod(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b")
        # add a new label
        labels = {"pod": "b", "pod2": "updated"}
        ingress_rule = {"from": [{"podSelector": {"matchLabels": labels}}]}
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-pod-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_ingress(pod(X, "a"), False)
        validate(k8s, 80, TCP, reachability)

        k8s.add_pod_labels(X, "b", labels)

        # "x/b is able to reach x/a when label is updated"
        reachability_with_label = Reachability(k8s.pod_strings, True)
        reachability_with_label.expect_all_ingress(pod(X, "a"), False)
        reachability_with_label.expect(pod(X, "b"), pod(X, "a"), True)
        validate(k8s, 80, TCP, reachability_with_label)

    def test_should_deny_ingress_from_pods_on_other_namespaces(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a", "z/a")
        ingress_rules: Rule = {"from": [{"podSelector": {"matchLabels": {}}}]}
        policy = gen_network_policy("deny-empty-policy", {}, ingress=[ingress_rules])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(namespace=Y), Peer(namespace=X), False)
        reachability.expect_peer(Peer(namespace=Z), Peer(namespace=X), False)
        validate(k8s, 80, TCP, reachability)

    def test_should_deny_ingress_access_to_updated_pod(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "y/a")
        policy = gen_network_policy("deny-ingress-via-label-selector", match_labels(target="isolated"), ingress=[])
        k8s.create_policy(policy, X)

        # "Verify that everything can reach x/a"
        reachability = Reachability(k8s.pod_strings, True)
        validate(k8s, 80, TCP, reachability)

        k8s.add_pod_labels(X, "a", {"target": "isolated"})

        reachability_isolated = Reachability(k8s.pod_strings, True)
        reachability_isolated.expect_all_ingress(pod(X, "a"), False)
        validate(k8s, 80, TCP, reachability_isolated)

    def test_should_deny_egress_from_pods_based_on_podselector(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a")
        policy = gen_network_policy("deny-egress-pod-a", match_labels(pod="a"), egress=[])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_egress(pod(X, "a"), False)
        validate(k8s, 80, TCP, reachability)

    def test_should_deny_egress_from_all_pods_in_a_namespace(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a")
        policy = gen_network_policy("deny-egress-ns-x", {}, egress=[])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(namespace=X), Peer(), False)
        validate(k8s, 80, TCP, reachability)

    def test_should_work_with_ingress_egress_specified_together(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80, 81], "x/a", "x/b", "x/c", "y/a")
        ingress_rule = {"from": [{"podSelector": match_labels(pod="b")}]}
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-pod-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        # add an egress rule on to it... (don't use named ports)
        policy["spec"]["egress"] = [{"ports": [{"port": 80}]}]
        policy["spec"]["policyTypes"] = ["Egress", "Ingress"]
        k8s.create_policy(policy, X)

        reachability_port80 = Reachability(k8s.pod_strings, True)
        reachability_port80.expect_all_ingress(pod(X, "a"), False)
        reachability_port80.expect(pod(X, "b"), pod(X, "a"), True)
        validate(k8s, 80, TCP, reachability_port80)

        # "validating that port 81 doesn't work"
        # meanwhile no egress traffic on 81 should work, since our egress policy is on 80
        reachability_port81 = Reachability(k8s.pod_strings, True)
        reachability_port81.expect_all_ingress(pod(X, "a"), False)
        reachability_port81.expect_all_egress(pod(X, "a"), False)
        reachability_port81.expect(pod(X, "b"), pod(X, "a"), True)
        validate(k8s, 81, TCP, reachability_port81)

    def test_should_support_denying_of_egress_traffic_on_the_client_side_even_if_the_server_explicitly_allows_this_traffic(
        self, initialize_resources: InitializeResources
    ) -> None:
        # x/a --> y/a and y/b
        # Egress allowed to y/a only. Egress to y/b should be blocked
        # Ingress on y/a and y/b allow traffic from x/a
        # Expectation: traffic from x/a to y/a allowed only, traffic from x/a to y/b denied by egress policy
        k8s = initialize_resources([TCP], [80], "x/a", "y/a", "y/b")

        # Building egress policy for x/a to y/a only
        egress_rule1 = {
            "to": [
                {"namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: Y}), "podSelector": match_labels(pod="a")}
            ]
        }
        egress_policy = gen_network_policy_with_match_label("allow-to-ns-y-pod-a", {"pod": "a"}, egress=[egress_rule1])
        k8s.create_policy(egress_policy, X)

        # Creating ingress policy to allow from x/a to y/a and y/b
        ingress_rule = {
            "from": [
                {"namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: X}), "podSelector": match_labels(pod="a")}
            ]
        }
        allow_ingress_pod_a = gen_network_policy_with_match_label(
            "allow-from-xa-on-ya-match-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        allow_ingress_pod_b = gen_network_policy_with_match_label(
            "allow-from-xa-on-yb-match-selector", {"pod": "b"}, ingress=[ingress_rule]
        )
        k8s.create_policy(allow_ingress_pod_a, Y)
        k8s.create_policy(allow_ingress_pod_b, Y)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(namespace=X, pod="a"), Peer(), False)
        reachability.expect_peer(Peer(), Peer(namespace=Y, pod="a"), False)
        reachability.expect_peer(Peer(namespace=X, pod="a"), Peer(namespace=Y, pod="a"), True)
        reachability.expect_peer(Peer(), Peer(namespace=Y, pod="b"), False)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_egress_policy_allowing_traffic_to_a_server_in_a_different_namespace_based_on_podselector_and_namespaceselector(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "y/a", "y/b")
        egress_rule1 = {
            "to": [
                {"namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: Y}), "podSelector": match_labels(pod="a")}
            ]
        }
        policy = gen_network_policy_with_match_label("allow-to-ns-y-pod-a", {"pod": "a"}, egress=[egress_rule1])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_egress(pod(X, "a"), False)
        reachability.expect(pod(X, "a"), pod(Y, "a"), True)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_ingress_policy_allowing_any_port_traffic_to_a_server_on_a_specific_protocol(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP, UDP], [80], "x/a", "y/a")
        ingress_rule = {"ports": [{"protocol": TCP}]}
        policy = gen_network_policy_with_match_label("allow-ingress-by-proto", {"pod": "a"}, ingress=[ingress_rule])
        k8s.create_policy(policy, X)

        reachability_tcp = Reachability(k8s.pod_strings, True)
        validate(k8s, 80, TCP, reachability_tcp)

        reachability_udp = Reachability(k8s.pod_strings, True)
        reachability_udp.expect_peer(Peer(), Peer(namespace=X, pod="a"), False)
        validate(k8s, 80, UDP, reachability_udp)

    def test_should_enforce_multiple_ingress_policies_with_ingress_allow_all_policy_taking_precedence(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [81], "x/a", "y/a")
        ingress_rules = {"ports": [{"port": 80}]}
        policy_allow_only_port80 = gen_network_policy_with_match_label(
            "allow-ingress-port-80", {}, ingress=[ingress_rules]
        )
        k8s.create_policy(policy_allow_only_port80, X)

        # "The policy targets port 80 -- so let's make sure traffic on port 81 is blocked"
        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(), Peer(namespace=X), False)
        validate(k8s, 81, TCP, reachability)

        # "Allowing all ports"
        policy_allow_all = gen_network_policy_with_match_label("allow-ingress", {}, ingress=[{}])
        k8s.create_policy(policy_allow_all, X)

        reachability_all = Reachability(k8s.pod_strings, True)
        validate(k8s, 81, TCP, reachability_all)

    def test_should_enforce_multiple_egress_policies_with_egress_allow_all_policy_taking_precedence(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [81], "x/a", "y/a")
        egress_rule = {"ports": [{"port": 80}]}
        policy_allow_port80 = gen_network_policy_with_match_label("allow-egress-port-80", {}, egress=[egress_rule])
        k8s.create_policy(policy_allow_port80, X)

        # "Making sure ingress doesn't work other than port 80"
        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(namespace=X), Peer(), False)
        validate(k8s, 81, TCP, reachability)

        # "Allowing all ports"
        policy_allow_all = gen_network_policy_with_match_label("allow-egress", {}, egress=[{}])
        k8s.create_policy(policy_allow_all, X)

        reachability_all = Reachability(k8s.pod_strings, True)
        validate(k8s, 81, TCP, reachability_all)

    def test_should_stop_enforcing_policies_after_they_are_deleted(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "y/a")
        # "Creating a network policy for the server which denies all traffic."
        # Deny all traffic into and out of "x".
        policy = gen_network_policy("deny-all", {}, ingress=[], egress=[])
        k8s.create_policy(policy, X)
        reachability = Reachability(k8s.pod_strings, True)

        # Expect all traffic into, and out of "x" to be False.
        reachability.expect_peer(Peer(namespace=X), Peer(), False)
        reachability.expect_peer(Peer(), Peer(namespace=X), False)
        validate(k8s, 80, TCP, reachability)

        k8s.clean_network_policies()

        # Now the policy is deleted, we expect all connectivity to work again.
        reachability_all = Reachability(k8s.pod_strings, True)
        validate(k8s, 80, TCP, reachability_all)

    def test_should_allow_egress_access_to_server_in_cidr_block(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "y/a", "y/b")
        pod_server_cidr = host_cidr(k8s.pod_ip("y/b"))
        egress_rule1 = {"to": [{"ipBlock": {"cidr": pod_server_cidr}}]}
        policy_allow_cidr = gen_network_policy_with_match_label(
            "allow-client-a-via-cidr-egress-rule", {"pod": "a"}, egress=[egress_rule1]
        )
        k8s.create_policy(policy_allow_cidr, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_egress(pod(X, "a"), False)
        reachability.expect(pod(X, "a"), pod(Y, "b"), True)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_except_clause_while_egress_access_to_server_in_cidr_block(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "x/c")
        pod_b_ip = k8s.pod_ip("x/b")
        # Create a rule that allows egress to a large set of IPs around podB, but not podB itself.
        egress_rule1 = {
            "to": [{"ipBlock": {"cidr": make_large_cidr_for_ip(pod_b_ip), "except": [host_cidr(pod_b_ip)]}}]
        }
        policy_allow_cidr = gen_network_policy_with_match_label(
            "allow-client-a-via-cidr-egress-rule", {"pod": "a"}, egress=[egress_rule1]
        )
        k8s.create_policy(policy_allow_cidr, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect(pod(X, "a"), pod(X, "b"), False)
        validate(k8s, 80, TCP, reachability)

    def test_should_ensure_an_ip_overlapping_both_ipblock_cidr_and_ipblock_except_is_allowed(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "x/c")
        pod_b_ip = k8s.pod_ip("x/b")
        # Create a rule that allows egress to a large set of IPs around podB, but not podB itself.
        egress_rule1 = {
            "to": [{"ipBlock": {"cidr": make_large_cidr_for_ip(pod_b_ip), "except": [host_cidr(pod_b_ip)]}}]
        }
        policy_allow_cidr = gen_network_policy_with_match_label(
            "allow-client-a-via-cidr-egress-rule", {"pod": "a"}, egress=[egress_rule1]
        )
        k8s.create_policy(policy_allow_cidr, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect(pod(X, "a"), pod(X, "b"), False)
        validate(k8s, 80, TCP, reachability)

        # Create a second NetworkPolicy which allows access to podB (upstream updates the same name)
        egress_rule3 = {"to": [{"ipBlock": {"cidr": host_cidr(pod_b_ip)}}]}
        allow_policy = gen_network_policy_with_match_label(
            "allow-client-a-via-cidr-egress-rule", {"pod": "a"}, egress=[egress_rule3]
        )
        k8s.update_policy(allow_policy, X)

        reachability_allow = Reachability(k8s.pod_strings, True)
        reachability_allow.expect_all_egress(pod(X, "a"), False)
        reachability_allow.expect(pod(X, "a"), pod(X, "b"), True)
        validate(k8s, 80, TCP, reachability_allow)

    def test_should_enforce_policies_to_check_ingress_and_egress_policies_can_be_controlled_independently_based_on_podselector(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a")
        target_labels = {"pod": "a"}

        # "Creating a network policy for pod-a which allows Egress traffic to pod-b."
        allow_egress_policy = gen_network_policy("allow-egress-for-target", {"matchLabels": target_labels}, egress=[{}])
        k8s.create_policy(allow_egress_policy, X)

        allow_egress_reachability = Reachability(k8s.pod_strings, True)
        validate(k8s, 80, TCP, allow_egress_reachability)

        # "Creating a network policy for pod-a that denies traffic from pod-b."
        deny_all_ingress_policy = gen_network_policy(
            "deny-ingress-via-label-selector", {"matchLabels": target_labels}, ingress=[]
        )
        k8s.create_policy(deny_all_ingress_policy, X)

        deny_ingress_to_x_reachability = Reachability(k8s.pod_strings, True)
        deny_ingress_to_x_reachability.expect_all_ingress(pod(X, "a"), False)
        validate(k8s, 80, TCP, deny_ingress_to_x_reachability)

    def test_should_not_mistakenly_treat_protocol_sctp_as_protocol_tcp_even_if_the_plugin_doesnt_support_sctp(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [81], "x/a", "y/a")
        # "Creating a default-deny ingress policy." Empty podSelector blocks the entire namespace
        k8s.create_policy(gen_network_policy("deny-ingress", {}, ingress=[]), X)

        # "Creating a network policy for the server which allows traffic only via SCTP on port 81."
        ingress_rule = {"ports": [{"port": 81, "protocol": SCTP}]}
        policy = gen_network_policy_with_match_label(
            "allow-only-sctp-ingress-on-port-81", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        # "Trying to connect to TCP port 81, which should be blocked by the deny-ingress policy."
        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(), Peer(namespace=X), False)
        validate(k8s, 81, TCP, reachability)

    def test_should_properly_isolate_pods_that_are_selected_by_a_policy_allowing_sctp_even_if_the_plugin_doesnt_support_sctp(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [81], "x/a", "y/a")
        # "Creating a network policy for the server which allows traffic only via SCTP on port 80."
        ingress_rule = {"ports": [{"port": 80, "protocol": SCTP}]}
        policy = gen_network_policy_with_match_label(
            "allow-only-sctp-ingress-on-port-80", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        # "Trying to connect to TCP port 81, which should be blocked by implicit isolation."
        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_ingress(pod(X, "a"), False)
        validate(k8s, 81, TCP, reachability)

    def test_should_not_allow_access_by_tcp_when_a_policy_specifies_only_udp(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [81], "x/a", "y/a")
        ingress_rule = {"ports": [{"port": 81, "protocol": UDP}]}
        policy = gen_network_policy_with_match_label(
            "allow-only-udp-ingress-on-port-81", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        # Probing with TCP, so all traffic should be dropped.
        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_ingress(pod(X, "a"), False)
        validate(k8s, 81, TCP, reachability)

    def test_should_enforce_policy_to_allow_traffic_based_on_namespaceselector_with_matchlabels_using_default_ns_label(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a", "z/a")
        ingress_rule = {"from": [{"namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: Y})}]}
        policy = gen_network_policy_with_match_label(
            "allow-client-a-via-ns-selector-for-immutable-ns-label", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(namespace=X), Peer(namespace=X, pod="a"), False)
        reachability.expect_peer(Peer(namespace=Z), Peer(namespace=X, pod="a"), False)
        validate(k8s, 80, TCP, reachability)

    def test_should_enforce_policy_based_on_namespaceselector_with_matchexpressions_using_default_ns_label(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([TCP], [80], "x/a", "x/b", "y/a", "z/a")
        egress_rule = {"to": [{"namespaceSelector": match_expression(NAMESPACE_LABEL_KEY, "NotIn", Y)}]}
        policy = gen_network_policy_with_match_label(
            "allow-ns-y-match-selector-for-immutable-ns-label", {"pod": "a"}, egress=[egress_rule]
        )
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(namespace=X, pod="a"), Peer(namespace=Y), False)
        validate(k8s, 80, TCP, reachability)


class TestNetworkPolicyBetweenServerAndClientUsingUDP:
    """ginkgo.Context("NetworkPolicy between server and client using UDP") of "Netpol [LinuxOnly]"."""

    def test_should_support_a_default_deny_ingress_policy(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([UDP], [80], "x/a", "x/b", "y/a", "y/b")
        policy = gen_network_policy("deny-all", {}, ingress=[])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(), Peer(namespace=X), False)
        validate(k8s, 80, UDP, reachability)

    def test_should_enforce_policy_based_on_ports(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([UDP], [81], "x/a", "x/b", "y/a", "z/a")
        ingress_rule = {
            "from": [{"namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: Y})}],
            "ports": [{"port": 81, "protocol": UDP}],
        }
        policy = gen_network_policy_with_match_label(
            "allow-ingress-on-port-81-ns-x", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(namespace=X), Peer(namespace=X, pod="a"), False)
        reachability.expect_peer(Peer(namespace=Z), Peer(namespace=X, pod="a"), False)
        validate(k8s, 81, UDP, reachability)

    def test_should_enforce_policy_to_allow_traffic_only_from_a_pod_in_a_different_namespace_based_on_podselector_and_namespaceselector(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([UDP], [80], "x/a", "x/b", "y/a")
        ingress_rule = {
            "from": [
                {"namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: Y}), "podSelector": match_labels(pod="a")}
            ]
        }
        policy = gen_network_policy_with_match_label(
            "allow-ns-y-pod-a-via-namespace-pod-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_ingress(pod(X, "a"), False)
        reachability.expect(pod(Y, "a"), pod(X, "a"), True)
        validate(k8s, 80, UDP, reachability)


class TestNetworkPolicyBetweenServerAndClientUsingSCTP:
    """ginkgo.Context("NetworkPolicy between server and client using SCTP") of "Netpol [Feature:SCTPConnectivity]"."""

    def test_should_support_a_default_deny_ingress_policy(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([SCTP], [80], "x/a", "x/b", "y/a", "y/b")
        policy = gen_network_policy("deny-all", {}, ingress=[])
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(), Peer(namespace=X), False)
        validate(k8s, 80, SCTP, reachability)

    def test_should_enforce_policy_based_on_ports(self, initialize_resources: InitializeResources) -> None:
        k8s = initialize_resources([SCTP], [81], "x/a", "x/b", "y/a", "z/a")
        ingress_rule = {
            "from": [{"namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: Y})}],
            "ports": [{"port": 81, "protocol": SCTP}],
        }
        policy = gen_network_policy_with_match_label(
            "allow-ingress-on-port-81-ns-x", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(namespace=X), Peer(namespace=X, pod="a"), False)
        reachability.expect_peer(Peer(namespace=Z), Peer(namespace=X, pod="a"), False)
        validate(k8s, 81, SCTP, reachability)

    def test_should_enforce_policy_to_allow_traffic_only_from_a_pod_in_a_different_namespace_based_on_podselector_and_namespaceselector(
        self, initialize_resources: InitializeResources
    ) -> None:
        k8s = initialize_resources([SCTP], [80], "x/a", "x/b", "y/a")
        ingress_rule = {
            "from": [
                {"namespaceSelector": match_labels(**{NAMESPACE_LABEL_KEY: Y}), "podSelector": match_labels(pod="a")}
            ]
        }
        policy = gen_network_policy_with_match_label(
            "allow-ns-y-pod-a-via-namespace-pod-selector", {"pod": "a"}, ingress=[ingress_rule]
        )
        k8s.create_policy(policy, X)

        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_all_ingress(pod(X, "a"), False)
        reachability.expect(pod(Y, "a"), pod(X, "a"), True)
        validate(k8s, 80, SCTP, reachability)


class TestHarness:
    """The harness must be able to fail: a wrong expectation is reported, loopback is ignored as upstream."""

    def test_a_wrong_expectation_fails_validation(self) -> None:
        k8s = Cluster(ALL_PODS, ports=[80], protocols=[TCP])
        k8s.create_policy(gen_network_policy("deny-ingress", {}, ingress=[]), X)
        reachability = Reachability(
            k8s.pod_strings, True
        )  # forgets that namespace x is now isolated: 9 x 3 cells, less the 3 loopbacks
        with pytest.raises(AssertionError, match=r"^24 wrong results on TCP/80") as caught:
            validate(k8s, 80, TCP, reachability)
        assert "comparison:" in str(caught.value)

    def test_loopback_is_ignored_like_upstream_ignoreLoopback(self) -> None:
        k8s = Cluster(ALL_PODS, ports=[80], protocols=[TCP])
        k8s.create_policy(gen_network_policy("deny-ingress", {}, ingress=[]), X)
        reachability = Reachability(k8s.pod_strings, True)
        reachability.expect_peer(Peer(), Peer(namespace=X), False)
        for pod_string in ALL_PODS:  # deliberately wrong on the diagonal only
            reachability.expect(pod_string, pod_string, not reachability.expected[pod_string][pod_string])
        validate(k8s, 80, TCP, reachability)
