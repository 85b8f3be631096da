"""Quickstart: load libalphacore from Python and time something with its clock.

    make python && pip install ./python && python3 examples/python/quickstart.py
"""
import alphacore

print("libalphacore", alphacore.version(), "from", alphacore.library_path)
t0 = alphacore.cycles()
total = sum(range(100_000))
t1 = alphacore.cycles()
print(f"sum(range(100000)) took {alphacore.cycles_to_ns(t1 - t0)} ns")
