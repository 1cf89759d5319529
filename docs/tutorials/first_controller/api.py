"""The Greeting kind (tutorial.minik8s.dev/v1) as a pydantic model, and the CRD generated from it.

The model is the single source of truth, as for the project's own kinds (operators/api): the docstring under
each field becomes its description in the CRD, which is what `kubectl explain greeting.spec` prints, and the
field constraints (`ge=1`, `max_length=…`) become the schema the API server validates against.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from operators.api.crdgen import crd_for, render
from operators.api.crdinfo import CRDInfo, PrinterColumn, list_map
from operators.api.meta import AGE_COLUMN, Condition, CustomResource, KubeModel

__all__ = ["CRD_FILE", "GROUP", "VERSION", "Greeting", "GreetingSpec", "GreetingStatus", "crd", "crd_yaml"]

GROUP = "tutorial.minik8s.dev"
VERSION = "v1"
CRD_FILE = Path(__file__).with_name("crd.yaml")


# --8<-- [start:spec]
class GreetingSpec(KubeModel):
    """GreetingSpec is what the user asks for: a message, written into a ConfigMap of the Greeting's name."""

    message: str = Field(min_length=1, max_length=1024)
    """Message is the text the controller writes into the Greeting's ConfigMap, under the key `greeting`."""

    repeat: int = Field(default=1, ge=1, le=10)
    """Repeat is how many times the message is written, one line each, from 1 to 10. Defaults to 1."""


# --8<-- [end:spec]


class GreetingStatus(KubeModel):
    """GreetingStatus is what the controller last observed and did; written by the controller only."""

    observed_generation: int | None = None
    """ObservedGeneration is the metadata.generation of the spec this status describes."""

    config_map: str | None = None
    """ConfigMap is the name of the ConfigMap that holds the greeting."""

    lines: int | None = Field(default=None, ge=0)
    """Lines is the number of lines the ConfigMap's greeting has."""

    conditions: list[Condition] | None = Field(default=None, json_schema_extra=list_map("type"))
    """Conditions: `Ready` is True once the ConfigMap holds the greeting the spec asks for."""


class Greeting(CustomResource):
    """Greeting asks for a ConfigMap holding a message: the toy kind of the "Your first controller" tutorial."""

    crd: ClassVar[CRDInfo] = CRDInfo(
        kind="Greeting",
        plural="greetings",
        singular="greeting",
        short_names=("greet",),
        categories=("tutorial",),
        printer_columns=(
            PrinterColumn("Message", "string", ".spec.message", "The message."),
            PrinterColumn("Repeat", "integer", ".spec.repeat", "How many lines."),
            PrinterColumn("Ready", "string", '.status.conditions[?(@.type=="Ready")].status', "Ready condition."),
            AGE_COLUMN,
        ),
    )

    api_version: Literal["tutorial.minik8s.dev/v1"] = "tutorial.minik8s.dev/v1"
    kind: Literal["Greeting"] = "Greeting"

    spec: GreetingSpec
    """Spec is the desired state: the message and how often to repeat it."""

    status: GreetingStatus | None = None
    """Status is the observed state, written by the greeting controller. Read-only."""


def crd() -> dict[str, Any]:
    """The Greeting CRD: the project's generator (operators.api.crdgen), moved to the tutorial's API group."""
    definition = crd_for(Greeting)
    definition["metadata"]["name"] = f"{Greeting.crd.plural}.{GROUP}"
    definition["spec"]["group"] = GROUP
    return definition


def crd_yaml() -> str:
    """The CRD as the YAML committed in crd.yaml (`python -m docs.tutorials.first_controller crd` prints it)."""
    return render(crd()).replace("operators/api by `python -m operators.api.crdgen`", _GENERATED_BY)


_GENERATED_BY = "docs/tutorials/first_controller/api.py by `python -m docs.tutorials.first_controller crd`"
