#!/usr/bin/env bash
# Instructions per hot-path call (ringlog_log and ringlog_log_site), counted
# by callgrind: deterministic, so two builds can be compared on a noisy
# machine where timings cannot. Usage: benches/callgrind/run.sh [BATCHES]
# (default 2000 batches of 20 calls). Needs valgrind (installed with apt
# when missing and running as root).
set -euo pipefail
cd "$(dirname "$0")/../.."
batches="${1:-2000}"
if ! command -v valgrind >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
  else
    echo "run.sh: valgrind is needed (apt-get install valgrind)" >&2
    exit 1
  fi
fi
mkdir -p build/bench
if ! make -s lib >build/bench/callgrind-make.log 2>&1; then
  cat build/bench/callgrind-make.log >&2
  exit 1
fi
cc -O2 -g -Iinclude benches/callgrind/count.c build/lib/libringlog.a \
  -lpthread -ldl -lm -lrt -lutil -o build/bench/callgrind-count
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for mode in keyed site; do
  case "$mode" in keyed) fn=ringlog_log ;; site) fn=ringlog_log_site ;; esac
  if ! valgrind --tool=callgrind --callgrind-out-file="$out/$mode.out" --toggle-collect="$fn" \
    build/bench/callgrind-count "$mode" "$batches" >"$out/$mode.txt" 2>"$out/$mode.err"; then
    echo "run.sh: the $mode run failed:" >&2
    cat "$out/$mode.txt" >&2
    tail -5 "$out/$mode.err" >&2
    exit 1
  fi
  calls=$(awk '/^calls/ {print $2}' "$out/$mode.txt")
  ir=$(awk '/^summary:|^totals:/ {print $2; exit}' "$out/$mode.out")
  awk -v f="$fn" -v ir="$ir" -v n="$calls" 'BEGIN { printf "%-18s %8.1f instructions per call (%d calls)\n", f, ir / n, n }'
done
