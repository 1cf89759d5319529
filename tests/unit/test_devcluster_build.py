"""The toolchain build fails early, with a clear message, when Go, the module proxy or the disk won't do."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path
from typing import Any

import pytest

from operators.devcluster import build as toolchain
from operators.devcluster.build import BuildError, build
from operators.devcluster.versions import TOOLCHAIN, toolchain_dir


@pytest.fixture(autouse=True)
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the toolchain cache at an empty directory: every binary is missing, so build() really starts."""
    monkeypatch.setenv("MINI_OPERATORS_CACHE", str(tmp_path / "cache"))


def fake_go(tmp_path: Path, version_line: str) -> str:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    go.chmod(0o755)
    return str(bin_dir)


def test_missing_go_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BuildError, match=r"Go is not installed \(need Go >= 1\.26"):
        build()


def test_too_old_go_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", fake_go(tmp_path, "go version go1.22.5 linux/amd64"))
    with pytest.raises(BuildError, match=r"Go >= 1\.26 is needed .* found: go version go1\.22\.5"):
        build()


def test_a_small_disk_is_refused_before_anything_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    usage = shutil.disk_usage("/")

    def tiny(path: Any) -> Any:
        return usage._replace(free=2 * 1024**3)

    monkeypatch.setattr(toolchain.shutil, "disk_usage", tiny)
    with pytest.raises(BuildError, match=r"only 2\.0 GiB free at .* needs 8 GiB"):
        build()
    assert not any((toolchain_dir(TOOLCHAIN) / "bin").iterdir())


def test_an_unreachable_module_proxy_fails_in_seconds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("GOPROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "gomod"))
    with pytest.raises(BuildError, match=r"the Go module proxy is unreachable \(GOPROXY=http://127\.0\.0\.1"):
        build()
