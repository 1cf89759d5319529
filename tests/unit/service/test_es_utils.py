"""Ports of k8s.io/endpointslice utils_test.go and util/controller_utils_test.go: the pure helpers of utils.py.

Test names are upstream's; table rows keep upstream's case names as pytest ids. TestServiceControllerKey is not
ported here: ServiceControllerKey is the glue's `_service_key` (controller.py). TestGetSliceToFill has no
upstream counterpart in this version; its table is derived from getSliceToFill's contract.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from operators.controllers.service.model import ServicePort, ServiceView
from operators.controllers.service.slices import (
    ADDRESS_TYPE_IPV4,
    ADDRESS_TYPE_IPV6,
    Endpoint,
    EndpointConditions,
    EndpointHints,
    EndpointPort,
    EndpointSlice,
    ObjectReference,
    endpoints_equal_beyond_hash,
    port_map_key,
)
from operators.controllers.service.utils import (
    HEADLESS_LABEL,
    LAST_CHANGE_TRIGGER_TIME,
    MANAGED_BY_LABEL,
    SERVICE_NAME_LABEL,
    TOPOLOGY_AWARE_HINTS_ANNOTATION,
    TOPOLOGY_MODE_ANNOTATION,
    address_types_for_service,
    find_port,
    get_endpoint_ports,
    get_slice_to_fill,
    hints_enabled,
    new_endpoint_slice,
    pod_endpoints_changed,
    pod_to_endpoint,
    set_endpoint_slice_labels,
    should_pod_be_in_endpoints,
    with_trigger_time,
)
from operators.kube.objects import OwnerReference, Pod
from tests.unit.service.builders import CONTROLLER_NAME, NAMESPACE, new_node, new_pod, new_service, pod_dict, utc


def service_from(spec: Mapping[str, Any], labels: Mapping[str, str] | None = None, **metadata: Any) -> ServiceView:
    """A v1.Service literal of a test (foo in namespace test, no UID), read as the informer reads it."""
    meta = {"name": "foo", "namespace": "test", "labels": dict(labels or {}), **metadata}
    return ServiceView.from_dict({"metadata": meta, "spec": dict(spec)})


def pod_with_containers(
    containers: Sequence[Mapping[str, Any]] = (), init_containers: Sequence[Mapping[str, Any]] = ()
) -> Pod:
    """&v1.Pod{Spec: v1.PodSpec{Containers: …, InitContainers: …}}; containers get names, as the API requires."""
    return Pod.from_dict(
        {
            "spec": {
                "containers": [{"name": f"c{i}", **c} for i, c in enumerate(containers)],
                "initContainers": [{"name": f"init{i}", **c} for i, c in enumerate(init_containers)],
            }
        }
    )


# --- TestNewEndpointSlice ------------------------------------------------------------------------------------------

NEW_SLICE_PORTS = (EndpointPort(name="foo", port=None, protocol="TCP"),)
BASE_LABELS = {SERVICE_NAME_LABEL: "foo", MANAGED_BY_LABEL: CONTROLLER_NAME}


@pytest.mark.parametrize(
    ("spec", "metadata", "expected_labels"),
    [
        pytest.param({}, {}, BASE_LABELS, id="Service without labels"),
        pytest.param({}, {"labels": {"foo": "bar"}}, {**BASE_LABELS, "foo": "bar"}, id="Service with labels"),
        pytest.param(
            {"clusterIP": "None"},
            {"labels": {"foo": "bar"}},
            {**BASE_LABELS, HEADLESS_LABEL: "", "foo": "bar"},
            id="Headless Service with labels",
        ),
        pytest.param(
            {},
            {"labels": {"foo": "bar", "foo2": "bar2"}},
            {**BASE_LABELS, "foo": "bar", "foo2": "bar2"},
            id="Service with multiple labels",
        ),
        pytest.param(
            {},
            {"labels": {SERVICE_NAME_LABEL: "bad", MANAGED_BY_LABEL: "actor", "foo": "bar"}},
            {**BASE_LABELS, "foo": "bar"},
            id="Evil service hijacking endpoint slices labels",
        ),
        pytest.param({}, {"annotations": {"foo": "bar"}}, BASE_LABELS, id="Service with annotations"),
    ],
)
def test_new_endpoint_slice(
    spec: Mapping[str, Any], metadata: Mapping[str, Any], expected_labels: Mapping[str, str]
) -> None:
    """ES-08: generateName `<service>-`, a controller reference to the Service, its labels plus the reserved ones
    (the Service's own values of those are ignored), no annotations, no endpoints."""
    base = {"clusterIP": "1.1.1.1", "ports": [{"port": 80}], "selector": {"foo": "bar"}}
    service = service_from({**base, **spec}, **metadata)

    generated = new_endpoint_slice(service, NEW_SLICE_PORTS, ADDRESS_TYPE_IPV4, CONTROLLER_NAME)

    assert generated == EndpointSlice(
        namespace="test",
        generate_name="foo-",
        labels=expected_labels,
        owner_references=(OwnerReference("v1", "Service", "foo", "", controller=True, block_owner_deletion=True),),
        address_type=ADDRESS_TYPE_IPV4,
        endpoints=(),
        ports=NEW_SLICE_PORTS,
    )


# --- TestPodToEndpoint ---------------------------------------------------------------------------------------------

SVC = new_service("foo")
SVC_PUBLISH_NOT_READY = new_service("publishnotready", spec={"publishNotReadyAddresses": True})
NODE1 = new_node("node-1", zone="us-central1-a")


READY_POD = new_pod(1)
READY_ENDPOINT = Endpoint(
    addresses=("1.2.3.5",),
    conditions=EndpointConditions(ready=True, serving=True, terminating=False),
    target_ref=ObjectReference("Pod", NAMESPACE, "pod1", ""),
    node_name="node-1",
)


def _with_conditions(ready: bool, serving: bool, terminating: bool, **changes: Any) -> Endpoint:
    return dataclasses.replace(READY_ENDPOINT, conditions=EndpointConditions(ready, serving, terminating), **changes)


POD_TO_ENDPOINT_CASES = [
    pytest.param(READY_POD, None, SVC, READY_ENDPOINT, id="Ready pod"),
    pytest.param(READY_POD, None, SVC_PUBLISH_NOT_READY, READY_ENDPOINT, id="Ready pod + publishNotReadyAddresses"),
    pytest.param(new_pod(1, ready=False), None, SVC, _with_conditions(False, False, False), id="Unready pod"),
    pytest.param(
        new_pod(1, ready=False),
        None,
        SVC_PUBLISH_NOT_READY,
        _with_conditions(True, False, False),
        id="Unready pod + publishNotReadyAddresses",
    ),
    pytest.param(
        READY_POD, NODE1, SVC, dataclasses.replace(READY_ENDPOINT, zone="us-central1-a"), id="Ready pod + node labels"
    ),
    pytest.param(
        new_pod(1, pod_ips=["1.2.3.4", "1234::5678:0000:0000:9abc:def0"]),
        NODE1,
        SVC,
        dataclasses.replace(READY_ENDPOINT, addresses=("1.2.3.4",), zone="us-central1-a"),
        id="Multi IP Ready pod + node labels",
    ),
    pytest.param(
        new_pod(1, subdomain="foo", hostname="example-hostname"),
        NODE1,
        SVC,
        dataclasses.replace(READY_ENDPOINT, hostname="example-hostname", zone="us-central1-a"),
        id="Ready pod + hostname",
    ),
    pytest.param(
        new_pod(1, terminating=True), None, SVC, _with_conditions(False, True, True), id="Ready terminating pod"
    ),
    pytest.param(
        new_pod(1, ready=False, terminating=True),
        None,
        SVC,
        _with_conditions(False, False, True),
        id="Not ready terminating pod",
    ),
]


@pytest.mark.parametrize(("pod", "node", "svc", "expected"), POD_TO_ENDPOINT_CASES)
def test_pod_to_endpoint(pod: Pod, node: Any, svc: ServiceView, expected: Endpoint) -> None:
    """ES-04, ES-05: serving = Ready, terminating = deletionTimestamp, ready = publishNotReadyAddresses ||
    (serving && !terminating); the addresses of one family, the node, its zone, the hostname in its subdomain."""
    assert pod_to_endpoint(pod, node, svc, ADDRESS_TYPE_IPV4) == expected


@pytest.mark.parametrize(
    ("pod_ips", "address_type", "expected"),
    [
        pytest.param(
            ["1234::5678:0000:0000:9abc:def0"], ADDRESS_TYPE_IPV6, ("1234::5678:0:0:9abc:def0",), id="v6 shortened"
        ),
        pytest.param(["FD00:10:96::0001"], ADDRESS_TYPE_IPV6, ("fd00:10:96::1",), id="v6 lower case"),
        pytest.param(["010.001.002.003"], ADDRESS_TYPE_IPV4, ("10.1.2.3",), id="v4 leading zeros (ParseIPSloppy)"),
        pytest.param(["::ffff:1.2.3.4"], ADDRESS_TYPE_IPV4, ("1.2.3.4",), id="v4-mapped v6 is IPv4"),
        pytest.param(["::ffff:1.2.3.4"], ADDRESS_TYPE_IPV6, (), id="v4-mapped v6 is not IPv6"),
    ],
)
def test_pod_to_endpoint_addresses(pod_ips: list[str], address_type: str, expected: tuple[str, ...]) -> None:
    """ES-05, getEndpointAddresses: pod IPs are parsed and printed again, as Go's net.IP prints them."""
    endpoint = pod_to_endpoint(new_pod(1, pod_ips=pod_ips), None, SVC, address_type)
    assert endpoint.addresses == expected


# --- TestShouldSetHostname (through podToEndpoint) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pod_namespace", "hostname", "subdomain", "service_namespace", "service_name", "expected"),
    [
        pytest.param("ns", "foo", "svc-name", "ns", "svc-name", True, id="all matching"),
        pytest.param("ns", "", "svc-name", "ns", "svc-name", False, id="all matching, hostname not set"),
        pytest.param("ns", "hostname", "subdomain", "ns", "name", False, id="all set, different name/subdomain"),
        pytest.param("ns1", "hostname", "svc-name", "ns2", "svc-name", False, id="all set, different namespace"),
    ],
)
def test_should_set_hostname(
    pod_namespace: str, hostname: str, subdomain: str, service_namespace: str, service_name: str, expected: bool
) -> None:
    """ES-05: the hostname is published only when the pod names one and the Service is its subdomain."""
    pod = new_pod(1, pod_namespace, hostname=hostname, subdomain=subdomain)
    service = new_service(service_name, service_namespace)

    endpoint = pod_to_endpoint(pod, None, service, ADDRESS_TYPE_IPV4)

    assert (endpoint.hostname is not None) == expected
    if expected:
        assert endpoint.hostname == hostname


# --- TestShouldPodBeInEndpoints ------------------------------------------------------------------------------------


def _pod(phase: str, pod_ips: Sequence[str] = ("1.2.3.4",), terminating: bool = False) -> Pod:
    body = pod_dict(0, terminating=terminating)
    body["status"] = {"phase": phase, "podIPs": [{"ip": ip} for ip in pod_ips]}
    return Pod.from_dict(body)


@pytest.mark.parametrize(
    ("pod", "include_terminating", "expected"),
    [
        pytest.param(_pod("Failed"), False, False, id="Failed pod with Never RestartPolicy"),
        pytest.param(_pod("Succeeded"), False, False, id="Succeeded pod with Never RestartPolicy"),
        pytest.param(_pod("Succeeded"), False, False, id="Succeeded pod with OnFailure RestartPolicy"),
        pytest.param(_pod("Running", ()), False, False, id="Empty Pod IPs, Running pod with OnFailure RestartPolicy"),
        pytest.param(
            _pod("Running", terminating=True), False, False, id="Terminating Pod with includeTerminating=false"
        ),
        pytest.param(_pod("Failed"), False, False, id="Failed pod with Always RestartPolicy"),
        pytest.param(_pod("Pending"), False, True, id="Pending pod with Never RestartPolicy"),
        pytest.param(_pod("Unknown"), False, True, id="Unknown pod with OnFailure RestartPolicy"),
        pytest.param(_pod("Running"), False, True, id="Running pod with Never RestartPolicy"),
        pytest.param(
            _pod("Running", ("1.2.3.4", "1234::5678:0000:0000:9abc:def0")),
            False,
            True,
            id="Multiple Pod IPs, Running pod with OnFailure RestartPolicy",
        ),
        pytest.param(_pod("Running", terminating=True), True, True, id="Terminating Pod with includeTerminating=true"),
    ],
)
def test_should_pod_be_in_endpoints(pod: Pod, include_terminating: bool, expected: bool) -> None:
    """ES-03: not terminal, has an IP; terminating pods only when asked (the reconciler always asks)."""
    assert should_pod_be_in_endpoints(pod, include_terminating) is expected


def test_should_pod_be_in_endpoints_pod_ip_only() -> None:
    """ES-03: an old-style status with only status.podIP counts as having an IP."""
    body = pod_dict(0)
    body["status"] = {"phase": "Running", "podIP": "1.2.3.4"}
    assert should_pod_be_in_endpoints(Pod.from_dict(body)) is True


# --- TestGetEndpointPorts ------------------------------------------------------------------------------------------

GET_ENDPOINT_PORTS_CASES = [
    pytest.param(
        [
            {
                "name": "http",
                "port": 80,
                "targetPort": 80,
                "protocol": "TCP",
                "appProtocol": "example.com/custom-protocol",
            }
        ],
        pod_with_containers([{"ports": []}]),
        [EndpointPort("http", 80, "TCP", "example.com/custom-protocol")],
        id="service with AppProtocol on one port",
    ),
    pytest.param(
        [
            {"name": "http", "port": 80, "targetPort": 80, "protocol": "TCP"},
            {"name": "https", "protocol": "TCP", "targetPort": "https", "appProtocol": "https"},
        ],
        pod_with_containers([{"ports": [{"name": "https", "containerPort": 443, "protocol": "TCP"}]}]),
        [EndpointPort("http", 80, "TCP"), EndpointPort("https", 443, "TCP", "https")],
        id="service with named port and AppProtocol on one port",
    ),
    pytest.param(
        [
            {"name": "http-sidecar", "port": 8080, "targetPort": 8080, "protocol": "TCP"},
            {"name": "http", "port": 8090, "targetPort": "http", "protocol": "TCP"},
        ],
        pod_with_containers(
            [{"ports": [{"name": "http", "containerPort": 8090, "protocol": "TCP"}]}],
            [
                {
                    "ports": [{"name": "http-sidecar", "containerPort": 8080, "protocol": "TCP"}],
                    "restartPolicy": "Always",
                }
            ],
        ),
        [EndpointPort("http-sidecar", 8080, "TCP"), EndpointPort("http", 8090, "TCP")],
        id="service with named port for restartable init container",
    ),
    pytest.param(
        [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        pod_with_containers(
            [{"ports": [{"name": "http", "containerPort": 8090, "protocol": "TCP"}]}],
            [{"ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}], "restartPolicy": "Always"}],
        ),
        [EndpointPort("http", 8090, "TCP")],
        id="service with same named port for regular and restartable init container",
    ),
]


@pytest.mark.parametrize(("ports", "pod", "expected_ports"), GET_ENDPOINT_PORTS_CASES)
def test_get_endpoint_ports(ports: list[dict[str, Any]], pod: Pod, expected_ports: list[EndpointPort]) -> None:
    """ES-06: one EndpointPort per Service port the pod resolves: name, number, protocol, appProtocol."""
    assert list(get_endpoint_ports(service_from({"ports": ports}), pod)) == expected_ports


def test_get_endpoint_ports_unresolved_port_dropped() -> None:
    """ES-06: a named port the pod does not have is left out for that pod (the others are kept)."""
    service = service_from(
        {"ports": [{"name": "a", "port": 80, "targetPort": "missing"}, {"name": "b", "port": 81, "targetPort": 8081}]}
    )
    assert get_endpoint_ports(service, pod_with_containers([{}])) == (EndpointPort("b", 8081, "TCP"),)


def test_get_endpoint_ports_headless_without_ports() -> None:
    """ES-06: a headless Service may have no ports: its endpoints have none either."""
    assert get_endpoint_ports(service_from({"clusterIP": "None"}), pod_with_containers([{}])) == ()


# --- TestSetEndpointSliceLabels ------------------------------------------------------------------------------------

SLICE_WITH_BASE_LABELS = {SERVICE_NAME_LABEL: "foo", MANAGED_BY_LABEL: CONTROLLER_NAME}

SET_LABELS_CASES = [
    pytest.param({}, {}, None, BASE_LABELS, False, id="Service without labels and empty endpoint slice"),
    pytest.param(
        {},
        {"clusterIP": "None"},
        {"foo": "bar"},
        {**BASE_LABELS, HEADLESS_LABEL: "", "foo": "bar"},
        True,
        id="Headless service with labels and empty endpoint slice",
    ),
    pytest.param(
        {},
        {"clusterIP": "None"},
        None,
        {**BASE_LABELS, HEADLESS_LABEL: ""},
        False,
        id="Headless service without labels and empty endpoint slice",
    ),
    pytest.param(
        {},
        {},
        {HEADLESS_LABEL: ""},
        BASE_LABELS,
        False,
        id="Non Headless service with Headless label and empty endpoint slice",
    ),
    pytest.param(
        {**SLICE_WITH_BASE_LABELS, HEADLESS_LABEL: ""},
        {},
        {HEADLESS_LABEL: ""},
        BASE_LABELS,
        False,
        id="Headless Service change to ClusterIP Service with headless label",
    ),
    pytest.param(
        {**SLICE_WITH_BASE_LABELS, HEADLESS_LABEL: ""},
        {},
        None,
        BASE_LABELS,
        False,
        id="Headless Service change to ClusterIP Service",
    ),
    pytest.param(
        {**SLICE_WITH_BASE_LABELS, "foo": "bar"},
        {"clusterIP": "None"},
        {"foo": "bar"},
        {**BASE_LABELS, HEADLESS_LABEL: "", "foo": "bar"},
        False,
        id="Headless service and endpoint slice with same labels",
    ),
    pytest.param(
        {}, {}, {"foo": "bar"}, {**BASE_LABELS, "foo": "bar"}, True, id="Service with labels and empty endpoint slice"
    ),
    pytest.param(
        {**SLICE_WITH_BASE_LABELS, "foo": "bar"},
        {},
        None,
        BASE_LABELS,
        True,
        id="Slice with labels and service without labels",
    ),
    pytest.param(
        {**SLICE_WITH_BASE_LABELS, HEADLESS_LABEL: ""},
        {},
        None,
        BASE_LABELS,
        False,
        id="Slice with headless label and service with ClusterIP",
    ),
    pytest.param(
        SLICE_WITH_BASE_LABELS,
        {},
        {"foo": "bar"},
        {**BASE_LABELS, "foo": "bar"},
        True,
        id="Slice with reserved labels and service with labels",
    ),
    pytest.param(
        SLICE_WITH_BASE_LABELS,
        {},
        {SERVICE_NAME_LABEL: "bad", MANAGED_BY_LABEL: "actor", HEADLESS_LABEL: "invalid"},
        BASE_LABELS,
        False,
        id="Evil service trying to hijack slice labels only well-known slice labels",
    ),
    pytest.param(
        SLICE_WITH_BASE_LABELS,
        {},
        {SERVICE_NAME_LABEL: "bad", MANAGED_BY_LABEL: "actor", "foo": "bar"},
        {**BASE_LABELS, "foo": "bar"},
        True,
        id="Evil service trying to hijack slice labels with updates",
    ),
]


@pytest.mark.parametrize(
    ("slice_labels", "spec", "service_labels", "expected_labels", "expected_update"), SET_LABELS_CASES
)
def test_set_endpoint_slice_labels(
    slice_labels: Mapping[str, str],
    spec: Mapping[str, Any],
    service_labels: Mapping[str, str] | None,
    expected_labels: Mapping[str, str],
    expected_update: bool,
) -> None:
    """ES-08: the Service's labels, less the reserved ones, plus service-name, managed-by and (headless) the
    headless label; `updated` says whether the non-reserved labels differ from the slice's."""
    base = {"ports": [{"port": 80}], "selector": {"foo": "bar"}, "clusterIP": "1.1.1.1"}
    service = service_from({**base, **spec}, service_labels)

    labels, updated = set_endpoint_slice_labels(
        EndpointSlice(namespace="", labels=slice_labels), service, CONTROLLER_NAME
    )

    assert updated is expected_update
    assert labels == expected_labels


# --- TestSupportedServiceAddressType -------------------------------------------------------------------------------

V4, V6 = ADDRESS_TYPE_IPV4, ADDRESS_TYPE_IPV6


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({"clusterIP": "10.0.0.10"}, {V4}, id="v4 service with no ip families (cluster upgrade)"),
        pytest.param({"clusterIP": "2000::1"}, {V6}, id="v6 service with no ip families (cluster upgrade)"),
        pytest.param({"ipFamilies": ["IPv4"]}, {V4}, id="v4 service"),
        pytest.param({"ipFamilies": ["IPv6"]}, {V6}, id="v6 services"),
        pytest.param({"ipFamilies": ["IPv4", "IPv6"]}, {V4, V6}, id="v4,v6 service"),
        pytest.param({"ipFamilies": ["IPv6", "IPv4"]}, {V4, V6}, id="v6,v4 service"),
        pytest.param({"clusterIP": "None"}, {V4, V6}, id="headless with no selector and no families (old api-server)"),
        pytest.param(
            {"clusterIP": "None", "selector": {"foo": "bar"}},
            {V4, V6},
            id="headless with selector and no families (old api-server)",
        ),
        pytest.param(
            {"clusterIP": "None", "ipFamilies": ["IPv4", "IPv6"]},
            {V4, V6},
            id="headless with no selector with families",
        ),
        pytest.param(
            {"clusterIP": "None", "selector": {"foo": "bar"}, "ipFamilies": ["IPv4", "IPv6"]},
            {V4, V6},
            id="headless with selector with families",
        ),
    ],
)
def test_supported_service_address_type(spec: Mapping[str, Any], expected: set[str]) -> None:
    """ES-07: spec.ipFamilies; without them, the ClusterIP's family, or both for a headless Service."""
    types = address_types_for_service(service_from(spec))
    assert len(types) == len(expected)
    assert set(types) == expected


# --- Test_hintsEnabled ---------------------------------------------------------------------------------------------

HINTS, MODE = TOPOLOGY_AWARE_HINTS_ANNOTATION, TOPOLOGY_MODE_ANNOTATION


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        pytest.param({}, False, id="empty annotations"),
        pytest.param({"topology-hints": "enabled"}, False, id="different annotations"),
        pytest.param({HINTS: "enabled"}, False, id="hints annotation == enabled"),
        pytest.param({HINTS: "aUto"}, False, id="hints annotation == aUto"),
        pytest.param({HINTS: "auto"}, True, id="hints annotation == auto"),
        pytest.param({HINTS: "Auto"}, True, id="hints annotation == Auto"),
        pytest.param({HINTS: "disabled"}, False, id="hints annotation == disabled"),
        pytest.param({MODE: "enabled"}, False, id="mode annotation == enabled"),
        pytest.param({MODE: "aUto"}, False, id="mode annotation == aUto"),
        pytest.param({MODE: "auto"}, True, id="mode annotation == auto"),
        pytest.param({MODE: "Auto"}, True, id="mode annotation == Auto"),
        pytest.param({MODE: "disabled"}, False, id="mode annotation == disabled"),
        pytest.param(
            {MODE: "disabled", HINTS: "auto"}, True, id="mode annotation == disabled, hints annotation == auto"
        ),
        pytest.param(
            {MODE: "auto", HINTS: "disabled"}, False, id="mode annotation == auto, hints annotation == disabled"
        ),
    ],
)
def test_hints_enabled(annotations: Mapping[str, str], expected: bool) -> None:
    """ES-12: topology-mode (or the deprecated topology-aware-hints, which wins) set to Auto or auto."""
    assert hints_enabled(annotations) is expected


# --- TestFindPort --------------------------------------------------------------------------------------------------


def _ports(*ports: tuple[str, int, str]) -> dict[str, Any]:
    return {
        "ports": [{"name": name, "containerPort": number, "protocol": protocol} for name, number, protocol in ports]
    }


FIND_PORT_CASES = [
    pytest.param([{}], [], 93, 93, id="valid int, no ports"),
    pytest.param([_ports(("", 11, "TCP"), ("p", 22, "TCP"))], [], 93, 93, id="valid int, with ports"),
    pytest.param([{}], [], "p", None, id="valid str, no ports"),
    pytest.param(
        [_ports(("", 11, "UDP"), ("p", 22, "TCP"), ("q", 33, "TCP"))], [], "q", 33, id="valid str, one ctr with ports"
    ),
    pytest.param(
        [{}, _ports(("", 11, "UDP"), ("p", 22, "TCP"), ("q", 33, "TCP"))],
        [],
        "q",
        33,
        id="valid str, two ctr with ports",
    ),
    pytest.param(
        [{}, _ports(("", 11, "UDP"), ("p", 22, "TCP"), ("q", 22, "TCP"))],
        [],
        "q",
        22,
        id="valid str, two ctr with same port",
    ),
    pytest.param([{}, _ports(("a", 11, "snmp"))], [], "a", None, id="valid str, invalid protocol"),
    pytest.param(
        [{}, {"ports": [{"name": "a", "containerPort": 11, "hostPort": 81, "protocol": "TCP"}]}],
        [],
        "a",
        11,
        id="valid hostPort",
    ),
    pytest.param(
        [{}, {"ports": [{"name": "a", "containerPort": 11, "hostPort": -1, "protocol": "TCP"}]}],
        [],
        "a",
        11,
        id="invalid hostPort",  # "this should fail but passes"
    ),
    pytest.param([{}, _ports(("a", -1, "TCP"))], [], "a", -1, id="invalid ContainerPort"),  # ditto
    pytest.param(
        [{}, {"ports": [{"name": "a", "containerPort": 11, "hostIP": "192.168.1.1", "protocol": "TCP"}]}],
        [],
        "a",
        11,
        id="HostIP Address",
    ),
    pytest.param(
        [], [{"restartPolicy": "Always", **_ports(("a", 80, "TCP"))}], "a", 80, id="Sidecar initContainer named port"
    ),
    pytest.param(
        [], [_ports(("a", 80, "TCP"))], "a", None, id="Invalid(restartPolicy != Always) initContainer named port"
    ),
    pytest.param(
        [_ports(("a", 81, "TCP")), _ports(("a", 82, "TCP"))],
        [{"restartPolicy": "Always", **_ports(("a", 80, "TCP"))}],
        "a",
        81,
        id="App and sidecar containers have the same named port, first app container port will be used",
    ),
]


@pytest.mark.parametrize(("containers", "init_containers", "target_port", "expected"), FIND_PORT_CASES)
def test_find_port(
    containers: list[dict[str, Any]],
    init_containers: list[dict[str, Any]],
    target_port: int | str,
    expected: int | None,
) -> None:
    """ES-06, FindPort: a number as is; a name is the first regular container port of that name and protocol,
    then the sidecars' (restartable init containers); None is upstream's error."""
    pod = pod_with_containers(containers, init_containers)
    assert find_port(pod, ServicePort(port=0, protocol="TCP", target_port=target_port)) == expected


def test_find_port_unset_target_port_defaults_to_port() -> None:
    """ES-06: a targetPort left out is the Service port, as the API server defaults it."""
    assert find_port(pod_with_containers([{}]), ServicePort(port=8080)) == 8080


# --- TestGetSliceToFill (no upstream table: getSliceToFill's contract) ---------------------------------------------


def _slice_with(name: str, count: int) -> EndpointSlice:
    return EndpointSlice(
        namespace=NAMESPACE, name=name, endpoints=tuple(Endpoint(addresses=(f"10.0.0.{i}",)) for i in range(count))
    )


@pytest.mark.parametrize(
    ("sizes", "num_endpoints", "max_endpoints", "expected"),
    [
        pytest.param([], 5, 100, None, id="no slices"),
        pytest.param(
            [62, 61], 27, 100, "s0", id="closest to full after the add (TestReconcileEndpointSlicesSomePreexisting)"
        ),
        pytest.param([74, 74], 52, 100, None, id="none has room (…WorseAllocation)"),
        pytest.param([10, 95, 50], 5, 100, "s1", id="exactly full wins at once"),
        pytest.param([40, 40], 10, 100, "s0", id="ties go to the first"),
        pytest.param([0], 100, 100, "s0", id="an empty slice can take a full load"),
        pytest.param([1], 100, 100, None, id="one too many"),
    ],
)
def test_get_slice_to_fill(sizes: list[int], num_endpoints: int, max_endpoints: int, expected: str | None) -> None:
    """ES-09: the slice that ends up closest to full with `num_endpoints` more, among those with room."""
    slices = [_slice_with(f"s{i}", size) for i, size in enumerate(sizes)]

    chosen = get_slice_to_fill(slices, num_endpoints, max_endpoints)

    assert (chosen.name if chosen is not None else None) == expected


# --- Test_podChanged -----------------------------------------------------------------------------------------------


_POD_FIELD_SECTIONS = {
    "labels": "metadata",
    "resourceVersion": "metadata",
    "deletionTimestamp": "metadata",
    "nodeName": "spec",
    "hostname": "spec",
    "subdomain": "spec",
    "podIPs": "status",
    "conditions": "status",
    "phase": "status",
}


def _changed_pod(**fields: Any) -> Pod:
    """Test_podChanged's `orig` (labels foo=bar, not ready, no IP), with some fields set."""
    body: dict[str, Any] = {
        "metadata": {"namespace": "test", "name": "pod", "labels": {"foo": "bar"}},
        "spec": {},
        "status": {"conditions": [{"type": "Ready", "status": "False"}]},
    }
    for key, value in fields.items():
        body[_POD_FIELD_SECTIONS[key]][key] = value
    return Pod.from_dict(body)


def _ips(*ips: str) -> list[dict[str, str]]:
    return [{"ip": ip} for ip in ips]


POD_CHANGED_CASES = [
    pytest.param({}, {}, False, False, id="no changes"),
    # NodeName can only change before the pod has an IP: ignored.
    pytest.param({}, {"nodeName": "changed"}, False, False, id="change NodeName"),
    pytest.param({}, {"resourceVersion": "changed"}, False, False, id="change ResourceVersion"),
    pytest.param({}, {"podIPs": _ips("1.2.3.4")}, True, False, id="add primary IPv4"),
    pytest.param({"podIPs": _ips("1.2.3.4")}, {"podIPs": _ips("2.3.4.5")}, True, False, id="modify primary IPv4"),
    pytest.param({}, {"podIPs": _ips("fd00:10:96::1")}, True, False, id="add primary IPv6"),
    pytest.param(
        {"podIPs": _ips("fd00:10:96::1")}, {"podIPs": _ips("fd00:10:96::2")}, True, False, id="modify primary IPv6"
    ),
    pytest.param(
        {"podIPs": _ips("1.2.3.4")}, {"podIPs": _ips("1.2.3.4", "fd00:10:96::1")}, True, False, id="add secondary IP"
    ),
    pytest.param(
        {"podIPs": _ips("1.2.3.4", "fd00:10:96::1")},
        {"podIPs": _ips("1.2.3.4", "fd00:10:96::2")},
        True,
        False,
        id="modify secondary IP",
    ),
    pytest.param(
        {"podIPs": _ips("1.2.3.4", "fd00:10:96::1")}, {"podIPs": _ips("1.2.3.4")}, True, False, id="remove secondary IP"
    ),
    pytest.param({}, {"conditions": [{"type": "Ready", "status": "True"}]}, True, False, id="change readiness"),
    pytest.param({}, {"deletionTimestamp": "2026-03-01T12:00:00Z"}, True, False, id="mark for deletion"),
    pytest.param({}, {"labels": {"foo": "bar", "label": "new"}}, False, True, id="add label"),
    pytest.param(
        {"labels": {"foo": "bar", "label": "old"}},
        {"labels": {"foo": "bar", "label": "new"}},
        False,
        True,
        id="modify label",
    ),
    pytest.param({"labels": {"foo": "bar", "label": "old"}}, {}, False, True, id="remove label"),
    # hostNameAndDomainAreEqual: upstream counts these with the labels (no row in its table).
    pytest.param({}, {"hostname": "h"}, False, True, id="change hostname"),
    pytest.param({}, {"subdomain": "s"}, False, True, id="change subdomain"),
    # Beyond upstream: a pod turning terminal leaves its Services' endpoints (ES-03).
    pytest.param({"phase": "Running"}, {"phase": "Failed"}, True, False, id="become terminal"),
]


@pytest.mark.parametrize(("old_fields", "new_fields", "pod_changed", "labels_changed"), POD_CHANGED_CASES)
def test_pod_changed(
    old_fields: Mapping[str, Any], new_fields: Mapping[str, Any], pod_changed: bool, labels_changed: bool
) -> None:
    """ES-03, ES-04 (which pod events matter), podEndpointsChanged: (does the pod's endpoint change, may the
    Services selecting it change)."""
    old = _changed_pod(**old_fields)
    new = _changed_pod(**new_fields)

    assert pod_endpoints_changed(old, new) == (pod_changed, labels_changed)


# --- TestEndpointsEqualBeyondHash ----------------------------------------------------------------------------------

BASE_ENDPOINT = Endpoint(
    addresses=("10.0.0.1",),
    conditions=EndpointConditions(ready=True),
    target_ref=ObjectReference("Pod", "default", "pod0"),
    node_name="node-1",
    zone="zone-a",
)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({}, True, id="No change"),
        pytest.param({"node_name": "node-2"}, False, id="NodeName changed"),
        pytest.param({"zone": "zone-b"}, False, id="Zone changed"),
        pytest.param({"conditions": EndpointConditions(ready=False)}, False, id="Ready condition changed"),
        pytest.param(
            {"conditions": EndpointConditions(ready=True, serving=True)},
            False,
            id="Serving condition changed from nil to true",
        ),
        pytest.param({"target_ref": ObjectReference("Pod", "default", "pod1")}, False, id="Pod name changed"),
        pytest.param({"hints": EndpointHints(for_zones=("zone-a",))}, True, id="hints are not compared"),
    ],
)
def test_endpoints_equal_beyond_hash(changes: Mapping[str, Any], expected: bool) -> None:
    """ES-09: what makes a kept endpoint "updated": conditions, node, zone, target; never its hints (ES-12)."""
    assert endpoints_equal_beyond_hash(BASE_ENDPOINT, dataclasses.replace(BASE_ENDPOINT, **changes)) is expected


# --- NewPortMapKey, addTriggerTimeAnnotation -----------------------------------------------------------------------


def test_new_port_map_key() -> None:
    """ES-06: a port group is the same whatever the order of its ports; nil and empty are one group."""
    a, b = EndpointPort("a", 80), EndpointPort("b", 81, "UDP")
    assert port_map_key([a, b]) == port_map_key([b, a])
    assert port_map_key([]) == port_map_key(())
    assert port_map_key([a]) != port_map_key([dataclasses.replace(a, app_protocol="http")])


@pytest.mark.parametrize(
    ("trigger_time", "expected"),
    [
        pytest.param(utc(2026, 3, 1, 12, 0, 0), "2026-03-01T12:00:00Z", id="whole seconds"),
        pytest.param(utc(2026, 3, 1, 12, 0, 0, 120000), "2026-03-01T12:00:00.12Z", id="trailing zeros dropped"),
        pytest.param(
            datetime.datetime(2026, 3, 1, 13, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1))),
            "2026-03-01T12:00:00Z",
            id="in UTC",
        ),
    ],
)
def test_add_trigger_time_annotation(trigger_time: datetime.datetime, expected: str) -> None:
    """ES-08: the last-change-trigger-time is RFC3339Nano in UTC; other annotations are kept."""
    slice_ = EndpointSlice(namespace=NAMESPACE, annotations={"keep": "me"})

    stamped = with_trigger_time(slice_, trigger_time)

    assert stamped.annotations == {"keep": "me", LAST_CHANGE_TRIGGER_TIME: expected}
    assert with_trigger_time(stamped, None).annotations == {"keep": "me"}
