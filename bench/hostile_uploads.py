#!/usr/bin/env python3
"""Issue #15 finding 1: memory under hostile uploads.

Seeds a fresh database `portal_bench_uploads` with one province, starts `portal serve` on
127.0.0.1:18081, reads the server's RSS (/proc/<pid>/status VmRSS), then sends 10 concurrent
anonymous multipart requests of 600 MB each to the province's documents page (5 announcing
their length, 5 chunked), each body produced chunk by chunk (never 600 MB in the client), and
reads the RSS again (and its peak, sampled every 20 ms, while they ran). Prints one row.

    bench/hostile_uploads.py [--append]      # BENCH_BIN: the binary (default target/debug)
"""
import argparse, datetime, os, shutil, socket, subprocess, sys, threading, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB = "portal_bench_uploads"
PORT = 18081
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
BIN = os.environ.get("BENCH_BIN") or os.path.join(TARGET, "debug", "portal")
HOST = "tinh-up.localhost"
SIZE = 600 << 20
CHUNK = 64 << 10


def sh(*args, env=None):
    return subprocess.run(args, env=env, check=True, text=True, capture_output=True).stdout


def env():
    e = dict(os.environ)
    e.update({
        "DATABASE_URL": f"{PG}/{DB}", "RUST_LOG": "warn",
        "PORTAL__AUTH__JWT_SECRET": "bench-secret-0123456789abcdef0123456789",
        "PORTAL__SERVER__BIND": f"127.0.0.1:{PORT}", "PORTAL__SERVER__PUBLIC_PORT": str(PORT),
        "PORTAL__SERVER__BASE_DOMAIN": "localhost",
        "PORTAL__STORAGE__DATA_DIR": os.path.join(OUT, "data-uploads"),
        "PORTAL__JOBS__ENABLED": "false",
    })
    return e


def seed():
    roles = ""
    if sh("psql", f"{PG}/postgres", "-Atqc", f"SELECT 1 FROM pg_database WHERE datname = '{DB}'").strip():
        roles = sh("psql", f"{PG}/{DB}", "-Atqc", "SELECT string_agg(role_name, ' ') FROM public.tenants").strip()
    sh("psql", f"{PG}/postgres", "-Atqc", f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    for r in roles.split():
        sh("psql", f"{PG}/postgres", "-Atqc", f'DROP ROLE IF EXISTS "{r}"')
    sh("psql", f"{PG}/postgres", "-Atqc", f'CREATE DATABASE "{DB}"')
    sh(BIN, "migrate", env=env())
    folder = os.path.join(OUT, "manifests-uploads")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    with open(os.path.join(folder, "tinh-up.toml"), "w") as f:
        f.write('slug = "tinh-up"\nname = "Tỉnh tải lên"\nplan = "premium"\ndomains = []\n\n'
                '[branding]\ndisplay_name = "Tỉnh tải lên"\n')
    sh(BIN, "tenants", "apply", folder, env=env())


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def hostile(chunked, results, i):
    """One anonymous 600 MB upload, sent until the server answers or closes."""
    s = socket.create_connection(("127.0.0.1", PORT))
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {SIZE}"
    s.sendall((f"POST /procedures/GPLX-001/apply/documents HTTP/1.1\r\nHost: {HOST}\r\n"
               f"Content-Type: multipart/form-data; boundary=XyZ\r\n{length}\r\n\r\n").encode())
    part = (b"--XyZ\r\nContent-Disposition: form-data; name=\"portrait_photo\"; "
            b"filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
    block = b"a" * CHUNK
    answer, sent = b"", 0
    s.setblocking(False)

    def send(data):
        s.setblocking(True)
        s.settimeout(5)
        s.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        s.setblocking(False)

    try:
        send(part)
        while sent < SIZE:
            try:
                answer = s.recv(512)
                break
            except BlockingIOError:
                pass
            send(block)
            sent += len(block)
        if not answer:
            s.setblocking(True)
            s.settimeout(30)
            answer = s.recv(512)
    except OSError:
        pass
    finally:
        s.close()
    results[i] = (answer.split(b"\r\n", 1)[0].decode(errors="replace"), sent)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--append", action="store_true", help="append the row to BENCHMARKS.md")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    seed()
    proc = subprocess.Popen([BIN, "serve"], env=env(), stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(OUT, "server-uploads.log"), "w"))
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        # Warm: the province's pages once, so the caches are in the "before".
        req = urllib.request.Request(f"http://127.0.0.1:{PORT}/", headers={"Host": HOST})
        urllib.request.urlopen(req, timeout=10).read()
        time.sleep(1)
        before = rss_mb(proc.pid)
        results = [None] * 10
        threads = [threading.Thread(target=hostile, args=(i % 2 == 1, results, i)) for i in range(10)]
        peak, t0 = before, time.time()
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            peak = max(peak, rss_mb(proc.pid))
            time.sleep(0.02)
        took = time.time() - t0
        time.sleep(1)
        after = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait()
    answers = sorted({r[0] for r in results})
    sent_mb = sum(r[1] for r in results) / (1 << 20)
    commit = sh("git", "-C", ROOT, "rev-parse", "--short", "HEAD").strip()
    row = (f"| {datetime.date.today()} | {commit} | `bench/hostile_uploads.py` (10 × 600 MB anonymous, "
           f"5 with length, 5 chunked) | {before:.0f} MB | {peak:.0f} MB | {after:.0f} MB | "
           f"{sent_mb:.0f} MB sent in {took:.1f} s | {', '.join(answers)} |")
    print("RSS before %.1f MB, peak %.1f MB, after %.1f MB; answers %s; %.0f MB sent by clients in %.1f s"
          % (before, peak, after, answers, sent_mb, took))
    print(row)
    if args.append:
        with open(os.path.join(ROOT, "BENCHMARKS.md"), "a") as f:
            f.write("\n### Hostile uploads (#15 finding 1)\n\n"
                    "| date | commit | command | RSS before | RSS peak | RSS after | bytes the clients got to send | answers |\n"
                    "|---|---|---|---|---|---|---|---|\n" + row + "\n")


if __name__ == "__main__":
    sys.exit(main())
