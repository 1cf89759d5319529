"""`kubectl mini rollout` against the real API server and the running operator (DP-35..DP-39).

Each command runs as a user runs it: the `kubectl-mini` entry point in a subprocess, with --kubeconfig; the
test checks what it prints and its exit code, and what it changed on the MiniDeployment.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
import yaml

from operators.devcluster.cluster import Cluster
from operators.runtime.client import KubeClient
from tests.integration.deploymenthelpers import FAKE_IMAGE, MINI_DEPLOYMENT, new_deployment, rolling_update
from tests.integration.kubehelpers import eventually

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("operator")]


async def mini(cluster: Cluster, namespace: str, *args: str) -> tuple[int, str, str]:
    """Run `kubectl mini ARGS -n NAMESPACE`; (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "operators.cli.main",
        "--kubeconfig",
        str(cluster.layout.kubeconfig),
        *args,
        "-n",
        namespace,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def create(
    kube: KubeClient, namespace: str, name: str, *, node_selector: dict[str, str] | None = None, **spec: Any
) -> dict[str, Any]:
    """A 3-replica MiniDeployment of its own (selecting app=NAME), change-cause "first"."""
    body = new_deployment(MINI_DEPLOYMENT, name, 3, strategy=rolling_update(1, 0), node_selector=node_selector)
    body["metadata"]["annotations"] = {"kubernetes.io/change-cause": "first"}
    body["spec"]["selector"] = {"matchLabels": {"app": name}}
    body["spec"]["template"]["metadata"]["labels"] = {"app": name}
    body["spec"] |= spec
    return await kube.create(MINI_DEPLOYMENT.path(namespace), body)


UNSCHEDULABLE = {"no-such-node": "true"}  # its pods stay Pending: a rollout that never completes


async def update_image(kube: KubeClient, namespace: str, name: str, image: str, cause: str) -> None:
    md = await kube.get(MINI_DEPLOYMENT.path(namespace, name))
    containers = md["spec"]["template"]["spec"]["containers"]
    containers[0]["image"] = image
    patch = {
        "metadata": {"annotations": {"kubernetes.io/change-cause": cause}},
        "spec": {"template": {"spec": {"containers": containers}}},
    }
    await kube.patch(MINI_DEPLOYMENT.path(namespace, name), patch)


async def test_status_follows_a_rollout_until_it_is_done(kube: KubeClient, namespace: str, cluster: Cluster) -> None:
    """DP-36: status watches, prints each new message once, and exits 0 when the rollout is complete."""
    await create(kube, namespace, "web")
    code, out, err = await mini(cluster, namespace, "rollout", "status", "md/web", "--timeout=60s")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == 'minideployment "web" successfully rolled out'
    assert len(out.splitlines()) == len(set(out.splitlines())), "each message once"
    await update_image(kube, namespace, "web", "registry.k8s.io/pause:3.9", "second")
    code, out, _ = await mini(cluster, namespace, "rollout", "status", "md", "web", "--timeout=60s")
    assert code == 0 and out.splitlines()[-1] == 'minideployment "web" successfully rolled out'
    md = await kube.get(MINI_DEPLOYMENT.path(namespace, "web"))
    assert md["status"]["updatedReplicas"] == 3 and md["status"]["observedGeneration"] == md["metadata"]["generation"]


async def test_status_fails_past_the_progress_deadline_and_on_timeout(
    kube: KubeClient, namespace: str, cluster: Cluster
) -> None:
    """DP-36: ProgressDeadlineExceeded → error, exit 1; --timeout → kubectl's timeout error, exit 1."""
    await create(kube, namespace, "late", node_selector=UNSCHEDULABLE, progressDeadlineSeconds=3)
    code, out, err = await mini(cluster, namespace, "rollout", "status", "md/late", "--timeout=60s")
    assert code == 1
    assert err.strip() == 'error: minideployment "late" exceeded its progress deadline'

    await create(kube, namespace, "slow", node_selector=UNSCHEDULABLE)
    code, out, err = await mini(cluster, namespace, "rollout", "status", "md/slow", "--timeout=2s")
    assert code == 1 and err.strip() == "error: timed out waiting for the condition"
    assert "Waiting for" in out
    code, out, err = await mini(cluster, namespace, "rollout", "status", "md/slow", "--watch=false")
    assert code == 0 and out.startswith("Waiting for")


async def test_history_undo_and_revision_details(kube: KubeClient, namespace: str, cluster: Cluster) -> None:
    """DP-35, DP-37: the history table, one revision in detail and as yaml, undo to the previous and to N."""
    await create(kube, namespace, "web")
    assert (await mini(cluster, namespace, "rollout", "status", "md/web", "--timeout=60s"))[0] == 0
    await update_image(kube, namespace, "web", "registry.k8s.io/pause:3.9", "second")
    assert (await mini(cluster, namespace, "rollout", "status", "md/web", "--timeout=60s"))[0] == 0

    code, out, _ = await mini(cluster, namespace, "rollout", "history", "md/web")
    assert code == 0
    assert out.splitlines() == [
        "minideployment.minik8s.dev/web ",
        "REVISION  CHANGE-CAUSE",
        "1         first",
        "2         second",
    ]
    code, out, _ = await mini(cluster, namespace, "rollout", "history", "md/web", "--revision=1")
    assert code == 0 and out.startswith("minideployment.minik8s.dev/web with revision #1\nPod Template:")
    assert "kubernetes.io/change-cause=first" in out
    code, out, _ = await mini(cluster, namespace, "rollout", "history", "md/web", "--revision=1", "-o", "yaml")
    replica_set = yaml.safe_load(out)
    assert replica_set["kind"] == "MiniReplicaSet"
    assert replica_set["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    code, _, err = await mini(cluster, namespace, "rollout", "history", "md/web", "--revision=7")
    assert code == 1 and err.strip() == "error: unable to find the specified revision"

    code, out, _ = await mini(cluster, namespace, "rollout", "undo", "md/web")
    assert (code, out.strip()) == (0, "minideployment.minik8s.dev/web rolled back")
    assert (await mini(cluster, namespace, "rollout", "status", "md/web", "--timeout=60s"))[0] == 0
    md = await kube.get(MINI_DEPLOYMENT.path(namespace, "web"))
    assert md["spec"]["template"]["spec"]["containers"][0]["image"] == FAKE_IMAGE
    assert md["metadata"]["annotations"]["kubernetes.io/change-cause"] == "first"
    assert "pod-template-hash" not in md["spec"]["template"]["metadata"]["labels"]

    async def history() -> list[str] | None:
        lines = (await mini(cluster, namespace, "rollout", "history", "md/web"))[1].splitlines()[2:]
        return lines if lines == ["2         second", "3         first"] else None

    await eventually(history, what="revision 1 raised to 3 (DP-10)")
    code, out, _ = await mini(cluster, namespace, "rollout", "undo", "md/web", "--to-revision=3")
    assert (
        out.strip() == "minideployment.minik8s.dev/web skipped rollback (current template already matches revision 3)"
    )
    code, _, err = await mini(cluster, namespace, "rollout", "undo", "md/web", "--to-revision=9")
    assert code == 1 and err.strip() == "error: unable to find specified revision 9 in history"


async def test_pause_resume_restart(kube: KubeClient, namespace: str, cluster: Cluster) -> None:
    """DP-38, DP-39, and the refusals kubectl gives for a paused deployment."""
    await create(kube, namespace, "web")
    path = MINI_DEPLOYMENT.path(namespace, "web")
    code, out, _ = await mini(cluster, namespace, "rollout", "pause", "md/web")
    assert (code, out.strip()) == (0, "minideployment.minik8s.dev/web paused")
    assert (await kube.get(path))["spec"]["paused"] is True
    code, _, err = await mini(cluster, namespace, "rollout", "pause", "md/web")
    assert code == 1 and err.strip() == 'error: minideployments.minik8s.dev "web" is already paused'
    code, _, err = await mini(cluster, namespace, "rollout", "restart", "md/web")
    assert code == 1 and "can't restart paused deployment (run rollout resume first)" in err
    code, _, err = await mini(cluster, namespace, "rollout", "undo", "md/web")
    assert code == 1 and "you cannot rollback a paused deployment" in err
    code, out, _ = await mini(cluster, namespace, "rollout", "resume", "md/web")
    assert (code, out.strip()) == (0, "minideployment.minik8s.dev/web resumed")
    code, out, _ = await mini(cluster, namespace, "rollout", "restart", "md/web")
    assert (code, out.strip()) == (0, "minideployment.minik8s.dev/web restarted")
    annotations = (await kube.get(path))["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    assert (await mini(cluster, namespace, "rollout", "status", "md/web", "--timeout=60s"))[0] == 0


async def test_missing_object_and_wrong_kind(namespace: str, cluster: Cluster) -> None:
    code, _, err = await mini(cluster, namespace, "rollout", "status", "md/nope")
    assert code == 1 and err.strip() == 'Error from server (NotFound): minideployments.minik8s.dev "nope" not found'
    code, _, err = await mini(cluster, namespace, "rollout", "history", "deployment/web")
    assert code == 1 and "kubectl rollout" in err
