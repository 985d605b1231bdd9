#!/usr/bin/env python3
"""Round trips to PostgreSQL per dossier submission (issue 21), counted on the wire.

    bench/roundtrips.py [--submissions 20] [--show]
    BENCH_BIN=<another build> bench/roundtrips.py          # the same count for a baseline

Seeds a small database (2 provinces, as `bench/web.py` does), starts the server with its
`DATABASE_URL` pointing at a proxy inside this script, which forwards every byte to PostgreSQL
and reads the frontend messages as they pass. A round trip is a message the client waits on:
`Sync` (the end of an extended-protocol statement: Parse/Bind/Execute) or `Query` (simple
protocol, may hold several statements). After a warm-up (the token's first use, the caches),
the counters are zeroed and `--submissions` sequential `POST /api/v1/dossiers` are sent; the
script prints round trips and statements per submission (`--show`: every statement of one
submission, in order). Noise-free: the count does not depend on the machine's load. A debug
build counts the same as a release build.
"""
import argparse, os, socket, struct, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web  # noqa: E402  (seeding, server start, citizens, the dossier body)

PG_HOST, PG_PORT = "127.0.0.1", 5432


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.round_trips = 0
            self.statements = 0
            self.log = []

    def note(self, kind, text=None):
        with self.lock:
            if kind in ("Sync", "Query"):
                self.round_trips += 1
            if kind in ("Execute", "Query"):
                self.statements += 1
            if text is not None:
                self.log.append(text)


COUNTER = Counter()


def pump_frontend(src, dst):
    """Client → PostgreSQL: forwards and parses (startup packet first, then typed messages)."""
    buf = b""
    started = False
    parsed = {}  # statement name → its SQL (diesel names its cached statements)
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            buf += data
            while True:
                if not started:
                    if len(buf) < 4:
                        break
                    n = struct.unpack("!I", buf[:4])[0]
                    if len(buf) < n:
                        break
                    buf, started = buf[n:], True
                    continue
                if len(buf) < 5:
                    break
                kind, n = buf[0:1], struct.unpack("!I", buf[1:5])[0]
                if len(buf) < 1 + n:
                    break
                body, buf = buf[5:1 + n], buf[1 + n:]
                if kind == b"Q":
                    COUNTER.note("Query", "Q " + body.rstrip(b"\0").decode(errors="replace"))
                elif kind == b"P":
                    name, rest = body.split(b"\0", 1)
                    parsed[name] = rest.split(b"\0", 1)[0].decode(errors="replace")
                elif kind == b"B":
                    portal, rest = body.split(b"\0", 1)
                    stmt = rest.split(b"\0", 1)[0]
                    COUNTER.note("Bind", None)
                    pending = parsed.get(stmt, "?")
                    COUNTER.log_next = pending
                elif kind == b"E":
                    COUNTER.note("Execute", "E " + getattr(COUNTER, "log_next", "?"))
                elif kind == b"S":
                    COUNTER.note("Sync")
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def pump_backend(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass


def proxy(listen_port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", listen_port))
    ls.listen(64)

    def accept():
        while True:
            client, _ = ls.accept()
            server = socket.create_connection((PG_HOST, PG_PORT))
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=pump_frontend, args=(client, server), daemon=True).start()
            threading.Thread(target=pump_backend, args=(server, client), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--submissions", type=int, default=20)
    ap.add_argument("--show", action="store_true", help="print the statements of one submission")
    ap.add_argument("--port", type=int, default=15499, help="the proxy's port")
    a = ap.parse_args()
    web.DB = os.environ.get("BENCH_WEB_DB", "portal_bench_roundtrips")
    web.PORT = int(os.environ.get("BENCH_PORT", "18090"))
    os.makedirs(web.OUT, exist_ok=True)
    web.seed(2)
    proxy(a.port)
    base_env = web.env
    web.env = lambda: {**base_env(), "DATABASE_URL": f"postgres://postgres@127.0.0.1:{a.port}/{web.DB}",
                       "PGSSLMODE": "disable", "PORTAL__JOBS__ENABLED": "false"}
    server = web.start_server()
    try:
        hosts, tokens = web.citizens(1)
        for _ in range(3):  # warm-up: the token's first use, the site cache, the pool
            st, body = web.http("POST", hosts[0], "/api/v1/dossiers", web.DOSSIER, tokens[0])
            assert st == 201, (st, body)
        time.sleep(0.5)
        if a.show:
            COUNTER.reset()
            st, _ = web.http("POST", hosts[0], "/api/v1/dossiers", web.DOSSIER, tokens[0])
            time.sleep(0.3)
            with COUNTER.lock:
                print(f"one submission ({st}): {COUNTER.round_trips} round trips, {COUNTER.statements} statements")
                for line in COUNTER.log:
                    print("  " + " ".join(line.split())[:160])
        COUNTER.reset()
        for _ in range(a.submissions):
            st, body = web.http("POST", hosts[0], "/api/v1/dossiers", web.DOSSIER, tokens[0])
            assert st == 201, (st, body)
        time.sleep(0.5)  # the after-commit wake-ups and the mail worker's reads settle
        with COUNTER.lock:
            rt, stmts = COUNTER.round_trips, COUNTER.statements
        print(f"binary: {web.BIN}")
        print(f"POST /api/v1/dossiers × {a.submissions}: "
              f"{rt / a.submissions:.2f} round trips and {stmts / a.submissions:.2f} statements per submission "
              f"(the mail worker's own statements included, jobs off)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
