"""The policy agent of one node: the cluster's pods, namespaces and policies in, that node's nftables table out.

`python -m operators agent --node NAME` runs one per node, as a DaemonSet would on kind. Its shared informers
(the runtime's reflectors: no Kopf, nothing of its own to write) feed one work-queue key: any change marks
the node's table stale, the queue coalesces a burst into one sync, and the sync compiles the whole table
(`ruleset.compile_ruleset`, pure) and loads it with one `nft -f` transaction when its text changed. Every
decision is the policy engine's model (NP-01..NP-13).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any

from operators.agent.ruleset import compile_ruleset, owners_of_addresses
from operators.controllers.networkpolicy.model import MiniNetworkPolicyView, NativePolicyView
from operators.kube.objects import NamespaceView, Node, Pod
from operators.kube.resources import MININETWORKPOLICIES, NAMESPACES, NETWORKPOLICIES, NODES, PODS
from operators.networkpolicy.errors import PolicyError
from operators.networkpolicy.model import Namespace, Policy, Snapshot
from operators.networkpolicy.parse import parse_policy
from operators.runtime.controller import Controller, Reconciler, Result, SyncError
from operators.runtime.informers import Informer
from operators.runtime.manager import Manager, Options

__all__ = ["PolicyAgent", "run_agent"]

logger = logging.getLogger(__name__)
KEY = "node"  # the one key: the node's whole table


class PolicyAgent:
    """Keeps one node's nftables table equal to what the policies say."""

    name = "netpol-agent"

    def __init__(
        self,
        node: str,
        pods: Informer[Pod],
        namespaces: Informer[NamespaceView],
        policies: Sequence[Informer[Any]],
        nodes: Informer[Node],
        nft: Sequence[str],
        extra_addresses: Sequence[str],
        controller_factory: Callable[[Reconciler], Controller],
    ) -> None:
        self.node = node
        self.pods, self.namespaces, self.policies, self.nodes = pods, namespaces, list(policies), nodes
        self.nft = list(nft)
        self.extra_addresses = list(extra_addresses)
        self.applied = ""  # the text of the table last loaded
        self.loads = 0
        self.controller = controller_factory(self)
        informers: list[Informer[Any]] = [pods, namespaces, nodes, *self.policies]
        for informer in informers:
            informer.subscribe(self._changed)

    def _changed(self, _old: object, _new: object) -> None:
        """Whatever changed, the node's table is compiled again (the queue coalesces a burst into one sync)."""
        self.controller.enqueue(KEY)

    async def sync(self, key: str) -> Result | None:
        """Compile the table from the caches; load it when it differs from the one loaded."""
        started = time.monotonic()
        ruleset = compile_ruleset(self._snapshot(), self.node, self._node_addresses())
        if ruleset.text == self.applied:
            return None
        process = await asyncio.create_subprocess_exec(
            *self.nft, "-f", "-", stdin=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        _, err = await process.communicate(ruleset.text.encode())
        if process.returncode != 0:
            raise SyncError(f"nft refused the table of {self.node}: {err.decode().strip()}")
        self.applied = ruleset.text
        self.loads += 1
        isolated = f"{len(ruleset.ingress_isolated)}/{len(ruleset.egress_isolated)}"
        elapsed = (time.monotonic() - started) * 1000
        logger.info(
            "agent %s: table loaded, %d elements, %s pods isolated (in/out), %.0f ms",
            self.node,
            ruleset.elements,
            isolated,
            elapsed,
        )
        return None

    def _snapshot(self) -> Snapshot:
        namespaces = tuple(Namespace(ns.name, ns.labels) for ns in self.namespaces)
        running = [p for p in self.pods if p.pod_ips and p.phase not in ("Succeeded", "Failed")]
        pods = tuple(owners_of_addresses(running))
        policies: list[Policy] = []
        for informer in self.policies:
            for view in informer:
                try:
                    policies.append(parse_policy(_body(view)))
                except PolicyError as error:
                    logger.warning("agent %s: policy %s left out: %s", self.node, view.key, error)
        return Snapshot(namespaces=namespaces, pods=pods, policies=tuple(policies))

    def _node_addresses(self) -> list[str]:
        """NP-12: traffic from the node itself is allowed: its InternalIPs, and the addresses given."""
        node = self.nodes.get("", self.node)
        return [*(node.addresses if node is not None else ()), *self.extra_addresses]


def _body(view: MiniNetworkPolicyView | NativePolicyView) -> dict[str, Any]:
    kind = "MiniNetworkPolicy" if isinstance(view, MiniNetworkPolicyView) else "NetworkPolicy"
    return {"kind": kind, "metadata": {"namespace": view.namespace, "name": view.name}, "spec": dict(view.spec)}


async def _serve(
    node: str, *, native: bool, netns: str | None, extra_addresses: Sequence[str], kubeconfig: str | None
) -> None:
    options = Options(kubeconfig=kubeconfig, leader_elect=False, metrics_bind_address="0")
    manager = await Manager.connect(options)
    pods = manager.informer(PODS, Pod.from_dict)
    namespaces = manager.informer(NAMESPACES, NamespaceView.from_dict)
    nodes = manager.informer(NODES, Node.from_dict)
    policies: list[Informer[Any]] = [manager.informer(MININETWORKPOLICIES, MiniNetworkPolicyView.from_dict)]
    if native:
        policies.append(manager.informer(NETWORKPOLICIES, NativePolicyView.from_dict))
    nft = ["ip", "netns", "exec", netns, "nft"] if netns else ["nft"]
    informers: list[Informer[Any]] = [pods, namespaces, nodes, *policies]

    def workers(reconciler: Reconciler) -> Controller:
        return manager.controller(reconciler, waits_for=informers)

    PolicyAgent(node, pods, namespaces, policies, nodes, nft, extra_addresses, workers)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await manager.start()
    try:
        await stop.wait()
    finally:
        await manager.stop()


def run_agent(
    node: str, *, native: bool, netns: str | None, extra_addresses: Sequence[str], kubeconfig: str | None
) -> int:
    """The `agent` command: serve until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    asyncio.run(_serve(node, native=native, netns=netns, extra_addresses=extra_addresses, kubeconfig=kubeconfig))
    return 0
