"""The upstream ID index: for each behaviour ID of the upstream-semantics catalogue, the code and tests citing it.

Every upstream behaviour the controllers reproduce has an ID in the project's catalogue of upstream semantics
(shared/reference/upstream-semantics.md), and code and tests cite it in docstrings and comments. This module
greps the Python files of operators/ and benchmarks/ (code) and of tests/ (tests) for those IDs and writes one
table per family. A range cites every ID in it, except a range over a whole family (from its first ID to its
last), which says "this module follows the whole catalogue" and is listed once under the family's table.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from operators.docsgen.markdown import code, generated_header, table

__all__ = ["FAMILIES", "Citations", "Family", "citations", "render", "scan"]


@dataclass(frozen=True)
class Family:
    """One family of IDs: its prefix, what upstream code it describes, and how many IDs the catalogue has."""

    prefix: str
    title: str
    upstream: str
    size: int


FAMILIES = (
    Family("RS", "ReplicaSet", "pkg/controller/replicaset, controller_utils.go, controller_ref_manager.go", 25),
    Family("DP", "Deployment", "pkg/controller/deployment, kubectl's rollout commands", 39),
    Family("ES", "EndpointSlice", "pkg/controller/endpointslice, staging k8s.io/endpointslice", 13),
    Family("SV", "Service", "ClusterIP and NodePort allocation in the API server (the MiniService's own Service)", 3),
    Family("NP", "NetworkPolicy", "networking/v1 types and defaults, the e2e NetworkPolicy suite", 13),
)
_PREFIXES = "|".join(family.prefix for family in FAMILIES)
_CITATION = re.compile(rf"\b(?P<family>{_PREFIXES})-(?P<first>\d{{2}})(?:\.\.(?:(?P=family)-)?(?P<last>\d{{2}}))?\b")

# Examples for the page's text, spelled so that this file does not cite them itself.
_EXAMPLE_ID = "-".join(("DP", "17"))
_EXAMPLE_RANGE = "..".join(("-".join(("DP", "19")), "-".join(("DP", "22"))))

CODE_DIRS = ("operators", "benchmarks")
TEST_DIRS = ("tests",)


@dataclass
class Citations:
    """Who cites what: ID → files, per side (code or tests), and the files that cite a whole family."""

    code: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    tests: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    whole_family: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    sizes: dict[str, int] = field(default_factory=lambda: {family.prefix: family.size for family in FAMILIES})


def citations(text: str) -> tuple[set[str], set[str]]:
    """The IDs a text cites, and the families it cites whole (a range from the first ID to the last or beyond)."""
    sizes = {family.prefix: family.size for family in FAMILIES}
    ids: set[str] = set()
    whole: set[str] = set()
    for match in _CITATION.finditer(text):
        prefix, first = match["family"], int(match["first"])
        last = int(match["last"]) if match["last"] else first
        if first == 1 and last >= sizes[prefix] and match["last"]:
            whole.add(prefix)
            continue
        ids.update(f"{prefix}-{number:02d}" for number in range(first, last + 1))
    return ids, whole


def _python_files(root: Path, directories: Iterable[str]) -> list[Path]:
    found = []
    for directory in directories:
        found += [path for path in (root / directory).rglob("*.py") if "__pycache__" not in path.parts]
    return sorted(found)


def scan(root: Path) -> Citations:
    """Grep the code and the tests under `root` for citations."""
    result = Citations()
    for side, directories in (("code", CODE_DIRS), ("tests", TEST_DIRS)):
        for path in _python_files(root, directories):
            ids, whole = citations(path.read_text(encoding="utf-8"))
            name = path.relative_to(root).as_posix()
            for cited in ids:
                getattr(result, side)[cited].add(name)
                prefix, number = cited.split("-")
                result.sizes[prefix] = max(result.sizes[prefix], int(number))
            for prefix in whole:
                result.whole_family[prefix].add(name)
    return result


def _files(names: Iterable[str]) -> str:
    return "<br>".join(code(name) for name in sorted(names)) or "-"


def render(root: Path) -> str:
    """docs/explanation/upstream-ids.md."""
    found = scan(root)
    out = [
        generated_header("the citations in operators/, benchmarks/ and tests/ (operators/docsgen/idindex.py)"),
        "# Upstream ID index\n",
        "Every upstream behaviour a Mini controller reproduces has an ID in the project's catalogue of upstream "
        "semantics (`shared/reference/upstream-semantics.md`, beside the repository): `RS` ReplicaSet, `DP` "
        "Deployment, `ES` EndpointSlice, `SV` Service, `NP` NetworkPolicy. Code and tests cite the IDs in their "
        f'docstrings and comments ("implements {_EXAMPLE_ID}"), so each ID leads to the code that implements it '
        "and the tests that hold it, upstream's own test names included.\n",
        "The tables are generated by grepping the Python files of `operators/` and `benchmarks/` (code) and "
        f"`tests/` (tests). A range (`{_EXAMPLE_RANGE}`) cites each ID in it; a range over a whole family is listed "
        "under the family's table instead. An ID nobody cites shows `-` on both sides.\n",
    ]
    for family in FAMILIES:
        size = found.sizes[family.prefix]
        ids = [f"{family.prefix}-{number:02d}" for number in range(1, size + 1)]
        uncited = [cited for cited in ids if not found.code.get(cited) and not found.tests.get(cited)]
        out.append(f"## {family.prefix}: {family.title}\n")
        summary = f"Upstream: {family.upstream}. {size} IDs"
        out.append(summary + (f", {len(uncited)} cited nowhere yet.\n" if uncited else ", each cited.\n"))
        rows = [[code(cited), _files(found.code.get(cited, ())), _files(found.tests.get(cited, ()))] for cited in ids]
        out.append(table(["ID", "Code", "Tests"], rows))
        whole = sorted(found.whole_family.get(family.prefix, ()))
        if whole:
            out.append(f"Following the whole {family.prefix} family: {', '.join(code(name) for name in whole)}.\n")
    return "\n".join(out)
