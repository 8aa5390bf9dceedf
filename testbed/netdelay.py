#!/usr/bin/python3
"""Add a fixed delay to packets in the current network namespace, without netem.

Used by `testbed fault HOST delay MS` when the kernel has no netem qdisc (sch_netem). An
nftables rule in the host's namespace sends every packet leaving eth0 to NFQUEUE QUEUE (with
`bypass`, so traffic flows undelayed whenever this program is not running); this program
holds each packet for MS milliseconds, then accepts it. Order is preserved (constant delay,
verdicts in id order). Talks nfnetlink_queue directly; needs only Python's standard library.

Usage: netdelay.py QUEUE MS [READY_FILE]
SIGTERM/SIGINT: release every held packet at once and exit.
"""
import collections
import os
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_NO_ENOBUFS = 5
SO_RCVBUFFORCE = 33
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_CONFIG = 2
NFQNL_MSG_VERDICT_BATCH = 3
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQA_CFG_MASK = 4
NFQA_CFG_FLAGS = 5
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NFQA_CFG_F_FAIL_OPEN = 1
NF_ACCEPT = 1


def nla(kind, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, kind) + payload + b"\0" * ((4 - n % 4) % 4)


class Queue:
    def __init__(self, num):
        self.num = num
        self.seq = 0
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
        self.sock.bind((0, 0))
        self.config(nla(NFQA_CFG_CMD, struct.pack("=BxH", NFQNL_CFG_CMD_BIND, 0)))
        self.config(nla(NFQA_CFG_PARAMS, struct.pack(">IB", 0, NFQNL_COPY_META)))
        self.config(nla(NFQA_CFG_QUEUE_MAXLEN, struct.pack(">I", 65536)))
        self.config(nla(NFQA_CFG_MASK, struct.pack(">I", NFQA_CFG_F_FAIL_OPEN))
                    + nla(NFQA_CFG_FLAGS, struct.pack(">I", NFQA_CFG_F_FAIL_OPEN)))
        self.sock.setblocking(False)

    def send(self, msg_type, flags, attrs):
        self.seq += 1
        body = struct.pack("=BB", socket.AF_UNSPEC, 0) + struct.pack(">H", self.num) + attrs
        hdr = struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg_type,
                          flags, self.seq, 0)
        self.sock.send(hdr + body)

    def config(self, attrs):
        self.send(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, attrs)
        data = self.sock.recv(65536)
        _, kind, _, _, _ = struct.unpack_from("=IHHII", data)
        if kind == NLMSG_ERROR:
            (err,) = struct.unpack_from("=i", data, 16)
            if err:
                raise OSError(-err, "nfnetlink_queue config: " + os.strerror(-err))

    def accept_upto(self, packet_id):
        self.send(NFQNL_MSG_VERDICT_BATCH, NLM_F_REQUEST,
                  nla(NFQA_VERDICT_HDR, struct.pack(">II", NF_ACCEPT, packet_id)))

    def packets(self):
        """Ids of the packets queued since the last call."""
        ids = []
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                return ids
            off = 0
            while off + 16 <= len(data):
                length, kind, _, _, _ = struct.unpack_from("=IHHII", data, off)
                if length < 16:
                    break
                if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    a = off + 20
                    while a + 4 <= off + length:
                        alen, akind = struct.unpack_from("=HH", data, a)
                        if alen < 4:
                            break
                        if akind & 0x3FFF == NFQA_PACKET_HDR:
                            ids.append(struct.unpack_from(">I", data, a + 4)[0])
                        a += (alen + 3) & ~3
                off += (length + 3) & ~3


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    q = Queue(int(sys.argv[1]))
    delay = float(sys.argv[2]) / 1000.0
    held = collections.deque()  # (due, id), ids increasing
    newest = None  # highest packet id seen

    class Stop(Exception):
        pass

    def on_signal(*_):
        raise Stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if len(sys.argv) == 4:  # tell the caller we are bound to the queue
        with open(sys.argv[3] + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(sys.argv[3] + ".tmp", sys.argv[3])
    try:
        while True:
            timeout = max(0.0, held[0][0] - time.monotonic()) if held else None
            select.select([q.sock], [], [], timeout)
            now = time.monotonic()
            for pid in q.packets():
                held.append((now + delay, pid))
                newest = pid
            last = None
            while held and held[0][0] <= now:
                last = held.popleft()[1]
            if last is not None:
                q.accept_upto(last)
    except Stop:
        pass
    # Release everything still held (no new packets come: the rule is removed first).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for pid in q.packets():
        newest = pid
    if newest is not None:
        q.accept_upto(newest)


if __name__ == "__main__":
    main()
