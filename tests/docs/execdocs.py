"""Executed documentation: the console blocks of the Markdown pages, parsed, run in one bash session, compared loosely.

The convention (written for authors in docs/how-to/write-docs.md): every ```console block of README.md and
docs/**/*.md carries a marker, an HTML comment on the line right before its fence:

    <!-- exec -->                 run it; the output shown under each `$ ` command is compared loosely
    <!-- exec: no-output -->      run it; the output is not compared (every command must exit 0)
    <!-- exec: skip REASON -->    shown, never run (only where it cannot run here: Docker/kind, `make test`)

`exec` and `exec: no-output` take an optional `timeout=SECONDS` per command (default 120).

Inside a block a command starts with `$ `; a line ending in `\\` continues it on the next line, and a here-document
(`<<EOF`) runs until its terminator. Every other line is output of the command above it. The comparison is loose:
per line, runs of whitespace are one space and blank lines do not count; `<any>` stands for one whitespace-free
token or, inside a token, for its rest (`frontend-<any>`); a line `...` stands for any number of lines.

This module is pure apart from `BashSession`, which runs a page's commands in one bash process: `export` and `cd`
carry from one command to the next, as in the reader's terminal. tests/integration/test_executed_docs.py runs
the pages against the local cluster; tests/unit/test_execdocs.py tests the parser and the comparator.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import re
import secrets
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal

__all__ = [
    "DEFAULT_TIMEOUT",
    "BashSession",
    "Block",
    "Command",
    "CommandResult",
    "DocsSyntaxError",
    "Mode",
    "compare",
    "console_pages",
    "parse_page",
]

Mode = Literal["exec", "no-output", "skip"]
DEFAULT_TIMEOUT = 120.0  # seconds for one command

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\s`]*)[^`]*$")
_MARKER = re.compile(r"^\s*<!--\s*exec(?P<rest>\b.*?)-->\s*$")
_HEREDOC = re.compile(r"(?<!<)<<(?!<)(?P<dash>-?)\s*(?P<quote>['\"]?)(?P<word>[A-Za-z_][A-Za-z0-9_]*)(?P=quote)")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class DocsSyntaxError(ValueError):
    """A page breaks the convention: a malformed marker, output before any command, an unclosed block."""


@dataclasses.dataclass(frozen=True)
class Command:
    """One `$ ` command of a block: the text bash runs, the output the page shows under it, its line."""

    text: str
    expected: tuple[str, ...]
    line: int


@dataclasses.dataclass(frozen=True)
class Block:
    """One ```console block: its page, the line of its opening fence, its marker and its commands.

    `mode` is None for a block without a marker (a test fails on those); a skipped block keeps its reason and
    has no commands parsed: it may show anything.
    """

    page: str
    line: int
    mode: Mode | None
    commands: tuple[Command, ...] = ()
    reason: str = ""
    timeout: float = DEFAULT_TIMEOUT

    @property
    def runs(self) -> bool:
        return self.mode in ("exec", "no-output")


# --- parsing -------------------------------------------------------------------------------------------------


def parse_page(text: str, page: str = "<page>") -> list[Block]:
    """Every ```console block of a Markdown page, in order, with its marker and commands.

    Fenced blocks of other languages are skipped whole, so a ```console block shown *inside* a ````markdown
    example (as write-docs.md does) is not one of the page's blocks.
    """
    lines = text.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        end = _closing_fence(lines, index + 1, fence)
        if end is None:
            raise DocsSyntaxError(f"{page}:{index + 1}: a fenced block that is never closed")
        if opening["info"] == "console":
            body = [_dedent(line, indent) for line in lines[index + 1 : end]]
            marker = lines[index - 1] if index > 0 else ""
            blocks.append(_block(page, index + 1, marker, body))
        index = end + 1
    return blocks


def _closing_fence(lines: Sequence[str], start: int, fence: str) -> int | None:
    """The index of the line closing a fence: the same character, at least as long, nothing after it."""
    for index in range(start, len(lines)):
        stripped = lines[index].strip()
        if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
            return index
    return None


def _dedent(line: str, indent: int) -> str:
    """A block's line without the indentation of its fence (a block inside a list item or an admonition)."""
    prefix = len(line) - len(line.lstrip(" "))
    return line[min(prefix, indent) :]


def _block(page: str, line: int, marker_line: str, body: Sequence[str]) -> Block:
    marker = _MARKER.match(marker_line)
    if marker is None:
        return Block(page, line, None)
    rest = marker["rest"].strip()
    where = f"{page}:{line - 1}"
    if rest.startswith(":"):
        rest = rest[1:].strip()
        word, _, argument = rest.partition(" ")
        if word == "skip":
            if not argument.strip():
                raise DocsSyntaxError(f"{where}: `exec: skip` needs a reason (`<!-- exec: skip REASON -->`)")
            return Block(page, line, "skip", reason=argument.strip())
        if word != "no-output":
            raise DocsSyntaxError(f"{where}: unknown marker `exec: {rest}` (exec, exec: no-output, exec: skip REASON)")
        mode: Mode = "no-output"
        rest = argument
    else:
        mode = "exec"
    timeout = _timeout(rest, where)
    commands = parse_commands(body, page=page, first_line=line + 1)
    if not commands:
        raise DocsSyntaxError(f"{where}: a block marked to run has no `$ ` command")
    return Block(page, line, mode, tuple(commands), timeout=timeout)


def _timeout(options: str, where: str) -> float:
    """The `timeout=SECONDS` option of a marker (the only option there is)."""
    timeout = DEFAULT_TIMEOUT
    for option in options.split():
        name, _, value = option.partition("=")
        try:
            if name != "timeout":
                raise ValueError(name)
            timeout = float(value)
        except ValueError:
            raise DocsSyntaxError(f"{where}: unknown marker option {option!r} (only timeout=SECONDS)") from None
    return timeout


def parse_commands(body: Sequence[str], *, page: str = "<page>", first_line: int = 1) -> list[Command]:
    """The commands of a block's lines: `$ ` starts one, `\\` and here-documents continue it, the rest is output."""
    commands: list[Command] = []
    text: list[str] = []
    expected: list[str] = []
    start = 0
    index = 0

    def finish() -> None:
        if text:
            while expected and not expected[-1].strip():
                expected.pop()
            commands.append(Command("\n".join(text), tuple(expected), start))

    while index < len(body):
        line = body[index]
        if line == "$" or line.startswith("$ "):
            finish()
            text, expected, start = [line[2:]], [], first_line + index
            index += 1
            index = _continuation(body, index, text, page, start)
            continue
        if not text and line.strip():
            raise DocsSyntaxError(f"{page}:{first_line + index}: output before the first `$ ` command")
        if text:
            expected.append(line)
        index += 1
    finish()
    return commands


def _continuation(body: Sequence[str], index: int, text: list[str], page: str, start: int) -> int:
    """Append the lines that belong to the command in `text` (backslash continuations, here-documents)."""
    while text[-1].endswith("\\"):
        if index >= len(body):
            raise DocsSyntaxError(f"{page}:{start}: the command ends in `\\` but the block ends")
        text.append(body[index])
        index += 1
    for heredoc in _HEREDOC.finditer("\n".join(text)):
        terminator = heredoc["word"]
        while True:
            if index >= len(body):
                raise DocsSyntaxError(f"{page}:{start}: here-document `{terminator}` is never terminated")
            line = body[index]
            text.append(line)
            index += 1
            if (line.lstrip("\t") if heredoc["dash"] else line) == terminator:
                break
    return index


# --- comparing -----------------------------------------------------------------------------------------------


def normalize(output: str) -> list[str]:
    """The lines of an output as they are compared: colours gone, whitespace runs one space, no blank lines."""
    lines = (" ".join(_ANSI.sub("", line).split()) for line in output.replace("\r", "").splitlines())
    return [line for line in lines if line]


def _line_pattern(expected: str) -> re.Pattern[str]:
    """An expected line as a regular expression: each token literal, except that `<any>` is `\\S+`."""
    tokens = []
    for token in expected.split(" "):
        tokens.append(r"\S+".join(re.escape(part) for part in token.split("<any>")))
    return re.compile(" ".join(tokens))


def compare(expected: Sequence[str], actual: str) -> bool:
    """Whether `actual` output matches the lines a page shows, by the loose rules of the module docstring."""
    wanted = normalize("\n".join(expected))
    got = normalize(actual)
    patterns = [None if line == "..." else _line_pattern(line) for line in wanted]
    memo: dict[tuple[int, int], bool] = {}

    def match(i: int, j: int) -> bool:  # patterns[i:] against got[j:]
        if (i, j) not in memo:
            if i == len(patterns):
                memo[i, j] = j == len(got)
            elif (pattern := patterns[i]) is None:  # `...`: skip none, or one more line and try again
                memo[i, j] = match(i + 1, j) or (j < len(got) and match(i, j + 1))
            else:
                memo[i, j] = j < len(got) and pattern.fullmatch(got[j]) is not None and match(i + 1, j + 1)
        return memo[i, j]

    return match(0, 0)


# --- finding the pages ---------------------------------------------------------------------------------------


def console_pages(root: Path) -> list[Path]:
    """The pages whose console blocks the convention covers: README.md and every Markdown file under docs/."""
    pages = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    return [page for page in pages if page.is_file()]


def page_blocks(root: Path, pages: Iterable[Path]) -> Iterator[Block]:
    for page in pages:
        yield from parse_page(page.read_text(encoding="utf-8"), str(page.relative_to(root)))


# --- running -------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CommandResult:
    """What a command did: its exit status and its output (stdout and stderr together, as a terminal shows)."""

    exit_code: int
    output: str


class CommandTimeout(Exception):
    """A command did not finish within its timeout; the session has been killed."""


class BashSession:
    """One bash process that runs a page's commands in order, as a reader's terminal would.

    Each command runs in the current shell (`{ ...; }`), so `export`, `cd` and background jobs (`&`) carry to
    the next. Its output goes to a file of its own, with stdin from /dev/null so that it cannot swallow the
    commands that follow; the shell then prints a sentinel line with the exit status, which the session waits
    for. A background job keeps writing to the file of the command that started it, never into another's.
    `close()` ends the background jobs (SIGTERM, then the whole process group with SIGKILL).
    """

    def __init__(self, *, cwd: Path, env: Mapping[str, str], workdir: Path) -> None:
        self.workdir = workdir
        self._sentinel = f"__execdocs_{secrets.token_hex(8)}__"
        self._count = 0
        self._process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: close() can end everything it started
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, name="execdocs-reader", daemon=True).start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def run(self, command: str, timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        """Run one command; raises CommandTimeout (after killing the session) when it takes too long."""
        syntax = subprocess.run(["bash", "-n"], input=command + "\n", capture_output=True, text=True, check=False)
        if syntax.returncode != 0:
            return CommandResult(2, f"(not run: bash finds a syntax error)\n{syntax.stderr}")
        self._count += 1
        output_file = self.workdir / f"output-{self._count}.txt"
        script = f"{{ {command}\n}} > {shlex.quote(str(output_file))} 2>&1 < /dev/null\necho {self._sentinel} $?\n"
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(script)
            self._process.stdin.flush()
        except BrokenPipeError:
            return CommandResult(-1, "(not run: the shell has exited)")
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise CommandTimeout(f"no exit within {timeout:g} s") from None
            if line is None:
                return CommandResult(-1, _read_text(output_file) + "\n(the shell exited)")
            if line.startswith(self._sentinel):
                return CommandResult(int(line.split()[1]), _read_text(output_file))

    def close(self, grace: float = 30.0) -> None:
        """End the background jobs the page started (SIGTERM and wait), then the shell, then its process group."""
        if self._process.poll() is None and self._process.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self._process.stdin.write("kill -TERM $(jobs -p) 2>/dev/null; wait; exit 0\n")
                self._process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=grace)
        self.kill()

    def kill(self) -> None:
        """SIGKILL everything left in the session's process group."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def describe_failure(block: Block, command: Command, result: CommandResult | None, problem: str) -> str:
    """The report of a failed command: page and line, the command, expected against actual output."""
    parts = [f"{block.page}:{command.line}: {problem}", "$ " + command.text.replace("\n", "\n  ")]
    if block.mode == "exec" and command.expected:
        parts += ["--- expected (loosely) ---", *command.expected]
    if result is not None:
        parts += [f"--- actual (exit {result.exit_code}) ---", result.output.rstrip("\n")]
    return "\n".join(parts)


def run_blocks(session: BashSession, blocks: Sequence[Block]) -> str | None:
    """Run the runnable blocks of one page in order; the first failure's report, or None when all pass."""
    for block in blocks:
        if not block.runs:
            continue
        for command in block.commands:
            try:
                result = session.run(command.text, block.timeout)
            except CommandTimeout as timeout:
                return describe_failure(block, command, None, f"timed out: {timeout}")
            if result.exit_code != 0:
                return describe_failure(block, command, result, f"exited with status {result.exit_code}")
            if block.mode == "exec" and not compare(command.expected, result.output):
                return describe_failure(block, command, result, "the output differs from the page")
    return None
