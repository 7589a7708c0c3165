#!/usr/bin/env bash
# Installs the Debian packages Cardline's tests and benchmarks use, only those missing.
#   sox, libsox-fmt-all  - audio conversion and measurement in tests
#   espeak-ng            - real synthetic speech for talk-off and masking tests
#   libspandsp-dev, gcc, pkg-config - the spandsp reference DTMF receiver (tests + bench)
#   libsrtp2-dev         - libsrtp, the independent SRTP implementation the SRTP interop tests compare against
#   openssl              - test certificates for TLS (SIP over TLS, HTTPS webhook connector)
#   baresip, sip-tester  - real SIP peers for end-to-end tests
#   chromium             - real browser for UI tests (driven by playwright-core, never downloaded)
set -euo pipefail
want=(sox libsox-fmt-all espeak-ng libspandsp-dev libsrtp2-dev gcc pkg-config baresip sip-tester chromium openssl)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "cardline: installing Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "cardline: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
