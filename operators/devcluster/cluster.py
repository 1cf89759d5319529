"""Supervise the local control plane: start etcd, the Kubernetes components and kwok, by PID, and stop them.

We run our own small supervisor instead of `kwokctl --runtime binary`: it lets us put etcd on tmpfs, pick the
exact flags (RBAC, service-account tokens, built-in controllers on or off), record the PIDs we started so that
`down` stops exactly those, and never reach for a download. kwokctl is still built, for people who want it.

Fault tests stop and start single components (`stop_component`, `start_component`, `restart_component`) and
compact etcd (`compact_etcd`); `up` on a partly running cluster starts only what is missing, keeping etcd's data.
"""

from __future__ import annotations

import base64
import contextlib
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
from typing import Any

import yaml

from operators.devcluster import pki
from operators.devcluster.build import missing_binaries
from operators.devcluster.components import COMPONENTS, Layout, component_argv, node_manifest
from operators.devcluster.versions import TOOLCHAIN, toolchain_dir

__all__ = ["Cluster", "ClusterError", "Layout", "http_ok"]

PORT_RELEASE_WAIT = 10.0  # seconds a stopped component may take to let go of its ports
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL


class ClusterError(RuntimeError):
    """The cluster could not be brought up, or its state is not what a command expects."""


@dataclass
class State:
    """What `up` recorded: the PIDs it started and the settings they were started with.

    A component stopped on purpose (`stop_component`) is recorded with PID None, so the file never holds a
    PID we no longer own.
    """

    pids: dict[str, int | None] = field(default_factory=dict)
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
        """Start everything, or say it is already up. A change of `builtin_controllers` restarts only KCM.

        On a partly running cluster it starts only the components that are missing and keeps etcd's data;
        only a state it cannot resume (another toolchain, etcd's data or the credentials gone) is replaced,
        and a cluster running from another toolchain is stopped and started afresh from this one.
        """
        state = State.load(self.layout.state_file)
        if state is not None and self._all_running(state) and state.toolchain != TOOLCHAIN.key:
            # A component restarted later would have to come from the old toolchain's binaries: start afresh.
            self.echo("cluster: running with another toolchain; stopping it and starting afresh with this one")
            self.down()
            state = None
        if state is not None and self._all_running(state):
            if state.builtin_controllers != builtin_controllers:
                self._restart_controller_manager(state, builtin_controllers)
            else:
                self.echo(f"cluster: already up (built-in workload controllers {_on_off(builtin_controllers)})")
            self._ensure_nodes(nodes)
            return
        self._require_toolchain()
        if state is not None:
            if (reason := self._unusable(state)) is None:
                self._resume(state, nodes=nodes, builtin_controllers=builtin_controllers)
                return
            self.echo(f"cluster: {reason}; stopping what is left of it and starting afresh")
            self.down()
        self._check_ports_free(COMPONENTS)
        started = time.monotonic()
        self.layout.state_dir.mkdir(parents=True, exist_ok=True)
        self.layout.logs.mkdir(exist_ok=True)
        pki.write_pki(self.layout.pki)
        self._write_credentials()
        state = State(builtin_controllers=builtin_controllers, nodes=nodes, toolchain=TOOLCHAIN.key)
        try:
            for name in COMPONENTS:
                self._launch(state, name)
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
            for name in reversed(COMPONENTS):
                self._stop(state, name)
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
        for name in COMPONENTS:
            pid = state.pids.get(name)
            alive = self._live_pid(state, name) is not None
            healthy &= alive
            if pid is None:
                self.echo(f"  {name:<24} {'-':<12} stopped")
            else:
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

    # --- single components, for fault tests

    def stop_component(self, name: str, *, grace: float = STOP_GRACE) -> None:
        """Stop one component (SIGTERM, SIGKILL after `grace` seconds) and record it as stopped.

        Only the recorded PID is signalled, and only while it still runs our binary. etcd's data dir stays.
        """
        state = self._state_of(name)
        if self._live_pid(state, name) is None:
            self.echo(f"cluster: {name} is not running")
        self._stop(state, name, grace=grace)
        state.save(self.layout.state_file)

    def start_component(self, name: str) -> int:
        """Start one stopped component with the cluster's settings, wait until it is healthy; return its PID.

        A component that runs already is left alone. etcd restarts on the data dir it had.
        """
        state = self._state_of(name)
        if (pid := self._live_pid(state, name)) is not None:
            self.echo(f"cluster: {name} is already running (pid {pid})")
            return pid
        self._require_toolchain()
        if reason := self._unusable(state):
            raise ClusterError(f"cannot start {name}: {reason}; `down` then `up` starts a fresh cluster")
        return self._start_recorded(state, name)

    def restart_component(self, name: str, *, grace: float = STOP_GRACE) -> int:
        """Stop one component, then start it again and wait until it is healthy; return its new PID."""
        self.stop_component(name, grace=grace)
        return self.start_component(name)

    def compact_etcd(self) -> int:
        """Compact etcd's history at its current revision; return that revision.

        Fault tests use it to force a relist: once the history is compacted, and the API server's watch cache
        has been rebuilt by a restart, a watch from an older resourceVersion can be served neither from the
        cache nor from etcd, and the client gets 410 Gone, as after a long partition on a real cluster.
        The range of the single key "\\0" is only there for the header's revision.
        """
        revision = int(self._etcd("kv/range", {"key": base64.b64encode(b"\0").decode()})["header"]["revision"])
        try:
            self._etcd("kv/compaction", {"revision": str(revision), "physical": True})
        except ClusterError as error:
            # Nothing was written since an earlier compaction at this very revision: the goal holds already.
            if "required revision has been compacted" not in str(error):
                raise
        self.echo(f"cluster: etcd compacted at revision {revision}")
        return revision

    # --- processes

    def _resume(self, state: State, *, nodes: int, builtin_controllers: bool) -> None:
        """Start the components that are not running, in dependency order, on the existing data and credentials."""
        missing = [name for name in COMPONENTS if self._live_pid(state, name) is None]
        self.echo(f"cluster: partly running; starting {', '.join(missing)} (etcd's data is kept)")
        if "kube-controller-manager" in missing:
            state.builtin_controllers = builtin_controllers
        for name in missing:
            self._start_recorded(state, name)
        if state.builtin_controllers != builtin_controllers:
            self._restart_controller_manager(state, builtin_controllers)
        self._ensure_nodes(nodes)

    def _start_recorded(self, state: State, name: str) -> int:
        """Start `name` beside the running cluster; on failure stop it again, so the state stays true.

        A component just stopped may hold its port a little longer than its PID looks alive (a Go process
        whose main thread exited first reads as a zombie while its other threads still close sockets), so
        its ports get a few seconds to close before they count as taken by someone else.
        """
        deadline = time.monotonic() + PORT_RELEASE_WAIT
        while True:
            try:
                self._check_ports_free((name,))
                break
            except ClusterError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        try:
            return self._launch(state, name)
        except BaseException:
            self._stop(state, name)
            state.save(self.layout.state_file)
            raise

    def _launch(self, state: State, name: str) -> int:
        """Start `name` with the state's settings, record its PID before anything can fail, wait until healthy."""
        pid = self._start(name, builtin_controllers=state.builtin_controllers)
        state.pids[name] = pid
        state.save(self.layout.state_file)
        self._wait_healthy(name, pid)
        return pid

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

    def _stop(self, state: State, name: str, *, grace: float = STOP_GRACE) -> None:
        """Stop `name` if its recorded PID is still ours, and record it as stopped (the caller saves the state)."""
        pid = self._live_pid(state, name)
        state.pids[name] = None
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):  # it may exit on its own between the check and the signal
            os.kill(pid, signal.SIGTERM)
            if not _wait_exit(pid, grace):
                os.kill(pid, signal.SIGKILL)
                _wait_exit(pid, grace)
        self.echo(f"cluster: stopped {name} (pid {pid})")

    def _live_pid(self, state: State, name: str) -> int | None:
        """The recorded PID of `name` while that process runs our binary; None when stopped, exited or reused."""
        pid = state.pids.get(name)
        return pid if pid is not None and self._is_ours(pid, self._binary(state, name)) else None

    def _is_ours(self, pid: int, binary: Path) -> bool:
        """The PID is alive and still runs the binary we started (PIDs get reused)."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return bool(cmdline) and cmdline[0] == str(binary).encode() and _alive(pid)

    def _binary(self, state: State, name: str) -> Path:
        """The binary `name` of the toolchain the state was started with, so a toolchain bump can still stop it."""
        return (self.bin.parents[1] / state.toolchain / "bin" if state.toolchain else self.bin) / name

    def _all_running(self, state: State) -> bool:
        return all(self._live_pid(state, name) is not None for name in COMPONENTS)

    def _state_of(self, name: str) -> State:
        if name not in COMPONENTS:
            raise ClusterError(f"unknown component {name!r}: one of {', '.join(COMPONENTS)}")
        state = State.load(self.layout.state_file)
        if state is None:
            raise ClusterError(f"the cluster in {self.layout.state_dir} is not running: `up` starts it")
        return state

    def _unusable(self, state: State) -> str | None:
        """Why the recorded cluster cannot be resumed, or None when it can."""
        if state.toolchain != TOOLCHAIN.key:
            return "it was started with another toolchain"
        if not self.layout.etcd_data.is_dir():
            return f"etcd's data dir {self.layout.etcd_data} is gone"
        credentials = (self.layout.pki / "ca.crt", self.layout.state_dir / "tokens.csv", self.layout.kubeconfig)
        if not all(path.exists() for path in credentials):
            return "its certificates or tokens are gone"
        return None

    def _require_toolchain(self) -> None:
        if missing := missing_binaries():
            raise ClusterError(f"toolchain not built (missing {', '.join(missing)}): run `make toolchain` first")

    def _restart_controller_manager(self, state: State, builtin_controllers: bool) -> None:
        self.echo(
            f"cluster: restarting kube-controller-manager with built-in workload controllers "
            f"{_on_off(builtin_controllers)}"
        )
        self._stop(state, "kube-controller-manager")
        state.builtin_controllers = builtin_controllers
        self._launch(state, "kube-controller-manager")

    # --- health and etcd

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
                return http_ok(f"{self._etcd_url()}/health")
            case "kube-apiserver":
                context = ssl.create_default_context(cafile=str(self.layout.pki / "ca.crt"))
                token = self._token("admin")
                return http_ok(f"https://127.0.0.1:{port}/readyz", context=context, token=token)
            case "kwok":
                return http_ok(f"http://127.0.0.1:{port}/healthz")
            case "kube-controller-manager":
                # KCM answers /healthz before it has built its controllers, and while it builds them (each
                # fetching its service account's credentials) it exits if the API server goes away. It adds one
                # check per controller when all are built (BuildControllers in cmd/kube-controller-manager), so we
                # wait for the first of them: from then on KCM outlives an API server restart, as a fault test needs.
                verbose = _http_text(
                    f"https://127.0.0.1:{port}/healthz?verbose", context=ssl._create_unverified_context()
                )
                return "[+]serviceaccount-token-controller ok" in (verbose or "")
            case _:
                return http_ok(f"https://127.0.0.1:{port}/healthz", context=ssl._create_unverified_context())

    def _etcd_url(self) -> str:
        """etcd's client URL: plain HTTP on loopback, as component_argv starts it (no client TLS)."""
        return f"http://127.0.0.1:{self.layout.ports['etcd']}"

    def _etcd(self, method: str, body: dict[str, object]) -> dict[str, Any]:
        """One call to etcd's gRPC-JSON gateway (`POST /v3/<service>/<method>`; bytes in base64, int64 as strings)."""
        url = f"{self._etcd_url()}/v3/{method}"
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as error:
            raise ClusterError(f"etcd {method}: HTTP {error.code}: {error.read().decode(errors='replace')}") from None
        except OSError as error:
            raise ClusterError(f"etcd {method}: {url} unreachable: {error}") from None

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

    def _check_ports_free(self, names: tuple[str, ...]) -> None:
        """The ports of these components (etcd's peer port with etcd) take no connection: nothing listens there."""
        for name, port in self.layout.ports.items():
            if name.removesuffix("-peer") not in names:
                continue
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    raise ClusterError(
                        f"port {port} ({name}) is already in use: another cluster, or another "
                        "program; set MINI_CLUSTER_PORT_BASE to move this cluster's ports"
                    )


def http_ok(url: str, *, context: ssl.SSLContext | None = None, token: str | None = None) -> bool:
    """True when `url` answers 200 within 2 s (a health endpoint); False on any error or other status."""
    return _http_text(url, context=context, token=token) is not None


def _http_text(url: str, *, context: ssl.SSLContext | None = None, token: str | None = None) -> str | None:
    """The body of `url` when it answers 200 within 2 s; None on any error or other status."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=2, context=context) as response:
            return response.read().decode(errors="replace") if response.status == 200 else None
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return None


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


def _wait_exit(pid: int, timeout: float) -> bool:
    """Wait up to `timeout` seconds for `pid` to exit; True when it did."""
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


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
