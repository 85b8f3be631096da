"""Reads a loopback market-data feed with alphacore.Reader.

A feeder thread opens N loopback TCP connections and sends length-prefixed messages
(u16 big-endian length, then: u64 sequence number, u64 send time in ns, padding); the reader
receives them with framing on, so every completion holds whole messages, and checks the
sequence numbers.

    python3 examples/python/loopback_feed.py [connections] [messages-per-connection]
"""
import socket
import struct
import sys
import threading
import time

import alphacore

MSG = struct.Struct(">HQQ32s")  # length prefix (payload bytes after it), seq, t_send, padding


def main(conns: int = 16, per_conn: int = 20000) -> int:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(conns)
    senders = [socket.create_connection(listener.getsockname()) for _ in range(conns)]
    receivers = [listener.accept()[0] for _ in range(conns)]

    def feed():
        for seq in range(per_conn):
            now = time.monotonic_ns()
            for s in senders:
                s.sendall(MSG.pack(MSG.size - 2, seq, now, b"x" * 32))
        for s in senders:
            s.close()

    with alphacore.Reader(framing="u16be", capacity=conns) as reader:
        info = reader.info()
        print(f"backend {info['backend']}: {info['reason']}")
        for i, s in enumerate(receivers):
            reader.add(s, user_data=i)
        threading.Thread(target=feed, daemon=True).start()
        expect = [0] * conns
        ended = 0
        lat_sum = 0
        t0 = time.monotonic()
        while ended < conns:
            for c in reader.poll(min_complete=1, timeout_ns=2_000_000_000):
                if c.result <= 0:
                    ended += 1
                    continue
                view = c.data
                for off in range(0, len(view), MSG.size):  # whole messages only
                    _, seq, sent, _ = MSG.unpack_from(view, off)
                    if seq != expect[c.user_data]:
                        raise SystemExit(f"connection {c.user_data}: got seq {seq}, expected {expect[c.user_data]}")
                    expect[c.user_data] += 1
                    lat_sum += time.monotonic_ns() - sent
            reader.release()
        dt = time.monotonic() - t0
        total = sum(expect)
        st = reader.stats()
        print(f"{total} messages on {conns} connections in {dt:.2f} s ({total / dt:,.0f}/s), "
              f"mean age at read {lat_sum / total / 1000:.1f} us, "
              f"{st['syscalls'] / total:.4f} system calls per message, {st['reassembled']} reassembled")
        assert all(e == per_conn for e in expect)
    for s in receivers:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:3])))
