"""The greeting controller's process: a Manager with this one controller, run by Kopf until stopped.

The same shape as the operator's own (operators/app.py), cut down: connect, set the controller up on the
manager, hand the manager's Kopf registry to `kopf.operator()`. Kopf logs in, watches Greetings, and calls
the manager's startup handler, which starts the informers and then the workers.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import kopf

from docs.tutorials.first_controller.controller import GreetingController
from operators.runtime.manager import Manager, Options

__all__ = ["options", "run", "serve"]


def options(*, namespaces: tuple[str, ...] = (), kubeconfig: str | None = None) -> Options:
    """One process, no lease to win, no metrics port: what a tutorial (and a test) wants."""
    return Options(namespaces=namespaces, kubeconfig=kubeconfig, leader_elect=False, metrics_bind_address="0")


# --8<-- [start:serve]
async def serve(
    options: Options,
    *,
    stop_flag: asyncio.Event | threading.Event | None = None,
    ready_flag: asyncio.Event | threading.Event | None = None,
) -> None:
    """Run the greeting controller until `stop_flag` is set (or forever, until Ctrl-C)."""
    manager = await Manager.connect(options)
    GreetingController.setup(manager)
    namespaces = list(options.namespaces)
    try:
        await kopf.operator(
            registry=manager.registry,
            clusterwide=not namespaces,
            namespaces=namespaces,
            standalone=True,
            liveness_endpoint=None,
            stop_flag=stop_flag,
            ready_flag=ready_flag,
        )
    finally:
        await manager.stop()


# --8<-- [end:serve]


def run(options: Options, *, verbose: bool = False) -> int:
    """Configure logging and serve until interrupted; the process's exit code."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    if not verbose:
        logging.getLogger("kopf").setLevel(logging.WARNING)  # Kopf reports every handled event at INFO
    asyncio.run(serve(options))
    return 0
