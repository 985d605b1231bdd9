#!/usr/bin/env python3
"""HTTP benchmarks (issue 3): province home pages and dossier submissions rotated over N
provinces, against the same binary's trivial route as the ceiling. Uses wrk with Lua scripts.

    bench/web.py [--provinces 63] [--duration 10] [--runs 3] [--append]
    BENCH_REUSE=1 bench/web.py --provinces 3400 --only trivial,home   # keeps a seeded database
    BENCH_PG_URL=postgres://postgres@127.0.0.1:5441 BENCH_CITUS_WORKERS=127.0.0.1:5442,127.0.0.1:5443 \
        bench/web.py --only home,submit      # on a Citus coordinator, provinces over two workers

Seeds a fresh database `portal_bench_web` (63 provinces, one citizen each), starts
`target/release/portal serve` on 127.0.0.1:18080 (`BENCH_WEB_PORT`), runs each scenario `--runs` times and prints
the median requests/s, p50, p99 and errors. `--append` adds the table to BENCHMARKS.md.
"""
import argparse, json, os, re, resource, shutil, statistics, subprocess, sys, time, urllib.request, urllib.error
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_WEB_DB", "portal_bench_web")
# BENCH_WEB_PORT: another port, so that two runs (two databases) can go on side by side.
PORT = int(os.environ.get("BENCH_WEB_PORT") or os.environ.get("BENCH_PORT") or "18080")
# A Citus cluster (#22): the coordinator is BENCH_PG_URL, these are its workers; `migrate`
# registers them and provisioning places each province on the least loaded one.
CITUS_WORKERS = os.environ.get("BENCH_CITUS_WORKERS", "")
# BENCH_BIN: another build of the binary (say, the previous commit's) as a baseline.
BIN = os.environ.get("BENCH_BIN") or os.path.join(ROOT, "target", "release", "portal")
SECRET = "bench-secret-0123456789abcdef0123456789"

def sh(*args, env=None, check=True, **kw):
    return subprocess.run(args, env=env, check=check, text=True, capture_output=True, **kw)

def psql(sql, db="postgres"):
    return sh("psql", f"{PG}/{db}", "-Atqc", sql).stdout

def database(verb):
    """CREATE or DROP the bench database; on Citus, on every node (Citus propagates it only
    when asked, and `migrate` expects the database on the workers too)."""
    if verb == "drop":
        # Node by node: a propagated DROP fails as a whole when one node lacks the database.
        for url in [PG] + [f"postgres://postgres@{w}" for w in CITUS_WORKERS.split(",") if w]:
            sh("psql", f"{url}/postgres", "-Atqc", f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    elif CITUS_WORKERS:
        sh("psql", f"{PG}/postgres", "-Atq", "-c", "SET citus.enable_create_database_propagation TO on",
           "-c", f'CREATE DATABASE "{DB}"')
    else:
        psql(f'CREATE DATABASE "{DB}"')

def placement():
    """Provinces per node, as `host:port count, ...` (Citus only)."""
    if not CITUS_WORKERS:
        return "one node"
    rows = psql("SELECT nodeport, count(DISTINCT colocation_id) FROM citus_shards "
                "WHERE citus_table_type = 'schema' GROUP BY nodeport ORDER BY nodeport", DB)
    return ", ".join(f"port {r.split('|')[0]}: {r.split('|')[1]} provinces" for r in rows.split())

def env():
    e = dict(os.environ)
    e.update({
        "DATABASE_URL": f"{PG}/{DB}", "RUST_LOG": "warn", "PORTAL__AUTH__JWT_SECRET": SECRET,
        "PORTAL__SERVER__BIND": f"127.0.0.1:{PORT}", "PORTAL__SERVER__PUBLIC_PORT": str(PORT),
        "PORTAL__STORAGE__DATA_DIR": os.path.join(OUT, "data"),
        # Every simulated client is 127.0.0.1: the per-client limits would measure themselves.
        "PORTAL__LIMITS__ENABLED": "false",
        "PGSSLMODE": "disable",
    })
    if CITUS_WORKERS:
        e["PORTAL__CITUS__WORKERS"] = CITUS_WORKERS
    return e

def http(method, host, path, body=None, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Host", host)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")

def seed(n, reuse=False):
    """A fresh database with n provinces; with `reuse`, one that already holds exactly n is
    kept (seeding 3,400 provinces takes about ten minutes)."""
    if reuse and psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB}'").strip() and \
            psql("SELECT count(*) FROM public.tenants", DB).strip() == str(n):
        print(f"reusing the {n} provinces of {DB}", flush=True)
        return
    # (A database left invalid by an interrupted drop answers no query: its roles stay.)
    roles = sh("psql", f"{PG}/{DB}", "-Atqc", "SELECT string_agg(role_name, ' ') FROM public.tenants",
               check=False).stdout.strip()
    database("drop")
    for r in roles.split():
        psql(f'DROP ROLE IF EXISTS "{r}"')
    database("create")
    sh(BIN, "migrate", env=env())
    # The bench measures serving, not the plans' fair-use limits (429s): lift them here.
    psql("UPDATE plans SET rate_limit_rps = 1000000, rate_burst = 1000000", DB)
    # One manifest per province, applied by one process (thousands of tenants in minutes).
    folder = os.path.join(OUT, "manifests")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for i in range(n):
        with open(os.path.join(folder, f"{slug(i)}.toml"), "w") as f:
            f.write(f'slug = "{slug(i)}"\nname = "Tỉnh thử nghiệm {i:02d}"\n'
                    f'plan = "premium"\ndomains = []\n\n[branding]\ndisplay_name = "Tỉnh thử nghiệm {i:02d}"\n')
    sh(BIN, "tenants", "apply", folder, env=env())

def slug(i):
    return f"tinh-{i:02d}"

def start_server():
    shutil.rmtree(os.path.join(OUT, "data"), ignore_errors=True)
    # The server logs to stdout: keep it, a failed request's cause is there.
    proc = subprocess.Popen([BIN, "serve"], env=env(), stdout=open(os.path.join(OUT, "server.log"), "w"), stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
            return proc
        except Exception:
            time.sleep(0.1)
    proc.kill()
    sys.exit("server did not start; see bench/out/server.log")

def citizens(n):
    hosts, tokens = [], []
    for i in range(n):
        host = f"{slug(i)}.localhost"
        email = f"citizen{i:02d}@bench.vn"
        st, _ = http("POST", host, "/api/v1/auth/register", {"email": email, "password": "bench-password-2026", "full_name": "Người Thử"})
        assert st in (201, 409), st
        st, body = http("POST", host, "/api/v1/auth/token", {"email": email, "password": "bench-password-2026"})
        assert st == 200, (st, body)
        hosts.append(host)
        tokens.append(body["access_token"])
    return hosts, tokens

DOSSIER = {"procedure_code": "GPLX-001", "fields": {
    "full_name": "Nguyễn Văn Thử", "id_number": "001090012345", "licence_number": "790123456789",
    "licence_class": "B2", "expiry_date": "2026-12-31", "delivery_address": "1 Tràng Tiền, Hà Nội", "phone": "0912345678"}}

def lua(name, hosts, tokens=None, method="GET", path="/", body=None):
    lines = ["local hosts = {" + ",".join(json.dumps(h) for h in hosts) + "}"]
    if tokens:
        lines.append("local tokens = {" + ",".join(json.dumps(t) for t in tokens) + "}")
    lines.append("local i = 0")
    lines.append("request = function()")
    lines.append("  i = i + 1")
    lines.append("  local k = (i % #hosts) + 1")
    headers = '["Host"] = hosts[k]'
    if tokens:
        headers += ', ["Authorization"] = "Bearer " .. tokens[k]'
    if body is not None:
        headers += ', ["Content-Type"] = "application/json"'
        # A long-bracket string: raw UTF-8 JSON, no escapes for Lua to misread.
        lines.append(f"  return wrk.format({json.dumps(method)}, {json.dumps(path)}, {{{headers}}}, [==[{json.dumps(body, ensure_ascii=False)}]==])")
    else:
        lines.append(f"  return wrk.format({json.dumps(method)}, {json.dumps(path)}, {{{headers}}})")
    lines.append("end")
    path_ = os.path.join(OUT, f"{name}.lua")
    with open(path_, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path_

def to_ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    n, u = float(m.group(1)), m.group(2)
    return n / 1000 if u == "us" else n * 1000 if u == "s" else n

def wrk(script, conns, duration):
    run = sh("wrk", "-t2", f"-c{conns}", f"-d{duration}s", "--latency", "-s", script, f"http://127.0.0.1:{PORT}")
    if script in run.stderr or "error" in run.stderr.lower():
        sys.exit(f"wrk could not run {script}: {run.stderr.strip()}")
    out = run.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    sock = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)) if "Socket errors" in out else 0
    return {"rps": rps, "p50": p50, "p99": p99, "errors": non2xx + sock, "total": total}

def pss_mb(pattern):
    """Proportional set size of every process whose command line matches (shared pages split
    among them, so PostgreSQL's shared buffers count once), in MB."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if pattern not in open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace"):
                continue
            for line in open(f"/proc/{pid}/smaps_rollup"):
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return total // 1024

def cpu_seconds(pattern, only_pid=None):
    """CPU time (user + system) used so far by the processes whose command line starts with
    `pattern` (or by `only_pid`)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or (only_pid and int(pid) != only_pid):
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
            if not only_pid and not os.path.basename(cmd.split("\0")[0].split(" ")[0]).startswith(pattern):
                continue
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
            pass
    return total / tick

def settle(server, limit=600):
    """Waits until the server's start-up jobs are done (the first index run backfills 12 months
    and every province is sampled: a minute of one core at 3,400 provinces), so that the
    scenarios measure serving. Returns the seconds waited."""
    started = time.time()
    while time.time() - started < limit:
        before = cpu_seconds("", server.pid) + cpu_seconds("postgres")
        time.sleep(2)
        if cpu_seconds("", server.pid) + cpu_seconds("postgres") - before < 0.1:
            break
    return time.time() - started

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--provinces", type=int, default=63)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--append", action="store_true")
    ap.add_argument("--only", default="trivial,home,submit",
                    help="comma-separated scenarios: trivial, home, submit")
    ap.add_argument("--citizens", type=int, default=63,
                    help="provinces with a signed-in citizen for the POST scenario")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if not shutil.which("wrk"):
        sh("apt-get", "install", "-y", "-qq", "wrk")
    if not os.environ.get("BENCH_BIN"):
        sh("cargo", "build", "--release", "--quiet", cwd=ROOT)
    # Reuse only without the POST scenario: it signs citizens up and stores dossiers.
    seed(a.provinces, reuse=os.environ.get("BENCH_REUSE") == "1" and "submit" not in a.only)
    server = start_server()
    print(f"placement: {placement()}", flush=True)
    try:
        waited = settle(server)
        print(f"start-up jobs done after {waited:.0f} s", flush=True)
        # Steady state: every province's site data is in the cache before the clock starts
        # (a replica serving thousands of provinces for hours, not its first seconds).
        for i in range(a.provinces):
            urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{PORT}/", headers={"Host": f"{slug(i)}.localhost"}), timeout=30).read()
        all_hosts = [f"{slug(i)}.localhost" for i in range(a.provinces)]
        only = a.only.split(",")
        hosts, tokens = citizens(min(a.citizens, a.provinces)) if "submit" in only else ([], [])
        scenarios = [
            ("trivial", "trivial route GET /healthz", lambda: lua("trivial", all_hosts, path="/healthz"), 32),
            ("home", f"province home GET / over {a.provinces} provinces", lambda: lua("home", all_hosts), 32),
            ("submit", f"POST /api/v1/dossiers over {len(hosts)} provinces", lambda: lua("submit", hosts, tokens, "POST", "/api/v1/dossiers", DOSSIER), 16),
        ]
        scenarios = [(name, script(), conns) for key, name, script, conns in scenarios if key in only]
        rows = []
        for name, script, conns in scenarios:
            def sample():
                # wrk has exited by the time we look: its CPU is in our children's usage.
                kids = resource.getrusage(resource.RUSAGE_CHILDREN)
                return {"portal": cpu_seconds("", server.pid), "postgres": cpu_seconds("postgres"),
                        "wrk": kids.ru_utime + kids.ru_stime}
            before = sample()
            runs = [wrk(script, conns, a.duration) for _ in range(a.runs)]
            # Where the two cores went: CPU microseconds per request, by process.
            after = sample()
            cpu = {k: (after[k] - v) * 1e6 / max(1, sum(r["total"] for r in runs)) for k, v in before.items()}
            med = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99")}
            errors = sum(r["errors"] for r in runs)
            total = sum(r["total"] for r in runs)
            rows.append((name, conns, med, errors, total, cpu))
            print(f"{name:55} c={conns:<3} {med['rps']:9.0f} req/s  p50 {med['p50']:7.2f} ms  p99 {med['p99']:7.2f} ms  errors {errors}/{total}", flush=True)
            print(f"{'':55} CPU µs per request: server {cpu['portal']:.0f}, PostgreSQL {cpu['postgres']:.0f}, wrk {cpu['wrk']:.0f}", flush=True)
        rss = int(open(f"/proc/{server.pid}/status").read().split("VmRSS:")[1].split()[0]) // 1024
        pg = pss_mb("postgres")
        dossiers = sum(int(psql(f"SELECT count(*) FROM t_{slug(i).replace('-', '_')}.dossiers", DB) or 0) for i in range(len(hosts)))
        print(f"server RSS after the runs: {rss} MB; PostgreSQL (all its processes, PSS): {pg} MB; dossiers stored: {dossiers}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    if a.append:
        commit = sh("git", "rev-parse", "--short", "HEAD", cwd=ROOT).stdout.strip()
        ceiling = rows[0][2]["rps"] if rows[0][0].startswith("trivial") else None
        with open(os.path.join(ROOT, "BENCHMARKS.md"), "a") as f:
            f.write(f"\n### HTTP — {datetime.now(timezone.utc):%Y-%m-%d} — commit {commit} — {os.cpu_count()} cores, wrk on the same machine\n\n")
            f.write(f"Command: `bench/web.py --provinces {a.provinces} --duration {a.duration} --runs {a.runs} --only {a.only} --append` "
                    f"(release build; medians of {a.runs} runs of {a.duration} s; wrk -t2)\n\n")
            f.write("| scenario | connections | requests/s | vs trivial | p50 ms | p99 ms | errors | CPU µs/request: server / PostgreSQL / wrk |\n|---|---|---|---|---|---|---|---|\n")
            for name, conns, med, errors, total, cpu in rows:
                ratio = f"{med['rps'] / ceiling:.0%}" if ceiling else "—"
                f.write(f"| {name} | {conns} | {med['rps']:.0f} | {ratio} | {med['p50']:.2f} | {med['p99']:.2f} | {errors} of {total} | {cpu['portal']:.0f} / {cpu['postgres']:.0f} / {cpu['wrk']:.0f} |\n")
            f.write(f"\nServer RSS after the runs: {rss} MB; PostgreSQL, all processes (PSS): {pg} MB; dossiers stored by the POST runs: {dossiers}. "
                    f"Measured once the start-up jobs were done ({waited:.0f} s after the start) and every province's home page had been read once.\n")

if __name__ == "__main__":
    main()
