"""`python -m operators.docsgen [--check]`: write the generated reference pages, or check that they are current."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from operators.docsgen import ROOT, check, write


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m operators.docsgen", description="Generate the reference pages of the docs site."
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated page differs from the code")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(ROOT)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("docs/ is out of date: run `python -m operators.docsgen`", file=sys.stderr)
        return 1 if problems else 0
    for path in write(ROOT):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
