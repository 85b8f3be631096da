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

.PHONY: test-channel-valgrind
.PHONY: all lib cli install uninstall stage test test-swift test-c test-cpp test-python test-abi \
        test-man demo bench python clean fuzz test-bench-smoke test-interop
.PHONY: test-repeat install-lib install-tools wheel deb   # install block

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

# ---- install (install block, issue 16) -----------------------------------------------------
#
# `make install` = install-lib (library, SONAME chain, alphacore.h and alphacore.hpp, pkg-config,
# CMake package, man3) + install-tools (bin/alphacore stripped, man1 pages generated from the
# argument parser, bash/zsh/fish completions where each shell looks under PREFIX). Every path is
# quoted, so DESTDIR and PREFIX may contain spaces; directories that do not exist are created.

BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
D            = $(DESTDIR)

install: install-lib install-tools

install-lib: lib
	install -d "$(D)$(LIBDIR)" "$(D)$(INCLUDEDIR)" "$(D)$(LIBDIR)/pkgconfig" \
	           "$(D)$(LIBDIR)/cmake/alphacore" "$(D)$(MANDIR)/man3"
	install -m 0755 $(BUILD)/lib/$(LIBFILE) "$(D)$(LIBDIR)/$(LIBFILE)"
	ln -sf $(LIBFILE) "$(D)$(LIBDIR)/$(SONAME)"
	ln -sf $(SONAME) "$(D)$(LIBDIR)/libalphacore.so"
	install -m 0644 include/alphacore.h include/alphacore.hpp "$(D)$(INCLUDEDIR)/"
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' packaging/alphacore.pc.in > "$(D)$(LIBDIR)/pkgconfig/alphacore.pc"
	sed -e 's|@VERSION@|$(VERSION)|g' packaging/alphacoreConfigVersion.cmake.in \
	    > "$(D)$(LIBDIR)/cmake/alphacore/alphacoreConfigVersion.cmake"
	sed -e 's|@SONAME@|$(SONAME)|g' -e 's|@LIBFILE@|$(LIBFILE)|g' packaging/alphacoreConfig.cmake.in \
	    > "$(D)$(LIBDIR)/cmake/alphacore/alphacoreConfig.cmake"
	install -m 0644 man/man3/*.3 "$(D)$(MANDIR)/man3/"

# man1 pages and completions come from the built command itself (its parser), never by hand.
$(BUILD)/man1/.done: $(BUILD)/bin/alphacore packaging/gen_man1.py
	rm -rf $(BUILD)/man1 && mkdir -p $(BUILD)/man1
	$(PYTHON) packaging/gen_man1.py $(BUILD)/bin/alphacore $(BUILD)/man1 $(VERSION) >/dev/null
	touch $@

$(BUILD)/completions/.done: $(BUILD)/bin/alphacore
	rm -rf $(BUILD)/completions && mkdir -p $(BUILD)/completions
	$(BUILD)/bin/alphacore --generate-completion-script bash > $(BUILD)/completions/alphacore.bash
	$(BUILD)/bin/alphacore --generate-completion-script zsh > $(BUILD)/completions/_alphacore
	$(BUILD)/bin/alphacore --generate-completion-script fish > $(BUILD)/completions/alphacore.fish
	touch $@

install-tools: cli $(BUILD)/man1/.done $(BUILD)/completions/.done
	install -d "$(D)$(BINDIR)" "$(D)$(MANDIR)/man1" "$(D)$(BASHCOMPDIR)" "$(D)$(ZSHCOMPDIR)" "$(D)$(FISHCOMPDIR)"
	install -m 0755 -s $(BUILD)/bin/alphacore "$(D)$(BINDIR)/alphacore"
	install -m 0644 $(BUILD)/man1/*.1 "$(D)$(MANDIR)/man1/"
	install -m 0644 $(BUILD)/completions/alphacore.bash "$(D)$(BASHCOMPDIR)/alphacore"
	install -m 0644 $(BUILD)/completions/_alphacore "$(D)$(ZSHCOMPDIR)/_alphacore"
	install -m 0644 $(BUILD)/completions/alphacore.fish "$(D)$(FISHCOMPDIR)/alphacore.fish"

uninstall:
	rm -f "$(D)$(LIBDIR)/$(LIBFILE)" "$(D)$(LIBDIR)/$(SONAME)" "$(D)$(LIBDIR)/libalphacore.so"
	rm -f "$(D)$(INCLUDEDIR)/alphacore.h" "$(D)$(INCLUDEDIR)/alphacore.hpp" "$(D)$(LIBDIR)/pkgconfig/alphacore.pc"
	rm -f "$(D)$(LIBDIR)/cmake/alphacore/alphacoreConfig.cmake" \
	      "$(D)$(LIBDIR)/cmake/alphacore/alphacoreConfigVersion.cmake"
	-rmdir "$(D)$(LIBDIR)/cmake/alphacore" 2>/dev/null
	for m in man/man3/*.3; do rm -f "$(D)$(MANDIR)/man3/$$(basename $$m)"; done
	rm -f "$(D)$(BINDIR)/alphacore" "$(D)$(MANDIR)/man1/alphacore.1" "$(D)$(MANDIR)/man1/alphacore-"*.1
	rm -f "$(D)$(BASHCOMPDIR)/alphacore" "$(D)$(ZSHCOMPDIR)/_alphacore" "$(D)$(FISHCOMPDIR)/alphacore.fish"

# The tests consume the library the way users do: installed into a staging prefix.
stage: lib
	rm -rf $(STAGE)
	$(MAKE) --no-print-directory install-lib PREFIX=/usr DESTDIR=$(STAGE) >/dev/null

STAGE_ENV := PKG_CONFIG_SYSROOT_DIR=$(STAGE) PKG_CONFIG_PATH=$(STAGE)/usr/lib/pkgconfig \
             LD_LIBRARY_PATH=$(STAGE)/usr/lib

# ---- tests ---------------------------------------------------------------------------------

test: test-swift test-abi test-man test-c test-cpp test-python test-bench-smoke test-interop test-channel-valgrind
	@echo "make test: all suites passed"

test-swift:
	$(SWIFT) test

test-abi: stage
	STAGE=$(STAGE) CC=$(CC) CXX=$(CXX) bash Tests/abi/check_abi.sh
	bash Tests/abi/check_install.sh
	bash Tests/abi/check_wheel.sh    # install block: the wheel in a fresh venv
	bash Tests/abi/check_deb.sh      # install block: the Debian packages

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

# ---- install block (issue 16): repeated runs ------------------------------------------------

# `make test-repeat N=50`: swift test and the C suites N times, stopping at the first failure
# (its log is kept in build/test-repeat/). For races between tests that run in parallel.
N ?= 50
test-repeat: stage
	@mkdir -p $(BUILD)/test-repeat; i=1; while [ $$i -le $(N) ]; do \
	    log=$(BUILD)/test-repeat/run-$$i.log; \
	    reuse=$$([ $$i -gt 1 ] && echo 1); \
	    if ! { $(SWIFT) test && $(STAGE_ENV) STAGE=$(STAGE) CC=$(CC) C_REUSE=$$reuse bash Tests/c/run.sh; } >$$log 2>&1; then \
	        grep -E "FAIL|failed|error:|Expectation|CHECK" $$log | tail -n 30; \
	        echo "test-repeat: run $$i of $(N) FAILED (log: $$log)"; exit 1; \
	    fi; \
	    echo "test-repeat: run $$i of $(N) passed ($$(uptime | sed 's/.*load/load/'))"; \
	    rm -f $$log; i=$$((i + 1)); \
	done; echo "test-repeat: $(N) of $(N) runs passed"

# channel block (issue 14): the scribbler test (random bytes over a live channel's header and
# ring) once under valgrind, bounded (1 s of scribbling). Valgrind cannot read the Swift DWARF 5
# of the library, so it runs against a copy with the debug sections stripped.
test-channel-valgrind: stage
	mkdir -p $(BUILD)/Tests/valgrind
	strip --strip-debug -o $(BUILD)/Tests/valgrind/$(SONAME) $(STAGE)/usr/lib/$(LIBFILE)
	$(CC) -std=c11 -O1 -g -D_GNU_SOURCE -I$(STAGE)/usr/include -ITests/c Tests/c/test_channel_scribble.c \
	    -o $(BUILD)/Tests/valgrind/test_channel_scribble -L$(BUILD)/Tests/valgrind -l:$(SONAME) -lpthread
	CHANNEL_SCRIBBLE_SECONDS=1 LD_LIBRARY_PATH=$(abspath $(BUILD)/Tests/valgrind) \
	    valgrind -q --error-exitcode=99 $(BUILD)/Tests/valgrind/test_channel_scribble

fuzz: stage
	STAGE=$(STAGE) bash Tests/fuzz/run.sh

# ---- python package ------------------------------------------------------------------------

# Copies the built library into the package, so that `pip install ./python` carries it.
python: lib
	cp $(BUILD)/lib/$(LIBFILE) python/alphacore/libalphacore.so.$(VERSION_MAJOR)

# install block (issue 16): a wheel with the library inside, py3-none-<platform> (a native library,
# no Python extension). Built offline from the installed setuptools (no build isolation).
wheel: python
	rm -rf python/build python/alphacore.egg-info dist/alphacore-$(VERSION)-*.whl
	$(PYTHON) -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation -w dist ./python
	rm -rf python/build python/alphacore.egg-info
	@ls dist/alphacore-$(VERSION)-py3-none-*.whl

# install block (issue 16): libalphacore0, libalphacore-dev and alphacore-tools in dist/deb
# (dpkg-deb; dependencies from dpkg-shlibdeps). Tests/abi/check_deb.sh installs and lints them.
deb: lib cli
	bash packaging/deb/build.sh $(VERSION) "$(abspath dist/deb)"

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
