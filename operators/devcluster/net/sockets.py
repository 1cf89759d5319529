"""Sockets inside a pod's network namespace: the responders' listeners and the prober's connections.

A socket belongs to the network namespace its thread was in when it was created, and stays there. So one
process serves every pod: it switches its thread into a pod's namespace (setns(2)), opens the socket, and
switches back. Python 3.11 has no os.setns; libc's is called through ctypes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import logging
import os
import socket
from collections.abc import Iterator

__all__ = ["in_netns", "listening_socket", "probe", "reachable"]

logger = logging.getLogger(__name__)

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


# The prober's connections block in the kernel, in threads of their own: a connection's verdict is the
# kernel's (the SYN answered within `wait`, or not), whatever the test's event loop is busy with meanwhile.
_PROBERS = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="testbed-probe")
ANSWER_WITHIN = 10.0  # seconds for an admitted connection's responder to send its name


async def probe(netns: str, address: str, port: int, protocol: str, *, wait: float = 1.0) -> str | None:
    """Connect from the pod namespace `netns` to `address:port` as the upstream e2e prober does: the
    answering pod's name (its responder sends it), or None when nothing answers within `wait` seconds.

    TCP: the verdict is the handshake (SYN answered within `wait`); the name may take longer to arrive
    (ANSWER_WITHIN). UDP: the verdict is the name itself, sent back within `wait`."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_PROBERS, _probe, netns, address, port, protocol, wait)


def _probe(netns: str, address: str, port: int, protocol: str, wait: float) -> str | None:
    kind = socket.SOCK_STREAM if protocol == "TCP" else socket.SOCK_DGRAM
    with in_netns(netns):
        sock = socket.socket(socket.AF_INET, kind)
    try:
        sock.settimeout(wait)
        sock.connect((address, port))
        if protocol == "UDP":
            sock.send(b"hostname\n")
        else:
            sock.settimeout(ANSWER_WITHIN)  # admitted: now only the responder's speed matters
        data = sock.recv(256)
        return data.decode(errors="replace").strip() or None
    except OSError as error:  # socket.timeout is an OSError
        logger.debug("probe %s -> %s:%d/%s: %s", netns, address, port, protocol, type(error).__name__)
        return None
    finally:
        sock.close()


async def reachable(netns: str, address: str, *, wait: float) -> bool:
    """Whether `address` answers a TCP connection from the namespace `netns` at all, as a readiness check of
    the path (links up, bridge port forwarding, neighbours resolved): a connection refused (a RST: nothing
    listens on the discard port, 9) counts as an answer; silence for `wait` seconds does not."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_PROBERS, _reachable, netns, address, wait)


def _reachable(netns: str, address: str, wait: float) -> bool:
    with in_netns(netns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.settimeout(wait)
        sock.connect((address, 9))
        return True
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    finally:
        sock.close()
