"""The documentation site builds with `mkdocs build --strict` and no warning, as `make docs` builds it.

`make test`'s virtual environment has the docs extras (mkdocs, mkdocs-material, pymdown-extensions), so this
always runs there; elsewhere it is skipped with the reason. The site goes to a temporary directory, not site/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_the_site_builds_strict_without_a_warning(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="the docs extras are not installed: pip install -e '.[docs]'")
    pytest.importorskip("material", reason="the docs extras are not installed: pip install -e '.[docs]'")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output
    for page in ("index.html", "reference/minireplicaset/index.html", "explanation/runtime/index.html"):
        assert (site / page).is_file(), f"{page} is missing from the built site"
    assert (site / "explanation" / "runtime-data-flow.svg").is_file()
