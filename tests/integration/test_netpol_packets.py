"""The upstream e2e NetworkPolicy truth tables with real packets: the policy agent on the network test bed.

The cases of test/e2e/network/netpol (the x/y/z namespaces, pods a/b/c with ports 80 and 81 on TCP, UDP and
SCTP, the ones tests/integration/test_netpol_live.py runs through the live CLI) run again, with one agent per
node enforcing the policies and every cell of each truth table probed with a real connection from the source
pod's namespace to the destination pod's IP, as the upstream prober does. Where the table is not met within
the time the agents need to load a change, the mismatches are printed as upstream prints them (expected and
observed tables). SCTP cells are checked by the engine only: this kernel has no SCTP (the live CLI's check of
the same table, which `Model.validate` runs first, covers them).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable

import pytest

from operators.devcluster.net.bed import TestBed
from operators.runtime.client import KubeClient
from tests.integration.test_netbed import agents, bed  # noqa: F401  (fixtures)
from tests.integration.test_netpol_live import (  # noqa: F401  (mini, namespaces: fixtures)
    E2E_CASES,
    Cli,
    Model,
    mini,
    model_pod,
    namespaces,
    run_pods,
)
from tests.unit.networkpolicy.netpol_e2e import Reachability, pretty_print

pytestmark = [pytest.mark.cluster]

CONVERGE = 30.0  # seconds for the agents to load a change (measured: about 70 ms; benchmarks/dataplane.py)


class PacketModel(Model):
    """Model whose ValidateOrFail also probes every cell with a real connection."""

    def __init__(self, testbed: TestBed, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.bed = testbed
        self.probed_cells = 0

    async def validate(self, port: int, protocol: str, reachability: Reachability) -> None:
        await super().validate(port, protocol, reachability)  # the engine's answer, live (SCTP included)
        if protocol == "SCTP":
            return  # no SCTP in this kernel: the engine's check above is the only one
        pairs = [(s, d) for s in self.pods for d in self.pods if s != d]
        deadline = time.monotonic() + CONVERGE
        while True:
            answers = await asyncio.gather(
                *(self.bed.probe(s, self.ips[d], port, protocol, wait=0.5) for s, d in pairs)
            )
            observed = {s: {d: s == d for d in self.pods} for s in self.pods}
            for (s, d), answer in zip(pairs, answers, strict=True):
                observed[s][d] = answer is not None
            wrong = [(s, d) for s, d in pairs if observed[s][d] != reachability.expected[s][d]]
            if not wrong:
                self.probed_cells += len(pairs)
                return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(wrong)} wrong results with packets on {protocol}/{port}: {wrong}\n"
                    f"expected:\n{pretty_print(self.pods, reachability.expected)}\n\n"
                    f"observed:\n{pretty_print(self.pods, observed)}"
                )


@pytest.mark.parametrize("case", E2E_CASES, ids=lambda case: case.__name__)
async def test_upstream_e2e_netpol_with_real_packets(
    case: Callable[[Model], Awaitable[None]],
    kube: KubeClient,
    namespaces: Callable[..., Awaitable[list[str]]],  # noqa: F811
    mini: Cli,  # noqa: F811
    bed: TestBed,  # noqa: F811
    agents: list[asyncio.subprocess.Process],  # noqa: F811
) -> None:
    """network_policy.go, one f.It each, enforced by the agents and probed cell by cell."""
    x, y, z = await namespaces("x", "y", "z", labels={base: {"ns": base} for base in "xyz"})
    token = secrets.token_hex(3)
    ips = await run_pods(kube, (model_pod(ns, pod, token) for ns in (x, y, z) for pod in "abc"))
    await bed.wait_for(set(ips))
    model = PacketModel(bed, kube, mini, {"x": x, "y": y, "z": z}, ips)
    await case(model)
    assert model.probed_cells > 0, "every case validates at least one TCP or UDP table with packets"
