"""The executed-docs harness without a cluster: the marker convention, the parser, the loose comparison, the shell.

The last tests hold every page of the repository to the convention: each ```console block of README.md and
docs/**/*.md carries a marker, and every marked block parses.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.docs.execdocs import (
    DEFAULT_TIMEOUT,
    BashSession,
    Block,
    Command,
    CommandTimeout,
    DocsSyntaxError,
    compare,
    console_pages,
    page_blocks,
    parse_page,
    run_blocks,
)

REPO = Path(__file__).resolve().parents[2]


def page(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# --- markers ---------------------------------------------------------------------------------------------------


def test_the_three_markers_and_an_unmarked_block() -> None:
    blocks = parse_page(
        page(
            """
            <!-- exec -->
            ```console
            $ echo hi
            hi
            ```

            <!-- exec: no-output -->
            ```console
            $ date
            ```

            <!-- exec: skip it needs Docker -->
            ```console
            kind create cluster
            ```

            ```console
            $ echo unmarked
            ```
            """
        )
    )
    assert [(block.mode, block.line) for block in blocks] == [("exec", 2), ("no-output", 8), ("skip", 13), (None, 17)]
    assert blocks[0].commands == (Command("echo hi", ("hi",), 3),)
    assert blocks[2].reason == "it needs Docker" and blocks[2].commands == ()
    assert [block.runs for block in blocks] == [True, True, False, False]


def test_a_marker_must_be_on_the_line_right_before_the_fence() -> None:
    (block,) = parse_page(page("<!-- exec -->\n\n```console\n$ true\n```\n"))
    assert block.mode is None


def test_timeout_option() -> None:
    blocks = parse_page(
        page("<!-- exec timeout=300 -->\n```console\n$ true\n```\n<!-- exec: no-output -->\n```console\n$ true\n```\n")
    )
    assert [block.timeout for block in blocks] == [300.0, DEFAULT_TIMEOUT]


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("<!-- exec: skip -->", "needs a reason"),
        ("<!-- exec: sometimes -->", "unknown marker"),
        ("<!-- exec retries=3 -->", "unknown marker option"),
        ("<!-- exec timeout=soon -->", "unknown marker option"),
    ],
)
def test_malformed_markers_are_errors(marker: str, message: str) -> None:
    with pytest.raises(DocsSyntaxError, match=message):
        parse_page(f"{marker}\n```console\n$ true\n```\n", "page.md")


def test_a_runnable_block_needs_a_command_and_no_output_before_it() -> None:
    with pytest.raises(DocsSyntaxError, match="no `\\$ ` command"):
        parse_page("<!-- exec -->\n```console\n```\n")
    with pytest.raises(DocsSyntaxError, match=r"page\.md:3: output before the first"):
        parse_page("<!-- exec -->\n```console\nhello\n$ true\n```\n", "page.md")


def test_an_unclosed_fence_is_an_error() -> None:
    with pytest.raises(DocsSyntaxError, match="never closed"):
        parse_page("<!-- exec -->\n```console\n$ true\n")


# --- commands --------------------------------------------------------------------------------------------------


def test_backslash_continuations_and_expected_output() -> None:
    (block,) = parse_page(
        page(
            """
            <!-- exec -->
            ```console
            $ kubectl get pods \\
                -o wide
            NAME   READY
            web    1/1

            $ true   # a comment
            ```
            """
        )
    )
    first, second = block.commands
    assert first == Command("kubectl get pods \\\n    -o wide", ("NAME   READY", "web    1/1"), 3)
    assert second == Command("true   # a comment", (), 8)


def test_a_here_document_belongs_to_its_command() -> None:
    (block,) = parse_page(
        page(
            """
            <!-- exec: no-output -->
            ```console
            $ cat <<'EOF' | kubectl apply -f -
            $ not a command: inside the here-document
            EOF
            $ echo next
            ```
            """
        )
    )
    assert [command.text for command in block.commands] == [
        "cat <<'EOF' | kubectl apply -f -\n$ not a command: inside the here-document\nEOF",
        "echo next",
    ]


def test_a_here_string_is_not_a_here_document() -> None:
    (block,) = parse_page("<!-- exec -->\n```console\n$ cat <<< word\nword\n```\n")
    assert block.commands == (Command("cat <<< word", ("word",), 3),)


def test_a_console_block_shown_inside_another_fence_is_not_a_block() -> None:
    blocks = parse_page(
        page(
            """
            ````markdown
            ```console
            $ shown, not run
            ```
            ````

            <!-- exec -->
              ```console
              $ echo indented
              indented
              ```
            """
        )
    )
    assert [(block.line, block.commands) for block in blocks] == [(8, (Command("echo indented", ("indented",), 9),))]


# --- the loose comparison ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (["NAME   READY   AGE"], "NAME READY AGE\n"),
        (["a\tb"], "a    b"),
        (["frontend   3   <any>"], "frontend 3 12s\n"),
        (["frontend-<any>   1/1"], "frontend-x7k2p   1/1"),
        (["first", "...", "last"], "first\nsecond\nthird\nlast\n"),
        (["first", "...", "last"], "first\nlast\n"),
        (["...", "last"], "last"),
        (["one", "", "two"], "one\n\n\n two \n"),
        ([], "\n"),
        (["green"], "\x1b[32mgreen\x1b[0m\r\n"),
    ],
)
def test_loose_matches(expected: list[str], actual: str) -> None:
    assert compare(expected, actual)


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (["NAME READY"], "NAME READY AGE"),
        (["frontend <any>"], "frontend 3 12s"),  # <any> is one token, never two
        (["<any>"], ""),
        (["a", "b"], "a\nb\nc"),  # extra lines need a `...`
        (["first", "...", "last"], "first\nsecond"),
        ([], "unexpected"),
        (["a.c"], "abc"),  # everything but <any> is literal
    ],
)
def test_loose_mismatches(expected: list[str], actual: str) -> None:
    assert not compare(expected, actual)


# --- the shell session -----------------------------------------------------------------------------------------


@pytest.fixture
def session(tmp_path: Path) -> BashSession:
    shell = BashSession(cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, workdir=tmp_path)
    yield shell  # type: ignore[misc]
    shell.close(grace=5)


def test_exports_cd_and_exit_codes_carry_like_a_terminal(session: BashSession, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    assert session.run("export GREETING=hello; cd sub").exit_code == 0
    result = session.run('echo "$GREETING from $(basename "$PWD")"; echo oops >&2')
    assert (result.exit_code, result.output) == (0, "hello from sub\noops\n")
    assert session.run("false").exit_code == 1
    assert session.run("exit_code_of_a_missing_command").exit_code == 127


def test_a_command_cannot_read_the_commands_after_it(session: BashSession) -> None:
    assert session.run("cat").output == ""
    assert session.run("echo still here").output == "still here\n"


def test_a_syntax_error_is_reported_not_run(session: BashSession) -> None:
    result = session.run("echo 'unbalanced")
    assert result.exit_code == 2 and "syntax error" in result.output


def test_a_slow_command_times_out(session: BashSession) -> None:
    with pytest.raises(CommandTimeout, match=r"no exit within 0\.3 s"):
        session.run("sleep 30", timeout=0.3)


def test_close_ends_background_jobs(session: BashSession, tmp_path: Path) -> None:
    ended, started = tmp_path / "ended", tmp_path / "started"
    job = f"trap 'echo TERM > {ended}; exit 0' TERM; touch {started}; while :; do sleep 0.05; done"
    assert session.run(f"bash -c {job!r} &").exit_code == 0
    assert session.run(f"until [ -e {started} ]; do sleep 0.01; done").exit_code == 0  # its trap is set
    session.close(grace=10)
    assert ended.read_text() == "TERM\n"


def test_run_blocks_stops_at_the_first_failure_and_says_where(session: BashSession) -> None:
    blocks = parse_page(
        page(
            """
            <!-- exec -->
            ```console
            $ echo one
            one
            $ echo two
            three
            $ echo never run > ran
            ```
            """
        ),
        "docs/page.md",
    )
    report = run_blocks(session, blocks)
    assert report is not None
    assert report.splitlines()[:2] == ["docs/page.md:5: the output differs from the page", "$ echo two"]
    assert "--- expected (loosely) ---\nthree\n--- actual (exit 0) ---\ntwo" in report
    assert session.run("test -e ran").exit_code == 1


def test_run_blocks_skips_what_is_not_marked_to_run(session: BashSession) -> None:
    blocks = [Block("p.md", 1, "skip", reason="Docker"), Block("p.md", 5, None)]
    assert run_blocks(session, blocks) is None


# --- the repository's pages ------------------------------------------------------------------------------------


def test_every_page_follows_the_convention() -> None:
    problems = []
    for path in console_pages(REPO):
        try:
            parse_page(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
        except DocsSyntaxError as error:
            problems.append(str(error))
    assert not problems, "\n".join(problems)


def test_every_console_block_of_the_readme_and_docs_carries_a_marker() -> None:
    unmarked = [f"{block.page}:{block.line}" for block in page_blocks(REPO, console_pages(REPO)) if block.mode is None]
    assert not unmarked, (
        "console blocks without <!-- exec -->, <!-- exec: no-output --> or <!-- exec: skip REASON --> "
        f"on the line before them (see docs/how-to/write-docs.md): {', '.join(unmarked)}"
    )


def test_the_pages_include_the_readme_and_the_docs() -> None:
    pages = [str(path.relative_to(REPO)) for path in console_pages(REPO)]
    assert pages[0] == "README.md"
    assert "docs/how-to/write-docs.md" in pages
