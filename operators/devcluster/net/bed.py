"""The test bed at work: builds the nodes' and pods' namespaces, follows pods as they come and go, and answers
on every pod's declared ports (TCP and UDP) with the pod's name, as agnhost's serve-hostname does.

`TestBed` runs in an asyncio loop: `python -m operators.devcluster net up` runs one in the foreground, a
pytest fixture runs one beside its tests. It reads the cluster with kubectl (the dev cluster's own pinned
one): a LIST of nodes, then a WATCH of pods. Every namespace it makes is recorded in a state file as it is
made, so that `net down` (or `stop()`) removes exactly those, even after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from operators.devcluster.net import netns
from operators.devcluster.net.plan import PREFIX, UNDERLAY, NodeNet, PodNet, holders, node_nets, pod_nets
from operators.devcluster.net.proxy import KubeProxy
from operators.devcluster.net.responder import Responder
from operators.devcluster.net.sockets import listening_socket, probe, reachable

__all__ = ["TestBed", "remove_recorded"]

logger = logging.getLogger(__name__)
READY_WITHIN = 30.0  # seconds for a wired pod to answer from its node before wait_for() reports it


class TestBed:
    """Pods as network namespaces with their real IPs; `probe()` connects from one pod to an address."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(
        self,
        kubectl: Callable[..., list[str]],
        state_file: Path,
        *,
        kube_proxy: tuple[Path, Path] | None = None,
    ) -> None:
        """`kubectl(*args)` is the argv of the cluster's kubectl with those arguments; `kube_proxy`, the
        kube-proxy binary and the kubeconfig it uses, runs one kube-proxy in each node's namespace."""
        self.kubectl = kubectl
        self.state_file = state_file
        self.kube_proxy = kube_proxy
        self.proxies: list[KubeProxy] = []
        self.nodes: dict[str, NodeNet] = {}
        self.pods: dict[str, PodNet] = {}  # the wired pods, by uid
        self._claims: dict[str, PodNet] = {}  # every pod the watch says should have a network, by uid
        self._served: set[str] = set()  # the wired pods whose responder answers and whose node reaches them
        self._responder: Responder | None = None
        self._watch: asyncio.Task[None] | None = None
        self._unserved: dict[str, str] = {}  # namespace/name -> why its responder is not listening
        self._changed = asyncio.Event()

    # --- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Build the underlay and the nodes, wire the pods that run now, then follow pods (a watch)."""
        netns.require_support()
        remove_recorded(self.state_file)  # what an earlier run of this bed left behind
        if others := netns.existing():
            raise netns.NetError(
                f"{len(others)} test-bed namespaces exist already ({sorted(others)[0]}, ...): another test bed "
                "runs; stop it first (python -m operators.devcluster net down)"
            )
        listed = await self._kubectl_json("get", "nodes", "-o", "json")
        self.nodes = {node.name: node for node in node_nets(listed["items"])}
        if not self.nodes:
            raise netns.NetError("no kwok node with an InternalIP and a pod CIDR: is the local cluster up?")
        self._record(UNDERLAY)
        netns.add_underlay()
        for node in self.nodes.values():
            self._record(node.netns)
            netns.add_node(node)
        netns.routes_between(list(self.nodes.values()))
        await self._nodes_reach_each_other()
        if self.kube_proxy is not None:
            binary, kubeconfig = self.kube_proxy
            for node in self.nodes.values():
                netns.bridged_traffic_through_netfilter(node)  # Services between pods of one node, too
                proxy = KubeProxy(node, binary, kubeconfig, self.state_file.parent / f"kube-proxy-{node.name}.log")
                await proxy.start()
                self.proxies.append(proxy)
        self._responder = Responder()
        self._watch = asyncio.create_task(self._follow(), name="testbed-pods")

    async def _nodes_reach_each_other(self) -> None:
        """Wait until every node answers every other on the underlay. New links come up asynchronously: an ARP
        request sent before they do is lost and repeated only a second later, and the first packet between two
        nodes waits for it (a pod's first connection to another node timed out that way)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_WITHIN
        for node in self.nodes.values():
            for other in self.nodes.values():
                while other is not node and not await reachable(node.netns, str(other.address), wait=0.2):
                    if loop.time() > deadline:
                        unreached = f"{other.name} ({other.address})"
                        raise netns.NetError(f"{node.name} does not reach {unreached} on the underlay")

    async def stop(self) -> None:
        """Stop following, close every listener, and remove every namespace the test bed made."""
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        for proxy in self.proxies:
            await proxy.stop()
        self.proxies.clear()
        if self._responder is not None:
            self._responder.stop()  # closes every pod's sockets
            self._responder = None
        self._served.clear()
        remove_recorded(self.state_file)
        self.pods.clear()
        self._claims.clear()

    # --- following pods --------------------------------------------------------------------------------------

    async def _follow(self) -> None:
        argv = self.kubectl("get", "pods", "-A", "--watch", "--output-watch-events", "-o", "json")
        process = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, limit=2**24)
        assert process.stdout is not None
        decoder = json.JSONDecoder()
        buffer = ""
        try:
            while chunk := await process.stdout.read(65536):
                buffer += chunk.decode()
                while True:
                    buffer = buffer.lstrip()
                    try:
                        event, end = decoder.raw_decode(buffer)
                    except json.JSONDecodeError:
                        break
                    buffer = buffer[end:]
                    self.observe(event.get("type", ""), event.get("object") or {})
            raise netns.NetError("the pod watch ended: is the API server still up?")
        finally:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            self._changed.set()  # wait_for() sees the watch gone, and says so

    def observe(self, kind: str, pod: Mapping[str, Any]) -> None:
        """One watch event of a pod (the watch calls it; a test may feed its own): record what the pod
        claims, then wire exactly the holders of the claimed addresses. A pod that loses its address (or is
        gone) is unwired before the pod that takes the address over is wired."""
        uid = str((pod.get("metadata") or {}).get("uid", ""))
        wanted = pod_nets([pod], self.nodes) if kind != "DELETED" else []
        if wanted:
            self._claims[uid] = wanted[0]
        else:
            self._claims.pop(uid, None)
        desired = {p.uid: p for p in holders(self._claims.values(), self.pods).values()}
        for wired_uid, wired in list(self.pods.items()):
            if desired.get(wired_uid) != wired:
                self._remove_pod(wired_uid)
        for desired_uid, claim in desired.items():
            if desired_uid not in self.pods:
                self._add_pod(claim)
        self._changed.set()

    def _add_pod(self, pod: PodNet) -> None:
        self._record(pod.netns)
        logger.debug("test bed: wiring %s (%s, %s) on %s", pod.key, pod.address, pod.uid, pod.node)
        try:
            netns.add_pod(pod, self.nodes[pod.node])
        except netns.NetError as error:
            logger.warning("test bed: pod %s not wired: %s", pod.key, error)
            return
        self.pods[pod.uid] = pod
        self._unserved.pop(pod.key, None)
        asyncio.get_running_loop().create_task(self._serve(pod))

    def _remove_pod(self, uid: str) -> None:
        pod = self.pods.pop(uid)
        logger.debug("test bed: unwiring %s (%s, %s)", pod.key, pod.address, pod.uid)
        self._close(uid)
        netns.remove_pod(pod, self.nodes[pod.node])

    async def _serve(self, pod: PodNet) -> None:
        """The responder of one pod (its name on each declared port, TCP and UDP), then its readiness."""
        assert self._responder is not None
        name = pod.key.split("/", 1)[1]
        try:
            sockets = [listening_socket(pod.netns, port, protocol) for port, protocol in pod.ports]
        except OSError as error:
            if self.pods.get(pod.uid) is pod:  # still wired: wait_for() reports it
                self._unserved[pod.key] = f"its responder did not start: {error}"
            self._changed.set()
            return
        self._responder.serve(pod.uid, sockets, name)
        # Ready when its node reaches it, as a kubelet's readiness probe: a namespace's link comes up
        # asynchronously, and a first SYN sent before it does is lost and retried only after a second.
        loop = asyncio.get_running_loop()
        node, deadline = self.nodes[pod.node], loop.time() + READY_WITHIN
        while pod.uid in self.pods and not await reachable(node.netns, str(pod.address), wait=0.2):
            if loop.time() > deadline:
                self._unserved[pod.key] = f"not reachable from its node {node.name} within {READY_WITHIN:.0f} s"
                break
        if self.pods.get(pod.uid) is pod and pod.key not in self._unserved:
            self._served.add(pod.uid)  # (a pod unwired meanwhile had its sockets withdrawn by _remove_pod)
        self._changed.set()

    def _close(self, uid: str) -> None:
        self._served.discard(uid)
        if self._responder is not None:
            self._responder.withdraw(uid)

    # --- probing ---------------------------------------------------------------------------------------------

    def pod(self, key: str) -> PodNet:
        """The wired pod `namespace/name`."""
        for pod in self.pods.values():
            if pod.key == key:
                return pod
        raise KeyError(f"pod {key} is not wired into the test bed")

    async def wait_for(self, keys: set[str], *, within: float = 60) -> None:
        """Wait until every pod of `keys` (`namespace/name`) is wired, its responder listens, and its node
        reaches it."""
        async with asyncio.timeout(within):
            while True:
                wired = {p.key for p in self.pods.values() if p.uid in self._served}
                if keys <= wired:
                    return
                if failed := sorted(keys & self._unserved.keys()):
                    raise netns.NetError(f"pod {failed[0]}: {self._unserved[failed[0]]}")
                if self._watch is not None and self._watch.done():
                    error = None if self._watch.cancelled() else self._watch.exception()
                    raise netns.NetError(f"the test bed stopped following pods: {error or 'stopped'}")
                self._changed.clear()
                await self._changed.wait()  # set by every pod event and by every responder that opens

    async def probe(self, source: str, address: str, port: int, protocol: str = "TCP", wait: float = 1.0) -> str | None:
        """Connect from pod `source` (`namespace/name`) to `address:port`: the answering pod's name, or None
        when nothing answered within `wait` seconds (the e2e prober's timeout)."""
        return await probe(self.pod(source).netns, address, port, protocol, wait=wait)

    # --- the record of what was made -------------------------------------------------------------------------

    def _record(self, name: str) -> None:
        recorded = _read(self.state_file)
        if name not in recorded:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            self.state_file.write_text(json.dumps(sorted({*recorded, name})))

    async def _kubectl_json(self, *args: str) -> dict[str, Any]:
        process = await asyncio.create_subprocess_exec(
            *self.kubectl(*args), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await process.communicate()
        if process.returncode != 0:
            raise netns.NetError(f"kubectl {' '.join(args)}: {err.decode().strip()}")
        result: dict[str, Any] = json.loads(out)
        return result


def _read(state_file: Path) -> set[str]:
    try:
        return set(json.loads(state_file.read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return set()


def remove_recorded(state_file: Path) -> list[str]:
    """Remove every namespace the state file records (pods first, the underlay last); returns their names."""
    recorded = _read(state_file)
    order = sorted(recorded, key=lambda n: (n == UNDERLAY, not n.startswith(f"{PREFIX}pod-"), n))
    for name in order:
        netns.remove(name)
    state_file.unlink(missing_ok=True)
    return order
