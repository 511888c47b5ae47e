# Sourced by the A/B benchmark scripts (bench/http-io-ab.sh, bench/memory-ab.sh).
#
#   start_essaim DATA_DIR PORT LOG [NAME=VALUE ...]
#
# Starts Essaim in private mode with the settings of bench/run-bench.sh on DATA_DIR (HTTP and UDP
# tracker on PORT, web on a free port, metrics off), pinned to CPU 0, plus the given environment;
# sets ESSAIM_PID and returns once the port accepts connections.
start_essaim() {
  local data=$1 port=$2 log=$3
  shift 3
  env ESSAIM_SERVER__DATA_DIR="$data" ESSAIM_WEB__PORT=0 ESSAIM_METRICS__ENABLED=false ESSAIM_LOG__LEVEL=warn \
    ESSAIM_TRACKER__HTTP_PORT="$port" ESSAIM_TRACKER__UDP_PORT="$port" ESSAIM_TRACKER__UDP_HOST6= \
    ESSAIM_TRACKER__HTTP_MAX_CONNECTIONS=20000 ESSAIM_TRACKER__MODE=private \
    ESSAIM_SITE__SWARM_SYNC_INTERVAL=1000000 MALLOC_MMAP_THRESHOLD_=131072 "$@" \
    taskset -c 0 node "$ROOT/bin/essaim.js" start > "$log" 2>&1 &
  ESSAIM_PID=$!
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.2
  done
}
