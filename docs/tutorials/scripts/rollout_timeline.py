"""Record a real MiniDeployment rollout on the cluster as JSON, and draw replicas per ReplicaSet over time as SVG.

    python -m docs.tutorials.scripts.rollout_timeline record -n NAMESPACE --out rollout.json
    python -m docs.tutorials.scripts.rollout_timeline draw rollout.json rollout.svg

`record` needs the operator running for NAMESPACE. It creates a MiniDeployment (10 replicas, maxSurge and
maxUnavailable 25 %, minReadySeconds 1 so that each step of the rollout takes a visible second), waits
until it is available, then watches its MiniReplicaSets while it changes the image, until the new
MiniReplicaSet has every replica available and the old one none. Every watch event is a sample: the time
since the image change, the MiniReplicaSet, and its spec.replicas, status.replicas and availableReplicas.

`draw` turns such a recording into the picture of the MiniDeployment tutorial (docs/tutorials/img/): one
step line per MiniReplicaSet for its desired and its available replicas, the totals, and the two bounds the
rolling update keeps (DP-13..DP-17): never more than replicas + maxSurge pods, never fewer than
replicas - maxUnavailable available. The SVG is a function of the JSON alone, so the committed picture is
reproducible from the committed recording.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from docs.tutorials.scripts.svgkit import Svg, num, wrap

__all__ = ["draw", "dumps", "main", "record"]

Body = dict[str, Any]
IMAGE_BEFORE = "registry.k8s.io/pause:3.9"
IMAGE_AFTER = "registry.k8s.io/pause:3.10"
COLORS = {"old": "#e8710a", "new": "#1a73e8"}


# --- recording ----------------------------------------------------------------------------------------------


def manifest(name: str, replicas: int, surge: str, unavailable: str, min_ready: int) -> Body:
    """The MiniDeployment recorded: `replicas` pause pods, rolling with the given bounds."""
    return {
        "apiVersion": "minik8s.dev/v1",
        "kind": "MiniDeployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "minReadySeconds": min_ready,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": IMAGE_BEFORE}]},
            },
        },
    }


async def record(
    namespace: str,
    name: str = "timeline",
    *,
    replicas: int = 10,
    surge: str = "25%",
    unavailable: str = "25%",
    min_ready: int = 1,
    kubeconfig: str | None = None,
    within: float = 180,
) -> Body:
    """Create the MiniDeployment, change its image once it is available, and record the rollout."""
    from operators.controllers.deployment.util import resolve_fenceposts  # the controller's own arithmetic
    from operators.kube.resources import MINIDEPLOYMENTS, MINIREPLICASETS
    from operators.runtime.client import KubeClient

    client = await KubeClient.from_kubeconfig(kubeconfig=kubeconfig)
    try:
        body = manifest(name, replicas, surge, unavailable, min_ready)
        await client.create(MINIDEPLOYMENTS.path(namespace), body)

        def available(md: Body | None) -> bool:
            status = (md or {}).get("status") or {}
            return status.get("updatedReplicas") == replicas and status.get("availableReplicas") == replicas

        async with asyncio.timeout(within):
            await _watch_until(client, MINIDEPLOYMENTS.path(namespace), f"metadata.name={name}", available)
            collection = MINIREPLICASETS.path(namespace)
            listing = await client.get(collection, query={"labelSelector": f"app={name}"})
            samples: list[list[Any]] = []
            states: dict[str, Body] = {}
            started = time.monotonic()
            for rs in listing["items"]:
                states[rs["metadata"]["name"]] = rs
                samples.append(_sample(0.0, rs))
            patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": IMAGE_AFTER}]}}}}
            await client.patch(MINIDEPLOYMENTS.path(namespace, name), patch)
            started = time.monotonic()
            query = {"labelSelector": f"app={name}", "resourceVersion": listing["metadata"]["resourceVersion"]}
            while not _rolled_out(states, replicas):
                async for event in client.watch(collection, query=query):
                    rs = event["object"]
                    query["resourceVersion"] = rs["metadata"]["resourceVersion"]
                    states[rs["metadata"]["name"]] = rs
                    samples.append(_sample(time.monotonic() - started, rs))
                    if _rolled_out(states, replicas):
                        break
    finally:
        await client.close()
    resolved_surge, resolved_unavailable = resolve_fenceposts(surge, unavailable, replicas)
    return {
        "deployment": {
            "name": name,
            "replicas": replicas,
            "maxSurge": surge,
            "maxUnavailable": unavailable,
            "minReadySeconds": min_ready,
            "surge": resolved_surge,
            "unavailable": resolved_unavailable,
        },
        "images": {"before": IMAGE_BEFORE, "after": IMAGE_AFTER},
        "replicaSets": [
            {"name": rs_name, "role": "new" if _image(rs) == IMAGE_AFTER else "old"}
            for rs_name, rs in sorted(states.items(), key=lambda item: _image(item[1]) == IMAGE_AFTER)
        ],
        "samples": [[round(t, 3), rs_name, *values] for t, rs_name, *values in samples],
    }


async def _watch_until(client: Any, collection: str, fields: str, done: Callable[[Body | None], bool]) -> None:
    listing = await client.get(collection, query={"fieldSelector": fields})
    if done(listing["items"][0] if listing["items"] else None):
        return
    query = {"fieldSelector": fields, "resourceVersion": listing["metadata"]["resourceVersion"]}
    while True:
        async for event in client.watch(collection, query=query):
            query["resourceVersion"] = event["object"]["metadata"]["resourceVersion"]
            if done(None if event["type"] == "DELETED" else event["object"]):
                return


def _image(rs: Body) -> str:
    return str(rs["spec"]["template"]["spec"]["containers"][0]["image"])


def _sample(t: float, rs: Body) -> list[Any]:
    status = rs.get("status") or {}
    return [
        t,
        rs["metadata"]["name"],
        int(rs["spec"].get("replicas", 0)),
        int(status.get("replicas") or 0),
        int(status.get("availableReplicas") or 0),
    ]


def _rolled_out(states: dict[str, Body], replicas: int) -> bool:
    new = [rs for rs in states.values() if _image(rs) == IMAGE_AFTER]
    old = [rs for rs in states.values() if _image(rs) != IMAGE_AFTER]
    return (
        len(new) == 1
        and new[0]["spec"].get("replicas") == replicas
        and (new[0].get("status") or {}).get("availableReplicas") == replicas
        and all(rs["spec"].get("replicas") == 0 and not (rs.get("status") or {}).get("replicas") for rs in old)
    )


# --- drawing ------------------------------------------------------------------------------------------------

WIDTH, HEIGHT = 780, 410
LEFT, RIGHT, TOP, BOTTOM = 56, 560, 48, 340  # the plot area


def _steps(series: Sequence[tuple[float, int]], end: float) -> list[tuple[float, int]]:
    """The corners of a step line through (time, value) changes, held until `end`."""
    points: list[tuple[float, int]] = []
    for t, value in series:
        if points and points[-1][1] == value:
            continue
        if points:
            points.append((t, points[-1][1]))
        points.append((t, value))
    if points:
        points.append((end, points[-1][1]))
    return points


def _tick_step(span: float, most: int) -> float:
    for step in (0.5, 1, 2, 5, 10, 20, 30, 60, 120):
        if span / step <= most:
            return step
    return math.ceil(span / most)


def draw(recording: Body) -> str:
    """The SVG picture of a recording (see the module docstring)."""
    d = recording["deployment"]
    replicas, surge, unavailable = int(d["replicas"]), int(d["surge"]), int(d["unavailable"])
    roles = {rs["name"]: rs["role"] for rs in recording["replicaSets"]}
    samples = [(float(t), str(rs), int(sp), int(pods), int(av)) for t, rs, sp, pods, av in recording["samples"]]
    end = max((t for t, *_ in samples), default=1.0) * 1.04 + 0.2
    y_max = replicas + surge + 1

    def x(t: float) -> float:
        return LEFT + (RIGHT - LEFT) * t / end

    def y(v: float) -> float:
        return BOTTOM - (BOTTOM - TOP) * v / y_max

    title = (
        f"Rolling update of {replicas} replicas, maxSurge {d['maxSurge']} ({surge}), "
        f"maxUnavailable {d['maxUnavailable']} ({unavailable}), minReadySeconds {d['minReadySeconds']}"
    )
    svg = Svg(WIDTH, HEIGHT, title=title)
    svg.rect(0, 0, WIDTH, HEIGHT, fill="#ffffff")
    svg.text(LEFT, 24, title, size=13, weight="bold")
    # axes and grid
    for v in range(0, y_max + 1):
        if v % 2 == 0 or y_max <= 10:
            svg.line(LEFT, y(v), RIGHT, y(v), stroke="#eeeeee")
            svg.text(LEFT - 8, y(v) + 4, str(v), size=11, anchor="end", fill="#555")
    step = _tick_step(end, 12)
    tick = 0.0
    while tick <= end:
        svg.line(x(tick), BOTTOM, x(tick), BOTTOM + 4, stroke="#555")
        svg.text(x(tick), BOTTOM + 18, num(tick), size=11, anchor="middle", fill="#555")
        tick += step
    svg.line(LEFT, BOTTOM, RIGHT, BOTTOM, stroke="#555")
    svg.line(LEFT, TOP, LEFT, BOTTOM, stroke="#555")
    svg.text((LEFT + RIGHT) / 2, BOTTOM + 40, "seconds since the image changed", size=12, anchor="middle", fill="#333")
    svg.text(18, (TOP + BOTTOM) / 2, "replicas", size=12, anchor="middle", fill="#333", rotate=-90)
    # the bounds the rolling update keeps
    bounds = [
        (replicas + surge, f"at most {replicas + surge} pods (replicas + maxSurge)", "#c5221f"),
        (replicas - unavailable, f"at least {replicas - unavailable} available (replicas - maxUnavailable)", "#188038"),
    ]
    for value, label, color in bounds:
        svg.line(LEFT, y(value), RIGHT, y(value), stroke=color, width=1, dash="2 3")
        svg.text(RIGHT - 4, y(value) - 5, label, size=10.5, anchor="end", fill=color)
    # totals over every MiniReplicaSet
    latest: dict[str, tuple[int, int, int]] = {}
    pods_total: list[tuple[float, int]] = []
    available_total: list[tuple[float, int]] = []
    for t, rs, spec, pods, avail in samples:
        latest[rs] = (spec, pods, avail)
        pods_total.append((t, sum(p for _, p, _ in latest.values())))
        available_total.append((t, sum(a for _, _, a in latest.values())))
    svg.polyline(((x(t), y(v)) for t, v in _steps(pods_total, end)), stroke="#9aa0a6", width=1.5)
    svg.polyline(((x(t), y(v)) for t, v in _steps(available_total, end)), stroke="#3c4043", width=1.5, dash="1 2")
    # one pair of lines per MiniReplicaSet
    for name, role in roles.items():
        color = COLORS[role]
        desired = [(t, spec) for t, rs, spec, _, _ in samples if rs == name]
        available = [(t, avail) for t, rs, _, _, avail in samples if rs == name]
        svg.polyline(((x(t), y(v)) for t, v in _steps(desired, end)), stroke=color, width=2, dash="6 4")
        svg.polyline(((x(t), y(v)) for t, v in _steps(available, end)), stroke=color, width=3)
    # legend
    lx, row = RIGHT + 24, TOP + 8
    entries: list[tuple[str, str, float, str]] = []
    for role in ("old", "new"):
        entries.append((f"{role} MiniReplicaSet: spec.replicas", COLORS[role], 2, "6 4"))
        entries.append((f"{role} MiniReplicaSet: available", COLORS[role], 3, ""))
    entries.append(("all pods (status.replicas)", "#9aa0a6", 1.5, ""))
    entries.append(("all available", "#3c4043", 1.5, "1 2"))
    for label, color, width, dash in entries:
        svg.line(lx, row, lx + 26, row, stroke=color, width=width, dash=dash)
        for j, part in enumerate(wrap(label, 22)):
            svg.text(lx + 32, row + 4 + j * 13, part, size=10.5, fill="#333")
        row += 13 * len(wrap(label, 22)) + 10
    row += 6
    for name, role in roles.items():
        svg.text(lx, row, f"{role}: {name}", size=10.5, fill=COLORS[role], mono=True)
        row += 16
    note = f"{d['name']}: image {recording['images']['before']} -> {recording['images']['after']}"
    svg.text(LEFT, HEIGHT - 10, note, size=10.5, fill="#666")
    return svg.render()


# --- command line -------------------------------------------------------------------------------------------


def dumps(recording: Body) -> str:
    """The recording as JSON for a diff: one line per sample."""
    head = json.dumps({k: v for k, v in recording.items() if k != "samples"}, indent=1)[:-2]
    samples = ",\n".join("  " + json.dumps(sample) for sample in recording["samples"])
    return f'{head},\n "samples": [\n{samples}\n ]\n}}\n'


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docs.tutorials.scripts.rollout_timeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record", help="record a rollout on the cluster (the operator must be running)")
    rec.add_argument("-n", "--namespace", required=True)
    rec.add_argument("--name", default="timeline", help="the MiniDeployment to create (default %(default)s)")
    rec.add_argument("--replicas", type=int, default=10)
    rec.add_argument("--max-surge", default="25%")
    rec.add_argument("--max-unavailable", default="25%")
    rec.add_argument("--min-ready-seconds", type=int, default=1)
    rec.add_argument("--kubeconfig")
    rec.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    drw = commands.add_parser("draw", help="draw a recording as SVG")
    drw.add_argument("json", type=Path)
    drw.add_argument("svg", type=Path)
    args = parser.parse_args(argv)
    if args.command == "record":
        recording = asyncio.run(
            record(
                args.namespace,
                args.name,
                replicas=args.replicas,
                surge=args.max_surge,
                unavailable=args.max_unavailable,
                min_ready=args.min_ready_seconds,
                kubeconfig=args.kubeconfig,
            )
        )
        args.out.write_text(dumps(recording), encoding="utf-8")
        rs_count = len(recording["replicaSets"])
        print(f"recorded {len(recording['samples'])} samples of {rs_count} MiniReplicaSets into {args.out}")
        return 0
    args.svg.write_text(draw(json.loads(args.json.read_text(encoding="utf-8"))), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
