"""Command line of the local cluster: build, up, down, status, env, stop/restart of one component, net."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from operators.devcluster.build import BuildError, build
from operators.devcluster.cluster import Cluster, ClusterError
from operators.devcluster.components import COMPONENTS
from operators.devcluster.net.netns import NetError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m operators.devcluster", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="build the pinned toolchain into the cache (a no-op when it is there)")
    up = commands.add_parser("up", help="start the cluster, or say that it is up")
    up.add_argument("--nodes", type=int, default=3, help="number of kwok nodes (default 3)")
    up.add_argument(
        "--no-builtin-controllers",
        action="store_true",
        help="run kube-controller-manager without its deployment, replicaset and endpointslice "
        "controllers (benchmarks use this; on a running cluster only KCM restarts)",
    )
    commands.add_parser("down", help="stop the processes `up` started and remove their state")
    commands.add_parser("status", help="show the components, the API server and the nodes")
    commands.add_parser("env", help="print the shell lines that select this cluster and the pinned binaries")
    stop = commands.add_parser("stop", help="stop one component (SIGTERM, then SIGKILL); `up` starts it again")
    stop.add_argument("component", choices=COMPONENTS)
    restart = commands.add_parser("restart", help="stop one component and start it again (etcd keeps its data)")
    restart.add_argument("component", choices=COMPONENTS)
    net = commands.add_parser("net", help="the network test bed: pods as network namespaces with their IPs")
    net.add_argument("action", choices=("up", "down", "status"), help="start it, remove it, or show it")
    args = parser.parse_args(argv)
    cluster = Cluster()
    try:
        match args.command:
            case "build":
                build()
            case "up":
                build()
                cluster.up(nodes=args.nodes, builtin_controllers=not args.no_builtin_controllers)
                print("\nTo use it from your shell (kubectl and helm pinned to the cluster's version):")
                print("\n".join(f"  {line}" for line in cluster.env_lines()))
            case "down":
                cluster.down()
            case "status":
                return 0 if cluster.status() else 1
            case "env":
                print("\n".join(cluster.env_lines()))
            case "stop":
                cluster.stop_component(args.component)
            case "restart":
                cluster.restart_component(args.component)
            case "net":
                from operators.devcluster.net import serve  # imported late: only `net` needs it

                if args.action == "up":
                    serve.net_up(cluster)
                elif args.action == "down":
                    serve.net_down(cluster)
                else:
                    return 0 if serve.net_status(cluster) else 1
    except (BuildError, ClusterError, NetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
