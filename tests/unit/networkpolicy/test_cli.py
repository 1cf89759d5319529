"""`kubectl mini netpol` on the hand-written example bundle: table, JSON, explain, and clean errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from operators.cli.main import main

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


def test_without_a_bundle_the_live_mode_is_reported_as_not_implemented(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "netpol", "matrix", "--port", "80", "--kubeconfig", "/tmp/kubeconfig", "--context", "dev"
    )
    assert (code, out) == (2, "")
    assert err == "error: reading the live cluster is not implemented yet; pass -f BUNDLE.yaml\n"


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
