"""`kubectl mini netpol`: what-if NetworkPolicy evaluation of a YAML bundle (`matrix` and `explain`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from operators.cli.errors import CliError
from operators.networkpolicy import Engine, Snapshot, parse_objects, reachability_matrix
from operators.networkpolicy.model import PROTOCOLS

__all__ = ["load_bundle", "register"]

LIVE_MODE_MESSAGE = "reading the live cluster is not implemented yet; pass -f BUNDLE.yaml"
DEFAULT_NAMESPACE = "default"


def register(commands: Any, add_global_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add `netpol matrix` and `netpol explain` to the plugin's subcommands."""
    netpol = commands.add_parser("netpol", help="what-if NetworkPolicy evaluation")
    actions = netpol.add_subparsers(dest="netpol_command", metavar="COMMAND", required=True)

    matrix = actions.add_parser(
        "matrix", help="print the pod-to-pod reachability truth table (rows = from, columns = to)"
    )
    _add_common(matrix, add_global_flags)
    matrix.add_argument("-o", "--output", choices=("table", "json"), default="table", help="output format")
    matrix.set_defaults(handler=run_matrix)

    explain = actions.add_parser("explain", help="decide one connection and say why")
    _add_common(explain, add_global_flags)
    explain.add_argument("--from", dest="source", required=True, help="source: namespace/pod, pod, or an IP")
    explain.add_argument("--to", dest="destination", required=True, help="destination: namespace/pod, pod, or an IP")
    explain.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")
    explain.set_defaults(handler=run_explain)


def _add_common(parser: argparse.ArgumentParser, add_global_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    add_global_flags(parser)
    parser.add_argument(
        "-f", "--filename", help="YAML bundle of Namespaces, Pods, Nodes and (Mini)NetworkPolicies; - for stdin"
    )
    parser.add_argument("--port", type=_port_number, required=True, help="destination port, 1-65535")
    parser.add_argument(
        "--protocol", type=str.upper, choices=PROTOCOLS, default="TCP", help="TCP (default), UDP or SCTP"
    )


def _port_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number between 1 and 65535, not {text!r}")
    return int(text)


def run_matrix(args: argparse.Namespace) -> int:
    engine = Engine(_snapshot(args))
    matrix = reachability_matrix(engine, args.port, args.protocol)
    print(json.dumps(matrix.to_json(), indent=2) if args.output == "json" else matrix.pretty())
    return 0


def run_explain(args: argparse.Namespace) -> int:
    engine = Engine(_snapshot(args))
    namespace = args.namespace or DEFAULT_NAMESPACE
    try:
        source = engine.endpoint(args.source, default_namespace=namespace)
        destination = engine.endpoint(args.destination, default_namespace=namespace)
    except ValueError as error:
        raise CliError(str(error)) from None
    verdict = engine.evaluate(source, destination, args.port, args.protocol)
    print(json.dumps(verdict.to_dict(), indent=2) if args.output == "json" else verdict.explain())
    return 0


def _snapshot(args: argparse.Namespace) -> Snapshot:
    if args.filename is None:
        raise CliError(LIVE_MODE_MESSAGE, exit_code=2)
    return load_bundle(args.filename, default_namespace=args.namespace or DEFAULT_NAMESPACE)


def load_bundle(filename: str, *, default_namespace: str = DEFAULT_NAMESPACE) -> Snapshot:
    """Read a multi-document YAML bundle (a path, or - for stdin) into a validated snapshot."""
    try:
        text = sys.stdin.read() if filename == "-" else Path(filename).read_text(encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot read {filename}: {error.strerror or error}") from None
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        raise CliError(f"{filename}: invalid YAML: {_yaml_problem(error)}") from None
    return parse_objects(documents, default_namespace=default_namespace)


def _yaml_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        return f"{error.problem} (line {error.problem_mark.line + 1}, column {error.problem_mark.column + 1})"
    return str(error)
