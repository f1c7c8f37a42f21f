#!/usr/bin/env bash
# build-c.sh: builds the C receiver (protocol/c) on the host, from a clean clone, with nothing but
# a C compiler and Debian's libmbedtls-dev:
#   1. the library in its default (ESP32) configuration, -Wall -Wextra -Werror, and prints
#      sizeof(otarx_ctx_t) with the default frame size and window;
#   2. the unit tests with AddressSanitizer + UndefinedBehaviorSanitizer, and runs them against
#      protocol/vectors and test/fixtures;
#   3. build/ota-uart-rx, the receiver as a simulated ESP32 on a serial port or pty;
#   4. compile checks: the ESP-IDF example's glue against declarations of the ESP-IDF API it
#      uses, and the library against mbedtls 3.x API declarations.
# Usage: scripts/build-c.sh [--no-tests]   (CC=clang or CC=gcc to choose the compiler)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

RUN_TESTS=1
[ "${1:-}" = "--no-tests" ] && RUN_TESTS=0

CC=${CC:-}
if [ -z "$CC" ]; then
  for c in cc gcc clang; do command -v "$c" >/dev/null 2>&1 && { CC=$c; break; }; done
fi
[ -n "$CC" ] || { echo "build-c.sh: no C compiler found (install gcc or clang)" >&2; exit 1; }

OUT=build/c
mkdir -p "$OUT"

if ! printf '#include <mbedtls/gcm.h>\nint main(void){return 0;}\n' | "$CC" -x c - -o "$OUT/probe" -lmbedcrypto 2>/dev/null; then
  echo "build-c.sh: mbedtls not found: install libmbedtls-dev (Debian/Ubuntu: apt-get install libmbedtls-dev)" >&2
  exit 1
fi

WARN=(-std=c99 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wconversion -Wsign-conversion)
LIB=(protocol/c/src/*.c)
INC=(-Iprotocol/c/include -Iprotocol/c/src)
HOST=(protocol/c/host/flash_file.c protocol/c/host/factory.c protocol/c/host/esp_flash.c protocol/c/host/record_log.c protocol/c/host/serial_port.c protocol/c/host/host_dev.c)
# The host tool and the tests use the largest limits (the simulator's 4112-byte frames and
# 16 KiB window); the ESP32 default is 1040 / 8192.
HOSTCFG=(-DOTARX_MAX_FRAME=4112 -DOTARX_WINDOW=65536)
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)

step() { echo "build-c.sh: $*"; }

# 1. library, default configuration, plus its size
step "library (default config) with $CC"
for f in "${LIB[@]}"; do
  "$CC" "${WARN[@]}" -Os "${INC[@]}" -c "$f" -o "$OUT/$(basename "$f" .c).o"
done
ar rcs "$OUT/libotarx.a" "$OUT"/*.o
cat > "$OUT/ctx_size.c" <<'EOF'
#include <stdio.h>
#include "otarx.h"
int main(void)
{
    printf("sizeof(otarx_ctx_t) = %lu bytes (OTARX_MAX_FRAME %u, OTARX_WINDOW %u, of which "
           "mbedtls GCM %lu, PK %lu)\n", (unsigned long)sizeof(otarx_ctx_t),
           (unsigned)OTARX_MAX_FRAME, (unsigned)OTARX_WINDOW,
           (unsigned long)sizeof(mbedtls_gcm_context), (unsigned long)sizeof(mbedtls_pk_context));
    return sizeof(otarx_ctx_t) < 16384 ? 0 : 1;
}
EOF
"$CC" "${WARN[@]}" "${INC[@]}" "$OUT/ctx_size.c" -o "$OUT/ctx_size"
"$OUT/ctx_size" || { echo "build-c.sh: sizeof(otarx_ctx_t) is not below 16 KiB" >&2; exit 1; }

# 2. unit tests with ASan + UBSan
TESTS=(protocol/c/test/*.c)
step "unit tests (ASan + UBSan)"
"$CC" "${WARN[@]}" -Wno-missing-prototypes -O1 -g "${SAN[@]}" "${HOSTCFG[@]}" "${INC[@]}" -Iprotocol/c/host \
  "${LIB[@]}" "${HOST[@]}" "${TESTS[@]}" -o "$OUT/otarx_tests" -lmbedcrypto
if [ "$RUN_TESTS" = 1 ]; then
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$OUT/otarx_tests" protocol/vectors test/fixtures
fi

# 3. the host tool
step "build/ota-uart-rx"
"$CC" "${WARN[@]}" -O2 -g "${HOSTCFG[@]}" "${INC[@]}" -Iprotocol/c/host \
  "${LIB[@]}" "${HOST[@]}" protocol/c/host/options.c protocol/c/host/main.c -o build/ota-uart-rx -lmbedcrypto

# 4. compile checks against API declarations (no linking: the real libraries are not here)
if [ -d firmware/esp-idf-example ]; then
  step "ESP-IDF glue against the ESP-IDF API declarations"
  bash firmware/esp-idf-example/host-check/check.sh "$CC"
fi
if [ -d protocol/c/test/mbedtls3 ]; then
  step "library against the mbedtls 3.x API declarations"
  for f in "${LIB[@]}"; do
    "$CC" "${WARN[@]}" -fsyntax-only -Iprotocol/c/test/mbedtls3 "${INC[@]}" "$f"
  done
fi
step "done"
