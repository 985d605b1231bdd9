#!/usr/bin/env bash
# Every row of issue 7's table, one after the other; each appends its table to BENCHMARKS.md.
# About 45 minutes on a 2-core machine (populating 3,400 tenants, twice, and 10 million usage events
# is most of it). Needs only PostgreSQL at 127.0.0.1:5432; installs wrk and hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
bench/web.py --provinces 63 --only trivial,home,submit --append     # rows 1, 2 and memory
bench/web.py --provinces 3400 --only trivial,home --append          # 3,400 tenants instead of 63
bench/tenancy.sh provision 100
bench/tenancy.sh migrate-noop 3400
BENCH_REUSE=1 bench/tenancy.sh billing 3400 10000000
BENCH_REUSE=1 bench/tenancy.sh migrate-column 3400
