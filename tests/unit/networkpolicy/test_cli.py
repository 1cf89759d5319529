"""`kubectl mini netpol` without a cluster: the example bundle (matrix, explain, who-can, filters), the pure parts
of the live mode (documents, pagination, kubeconfig checks, error lines), and clean errors."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import re
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from operators.cli import netpol_live
from operators.cli.errors import CliError
from operators.cli.main import main
from operators.cli.netpol import load_bundle, restrict, select_policies
from operators.networkpolicy import Engine, parse_objects, reachability_matrix
from operators.runtime.client import ApiError, KubeClient

BUNDLE = str(Path(__file__).resolve().parents[3] / "examples" / "netpol-bundle.yaml")
PODS = ["monitoring/prometheus", "shop/backend", "shop/db", "shop/frontend"]

# Derived by hand from the bundle's policies (see the comments in examples/netpol-bundle.yaml).
EXPECTED_PORT_80 = {
    "monitoring/prometheus": {
        "monitoring/prometheus": True,
        "shop/backend": True,
        "shop/db": True,
        "shop/frontend": True,
    },
    "shop/backend": {"monitoring/prometheus": True, "shop/backend": False, "shop/db": False, "shop/frontend": True},
    "shop/db": {"monitoring/prometheus": False, "shop/backend": False, "shop/db": False, "shop/frontend": False},
    "shop/frontend": {"monitoring/prometheus": True, "shop/backend": True, "shop/db": False, "shop/frontend": True},
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_matrix_table_in_the_upstream_truth_table_layout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "netpol", "matrix", "-f", BUNDLE, "--port", "80", "--protocol", "TCP")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "\t".join(["-", *PODS])
    for line, source in zip(lines[1:], PODS, strict=True):
        marks = ["." if EXPECTED_PORT_80[source][destination] else "X" for destination in PODS]
        assert line == "\t".join([source, *marks])


def test_matrix_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "netpol", "matrix", "-f", BUNDLE, "--port", "80", "-o", "json")
    assert code == 0
    assert json.loads(out) == {"port": 80, "protocol": "TCP", "matrix": EXPECTED_PORT_80}


def test_matrix_on_another_port_and_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "netpol", "matrix", "-f", BUNDLE, "--port", "5432", "--protocol", "tcp", "-o", "json")
    matrix = json.loads(out)["matrix"]
    assert code == 0
    assert [source for source in PODS if matrix[source]["shop/db"]] == ["monitoring/prometheus", "shop/backend"]
    # the backend's named port `http` is 80, so 5432 on the backend is for monitoring only
    assert [source for source in PODS if matrix[source]["shop/backend"]] == ["monitoring/prometheus"]
    code, out, _ = run(capsys, "netpol", "matrix", "-f", BUNDLE, "--port", "80", "--protocol", "UDP", "-o", "json")
    assert json.loads(out)["matrix"]["shop/frontend"]["shop/backend"] is False  # `http` is a TCP port


def test_explain_allowed_by_a_named_port_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "netpol", "explain", "-f", BUNDLE, "--from", "shop/frontend", "--to", "shop/backend", "--port", "80"
    )
    assert code == 0
    assert out.splitlines()[0] == "shop/frontend -> shop/backend TCP/80: ALLOWED"
    assert "shop/allow-frontend-to-backend ingress[0]" in out


def test_explain_denied_with_unqualified_names_and_namespace_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "netpol", "explain", "-f", BUNDLE, "-n", "shop", "--from", "db", "--to", "backend", "--port", "80"
    )
    assert code == 0
    assert out.splitlines()[0] == "shop/db -> shop/backend TCP/80: DENIED"
    assert "isolated by shop/db" in out  # the database's own egress policy


def test_explain_external_addresses_and_nodes(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(
        capsys, "netpol", "explain", "-f", BUNDLE, "--from", "203.0.113.7", "--to", "shop/frontend", "--port", "80"
    )
    assert out.startswith("203.0.113.7 -> shop/frontend TCP/80: ALLOWED")
    _, out, _ = run(
        capsys, "netpol", "explain", "-f", BUNDLE, "--from", "203.0.113.7", "--to", "shop/backend", "--port", "80"
    )
    assert out.startswith("203.0.113.7 -> shop/backend TCP/80: DENIED")
    _, out, _ = run(
        capsys, "-n", "shop", "netpol", "explain", "-f", BUNDLE, "--from", "192.168.1.10", "--to", "db", "--port", "80"
    )
    assert out.startswith("192.168.1.10 (node node-1) -> shop/db TCP/80: ALLOWED") and "NP-12" in out
    code, out, _ = run(
        capsys,
        "netpol",
        "explain",
        "-f",
        BUNDLE,
        "--from",
        "shop/db",
        "--to",
        "8.8.8.8",
        "--port",
        "53",
        "--protocol",
        "UDP",
        "-o",
        "json",
    )
    assert code == 0 and json.loads(out)["allowed"] is False and json.loads(out)["ingress"] is None


def test_bundle_from_stdin_and_kubeconfig_flags_are_accepted(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(Path(BUNDLE).read_text()))
    code, out, _ = run(
        capsys,
        "--kubeconfig",
        "/nonexistent",
        "netpol",
        "matrix",
        "--context",
        "kind",
        "-f",
        "-",
        "--port",
        "80",
        "-o",
        "json",
    )
    assert code == 0 and json.loads(out)["matrix"] == EXPECTED_PORT_80


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "netpol", "explain", "-h")
    assert code == 0 and "--from" in out and "--kubeconfig" in out and "--namespace" in out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (
            ["netpol", "matrix", "-f", "/no/such/bundle.yaml", "--port", "80"],
            1,
            "error: cannot read /no/such/bundle.yaml",
        ),
        (
            ["netpol", "explain", "-f", BUNDLE, "--from", "shop/nope", "--to", "shop/db", "--port", "80"],
            1,
            "error: no pod shop/nope",
        ),
        (["netpol", "matrix", "-f", BUNDLE, "--port", "0"], 2, "must be a port number between 1 and 65535"),
        (["netpol", "matrix", "-f", BUNDLE, "--port", "80", "--protocol", "ICMP"], 2, "invalid choice: 'ICMP'"),
        (["netpol", "explain", "-f", BUNDLE, "--to", "shop/db", "--port", "80"], 2, "--from"),
    ],
)
def test_usage_and_input_errors(capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str) -> None:
    result, _, err = run(capsys, *argv)
    assert result == code
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            "kind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec:\n  podSelector: {}\n"
            "  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]}]\n",
            "error: NetworkPolicy x/p: spec.ingress[0].from[0].ipBlock.except[0]: '192.168.0.0/16' must be a strict subset",
        ),
        ("kind: Pod\nmetadata: {name: a, namespace: x}\n", "error: Pod x/a: status.podIP: required"),
        ("kind: Pod\nmetadata: {name: a\n", "error: {bundle}: invalid YAML: expected ',' or '}'"),
    ],
)
def test_bad_bundles_fail_with_one_line_naming_object_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, document: str, message: str
) -> None:
    bundle = tmp_path / "bad.yaml"
    bundle.write_text(document)
    code, out, err = run(capsys, "netpol", "matrix", "-f", str(bundle), "--port", "80")
    assert (code, out) == (1, "")
    assert err.startswith(message.replace("{bundle}", str(bundle))) and err.count("\n") == 1


# ---------------------------------------------------------------------------------------------- -n, -A, --policies, wide


def test_matrix_namespace_flag_is_repeatable_and_all_namespaces_shows_every_pod(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "netpol", "matrix", "-f", BUNDLE, "--port", "80", "-n", "shop", "-o", "json")
    shop = [pod for pod in PODS if pod.startswith("shop/")]
    expected = {src: {dst: EXPECTED_PORT_80[src][dst] for dst in shop} for src in shop}
    assert code == 0 and json.loads(out)["matrix"] == expected
    code, out, _ = run(capsys, "netpol", "matrix", "-f", BUNDLE, "--port", "80", "-n", "shop", "-n", "monitoring")
    assert code == 0 and out.splitlines()[0] == "\t".join(["-", *PODS])
    code, out, _ = run(capsys, "netpol", "matrix", "-f", BUNDLE, "--port", "80", "-n", "shop", "-A", "-o", "json")
    assert json.loads(out)["matrix"] == EXPECTED_PORT_80
    code, out, err = run(capsys, "netpol", "matrix", "-f", BUNDLE, "--port", "80", "-n", "nope")
    assert (code, out, err) == (0, "", "No resources found in nope namespace.\n")


def test_matrix_wide_shows_ip_node_and_selecting_policies(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "netpol", "matrix", "-f", BUNDLE, "--port", "80", "-o", "wide")
    lines = [line.split("\t") for line in out.splitlines()]
    assert code == 0 and lines[0] == ["-", "IP", "NODE", "POLICIES", *PODS]
    # shop/db: default-deny-ingress, db, allow-monitoring; prometheus: none
    assert lines[1][:4] == ["monitoring/prometheus", "10.244.1.20", "node-1", "0"]
    assert lines[3][:4] == ["shop/db", "10.244.1.12", "node-1", "3"]
    assert lines[3][4:] == ["X", "X", "X", "X"]


def test_policies_filter_keeps_only_the_chosen_kind(capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = load_bundle(BUNDLE)
    assert [p.name for p in select_policies(snapshot, "mini").policies] == ["allow-monitoring"]
    assert "allow-monitoring" not in [p.name for p in select_policies(snapshot, "native").policies]
    assert select_policies(snapshot, "all") is snapshot
    # Without the MiniNetworkPolicy, monitoring loses its way into shop/backend on 5432 (only allow-monitoring let it).
    code, out, _ = run(capsys, "netpol", "matrix", "-f", BUNDLE, "--port", "5432", "--policies", "native", "-o", "json")
    assert code == 0 and json.loads(out)["matrix"]["monitoring/prometheus"]["shop/backend"] is False
    code, out, _ = run(capsys, "netpol", "matrix", "-f", BUNDLE, "--port", "5432", "--policies", "mini", "-o", "json")
    assert json.loads(out)["matrix"]["monitoring/prometheus"]["shop/backend"] is True
    assert json.loads(out)["matrix"]["shop/frontend"]["shop/db"] is False  # allow-monitoring still isolates shop


def test_restrict_equals_the_cells_of_the_full_matrix() -> None:
    engine = Engine(load_bundle(BUNDLE))
    full = reachability_matrix(engine, 80)
    for chosen in ({"shop"}, {"monitoring"}, {"shop", "monitoring"}, {"nope"}):
        sub = restrict(full, chosen)
        assert sub.pods == tuple(p for p in full.pods if p.split("/")[0] in chosen)
        for source, destination in itertools.product(sub.pods, repeat=2):
            assert sub.allowed(source, destination) == full.allowed(source, destination)


# ---------------------------------------------------------------------------------------------- who-can

WHO_CAN_BUNDLE = """
kind: Namespace
metadata: {name: x}
---
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 172.30.0.10}]}
---
kind: Pod
metadata: {namespace: x, name: a, labels: {pod: a}}
spec:
  nodeName: n1
  containers: [{name: c, ports: [{name: http, containerPort: 80}, {name: dns, containerPort: 53, protocol: UDP}]}]
status: {podIP: 10.0.0.1}
---
kind: Pod
metadata: {namespace: x, name: b, labels: {pod: b}}
status: {podIP: 10.0.0.2}
---
kind: Pod
metadata: {namespace: x, name: c, labels: {pod: c}}
status: {podIP: 10.0.0.3}
---
kind: NetworkPolicy
metadata: {namespace: x, name: a-ingress}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from: [{podSelector: {matchLabels: {pod: b}}}, {podSelector: {matchLabels: {pod: c}}}]
      ports: [{port: http}]
    - from: [{ipBlock: {cidr: 203.0.113.0/24, except: [203.0.113.7/32]}}]
      ports: [{port: 80}]
    - from: [{podSelector: {}}]
      ports: [{port: 53, protocol: UDP}]
---
apiVersion: minik8s.dev/v1
kind: MiniNetworkPolicy
metadata: {namespace: x, name: c-egress}
spec:
  podSelector: {matchLabels: {pod: c}}
  policyTypes: [Egress]
  egress: [{ports: [{port: 53, protocol: UDP}]}]
"""


@pytest.fixture
def who_can_bundle(tmp_path: Path) -> str:
    path = tmp_path / "who-can.yaml"
    path.write_text(WHO_CAN_BUNDLE)
    return str(path)


def test_who_can_lists_pods_the_node_and_ipblocks_with_their_rules(
    capsys: pytest.CaptureFixture[str], who_can_bundle: str
) -> None:
    code, out, err = run(capsys, "netpol", "who-can", "-f", who_can_bundle, "-n", "x", "--to", "a", "--port", "80")
    assert (code, err) == (0, "")
    assert _columns(out) == [
        ["x/a TCP/80 (http):"],
        ["SOURCE", "INGRESS RULE", "EGRESS RULE"],
        ["x/b", "x/a-ingress ingress[0]", "(not isolated)"],  # x/c: its egress allows UDP/53 only
        ["node n1 (172.30.0.10)", "(own node, NP-12)", "-"],
        ["ipBlock 203.0.113.0/24 except 203.0.113.7/32", "x/a-ingress ingress[1]", "-"],
    ]


def _columns(out: str) -> list[list[str]]:
    """Split kubectl-style aligned columns (3+ spaces) back into cells."""
    return [re.split(r" {3,}", line.strip()) for line in out.splitlines()]


def test_who_can_without_port_evaluates_each_declared_port(
    capsys: pytest.CaptureFixture[str], who_can_bundle: str
) -> None:
    code, out, _ = run(capsys, "netpol", "who-can", "-f", who_can_bundle, "--to", "x/a", "-o", "json")
    result = json.loads(out)
    assert code == 0 and result["to"] == "x/a"
    assert [(p["port"], p["protocol"], p["name"]) for p in result["ports"]] == [(80, "TCP", "http"), (53, "UDP", "dns")]
    tcp, udp = ({s["source"]: s for s in p["sources"]} for p in result["ports"])
    assert list(tcp) == ["x/b", "node n1 (172.30.0.10)", "ipBlock 203.0.113.0/24 except 203.0.113.7/32"]
    assert tcp["x/b"]["ingress"] == {
        "isolated": True,
        "rules": [
            "x/a-ingress ingress[0] (port ports[0] TCP/http (named port of x/a); peer from[0] podSelector {pod=b})"
        ],
    }
    assert tcp["x/b"]["egress"] == {"isolated": False, "rules": []}
    assert tcp["ipBlock 203.0.113.0/24 except 203.0.113.7/32"]["egress"] is None
    assert tcp["node n1 (172.30.0.10)"]["note"].endswith("(NP-12)")
    # UDP/53: both pods; x/c through its MiniNetworkPolicy egress rule; no external address (podSelector only)
    assert list(udp) == ["x/b", "x/c", "node n1 (172.30.0.10)"]
    assert udp["x/c"]["egress"]["isolated"] is True
    assert udp["x/c"]["egress"]["rules"][0].startswith("x/c-egress egress[0] (port ports[0] UDP/53")
    code, out, _ = run(capsys, "netpol", "who-can", "-f", who_can_bundle, "--to", "x/a")
    assert [line for line in out.splitlines() if line.startswith("x/a ")] == ["x/a TCP/80 (http):", "x/a UDP/53 (dns):"]


def test_who_can_an_unisolated_pod_admits_any_address(capsys: pytest.CaptureFixture[str], who_can_bundle: str) -> None:
    code, out, _ = run(capsys, "netpol", "who-can", "-f", who_can_bundle, "--to", "x/b", "--port", "8080")
    assert code == 0
    assert _columns(out)[2:] == [
        ["x/a", "(not isolated)", "(not isolated)"],  # x/c may not: its egress is UDP/53 only
        ["any address", "(not isolated)", "-"],
    ]
    code, out, _ = run(
        capsys, "netpol", "who-can", "-f", who_can_bundle, "--policies", "native", "--to", "x/b", "--port", "8080"
    )
    assert [row[0] for row in _columns(out)[2:]] == ["x/a", "x/c", "any address"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "x/b"], "error: pod x/b declares no container ports: pass --port"),
        (["--to", "x/a", "--protocol", "SCTP"], "error: pod x/a declares no SCTP container ports: pass --port"),
        (
            ["--to", "10.0.0.1", "--port", "80"],
            "error: --to must be a pod (namespace/pod or pod), not the address 10.0.0.1",
        ),
        (["--to", "x/zz", "--port", "80"], "error: no pod x/zz in the snapshot"),
    ],
)
def test_who_can_errors(capsys: pytest.CaptureFixture[str], who_can_bundle: str, argv: list[str], message: str) -> None:
    code, out, err = run(capsys, "netpol", "who-can", "-f", who_can_bundle, *argv)
    assert (code, out, err) == (1, "", message + "\n")


# ---------------------------------------------------------------------------------------------- live mode, pure parts


def _api_pod(name: str, namespace: str = "x", **status: Any) -> dict[str, Any]:
    """A pod as a LIST returns it: no kind, plus fields the engine ignores."""
    return {
        "metadata": {"name": name, "namespace": namespace, "uid": "u", "labels": {"pod": name}, "managedFields": []},
        "spec": {
            "nodeName": "n1",
            "containers": [
                {"name": "c", "image": "i", "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}]}
            ],
        },
        "status": {"phase": "Running", **status},
    }


def _deleted(pod: dict[str, Any]) -> dict[str, Any]:
    return {**pod, "metadata": {**pod["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"}}


def test_to_documents_gives_back_kinds_and_leaves_out_pods_the_engine_cannot_use() -> None:
    lists: dict[str, list[dict[str, Any]]] = {
        "Namespace": [{"metadata": {"name": "x", "labels": {"team": "a"}, "uid": "u"}}],
        "Node": [
            {"metadata": {"name": "n1"}, "status": {"addresses": [{"type": "InternalIP", "address": "172.30.0.10"}]}}
        ],
        "Pod": [
            _deleted(_api_pod("old", podIP="10.0.0.1")),  # its IP was given to x/running: x/running keeps it
            _api_pod("running", podIP="10.0.0.1", podIPs=[{"ip": "10.0.0.1"}]),
            _api_pod("pending"),
            _api_pod("done", phase="Succeeded", podIP="10.0.0.2"),
            {**_api_pod("host", podIP="172.30.0.10"), "spec": {"hostNetwork": True, "containers": []}},
        ],
        "NetworkPolicy": [{"metadata": {"name": "p", "namespace": "x", "uid": "u"}, "spec": {"podSelector": {}}}],
        "MiniNetworkPolicy": [
            {
                "metadata": {"name": "bad", "namespace": "x"},
                "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 0}]}]},
            }
        ],
    }
    documents, skipped, warnings = netpol_live.to_documents(lists)
    assert [(d["kind"], d["metadata"]["name"]) for d in documents] == [
        ("Namespace", "x"),
        ("Node", "n1"),
        ("Pod", "running"),
        ("NetworkPolicy", "p"),
    ]
    assert documents[2] == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "running", "namespace": "x", "labels": {"pod": "running"}},
        "spec": {
            "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}]}],
            "nodeName": "n1",
        },
        "status": {"phase": "Running", "podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}]},
    }
    assert documents[3]["apiVersion"] == "networking.k8s.io/v1"
    assert skipped == {
        "x/old": "its IP 10.0.0.1 is the IP of x/running too",
        "x/pending": "it has no IP yet (Running)",
        "x/done": "it has terminated (Succeeded)",
        "x/host": "it uses the node's network (hostNetwork): NetworkPolicy does not apply to it",
    }
    assert warnings == [
        "left out MiniNetworkPolicy x/bad: spec.ingress[0].ports[0].port: must be a port number between 1 and 65535 "
        "or a port name, not 0"
    ]
    # the documents are a bundle: the engine takes them as they are, and YAML round-trips them
    snapshot = parse_objects(yaml.safe_load_all(yaml.safe_dump_all(documents)))
    assert [pod.key for pod in snapshot.pods] == ["x/running"]


class FakeClient:
    """The two things the live reads use of KubeClient: get(path, query) and, for errors, host and timeout."""

    host = "127.0.0.1:6443"
    timeout = 30.0

    def __init__(self, collections: dict[str, list[dict[str, Any]] | ApiError], expire_once: bool = False) -> None:
        self.collections = collections
        self.expire_once = expire_once
        self.calls: list[tuple[str, dict[str, str]]] = []

    async def get(self, path: str, *, query: dict[str, str] | None = None) -> dict[str, Any]:
        query = dict(query or {})
        self.calls.append((path, query))
        collection = self.collections[path]
        if isinstance(collection, ApiError):
            raise collection
        if "continue" in query and self.expire_once:
            self.expire_once = False
            raise ApiError(410, "Expired", "The provided continue parameter is too old")
        start = int(query.get("continue", "0"))
        end = start + int(query["limit"])
        token = str(end) if end < len(collection) else ""
        return {"metadata": {"continue": token} if token else {}, "items": collection[start:end]}


def test_list_all_pages_by_500_and_starts_again_when_the_continue_token_expires() -> None:
    pods = [_api_pod(f"p{i}", podIP=f"10.0.{i // 256}.{i % 256}") for i in range(1200)]
    client = FakeClient({"/api/v1/pods": pods})
    items = asyncio.run(netpol_live.list_all(cast(KubeClient, client), "/api/v1/pods"))
    assert items == pods
    assert [q for _, q in client.calls] == [
        {"limit": "500"},
        {"limit": "500", "continue": "500"},
        {"limit": "500", "continue": "1000"},
    ]
    client = FakeClient({"/api/v1/pods": pods}, expire_once=True)
    assert asyncio.run(netpol_live.list_all(cast(KubeClient, client), "/api/v1/pods")) == pods
    assert [q.get("continue") for _, q in client.calls] == [None, "500", None, "500", "1000"]


def _collections(**overrides: list[dict[str, Any]] | ApiError) -> dict[str, list[dict[str, Any]] | ApiError]:
    collections: dict[str, list[dict[str, Any]] | ApiError] = {r.path: [] for r in netpol_live.RESOURCES}
    collections.update(
        {
            netpol_live.RESOURCES[["pods", "namespaces", "nodes", "netpol", "mini"].index(k)].path: v
            for k, v in overrides.items()
        }
    )
    return collections


def _forbidden(resource: str) -> ApiError:
    return ApiError(
        403,
        "Forbidden",
        f'{resource} is forbidden: User "system:serviceaccount:x:default" cannot list resource "{resource}" '
        'in API group "" at the cluster scope',
    )


def test_read_documents_reports_every_forbidden_list_in_one_line() -> None:
    client = FakeClient(_collections(pods=_forbidden("pods"), nodes=_forbidden("nodes")))
    with pytest.raises(CliError) as raised:
        asyncio.run(netpol_live.read_documents(cast(KubeClient, client)))
    assert str(raised.value) == (
        'cannot list pods, nodes at the cluster scope: forbidden for user "system:serviceaccount:x:default" — '
        "kubectl mini netpol needs get/list on namespaces, pods, nodes, networkpolicies.networking.k8s.io and "
        "mininetworkpolicies.minik8s.dev"
    )


def test_read_documents_without_the_mini_crd_reads_no_mini_policies() -> None:
    missing = ApiError(404, "NotFound", "the server could not find the requested resource")
    client = FakeClient(_collections(pods=[_api_pod("a", podIP="10.0.0.1")], mini=missing))
    documents, skipped, notes = asyncio.run(netpol_live.read_documents(cast(KubeClient, client)))
    assert [d["kind"] for d in documents] == ["Pod"] and skipped == {} and notes == []
    client = FakeClient(_collections(mini=missing))
    _, _, notes = asyncio.run(netpol_live.read_documents(cast(KubeClient, client), policies="mini"))
    assert notes == ["the MiniNetworkPolicy CRD (mininetworkpolicies.minik8s.dev) is not installed: none read"]
    assert "/apis/networking.k8s.io/v1/networkpolicies" not in [path for path, _ in client.calls]  # not asked for
    client = FakeClient(_collections(netpol=_forbidden("networkpolicies")))
    asyncio.run(netpol_live.read_documents(cast(KubeClient, client), policies="mini"))  # native ones are never listed


def test_connection_messages() -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    assert netpol_live.connection_message("127.0.0.1:1", refused, timeout=30) == (
        "the connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?"
    )
    assert (
        netpol_live.connection_message("h:1", TimeoutError(), timeout=30) == "the server h:1 did not answer within 30s"
    )
    unreachable = OSError(113, "No route to host")
    assert (
        netpol_live.connection_message("h:1", unreachable, timeout=30)
        == "cannot connect to the server h:1: No route to host"
    )


def _kubeconfig(
    path: Path, *, current: str = "dev", namespace: str | None = "team-a", server: str = "https://127.0.0.1:1"
) -> Path:
    context: dict[str, Any] = {"cluster": "c", "user": "u", **({"namespace": namespace} if namespace else {})}
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [
                    {"name": "dev", "context": context},
                    {"name": "bare", "context": {"cluster": "c", "user": "u"}},
                ],
                "current-context": current,
            }
        )
    )
    return path


def test_check_kubeconfig_returns_the_context_namespace_and_refuses_what_kubectl_refuses(tmp_path: Path) -> None:
    config = str(_kubeconfig(tmp_path / "config"))
    assert netpol_live.check_kubeconfig(config, None, {}) == "team-a"
    assert netpol_live.check_kubeconfig(config, "bare", {}) == "default"
    assert netpol_live.check_kubeconfig(None, None, {"KUBECONFIG": f"/nonexistent:{config}"}) == "team-a"
    assert (
        netpol_live.check_kubeconfig(None, None, {"HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": "10.96.0.1"})
        == "default"
    )
    cases: list[tuple[tuple[str | None, str | None, dict[str, str]], str]] = [
        ((config, "foo", {}), 'context "foo" does not exist'),
        (("/nonexistent", None, {}), "cannot read kubeconfig /nonexistent: no such file"),
        ((None, None, {"HOME": str(tmp_path / "empty")}), "no kubeconfig: pass --kubeconfig, set KUBECONFIG or create"),
        ((str(_kubeconfig(tmp_path / "none", current="")), None, {}), "the kubeconfig sets no current-context"),
    ]
    (tmp_path / "bad").write_text("{not: yaml")
    cases.append(((str(tmp_path / "bad"), None, {}), f"error loading config file {tmp_path / 'bad'}:"))
    for arguments, message in cases:
        with pytest.raises(CliError) as raised:
            netpol_live.check_kubeconfig(*arguments)
        assert str(raised.value).startswith(message)


def test_live_mode_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = str(_kubeconfig(tmp_path / "config", server="https://127.0.0.1:1"))  # nothing listens on port 1
    code, out, err = run(capsys, "netpol", "matrix", "--port", "80", "--kubeconfig", config)
    assert (code, out) == (1, "")
    assert (
        err == "error: the connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n"
    )
    code, _, err = run(
        capsys,
        "netpol",
        "explain",
        "--kubeconfig",
        config,
        "--context",
        "foo",
        "--from",
        "a",
        "--to",
        "b",
        "--port",
        "80",
    )
    assert (code, err) == (1, 'error: context "foo" does not exist\n')
    monkeypatch.setenv("HOME", str(tmp_path / "nohome"))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    code, _, err = run(capsys, "netpol", "who-can", "--to", "a", "--port", "80")
    assert code == 1 and err.startswith("error: no kubeconfig: ") and err.count("\n") == 1
