"""The pure parts of the API client: request labels and ApiError's classification (no network)."""

from __future__ import annotations

import pytest
from kubernetes_asyncio.client import Configuration

from operators.runtime.client import ApiError, _PlainJsonApiClient, _resource_of, decode_answer


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/api/v1/namespaces/x/pods", "pods"),
        ("/api/v1/namespaces/x/pods/y", "pods"),
        ("/api/v1/namespaces/x/pods/y/status", "pods/status"),
        ("/api/v1/namespaces/x/pods?labelSelector=app%3Dweb", "pods"),
        ("/apis/minik8s.dev/v1/namespaces/x/minireplicasets/y/status", "minireplicasets/status"),
        ("/apis/minik8s.dev/v1/namespaces/x/minireplicasets/y/scale", "minireplicasets/scale"),
        ("/apis/apps/v1/namespaces/x/replicasets", "replicasets"),
        ("/api/v1/namespaces/x/events", "events"),
        ("/api/v1/namespaces", "namespaces"),
        ("/api/v1/namespaces/x", "namespaces"),
        ("/api/v1/nodes", "nodes"),
        ("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/z", "customresourcedefinitions"),
        ("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/z/status", "customresourcedefinitions/status"),
        ("/api/v1/namespaces/namespaces/pods/namespaces", "pods"),  # objects named like the segment
    ],
)
def test_resource_of(path: str, resource: str) -> None:
    assert _resource_of(path) == resource


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/api/v1/namespaces/x/status", "namespaces/status"),
        ("/api/v1/namespaces/x/finalize", "namespaces/finalize"),
    ],
)
def test_resource_of_namespace_subresource(path: str, resource: str) -> None:
    assert _resource_of(path) == resource


def test_api_error_classification() -> None:
    assert ApiError(404, "NotFound", 'pods "a" not found').not_found
    assert ApiError(409, "Conflict", "the object has been modified").conflict
    assert ApiError(409, "AlreadyExists", 'pods "a" already exists').conflict
    assert ApiError(422, "Invalid", "spec.replicas: Invalid value").invalid
    for status in (400, 403, 404, 409, 422, 500):
        error = ApiError(status, "", "")
        assert error.not_found == (status == 404)
        assert error.conflict == (status == 409)
        assert error.invalid == (status == 422)
        assert not error.namespace_terminating


def test_api_error_namespace_terminating() -> None:
    message = 'pods "web-x" is forbidden: unable to create new content in namespace ns because it is being terminated'
    assert ApiError(403, "Forbidden", message).namespace_terminating
    assert not ApiError(403, "Forbidden", 'pods "web-x" is forbidden: exceeded quota').namespace_terminating
    assert not ApiError(409, "Conflict", message).namespace_terminating, "only a 403 Forbidden counts"


def test_api_error_str() -> None:
    assert str(ApiError(409, "Conflict", "the object has been modified")) == "the object has been modified"
    error = ApiError(500, "Internal Server Error", "", method="GET", path="/api/v1/namespaces/x/pods")
    assert str(error) == "GET /api/v1/namespaces/x/pods: HTTP 500 Internal Server Error"
    with pytest.raises(ApiError) as caught:
        raise error
    assert caught.value.status == 500


def test_an_answer_that_is_not_json_is_an_api_error_with_its_text() -> None:
    """The API server answers a path it does not serve (a CRD not installed) with a plain-text 404: the
    caller gets ApiError(404) saying so, as client-go's "the server could not find the requested resource"."""
    with pytest.raises(ApiError) as raised:
        decode_answer(404, "Not Found", b"404 page not found\n", method="POST", path="/apis/minik8s.dev/v1/x")
    assert raised.value.not_found and raised.value.message == "404 page not found"
    with pytest.raises(ApiError, match="not JSON"):
        decode_answer(200, "OK", b"<html>", method="GET", path="/api/v1/pods")


def test_a_status_answer_gives_its_reason_and_message() -> None:
    body = b'{"kind":"Status","reason":"AlreadyExists","message":"pods \\"a\\" already exists","code":409}'
    with pytest.raises(ApiError) as raised:
        decode_answer(409, "Conflict", body)
    assert (raised.value.reason, raised.value.message) == ("AlreadyExists", 'pods "a" already exists')
    assert decode_answer(200, "OK", b'{"kind":"Pod"}') == {"kind": "Pod"}
    assert decode_answer(200, "OK", b"") == {}


async def test_bodies_are_sent_as_they_are() -> None:
    """The runtime's bodies are JSON already: kubernetes_asyncio's walk over every element (to turn its model
    classes into dicts) is skipped, and the very object goes to json.dumps."""
    body = {"endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": True}}] * 100}
    api = _PlainJsonApiClient(Configuration())
    try:
        assert api.sanitize_for_serialization(body) is body
    finally:
        await api.close()
