"""Harness for the upstream e2e port: the x/y/z model, truth tables, policy builders and ValidateOrFail.

Python counterparts of kubernetes test/e2e/network/netpol: model.go (namespaces x, y, z; pods labelled
pod=<name>; one container per port x protocol, port names serve-<port>-<protocol>), reachability.go and
truthtable.go (Expect / ExpectPeer / ExpectAllIngress / ExpectAllEgress on a default-allowed table;
loopback ignored), policies.go (GenNetworkPolicy + SetSpecIngressRules / SetSpecEgressRules) and
kubemanager.go / test_helper.go (create, update and delete policies; add pod and namespace labels).
The cluster's probes are replaced by the engine's matrix, cross-checked against per-pair `evaluate`.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from operators.networkpolicy import Engine, parse_objects, reachability_matrix

NAMESPACES = ("x", "y", "z")
POD_NAMES = ("a", "b", "c")
ALL_PODS = tuple(f"{ns}/{pod}" for ns in NAMESPACES for pod in POD_NAMES)
NAMESPACE_LABEL_KEY = "kubernetes.io/metadata.name"  # namespaceLabelKey, v1.LabelMetadataName

Obj = dict[str, Any]


def pod_ip(pod: str) -> str:
    """A fixed IP per model pod: x/a 10.0.1.1 ... z/c 10.0.3.3."""
    namespace, name = pod.split("/")
    return f"10.0.{NAMESPACES.index(namespace) + 1}.{POD_NAMES.index(name) + 1}"


def host_cidr(ip: str) -> str:
    """`<ip>/32` (or /128): the hostMask CIDRs of the ipBlock tests."""
    return f"{ip}/{32 if ipaddress.ip_address(ip).version == 4 else 128}"


def make_large_cidr_for_ip(ip: str) -> str:
    """makeLargeCIDRForIP: the /4 that contains `ip`."""
    return str(ipaddress.ip_network(f"{ip}/4", strict=False))


# ------------------------------------------------------------------------------------------------ cluster


class Cluster:
    """kubeManager over a model: the objects of the test, edited between probes like the real cluster."""

    def __init__(self, pods: Iterable[str], *, ports: Sequence[int], protocols: Sequence[str]) -> None:
        self.pod_strings = tuple(pods)
        self.namespaces: dict[str, Obj] = {
            ns: {"kind": "Namespace", "metadata": {"name": ns, "labels": {"ns": ns}}} for ns in NAMESPACES
        }
        self.pods: dict[str, Obj] = {pod: _pod_object(pod, ports, protocols) for pod in self.pod_strings}
        self.policies: dict[tuple[str, str], Obj] = {}

    def create_policy(self, policy: Mapping[str, Any], namespace: str) -> None:
        """CreatePolicy: fails, as the API server would, when the name is taken."""
        key = (namespace, policy["metadata"]["name"])
        assert key not in self.policies, f"policy {key} already exists"
        self.policies[key] = _in_namespace(policy, namespace)

    def update_policy(self, policy: Mapping[str, Any], namespace: str) -> None:
        """UpdatePolicy: replaces the policy of the same name."""
        key = (namespace, policy["metadata"]["name"])
        assert key in self.policies, f"policy {key} does not exist"
        self.policies[key] = _in_namespace(policy, namespace)

    def clean_network_policies(self) -> None:
        self.policies.clear()

    def add_namespace_label(self, namespace: str, key: str, value: str) -> None:
        self.namespaces[namespace]["metadata"]["labels"][key] = value

    def add_pod_labels(self, namespace: str, name: str, labels: Mapping[str, str]) -> None:
        self.pods[f"{namespace}/{name}"]["metadata"]["labels"].update(labels)

    def has(self, pod: str) -> bool:
        return pod in self.pods

    def pod_ip(self, pod: str) -> str:
        return str(self.pods[pod]["status"]["podIP"])

    def engine(self) -> Engine:
        objects = [*self.namespaces.values(), *self.pods.values(), *self.policies.values()]
        return Engine(parse_objects(copy.deepcopy(objects)))


def _pod_object(pod: str, ports: Sequence[int], protocols: Sequence[str]) -> Obj:
    namespace, name = pod.split("/")
    containers = [
        {
            "name": f"cont-{port}-{protocol.lower()}",
            "ports": [{"containerPort": port, "name": f"serve-{port}-{protocol.lower()}", "protocol": protocol}],
        }
        for port in ports
        for protocol in protocols
    ]
    return {
        "kind": "Pod",
        "metadata": {"namespace": namespace, "name": name, "labels": {"pod": name}},
        "spec": {"containers": containers},
        "status": {"podIP": pod_ip(pod)},
    }


def _in_namespace(policy: Mapping[str, Any], namespace: str) -> Obj:
    placed = copy.deepcopy(dict(policy))
    placed["metadata"] = {**placed["metadata"], "namespace": namespace}
    return placed


# ------------------------------------------------------------------------------------------------ policies


def gen_network_policy(
    name: str,
    pod_selector: Mapping[str, Any],
    *,
    ingress: Sequence[Mapping[str, Any]] | None = None,
    egress: Sequence[Mapping[str, Any]] | None = None,
) -> Obj:
    """GenNetworkPolicyWithNameAndPodSelector(name, selector, SetSpecIngressRules(...), SetSpecEgressRules(...)).

    As upstream, passing `ingress` (even `[]`) sets spec.ingress and appends "Ingress" to policyTypes;
    likewise for `egress`. Leave an argument as None for "that setter was not called".
    """
    spec: Obj = {"podSelector": dict(pod_selector), "policyTypes": []}
    if ingress is not None:
        spec["ingress"] = [dict(rule) for rule in ingress]
        spec["policyTypes"].append("Ingress")
    if egress is not None:
        spec["egress"] = [dict(rule) for rule in egress]
        spec["policyTypes"].append("Egress")
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name}, "spec": spec}


def gen_network_policy_with_match_label(name: str, labels: Mapping[str, str], **rules: Any) -> Obj:
    """GenNetworkPolicyWithNameAndPodMatchLabel."""
    return gen_network_policy(name, {"matchLabels": dict(labels)}, **rules)


# ------------------------------------------------------------------------------------------------ truth tables


@dataclass(frozen=True, slots=True)
class Peer:
    """reachability.go Peer: an empty namespace or pod matches everything."""

    namespace: str = ""
    pod: str = ""

    def matches(self, pod: str) -> bool:
        namespace, name = pod.split("/")
        return self.namespace in ("", namespace) and self.pod in ("", name)


class Reachability:
    """reachability.go Reachability.Expected: a from x to truth table with a default value."""

    def __init__(self, pods: Sequence[str], default: bool) -> None:
        self.pods = tuple(pods)
        self.expected = {source: dict.fromkeys(self.pods, default) for source in self.pods}

    def expect(self, source: str, destination: str, connected: bool) -> None:
        assert source in self.expected and destination in self.expected, (source, destination)
        self.expected[source][destination] = connected

    def expect_all_ingress(self, pod: str, connected: bool) -> None:
        """SetAllTo: every source, the pod itself included, to `pod`."""
        for source in self.pods:
            self.expect(source, pod, connected)

    def expect_all_egress(self, pod: str, connected: bool) -> None:
        """SetAllFrom: `pod` to every destination, itself included."""
        for destination in self.pods:
            self.expect(pod, destination, connected)

    def expect_peer(self, source: Peer, destination: Peer, connected: bool) -> None:
        for from_pod in self.pods:
            for to_pod in self.pods:
                if source.matches(from_pod) and destination.matches(to_pod):
                    self.expected[from_pod][to_pod] = connected


def pretty_print(pods: Sequence[str], table: Mapping[str, Mapping[str, bool]]) -> str:
    """truthtable.go PrettyPrint."""
    lines = ["\t".join(["-", *pods])]
    lines.extend("\t".join([src, *("." if table[src][dst] else "X" for dst in pods)]) for src in pods)
    return "\n".join(lines)


def observe(cluster: Cluster, *, to_port: int, protocol: str) -> dict[str, dict[str, bool]]:
    """The engine's 'probe' of every pair: the fast matrix, checked cell by cell against `evaluate`."""
    engine = cluster.engine()
    matrix = reachability_matrix(engine, to_port, protocol)
    observed = matrix.to_dict()
    for source in matrix.pods:
        for destination in matrix.pods:
            verdict = engine.evaluate(source, destination, to_port, protocol)
            assert verdict.allowed == observed[source][destination], (
                f"matrix and evaluate disagree on {source} -> {destination}:\n{verdict.explain()}"
            )
    return observed


def validate_or_fail(cluster: Cluster, *, to_port: int, protocol: str, reachability: Reachability) -> None:
    """ValidateOrFail + Reachability.Summary(ignoreLoopback=true): every non-loopback cell must match."""
    observed = observe(cluster, to_port=to_port, protocol=protocol)
    pods = reachability.pods
    assert set(observed) == set(pods), f"model pods {sorted(pods)} != snapshot pods {sorted(observed)}"
    wrong = [
        (src, dst)
        for src in pods
        for dst in pods
        if src != dst and reachability.expected[src][dst] != observed[src][dst]
    ]
    if wrong:
        comparison = {src: {dst: reachability.expected[src][dst] == observed[src][dst] for dst in pods} for src in pods}
        raise AssertionError(
            f"{len(wrong)} wrong results on {protocol}/{to_port}: {wrong}\n"
            f"expected:\n{pretty_print(pods, reachability.expected)}\n\n"
            f"observed:\n{pretty_print(pods, observed)}\n\n"
            f"comparison:\n{pretty_print(pods, comparison)}"
        )
