"""The tutorials' pictures (docs/tutorials/img/*.svg) are what their scripts draw from the committed JSON.

A picture edited by hand, or a script changed without redrawing, fails here: redraw with
    python -m docs.tutorials.scripts.rollout_timeline draw docs/tutorials/img/rollout-timeline.json docs/tutorials/img/rollout-timeline.svg
    python -m docs.tutorials.scripts.matrix_grid docs/tutorials/img/netpol-matrix.json docs/tutorials/img/netpol-matrix.svg
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from docs.tutorials.scripts import matrix_grid, rollout_timeline

IMG = Path(__file__).resolve().parents[2] / "docs" / "tutorials" / "img"

PICTURES: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("rollout-timeline", rollout_timeline.draw),
    ("netpol-matrix", matrix_grid.draw),
]


def recording(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((IMG / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(("name", "draw"), PICTURES, ids=[name for name, _ in PICTURES])
def test_committed_svg_is_redrawn_from_its_json(name: str, draw: Callable[[dict[str, Any]], str]) -> None:
    committed = (IMG / f"{name}.svg").read_text(encoding="utf-8")
    assert draw(recording(name)) == committed, f"docs/tutorials/img/{name}.svg differs from what its script draws"


@pytest.mark.parametrize(("name", "draw"), PICTURES, ids=[name for name, _ in PICTURES])
def test_picture_is_well_formed_svg_with_a_title(name: str, draw: Callable[[dict[str, Any]], str]) -> None:
    root = ET.fromstring(draw(recording(name)))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text


def test_every_committed_svg_has_a_drawer() -> None:
    assert sorted(path.stem for path in IMG.glob("*.svg")) == sorted(name for name, _ in PICTURES)


def test_rollout_recording_keeps_the_rolling_update_bounds() -> None:
    """What the picture teaches holds in the recorded data (DP-15, DP-17): at every sample, the desired
    replicas of all MiniReplicaSets stay within replicas + maxSurge, and the available ones at least
    replicas - maxUnavailable."""
    data = recording("rollout-timeline")
    d = data["deployment"]
    assert (d["surge"], d["unavailable"]) == (3, 2)  # 25 % of 10, rounded up and down (DP-13)
    latest: dict[str, tuple[int, int]] = {}
    for _, rs, spec, _, available in data["samples"]:
        latest[rs] = (spec, available)
        assert sum(s for s, _ in latest.values()) <= d["replicas"] + d["surge"]
        assert sum(a for _, a in latest.values()) >= d["replicas"] - d["unavailable"]
    roles = {rs["name"]: rs["role"] for rs in data["replicaSets"]}
    final = {roles[rs]: values for rs, values in latest.items()}
    assert final == {"old": (0, 0), "new": (10, 10)}


def test_rollout_dumps_round_trips() -> None:
    data = recording("rollout-timeline")
    assert json.loads(rollout_timeline.dumps(data)) == data


def test_matrix_grid_colours_each_cell_by_its_verdict() -> None:
    matrix = {
        "port": 80,
        "protocol": "TCP",
        "matrix": {"a/x": {"a/x": True, "a/y": False}, "a/y": {"a/x": True, "a/y": True}},
    }
    svg = matrix_grid.draw(matrix)
    cells = [line for line in svg.splitlines() if line.startswith("<rect") and 'width="56"' in line]
    assert len(cells) == 4
    assert [matrix_grid.DENIED in cell for cell in cells] == [False, True, False, False]
    assert "fill-opacity" in cells[0] and "fill-opacity" in cells[3]  # the diagonal is drawn paler (NP-12)
