#!/usr/bin/env python3
"""The API contract: Schemathesis, with every check, against a served instance, once per role.

Starts `freeport serve` on a fresh SQLite folder, registers an enterprise, a duty-free shop and one user
per role, logs each in, then runs Schemathesis (pinned in .ci/run) against the served OpenAPI document
with that user's token. Exits non-zero when any run reports a failure. Figures go to standard output.

Usage: .ci/contract.py --freeport target/release/freeport --schemathesis PATH [--examples N] [--seed S]
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemathesis.toml")
ENTERPRISE = "91460000MA5T00001F"
OPERATOR = "91460000MA5T00002J"
PASSWORD = "contract-password-0001"
ROLES = {
    "administrator": ("admin", None),
    "customs_officer": ("officer", None),
    "risk_analyst": ("analyst", None),
    "enterprise_user": ("enterprise", ENTERPRISE),
    "duty_free_operator": ("operator", OPERATOR),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, token=None, key=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if key:
        req.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def must(result, *ok):
    status, body = result
    if status not in ok:
        sys.exit(f"contract setup failed: {status} {body}")
    return body


def login(base, username, password):
    return must(call(base, "POST", "/api/v1/sessions", body={"username": username, "password": password}), 201)["token"]


def setup(base):
    admin = login(base, "admin", PASSWORD)
    for code, beneficiary in [(ENTERPRISE, True), (OPERATOR, False)]:
        must(call(base, "PUT", f"/api/v1/enterprises/{code}", admin, f"e-{code}",
                  {"name": f"Firm {code}", "beneficiary": beneficiary}), 200)
    must(call(base, "PUT", "/api/v1/duty-free/shops/SANYA-1", admin, "shop",
              {"operator": OPERATOR, "name": "Sanya 1", "location": "Sanya"}), 200)
    must(call(base, "PUT", "/api/v1/exchange-rates/USD/2026-03-02", admin, "rate", {"cny_per_unit": "7.1234"}), 200)
    tokens = {"administrator": admin}
    for role, (name, enterprise) in ROLES.items():
        if role == "administrator":
            continue
        body = {"username": name, "password": PASSWORD, "role": role}
        if enterprise:
            body["enterprise"] = enterprise
        must(call(base, "POST", "/api/v1/users", admin, f"u-{name}", body), 201)
        tokens[role] = login(base, name, PASSWORD)
    # A declaration, so that reads by id and lifecycle operations meet a real resource too.
    must(call(base, "POST", "/api/v1/declarations", tokens["enterprise_user"], "d-1", {
        "id": "CONTRACT-1", "flow": "first_line_import", "declared_on": "2026-03-16", "declarant": ENTERPRISE,
        "currency": "CNY", "lines": [{"hs_code": "02023000", "origin": "AR", "quantities": [{"value": "100", "unit": "kg"}],
                                      "value": "35600", "goods_status": "duty_paid"}]}), 201)
    return tokens


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--freeport", required=True)
    p.add_argument("--schemathesis", required=True)
    p.add_argument("--examples", type=int, default=20)
    p.add_argument("--seed", type=int, default=20261201)
    p.add_argument("--roles", default=",".join(ROLES))
    p.add_argument("--report-dir", default=None)
    args = p.parse_args()

    data = tempfile.mkdtemp(prefix="freeport-contract-")
    port, metrics = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, FREEPORT_DATA_DIR=data, FREEPORT_LISTEN=f"127.0.0.1:{port}",
               FREEPORT_METRICS_LISTEN=f"127.0.0.1:{metrics}", FREEPORT_ADMIN_PASSWORD=PASSWORD,
               FREEPORT_RETRAIN_EVERY_HOURS="0", RUST_LOG="warn")
    env.pop("FREEPORT_DATABASE_URL", None)
    log = open(os.path.join(data, "serve.log"), "w")
    server = subprocess.Popen([args.freeport, "serve"], env=env, stdout=log, stderr=log)
    failed = []
    try:
        for _ in range(120):
            try:
                if call(base, "GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            sys.exit("the server did not start: " + open(os.path.join(data, "serve.log")).read())
        tokens = setup(base)
        for role in args.roles.split(","):
            started = time.time()
            cmd = [args.schemathesis, "--config-file", CONFIG, "run", f"{base}/api/openapi.json", "--checks", "all",
                   "-H", f"Authorization: Bearer {tokens[role]}",
                   "--seed", str(args.seed), "--max-examples", str(args.examples),
                   "--workers", "1", "--no-color", "--generation-database", "none",
                   # Logging out would revoke the token every later case uses; it is tested apart.
                   "--exclude-operation-id", "logout"]
            if args.report_dir:
                cmd += ["--report", "junit", "--report-junit-path",
                        os.path.join(args.report_dir, f"contract-{role}.xml")]
            print(f"== contract: {role}", flush=True)
            code = subprocess.call(cmd)
            print(f"== contract: {role}: exit {code} in {time.time() - started:.0f} s", flush=True)
            if code != 0:
                failed.append(role)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        if server.returncode not in (0, -15) or failed:
            print(open(os.path.join(data, "serve.log")).read()[-4000:])
        shutil.rmtree(data, ignore_errors=True)
    if failed:
        sys.exit(f"contract failures for: {', '.join(failed)}")
    print("contract: ok")


if __name__ == "__main__":
    main()
