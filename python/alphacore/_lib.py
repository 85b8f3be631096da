"""Finds and loads libalphacore, and declares the C functions for the other modules.

The library is looked for in a fixed order:
  1. the path in the ALPHACORE_LIBRARY environment variable;
  2. a copy inside this package (``make python`` puts one there before ``pip install ./python``);
  3. the build tree this package sits in (``build/lib`` of the repository);
  4. ``ctypes.util.find_library("alphacore")`` (an installed library).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import Optional

__all__ = ["lib", "library_path", "check", "declare", "AlphacoreError", "Closeable", "Owned", "EFORMAT", "EINTERNAL"]

_SONAME = "libalphacore.so.0"


def _candidates():
    env = os.environ.get("ALPHACORE_LIBRARY")
    if env:
        yield env
        return  # an explicit choice is final: do not silently load another copy
    here = Path(__file__).resolve().parent
    yield str(here / _SONAME)
    yield str(here.parent.parent / "build" / "lib" / _SONAME)
    found = ctypes.util.find_library("alphacore")
    if found:
        yield found


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(f"{path} (missing)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as exc:
            tried.append(f"{path} ({exc})")
    raise ImportError("libalphacore not found; tried: " + "; ".join(tried) +
                      ". Set ALPHACORE_LIBRARY, run `make python`, or install the library.")


lib, library_path = _load()


# The library's own error codes (alphacore.h: ALPHACORE_EFORMAT, ALPHACORE_EINTERNAL; the Python
# tests check them against the header). errno values above the kernel's range.
EFORMAT = 20001    # malformed input data (text, base64, wire format)
EINTERNAL = 20002  # an internal invariant failed


class AlphacoreError(OSError):
    """A negative return from libalphacore: ``errno`` is the error, ``detail`` the library's words."""

    def __init__(self, err: int, func: str, detail: Optional[str] = None):
        """``detail``: the package's own words, for an error it finds itself (the library's last
        detail would belong to an earlier call)."""
        message = lib.alphacore_strerror(-err).decode("utf-8", "replace")
        if detail is None:
            detail = lib.alphacore_last_detail().decode("utf-8", "replace")
        text = f"{func}: {message}" + (f" ({detail})" if detail else "")
        super().__init__(err, text)
        self.detail = detail
        self.func = func


class Closeable:
    """Owns one library resource. Subclasses define an idempotent close(); this gives the
    context manager and closing on garbage collection."""

    __slots__ = ()

    def close(self) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown, half-built objects
            pass


class Owned(Closeable):
    """The one way the package owns a library resource (an opaque handle, or a struct such as
    ``alphacore_region``): ``_own(value)`` takes it, ``handle`` gives it back (ValueError once
    closed), and ``close()`` is idempotent and gives it to ``_release(value)`` exactly once.
    Subclasses set ``_destroy`` (the C destroy function), or override ``_release``."""

    __slots__ = ()
    _destroy = None

    def _own(self, value) -> None:
        self._owned = value

    @property
    def closed(self) -> bool:
        return getattr(self, "_owned", None) is None

    @property
    def handle(self):
        value = getattr(self, "_owned", None)
        if value is None:
            raise ValueError(type(self).__name__ + " is closed")
        return value

    def _release(self, value) -> None:
        type(self)._destroy(value)

    def close(self) -> None:
        value = getattr(self, "_owned", None)
        if value is not None:
            self._owned = None
            self._release(value)


def check(result, func, args):
    """ctypes errcheck: a negative int becomes AlphacoreError (an OSError with that errno)."""
    if isinstance(result, int) and result < 0:
        raise AlphacoreError(-result, func.__name__)
    return result


def text(fn, *args, guess: int = 4096, encoding: str = "utf-8") -> str:
    """Calls an snprintf-style function (..., buf, cap) -> length needed: one call when `guess`
    bytes suffice, else again with the size it asked for (and again if it grew meanwhile)."""
    cap = guess
    while True:
        buf = ctypes.create_string_buffer(cap)
        n = fn(*args, buf, cap)
        if n < cap:
            return buf.raw[:n].decode(encoding, "replace")
        cap = n + 1


def declare(name: str, restype, argtypes, errcheck: bool = False):
    """Declares argtypes and restype of one function (every function is declared)."""
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = argtypes
    if errcheck:
        fn.errcheck = check
    return fn


# Version, errors and clock.
declare("alphacore_version_number", ctypes.c_uint, [])
declare("alphacore_version_string", ctypes.c_char_p, [])
declare("alphacore_strerror", ctypes.c_char_p, [ctypes.c_int])
declare("alphacore_last_detail", ctypes.c_char_p, [])
declare("alphacore_now_ns", ctypes.c_uint64, [])
declare("alphacore_cycles", ctypes.c_uint64, [])
declare("alphacore_cycles_to_ns", ctypes.c_uint64, [ctypes.c_uint64])
declare("alphacore_cycles_per_second", ctypes.c_uint64, [])
