"""Build the pinned toolchain from the Go module proxy into the cache, once per set of versions."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from operators.devcluster.versions import GO_MIN, REPO, TOOLCHAIN, Toolchain, toolchain_dir

__all__ = ["BuildError", "build", "missing_binaries"]

MIN_FREE_BYTES = 8 * 1024**3  # module cache + build cache + binaries of a cold build, with margin
KUBE_PROGRAMS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "kubectl")


class BuildError(RuntimeError):
    """A build step failed, or a precondition (Go, proxy, disk) does not hold; the message says which."""


@dataclass(frozen=True)
class Step:
    """One `go build`/`go install` producing one binary in the cache's bin/."""

    binary: str
    title: str
    argv: tuple[str, ...]
    cwd: Path | None = None


def _steps(tc: Toolchain, out: Path) -> list[Step]:
    k8s_minor = tc.kubernetes.split(".")[1]
    kube_ldflags = " ".join(
        [
            "-s -w",
            f"-X k8s.io/component-base/version.gitVersion={tc.kubernetes}",
            "-X k8s.io/component-base/version.gitMajor=1",
            f"-X k8s.io/component-base/version.gitMinor={k8s_minor}",
            "-X k8s.io/component-base/version.gitTreeState=clean",
            f"-X k8s.io/client-go/pkg/version.gitVersion={tc.kubernetes}",
        ]
    )
    kwok_ldflags = f"-s -w -X sigs.k8s.io/kwok/pkg/consts.Version={tc.kwok.lstrip('v')}"
    helm_ldflags = f"-s -w -X helm.sh/helm/v3/internal/version.version={tc.helm}"
    build = ("go", "build", "-mod=readonly", "-trimpath")
    install = ("go", "install", "-trimpath")
    return [
        Step(
            "etcd",
            f"etcd {tc.etcd}",
            (*build, "-ldflags=-s -w", "-o", str(out / "etcd"), "."),
            REPO / "toolchain" / "etcd",
        ),
        Step(
            "kwok",
            f"kwok {tc.kwok}",
            (*install, f"-ldflags={kwok_ldflags}", f"sigs.k8s.io/kwok/cmd/kwok@{tc.kwok}"),
        ),
        Step(
            "kwokctl",
            f"kwokctl {tc.kwok}",
            (*install, f"-ldflags={kwok_ldflags}", f"sigs.k8s.io/kwok/cmd/kwokctl@{tc.kwok}"),
        ),
        Step(
            "helm",
            f"helm {tc.helm}",
            (*install, f"-ldflags={helm_ldflags}", f"helm.sh/helm/v3/cmd/helm@{tc.helm}"),
        ),
        Step(
            "kube",
            f"Kubernetes {tc.kubernetes} (apiserver, controller-manager, scheduler, kube-proxy, kubectl)",
            (*build, f"-ldflags={kube_ldflags}", "-o", str(out / "kube"), "."),
            REPO / "toolchain" / "kube",
        ),
    ]


def missing_binaries(tc: Toolchain = TOOLCHAIN) -> list[str]:
    bin_dir = toolchain_dir(tc) / "bin"
    wanted = ["etcd", "kwok", "kwokctl", "helm", "kube", *KUBE_PROGRAMS]
    return [name for name in wanted if not (bin_dir / name).exists()]


def build(tc: Toolchain = TOOLCHAIN, *, log: Path | None = None) -> Path:
    """Build what is missing for `tc` and return its bin/ directory. A warm cache builds nothing."""
    bin_dir = toolchain_dir(tc) / "bin"
    if not missing_binaries(tc):
        print(f"toolchain: up to date in {bin_dir}")
        return bin_dir
    bin_dir.mkdir(parents=True, exist_ok=True)
    _check_go()
    _check_disk(bin_dir)
    env = _go_env()
    _check_proxy(env)
    started = time.monotonic()
    steps = [step for step in _steps(tc, bin_dir) if not (bin_dir / step.binary).exists()]
    log = log or bin_dir.parent / "build.log"
    for index, step in enumerate(steps, 1):
        label = f"[{index}/{len(steps)}] {step.title}"
        _run_step(step, bin_dir, env, label, log)
    for program in KUBE_PROGRAMS:
        link = bin_dir / program
        if not link.exists():
            link.symlink_to("kube")
    size = sum(p.stat().st_size for p in bin_dir.iterdir() if p.is_file() and not p.is_symlink())
    print(f"toolchain: built in {_elapsed(started)}, {size / 1024**2:.0f} MiB in {bin_dir}")
    return bin_dir


def _run_step(step: Step, bin_dir: Path, env: dict[str, str], label: str, log: Path) -> None:
    """Run one build with a heartbeat line every 30 s (a cold Kubernetes build prints nothing for minutes)."""
    with tempfile.TemporaryDirectory(dir=bin_dir.parent) as staging:
        argv = [a.replace(str(bin_dir), staging) for a in step.argv]
        step_env = dict(env, GOBIN=staging)
        started = time.monotonic()
        print(f"toolchain: {label} ...", flush=True)
        done = threading.Event()

        def heartbeat() -> None:
            while not done.wait(30):
                print(f"toolchain: {label} still building, {_elapsed(started)}", flush=True)

        ticker = threading.Thread(target=heartbeat, daemon=True)
        ticker.start()
        with log.open("a") as sink:
            sink.write(f"\n$ (cd {step.cwd or '.'}) {' '.join(argv)}\n")
            sink.flush()
            result = subprocess.run(argv, cwd=step.cwd, env=step_env, stdout=sink, stderr=subprocess.STDOUT)
        done.set()
        if result.returncode != 0:
            tail = "".join(log.read_text().splitlines(keepends=True)[-25:])
            raise BuildError(f"{label} failed (exit {result.returncode}); last lines of {log}:\n{tail}")
        os.replace(Path(staging) / step.binary, bin_dir / step.binary)
        print(f"toolchain: {label} done in {_elapsed(started)}", flush=True)


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(GOTOOLCHAIN="local", CGO_ENABLED="0", GOFLAGS="-buildvcs=false")
    return env


def _check_go() -> None:
    go = shutil.which("go")
    if go is None:
        raise BuildError(f"Go is not installed (need Go >= {GO_MIN[0]}.{GO_MIN[1]} on PATH to build the toolchain)")
    output = subprocess.run([go, "version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"go(\d+)\.(\d+)", output)
    if found is None or (int(found[1]), int(found[2])) < GO_MIN:
        raise BuildError(f"Go >= {GO_MIN[0]}.{GO_MIN[1]} is needed to build the toolchain, found: {output.strip()}")


def _check_disk(path: Path) -> None:
    for where in {path, Path(_go_value("GOMODCACHE") or path), Path(_go_value("GOCACHE") or path)}:
        where.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(where).free
        if free < MIN_FREE_BYTES:
            raise BuildError(
                f"only {free / 1024**3:.1f} GiB free at {where}; a cold toolchain build needs "
                f"{MIN_FREE_BYTES / 1024**3:.0f} GiB (module cache, build cache and binaries)"
            )


def _check_proxy(env: dict[str, str]) -> None:
    """Ask the module proxy for one small module list, so a dead network fails in seconds, not mid-build."""
    try:
        result = subprocess.run(
            ["go", "list", "-m", "-versions", "sigs.k8s.io/kwok"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tempfile.gettempdir(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BuildError(f"the Go module proxy did not answer within 60 s (GOPROXY={_go_value('GOPROXY')})") from None
    if result.returncode != 0:
        raise BuildError(
            f"the Go module proxy is unreachable (GOPROXY={_go_value('GOPROXY')}): {result.stderr.strip()}"
        )


def _go_value(name: str) -> str:
    result = subprocess.run(["go", "env", name], capture_output=True, text=True, check=False)
    return result.stdout.strip()


def _elapsed(started: float) -> str:
    seconds = int(time.monotonic() - started)
    return f"{seconds // 60}m{seconds % 60:02d}s"


def main(argv: Sequence[str] = ()) -> int:
    try:
        build()
    except BuildError as error:
        print(f"toolchain: error: {error}", file=sys.stderr)
        return 1
    return 0
