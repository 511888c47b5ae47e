#!/usr/bin/env bash
# Memory per peer of Essaim (private mode, the settings of bench/run-bench.sh) under two
# environments, alternating, so that the host's drift falls on both alike: the shared harness's
# memory phase (1,000,000 peers over 100,000 torrents through HTTP, RSS delta 3 s after the fill).
#
#   bench/memory-ab.sh --a "ENV=..." --b "ENV=..." [--rounds N]
#
# e.g. --a "ESSAIM_LEDGER__MAX_PENDING=50000" --b "ESSAIM_LEDGER__MAX_PENDING=20000".
# Output in /tmp/trackerbench/memory-ab-<time>/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS=${ESSAIM_BENCH_HARNESS:-$ROOT/../shared/bench}
WORK=${BENCH_WORK:-/tmp/trackerbench}
# shellcheck source=bench/start-essaim.sh
. "$ROOT/bench/start-essaim.sh"
ROUNDS=2 ENV_A="" ENV_B=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --a) ENV_A=$2; shift ;;
    --b) ENV_B=$2; shift ;;
    *) echo "unknown argument $1" >&2; exit 64 ;;
  esac
  shift
done
OUT=$WORK/memory-ab-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
bash "$HARNESS/run.sh" build >/dev/null
POOL="$WORK/pool/infohashes-s1-n100000.txt"
mkdir -p "$WORK/pool"
[ -s "$POOL" ] || { "$WORK/bin/udpload" gen 100000 1 > "$POOL.tmp" && mv "$POOL.tmp" "$POOL"; }
SEEDED=$OUT/seed
(cd "$ROOT" && node --import tsx bench/seed.ts --data-dir "$SEEDED/data" --infohashes "$POOL" --users 10007 --passkeys "$SEEDED/passkeys.txt") >/dev/null

PORT=19369
for round in $(seq 1 "$ROUNDS"); do
  for v in a b; do
    extra=$ENV_A
    [ $v = b ] && extra=$ENV_B
    run=$OUT/$round-$v
    mkdir -p "$run"
    cp -r "$SEEDED/data" "$run/data"
    # shellcheck disable=SC2086
    start_essaim "$run/data" $PORT "$run/server.log" $extra
    pid=$ESSAIM_PID
    bash "$HARNESS/run.sh" memory --url "http://127.0.0.1:$PORT/{passkey}/announce" --passkeys "$SEEDED/passkeys.txt" \
      --infohashes "$POOL" --pid "$pid" --peers 1000000 --torrents 100000 > "$run/load.txt" 2>&1 || true
    kill -INT "$pid"
    wait "$pid" || true
    line=$(grep '^SUMMARY' "$run/load.txt" | sed "s/name=unnamed/name=$v/")
    echo "round $round [$v: ${extra:-defaults}] $(echo "$line" | grep -oE 'bytes_per_peer=[0-9.]+|fill_per_s=[0-9]+|rss_after_kb=[0-9]+|hwm_after_kb=[0-9]+' | tr '\n' ' ')" | tee -a "$OUT/results.txt"
  done
done
echo "output: $OUT"
