#!/usr/bin/env bash
# npm run bench: Essaim's tracker against opentracker (Debian package) in the same run, with the
# shared harness (../shared/bench: compare.sh, run.sh). Server on CPU 0, load generator on CPU 1.
#
#   bench/run-bench.sh [--quick] [--phases "http udp memory"] [--no-write] [--plain] [--also-net]
#
# --also-net: the HTTP run gets a second Essaim target, `essaim-net`, served by node:net
# (tracker.http_io = "net") instead of the native front, for a side-by-side comparison.
# Essaim runs with the settings docs/tracker.md recommends for a tracker node ("Running a
# tracker node"): TRACKER_ENV below (glibc: allocations of 128 KiB and more always mmapped, so
# that freed typed arrays go back to the system); --plain runs it without them. Override with
# ESSAIM_BENCH_ENV / ESSAIM_BENCH_NODE_FLAGS.
#
# Two compare.sh runs, each with opentracker beside Essaim:
#   1. HTTP announce (wrk and the C load generator) and memory, Essaim in PRIVATE mode
#      ({passkey}/announce URLs, every announce authenticated and accounted);
#   2. UDP announce and scrape, Essaim in LISTED mode: the harness's UDP client sends no BEP 41
#      URL data, so it cannot carry a passkey (the registered-torrent check still runs).
# Figures go to docs/benchmarks.md (unless --no-write) with the command that produced them.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS=${ESSAIM_BENCH_HARNESS:-$ROOT/../shared/bench}
WORK=${BENCH_WORK:-/tmp/trackerbench}
OUT=$WORK/essaim-$(date +%Y%m%d-%H%M%S)
QUICK=0 WRITE=1 PHASES="http udp memory" PLAIN=0 ALSO_NET=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --no-write) WRITE=0 ;;
    --phases) PHASES=$2; shift ;;
    --plain) PLAIN=1 ;;
    --also-net) ALSO_NET=1 ;;
    *) echo "unknown argument $1" >&2; exit 64 ;;
  esac
  shift
done
[ -x "$HARNESS/compare.sh" ] || [ -f "$HARNESS/compare.sh" ] || { echo "harness not found at $HARNESS (set ESSAIM_BENCH_HARNESS)" >&2; exit 1; }

need=()
command -v opentracker >/dev/null || need+=(opentracker)
command -v wrk >/dev/null || need+=(wrk)
command -v gcc >/dev/null || need+=(gcc)
command -v taskset >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else echo "please install: ${need[*]}" >&2; exit 1; fi
fi

if [ $QUICK = 1 ]; then
  SIZE=(--duration 4 --trials 1 --warmup 1 --torrents 2000 --peers 20000 --mem-peers 50000 --mem-torrents 5000)
  TORRENTS=2000 MEM_TORRENTS=5000
else
  SIZE=(--duration 8 --trials 3 --warmup 2 --torrents 10000 --peers 200000 --mem-peers 1000000 --mem-torrents 100000)
  TORRENTS=10000 MEM_TORRENTS=100000
fi
MAXT=$(( TORRENTS > MEM_TORRENTS ? TORRENTS : MEM_TORRENTS ))
mkdir -p "$OUT"
bash "$HARNESS/run.sh" build >/dev/null
POOL="$WORK/pool/infohashes-s1-n$MAXT.txt"
mkdir -p "$WORK/pool"
[ -s "$POOL" ] || { "$WORK/bin/udpload" gen "$MAXT" 1 > "$POOL.tmp" && mv "$POOL.tmp" "$POOL"; }

# A prime number of members, so that peer k (passkey k % n, torrent k % T) spreads evenly and no
# member exceeds the per-member peer cap on a torrent.
USERS=10007
DATA=$OUT/data
echo "seeding $DATA: $USERS members, $(wc -l < "$POOL") torrents ..."
(cd "$ROOT" && node --import tsx bench/seed.ts --data-dir "$DATA" --infohashes "$POOL" --users $USERS --passkeys "$OUT/passkeys.txt")

PORT=19069
# The website's copy of live swarm counts into the torrent table (site.swarm_sync_interval, #3)
# is off, as metrics are: it is not tracker work. ESSAIM_BENCH_SITE_SYNC=1 leaves it on.
SITE_SYNC="ESSAIM_SITE__SWARM_SYNC_INTERVAL=1000000"
[ "${ESSAIM_BENCH_SITE_SYNC:-0}" = 1 ] && SITE_SYNC=""
common_env="ESSAIM_WEB__PORT=0 ESSAIM_METRICS__ENABLED=false ESSAIM_LOG__LEVEL=warn ESSAIM_TRACKER__HTTP_PORT=$PORT ESSAIM_TRACKER__UDP_PORT=$PORT ESSAIM_TRACKER__UDP_HOST6= ESSAIM_TRACKER__HTTP_MAX_CONNECTIONS=20000 $SITE_SYNC"
TRACKER_ENV=${ESSAIM_BENCH_ENV-MALLOC_MMAP_THRESHOLD_=131072}
NODE_FLAGS=${ESSAIM_BENCH_NODE_FLAGS-}
if [ $PLAIN = 1 ]; then TRACKER_ENV="" NODE_FLAGS=""; fi
# Each phase gets a fresh copy of the seeded data directory (bench/fresh-data.sh).
FRESH="bash $ROOT/bench/fresh-data.sh $DATA"
cmd_private="$FRESH env $common_env $TRACKER_ENV ESSAIM_TRACKER__MODE=private node $NODE_FLAGS $ROOT/bin/essaim.js start"
cmd_listed="$FRESH env $common_env $TRACKER_ENV ESSAIM_TRACKER__MODE=listed node $NODE_FLAGS $ROOT/bin/essaim.js start"
export ESSAIM_BENCH_STARTED_AS="env $TRACKER_ENV $SITE_SYNC ESSAIM_TRACKER__MODE=private|listed node $NODE_FLAGS bin/essaim.js start"

run1="" run2=""
p1=$(echo "$PHASES" | tr ' ' '\n' | grep -E '^(http|memory)$' | tr '\n' ' ' || true)
if [ -n "${p1// /}" ]; then
  run1="$OUT/private"
  extra=()
  if [ $ALSO_NET = 1 ]; then
    NET_PORT=$((PORT + 1))
    cmd_net="$FRESH env $common_env $TRACKER_ENV ESSAIM_TRACKER__HTTP_PORT=$NET_PORT ESSAIM_TRACKER__UDP_PORT=$NET_PORT ESSAIM_TRACKER__HTTP_IO=net ESSAIM_TRACKER__MODE=private node $NODE_FLAGS $ROOT/bin/essaim.js start"
    extra=("essaim-net=http://127.0.0.1:$NET_PORT/{passkey}/announce" --passkeys-of "essaim-net=$OUT/passkeys.txt" --cmd-of "essaim-net=$cmd_net")
  fi
  bash "$HARNESS/compare.sh" --no-bt-ref --out "$run1" --phases "$p1" "${SIZE[@]}" \
    "essaim=http://127.0.0.1:$PORT/{passkey}/announce" --passkeys-of "essaim=$OUT/passkeys.txt" \
    --cmd-of "essaim=$cmd_private" "${extra[@]}" | tee "$OUT/private.txt"
fi
if echo "$PHASES" | grep -qw udp; then
  run2="$OUT/listed"
  bash "$HARNESS/compare.sh" --no-bt-ref --out "$run2" --phases udp "${SIZE[@]}" \
    "essaim=http://127.0.0.1:$PORT/announce" --udp-of "essaim=127.0.0.1:$PORT" \
    --cmd-of "essaim=$cmd_listed" | tee "$OUT/listed.txt"
fi

if [ $WRITE = 1 ]; then
  node "$ROOT/bench/write-results.mjs" "$ROOT/docs/benchmarks.md" "bench/run-bench.sh $*" "${run1:-}" "${run2:-}"
  echo "docs/benchmarks.md updated"
fi
echo "raw output: $OUT"
