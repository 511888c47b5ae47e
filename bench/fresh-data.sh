#!/usr/bin/env bash
# Runs a command with ESSAIM_SERVER__DATA_DIR set to a fresh copy of a seeded data directory, so
# that every benchmark phase starts from the same state (the members and torrents of the seed, no
# baselines or ledger rows left by an earlier phase), as opentracker does. The command replaces
# this shell (exec), so the benchmark's --pid is the server's.
#
#   bench/fresh-data.sh SEED_DIR COMMAND...
set -euo pipefail
seed=${1:?usage: fresh-data.sh SEED_DIR COMMAND...}
shift
run=$(mktemp -d "$(dirname "$seed")/run-XXXXXX")
cp -r "$seed/." "$run/"
export ESSAIM_SERVER__DATA_DIR=$run
exec "$@"
