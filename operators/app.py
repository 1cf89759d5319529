"""The operator process: every Mini controller on one shared runtime, run by Kopf."""

from __future__ import annotations

import asyncio
import logging
import threading

import kopf

from operators.controllers.replicaset.controller import ReplicaSetController
from operators.runtime.manager import Manager, Options

__all__ = ["LeadershipLost", "build_manager", "run", "serve"]


def build_manager(options: Options | None = None) -> Manager:
    """A manager with every controller registered; `run()` runs it, tests run it in-process."""
    manager = Manager(options)
    ReplicaSetController.setup(manager)
    return manager


async def serve(
    manager: Manager,
    *,
    liveness: str | None = None,
    stop_flag: asyncio.Event | threading.Event | None = None,
    ready_flag: asyncio.Event | threading.Event | None = None,
) -> None:
    """Run the operator until `stop_flag` is set (or forever); raise LeadershipLost when the lease is lost."""
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
        asyncio.run(serve(build_manager(options), liveness=liveness))
    except LeadershipLost as error:
        logging.getLogger(__name__).error("%s: exiting", error)
        return 1
    return 0
