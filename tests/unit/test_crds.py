"""The CRDs in crds/ are generated from operators.api, structural, and carry the rules kubectl users expect."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from operators.api import KINDS, CustomResource, MiniDeployment, MiniDeploymentSpec, MiniReplicaSet, crdgen
from operators.api.crdinfo import CRDInfo, Rule, cel
from operators.api.deployment import (
    BOTH_NOT_ZERO,
    NON_ZERO_PATTERN,
    PROGRESS_DEADLINE_AFTER_MIN_READY,
    ROLLING_UPDATE_ONLY_FOR_ROLLING_UPDATE,
)
from operators.api.meta import (
    INT_OR_PERCENT_VALID,
    LABEL_KEY_VALID,
    LABEL_KEYS_VALID,
    LABEL_VALUE_PATTERN,
    LABEL_VALUE_VALID,
    MAX_LABELS,
    NON_NEGATIVE,
    PERCENT_AT_MOST_100,
    PERCENT_PATTERN,
    PERCENT_UP_TO_100_PATTERN,
    SELECTOR_IMMUTABLE,
    SELECTOR_MATCHES_TEMPLATE,
    SELECTOR_NOT_EMPTY,
    IntOrString,
    KubeModel,
    LabelSelectorRequirement,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "minireplicaset.yaml"
MD_EXAMPLE = ROOT / "examples" / "minideployment.yaml"


# --- A small checker for the structural-schema rules of apiextensions.k8s.io/v1 ---------------------------

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}
_FORBIDDEN_KEYS = ("$ref", "$defs", "definitions", "anyOf", "oneOf", "allOf", "not", "const", "title")


def structural_errors(node: dict[str, Any], path: str = "", *, root: bool = True) -> list[str]:
    """Every violation of the structural-schema rules the API server enforces (and of our own conventions)."""
    errors = [f"{path or '<root>'}: has {key}" for key in _FORBIDDEN_KEYS if key in node]
    escape = node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields")
    if "type" not in node and not escape:
        errors.append(f"{path or '<root>'}: no type")
    if node.get("additionalProperties") is not None:
        if "properties" in node:
            errors.append(f"{path}: both properties and additionalProperties")
        if not isinstance(node["additionalProperties"], dict):
            errors.append(f"{path}: additionalProperties must be a schema (a map's value type)")
    if node.get("type") == "array" and "items" not in node:
        errors.append(f"{path}: array without items")
    undeclared = [name for name in node.get("required", []) if name not in node.get("properties", {})]
    if node.get("x-kubernetes-list-type") == "map":
        item = node["items"]
        keys = node.get("x-kubernetes-list-map-keys", [])
        # each key must be required or have a default of its own (a Service port's protocol defaults to TCP)
        defaulted = [key for key, prop in item.get("properties", {}).items() if "default" in prop]
        undeclared += [key for key in keys if key not in item.get("required", []) + defaulted]
    if undeclared:
        errors.append(f"{path}: required fields or list-map keys not declared as required: {undeclared}")
    for rule in node.get("x-kubernetes-validations", []):
        if not rule.get("rule") or not (rule.get("message") or rule.get("messageExpression")):
            errors.append(f"{path}: CEL rule without rule text or message: {rule}")
    if "default" in node:
        errors += [f"{path}: default {problem}" for problem in _validate(node["default"], node)]
    for name, prop in node.get("properties", {}).items():
        where = f"{path}.{name}"
        if not prop.get("description") and not (root and name == "metadata"):
            errors.append(f"{where}: no description")
        if root and name == "metadata" and prop != {"type": "object"}:
            errors.append(f"{where}: the root metadata may only be {{type: object}}")
        errors += structural_errors(prop, where, root=False)
    if isinstance(node.get("items"), dict):
        errors += structural_errors(node["items"], f"{path}[*]", root=False)
    if isinstance(node.get("additionalProperties"), dict):
        errors += structural_errors(node["additionalProperties"], f"{path}{{*}}", root=False)
    return errors


def _validate(value: Any, node: dict[str, Any]) -> list[str]:
    """Why `value` would fail validation against `node`, or be pruned from it (the subset we use)."""
    expected = _JSON_TYPES.get(node.get("type", ""), (object,))
    if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
        return [f"{value!r} is not of type {node.get('type')}"]
    problems = []
    if "enum" in node and value not in node["enum"]:
        problems.append(f"{value!r} not in enum {node['enum']}")
    if "minimum" in node and value < node["minimum"]:
        problems.append(f"{value!r} is below minimum {node['minimum']}")
    if isinstance(value, str) and len(value) > node.get("maxLength", len(value)):
        problems.append(f"{value!r} is longer than {node['maxLength']}")
    if isinstance(value, str) and not re.search(node.get("pattern", ""), value):
        problems.append(f"{value!r} does not match {node['pattern']}")
    if isinstance(value, dict) and len(value) > node.get("maxProperties", len(value)):
        problems.append(f"{len(value)} properties, more than {node['maxProperties']}")
    if isinstance(value, list):
        for item in value:
            problems += _validate(item, node["items"])
    if isinstance(value, dict):
        problems += [f"field {key!r} is required" for key in node.get("required", []) if key not in value]
        for key, item in value.items():
            if key in node.get("properties", {}):
                problems += _validate(item, node["properties"][key])
            elif isinstance(node.get("additionalProperties"), dict):
                problems += _validate(item, node["additionalProperties"])
            elif not node.get("x-kubernetes-preserve-unknown-fields"):
                problems.append(f"field {key!r} would be pruned")
    return problems


def schema_of(crd: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def node_at(crd: dict[str, Any], *path: str) -> dict[str, Any]:
    """The schema node at `path`: property names, `[*]` for a list's items, `{*}` for a map's values."""
    node = schema_of(crd)
    for name in path:
        node = {"[*]": node.get("items"), "{*}": node.get("additionalProperties")}.get(name) or node["properties"][name]
    return node


# --- crds/ is what the models generate ----------------------------------------------------------------


def test_committed_crds_match_the_models() -> None:
    problems = crdgen.check()
    assert not problems, "\n".join(problems)


def test_check_reports_drift_missing_and_stale_files(tmp_path: Path) -> None:
    assert crdgen.check(tmp_path) == [f"{tmp_path / crdgen.filename(kind)}: missing" for kind in KINDS]
    written = crdgen.write(tmp_path)
    assert [path.name for path in written] == [crdgen.filename(kind) for kind in KINDS]
    assert crdgen.check(tmp_path) == []
    rs_file = tmp_path / crdgen.filename(MiniReplicaSet)
    rs_file.write_text(rs_file.read_text().replace("shortNames:\n    - mrs", "shortNames:\n    - rs"))
    (stale,) = crdgen.check(tmp_path)
    assert "out of date with the models" in stale
    assert "-    - rs\n+    - mrs" in stale
    (tmp_path / "gone.minik8s.dev.yaml").write_text("{}")
    assert any("gone.minik8s.dev.yaml: no registered kind" in problem for problem in crdgen.check(tmp_path))


def test_cli_check_exits_1_when_out_of_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert crdgen.main(["--dir", str(tmp_path)]) == 0
    assert crdgen.main(["--check", "--dir", str(tmp_path)]) == 0
    next(tmp_path.iterdir()).write_text("# edited by hand\n")
    assert crdgen.main(["--check", "--dir", str(tmp_path)]) == 1
    assert "run `python -m operators.api.crdgen`" in capsys.readouterr().err


@pytest.mark.parametrize("resource", KINDS, ids=lambda resource: resource.__name__)
def test_output_is_deterministic_and_parses_back(resource: type[CustomResource]) -> None:
    text = crdgen.render(crdgen.crd_for(resource))
    assert text == crdgen.render(crdgen.crd_for(resource))
    assert yaml.safe_load(text) == crdgen.crd_for(resource)


# --- every generated CRD is structural -------------------------------------------------------------------


@pytest.mark.parametrize("resource", KINDS, ids=lambda resource: resource.__name__)
def test_generated_crd_is_structural(resource: type[CustomResource]) -> None:
    crd = crdgen.crd_for(resource)
    schema = schema_of(crd)
    assert structural_errors(schema) == []
    assert {"apiVersion", "kind", "metadata", "spec"} <= schema["properties"].keys()
    version = crd["spec"]["versions"][0]
    assert version["served"] and version["storage"]
    if resource.crd.status_subresource:
        assert "status" in schema["properties"]
        assert version["subresources"]["status"] == {}


def test_structural_checker_finds_violations() -> None:
    bad = {
        "type": "object",
        "properties": {
            "metadata": {"type": "object", "properties": {"name": {"type": "string"}}},
            "spec": {
                "description": "d",
                "properties": {
                    "ref": {"$ref": "#/$defs/X", "description": "d"},
                    "both": {
                        "type": "object",
                        "description": "d",
                        "properties": {"a": {"type": "string", "description": "d"}},
                        "additionalProperties": {"type": "string"},
                    },
                    "count": {"type": "integer", "description": "d", "minimum": 0, "default": -1},
                    "nodesc": {"type": "string"},
                    "containers": {
                        "type": "array",
                        "description": "d",
                        "items": {"type": "object", "properties": {"name": {"type": "string", "description": "d"}}},
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                    },
                },
            },
        },
    }
    errors = "\n".join(structural_errors(bad))
    for expected in (
        ".metadata: the root metadata may only be",
        ".spec: no type",
        ".spec.ref: has $ref",
        ".spec.both: both properties and additionalProperties",
        ".spec.count: default -1 is below minimum 0",
        ".spec.nodesc: no description",
        ".spec.containers: required fields or list-map keys not declared as required: ['name']",
    ):
        assert expected in errors


# --- the converter, on a toy model -----------------------------------------------------------------------


class _Inner(KubeModel):
    """Inner docs."""

    model_config = {"json_schema_extra": cel(Rule(rule="self.a != 'x'", message="not x"))}

    a: str = "y"
    """Field a."""


class _Toy(KubeModel):
    """Toy docs,
    wrapped like Go comments.

    Second paragraph."""

    inner: _Inner | None = None
    """The field's description wins over the class docstring."""

    port: IntOrString = 80
    """A port number or name."""

    surge: IntOrString | None = None
    """An optional count or percentage."""

    anything: dict[str, Any] | None = None
    """Arbitrary JSON."""


def test_converter_inlines_refs_and_flattens_optionals() -> None:
    schema = crdgen.structural_schema(_Toy)
    assert schema["description"] == "Toy docs, wrapped like Go comments.\n\nSecond paragraph."
    inner = schema["properties"]["inner"]
    assert inner["type"] == "object"
    assert inner["description"] == "The field's description wins over the class docstring."
    assert inner["x-kubernetes-validations"] == [{"rule": "self.a != 'x'", "message": "not x"}]
    assert inner["properties"]["a"] == {"type": "string", "default": "y", "description": "Field a."}
    assert schema["properties"]["port"] == {
        "x-kubernetes-int-or-string": True,
        "default": 80,
        "description": "A port number or name.",
    }
    assert schema["properties"]["surge"] == {
        "x-kubernetes-int-or-string": True,
        "description": "An optional count or percentage.",
    }
    assert schema["properties"]["anything"] == {
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
        "description": "Arbitrary JSON.",
    }
    assert "title" not in str(schema)


def test_converter_refuses_unions_a_crd_cannot_express() -> None:
    class Union(BaseModel):
        value: int | list[int]

    with pytest.raises(ValueError, match="union"):
        crdgen.structural_schema(Union)


def test_a_new_kind_needs_only_a_model() -> None:
    class MiniThing(CustomResource):
        """A thing."""

        crd: ClassVar[CRDInfo] = CRDInfo(kind="MiniThing", plural="minithings", singular="minithing")
        spec: _Inner
        """Its spec."""

    crd = crdgen.crd_for(MiniThing)
    assert crd["metadata"]["name"] == "minithings.minik8s.dev"
    assert crd["spec"]["names"]["listKind"] == "MiniThingList"
    assert structural_errors(schema_of(crd)) == []


# --- MiniReplicaSet: what kubectl users and RS-25 expect ---------------------------------------------------


@pytest.fixture(scope="module")
def rs_crd() -> dict[str, Any]:
    return crdgen.crd_for(MiniReplicaSet)


def rules_at(crd: dict[str, Any], *path: str) -> list[dict[str, str]]:
    rules: list[dict[str, str]] = node_at(crd, *path).get("x-kubernetes-validations", [])
    return rules


def test_selector_is_immutable_and_not_empty(rs_crd: dict[str, Any]) -> None:
    rules = {rule["message"]: rule for rule in rules_at(rs_crd, "spec", "selector")}
    assert rules["field is immutable"]["rule"] == "self == oldSelf"
    assert "size(self.matchLabels) > 0" in rules["empty selector is invalid for deployment"]["rule"]


def test_selector_must_match_template_labels(rs_crd: dict[str, Any]) -> None:
    (rule,) = rules_at(rs_crd, "spec")
    assert rule["message"] == "`selector` does not match template `labels`"
    assert rule["fieldPath"] == ".template.metadata.labels"
    for operator in ("'In'", "'NotIn'", "'Exists'", "self.selector.matchLabels.all("):
        assert operator in rule["rule"]


def test_requirement_and_pod_template_rules(rs_crd: dict[str, Any]) -> None:
    requirement = rules_at(rs_crd, "spec", "selector", "matchExpressions", "[*]")
    assert [rule["reason"] for rule in requirement] == ["FieldValueRequired", "FieldValueForbidden"]
    (deadline,) = rules_at(rs_crd, "spec", "template", "spec")
    assert deadline["message"] == "activeDeadlineSeconds in ReplicaSet is not Supported"
    assert node_at(rs_crd, "spec", "template", "spec", "restartPolicy")["enum"] == ["Always"]


LABEL_MAPS = [("spec", "selector", "matchLabels"), ("spec", "template", "metadata", "labels")]


@pytest.mark.parametrize("path", LABEL_MAPS, ids=".".join)
def test_label_maps_validate_keys_and_values(rs_crd: dict[str, Any], path: tuple[str, ...]) -> None:
    """ValidateLabels, on matchLabels (via ValidateLabelSelector) and on the template's labels."""
    labels = node_at(rs_crd, *path)
    assert labels["x-kubernetes-validations"] == [LABEL_KEYS_VALID.to_dict()]
    assert labels["maxProperties"] == MAX_LABELS
    value = node_at(rs_crd, *path, "{*}")
    assert value["x-kubernetes-validations"] == [LABEL_VALUE_VALID.to_dict()]
    assert value["maxLength"] == 63


def test_requirement_key_and_values_are_validated(rs_crd: dict[str, Any]) -> None:
    """ValidateLabelSelectorRequirement: ValidateLabelName on the key, IsValidLabelValue on each value."""
    key = node_at(rs_crd, "spec", "selector", "matchExpressions", "[*]", "key")
    assert key["x-kubernetes-validations"] == [LABEL_KEY_VALID.to_dict()]
    assert key["maxLength"] == 253 + 1 + 63
    value = node_at(rs_crd, "spec", "selector", "matchExpressions", "[*]", "values", "[*]")
    assert (value["pattern"], value["maxLength"]) == (LABEL_VALUE_PATTERN, 63)
    assert "x-kubernetes-validations" not in value  # 256 x 256 of them: a pattern, which costs no CEL budget


def test_label_rules_call_upstreams_validators() -> None:
    """The rules call the CEL format library (IsQualifiedName, IsValidLabelValue) and show its first message;
    the rule on a map names the bad key, as upstream's `Invalid value: "bad key": ...` does."""
    for rule, validator in (
        (LABEL_KEY_VALID, "format.qualifiedName().validate(self)"),
        (LABEL_KEYS_VALID, "format.qualifiedName().validate(key)"),
        (LABEL_VALUE_VALID, "format.labelValue().validate(self)"),
    ):
        assert f"!{validator}.hasValue()" in rule.rule
        assert f"{validator}.value()[0]" in (rule.message_expression or "")
    assert LABEL_KEYS_VALID.rule.startswith("self.all(key, ")
    assert "'\"' + key + '\": ' + " in (LABEL_KEYS_VALID.message_expression or "")


# The cases of upstream TestIsLabelValue (k8s.io/apimachinery/pkg/api/validate/content/kube_test.go).
VALID_LABEL_VALUES = ["simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234", "a" * 63, ""]
INVALID_LABEL_VALUES = [
    "nospecialchars%^=@",
    "Tama-nui-te-rā.is.Māori.sun",
    "\\backslashes\\are\\bad",
    "-starts-with-dash",
    "ends-with-dash-",
    ".starts.with.dot",
    "ends.with.dot.",
    "a" * 64,
]


@pytest.mark.parametrize("value", VALID_LABEL_VALUES)
def test_is_label_value_success_cases(rs_crd: dict[str, Any], value: str) -> None:
    node = node_at(rs_crd, "spec", "selector", "matchExpressions", "[*]", "values", "[*]")
    assert _validate(value, node) == []
    LabelSelectorRequirement(key="k", operator="In", values=[value])


@pytest.mark.parametrize("value", INVALID_LABEL_VALUES)
def test_is_label_value_error_cases(rs_crd: dict[str, Any], value: str) -> None:
    node = node_at(rs_crd, "spec", "selector", "matchExpressions", "[*]", "values", "[*]")
    assert _validate(value, node) != []
    with pytest.raises(ValidationError):
        LabelSelectorRequirement(key="k", operator="In", values=[value])


def test_defaults_and_bounds(rs_crd: dict[str, Any]) -> None:
    assert node_at(rs_crd, "spec", "replicas") | {"description": ""} == {
        "type": "integer",
        "default": 1,
        "minimum": 0,
        "description": "",
    }
    assert node_at(rs_crd, "spec", "minReadySeconds")["default"] == 0
    assert node_at(rs_crd, "spec")["required"] == ["selector", "template"]
    pod_spec = node_at(rs_crd, "spec", "template", "spec")
    assert pod_spec["x-kubernetes-preserve-unknown-fields"] is True
    assert pod_spec["properties"]["containers"]["x-kubernetes-list-map-keys"] == ["name"]
    assert node_at(rs_crd, "status", "selector")["type"] == "string"


def test_names_columns_and_scale(rs_crd: dict[str, Any]) -> None:
    names = rs_crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"]) == ("MiniReplicaSet", "minireplicasets", ["mrs"])
    assert "all" in names["categories"]
    version = rs_crd["spec"]["versions"][0]
    columns = {column["name"].upper(): column for column in version["additionalPrinterColumns"]}
    assert [name for name, column in columns.items() if not column.get("priority")] == [
        "DESIRED",
        "CURRENT",
        "READY",
        "AGE",
    ]
    assert columns["AGE"] == columns["AGE"] | {"type": "date", "jsonPath": ".metadata.creationTimestamp"}
    assert columns["IMAGES"]["jsonPath"] == ".spec.template.spec.containers[*].image"
    assert version["subresources"]["scale"] == {
        "specReplicasPath": ".spec.replicas",
        "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".status.selector",
    }


# --- the models themselves ---------------------------------------------------------------------------------


def example() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    return document


def test_example_round_trips_through_the_model() -> None:
    document = example()
    rs = MiniReplicaSet.model_validate(document)
    assert rs.spec.replicas == 3
    assert rs.spec.selector.match_labels == {"tier": "frontend"}
    assert rs.to_kube() == document | {"spec": document["spec"] | {"minReadySeconds": 0}}
    assert MiniReplicaSet.model_validate(rs.to_kube()) == rs


def test_example_is_valid_against_the_crd_schema(rs_crd: dict[str, Any]) -> None:
    document = example()
    assert _validate(document["spec"], node_at(rs_crd, "spec")) == []


def test_unknown_pod_fields_are_kept() -> None:
    document = example()
    document["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    document["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    assert MiniReplicaSet.model_validate(document).to_kube()["spec"]["template"] == document["spec"]["template"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("replicas",), -1),
        (("minReadySeconds",), -1),
        (("template", "spec", "restartPolicy"), "Never"),
        (("template", "spec", "containers"), []),
        (("selector", "matchExpressions"), [{"key": "a", "operator": "Near"}]),
        (("selector", "matchExpressions"), [{"key": "a", "operator": "In", "values": ["-x"]}]),
        (("selector", "matchLabels"), {"tier": "a" * 64}),
        (("selector", "matchExpressions"), [{"key": "a" * 318, "operator": "Exists"}]),
        (("template", "metadata", "labels"), {f"k{i}": "v" for i in range(257)}),
    ],
)
def test_model_rejects_what_the_schema_rejects(path: tuple[str, ...], value: Any) -> None:
    document = example()
    parent = document["spec"]
    for name in path[:-1]:
        parent = parent[name]
    parent[path[-1]] = value
    with pytest.raises(ValidationError):
        MiniReplicaSet.model_validate(document)


# --- MiniDeployment: what kubectl users and DP-05 expect ----------------------------------------------------


@pytest.fixture(scope="module")
def md_crd() -> dict[str, Any]:
    return crdgen.crd_for(MiniDeployment)


def test_drift_check_covers_the_minideployment_crd(tmp_path: Path) -> None:
    crdgen.write(tmp_path)
    md_file = tmp_path / crdgen.filename(MiniDeployment)
    assert md_file.name == "minideployments.minik8s.dev.yaml"
    md_file.write_text(md_file.read_text().replace("maxSurge: 25%", "maxSurge: 50%"))
    (stale,) = crdgen.check(tmp_path)
    assert stale.startswith(f"{md_file}: out of date with the models")
    assert "-                    maxSurge: 50%\n+                    maxSurge: 25%" in stale


def test_md_names_columns_and_scale(md_crd: dict[str, Any]) -> None:
    names = md_crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["singular"]) == (
        "MiniDeployment",
        "minideployments",
        "minideployment",
    )
    assert (names["shortNames"], names["categories"]) == (["md"], ["all", "mini"])
    version = md_crd["spec"]["versions"][0]
    columns = [(column["name"].upper(), column.get("priority", 0)) for column in version["additionalPrinterColumns"]]
    # `kubectl get deploy` and `kubectl get deploy -o wide`.
    assert [name for name, priority in columns if not priority] == ["READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert [name for name, priority in columns if priority] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    paths = {column["name"].upper(): column["jsonPath"] for column in version["additionalPrinterColumns"]}
    assert paths["READY"] == ".status.readyText"
    assert paths["UP-TO-DATE"] == ".status.updatedReplicas"
    assert paths["AVAILABLE"] == ".status.availableReplicas"
    assert paths["SELECTOR"] == ".status.selector"
    assert version["subresources"] == {
        "status": {},
        "scale": {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.selector",
        },
    }


def test_md_selector_rules_are_the_replicasets(md_crd: dict[str, Any]) -> None:
    """Selector immutable, not empty, matching the template: the very rules of the MiniReplicaSet."""
    assert rules_at(md_crd, "spec", "selector") == [SELECTOR_IMMUTABLE.to_dict(), SELECTOR_NOT_EMPTY.to_dict()]
    assert rules_at(md_crd, "spec") == [
        SELECTOR_MATCHES_TEMPLATE.to_dict(),
        PROGRESS_DEADLINE_AFTER_MIN_READY.to_dict(),
    ]
    assert node_at(md_crd, "spec", "template", "spec", "restartPolicy")["enum"] == ["Always"]
    for path in LABEL_MAPS:
        assert rules_at(md_crd, *path) == [LABEL_KEYS_VALID.to_dict()]


def test_md_strategy_rules(md_crd: dict[str, Any]) -> None:
    """ValidateDeploymentStrategy and ValidateRollingUpdateDeployment, in upstream's words."""
    assert rules_at(md_crd, "spec", "strategy") == [ROLLING_UPDATE_ONLY_FOR_ROLLING_UPDATE.to_dict()]
    assert ROLLING_UPDATE_ONLY_FOR_ROLLING_UPDATE.reason == "FieldValueForbidden"
    assert node_at(md_crd, "spec", "strategy", "type")["enum"] == ["Recreate", "RollingUpdate"]
    rolling = ("spec", "strategy", "rollingUpdate")
    assert rules_at(md_crd, *rolling) == [BOTH_NOT_ZERO.to_dict()]
    assert BOTH_NOT_ZERO.field_path == ".maxUnavailable"
    surge = node_at(md_crd, *rolling, "maxSurge")
    assert surge["x-kubernetes-int-or-string"] is True and "type" not in surge
    assert surge["x-kubernetes-validations"] == [rule.to_dict() for rule in INT_OR_PERCENT_VALID]
    unavailable = node_at(md_crd, *rolling, "maxUnavailable")
    assert unavailable["x-kubernetes-validations"] == [
        *(rule.to_dict() for rule in INT_OR_PERCENT_VALID),
        PERCENT_AT_MOST_100.to_dict(),
    ]


@pytest.mark.parametrize("field", ["replicas", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"])
def test_md_counts_are_non_negative_in_upstreams_words(md_crd: dict[str, Any], field: str) -> None:
    """ValidateNonnegativeField's "must be greater than or equal to 0", where a `minimum` would say "should be"."""
    node = node_at(md_crd, "spec", field)
    assert node["x-kubernetes-validations"] == [NON_NEGATIVE.to_dict()]
    assert "minimum" not in node


def test_md_defaults_are_set_defaults_deployment(md_crd: dict[str, Any]) -> None:
    """DP-05. rollingUpdate has no default of its own: it would land on a Recreate strategy too (see
    DeploymentStrategy); the whole strategy's default carries it."""
    defaults = {name: prop.get("default") for name, prop in node_at(md_crd, "spec")["properties"].items()}
    assert defaults == {
        "replicas": 1,
        "selector": None,
        "template": None,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        "minReadySeconds": 0,
        "revisionHistoryLimit": 10,
        "paused": False,
        "progressDeadlineSeconds": 600,
    }
    assert node_at(md_crd, "spec")["required"] == ["selector", "template"]
    assert node_at(md_crd, "spec", "strategy", "type")["default"] == "RollingUpdate"
    assert "default" not in node_at(md_crd, "spec", "strategy", "rollingUpdate")
    for field in ("maxSurge", "maxUnavailable"):
        assert node_at(md_crd, "spec", "strategy", "rollingUpdate", field)["default"] == "25%"


def test_md_status_is_deployment_status_plus_selector_and_ready_text(md_crd: dict[str, Any]) -> None:
    status = node_at(md_crd, "status")["properties"]
    assert set(status) == {
        "observedGeneration",
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
        "unavailableReplicas",
        "terminatingReplicas",
        "conditions",
        "collisionCount",
        "selector",
        "readyText",
    }
    assert status["selector"]["type"] == status["readyText"]["type"] == "string"
    conditions = status["conditions"]
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    assert set(conditions["items"]["properties"]) == {
        "type",
        "status",
        "lastUpdateTime",
        "lastTransitionTime",
        "reason",
        "message",
    }
    last_update = conditions["items"]["properties"]["lastUpdateTime"]
    assert (last_update["type"], last_update["format"]) == ("string", "date-time")


# upstream getIntOrPercentValue(intstr.FromString(s)) == 0, in Go's terms: a percentage's number, else
# strconv.Atoi(s), which is 0 on error.
def go_int_or_percent_value(value: str) -> int:
    if re.fullmatch(PERCENT_PATTERN, value):
        return int(value[:-1])
    return int(value) if re.fullmatch(r"[+-]?[0-9]+", value) else 0


@pytest.mark.parametrize(
    "value", ["0", "00", "0%", "000%", "1", "+1", "-1", "-0", "10%", "010%", "abc", "1abc", "", "%", "5 ", "1_0"]
)
def test_non_zero_pattern_is_get_int_or_percent_value(value: str) -> None:
    """BOTH_NOT_ZERO's regex reads a string as upstream's getIntOrPercentValue does (zero or not)."""
    assert bool(re.fullmatch(NON_ZERO_PATTERN, value)) == (go_int_or_percent_value(value) != 0)


@pytest.mark.parametrize(
    "value", ["0%", "1%", "99%", "100%", "0100%", "101%", "120%", "1000%", "00099%", "99999999999999999999999%"]
)
def test_percent_up_to_100_pattern_is_is_not_more_than_100_percent(value: str) -> None:
    """PERCENT_AT_MOST_100's regex agrees with upstream IsNotMoreThan100Percent on well-formed percentages."""
    assert bool(re.fullmatch(PERCENT_UP_TO_100_PATTERN, value)) == (int(value[:-1]) <= 100)


def md_example() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(MD_EXAMPLE.read_text())
    return document


def test_md_example_round_trips_through_the_model() -> None:
    document = md_example()
    md = MiniDeployment.model_validate(document)
    assert md.spec.replicas == 3
    assert md.spec.strategy.rolling_update is not None
    assert md.spec.strategy.rolling_update.max_surge == "25%"
    assert md.metadata["annotations"]["kubernetes.io/change-cause"]
    defaults = {"minReadySeconds": 0, "revisionHistoryLimit": 10, "paused": False, "progressDeadlineSeconds": 600}
    assert md.to_kube() == document | {"spec": document["spec"] | defaults}
    assert MiniDeployment.model_validate(md.to_kube()) == md


def test_md_example_is_valid_against_the_crd_schema(md_crd: dict[str, Any]) -> None:
    assert _validate(md_example()["spec"], node_at(md_crd, "spec")) == []


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (None, {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
        ({"type": "Recreate"}, {"type": "Recreate"}),
        (
            {"rollingUpdate": {"maxSurge": 1}},
            {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
        ),
        ({"type": "RollingUpdate"}, {"type": "RollingUpdate"}),  # the gap DeploymentStrategy explains
    ],
)
def test_md_model_defaults_the_strategy_as_the_schema_does(
    strategy: dict[str, Any] | None, expected: dict[str, Any]
) -> None:
    spec = md_example()["spec"]
    spec.pop("strategy")
    if strategy is not None:
        spec["strategy"] = strategy
    assert MiniDeploymentSpec.model_validate(spec).to_kube()["strategy"] == expected


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("replicas",), -1),
        (("minReadySeconds",), -1),
        (("revisionHistoryLimit",), -1),
        (("progressDeadlineSeconds",), -1),
        (("strategy", "type"), "BlueGreen"),
        (("strategy", "rollingUpdate", "maxSurge"), "abc"),
        (("strategy", "rollingUpdate", "maxSurge"), "5"),
        (("strategy", "rollingUpdate", "maxSurge"), -1),
        (("strategy", "rollingUpdate", "maxUnavailable"), "120%"),
        (("template", "spec", "restartPolicy"), "Never"),
        (("selector", "matchLabels"), {"app": "a" * 64}),
    ],
)
def test_md_model_rejects_what_the_schema_rejects(path: tuple[str, ...], value: Any) -> None:
    document = md_example()
    parent = document["spec"]
    for name in path[:-1]:
        parent = parent[name]
    parent[path[-1]] = value
    with pytest.raises(ValidationError):
        MiniDeployment.model_validate(document)


@pytest.mark.parametrize(
    ("surge", "unavailable"), [(0, 1), ("0%", "1%"), ("200%", "100%"), (1000, 0), ("007%", "000%")]
)
def test_md_model_accepts_upstreams_edge_cases(surge: int | str, unavailable: int | str) -> None:
    document = md_example()
    document["spec"]["strategy"]["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    rolling = MiniDeployment.model_validate(document).spec.strategy.rolling_update
    assert rolling is not None and (rolling.max_surge, rolling.max_unavailable) == (surge, unavailable)
