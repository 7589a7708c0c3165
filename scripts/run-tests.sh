#!/usr/bin/env bash
# Runs the node:test suite through tsx. Optional args: test files or folders (default: test/).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(test)
mapfile -t files < <(find "${targets[@]}" -name '*.test.ts' -type f | sort)
if [ ${#files[@]} -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency="${CARDLINE_TEST_CONCURRENCY:-2}" --test-reporter=spec "${files[@]}"
