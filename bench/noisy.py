#!/usr/bin/env python3
"""Noisy neighbour (issue 5): province A floods at ten times its leased rate while province B
runs its normal load; B's p50/p99 and errors are compared with B running alone.

    bench/noisy.py [--duration 15] [--append]

A is leased a plan of 50 requests/s (burst 50) and flooded at ~500 requests/s; B keeps the
standard plan (150 requests/s) and sends ~100 requests/s (paced with wrk's delay()). Uses the
seeding and server of bench/web.py.
"""
import argparse, json, os, subprocess, sys, threading, time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web  # noqa: E402  (bench/web.py)

def paced_lua(name, host, delay_ms, path="/api/v1/procedures"):
    p = os.path.join(web.OUT, f"{name}.lua")
    with open(p, "w") as f:
        f.write(f'request = function() return wrk.format("GET", "{path}", {{["Host"] = "{host}"}}) end\n')
        f.write(f"delay = function() return {delay_ms} end\n")
        f.write("local statuses = {}\nresponse = function(status) statuses[status] = (statuses[status] or 0) + 1 end\n")
    return p

def run(script, conns, duration, out):
    out.append(web.wrk(script, conns, duration))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--append", action="store_true")
    a = ap.parse_args()
    os.makedirs(web.OUT, exist_ok=True)
    web.sh("cargo", "build", "--release", "--quiet", cwd=web.ROOT)
    web.seed(2)
    server = web.start_server()
    try:
        hosts, _ = web.citizens(2)
        # The operator leases province A a small plan through the API.
        env = web.env()
        p = subprocess.run([web.BIN, "operator", "create", "--email", "bench@ops.vn", "--role", "operator", "--password-stdin"],
                           input="bench-operator-pass\n", env=env, text=True, capture_output=True)
        assert p.returncode == 0, p.stderr
        st, tok = web.http("POST", "ops.localhost", "/api/v1/auth/token", {"email": "bench@ops.vn", "password": "bench-operator-pass"})
        token = tok["access_token"]
        plan = {"name": "Nhỏ", "monthly_fee_vnd": 1000000, "rate_limit_rps": 50, "rate_burst": 50, "metrics": {
            m: {"included": 10**12, "unit_price_vnd": 0, "hard_cap": None} for m in ["dossiers", "storage_bytes", "api_calls", "emails", "seats"]}}
        st, _ = web.http("PUT", "ops.localhost", "/api/v1/plans/small", plan, token)
        assert st == 200, st
        today = datetime.now(timezone.utc).date().isoformat()
        st, _ = web.http("PUT", "ops.localhost", "/api/v1/tenants/tinh-00/lease", {"plan": "small", "starts_on": today}, token)
        assert st == 200, st
        time.sleep(0.5)
        a_host, b_host = hosts
        b_script = paced_lua("b_normal", b_host, 40)   # 4 connections × 25/s ≈ 100 requests/s
        a_script = paced_lua("a_flood", a_host, 20)    # 10 connections × 50/s ≈ 500 requests/s
        alone = web.wrk(b_script, 4, a.duration)
        b_out, a_out = [], []
        ta = threading.Thread(target=run, args=(a_script, 10, a.duration, a_out))
        ta.start()
        time.sleep(1)
        run(b_script, 4, a.duration - 2, b_out)
        ta.join()
        together, flood = b_out[0], a_out[0]
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = [("B alone", alone), ("B while A floods", together), ("A flooding (10× its rate)", flood)]
    for name, r in rows:
        print(f"{name:28} {r['rps']:8.0f} req/s  p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms  non-2xx {r['errors']}/{r['total']}")
    if a.append:
        commit = web.sh("git", "rev-parse", "--short", "HEAD", cwd=web.ROOT).stdout.strip()
        with open(os.path.join(web.ROOT, "BENCHMARKS.md"), "a") as f:
            f.write(f"\n### Noisy neighbour — {datetime.now(timezone.utc):%Y-%m-%d} — commit {commit} — {os.cpu_count()} cores\n\n")
            f.write(f"Command: `bench/noisy.py --duration {a.duration} --append`. A leased 50 req/s (burst 50) and flooded at ≈500 req/s "
                    "(10 connections, 20 ms pacing); B on the standard plan at ≈100 req/s (4 connections, 40 ms pacing), "
                    "`GET /api/v1/procedures`.\n\n")
            f.write("| run | requests/s | p50 ms | p99 ms | non-2xx |\n|---|---|---|---|---|\n")
            for name, r in rows:
                f.write(f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} of {r['total']} |\n")
            f.write("\nA's non-2xx are its own 429s (`rate_limited`, with Retry-After); B's must be 0.\n")

if __name__ == "__main__":
    main()
