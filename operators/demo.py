"""The demo: the local cluster, the CRDs, the operator, a MiniReplicaSet self-healing, a MiniDeployment rolling out.

`make demo` brings the cluster up first, then runs `python -m operators.demo`, which narrates each step and
shows the same `kubectl` output a user would see, `kubectl mini rollout` included (the plugin is found on
PATH as `kubectl-mini`, as kubectl finds every plugin).
"""

from __future__ import annotations

import json
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
    kubectl("wait", "--for=condition=Established", "crd/minideployments.minik8s.dev", "--timeout=60s")
    kubectl("wait", "--for=condition=Established", "crd/miniservices.minik8s.dev", "--timeout=60s")
    kubectl("wait", "--for=condition=Established", "crd/mininetworkpolicies.minik8s.dev", "--timeout=60s")

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
        run_deployment_story(cluster, kubectl)
        run_service_story(kubectl)
        run_network_policy_story(cluster, kubectl)
    finally:
        operator.terminate()
        operator.wait(timeout=30)
    step("Done")
    print(f"The operator has stopped; its log is {log}. The cluster and the '{NAMESPACE}' namespace stay up:")
    print("\n".join(f"  {line}" for line in cluster.env_lines()))
    print(f"  kubectl get md,mrs,msvc,pods -n {NAMESPACE}   # then: python -m operators run   to serve them again")
    print(f"  PATH=$PWD/.venv/bin:$PATH kubectl mini rollout history md/{DEPLOYMENT} -n {NAMESPACE}")
    print(f"  PATH=$PWD/.venv/bin:$PATH kubectl mini netpol matrix -n {NAMESPACE} --port 80")
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


DEPLOYMENT = "nginx-deployment"


def run_deployment_story(cluster: Cluster, kubectl: Callable[..., str]) -> None:
    """A MiniDeployment: roll out, roll out a new image, follow it, read the history, roll back."""
    rollout = _kubectl_mini(cluster)
    step("Applying examples/minideployment.yaml: a MiniDeployment with 3 replicas, rolling update 25%/25%")
    kubectl("apply", "-n", NAMESPACE, "-f", str(REPO / "examples" / "minideployment.yaml"))
    rollout("rollout", "status", f"md/{DEPLOYMENT}", "-n", NAMESPACE, "--timeout=60s")
    print(kubectl("get", "md,mrs", "-n", NAMESPACE, "-l", "app=nginx", "-o", "wide"))

    step("Rolling out a new image, and following it: kubectl mini rollout status md/nginx-deployment")
    # The change-cause goes in the same patch: annotated alone, it would be copied onto the current revision.
    # minReadySeconds 2 makes each new pod wait 2 s before it counts as available: slow enough to watch.
    image = {
        "metadata": {"annotations": {"kubernetes.io/change-cause": "image registry.k8s.io/pause:3.9"}},
        "spec": {
            "minReadySeconds": 2,
            "template": {"spec": {"containers": [{"name": "nginx", "image": "registry.k8s.io/pause:3.9"}]}},
        },
    }
    kubectl("patch", "md", DEPLOYMENT, "-n", NAMESPACE, "--type=merge", "-p", json.dumps(image))
    rollout("rollout", "status", f"md/{DEPLOYMENT}", "-n", NAMESPACE, "--timeout=60s")
    print(kubectl("get", "mrs", "-n", NAMESPACE, "-l", "app=nginx", "-o", "wide"))

    step("The rollout history: one revision per MiniReplicaSet, with its change-cause")
    rollout("rollout", "history", f"md/{DEPLOYMENT}", "-n", NAMESPACE)

    step("Rolling back: kubectl mini rollout undo md/nginx-deployment")
    rollout("rollout", "undo", f"md/{DEPLOYMENT}", "-n", NAMESPACE)
    rollout("rollout", "status", f"md/{DEPLOYMENT}", "-n", NAMESPACE, "--timeout=60s")
    rollout("rollout", "history", f"md/{DEPLOYMENT}", "-n", NAMESPACE)
    print(kubectl("get", "md,mrs", "-n", NAMESPACE, "-l", "app=nginx", "-o", "wide"))

    step("The MiniDeployment's events")
    print(
        kubectl(
            "get",
            "events",
            "-n",
            NAMESPACE,
            "--field-selector",
            "involvedObject.kind=MiniDeployment",
            "--sort-by=.metadata.creationTimestamp",
        )
    )


SERVICE = "nginx"


def run_service_story(kubectl: Callable[..., str]) -> None:
    """A MiniService in front of the MiniDeployment's pods: its Service, its EndpointSlices following them."""
    step("Applying examples/miniservice.yaml: a MiniService 'nginx' in front of the MiniDeployment's pods")
    kubectl("apply", "-n", NAMESPACE, "-f", str(REPO / "examples" / "miniservice.yaml"))
    endpoints(kubectl, ready=3, total=3)
    print(kubectl("get", "msvc", SERVICE, "-n", NAMESPACE, "-o", "wide"))
    step("The Service it owns (the API server allocated its ClusterIP; it has no selector of its own)")
    print(kubectl("get", "svc", SERVICE, "-n", NAMESPACE, "-o", "wide"))
    show_slices(kubectl)

    step("Scaling the MiniDeployment to 5: the EndpointSlice follows the pods")
    kubectl("scale", f"md/{DEPLOYMENT}", "-n", NAMESPACE, "--replicas=5")
    endpoints(kubectl, ready=5, total=5)
    show_slices(kubectl)

    step("A pod goes NotReady (its readiness probe fails): its endpoint stays, ready=false")
    pod = kubectl("get", "pods", "-n", NAMESPACE, "-l", "app=nginx", "-o", "jsonpath={.items[0].metadata.name}")
    not_ready = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    kubectl(
        "patch", "pod", pod, "-n", NAMESPACE, "--subresource=status", "--type=strategic", "-p", json.dumps(not_ready)
    )
    endpoints(kubectl, ready=4, total=5)
    print(kubectl("get", "msvc", SERVICE, "-n", NAMESPACE))
    show_slices(kubectl)


def endpoints(kubectl: Callable[..., str], *, ready: int, total: int) -> None:
    """Wait until the slices hold `total` endpoints and the MiniService's status counts `ready` of them ready."""

    def counted() -> bool:
        text = kubectl("get", "msvc", SERVICE, "-n", NAMESPACE, "-o", "jsonpath={.status.endpoints.ready}")
        return int(text or 0) == ready and _slice_endpoints(kubectl) == total

    started = time.monotonic()
    wait_until(counted, f"{ready} ready endpoints of {total}")
    print(f"  followed in {time.monotonic() - started:.1f}s")


def _slice_endpoints(kubectl: Callable[..., str]) -> int:
    """How many endpoints the MiniService's slices hold."""
    selector = f"kubernetes.io/service-name={SERVICE}"
    names = "jsonpath={range .items[*]}{range .endpoints[*]}{.targetRef.name} {end}{end}"
    return len(kubectl("get", "endpointslices", "-n", NAMESPACE, "-l", selector, "-o", names).split())


def show_slices(kubectl: Callable[..., str]) -> None:
    columns = (
        "custom-columns=SLICE:.metadata.name,MANAGED-BY:.metadata.labels.endpointslice\\.kubernetes\\.io/managed-by,"
        "ADDRESSES:.endpoints[*].addresses[0],READY:.endpoints[*].conditions.ready"
    )
    print(
        kubectl("get", "endpointslices", "-n", NAMESPACE, "-l", f"kubernetes.io/service-name={SERVICE}", "-o", columns)
    )


POLICY = "nginx-from-frontend"


def run_network_policy_story(cluster: Cluster, kubectl: Callable[..., str]) -> None:
    """A MiniNetworkPolicy: the live reachability matrix before and after, and the policy's status."""
    mini = _kubectl_mini(cluster)
    step("Who reaches whom on port 80, read from the live cluster: kubectl mini netpol matrix -n demo --port 80")
    mini("netpol", "matrix", "-n", NAMESPACE, "--port", "80")

    step("Applying examples/mininetworkpolicy.yaml: only tier=frontend may reach the nginx pods on port 80")
    kubectl("apply", "-n", NAMESPACE, "-f", str(REPO / "examples" / "mininetworkpolicy.yaml"))

    def accepted() -> bool:
        """The status is for this generation and counts the 5 nginx pods."""
        path = "jsonpath={.status.observedGeneration}={.metadata.generation} {.status.selectedPods}"
        return kubectl("get", "mnp", POLICY, "-n", NAMESPACE, "-o", path) == "1=1 5"

    wait_until(accepted, "the policy's status")
    print(kubectl("get", "mnp", POLICY, "-n", NAMESPACE, "-o", "wide"))
    mini("netpol", "matrix", "-n", NAMESPACE, "--port", "80")

    step("Why: kubectl mini netpol who-can --to <an nginx pod> --port 80")
    pod = kubectl("get", "pods", "-n", NAMESPACE, "-l", "app=nginx", "-o", "jsonpath={.items[0].metadata.name}")
    mini("netpol", "who-can", "-n", NAMESPACE, "--to", pod, "--port", "80")


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


def _kubectl_mini(cluster: Cluster) -> Callable[..., None]:
    """`kubectl mini ...`: the pinned kubectl, with this project's `kubectl-mini` plugin first on PATH.

    Its output goes straight to the terminal, so `rollout status` is seen following the rollout line by line.
    """
    path = os.pathsep.join([str(Path(sys.executable).parent), str(cluster.bin), os.environ.get("PATH", "")])
    env = dict(os.environ, PATH=path, KUBECONFIG=str(cluster.layout.kubeconfig))

    def kubectl_mini(*args: str) -> None:
        sys.stdout.flush()
        result = subprocess.run([str(cluster.bin / "kubectl"), "mini", *args], env=env, timeout=120)
        if result.returncode != 0:
            raise SystemExit(f"demo: kubectl mini {' '.join(args)} failed (exit {result.returncode})")

    return kubectl_mini


def _kubectl(cluster: Cluster) -> Callable[..., str]:
    def kubectl(*args: str, check: bool = True) -> str:
        result = cluster.kubectl(*args, check=False)
        if check and result.returncode != 0:
            raise SystemExit(f"demo: kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout.strip()

    return kubectl


if __name__ == "__main__":
    sys.exit(main())
