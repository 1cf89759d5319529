"""DeploymentHistoryViewer and DeploymentRollbacker of kubectl's polymorphichelpers, for MiniDeployments (DP-35, DP-37).

Pure: the MiniReplicaSets a MiniDeployment controls (JSON) in; the revision table, one revision's pod template
described as `kubectl describe` does, and the undo patch out.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from operators.cli.errors import CliError

__all__ = [
    "CHANGE_CAUSE_ANNOTATION",
    "describe_template",
    "history_by_revision",
    "history_table",
    "revision_for_undo",
    "undo_patch",
]

CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
# kubectl's rollback.go annotationsToSkip: the Deployment's own bookkeeping, never copied back from an RS.
ANNOTATIONS_TO_SKIP = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION_ANNOTATION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)


def controlled_by(deployment: Mapping[str, Any], replica_sets: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The MiniReplicaSets whose controller reference is this MiniDeployment (by UID)."""
    uid = (deployment.get("metadata") or {}).get("uid")
    return [
        dict(rs)
        for rs in replica_sets
        if any(ref.get("controller") and ref.get("uid") == uid for ref in rs["metadata"].get("ownerReferences") or ())
    ]


def _revision(rs: Mapping[str, Any]) -> int | None:
    value = (rs["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION)
    try:
        return None if value is None else int(value)
    except ValueError:
        return None  # kubectl skips an RS whose revision it cannot read


def history_by_revision(replica_sets: Sequence[Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    """GetHistory: revision -> MiniReplicaSet (the later one wins if two claim a revision, as Go's map does)."""
    found: dict[int, dict[str, Any]] = {}
    for rs in replica_sets:
        if (revision := _revision(rs)) is not None:
            found[revision] = dict(rs)
    return found


def history_table(replica_sets: Sequence[Mapping[str, Any]]) -> str:
    """ViewHistory without --revision: REVISION and CHANGE-CAUSE, oldest first, `<none>` for no cause."""
    history = history_by_revision(replica_sets)
    if not history:
        return "No rollout history found."
    rows = [("REVISION", "CHANGE-CAUSE")]
    for revision in sorted(history):
        cause = (history[revision]["metadata"].get("annotations") or {}).get(CHANGE_CAUSE_ANNOTATION) or "<none>"
        rows.append((str(revision), cause))
    width = max(len(number) for number, _ in rows) + 2  # tabwriter: padding 2
    return "\n".join(f"{number:<{width}}{cause}".rstrip() for number, cause in rows)


def describe_template(template: Mapping[str, Any], change_cause: str = "") -> str:
    """printTemplate: a pod template as `kubectl describe` shows one (labels, annotations, containers, volumes)."""
    metadata: Mapping[str, Any] = template.get("metadata") or {}
    spec: Mapping[str, Any] = template.get("spec") or {}
    annotations = dict(metadata.get("annotations") or {})
    if change_cause:
        annotations[CHANGE_CAUSE_ANNOTATION] = change_cause
    lines = ["Pod Template:"]
    lines += _map_lines("  Labels:", metadata.get("labels") or {})
    lines += _map_lines("  Annotations:", annotations)
    if account := spec.get("serviceAccountName"):
        lines.append(f"  Service Account:\t{account}")
    lines.append("  Containers:")
    for container in spec.get("containers") or ():
        lines.append(f"   {container.get('name', '')}:")
        lines.append(f"    Image:\t{container.get('image', '')}")
        ports = [f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in container.get("ports") or ()]
        lines.append(f"    Port:\t{', '.join(ports) or '<none>'}")
        lines.append("    Host Port:\t<none>" if not ports else f"    Host Port:\t{', '.join('0/TCP' for _ in ports)}")
        for key in ("command", "args"):
            if values := container.get(key):
                lines.append(f"    {key.capitalize()}:")
                lines += [f"      {value}" for value in values]
        env = container.get("env") or ()
        lines.append("    Environment:\t<none>" if not env else "    Environment:")
        lines += [f"      {e.get('name')}:\t{e.get('value', '')}" for e in env]
        mounts = container.get("volumeMounts") or ()
        lines.append("    Mounts:\t<none>" if not mounts else "    Mounts:")
        lines += [f"      {m.get('mountPath')} from {m.get('name')}" for m in mounts]
    volumes = spec.get("volumes") or ()
    lines.append("  Volumes:\t<none>" if not volumes else "  Volumes:")
    lines += [f"   {v.get('name')}" for v in volumes]
    if node_selector := spec.get("nodeSelector"):
        lines += _map_lines("  Node-Selectors:", node_selector)
    return "\n".join(lines)


def _map_lines(title: str, values: Mapping[str, str]) -> list[str]:
    if not values:
        return [f"{title}\t<none>"]
    items = [f"{k}={v}" for k, v in sorted(values.items())]
    return [f"{title}\t{items[0]}", *(f"\t{item}" for item in items[1:])]


def revision_for_undo(name: str, replica_sets: Sequence[Mapping[str, Any]], to_revision: int) -> dict[str, Any]:
    """deploymentRevision: the RS of `to_revision`, or for 0 the previous one (the second-highest revision)."""
    if to_revision < 0:
        raise CliError(f"unable to find specified revision {to_revision} in history")
    latest: tuple[int, dict[str, Any] | None] = (-1, None)
    previous: tuple[int, dict[str, Any] | None] = (-1, None)
    for rs in replica_sets:
        revision = _revision(rs)
        if revision is None:
            continue
        if to_revision == 0:
            if latest[0] < revision:
                previous, latest = latest, (revision, dict(rs))
            elif previous[0] < revision:
                previous = (revision, dict(rs))
        elif revision == to_revision:
            return dict(rs)
    if to_revision > 0:
        raise CliError(f"unable to find specified revision {to_revision} in history")
    if previous[1] is None:
        raise CliError(f'no rollout history found for minideployment "{name}"')
    return previous[1]


def undo_patch(deployment: Mapping[str, Any], rs: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """DeploymentRollbacker: the JSON patch restoring the RS's template and annotations; None when it is current.

    The template loses its pod-template-hash label; the annotations are the Deployment's bookkeeping ones plus
    every other annotation of the RS (so the change-cause of that revision comes back with it).
    """
    template = copy.deepcopy(dict(rs["spec"].get("template") or {}))
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels.pop(HASH_LABEL, None)
    template["metadata"] = {**(template.get("metadata") or {}), "labels": labels}
    current = (deployment.get("spec") or {}).get("template") or {}
    if _semantic(template) == _semantic(current):
        return None
    own: Mapping[str, str] = (deployment.get("metadata") or {}).get("annotations") or {}
    annotations = {k: v for k, v in own.items() if k in ANNOTATIONS_TO_SKIP}
    annotations |= {k: v for k, v in (rs["metadata"].get("annotations") or {}).items() if k not in ANNOTATIONS_TO_SKIP}
    return [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]


def _semantic(value: Any) -> Any:
    """EqualIgnoreHash's comparison over JSON: absent, null, {} and [] are the same (Go's nil vs empty)."""
    if isinstance(value, Mapping):
        normalised = {k: _semantic(v) for k, v in value.items() if k != HASH_LABEL}
        return {k: v for k, v in normalised.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_semantic(item) for item in value]
    return value
