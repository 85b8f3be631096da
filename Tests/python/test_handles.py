"""One way of owning a library resource (issue 15): every class that holds a handle or a region
is an ``Owned``; close() is idempotent and releases exactly once; a closed one says so. The
library's own error codes are named constants equal to the header's."""
import os
import re
from pathlib import Path

import pytest

import alphacore
from alphacore import _lib

HEADER = Path(__file__).resolve().parents[2] / "include" / "alphacore.h"


def test_error_codes_match_the_header():
    text = HEADER.read_text()
    for name, value in (("EFORMAT", alphacore.EFORMAT), ("EINTERNAL", alphacore.EINTERNAL)):
        m = re.search(rf"#define ALPHACORE_{name}\s+(\d+)", text)
        assert m and int(m.group(1)) == value


def test_a_malformed_log_raises_the_named_code():
    with pytest.raises(alphacore.AlphacoreError) as e:
        alphacore.percentile_table("#just a comment\n")
    assert e.value.errno == alphacore.EFORMAT
    assert e.value.detail == "no histogram in the text"   # its own words, not a stale library detail


def _channel_pair():
    """A producer and a reader of a channel whose name no other run can hold; unlinked at once
    (both keep their mappings)."""
    name = "handles-%d-%s" % (os.getpid(), os.urandom(4).hex())
    ch = alphacore.Channel(name, capacity=1 << 16, max_msg=64)
    rd = alphacore.ChannelReader(name)
    alphacore.Channel.unlink(name)
    return ch, rd


@pytest.mark.parametrize("make", [
    lambda: _channel_pair()[0],
    lambda: _channel_pair()[1],
    lambda: alphacore.Histogram(1, 1000, 2),
    lambda: alphacore.Recorder(1, 1000, 2),
    lambda: alphacore.LogReader(alphacore.log_header()),
    lambda: alphacore.Reader("epoll", capacity=4, buf_count=4),
    lambda: alphacore.Region(4096),
    lambda: alphacore.metrics.Registry(),
])
def test_every_resource_is_owned_the_same_way(make):
    r = make()
    assert isinstance(r, _lib.Owned)
    assert not r.closed
    r.handle  # open: no error
    r.close()
    assert r.closed
    r.close()  # idempotent
    with pytest.raises(ValueError, match="is closed"):
        r.handle


def test_release_runs_once(monkeypatch):
    calls = []

    class Fake(_lib.Owned):
        def _release(self, value):
            calls.append(value)

    f = Fake()
    f._own(42)
    with f:
        pass
    f.close()
    del f
    assert calls == [42]
