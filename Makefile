# ringlog build, test and demo entry points. Every target installs what it
# needs (a pinned cbindgen, Python is only used from the system).
#
#   make demo    build and run the C, C++, Rust, Python, Node and Go
#                examples (make demo-python, demo-node, demo-go run one)
#   make test    every test: Rust unit, behaviour and doc tests, the loom
#                model, the C ABI tests against the static and the shared
#                library, the C++ build with -Werror, the header check,
#                rustfmt and clippy, the fault tests, and the Python,
#                Node and Go bindings' suites
#   make bench   the criterion benchmarks (see benches/README.md);
#                make bench-compare runs the side-by-side peer comparisons

CARGO      ?= cargo
CC         ?= cc
CXX        ?= c++
PYTHON     ?= python3
CBINDGEN_VERSION := 0.29.0
VERSION    := 0.1.0
MAJOR      := 0
BUILD      := build
LIBDIR     := $(BUILD)/lib
BINDIR     := $(BUILD)/bin
RELEASE    := target/release
LIBS_PRIVATE := -lpthread -ldl -lm -lrt -lutil
CFLAGS_COMMON := -O2 -g -Wall -Wextra -Werror -Iinclude -pthread

.PHONY: all lib header header-check tools lint test test-rust test-loom test-c \
        test-cpp test-example-rust test-faults test-python examples demo bench bench-compare clean

all: lib

# ---------------------------------------------------------------- libraries
lib: $(LIBDIR)/libringlog.a $(LIBDIR)/libringlog.so $(LIBDIR)/pkgconfig/ringlog.pc

$(RELEASE)/libringlog_ffi.a $(RELEASE)/libringlog_ffi.so &: FORCE
	$(CARGO) build --release -p ringlog-ffi

$(LIBDIR)/libringlog.a: $(RELEASE)/libringlog_ffi.a
	@mkdir -p $(LIBDIR)
	cp $< $@

$(LIBDIR)/libringlog.so: $(RELEASE)/libringlog_ffi.so
	@mkdir -p $(LIBDIR)
	cp $< $(LIBDIR)/libringlog.so.$(VERSION)
	ln -sf libringlog.so.$(VERSION) $(LIBDIR)/libringlog.so.$(MAJOR)
	ln -sf libringlog.so.$(MAJOR) $(LIBDIR)/libringlog.so

$(LIBDIR)/pkgconfig/ringlog.pc: ffi/ringlog.pc.in Makefile
	@mkdir -p $(LIBDIR)/pkgconfig
	sed -e 's|@PREFIX@|$(abspath $(BUILD))|' -e 's|@INCLUDEDIR@|$(abspath include)|' \
	    -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|' $< > $@

FORCE:

# ------------------------------------------------------------------- header
tools:
	@if ! cbindgen --version 2>/dev/null | grep -qx 'cbindgen $(CBINDGEN_VERSION)'; then \
	  echo "installing cbindgen $(CBINDGEN_VERSION)"; \
	  $(CARGO) install --locked --force cbindgen --version $(CBINDGEN_VERSION); \
	fi

header: tools
	cbindgen --config ffi/cbindgen.toml --crate ringlog-ffi --output include/ringlog.h ffi

header-check: tools
	@tmp=$$(mktemp); \
	cbindgen --config ffi/cbindgen.toml --crate ringlog-ffi --output $$tmp ffi 2>/dev/null; \
	if ! cmp -s $$tmp include/ringlog.h; then \
	  diff -u include/ringlog.h $$tmp | head -40; rm -f $$tmp; \
	  echo "include/ringlog.h is stale: run 'make header' and commit it"; exit 1; \
	fi; rm -f $$tmp; echo "header-check: include/ringlog.h is up to date"

# -------------------------------------------------------------------- tests
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-rust:
	$(CARGO) test --workspace

# The loom build compiles only the ring; a separate target dir keeps it from
# invalidating the normal build.
test-loom:
	RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
	  $(CARGO) test -p ringlog --release --lib ring::loom_tests

include ffi/tests/tests.mk

# Fault-injection tests (kill loop, fatal signals, sink faults, fuzzing,
# sanitizers): each ffi/tests/faults-*.mk adds its target to FAULT_TESTS.
FAULT_TESTS :=
include $(sort $(wildcard ffi/tests/faults-*.mk))

include bindings/python/python.mk
include bindings/node/node.mk
include bindings/go/go.mk

test-faults: $(FAULT_TESTS)
	@echo "make test-faults: all fault tests passed ($(FAULT_TESTS))"

# The Rust example service: its JSON output must parse line by line.
test-example-rust:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT INT TERM; \
	RINGLOG_OUTPUT="$$tmp/out.log" RINGLOG_FORMAT=json $(CARGO) run --release -q -p ringlog-example-rust; \
	$(PYTHON) ffi/tests/check_jsonl.py --min-lines 26 --expect-msg "payment declined" \
	  --expect-msg "service stopping" "$$tmp/out.log"; \
	echo "test-example-rust: passed"

test: header-check lint test-rust test-loom test-c test-cpp test-example-rust test-faults test-python test-node test-go
	@echo "make test: all suites passed"

# -------------------------------------------------------------------- demo
demo: lib examples
	@echo "== Rust example (console format) =="
	RINGLOG_FORMAT=console $(CARGO) run --release -q -p ringlog-example-rust
	@echo "== C example (JSON) =="
	$(BINDIR)/example-c
	@echo "== C++ example (logfmt) =="
	RINGLOG_FORMAT=logfmt $(BINDIR)/example-cpp
	@$(MAKE) --no-print-directory demo-python
	@$(MAKE) --no-print-directory demo-node
	@$(MAKE) --no-print-directory demo-go

# The Python example service (examples/python) in its self-test mode: it
# serves on a free local port, sends itself a few requests and stops. The
# binding is (re)installed into the test environment without running the
# tests.
.PHONY: demo-python
demo-python: venv-python
	@echo "demo-python: installing the binding into $(PY_VENV)"
	@$(PY_VENV)/bin/python -m pip install -q --force-reinstall --no-deps ./bindings/python
	@echo "== Python example (JSON) =="
	$(PY_VENV)/bin/python examples/python/service.py --self-test

bench:
	$(CARGO) bench -p ringlog-benches --bench hot_path --bench flusher

# Side-by-side runs against other loggers (needs apt's libspdlog-dev).
bench-compare: lib
	$(CARGO) bench -p ringlog-benches --bench compare_rust
	benches/compare/cpp/run.sh

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
