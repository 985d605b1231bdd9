#!/usr/bin/env python3
"""Instructions the server executes per request, counted by valgrind (callgrind): a figure
that does not move with the machine's load, for before/after comparisons on a shared machine.

    bench/instructions.py BIN [BIN …] [--requests 200] [--append]

For each binary: a database of its own (`portal_bench_instr_<n>`, 2 provinces, seeded as
`bench/web.py` does), the server started under `valgrind --tool=callgrind` with the
background jobs off, a warm-up (site cache, token, pool, the pre-rendered page), the counters
zeroed (`callgrind_control -z`), then `--requests` sequential requests of each scenario
(anonymous `GET /` alternating two provinces; `POST /api/v1/dossiers`), each followed by a
dump (`callgrind_control -d`); instructions per request = the dump's total / requests.
Counts the server's instructions only (its every thread), not PostgreSQL's.
"""
import argparse, glob, os, re, subprocess, sys, time, urllib.request
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web  # noqa: E402


def total_ir(outdir):
    """The sum of `totals:`/`summary:` over the dump files written since the last zeroing."""
    n = 0
    for path in glob.glob(os.path.join(outdir, "callgrind.out*")):
        for line in open(path, errors="replace"):
            m = re.match(r"(?:totals|summary):\s+(\d+)", line)
            if m:
                n += int(m.group(1))
                break
    return n


def clear(outdir):
    for path in glob.glob(os.path.join(outdir, "callgrind.out*")):
        os.remove(path)


def measure(binary, index, requests):
    web.BIN = os.path.abspath(binary)
    web.DB = f"portal_bench_instr_{index}"
    web.PORT = 18190 + index
    web.OUT = os.path.join(web.ROOT, "bench", "out", f"instr-{index}")
    os.makedirs(web.OUT, exist_ok=True)
    web.seed(2)
    outdir = os.path.join(web.OUT, "callgrind")
    os.makedirs(outdir, exist_ok=True)
    clear(outdir)
    env = {**web.env(), "PORTAL__JOBS__ENABLED": "false"}
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={outdir}/callgrind.out.%p",
         web.BIN, "serve"], env=env, stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(web.OUT, "valgrind.log"), "w"))
    try:
        for _ in range(1200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{web.PORT}/healthz", timeout=5)
                break
            except Exception:
                time.sleep(0.5)
        else:
            sys.exit(f"server under valgrind did not start; see {web.OUT}/valgrind.log")
        hosts, tokens = web.citizens(2)

        def home(i):
            req = urllib.request.Request(f"http://127.0.0.1:{web.PORT}/", headers={"Host": hosts[i % 2]})
            with urllib.request.urlopen(req, timeout=60) as r:
                assert r.status == 200
                r.read()

        def submit(i):
            st, body = web.http("POST", hosts[i % 2], "/api/v1/dossiers", web.DOSSIER, tokens[i % 2])
            assert st == 201, (st, body)

        results = {}
        for name, fn in (("home", home), ("submit", submit)):
            for i in range(10):  # warm-up
                fn(i)
            time.sleep(1)
            subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
            clear(outdir)
            for i in range(requests):
                fn(i)
            time.sleep(1)  # after-commit work and the mail worker's wake-up settle
            subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
            time.sleep(1)
            results[name] = total_ir(outdir) / requests
            print(f"{binary}: {name} {results[name]:,.0f} instructions per request", flush=True)
        return results
    finally:
        proc.terminate()
        proc.wait(timeout=120)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bins", nargs="+")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--append", action="store_true")
    a = ap.parse_args()
    rows = [(b, measure(b, i, a.requests)) for i, b in enumerate(a.bins)]
    base = rows[0][1]
    for b, r in rows:
        print(f"{b}: home {r['home']:,.0f} (×{r['home'] / base['home']:.2f}), "
              f"submit {r['submit']:,.0f} (×{r['submit'] / base['submit']:.2f})")
    if a.append:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=web.ROOT, text=True,
                                capture_output=True).stdout.strip()
        with open(os.path.join(web.ROOT, "BENCHMARKS.md"), "a") as f:
            f.write(f"\n### Instructions per request (callgrind) — {datetime.now(timezone.utc):%Y-%m-%d} — commit {commit}\n\n")
            f.write(f"Command: `bench/instructions.py {' '.join(a.bins)} --requests {a.requests}` "
                    "(server instructions only, every thread; jobs off; sequential requests after a warm-up)\n\n")
            f.write("| binary | GET / anonymous | vs first | POST /api/v1/dossiers | vs first |\n|---|---|---|---|---|\n")
            for b, r in rows:
                f.write(f"| `{b}` | {r['home']:,.0f} | ×{r['home'] / base['home']:.2f} | "
                        f"{r['submit']:,.0f} | ×{r['submit'] / base['submit']:.2f} |\n")


if __name__ == "__main__":
    main()
