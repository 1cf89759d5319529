"""The metrics reference: every series the operator's `/metrics` serves, read from a live `Metrics` registry.

A fresh `Metrics` is given one work queue, one controller, one request and one lease through its public methods,
so that every family has a sample and its label names can be read from it, exactly as Prometheus would scrape
them. The process collectors prometheus_client adds (`process_*`, `python_*`) depend on the machine and are
named in the page's text only.
"""

from __future__ import annotations

from prometheus_client.metrics_core import Metric

from operators.controllers.deployment.controller import DeploymentController
from operators.controllers.networkpolicy.controller import NetworkPolicyController
from operators.controllers.replicaset.controller import ReplicaSetController
from operators.controllers.service.controller import STATUS_LANE, ServiceController
from operators.docsgen.markdown import cell, code, generated_header, table
from operators.runtime.metrics import RECONCILE_RESULTS, Metrics

__all__ = ["CONTROLLERS", "families", "render"]

# The `controller` and `name` label values: each controller's name, as its work queue and reconciler call it,
# and the lanes (second work queues) a controller has.
CONTROLLERS = (
    *(
        controller.name
        for controller in (ReplicaSetController, DeploymentController, ServiceController, NetworkPolicyController)
    ),
    STATUS_LANE,
)
_PREFIXES = ("workqueue_", "controller_runtime_", "rest_client_", "leader_election_")


def families(metrics: Metrics) -> list[Metric]:
    """The runtime's metric families of `metrics`, each with at least one sample, in registration order."""
    metrics.queue("example")
    metrics.init_controller("example", 1)
    metrics.observe_reconcile("example", "success", 0.01)
    metrics.observe_request("GET", "200", "127.0.0.1:6443", 0.01)
    metrics.set_leader("mini-operators", True)
    return [family for family in metrics.registry.collect() if family.name.startswith(_PREFIXES)]


def _exposed_name(family: Metric) -> str:
    """The name a query uses: counters end in `_total`; a histogram's series are `_bucket`, `_sum`, `_count`."""
    return f"{family.name}_total" if family.type == "counter" else family.name


def _labels(family: Metric) -> list[str]:
    names: list[str] = []
    for sample in family.samples:
        names += [label for label in sample.labels if label != "le" and label not in names]
    return names


def _rows(found: list[Metric]) -> list[list[str]]:
    return [
        [
            code(_exposed_name(family)),
            family.type,
            ", ".join(code(label) for label in _labels(family)) or "-",
            cell(family.documentation),
        ]
        for family in found
    ]


def render() -> str:
    """docs/reference/metrics.md."""
    served = families(Metrics())
    optional = [
        family
        for family in families(Metrics(request_latency=True))
        if family.name not in {known.name for known in served}
    ]
    header = ["Metric", "Type", "Labels", "Help (as served)"]
    controllers = ", ".join(code(name) for name in CONTROLLERS)
    results = ", ".join(code(result) for result in RECONCILE_RESULTS)
    return "\n".join(
        [
            generated_header("operators/runtime/metrics.py"),
            "# Metrics\n",
            "`mini-operators run` serves Prometheus metrics on `--metrics-bind-address` (`:8080` by default; "
            "`0` turns the server off) at `/metrics`, with the names, labels and help texts of client-go and "
            "controller-runtime, so dashboards and alerts written for kube-controller-manager or a "
            "controller-runtime operator work unchanged. The How-to *Debug a controller* shows them in use.\n",
            f"Label values: `controller` and `name` are the controller's name ({controllers}; "
            f"`{STATUS_LANE}` is the work queue that writes the MiniServices' status); `result` is one "
            f"of {results}; `code` is the HTTP status or `<error>` when no response came; `host` is the API "
            "server's host:port; `name` of the leader-election gauge is the Lease's name. A counter's series "
            "end in `_total`; a histogram's are `_bucket`, `_sum` and `_count`.\n",
            "## Served by the operator\n",
            table(header, _rows(served)),
            "## Opt-in\n",
            "controller-runtime registers the request-latency histogram only on request "
            "(`RegisterRESTClientMetrics`); so does the runtime (`Metrics(request_latency=True)`), and the "
            "operator does not.\n",
            table(header, _rows(optional)),
            "## Process metrics\n",
            "prometheus_client's process and platform collectors add `process_*` (CPU seconds, resident memory, "
            "open file descriptors, start time), `python_info` and `python_gc_*`, where controller-runtime adds "
            "Go's `go_*`.\n",
        ]
    )
