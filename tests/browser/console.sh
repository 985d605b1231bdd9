#!/usr/bin/env bash
# Screenshots and axe-core of the operator console at 390 px (#20): the home with its revenue
# chart, a province's leases, a refused lease form and a lease change's confirmation. Seeds a
# fresh database `portal_console_browser` with Hà Nội and Huế leased for three months, two
# periods closed and one invoice paid. Uses the debug binary unless PORTAL_BIN says otherwise.
# Writes PNGs to SHOTS (default /work/shots) as console-*.png, with console-axe.json.
#
#     CARGO_TARGET_DIR=... tests/browser/console.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$HERE/out-console"
PG="${BROWSER_PG_URL:-postgres://postgres@127.0.0.1:5432}"
DB=portal_console_browser
PORT="${CONSOLE_PORT:-18092}"
BIN="${PORTAL_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/portal}"
export SHOTS="${SHOTS:-/work/shots}"

export DATABASE_URL="$PG/$DB"
export PORTAL__AUTH__JWT_SECRET="browser-check-secret-0123456789abcdef"
export PORTAL__SERVER__BIND="127.0.0.1:$PORT"
export PORTAL__SERVER__PUBLIC_PORT="$PORT"
export PORTAL__STORAGE__DATA_DIR="$OUT/data"
export RUST_LOG=warn
export BROWSER_BASE_PORT="$PORT"
export OPS_EMAIL="ketoan@ops.portal.vn" OPS_PASSWORD="mat-khau-ke-toan-2026"

psql_() { psql "$PG/${2:-postgres}" -v ON_ERROR_STOP=1 -Atqc "$1"; }
mkdir -p "$OUT" "$SHOTS"
rm -rf "$OUT/data"
roles=""
if [ -n "$(psql_ "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
  roles="$(psql_ "SELECT string_agg(role_name, ' ') FROM public.tenants" "$DB" || true)"
fi
psql_ "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"
for r in $roles; do psql_ "DROP ROLE IF EXISTS \"$r\""; done
psql_ "CREATE DATABASE \"$DB\""
"$BIN" migrate >/dev/null
for t in ha-noi hue; do "$BIN" tenants apply "$ROOT/tenants/$t.toml" >/dev/null; done
echo "$OPS_PASSWORD" | "$BIN" operator create --email "$OPS_EMAIL" --role operator --name "Kế toán" --password-stdin >/dev/null
psql_ "UPDATE leases SET starts_on = (date_trunc('month', now()) - interval '3 months')::date" "$DB"

"$BIN" serve >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 200); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
B="http://127.0.0.1:$PORT"
api() { curl -sS -H "Host: ops.localhost" -H 'Content-Type: application/json' "$@"; }
TOKEN=$(api -d "{\"email\":\"$OPS_EMAIL\",\"password\":\"$OPS_PASSWORD\"}" "$B/api/v1/auth/token" |
  sed 's/.*"access_token":"\([^"]*\)".*/\1/')
for m in 2 1; do
  period=$(date -d "$(date +%Y-%m-01) -$m month" +%Y-%m)
  api -H "Authorization: Bearer $TOKEN" -d "{\"period\":\"$period\"}" "$B/api/v1/billing/close" >/dev/null
done
first=$(psql_ "SELECT min(number) FROM invoices" "$DB")
api -H "Authorization: Bearer $TOKEN" -d '{"reference":"VCB-0001"}' "$B/api/v1/invoices/$first/pay" >/dev/null

cd "$HERE"
[ -d node_modules/playwright-core ] || npm ci --silent
node console.mjs
