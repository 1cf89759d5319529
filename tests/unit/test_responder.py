"""The test bed's responder thread (operators/devcluster/net/responder.py), on loopback sockets: no namespace."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from operators.devcluster.net.responder import Responder


@pytest.fixture
def responder() -> Iterator[Responder]:
    serving = Responder()
    yield serving
    serving.stop()


def listening(kind: socket.SocketKind) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    sock.bind(("127.0.0.1", 0))
    if kind == socket.SOCK_STREAM:
        sock.listen(8)
    return sock


def ask(port: int, kind: socket.SocketKind) -> bytes:
    with socket.socket(socket.AF_INET, kind) as client:
        client.settimeout(10)
        client.connect(("127.0.0.1", port))
        if kind == socket.SOCK_DGRAM:
            client.send(b"hostname\n")
        return client.recv(64)


def test_it_answers_tcp_and_udp_with_the_pods_name(responder: Responder) -> None:
    tcp, udp = listening(socket.SOCK_STREAM), listening(socket.SOCK_DGRAM)
    responder.serve("uid-a", [tcp, udp], "server")
    assert ask(tcp.getsockname()[1], socket.SOCK_STREAM) == b"server\n"
    assert ask(udp.getsockname()[1], socket.SOCK_DGRAM) == b"server\n"
    assert ask(tcp.getsockname()[1], socket.SOCK_STREAM) == b"server\n", "and again: the listener stays"


def test_a_withdrawn_pod_no_longer_answers(responder: Responder) -> None:
    tcp = listening(socket.SOCK_STREAM)
    port = tcp.getsockname()[1]
    responder.serve("uid-a", [tcp], "gone")
    assert ask(port, socket.SOCK_STREAM) == b"gone\n"
    responder.withdraw("uid-a")
    other = listening(socket.SOCK_STREAM)
    responder.serve("uid-b", [other], "other")  # processed after the withdrawal: the queue keeps the order
    assert ask(other.getsockname()[1], socket.SOCK_STREAM) == b"other\n"
    assert tcp.fileno() == -1, "the withdrawn pod's listener is closed"
    with pytest.raises(ConnectionRefusedError):
        ask(port, socket.SOCK_STREAM)
