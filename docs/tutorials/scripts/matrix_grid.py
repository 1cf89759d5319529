"""Draw a connectivity matrix (`kubectl mini netpol matrix -o json`) as a coloured grid, in SVG.

    kubectl mini netpol matrix -n NAMESPACE --port 80 -o json > matrix.json
    python -m docs.tutorials.scripts.matrix_grid matrix.json matrix.svg

Rows are the sources, columns the destinations, as in the upstream e2e suite's truth tables: a green cell
(`.`) is a connection both sides' policies allow (NP-04), a red one (`X`) one that either side denies. The
diagonal (a pod to itself) is drawn paler: upstream leaves loopback undefined and its e2e suite ignores it
(NP-12). The SVG is a function of the JSON alone, so the committed picture is reproducible.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docs.tutorials.scripts.svgkit import Svg, wrap

__all__ = ["draw", "main"]

ALLOWED, DENIED = "#34a853", "#ea4335"
CELL = 56


def draw(matrix: dict[str, Any], *, title: str | None = None) -> str:
    """The grid of one `{"port", "protocol", "matrix": {from: {to: allowed}}}` document."""
    pods = list(matrix["matrix"])
    label_width = max((len(pod) for pod in pods), default=4) * 7.2 + 24
    left, top = label_width + 16, 150
    size = CELL * len(pods)
    width, height = left + size + 230, top + size + 40
    heading = title or f"Who may connect to whom on {matrix['protocol']}/{matrix['port']}"
    svg = Svg(width, height, title=heading)
    svg.rect(0, 0, width, height, fill="#ffffff")
    svg.text(16, 26, heading, size=14, weight="bold")
    svg.text(16, 46, "rows: from (source) - columns: to (destination)", size=11.5, fill="#555")
    for j, pod in enumerate(pods):  # column labels, slanted
        x = left + j * CELL + CELL / 2
        svg.text(x + 4, top - 10, pod, size=12, rotate=-40, mono=True)
    for i, source in enumerate(pods):
        y = top + i * CELL
        svg.text(left - 10, y + CELL / 2 + 4, source, size=12, anchor="end", mono=True)
        for j, destination in enumerate(pods):
            allowed = bool(matrix["matrix"][source][destination])
            x = left + j * CELL
            opacity = ' fill-opacity="0.35"' if i == j else ""
            svg.rect(
                x,
                y,
                CELL,
                CELL,
                fill=ALLOWED if allowed else DENIED,
                stroke="#ffffff",
                extra=f'stroke-width="2"{opacity}',
            )
            svg.text(
                x + CELL / 2,
                y + CELL / 2 + 6,
                "." if allowed else "X",
                size=18,
                anchor="middle",
                fill="#ffffff",
                weight="bold",
            )
    lx, ly = left + size + 24, top + 8
    legend = [
        (ALLOWED, "", ". allowed: egress of the source and ingress of the destination admit it"),
        (DENIED, "", "X denied by either side"),
        (ALLOWED, ' fill-opacity="0.35"', "a pod to itself: undefined upstream (NP-12)"),
    ]
    for k, (color, opacity, label) in enumerate(legend):
        y = ly + k * 52
        svg.rect(lx, y, 18, 18, fill=color, extra=opacity.strip())
        for n, part in enumerate(wrap(label, 26)):
            svg.text(lx + 26, y + 13 + n * 14, part, size=11, fill="#333")
    return svg.render()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docs.tutorials.scripts.matrix_grid", description=__doc__)
    parser.add_argument("json", help="the output of `kubectl mini netpol matrix -o json` ('-' for stdin)")
    parser.add_argument("svg", type=Path)
    parser.add_argument("--title", help="the picture's title (default: who may connect to whom on PROTOCOL/PORT)")
    args = parser.parse_args(argv)
    text = sys.stdin.read() if args.json == "-" else Path(args.json).read_text(encoding="utf-8")
    args.svg.write_text(draw(json.loads(text), title=args.title), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
