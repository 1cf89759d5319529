"""The pods' responders: one thread answering every pod's TCP and UDP ports with the pod's name.

A pod's process would answer on its own, whatever the test's process is busy with. So the responders do not
run on the test's event loop (a callback that holds it for a second would make a prober, waiting for the name,
record an admitted connection as refused): one thread of their own waits on all the listening sockets with a
selector and answers each connection or datagram at once, as agnhost's `serve-hostname` does.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import threading
from collections.abc import Iterable

__all__ = ["Responder"]

logger = logging.getLogger(__name__)


class Responder:
    """Serves `name\\n` on every socket handed to it, until the pod's sockets are withdrawn or it stops."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._pending: list[tuple[str, socket.socket | None, bytes]] = []  # (owner, socket or None: withdraw, name)
        self._owned: dict[str, list[socket.socket]] = {}
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        self._selector.register(self._wake_read, selectors.EVENT_READ, None)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="testbed-responder", daemon=True)
        self._thread.start()

    def serve(self, owner: str, sockets: Iterable[socket.socket], name: str) -> None:
        """Answer on these listening TCP or bound UDP sockets as `name`, on behalf of `owner` (a pod's UID)."""
        with self._lock:
            self._pending += [(owner, sock, name.encode() + b"\n") for sock in sockets]
        os.write(self._wake_write, b"x")

    def withdraw(self, owner: str) -> None:
        """Stop answering for `owner` and close its sockets (done by the responder's thread, soon)."""
        with self._lock:
            self._pending.append((owner, None, b""))
        os.write(self._wake_write, b"x")

    def stop(self) -> None:
        """Close every socket and end the thread."""
        self._stopping = True
        os.write(self._wake_write, b"x")
        self._thread.join()
        os.close(self._wake_write)

    # --- the thread -----------------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopping:
                for key, _ in self._selector.select():
                    if key.data is None:
                        self._apply_pending()
                    else:
                        self._answer(key.fileobj, key.data)  # type: ignore[arg-type]
        finally:
            for owner in list(self._owned):
                self._close(owner)
            self._selector.close()
            os.close(self._wake_read)

    def _apply_pending(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.read(self._wake_read, 4096)
        with self._lock:
            pending, self._pending = self._pending, []
        for owner, sock, name in pending:
            if sock is None:
                self._close(owner)
            else:
                sock.setblocking(False)
                self._selector.register(sock, selectors.EVENT_READ, name)
                self._owned.setdefault(owner, []).append(sock)

    def _close(self, owner: str) -> None:
        for sock in self._owned.pop(owner, []):
            self._selector.unregister(sock)
            sock.close()

    def _answer(self, sock: socket.socket, name: bytes) -> None:
        try:
            if sock.type == socket.SOCK_STREAM:
                connection, _ = sock.accept()
                with connection:
                    connection.setblocking(True)
                    connection.settimeout(1.0)  # a few bytes into an empty send buffer: never waits in practice
                    connection.sendall(name)
            else:
                _, peer = sock.recvfrom(512)
                sock.sendto(name, peer)
        except OSError as error:  # the prober gave up and reset the connection, or the datagram bounced
            logger.debug("test bed: responder %s: %s", name.decode().strip(), error)
