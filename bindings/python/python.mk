# The Python binding's tests: builds the package with pip (maturin, from
# PyPI) into a virtual environment under build/ and runs pytest.
# Included by the root Makefile; `make test-python` runs it alone.

PY_VENV := $(BUILD)/venv-python

.PHONY: test-python

test-python:
	@set -e; \
	if [ ! -x $(PY_VENV)/bin/python ]; then \
	  if ! $(PYTHON) -m venv $(PY_VENV).probe >/dev/null 2>&1; then \
	    echo "test-python: python3 -m venv failed; installing python3-venv"; \
	    pyver=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	    apt-get update -qq; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv "python$$pyver-venv" \
	      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  fi; \
	  rm -rf $(PY_VENV).probe; \
	  $(PYTHON) -m venv $(PY_VENV); \
	  $(PY_VENV)/bin/python -m pip install -q --upgrade pip; \
	fi; \
	$(PY_VENV)/bin/python -m pip install -q 'pytest>=7,<9'; \
	$(PY_VENV)/bin/python -m pip install -q --force-reinstall --no-deps ./bindings/python; \
	cd bindings/python/tests && ../../../$(PY_VENV)/bin/python -m pytest -q -p no:cacheprovider; \
	echo "test-python: PASS (Python binding, pytest)"
