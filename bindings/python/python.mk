# The Python binding's tests: builds the package with pip (maturin, from
# PyPI) into a virtual environment under build/ and runs pytest.
# Included by the root Makefile; `make test-python` runs it alone.
#
# `make bench-python` (not part of `make test`) installs the peer libraries
# into the same environment and runs bench/compare.py, the side-by-side
# comparison with stdlib logging, structlog, loguru and picologging (see
# bindings/python/README.md, "Benchmarks"). Extra arguments go in
# PY_BENCH_ARGS, e.g. `make bench-python PY_BENCH_ARGS="--rounds 3"`.

PY_VENV := $(BUILD)/venv-python
PY_BENCH_PEERS := 'structlog>=24,<26' 'loguru>=0.7,<0.8' 'picologging>=0.9,<0.10'
PY_BENCH_ARGS ?=

.PHONY: venv-python test-python bench-python

# The virtual environment both targets use, made once (installing
# python3-venv first where `python3 -m venv` does not work).
venv-python:
	@set -e; \
	if [ ! -x $(PY_VENV)/bin/python ]; then \
	  if ! $(PYTHON) -m venv $(PY_VENV).probe >/dev/null 2>&1; then \
	    echo "venv-python: python3 -m venv failed; installing python3-venv"; \
	    pyver=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	    apt-get update -qq; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv "python$$pyver-venv" \
	      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  fi; \
	  rm -rf $(PY_VENV).probe; \
	  $(PYTHON) -m venv $(PY_VENV); \
	  $(PY_VENV)/bin/python -m pip install -q --upgrade pip; \
	fi

test-python: venv-python
	@set -e; \
	$(PY_VENV)/bin/python -m pip install -q 'pytest>=7,<9'; \
	$(PY_VENV)/bin/python -m pip install -q --force-reinstall --no-deps ./bindings/python; \
	cd bindings/python/tests && ../../../$(PY_VENV)/bin/python -m pytest -q -p no:cacheprovider; \
	echo "test-python: PASS (Python binding, pytest)"

# pip builds the extension with maturin's release profile.
bench-python: venv-python
	@set -e; \
	$(PY_VENV)/bin/python -m pip install -q $(PY_BENCH_PEERS); \
	$(PY_VENV)/bin/python -m pip install -q --force-reinstall --no-deps ./bindings/python; \
	$(PY_VENV)/bin/python bindings/python/bench/compare.py $(PY_BENCH_ARGS)
