"""Creating and deleting pods for a controller, with upstream's events (controller_utils.go RealPodControl)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from operators.kube.objects import OwnerReference, Pod
from operators.kube.resources import PODS
from operators.runtime.client import ApiError, KubeClient
from operators.runtime.events import EventRecorder, InvolvedObject

__all__ = ["PODS", "NoLabelsError", "PodControl", "pod_from_template"]


class NoLabelsError(ValueError):
    """The pod template has no labels: its pods could never be selected (RS-05)."""


def pod_from_template(
    template: Mapping[str, Any], *, namespace: str, generate_name: str, controller_ref: OwnerReference
) -> dict[str, Any]:
    """GetPodFromTemplate: the pod to create (RS-05).

    Labels, annotations and finalizers come from the template's metadata, the spec is copied whole, the name
    is generated from `<owner>-`, and the owner becomes the pod's controller (blockOwnerDeletion).
    """
    metadata: Mapping[str, Any] = template.get("metadata") or {}
    labels = dict(metadata.get("labels") or {})
    if not labels:
        raise NoLabelsError("unable to create pods, no labels")
    pod_metadata: dict[str, Any] = {
        "generateName": generate_name,
        "namespace": namespace,
        "labels": labels,
        "ownerReferences": [controller_ref.to_dict()],
    }
    if annotations := metadata.get("annotations"):
        pod_metadata["annotations"] = dict(annotations)
    if finalizers := metadata.get("finalizers"):
        pod_metadata["finalizers"] = list(finalizers)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_metadata, "spec": copy.deepcopy(template.get("spec"))}


class PodControl:
    """Creates and deletes one controller's pods and records SuccessfulCreate/FailedCreate/… events."""

    def __init__(self, client: KubeClient, recorder: EventRecorder) -> None:
        self.client = client
        self.recorder = recorder

    async def create_pod(self, owner: InvolvedObject, pod: Mapping[str, Any]) -> dict[str, Any]:
        try:
            created = await self.client.create(PODS.path(owner.namespace), pod)
        except Exception as error:
            if not (
                isinstance(error, ApiError) and error.namespace_terminating
            ):  # upstream: none for a dying namespace
                self.recorder.record(owner, "Warning", "FailedCreate", f"Error creating: {error}")
            raise
        self.recorder.record(owner, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")
        return created

    async def delete_pod(self, owner: InvolvedObject, pod: Pod) -> None:
        """Delete `pod` (with a UID precondition); NotFound is raised to the caller without an event."""
        try:
            await self.client.delete(PODS.path(pod.namespace, pod.name), uid=pod.uid)
        except Exception as error:
            if not (isinstance(error, ApiError) and error.not_found):
                self.recorder.record(owner, "Warning", "FailedDelete", f"Error deleting: {error}")
            raise
        self.recorder.record(owner, "Normal", "SuccessfulDelete", f"Deleted pod: {pod.name}")
