"""The generated CRDs against the real API server: dry-run, CEL rules, defaults, explain, printer columns."""

from __future__ import annotations

import json
from typing import Any

import pytest

from operators.api.crdgen import all_crds
from operators.devcluster.cluster import Cluster
from operators.runtime.client import ApiError, KubeClient

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("crds")]


@pytest.mark.parametrize("crd", all_crds(), ids=lambda crd: crd["metadata"]["name"])
async def test_every_generated_crd_passes_server_side_dry_run(kube: KubeClient, crd: dict[str, Any]) -> None:
    path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}"
    applied = await kube.request(
        "PATCH",
        path,
        body=crd,  # JSON is YAML: the apply patch takes it as is
        content_type="application/apply-patch+yaml",
        query={"dryRun": "All", "fieldManager": "mini-operators-test", "force": "true"},
    )
    assert applied["spec"]["versions"][0]["schema"] == crd["spec"]["versions"][0]["schema"]


def mrs(selector: dict[str, Any], template_labels: dict[str, str], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "minik8s.dev/v1",
        "kind": "MiniReplicaSet",
        "metadata": {"name": "probe"},
        "spec": {
            "selector": selector,
            "template": {
                "metadata": {"labels": template_labels},
                "spec": {"containers": [{"name": "c", "image": "fakeimage"}]},
            },
            **spec,
        },
    }


async def dry_run(kube: KubeClient, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    path = f"/apis/minik8s.dev/v1/namespaces/{namespace}/minireplicasets"
    return await kube.request("POST", path, body=body, query={"dryRun": "All"})


async def test_defaults_replicas_and_min_ready_seconds(kube: KubeClient, namespace: str) -> None:
    created = await dry_run(kube, namespace, mrs({"matchLabels": {"a": "b"}}, {"a": "b"}))
    assert created["spec"]["replicas"] == 1 and created["spec"]["minReadySeconds"] == 0


@pytest.mark.parametrize(
    ("selector", "labels", "accepted"),
    [
        ({"matchLabels": {"a": "b"}}, {"a": "b", "extra": "x"}, True),
        ({"matchLabels": {"a": "b"}}, {"a": "c"}, False),
        ({"matchLabels": {"a": ""}}, {"a": ""}, True),
        ({"matchLabels": {"a": ""}}, {"b": "x"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["x", "y"]}]}, {"a": "y"}, True),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["x"]}]}, {"a": "z"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["x"]}]}, {"b": "x"}, True),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["x"]}]}, {"a": "x"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": "1"}, True),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": "1"}, False),
    ],
)
async def test_selector_must_match_template_labels(
    kube: KubeClient, namespace: str, selector: dict[str, Any], labels: dict[str, str], accepted: bool
) -> None:
    """RS-25: ValidateReplicaSetSpec's `selector` does not match template `labels`, as a CEL rule."""
    if accepted:
        await dry_run(kube, namespace, mrs(selector, labels))
        return
    with pytest.raises(ApiError) as refused:
        await dry_run(kube, namespace, mrs(selector, labels))
    assert refused.value.status == 422
    assert "`selector` does not match template `labels`" in refused.value.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (mrs({}, {"a": "b"}), "empty selector is invalid"),
        (mrs({"matchLabels": {"a": "b"}}, {"a": "b"}, replicas=-1), "should be greater than or equal to 0"),
        (mrs({"matchExpressions": [{"key": "a", "operator": "In"}]}, {"a": "b"}), "must be specified"),
        (
            mrs({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, {"a": "b"}),
            "may not be specified",
        ),
    ],
)
async def test_invalid_specs_are_refused_with_upstream_messages(
    kube: KubeClient, namespace: str, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(ApiError) as refused:
        await dry_run(kube, namespace, body)
    assert refused.value.status == 422 and message in refused.value.message


# --- Label keys and values: the MiniReplicaSet refuses what apps/v1 ReplicaSet refuses ---------------------

A63 = "a" * 63
PREFIX_253 = ".".join(["p" * 63] * 3 + ["q" * 61])  # a DNS subdomain of exactly 253 characters
KEY_317 = f"{PREFIX_253}/{A63}"  # the longest label key
NAME_PART = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must"
VALUE_PATTERN = "in body should match '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$'"


def replicaset(selector: dict[str, Any], template_labels: dict[str, str]) -> dict[str, Any]:
    """The apps/v1 ReplicaSet with the same selector and template labels as `mrs(...)`."""
    return mrs(selector, template_labels) | {"apiVersion": "apps/v1", "kind": "ReplicaSet"}


async def dry_run_replicaset(kube: KubeClient, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    path = f"/apis/apps/v1/namespaces/{namespace}/replicasets"
    return await kube.request("POST", path, body=body, query={"dryRun": "All"})


def match_labels(key: str, value: str = "x") -> tuple[dict[str, Any], dict[str, str]]:
    """A selector `key=value` and template labels that it selects."""
    return {"matchLabels": {key: value}}, {key: value}


def requirement(key: str, operator: str, *values: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A selector of one requirement, and template labels `a=b` that it selects (NotIn, DoesNotExist)."""
    expression: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        expression["values"] = list(values)
    return {"matchExpressions": [expression]}, {"a": "b"}


# (selector and template labels, our error, apps/v1's error): one invalid key or value each.
INVALID_LABELS = {
    "matchLabels key with bad characters": (
        match_labels("bad key"),
        f'spec.selector.matchLabels: Invalid value: "bad key": {NAME_PART}',
        f'spec.selector.matchLabels: Invalid value: "bad key": {NAME_PART}',
    ),
    "matchLabels key with an empty name part": (
        match_labels("example.com/"),
        'spec.selector.matchLabels: Invalid value: "example.com/": name part must be non-empty',
        "name part must be non-empty",
    ),
    "matchLabels key with an empty prefix": (
        match_labels("/app"),
        'spec.selector.matchLabels: Invalid value: "/app": prefix part must be non-empty',
        "prefix part must be non-empty",
    ),
    "matchLabels key with a 254-character prefix": (
        match_labels(f"p{PREFIX_253}/app"),
        "prefix part must be no more than 253 bytes",
        "prefix part must be no more than 253 bytes",
    ),
    "matchLabels key with an uppercase prefix": (
        match_labels("Example.com/app"),
        'Invalid value: "Example.com/app": prefix part a lowercase RFC 1123 subdomain must consist of',
        "prefix part a lowercase RFC 1123 subdomain must consist of",
    ),
    "matchLabels key with two slashes": (
        match_labels("a/b/c"),
        'Invalid value: "a/b/c": a valid label key must consist of alphanumeric characters',
        "a valid label key must consist of alphanumeric characters",
    ),
    "matchLabels key with a 64-character name part": (
        match_labels("a" * 64),
        "name part must be no more than 63 bytes",
        "name part must be no more than 63 bytes",
    ),
    "matchLabels value of 64 characters": (
        match_labels("app", "v" * 64),
        "spec.selector.matchLabels.app: Too long: may not be more than 63 bytes",
        f'spec.selector.matchLabels: Invalid value: "{"v" * 64}": must be no more than 63 bytes',
    ),
    "matchLabels value with bad characters": (
        match_labels("app", "-web"),
        f'spec.selector.matchLabels[app]: Invalid value: "-web": {VALUE}',
        f'Invalid value: "-web": {VALUE}',
    ),
    "matchExpressions key with bad characters": (
        requirement("bad key", "DoesNotExist"),
        f'spec.selector.matchExpressions[0].key: Invalid value: "bad key": {NAME_PART}',
        f'spec.selector.matchExpressions[0].key: Invalid value: "bad key": {NAME_PART}',
    ),
    "matchExpressions key empty": (
        requirement("", "DoesNotExist"),
        'spec.selector.matchExpressions[0].key: Invalid value: "": name part must be non-empty',
        'spec.selector.matchExpressions[0].key: Invalid value: "": name part must be non-empty',
    ),
    "matchExpressions value with bad characters": (
        requirement("a", "NotIn", "web", "-web"),
        f'spec.selector.matchExpressions[0].values[1]: Invalid value: "-web": '
        f"spec.selector.matchExpressions[0].values[1] {VALUE_PATTERN}",
        f'spec.selector.matchExpressions[0].values[1]: Invalid value: "-web": {VALUE}',
    ),
    "matchExpressions value of 64 characters": (
        requirement("a", "NotIn", "v" * 64),
        "spec.selector.matchExpressions[0].values[0]: Too long: may not be more than 63 bytes",
        f'spec.selector.matchExpressions[0].values[0]: Invalid value: "{"v" * 64}": must be no more than 63 bytes',
    ),
    "template label key with bad characters": (
        ({"matchLabels": {"a": "b"}}, {"a": "b", "bad key": "x"}),
        f'spec.template.metadata.labels: Invalid value: "bad key": {NAME_PART}',
        f'spec.template.labels: Invalid value: "bad key": {NAME_PART}',
    ),
    "template label value with bad characters": (
        ({"matchLabels": {"a": "b"}}, {"a": "b", "tier": "front end"}),
        f'spec.template.metadata.labels[tier]: Invalid value: "front end": {VALUE}',
        f'spec.template.labels: Invalid value: "front end": {VALUE}',
    ),
}


@pytest.mark.parametrize(("labels", "ours", "upstream"), INVALID_LABELS.values(), ids=INVALID_LABELS.keys())
async def test_invalid_label_keys_and_values_are_refused_as_apps_v1_does(
    kube: KubeClient, namespace: str, labels: tuple[dict[str, Any], dict[str, str]], ours: str, upstream: str
) -> None:
    """ValidateLabelSelector and ValidateLabels (IsQualifiedName, IsValidLabelValue), as CEL rules: the field
    named as apps/v1 names it, mostly in apps/v1's words (see operators.api.meta for where they differ)."""
    with pytest.raises(ApiError) as refused_upstream:
        await dry_run_replicaset(kube, namespace, replicaset(*labels))
    assert refused_upstream.value.status == 422 and upstream in refused_upstream.value.message
    with pytest.raises(ApiError) as refused:
        await dry_run(kube, namespace, mrs(*labels))
    assert refused.value.status == 422 and ours in refused.value.message


VALID_LABELS = {
    "63-character value": match_labels("app", A63),
    "prefixed key": match_labels("example.com/app", "web"),
    "empty value": match_labels("app", ""),
    "253-character prefix and 63-character name": match_labels(KEY_317),
    "uppercase, underscores and dots": match_labels("Uppercase_Is_OK_123", "My_Value.1"),
    "numeric prefix and name": match_labels("1.2.3.4/5678", "1234"),
    "requirement on the longest key": ({"matchExpressions": [{"key": KEY_317, "operator": "Exists"}]}, {KEY_317: ""}),
    "requirement values at the edges": requirement("a", "NotIn", "", A63, "x"),
    "256 template labels": ({"matchLabels": {"k0": "v"}}, {f"k{i}": "v" for i in range(256)}),
}


@pytest.mark.parametrize("labels", VALID_LABELS.values(), ids=VALID_LABELS.keys())
async def test_valid_label_edge_cases_are_accepted_as_apps_v1_does(
    kube: KubeClient, namespace: str, labels: tuple[dict[str, Any], dict[str, str]]
) -> None:
    await dry_run_replicaset(kube, namespace, replicaset(*labels))
    await dry_run(kube, namespace, mrs(*labels))


async def test_label_maps_are_bounded_where_apps_v1_is_not(kube: KubeClient, namespace: str) -> None:
    """The one divergence: at most 256 labels in matchLabels and in the template, which keeps the CEL rules
    within the API server's cost budget (operators.api.meta.MAX_LABELS)."""
    labels = {f"k{i}": "v" for i in range(257)}
    await dry_run_replicaset(kube, namespace, replicaset({"matchLabels": labels}, labels))
    with pytest.raises(ApiError) as refused:
        await dry_run(kube, namespace, mrs({"matchLabels": labels}, labels))
    assert refused.value.status == 422
    for field in ("spec.selector.matchLabels", "spec.template.metadata.labels"):
        assert f"{field}: Too many: 257: must have at most 256 items" in refused.value.message


def test_kubectl_explain_teaches_the_selector(cluster: Cluster) -> None:
    explained = cluster.kubectl("explain", "minireplicaset.spec.selector").stdout
    assert "KIND:       MiniReplicaSet" in explained
    assert "matchLabels" in explained and "matchExpressions" in explained
    assert "label query over pods that should match the replica count" in explained


def test_kubectl_get_prints_the_replicaset_columns(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl(
        "apply", "-n", namespace, "-f", "-", stdin=json.dumps(mrs({"matchLabels": {"a": "b"}}, {"a": "b"}, replicas=0))
    )
    header = cluster.kubectl("get", "mrs", "-n", namespace).stdout.splitlines()[0].split()
    assert header == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    wide = cluster.kubectl("get", "mini", "-n", namespace, "-o", "wide").stdout.splitlines()[0].split()
    assert wide[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
