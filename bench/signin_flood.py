#!/usr/bin/env python3
"""Sign-in flood (issue 15, finding 3): a province's citizen reads their dossiers (the JSON API
and the page, alternately, ≈40 requests/s) while anonymous clients flood sign-in, first on the
national host, then on a neighbouring province. Each flood request names a new address, so each
costs one password verification (a dummy one): the most CPU an anonymous request can buy.
The citizen's p99 under each flood is compared with its quiet p99.

    bench/signin_flood.py [--duration 5] [--flooders 16] [--append]

Everything is on 127.0.0.1 and lasts seconds. Uses the seeding and server of bench/web.py
(release build; BENCH_BIN for another binary). Python threads with keep-alive connections (the flood in a
process of its own), so no wrk is needed. The per-client rate limits of sign-in endpoints are another change's; what
this measures is the hashing bound (`auth.hash_concurrency`) and that no pooled connection is
held while hashing.
"""
import argparse, http.client, json, multiprocessing, os, sys, threading, time, uuid
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web  # noqa: E402  (bench/web.py)

# Another port and database may be chosen, so this runs beside other benchmarks.
web.PORT = int(os.environ.get("BENCH_PORT", web.PORT))


def conn():
    return http.client.HTTPConnection("127.0.0.1", web.PORT, timeout=30)


def citizen_load(host, token, seconds, out):
    """Paced reads: GET /api/v1/dossiers (Bearer) and GET /dossiers (session cookie)."""
    c = conn()
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        i += 1
        if i % 2:
            path, headers = "/api/v1/dossiers", {"Host": host, "Authorization": f"Bearer {token}"}
        else:
            path, headers = "/dossiers", {"Host": host, "Cookie": f"session={token}"}
        t0 = time.monotonic()
        try:
            c.request("GET", path, headers=headers)
            r = c.getresponse()
            r.read()
            status = r.status
        except Exception:
            status = 0
            c.close()
            c = conn()
        out.append(((time.monotonic() - t0) * 1000, status))
        time.sleep(0.05)


def flooder(host, stop, counts, lock):
    c = conn()
    while not stop.is_set():
        body = json.dumps({"email": f"flood-{uuid.uuid4().hex[:12]}@example.vn", "password": "not-the-password-at-all"})
        try:
            c.request("POST", "/api/v1/auth/token", body=body, headers={"Host": host, "Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            status = r.status
        except Exception:
            status = 0
            c.close()
            c = conn()
        with lock:
            counts[status] = counts.get(status, 0) + 1


def flood_process(host, flooders, stop, queue):
    """The flood, in a process of its own: its threads never hold the measuring process's GIL."""
    lock, counts, inner = threading.Lock(), {}, threading.Event()
    threads = [threading.Thread(target=flooder, args=(host, inner, counts, lock)) for _ in range(flooders)]
    for t in threads:
        t.start()
    stop.wait()
    inner.set()
    for t in threads:
        t.join()
    queue.put(counts)


def phase(host, token, seconds, flood_host=None, flooders=16):
    stop, queue, proc = multiprocessing.Event(), multiprocessing.Queue(), None
    counts = {}
    if flood_host:
        proc = multiprocessing.Process(target=flood_process, args=(flood_host, flooders, stop, queue))
        proc.start()
        time.sleep(0.5)
    samples_a, samples_b = [], []
    ta = threading.Thread(target=citizen_load, args=(host, token, seconds, samples_a))
    tb = threading.Thread(target=citizen_load, args=(host, token, seconds, samples_b))
    ta.start(); tb.start(); ta.join(); tb.join()
    if proc:
        stop.set()
        counts = queue.get(timeout=60)
        proc.join()
    samples = samples_a + samples_b
    lat = sorted(ms for ms, _ in samples)
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    bad = sum(1 for _, s in samples if s != 200)
    return {"n": len(samples), "p50": pick(0.50), "p99": pick(0.99), "bad": bad, "flood": counts}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--flooders", type=int, default=16)
    ap.add_argument("--append", action="store_true")
    a = ap.parse_args()
    os.makedirs(web.OUT, exist_ok=True)
    if not os.environ.get("BENCH_BIN"):
        web.sh("cargo", "build", "--release", "--quiet", cwd=web.ROOT)
    web.seed(2)
    server = web.start_server()
    try:
        hosts, tokens = web.citizens(1)
        host, token = hosts[0], tokens[0]
        neighbour = f"{web.slug(1)}.localhost"
        phase(host, token, 1)  # warm-up
        quiet = phase(host, token, a.duration)
        national = phase(host, token, a.duration, "localhost", a.flooders)
        neighbour_flood = phase(host, token, a.duration, neighbour, a.flooders)
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = [("quiet", quiet), ("national host sign-in flood", national), (f"neighbour ({neighbour}) sign-in flood", neighbour_flood)]
    for name, r in rows:
        ratio = r["p99"] / quiet["p99"]
        print(f"{name:40} n={r['n']:5} p50 {r['p50']:7.2f} ms  p99 {r['p99']:7.2f} ms  ×{ratio:4.2f}  non-200 {r['bad']}  flood {r['flood']}")
    if a.append:
        commit = web.sh("git", "rev-parse", "--short", "HEAD", cwd=web.ROOT).stdout.strip()
        with open(os.path.join(web.ROOT, "BENCHMARKS.md"), "a") as f:
            f.write(f"\n### Sign-in flood — {datetime.now(timezone.utc):%Y-%m-%d} — commit {commit} — {os.cpu_count()} cores\n\n")
            f.write(f"Command: `bench/signin_flood.py --duration {a.duration} --flooders {a.flooders} --append` (release build, "
                    "default settings: `auth.hash_concurrency` = every core but one). A citizen of tinh-00 reads `GET /api/v1/dossiers` "
                    "and `GET /dossiers` alternately from 2 connections (≈40 requests/s) while "
                    f"{a.flooders} anonymous connections post `/api/v1/auth/token` with a new address each time, back to back.\n\n")
            f.write("| run | citizen requests | p50 ms | p99 ms | p99 vs quiet | citizen non-200 | flood answers |\n|---|---|---|---|---|---|---|\n")
            for name, r in rows:
                flood = ", ".join(f"{k}: {v}" for k, v in sorted(r["flood"].items())) or "—"
                f.write(f"| {name} | {r['n']} | {r['p50']:.2f} | {r['p99']:.2f} | ×{r['p99'] / quiet['p99']:.2f} | {r['bad']} | {flood} |\n")
            f.write("\nThe target (#15): p99 under a flood within ×2 of the quiet p99. The flood's 429s are the hashing "
                    "bound's (`too_many_requests`, Retry-After); per-client sign-in limits come on top in another change.\n")


if __name__ == "__main__":
    main()
