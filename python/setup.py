"""Build hook of the alphacore Python package (metadata is in pyproject.toml).

The package is ctypes bindings plus a copy of libalphacore.so.0 inside it. Building it from the
repository (`pip install ./python`) with no copy present runs `make python` in the repository
(which builds the library with the Swift toolchain); without a toolchain, or outside the
repository, it stops with one line saying what to run. The wheel is tagged py3-none-<platform>:
it carries a native library but no Python extension, so any Python 3 on that platform loads it.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
SONAME = "libalphacore.so.0"


def fail(message):
    # One line, no traceback: setuptools prints the SystemExit text as the error.
    raise SystemExit("alphacore: " + message)


def ensure_library():
    if (HERE / "alphacore" / SONAME).exists() or os.environ.get("ALPHACORE_SKIP_LIBRARY"):
        return
    repo = HERE.parent
    if not ((repo / "Makefile").exists() and (repo / "Package.swift").exists()):
        fail(f"{SONAME} is not in the package and there is no libalphacore repository around it: "
             "build the wheel in the repository with `make wheel` and install that")
    if shutil.which(os.environ.get("SWIFT", "swift")) is None:
        fail(f"{SONAME} is not built and no Swift toolchain (swift) is on PATH: install Swift 6.3 "
             f"and run `make python` in {repo}, or install a wheel built with `make wheel`")
    if shutil.which("make") is None:
        fail(f"{SONAME} is not built and `make` is not on PATH: run `make python` in {repo}")
    sys.stderr.write(f"alphacore: building {SONAME} with `make python` in {repo} (a few minutes)\n")
    done = subprocess.run(["make", "-C", str(repo), "--no-print-directory", "python"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0 or not (HERE / "alphacore" / SONAME).exists():
        tail = "\n".join(done.stdout.strip().splitlines()[-15:])
        sys.stderr.write(tail + "\n")
        fail(f"`make python` in {repo} failed (its last lines are above); fix that and run pip again")


class BuildPy(build_py):
    def run(self):
        ensure_library()
        super().run()


class BdistWheel(bdist_wheel):
    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False  # a native library inside: a platform wheel

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(cmdclass={"build_py": BuildPy, "bdist_wheel": BdistWheel})
