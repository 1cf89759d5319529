"""The CLI's user-facing error: a one-line message and an exit code, printed by main() without a traceback."""

from __future__ import annotations

__all__ = ["CliError"]


class CliError(Exception):
    """A failure to report as `error: <message>` with `exit_code` (1: bad input, 2: bad usage)."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
