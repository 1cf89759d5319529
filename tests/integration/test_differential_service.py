"""The differential test: a core/v1 Service and a MiniService selecting the same pods, compared step by step.

kube-controller-manager's EndpointSlice controller writes the slices of the Service `builtin`, our operator
those of the MiniService `mini` (through its selector-less Service `mini`). Both select the same pods in one
namespace, with the same ports: `http` is a named targetPort that resolves to 8080 on half the pods and to
8081 on the others (two port groups, ES-06), `metrics` a number. After each step the test waits until both
controllers' endpoints — address, ready/serving/terminating, nodeName, zone, targetRef, ports — agree with
each other and cover every pod that should be an endpoint, watching the slices (no polling), and on a
timeout prints the difference.

Steps: pods created; readiness flips (ES-04); pods terminating, held by a finalizer (ES-03, ES-04);
publishNotReadyAddresses (ES-04); relabels out of and back into the selector; deletions; trafficDistribution
hints (ES-12); 250 pods (ES-02: no slice over 100); hostnames for the pods whose subdomain is the Service's
own name (ES-05). Neither controller ever writes a slice of the other (ES-01, SV-01..03).
"""

from __future__ import annotations

import asyncio
import difflib
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from operators.runtime.client import ApiError, KubeClient
from tests.integration.kubehelpers import eventually, list_pods, set_pod_ready
from tests.integration.servicehelpers import (
    BUILTIN_MANAGER,
    MANAGED_BY,
    MINI_MANAGER,
    SliceWatch,
    hostnames,
    normal_endpoints,
)

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("operator")]

TOPOLOGY_MODE = "service.kubernetes.io/topology-mode"
HOLD = "test.minik8s.dev/hold"  # a finalizer: deleted pods stay terminating until the test lets them go
LABELS = {"app": "web"}
PORTS = [
    {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
    {"name": "metrics", "port": 9090, "targetPort": 9090, "protocol": "TCP"},
]
SETTLE = 120.0


def pod_manifest(index: int) -> dict[str, Any]:
    """Pod `web-<index>`: `http` on 8080 or 8081 by parity; every third pod names a hostname, its subdomain
    alternating between the two Services' names."""
    spec: dict[str, Any] = {
        "containers": [
            {
                "name": "web",
                "image": "registry.k8s.io/pause:3.10",
                "ports": [
                    {"name": "http", "containerPort": 8080 + index % 2},
                    {"name": "metrics", "containerPort": 9090},
                ],
            }
        ]
    }
    if index % 3 == 0:
        spec |= {"hostname": f"host-{index}", "subdomain": "builtin" if index % 2 else "mini"}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"web-{index}", "labels": dict(LABELS), "finalizers": [HOLD]},
        "spec": spec,
    }


class Arms:
    """The two Services and the watch that compares their slices."""

    def __init__(self, kube: KubeClient, namespace: str, watch: SliceWatch) -> None:
        self.kube, self.namespace, self.watch = kube, namespace, watch

    async def create(self) -> None:
        spec = {"selector": dict(LABELS), "ports": PORTS}
        await self.kube.create(
            f"/api/v1/namespaces/{self.namespace}/services",
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "builtin"}, "spec": spec},
        )
        await self.kube.create(
            f"/apis/minik8s.dev/v1/namespaces/{self.namespace}/miniservices",
            {"apiVersion": "minik8s.dev/v1", "kind": "MiniService", "metadata": {"name": "mini"}, "spec": spec},
        )

    async def patch_spec(self, spec: dict[str, Any]) -> None:
        """The same spec change on both Services."""
        await self.kube.patch(f"/api/v1/namespaces/{self.namespace}/services/builtin", {"spec": spec})
        await self.kube.patch(f"/apis/minik8s.dev/v1/namespaces/{self.namespace}/miniservices/mini", {"spec": spec})

    async def settled(
        self, step: str, *, pods: int, hints: bool = False, expect: Callable[[set[Any]], bool] = lambda _: True
    ) -> set[Any]:
        """Wait until both arms show the same endpoints, one per pod that should be one, and `expect` holds
        for them (what the step changes: agreeing on a state half-way through the step is not settling)."""
        builtin: set[Any] = set()
        mini: set[Any] = set()

        def agree() -> bool:
            nonlocal builtin, mini
            builtin = normal_endpoints(self.watch.of("builtin", BUILTIN_MANAGER), hints=hints)
            mini = normal_endpoints(self.watch.of("mini", MINI_MANAGER), hints=hints)
            return builtin == mini and len({e[6] for e in builtin}) == pods and expect(builtin)

        try:
            await self.watch.until(agree, within=SETTLE, what=f"both controllers' endpoints after {step!r}")
        except AssertionError:
            diff = difflib.unified_diff(
                sorted(map(repr, builtin)), sorted(map(repr, mini)), "builtin", "mini", lineterm=""
            )
            message = f"{step}: endpoints differ ({len(builtin)} vs {len(mini)})\n" + "\n".join(diff)
            raise AssertionError(message) from None
        # Neither controller writes the other's slices (ES-01): each Service's slices have one manager.
        assert not self.watch.of("builtin", MINI_MANAGER)
        assert not self.watch.of("mini", BUILTIN_MANAGER)
        return builtin

    async def annotate(self, annotations: dict[str, str | None]) -> None:
        """The same annotation change on both Services (the MiniService copies it onto its Service)."""
        body = {"metadata": {"annotations": annotations}}
        await self.kube.patch(f"/api/v1/namespaces/{self.namespace}/services/builtin", body)
        await self.kube.patch(f"/apis/minik8s.dev/v1/namespaces/{self.namespace}/miniservices/mini", body)

    def allocation(self, service: str, manager: str) -> Counter[str]:
        """How many endpoints each zone's hint names."""
        return Counter(
            zone["name"]
            for s in self.watch.of(service, manager)
            for e in s.get("endpoints") or ()
            for zone in ((e.get("hints") or {}).get("forZones") or ())
        )

    async def create_pods(self, indexes: range) -> None:
        path = f"/api/v1/namespaces/{self.namespace}/pods"
        for chunk in range(indexes.start, indexes.stop, 25):
            batch = range(chunk, min(chunk + 25, indexes.stop))
            await asyncio.gather(*(self.kube.create(path, pod_manifest(i)) for i in batch))

    async def wait_running(self, count: int) -> None:
        """Every pod has an IP (kwok has run it): only then is the expected endpoint count known."""

        async def all_have_ips() -> bool:
            pods = await list_pods(self.kube, self.namespace)
            return len(pods) == count and all((p.get("status") or {}).get("podIP") for p in pods)

        await eventually(all_have_ips, within=SETTLE, what=f"{count} pods with IPs")

    async def relabel(self, name: str, labels: dict[str, str | None]) -> None:
        await self.kube.patch(f"/api/v1/namespaces/{self.namespace}/pods/{name}", {"metadata": {"labels": labels}})

    async def release(self, names: list[str]) -> None:
        """Drop the test's finalizer, so that deleted pods go."""
        for name in names:
            try:
                await self.kube.patch(
                    f"/api/v1/namespaces/{self.namespace}/pods/{name}",
                    [{"op": "remove", "path": "/metadata/finalizers"}],
                    patch_type="json",
                )
            except ApiError as error:
                if not error.not_found and not error.invalid:
                    raise


def not_ready(endpoints: set[Any]) -> int:
    return sum(1 for e in endpoints if e[1] is False)


def terminating(endpoints: set[Any]) -> int:
    return sum(1 for e in endpoints if e[3] is True)


@pytest.fixture
async def arms(kube: KubeClient, namespace: str) -> AsyncIterator[Arms]:
    async with SliceWatch(kube, namespace) as watch:
        arms = Arms(kube, namespace, watch)
        try:
            yield arms
        finally:  # pods held by the finalizer would keep the namespace from ever going
            await arms.release([p["metadata"]["name"] for p in await list_pods(kube, namespace)])


async def test_endpoints_match_the_builtin_controller(kube: KubeClient, namespace: str, arms: Arms) -> None:
    """ES-01..ES-12 against kube-controller-manager, one step at a time."""
    await arms.create()
    await arms.settled("no pods yet", pods=0)

    await arms.create_pods(range(10))
    await arms.wait_running(10)
    endpoints = await arms.settled("10 pods", pods=10, expect=lambda es: {e[1] for e in es} == {True})
    assert len({e[7] for e in endpoints}) == 2, "http resolves to 8080 and 8081: two port groups (ES-06)"

    for name in ("web-1", "web-2", "web-3"):
        await set_pod_ready(kube, namespace, name, False)
    await arms.settled("3 pods not ready", pods=10, expect=lambda es: not_ready(es) == 3)

    for name in ("web-4", "web-5"):
        await kube.delete(f"/api/v1/namespaces/{namespace}/pods/{name}")
    await arms.settled("2 pods terminating", pods=10, expect=lambda es: terminating(es) == 2)

    await arms.patch_spec({"publishNotReadyAddresses": True})
    await arms.settled("publishNotReadyAddresses", pods=10, expect=lambda es: {e[1] for e in es} == {True})
    await arms.patch_spec({"publishNotReadyAddresses": False})
    await arms.settled("publishNotReadyAddresses off", pods=10, expect=lambda es: not_ready(es) == 5)

    await arms.release(["web-4", "web-5"])
    await arms.settled("terminated pods gone", pods=8)

    await arms.relabel("web-6", {"app": "other"})
    await arms.relabel("web-7", {"app": None})
    await arms.settled("2 pods relabelled out", pods=6)
    await arms.relabel("web-6", {"app": "web"})
    await arms.settled("1 pod relabelled back", pods=7)

    await set_pod_ready(kube, namespace, "web-1", True)
    await arms.settled("a pod ready again", pods=7, expect=lambda es: not_ready(es) == 2)

    await arms.patch_spec({"trafficDistribution": "PreferClose"})

    def zone_hints(endpoints: set[Any]) -> int:
        return sum(1 for e in endpoints if "forZones" in e[9])

    # ES-12: the ready endpoints get a hint for their own zone, and lose it with the field.
    await arms.settled("trafficDistribution PreferClose", pods=7, hints=True, expect=lambda es: zone_hints(es) == 5)
    await arms.patch_spec({"trafficDistribution": None})
    await arms.settled("trafficDistribution removed", pods=7, hints=True, expect=lambda es: zone_hints(es) == 0)

    # ES-12, topology-mode Auto: hints allocated by the zones' share of allocatable CPU. Which endpoint
    # carries which zone may differ (Go redistributes in random map order), the allocation may not.
    await arms.annotate({TOPOLOGY_MODE: "Auto"})
    await arms.watch.until(
        lambda: (
            (a := arms.allocation("builtin", BUILTIN_MANAGER)) == arms.allocation("mini", MINI_MANAGER)
            and sum(a.values()) == 5
        ),
        within=SETTLE,
        what="the same zone allocation of the 5 ready endpoints (topology-mode Auto)",
    )
    await arms.annotate({TOPOLOGY_MODE: None})
    await arms.settled("topology-mode removed", pods=7, hints=True, expect=lambda es: zone_hints(es) == 0)

    await kube.delete(f"/api/v1/namespaces/{namespace}/pods/web-0")
    await arms.release(["web-0"])
    await arms.settled("a pod deleted", pods=6)

    await arms.create_pods(range(10, 254))
    await arms.wait_running(251)  # web-1..3, web-6, web-8, web-9 and the 244 new ones, plus web-7 (relabelled)
    await arms.settled("250 pods", pods=250)
    for manager, service in ((BUILTIN_MANAGER, "builtin"), (MINI_MANAGER, "mini")):
        sizes = [len(s.get("endpoints") or ()) for s in arms.watch.of(service, manager)]
        assert max(sizes) <= 100, f"{service}: a slice holds at most 100 endpoints (ES-02): {sizes}"
        assert all(s["metadata"]["labels"][MANAGED_BY] == manager for s in arms.watch.of(service, manager))

    pods = {p["metadata"]["name"]: p for p in await list_pods(kube, namespace)}
    for service in ("builtin", "mini"):
        manager = BUILTIN_MANAGER if service == "builtin" else MINI_MANAGER
        expected = {
            name: p["spec"]["hostname"]
            for name, p in pods.items()
            if p["spec"].get("hostname")
            and p["spec"].get("subdomain") == service
            and p["metadata"]["labels"].get("app") == "web"
        }
        assert hostnames(arms.watch.of(service, manager)) == expected, f"{service}: hostnames (ES-05)"
