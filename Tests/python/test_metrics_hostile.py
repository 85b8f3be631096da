"""Hostile HTTP against the scrape endpoint of a separate C process: garbage, a 1 MiB request
line, 10,000 headers, requests cut in the middle, and 500 connections sending one byte a second.
Scrapes in between must succeed within their timeout and the target's memory must stay flat."""
import socket
import time
import urllib.request

import pytest

from test_metrics_prometheus import target  # noqa: F401 (the C scrape target fixture)


def rss_kb(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def scrape(port: int, timeout: float = 3.0) -> bytes:
    t = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as r:
        body = r.read()
    assert b"test_hist_seconds_count" in body
    assert time.monotonic() - t < timeout
    return body


def exchange(port: int, payload: bytes, timeout: float = 5.0) -> bytes:
    """Sends payload (the server may cut it short) and returns what came back before close."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        return data
    finally:
        s.close()


def test_hostile_requests(target):
    port = target["port"]
    scrape(port)
    base = rss_kb(target["pid"])
    assert exchange(port, b"\x00\xff garbage \x13\x37\r\n\r\n").startswith(b"HTTP/1.1 400")
    reply = exchange(port, b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\n\r\n")
    assert reply == b"" or reply.startswith(b"HTTP/1.1 413")
    scrape(port)
    reply = exchange(port, b"GET /metrics HTTP/1.1\r\n" + b"X-Junk: 1\r\n" * 10000 + b"\r\n")
    assert reply == b"" or reply.startswith(b"HTTP/1.1 413")
    scrape(port)
    assert exchange(port, b"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc").startswith(b"HTTP/1.1 400")
    assert exchange(port, b"PUT /metrics HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 405")
    assert exchange(port, b"GET /admin HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404")
    assert exchange(port, b"GET /metrics HTTP/9.9\r\n\r\n").startswith(b"HTTP/1.1 400")
    # Requests cut in the middle: the client goes away mid-line, mid-headers, mid-response.
    for cut in (b"GET /met", b"GET /metrics HTTP/1.1\r\nAcc", b"GET /metrics HTTP/1.1\r\n\r\n"):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(cut)
        s.close()
    scrape(port)
    assert rss_kb(target["pid"]) < base + 4096


def test_slow_clients_do_not_starve_scrapes(target):
    port = target["port"]
    scrape(port)
    base = rss_kb(target["pid"])
    slow = []
    for _ in range(500):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        slow.append(s)
    request = b"GET /metrics HTTP/1.1\r\nHost: slow\r\n\r\n"
    scrapes = 0
    t0 = time.monotonic()
    for second in range(6):
        for s in slow:
            try:
                s.send(request[second:second + 1])
            except OSError:
                pass   # the server dropped it: that is what it should do to stalled clients
        tick = time.monotonic()
        while time.monotonic() - tick < 1.0:
            scrape(port, timeout=3.0)
            scrapes += 1
            time.sleep(0.2)
    for s in slow:
        s.close()
    assert scrapes >= 12
    assert time.monotonic() - t0 < 20
    scrape(port)
    assert rss_kb(target["pid"]) < base + 4096, (base, rss_kb(target["pid"]))
