"""Every API resource the project reads or writes, in one place: group, version, plural, and the REST paths."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ENDPOINTSLICES",
    "LEASES",
    "MINIDEPLOYMENTS",
    "MININETWORKPOLICIES",
    "MINIREPLICASETS",
    "MINISERVICES",
    "NAMESPACES",
    "NETWORKPOLICIES",
    "NODES",
    "PODS",
    "SERVICES",
    "Resource",
]


@dataclass(frozen=True)
class Resource:
    """A resource as the API names it: group ("" for core), version, plural, and whether it is namespaced."""

    group: str
    version: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str = "", name: str = "", subresource: str = "") -> str:
        """The REST path of an object, or of the collection when `name` is empty.

        A namespaced collection without a namespace is the all-namespaces collection (`/api/v1/pods`).
        """
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        path = f"{prefix}/namespaces/{namespace}/{self.plural}" if namespace and self.namespaced else ""
        path = path or f"{prefix}/{self.plural}"
        path += f"/{name}" if name else ""
        return path + (f"/{subresource}" if subresource else "")


PODS = Resource("", "v1", "pods")
NODES = Resource("", "v1", "nodes", namespaced=False)
NAMESPACES = Resource("", "v1", "namespaces", namespaced=False)
SERVICES = Resource("", "v1", "services")
ENDPOINTSLICES = Resource("discovery.k8s.io", "v1", "endpointslices")
NETWORKPOLICIES = Resource("networking.k8s.io", "v1", "networkpolicies")
LEASES = Resource("coordination.k8s.io", "v1", "leases")
MINIREPLICASETS = Resource("minik8s.dev", "v1", "minireplicasets")
MINIDEPLOYMENTS = Resource("minik8s.dev", "v1", "minideployments")
MINISERVICES = Resource("minik8s.dev", "v1", "miniservices")
MININETWORKPOLICIES = Resource("minik8s.dev", "v1", "mininetworkpolicies")
