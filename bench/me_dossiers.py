#!/usr/bin/env python3
"""The national "my dossiers" over 34 provinces (issue 17): `GET /api/v1/me/dossiers` on the
national host for an account with dossiers in 3 of the 34 provinces, measured with wrk beside
two baselines from the same run and the same server.

    bench/me_dossiers.py [--background 2000] [--per-province 5] [--duration 10] [--runs 3] [--connections 8] [--append]

What it does, on a fresh database (`portal_bench_me`):

1. `portal migrate`, `portal tenants apply tenants/`: the 34 provinces of the manifests.
2. Background: `--background` dossiers of other accounts in every province (SQL, random
   citizen ids, spread over a year), then VACUUM ANALYZE, so the index on
   `(citizen_id, submitted_at)` is not answering from an empty table.
3. Two national accounts registered through the API: `ba@bench.vn` files `--per-province`
   dossiers in each of 3 provinces (ha-noi, hue, ca-mau) and `mot@bench.vn` the same number in
   1 province (hue), all through `POST /api/v1/dossiers` on the province's host (which is what
   fills the control plane's `citizen_provinces`).
4. The release server (`PORTAL__LIMITS__ENABLED=false`) and wrk -t2 `--connections`, after a
   3 s warm-up of each scenario, in `--runs` rounds that alternate the scenarios (machine noise
   falls on all alike); p50/p99 from wrk's own histogram (a Lua `done` hook), medians over runs:
   - national `GET /api/v1/me/dossiers`, account in 3 provinces (the measured endpoint);
   - national `GET /api/v1/me/dossiers`, account in 1 province (baseline: the same endpoint,
     one province asked);
   - `GET /api/v1/dossiers` on hue's host for the same 3-province account (baseline: the
     province's own list, one schema, with its token).
   Before measuring, each answer is checked: 3 × `--per-province` dossiers, `--per-province`.
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, time, urllib.error, urllib.request
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB = "portal_bench_me"
BIN = os.environ.get("BENCH_BIN") or os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "portal")
PORT = 18093
NATIONAL = "localhost"
SECRET = "bench-secret-0123456789abcdef0123456789"
PASSWORD = "mat-khau-rat-dai-2026"
THREE = ["ha-noi", "hue", "ca-mau"]
ONE = ["hue"]
DOSSIER = {
    "procedure_code": "GPLX-001",
    "fields": {
        "full_name": "Nguyễn Thị Minh Khai",
        "id_number": "001090012345",
        "licence_number": "790123456789",
        "licence_class": "B2",
        "expiry_date": "2026-12-31",
        "delivery_address": "12 Phố Huế, phường Hai Bà Trưng, Hà Nội",
        "phone": "0912 345 678",
    },
}


def sh(*args, env=None, check=True, input=None):
    r = subprocess.run(args, env=env, text=True, capture_output=True, input=input)
    if check and r.returncode != 0:
        sys.exit(f"{' '.join(args[:3])}… failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def psql(sql, db="postgres"):
    return sh("psql", "-v", "ON_ERROR_STOP=1", f"{PG}/{db}", "-Atqc", sql).stdout.strip()


def env():
    e = dict(os.environ)
    e.update({
        "DATABASE_URL": f"{PG}/{DB}", "RUST_LOG": "warn", "PORTAL__AUTH__JWT_SECRET": SECRET,
        "PORTAL__SERVER__BIND": f"127.0.0.1:{PORT}", "PORTAL__SERVER__PUBLIC_PORT": str(PORT),
        "PORTAL__STORAGE__DATA_DIR": os.path.join(OUT, "data-me"),
        # Every simulated client is 127.0.0.1: the per-client limits would measure themselves.
        "PORTAL__LIMITS__ENABLED": "false",
    })
    return e


def fresh_db():
    if psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB}'"):
        roles = psql("SELECT string_agg(role_name, ' ') FROM public.tenants", DB)
        psql(f'DROP DATABASE "{DB}" WITH (FORCE)')
        for r in (roles or "").split():
            psql(f'DROP ROLE IF EXISTS "{r}"')
    psql(f'CREATE DATABASE "{DB}"')


def seed(background):
    fresh_db()
    sh(BIN, "migrate", env=env())
    psql("UPDATE plans SET rate_limit_rps = 1000000, rate_burst = 1000000", DB)
    folder = os.path.join(OUT, "manifests-me")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for f in os.listdir(os.path.join(ROOT, "tenants")):
        if f.endswith(".toml"):
            shutil.copy(os.path.join(ROOT, "tenants", f), folder)
    sh(BIN, "tenants", "apply", folder, env=env())
    schemas = psql("SELECT string_agg(schema_name, ' ' ORDER BY slug) FROM public.tenants "
                   "WHERE status = 'active'", DB).split()
    if len(schemas) != 34:
        sys.exit(f"expected 34 provinces, got {len(schemas)}")
    for s in schemas:
        psql(f"INSERT INTO {s}.dossiers (tracking_code, procedure_code, citizen_id, applicant_name, "
             f"applicant_id_number, channel, status, answers, submitted_at) "
             f"SELECT 'BG-' || lpad(i::text, 8, '0'), 'GPLX-001', gen_random_uuid(), 'Người khác', "
             f"'001090099999', 'online', 'submitted', '{{}}', now() - (i % 365) * interval '1 day' "
             f"FROM generate_series(1, {background}) AS i", DB)
        psql(f"VACUUM ANALYZE {s}.dossiers", DB)
    return schemas


def request(host, method, path, body=None, token=None):
    h = {"Host": host}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", method=method, data=data, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def token(host, email):
    st, body = request(host, "POST", "/api/v1/auth/token", {"email": email, "password": PASSWORD})
    assert st == 200, (host, st, body[:300])
    return json.loads(body)["access_token"]


def account(email, provinces, per_province):
    st, body = request(NATIONAL, "POST", "/api/v1/auth/register",
                       {"email": email, "password": PASSWORD, "full_name": "Nguyễn Thị Minh Khai"})
    assert st == 201, (st, body[:300])
    for slug in provinces:
        host = f"{slug}.localhost"
        tok = token(host, email)
        for _ in range(per_province):
            st, body = request(host, "POST", "/api/v1/dossiers", DOSSIER, tok)
            assert st == 201, (host, st, body[:300])
    return token(NATIONAL, email)


def start():
    shutil.rmtree(os.path.join(OUT, "data-me"), ignore_errors=True)
    log = open(os.path.join(OUT, "server-me.log"), "w")
    proc = subprocess.Popen([BIN, "serve"], env=env(), stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
            return proc
        except Exception:
            time.sleep(0.1)
    proc.kill()
    sys.exit("server did not start; see bench/out/server-me.log")


def lua(name, host, path, tok):
    lines = ['wrk.method = "GET"', f"wrk.path = {json.dumps(path)}",
             f'wrk.headers["Host"] = {json.dumps(host)}',
             f'wrk.headers["Authorization"] = {json.dumps("Bearer " + tok)}',
             "done = function(summary, latency, requests)",
             '  io.write(string.format("PCTL %d %d %d\\n", latency:percentile(50), '
             "latency:percentile(99), summary.requests))",
             "end"]
    p = os.path.join(OUT, f"me-{name}.lua")
    with open(p, "w") as f:
        f.write("\n".join(lines) + "\n")
    return p


def wrk(script, conns, duration):
    r = sh("wrk", "-t2", f"-c{conns}", f"-d{duration}s", "-s", script, f"http://127.0.0.1:{PORT}", check=False)
    out = r.stdout
    m = re.search(r"PCTL (\d+) (\d+) (\d+)", out)
    if r.returncode != 0 or not m:
        sys.exit(f"wrk failed on {script}:\n{out}\n{r.stderr}")
    non2xx = int(x.group(1)) if (x := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    sock = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)) if "Socket errors" in out else 0
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": int(m.group(1)) / 1000, "p99": int(m.group(2)) / 1000,
            "total": int(m.group(3)), "errors": non2xx + sock}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--background", type=int, default=2000, help="other accounts' dossiers per province")
    ap.add_argument("--per-province", type=int, default=5)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--append", action="store_true")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed")
    if not os.path.exists(BIN):
        sys.exit(f"no release binary at {BIN}: cargo build --release")
    seed(a.background)
    proc = start()
    try:
        three = account("ba@bench.vn", THREE, a.per_province)
        one = account("mot@bench.vn", ONE, a.per_province)
        hue = token("hue.localhost", "ba@bench.vn")
        scen = [
            ("me3", "national GET /api/v1/me/dossiers, account in 3 of 34 provinces", NATIONAL, "/api/v1/me/dossiers", three, 3 * a.per_province),
            ("me1", "national GET /api/v1/me/dossiers, account in 1 of 34 provinces (baseline)", NATIONAL, "/api/v1/me/dossiers", one, a.per_province),
            ("own", "hue GET /api/v1/dossiers, the same 3-province account (baseline)", "hue.localhost", "/api/v1/dossiers", hue, None),
        ]
        for key, _, host, path, tok, want in scen:
            st, body = request(host, "GET", path, token=tok)
            assert st == 200, (key, st, body[:300])
            got = json.loads(body)
            n = len(got if isinstance(got, list) else got.get("items", []))
            if want is not None and n != want:
                sys.exit(f"{key}: {n} dossiers, expected {want}")
        scripts = {key: lua(key, host, path, tok) for key, _, host, path, tok, _ in scen}
        for key in scripts:
            wrk(scripts[key], a.connections, 3)  # warm-up
        results = {key: [] for key in scripts}
        for _ in range(a.runs):
            for key in scripts:
                results[key].append(wrk(scripts[key], a.connections, a.duration))
    finally:
        proc.terminate()
        proc.wait()
    med = lambda key, f: statistics.median(r[f] for r in results[key])
    rows = []
    for key, label, *_ in scen:
        rows.append((label, med(key, "rps"), med(key, "p50"), med(key, "p99"),
                     sum(r["errors"] for r in results[key]), sum(r["total"] for r in results[key])))
    base = med("me1", "p99")
    own = med("own", "p99")
    head = "| scenario | requests/s | p50 ms | p99 ms | p99 vs 1 province | p99 vs province's own list | errors |\n|---|---|---|---|---|---|---|\n"
    table = head + "".join(
        f"| {label} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {p99 / base:.2f}× | {p99 / own:.2f}× | {err} of {tot} |\n"
        for label, rps, p50, p99, err, tot in rows)
    print(table)
    if a.append:
        # BENCH_COMMIT names the commit the binary was built from when it is not HEAD's.
        commit = os.environ.get("BENCH_COMMIT") or sh("git", "-C", ROOT, "rev-parse", "--short", "HEAD").stdout.strip()
        load_avg = open("/proc/loadavg").read().split()[:3]
        with open(os.path.join(ROOT, "BENCHMARKS.md"), "a") as f:
            f.write(f"\n### National \"my dossiers\" over 34 provinces (#17) — {datetime.now(timezone.utc):%Y-%m-%d} — commit {commit} — {os.cpu_count()} cores, wrk on the same machine\n\n")
            f.write(f"Command: `bench/me_dossiers.py --background {a.background} --per-province {a.per_province} "
                    f"--duration {a.duration} --runs {a.runs} --connections {a.connections} --append` (release build; "
                    f"34 provinces from tenants/, {a.background} other accounts' dossiers in each; medians of {a.runs} "
                    f"alternated runs of {a.duration} s after a 3 s warm-up; wrk -t2 -c{a.connections}; p50/p99 from "
                    f"wrk's histogram; load average {' '.join(load_avg)} at the end)\n\n")
            f.write(table)


if __name__ == "__main__":
    main()
