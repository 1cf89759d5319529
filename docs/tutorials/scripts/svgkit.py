"""A few lines of hand-rolled SVG for the tutorials' pictures: deterministic text, no plotting dependency.

Every number is written with a fixed precision and every element in a fixed order, so that a picture
regenerated from the same JSON is byte for byte the committed one (tests/unit/test_tutorial_pictures.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

__all__ = ["FONT", "Svg", "num", "wrap"]

FONT = "font-family: ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def num(value: float) -> str:
    """A coordinate: one decimal, no trailing `.0`."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


class Svg:
    """An SVG document built element by element."""

    def __init__(self, width: float, height: float, *, title: str) -> None:
        self.width, self.height = width, height
        self._parts: list[str] = [f"<title>{escape(title)}</title>"]

    def rect(self, x: float, y: float, w: float, h: float, *, fill: str, stroke: str = "none", extra: str = "") -> None:
        attrs = f'x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" fill="{fill}" stroke="{stroke}"'
        self._parts.append(f"<rect {attrs}{' ' + extra if extra else ''}/>")

    def line(
        self, x1: float, y1: float, x2: float, y2: float, *, stroke: str, width: float = 1, dash: str = ""
    ) -> None:
        attrs = f'x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" stroke="{stroke}"'
        attrs += f' stroke-width="{num(width)}"' + (f' stroke-dasharray="{dash}"' if dash else "")
        self._parts.append(f"<line {attrs}/>")

    def polyline(self, points: Iterable[tuple[float, float]], *, stroke: str, width: float = 2, dash: str = "") -> None:
        coords = " ".join(f"{num(x)},{num(y)}" for x, y in points)
        attrs = f'points="{coords}" fill="none" stroke="{stroke}" stroke-width="{num(width)}"'
        attrs += ' stroke-linejoin="round"' + (f' stroke-dasharray="{dash}"' if dash else "")
        self._parts.append(f"<polyline {attrs}/>")

    def path(self, d: str, *, stroke: str, width: float = 1.5, fill: str = "none", marker: str = "") -> None:
        attrs = f'd={quoteattr(d)} fill="{fill}" stroke="{stroke}" stroke-width="{num(width)}"'
        attrs += f' marker-end="url(#{marker})"' if marker else ""
        self._parts.append(f"<path {attrs}/>")

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: float = 12,
        anchor: str = "start",
        fill: str = "#222",
        weight: str = "normal",
        rotate: float | None = None,
        mono: bool = False,
    ) -> None:
        attrs = f'x="{num(x)}" y="{num(y)}" font-size="{num(size)}" text-anchor="{anchor}" fill="{fill}"'
        if weight != "normal":
            attrs += f' font-weight="{weight}"'
        if mono:
            attrs += ' font-family="ui-monospace, SFMono-Regular, Menlo, monospace"'
        if rotate is not None:
            attrs += f' transform="rotate({num(rotate)} {num(x)} {num(y)})"'
        self._parts.append(f"<text {attrs}>{escape(content)}</text>")

    def raw(self, element: str) -> None:
        """An element written as is (a `<defs>` block)."""
        self._parts.append(element)

    def render(self) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(self.width)}" height="{num(self.height)}" '
            f'viewBox="0 0 {num(self.width)} {num(self.height)}" style="{FONT}">'
        )
        return "\n".join([head, *self._parts, "</svg>"]) + "\n"


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, broken at spaces (a longer word keeps a line of its own)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines
