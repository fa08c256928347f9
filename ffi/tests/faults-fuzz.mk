# Fuzzing; included by the top-level Makefile, which provides CARGO.
#
#   make test-faults-fuzz   build the cargo-fuzz targets in fuzz/ with the
#                           stable toolchain and run each (record_decode,
#                           recover, config) for FUZZ_SECONDS from its seed
#                           corpus fuzz/corpus/<target>; fails on any crash
#                           and leaves the input in fuzz/artifacts/<target>/
#
# cargo-fuzz is installed with `cargo install --locked` when it is missing.
# The targets are built with `-s none`: libFuzzer's coverage
# instrumentation needs only stable -C flags, while a Rust-side sanitizer
# needs -Zsanitizer (nightly). Safe code still panics on any out-of-bounds
# access, and a panic is a crash. FUZZ_SANITIZER=address builds with
# AddressSanitizer instead, on the stable toolchain through
# RUSTC_BOOTSTRAP=1 (about 3x longer to build, 4-6x fewer runs per second).
#
# New inputs the fuzzer finds go to a temporary directory, so the seed
# corpus stays as committed; `cargo fuzz run <target>` without arguments
# grows fuzz/corpus/<target> instead.

CARGO_FUZZ_VERSION := 0.13.2
FUZZ_TARGETS       := record_decode recover config
FUZZ_SECONDS       ?= 25
FUZZ_SANITIZER     ?= none
FUZZ_FLAGS          = --fuzz-dir fuzz -s $(FUZZ_SANITIZER) \
                      $(if $(filter none,$(FUZZ_SANITIZER)),,--target-dir fuzz/target/$(FUZZ_SANITIZER))
FUZZ_ENV            = $(if $(filter none,$(FUZZ_SANITIZER)),,RUSTC_BOOTSTRAP=1)

.PHONY: test-faults-fuzz
FAULT_TESTS += test-faults-fuzz

test-faults-fuzz:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT INT TERM; \
	ms() { echo $$(( ($$(date +%s%N) - $$1) / 1000000 )); }; \
	if ! $(CARGO) fuzz --version >/dev/null 2>&1; then \
	  echo "installing cargo-fuzz $(CARGO_FUZZ_VERSION)"; t0=$$(date +%s%N); \
	  $(CARGO) install --locked cargo-fuzz --version $(CARGO_FUZZ_VERSION); \
	  echo "cargo-fuzz installed in $$(ms $$t0) ms"; \
	fi; \
	echo "== building the fuzz targets ($$($(CARGO) fuzz --version), $$(rustc --version), sanitizer $(FUZZ_SANITIZER))"; \
	t0=$$(date +%s%N); \
	$(FUZZ_ENV) $(CARGO) fuzz build $(FUZZ_FLAGS); \
	echo "fuzz targets built in $$(ms $$t0) ms"; \
	for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s (seeds: fuzz/corpus/$$t)"; \
	  mkdir "$$tmp/$$t"; t0=$$(date +%s%N); \
	  if ! $(FUZZ_ENV) $(CARGO) fuzz run $(FUZZ_FLAGS) $$t "$$tmp/$$t" fuzz/corpus/$$t -- \
	      -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 > "$$tmp/$$t.log" 2>&1; then \
	    grep -v '^#' "$$tmp/$$t.log" | tail -60; \
	    echo "FAIL: fuzz target $$t found a crash; its input is in fuzz/artifacts/$$t/"; \
	    ls -l fuzz/artifacts/$$t/ 2>/dev/null || true; exit 1; \
	  fi; \
	  runs=$$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$$tmp/$$t.log"); \
	  if [ -z "$$runs" ] || [ "$$runs" -lt 100 ] || ! grep -q 'INITED' "$$tmp/$$t.log"; then \
	    tail -40 "$$tmp/$$t.log"; echo "FAIL: fuzz target $$t did not run (runs: '$$runs')"; exit 1; fi; \
	  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$$tmp/$$t.log" | sed 's/^/  /'; \
	  echo "$$t: $$runs runs, no crash, in $$(ms $$t0) ms"; \
	done; \
	echo "test-faults-fuzz: PASS ($(FUZZ_TARGETS), $(FUZZ_SECONDS) s each)"
