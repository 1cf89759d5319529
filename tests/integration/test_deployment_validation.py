"""The MiniDeployment CRD against the real API server, side by side with apps/v1 Deployment.

Differential: each spec goes to the API server twice, as an apps/v1 Deployment and as a MiniDeployment (same
body, apiVersion and kind swapped); the two must be refused or accepted alike, the MiniDeployment in apps/v1's
words. No controller is involved: these tests exercise the schema, its defaults, CEL rules, subresources,
printer columns and explain output only.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from operators.api.meta import PERCENT_MESSAGE
from operators.devcluster.cluster import Cluster
from operators.runtime.client import ApiError, KubeClient

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("crds")]

KINDS = {
    "Deployment": ("apps/v1", "/apis/apps/v1/namespaces/{namespace}/deployments"),
    "MiniDeployment": ("minik8s.dev/v1", "/apis/minik8s.dev/v1/namespaces/{namespace}/minideployments"),
}
TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "registry.k8s.io/pause:3.10"}]},
}


def manifest(kind: str, name: str = "probe", **spec: Any) -> dict[str, Any]:
    """A Deployment or MiniDeployment selecting app=web, its template labelled so; `spec` overrides fields."""
    api_version, _ = KINDS[kind]
    body = {"selector": {"matchLabels": {"app": "web"}}, "template": copy.deepcopy(TEMPLATE)} | spec
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": body}


def template(labels: dict[str, str] | None = None, **pod_spec: Any) -> dict[str, Any]:
    """TEMPLATE with other labels or extra pod spec fields."""
    result = copy.deepcopy(TEMPLATE)
    if labels is not None:
        result["metadata"]["labels"] = labels
    result["spec"] |= pod_spec
    return result


def collection(kind: str, namespace: str) -> str:
    return KINDS[kind][1].format(namespace=namespace)


async def dry_run(kube: KubeClient, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create server-side without persisting: admission, defaulting and validation all run."""
    return await kube.request("POST", collection(body["kind"], namespace), body=body, query={"dryRun": "All"})


def with_go_zero_values(spec: dict[str, Any]) -> dict[str, Any]:
    """A Deployment's spec as a MiniDeployment's reads: Go omits a zero minReadySeconds and a false paused
    (omitempty), where the CRD's defaults write them out."""
    return {"minReadySeconds": 0, "paused": False} | spec


def without_template(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec but its pod template: the API server defaults a Deployment's pod template (imagePullPolicy,
    dnsPolicy, restartPolicy, terminationGracePeriodSeconds, ...) as a core/v1 PodTemplateSpec, which a CRD
    cannot (it keeps the pod spec as written; the pods get those defaults when they are created)."""
    return {key: value for key, value in spec.items() if key != "template"}


# --- invalid specs: refused by both, in upstream's words ----------------------------------------------------

NAME_PART = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with"
LABEL_VALUE = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'"

# id: (spec fields, the field both messages name, upstream's message text, which the MiniDeployment's contains).
INVALID: dict[str, tuple[dict[str, Any], str, str]] = {
    "empty selector": ({"selector": {}}, "spec.selector", "empty selector is invalid for deployment"),
    "selector not matching the template": (
        {"selector": {"matchLabels": {"app": "db"}}},
        "spec.template.metadata.labels",
        "`selector` does not match template `labels`",
    ),
    "NotIn selector not matching the template": (
        {"selector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}},
        "spec.template.metadata.labels",
        "`selector` does not match template `labels`",
    ),
    "In requirement without values": (
        {"selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "app", "operator": "In"}]}},
        "spec.selector.matchExpressions[0].values",
        "Required value: must be specified when `operator` is 'In' or 'NotIn'",
    ),
    "bad label key in the selector": (
        {"selector": {"matchLabels": {"bad key": "web"}}, "template": template({"bad key": "web"})},
        'spec.selector.matchLabels: Invalid value: "bad key"',
        NAME_PART,
    ),
    "bad label value in the selector": (
        {"selector": {"matchLabels": {"app": "-web"}}, "template": template({"app": "-web"})},
        "spec.selector.matchLabels",
        f'Invalid value: "-web": {LABEL_VALUE}',
    ),
    "bad label key in the template": (
        {"template": template({"app": "web", "bad key": "x"})},
        "spec.template.",  # .labels upstream, .metadata.labels here: the field as the CRD's schema names it
        f'Invalid value: "bad key": {NAME_PART}',
    ),
    "maxSurge 0 and maxUnavailable 0": (
        {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}},
        "spec.strategy.rollingUpdate.maxUnavailable",
        "may not be 0 when `maxSurge` is 0",
    ),
    "maxSurge 0% and maxUnavailable 00%": (
        {"strategy": {"rollingUpdate": {"maxSurge": "0%", "maxUnavailable": "00%"}}},
        "spec.strategy.rollingUpdate.maxUnavailable",
        "may not be 0 when `maxSurge` is 0",
    ),
    "maxSurge 0 and maxUnavailable not a number": (
        {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "abc"}}},
        "spec.strategy.rollingUpdate.maxUnavailable",
        "may not be 0 when `maxSurge` is 0",  # besides the percent error: "abc" counts as 0 upstream
    ),
    "maxSurge abc": (
        {"strategy": {"rollingUpdate": {"maxSurge": "abc"}}},
        'spec.strategy.rollingUpdate.maxSurge: Invalid value: "abc"',
        PERCENT_MESSAGE,
    ),
    "maxSurge a number as a string": (
        {"strategy": {"rollingUpdate": {"maxSurge": "5"}}},
        'spec.strategy.rollingUpdate.maxSurge: Invalid value: "5"',
        PERCENT_MESSAGE,
    ),
    "maxSurge negative": (
        {"strategy": {"rollingUpdate": {"maxSurge": -1}}},
        "spec.strategy.rollingUpdate.maxSurge: Invalid value: -1",
        "must be greater than or equal to 0",
    ),
    "maxUnavailable 120%": (
        {"strategy": {"rollingUpdate": {"maxUnavailable": "120%"}}},
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "120%"',
        "must not be greater than 100%",
    ),
    "maxUnavailable beyond int64": (
        {"strategy": {"rollingUpdate": {"maxUnavailable": "99999999999999999999999%"}}},
        "spec.strategy.rollingUpdate.maxUnavailable",
        "must not be greater than 100%",
    ),
    "rollingUpdate with Recreate": (
        {"strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}},
        "spec.strategy.rollingUpdate",
        "Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ),
    "empty rollingUpdate with Recreate": (
        {"strategy": {"type": "Recreate", "rollingUpdate": {}}},
        "spec.strategy.rollingUpdate",
        "Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ),
    "unknown strategy type": (
        {"strategy": {"type": "BlueGreen"}},
        "spec.strategy",  # .type here; upstream prints the whole strategy struct as the value
        'supported values: "Recreate", "RollingUpdate"',
    ),
    "negative replicas": ({"replicas": -1}, "spec.replicas: Invalid value: -1", "must be greater than or equal to 0"),
    "negative minReadySeconds": (
        {"minReadySeconds": -1},
        "spec.minReadySeconds: Invalid value: -1",
        "must be greater than or equal to 0",
    ),
    "negative revisionHistoryLimit": (
        {"revisionHistoryLimit": -1},
        "spec.revisionHistoryLimit: Invalid value: -1",
        "must be greater than or equal to 0",
    ),
    "negative progressDeadlineSeconds": (
        {"progressDeadlineSeconds": -1},
        "spec.progressDeadlineSeconds: Invalid value: -1",
        "must be greater than or equal to 0",
    ),
    "progressDeadlineSeconds equal to minReadySeconds": (
        {"minReadySeconds": 10, "progressDeadlineSeconds": 10},
        "spec.progressDeadlineSeconds",
        "must be greater than minReadySeconds",
    ),
    "minReadySeconds at the default progressDeadlineSeconds": (
        {"minReadySeconds": 600},
        "spec.progressDeadlineSeconds",
        "must be greater than minReadySeconds",
    ),
    "container name not a DNS label": (
        {"template": {**TEMPLATE, "spec": {"containers": [{"name": "Not_A_DNS_Label", "image": "x"}]}}},
        "spec.template.spec.containers[0].name",
        # upstream: "a lowercase RFC 1123 label must consist of ... (regex used for validation is '...')";
        # the CRD's schema pattern reports the same regex (see DNS1123_LABEL_PATTERN in operators/api/meta.py)
        "[a-z0-9]([-a-z0-9]*[a-z0-9])?",
    ),
    "restartPolicy Never": (
        {"template": template(restartPolicy="Never")},
        "spec.template.spec.restartPolicy",
        'Unsupported value: "Never": supported values: "Always"',
    ),
    "activeDeadlineSeconds": (
        {"template": template(activeDeadlineSeconds=30)},
        "spec.template.spec.activeDeadlineSeconds",
        "Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported",
    ),
}


@pytest.mark.parametrize(("spec", "field", "message"), INVALID.values(), ids=INVALID.keys())
async def test_invalid_specs_are_refused_as_apps_v1_does(
    kube: KubeClient, namespace: str, spec: dict[str, Any], field: str, message: str
) -> None:
    """ValidateDeploymentSpec, ValidateDeploymentStrategy, ValidateRollingUpdateDeployment: the Deployment
    shows what upstream says, the MiniDeployment says it too, about the same field."""
    for kind in KINDS:
        with pytest.raises(ApiError) as refused:
            await dry_run(kube, namespace, manifest(kind, **spec))
        assert refused.value.status == 422, f"{kind}: {refused.value}"
        assert field in refused.value.message, f"{kind}: {refused.value.message}"
        assert message in refused.value.message, f"{kind}: {refused.value.message}"


# --- valid edge cases: accepted by both, and defaulted alike ----------------------------------------------

VALID: dict[str, dict[str, Any]] = {
    "minimal": {},
    "zero replicas": {"replicas": 0},
    "maxSurge 0 with maxUnavailable 1": {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}},
    "maxSurge 0% with maxUnavailable 1%": {"strategy": {"rollingUpdate": {"maxSurge": "0%", "maxUnavailable": "1%"}}},
    "maxUnavailable 100%": {"strategy": {"rollingUpdate": {"maxUnavailable": "100%"}}},
    "maxUnavailable 0 with the default maxSurge": {"strategy": {"rollingUpdate": {"maxUnavailable": 0}}},
    "maxSurge over 100%": {"strategy": {"rollingUpdate": {"maxSurge": "200%"}}},
    "maxSurge as a large integer": {"strategy": {"rollingUpdate": {"maxSurge": 1000}}},
    "leading zeros": {"strategy": {"rollingUpdate": {"maxSurge": "007%", "maxUnavailable": "0100%"}}},
    "only maxSurge": {"strategy": {"rollingUpdate": {"maxSurge": 1}}},
    "Recreate": {"strategy": {"type": "Recreate"}},
    "no revision history": {"revisionHistoryLimit": 0},
    "minReadySeconds just under the deadline": {"minReadySeconds": 599},
    "progressDeadlineSeconds 1": {"progressDeadlineSeconds": 1},
    "paused": {"paused": True},
    "Exists selector": {"selector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]}},
    "selector on a subset of the labels": {"template": template({"app": "web", "tier": "frontend"})},
}


@pytest.mark.parametrize("spec", VALID.values(), ids=VALID.keys())
async def test_valid_edge_cases_are_accepted_and_defaulted_as_apps_v1_does(
    kube: KubeClient, namespace: str, spec: dict[str, Any]
) -> None:
    deployment = await dry_run(kube, namespace, manifest("Deployment", **spec))
    mini = await dry_run(kube, namespace, manifest("MiniDeployment", **spec))
    assert without_template(mini["spec"]) == with_go_zero_values(without_template(deployment["spec"]))


async def test_minimal_minideployment_reads_back_with_a_minimal_deployments_defaults(
    kube: KubeClient, namespace: str
) -> None:
    """DP-05, SetDefaults_Deployment: replicas 1, RollingUpdate 25%/25%, revisionHistoryLimit 10,
    progressDeadlineSeconds 600, on objects stored and read back (defaults also apply on read)."""
    stored = {}
    for kind in KINDS:
        await kube.create(collection(kind, namespace), manifest(kind, name="minimal", replicas=0))
        stored[kind] = (await kube.get(f"{collection(kind, namespace)}/minimal"))["spec"]
    assert without_template(stored["MiniDeployment"]) == with_go_zero_values(without_template(stored["Deployment"]))
    assert stored["MiniDeployment"] == {
        "replicas": 0,
        "selector": {"matchLabels": {"app": "web"}},
        "template": TEMPLATE,  # as written: see without_template
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        "minReadySeconds": 0,
        "revisionHistoryLimit": 10,
        "paused": False,
        "progressDeadlineSeconds": 600,
    }


@pytest.mark.parametrize("strategy", [{}, {"type": "RollingUpdate"}], ids=["empty", "type only"])
async def test_a_strategy_without_rolling_update_is_the_one_default_a_crd_cannot_write(
    kube: KubeClient, namespace: str, strategy: dict[str, Any]
) -> None:
    """SetDefaults_Deployment adds rollingUpdate when the type is RollingUpdate; a structural default cannot
    depend on a sibling, so the MiniDeployment keeps the strategy as written and its controller reads the
    missing block as 25%/25% (operators.api.deployment.DeploymentStrategy explains the choice)."""
    deployment = await dry_run(kube, namespace, manifest("Deployment", strategy=strategy))
    mini = await dry_run(kube, namespace, manifest("MiniDeployment", strategy=strategy))
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    assert mini["spec"]["strategy"] == {"type": "RollingUpdate"}


# --- updates ---------------------------------------------------------------------------------------------


async def test_deployment_selector_immutability(kube: KubeClient, namespace: str) -> None:
    """TestDeploymentSelectorImmutability (test/integration/deployment): for apps/v1, changing the selector
    (and the template labels with it) is refused with "Invalid value" ... "field is immutable"; other spec
    changes go through."""
    for kind in KINDS:
        path = f"{collection(kind, namespace)}/immutable"
        await kube.create(collection(kind, namespace), manifest(kind, name="immutable", replicas=0))
        # A patch, not a GET-then-PUT: the controller writes the object meanwhile (its status, its revision),
        # and a PUT carrying the version read would then fail with 409 Conflict before validation.
        new_labels = {"name_apps_v1": "test_apps_v1"}
        change = {"spec": {"selector": {"matchLabels": new_labels}, "template": {"metadata": {"labels": new_labels}}}}
        with pytest.raises(ApiError) as refused:
            await kube.patch(path, change)
        assert refused.value.status == 422, kind
        assert "spec.selector: Invalid value" in refused.value.message, refused.value.message
        assert "field is immutable" in refused.value.message, refused.value.message
        scaled = await kube.patch(path, {"spec": {"replicas": 2, "minReadySeconds": 5}})
        assert (scaled["spec"]["replicas"], scaled["spec"]["minReadySeconds"]) == (2, 5)
        assert scaled["spec"]["selector"] == {"matchLabels": {"app": "web"}}


# --- kubectl: columns, scale, explain --------------------------------------------------------------------


def apply(cluster: Cluster, namespace: str, body: dict[str, Any]) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(body))


def header(cluster: Cluster, namespace: str, *args: str) -> list[str]:
    return cluster.kubectl("get", *args, "-n", namespace).stdout.splitlines()[0].split()


def test_kubectl_get_prints_the_deployment_columns(cluster: Cluster, namespace: str) -> None:
    """`kubectl get md` and `kubectl get deploy` print the same header, with and without -o wide (no
    controller runs here, so the MiniDeployment's status columns are empty; the headers are the point)."""
    for kind in KINDS:
        apply(cluster, namespace, manifest(kind, name="columns", replicas=0))
    assert header(cluster, namespace, "md") == header(cluster, namespace, "deploy")
    assert header(cluster, namespace, "md") == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    wide = header(cluster, namespace, "md", "-o", "wide")
    assert wide == header(cluster, namespace, "deploy", "-o", "wide")
    assert wide[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]


async def test_kubectl_scale_goes_through_the_scale_subresource(
    cluster: Cluster, kube: KubeClient, namespace: str
) -> None:
    apply(cluster, namespace, manifest("MiniDeployment", name="scaled", replicas=1))
    cluster.kubectl("scale", "-n", namespace, "md/scaled", "--replicas=5")
    path = f"{collection('MiniDeployment', namespace)}/scaled"
    assert (await kube.get(path))["spec"]["replicas"] == 5
    scale = await kube.get(f"{path}/scale")
    assert (scale["kind"], scale["spec"]["replicas"]) == ("Scale", 5)


def explained_fields(cluster: Cluster, resource: str) -> str:
    """The FIELDS part of `kubectl explain`, with the Go type names a CRD cannot have (`<IntOrString>`,
    `<RollingUpdateDeployment>`) read as the `<Object>` kubectl shows for a CRD's untyped or object field."""
    explained = cluster.kubectl("explain", resource).stdout
    fields = explained[explained.index("FIELDS:") :]
    return re.sub(r"<(IntOrString|[A-Z][A-Za-z]+)>", "<Object>", fields)


def test_kubectl_explain_teaches_the_strategy(cluster: Cluster) -> None:
    explained = cluster.kubectl("explain", "md.spec.strategy").stdout
    assert "KIND:       MiniDeployment" in explained
    assert "rollingUpdate\t<Object>" in explained
    assert "enum: Recreate, RollingUpdate" in explained
    assert 'Type of deployment. Can be "Recreate" or "RollingUpdate". Default is' in explained
    # The rollingUpdate fields read word for word as a Deployment's.
    rolling = explained_fields(cluster, "md.spec.strategy.rollingUpdate")
    assert rolling == explained_fields(cluster, "deploy.spec.strategy.rollingUpdate")
    assert "This can not be 0 if MaxUnavailable is 0." in rolling
