"""kubectl explain teaches: every field of every CRD has a description, so `kubectl explain` never prints an empty one.

The walk goes wherever `kubectl explain` can go: into each property, into the items of a list and into the values
of a map. Every property needs a description, and so does every object found as a list's item or a map's value
(`kubectl explain` prints the item type's description under the field's, as it prints ObjectMeta's under
`.metadata`). A scalar item or value (`[]string`, `map[string]string`) is described by its field: kubectl explain
has nothing to show for it on its own, and upstream's OpenAPI describes none either.

The one exception is the root `metadata`, which a CRD may not describe (the API server refuses anything but
`type: object` there: "must not specify anything other than name and generateName") and for which the API server
publishes ObjectMeta with upstream's description.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from operators.docsgen.crdref import OBJECT_META_DESCRIPTION

CRDS = sorted((Path(__file__).resolve().parents[2] / "crds").glob("*.yaml"))


def described_nodes(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every node below `node` that needs a description: properties, and objects as items or map values."""
    for name, prop in node.get("properties", {}).items():
        yield f"{path}.{name}", prop
        yield from described_nodes(prop, f"{path}.{name}")
    for suffix, key in (("[]", "items"), ("{}", "additionalProperties")):
        inner = node.get(key)
        if isinstance(inner, dict):
            if "properties" in inner:
                yield f"{path}{suffix}", inner
            yield from described_nodes(inner, f"{path}{suffix}")


def root_schema(crd_file: Path) -> dict[str, Any]:
    crd = yaml.safe_load(crd_file.read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


@pytest.mark.parametrize("crd_file", CRDS, ids=lambda path: path.name)
def test_every_field_has_a_description(crd_file: Path) -> None:
    schema = root_schema(crd_file)
    assert schema.get("description", "").strip(), f"{crd_file.name}: the kind itself has no description"
    undescribed = [
        path
        for path, node in described_nodes(schema, "")
        if path != ".metadata" and not str(node.get("description", "")).strip()
    ]
    assert not undescribed, f"{crd_file.name}: fields without a description (add one in operators/api): {undescribed}"


@pytest.mark.parametrize("crd_file", CRDS, ids=lambda path: path.name)
def test_root_metadata_is_left_to_the_api_server(crd_file: Path) -> None:
    """Described by the API server, not by us: a description here would make the CRD invalid."""
    assert root_schema(crd_file)["properties"]["metadata"] == {"type": "object"}


def test_the_reference_shows_what_the_api_server_publishes_for_metadata() -> None:
    """The text `kubectl explain <kind>.metadata` prints (ObjectMeta's, from the API server), as the pages show it."""
    assert OBJECT_META_DESCRIPTION == (
        "Standard object's metadata. More info: "
        "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
    )


def test_the_walk_reaches_list_items_and_map_values() -> None:
    schema = {
        "properties": {
            "ports": {"type": "array", "items": {"type": "object", "properties": {"port": {"type": "integer"}}}},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "byName": {"type": "object", "additionalProperties": {"type": "object", "properties": {"ip": {}}}},
        }
    }
    assert [path for path, _ in described_nodes(schema, "")] == [
        ".ports",
        ".ports[]",
        ".ports[].port",
        ".labels",
        ".byName",
        ".byName{}",
        ".byName{}.ip",
    ]


def test_there_are_crds_to_check() -> None:
    assert len(CRDS) >= 4
