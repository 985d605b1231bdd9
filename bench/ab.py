#!/usr/bin/env python3
"""A/B throughput of two builds in the same run (issue 21): on a shared, loaded machine only a
ratio measured side by side means anything.

    bench/ab.py A_BIN B_BIN [--provinces 63] [--duration 10] [--runs 3] [--only home,submit] [--append]

Each binary gets its own database (`portal_bench_ab_a`, `portal_bench_ab_b`, seeded alike as
`bench/web.py` does), data directory and port; both servers run for the whole measurement and
the runs alternate A, B, A, B … per scenario, so a change of the machine's load hits both.
Prints per scenario the median requests/s, p50, p99 of each side and B/A, and the load
average before and after. wrk as in `bench/web.py` (trivial route, home over the provinces at
32 connections, submissions over the provinces at 16).
"""
import argparse, os, statistics, subprocess, sys, urllib.request
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web  # noqa: E402

SIDES = {"A": {"db": "portal_bench_ab_a", "port": 18181}, "B": {"db": "portal_bench_ab_b", "port": 18182}}


def use(side):
    s = SIDES[side]
    web.BIN, web.DB, web.PORT = s["bin"], s["db"], s["port"]
    web.OUT = os.path.join(web.ROOT, "bench", "out", f"ab-{side}")
    os.makedirs(web.OUT, exist_ok=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a_bin")
    ap.add_argument("b_bin")
    ap.add_argument("--provinces", type=int, default=63)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="trivial,home,submit")
    ap.add_argument("--append", action="store_true")
    a = ap.parse_args()
    SIDES["A"]["bin"], SIDES["B"]["bin"] = os.path.abspath(a.a_bin), os.path.abspath(a.b_bin)
    only = a.only.split(",")
    load_before = open("/proc/loadavg").read().split()[:3]
    servers, scripts = {}, {}
    try:
        for side in SIDES:
            use(side)
            web.seed(a.provinces)
            servers[side] = web.start_server()
            web.settle(servers[side])
            hosts = [f"{web.slug(i)}.localhost" for i in range(a.provinces)]
            for h in hosts:  # every province's site data cached, as in web.py
                urllib.request.urlopen(urllib.request.Request(
                    f"http://127.0.0.1:{web.PORT}/", headers={"Host": h}), timeout=30).read()
            chosen = {}
            if "trivial" in only:
                chosen["trivial"] = (web.lua("trivial", hosts, path="/healthz"), 32)
            if "home" in only:
                chosen["home"] = (web.lua("home", hosts), 32)
            if "submit" in only:
                h, t = web.citizens(a.provinces)
                chosen["submit"] = (web.lua("submit", h, t, "POST", "/api/v1/dossiers", web.DOSSIER), 16)
            scripts[side] = chosen
        rows = []
        for scenario in [s for s in ("trivial", "home", "submit") if s in only]:
            runs = {"A": [], "B": []}
            for _ in range(a.runs):
                for side in SIDES:
                    use(side)
                    script, conns = scripts[side][scenario]
                    runs[side].append(web.wrk(script, conns, a.duration))
            med = {side: {k: statistics.median(r[k] for r in runs[side]) for k in ("rps", "p50", "p99")}
                   for side in SIDES}
            errors = {side: sum(r["errors"] for r in runs[side]) for side in SIDES}
            ratio = med["B"]["rps"] / med["A"]["rps"]
            rows.append((scenario, scripts["A"][scenario][1], med, errors, ratio,
                         [r["rps"] for r in runs["A"]], [r["rps"] for r in runs["B"]]))
            print(f"{scenario:8} A {med['A']['rps']:8.0f} req/s p99 {med['A']['p99']:6.2f} ms | "
                  f"B {med['B']['rps']:8.0f} req/s p99 {med['B']['p99']:6.2f} ms | B/A ×{ratio:.2f} "
                  f"(errors A {errors['A']}, B {errors['B']})", flush=True)
    finally:
        for p in servers.values():
            p.terminate()
            p.wait(timeout=30)
    load_after = open("/proc/loadavg").read().split()[:3]
    print(f"load average before {' '.join(load_before)}, after {' '.join(load_after)}")
    if a.append:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=web.ROOT, text=True,
                                capture_output=True).stdout.strip()
        with open(os.path.join(web.ROOT, "BENCHMARKS.md"), "a") as f:
            f.write(f"\n### A/B throughput — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC — commit {commit} — "
                    f"{os.cpu_count()} cores, wrk on the same machine\n\n")
            f.write(f"Command: `bench/ab.py {a.a_bin} {a.b_bin} --provinces {a.provinces} --duration {a.duration} "
                    f"--runs {a.runs} --only {a.only}` (runs alternate A, B; medians of {a.runs} runs of {a.duration} s). "
                    f"Load average before {' '.join(load_before)}, after {' '.join(load_after)}.\n\n")
            f.write("| scenario | conns | A req/s (p99 ms) | B req/s (p99 ms) | B/A | runs A | runs B | errors A / B |\n"
                    "|---|---|---|---|---|---|---|---|\n")
            for scenario, conns, med, errors, ratio, ra, rb in rows:
                f.write(f"| {scenario} | {conns} | {med['A']['rps']:.0f} ({med['A']['p99']:.2f}) | "
                        f"{med['B']['rps']:.0f} ({med['B']['p99']:.2f}) | ×{ratio:.2f} | "
                        f"{', '.join(f'{x:.0f}' for x in ra)} | {', '.join(f'{x:.0f}' for x in rb)} | "
                        f"{errors['A']} / {errors['B']} |\n")


if __name__ == "__main__":
    main()
