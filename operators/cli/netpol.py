"""`kubectl mini netpol`: what-if NetworkPolicy evaluation (`matrix`, `explain`, `who-can`), live or of a bundle.

Without `-f` the snapshot is read from the cluster of the current kubeconfig context (netpol_live.py); with
`-f BUNDLE.yaml` (or `-f -`) from a multi-document YAML file of the same objects. Either way the engine
(operators/networkpolicy) decides every connection with the upstream semantics NP-01..NP-13; this module only
chooses what to show: which pods make the matrix, which policies count (`--policies`), and how to print it.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import json
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from operators.cli import netpol_live
from operators.cli.errors import CliError
from operators.kube.objects import Pod
from operators.networkpolicy import (
    Direction,
    Endpoint,
    Engine,
    Policy,
    ReachabilityMatrix,
    RuleMatch,
    Snapshot,
    parse_objects,
    reachability_matrix,
)
from operators.networkpolicy.model import PROTOCOLS, PolicyPort

__all__ = [
    "DEFAULT_NAMESPACE",
    "Loaded",
    "Source",
    "declared_ports",
    "load_bundle",
    "register",
    "render_who_can",
    "render_wide",
    "restrict",
    "select_policies",
    "selecting_policies",
    "who_can",
]

DEFAULT_NAMESPACE = "default"
_KIND_OF: Mapping[str, str] = {"native": "NetworkPolicy", "mini": "MiniNetworkPolicy"}


def register(commands: Any, add_global_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add `netpol matrix`, `netpol explain` and `netpol who-can` to the plugin's subcommands."""
    netpol = commands.add_parser("netpol", help="what-if NetworkPolicy evaluation, of the cluster or of a YAML bundle")
    actions = netpol.add_subparsers(dest="netpol_command", metavar="COMMAND", required=True)

    # `resolve`: matrix redefines the global -n as repeatable (the namespaces whose pods make the table).
    matrix = actions.add_parser(
        "matrix",
        help="print the pod-to-pod reachability truth table (rows = from, columns = to)",
        conflict_handler="resolve",
    )
    _add_common(matrix, add_global_flags)
    matrix.add_argument(
        "-n",
        "--namespace",
        action="append",
        default=argparse.SUPPRESS,
        help="the pods of this namespace are rows and columns (repeatable; default: the context's namespace; "
        "with -f: every pod of the bundle)",
    )
    matrix.add_argument("-A", "--all-namespaces", action="store_true", help="the pods of every namespace")
    matrix.add_argument("--port", type=_port_number, required=True, help="destination port, 1-65535")
    matrix.add_argument(
        "--protocol", type=str.upper, choices=PROTOCOLS, default="TCP", help="TCP (default), UDP or SCTP"
    )
    matrix.add_argument(
        "-o",
        "--output",
        choices=("table", "wide", "json"),
        default="table",
        help="table, wide (IP, node, policies) or json",
    )
    matrix.set_defaults(handler=run_matrix)

    explain = actions.add_parser("explain", help="decide one connection and say why")
    _add_common(explain, add_global_flags)
    explain.add_argument("--from", dest="source", required=True, help="source: namespace/pod, pod, or an IP")
    explain.add_argument("--to", dest="destination", required=True, help="destination: namespace/pod, pod, or an IP")
    explain.add_argument("--port", type=_port_number, required=True, help="destination port, 1-65535")
    explain.add_argument(
        "--protocol", type=str.upper, choices=PROTOCOLS, default="TCP", help="TCP (default), UDP or SCTP"
    )
    explain.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")
    explain.set_defaults(handler=run_explain)

    who_can_parser = actions.add_parser(
        "who-can", help="every source allowed to connect to a pod, with the rules that allow it"
    )
    _add_common(who_can_parser, add_global_flags)
    who_can_parser.add_argument("--to", dest="destination", required=True, help="the pod: namespace/pod or pod")
    who_can_parser.add_argument(
        "--port", type=_port_number, help="destination port (default: each container port the pod declares)"
    )
    who_can_parser.add_argument(
        "--protocol",
        type=str.upper,
        choices=PROTOCOLS,
        help="TCP (default with --port), UDP or SCTP; without --port: only the declared ports of this protocol",
    )
    who_can_parser.add_argument("-o", "--output", choices=("table", "json"), default="table", help="output format")
    who_can_parser.set_defaults(handler=run_who_can)


def _add_common(parser: argparse.ArgumentParser, add_global_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    add_global_flags(parser)
    parser.add_argument(
        "-f",
        "--filename",
        help="YAML bundle of Namespaces, Pods, Nodes and (Mini)NetworkPolicies; - for stdin (default: the cluster)",
    )
    parser.add_argument(
        "--policies",
        choices=("all", "native", "mini"),
        default="all",
        help="the policies that count: all (default), native (NetworkPolicy) or mini (MiniNetworkPolicy)",
    )


def _port_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number between 1 and 65535, not {text!r}")
    return int(text)


# ---------------------------------------------------------------------------------------------- the snapshot


@dataclass(frozen=True, slots=True)
class Loaded:
    """A snapshot to evaluate, the namespace of unqualified names, and the live pods the engine cannot use."""

    snapshot: Snapshot
    namespace: str
    live: bool = False
    skipped_pods: Mapping[str, str] = field(default_factory=dict)  # "ns/name" -> why (no IP yet, hostNetwork...)


def _load(args: argparse.Namespace) -> Loaded:
    """The bundle of -f, or the live cluster; then only the policies --policies asks for."""
    flag_namespace = _namespace_flag(args)
    if args.filename is not None:
        namespace = flag_namespace or DEFAULT_NAMESPACE
        snapshot = load_bundle(args.filename, default_namespace=namespace)
        return Loaded(select_policies(snapshot, args.policies), namespace)
    cluster = netpol_live.read_live(kubeconfig=args.kubeconfig, context=args.context, policies=args.policies)
    for note in cluster.notes:
        print(f"note: {note}", file=sys.stderr)
    namespace = flag_namespace or cluster.namespace
    snapshot = parse_objects(cluster.documents, default_namespace=namespace)
    return Loaded(select_policies(snapshot, args.policies), namespace, live=True, skipped_pods=cluster.skipped_pods)


def _namespace_flag(args: argparse.Namespace) -> str | None:
    """-n: a string (explain, who-can, or given before `netpol`), or matrix's list (its first one)."""
    value = getattr(args, "namespace", None)
    if isinstance(value, list):
        return str(value[0]) if value else None
    return str(value) if value else None


def select_policies(snapshot: Snapshot, which: str) -> Snapshot:
    """--policies: keep all policies, only NetworkPolicies (native) or only MiniNetworkPolicies (mini)."""
    if which == "all":
        return snapshot
    kind = _KIND_OF[which]
    return dataclasses.replace(snapshot, policies=tuple(p for p in snapshot.policies if p.kind == kind))


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


def _pod_key(loaded: Loaded, ref: str) -> str | None:
    """The `namespace/name` a pod reference means, or None for an IP address."""
    try:
        ipaddress.ip_address(ref)
    except ValueError:
        return ref if "/" in ref else f"{loaded.namespace}/{ref}"
    return None


def _endpoint(engine: Engine, loaded: Loaded, ref: str) -> Endpoint:
    key = _pod_key(loaded, ref)
    if key is not None and key in loaded.skipped_pods:
        raise CliError(f"pod {key} cannot be evaluated: {loaded.skipped_pods[key]}")
    try:
        return engine.endpoint(ref, default_namespace=loaded.namespace)
    except ValueError as error:
        raise CliError(str(error)) from None


# ---------------------------------------------------------------------------------------------- matrix


def run_matrix(args: argparse.Namespace) -> int:
    loaded = _load(args)
    engine = Engine(loaded.snapshot)
    matrix = reachability_matrix(engine, args.port, args.protocol)
    namespaces = _matrix_namespaces(args, loaded)
    if namespaces is not None:
        matrix = restrict(matrix, namespaces)
        _note_skipped(loaded, namespaces)
    if not matrix.pods:
        where = f"in {', '.join(sorted(namespaces))} namespace" if namespaces else "in the snapshot"
        print(f"No resources found {where}.", file=sys.stderr)
    if args.output == "json":
        print(matrix.json_text())
    elif matrix.pods:
        print(render_wide(matrix, loaded.snapshot) if args.output == "wide" else matrix.pretty())
    return 0


def _matrix_namespaces(args: argparse.Namespace, loaded: Loaded) -> frozenset[str] | None:
    """-A: every pod (None); -n (repeatable): those namespaces; else the current namespace, or with -f the bundle."""
    if args.all_namespaces:
        return None
    value = getattr(args, "namespace", None)
    if isinstance(value, list) and value:
        return frozenset(value)
    if isinstance(value, str) and value:
        return frozenset({value})
    return frozenset({loaded.namespace}) if loaded.live else None


def _note_skipped(loaded: Loaded, namespaces: Collection[str]) -> None:
    """Say which pods of the shown namespaces are not in the table, and why (at most five named)."""
    left_out = [(key, why) for key, why in loaded.skipped_pods.items() if key.split("/", 1)[0] in namespaces]
    if left_out:
        named = ", ".join(f"{key} ({why})" for key, why in left_out[:5])
        more = f" and {len(left_out) - 5} more" if len(left_out) > 5 else ""
        print(f"note: left out {len(left_out)} pod(s): {named}{more}", file=sys.stderr)


def restrict(matrix: ReachabilityMatrix, namespaces: Collection[str]) -> ReachabilityMatrix:
    """The sub-matrix of the pods in `namespaces` (rows and columns), same port and protocol.

    The engine orders pods by namespace, so the kept columns are a few contiguous runs: each run's bits are
    moved with one shift and mask per row instead of one test per cell.
    """
    keep = [i for i, key in enumerate(matrix.pods) if key.split("/", 1)[0] in namespaces]
    if len(keep) == len(matrix.pods):
        return matrix
    runs: list[tuple[int, int]] = []  # (first index, length)
    for i in keep:
        if runs and runs[-1][0] + runs[-1][1] == i:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((i, 1))
    rows = []
    for i in keep:
        row, bits, offset = matrix.rows[i], 0, 0
        for start, length in runs:
            bits |= (row >> start & ((1 << length) - 1)) << offset
            offset += length
        rows.append(bits)
    return ReachabilityMatrix(matrix.port, matrix.protocol, tuple(matrix.pods[i] for i in keep), tuple(rows))


def selecting_policies(snapshot: Snapshot, pods: Iterable[Pod]) -> dict[str, tuple[Policy, ...]]:
    """Per pod key, the policies that select it: same namespace and podSelector matches (NP-01), any type."""
    by_namespace: dict[str, list[Policy]] = {}
    for policy in snapshot.policies:
        by_namespace.setdefault(policy.namespace, []).append(policy)
    return {
        pod.key: tuple(p for p in by_namespace.get(pod.namespace, ()) if p.pod_selector.matches(pod.labels))
        for pod in pods
    }


def render_wide(matrix: ReachabilityMatrix, snapshot: Snapshot) -> str:
    """The truth table with each source's IP, node and number of selecting policies beside its name."""
    pods = {pod.key: pod for pod in snapshot.pods}
    counts = selecting_policies(snapshot, (pods[key] for key in matrix.pods))
    lines = ["\t".join(["-", "IP", "NODE", "POLICIES", *matrix.pods])]
    for source, row in zip(matrix.pods, matrix.rows, strict=True):
        pod = pods[source]
        marks = ["." if row >> j & 1 else "X" for j in range(len(matrix.pods))]
        ip = pod.pod_ips[0] if pod.pod_ips else "<none>"
        lines.append("\t".join([source, ip, pod.node_name or "<none>", str(len(counts[source])), *marks]))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- explain


def run_explain(args: argparse.Namespace) -> int:
    loaded = _load(args)
    engine = Engine(loaded.snapshot)
    source = _endpoint(engine, loaded, args.source)
    destination = _endpoint(engine, loaded, args.destination)
    verdict = engine.evaluate(source, destination, args.port, args.protocol)
    print(json.dumps(verdict.to_dict(), indent=2) if args.output == "json" else verdict.explain())
    return 0


# ---------------------------------------------------------------------------------------------- who-can


@dataclass(frozen=True, slots=True)
class Source:
    """One source allowed to connect to the destination pod, and the rules that let it (who-can).

    `ingress_rules` are the destination's rules admitting it, `egress_rules` the source pod's rules letting it
    out; `*_isolated` False means no policy restricts that side (NP-03), so no rule is needed. An address
    outside the pods has no egress side (NP-04): `egress_rules` is None.
    """

    name: str
    type: Literal["pod", "node", "ipBlock", "any"]
    ingress_isolated: bool
    ingress_rules: tuple[RuleMatch, ...] = ()
    egress_isolated: bool = False
    egress_rules: tuple[RuleMatch, ...] | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        egress = (
            None
            if self.egress_rules is None
            else {"isolated": self.egress_isolated, "rules": [str(m) for m in self.egress_rules]}
        )
        entry = {
            "source": self.name,
            "type": self.type,
            "ingress": {"isolated": self.ingress_isolated, "rules": [str(m) for m in self.ingress_rules]},
            "egress": egress,
        }
        return entry | ({"note": self.note} if self.note else {})


def declared_ports(pod: Pod, protocol: str | None = None) -> list[tuple[int, str, str]]:
    """The pod's container ports as (port, protocol, name), each (port, protocol) once, in declaration order."""
    seen: dict[tuple[int, str], str] = {}
    for port in pod.ports:
        if protocol is None or port.protocol == protocol:
            seen.setdefault((port.container_port, port.protocol), port.name)
    return [(number, proto, name) for (number, proto), name in seen.items()]


def who_can(engine: Engine, destination: Pod, port: int, protocol: str) -> list[Source]:
    """Every source allowed to connect to `destination` on port/protocol: pods (both sides checked, NP-04),
    the destination's node (always, NP-12), then the external addresses its ingress rules admit: each ipBlock
    (NP-08) and, for a rule without peers or an unisolated pod, any address (NP-07, NP-03).

    The pod itself is not listed: loopback is not policed (NP-12).
    """
    index = {pod.key: i for i, pod in enumerate(engine.pods)}
    d = index[destination.key]
    admitted = engine.ingress_sources(port, protocol)[d]
    let_out = engine.egress_destinations(port, protocol)
    target = engine.endpoint(destination.key)
    sources: list[Source] = []
    for s, pod in enumerate(engine.pods):
        if s == d or not (admitted >> s & 1 and let_out[s] >> d & 1):
            continue
        verdict = engine.evaluate(engine.endpoint(pod.key), target, port, protocol)
        ingress, egress = verdict.ingress, verdict.egress
        assert ingress is not None and egress is not None and verdict.allowed, verdict.explain()
        sources.append(
            Source(
                name=pod.key,
                type="pod",
                ingress_isolated=bool(ingress.isolating_policies),
                ingress_rules=ingress.matches,
                egress_isolated=bool(egress.isolating_policies),
                egress_rules=egress.matches,
            )
        )
    node = next((n for n in engine.snapshot.nodes if n.name == destination.node_name and n.addresses), None)
    if node is not None:
        sources.append(
            Source(
                name=f"node {node.name} ({', '.join(map(str, node.addresses))})",
                type="node",
                ingress_isolated=False,
                note="ingress from the pod's own node is always allowed (NP-12)",
            )
        )
    sources.extend(_external_sources(engine.snapshot, destination, port, protocol))
    return sources


def _external_sources(snapshot: Snapshot, destination: Pod, port: int, protocol: str) -> list[Source]:
    """The addresses outside the pods that the destination's ingress side admits, with the admitting rules."""
    isolating = [
        p
        for p in snapshot.policies
        if Direction.INGRESS in p.policy_types
        and p.namespace == destination.namespace
        and p.pod_selector.matches(destination.labels)
    ]
    if not isolating:  # NP-03: not isolated for ingress: every address may connect
        return [Source(name="any address", type="any", ingress_isolated=False)]
    by_block: dict[str, list[RuleMatch]] = {}
    for policy in isolating:
        for r_index, rule in enumerate(policy.ingress):
            port_text = _port_match(rule.ports, destination, port, protocol)
            if port_text is None:
                continue
            if not rule.peers:  # NP-07: no `from` = everyone, external addresses included
                match = RuleMatch(policy.key, Direction.INGRESS, r_index, port_text, "any (no `from` peers listed)")
                by_block.setdefault("any address", []).append(match)
            for p_index, peer in enumerate(rule.peers):
                if peer.ip_block is not None:  # NP-08: only ipBlocks admit addresses outside the pods
                    match = RuleMatch(policy.key, Direction.INGRESS, r_index, port_text, f"from[{p_index}] {peer}")
                    by_block.setdefault(str(peer.ip_block), []).append(match)
    return [
        Source(
            name=name,
            type="any" if name == "any address" else "ipBlock",
            ingress_isolated=True,
            ingress_rules=tuple(matches),
        )
        for name, matches in sorted(by_block.items(), key=lambda item: item[0] == "any address")
    ]


def _port_match(ports: Sequence[PolicyPort], destination: Pod, port: int, protocol: str) -> str | None:
    """The text of the rule's port entry admitting port/protocol on `destination`, as the engine words it (NP-10,
    NP-11: a named port resolves against the destination's container ports, name and protocol)."""
    if not ports:
        return "any (no ports listed)"
    for index, entry in enumerate(ports):
        if entry.matches_number(port, protocol):
            return f"ports[{index}] {entry}"
    named = {p.name for p in destination.ports if p.name and (p.protocol, p.container_port) == (protocol, port)}
    for index, entry in enumerate(ports):
        if entry.name is not None and entry.protocol == protocol and entry.name in named:
            return f"ports[{index}] {entry} (named port of {destination.key})"
    return None


def run_who_can(args: argparse.Namespace) -> int:
    loaded = _load(args)
    engine = Engine(loaded.snapshot)
    key = _pod_key(loaded, args.destination)
    if key is None:
        raise CliError(f"--to must be a pod (namespace/pod or pod), not the address {args.destination}")
    destination = _endpoint(engine, loaded, key).pod
    assert destination is not None
    if args.port is not None:
        protocol = args.protocol or "TCP"
        name = next((n for p, proto, n in declared_ports(destination) if (p, proto) == (args.port, protocol)), "")
        ports = [(args.port, protocol, name)]
    else:
        ports = declared_ports(destination, args.protocol)
        if not ports:
            which = f" {args.protocol}" if args.protocol else ""
            raise CliError(f"pod {destination.key} declares no{which} container ports: pass --port")
    results = [(port, protocol, name, who_can(engine, destination, port, protocol)) for port, protocol, name in ports]
    if args.output == "json":
        print(json.dumps(who_can_json(destination.key, results), indent=2))
    else:
        print(render_who_can(destination.key, results))
    return 0


WhoCanResult = tuple[int, str, str, Sequence[Source]]  # port, protocol, port name, sources


def who_can_json(destination: str, results: Sequence[WhoCanResult]) -> dict[str, Any]:
    return {
        "to": destination,
        "ports": [
            {
                "port": port,
                "protocol": protocol,
                **({"name": name} if name else {}),
                "sources": [s.to_dict() for s in ss],
            }
            for port, protocol, name, ss in results
        ],
    }


def render_who_can(destination: str, results: Sequence[WhoCanResult]) -> str:
    """One section per port: a heading, then SOURCE / INGRESS RULE / EGRESS RULE aligned as kubectl's tables."""
    sections = []
    for port, protocol, name, sources in results:
        heading = f"{destination} {protocol}/{port}" + (f" ({name})" if name else "") + ":"
        if not sources:
            sections.append(f"{heading}\nno source may connect")
            continue
        rows = [("SOURCE", "INGRESS RULE", "EGRESS RULE")]
        rows.extend((s.name, _ingress_cell(s), _egress_cell(s)) for s in sources)
        sections.append(heading + "\n" + _table(rows))
    return "\n\n".join(sections)


def _rules_cell(matches: Sequence[RuleMatch]) -> str:
    return ", ".join(f"{m.policy} {m.direction.rules_field}[{m.rule_index}]" for m in matches)


def _ingress_cell(source: Source) -> str:
    if source.type == "node":
        return "(own node, NP-12)"
    return _rules_cell(source.ingress_rules) if source.ingress_isolated else "(not isolated)"


def _egress_cell(source: Source) -> str:
    if source.egress_rules is None:
        return "-"
    return _rules_cell(source.egress_rules) if source.egress_isolated else "(not isolated)"


def _table(rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell plus 3 spaces, as kubectl's tabwriter; the last one not padded."""
    widths = [max(len(row[c]) for row in rows) + 3 for c in range(len(rows[0]) - 1)]
    return "\n".join(
        "".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + row[-1] for row in rows
    )
