"""`python -m docs.tutorials.first_controller run|crd`: run the greeting controller, or print its CRD."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from docs.tutorials.first_controller.api import CRD_FILE, crd_yaml


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docs.tutorials.first_controller", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the greeting controller against the current kubeconfig")
    run.add_argument("-n", "--namespace", action="append", default=[], help="watch only this namespace (repeatable)")
    run.add_argument("--kubeconfig", help="path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    run.add_argument("-v", "--verbose", action="store_true", help="debug logging, Kopf's included")
    crd = commands.add_parser("crd", help="print the Greeting CRD generated from the model")
    crd.add_argument("--write", action="store_true", help=f"write it to {CRD_FILE.name} instead")
    args = parser.parse_args(argv)
    if args.command == "crd":
        if args.write:
            CRD_FILE.write_text(crd_yaml(), encoding="utf-8")
        else:
            sys.stdout.write(crd_yaml())
        return 0
    from docs.tutorials.first_controller import app  # imported late: `crd` and `--help` stay fast

    return app.run(app.options(namespaces=tuple(args.namespace), kubeconfig=args.kubeconfig), verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
