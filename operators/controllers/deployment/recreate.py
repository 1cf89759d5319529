"""The pure decisions of pkg/controller/deployment/recreate.go: all old pods gone before any new one (DP-23..DP-25).

A Recreate rollout scales every old ReplicaSet to 0 (`scale_down_old_replica_sets_for_recreate`), waits until
no pod of an old ReplicaSet is left running (`old_pods_running`), and only then creates or scales up the new
ReplicaSet (`scale_up_new_replica_set_for_recreate`). The glue re-syncs on every pod deletion (DP-26), so the
last old pod going away starts the new ones at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from operators.controllers.deployment.model import DeploymentView
from operators.controllers.deployment.sync import Scale, scale_replica_set_and_record_event
from operators.controllers.deployment.util import get_actual_replica_count_for_replica_sets
from operators.controllers.replicaset.model import ReplicaSetView
from operators.kube.objects import Pod

__all__ = ["old_pods_running", "scale_down_old_replica_sets_for_recreate", "scale_up_new_replica_set_for_recreate"]

TERMINAL_PHASES = frozenset({"Failed", "Succeeded"})


def scale_down_old_replica_sets_for_recreate(
    active_old_rss: Iterable[ReplicaSetView], deployment: DeploymentView
) -> list[Scale]:
    """scaleDownOldReplicaSetsForRecreate (DP-23): every active old RS to 0."""
    return [write for rs in active_old_rss if (write := scale_replica_set_and_record_event(rs, 0, deployment))]


def old_pods_running(
    new_rs: ReplicaSetView | None, old_rss: Sequence[ReplicaSetView], pod_map: Mapping[str, Sequence[Pod]]
) -> bool:
    """oldPodsRunning (DP-24): an old RS still reports pods, or some pod of an old RS is not yet terminal.

    `pod_map` groups the pods the Deployment's selector matches by the UID of the RS controlling them (every RS
    of the Deployment has an entry). A terminating pod is not terminal: its containers may still run, and two
    versions must never run side by side. Phase Unknown counts as running, as upstream (the node may be gone).
    """
    if get_actual_replica_count_for_replica_sets(old_rss) > 0:
        return True
    for rs_uid, pods in pod_map.items():
        if new_rs is not None and rs_uid == new_rs.uid:
            continue
        if any(pod.phase not in TERMINAL_PHASES for pod in pods):
            return True
    return False


def scale_up_new_replica_set_for_recreate(new_rs: ReplicaSetView, deployment: DeploymentView) -> Scale | None:
    """scaleUpNewReplicaSetForRecreate (DP-25): the new RS straight to spec.replicas."""
    return scale_replica_set_and_record_event(new_rs, deployment.replicas, deployment)
