# C and C++ tests and examples; included by the top-level Makefile, which
# provides CC, CXX, PYTHON, LIBDIR, BINDIR, BUILD, CFLAGS_COMMON,
# LIBS_PRIVATE and the `lib` target.
#
#   make examples   build/bin/example-c (static library) and example-cpp
#   make test-c     the C ABI tests: abi_stress against the static and the
#                   shared library (output checked by check_output.py),
#                   abi_bad_input, and the C example built with pkg-config
#   make test-cpp   the C++ example and hpp_compile (ringlog.hpp) built with
#                   -std=c++17 -Wall -Wextra -Werror -Wpedantic, run, and
#                   their output checked
#
# STRESS_THREADS and STRESS_RECORDS size the stress test (default 8 x 100000).

TESTS_DIR      := ffi/tests
STRESS_THREADS ?= 8
STRESS_RECORDS ?= 100000
CXXFLAGS_CPP   := -O2 -g -std=c++17 -Wall -Wextra -Werror -Wpedantic -Iinclude -pthread
STATIC_LINK    := $(LIBDIR)/libringlog.a $(LIBS_PRIVATE)
# The shared build finds the library next to itself: build/bin/../lib.
SHARED_LINK    := -L$(LIBDIR) -lringlog -Wl,-rpath,'$$ORIGIN/../lib'
PKG_CONFIG     ?= pkg-config
C_HEADERS      := include/ringlog.h
CPP_HEADERS    := include/ringlog.h include/ringlog.hpp

# ---------------------------------------------------------------- examples
examples: $(BINDIR)/example-c $(BINDIR)/example-cpp

$(BINDIR)/example-c: examples/c/service.c $(C_HEADERS) $(LIBDIR)/libringlog.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS_COMMON) $< $(STATIC_LINK) -o $@

$(BINDIR)/example-cpp: examples/cpp/service.cpp $(CPP_HEADERS) $(LIBDIR)/libringlog.a
	@mkdir -p $(BINDIR)
	$(CXX) $(CXXFLAGS_CPP) $< $(STATIC_LINK) -o $@

# ------------------------------------------------------------ test binaries
$(BINDIR)/abi_stress-static: $(TESTS_DIR)/abi_stress.c $(C_HEADERS) $(LIBDIR)/libringlog.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS_COMMON) $< $(STATIC_LINK) -o $@

$(BINDIR)/abi_stress-shared: $(TESTS_DIR)/abi_stress.c $(C_HEADERS) $(LIBDIR)/libringlog.so
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS_COMMON) $< $(SHARED_LINK) -o $@

$(BINDIR)/abi_bad_input: $(TESTS_DIR)/abi_bad_input.c $(C_HEADERS) $(LIBDIR)/libringlog.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS_COMMON) $< $(STATIC_LINK) -o $@

$(BINDIR)/hpp_compile: $(TESTS_DIR)/hpp_compile.cpp $(CPP_HEADERS) $(LIBDIR)/libringlog.a
	@mkdir -p $(BINDIR)
	$(CXX) $(CXXFLAGS_CPP) $< $(STATIC_LINK) -o $@

# Built from the .pc file as a user would; -lringlog picks the shared
# library when both are in LIBDIR, so it runs with LD_LIBRARY_PATH.
$(BINDIR)/example-c-pkgconfig: examples/c/service.c $(C_HEADERS) lib
	@mkdir -p $(BINDIR)
	$(CC) -O2 -Wall -Wextra -Werror -pthread $< \
	  $$(PKG_CONFIG_PATH=$(LIBDIR)/pkgconfig $(PKG_CONFIG) --cflags --libs --static ringlog) -o $@

# -------------------------------------------------------------------- test-c
# One shell per recipe so the temporary directory is removed on any exit.
test-c: lib $(BINDIR)/abi_stress-static $(BINDIR)/abi_stress-shared $(BINDIR)/abi_bad_input
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT INT TERM; \
	ms() { echo $$(( ($$(date +%s%N) - $$1) / 1000000 )); }; \
	echo "== link check"; \
	if readelf -d $(BINDIR)/abi_stress-static | grep -q 'NEEDED.*libringlog'; then \
	  echo "FAIL: abi_stress-static depends on libringlog.so"; exit 1; fi; \
	if ! readelf -d $(BINDIR)/abi_stress-shared | grep -q 'NEEDED.*\[libringlog\.so\.$(MAJOR)\]'; then \
	  readelf -d $(BINDIR)/abi_stress-shared; \
	  echo "FAIL: abi_stress-shared does not need libringlog.so.$(MAJOR)"; exit 1; fi; \
	resolved=$$(env -u LD_LIBRARY_PATH ldd $(BINDIR)/abi_stress-shared | sed -n 's/^[[:space:]]*libringlog\.so\.$(MAJOR) => \([^ ]*\).*/\1/p'); \
	if [ "$$(readlink -f "$$resolved")" != "$$(readlink -f $(LIBDIR)/libringlog.so.$(MAJOR))" ]; then \
	  echo "FAIL: abi_stress-shared loads '$$resolved', not $(LIBDIR)/libringlog.so.$(MAJOR)"; exit 1; fi; \
	echo "static build has no libringlog NEEDED; shared build needs libringlog.so.$(MAJOR) -> $$resolved"; \
	for kind in static shared; do \
	  echo "== abi_stress ($$kind library, $(STRESS_THREADS) threads x $(STRESS_RECORDS) records)"; \
	  mkdir "$$tmp/$$kind"; t0=$$(date +%s%N); \
	  $(BINDIR)/abi_stress-$$kind "$$tmp/$$kind/rings" "$$tmp/$$kind/out.log" "$$tmp/$$kind/stats.json" \
	    $(STRESS_THREADS) $(STRESS_RECORDS); \
	  echo "abi_stress-$$kind ran in $$(ms $$t0) ms"; t0=$$(date +%s%N); \
	  $(PYTHON) $(TESTS_DIR)/check_output.py "$$tmp/$$kind/out.log" "$$tmp/$$kind/stats.json"; \
	  echo "check_output.py ran in $$(ms $$t0) ms"; \
	  if [ -n "$$(ls -A "$$tmp/$$kind/rings")" ]; then \
	    echo "FAIL: shutdown left files in the ring directory:"; ls -lR "$$tmp/$$kind/rings"; exit 1; fi; \
	  rm -rf "$$tmp/$$kind"; \
	done; \
	echo "== abi_bad_input"; mkdir "$$tmp/bad"; \
	$(BINDIR)/abi_bad_input "$$tmp/bad"; \
	$(PYTHON) $(TESTS_DIR)/check_jsonl.py --min-lines 18 "$$tmp/bad/before_init.log" "$$tmp/bad/reinit.log"; \
	echo "== C example built with pkg-config"; \
	if command -v $(PKG_CONFIG) >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(BINDIR)/example-c-pkgconfig; \
	  mkdir "$$tmp/ex"; \
	  RINGLOG_OUTPUT="$$tmp/ex/out.log" LD_LIBRARY_PATH=$(LIBDIR) $(BINDIR)/example-c-pkgconfig > "$$tmp/ex/stdout"; \
	  cat "$$tmp/ex/stdout"; \
	  grep -q '^ringlog stats: logged=207 written=207 dropped_full=0 ' "$$tmp/ex/stdout" \
	    || { echo "FAIL: unexpected stats from example-c-pkgconfig"; exit 1; }; \
	  $(PYTHON) $(TESTS_DIR)/check_jsonl.py --min-lines 207 --expect-msg "service starting" \
	    --expect-msg "payment failed" --expect-msg "ignoring malformed traceparent header" \
	    --expect-msg "service stopping" "$$tmp/ex/out.log"; \
	else \
	  echo "SKIP: $(PKG_CONFIG) is not installed (apt-get install pkg-config)"; \
	fi; \
	echo "test-c: PASS (abi_stress static+shared, abi_bad_input, C example)"

# ------------------------------------------------------------------ test-cpp
test-cpp: $(BINDIR)/example-cpp $(BINDIR)/hpp_compile
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT INT TERM; \
	echo "== C++ example (-std=c++17 -Wall -Wextra -Werror -Wpedantic)"; \
	RINGLOG_OUTPUT="$$tmp/example.log" $(BINDIR)/example-cpp > "$$tmp/stdout"; \
	cat "$$tmp/stdout"; \
	grep -q '^ringlog stats: logged=207 written=207 dropped_full=0 ' "$$tmp/stdout" \
	  || { echo "FAIL: unexpected stats from example-cpp"; exit 1; }; \
	$(PYTHON) $(TESTS_DIR)/check_jsonl.py --min-lines 207 --expect-msg "service starting" \
	  --expect-msg "payment failed" --expect-msg "ignoring malformed traceparent header" \
	  --expect-msg "service stopping" "$$tmp/example.log"; \
	echo "== hpp_compile (every ringlog.hpp helper)"; \
	env -u RINGLOG_OUTPUT -u RINGLOG_CONFIG -u RINGLOG_LEVEL -u RINGLOG_FORMAT \
	  $(BINDIR)/hpp_compile > "$$tmp/hpp.log"; \
	$(PYTHON) $(TESTS_DIR)/check_jsonl.py --min-lines 7 --expect-msg "every field type" "$$tmp/hpp.log"; \
	echo "test-cpp: PASS (C++ example, ringlog.hpp)"
