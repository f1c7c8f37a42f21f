#!/usr/bin/env bash
# check.sh [CC]: compiles the example firmware's ESP-IDF glue (main/*.c) on the host against
# declarations of exactly the ESP-IDF API it uses (stubs/, see stubs/README.md) and the mbedtls 3.x
# API (protocol/c/test/mbedtls3), in each Kconfig variant the code branches on. Syntax and types
# only (-fsyntax-only): a wrong signature or a misspelt name fails. Then the port (main/
# ota_uart_port.c) is linked against a small fake ESP-IDF (fake/) and its tests run.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
CC=${1:-${CC:-cc}}
FLAGS=(-std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
       -fsyntax-only -I"$HERE/stubs" -I"$ROOT/protocol/c/test/mbedtls3" -I"$ROOT/protocol/c/include"
       -I"$HERE/../main" -include "$HERE/stubs/sdkconfig.h")
variants=(
  ""
  "-DCONFIG_OTA_UART_AUTO_CONFIRM=1"
  "-DCONFIG_BOOTLOADER_APP_ANTI_ROLLBACK=1 -DCONFIG_OTA_UART_AUTO_CONFIRM=1"
  "-DMBEDTLS_USE_PSA_CRYPTO -DCONFIG_OTARX_LOG_LEVEL=4"
)
for v in "${variants[@]}"; do
  for f in "$HERE"/../main/*.c; do
    # shellcheck disable=SC2086
    "$CC" "${FLAGS[@]}" $v "$f"
  done
done
echo "check.sh: ESP-IDF glue compiles against the declared ESP-IDF 5 / mbedtls 3 API (${#variants[@]} variants)"

# The port's own logic (what HELLO_ACK reports: running, boot, target, pending), linked against
# fake/fake_idf.c, a small stand-in for the ESP-IDF calls it makes, with the portable receiver and
# the host's mbedtls 2.28, and run.
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
"$CC" -std=gnu11 -Wall -Wextra -Werror -Wno-missing-prototypes -I"$HERE/stubs" -I"$HERE/fake" \
  -I"$ROOT/protocol/c/include" -I"$ROOT/protocol/c/src" -I"$HERE/../main" -include "$HERE/stubs/sdkconfig.h" \
  "$HERE/../main/ota_uart_port.c" "$HERE/../main/ota_uart_info.c" "$HERE/fake/fake_idf.c" "$HERE/fake/port_test.c" "$ROOT"/protocol/c/src/*.c \
  -o "$OUT/port_test" -lmbedcrypto
"$OUT/port_test"
