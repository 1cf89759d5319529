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
