#!/usr/bin/env bash
# Headless Chromium renders the national and province pages; axe-core checks each of them.
#
#     tests/browser/run.sh
#
# Installs what is missing (Debian's chromium, the npm packages of tests/browser), builds the
# release binary, seeds a fresh database `portal_browser` (migrate + tenants/ + one citizen),
# serves it on 127.0.0.1:18090, runs check.mjs against it and stops the server. Screenshots,
# the axe report (out/axe.json) and the server log (out/server.log) land in tests/browser/out.
# Exit status: check.mjs's (non-zero when a serious or critical violation remains).
# Not part of `cargo test` or .ci/run: it needs a browser and takes minutes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$HERE/out"
PG="${BROWSER_PG_URL:-postgres://postgres@127.0.0.1:5432}"
DB=portal_browser
PORT=18090
BIN="$ROOT/target/release/portal"

export DATABASE_URL="$PG/$DB"
export PORTAL__AUTH__JWT_SECRET="browser-check-secret-0123456789abcdef"
export PORTAL__SERVER__BIND="127.0.0.1:$PORT"
export PORTAL__SERVER__PUBLIC_PORT="$PORT"
export PORTAL__STORAGE__DATA_DIR="$OUT/data"
export RUST_LOG=warn

# The citizen the journey signs in with (check.mjs reads the same variables).
export BROWSER_BASE_PORT="$PORT"
export BROWSER_CITIZEN_EMAIL="nguoi-dan@browser.portal.vn"
export BROWSER_CITIZEN_PASSWORD="mat-khau-trinh-duyet-2026"
export BROWSER_CITIZEN_NAME="Nguyễn Thị Minh Khai"

step() { printf '\n== %s\n' "$*"; }
psql_() { psql "$PG/${2:-postgres}" -v ON_ERROR_STOP=1 -Atqc "$1"; }

step "tools"
if [ ! -x /usr/bin/chromium ]; then
  apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version
if [ ! -d "$HERE/node_modules/playwright-core" ] || [ ! -d "$HERE/node_modules/axe-core" ]; then
  (cd "$HERE" && npm ci --no-audit --no-fund)
fi

step "cargo build --release"
(cd "$ROOT" && cargo build --release --quiet)

step "database $DB"
mkdir -p "$OUT"
rm -rf "$OUT/data" "$OUT"/*.png "$OUT/axe.json"
# Each province made its own role: drop them with the database (as bench/web.py does).
roles=""
if [ -n "$(psql_ "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
  roles="$(psql_ "SELECT string_agg(role_name, ' ') FROM public.tenants" "$DB" || true)"
fi
psql_ "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"
for r in $roles; do psql_ "DROP ROLE IF EXISTS \"$r\""; done
psql_ "CREATE DATABASE \"$DB\""
"$BIN" migrate
"$BIN" tenants apply "$ROOT/tenants" >/dev/null
echo "provinces: $(psql_ "SELECT count(*) FROM public.tenants" "$DB")"

step "serve on 127.0.0.1:$PORT"
"$BIN" serve >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/server.log"; exit 1; }
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null

step "citizen $BROWSER_CITIZEN_EMAIL"
status=$(curl -sS -o "$OUT/register.json" -w '%{http_code}' -H 'Host: ha-noi.localhost' \
  -H 'Content-Type: application/json' \
  -d "{\"email\":\"$BROWSER_CITIZEN_EMAIL\",\"password\":\"$BROWSER_CITIZEN_PASSWORD\",\"full_name\":\"$BROWSER_CITIZEN_NAME\"}" \
  "http://127.0.0.1:$PORT/api/v1/auth/register")
[ "$status" = 201 ] || { echo "register: HTTP $status: $(cat "$OUT/register.json")"; exit 1; }

step "chromium + axe-core"
node "$HERE/check.mjs"
