#!/usr/bin/env bash
# Every row of issue 21's table in one run, one after the other, beside their baselines
# (BENCHMARKS.md, "Round four"): the web rows for NEW_BIN, then BASE_BIN, then NEW_BIN again;
# pgbench's ceiling for the same rows; the peer; "my dossiers" over 34 provinces; the staff
# queue at 100,000 dossiers. Outputs in bench/out/one-run-*.txt; nothing is appended.
#
#   NEW_BIN=target/release/portal BASE_BIN=/path/to/baseline/portal bench/one_run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PGSSLMODE=disable
NEW=${NEW_BIN:-target/release/portal}
BASE=${BASE_BIN:?BASE_BIN: a release build of the baseline commit}
OUT=bench/out
mkdir -p "$OUT"
log() { echo "$1 $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"; }
log start
BENCH_BIN=$NEW python3 bench/web.py --provinces 63 --duration 10 --runs 3 --only trivial,home,submit > "$OUT/one-run-web-new-1.txt" 2>&1; log web-new-1
BENCH_BIN=$BASE python3 bench/web.py --provinces 63 --duration 10 --runs 3 --only trivial,home,submit > "$OUT/one-run-web-base.txt" 2>&1; log web-base
BENCH_BIN=$NEW python3 bench/web.py --provinces 63 --duration 10 --runs 3 --only trivial,home,submit > "$OUT/one-run-web-new-2.txt" 2>&1; log web-new-2
python3 bench/pgbench_ceiling.py --provinces 63 --clients 16 --duration 10 --runs 3 > "$OUT/one-run-pgbench.txt" 2>&1; log pgbench
(cd ../shared/peer-django && ./run.sh) > "$OUT/one-run-peer.txt" 2>&1; log peer
BENCH_BIN=$NEW python3 bench/me_dossiers.py --duration 10 --runs 3 > "$OUT/one-run-me.txt" 2>&1; log me-dossiers
BENCH_BIN=$NEW python3 bench/queue_units.py --dossiers 100000 --duration 10 --runs 3 > "$OUT/one-run-queue.txt" 2>&1; log queue
