# Kill loop: a C producer killed with SIGKILL at random points, 50 times;
# its records are recovered by the next start or by `ringlog recover`, and
# kill_loop.py checks that every acknowledged record is there exactly once
# (see its docstring). KILL_LOOP_ITERATIONS changes the count.

KILL_LOOP_ITERATIONS ?= 50
FAULT_TESTS += test-faults-kill

$(BINDIR)/kill_loop: $(TESTS_DIR)/kill_loop.c $(C_HEADERS) $(LIBDIR)/libringlog.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS_COMMON) $< $(STATIC_LINK) -o $@

test-faults-kill: lib $(BINDIR)/kill_loop
	$(CARGO) build --release -q -p ringlog-cli
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT INT TERM; \
	echo "== kill loop ($(KILL_LOOP_ITERATIONS) iterations)"; \
	$(PYTHON) $(TESTS_DIR)/kill_loop.py $(BINDIR)/kill_loop $(RELEASE)/ringlog "$$tmp" $(KILL_LOOP_ITERATIONS)
