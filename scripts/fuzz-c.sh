#!/usr/bin/env bash
# fuzz-c.sh SECONDS: runs the libFuzzer harness over otarx_feed (protocol/c/test/fuzz/fuzz_feed.c)
# for SECONDS (default 60) with AddressSanitizer and UndefinedBehaviorSanitizer, on a corpus seeded
# from protocol/vectors (every wire line of frames.vec and malformed.vec, every session's h2d
# bytes) plus a structured whole-session seed. Needs Debian's clang and libclang-rt-14-dev.
# Prints the number of executions; exits non-zero on a crash, hang or sanitizer report (the
# reproducer is left in build/c/fuzz/).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECS=${1:-60}
case "$SECS" in ''|*[!0-9]*) echo "usage: scripts/fuzz-c.sh SECONDS" >&2; exit 2;; esac
CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null 2>&1 || { echo "fuzz-c.sh: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

OUT=build/c/fuzz
mkdir -p "$OUT/seed" "$OUT/corpus"
"$CC" -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Wall -Wextra -Werror -Iprotocol/c/include -Iprotocol/c/src \
  protocol/c/src/*.c protocol/c/test/fuzz/fuzz_feed.c -o "$OUT/fuzz_feed" -lmbedcrypto

# hex string -> bytes on stdout
unhex() { printf '%b' "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }

rm -f "$OUT"/seed/*
i=0
for f in protocol/vectors/frames.vec protocol/vectors/malformed.vec; do
  while read -r kw hex; do
    [ "$kw" = wire ] || continue
    { printf '\x00'; unhex "$hex"; } > "$OUT/seed/raw-$i"   # first byte even: raw UART bytes
    i=$((i + 1))
  done < "$f"
done
for f in protocol/vectors/sessions/*.vec; do
  [ -e "$f" ] || continue
  { printf '\x00'; grep '^h2d ' "$f" | while read -r _ hex; do unhex "$hex"; done; } > "$OUT/seed/session-$i"
  i=$((i + 1))
done
# structured (first byte odd): BEGIN with the real header (chunk 64 * 16), every DATA, END
{
  printf '\x01'
  printf '\x03\xfe\x00\x3f\x00'
  for blk in $(seq 0 64 200); do
    printf '\x03\xfd'; printf "\\x$(printf %02x $((blk & 255)))\\x$(printf %02x $((blk >> 8)))\\x40"
  done
  printf '\x01\x05\x00'
} > "$OUT/seed/push"
echo "fuzz-c.sh: $i seeds from protocol/vectors; fuzzing for $SECS s"

set +e
"$OUT/fuzz_feed" -max_total_time="$SECS" -max_len=16384 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$OUT/" "$OUT/corpus" "$OUT/seed" > "$OUT/fuzz.log" 2>&1
rc=$?
set -e
runs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$OUT/fuzz.log" | tail -1 || true)
if [ $rc -ne 0 ]; then
  tail -40 "$OUT/fuzz.log" >&2
  echo "fuzz-c.sh: FAILED (exit $rc); reproducer in $OUT/" >&2
  exit 1
fi
echo "fuzz-c.sh: ${runs:-no summary} (s); corpus $(ls "$OUT/corpus" | wc -l) inputs; no crash, hang or sanitizer report"
