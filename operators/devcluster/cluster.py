"""Supervise the local control plane: start etcd, the Kubernetes components and kwok, by PID, and stop them.

We run our own small supervisor instead of `kwokctl --runtime binary`: it lets us put etcd on tmpfs, pick the
exact flags (RBAC, service-account tokens, built-in controllers on or off), record the PIDs we started so that
`down` stops exactly those, and never reach for a download. kwokctl is still built, for people who want it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from operators.devcluster import pki
from operators.devcluster.build import missing_binaries
from operators.devcluster.components import COMPONENTS, Layout, component_argv, node_manifest
from operators.devcluster.versions import TOOLCHAIN, toolchain_dir

__all__ = ["Cluster", "ClusterError", "Layout", "http_ok"]


class ClusterError(RuntimeError):
    """The cluster could not be brought up, or its state is not what a command expects."""


@dataclass
class State:
    """What `up` recorded: the PIDs it started and the settings they were started with."""

    pids: dict[str, int] = field(default_factory=dict)
    builtin_controllers: bool = True
    nodes: int = 3
    toolchain: str = ""

    @classmethod
    def load(cls, path: Path) -> State | None:
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            return None

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


class Cluster:
    """The local cluster: `up`, `down`, `status`. Every method is synchronous: it is a command-line tool."""

    def __init__(self, layout: Layout | None = None, *, echo: Callable[[str], None] = print) -> None:
        self.layout = layout or Layout.default()
        self.bin = toolchain_dir() / "bin"
        self.echo = echo

    # --- public commands

    def up(self, *, nodes: int = 3, builtin_controllers: bool = True) -> None:
        """Start everything, or say it is already up. A change of `builtin_controllers` restarts only KCM."""
        state = State.load(self.layout.state_file)
        if state is not None and self._all_running(state):
            if state.builtin_controllers != builtin_controllers:
                self._restart_controller_manager(state, builtin_controllers)
            else:
                self.echo(f"cluster: already up (built-in workload controllers {_on_off(builtin_controllers)})")
            self._ensure_nodes(nodes)
            return
        if state is not None:
            self.echo("cluster: a previous cluster is partly running; stopping what is left of it first")
            self.down()
        if missing := missing_binaries():
            raise ClusterError(f"toolchain not built (missing {', '.join(missing)}): run `make toolchain` first")
        self._check_ports_free()
        started = time.monotonic()
        self.layout.state_dir.mkdir(parents=True, exist_ok=True)
        self.layout.logs.mkdir(exist_ok=True)
        pki.write_pki(self.layout.pki)
        self._write_credentials()
        state = State(builtin_controllers=builtin_controllers, nodes=nodes, toolchain=TOOLCHAIN.key)
        try:
            for name in COMPONENTS:
                state.pids[name] = self._start(name, builtin_controllers=builtin_controllers)
                state.save(self.layout.state_file)
                self._wait_healthy(name, state.pids[name])
            self._ensure_nodes(nodes)
        except BaseException:
            self.echo(f"cluster: start failed; logs are in {self.layout.logs}")
            self.down()
            raise
        self.echo(
            f"cluster: up in {time.monotonic() - started:.1f}s "
            f"(built-in workload controllers {_on_off(builtin_controllers)})"
        )

    def down(self) -> None:
        """Stop exactly the processes `up` started (by PID, checking each is still ours) and remove their state."""
        state = State.load(self.layout.state_file)
        if state is None:
            self.echo("cluster: not running")
        else:
            for name in reversed(list(state.pids)):
                self._stop(name, state.pids[name])
            self.echo("cluster: stopped")
        for path in (self.layout.etcd_data.parent, self.layout.state_dir):
            _remove_tree(path)

    def status(self) -> bool:
        """Print each component's state; True when everything runs and the API server is ready."""
        state = State.load(self.layout.state_file)
        if state is None:
            self.echo("cluster: not running")
            return False
        healthy = True
        for name, pid in state.pids.items():
            alive = self._is_ours(name, pid)
            healthy &= alive
            self.echo(f"  {name:<24} pid {pid:<8} {'running' if alive else 'NOT RUNNING'}")
        ready = self._probe("kube-apiserver")
        healthy &= ready
        self.echo(f"  {'api server':<24} {self._server():<13} {'ready' if ready else 'NOT READY'}")
        self.echo(f"  built-in workload controllers {_on_off(state.builtin_controllers)}")
        if ready:
            nodes = self.kubectl("get", "nodes", "--no-headers", check=False).stdout.strip()
            self.echo("  nodes:\n" + "\n".join(f"    {line}" for line in nodes.splitlines()))
        self.echo(f"  kubeconfig: {self.layout.kubeconfig}")
        return healthy

    def env_lines(self) -> list[str]:
        """The shell lines that point kubectl, helm and the tests at this cluster and the pinned binaries."""
        return [f"export KUBECONFIG={self.layout.kubeconfig}", f'export PATH="{self.bin}:$PATH"']

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the pinned kubectl against this cluster."""
        return subprocess.run(
            [str(self.bin / "kubectl"), f"--kubeconfig={self.layout.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    # --- processes

    def _start(self, name: str, *, builtin_controllers: bool) -> int:
        if name == "etcd":
            self.layout.etcd_data.mkdir(parents=True, exist_ok=True)
        argv = [str(self.bin / name), *component_argv(name, self.layout, builtin_controllers=builtin_controllers)]
        log = (self.layout.logs / f"{name}.log").open("ab")
        # A new session: the components outlive `make up` and ignore the terminal's Ctrl-C.
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=self.layout.state_dir,
        )
        self.echo(f"cluster: started {name} (pid {process.pid})")
        return process.pid

    def _stop(self, name: str, pid: int) -> None:
        if not self._is_ours(name, pid):
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.echo(f"cluster: stopped {name} (pid {pid})")

    def _is_ours(self, name: str, pid: int) -> bool:
        """The PID is alive and still runs the binary we started (PIDs get reused)."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return bool(cmdline) and cmdline[0] == str(self.bin / name).encode() and _alive(pid)

    def _all_running(self, state: State) -> bool:
        return (
            bool(state.pids)
            and all(self._is_ours(n, p) for n, p in state.pids.items())
            and len(state.pids) == len(COMPONENTS)
        )

    def _restart_controller_manager(self, state: State, builtin_controllers: bool) -> None:
        self.echo(
            f"cluster: restarting kube-controller-manager with built-in workload controllers "
            f"{_on_off(builtin_controllers)}"
        )
        self._stop("kube-controller-manager", state.pids["kube-controller-manager"])
        pid = self._start("kube-controller-manager", builtin_controllers=builtin_controllers)
        state.pids["kube-controller-manager"], state.builtin_controllers = pid, builtin_controllers
        state.save(self.layout.state_file)
        self._wait_healthy("kube-controller-manager", pid)

    # --- health

    def _wait_healthy(self, name: str, pid: int, timeout: float = 90) -> None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not _alive(pid):
                tail = _tail(self.layout.logs / f"{name}.log")
                raise ClusterError(f"{name} exited during start-up; last lines of its log:\n{tail}")
            if self._probe(name):
                self.echo(f"cluster: {name} healthy after {time.monotonic() - started:.1f}s")
                return
            time.sleep(0.2)
        raise ClusterError(f"{name} not healthy after {timeout:.0f}s; see {self.layout.logs / (name + '.log')}")

    def _probe(self, name: str) -> bool:
        port = self.layout.ports[name]
        match name:
            case "etcd":
                return http_ok(f"http://127.0.0.1:{port}/health")
            case "kube-apiserver":
                context = ssl.create_default_context(cafile=str(self.layout.pki / "ca.crt"))
                token = self._token("admin")
                return http_ok(f"https://127.0.0.1:{port}/readyz", context=context, token=token)
            case "kwok":
                return http_ok(f"http://127.0.0.1:{port}/healthz")
            case _:
                return http_ok(f"https://127.0.0.1:{port}/healthz", context=ssl._create_unverified_context())

    # --- credentials and nodes

    USERS = {  # token user -> groups. The components get the identities kubeadm gives them.
        "admin": "system:masters",
        "system:kube-controller-manager": "",
        "system:kube-scheduler": "",
        "kwok-controller": "system:masters",  # kwok plays every kubelet: it patches node and pod status
    }

    def _write_credentials(self) -> None:
        tokens = {user: secrets.token_hex(24) for user in self.USERS}
        lines = [f'{tokens[u]},{u},{u},"{g}"' if g else f"{tokens[u]},{u},{u}" for u, g in self.USERS.items()]
        path = self.layout.state_dir / "tokens.csv"
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)
        files = {
            "admin": self.layout.kubeconfig,
            "system:kube-controller-manager": self.layout.state_dir / "kube-controller-manager.kubeconfig",
            "system:kube-scheduler": self.layout.state_dir / "kube-scheduler.kubeconfig",
            "kwok-controller": self.layout.state_dir / "kwok.kubeconfig",
        }
        for user, path in files.items():
            path.write_text(yaml.safe_dump(self._kubeconfig(user, tokens[user]), sort_keys=False))
            path.chmod(0o600)

    def _token(self, user: str) -> str:
        for line in (self.layout.state_dir / "tokens.csv").read_text().splitlines():
            token, name, *_ = line.split(",")
            if name == user:
                return token
        raise ClusterError(f"no token for {user}")

    def _server(self) -> str:
        return f"https://127.0.0.1:{self.layout.ports['kube-apiserver']}"

    def _kubeconfig(self, user: str, token: str) -> dict[str, object]:
        ca = base64.b64encode((self.layout.pki / "ca.crt").read_bytes()).decode()
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "mini-operators",
                    "cluster": {"server": self._server(), "certificate-authority-data": ca},
                }
            ],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": "mini-operators", "context": {"cluster": "mini-operators", "user": user}}],
            "current-context": "mini-operators",
        }

    def _ensure_nodes(self, count: int) -> None:
        """Create kwok nodes kwok-node-0..N-1 (two zones, a /20 pod CIDR each) and wait for them to be Ready."""
        documents = [yaml.safe_dump(node_manifest(index)) for index in range(count)]
        self.kubectl("apply", "-f", "-", stdin="---\n".join(documents))
        self.kubectl("wait", "--for=condition=Ready", "node", "-l", "type=kwok", "--timeout=60s")
        self.echo(f"cluster: {count} kwok nodes Ready")

    def _check_ports_free(self) -> None:
        for name, port in self.layout.ports.items():
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    raise ClusterError(
                        f"port {port} ({name}) is already in use: another cluster, or another "
                        "program; set MINI_CLUSTER_PORT_BASE to move this cluster's ports"
                    )


def http_ok(url: str, *, context: ssl.SSLContext | None = None, token: str | None = None) -> bool:
    """True when `url` answers 200 within 2 s (a health endpoint); False on any error or other status."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=2, context=context) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own exited child) is not alive.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "".join(path.read_text(errors="replace").splitlines(keepends=True)[-lines:])
    except OSError:
        return "(no log)"


def _remove_tree(path: Path) -> None:
    if path.exists():
        subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=False)


def _on_off(flag: bool) -> str:
    return "on" if flag else "off"
