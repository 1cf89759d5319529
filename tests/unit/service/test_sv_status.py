"""A MiniService's status (status.py): the texts `kubectl get svc` / `kubectl get endpoints` print, the endpoint
counts and the two conditions.

No upstream unit test covers these columns; the expectations follow kubectl's printers
(pkg/printers/internalversion/printers.go: makePortString, getServiceExternalIP with loadBalancerStatusStringer,
formatEndpoints), which the printer columns of `kubectl get msvc` reproduce from the stored texts. No ES/SV item
describes the status; the tests cite the items whose results it shows: what the API server allocated (SV-01..03)
and the endpoint conditions (ES-04).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from operators.controllers.service.model import (
    ENDPOINT_SLICES_SYNCED,
    SERVICE_SYNCED,
    MiniServiceView,
    ServicePort,
    ServiceSpecView,
)
from operators.controllers.service.slices import Endpoint, EndpointConditions, EndpointPort, EndpointSlice
from operators.controllers.service.status import (
    ConditionState,
    calculate_status,
    endpoints_text,
    external_ip_text,
    ports_text,
    selector_text,
)
from tests.unit.service.builders import NAMESPACE, mini_service, utc

NOW = utc(2026, 3, 1, 12, 0, 0)
EARLIER = utc(2026, 3, 1, 11, 0, 0)
EARLIER_TEXT = "2026-03-01T11:00:00Z"
NOW_TEXT = "2026-03-01T12:00:00Z"


def spec(**fields: Any) -> ServiceSpecView:
    return ServiceSpecView.from_dict(fields)


def endpoint(
    address: str, ready: bool | None = True, serving: bool | None = None, terminating: bool | None = None
) -> Endpoint:
    return Endpoint(addresses=(address,), conditions=EndpointConditions(ready, serving, terminating))


def slice_of(name: str, endpoints: Sequence[Endpoint], ports: Sequence[int] = (80,)) -> EndpointSlice:
    return EndpointSlice(
        namespace=NAMESPACE,
        name=name,
        endpoints=tuple(endpoints),
        ports=tuple(EndpointPort(f"p{port}", port, "TCP") for port in ports),
    )


# --- PORT(S): makePortString ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        pytest.param([], "<none>", id="no ports"),
        pytest.param([ServicePort(80)], "80/TCP", id="one port"),
        pytest.param([ServicePort(53, "UDP"), ServicePort(53, "TCP")], "53/UDP,53/TCP", id="protocols, in order"),
        pytest.param(
            [ServicePort(80, node_port=30080), ServicePort(443, node_port=30443)],
            "80:30080/TCP,443:30443/TCP",
            id="node ports",
        ),
        pytest.param([ServicePort(80, node_port=0), ServicePort(81, "SCTP")], "80/TCP,81/SCTP", id="no node port"),
    ],
)
def test_ports_text(ports: Sequence[ServicePort], expected: str) -> None:
    """SV-01..03 (the allocated NodePorts), makePortString: `port/protocol`, `port:nodePort/protocol` once
    allocated; printService's `<none>` without ports."""
    assert ports_text(ports) == expected


# --- EXTERNAL-IP: getServiceExternalIP -----------------------------------------------------------------------------


def _ingress(*entries: str) -> dict[str, Any]:
    return {"ingress": [{"hostname": e} if e[0].isalpha() else {"ip": e} for e in entries]}


@pytest.mark.parametrize(
    ("service_spec", "load_balancer", "expected"),
    [
        pytest.param(spec(), {}, "<none>", id="ClusterIP"),
        pytest.param(spec(externalIPs=["1.2.3.4", "5.6.7.8"]), {}, "1.2.3.4,5.6.7.8", id="ClusterIP with externalIPs"),
        pytest.param(spec(type="NodePort"), {}, "<none>", id="NodePort"),
        pytest.param(spec(type="NodePort", externalIPs=["1.2.3.4"]), {}, "1.2.3.4", id="NodePort with externalIPs"),
        pytest.param(spec(type="LoadBalancer"), {}, "<pending>", id="LoadBalancer pending"),
        pytest.param(spec(type="LoadBalancer"), _ingress("172.18.0.5"), "172.18.0.5", id="LoadBalancer ingress IP"),
        pytest.param(
            spec(type="LoadBalancer"), _ingress("lb.example"), "lb.example", id="LoadBalancer ingress hostname"
        ),
        pytest.param(
            spec(type="LoadBalancer"),
            _ingress("10.0.0.2", "10.0.0.1", "10.0.0.2"),
            "10.0.0.1,10.0...",
            id="sorted, unique, clipped to 16",
        ),
        pytest.param(
            spec(type="LoadBalancer", externalIPs=["1.2.3.4"]),
            _ingress("172.18.0.5"),
            "172.18.0.5,1.2.3.4",
            id="LoadBalancer ingress and externalIPs",
        ),
        pytest.param(
            spec(type="LoadBalancer", externalIPs=["1.2.3.4"]),
            {},
            "1.2.3.4",
            id="LoadBalancer pending with externalIPs",
        ),
    ],
)
def test_external_ip_text(service_spec: ServiceSpecView, load_balancer: Mapping[str, Any], expected: str) -> None:
    """SV-01..03 (the load balancer the Service got), getServiceExternalIP: externalIPs; a LoadBalancer's
    ingress (IPs, else hostnames), `<pending>` before it has one."""
    assert external_ip_text(service_spec, load_balancer) == expected


def test_external_ip_text_wide() -> None:
    """SV-01..03, loadBalancerStatusStringer: `-o wide` shows the whole list."""
    lb = _ingress("10.0.0.2", "10.0.0.1")
    assert external_ip_text(spec(type="LoadBalancer"), lb, wide=True) == "10.0.0.1,10.0.0.2"


# --- ENDPOINTS: formatEndpoints ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slices", "expected"),
    [
        pytest.param([], "<none>", id="no slices"),
        pytest.param([slice_of("web-a", [])], "<none>", id="placeholder only"),
        pytest.param([slice_of("web-a", [endpoint("10.0.0.1")])], "10.0.0.1:80", id="one"),
        pytest.param(
            [slice_of("web-a", [endpoint(a) for a in ("a", "b", "c", "d", "e")])],
            "a:80,b:80,c:80 + 2 more...",
            id="three at most",
        ),
        pytest.param(
            [slice_of("web-a", [endpoint("a"), endpoint("b", ready=False), endpoint("c", ready=None)])],
            "a:80,c:80",
            id="not-ready left out, unset ready counts as ready",
        ),
        pytest.param(
            [slice_of("web-a", [endpoint("a"), endpoint("b")], ports=(80, 443))],
            "a:80,b:80,a:443 + 1 more...",
            id="every address for every port",
        ),
        pytest.param(
            [slice_of("web-b", [endpoint("b")]), slice_of("web-a", [endpoint("a")])],
            "a:80,b:80",
            id="slices in name order",
        ),
        pytest.param([slice_of("web-a", [endpoint("a"), endpoint("b")], ports=())], "a,b", id="headless without ports"),
        pytest.param([slice_of("web-a", [endpoint("fd00::1")])], "[fd00::1]:80", id="IPv6 (net.JoinHostPort)"),
    ],
)
def test_endpoints_text(slices: Sequence[EndpointSlice], expected: str) -> None:
    """ES-04 (only ready endpoints are shown), formatEndpoints: `ip:port` pairs, three at most, then
    `+ N more...`."""
    assert endpoints_text(slices) == expected


# --- calculate_status ----------------------------------------------------------------------------------------------

OK = ConditionState(True, "ServiceUpToDate", "Service 'web' matches the spec")
SLICES_OK = ConditionState(True, "EndpointSlicesUpToDate", "1 EndpointSlice(s) match the pods")


def _status_conditions(status: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in status["conditions"]}


def test_calculate_status() -> None:
    """SV-01..03 and ES-04: the whole status: observedGeneration, endpoint counts, the printed texts, what
    the API server allocated (clusterIP(s)) and the load balancer, and both conditions set now."""
    mini = mini_service(generation=3)
    service = spec(
        type="LoadBalancer",
        clusterIP="10.96.0.20",
        clusterIPs=["10.96.0.20"],
        ports=[{"port": 80, "nodePort": 30080}],
    )
    lb = _ingress("172.18.0.5")
    slices = [
        slice_of(
            "web-abc",
            [
                endpoint("10.0.0.1", True, True, False),
                endpoint("10.0.0.2", False, True, True),
                endpoint("10.0.0.3", False, False, True),
            ],
        )
    ]

    status = calculate_status(mini, service, lb, slices, OK, SLICES_OK, NOW)

    assert status == {
        "observedGeneration": 3,
        "endpoints": {"ready": 1, "serving": 2, "terminating": 2},
        "portsText": "80:30080/TCP",
        "externalIPText": "172.18.0.5",
        "endpointsText": "10.0.0.1:80",
        "selectorText": "app=web",
        "clusterIP": "10.96.0.20",
        "clusterIPs": ["10.96.0.20"],
        "loadBalancer": lb,
        "conditions": [
            {
                "type": SERVICE_SYNCED,
                "status": "True",
                "lastTransitionTime": NOW_TEXT,
                "reason": OK.reason,
                "message": OK.message,
            },
            {
                "type": ENDPOINT_SLICES_SYNCED,
                "status": "True",
                "lastTransitionTime": NOW_TEXT,
                "reason": SLICES_OK.reason,
                "message": SLICES_OK.message,
            },
        ],
    }


def test_calculate_status_without_service() -> None:
    """SV-01: while there is no owned Service (its name is taken, say), the texts come from the MiniService's own spec
    and nothing allocated is shown."""
    mini = mini_service(spec={"selector": {"app": "web"}, "type": "LoadBalancer", "ports": [{"port": 80}]})
    taken = ConditionState(False, "ServiceExists", "Service 'web' already exists")

    status = calculate_status(mini, None, {}, [], taken, None, NOW)

    assert (status["portsText"], status["externalIPText"], status["endpointsText"]) == ("80/TCP", "<pending>", "<none>")
    assert "clusterIP" not in status and "loadBalancer" not in status
    assert [c["type"] for c in status["conditions"]] == [SERVICE_SYNCED]
    assert status["conditions"][0]["status"] == "False"


def _mini_with_conditions(*conditions: Mapping[str, Any]) -> MiniServiceView:
    return mini_service(status={"conditions": [dict(c) for c in conditions]})


def test_calculate_status_condition_transition_time_kept() -> None:
    """SV-01 (ServiceSynced) and ES-05 (a pod skipped for its unknown node): a condition whose status is
    unchanged keeps its lastTransitionTime, even when reason or message move; one whose status flips gets `now`."""
    mini = _mini_with_conditions(
        {"type": SERVICE_SYNCED, "status": "True", "reason": "ServiceUpToDate", "lastTransitionTime": EARLIER_TEXT},
        {
            "type": ENDPOINT_SLICES_SYNCED,
            "status": "True",
            "reason": "EndpointSlicesUpToDate",
            "lastTransitionTime": EARLIER_TEXT,
        },
    )
    skipped = ConditionState(False, "PodsSkipped", "skipping Pod pod1: Node node-9 Not Found")

    conditions = _status_conditions(calculate_status(mini, None, {}, [], OK, skipped, NOW))

    assert conditions[SERVICE_SYNCED]["lastTransitionTime"] == EARLIER_TEXT
    assert conditions[SERVICE_SYNCED]["message"] == OK.message
    assert conditions[ENDPOINT_SLICES_SYNCED] == {
        "type": ENDPOINT_SLICES_SYNCED,
        "status": "False",
        "lastTransitionTime": NOW_TEXT,
        "reason": "PodsSkipped",
        "message": skipped.message,
    }


def test_calculate_status_slices_condition_untouched() -> None:
    """ES-01: `slices_synced` None means the slices were not looked at: their condition stays as it was,
    in its place."""
    previous = {
        "type": ENDPOINT_SLICES_SYNCED,
        "status": "False",
        "reason": "FailedToUpdateEndpointSlices",
        "lastTransitionTime": EARLIER_TEXT,
    }
    mini = _mini_with_conditions(previous)

    status = calculate_status(mini, None, {}, [], OK, None, NOW)

    assert status["conditions"][0] == previous
    assert status["conditions"][1]["type"] == SERVICE_SYNCED


def test_calculate_status_is_stable() -> None:
    """SV-03 (no write when nothing changed): computed twice from an unchanged world, the status is the same,
    so the controller writes nothing."""
    mini = mini_service(generation=2)
    service = spec(clusterIP="10.96.0.20", ports=[{"port": 80}])
    slices = [slice_of("web-abc", [endpoint("10.0.0.1", True, True, False)])]
    first = calculate_status(mini, service, {}, slices, OK, SLICES_OK, EARLIER)
    written = mini_service(generation=2, status=first)

    assert calculate_status(written, service, {}, slices, OK, SLICES_OK, NOW) == first


def test_calculate_status_counts_every_slice() -> None:
    """ES-04, ES-07: the endpoint counts add up all slices (a dual-stack pod counts once per address type,
    as its endpoints do)."""
    slices = [
        slice_of("web-a", [endpoint("10.0.0.1", True, True, False)]),
        slice_of("web-b", [endpoint("fd00::1", True, True, False)]),
    ]

    status = calculate_status(mini_service(), None, {}, slices, OK, SLICES_OK, NOW)

    assert status["endpoints"] == {"ready": 2, "serving": 2, "terminating": 0}
    assert status["endpointsText"] == "10.0.0.1:80,[fd00::1]:80"


def test_selector_text() -> None:
    """The SELECTOR column of `kubectl get svc -o wide`: labels.FormatLabels, keys sorted; `<none>` without one."""
    assert selector_text({"tier": "db", "app": "web"}) == "app=web,tier=db"
    assert selector_text({}) == "<none>"
