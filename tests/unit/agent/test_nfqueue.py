"""The NFQUEUE netlink client's pure part (operators/agent/nfqueue.py) on hand-made bytes.

The netlink and attribute headers are in host byte order: the literal bytes below are little-endian
(x86-64, arm64), the fields inside the queue's attributes big-endian as on any host. The packet tests mirror
kube-network-policies' pkg/networkpolicy/packet_test.go (TestTCPIPv4, TestTooShortPackets) on packets of
our own.
"""

from __future__ import annotations

import errno
import ipaddress
import sys
from typing import Any

import pytest

from operators.agent.nfqueue import (
    NF_ACCEPT,
    NF_DROP,
    Counters,
    Flow,
    NetlinkMessage,
    NfQueue,
    QueuedPacket,
    QueueStats,
    bind_message,
    flags_message,
    params_message,
    parse_attributes,
    parse_ipv4,
    parse_messages,
    parse_packet,
    parse_queue_stats,
    verdict_message,
)

pytestmark = pytest.mark.skipif(sys.byteorder != "little", reason="the literal netlink headers are little-endian")

# An IPv4 TCP SYN 10.99.1.2:40000 -> 10.99.2.2:80, 40 bytes (header checksums left 0: nobody checks them here).
SYN = bytes.fromhex(
    "4500 0028 1c46 4000 4006 0000 0a63 0102 0a63 0202"  # IPv4: IHL 5, proto 6, src, dst
    "9c40 0050 0000 0001 0000 0000 5002 faf0 0000 0000"  # TCP: sport 40000, dport 80, SYN
)
# Its SYN-ACK, the other way.
SYN_ACK = bytes.fromhex(
    "4500 0028 0000 4000 4006 0000 0a63 0202 0a63 01020050 9c40 0000 0007 0000 0002 5012 faf0 0000 0000"
)


def ip(text: str) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(text)


# ------------------------------------------------------------------------------------------ message builders


def test_bind_message_is_a_config_command_bind_for_the_queue() -> None:
    """NFQNL_MSG_CONFIG + NFQA_CFG_CMD {BIND, pad, pf 0}, acknowledged; res_id = the queue, big-endian."""
    assert bind_message(100, seq=1) == bytes.fromhex(
        "1c000000 0203 0500 01000000 00000000"  # nlmsghdr: len 28, type (3 << 8) | 2, REQUEST|ACK, seq 1
        "00 00 0064"  # nfgenmsg: AF_UNSPEC, version 0, res_id 100
        "0800 0100 01 00 0000"  # NFQA_CFG_CMD: command BIND, pad, pf
    )


def test_params_message_asks_for_the_packet_headers_and_a_queue_length() -> None:
    """NFQA_CFG_PARAMS {be32 copy_range, u8 NFQNL_COPY_PACKET} (9 bytes, padded to 12), NFQA_CFG_QUEUE_MAXLEN."""
    assert params_message(100, copy_range=128, max_len=1024, seq=2) == bytes.fromhex(
        "28000000 0203 0500 02000000 00000000"
        "00 00 0064"
        "0900 0200 00000080 02 000000"  # copy 128 bytes of each packet, mode 2; three bytes of padding
        "0800 0300 00000400"  # at most 1024 packets waiting
    )


def test_flags_message_sets_the_flags_its_mask_names() -> None:
    """NFQA_CFG_FLAGS and NFQA_CFG_MASK, both be32: GSO (4), as kube-network-policies sets it."""
    assert flags_message(100, 4, seq=3) == bytes.fromhex(
        "24000000 0203 0500 03000000 00000000"  # nlmsghdr: len 36, NFQNL_MSG_CONFIG, REQUEST|ACK, seq 3
        "00 00 0064"  # nfgenmsg
        "0800 0500 00000004"  # NFQA_CFG_FLAGS: NFQA_CFG_F_GSO
        "0800 0400 00000004"  # NFQA_CFG_MASK: the same bit
    )


def test_verdict_message_carries_the_verdict_and_the_packet_id() -> None:
    """NFQNL_MSG_VERDICT + NFQA_VERDICT_HDR {be32 verdict, be32 id}; not acknowledged (one per packet)."""
    assert verdict_message(100, 7, NF_ACCEPT) == bytes.fromhex(
        "20000000 0103 0100 00000000 00000000"  # nlmsghdr: len 32, type (3 << 8) | 1, REQUEST only
        "00 00 0064"  # nfgenmsg
        "0c00 0200 00000001 00000007"  # NFQA_VERDICT_HDR: NF_ACCEPT, packet 7
    )
    assert verdict_message(100, 7, NF_DROP)[-8:] == bytes.fromhex("00000000 00000007")


# ------------------------------------------------------------------------------------------ parsers


def packet_message(payload: bytes, *, packet_id: int = 42, queue: int = 100) -> bytes:
    """An NFQNL_MSG_PACKET as the kernel sends it: header attribute, an interface index, a nested conntrack
    attribute (type with NLA_F_NESTED), and the payload (its length not a multiple of 4 when it isn't)."""
    pad = b"\0" * (-len(payload) % 4)
    attributes = (
        bytes.fromhex("0b00 0100")  # NFQA_PACKET_HDR, 7 bytes:
        + packet_id.to_bytes(4, "big")  # packet id
        + bytes.fromhex("0800 02 00")  # hw protocol IPv4, hook 2 (forward), one byte of padding
        + bytes.fromhex("0800 0500 00000003")  # NFQA_IFINDEX_INDEV 3
        + bytes.fromhex("0800 0b80 0400 0100")  # NFQA_CT | NLA_F_NESTED, with one empty attribute inside
        + (len(payload) + 4).to_bytes(2, "little")  # NFQA_PAYLOAD: length,
        + bytes.fromhex("0a00")  # type,
        + payload
        + pad
    )
    body = bytes([2, 0]) + queue.to_bytes(2, "big") + attributes  # nfgenmsg: AF_INET
    return (16 + len(body)).to_bytes(4, "little") + bytes.fromhex("0003 0000 00000000 00000000") + body


def test_a_queued_packet_gives_its_id_hook_and_payload() -> None:
    """NFQA_PACKET_HDR {be32 id, be16 hw_protocol, u8 hook}, NFQA_PAYLOAD from the IP header on."""
    (message,) = parse_messages(packet_message(SYN))
    packet = parse_packet(message)
    assert packet == QueuedPacket(queue=100, packet_id=42, hw_protocol=0x0800, hook=2, payload=SYN)
    assert packet.flow() == Flow(ip("10.99.1.2"), ip("10.99.2.2"), 6, 40000, 80)
    assert packet.flow().protocol_name == "TCP"


def test_one_datagram_may_hold_several_messages() -> None:
    """Messages are padded to 4 bytes: a 41-byte payload leaves three bytes between the two."""
    datagram = packet_message(SYN + b"x", packet_id=1) + packet_message(SYN, packet_id=2)
    assert [parse_packet(m).packet_id for m in parse_messages(datagram)] == [1, 2]


def test_an_acknowledgement_and_an_error_are_nlmsg_error_messages() -> None:
    """NLMSG_ERROR: int32 -errno (0: the request was acknowledged) and the request's header."""
    request = bind_message(100, seq=9)[:16]
    ack, busy = (
        next(parse_messages(bytes.fromhex("24000000 0200 0001 09000000 00000000") + code + request))
        for code in (bytes.fromhex("00000000"), (-errno.EBUSY).to_bytes(4, "little", signed=True))
    )
    assert (ack.seq, ack.error) == (9, 0)
    assert busy.error == errno.EBUSY, "another socket holds the queue"
    assert NetlinkMessage(type=0x0300, flags=0, seq=0, pid=0, body=b"").error is None


def test_a_truncated_message_or_attribute_is_an_error() -> None:
    whole = packet_message(SYN)
    with pytest.raises(ValueError, match="netlink message"):
        list(parse_messages(whole[:-4]))
    with pytest.raises(ValueError, match="netlink attribute"):
        parse_attributes(bytes.fromhex("0800 0100 0000"))


def test_attributes_are_keyed_by_type_without_the_nested_and_byte_order_flags() -> None:
    attributes = parse_attributes(
        bytes.fromhex(
            "0500 0a40 ff000000"  # type 10 | NLA_F_NET_BYTEORDER, one byte and padding
            "0400 0b80"  # type 11 | NLA_F_NESTED, empty
            "0500 0a00 01000000"  # type 10 again
        )
    )
    assert attributes == {10: b"\x01", 11: b""}, "NLA_F_NET_BYTEORDER / NLA_F_NESTED masked; the last one wins"


def test_a_message_that_is_not_a_packet_is_refused() -> None:
    (message,) = parse_messages(bind_message(100))
    with pytest.raises(ValueError, match="not an NFQNL_MSG_PACKET"):
        parse_packet(message)


def test_tcp_ipv4() -> None:
    """Mirrors TestTCPIPv4: each direction of a TCP session gives its addresses and ports."""
    assert parse_ipv4(SYN) == Flow(ip("10.99.1.2"), ip("10.99.2.2"), 6, 40000, 80)
    assert parse_ipv4(SYN_ACK) == Flow(ip("10.99.2.2"), ip("10.99.1.2"), 6, 80, 40000)


def test_udp_sctp_and_icmp_ipv4() -> None:
    """UDP and SCTP headers start with the ports as TCP's does (NP-10's three protocols); ICMP has none."""
    udp = bytearray(SYN)
    udp[9] = 17
    sctp = bytearray(SYN)
    sctp[9] = 132
    icmp = bytearray(SYN)
    icmp[9] = 1
    assert parse_ipv4(bytes(udp)).protocol_name == "UDP" and parse_ipv4(bytes(udp)).dport == 80
    assert parse_ipv4(bytes(sctp)).protocol_name == "SCTP"
    assert parse_ipv4(bytes(icmp)) == Flow(ip("10.99.1.2"), ip("10.99.2.2"), 1)
    assert parse_ipv4(bytes(icmp)).protocol_name is None


def test_ip_options_move_the_ports() -> None:
    """IHL 6: a 24-byte header (one option word) before the TCP ports."""
    with_option = bytes([0x46]) + SYN[1:20] + bytes.fromhex("01010100") + SYN[20:]
    assert parse_ipv4(with_option).dport == 80


def test_fragment_ipv4() -> None:
    """As TestUDPFragmentIPv6 for IPv4: a later fragment has no transport header, so no ports."""
    later = bytearray(SYN)
    later[6:8] = bytes.fromhex("0005")  # fragment offset 5 (x 8 bytes)
    assert parse_ipv4(bytes(later)) == Flow(ip("10.99.1.2"), ip("10.99.2.2"), 6)


def test_too_short_packets() -> None:
    """Mirrors TestTooShortPackets: every prefix shorter than IPv4 header + ports is refused."""
    with pytest.raises(ValueError):
        parse_ipv4(b"")
    for length in range(24):
        with pytest.raises(ValueError):
            parse_ipv4(SYN[:length])
    assert parse_ipv4(SYN[:24]).dport == 80


def test_not_ipv4() -> None:
    ipv6 = bytes([0x60]) + bytes(39)
    with pytest.raises(ValueError, match="not IPv4"):
        parse_ipv4(ipv6)


def test_queue_stats_are_read_from_proc() -> None:
    """/proc/net/netfilter/nfnetlink_queue: queue, portid, waiting, copy mode and range, drops, last id."""
    text = "  100  27905     0 2   128     0     3     9203  1\n    7      1     2 2   128     1     0       12  1\n"
    assert parse_queue_stats(text) == [
        QueueStats(100, 27905, 0, 2, 128, 0, 3, 9203),
        QueueStats(7, 1, 2, 2, 128, 1, 0, 12),
    ]


# ------------------------------------------------------------------------------------------ answering


class FakeSocket:
    """Stands in for the netlink socket: hands out the datagrams given, records what is sent."""

    def __init__(self, datagrams: list[bytes]) -> None:
        self.datagrams = datagrams
        self.sent: list[bytes] = []

    def recv(self, _size: int) -> bytes:
        if not self.datagrams:
            raise BlockingIOError
        return self.datagrams.pop(0)

    def send(self, data: bytes) -> int:
        self.sent.append(data)
        return len(data)


def fake_queue(datagrams: list[bytes]) -> tuple[NfQueue, FakeSocket]:
    """An NfQueue over a fake socket: its __init__ would open and bind a real one (CAP_NET_ADMIN)."""
    queue = NfQueue.__new__(NfQueue)
    sock = FakeSocket(datagrams)
    fields: dict[str, Any] = {"queue": 100, "counters": Counters(), "_pending": [], "_seq": 0, "_sock": sock}
    for name, value in fields.items():
        setattr(queue, name, value)
    return queue, sock


def test_answer_gives_each_waiting_packet_its_verdict() -> None:
    """Accepted and dropped as `decide` says, in the order they came."""
    queue, sock = fake_queue([packet_message(SYN, packet_id=1) + packet_message(SYN_ACK, packet_id=2)])
    assert queue.answer(lambda packet: packet.flow().dport == 80) == 2
    assert sock.sent == [verdict_message(100, 1, NF_ACCEPT), verdict_message(100, 2, NF_DROP)]
    assert (queue.counters.accepted, queue.counters.dropped, queue.counters.errors) == (1, 1, 0)


def test_a_packet_that_cannot_be_decided_is_dropped() -> None:
    """Fail closed: a packet of an isolated pod that the agent cannot parse or decide does not pass."""
    queue, sock = fake_queue([packet_message(SYN[:10], packet_id=5)])
    assert queue.answer(lambda packet: packet.flow() is not None) == 1
    assert sock.sent == [verdict_message(100, 5, NF_DROP)]
    assert queue.counters.errors == 1
