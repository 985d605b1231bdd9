#!/usr/bin/env bash
# Tenancy benchmarks of issue 2: provisioning 100 provinces (median, p95), and `portal migrate`
# with nothing to do over 1,000 tenants (median of 5 runs). Appends the table to BENCHMARKS.md.
# Usage: bench/tenancy.sh [PROVISION_N] [MIGRATE_TENANTS]
set -euo pipefail
cd "$(dirname "$0")/.."
N_PROVISION=${1:-100}
N_MIGRATE=${2:-1000}
export BENCH_DB=portal_bench
PG=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
cargo build --release --quiet
cargo bench --bench tenancy --no-run --quiet 2>/dev/null

echo "== provisioning $N_PROVISION provinces"
prov=$(cargo bench --quiet --bench tenancy -- provision "$N_PROVISION" | tail -n1)
echo "$prov"

echo "== populating $N_MIGRATE tenants"
cargo bench --quiet --bench tenancy -- populate "$N_MIGRATE" | tail -n1
out=$(mktemp)
DATABASE_URL="$PG/$BENCH_DB" RUST_LOG=warn hyperfine --runs 5 --warmup 1 --export-json "$out" \
  "target/release/portal migrate" >/dev/null
read -r median mean <<<"$(python3 -c "import json;r=json.load(open('$out'))['results'][0];print(r['median'],r['mean'])")"
echo "migrate no-op over $N_MIGRATE tenants: median ${median}s (mean ${mean}s)"

{
  echo
  echo "### Tenancy — $(date -u +%Y-%m-%d) — commit $(git rev-parse --short HEAD) — $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
  echo
  echo "Command: \`bench/tenancy.sh $N_PROVISION $N_MIGRATE\` (release build, PostgreSQL $(psql --version | awk '{print $3}') on the same machine)"
  echo
  echo "| work | result |"
  echo "|---|---|"
  echo "| provision one province (n=$N_PROVISION) | ${prov#provision: } |"
  printf '| `portal migrate`, nothing to do, %s tenants (5 runs) | median %.3f s |\n' "$N_MIGRATE" "$median"
} >> BENCHMARKS.md
rm -f "$out"
