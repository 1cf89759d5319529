"""Entry point of the `kubectl-mini` kubectl plugin (`kubectl mini ...`): global flags and dispatch."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from operators.cli import netpol, rollout
from operators.cli.errors import CliError
from operators.networkpolicy.errors import PolicyError

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


def add_global_flags(parser: argparse.ArgumentParser, *, suppress_defaults: bool = False) -> None:
    """The kubectl flags every command accepts. Subcommands suppress their defaults so that a flag given
    before the subcommand (`kubectl mini -n x netpol ...`) is not overwritten by the subcommand's default."""
    default = argparse.SUPPRESS if suppress_defaults else None
    parser.add_argument(
        "-n", "--namespace", default=default, help="namespace of unqualified pod names (default: default)"
    )
    parser.add_argument("--kubeconfig", default=default, help="path to the kubeconfig file (live-cluster mode)")
    parser.add_argument("--context", default=default, help="the kubeconfig context to use (live-cluster mode)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubectl mini",
        description="mini-operators kubectl plugin: MiniDeployment rollouts and NetworkPolicy what-if tools.",
    )
    add_global_flags(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    netpol.register(commands, lambda sub: add_global_flags(sub, suppress_defaults=True))
    rollout.register(commands, lambda sub: add_global_flags(sub, suppress_defaults=True))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (the console script passes it to sys.exit)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # -h, or a usage error argparse already printed
        return exit_request.code if isinstance(exit_request.code, int) else 2
    handler: Handler = args.handler
    try:
        return handler(args)
    except CliError as error:
        return _fail(str(error), error.exit_code)
    except PolicyError as error:
        return _fail(str(error), 1)
    except Exception as error:  # never a traceback for the user; the type still tells a developer where to look
        return _fail(f"unexpected {type(error).__name__}: {error}", 1)


def _fail(message: str, exit_code: int) -> int:
    """kubectl's `error: ...` line; an API server's refusal is printed as kubectl does, `Error from server (...)`."""
    text = " ".join(message.split())
    print(text if text.startswith("Error from server") else f"error: {text}", file=sys.stderr)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
