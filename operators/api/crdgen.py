"""Generate the CustomResourceDefinitions in crds/ from the pydantic models (`--check`: verify them).

Pydantic's `model_json_schema()` is JSON Schema; a CRD wants a *structural* OpenAPI v3 schema.
`structural_schema` bridges the two in one recursive pass over each node:

- `$ref` → the referenced model inlined (keys beside the `$ref`, such as a field's description, win);
- `anyOf: [T, null]` (an `Optional` field) → just T: an optional field is omitted, never null;
- `title`, `default: null` and `additionalProperties: false` → dropped;
- `additionalProperties: true` (`extra="allow"`, `dict[str, Any]`) → `x-kubernetes-preserve-unknown-fields`;
- `const` → a one-value `enum`; `x-kubernetes-*` extras (CEL rules, list types) are kept as they are;
- descriptions → Go-doc wrapped lines joined into paragraphs, as upstream's OpenAPI has them.

Usage: `python -m operators.api.crdgen` writes crds/ and the Helm chart's copy, charts/mini-operators/crds/
(Helm installs a chart's crds/ verbatim); `python -m operators.api.crdgen --check` exits 1 when either does not
match the models.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from operators.api import KINDS
from operators.api.crdinfo import GROUP, VERSION
from operators.api.meta import CustomResource

__all__ = [
    "CHART_CRDS_DIR",
    "CRDS_DIR",
    "all_crds",
    "check",
    "crd_for",
    "filename",
    "render",
    "structural_schema",
    "write",
]

CRDS_DIR = Path(__file__).resolve().parents[2] / "crds"
CHART_CRDS_DIR = Path(__file__).resolve().parents[2] / "charts" / "mini-operators" / "crds"
HEADER = "# Generated from operators/api by `python -m operators.api.crdgen`: edit the models, not this file.\n"

Schema = dict[str, Any]

# The root fields every kind shares, with the descriptions of upstream TypeMeta.
_TYPE_META: Schema = {
    "apiVersion": {
        "type": "string",
        "description": "APIVersion defines the versioned schema of this representation of an object. Servers "
        "should convert recognized schemas to the latest internal value, and may reject unrecognized values. "
        "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    },
    "kind": {
        "type": "string",
        "description": "Kind is a string value representing the REST resource this object represents. Servers "
        "may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. "
        "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    },
    "metadata": {"type": "object"},
}


def structural_schema(model: type[BaseModel]) -> Schema:
    """The model's JSON Schema turned into a structural OpenAPI v3 schema (see the module docstring)."""
    schema = model.model_json_schema(by_alias=True)
    definitions = schema.pop("$defs", {})
    return _convert(schema, definitions)


def _convert(node: Schema, definitions: dict[str, Schema]) -> Schema:
    node = dict(node)
    if "$ref" in node:
        referenced = definitions[node.pop("$ref").removeprefix("#/$defs/")]
        return _convert(_merge(referenced, node), definitions)
    if "anyOf" in node:
        variants = [variant for variant in node.pop("anyOf") if variant != {"type": "null"}]
        if node.get("default", ...) is None:
            del node["default"]
        if node.get("x-kubernetes-int-or-string"):
            variants = []  # int | str: the extension itself says which types are allowed
        if len(variants) > 1:
            raise ValueError(f"a CRD schema cannot express the union {variants}")
        if variants:
            return _convert(_merge(variants[0], node), definitions)
    node.pop("title", None)
    if "const" in node:
        node["enum"] = [node.pop("const")]
    extra = node.pop("additionalProperties", False)
    if extra is True:
        node["x-kubernetes-preserve-unknown-fields"] = True
    elif isinstance(extra, dict):
        node["additionalProperties"] = _convert(extra, definitions)
    if "properties" in node:
        node["properties"] = {name: _convert(prop, definitions) for name, prop in node["properties"].items()}
    if "items" in node:
        node["items"] = _convert(node["items"], definitions)
    if "description" in node:
        node["description"] = _reflow(node["description"])
    return node


def _merge(base: Schema, overrides: Schema) -> Schema:
    """`base` updated by `overrides`, except that the CEL rules of both are kept (base's first)."""
    merged = {**base, **overrides}
    rules = base.get("x-kubernetes-validations", []) + overrides.get("x-kubernetes-validations", [])
    if rules:
        merged["x-kubernetes-validations"] = rules
    return merged


def _reflow(text: str) -> str:
    """Join the wrapped lines of each paragraph, as upstream's generated OpenAPI descriptions do."""
    paragraphs = [" ".join(line.strip() for line in paragraph.splitlines()) for paragraph in text.split("\n\n")]
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def crd_for(resource: type[CustomResource]) -> dict[str, Any]:
    """The apiextensions.k8s.io/v1 CustomResourceDefinition of one kind, as a dict ready to apply."""
    info = resource.crd
    schema = structural_schema(resource)
    # At the root, apiVersion and kind are plain strings and metadata is the API server's ObjectMeta.
    root = schema["properties"]
    root.update(copy.deepcopy(_TYPE_META))
    names: dict[str, Any] = {
        "kind": info.kind,
        "listKind": f"{info.kind}List",
        "plural": info.plural,
        "singular": info.singular,
    }
    if info.short_names:
        names["shortNames"] = list(info.short_names)
    if info.categories:
        names["categories"] = list(info.categories)
    version: dict[str, Any] = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": schema},
    }
    subresources: dict[str, Any] = {}
    if info.status_subresource:
        subresources["status"] = {}
    if info.scale is not None:
        subresources["scale"] = info.scale.to_dict()
    if subresources:
        version["subresources"] = subresources
    if info.printer_columns:
        version["additionalPrinterColumns"] = [column.to_dict() for column in info.printer_columns]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": info.name},
        "spec": {"group": GROUP, "names": names, "scope": info.scope, "versions": [version]},
    }


def all_crds() -> list[dict[str, Any]]:
    """The CRD of every registered kind (operators.api.KINDS), in registration order."""
    return [crd_for(resource) for resource in KINDS]


def filename(resource: type[CustomResource]) -> str:
    """The file in crds/ that holds a kind's CRD: `<plural>.<group>.yaml`."""
    return f"{resource.crd.name}.yaml"


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings (paragraphed descriptions, CEL rules) as `|` blocks, and every schema node
    in full where it is used: no `&id001` anchors for the definitions ingress and egress share."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def render(crd: dict[str, Any]) -> str:
    """Deterministic YAML for a CRD: keys sorted, long lines folded, a header saying not to edit it."""
    return HEADER + yaml.dump(crd, Dumper=_Dumper, sort_keys=True, width=100, allow_unicode=True)


def write(directory: Path = CRDS_DIR) -> list[Path]:
    """Write every registered kind's CRD into `directory`; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for resource in KINDS:
        path = directory / filename(resource)
        path.write_text(render(crd_for(resource)), encoding="utf-8")
        written.append(path)
    return written


def check(directory: Path = CRDS_DIR) -> list[str]:
    """What differs between `directory` and the models: one message per stale, missing or extra file."""
    problems = []
    expected = {filename(resource): render(crd_for(resource)) for resource in KINDS}
    for name, text in expected.items():
        path = directory / name
        if not path.exists():
            problems.append(f"{path}: missing")
        elif (actual := path.read_text(encoding="utf-8")) != text:
            diff = difflib.unified_diff(
                actual.splitlines(keepends=True), text.splitlines(keepends=True), f"{path}", "models"
            )
            problems.append(f"{path}: out of date with the models:\n{''.join(diff)}")
    for path in sorted(directory.glob(f"*.{GROUP}.yaml")):
        if path.name not in expected:
            problems.append(f"{path}: no registered kind generates it (see operators.api.KINDS)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m operators.api.crdgen", description="Generate crds/ from the models."
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the CRD files differ from the models")
    parser.add_argument(
        "--dir", type=Path, help=f"CRD directory (default: {CRDS_DIR} and the chart's copy, {CHART_CRDS_DIR})"
    )
    args = parser.parse_args(argv)
    directories = [args.dir] if args.dir else [CRDS_DIR, CHART_CRDS_DIR]
    if args.check:
        problems = [problem for directory in directories for problem in check(directory)]
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("crds/ (or the chart's copy) is out of date: run `python -m operators.api.crdgen`", file=sys.stderr)
        return 1 if problems else 0
    for directory in directories:
        for path in write(directory):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
