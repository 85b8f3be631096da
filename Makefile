# libalphacore: build, install, test, bench, demo.
#
#   make                 release library in build/lib (libalphacore.so.0.1.0, SONAME libalphacore.so.0)
#   make demo            the library, then the end-to-end example (the README's main job)
#   make test            everything: swift test, C, C++ (CMake), Python, ABI gates, man pages
#   make install PREFIX=/usr/local DESTDIR=
#   make bench           the benchmark programs (results go in BENCHMARKS.md by hand)

VERSION_MAJOR := 0
VERSION_MINOR := 1
VERSION_PATCH := 0
VERSION       := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)
SONAME        := libalphacore.so.$(VERSION_MAJOR)
LIBFILE       := libalphacore.so.$(VERSION)

PREFIX     ?= /usr/local
DESTDIR    ?=
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
BINDIR     ?= $(PREFIX)/bin

SWIFT      ?= swift
# Release scratch folder; `swift test` keeps its own (.build).
SCRATCH    ?= .build-release
BUILD      := build
STAGE      := $(abspath $(BUILD)/stage)
CC         ?= cc
CXX        ?= c++
PYTHON     ?= python3

SWIFT_RELEASE := $(SWIFT) build -c release --scratch-path $(SCRATCH) -Xswiftc -static-stdlib \
                 -Xswiftc -cross-module-optimization
LIB_LDFLAGS   := -Xlinker -soname=$(SONAME) -Xlinker --version-script=$(abspath alphacore.map) \
                 -Xlinker -z -Xlinker now -Xlinker --gc-sections

SOURCES := $(shell find Sources -type f) Package.swift include/alphacore.h alphacore.map Makefile

.PHONY: all lib cli install uninstall stage test test-swift test-c test-cpp test-python test-abi \
        test-man demo bench python clean fuzz test-bench-smoke test-interop

all: lib

lib: $(BUILD)/lib/$(LIBFILE)

$(BUILD)/lib/$(LIBFILE): $(SOURCES)
	$(SWIFT_RELEASE) --product AlphaCoreC $(LIB_LDFLAGS)
	mkdir -p $(BUILD)/lib
	cp $(SCRATCH)/release/libAlphaCoreC.so $@
	ln -sf $(LIBFILE) $(BUILD)/lib/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/lib/libalphacore.so

cli: $(BUILD)/bin/alphacore

$(BUILD)/bin/alphacore: $(SOURCES)
	$(SWIFT_RELEASE) --product alphacore
	mkdir -p $(BUILD)/bin
	cp $(SCRATCH)/release/alphacore $@

# ---- install -------------------------------------------------------------------------------

install: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
	           $(DESTDIR)$(LIBDIR)/cmake/alphacore $(DESTDIR)$(MANDIR)/man3
	install -m 0755 $(BUILD)/lib/$(LIBFILE) $(DESTDIR)$(LIBDIR)/$(LIBFILE)
	ln -sf $(LIBFILE) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libalphacore.so
	install -m 0644 include/alphacore.h $(DESTDIR)$(INCLUDEDIR)/alphacore.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' packaging/alphacore.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/alphacore.pc
	sed -e 's|@VERSION@|$(VERSION)|g' packaging/alphacoreConfigVersion.cmake.in \
	    > $(DESTDIR)$(LIBDIR)/cmake/alphacore/alphacoreConfigVersion.cmake
	sed -e 's|@SONAME@|$(SONAME)|g' -e 's|@LIBFILE@|$(LIBFILE)|g' packaging/alphacoreConfig.cmake.in \
	    > $(DESTDIR)$(LIBDIR)/cmake/alphacore/alphacoreConfig.cmake
	install -m 0644 man/man3/*.3 $(DESTDIR)$(MANDIR)/man3/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(LIBFILE) $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libalphacore.so
	rm -f $(DESTDIR)$(INCLUDEDIR)/alphacore.h $(DESTDIR)$(LIBDIR)/pkgconfig/alphacore.pc
	rm -f $(DESTDIR)$(LIBDIR)/cmake/alphacore/alphacoreConfig.cmake \
	      $(DESTDIR)$(LIBDIR)/cmake/alphacore/alphacoreConfigVersion.cmake
	-rmdir $(DESTDIR)$(LIBDIR)/cmake/alphacore 2>/dev/null
	for m in man/man3/*.3; do rm -f $(DESTDIR)$(MANDIR)/man3/$$(basename $$m); done

# The tests consume the library the way users do: installed into a staging prefix.
stage: lib
	rm -rf $(STAGE)
	$(MAKE) --no-print-directory install PREFIX=/usr DESTDIR=$(STAGE) >/dev/null

STAGE_ENV := PKG_CONFIG_SYSROOT_DIR=$(STAGE) PKG_CONFIG_PATH=$(STAGE)/usr/lib/pkgconfig \
             LD_LIBRARY_PATH=$(STAGE)/usr/lib

# ---- tests ---------------------------------------------------------------------------------

test: test-swift test-abi test-man test-c test-cpp test-python test-bench-smoke test-interop
	@echo "make test: all suites passed"

test-swift:
	$(SWIFT) test

test-abi: stage
	STAGE=$(STAGE) CC=$(CC) CXX=$(CXX) bash Tests/abi/check_abi.sh
	bash Tests/abi/check_install.sh

test-man:
	bash Tests/abi/check_man.sh

test-c: stage
	$(STAGE_ENV) STAGE=$(STAGE) CC=$(CC) bash Tests/c/run.sh

test-cpp: stage
	STAGE=$(STAGE) CXX=$(CXX) bash Tests/cpp/run.sh

test-python: lib cli
	ALPHACORE_LIBRARY=$(abspath $(BUILD)/lib/$(SONAME)) PYTHONPATH=$(abspath python) \
	    $(PYTHON) -m pytest -q Tests/python

# HdrHistogram_c (built from ../shared/peers into build/peers), Python hdrh, Java HdrHistogram.
test-interop: stage
	$(STAGE_ENV) STAGE=$(STAGE) CC=$(CC) bash Tests/interop/run.sh

fuzz: stage
	STAGE=$(STAGE) bash Tests/fuzz/run.sh

# ---- python package ------------------------------------------------------------------------

# Copies the built library into the package, so that `pip install ./python` carries it.
python: lib
	cp $(BUILD)/lib/$(LIBFILE) python/alphacore/libalphacore.so.$(VERSION_MAJOR)

# ---- demo and benchmarks -------------------------------------------------------------------

demo: stage
	$(STAGE_ENV) STAGE=$(STAGE) CC=$(CC) bash examples/c/run_demo.sh

bench: stage
	$(STAGE_ENV) STAGE=$(STAGE) CC=$(CC) bash benchmarks/run.sh

# The latency matrix's smoke run (one small cell, every consumer, about two seconds): proves
# bench_latency builds and runs, and that no consumer loses or reorders a message.
test-bench-smoke: stage
	$(STAGE_ENV) STAGE=$(STAGE) CC=$(CC) BENCH=latency LAT_BENCH_CELLS=10k:1 LAT_BENCH_SECONDS=0.2 \
	    LAT_BENCH_ROUNDS=2 bash benchmarks/run.sh

clean:
	rm -rf $(BUILD) $(SCRATCH)
