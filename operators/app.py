"""The operator process: every Mini controller on one shared runtime, run by Kopf."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import kopf

from operators.controllers.deployment.controller import DeploymentController
from operators.controllers.networkpolicy.controller import NetworkPolicyController
from operators.controllers.replicaset.controller import ReplicaSetController
from operators.controllers.service.controller import ServiceController
from operators.runtime.manager import Manager, Options

__all__ = ["LeadershipLost", "build_manager", "run", "serve"]


async def build_manager(options: Options | None = None) -> Manager:
    """The client, then a manager with every controller set up on it; `serve()` runs it."""
    manager = await Manager.connect(options)
    ReplicaSetController.setup(manager)
    DeploymentController.setup(manager)
    ServiceController.setup(manager)
    NetworkPolicyController.setup(manager)
    return manager


async def serve(
    options: Options | None = None,
    *,
    liveness: str | None = None,
    stop_flag: asyncio.Event | threading.Event | None = None,
    ready_flag: asyncio.Event | threading.Event | None = None,
    built: Callable[[Manager], None] | None = None,
) -> None:
    """Build the manager and run the operator until `stop_flag` is set (or forever).

    `built(manager)` is called once the manager exists, before Kopf starts (tests keep a handle on it).
    Raises LeadershipLost when the lease is lost.
    """
    manager = await build_manager(options)
    if built is not None:
        built(manager)
    try:
        await _run_kopf(manager, liveness=liveness, stop_flag=stop_flag, ready_flag=ready_flag)
    finally:
        await manager.stop()  # Kopf's cleanup has done it, unless Kopf never started or was cancelled


async def _run_kopf(
    manager: Manager,
    *,
    liveness: str | None,
    stop_flag: asyncio.Event | threading.Event | None,
    ready_flag: asyncio.Event | threading.Event | None,
) -> None:
    namespaces = list(manager.options.namespaces)
    operator = asyncio.create_task(
        kopf.operator(
            registry=manager.registry,
            clusterwide=not namespaces,
            namespaces=namespaces,
            standalone=True,
            liveness_endpoint=liveness,
            stop_flag=stop_flag,
            ready_flag=ready_flag,
        ),
        name="kopf",
    )
    lost = asyncio.create_task(manager.leadership_lost.wait(), name="leadership-lost")
    await asyncio.wait({operator, lost}, return_when=asyncio.FIRST_COMPLETED)
    lost.cancel()
    if operator.done():
        operator.result()
        return
    operator.cancel()
    await asyncio.gather(operator, return_exceptions=True)
    raise LeadershipLost("leader election lost")


class LeadershipLost(Exception):
    """The lease went to another process: this one must end (kube-controller-manager exits too)."""


def run(options: Options, *, liveness: str | None = None, verbose: bool = False) -> int:
    """The `run` command: configure logging and serve until interrupted; the process's exit code."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    if not verbose:  # Kopf reports every handled event at INFO, aiohttp every liveness probe
        logging.getLogger("kopf").setLevel(logging.WARNING)
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(options, liveness=liveness))
    except LeadershipLost as error:
        logging.getLogger(__name__).error("%s: exiting", error)
        return 1
    return 0
