#!/usr/bin/env python3
"""The staff queue at scale (issue 16): all 3,321 national units in one province and 100,000
dossiers in it, measured with wrk through `GET /api/v1/manage/dossiers` and `GET /manage`.

    bench/queue_units.py [--dossiers 100000] [--duration 20] [--runs 3] [--connections 8] [--append]
    BASE_BIN=/work/target-bench-base/release/portal BASE_ROOT=/work/wt-bench-base \
        bench/queue_units.py --runs 2 --also-without-index --append     # the row in BENCHMARKS.md

BASE_BIN is a release build of the commit before units (f7e29ad), BASE_ROOT its worktree (for
its tenants/ha-noi.toml). `--also-without-index` then drops `dossiers_deadline` (migration
2026-12-04-000003_queue_indexes) and measures the province's queue and page again beside the
baseline: the queue as merged with units; `--drop-deadline-index` measures everything without it.

What it does, on fresh databases (`portal_bench_queue`, and `portal_bench_queue_base` for the
baseline):

1. `portal migrate`, `portal tenants apply` of tenants/ha-noi.toml alone (its 126 communes,
   wards and special zones and its own departments and service points). For "all 3,321 units
   seeded", every unit of the national list (`public.admin_units`) is then copied into Hà Nội's
   `units` table by SQL: a benchmark-only state (a real province holds only its own communes),
   which makes the unit tables and the scope's look-ups as large as they can get.
2. 100,000 synthetic dossiers (generated here with a fixed seed, loaded with COPY) and their
   history rows (about 3 per dossier), then VACUUM ANALYZE. The spread: 77% not final, 4%
   overdue, 30% received at a counter, half of them of commune-level procedures decided by
   the commune the citizen names (the communes' load skewed, 1/rank^0.8), the rest decided by
   the department the manifest names for the procedure.
3. Staff made with `portal user create`: a province-level official (no unit: sees everything),
   the official of the busiest commune, and a head of four communes; bearer tokens from
   `POST /api/v1/auth/token`, page sessions from `POST /sign-in`.
4. The release server (`PORTAL__LIMITS__ENABLED=false`) and, with BASE_BIN, the baseline
   binary (the commit before units, f7e29ad) on its own database loaded with the very same
   dossiers without the unit columns, both running at once; every scenario is run `--runs`
   times in rounds that alternate the two servers (so machine noise falls on both alike), after
   a 3 s warm-up, with the same wrk (-t2, `--connections`). p50/p95/p99 come from wrk's own
   latency histogram (a Lua `done` hook); the table gives medians over the runs.

The query plans of the main shapes are written to bench/out/queue_plans.txt (EXPLAIN ANALYZE).
"""
import argparse, csv, io, json, os, random, re, shutil, statistics, subprocess, sys, time, tomllib
import urllib.error, urllib.parse, urllib.request, uuid
from datetime import date, datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB = "portal_bench_queue"
BASE_DB = "portal_bench_queue_base"
BIN = os.environ.get("BENCH_BIN") or os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "portal")
BASE_BIN = os.environ.get("BASE_BIN")
BASE_ROOT = os.environ.get("BASE_ROOT")
PORT, BASE_PORT = 18090, 18091
HOST = "ha-noi.localhost"
SCHEMA = "t_ha_noi"
SECRET = "bench-secret-0123456789abcdef0123456789"
PASSWORD = "bench-password-2026"


def sh(*args, env=None, check=True, input=None, cwd=None):
    r = subprocess.run(args, env=env, text=True, capture_output=True, input=input, cwd=cwd)
    if check and r.returncode != 0:
        sys.exit(f"{' '.join(args[:3])}… failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def psql(sql, db="postgres"):
    return sh("psql", "-v", "ON_ERROR_STOP=1", f"{PG}/{db}", "-Atqc", sql).stdout.strip()


def env(db, port, data):
    e = dict(os.environ)
    e.update({
        "DATABASE_URL": f"{PG}/{db}", "RUST_LOG": "warn", "PORTAL__AUTH__JWT_SECRET": SECRET,
        "PORTAL__SERVER__BIND": f"127.0.0.1:{port}", "PORTAL__SERVER__PUBLIC_PORT": str(port),
        "PORTAL__STORAGE__DATA_DIR": os.path.join(OUT, data),
        # Every simulated client is 127.0.0.1: the per-client limits would measure themselves.
        "PORTAL__LIMITS__ENABLED": "false",
    })
    return e


# --------------------------------------------------------------------------- the data


FAMILY = "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý".split()
MIDDLE = "Văn Thị Đức Minh Thu Ngọc Hữu Quang Thanh Xuân".split()
GIVEN = ("An Bình Chi Dũng Giang Hà Hải Hạnh Hùng Hương Khánh Lan Linh Long Mai Nam Nga Phong "
         "Phúc Quân Sơn Tâm Thảo Trang Tuấn Việt Yến").split()
STREETS = "Tràng Tiền|Hàng Bài|Kim Mã|Giải Phóng|Láng Hạ|Nguyễn Trãi|Cầu Giấy|Lạc Long Quân".split("|")
# (status, share): 77% not final (resolved waits for its result to be handed back).
STATUSES = [("submitted", 12), ("accepted", 18), ("processing", 30), ("supplement_requested", 6),
            ("payment_requested", 3), ("resolved", 8), ("returned", 18), ("refused", 2),
            ("stopped", 1), ("withdrawn", 2)]
# (procedure, share): the commune-level ones (HT-001 civil status, DKKD-002 household business)
# carry half the volume.
PROCEDURES = [("HT-001", 35), ("DKKD-002", 15), ("GPLX-001", 6), ("GPLX-002", 3), ("GPLX-003", 2),
              ("GPLX-004", 2), ("VPGT-001", 3), ("THUE-001", 4), ("THUE-002", 2), ("THUE-003", 2),
              ("DIEN-001", 2), ("DIEN-002", 1), ("DIEN-003", 1), ("CO-001", 1), ("KM-001", 1),
              ("KM-002", 1), ("HQ-001", 1), ("HQ-002", 1), ("NSNN-001", 1), ("DKKD-001", 3),
              ("YT-001", 2), ("LD-001", 2), ("GDBD-001", 1), ("LLTP-001", 7)]
COMMUNE_LEVEL = {"HT-001", "DKKD-002"}
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
COLUMNS = ["id", "tracking_code", "procedure_code", "citizen_id", "applicant_name",
           "applicant_id_number", "contact_email", "channel", "status", "answers", "lang",
           "fee_vnd", "due_on", "clock_stopped_on", "submitted_at", "decided_at", "updated_at",
           "due_flag", "received_at_unit", "competent_unit"]
UNIT_COLUMNS = {"received_at_unit", "competent_unit"}


def tail(i):
    # A bijection of 0..30^6 (7919 is prime to 30): unique, random-looking codes.
    n, s = (i * 7919 + 123457) % 30 ** 6, ""
    for _ in range(6):
        n, r = divmod(n, 30)
        s += ALPHABET[r]
    return s


def generate(n, communes, procedure_units, path_d, path_e):
    """Writes the dossiers and their history as CSV (COPY's format); returns facts the
    scenarios need (the busiest communes, a citizen ID with dossiers)."""
    rng = random.Random(16)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    today = now.date()
    order = communes[:]
    rng.shuffle(order)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(order))]
    ids = [f"001{rng.choice('0123')}{rng.randint(40, 99):02d}{rng.randint(0, 999999):06d}" for _ in range(60_000)]
    st_names, st_w = zip(*STATUSES)
    pr_names, pr_w = zip(*PROCEDURES)
    load, by_id = {}, {}
    ev_id = 0
    with open(path_d, "w", newline="") as fd, open(path_e, "w", newline="") as fe:
        wd, we = csv.writer(fd), csv.writer(fe)
        for i in range(1, n + 1):
            proc = rng.choices(pr_names, pr_w)[0]
            status = rng.choices(st_names, st_w)[0]
            if proc in COMMUNE_LEVEL:
                competent = rng.choices(order, weights)[0]
            else:
                competent = procedure_units.get(proc)
            received = None
            if rng.random() < 0.30:
                if proc in COMMUNE_LEVEL:
                    received = competent if rng.random() < 0.9 else rng.choices(order, weights)[0]
                else:
                    received = "TTPVHCC" if rng.random() < 0.5 else rng.choices(order, weights)[0]
            channel = "counter" if received else "online"
            due = stopped = decided = flag = None
            if status == "submitted":
                submitted = now - timedelta(seconds=rng.randint(0, 3 * 86400))
            elif status in ("accepted", "processing", "supplement_requested", "payment_requested", "resolved"):
                submitted = now - timedelta(days=rng.randint(1, 20), seconds=rng.randint(0, 86400))
                due = max(today + timedelta(days=rng.randint(-3, 30)), submitted.date() + timedelta(days=3))
                if status in ("supplement_requested", "payment_requested"):
                    stopped = today - timedelta(days=rng.randint(0, 10))
                if status == "resolved":
                    decided = min(now, submitted + timedelta(days=rng.randint(2, 10)))
                if status in ("accepted", "processing"):
                    flag = "overdue" if due < today else "due_soon" if due <= today + timedelta(days=1) else None
            else:
                submitted = now - timedelta(days=rng.randint(20, 365), seconds=rng.randint(0, 86400))
                due = submitted.date() + timedelta(days=rng.randint(5, 15))
                decided = submitted + timedelta(days=rng.randint(1, 14))
            idn = rng.choice(ids)
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            answers = {"full_name": name, "id_number": idn, "phone": f"09{rng.randint(0, 99999999):08d}",
                       "address": f"Số {rng.randint(1, 300)} phố {rng.choice(STREETS)}, Hà Nội",
                       "note": "Hồ sơ thử nghiệm cho phép đo hàng đợi."}
            fee = rng.choice([0, 0, 0, 30000, 50000, 135000, 500000])
            code = f"HNI-{submitted.year % 100:02d}{submitted.month:02d}-{tail(i)}"
            citizen = str(uuid.UUID(int=rng.getrandbits(128), version=4)) if channel == "online" else None
            email = f"nguoidan{i}@bench.vn" if channel == "online" or rng.random() < 0.4 else None
            updated = min(now, decided or (submitted + timedelta(days=1) if status != "submitted" else submitted))
            wd.writerow([i, code, proc, citizen, name, idn, email, channel, status,
                         json.dumps(answers, ensure_ascii=False), "vi" if rng.random() < 0.95 else "en",
                         fee, due, stopped, submitted.isoformat(), decided.isoformat() if decided else None,
                         updated.isoformat(), flag, received, competent])
            # History: submit, then the steps to the status it has now.
            steps = [("submit", "submitted")]
            if status not in ("submitted", "withdrawn"):
                steps.append(("accept", "accepted") if status != "refused" else ("refuse", "refused"))
            if status in ("processing", "supplement_requested", "payment_requested", "resolved", "returned", "stopped"):
                steps.append(("process", "processing"))
            extra = {"supplement_requested": ("request_supplement", "supplement_requested"),
                     "payment_requested": ("request_payment", "payment_requested"),
                     "resolved": ("resolve", "resolved"), "returned": ("return_result", "returned"),
                     "stopped": ("stop", "stopped"), "withdrawn": ("withdraw", "withdrawn")}
            if status == "returned":
                steps.append(("resolve", "resolved"))
            if status in extra:
                steps.append(extra[status])
            for k, (action, st) in enumerate(steps):
                ev_id += 1
                actor = f"citizen:{citizen}" if action in ("submit", "withdraw") and citizen else "staff:bench"
                we.writerow([ev_id, i, min(now, submitted + timedelta(hours=6 * k)).isoformat(), action, st, None, actor])
            if competent in communes:
                load[competent] = load.get(competent, 0) + 1
            by_id[idn] = by_id.get(idn, 0) + 1
    busiest = sorted(load, key=load.get, reverse=True)
    wanted = next(k for k, v in by_id.items() if v == 2)
    return {"busiest": busiest, "load": load, "citizen_id": wanted, "events": ev_id}


def fresh_db(name):
    if psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
        roles = psql("SELECT string_agg(role_name, ' ') FROM public.tenants", name)
        psql(f'DROP DATABASE "{name}" WITH (FORCE)')
        for r in roles.split():
            psql(f'DROP ROLE IF EXISTS "{r}"')
    psql(f'CREATE DATABASE "{name}"')


def seed(db, binary, port, data, manifest, with_units):
    fresh_db(db)
    e = env(db, port, data)
    sh(binary, "migrate", env=e)
    psql("UPDATE plans SET rate_limit_rps = 1000000, rate_burst = 1000000", db)
    folder = os.path.join(OUT, f"manifests-{db}")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    shutil.copy(manifest, os.path.join(folder, "ha-noi.toml"))
    sh(binary, "tenants", "apply", folder, env=e)
    assert psql(f"SELECT schema_name FROM public.tenants WHERE slug = 'ha-noi'", db) == SCHEMA
    if with_units:
        # Benchmark-only: every unit of the national list in this one province.
        psql(f"INSERT INTO {SCHEMA}.units (code, name, kind, receives) "
             f"SELECT code, name, kind, true FROM public.admin_units ON CONFLICT (code) DO NOTHING", db)


def load(db, with_units, path_d, path_e):
    cols = [c for c in COLUMNS if with_units or c not in UNIT_COLUMNS]
    keep = [COLUMNS.index(c) for c in cols]
    if with_units:
        src = open(path_d).read()
    else:
        buf = io.StringIO()
        w = csv.writer(buf)
        for row in csv.reader(open(path_d, newline="")):
            w.writerow([row[k] for k in keep])
        src = buf.getvalue()
    sh("psql", "-v", "ON_ERROR_STOP=1", f"{PG}/{db}", "-qc",
       f"\\copy {SCHEMA}.dossiers ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv)", input=src)
    sh("psql", "-v", "ON_ERROR_STOP=1", f"{PG}/{db}", "-qc",
       f"\\copy {SCHEMA}.dossier_events (id, dossier_id, at, action, status, note, actor) FROM STDIN WITH (FORMAT csv)",
       input=open(path_e).read())
    psql(f"SELECT setval('{SCHEMA}.dossiers_id_seq', (SELECT max(id) FROM {SCHEMA}.dossiers)); "
         f"SELECT setval('{SCHEMA}.dossier_events_id_seq', (SELECT max(id) FROM {SCHEMA}.dossier_events))", db)
    for table in ("dossiers", "dossier_events") + (("units",) if with_units else ()):
        psql(f"VACUUM ANALYZE {SCHEMA}.{table}", db)


def staff(binary, db, port, data, email, role, units=()):
    args = [binary, "user", "create", "--tenant", "ha-noi", "--email", email, "--role", role,
            "--password-stdin"]
    for u in units:
        args += ["--unit", u]
    sh(*args, env=env(db, port, data), input=PASSWORD + "\n")


# --------------------------------------------------------------------------- HTTP


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def request(port, method, path, body=None, headers=None, form=None):
    data = None
    h = {"Host": HOST, **(headers or {})}
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        h["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=data, headers=h)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def token(port, email):
    st, _, body = request(port, "POST", "/api/v1/auth/token", {"email": email, "password": PASSWORD})
    assert st == 200, (st, body[:300])
    return json.loads(body)["access_token"]


def cookies_of(headers):
    out = {}
    for v in headers.get_all("Set-Cookie") or []:
        k, _, rest = v.partition("=")
        out[k.strip()] = rest.split(";")[0]
    return out


def page_session(port, email):
    """The `session` cookie of a staff sign-in through the form, or None if that fails."""
    st, h, _ = request(port, "GET", "/sign-in")
    csrf = cookies_of(h).get("csrf")
    if st != 200 or not csrf:
        return None
    st, h, body = request(port, "POST", "/sign-in", headers={"Cookie": f"csrf={csrf}"},
                          form={"csrf": csrf, "full_name": "", "email": email, "password": PASSWORD, "next": "/manage"})
    c = cookies_of(h)
    return f"session={c['session']}; csrf={c.get('csrf', csrf)}" if st in (302, 303) and "session" in c else None


def start(binary, db, port, data):
    shutil.rmtree(os.path.join(OUT, data), ignore_errors=True)
    log = open(os.path.join(OUT, f"server-{db}.log"), "w")
    proc = subprocess.Popen([binary, "serve"], env=env(db, port, data), stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except Exception:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"server did not start; see bench/out/server-{db}.log")


def cpu_seconds(pid):
    tick = os.sysconf("SC_CLK_TCK")
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / tick
    except FileNotFoundError:
        return 0.0


def settle(procs, limit=300):
    """Waits until the servers' start-up jobs (the overdue watch over 100,000 dossiers, the
    index's first run) are done, so that the scenarios measure serving."""
    started = time.time()
    while time.time() - started < limit:
        before = sum(cpu_seconds(p.pid) for p in procs)
        time.sleep(3)
        if sum(cpu_seconds(p.pid) for p in procs) - before < 0.1:
            break
    return time.time() - started


def lua(name, path, headers):
    lines = ['wrk.method = "GET"', f"wrk.path = {json.dumps(path)}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in {"Host": HOST, **headers}.items()]
    lines.append("done = function(summary, latency, requests)")
    lines.append('  io.write(string.format("PCTL %d %d %d %d\\n", latency:percentile(50), '
                 "latency:percentile(95), latency:percentile(99), summary.requests))")
    lines.append("end")
    p = os.path.join(OUT, f"queue-{name}.lua")
    with open(p, "w") as f:
        f.write("\n".join(lines) + "\n")
    return p


def wrk(port, script, conns, duration):
    r = sh("wrk", "-t2", f"-c{conns}", f"-d{duration}s", "-s", script, f"http://127.0.0.1:{port}", check=False)
    out = r.stdout
    m = re.search(r"PCTL (\d+) (\d+) (\d+) (\d+)", out)
    if r.returncode != 0 or not m:
        sys.exit(f"wrk failed on {script}:\n{out}\n{r.stderr}")
    non2xx = int(x.group(1)) if (x := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    sock = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)) if "Socket errors" in out else 0
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": int(m.group(1)) / 1000, "p95": int(m.group(2)) / 1000, "p99": int(m.group(3)) / 1000,
            "total": int(m.group(4)), "errors": non2xx + sock}


PLAN_COLS = ("id, tracking_code, procedure_code, citizen_id, applicant_name, applicant_id_number, "
             "contact_email, channel, status, answers, lang, fee_vnd, due_on, clock_stopped_on, "
             "submitted_at, decided_at, handler_id, due_flag")


def plans(db, facts, with_units):
    """EXPLAIN ANALYZE of the shapes diesel sends (the scope's condition, the filter, the
    deadline order, one page), for bench/out/queue_plans.txt."""
    order = "ORDER BY due_on ASC NULLS LAST, submitted_at DESC" + (", id DESC" if with_units else "")
    one = facts["busiest"][0]
    head = facts["head_units"]
    cols = PLAN_COLS + (", received_at_unit, competent_unit, assignee_id" if with_units else "")
    shapes = [("province level, default view", f"SELECT {cols} FROM {SCHEMA}.dossiers WHERE true {order} LIMIT 50"),
              ("province level, counts by status (the page)", f"SELECT status, count(*) FROM {SCHEMA}.dossiers WHERE true GROUP BY status"),
              ("search by citizen ID", f"SELECT {cols} FROM {SCHEMA}.dossiers WHERE applicant_id_number = '{facts['citizen_id']}' {order} LIMIT 50")]
    if with_units:
        arr = lambda us: "ARRAY[" + ",".join(f"'{u}'" for u in us) + "]"
        shapes += [("one commune, default view", f"SELECT {cols} FROM {SCHEMA}.dossiers WHERE (competent_unit = ANY({arr([one])}) OR received_at_unit = ANY({arr([one])})) {order} LIMIT 50"),
                   ("head of four communes, default view", f"SELECT {cols} FROM {SCHEMA}.dossiers WHERE (competent_unit = ANY({arr(head)}) OR received_at_unit = ANY({arr(head)})) {order} LIMIT 50"),
                   ("one commune, counts by status (the page)", f"SELECT status, count(*) FROM {SCHEMA}.dossiers WHERE (competent_unit = ANY({arr([one])}) OR received_at_unit = ANY({arr([one])})) GROUP BY status"),
                   ("province level, filter by procedure", f"SELECT {cols} FROM {SCHEMA}.dossiers WHERE true AND procedure_code = 'LLTP-001' {order} LIMIT 50")]
    text = []
    for name, sql in shapes:
        text.append(f"-- {db}: {name}\n{sql}\n" + psql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", db) + "\n")
    return "\n".join(text)


# --------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dossiers", type=int, default=100_000)
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--append", action="store_true")
    ap.add_argument("--also-without-index", action="store_true",
                    help="then drop dossiers_deadline and measure (a), the page and the baseline again, alternated")
    ap.add_argument("--drop-deadline-index", action="store_true",
                    help="drop dossiers_deadline (migration 2026-12-04-000002) to measure the queue without it")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if not shutil.which("wrk"):
        sh("apt-get", "install", "-y", "-qq", "wrk")
    if not os.path.exists(BIN):
        sys.exit(f"no release binary at {BIN}: cargo build --release")
    with_base = bool(BASE_BIN)

    t0 = time.time()
    seed(DB, BIN, PORT, "data-queue", os.path.join(ROOT, "tenants", "ha-noi.toml"), True)
    units_total = int(psql(f"SELECT count(*) FROM {SCHEMA}.units", DB))
    national = int(psql("SELECT count(*) FROM public.admin_units", DB))
    manifest = tomllib.load(open(os.path.join(ROOT, "tenants", "ha-noi.toml"), "rb"))
    communes = psql("SELECT string_agg(code, ' ' ORDER BY code) FROM public.admin_units WHERE province_code = "
                    f"'{manifest['province_code']}'", DB).split()
    path_d, path_e = os.path.join(OUT, "queue-dossiers.csv"), os.path.join(OUT, "queue-events.csv")
    facts = generate(a.dossiers, communes, manifest.get("procedure_units", {}), path_d, path_e)
    busiest = facts["busiest"]
    facts["head_units"] = [busiest[1], busiest[9], busiest[39], busiest[99]]
    load(DB, True, path_d, path_e)
    if a.drop_deadline_index:
        psql(f"DROP INDEX IF EXISTS {SCHEMA}.dossiers_deadline", DB)
    index = "present" if psql(f"SELECT to_regclass('{SCHEMA}.dossiers_deadline')", DB) else "absent"
    staff(BIN, DB, PORT, "data-queue", "province@bench.vn", "official")
    staff(BIN, DB, PORT, "data-queue", "commune@bench.vn", "official", [busiest[0]])
    staff(BIN, DB, PORT, "data-queue", "head@bench.vn", "head", facts["head_units"])
    if with_base:
        base_manifest = os.path.join(BASE_ROOT, "tenants", "ha-noi.toml")
        seed(BASE_DB, BASE_BIN, BASE_PORT, "data-queue-base", base_manifest, False)
        load(BASE_DB, False, path_d, path_e)
        staff(BASE_BIN, BASE_DB, BASE_PORT, "data-queue-base", "province@bench.vn", "official")
    seeded = time.time() - t0
    n = int(psql(f"SELECT count(*) FROM {SCHEMA}.dossiers", DB))
    events = int(psql(f"SELECT count(*) FROM {SCHEMA}.dossier_events", DB))
    def share(cond):
        return float(psql(f"SELECT round(100.0 * count(*) FILTER (WHERE {cond}) / count(*), 1) FROM {SCHEMA}.dossiers", DB))
    spread = {"open": share("status NOT IN ('returned','refused','stopped','withdrawn')"),
              "overdue": share("status IN ('accepted','processing') AND due_on < current_date"),
              "counter": share("received_at_unit IS NOT NULL"),
              "commune": share("competent_unit ~ '^[0-9]{5}$'")}
    print(f"seeded in {seeded:.0f} s: {n} dossiers, {events} history rows, {units_total} units in {SCHEMA} "
          f"({national} in the national list); {spread}; busiest commune {busiest[0]} with "
          f"{facts['load'][busiest[0]]} decided there, head of {facts['head_units']}; deadline index {index}", flush=True)

    procs = [start(BIN, DB, PORT, "data-queue")]
    if with_base:
        procs.append(start(BASE_BIN, BASE_DB, BASE_PORT, "data-queue-base"))
    try:
        waited = settle(procs)
        print(f"start-up jobs done after {waited:.0f} s", flush=True)
        # The overdue watch rewrote marks: statistics as a replica would have them.
        psql(f"VACUUM ANALYZE {SCHEMA}.dossiers", DB)
        if with_base:
            psql(f"VACUUM ANALYZE {SCHEMA}.dossiers", BASE_DB)
        tok = {who: token(PORT, f"{who}@bench.vn") for who in ("province", "commune", "head")}
        pages = {who: page_session(PORT, f"{who}@bench.vn") for who in ("province", "commune")}
        api = "/api/v1/manage/dossiers"
        bearer = lambda t: {"Authorization": f"Bearer {t}"}
        scen = [  # (key, label, port, path, headers)
            ("a", "(a) queue, province-level official (sees all)", PORT, api, bearer(tok["province"])),
            ("b", f"(b) queue, official of one commune ({busiest[0]}, the busiest)", PORT, api, bearer(tok["commune"])),
            ("c", "(c) queue, head of four communes", PORT, api, bearer(tok["head"])),
        ]
        if pages["province"]:
            scen.append(("d1", "(d) page /manage, province-level official", PORT, "/manage", {"Cookie": pages["province"]}))
        if pages["commune"]:
            scen.append(("d2", "(d) page /manage, official of one commune", PORT, "/manage", {"Cookie": pages["commune"]}))
        scen += [("e1", "(e) search by citizen ID, province level", PORT, f"{api}?q={facts['citizen_id']}", bearer(tok["province"])),
                 ("e2", "(e) filter by procedure (LLTP-001), province level", PORT, f"{api}?procedure=LLTP-001", bearer(tok["province"]))]
        if with_base:
            btok = token(BASE_PORT, "province@bench.vn")
            bpage = page_session(BASE_PORT, "province@bench.vn")
            scen.append(("base_a", "baseline f7e29ad: queue, province-level official", BASE_PORT, api, bearer(btok)))
            if bpage:
                scen.append(("base_d1", "baseline f7e29ad: page /manage, province-level official", BASE_PORT, "/manage", {"Cookie": bpage}))
            scen.append(("base_e1", "baseline f7e29ad: search by citizen ID", BASE_PORT, f"{api}?q={facts['citizen_id']}", bearer(btok)))
        # Each scenario answers 200 with what it should before the clock starts.
        for key, label, port, path, headers in scen:
            st, _, body = request(port, "GET", path, headers=headers)
            assert st == 200, (label, st, body[:300])
            if path.startswith(api):
                items = json.loads(body)
                assert items, label
                if key == "b":
                    assert all(busiest[0] in (d["competent_unit"], d["received_at"]) for d in items), items[:2]
                if key == "e1":
                    assert len(items) == 2, (label, len(items))
        scripts = {key: lua(key, path, headers) for key, _, _, path, headers in scen}
        for key, _, port, _, _ in scen:
            wrk(port, scripts[key], a.connections, 3)  # warm-up
        results = {key: [] for key, *_ in scen}
        for r in range(a.runs):
            for key, label, port, _, _ in scen:
                res = wrk(port, scripts[key], a.connections, a.duration)
                results[key].append(res)
                print(f"run {r + 1} {label:62} {res['rps']:7.0f} req/s  p50 {res['p50']:7.2f}  p95 {res['p95']:7.2f}  p99 {res['p99']:7.2f} ms  errors {res['errors']}/{res['total']}", flush=True)
        with open(os.path.join(OUT, "queue_plans.txt"), "w") as f:
            f.write(plans(DB, facts, True))
            if with_base:
                f.write("\n" + plans(BASE_DB, facts, False))
        second = []
        if a.also_without_index and index == "present":
            # The same queue without the migration's index: the query as of the units merge.
            psql(f"DROP INDEX {SCHEMA}.dossiers_deadline", DB)
            psql(f"ANALYZE {SCHEMA}.dossiers", DB)
            keep = {"a": "(a) queue, province level, without dossiers_deadline",
                    "d1": "(d) page /manage, province level, without dossiers_deadline",
                    "base_a": "baseline f7e29ad: queue, province-level official (again)"}
            second = [(k + "_2", keep[k], port, path, h) for k, _, port, path, h in scen if k in keep]
            for key, _, _, path, headers in second:
                scripts[key] = lua(key, path, headers)
                results[key] = []
            for r in range(a.runs):
                for key, label, port, _, _ in second:
                    res = wrk(port, scripts[key], a.connections, a.duration)
                    results[key].append(res)
                    print(f"run {r + 1} {label:62} {res['rps']:7.0f} req/s  p50 {res['p50']:7.2f}  p95 {res['p95']:7.2f}  p99 {res['p99']:7.2f} ms  errors {res['errors']}/{res['total']}", flush=True)
        rss = {p.pid: int(open(f"/proc/{p.pid}/status").read().split("VmRSS:")[1].split()[0]) // 1024 for p in procs}
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=30)

    med = {k: {m: statistics.median(r[m] for r in v) for m in ("rps", "p50", "p95", "p99")} | {
        "errors": sum(r["errors"] for r in v), "total": sum(r["total"] for r in v)} for k, v in results.items()}
    ref = med["a"]
    rows = []
    for key, label, *_ in scen:
        m = med[key]
        rows.append(f"| {label} | {m['rps']:.0f} | {m['p50']:.2f} | {m['p95']:.2f} | {m['p99']:.2f} | "
                    f"{m['p95'] / ref['p95']:.2f}× | {m['rps'] / ref['rps']:.2f}× | {m['errors']} of {m['total']} |")
    if second:
        rows.append(f"| *then, `dossiers_deadline` dropped (the queue as merged in c3e5379):* | | | | | | | |")
        for key, label, *_ in second:
            m = med[key]
            rows.append(f"| {label} | {m['rps']:.0f} | {m['p50']:.2f} | {m['p95']:.2f} | {m['p99']:.2f} | "
                        f"{m['p95'] / ref['p95']:.2f}× | {m['rps'] / ref['rps']:.2f}× | {m['errors']} of {m['total']} |")
    print("\n".join(rows))
    verdicts = []
    if with_base:
        pairs = [("a", "base_a", "the queue, province level"), ("d1", "base_d1", "the page /manage, province level"),
                 ("e1", "base_e1", "search by citizen ID"),
                 ("a_2", "base_a_2", "the queue, province level, without `dossiers_deadline` (second phase)"),
                 ("d1_2", "base_d1", "the page /manage, province level, without `dossiers_deadline` (second phase)")]
        for k, b, what in pairs:
            if what and k in med and b in med:
                v = med[k]["p95"] / med[b]["p95"]
                verdicts.append(f"{what}: p95 {med[k]['p95']:.2f} ms against {med[b]['p95']:.2f} ms, **{v:.2f}×**")
                print(f"{what}: p95 {med[k]['p95']:.2f} / {med[b]['p95']:.2f} ms = {v:.2f}× of f7e29ad (issue 16: ≤ 1.5×)")
    if a.append:
        commit = sh("git", "rev-parse", "--short", "HEAD", cwd=ROOT).stdout.strip()
        dirty = " (with uncommitted changes)" if sh("git", "status", "--porcelain", "--", "src", "migrations", cwd=ROOT).stdout.strip() else ""
        load_avg = open("/proc/loadavg").read().split()[:3]
        with open(os.path.join(ROOT, "BENCHMARKS.md"), "a") as f:
            f.write(f"\n### Queue with units (#16) — {datetime.now(timezone.utc):%Y-%m-%d} — commit {commit}{dirty} — {os.cpu_count()} cores, wrk on the same machine\n\n")
            f.write(f"Command: `{'BASE_BIN=<f7e29ad release binary> BASE_ROOT=<its worktree> ' if with_base else ''}bench/queue_units.py "
                    f"--dossiers {a.dossiers} --duration {a.duration} --runs {a.runs} --connections {a.connections}{' --drop-deadline-index' if a.drop_deadline_index else ''}{' --also-without-index' if a.also_without_index else ''} --append` "
                    f"(release build; PostgreSQL {psql('SHOW server_version')} on the same machine; medians of {a.runs} runs of {a.duration} s "
                    f"after a 3 s warm-up; wrk -t2 -c{a.connections}; p95 from wrk's histogram; load average {' '.join(load_avg)} at the end, "
                    f"the 2 cores shared with other engineers' builds)\n\n")
            f.write(f"Data: province `ha-noi`, {n} dossiers and {events} history rows loaded by SQL COPY "
                    f"({spread['open']}% not final, {spread['overdue']}% overdue, {spread['counter']}% received at a counter, "
                    f"{spread['commune']}% decided by a commune), then VACUUM ANALYZE. Units: the manifest's "
                    f"{len(communes)} communes and own units, and — for this benchmark only — every unit of the national list "
                    f"copied into the province's `units` table by SQL from `public.admin_units`: {units_total} units "
                    f"({national} national). Index `dossiers_deadline` (migration 2026-12-04-000003_queue_indexes): {index}. Busiest commune {busiest[0]} decides {facts['load'][busiest[0]]} dossiers; the head has "
                    f"{len(facts['head_units'])} communes ({', '.join(facts['head_units'])}).\n\n")
            f.write("| scenario | requests/s | p50 ms | p95 ms | p99 ms | p95 vs (a) | req/s vs (a) | errors |\n|---|---|---|---|---|---|---|---|\n")
            f.write("\n".join(rows) + "\n")
            if verdicts:
                f.write("\nAgainst the commit before units (f7e29ad, its own database with the same dossiers without the unit "
                        "columns, its server running beside this one, runs alternated; the issue's bar is 1.5×):\n\n")
                f.write("".join(f"- {v}\n" for v in verdicts))
            f.write(f"\nServer RSS after the runs: {', '.join(f'{v} MB' for v in rss.values())}. Plans: bench/out/queue_plans.txt (not committed).\n")


if __name__ == "__main__":
    main()
