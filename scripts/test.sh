#!/usr/bin/env bash
# The one test command: system packages, node modules, type check, the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npx tsc -p tsconfig.json --noEmit
npx biome lint --error-on-warnings
bash scripts/run-tests.sh "$@"
