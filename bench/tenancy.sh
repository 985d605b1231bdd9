#!/usr/bin/env bash
# Tenancy benchmarks (issue 7), one row each; every run appends its row to BENCHMARKS.md.
#
#   bench/tenancy.sh provision [N=100]            provision N tenants one by one: median, p95
#   bench/tenancy.sh migrate-noop [N=3400]        `portal migrate` with nothing to do (5 runs)
#   bench/tenancy.sh migrate-column [N=3400]      one new column in every tenant schema
#   bench/tenancy.sh billing [N=3400] [E=10000000] close a period: N provinces, E usage events
#
# The data is generated here (database `portal_bench`, or `$BENCH_DB`; dropped and made again unless it
# already holds N tenants and BENCH_REUSE=1), never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-provision}
export BENCH_DB=${BENCH_DB:-portal_bench}
PG=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
cargo build --release --quiet
cargo bench --bench tenancy --no-run --quiet 2>/dev/null

bench() { cargo bench --quiet --bench tenancy -- "$@" | tee -a /dev/stderr | tail -n1; }

row() {
  {
    echo
    echo "### Tenancy: $1, $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
    echo
    echo "Command: \`bench/tenancy.sh $what ${*:3}\` (release build, PostgreSQL $(psql --version | awk '{print $3}') on the same machine)"
    echo
    echo "| work | result |"
    echo "|---|---|"
    echo "| $1 | $2 |"
  } >> BENCHMARKS.md
}

case "$what" in
  provision)
    n=${2:-100}
    out=$(bench provision "$n")
    row "provision one tenant (n=$n)" "${out#provision: }" "$n"
    ;;
  migrate-noop)
    n=${2:-3400}
    pop=$(BENCH_REUSE=${BENCH_REUSE:-1} cargo bench --quiet --bench tenancy -- populate "$n" | tee -a /dev/stderr)
    # A fresh population also shows what provisioning costs once n tenants exist.
    if at_scale=$(grep '^provision at scale' <<<"$pop"); then
      row "provision one tenant when $((n - 100)) exist (the last 100 of $n)" "${at_scale#provision at scale: }" "$n"
    fi
    json=$(mktemp)
    DATABASE_URL="$PG/$BENCH_DB" RUST_LOG=warn hyperfine --runs 5 --warmup 1 --export-json "$json" \
      "target/release/portal migrate" >/dev/null
    median=$(python3 -c "import json;print('%.3f' % json.load(open('$json'))['results'][0]['median'])")
    rm -f "$json"
    echo "migrate no-op over $n tenants: median ${median} s"
    row "\`portal migrate\`, nothing to do, $n tenants (5 runs)" "median ${median} s" "$n"
    ;;
  migrate-column)
    n=${2:-3400}
    out=$(BENCH_REUSE=${BENCH_REUSE:-1} bench migrate-column "$n")
    row "\`portal migrate\`, one new column, $n tenants" "${out#migrate-column: }" "$n"
    # The column stays in the bench schemas; the next run starts from a fresh database. Roles
    # are cluster-wide: the tenants' go with it.
    roles=$(psql -Atq "$PG/$BENCH_DB" -c "SELECT role_name FROM public.tenants")
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null
    [ -z "$roles" ] || sed 's/.*/DROP ROLE IF EXISTS "&";/' <<<"$roles" | psql -q "$PG/postgres" >/dev/null
    ;;
  billing)
    n=${2:-3400}
    e=${3:-10000000}
    out=$(BENCH_REUSE=${BENCH_REUSE:-1} bench billing "$n" "$e")
    row "\`billing close\`, $n tenants, $e usage events" "${out#billing close: }" "$n" "$e"
    ;;
  *)
    echo "usage: bench/tenancy.sh provision|migrate-noop|migrate-column|billing [N] [EVENTS]" >&2
    exit 2
    ;;
esac
