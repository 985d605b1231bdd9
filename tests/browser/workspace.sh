#!/usr/bin/env bash
# Screenshots and axe-core of the staff's workspace (#16 item 5): ~30 dossiers of Hà Nội over
# several units and statuses (some overdue, some due soon), the queue at 1366×900, a dossier,
# the printable receipt. Uses the debug binary unless PORTAL_BIN says otherwise (a release
# build takes ~11 min here). Writes PNGs to SHOTS (default /work/shots) as ws-*.png.
#
#     tests/browser/workspace.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$HERE/out-ws"
PG="${BROWSER_PG_URL:-postgres://postgres@127.0.0.1:5432}"
DB=portal_ws_browser
PORT="${WS_PORT:-18091}"
BIN="${PORTAL_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/portal}"
export SHOTS="${SHOTS:-/work/shots}"

export DATABASE_URL="$PG/$DB"
export PORTAL__AUTH__JWT_SECRET="browser-check-secret-0123456789abcdef"
export PORTAL__SERVER__BIND="127.0.0.1:$PORT"
export PORTAL__SERVER__PUBLIC_PORT="$PORT"
export PORTAL__STORAGE__DATA_DIR="$OUT/data"
export RUST_LOG=warn
export BROWSER_BASE_PORT="$PORT"
export WS_ADMIN="quantri@hanoi.gov.vn" WS_HEAD="lanhdao.badinh@hanoi.gov.vn" WS_PASSWORD="mat-khau-can-bo-2026"
CIT_EMAIL="nguoi-dan@browser.portal.vn" CIT_PASSWORD="mat-khau-trinh-duyet-2026"

psql_() { psql "$PG/${2:-postgres}" -v ON_ERROR_STOP=1 -Atqc "$1"; }
H="Host: ha-noi.localhost"
api() { curl -sS -H "$H" -H 'Content-Type: application/json' "$@"; }

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
"$BIN" tenants apply "$ROOT/tenants/ha-noi.toml" >/dev/null

user() { echo "$WS_PASSWORD" | "$BIN" user create --tenant ha-noi --password-stdin "$@" >/dev/null; }
user --email "$WS_ADMIN" --role admin --name "Đỗ Thị Quản Trị"
user --email "$WS_HEAD" --role head --name "Nguyễn Văn Lãnh" --unit 00004
user --email "xuly.badinh@hanoi.gov.vn" --role official --name "Trần Thị Xử Lý" --unit 00004
user --email "xuly.ngocha@hanoi.gov.vn" --role official --name "Lê Minh Ngọc" --unit 00008
user --email "tiepnhan@hanoi.gov.vn" --role receiver --name "Phạm Thu Tiếp" --unit 00004

"$BIN" serve >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 200); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
B="http://127.0.0.1:$PORT"
token() {
  local out
  for _ in $(seq 20); do
    out=$(api -d "{\"email\":\"$1\",\"password\":\"$2\"}" "$B/api/v1/auth/token")
    case "$out" in *access_token*) echo "$out" | sed 's/.*"access_token":"\([^"]*\)".*/\1/'; return;; esac
    echo "token $1: $out" >&2; sleep 5
  done
  return 1
}
# A citizen may file only a few dossiers a day: one citizen per three.
CITS=()
for k in $(seq 0 9); do
  echo "$CIT_PASSWORD" | "$BIN" user create --tenant ha-noi --role citizen --email "dan$k@browser.portal.vn" --name "Công dân $k" --password-stdin >/dev/null
  CITS+=("$(token "dan$k@browser.portal.vn" "$CIT_PASSWORD")")
done
REC=$(token tiepnhan@hanoi.gov.vn "$WS_PASSWORD")

names=("Trần Văn An" "Lê Thị Bình" "Phạm Quốc Cường" "Hoàng Thu Dung" "Vũ Minh Em" "Đặng Văn Phúc"
  "Bùi Thị Giang" "Đỗ Mạnh Hùng" "Ngô Thị Hương" "Dương Văn Khánh" "Lý Thị Lan" "Hồ Quang Minh"
  "Mai Thị Ngọc" "Trịnh Văn Oanh" "Phan Thị Phương" "Tạ Quang Quý" "Lương Thị Rạng" "Cao Văn Sơn"
  "Đinh Thị Thảo" "Kiều Văn Uy" "Tô Thị Vân" "Âu Văn Xuân" "Nghiêm Thị Yến" "Quách Văn Bảo"
  "Thân Thị Cúc" "Lạc Văn Duy" "Mạc Thị Hà" "Văn Đức Hải" "Chu Thị Kim" "La Văn Long")
units=(00004 00004 00004 00008 00004 00008)
i=0
for n in "${names[@]}"; do
  u=${units[$((i % 6))]}
  body="{\"procedure_code\":\"HT-001\",\"unit_code\":\"$u\",\"fields\":{\"full_name\":\"$n\",\"id_number\":\"0010900$(printf %05d $((12345 + i)))\",\"child_name\":\"Bé $n\",\"child_date_of_birth\":\"2026-11-20\",\"child_sex\":\"female\",\"place_of_birth\":\"Bệnh viện Phụ sản Hà Nội\",\"mother_name\":\"$n\",\"mother_id_number\":\"0010900$(printf %05d $((12345 + i)))\"}"
  if [ $((i % 3)) = 0 ]; then
    api -o /dev/null -w '%{http_code} ' -H "Authorization: Bearer $REC" -d "${body},\"channel\":\"counter\"}" "$B/api/v1/manage/dossiers"
  else
    api -o /dev/null -w '%{http_code} ' -H "Authorization: Bearer ${CITS[$((i / 3))]}" -d "${body}}" "$B/api/v1/dossiers"
  fi
  i=$((i + 1))
done
echo
SCHEMA=$(psql_ "SELECT schema_name FROM public.tenants WHERE slug = 'ha-noi'" "$DB")
# Spread over a month; some processing (a third overdue, some due soon), some finished.
psql_ "SET search_path = \"$SCHEMA\";
WITH n AS (SELECT id, row_number() OVER (ORDER BY submitted_at) AS k FROM dossiers)
UPDATE dossiers d SET
  submitted_at = now() - (30 - n.k) * interval '1 day' - n.k * interval '37 minutes',
  status = CASE WHEN n.k % 7 = 0 THEN 'resolved' WHEN n.k % 5 = 0 THEN 'refused'
                WHEN n.k % 2 = 0 THEN 'processing' WHEN n.k % 3 = 0 THEN 'accepted' ELSE 'submitted' END,
  due_on = CASE WHEN n.k % 2 = 0 OR n.k % 3 = 0 THEN (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + (n.k % 9 - 3)::int END,
  due_flag = CASE WHEN (n.k % 2 = 0 OR n.k % 3 = 0) AND n.k % 9 < 3 THEN 'overdue'
                  WHEN (n.k % 2 = 0 OR n.k % 3 = 0) AND n.k % 9 IN (3, 4) THEN 'due_soon' END
FROM n WHERE d.id = n.id;
UPDATE dossiers SET assignee_id = (SELECT id FROM staff WHERE email = 'xuly.badinh@hanoi.gov.vn')
 WHERE competent_unit = '00004' AND status = 'processing';" "$DB"
export WS_CODE=$(psql_ "SELECT tracking_code FROM \"$SCHEMA\".dossiers WHERE competent_unit = '00004' AND status NOT IN ('refused', 'resolved') ORDER BY channel = 'counter' DESC, due_on IS NOT NULL DESC, submitted_at DESC LIMIT 1" "$DB")
export WS_OPEN=$(psql_ "SELECT tracking_code FROM \"$SCHEMA\".dossiers WHERE competent_unit = '00004' AND status = 'processing' ORDER BY submitted_at DESC LIMIT 1" "$DB")
# Two documents on the dossier and the receipt: a PDF (inline frame) and a scan (image).
python3 "$HERE/ws_files.py" "$OUT/giay-chung-sinh.pdf" "$OUT/cccd-me.png"
for f in giay-chung-sinh.pdf:application/pdf cccd-me.png:image/png; do
  for code in "$WS_OPEN" "$WS_CODE"; do
    name=${f%%:*}; type=${f#*:}; hex=$(xxd -p "$OUT/$name" | tr -d '\n')
    psql_ "SET search_path = \"$SCHEMA\";
      WITH b AS (INSERT INTO blobs (id, data, created_at) VALUES (gen_random_uuid(), decode('$hex', 'hex'), now()) RETURNING id)
      INSERT INTO attachments (id, dossier_id, field, name, content_type, size, sha256, blob_id, uploaded_by, created_at)
      SELECT gen_random_uuid(), d.id, NULL, '$name', '$type', length(decode('$hex', 'hex')), encode(sha256(decode('$hex', 'hex')), 'hex'), b.id, 'seed', now()
      FROM dossiers d, b WHERE d.tracking_code = '$code'" "$DB" >/dev/null
  done
done
echo "dossiers: $(psql_ "SELECT count(*) FROM \"$SCHEMA\".dossiers" "$DB"); receipt: $WS_CODE; dossier: $WS_OPEN"
node "$HERE/workspace.mjs"
