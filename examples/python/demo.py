"""The end-to-end demo in Python: the same flow as examples/c/demo.c.

A collector thread pinned to a CPU the process may use reads a loopback feed of 16 TCP
connections with alphacore.Reader (io_uring, or epoll where refused; buffers in huge pages where
the pool allows), keeps its latencies in a huge-page Region as a numpy array, records them into
an HDR histogram in one call, prints the percentile table and a one-screen doctor summary.
Without huge pages, CAP_SYS_NICE or io_uring it says what it got and carries on.

    make python && PYTHONPATH=python python3 examples/python/demo.py
"""
import socket
import struct
import sys
import threading
import time

import alphacore
from alphacore import cpu as acpu
from alphacore.reader import HUGE_PAGES

CONNS, BATCH, MESSAGES, RATE = 16, 16, 100_000, 50_000
MSG = struct.Struct("<QII48s")          # send time (cycles), connection, sequence, padding


def open_feed():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(CONNS)
    senders = [socket.create_connection(listener.getsockname()) for _ in range(CONNS)]
    for s in senders:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    receivers = [listener.accept()[0] for _ in range(CONNS)]
    listener.close()
    return senders, receivers


def producer(senders, ready):
    ready.wait()
    seq = [0] * CONNS
    interval = BATCH / RATE
    start = time.monotonic()
    pad = b"\x5a" * 48
    for k in range(MESSAGES // BATCH):
        delay = start + k * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        c = k % CONNS
        now = alphacore.cycles()
        batch = b"".join(MSG.pack(now, c, seq[c] + m, pad) for m in range(BATCH))
        seq[c] += BATCH
        senders[c].sendall(batch)


def collector(receivers, ready, result):
    allowed = acpu.allowed()
    target = allowed[-1]
    print("\n[1] CPU placement")
    try:
        acpu.pin_thread(target)
        print(f"  collector pinned to CPU {target}; running on CPU {acpu.current_cpu()}")
    except OSError as e:
        print(f"  not pinned: {e}")

    print("\n[2] Memory")
    region = alphacore.Region(4 << 20, prefault=True)     # 4 MiB: room for huge pages
    print(f"  latency buffer: {region.report().splitlines()[0]}")
    latencies = region.array("int64")[:MESSAGES]

    print("\n[3] Batched reads")
    received = bad = 0
    with alphacore.Reader(capacity=CONNS, framing="fixed", frame_size=MSG.size, flags=HUGE_PAGES) as reader:
        info = reader.info()
        huge = "on huge pages" if info["flags"] & HUGE_PAGES else "on 4 KiB pages (no huge pages free)"
        print(f"  reader on {info['backend']} ({info['reason']}); buffers {huge}")
        for i, s in enumerate(receivers):
            reader.add(s, user_data=i)
        ready.set()
        expect = [0] * CONNS
        idle = 0
        while received + bad < MESSAGES and idle < 200:
            batch = reader.poll(min_complete=16, min_wait_ns=50_000, timeout_ns=10_000_000)
            idle = 0 if batch else idle + 1
            for c in batch:
                if c.result <= 0:
                    continue
                now = alphacore.cycles()
                for sent, conn, seq, _ in MSG.iter_unpack(c.data):
                    if conn != c.user_data or seq != expect[conn]:
                        bad += 1
                        continue
                    expect[conn] += 1
                    latencies[received] = alphacore.cycles_to_ns(now - sent)
                    received += 1
            reader.release()
        st = reader.stats()
        print(f"  {received} messages in {st['polls']} polls, {st['syscalls']} system calls, {bad} out of order")
    result["hist"].record_many(latencies[:received])   # [4] one call for the whole batch
    result["ok"] = received == MESSAGES and bad == 0
    del latencies
    region.close()


def main() -> int:
    print(f"libalphacore {alphacore.version()} demo (Python): a pinned collector reads a loopback feed "
          f"of {CONNS} connections, {MESSAGES} messages")
    print(f"allowed CPUs: {alphacore.cpu.format_cpulist(acpu.allowed())}")
    senders, receivers = open_feed()
    ready = threading.Event()
    result = {"hist": alphacore.Histogram(1, 3_600_000_000_000, 3), "ok": False}
    threads = [threading.Thread(target=collector, args=(receivers, ready, result)),
               threading.Thread(target=producer, args=(senders, ready))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in senders + receivers:
        s.close()

    h = result["hist"]
    print(f"\n[4] Latency: producer timestamp to collector, microseconds ({h.total_count} values)")
    print(h.format_percentiles(1, 1000.0), end="")
    p50, p99, p999 = (h.percentile(p) / 1000 for p in (50, 99, 99.9))
    print(f"p50 {p50:.1f} us, p99 {p99:.1f} us, p99.9 {p999:.1f} us, max {h.max / 1000:.1f} us")
    h.close()

    print("\n[5] Host readiness (alphacore doctor; `build/bin/alphacore doctor` for the details)")
    report = alphacore.doctor()
    shown = [c for c in report["checks"] if c["severity"] in ("fail", "warn", "unknown")][:16]
    for c in shown:
        print(f"  {c['severity'].upper():7} {c['id']:22} {c['saw'][:80]}")
    s = report["summary"]
    print(f"  {len(report['checks'])} checks: {s['fail']} fail, {s['warn']} warn, {s['unknown']} unknown, "
          f"{s['info']} info, {s['ok']} ok ({report['elapsed_us']} us)")
    if not result["ok"]:
        print("demo: the feed did not arrive whole", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
