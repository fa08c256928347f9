#!/usr/bin/env bash
# Runs the Go comparison ROUNDS times (default 5). Each round runs every
# benchmark once with RECORDS records (default 1,000,000), so every
# round's figures come from the same stretch of machine time; the table
# gives each logger's median over the rounds, and the median over the
# rounds of its ratio to ringlog through LogAttrs in the same round.
#
#   benches/compare/go/run.sh              # or: make bench-go
#   ROUNDS=3 RECORDS=200000 benches/compare/go/run.sh
set -euo pipefail
cd "$(dirname "$0")"
GO=${GO:-go}
PYTHON=${PYTHON:-python3}
ROUNDS=${ROUNDS:-5}
RECORDS=${RECORDS:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

"$GO" test -c -o "$tmp/compare.test" .
echo "go: $("$GO" version); $(nproc) CPUs; $ROUNDS rounds of $RECORDS records per logger"
for i in $(seq "$ROUNDS"); do
  "$tmp/compare.test" -test.run '^$' -test.bench . -test.benchtime "${RECORDS}x" -test.timeout 60m \
    | grep '^Benchmark' | sed "s/^/$i /" | tee -a "$tmp/results.txt"
done

"$PYTHON" - "$tmp/results.txt" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()
    rnd, name = int(parts[0]), re.sub(r"-\d+$", "", parts[1][len("Benchmark"):])
    vals = {unit: float(v) for v, unit in zip(parts[3::2], parts[4::2])}
    rows.setdefault(name, {})[rnd] = vals
base = "RinglogLogAttrs"
def med(name, unit):
    xs = [r[unit] for r in rows[name].values() if unit in r]
    return statistics.median(xs) if xs else None
def ratio(name, unit):
    xs = [rows[name][r][unit] / rows[base][r][unit]
          for r in rows[name] if r in rows[base] and unit in rows[name][r]]
    return statistics.median(xs) if xs else None
print()
print("| logger | ns/op | cpu-ns/op | records/s (end to end) | allocs/op | B/op | lines | ns/op ÷ ringlog LogAttrs | cpu-ns/op ÷ ringlog LogAttrs |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for name in rows:
    f = lambda u, fmt: (fmt.format(med(name, u)) if med(name, u) is not None else "–")
    r1, r2 = ratio(name, "ns/op"), ratio(name, "cpu-ns/op")
    print(f"| {name} | {f('ns/op', '{:.0f}')} | {f('cpu-ns/op', '{:.0f}')} | {f('records/s', '{:,.0f}')} | "
          f"{f('allocs/op', '{:.0f}')} | {f('B/op', '{:.0f}')} | {f('lines', '{:,.0f}')} | "
          f"{r1:.2f} | {r2:.2f} |")
PY
