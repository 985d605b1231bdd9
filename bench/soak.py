#!/usr/bin/env python3
"""Soak (issue 9): mixed load held for a long time at a steady rate, reported every minute.

    bench/soak.py [--minutes 30] [--rate 0] [--provinces 10] [--out FILE]

The mix, by request: province home pages (`GET /`) and catalog reads (`GET /api/v1/procedures`),
dossier submissions, uploads (a small PDF on a dossier just filed, by its citizen), and staff
moves (`accept`, then `process`, on dossiers filed earlier in the run), over --provinces
provinces, each with one citizen and one official. One wrk process per minute (Lua script,
paced with `delay()` and corrected each minute towards the target rate); each minute prints
requests by kind, errors, p50/p99 latency, the server's RSS, PostgreSQL's memory (PSS of all
its processes, and of the backends serving the soak database), the database size and the
outbox backlog.

--rate 0 (the default): half of the mix's maximum, measured first with the same script unpaced
for --calibrate seconds.

At the end the server is stopped with SIGTERM and the data checked: every dossier whole (its
history row, its usage event and its mail), the `dossiers` usage equal to the dossiers, API calls
counted against the calls made, mails written against the outbox. The report (markdown) goes to
--out (default bench/out/soak/report.md).

Uses the seeding of bench/web.py (database `portal_soak`, server on 127.0.0.1:18095) and the
release binary (`BENCH_BIN`, else `$CARGO_TARGET_DIR` or `target`, `release/portal`).
"""
import argparse, json, math, os, re, shutil, signal, subprocess, sys, time, urllib.request
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web  # noqa: E402  (bench/web.py)

web.DB = "portal_soak"
web.PORT = 18095
web.OUT = os.path.join(web.ROOT, "bench", "out", "soak")
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(web.ROOT, "target")
web.BIN = os.environ.get("BENCH_BIN") or os.path.join(TARGET, "release", "portal")
MAIL_DIR = os.path.join(web.OUT, "data", "mail")
PASSWORD = "bench-password-2026"

# Share of requests by kind (staff moves and uploads fall back to a home page when no dossier
# is waiting for them).
MIX = [("home", 0.50), ("catalog", 0.25), ("submit", 0.08), ("upload", 0.03), ("accept", 0.07), ("process", 0.07)]
# Billed API calls: those made with a token (the catalog reads are anonymous, not billed).
API_KINDS = ("submit", "upload", "accept", "process")


def env():
    e = web.env()
    # Tokens must outlive the run.
    e["PORTAL__AUTH__TOKEN_TTL_SECS"] = "86400"
    return e


def start_server():
    shutil.rmtree(os.path.join(web.OUT, "data"), ignore_errors=True)
    log = open(os.path.join(web.OUT, "server.log"), "w")
    proc = subprocess.Popen([web.BIN, "serve"], env=env(), stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{web.PORT}/readyz", timeout=1)
            return proc
        except Exception:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"server did not start; see {web.OUT}/server.log")


def people(n):
    """Per province: host, citizen token, official token, tracking-code prefix. Also files one
    dossier each (to learn the prefix); returns the API calls that made."""
    hosts, citizens, officials, prefixes = [], [], [], {}
    calls = 0
    for i in range(n):
        slug = web.slug(i)
        host = f"{slug}.localhost"
        email = f"citizen{i:02d}@soak.vn"
        st, _ = web.http("POST", host, "/api/v1/auth/register", {"email": email, "password": PASSWORD, "full_name": "Người Thử"})
        assert st in (201, 409), st
        st, body = web.http("POST", host, "/api/v1/auth/token", {"email": email, "password": PASSWORD})
        assert st == 200, (st, body)
        citizen = body["access_token"]
        staff = f"official{i:02d}@soak.vn"
        p = subprocess.run([web.BIN, "user", "create", "--tenant", slug, "--email", staff, "--role", "official",
                            "--name", "Cán bộ Thử", "--password-stdin"], input=PASSWORD + "\n", env=env(),
                           text=True, capture_output=True)
        assert p.returncode == 0, p.stderr
        st, body = web.http("POST", host, "/api/v1/auth/token", {"email": staff, "password": PASSWORD})
        assert st == 200, (st, body)
        official = body["access_token"]
        st, body = web.http("POST", host, "/api/v1/dossiers", web.DOSSIER, citizen)
        assert st == 201, (st, body)
        prefixes[body["tracking_code"].split("-")[0]] = i + 1
        calls += 4
        hosts.append(host)
        citizens.append(citizen)
        officials.append(official)
    return hosts, citizens, officials, prefixes, calls


def lua(path, hosts, citizens, officials, prefixes, delay_ms):
    """The mix as one wrk script. `delay_ms` per request and connection (0: unpaced)."""
    q = json.dumps
    cum, total = [], 0.0
    for kind, share in MIX:
        total += share
        cum.append((kind, total))
    pdf = "%PDF-1.4\\n" + "soak " * 400 + "\\n%%EOF"
    upload_share = dict(MIX)["upload"] / dict(MIX)["submit"]
    src = f"""
local hosts = {{{",".join(q(h) for h in hosts)}}}
local ctok = {{{",".join(q(t) for t in citizens)}}}
local stok = {{{",".join(q(t) for t in officials)}}}
local prefix = {{{",".join(f"[{q(p)}]={k}" for p, k in prefixes.items())}}}
local dossier = [==[{json.dumps(web.DOSSIER, ensure_ascii=False)}]==]
local boundary = "soakboundary7MA4YWxkTrZu0gW"
local pdf_body = "--" .. boundary .. "\\r\\nContent-Disposition: form-data; name=\\"file\\"; filename=\\"giay-to.pdf\\"\\r\\nContent-Type: application/pdf\\r\\n\\r\\n{pdf}\\r\\n--" .. boundary .. "--\\r\\n"
local DELAY = {delay_ms}
local UPLOAD_SHARE = {upload_share}
local LAG = 64
local threads = {{}}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + tid)
  counts = {{home = 0, catalog = 0, submit = 0, upload = 0, accept = 0, process = 0}}
  statuses = {{}}
  up = {{first = 1, last = 0}}
  acc = {{first = 1, last = 0}}
  pro = {{first = 1, last = 0}}
  n = 0
end

local function push(q, v)
  q.last = q.last + 1
  q[q.last] = v
end

local function pop(q)
  if q.first > q.last then return nil end
  local v = q[q.first]
  if v.ready > n then return nil end
  q[q.first] = nil
  q.first = q.first + 1
  return v
end

local function home(k)
  counts.home = counts.home + 1
  return wrk.format("GET", "/", {{["Host"] = hosts[k]}})
end

request = function()
  n = n + 1
  local r = math.random()
  local k = math.random(#hosts)
  if r < {cum[0][1]} then
    return home(k)
  elseif r < {cum[1][1]} then
    counts.catalog = counts.catalog + 1
    return wrk.format("GET", "/api/v1/procedures", {{["Host"] = hosts[k]}})
  elseif r < {cum[2][1]} then
    counts.submit = counts.submit + 1
    return wrk.format("POST", "/api/v1/dossiers", {{["Host"] = hosts[k], ["Authorization"] = "Bearer " .. ctok[k], ["Content-Type"] = "application/json"}}, dossier)
  elseif r < {cum[3][1]} then
    local d = pop(up)
    if not d then return home(k) end
    counts.upload = counts.upload + 1
    push(acc, {{code = d.code, k = d.k, ready = n + LAG}})
    return wrk.format("POST", "/api/v1/dossiers/" .. d.code .. "/attachments", {{["Host"] = hosts[d.k], ["Authorization"] = "Bearer " .. ctok[d.k], ["Content-Type"] = "multipart/form-data; boundary=" .. boundary}}, pdf_body)
  elseif r < {cum[4][1]} then
    local d = pop(acc)
    if not d then return home(k) end
    counts.accept = counts.accept + 1
    return wrk.format("POST", "/api/v1/manage/dossiers/" .. d.code .. "/actions", {{["Host"] = hosts[d.k], ["Authorization"] = "Bearer " .. stok[d.k], ["Content-Type"] = "application/json"}}, '{{"action":"accept"}}')
  else
    local d = pop(pro)
    if not d then return home(k) end
    counts.process = counts.process + 1
    return wrk.format("POST", "/api/v1/manage/dossiers/" .. d.code .. "/actions", {{["Host"] = hosts[d.k], ["Authorization"] = "Bearer " .. stok[d.k], ["Content-Type"] = "application/json"}}, '{{"action":"process"}}')
  end
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= 200 and status ~= 201 then return end
  local code = body:match('"tracking_code":"([^"]+)"')
  if not code then return end
  local k = prefix[code:match("^([^-]+)")]
  if not k then return end
  if status == 201 then
    if math.random() < UPLOAD_SHARE then
      push(up, {{code = code, k = k, ready = n + LAG}})
    else
      push(acc, {{code = code, k = k, ready = n + LAG}})
    end
  elseif body:find('"status":"accepted"', 1, true) and not body:find('"status":"processing"', 1, true) then
    push(pro, {{code = code, k = k, ready = n + LAG}})
  end
end

delay = function()
  if DELAY <= 0 then return 0 end
  return math.floor(DELAY + math.random())
end

done = function(summary, latency, requests)
  local c = {{}}
  local s = {{}}
  for _, t in ipairs(threads) do
    for key, v in pairs(t:get("counts")) do c[key] = (c[key] or 0) + v end
    for key, v in pairs(t:get("statuses")) do s[tostring(key)] = (s[tostring(key)] or 0) + v end
  end
  local parts = {{}}
  for key, v in pairs(c) do table.insert(parts, string.format('"%s":%d', key, v)) end
  local st = {{}}
  for key, v in pairs(s) do table.insert(st, string.format('"%s":%d', key, v)) end
  io.write("SOAK {{\\"counts\\":{{" .. table.concat(parts, ",") .. "}},\\"statuses\\":{{" .. table.concat(st, ",") .. "}}}}\\n")
end
"""
    with open(path, "w") as f:
        f.write(src)
    return path


def run_wrk(script, conns, seconds):
    out = web.sh("wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", script,
                 f"http://127.0.0.1:{web.PORT}", check=False).stdout
    m = re.search(r"^SOAK (\{.*\})$", out, re.M)
    if not m:
        sys.exit(f"wrk gave no summary:\n{out}")
    soak = json.loads(m.group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    socket = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)) if "Socket errors" in out else 0
    return {
        "total": total, "counts": soak["counts"], "statuses": soak["statuses"], "socket_errors": socket,
        "p50": web.to_ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": web.to_ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "rps": total / seconds,
    }


def backend_pss_mb():
    """PSS of the PostgreSQL backends serving the soak database (not the whole cluster)."""
    pids = web.psql(f"SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE datname = '{web.DB}'").split()
    total = 0
    for pid in pids:
        try:
            for line in open(f"/proc/{pid}/smaps_rollup"):
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return total // 1024


def rss_mb(pid):
    return int(open(f"/proc/{pid}/status").read().split("VmRSS:")[1].split()[0]) // 1024


def schemas():
    rows = web.psql("SELECT id || ' ' || schema_name FROM public.tenants ORDER BY slug", web.DB).split("\n")
    return [r.split() for r in rows if r.strip()]


def outbox_backlog():
    """Unsent mails over every province, and how long the oldest has waited (s)."""
    parts = " UNION ALL ".join(f"SELECT created_at FROM {s}.outbox WHERE sent_at IS NULL" for _, s in schemas())
    n, age = web.psql(f"SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::int FROM ({parts}) o", web.DB).strip().split("|")
    return int(n), int(age)


def sweep_mail():
    """Mail goes to .eml files (no SMTP server in the soak): count them and delete them."""
    n = 0
    if os.path.isdir(MAIL_DIR):
        for name in os.listdir(MAIL_DIR):
            try:
                os.remove(os.path.join(MAIL_DIR, name))
                n += 1
            except FileNotFoundError:
                pass
    return n


def checks(api_calls_made, mails_written, max_in_flight):
    """After the server stopped: is every dossier whole, and does usage match?"""
    rows = []
    half = dossiers = usage = api = 0
    for tid, s in schemas():
        half += int(web.psql(
            f"SELECT count(*) FROM {s}.dossiers d "
            f"WHERE NOT EXISTS (SELECT 1 FROM {s}.dossier_events e WHERE e.dossier_id = d.id AND e.status = 'submitted') "
            f"OR NOT EXISTS (SELECT 1 FROM {s}.outbox o WHERE o.dossier_id = d.id AND o.kind = 'dossier_received') "
            f"OR NOT EXISTS (SELECT 1 FROM public.usage_events u WHERE u.tenant_id = '{tid}' "
            f"AND u.idempotency_key = 'dossier:' || d.id || ':submitted')", web.DB))
        dossiers += int(web.psql(f"SELECT count(*) FROM {s}.dossiers", web.DB))
        usage += int(web.psql(f"SELECT coalesce(sum(quantity), 0) FROM public.usage_period WHERE tenant_id = '{tid}' AND metric = 'dossiers'", web.DB))
        api += int(web.psql(f"SELECT coalesce(sum(quantity), 0) FROM public.usage_period WHERE tenant_id = '{tid}' AND metric = 'api_calls'", web.DB))
    parts = " UNION ALL ".join(f"SELECT sent_at, kind FROM {s}.outbox" for _, s in schemas())
    sent = int(web.psql(f"SELECT count(*) FROM ({parts}) o WHERE sent_at IS NOT NULL", web.DB))
    unsent = int(web.psql(f"SELECT count(*) FROM ({parts}) o WHERE sent_at IS NULL", web.DB))
    def total(table):
        return int(web.psql("SELECT " + " + ".join(f"(SELECT count(*) FROM {s}.{table})" for _, s in schemas()), web.DB))
    events, blobs = total("dossier_events"), total("attachments")
    # wrk counts a request when it sends it; those still in flight when each minute's run ended
    # may or may not have reached the server.
    ok_api = api_calls_made - max_in_flight <= api <= api_calls_made
    rows.append(("dossiers stored", dossiers, ""))
    rows.append(("dossiers missing their history row, usage event or mail", half, "ok" if half == 0 else "FAIL"))
    rows.append(("`dossiers` usage", usage, "ok (= dossiers)" if usage == dossiers else "FAIL"))
    rows.append(("history rows (submissions and staff moves)", events, ""))
    rows.append(("attachments stored", blobs, ""))
    rows.append(("API calls sent by the clients", api_calls_made, ""))
    rows.append(("API calls counted in usage", api, f"ok (sent − {max_in_flight} in flight at the runs' ends ≤ counted ≤ sent)" if ok_api else "FAIL"))
    rows.append(("mails marked sent / still queued at stop", f"{sent} / {unsent}", ""))
    rows.append(("mail files written", mails_written, "ok (= marked sent)" if mails_written == sent else "DIFFERENT"))
    return rows, half == 0 and usage == dossiers and ok_api


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=int, default=30)
    ap.add_argument("--rate", type=float, default=0, help="requests/s; 0 = half of the measured maximum")
    ap.add_argument("--provinces", type=int, default=10)
    ap.add_argument("--calibrate", type=int, default=20, help="seconds of unpaced load to measure the maximum")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    os.makedirs(web.OUT, exist_ok=True)
    out_path = a.out or os.path.join(web.OUT, "report.md")
    if not shutil.which("wrk"):
        web.sh("apt-get", "install", "-y", "-qq", "wrk")
    if not os.environ.get("BENCH_BIN"):
        web.sh("cargo", "build", "--release", "--quiet", cwd=web.ROOT)
    started = datetime.now(timezone.utc)
    web.seed(a.provinces)
    server = start_server()
    lines = []

    def say(line=""):
        print(line, flush=True)
        lines.append(line)

    api_made = 0
    mails = 0
    conns = 0
    calibration = None
    totals = {"requests": 0, "errors": 0}
    kinds = {k: 0 for k, _ in MIX}
    p99s = [0.0]
    try:
        hosts, citizens, officials, prefixes, setup_calls = people(a.provinces)
        api_made += setup_calls
        script = os.path.join(web.OUT, "mix.lua")
        rate = a.rate
        if rate <= 0:
            lua(script, hosts, citizens, officials, prefixes, 0)
            calibration = run_wrk(script, 32, a.calibrate)
            api_made += sum(calibration["counts"][k] for k in API_KINDS)
            rate = calibration["rps"] / 2
            mails += sweep_mail()
        # Connections so that each waits ≥ ~8 ms between requests (wrk's delay is in whole ms).
        conns = max(16, min(512, math.ceil(rate * 0.010)))
        delay = conns * 1000 / rate
        commit = web.sh("git", "rev-parse", "--short", "HEAD", cwd=web.ROOT).stdout.strip()
        say(f"## Soak — {started:%Y-%m-%d %H:%M} UTC — commit {commit} — {os.cpu_count()} cores, wrk on the same machine")
        say()
        say(f"Command: `bench/soak.py --minutes {a.minutes}" + (f" --rate {a.rate:g}" if a.rate > 0 else "") +
            f" --provinces {a.provinces}` (release build). Mix by request: " +
            ", ".join(f"{k} {int(v * 100)}%" for k, v in MIX) + ".")
        if calibration:
            say(f"Maximum of the mix, unpaced, 32 connections, {a.calibrate} s: {calibration['rps']:.0f} requests/s "
                f"(p50 {calibration['p50']:.2f} ms, p99 {calibration['p99']:.2f} ms); the soak holds half: "
                f"{rate:.0f} requests/s over {conns} connections.")
        else:
            say(f"Target {rate:.0f} requests/s over {conns} connections.")
        say()
        say("| min | requests | req/s | home / catalog / submit / upload / accept / process | errors | p50 ms | p99 ms | server RSS MB | PostgreSQL PSS MB (all / soak backends) | DB MB | mails sent | outbox unsent (oldest, s) |")
        say("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for minute in range(1, a.minutes + 1):
            lua(script, hosts, citizens, officials, prefixes, max(0.0, delay))
            r = run_wrk(script, conns, 60)
            errors = r["socket_errors"] + sum(v for k, v in r["statuses"].items() if not k.startswith("2"))
            totals["requests"] += r["total"]
            totals["errors"] += errors
            for k in kinds:
                kinds[k] += r["counts"].get(k, 0)
            api_made += sum(r["counts"].get(k, 0) for k in API_KINDS)
            p99s = [p for p in p99s if p] + [r["p99"]]
            swept = sweep_mail()
            mails += swept
            unsent, oldest = outbox_backlog()
            c = r["counts"]
            bad = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()) if not k.startswith("2"))
            say(f"| {minute} | {r['total']} | {r['rps']:.0f} | {c.get('home', 0)} / {c.get('catalog', 0)} / {c.get('submit', 0)} / "
                f"{c.get('upload', 0)} / {c.get('accept', 0)} / {c.get('process', 0)} | {errors}{f' ({bad})' if bad else ''} | "
                f"{r['p50']:.2f} | {r['p99']:.2f} | {rss_mb(server.pid)} | {web.pss_mb('postgres')} / {backend_pss_mb()} | "
                f"{int(web.psql('SELECT pg_database_size(current_database()) / 1048576', web.DB))} | {swept} | {unsent} ({oldest}) |")
            # Towards the target: the interval a connection needs minus the one it had.
            if r["rps"] > 0:
                delay = max(0.0, delay + conns * 1000 / rate - conns * 1000 / r["rps"])
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    mails += sweep_mail()
    say()
    say(f"Total: {totals['requests']} requests in {a.minutes} min ({totals['requests'] / (a.minutes * 60):.0f}/s), "
        f"{totals['errors']} errors; by kind: " + ", ".join(f"{k} {v}" for k, v in kinds.items()) +
        f"; p99 per minute from {min(p99s):.2f} to {max(p99s):.2f} ms. Server stopped by SIGTERM, exit code {code}.")
    say()
    rows, ok = checks(api_made, mails, conns * a.minutes + (32 if calibration else 0))
    say("| after the run | value | |")
    say("|---|---|---|")
    for name, value, verdict in rows:
        say(f"| {name} | {value} | {verdict} |")
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"\nreport: {out_path}")
    sys.exit(0 if ok and code == 0 and totals["errors"] == 0 else 1)


if __name__ == "__main__":
    main()
