"""Which pods a scale-down deletes, as getPodsToDelete in pkg/controller/replicaset/replica_set.go (RS-11, RS-12)."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Sequence

from operators.controllers.podutil import RankedPod, active_pods_with_ranks_key, is_pod_active, pod_key
from operators.kube.objects import Pod

__all__ = ["get_pod_keys", "get_pods_ranked_by_related_pods_on_same_node", "get_pods_to_delete"]


def get_pods_ranked_by_related_pods_on_same_node(
    pods_to_rank: Sequence[Pod], related_pods: Iterable[Pod]
) -> list[RankedPod]:
    """Rank each pod by the number of active related pods on its node (RS-12 (5)).

    Related pods are the pods of every ReplicaSet with the same controller, so a Deployment's scale-down
    spreads across nodes; they generally include `pods_to_rank` themselves. Unscheduled pods share node "".
    """
    pods_on_node = Counter(pod.node_name for pod in related_pods if is_pod_active(pod))
    return [RankedPod(pod, pods_on_node[pod.node_name]) for pod in pods_to_rank]


# --8<-- [start:pods-to-delete]
def get_pods_to_delete(
    filtered_pods: Sequence[Pod], related_pods: Iterable[Pod], diff: int, now: datetime.datetime
) -> list[Pod]:
    """The `diff` pods to delete, preferring those in earlier phases of startup (RS-11, RS-12).

    When every pod goes (diff >= len) there is nothing to choose and the input order is kept, as upstream.
    """
    if diff < len(filtered_pods):
        ranked = get_pods_ranked_by_related_pods_on_same_node(filtered_pods, related_pods)
        return [ranked_pod.pod for ranked_pod in sorted(ranked, key=active_pods_with_ranks_key(now))[:diff]]
    return list(filtered_pods[:diff])


# --8<-- [end:pods-to-delete]


def get_pod_keys(pods: Iterable[Pod]) -> list[str]:
    """getPodKeys: the `namespace/name` keys handed to ExpectDeletions (RS-08)."""
    return [pod_key(pod) for pod in pods]
