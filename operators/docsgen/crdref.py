"""The reference page of each custom resource: its names, its `kubectl get` columns and a table of every field.

The page is written from the very CRD `python -m operators.api.crdgen` generates from the pydantic models, so
each field's description is the one `kubectl explain` prints, and its type, default and validation are the ones
the API server enforces. Fields are walked in the models' order (kubectl explain sorts them by name): into
`properties`, into the `items` of a list (`.containers[].name`) and into the values of a map of objects
(`.matchLabels{}`); a list or map of scalars is one row, its element type in the type column.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from operators.api.crdgen import crd_for, filename
from operators.api.crdinfo import GROUP, VERSION
from operators.api.meta import CustomResource
from operators.docsgen.markdown import cell, code, generated_header, path_code, table

__all__ = ["OBJECT_META_DESCRIPTION", "Field", "fields", "page_name", "render_kind", "type_name"]

Schema = dict[str, Any]

# The root `metadata` of a CRD may say nothing but `type: object` (the API server refuses even a description:
# "must not specify anything other than name and generateName"). The API server publishes ObjectMeta there
# instead, with upstream's description, which is what `kubectl explain <kind>.metadata` prints.
OBJECT_META_DESCRIPTION = (
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


@dataclass(frozen=True)
class Field:
    """One row of a field table: the path as `kubectl explain` takes it, and the schema node there."""

    path: str
    node: Schema
    required: bool


def fields(schema: Schema, path: str = "") -> Iterator[Field]:
    """Every field below `schema`, depth first, each followed by the fields inside it."""
    required = set(schema.get("required", ()))
    for name, node in schema.get("properties", {}).items():
        field_path = f"{path}.{name}"
        yield Field(field_path, node, name in required)
        yield from _inside(node, field_path)


def _inside(node: Schema, path: str) -> Iterator[Field]:
    """The fields of an object, of a list's objects (`[]`) and of a map's object values (`{}`)."""
    yield from fields(node, path)
    if isinstance(node.get("items"), dict):
        yield from _inside(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _inside(node["additionalProperties"], f"{path}{{}}")


def type_name(node: Schema) -> str:
    """A field's type in the words of `kubectl explain`: `string`, `[]Object`, `map[string]string`, ..."""
    if node.get("x-kubernetes-int-or-string"):
        return "IntOrString"
    kind = node.get("type")
    if kind == "array":
        return "[]" + type_name(node.get("items", {}))
    if kind == "object" or (kind is None and node.get("x-kubernetes-preserve-unknown-fields")):
        values = node.get("additionalProperties")
        if isinstance(values, dict):
            return f"map[string]{type_name(values)}"
        return "Object"
    name = str(kind or "any")
    return f"{name} ({node['format']})" if "format" in node else name


# A CEL rule longer than this, or of several lines (with comments), is shown below its table, not in it.
LONG_RULE = 100


def _validation(node: Schema, path: str, long_rules: list[tuple[str, str, str]]) -> list[str]:
    """What the API server checks on a field, one line each, schema keywords first, then the CEL rules.

    A long CEL rule is appended to `long_rules` as (path, message, rule) and named by its message only.
    """
    lines = []
    if "enum" in node:
        lines.append("one of " + ", ".join(code(json.dumps(value)) for value in node["enum"]))
    for keyword, words in (
        ("minimum", "minimum"),
        ("maximum", "maximum"),
        ("minLength", "at least {} characters"),
        ("maxLength", "at most {} characters"),
        ("minItems", "at least {} items"),
        ("maxItems", "at most {} items"),
        ("minProperties", "at least {} entries"),
        ("maxProperties", "at most {} entries"),
    ):
        if keyword in node:
            value = node[keyword]
            lines.append(words.format(value) if "{}" in words else f"{words} {value}")
    if "pattern" in node:
        lines.append("matches " + code(node["pattern"]))
    list_type = node.get("x-kubernetes-list-type")
    if list_type == "map":
        keys = ", ".join(code(key) for key in node.get("x-kubernetes-list-map-keys", ()))
        lines.append(f"a list map: items are unique by {keys} and merged by it on apply")
    elif list_type == "set":
        lines.append("a set: items are unique")
    elif list_type == "atomic":
        lines.append("atomic: replaced whole on apply")
    if node.get("x-kubernetes-map-type") == "atomic":
        lines.append("atomic: replaced whole on apply")
    if node.get("x-kubernetes-preserve-unknown-fields") and "properties" in node:
        lines.append("unknown fields kept (not pruned)")
    for rule in node.get("x-kubernetes-validations", ()):
        message = rule.get("message") or rule.get("messageExpression", "")
        if "\n" in rule["rule"].strip() or len(rule["rule"]) > LONG_RULE:
            long_rules.append((path, message, rule["rule"].strip()))
            lines.append(f"CEL rule (below): {cell(message)}")
        else:
            lines.append(f"{code(rule['rule'])}: {cell(message)}")
    return lines


def _long_rules_text(long_rules: list[tuple[str, str, str]]) -> str:
    """The long CEL rules of a table, each under its field and message, as a code block."""
    out = ["CEL rules too long for the table:\n"]
    for path, message, rule in long_rules:
        body = "\n".join("    " + line if line else "" for line in rule.splitlines())
        out.append(f"- {code(path)}: {cell(message)}\n\n    ```text\n{body}\n    ```\n")
    return "\n".join(out)


def _default(node: Schema) -> str:
    return code(json.dumps(node["default"], separators=(", ", ": "))) if "default" in node else ""


def _row(field: Field, long_rules: list[tuple[str, str, str]], *, root: bool) -> list[str]:
    """One field: its path with its type, whether it is required and its default; its validation; its text."""
    node = field.node
    if root and field.path == ".metadata":
        return [f"{path_code(field.path)}<br>{code('ObjectMeta')}", "", cell(OBJECT_META_DESCRIPTION)]
    facts = [code(type_name(node))]
    if field.required:
        facts.append("required")
    if "default" in node:
        facts.append(f"default {_default(node)}")
    return [
        f"{path_code(field.path)}<br>{', '.join(facts)}",
        "<br>".join(_validation(node, field.path, long_rules)),
        cell(node.get("description", "")),
    ]


def page_name(resource: type[CustomResource]) -> str:
    """The page of a kind under docs/reference/: its singular name (`minireplicaset.md`)."""
    return f"{resource.crd.singular}.md"


def render_kind(resource: type[CustomResource]) -> str:
    """The whole reference page of one kind."""
    info = resource.crd
    crd = crd_for(resource)
    version = crd["spec"]["versions"][0]
    schema: Schema = version["schema"]["openAPIV3Schema"]
    out = [generated_header(f"the models in operators/api (crds/{filename(resource)})")]
    out.append(f"# {info.kind}\n\n{cell(schema.get('description', ''))}\n")
    resource_names = [code(info.plural), f"singular {code(info.singular)}"]
    if info.short_names:
        resource_names.append("short name " + ", ".join(code(name) for name in info.short_names))
    subresources = []
    if "status" in version.get("subresources", {}):
        subresources.append("status")
    if info.scale is not None:
        scale = version["subresources"]["scale"]
        subresources.append(
            f"scale ({code(scale['specReplicasPath'])}, {code(scale['statusReplicasPath'])}, "
            f"selector {code(scale.get('labelSelectorPath', '-'))})"
        )
    facts = [
        ["API version", code(f"{GROUP}/{VERSION}")],
        ["Kind", f"{code(info.kind)} (list: {code(info.kind + 'List')})"],
        ["Resource", ", ".join(resource_names)],
        ["Scope", info.scope],
        ["Categories", ", ".join(code(category) for category in info.categories) or "-"],
        ["Subresources", ", ".join(subresources) or "-"],
        ["CRD file", code(f"crds/{filename(resource)}")],
    ]
    out.append("".join(f"- **{name}**: {value}\n" for name, value in facts))
    columns = version.get("additionalPrinterColumns", [])
    if columns:
        out.append(f"## `kubectl get {info.plural}`\n")
        out.append(
            "NAME comes first, as for every kind; the columns marked *wide* appear with `-o wide`. Server-side "
            "printing shows the first value a JSONPath yields.\n"
        )
        rows = [
            [
                code(column["name"].upper()),
                path_code(column["jsonPath"]),
                column["type"],
                "wide" if column.get("priority") else "",
                cell(column.get("description", "")),
            ]
            for column in columns
        ]
        out.append(table(["Column", "JSONPath", "Type", "Shown", "Description"], rows))
    out.append("## Fields\n")
    out.append(
        f"Each field's path comes with its type, *required* when it must be set, and its default. Each "
        f"description is the one `kubectl explain {info.singular}.<path>` prints (drop the `[]` and `{{}}` of the "
        "paths below). *Validation* is what the API server checks: the schema's keywords and the CEL rules, with "
        "the message a refused object gets.\n"
    )
    header = ["Field", "Validation", "Description"]
    top = [Field(f".{name}", node, name in schema.get("required", ())) for name, node in schema["properties"].items()]
    sections: list[tuple[str, list[Field], bool]] = [("", top, True)]
    sections += [(section.path, list(_inside(section.node, section.path)), False) for section in top]
    for title, section_fields, root in sections:
        if not section_fields:
            continue
        if title:
            out.append(f"### `{title}`\n")
        long_rules: list[tuple[str, str, str]] = []
        out.append(table(header, [_row(field, long_rules, root=root) for field in section_fields]))
        if long_rules:
            out.append(_long_rules_text(long_rules))
    return "\n".join(out)
