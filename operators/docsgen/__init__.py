"""Generate the docs site's reference pages from the code: CRD fields, CLI flags, metrics, the upstream ID index.

`python -m operators.docsgen` writes them; `python -m operators.docsgen --check` (and tests/unit/test_docsgen.py)
fails when a committed page differs from what the code generates now, as `crdgen --check` does for crds/.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from pathlib import Path

from operators.api import KINDS

__all__ = ["ROOT", "check", "pages", "write"]

ROOT = Path(__file__).resolve().parents[2]


def pages(root: Path = ROOT) -> dict[str, Callable[[], str]]:
    """Every generated page, by its path under the repository root, with the function that renders it."""
    from operators.docsgen import cliref, crdref, idindex, metricsref

    generated: dict[str, Callable[[], str]] = {}
    for resource in KINDS:
        generated[f"docs/reference/{crdref.page_name(resource)}"] = functools.partial(crdref.render_kind, resource)
    generated["docs/reference/cli.md"] = cliref.plugin_page
    generated["docs/reference/operator.md"] = cliref.operator_page
    generated["docs/reference/metrics.md"] = metricsref.render
    generated["docs/explanation/upstream-ids.md"] = lambda: idindex.render(root)
    return generated


def write(root: Path = ROOT) -> list[Path]:
    """Write every generated page under `root`; returns the files written."""
    written = []
    for name, render in pages(root).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(), encoding="utf-8")
        written.append(path)
    return written


def check(root: Path = ROOT) -> list[str]:
    """One message per generated page that is missing or differs from what the code generates now."""
    problems = []
    for name, render in pages(root).items():
        path = root / name
        expected = render()
        if not path.exists():
            problems.append(f"{name}: missing")
        elif (actual := path.read_text(encoding="utf-8")) != expected:
            diff = difflib.unified_diff(
                actual.splitlines(keepends=True), expected.splitlines(keepends=True), name, "generated"
            )
            problems.append(f"{name}: out of date:\n{''.join(diff)}")
    return problems
