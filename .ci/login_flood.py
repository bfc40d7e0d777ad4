#!/usr/bin/env python3
"""A password-guessing flood beside a user's ordinary requests: does the flood slow the user down?

Starts `freeport serve` on a fresh SQLite folder, then for `--seconds`: `--guessers` threads post wrong
passwords for random usernames as fast as they are answered, while one client reads `GET /api/v1/me`
with a valid token. Prints the user's p50/p99 latency with and without the flood, and how the guesses
were answered (401 checked, 429 throttled). Loopback only; bounded in time.

Usage: .ci/login_flood.py --freeport target/release/freeport [--guessers 16] [--seconds 10]
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time

PASSWORD = "flood-admin-password-01"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, token=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def user_latencies(port, token, seconds):
    out = []
    end = time.time() + seconds
    while time.time() < end:
        t = time.perf_counter()
        status, _ = request(port, "GET", "/api/v1/me", token=token)
        out.append((time.perf_counter() - t) * 1000)
        assert status == 200, status
    return out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--freeport", required=True)
    p.add_argument("--guessers", type=int, default=16)
    p.add_argument("--seconds", type=float, default=10)
    args = p.parse_args()
    data = tempfile.mkdtemp(prefix="freeport-flood-")
    port = free_port()
    env = dict(os.environ, FREEPORT_DATA_DIR=data, FREEPORT_LISTEN=f"127.0.0.1:{port}",
               FREEPORT_METRICS_LISTEN=f"127.0.0.1:{free_port()}", FREEPORT_ADMIN_PASSWORD=PASSWORD,
               FREEPORT_RETRAIN_EVERY_HOURS="0", RUST_LOG="warn")
    env.pop("FREEPORT_DATABASE_URL", None)
    server = subprocess.Popen([args.freeport, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                if request(port, "GET", "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.25)
        status, body = request(port, "POST", "/api/v1/sessions", {"username": "admin", "password": PASSWORD})
        token = json.loads(body)["token"]
        quiet = user_latencies(port, token, args.seconds)
        answers = {}
        stop = threading.Event()
        lock = threading.Lock()

        def guess(n):
            i = 0
            while not stop.is_set():
                s, _ = request(port, "POST", "/api/v1/sessions", {"username": f"guess-{n}-{i % 50}", "password": "wrong"})
                with lock:
                    answers[s] = answers.get(s, 0) + 1
                i += 1

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(args.guessers)]
        for t in threads:
            t.start()
        flooded = user_latencies(port, token, args.seconds)
        stop.set()
        for t in threads:
            t.join()
        print(json.dumps({
            "guessers": args.guessers, "seconds": args.seconds,
            "user_quiet_ms": {"p50": round(statistics.median(quiet), 2), "p99": round(pct(quiet, 0.99), 2), "n": len(quiet)},
            "user_during_flood_ms": {"p50": round(statistics.median(flooded), 2), "p99": round(pct(flooded, 0.99), 2), "n": len(flooded)},
            "guesses_answered": {str(k): v for k, v in sorted(answers.items())},
        }, indent=2))
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
