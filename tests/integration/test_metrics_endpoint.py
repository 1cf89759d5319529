"""The operator's /metrics endpoint on the real cluster: client-go's and controller-runtime's names, live values."""

from __future__ import annotations

import dataclasses

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from operators.runtime.client import KubeClient
from operators.runtime.leaderelection import LeaderElectionConfig
from tests.integration.conftest import InProcessOperator
from tests.integration.kubehelpers import eventually
from tests.integration.test_replicaset import create_mrs, new_mrs, wait_rs_pods

pytestmark = [pytest.mark.cluster]


async def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], metric: str, **labels: str) -> float:
    """The sum of `metric` over every sample whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == metric and wanted <= ls)


async def test_metrics_report_queue_reconciles_requests_and_leadership(
    no_operator: InProcessOperator, kube: KubeClient, namespace: str
) -> None:
    election = LeaderElectionConfig(namespace=namespace)
    options = dataclasses.replace(
        no_operator.default_options(), metrics_bind_address="127.0.0.1:0", leader_elect=True, leader_election=election
    )
    manager = no_operator.start(options)
    try:
        server = manager.metrics_server
        assert server is not None
        rs = await create_mrs(kube, namespace, new_mrs("scraped", 3))
        await wait_rs_pods(kube, namespace, rs, 3)

        async def counted() -> dict[tuple[str, frozenset[tuple[str, str]]], float] | None:
            samples = await scrape(server.port)
            done = value(samples, "controller_runtime_reconcile_total", controller="minireplicaset", result="success")
            return (
                samples if done > 0 and value(samples, "leader_election_master_status", name="mini-operators") else None
            )

        samples = await eventually(counted, what="reconciles and leadership in /metrics")
    finally:
        no_operator.stop()
    assert value(samples, "workqueue_adds_total", name="minireplicaset") >= 1
    assert value(samples, "workqueue_depth", name="minireplicaset") >= 0
    assert value(samples, "workqueue_work_duration_seconds_count", name="minireplicaset") >= 1
    assert value(samples, "controller_runtime_reconcile_time_seconds_count", controller="minireplicaset") >= 1
    assert value(samples, "rest_client_requests_total", code="201", method="POST") >= 3  # the three pods
    assert value(samples, "leader_election_master_status", name="mini-operators") == 1
