"""The demo: the local cluster, the CRDs, the operator, and a MiniReplicaSet converging and self-healing.

`make demo` brings the cluster up first, then runs `python -m operators.demo`, which narrates each step and
shows the same `kubectl` output a user would see.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from operators.devcluster.cluster import Cluster, http_ok

REPO = Path(__file__).resolve().parents[1]
NAMESPACE = "demo"
LIVENESS_PORT = 8089
METRICS_PORT = 8090  # the operator's /metrics (--metrics-bind-address)


def main() -> int:
    cluster = Cluster(echo=lambda _: None)
    if not cluster.status():
        print("The local cluster is not up: run `make up` (or `make demo`, which does it).", file=sys.stderr)
        return 1
    kubectl = _kubectl(cluster)
    step("Installing the CRDs (generated from the pydantic models in operators/api)")
    kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    kubectl("wait", "--for=condition=Established", "crd/minireplicasets.minik8s.dev", "--timeout=60s")

    step("Starting the operator: python -m operators run")
    log = cluster.layout.logs / "operator.log"
    env = dict(os.environ, KUBECONFIG=str(cluster.layout.kubeconfig))
    liveness = f"http://127.0.0.1:{LIVENESS_PORT}/healthz"
    with log.open("ab") as sink:
        operator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "operators",
                "run",
                f"--liveness={liveness}",
                f"--metrics-bind-address=127.0.0.1:{METRICS_PORT}",
            ],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: http_ok(liveness), "the operator's liveness endpoint", timeout=60)
        print(f"  operator pid {operator.pid}, healthy at {liveness}, logging to {log}")
        print(f"  metrics: curl http://127.0.0.1:{METRICS_PORT}/metrics   (workqueue_*, controller_runtime_*, ...)")
        run_story(cluster, kubectl)
    finally:
        operator.terminate()
        operator.wait(timeout=30)
    step("Done")
    print(f"The operator has stopped; its log is {log}. The cluster and the '{NAMESPACE}' namespace stay up:")
    print("\n".join(f"  {line}" for line in cluster.env_lines()))
    print(f"  kubectl get mrs,pods -n {NAMESPACE}      # then: python -m operators run   to serve them again")
    return 0


def run_story(cluster: Cluster, kubectl: Callable[..., str]) -> None:
    kubectl("create", "namespace", NAMESPACE, check=False)
    step("Applying examples/minireplicaset.yaml: a MiniReplicaSet 'frontend' with 3 replicas")
    kubectl("apply", "-n", NAMESPACE, "-f", str(REPO / "examples" / "minireplicaset.yaml"))
    converge(kubectl, 3)

    step("Self-healing: deleting one of its pods")
    victim = kubectl("get", "pods", "-n", NAMESPACE, "-l", "tier=frontend", "-o", "jsonpath={.items[0].metadata.name}")
    kubectl("delete", "pod", "-n", NAMESPACE, victim, "--wait=false")
    converge(kubectl, 3, gone=victim)

    step("Scaling through the scale subresource: kubectl scale mrs/frontend --replicas=5")
    kubectl("scale", "mrs/frontend", "-n", NAMESPACE, "--replicas=5")
    converge(kubectl, 5)

    step("Scaling down to 2: the deletion ranking picks the pods to remove")
    kubectl("scale", "mrs/frontend", "-n", NAMESPACE, "--replicas=2")
    converge(kubectl, 2)

    step("The controller's events")
    print(
        kubectl(
            "get",
            "events",
            "-n",
            NAMESPACE,
            "--field-selector",
            "involvedObject.kind=MiniReplicaSet",
            "--sort-by=.metadata.creationTimestamp",
        )
    )


def converge(kubectl: Callable[..., str], replicas: int, gone: str = "") -> None:
    """Wait until the MiniReplicaSet reports `replicas` ready pods, then show it and its pods."""

    def ready() -> bool:
        status = kubectl(
            "get", "mrs/frontend", "-n", NAMESPACE, "-o", "jsonpath={.status.replicas}/{.status.readyReplicas}"
        )
        pods = kubectl("get", "pods", "-n", NAMESPACE, "-l", "tier=frontend", "-o", "name")
        return status == f"{replicas}/{replicas}" and (not gone or f"pod/{gone}" not in pods.split())

    started = time.monotonic()
    wait_until(ready, f"{replicas} ready replicas")
    print(f"  converged in {time.monotonic() - started:.1f}s")
    print(kubectl("get", "mrs,pods", "-n", NAMESPACE, "-o", "wide"))


def step(title: str) -> None:
    print(f"\n==> {title}", flush=True)


def wait_until(probe: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise SystemExit(f"demo: timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.3)


def _kubectl(cluster: Cluster) -> Callable[..., str]:
    def kubectl(*args: str, check: bool = True) -> str:
        result = cluster.kubectl(*args, check=False)
        if check and result.returncode != 0:
            raise SystemExit(f"demo: kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout.strip()

    return kubectl


if __name__ == "__main__":
    sys.exit(main())
