#!/usr/bin/env bash
# Headless Chromium renders the national, province, staff and operator pages; axe-core checks
# each of them, along three journeys (a citizen to the downloaded result and its verify page,
# an official at the counter with the printed receipt, the operator closing a period).
#
#     tests/browser/run.sh
#
# Installs what is missing (Debian's chromium, the npm packages of tests/browser), builds the
# release binary (PORTAL_BIN=path uses that binary instead and skips the build), seeds a fresh
# database `portal_browser` (migrate + tenants/ + one citizen, one official of Hà Nội, one
# operator, leases of three provinces over last month), serves it on 127.0.0.1:18090, runs
# check.mjs against it and stops the server. Screenshots, the axe report (out/axe.json) and
# the server log (out/server.log) land in tests/browser/out; the documentation's screenshots
# in docs/screenshots (BROWSER_DOCS_SHOTS to change).
# Exit status: check.mjs's (non-zero when a serious or critical violation remains).
# Not part of `cargo test` or .ci/run: it needs a browser and takes minutes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$HERE/out"
PG="${BROWSER_PG_URL:-postgres://postgres@127.0.0.1:5432}"
DB=portal_browser
PORT=18090
BIN="${PORTAL_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/portal}"

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
# The official of Hà Nội who decides the dossier and works the counter (province level: no
# unit), and the operator's finance clerk.
export BROWSER_OFFICIAL_EMAIL="canbo@hanoi.gov.vn"
export BROWSER_OFFICIAL_PASSWORD="mat-khau-can-bo-2026"
export BROWSER_OPERATOR_EMAIL="ketoan@ops.portal.vn"
export BROWSER_OPERATOR_PASSWORD="mat-khau-ke-toan-2026"
# The month the clerk closes: last month on the app's clock (Vietnam time), which three
# provinces lease from (run.sh starts the leases below; the others start today).
export BROWSER_CLOSE_PERIOD="$(TZ=Asia/Ho_Chi_Minh date -d "$(TZ=Asia/Ho_Chi_Minh date +%Y-%m-01) -1 month" +%Y-%m)"
export BROWSER_CLOSE_COUNT=3

step() { printf '\n== %s\n' "$*"; }
psql_() { psql "$PG/${2:-postgres}" -v ON_ERROR_STOP=1 -Atqc "$1"; }

step "tools"
# chromium-l10n: the browser's own words on a page (a file input's "Chọn tệp") in Vietnamese.
if [ ! -x /usr/bin/chromium ] || [ ! -e /usr/lib/chromium/locales/vi.pak ]; then
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium chromium-l10n >/dev/null
fi
/usr/bin/chromium --version
if [ ! -d "$HERE/node_modules/playwright-core" ] || [ ! -d "$HERE/node_modules/axe-core" ]; then
  (cd "$HERE" && npm ci --no-audit --no-fund)
fi

if [ -z "${PORTAL_BIN:-}" ]; then
  step "cargo build --release"
  (cd "$ROOT" && cargo build --release --quiet)
fi

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
echo "$BROWSER_OFFICIAL_PASSWORD" | "$BIN" user create --tenant ha-noi --email "$BROWSER_OFFICIAL_EMAIL" \
  --role official --name "Trần Văn Bình" --password-stdin >/dev/null
echo "$BROWSER_OPERATOR_PASSWORD" | "$BIN" operator create --email "$BROWSER_OPERATOR_EMAIL" \
  --role operator --name "Lê Thị Kế Toán" --password-stdin >/dev/null

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

step "leases over $BROWSER_CLOSE_PERIOD"
token=$(curl -sS -H 'Host: ops.localhost' -H 'Content-Type: application/json' \
  -d "{\"email\":\"$BROWSER_OPERATOR_EMAIL\",\"password\":\"$BROWSER_OPERATOR_PASSWORD\"}" \
  "http://127.0.0.1:$PORT/api/v1/auth/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "operator token: refused"; exit 1; }
# Two provinces for the whole month, one from the 16th (a prorated line), on their own plans.
for lease in ha-noi:01 quang-ninh:01 hue:16; do
  slug=${lease%%:*}
  plan=$(sed -n 's/^plan = "\(.*\)"/\1/p' "$ROOT/tenants/$slug.toml")
  status=$(curl -sS -o "$OUT/lease.json" -w '%{http_code}' -X PUT -H 'Host: ops.localhost' \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"plan\":\"$plan\",\"starts_on\":\"$BROWSER_CLOSE_PERIOD-${lease#*:}\"}" \
    "http://127.0.0.1:$PORT/api/v1/tenants/$slug/lease")
  [ "$status" = 200 ] || { echo "lease $slug: HTTP $status: $(cat "$OUT/lease.json")"; exit 1; }
  echo "$slug: $plan from $BROWSER_CLOSE_PERIOD-${lease#*:}"
done

step "chromium + axe-core"
node "$HERE/check.mjs"
