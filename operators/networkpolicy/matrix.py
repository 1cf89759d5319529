"""The full reachability truth table (pod x pod) for one port and protocol, and its renderings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from operators.networkpolicy.engine import Engine

__all__ = ["ReachabilityMatrix", "reachability_matrix"]

_BITS = bytes.maketrans(b"01", b"\x00\x01")  # '0'/'1' characters -> the indexes 0/1


@dataclass(frozen=True, slots=True)
class ReachabilityMatrix:
    """rows[i] is a bitset: bit j set when pods[i] may connect to pods[j] (rows = from, columns = to)."""

    port: int
    protocol: str
    pods: tuple[str, ...]
    rows: tuple[int, ...]

    def allowed(self, source: str, destination: str) -> bool:
        return bool(self.rows[self.pods.index(source)] >> self.pods.index(destination) & 1)

    def to_dict(self) -> dict[str, dict[str, bool]]:
        """`{"ns/from": {"ns/to": allowed, ...}, ...}`."""
        return {
            source: {destination: bool(row >> j & 1) for j, destination in enumerate(self.pods)}
            for source, row in zip(self.pods, self.rows, strict=True)
        }

    def to_json(self) -> dict[str, Any]:
        return {"port": self.port, "protocol": self.protocol, "matrix": self.to_dict()}

    def json_text(self) -> str:
        """`json.dumps(self.to_json(), indent=2)`, written row by row: with an indent the json module uses its
        pure-Python encoder, cell by cell (0.6 s for the million cells of 1,000 pods on a quiet machine; 0.1 s
        here). Each row's bits become bytes of 0 and 1 that pick every cell's text from (denied, allowed) in C."""
        keys = [json.dumps(pod) for pod in self.pods]
        cells = [(f"      {key}: false", f"      {key}: true") for key in keys]
        rows = []
        for source, row in zip(keys, self.rows, strict=True):
            bits = format(row, f"0{len(keys)}b")[::-1].encode().translate(_BITS)
            body = ",\n".join(map(tuple.__getitem__, cells, bits))
            rows.append(f"    {source}: {{\n{body}\n    }}" if body else f"    {source}: {{}}")
        matrix = "{\n" + ",\n".join(rows) + "\n  }" if rows else "{}"
        return f'{{\n  "port": {self.port},\n  "protocol": {json.dumps(self.protocol)},\n  "matrix": {matrix}\n}}'

    def pretty(self, indent: str = "") -> str:
        """The layout of the upstream e2e TruthTable.PrettyPrint: tab-separated, `.` allowed, `X` denied."""
        lines = [indent + "\t".join(["-", *self.pods])]
        for source, row in zip(self.pods, self.rows, strict=True):
            marks = ["." if row >> j & 1 else "X" for j in range(len(self.pods))]
            lines.append(indent + "\t".join([source, *marks]))
        return "\n".join(lines)


# --8<-- [start:matrix]
def reachability_matrix(engine: Engine, port: int, protocol: str = "TCP") -> ReachabilityMatrix:
    """Every pod-to-pod verdict at once: allowed(s, d) = egress(s) admits d AND ingress(d) admits s (NP-04)."""
    egress = engine.egress_destinations(port, protocol)
    ingress = engine.ingress_sources(port, protocol)
    admitted_by = _transpose(ingress, len(engine.pods))  # admitted_by[s]: the pods whose ingress admits s
    return ReachabilityMatrix(
        port=port,
        protocol=protocol,
        pods=tuple(pod.key for pod in engine.pods),
        rows=tuple(out & into for out, into in zip(egress, admitted_by, strict=True)),
    )


# --8<-- [end:matrix]


def _transpose(columns: Sequence[int], size: int) -> list[int]:
    """Transpose a square bit matrix: result[s] has bit d set when columns[d] has bit s set.

    Done with strings so that the n*n inner work runs in C: each bitset becomes a '0'/'1' string
    (index = bit), zip(*) transposes them, and int(..., 2) turns each column back into a bitset.
    """
    if size == 0:
        return []
    strings = [format(bits, f"0{size}b")[::-1] for bits in columns]
    return [int("".join(chars)[::-1], 2) for chars in zip(*strings, strict=True)]
