"""alphacore.Reader through ctypes: every byte checked on both backends, memoryviews, the numpy
structured array, poll_copy, errors."""
import errno
import os
import socket
import threading
import time

import numpy as np
import pytest

import alphacore
from alphacore.reader import COMPLETION_DTYPE

BACKENDS = ["io_uring", "epoll"]


def pattern(stream: int, start: int, n: int) -> bytes:
    k = np.arange(start, start + n, dtype=np.uint64)
    x = ((k * np.uint64(2654435761)) ^ np.uint64(stream * 977)) >> np.uint64(3)
    return (x & np.uint64(0xFF)).astype(np.uint8).tobytes()


def pairs(n):
    out = []
    for _ in range(n):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out.append((a, b))
    return out


def tcp_pair():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    c = socket.create_connection(ls.getsockname())
    s, _ = ls.accept()
    ls.close()
    return s, c


def feed(ps, total):
    def run():
        for i, (_, tx) in enumerate(ps):
            sent = 0
            while sent < total:
                n = min(5000 + 13 * i, total - sent)
                tx.sendall(pattern(i, sent, n))
                sent += n
            tx.close()
    t = threading.Thread(target=run)
    t.start()
    return t


def consume(r, ps, total, mode):
    got = [bytearray() for _ in ps]
    ended = 0
    deadline = time.monotonic() + 30
    while ended < len(ps):
        # A poll may return early and empty (a signal, or the kernel's clean-up of an io_uring
        # ring this thread destroyed, ends the wait like a timeout): only the deadline counts.
        assert time.monotonic() < deadline, f"timed out: {[len(g) for g in got]}, {r.stats()}"
        if mode == "views":
            cs = r.poll(max=64, timeout_ns=2_000_000_000)
            for c in cs:
                if c.result <= 0:
                    assert c.result == 0 and c.data is None and c.buf_id == alphacore.reader.NO_BUFFER
                    ended += 1
                else:
                    assert len(c.data) == c.result
                    got[c.user_data] += c.data
            r.release()
        elif mode == "array":
            a = r.poll_array(max=64, timeout_ns=2_000_000_000)
            assert a.dtype == COMPLETION_DTYPE
            for row in a:
                if row["result"] <= 0:
                    ended += 1
                else:
                    got[int(row["user_data"])] += r.view(row)
            r.release()
        else:
            for c in r.poll_copy(max=16, timeout_ns=2_000_000_000):
                if c.result <= 0:
                    ended += 1
                else:
                    got[c.user_data] += c.data
            assert r.stats()["buffers_held"] == 0
    for i, g in enumerate(got):
        assert len(g) == total
        assert bytes(g) == pattern(i, 0, total)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["views", "array", "copy"])
def test_every_byte(backend, mode):
    ps = pairs(12)
    total = 150_000
    with alphacore.Reader(backend, buf_count=64, buf_size=2048) as r:
        assert r.backend == backend
        for i, (rx, _) in enumerate(ps):
            r.add(rx, user_data=i)
        t = feed(ps, total)
        consume(r, ps, total, mode)
        t.join()
        st = r.stats()
        assert st["bytes"] == 12 * total and st["eofs"] == 12 and st["buffers_held"] == 0
    for rx, _ in ps:
        rx.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_tcp_and_errors(backend):
    with alphacore.Reader(backend, capacity=2) as r:
        rx, tx = tcp_pair()
        r.add(rx, 5)
        with pytest.raises(alphacore.AlphacoreError) as e:
            r.add(rx, 6)
        assert e.value.errno == errno.EEXIST
        with pytest.raises(alphacore.AlphacoreError) as e:
            r.remove(12345)
        assert e.value.errno == errno.ENOENT
        assert r.poll(timeout_ns=1_000_000) == []
        with pytest.raises(alphacore.AlphacoreError) as e:
            r.poll(timeout_ns=-5)
        assert e.value.errno == errno.EINVAL
        with pytest.raises(alphacore.AlphacoreError) as e:
            r.poll(max=0)
        assert e.value.errno == errno.EINVAL
        tx.sendall(b"hello")
        cs = []
        for _ in range(20):   # an early empty return (signal, ring clean-up) is allowed
            cs = r.poll(timeout_ns=1_000_000_000)
            if cs:
                break
        assert [(c.user_data, bytes(c.data)) for c in cs] == [(5, b"hello")]
        r.release()
        r.remove(rx)
        rx.close()
        tx.close()
        with open(__file__, "rb") as f:
            with pytest.raises(alphacore.AlphacoreError) as e:
                r.add(f, 1)
            assert e.value.errno in (errno.EINVAL, errno.EPERM)
    r.close()  # idempotent
    with pytest.raises(ValueError):
        r.poll()


def test_auto_reports_backend():
    with alphacore.Reader() as r:
        info = r.info()
        assert info["backend"] in BACKENDS and info["requested"] == "auto"
        assert info["reason"]
        if info["backend"] == "epoll":
            assert info["uring_errno"] > 0 and info["uring_stage"]
    with pytest.raises(alphacore.AlphacoreError) as e:
        alphacore.Reader(buf_count=3)
    assert e.value.errno == errno.EINVAL


@pytest.mark.parametrize("backend", ["io_uring", "epoll"])
@pytest.mark.parametrize("profile", ["throughput", "latency", "spin"])
def test_profiles(backend, profile):
    """Each profile on each backend: reported by info(), every byte delivered in order."""
    with alphacore.Reader(backend, profile=profile, buf_count=64) as r:
        info = r.info()
        assert info["profile"] == profile
        assert info["spin_us"] == (100 if profile == "spin" else 0)
        a, b = socket.socketpair()
        r.add(a, 7)
        payload = bytes(range(256)) * 40
        b.sendall(payload)
        b.close()
        got, ended = bytearray(), False
        deadline = time.monotonic() + 10
        while not ended and time.monotonic() < deadline:
            for c in r.poll(timeout_ns=100_000_000):
                if c.result <= 0:
                    ended = c.result == 0
                else:
                    got += c.data
            r.release()
        assert ended and bytes(got) == payload
        r.remove(a)
        a.close()


def test_profile_errors():
    with pytest.raises(ValueError):
        alphacore.Reader("epoll", profile="fast")
    for kwargs in ({"profile": "spin", "spin_us": 1_000_001}, {"profile": "latency", "spin_us": 5},
                   {"profile": "latency", "flags": alphacore.reader.BUSY_POLL}):
        with pytest.raises(alphacore.AlphacoreError) as e:
            alphacore.Reader("epoll", **kwargs)
        assert e.value.errno == errno.EINVAL
    with alphacore.Reader("epoll", flags=alphacore.reader.BUSY_POLL) as r:
        assert r.info()["profile"] == "spin" and r.info()["spin_us"] == 0xFFFFFFFF
