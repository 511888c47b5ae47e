#!/usr/bin/env bash
# Profiles the tracker under load: seeds a database like `npm run bench`, starts Essaim with
# `node --cpu-prof` pinned to CPU 0, drives one load of the shared harness from CPU 1, stops the
# server (SIGINT: the profile is written at exit) and prints the top functions.
#
#   scripts/profile-tracker.sh http|httpc|udp|scrape [--mode private|listed] [--duration S] [--node-flags "..."] [--perf]
#
# --perf: instead of node's CPU profile (JavaScript only), `perf record -e cpu-clock -g` of the
# whole process (kernel, V8 builtins, native code, and JIT code named through --perf-basic-prof),
# summarised by shared object and by symbol (needs Debian's linux-perf).
#
# Output in /tmp/essaim-prof/<load>-<time>/ (profiles of the main thread and the ledger writer thread).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS=${ESSAIM_BENCH_HARNESS:-$ROOT/../shared/bench}
WORK=${BENCH_WORK:-/tmp/trackerbench}
LOAD=${1:?usage: profile-tracker.sh http|httpc|udp|scrape [--mode M] [--duration S] [--node-flags F]}
shift
MODE="" DURATION=8 NODE_FLAGS="" PERF=0
while [ $# -gt 0 ]; do
  case "$1" in
    --perf) PERF=1 ;;
    --mode) MODE=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --node-flags) NODE_FLAGS=$2; shift ;;
    *) echo "unknown argument $1" >&2; exit 64 ;;
  esac
  shift
done
case "$LOAD" in http|httpc) MODE=${MODE:-private} ;; udp|scrape) MODE=${MODE:-listed} ;; *) echo "unknown load $LOAD" >&2; exit 64 ;; esac

OUT=/tmp/essaim-prof/$LOAD-$(date +%H%M%S)
mkdir -p "$OUT"
bash "$HARNESS/run.sh" build >/dev/null
POOL=$WORK/pool/infohashes-s1-n10000.txt
mkdir -p "$WORK/pool"
[ -s "$POOL" ] || { "$WORK/bin/udpload" gen 10000 1 > "$POOL.tmp" && mv "$POOL.tmp" "$POOL"; }
SEEDED=/tmp/essaim-prof/seed-10000
if [ ! -s "$SEEDED/passkeys.txt" ]; then
  rm -rf "$SEEDED" && mkdir -p "$SEEDED"
  (cd "$ROOT" && node --import tsx bench/seed.ts --data-dir "$SEEDED/data" --infohashes "$POOL" --users 10007 --passkeys "$SEEDED/passkeys.txt")
fi
rm -rf "$OUT/data" && cp -r "$SEEDED/data" "$OUT/data"

PORT=19169
PROF_FLAGS="--cpu-prof --cpu-prof-dir=$OUT"
[ $PERF = 1 ] && PROF_FLAGS="--perf-basic-prof"
# shellcheck disable=SC2086
env ESSAIM_SERVER__DATA_DIR="$OUT/data" ESSAIM_WEB__PORT=0 ESSAIM_METRICS__ENABLED=false ESSAIM_LOG__LEVEL=warn \
  ESSAIM_TRACKER__HTTP_PORT=$PORT ESSAIM_TRACKER__UDP_PORT=$PORT ESSAIM_TRACKER__UDP_HOST6= \
  ESSAIM_TRACKER__HTTP_MAX_CONNECTIONS=20000 ESSAIM_TRACKER__MODE="$MODE" \
  taskset -c 0 node $PROF_FLAGS $NODE_FLAGS "$ROOT/bin/essaim.js" start > "$OUT/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
  sleep 0.2
done
PERF_PID=""
if [ $PERF = 1 ]; then
  perf record -q -e cpu-clock -F 1999 -g -p "$PID" -o "$OUT/perf.data" 2>"$OUT/perf.log" &
  PERF_PID=$!
fi
if [ "$MODE" = private ]; then URL="http://127.0.0.1:$PORT/{passkey}/announce"; else URL="http://127.0.0.1:$PORT/announce"; fi
common=(--infohashes "$POOL" --pid "$PID" --trials 1 --duration "$DURATION" --warmup 2 --torrents 10000 --peers 200000)
case "$LOAD" in
  http) bash "$HARNESS/run.sh" http --url "$URL" --passkeys "$SEEDED/passkeys.txt" "${common[@]}" ;;
  httpc) bash "$HARNESS/run.sh" http --loadgen c --url "$URL" --passkeys "$SEEDED/passkeys.txt" "${common[@]}" ;;
  udp) bash "$HARNESS/run.sh" udp --udp 127.0.0.1:$PORT "${common[@]}" ;;
  scrape) bash "$HARNESS/run.sh" udp --action scrape --udp 127.0.0.1:$PORT "${common[@]}" ;;
esac | tee "$OUT/load.txt" | grep -E "SUMMARY|median|trial" || true
if [ -n "$PERF_PID" ]; then
  kill -INT "$PERF_PID"
  wait "$PERF_PID" || true
fi
kill -INT "$PID"
wait "$PID" || true
if [ $PERF = 1 ]; then
  {
    echo "== by shared object"
    perf report -i "$OUT/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -12
    echo "== by symbol"
    perf report -i "$OUT/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -45
  } | tee "$OUT/top.txt"
  echo "output: $OUT"
  exit 0
fi
for f in "$OUT"/*.cpuprofile; do
  echo "== $f"
  node "$ROOT/scripts/cpuprofile-top.mjs" "$f" --top 25 --inclusive announce,account,onMessage,drain,take,credit,baseline,applySqliteBatch
done | tee "$OUT/top.txt"
echo "output: $OUT"
