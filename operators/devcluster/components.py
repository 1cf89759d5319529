"""What runs in the local cluster: where it keeps its files, each component's flags, and the kwok nodes."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COMPONENTS", "DISABLEABLE_CONTROLLERS", "Layout", "component_argv", "node_manifest"]

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")  # in start order
DISABLEABLE_CONTROLLERS = ("deployment-controller", "replicaset-controller", "endpointslice-controller")
ZONES = ("zone-a", "zone-b")
SERVICE_CIDR = "10.96.0.0/16"
STAGES = Path(__file__).with_name("data") / "stages.yaml"


@dataclass(frozen=True)
class Layout:
    """Where a cluster keeps its files and which loopback ports it listens on."""

    state_dir: Path
    port_base: int = 26000

    @classmethod
    def default(cls) -> Layout:
        """`$MINI_CLUSTER_DIR`, else `$XDG_STATE_HOME/mini-operators/cluster`: one dev cluster per user.

        `$MINI_CLUSTER_PORT_BASE` (default 26000) moves its ports, so a second cluster can run beside it.
        """
        port_base = int(os.environ.get("MINI_CLUSTER_PORT_BASE", 26000))
        if explicit := os.environ.get("MINI_CLUSTER_DIR"):
            return cls(Path(explicit), port_base)
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        return cls(Path(base) / "mini-operators" / "cluster", port_base)

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def pki(self) -> Path:
        return self.state_dir / "pki"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def etcd_data(self) -> Path:
        """On tmpfs (/dev/shm) when there is one: etcd's fsyncs are what make a test cluster slow."""
        tag = hashlib.sha256(str(self.state_dir).encode()).hexdigest()[:8]
        shm = Path("/dev/shm")
        base = shm if shm.is_dir() and os.access(shm, os.W_OK) else self.state_dir
        return base / f"mini-operators-{tag}" / "etcd"

    @property
    def ports(self) -> dict[str, int]:
        base = self.port_base
        return {
            "etcd": base + 379,
            "etcd-peer": base + 380,
            "kube-apiserver": base + 443,
            "kube-controller-manager": base + 257,
            "kube-scheduler": base + 259,
            "kwok": base + 247,
        }


def component_argv(name: str, layout: Layout, *, builtin_controllers: bool) -> list[str]:
    """The command line flags of one component (its binary is `<toolchain bin>/<name>`)."""
    p, d, ports = layout.pki, layout.state_dir, layout.ports
    etcd_url = f"http://127.0.0.1:{ports['etcd']}"
    common = ["--bind-address=127.0.0.1", "--leader-elect=false", "--v=1"]
    match name:
        case "etcd":
            peer = f"http://127.0.0.1:{ports['etcd-peer']}"
            return [
                f"--data-dir={layout.etcd_data}",
                "--name=mini",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=mini={peer}",
                "--unsafe-no-fsync",
                "--log-level=warn",
                "--quota-backend-bytes=4294967296",
            ]
        case "kube-apiserver":
            return [
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={ports['kube-apiserver']}",
                f"--tls-cert-file={p / 'apiserver.crt'}",
                f"--tls-private-key-file={p / 'apiserver.key'}",
                f"--client-ca-file={p / 'ca.crt'}",
                f"--token-auth-file={d / 'tokens.csv'}",
                "--authorization-mode=Node,RBAC",
                "--allow-privileged=true",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={p / 'sa.pub'}",
                f"--service-account-signing-key-file={p / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                # The `kubernetes` Service would point at 127.0.0.1, which Endpoints validation rejects;
                # nothing runs inside this cluster that needs it.
                "--endpoint-reconciler-type=none",
                # Ready means the watch caches are initialised (the 1.36 default): a watch sent right after a
                # restart would otherwise get 429 "storage is (re)initializing". And on SIGTERM, close the
                # components' watches after 2 s instead of waiting 60 s for them to drain, so a stop is prompt.
                "--feature-gates=WatchCacheInitializationPostStartHook=true",
                "--shutdown-watch-termination-grace-period=2s",
                "--profiling=false",
                "--v=1",
            ]
        case "kube-controller-manager":
            controllers = "*" if builtin_controllers else ",".join(["*", *(f"-{c}" for c in DISABLEABLE_CONTROLLERS)])
            kubeconfig = d / "kube-controller-manager.kubeconfig"
            return [
                *common,
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                f"--secure-port={ports[name]}",
                "--use-service-account-credentials=true",
                f"--controllers={controllers}",
                f"--service-account-private-key-file={p / 'sa.key'}",
                f"--root-ca-file={p / 'ca.crt'}",
                f"--cluster-signing-cert-file={p / 'ca.crt'}",
                f"--cluster-signing-key-file={p / 'ca.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
            ]
        case "kube-scheduler":
            kubeconfig = d / "kube-scheduler.kubeconfig"
            return [
                *common,
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                f"--secure-port={ports[name]}",
            ]
        case "kwok":
            return [
                f"--kubeconfig={d / 'kwok.kubeconfig'}",
                f"--config={STAGES}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                "--node-lease-duration-seconds=40",
                f"--server-address=127.0.0.1:{ports['kwok']}",
            ]
    raise ValueError(f"unknown component {name}")


def node_manifest(index: int) -> dict[str, object]:
    """A kwok node: kwok-node-<index>, zone-a/zone-b alternately, a /20 pod CIDR of its own."""
    name = f"kwok-node-{index}"
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "type": "kwok",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/region": "local",
                "topology.kubernetes.io/zone": ZONES[index % len(ZONES)],
            },
        },
        # kwok hands out pod IPs from the node's podCIDR; a /20 holds 4094 pods per node.
        "spec": {"podCIDR": f"10.244.{index * 16}.0/20", "podCIDRs": [f"10.244.{index * 16}.0/20"]},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": f"172.30.0.{10 + index}"},
                {"type": "Hostname", "address": name},
            ],
            "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "2000"},
            "capacity": {"cpu": "32", "memory": "256Gi", "pods": "2000"},
        },
    }
