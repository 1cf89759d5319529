"""The upstream e2e NetworkPolicy truth tables with real packets: the policy agent on the network test bed.

Every case of test/e2e/network/netpol (tests/integration/netpol_cases.py: the three ginkgo contexts, TCP, UDP
and SCTP, on the x/y/z namespaces with pods a/b/c serving ports 80 and 81) runs with one agent per node
enforcing the policies. Each ValidateOrFail first checks the engine's answer through the live CLI, then probes
every cell of the truth table with a real connection from the source pod's namespace to the destination pod's
IP, as the upstream prober does. Where the table is not met within the time the agents need to load a change,
the mismatches are printed as upstream prints them (expected and observed tables). A case starts once every
agent has loaded its first table, so its pods, policies and mid-case changes all reach the agents as watch
events; it ends by deleting its policies, so that the next case's agents do not enforce them meanwhile.

SCTP cells are checked by the engine only: this kernel has no SCTP. The SCTP context's cases therefore run the
engine check alone, and say so; the TCP context's two SCTP cases validate on TCP and are probed like the rest.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping

import pytest

from operators.devcluster.net.bed import TestBed
from operators.runtime.client import KubeClient
from tests.integration.netpol_cases import (
    ALL_CASES,
    Case,
    MiniCli,
    Model,
    context_of,
)
from tests.integration.test_netbed import agents, bed  # noqa: F401  (fixtures)
from tests.integration.test_netpol_live import (  # noqa: F401  (mini, namespaces: fixtures)
    Cli,
    mini,
    model_pod,
    namespaces,
    run_pods,
)
from tests.unit.networkpolicy.netpol_e2e import Reachability, pretty_print

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("crds")]  # the CLI lists MiniNetworkPolicies too

CONVERGE = 30.0  # seconds for the agents to load a change (measured: about 70 ms; benchmarks/dataplane.py)
PROBED = ("TCP", "UDP")  # what this kernel carries; SCTP tables are the engine's alone
ENGINE_ONLY = "SCTP cells checked by the engine only (no SCTP in this kernel)"


class PacketModel(Model):
    """Model whose ValidateOrFail also probes every TCP and UDP cell with a real connection."""

    def __init__(
        self, testbed: TestBed, kube: KubeClient, cli: MiniCli, names: Mapping[str, str], ips: Mapping[str, str]
    ) -> None:
        super().__init__(kube, cli, names, ips)
        self.bed = testbed
        self.probed_cells = 0

    async def validate(self, port: int, protocol: str, reachability: Reachability) -> None:
        await super().validate(port, protocol, reachability)  # the engine's answer, live (SCTP included)
        if protocol not in PROBED:
            return  # the engine's check above is the only one
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


def case_id(case: Case) -> str:
    """`<protocol of its context>/<f.It>`: the SCTP context's cases read `SCTP-engine-only/...`."""
    protocol = context_of(case).PROTOCOL
    return f"{protocol if protocol in PROBED else f'{protocol}-engine-only'}/{case.__name__}"


@pytest.mark.parametrize("case", [pytest.param(case, id=case_id(case)) for case in ALL_CASES])
async def test_upstream_e2e_netpol_with_real_packets(
    case: Case,
    kube: KubeClient,
    namespaces: Callable[..., Awaitable[list[str]]],  # noqa: F811
    mini: Cli,  # noqa: F811
    bed: TestBed,  # noqa: F811
    agents: list[asyncio.subprocess.Process],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """network_policy.go, one f.It each, enforced by the agents and probed cell by cell (SCTP: engine only)."""
    x, y, z = await namespaces("x", "y", "z", labels={base: {"ns": base} for base in "xyz"})
    token = secrets.token_hex(3)
    ips = await run_pods(kube, (model_pod(ns, pod, token) for ns in (x, y, z) for pod in "abc"))
    await bed.wait_for(set(ips))
    model = PacketModel(bed, kube, mini, {"x": x, "y": y, "z": z}, ips)
    try:
        await case(model)
    finally:  # the next case's agents start on a cluster without this case's policies (namespaces go slowly)
        await model.clean_network_policies()

    protocols = {protocol for _, protocol in model.validated}
    assert protocols, "every case validates at least one table"
    if protocols <= {"SCTP"}:
        assert model.probed_cells == 0
        with capsys.disabled():  # said in the run's output, not only in a failure's report
            print(f"\n{case_id(case)}: {len(model.validated)} table(s), {ENGINE_ONLY}")
    else:
        assert model.probed_cells > 0, "a case with a TCP or UDP table has it probed with packets"
