#!/usr/bin/env bash
# power-loss.sh: issue 6's power-loss acceptance by hand (the automated one is
# test/e2e/power-loss.test.ts). Over a socat pty pair, the device (`ota-uart simulate`, or with
# "c" the C receiver build/ota-uart-rx) keeps its flash in a file; `ota-uart push --baud 115200`
# of a 256 KiB image; the device is killed (kill -9) half-way and restarted on the same flash file;
# the interrupted push fails; a second push resumes from the device's durable record and boots it.
#   scripts/faults/power-loss.sh [sim|c]        (needs socat; "c" needs gcc + libmbedtls-dev)
set -euo pipefail
TARGET=${1:-sim}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
case "$TARGET" in sim|c) ;; *) echo "usage: $0 [sim|c]" >&2; exit 2 ;; esac
command -v socat >/dev/null || { echo "power-loss.sh: needs socat (apt-get install socat)" >&2; exit 2; }
npm run build --silent
if [ "$TARGET" = c ] && [ ! -x build/ota-uart-rx ]; then bash scripts/build-c.sh --no-tests; fi

T=$(mktemp -d)
KEY=test/fixtures/rsa3072_private.pem   # TEST KEY: a copy of ../shared/vectors/rsa3072_private.pem
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT

# A 256 KiB app (2.0.0), encrypted for the test key: about 23 s on the wire at 115200 baud.
node --input-type=module -e "
import { readFileSync, writeFileSync } from 'node:fs';
import { buildAppImage, encryptImage, loadEncryptionKey } from './dist/index.js';
writeFileSync('$T/app.enc', encryptImage(buildAppImage({ version: '2.0.0', size: 256 * 1024 }),
  loadEncryptionKey(readFileSync('test/fixtures/rsa3072_public.pem'))));"
TOTAL=$(stat -c %s "$T/app.enc")

socat pty,raw,echo=0,link="$T/dev" pty,raw,echo=0,link="$T/host" & PIDS+=($!)
while [ ! -e "$T/dev" ] || [ ! -e "$T/host" ]; do sleep 0.05; done

start_device() {
  if [ "$TARGET" = sim ]; then
    node dist/cli/main.js simulate --port "$T/dev" --key "$KEY" --flash "$T/flash.bin" 2>>"$T/device.log" &
  else
    build/ota-uart-rx --port "$T/dev" --key "$KEY" --flash "$T/flash.bin" 2>>"$T/device.log" &
  fi
  DEV=$!
  PIDS+=("$DEV")
  until grep -qE 'Ctrl-C to stop|listening on' "$T/device.log" 2>/dev/null; do sleep 0.05; done
  : > "$T/device.log"
}

echo "== device ($TARGET) on $T/dev, flash $T/flash.bin; push of $TOTAL bytes at 115200 baud"
start_device
node dist/cli/main.js push "$T/app.enc" --port "$T/host" --baud 115200 --json >"$T/push1.ndjson" 2>&1 &
PUSH=$!
ACKED=0
while [ "$ACKED" -lt $((TOTAL / 2)) ]; do
  sleep 0.2
  ACKED=$(grep -o '"acked":[0-9]*' "$T/push1.ndjson" | tail -1 | cut -d: -f2 || true)
  ACKED=${ACKED:-0}
done
kill -9 "$DEV"
echo "== kill -9 of the device at $ACKED of $TOTAL bytes acknowledged"
set +e
wait "$PUSH"
echo "== the first push exited with status $? ($(grep -o '"code":"[A-Z_]*"' "$T/push1.ndjson" | tail -1))"
set -e
echo "== device restarted on the same flash file; the same push again:"
start_device
node dist/cli/main.js push "$T/app.enc" --port "$T/host" --baud 115200
node dist/cli/main.js info --port "$T/host"
