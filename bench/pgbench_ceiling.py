#!/usr/bin/env python3
"""PostgreSQL's own ceiling for a submission's writes (issue #21, row 2): pgbench writes the
same rows as `POST /api/v1/dossiers` (a dossier, its first history event, its "received" mail
in the outbox and its usage count) into the provinces of `portal_bench_web`, at 16 clients,
without the server. Two shapes:

  * `one-statement`: the rows in one prepared statement (the dossier, event and outbox inserts
    and `usage_add`, schema-qualified), autocommit: the floor of what one submission costs
    PostgreSQL on this machine;
  * `as-the-server`: what the server sends for it (`BEGIN`, the tenant switch `set_config` of
    path and role, the same one `WITH … INSERT` calling `record_usage`/`usage_threshold`,
    `COMMIT`), prepared: the ceiling for the server's transaction shape.

    bench/web.py --provinces 63 --only submit      # seeds portal_bench_web first (or BENCH_REUSE=1)
    bench/pgbench_ceiling.py [--provinces 63] [--clients 16] [--duration 10] [--runs 3] [--append]

Each province gets its own script (pgbench picks one at random per transaction, equal
weights), so the rows rotate over the provinces as `bench/web.py`'s submissions do. The rows
written stay in the scratch database (tracking codes start with `PGB`).
"""
import argparse, os, re, statistics, subprocess, sys, tempfile
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_WEB_DB", "portal_bench_web")
PGBENCH = next((p for p in ("/usr/lib/postgresql/15/bin/pgbench", "/usr/bin/pgbench") if os.path.exists(p)), "pgbench")


def psql(sql):
    return subprocess.run(["psql", f"{PG}/{DB}", "-Atqc", sql], check=True, text=True,
                          capture_output=True).stdout


def ident(s):
    assert re.fullmatch(r"[a-z0-9_]+", s), s
    return s


def scripts(provinces, shape):
    """One pgbench script per province."""
    rows = psql("SELECT id, schema_name, role_name FROM tenants ORDER BY slug LIMIT %d" % provinces)
    out = []
    for line in rows.strip().splitlines():
        tid, schema, role = line.split("|")
        schema, role = ident(schema), ident(role)
        code = "'PGB' || upper(substr(md5(CAST(random() AS text)), 1, 9))"
        # No colon at all in the SQL (no `::` casts either): pgbench reads `:name` as its variable.
        answers = """jsonb_build_object('ho_ten', 'Nguyễn Văn A', 'so_cccd', '001099012345')"""
        if shape == "one-statement":
            q = schema + "."
            usage = f"public.usage_add(CAST('{tid}' AS uuid), 'dossiers', 1, 'dossier' || chr(58) || id || chr(58) || 'submitted', submitted_at)"
            head, tail = "", ""
        else:
            q = ""
            usage = "public.record_usage('dossiers', 1, 'dossier' || chr(58) || id || chr(58) || 'submitted', submitted_at)"
            head = (f"BEGIN;\nSELECT set_config('search_path', '{schema}', true), "
                    f"set_config('role', '{role}', true), set_config('statement_timeout', '30000', true);\n")
            tail = "\nCOMMIT;"
        level = ("0" if shape == "one-statement" else
                 "CASE WHEN m.total IS NULL THEN 0 ELSE public.usage_threshold('dossiers', d.submitted_at) END")
        stmt = (
            "WITH d AS ( "
            f"INSERT INTO {q}dossiers (tracking_code, procedure_code, citizen_id, applicant_name, "
            "applicant_id_number, contact_email, channel, status, answers, lang, submitted_at, "
            "received_at_unit, competent_unit, assurance_level) "
            f"VALUES ({code}, 'GPLX-001', NULL, 'Nguyễn Văn A', '001099012345', 'a@example.vn', "
            f"'online', 'submitted', {answers}, 'vi', now(), NULL, NULL, NULL) "
            "ON CONFLICT (tracking_code) DO NOTHING RETURNING id, status, submitted_at), "
            f"e AS (INSERT INTO {q}dossier_events (dossier_id, action, status, note, actor, at) "
            "SELECT id, 'submit', status, NULL, 'citizen' || chr(58) || 'bench', submitted_at FROM d), "
            f"o AS (INSERT INTO {q}outbox (kind, dossier_id, to_email, subject, body) "
            "SELECT 'received', id, 'a@example.vn', 'Đã tiếp nhận hồ sơ', 'Hồ sơ của bạn đã được tiếp nhận.' FROM d), "
            f"m AS (SELECT {usage} AS total FROM d) "
            f"SELECT d.id, d.submitted_at, m.total, {level} AS level FROM d, m;"
        )
        out.append(head + stmt + tail + "\n")
    return out


def run(shape, provinces, clients, duration):
    with tempfile.TemporaryDirectory() as tmp:
        args = [PGBENCH, "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(duration),
                "-r"]
        for i, s in enumerate(scripts(provinces, shape)):
            p = os.path.join(tmp, f"p{i}.sql")
            with open(p, "w") as f:
                f.write(s)
            args += ["-f", f"{p}@1"]
        args.append(f"{PG}/{DB}")
        r = subprocess.run(args, text=True, capture_output=True)
        if r.returncode != 0:
            sys.exit(f"pgbench failed:\n{r.stderr[-3000:]}")
        tps = float(re.search(r"tps = ([0-9.]+)", r.stdout).group(1))
        lat = float(re.search(r"latency average = ([0-9.]+) ms", r.stdout).group(1))
        failed = int(re.search(r"number of failed transactions: (\d+)", r.stdout).group(1))
        return tps, lat, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--provinces", type=int, default=63)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--append", action="store_true")
    a = ap.parse_args()
    n = int(psql("SELECT count(*) FROM tenants").strip())
    if n < a.provinces:
        sys.exit(f"{DB} holds {n} provinces; run bench/web.py --provinces {a.provinces} first")
    results = {}
    for shape in ("one-statement", "as-the-server"):
        runs = []
        for i in range(a.runs):
            runs.append(run(shape, a.provinces, a.clients, a.duration))
            print(f"{shape} run {i + 1}: {runs[-1][0]:.0f} tps, {runs[-1][1]:.2f} ms avg, {runs[-1][2]} failed", flush=True)
        results[shape] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
                          sum(r[2] for r in runs))
    # The rows stay: portal_bench_web is the benchmarks' scratch database (web.py drops and
    # re-seeds it), and the history tables refuse deletes by design.
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], text=True,
                            capture_output=True).stdout.strip()
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    table = [f"### pgbench ceiling for a submission's rows — {date} — commit {commit} — {os.cpu_count()} cores",
             "",
             f"Command: `bench/pgbench_ceiling.py --provinces {a.provinces} --clients {a.clients} "
             f"--duration {a.duration} --runs {a.runs}` (pgbench -M prepared -j2, medians of {a.runs} runs)",
             "",
             "| shape | transactions/s | latency avg | failed |",
             "|---|---|---|---|"]
    for shape, (tps, lat, failed) in results.items():
        table.append(f"| {shape} | {tps:,.0f} | {lat:.2f} ms | {failed} |")
    text = "\n".join(table) + "\n"
    print(text)
    if a.append:
        with open(os.path.join(ROOT, "BENCHMARKS.md"), "a") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
