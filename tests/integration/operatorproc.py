"""The operator as a separate process (`python -m operators run`), for tests that stop, freeze or kill it.

MINI_TEST_OPERATOR_KUBECONFIG, when set, replaces the kubeconfig the test gives (see conftest.py).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class OperatorProcess:
    """One `python -m operators run` child with its log in a file; started, signalled and stopped by a test."""

    def __init__(self, kubeconfig: Path, log: Path, *args: str) -> None:
        self.kubeconfig, self.log, self.args = kubeconfig, log, args
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        command = [
            sys.executable,
            "-m",
            "operators",
            "run",
            "--kubeconfig",
            os.environ.get("MINI_TEST_OPERATOR_KUBECONFIG") or str(self.kubeconfig),
            "--liveness",
            "",
            "--metrics-bind-address",
            "0",
            *self.args,
        ]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def wait_for_log(self, pattern: str, *, within: float = 60) -> re.Match[str]:
        """Wait until the log has a line matching `pattern` (the process failing first fails the test)."""
        deadline = time.monotonic() + within
        regex = re.compile(pattern)
        while True:
            if match := regex.search(self.text()):
                return match
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"operator exited ({self.process.returncode}) before {pattern!r}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} in the operator log after {within}s:\n{self.tail()}")
            await asyncio.sleep(0.1)

    async def synced(self) -> None:
        await self.wait_for_log(r"manager: caches synced")

    def signal(self, number: int) -> None:
        os.kill(self.pid, number)

    def kill(self) -> None:
        """kill -9: no cleanup, no lease release, requests in flight cut."""
        self.signal(signal.SIGKILL)
        assert self.process is not None
        self.process.wait(timeout=30)

    def stop(self) -> int | None:
        """SIGTERM (a clean shutdown) and wait; the exit code, or None if it was not running."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen process cannot handle SIGTERM
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        return self.process.returncode

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.text().splitlines()[-lines:])

    def tracebacks(self) -> list[str]:
        """The stack traces in the log: an expected failure (a lost connection) must be one line, not a stack."""
        text = self.text()
        return [text[m.start() : m.start() + 2000] for m in re.finditer(r"Traceback \(most recent call last\)", text)]
