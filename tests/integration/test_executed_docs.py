"""Executed documentation: every runnable console block of README.md and docs/ runs against the local cluster.

One test per page that has a block marked `<!-- exec -->` or `<!-- exec: no-output -->` (the convention is in
tests/docs/execdocs.py and docs/how-to/write-docs.md). A page runs as a reader would run it: its blocks in
order in one bash session, from the repository root, with the cluster's kubectl and helm, `kubectl mini` and the
project's `python` first on PATH. The in-process operator of the other tests is stopped first: a page that
needs the operator starts it, as its reader does.

The environment is the reader's after `eval "$(python -m operators.devcluster env)"`: KUBECONFIG is the
cluster's own kubeconfig, so a page may run that line too and nothing changes.

Isolation: each page gets a namespace of its own, `docs-<page>-<random>` labelled `docs.minik8s.dev/page`; while
the page runs it is the namespace of the kubeconfig's current context (the file is restored afterwards), so
`kubectl apply -f examples/...` lands there. Afterwards the harness ends the page's background jobs (SIGTERM, so
an operator gives its lease back) and deletes that namespace and every namespace that appeared while the page
ran. Cluster-scoped objects a page creates (a CRD of its own) are the page's to delete in its last block.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from operators.devcluster.cluster import Cluster
from tests.docs.execdocs import BashSession, DocsSyntaxError, console_pages, parse_page, run_blocks
from tests.integration.conftest import InProcessOperator

pytestmark = [pytest.mark.cluster]

REPO = Path(__file__).resolve().parents[2]
PAGE_LABEL = "docs.minik8s.dev/page"


def runnable_pages() -> list[Path]:
    """The pages with a block to run; a page that does not parse is included, and fails with the reason."""
    pages = []
    for page in console_pages(REPO):
        try:
            runs = any(block.runs for block in parse_page(page.read_text(encoding="utf-8"), str(page)))
        except DocsSyntaxError:
            runs = True
        if runs:
            pages.append(page)
    return pages


def slug(page: Path) -> str:
    text = str(page.relative_to(REPO)).removesuffix(".md").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:40].strip("-")


def namespaces(cluster: Cluster) -> set[str]:
    listed = cluster.kubectl("get", "namespaces", "-o", "name").stdout.split()
    return {name.removeprefix("namespace/") for name in listed}


@contextlib.contextmanager
def page_namespace(cluster: Cluster, page: Path) -> Iterator[str]:
    """A fresh namespace for the page, the default of the kubeconfig's current context while the page runs."""
    namespace = f"docs-{slug(page)}-{secrets.token_hex(3)}"
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("label", "namespace", namespace, f"{PAGE_LABEL}={slug(page)}")
    kubeconfig = cluster.layout.kubeconfig
    original = kubeconfig.read_bytes()
    cluster.kubectl("config", "set-context", "--current", f"--namespace={namespace}")
    try:
        yield namespace
    finally:
        kubeconfig.write_bytes(original)


def reader_env(cluster: Cluster) -> dict[str, str]:
    """The reader's shell after `eval "$(python -m operators.devcluster env)"`, with the project's venv on PATH."""
    venv_bin = Path(sys.executable).parent  # not resolved: .venv/bin/python is a symlink to the base interpreter
    path = os.pathsep.join([str(cluster.bin), str(venv_bin), os.environ.get("PATH", "")])
    return dict(os.environ, KUBECONFIG=str(cluster.layout.kubeconfig), PATH=path, NO_COLOR="1", TERM="dumb")


@pytest.mark.parametrize("page", runnable_pages(), ids=lambda page: str(page.relative_to(REPO)))
def test_page_runs_as_written(
    page: Path, cluster: Cluster, crds: None, no_operator: InProcessOperator, tmp_path: Path
) -> None:
    blocks = parse_page(page.read_text(encoding="utf-8"), str(page.relative_to(REPO)))
    before = namespaces(cluster)
    try:
        with page_namespace(cluster, page):
            session = BashSession(cwd=REPO, env=reader_env(cluster), workdir=tmp_path)
            try:
                failure = run_blocks(session, blocks)
            finally:
                session.close()
    finally:
        leftovers = sorted(namespaces(cluster) - before)
        cluster.kubectl("delete", "namespace", "--ignore-not-found", "--wait=true", "--timeout=120s", *leftovers)
    assert failure is None, failure
