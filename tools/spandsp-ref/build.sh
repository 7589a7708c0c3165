#!/usr/bin/env bash
# Builds the spandsp reference DTMF receiver into build/spandsp-ref/dtmf_ref (idempotent: only when the
# binary is missing or older than its source or this script). Prints the binary's path on stdout.
# Needs Debian's libspandsp-dev, gcc, pkg-config (scripts/system-deps.sh installs them).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/tools/spandsp-ref/dtmf_ref.c"
out_dir="$root/build/spandsp-ref"
bin="$out_dir/dtmf_ref"
if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ] || [ "${BASH_SOURCE[0]}" -nt "$bin" ]; then
  command -v gcc >/dev/null || { echo "spandsp-ref: gcc missing (run scripts/system-deps.sh)" >&2; exit 1; }
  pkg-config --exists spandsp || { echo "spandsp-ref: libspandsp-dev missing (run scripts/system-deps.sh)" >&2; exit 1; }
  mkdir -p "$out_dir"
  # Build to a temporary name, then rename: concurrent test processes never see a half-written binary.
  tmp="$(mktemp "$out_dir/.dtmf_ref.XXXXXX")"
  # shellcheck disable=SC2046
  gcc -O2 -std=c99 -Wall -Wextra -o "$tmp" "$src" $(pkg-config --cflags --libs spandsp) -lm
  mv -f "$tmp" "$bin"
fi
echo "$bin"
