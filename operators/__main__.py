"""`python -m operators run` (console script `mini-operators`): run the operators against the current kubeconfig."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from operators.runtime.leaderelection import LeaderElectionConfig
from operators.runtime.manager import Options


def build_parser() -> argparse.ArgumentParser:
    """The command line of `mini-operators` (`run` and `agent`), also read by the docs' reference page."""
    parser = argparse.ArgumentParser(prog="mini-operators", description="Run the mini-operators controllers.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the controllers against the current kubeconfig (or in-cluster)")
    scope = run.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", action="append", default=[], help="watch only this namespace (repeatable)")
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="watch every namespace (the default)")
    run.add_argument("--kubeconfig", help="path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    run.add_argument("--context", help="kubeconfig context to use")
    run.add_argument("--workers", type=int, default=5, help="concurrent syncs per controller (default 5, as KCM)")
    run.add_argument(
        "--max-endpoints-per-slice",
        type=int,
        default=100,
        metavar="N",
        help="endpoints in one MiniService EndpointSlice, 1-1000 (default %(default)s, as KCM)",
    )
    run.add_argument(
        "--mirror-native",
        action="store_true",
        help="mirror each MiniNetworkPolicy into a networking/v1 NetworkPolicy of the same name, for clusters whose "
        "network plugin enforces NetworkPolicy (kind's kindnet does)",
    )
    run.add_argument("--kube-api-qps", type=float, help="client-side QPS limit (default off; KCM's is 20)")
    run.add_argument("--kube-api-burst", type=int, help="client-side burst (default off; KCM's is 30)")
    run.add_argument(
        "--request-timeout", type=float, default=30.0, help="seconds for one API request (default %(default)s)"
    )
    run.add_argument(
        "--liveness",
        default="http://0.0.0.0:8081/healthz",
        help="liveness endpoint URL (default %(default)s; '' turns it off)",
    )
    run.add_argument(
        "--metrics-bind-address",
        default=":8080",
        help="address of the Prometheus /metrics endpoint (default %(default)s; '0' turns it off)",
    )
    election = run.add_argument_group("leader election (kube-controller-manager's flags and defaults)")
    election.add_argument(
        "--leader-elect",
        type=_boolean,
        nargs="?",
        const=True,
        default=True,
        metavar="BOOL",
        help="run workers only while holding the lease (default true; --leader-elect=false for one process)",
    )
    election.add_argument(
        "--leader-elect-lease-duration",
        type=_duration,
        default=15.0,
        metavar="DURATION",
        help="how long a standby waits after the last renewal before it takes the lease (default 15s)",
    )
    election.add_argument(
        "--leader-elect-renew-deadline",
        type=_duration,
        default=10.0,
        metavar="DURATION",
        help="how long the leader keeps retrying to renew before it stops leading (default 10s)",
    )
    election.add_argument(
        "--leader-elect-retry-period",
        type=_duration,
        default=2.0,
        metavar="DURATION",
        help="the wait between two attempts to acquire or renew the lease (default 2s)",
    )
    election.add_argument(
        "--leader-elect-resource-name",
        default="mini-operators",
        metavar="NAME",
        help="the name of the coordination.k8s.io Lease (default %(default)s)",
    )
    election.add_argument(
        "--leader-elect-resource-namespace",
        default="kube-system",
        metavar="NAMESPACE",
        help="the namespace of the Lease (default %(default)s; the Helm chart uses its release namespace)",
    )
    run.add_argument("-v", "--verbose", action="store_true", help="debug logging, including Kopf's")
    agent = commands.add_parser("agent", help="the policy agent of one node: enforce the policies with nftables")
    agent.add_argument("--node", required=True, help="the node whose pods this agent enforces for")
    agent.add_argument("--native-policies", action="store_true", help="enforce networking/v1 NetworkPolicies too")
    agent.add_argument("--kubeconfig", help="path to the kubeconfig file (default: $KUBECONFIG, in-cluster)")
    agent.add_argument("--netns", help="load the table in this network namespace (the test bed's node namespaces)")
    agent.add_argument(
        "--node-address", action="append", default=[], help="another address of the node itself (NP-12; repeatable)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "agent":
        from operators.agent.agent import run_agent  # imported late: `--help` stays fast

        return run_agent(
            args.node,
            native=args.native_policies,
            netns=args.netns,
            extra_addresses=args.node_address,
            kubeconfig=args.kubeconfig,
        )
    if not 1 <= args.max_endpoints_per_slice <= 1000:
        parser.error("--max-endpoints-per-slice must be between 1 and 1000")
    if args.kube_api_burst and not args.kube_api_qps:
        parser.error("--kube-api-burst needs --kube-api-qps")

    from operators.app import run as run_operator  # imported late: `--help` stays fast

    try:
        election_config = LeaderElectionConfig(
            name=args.leader_elect_resource_name,
            namespace=args.leader_elect_resource_namespace,
            lease_duration=args.leader_elect_lease_duration,
            renew_deadline=args.leader_elect_renew_deadline,
            retry_period=args.leader_elect_retry_period,
        )
    except ValueError as error:
        parser.error(str(error))
    options = Options(
        namespaces=tuple(args.namespace),
        workers=args.workers,
        max_endpoints_per_slice=args.max_endpoints_per_slice,
        mirror_native_policies=args.mirror_native,
        qps=args.kube_api_qps,
        burst=args.kube_api_burst,
        kubeconfig=args.kubeconfig,
        context=args.context,
        request_timeout=args.request_timeout,
        leader_elect=args.leader_elect,
        leader_election=election_config,
        metrics_bind_address=args.metrics_bind_address,
    )
    return run_operator(options, liveness=args.liveness or None, verbose=args.verbose)


def _boolean(text: str) -> bool:
    """A Go-style boolean flag value: true/false, 1/0, t/f."""
    value = text.strip().lower()
    if value in ("true", "t", "1"):
        return True
    if value in ("false", "f", "0"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def _duration(text: str) -> float:
    """A Go duration as the leader-election flags take it (`15s`, `1m`, `500ms`), or plain seconds."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for unit in ("ms", "s", "m", "h"):
        if text.endswith(unit) and text[: -len(unit)].replace(".", "", 1).isdigit():
            return float(text[: -len(unit)]) * units[unit]
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r} (for example 15s, 500ms, 1m)") from None


if __name__ == "__main__":
    sys.exit(main())
