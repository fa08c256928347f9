# The Go binding (bindings/go), its example service (examples/go) and the
# side-by-side benchmarks (benches/compare/go). Included by the root
# Makefile, which provides BUILD, LIBDIR and the `lib` target.
#
#   make test-go    gofmt and go vet; `go test -race` of the binding and of
#                   the example; the binding's tests again under
#                   GOEXPERIMENT=cgocheck2 (which also checks every Go pointer
#                   stored in C memory); the comparison benchmarks built and
#                   run briefly (1000 records per logger, line counts checked)
#   make demo-go    the example service's self-test (JSON lines on stderr)
#   make bench-go   the comparison (benches/compare/go/run.sh): 5 rounds of
#                   1,000,000 records per logger, medians and ratios; set
#                   GO_BENCH_ROUNDS and GO_BENCH_RECORDS to change them
#
# Go 1.24 or later is needed (#cgo noescape/nocallback, runtime.AddCleanup,
# testing.B.Loop). When no `go` is found, Debian's golang-go is installed;
# that is recent enough only from Debian 13 on (Debian 12 has 1.19), and
# an older Go stops the targets with a message. GOTOOLCHAIN=local: no
# toolchain is ever downloaded.

# `go` from PATH, else where the Go project's release archive installs it.
GO_BIN := $(firstword $(shell command -v go 2>/dev/null) $(wildcard /usr/local/go/bin/go) go)
GO_BENCH_ROUNDS ?= 5
GO_BENCH_RECORDS ?= 1000000
GO_MODULES := bindings/go examples/go benches/compare/go

# The Go build cache does not notice a rebuilt libringlog.a or a changed
# header (they are outside the packages), so their checksums go into
# CGO_CFLAGS: a new library means new cgo objects and a new link.
GO_ENV = GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
  CGO_CFLAGS="-O2 -g -DRINGLOG_BUILD_STAMP=$$(cat $(LIBDIR)/libringlog.a include/ringlog.h | cksum | cut -d' ' -f1)"

.PHONY: go-toolchain test-go demo-go bench-go

go-toolchain:
	@set -e; \
	if ! command -v $(GO_BIN) >/dev/null 2>&1; then \
	  echo "go-toolchain: no go found; installing Debian's golang-go"; \
	  apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go; \
	fi; \
	v=$$($(GO_BIN) version | awk '{print $$3}'); \
	minor=$$(echo "$$v" | sed -E 's/^go1\.([0-9]+).*/\1/'); \
	case "$$minor" in ''|*[!0-9]*) minor=0;; esac; \
	if [ "$$minor" -lt 24 ]; then \
	  echo "go-toolchain: $$v is too old: the Go binding needs Go 1.24 or later"; \
	  echo "  (Debian 12's golang-go is 1.19; install a newer Go first)"; exit 1; \
	fi; \
	echo "go-toolchain: $$v"

test-go: lib go-toolchain
	@set -e; export $(GO_ENV); \
	gofmt="$$($(GO_BIN) env GOROOT)/bin/gofmt"; \
	for m in $(GO_MODULES); do \
	  bad=$$(cd $$m && "$$gofmt" -l .); \
	  if [ -n "$$bad" ]; then echo "test-go: not gofmt-formatted in $$m: $$bad"; exit 1; fi; \
	  (cd $$m && $(GO_BIN) vet ./...); \
	done; \
	(cd bindings/go && $(GO_BIN) test -race -count=1 ./...); \
	(cd bindings/go && GOEXPERIMENT=cgocheck2 $(GO_BIN) test -count=1 ./...); \
	(cd examples/go && $(GO_BIN) test -race -count=1 ./...); \
	(cd benches/compare/go && $(GO_BIN) test -count=1 -run '^$$' -bench . -benchtime 1000x ./... >/dev/null); \
	echo "test-go: PASS (Go binding: go test -race, cgocheck2, example self-test, comparison smoke run)"

demo-go: lib go-toolchain
	@echo "== Go example (JSON) =="
	@export $(GO_ENV); cd examples/go && $(GO_BIN) run . -self-test

bench-go: lib go-toolchain
	@export $(GO_ENV); GO=$(GO_BIN) PYTHON=$(or $(PYTHON),python3) ROUNDS=$(GO_BENCH_ROUNDS) RECORDS=$(GO_BENCH_RECORDS) \
	  benches/compare/go/run.sh
