#!/usr/bin/env bash
# Builds and runs spdlog_vs_ringlog: spdlog's async logger next to ringlog's
# C ABI (see the comment at the top of spdlog_vs_ringlog.cpp).
#
# Needs: a C++17 compiler, pkg-config and spdlog from Debian's packages
# (apt-get install -y libspdlog-dev); ringlog's static library, which this
# script builds with `make lib` from the repository root.
#
# Usage: benches/compare/cpp/run.sh [N] [ROUNDS] [DIR]
#   N       records per run (default 1000000)
#   ROUNDS  rounds, alternating which library goes first (default 3)
#   DIR     where the output files go (default: a new directory in $TMPDIR)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="$root/build/bench"
CXX="${CXX:-c++}"

if ! pkg-config --exists spdlog; then
  echo "run.sh: spdlog not found; install it with: apt-get install -y libspdlog-dev" >&2
  exit 1
fi

make -C "$root" --no-print-directory lib >&2
mkdir -p "$out"
# shellcheck disable=SC2046  # pkg-config output is meant to be split
"$CXX" -O2 -g -std=c++17 -Wall -Wextra -pthread \
  -I"$root/include" $(pkg-config --cflags spdlog) \
  "$here/spdlog_vs_ringlog.cpp" \
  "$root/build/lib/libringlog.a" $(pkg-config --libs spdlog) \
  -lpthread -ldl -lm -lrt -lutil \
  -o "$out/spdlog_vs_ringlog"

exec "$out/spdlog_vs_ringlog" "$@"
