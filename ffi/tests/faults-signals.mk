# Fatal signals: the opt-in crash handler (core/src/crash.rs). fatal_signal.c
# dies by raise(SIGSEGV), abort(), a NULL store, two threads faulting at
# once, a stack overflow, behind a chained handler that returns or one that
# hangs, and with the flusher blocked; fatal_signal.py checks the exit
# signal, the chained handler's marker, and that every record (and the
# last "fatal signal" record) was written by the handler's drain or
# recovered by the next start, exactly once (see its docstring). The
# program runs against the static and the shared library.

FAULT_TESTS += test-faults-signals
.PHONY: test-faults-signals

$(BINDIR)/fatal_signal-static: $(TESTS_DIR)/fatal_signal.c $(C_HEADERS) $(LIBDIR)/libringlog.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS_COMMON) $< $(STATIC_LINK) -o $@

$(BINDIR)/fatal_signal-shared: $(TESTS_DIR)/fatal_signal.c $(C_HEADERS) $(LIBDIR)/libringlog.so
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS_COMMON) $< $(SHARED_LINK) -o $@

test-faults-signals: lib $(BINDIR)/fatal_signal-static $(BINDIR)/fatal_signal-shared
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT INT TERM; \
	for kind in static shared; do \
	  echo "== fatal_signal ($$kind library)"; \
	  mkdir "$$tmp/$$kind"; \
	  $(PYTHON) $(TESTS_DIR)/fatal_signal.py $(BINDIR)/fatal_signal-$$kind "$$tmp/$$kind"; \
	done; \
	echo "test-faults-signals: PASS (raise, abort, NULL store, chained, two threads, stack overflow, hung chained handler, blocked flusher; static and shared)"
