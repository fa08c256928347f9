# Sanitizer runs of the C ABI tests; included by the top-level Makefile
# after tests.mk, which provide CARGO, CC, PYTHON, BINDIR, TESTS_DIR,
# C_HEADERS and LIBS_PRIVATE.
#
#   make test-faults-asan   abi_stress (ASAN_THREADS x ASAN_RECORDS) built
#                           with gcc -fsanitize=address,undefined and linked
#                           with a static library whose Rust code is
#                           instrumented with AddressSanitizer too; the
#                           output is checked as in test-c, and any
#                           sanitizer report (leaks included) fails the run
#
# The Rust side is built with the stable toolchain: -Zsanitizer=address is
# an unstable flag, which RUSTC_BOOTSTRAP=1 lets stable rustc accept. It
# has its own target directory, so the normal build is untouched, and an
# explicit --target, so build scripts and proc macros are not instrumented.
# The standard library stays uninstrumented (rebuilding it needs the
# rust-src component), and the compiler's instrumentation calls gcc's
# libasan, which the C side links in.
#
# ThreadSanitizer is not run: rustc refuses -Zsanitizer=thread against an
# uninstrumented standard library (an instrumented one needs -Zbuild-std and
# rust-src), and when forced, the LLVM instrumentation calls
# __tsan_memcpy/__tsan_memset, which gcc's libtsan does not provide, so it
# does not link. The ring protocol's orderings are checked by the loom
# model (make test-loom) instead.

ASAN_THREADS    ?= 4
ASAN_RECORDS    ?= 20000
ASAN_TARGET_DIR := target/asan
ASAN_HOST        = $(shell rustc -vV | sed -n 's/^host: //p')
ASAN_RUST_LIB    = $(ASAN_TARGET_DIR)/$(ASAN_HOST)/release/libringlog_ffi.a
ASAN_CFLAGS     := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
                   -fno-omit-frame-pointer -Wall -Wextra -Werror -Iinclude -pthread
ASAN_RUN_ENV    := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1 \
                   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: test-faults-asan
FAULT_TESTS += test-faults-asan

test-faults-asan: $(C_HEADERS)
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT INT TERM; \
	ms() { echo $$(( ($$(date +%s%N) - $$1) / 1000000 )); }; \
	echo "== Rust static library with AddressSanitizer ($$(rustc --version), RUSTC_BOOTSTRAP=1)"; \
	t0=$$(date +%s%N); \
	env -u CARGO_ENCODED_RUSTFLAGS RUSTC_BOOTSTRAP=1 \
	  RUSTFLAGS="-Zsanitizer=address -Cforce-frame-pointers=yes" \
	  $(CARGO) build --release -p ringlog-ffi --target $(ASAN_HOST) --target-dir $(ASAN_TARGET_DIR); \
	if ! readelf -sW $(ASAN_RUST_LIB) | grep -q 'UND __asan_report_load8'; then \
	  echo "FAIL: $(ASAN_RUST_LIB) is not instrumented"; exit 1; fi; \
	echo "instrumented library built in $$(ms $$t0) ms"; \
	mkdir -p $(BINDIR); \
	$(CC) $(ASAN_CFLAGS) $(TESTS_DIR)/abi_stress.c $(ASAN_RUST_LIB) $(LIBS_PRIVATE) -o $(BINDIR)/abi_stress-asan; \
	echo "== abi_stress-asan ($(ASAN_THREADS) threads x $(ASAN_RECORDS) records)"; \
	t0=$$(date +%s%N); \
	$(ASAN_RUN_ENV) $(BINDIR)/abi_stress-asan "$$tmp/rings" "$$tmp/out.log" "$$tmp/stats.json" \
	  $(ASAN_THREADS) $(ASAN_RECORDS); \
	echo "abi_stress-asan ran in $$(ms $$t0) ms"; \
	$(PYTHON) $(TESTS_DIR)/check_output.py "$$tmp/out.log" "$$tmp/stats.json"; \
	if [ -n "$$(ls -A "$$tmp/rings")" ]; then \
	  echo "FAIL: shutdown left files in the ring directory:"; ls -lR "$$tmp/rings"; exit 1; fi; \
	echo "test-faults-asan: PASS (abi_stress under AddressSanitizer and UBSan, C and Rust)"
