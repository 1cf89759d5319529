"""The fixtures of upstream's EndpointSlice tests (k8s.io/endpointslice utils_test.go, reconciler_test.go), as views.

Upstream builds Go structs; these build the dicts the API would return and read them with the same `from_dict`
the controller's informers use, so the tests go through the real parsing too. `SliceStore` stands in for
upstream's fake clientset: it "performs" a `Plan` the way the fake's reactors do (a create gets a name and
generation 1, an update bumps the generation), so that multi-step tests can feed the result to the next sync.
UIDs that the API server would assign are derived from names and counters, so that runs are deterministic.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from operators.controllers.service.model import CONTROLLER_NAME, MiniServiceView, ServiceView
from operators.controllers.service.reconciler import Plan, reconcile
from operators.controllers.service.slices import ADDRESS_TYPE_IPV4, Endpoint, EndpointPort, EndpointSlice
from operators.kube.objects import Node, OwnerReference, Pod, format_time

__all__ = [
    "CONTROLLER_NAME",
    "NAMESPACE",
    "SliceStore",
    "controller_ref",
    "endpoint_meta",
    "lengths",
    "mini_service",
    "new_empty_endpoint_slice",
    "new_node",
    "new_pod",
    "new_service",
    "node_lookup",
    "pod_dict",
    "reconcile_helper",
    "service_dict",
    "utc",
]

NAMESPACE = "test"
# When a test needs "some time": upstream uses time.Now(); a fixed instant keeps the annotations comparable.
DELETION_TIME = datetime.datetime(2026, 3, 1, 11, 0, 0, tzinfo=datetime.UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0
) -> datetime.datetime:
    """metav1.Date(..., time.UTC), to the microsecond (Go's has nanoseconds)."""
    return datetime.datetime(year, month, day, hour, minute, second, microsecond, tzinfo=datetime.UTC)


# --- pods and nodes -----------------------------------------------------------------------------------------------


def pod_dict(n: int, namespace: str = NAMESPACE, ready: bool = True, terminating: bool = False) -> dict[str, Any]:
    """newPod as a dict: `pod<n>` on node-1 with IP 1.2.3.<4+n>, labels foo=bar, one container, no UID.

    Upstream's IP for n >= 252 is not a valid address ("1.2.3.303"); it is kept, as upstream keeps it.
    """
    metadata: dict[str, Any] = {
        "namespace": namespace,
        "name": f"pod{n}",
        "labels": {"foo": "bar"},
        "resourceVersion": str(n),
    }
    if terminating:
        metadata["deletionTimestamp"] = format_time(DELETION_TIME)
    ip = f"1.2.3.{4 + n}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [{"name": "container-1"}], "nodeName": "node-1"},
        "status": {
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def new_pod(
    n: int,
    namespace: str = NAMESPACE,
    ready: bool = True,
    terminating: bool = False,
    *,
    node_name: str | None = None,
    pod_ips: Sequence[str] | None = None,
    hostname: str = "",
    subdomain: str = "",
    container_ports: Sequence[Mapping[str, Any]] | None = None,
) -> Pod:
    """newPod (utils_test.go), read as the informer reads it; the keywords are the tests' later tweaks."""
    body = pod_dict(n, namespace, ready, terminating)
    if node_name is not None:
        body["spec"]["nodeName"] = node_name
    if pod_ips is not None:
        body["status"]["podIPs"] = [{"ip": ip} for ip in pod_ips]
        body["status"]["podIP"] = pod_ips[0] if pod_ips else ""
    if hostname:
        body["spec"]["hostname"] = hostname
    if subdomain:
        body["spec"]["subdomain"] = subdomain
    if container_ports is not None:
        body["spec"]["containers"][0]["ports"] = [dict(p) for p in container_ports]
    return Pod.from_dict(body)


def new_node(name: str, zone: str = "", ready: bool = True) -> Node:
    """A Node, with the topology.kubernetes.io/zone label when a zone is given."""
    labels = {"topology.kubernetes.io/zone": zone} if zone else {}
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    return Node.from_dict(
        {"metadata": {"name": name, "uid": f"{name}-uid", "labels": labels}, "status": {"conditions": conditions}}
    )


def node_lookup(nodes: Iterable[Node]) -> Callable[[str], Node | None]:
    """The node lister upstream's newReconciler fills: a lookup by name."""
    by_name = {node.name: node for node in nodes}
    return by_name.get


# --- services -------------------------------------------------------------------------------------------------------


def service_dict(name: str, namespace: str = NAMESPACE) -> dict[str, Any]:
    """newServiceAndEndpointMeta's Service as a dict: one TCP port named like the Service, targetPort 80 (port 0,
    as upstream leaves it), selector foo=bar, IPv4, no ClusterIP (so it counts as headless: isServiceIPSet)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "uid": f"{namespace}-{name}"},
        "spec": {
            "ports": [{"targetPort": 80, "protocol": "TCP", "name": name}],
            "selector": {"foo": "bar"},
            "ipFamilies": ["IPv4"],
        },
    }


def new_service(
    name: str = "foo",
    namespace: str = NAMESPACE,
    *,
    spec: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    deletion_timestamp: datetime.datetime | None = None,
    creation_timestamp: datetime.datetime | None = None,
) -> ServiceView:
    """newServiceAndEndpointMeta's Service, with `spec` keys replacing the defaults (a None value removes one)."""
    body = service_dict(name, namespace)
    for key, value in (spec or {}).items():
        if value is None:
            body["spec"].pop(key, None)
        else:
            body["spec"][key] = value
    metadata = body["metadata"]
    if labels is not None:
        metadata["labels"] = dict(labels)
    if annotations is not None:
        metadata["annotations"] = dict(annotations)
    if deletion_timestamp is not None:
        metadata["deletionTimestamp"] = format_time(deletion_timestamp)
    if creation_timestamp is not None:
        metadata["creationTimestamp"] = format_time(creation_timestamp)
    return ServiceView.from_dict(body)


def endpoint_meta(name: str = "foo", port: int = 80) -> tuple[EndpointPort, ...]:
    """newServiceAndEndpointMeta's endpointMeta ports: the one port every pod resolves the Service's to."""
    return (EndpointPort(name=name, port=port, protocol="TCP"),)


def controller_ref(service: ServiceView) -> OwnerReference:
    """metav1.NewControllerRef(service, v1 Service)."""
    return OwnerReference("v1", "Service", service.name, service.uid, controller=True, block_owner_deletion=True)


# --- slices ---------------------------------------------------------------------------------------------------------


def new_empty_endpoint_slice(
    n: int,
    namespace: str,
    ports: Sequence[EndpointPort],
    service: ServiceView,
    *,
    address_type: str = ADDRESS_TYPE_IPV4,
    endpoints: Iterable[Endpoint] = (),
    labels: Mapping[str, str] | None = None,
) -> EndpointSlice:
    """newEmptyEndpointSlice: `<service>-<n>`, controlled by the Service, no labels (as upstream), generation 1."""
    name = f"{service.name}-{n}"
    return EndpointSlice(
        namespace=namespace,
        name=name,
        uid=f"{name}-uid",
        resource_version="1",
        generation=1,
        labels=dict(labels or {}),
        owner_references=(controller_ref(service),),
        address_type=address_type,
        endpoints=tuple(endpoints),
        ports=tuple(ports),
    )


def lengths(slices: Iterable[EndpointSlice]) -> list[int]:
    """expectUnorderedSlicesWithLengths, made comparable: the endpoint counts, sorted."""
    return sorted(len(s.endpoints) for s in slices)


class SliceStore:
    """The fake clientset's EndpointSlices: performs a Plan as the API server would.

    A create gets `generateName` plus a counter (upstream: 8 random letters), a UID, generation 1 and a
    resourceVersion; an update must name an existing slice and bumps its generation; a delete must too.
    `actions` lists every write as (verb, name), like client.Actions(), in the order finalize makes them.
    """

    def __init__(self, slices: Iterable[EndpointSlice] = ()) -> None:
        self._slices: dict[str, EndpointSlice] = {s.name: s for s in slices}
        self._counter = 0
        self.actions: list[tuple[str, str]] = []

    @property
    def slices(self) -> list[EndpointSlice]:
        """fetchEndpointSlices: what is stored now, by name."""
        return [self._slices[name] for name in sorted(self._slices)]

    def get(self, name: str) -> EndpointSlice | None:
        return self._slices.get(name)

    def apply(self, plan: Plan) -> list[EndpointSlice]:
        """finalize's writes: creates, then updates, then deletes. Returns the slices stored afterwards."""
        for slice_ in plan.create:
            self._counter += 1
            name = slice_.name or f"{slice_.generate_name}{self._counter:05d}"
            assert name not in self._slices, f"create of {name}: exists already"
            self._slices[name] = dataclasses.replace(
                slice_,
                name=name,
                generate_name="",
                uid=f"uid-{self._counter}",
                generation=1,
                resource_version=str(self._counter),
            )
            self.actions.append(("create", name))
        for slice_ in plan.update:
            current = self._slices.get(slice_.name)
            assert current is not None, f"update of {slice_.name}: not found"
            self._counter += 1
            self._slices[slice_.name] = dataclasses.replace(
                slice_, uid=current.uid, generation=current.generation + 1, resource_version=str(self._counter)
            )
            self.actions.append(("update", slice_.name))
        for slice_ in plan.delete:
            assert slice_.name in self._slices, f"delete of {slice_.name}: not found"
            del self._slices[slice_.name]
            self.actions.append(("delete", slice_.name))
        return self.slices


def reconcile_helper(
    store: SliceStore,
    service: ServiceView,
    pods: Iterable[Pod],
    nodes: Iterable[Node] = (),
    *,
    trigger_time: datetime.datetime | None = None,
    max_endpoints_per_slice: int = 100,
) -> Plan:
    """reconcileHelper: reconcile against what the store holds, then perform the plan (no errors expected).

    With no `nodes`, there is one node, node-1 (without labels), as in upstream's newReconciler calls.
    """
    known = list(nodes) or [new_node("node-1")]
    plan = reconcile(
        service,
        pods,
        store.slices,
        node_lookup(known),
        trigger_time=trigger_time,
        max_endpoints_per_slice=max_endpoints_per_slice,
        controller_name=CONTROLLER_NAME,
    )
    assert plan.errors == [], plan.errors
    store.apply(plan)
    return plan


# --- MiniServices ---------------------------------------------------------------------------------------------------


def mini_service(
    name: str = "web",
    namespace: str = NAMESPACE,
    *,
    spec: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    status: Mapping[str, Any] | None = None,
    generation: int = 1,
) -> MiniServiceView:
    """A MiniService as the API returns it: by default a ClusterIP Service of port 80 selecting app=<name>."""
    body: dict[str, Any] = {
        "apiVersion": "minik8s.dev/v1",
        "kind": "MiniService",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"{name}-uid",
            "generation": generation,
            "resourceVersion": "1",
            "labels": dict(labels or {}),
            "annotations": dict(annotations or {}),
        },
        "spec": dict(spec) if spec is not None else {"selector": {"app": name}, "ports": [{"port": 80}]},
    }
    if status is not None:
        body["status"] = dict(status)
    return MiniServiceView.from_dict(body)
