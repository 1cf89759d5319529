"""Typed errors for bad NetworkPolicy-engine input: every error names the object and the field at fault."""

from __future__ import annotations

__all__ = ["PolicyError"]


class PolicyError(ValueError):
    """An object the engine cannot use, as the API server's field validation would report it.

    `str(error)` reads like a kubectl validation message::

        NetworkPolicy x/allow-web: spec.ingress[0].from[1].ipBlock.cidr: invalid CIDR "10.0.0.0/33"
    """

    def __init__(self, message: str, *, kind: str, name: str, namespace: str = "", field: str = "") -> None:
        self.message = message
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.field = field
        super().__init__(str(self))

    @property
    def object_ref(self) -> str:
        """`Kind namespace/name` (or `Kind name` for cluster-scoped objects)."""
        name = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {name}".strip()

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.object_ref}: {where}{self.message}"
