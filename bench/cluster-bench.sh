#!/usr/bin/env bash
# npm run bench:cluster: HTTP announces per second with the swarms in memory and in Redis, on one
# and on two tracker nodes, with the shared harness (../shared/bench/run.sh http, its C load
# generator), in one run:
#
#   memory   one `essaim tracker` node, in-memory swarms (the default store);
#   redis-1  one tracker node, tracker.store = "redis";
#   redis-2  two tracker nodes on the same Redis, each loaded by its own generator at the same
#            time (the figure is the sum; each node gets half of the members and torrents).
#
# Every configuration runs in PRIVATE mode on PostgreSQL: each announce is authenticated by
# passkey, checked against the registered torrents, and credited. The database and Redis are the
# servers of this machine (ESSAIM_BENCH_PG_URL, ESSAIM_BENCH_REDIS_URL); a schema and a key prefix
# of their own are made for the run and removed after it.
#
#   bench/cluster-bench.sh [--quick]
#
# On a 2-core machine the nodes, Redis and the generators share the cores: the absolute figures
# are lower bounds, the ratios and the CPU per announce are what carry over (docs/benchmarks.md).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS=${ESSAIM_BENCH_HARNESS:-$ROOT/../shared/bench}
PG=${ESSAIM_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
REDIS=${ESSAIM_BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
WORK=${BENCH_WORK:-/tmp/trackerbench}
OUT=$WORK/cluster-$(date +%Y%m%d-%H%M%S)
QUICK=0
[ "${1:-}" = --quick ] && QUICK=1
if [ $QUICK = 1 ]; then SIZE=(--duration 4 --trials 1 --warmup 1); TORRENTS=2000 PEERS=20000
else SIZE=(--duration 8 --trials 3 --warmup 2); TORRENTS=10000 PEERS=100000; fi
mkdir -p "$OUT"
bash "$HARNESS/run.sh" build >/dev/null
POOL="$WORK/pool/infohashes-s1-n$TORRENTS.txt"
mkdir -p "$WORK/pool"
[ -s "$POOL" ] || { "$WORK/bin/udpload" gen "$TORRENTS" 1 > "$POOL.tmp" && mv "$POOL.tmp" "$POOL"; }

SCHEMA=essaim_bench_$(date +%s)
PREFIX="essaim-bench-$$:"
DBURL="$PG?options=$(node -e "process.stdout.write(encodeURIComponent('-c search_path=$SCHEMA'))")"
psql_do() { node --import tsx -e "
import { openDatabase } from '$ROOT/src/db/database.ts';
import { sql } from 'kysely';
const d = await openDatabase('$PG', { dataDir: '/tmp', poolSize: 1 });
await sql.raw(process.argv[1]).execute(d.db);
await d.close();" "$1"; }
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql_do "drop schema if exists $SCHEMA cascade" || true
  redis-cli -u "$REDIS" --scan --pattern "${PREFIX}*" 2>/dev/null | xargs -r -n 500 redis-cli -u "$REDIS" del >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql_do "create schema $SCHEMA"
USERS=10007
echo "seeding schema $SCHEMA: $USERS members, $TORRENTS torrents ..."
(cd "$ROOT" && node --import tsx bench/seed.ts --data-dir "$OUT" --database-url "$DBURL" --infohashes "$POOL" --users $USERS --passkeys "$OUT/passkeys.txt")

common="ESSAIM_DATABASE__URL=$DBURL ESSAIM_REDIS__URL=$REDIS ESSAIM_REDIS__KEY_PREFIX=$PREFIX ESSAIM_METRICS__ENABLED=false ESSAIM_LOG__LEVEL=warn ESSAIM_TRACKER__MODE=private ESSAIM_TRACKER__UDP_ENABLED=false ESSAIM_TRACKER__HTTP_MAX_CONNECTIONS=20000 ESSAIM_SITE__SWARM_SYNC_INTERVAL=1000000 MALLOC_MMAP_THRESHOLD_=131072"
start_node() { # port store -> pid
  local dir="$OUT/node-$1"; mkdir -p "$dir"
  env $common ESSAIM_SERVER__DATA_DIR="$dir" ESSAIM_TRACKER__HTTP_PORT="$1" ESSAIM_TRACKER__STORE="$2" node "$ROOT/bin/essaim.js" tracker > "$dir/out.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && break; sleep 0.5; done
  curl -sf "http://127.0.0.1:$1/readyz" >/dev/null || { cat "$dir/out.log" >&2; exit 1; }
  echo $pid
}
load() { # port name passkeys pid
  bash "$HARNESS/run.sh" http --loadgen c --url "http://127.0.0.1:$1/{passkey}/announce" --passkeys "$3" --infohashes "$POOL" \
    --torrents $TORRENTS --peers $PEERS --pid "$4" --name "$2" --out "$OUT/summary.txt" "${SIZE[@]}" > "$OUT/$2.log" 2>&1
  grep "SUMMARY kind=http name=$2 " "$OUT/summary.txt" | tail -1
}
flush_redis() { redis-cli -u "$REDIS" --scan --pattern "${PREFIX}*" | xargs -r -n 500 redis-cli -u "$REDIS" del >/dev/null 2>&1 || true; }

echo "== memory: one node"
p=$(start_node 19201 memory); PIDS+=("$p"); load 19201 memory "$OUT/passkeys.txt" "$p"; kill "$p"; wait "$p" 2>/dev/null || true
echo "== redis-1: one node"
flush_redis
p=$(start_node 19202 redis); PIDS+=("$p"); load 19202 redis-1 "$OUT/passkeys.txt" "$p"; kill "$p"; wait "$p" 2>/dev/null || true
echo "== redis-2: two nodes at once"
flush_redis
awk 'NR%2==1' "$OUT/passkeys.txt" > "$OUT/passkeys-a.txt"; awk 'NR%2==0' "$OUT/passkeys.txt" > "$OUT/passkeys-b.txt"
a=$(start_node 19203 redis); b=$(start_node 19204 redis); PIDS+=("$a" "$b")
load 19203 redis-2a "$OUT/passkeys-a.txt" "$a" & la=$!
load 19204 redis-2b "$OUT/passkeys-b.txt" "$b" & lb=$!
wait $la $lb || true
kill "$a" "$b"; wait "$a" "$b" 2>/dev/null || true
echo
echo "results ($OUT/summary.txt):"
cat "$OUT/summary.txt"
