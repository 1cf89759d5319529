"""Sockets inside a pod's network namespace: the responder's listeners and the prober's connections.

A socket belongs to the network namespace its thread was in when it was created, and stays there. So one
process serves every pod: it switches its thread into a pod's namespace (setns(2)), opens the socket, and
switches back. Python 3.11 has no os.setns; libc's is called through ctypes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import socket
from collections.abc import Iterator

__all__ = ["in_netns", "listening_socket", "probe"]

_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


@contextlib.contextmanager
def in_netns(name: str) -> Iterator[None]:
    """Run the block with this thread in the network namespace `name` (/run/netns/<name>)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(own)
    finally:
        os.close(target)
        os.close(own)


def listening_socket(netns: str, port: int, protocol: str) -> socket.socket:
    """A non-blocking socket bound to `port` on every address of the pod's namespace (TCP listening)."""
    kind = socket.SOCK_STREAM if protocol == "TCP" else socket.SOCK_DGRAM
    with in_netns(netns):
        sock = socket.socket(socket.AF_INET, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", port))
    if protocol == "TCP":
        sock.listen(socket.SOMAXCONN)  # as a Go server (agnhost): a burst of probes is not refused by a full queue
    sock.setblocking(False)
    return sock


async def probe(netns: str, address: str, port: int, protocol: str, *, wait: float = 1.0) -> str | None:
    """Connect from the pod namespace `netns` to `address:port` as the upstream e2e prober does: the
    answering pod's name (its responder sends it), or None when nothing answers within `wait` seconds."""
    loop = asyncio.get_running_loop()
    kind = socket.SOCK_STREAM if protocol == "TCP" else socket.SOCK_DGRAM
    with in_netns(netns):
        sock = socket.socket(socket.AF_INET, kind)
    sock.setblocking(False)
    try:
        async with asyncio.timeout(wait):
            await loop.sock_connect(sock, (address, port))
            if protocol == "UDP":
                await loop.sock_sendall(sock, b"hostname\n")
            data = await loop.sock_recv(sock, 256)
        return data.decode(errors="replace").strip() or None
    except (TimeoutError, OSError):
        return None
    finally:
        sock.close()
