"""`python -m operators run` (console script `mini-operators`): run the operators against the current kubeconfig."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from operators.runtime.manager import Options


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mini-operators", description="Run the mini-operators controllers.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the controllers against the current kubeconfig (or in-cluster)")
    scope = run.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", action="append", default=[], help="watch only this namespace (repeatable)")
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="watch every namespace (the default)")
    run.add_argument("--kubeconfig", help="path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    run.add_argument("--context", help="kubeconfig context to use")
    run.add_argument("--workers", type=int, default=5, help="concurrent syncs per controller (default 5, as KCM)")
    run.add_argument("--kube-api-qps", type=float, help="client-side QPS limit (default off; KCM's is 20)")
    run.add_argument("--kube-api-burst", type=int, help="client-side burst (default off; KCM's is 30)")
    run.add_argument(
        "--liveness",
        default="http://0.0.0.0:8080/healthz",
        help="liveness endpoint URL (default %(default)s; '' turns it off)",
    )
    run.add_argument("-v", "--verbose", action="store_true", help="debug logging, including Kopf's")
    args = parser.parse_args(argv)
    if args.kube_api_burst and not args.kube_api_qps:
        parser.error("--kube-api-burst needs --kube-api-qps")

    from operators.app import run as run_operator  # imported late: `--help` stays fast

    options = Options(
        namespaces=tuple(args.namespace),
        workers=args.workers,
        qps=args.kube_api_qps,
        burst=args.kube_api_burst,
        kubeconfig=args.kubeconfig,
        context=args.context,
    )
    run_operator(options, liveness=args.liveness or None, verbose=args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
