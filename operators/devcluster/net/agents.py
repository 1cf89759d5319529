"""The test bed's policy agents: one `python -m operators agent` per node, ready once each has loaded its table."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from operators.agent.ruleset import TABLE
from operators.devcluster.net.bed import TestBed
from operators.devcluster.net.netns import NetError

__all__ = ["start_agents"]


async def start_agents(
    bed: TestBed, kubeconfig: Path, logs: Path, *, native: bool, within: float = 60
) -> list[asyncio.subprocess.Process]:
    """One agent per node of `bed`, loading its table into the node's namespace (its own gateway counted as the
    node's address, NP-12), each logging to `logs/agent-<node>.log` (`logs`: an existing directory).

    Returns once every agent has synced and loaded its first table: what a caller then changes reaches the
    agents as watch events (the update path), and nobody times the agents' start-up (Python imports). An agent
    that exits first fails it loudly."""
    processes = []
    for node in bed.nodes.values():
        with (logs / f"agent-{node.name}.log").open("wb") as log:  # the child keeps its own descriptor
            processes.append(
                await asyncio.create_subprocess_exec(
                    *(sys.executable, "-m", "operators", "agent", "--node", node.name, "--netns", node.netns),
                    *(("--native-policies",) if native else ()),
                    *("--node-address", str(node.gateway), f"--kubeconfig={kubeconfig}"),
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                )
            )
    deadline = asyncio.get_running_loop().time() + within
    while not all(await asyncio.gather(*(_loaded(node.netns) for node in bed.nodes.values()))):
        if exited := [p.pid for p in processes if p.returncode is not None]:
            raise NetError(f"policy agents {exited} exited before loading their tables (logs in {logs})")
        if asyncio.get_running_loop().time() > deadline:
            raise NetError(f"the policy agents did not load their tables within {within:.0f} s (logs in {logs})")
        await asyncio.sleep(0.2)  # polling nft: a table appearing sends no event
    return processes


async def _loaded(netns: str) -> bool:
    listed = await asyncio.create_subprocess_exec(
        *("ip", "netns", "exec", netns, "nft", "list", "table", "inet", TABLE),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await listed.wait() == 0
