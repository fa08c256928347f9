# The Node binding's tests: installs the package's npm dependencies with
# `npm install` in bindings/node, whose install script builds the addon from
# source (cargo build --release, see scripts/build.js), then runs the
# `node --test` suites, the addon crate's own unit tests, rustfmt and
# clippy. Included by the root Makefile; `make test-node` runs it alone.
# Node and npm are installed with apt when `node` is missing (a fresh
# Debian machine); the binding needs Node 18.19 or later.
#
# `make demo-node` runs the example service (examples/node) in its
# self-test mode. `make bench-node` (not part of `make test`) runs the
# side-by-side comparison with pino, winston and bunyan in
# benches/compare/node (see its README.md); extra arguments go in
# NODE_BENCH_ARGS, e.g. `make bench-node NODE_BENCH_ARGS="--rounds 3"`.

NODE_DIR := bindings/node
NODE_BENCH_DIR := benches/compare/node
NODE_BENCH_ARGS ?=

.PHONY: node-tools node-addon test-node demo-node bench-node

# node and npm, from apt when missing.
node-tools:
	@set -e; \
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	  echo "node-tools: installing nodejs and npm with apt"; \
	  apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; \
	fi; \
	node -e 'const [a, b] = process.versions.node.split(".").map(Number); if (a < 18 || (a === 18 && b < 19)) { console.error("node " + process.version + " is too old: ringlog needs 18.19 or later"); process.exit(1); }'

# npm install (from package-lock.json) runs the package's install script,
# which builds ringlog.node. Not `npm ci`: npm 11 writes a lock file
# without the other platforms' optional packages of a dev dependency
# (@napi-rs/lzma, under @napi-rs/cli) and `npm ci` then refuses it.
# `--no-save` keeps npm from rewriting the checked-in lock file, which a
# plain `npm install` does with this npm (it adds those packages back).
node-addon: node-tools
	@set -e; cd $(NODE_DIR); \
	CARGO="$$(command -v $(CARGO) || echo $(CARGO))" npm install --no-save --no-audit --no-fund --loglevel=error

test-node: node-addon
	@set -e; cd $(NODE_DIR); \
	$(CARGO) fmt -- --check; \
	$(CARGO) clippy --all-targets --quiet -- -D warnings; \
	$(CARGO) test --quiet; \
	node --test test/*.test.js; \
	echo "test-node: PASS (Node binding, node --test)"

demo-node: node-addon
	@echo "== Node example (JSON) =="
	node examples/node/server.js --self-test

bench-node: node-addon
	@set -e; cd $(NODE_BENCH_DIR); \
	npm ci --omit=optional --no-audit --no-fund --loglevel=error; \
	node run.js $(NODE_BENCH_ARGS)
