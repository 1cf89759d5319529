"""Pinned toolchain versions and the cache directory they are built into."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GO_MIN", "TOOLCHAIN", "Toolchain", "cache_root", "toolchain_dir"]

REPO = Path(__file__).resolve().parents[2]
GO_MIN = (1, 26)


@dataclass(frozen=True)
class Toolchain:
    """Every pinned version, in one place. Bumping one rebuilds exactly the binaries it affects."""

    kubernetes: str = "v1.35.4"  # kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
    etcd: str = "v3.6.16"  # go.etcd.io/etcd/server/v3, wrapped in toolchain/etcd
    kwok: str = "v0.8.0"  # sigs.k8s.io/kwok: kwok (the node/pod simulator) and kwokctl
    helm: str = "v3.21.4"  # helm.sh/helm/v3

    @property
    def key(self) -> str:
        """The cache key: the versions, plus a digest of the wrapper modules' sources."""
        digest = hashlib.sha256()
        for path in sorted((REPO / "toolchain").rglob("*")):
            if path.is_file() and path.suffix in {".go", ".mod", ".sum"}:
                digest.update(path.relative_to(REPO).as_posix().encode())
                digest.update(path.read_bytes())
        return f"k8s-{self.kubernetes}_etcd-{self.etcd}_kwok-{self.kwok}_helm-{self.helm}_{digest.hexdigest()[:10]}"


TOOLCHAIN = Toolchain()


def cache_root() -> Path:
    """`$MINI_OPERATORS_CACHE`, else `$XDG_CACHE_HOME/mini-operators`, else `~/.cache/mini-operators`."""
    if explicit := os.environ.get("MINI_OPERATORS_CACHE"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mini-operators"


def toolchain_dir(toolchain: Toolchain = TOOLCHAIN) -> Path:
    """Where the binaries of these pinned versions live: outside the work tree, shared by every checkout."""
    return cache_root() / "toolchain" / toolchain.key
