#!/usr/bin/env bash
# `npm run bench:media`: sipp load through Cardline's media gateway (bench/media/bench.ts; method in README.md).
# Not a test: it prints numbers, asserts nothing. Extra arguments go to bench.ts (e.g. --calls 100,250 --window 20).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if ! command -v sipp >/dev/null || ! command -v espeak-ng >/dev/null; then
  bash scripts/system-deps.sh
fi
exec node --import tsx "$root/bench/media/bench.ts" "$@"
