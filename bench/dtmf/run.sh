#!/usr/bin/env bash
# `npm run bench:dtmf`: builds the spandsp benchmark harness (C, against Debian's libspandsp-dev) if
# needed, then runs the comparison (bench/dtmf/bench.ts). Not a test: it prints numbers, asserts nothing.
# Extra arguments go to bench.ts (e.g. --minutes 20 --reps 9).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if ! pkg-config --exists spandsp 2>/dev/null || ! command -v gcc >/dev/null || ! command -v espeak-ng >/dev/null \
   || ! command -v sox >/dev/null; then
  bash scripts/system-deps.sh
fi
out_dir="$root/build/bench"
bin="$out_dir/spandsp_bench"
src="$root/bench/dtmf/spandsp_bench.c"
if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
  mkdir -p "$out_dir"
  tmp="$(mktemp "$out_dir/.spandsp_bench.XXXXXX")"
  # shellcheck disable=SC2046
  gcc -O2 -std=c99 -Wall -Wextra -o "$tmp" "$src" $(pkg-config --cflags --libs spandsp) -lm
  mv -f "$tmp" "$bin"
fi
SPANDSP_BENCH_BIN="$bin" exec node --import tsx "$root/bench/dtmf/bench.ts" "$@"
