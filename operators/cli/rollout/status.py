"""DeploymentStatusViewer of kubectl's polymorphichelpers/rollout_status.go, for a MiniDeployment body (DP-36).

Pure: a MiniDeployment as JSON in, the line `kubectl rollout status` prints and whether the rollout is done out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from operators.cli.errors import CliError

__all__ = ["REVISION_ANNOTATION", "TIMED_OUT_REASON", "rollout_status"]

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"


def rollout_status(deployment: Mapping[str, Any], revision: int = 0) -> tuple[str, bool]:
    """Status: (the message, done). Raises CliError past the progress deadline or on a revision mismatch.

    `revision` > 0 asks for that revision: a different running revision is an error, as kubectl's --revision.
    Until the controller has observed the latest spec nothing else is said; then, in kubectl's order: the
    deadline, new replicas still to update, old replicas still terminating, updated replicas not yet available.
    """
    metadata: Mapping[str, Any] = deployment.get("metadata") or {}
    spec: Mapping[str, Any] = deployment.get("spec") or {}
    status: Mapping[str, Any] = deployment.get("status") or {}
    name = metadata.get("name", "")
    if revision > 0:
        running = _revision(metadata.get("annotations") or {}, name)
        if running != revision:
            raise CliError(f"desired revision ({revision}) is different from the running revision ({running})")
    if int(metadata.get("generation") or 0) > int(status.get("observedGeneration") or 0):
        return "Waiting for deployment spec update to be observed...", False
    progressing = next((c for c in status.get("conditions") or () if c.get("type") == "Progressing"), None)
    if progressing is not None and progressing.get("reason") == TIMED_OUT_REASON:
        raise CliError(f'minideployment "{name}" exceeded its progress deadline')
    replicas = spec.get("replicas")
    updated = int(status.get("updatedReplicas") or 0)
    current = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    waiting = f'Waiting for minideployment "{name}" rollout to finish'
    if replicas is not None and updated < int(replicas):
        return f"{waiting}: {updated} out of {replicas} new replicas have been updated...", False
    if current > updated:
        return f"{waiting}: {current - updated} old replicas are pending termination...", False
    if available < updated:
        return f"{waiting}: {available} of {updated} updated replicas are available...", False
    return f'minideployment "{name}" successfully rolled out', True


def _revision(annotations: Mapping[str, str], name: str) -> int:
    value = annotations.get(REVISION_ANNOTATION)
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        raise CliError(f'cannot get the revision of minideployment "{name}": invalid revision {value!r}') from None
