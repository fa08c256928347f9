# fork() while ringlog runs: a child that logs and exits while the parent
# logs on, and five forks taken while three threads are logging. Every
# record of every process must appear exactly once, no instance may be
# left behind, and children must not hold the parent's instance lock.

FAULT_TESTS += test-faults-fork

$(BINDIR)/fork_test: $(TESTS_DIR)/fork_test.c $(C_HEADERS) $(LIBDIR)/libringlog.a
	@mkdir -p $(BINDIR)
	$(CC) $(CFLAGS_COMMON) $< $(STATIC_LINK) -o $@

test-faults-fork: lib $(BINDIR)/fork_test
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT INT TERM; \
	echo "== fork: child logs and exits, parent logs on"; \
	$(BINDIR)/fork_test simple "$$tmp/r1" "$$tmp/simple.log"; \
	$(PYTHON) $(TESTS_DIR)/fork_check.py "$$tmp/simple.log" "$$tmp/r1" before=500 after=500 child=500; \
	echo "== fork: five forks while three threads log"; \
	$(BINDIR)/fork_test threads "$$tmp/r2" "$$tmp/threads.log"; \
	$(PYTHON) $(TESTS_DIR)/fork_check.py "$$tmp/threads.log" "$$tmp/r2" w0=20000 w1=20000 w2=20000 \
	  child0=200 child1=200 child2=200 child3=200 child4=200
