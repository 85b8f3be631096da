"""Reads a channel from Python as a numpy structured array and prints publish-to-read latency.

    python3 channel_reader.py NAME          (NAME: a channel a producer publishes 64-byte ticks to)
    python3 channel_reader.py               (self-contained: publishes 100k ticks itself)
"""
import os
import sys

import numpy as np

import alphacore

TICK = np.dtype([("seq", "<u8"), ("px", "<f8"), ("qty", "<i8"), ("pad", "u1", 40)])   # 64 bytes


def main():
    own = len(sys.argv) < 2
    name = sys.argv[1] if not own else "py-example-%d" % os.getpid()
    ch = alphacore.Channel(name, capacity=1 << 24, max_msg=TICK.itemsize) if own else None
    with alphacore.ChannelReader(name, hist=True, batch=4096) as rd:
        if own:
            row = np.zeros(1, dtype=TICK)
            for i in range(100_000):
                row["seq"] = i
                ch.publish(row.tobytes())
        got = 0
        while got < 100_000 and rd.wait(2_000_000_000):
            arr = rd.poll_array(TICK)     # one C call per batch, no Python object per message
            got += len(arr)
        h = rd.hist()
        print("%d messages, %d lost; publish-to-read p50 %d ns, p99 %d ns" % (
            got, rd.info()["lost"], h.value_at_percentile(50), h.value_at_percentile(99)))
    if ch:
        ch.close()
        alphacore.Channel.unlink(name)


if __name__ == "__main__":
    main()
