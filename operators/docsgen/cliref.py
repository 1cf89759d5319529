"""The command-line reference: every command and flag of `kubectl mini` and of `mini-operators`, from argparse.

The pages are written from the parsers the programs themselves build, so a renamed flag or a new default
changes the reference (and the drift test fails until it is regenerated). argparse's own help text is not
used: its line wrapping follows the terminal's width, and a generated page must not depend on where it was
generated. The walk reads argparse's `_actions` and `_action_groups`, the attributes its help formatter reads.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence

from operators.docsgen.markdown import cell, code, generated_header, table

__all__ = ["Command", "commands", "operator_page", "plugin_page", "render"]


class Command:
    """One command of a tree of parsers: its words (`kubectl mini netpol matrix`), its help, its parser."""

    def __init__(self, words: str, help_text: str, parser: argparse.ArgumentParser) -> None:
        self.words = words
        self.help = help_text
        self.parser = parser

    def subcommands(self) -> list[Command]:
        found = []
        for action in self.parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
                for name, sub in action.choices.items():
                    found.append(Command(f"{self.words} {name}", helps.get(name, ""), sub))
        return found


def commands(root: Command) -> Iterator[Command]:
    """The root and every command below it, depth first, in the order they were added."""
    yield root
    for sub in root.subcommands():
        yield from commands(sub)


def _expand(action: argparse.Action, prog: str) -> str:
    """An action's help with argparse's `%(default)s`-style fields filled in, as `--help` shows it."""
    if action.help == argparse.SUPPRESS:
        return ""
    if not action.help:  # no help of its own: what its value type says it accepts, when that is documented
        doc = getattr(action.type, "__doc__", None) if callable(action.type) else None
        return doc.strip().splitlines()[0] if doc and action.type not in (int, float, str) else ""
    params = {key: value for key, value in vars(action).items() if value is not argparse.SUPPRESS}
    params["prog"] = prog
    if params.get("choices") is not None:
        params["choices"] = ", ".join(str(choice) for choice in params["choices"])
    return action.help % params


_NARGS = {"?": "optional", "*": "any number", "+": "one or more"}


def _value(action: argparse.Action) -> str:
    """What a flag takes: nothing (a switch), its choices, or its metavar (optional when nargs is '?').

    For a positional argument, whose name is its metavar already: how many values it takes.
    """
    if not action.option_strings:
        return _NARGS.get(str(action.nargs), "") if action.nargs is not None else ""
    if action.nargs == 0:
        return ""
    if action.choices is not None:
        text = " \\| ".join(code(str(choice)) for choice in action.choices)
    else:
        metavar = action.metavar if isinstance(action.metavar, str) else (action.dest or "").upper()
        text = code(metavar)
    return f"[{text}]" if action.nargs == "?" else text


def _default(action: argparse.Action) -> str:
    default = action.default
    if default is None or default is argparse.SUPPRESS or default is False or default == []:
        return ""
    if action.nargs == 0 and default is True:
        return ""
    if isinstance(default, str) and not default:
        return code("''")
    return code(str(default).lower() if isinstance(default, bool) else str(default))


def _is_global(action: argparse.Action, inherited: Sequence[argparse.Action]) -> bool:
    """A flag every command repeats from the root's global flags (same option strings, same help)."""
    return any(action.option_strings == other.option_strings and action.help == other.help for other in inherited)


def _rows(actions: Sequence[argparse.Action], prog: str, inherited: Sequence[argparse.Action]) -> list[list[str]]:
    rows = []
    for action in actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) or action.help == argparse.SUPPRESS:
            continue
        if action.option_strings and _is_global(action, inherited):
            continue
        names = ", ".join(code(option) for option in action.option_strings) or code(str(action.metavar or action.dest))
        if action.required and action.option_strings:
            names += " (required)"
        rows.append([names, _value(action), _default(action), cell(_expand(action, prog))])
    return rows


def render_command(command: Command, level: int, inherited: Sequence[argparse.Action]) -> str:
    """One command's section: what it does, then a table per argument group (arguments, options, others)."""
    parser = command.parser
    out = [f"{'#' * level} `{command.words}`\n"]
    about = " ".join(part for part in (command.help, parser.description or "") if part)
    if about:
        out.append(cell(about[0].upper() + about[1:]) + "\n")
    subcommands = command.subcommands()
    if subcommands:
        out.append("Commands: " + ", ".join(code(sub.words.rsplit(" ", 1)[1]) for sub in subcommands) + ".\n")
    for group in parser._action_groups:
        rows = _rows(group._group_actions, parser.prog, inherited)
        if not rows:
            continue
        title = group.title or "options"
        if title not in ("options", "optional arguments", "positional arguments"):
            out.append(f"*{cell(title[0].upper() + title[1:])}*\n")
        first = "Argument" if title == "positional arguments" else "Flag"
        out.append(table([first, "Value", "Default", "Description"], rows))
    return "\n".join(out)


def render(root: Command, *, title: str, intro: str, source: str, global_flags: bool) -> str:
    """A page for a whole tree of commands: the root, then each command in a section of its own."""
    out = [generated_header(source), f"# {title}\n", intro + "\n"]
    inherited: list[argparse.Action] = []
    for command in commands(root):
        depth = command.words.count(" ") - root.words.count(" ")
        out.append(render_command(command, min(2 + depth, 4), inherited))
        if command is root and global_flags:
            inherited = [action for action in root.parser._actions if action.option_strings]
    return "\n".join(out)


def plugin_page() -> str:
    """docs/reference/cli.md: `kubectl mini`."""
    from operators.cli.main import build_parser

    root = Command("kubectl mini", "", build_parser())
    intro = (
        "`kubectl mini` is the `kubectl-mini` console script of this package: kubectl runs any executable "
        "named `kubectl-<name>` on PATH as `kubectl <name>`, so with `.venv/bin` on PATH the two are the same. "
        "Its global flags (`-n`, `--kubeconfig`, `--context`) work before or after the command, as kubectl's "
        "do; they are listed once, under `kubectl mini`. Errors are one kubectl-style line on stderr "
        "(`error: ...`), exit status 1."
    )
    return render(root, title="kubectl mini", intro=intro, source="operators/cli (argparse)", global_flags=True)


def operator_page() -> str:
    """docs/reference/operator.md: `mini-operators run` and `mini-operators agent`."""
    from operators.__main__ import build_parser

    root = Command("mini-operators", "", build_parser())
    intro = (
        "The operator process: `mini-operators` is the console script, `python -m operators` the same program. "
        "`run` runs every Mini controller against the current kubeconfig (or in-cluster); `agent` is the "
        "NetworkPolicy agent of one node (docs: Explanation, The dataplane). Flags are named as "
        "kube-controller-manager's and controller-runtime's where those have one, with the same defaults."
    )
    return render(
        root, title="mini-operators", intro=intro, source="operators/__main__.py (argparse)", global_flags=False
    )
