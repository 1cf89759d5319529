"""A small NFQUEUE client over a raw netlink socket: bind a queue, read queued packets, answer verdicts.

This is the userspace half of the kube-network-policies design (the NFQUEUE alternative to the compiled
table of `operators/agent/ruleset.py`): nftables sends the first packet of each new connection of an
isolated pod to a queue (`queue num 100`), a program reads it here, decides with the NetworkPolicy engine
(NP-04: the source's egress and the destination's ingress), and answers ACCEPT or DROP; conntrack carries
the rest of the connection (NP-04: replies are implicitly allowed). No libnetfilter_queue is needed: the
protocol is a handful of fixed structures on a `AF_NETLINK` / `NETLINK_NETFILTER` socket, spelled out below
from the kernel's uapi headers (linux/netlink.h, linux/netfilter/nfnetlink.h, nfnetlink_queue.h).

Every netlink message is

    struct nlmsghdr  { u32 len; u16 type; u16 flags; u32 seq; u32 pid; }   host byte order
    struct nfgenmsg  { u8 family; u8 version; be16 res_id; }               res_id = the queue number
    attributes       { u16 len; u16 type; payload, padded to 4 bytes }*    header in host byte order

where `type` is `(NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_*`. The fields inside the queue's attributes are in
network byte order. The pure part (message builders, `parse_messages`, `parse_attributes`, `parse_packet`,
`parse_ipv4`) does no I/O and is unit-tested on hand-made bytes; `NfQueue` is the socket around it.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import os
import socket
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = [
    "NF_ACCEPT",
    "NF_DROP",
    "Counters",
    "Flow",
    "NetlinkMessage",
    "NfQueue",
    "QueueStats",
    "QueuedPacket",
    "bind_message",
    "flags_message",
    "params_message",
    "parse_attributes",
    "parse_ipv4",
    "parse_messages",
    "parse_packet",
    "parse_queue_stats",
    "verdict_message",
]

logger = logging.getLogger(__name__)

# linux/netlink.h
NETLINK_NETFILTER = 12
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE = 1, 2, 3
NLA_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED (0x8000) and NLA_F_NET_BYTEORDER (0x4000)
SOL_NETLINK = 270
NETLINK_NO_ENOBUFS = 5

# linux/netfilter/nfnetlink.h, nfnetlink_queue.h
NFNL_SUBSYS_QUEUE = 3
NFNETLINK_V0 = 0
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_PACKET_HDR, NFQA_VERDICT_HDR, NFQA_PAYLOAD = 1, 2, 10
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN, NFQA_CFG_MASK, NFQA_CFG_FLAGS = 1, 2, 3, 4, 5
NFQNL_CFG_CMD_BIND, NFQNL_CFG_CMD_UNBIND = 1, 2
NFQNL_COPY_PACKET = 2
NFQA_CFG_F_FAIL_OPEN = 1 << 0  # a full queue accepts instead of dropping (kube-network-policies --fail-open)
NFQA_CFG_F_GSO = 1 << 2  # hand over GSO packets unsegmented: no costly normalisation (set upstream too)

# linux/netfilter.h: the two verdicts a policy agent gives
NF_DROP, NF_ACCEPT = 0, 1

_NLMSGHDR = struct.Struct("=IHHII")
_NFGENMSG = struct.Struct("=BB2s")  # res_id stays big-endian: packed separately
_NLATTR = struct.Struct("=HH")
_PROTOCOL_NAMES = {6: "TCP", 17: "UDP", 132: "SCTP"}  # the NetworkPolicy protocols (NP-10)


def _msg_type(message: int) -> int:
    return (NFNL_SUBSYS_QUEUE << 8) | message


def _align(length: int) -> int:
    return (length + 3) & ~3


def _attribute(kind: int, payload: bytes) -> bytes:
    length = _NLATTR.size + len(payload)
    return _NLATTR.pack(length, kind) + payload + b"\0" * (_align(length) - length)


def _message(message: int, queue: int, attributes: bytes, *, seq: int, flags: int) -> bytes:
    """nlmsghdr + nfgenmsg (family AF_UNSPEC: a queue serves every family; res_id the queue) + attributes."""
    body = _NFGENMSG.pack(socket.AF_UNSPEC, NFNETLINK_V0, struct.pack(">H", queue)) + attributes
    return _NLMSGHDR.pack(_NLMSGHDR.size + len(body), _msg_type(message), flags, seq, 0) + body


# ------------------------------------------------------------------------------------------ message builders


def bind_message(queue: int, *, seq: int = 0) -> bytes:
    """NFQNL_MSG_CONFIG with NFQA_CFG_CMD BIND: this socket takes queue `queue` (acknowledged)."""
    command = struct.pack(">BBH", NFQNL_CFG_CMD_BIND, 0, socket.AF_UNSPEC)
    return _message(
        NFQNL_MSG_CONFIG, queue, _attribute(NFQA_CFG_CMD, command), seq=seq, flags=NLM_F_REQUEST | NLM_F_ACK
    )


def params_message(queue: int, *, copy_range: int, max_len: int, seq: int = 0) -> bytes:
    """NFQNL_MSG_CONFIG: copy mode NFQNL_COPY_PACKET with the first `copy_range` bytes of each packet (the
    headers are all a verdict needs), and at most `max_len` packets waiting in the kernel."""
    params = struct.pack(">IB", copy_range, NFQNL_COPY_PACKET)
    attributes = _attribute(NFQA_CFG_PARAMS, params) + _attribute(NFQA_CFG_QUEUE_MAXLEN, struct.pack(">I", max_len))
    return _message(NFQNL_MSG_CONFIG, queue, attributes, seq=seq, flags=NLM_F_REQUEST | NLM_F_ACK)


def flags_message(queue: int, flags: int, *, seq: int = 0) -> bytes:
    """NFQNL_MSG_CONFIG: set the queue's NFQA_CFG_F_* flags (the mask names the ones being set)."""
    attributes = _attribute(NFQA_CFG_FLAGS, struct.pack(">I", flags)) + _attribute(
        NFQA_CFG_MASK, struct.pack(">I", flags)
    )
    return _message(NFQNL_MSG_CONFIG, queue, attributes, seq=seq, flags=NLM_F_REQUEST | NLM_F_ACK)


def verdict_message(queue: int, packet_id: int, verdict: int, *, seq: int = 0) -> bytes:
    """NFQNL_MSG_VERDICT: NF_ACCEPT or NF_DROP for one queued packet (not acknowledged: one per packet)."""
    header = struct.pack(">II", verdict, packet_id)
    return _message(NFQNL_MSG_VERDICT, queue, _attribute(NFQA_VERDICT_HDR, header), seq=seq, flags=NLM_F_REQUEST)


# ------------------------------------------------------------------------------------------ parsers


@dataclass(frozen=True, slots=True)
class NetlinkMessage:
    """One netlink message: its header, and the body after it (for nfnetlink: nfgenmsg and attributes)."""

    type: int
    flags: int
    seq: int
    pid: int
    body: bytes

    @property
    def error(self) -> int | None:
        """For NLMSG_ERROR: the errno it carries (0: an acknowledgement); None for any other message."""
        if self.type != NLMSG_ERROR:
            return None
        code: int = struct.unpack_from("=i", self.body)[0]
        return -code


def parse_messages(data: bytes) -> Iterator[NetlinkMessage]:
    """Split one datagram into its netlink messages (each padded to 4 bytes); a truncated one is an error."""
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, flags, seq, pid = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size or offset + length > len(data):
            raise ValueError(f"netlink message of length {length} at offset {offset} in {len(data)} bytes")
        yield NetlinkMessage(kind, flags, seq, pid, data[offset + _NLMSGHDR.size : offset + length])
        offset += _align(length)


def parse_attributes(data: bytes) -> dict[int, bytes]:
    """The netlink attributes of `data`, by type (nested and byte-order flags masked off); the last wins."""
    attributes: dict[int, bytes] = {}
    offset = 0
    while offset + _NLATTR.size <= len(data):
        length, kind = _NLATTR.unpack_from(data, offset)
        if length < _NLATTR.size or offset + length > len(data):
            raise ValueError(f"netlink attribute of length {length} at offset {offset} in {len(data)} bytes")
        attributes[kind & NLA_TYPE_MASK] = data[offset + _NLATTR.size : offset + length]
        offset += _align(length)
    return attributes


@dataclass(frozen=True, slots=True)
class Flow:
    """What a verdict is about: the addresses, the IP protocol and, for TCP/UDP/SCTP, the ports."""

    src: ipaddress.IPv4Address
    dst: ipaddress.IPv4Address
    protocol: int  # the IP protocol number: 6 TCP, 17 UDP, 132 SCTP, 1 ICMP, ...
    sport: int | None = None
    dport: int | None = None

    @property
    def protocol_name(self) -> str | None:
        """ "TCP", "UDP" or "SCTP" (the protocols a NetworkPolicy port names, NP-10); None for any other."""
        return _PROTOCOL_NAMES.get(self.protocol)


def parse_ipv4(payload: bytes) -> Flow:
    """The flow of an IPv4 packet: its header, and the ports of a TCP, UDP or SCTP header that follows (all
    three start with the source and destination port). A fragment other than the first has no ports."""
    if len(payload) < 20:
        raise ValueError(f"an IPv4 header is at least 20 bytes, not {len(payload)}")
    version, header_length = payload[0] >> 4, (payload[0] & 0x0F) * 4
    if version != 4:
        raise ValueError(f"not IPv4 (version {version})")
    if header_length < 20 or len(payload) < header_length:
        raise ValueError(f"IPv4 header length {header_length} in a packet of {len(payload)} bytes")
    (fragment,) = struct.unpack_from(">H", payload, 6)
    protocol = payload[9]
    src, dst = ipaddress.IPv4Address(payload[12:16]), ipaddress.IPv4Address(payload[16:20])
    if protocol not in _PROTOCOL_NAMES or fragment & 0x1FFF:
        return Flow(src, dst, protocol)
    if len(payload) < header_length + 4:
        raise ValueError(f"the {_PROTOCOL_NAMES[protocol]} ports are cut off ({len(payload)} bytes)")
    sport, dport = struct.unpack_from(">HH", payload, header_length)
    return Flow(src, dst, protocol, sport, dport)


@dataclass(frozen=True, slots=True)
class QueuedPacket:
    """A packet the kernel holds until it gets a verdict: its id, hook, and the copied bytes (from the IP
    header on, at most the copy range)."""

    queue: int
    packet_id: int
    hw_protocol: int  # the link-layer protocol: 0x0800 IPv4, 0x86DD IPv6
    hook: int  # the netfilter hook it was queued from: 0 prerouting ... 4 postrouting
    payload: bytes

    def flow(self) -> Flow:
        return parse_ipv4(self.payload)


def parse_packet(message: NetlinkMessage) -> QueuedPacket:
    """An NFQNL_MSG_PACKET: NFQA_PACKET_HDR (be32 packet id, be16 hw protocol, u8 hook) and NFQA_PAYLOAD."""
    if message.type != _msg_type(NFQNL_MSG_PACKET):
        raise ValueError(f"not an NFQNL_MSG_PACKET: message type {message.type:#x}")
    _family, _version, res_id = _NFGENMSG.unpack_from(message.body)
    attributes = parse_attributes(message.body[_NFGENMSG.size :])
    header = attributes.get(NFQA_PACKET_HDR)
    if header is None or len(header) < 7:
        raise ValueError("NFQNL_MSG_PACKET without NFQA_PACKET_HDR")
    packet_id, hw_protocol, hook = struct.unpack_from(">IHB", header)
    (queue,) = struct.unpack(">H", res_id)
    return QueuedPacket(queue, packet_id, hw_protocol, hook, attributes.get(NFQA_PAYLOAD, b""))


@dataclass(frozen=True, slots=True)
class QueueStats:
    """One line of /proc/net/netfilter/nfnetlink_queue (per network namespace)."""

    queue: int
    portid: int
    waiting: int  # packets queued now, waiting for a verdict
    copy_mode: int
    copy_range: int
    queue_dropped: int  # dropped because the queue was full (max_len)
    user_dropped: int  # dropped because the netlink socket's buffer was full
    id_sequence: int  # the last packet id: packets queued since the bind


def parse_queue_stats(text: str) -> list[QueueStats]:
    """The queues bound in one network namespace, from the text of /proc/net/netfilter/nfnetlink_queue."""
    stats = []
    for line in text.splitlines():
        fields = [int(value) for value in line.split()[:8]]
        if len(fields) == 8:
            stats.append(QueueStats(*fields))
    return stats


# ------------------------------------------------------------------------------------------ the socket


@dataclass(slots=True)
class Counters:
    """What one NfQueue has answered."""

    accepted: int = 0
    dropped: int = 0
    errors: int = 0  # packets that could not be parsed or decided: dropped (fail closed)


class NfQueue:
    """A bound queue of the network namespace this thread is in when it is created (the socket stays there).

    The agent needs CAP_NET_ADMIN. Only one socket can bind a queue number; while none does, packets sent
    to it are dropped unless the rule says `queue ... bypass` (kube-network-policies leaves bypass off: no
    agent, no new connections to isolated pods).
    """

    def __init__(self, queue: int, *, copy_range: int = 128, max_len: int = 1024, fail_open: bool = False) -> None:
        self.queue = queue
        self.counters = Counters()
        self._pending: list[QueuedPacket] = []  # packets that came while waiting for an acknowledgement
        self._seq = 0
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        try:
            self._sock.bind((0, 0))
            self._sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)  # an overrun is counted, not an error
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            self._request(bind_message(queue, seq=self._next_seq()))
            self._request(params_message(queue, copy_range=copy_range, max_len=max_len, seq=self._next_seq()))
            flags = NFQA_CFG_F_GSO | (NFQA_CFG_F_FAIL_OPEN if fail_open else 0)
            self._request(flags_message(queue, flags, seq=self._next_seq()))
            self._sock.setblocking(False)
        except BaseException:
            self._sock.close()
            raise

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _request(self, message: bytes) -> None:
        """Send a configuration message and wait for its acknowledgement (raises the kernel's errno)."""
        self._sock.send(message)
        (_, _, _, seq, _) = _NLMSGHDR.unpack_from(message)
        while True:
            for reply in parse_messages(self._sock.recv(65536)):
                if reply.type == _msg_type(NFQNL_MSG_PACKET):
                    self._pending.append(parse_packet(reply))
                elif reply.seq == seq and reply.error is not None:
                    if reply.error:
                        raise OSError(reply.error, f"nfqueue {self.queue}: {os.strerror(reply.error)}")
                    return

    def fileno(self) -> int:
        return self._sock.fileno()

    def read(self) -> list[QueuedPacket]:
        """The packets waiting now (an empty list when none); never blocks."""
        packets, self._pending = self._pending, []
        while True:
            try:
                data = self._sock.recv(65536)
            except BlockingIOError:
                return packets
            except OSError as error:
                if error.errno == errno.ENOBUFS:
                    continue  # the kernel dropped some: they are counted in user_dropped
                raise
            for message in parse_messages(data):
                if message.type == _msg_type(NFQNL_MSG_PACKET):
                    packets.append(parse_packet(message))

    def verdict(self, packet_id: int, verdict: int) -> None:
        """Release one queued packet: NF_ACCEPT lets it continue through the hooks, NF_DROP drops it."""
        self._sock.send(verdict_message(self.queue, packet_id, verdict))
        if verdict == NF_ACCEPT:
            self.counters.accepted += 1
        else:
            self.counters.dropped += 1

    def answer(self, decide: Callable[[QueuedPacket], bool]) -> int:
        """Read what waits and answer each packet with `decide`; a packet it cannot decide is dropped."""
        packets = self.read()
        for packet in packets:
            try:
                accept = decide(packet)
            except Exception:  # fail closed: an undecidable packet of an isolated pod does not pass
                logger.exception("nfqueue %d: packet %d dropped: no verdict", self.queue, packet.packet_id)
                self.counters.errors += 1
                accept = False
            self.verdict(packet.packet_id, NF_ACCEPT if accept else NF_DROP)
        return len(packets)

    async def serve(self, decide: Callable[[QueuedPacket], bool]) -> None:
        """Answer packets as they come, from the running event loop, until cancelled."""
        loop = asyncio.get_running_loop()
        fd = self.fileno()
        loop.add_reader(fd, self.answer, decide)
        try:
            await asyncio.Event().wait()  # forever: the reader does the work
        finally:
            loop.remove_reader(fd)

    def close(self) -> None:
        """Close the socket: the kernel unbinds the queue and drops what still waits in it."""
        self._sock.close()

    def __enter__(self) -> NfQueue:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
