#!/usr/bin/env bash
# Side-by-side HTTP announce throughput of the tracker's two HTTP carriers (tracker.http_io =
# native and net), alternating, so that the host's drift falls on both alike. Each round starts
# Essaim fresh (private mode, the settings of bench/run-bench.sh) on a copy of a seeded database,
# pinned to CPU 0, and drives one trial of the shared harness's HTTP load from CPU 1.
#
#   bench/http-io-ab.sh [--rounds N] [--loadgen c|wrk] [--duration S] [--seed-torrents N] [--carriers "native net"]
#
# --seed-torrents: torrents registered in the seeded database (default 10000; npm run bench
# registers 100000, its memory phase's pool); the load announces the first 10,000 either way.
# Prints one SUMMARY line per run and, at the end, the announces per second of each carrier and
# per second of server CPU. Output in /tmp/trackerbench/http-io-ab-<time>/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS=${ESSAIM_BENCH_HARNESS:-$ROOT/../shared/bench}
WORK=${BENCH_WORK:-/tmp/trackerbench}
# shellcheck source=bench/start-essaim.sh
. "$ROOT/bench/start-essaim.sh"
ROUNDS=3 LOADGEN=c DURATION=8 SEED_TORRENTS=10000 CARRIERS="native net"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --loadgen) LOADGEN=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --seed-torrents) SEED_TORRENTS=$2; shift ;;
    --carriers) CARRIERS=$2; shift ;;
    *) echo "unknown argument $1" >&2; exit 64 ;;
  esac
  shift
done
OUT=$WORK/http-io-ab-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
bash "$HARNESS/run.sh" build >/dev/null
POOL="$WORK/pool/infohashes-s1-n$SEED_TORRENTS.txt"
mkdir -p "$WORK/pool"
[ -s "$POOL" ] || { "$WORK/bin/udpload" gen "$SEED_TORRENTS" 1 > "$POOL.tmp" && mv "$POOL.tmp" "$POOL"; }
SEEDED=$OUT/seed
(cd "$ROOT" && node --import tsx bench/seed.ts --data-dir "$SEEDED/data" --infohashes "$POOL" --users 10007 --passkeys "$SEEDED/passkeys.txt") >/dev/null

PORT=19269
for round in $(seq 1 "$ROUNDS"); do
  for io in $CARRIERS; do
    run=$OUT/$round-$io
    mkdir -p "$run"
    cp -r "$SEEDED/data" "$run/data"
    start_essaim "$run/data" $PORT "$run/server.log" ESSAIM_TRACKER__HTTP_IO=$io
    pid=$ESSAIM_PID
    bash "$HARNESS/run.sh" http --loadgen "$LOADGEN" --url "http://127.0.0.1:$PORT/{passkey}/announce" \
      --passkeys "$SEEDED/passkeys.txt" --infohashes "$POOL" --pid "$pid" --trials 1 --duration "$DURATION" \
      --warmup 2 --torrents 10000 --peers 200000 > "$run/load.txt" 2>&1 || true
    kill -INT "$pid"
    wait "$pid" || true
    line=$(grep '^SUMMARY' "$run/load.txt" | sed "s/name=unnamed/name=$io/")
    echo "round $round $line" | tee -a "$OUT/results.txt" | cut -c1-200
  done
done
echo "== announces/s and per server CPU-second, by carrier ($LOADGEN, $ROUNDS rounds)"
for io in $CARRIERS; do
  grep " name=$io " "$OUT/results.txt" | sed -E 's/.*good_per_s=([0-9]+).*per_server_core=([0-9]+).*/\1 \2/' |
    awk -v io=$io '{g=g" "$1; c=c" "$2} END {print io ": good/s" g " | per server CPU-s" c}'
done
echo "output: $OUT"
