"""The chart's ArangoDB-mode configuration against the real server jar, with no database: a loopback stub
stands in for ArangoDB. It speaks TLS with a certificate from a CA made here (openssl), offers HTTP/2 and
HTTP/1.1 by ALPN, answers every HTTP/1.1 request with ArangoDB's 503 error, and closes HTTP/2 connections
after their preface.

Usage: arangodb_smoke.py RENDERED_YAML SERVER_JAR

From the rendered Deployment and ConfigMap it takes the server's environment as the pod gets it. The
files the pod mounts from Secrets (password, CA, admin token) are written into a temporary folder, after
checking that the rendered *_FILE paths are where the Deployment mounts those Secrets; every endpoint
points at the stub (same scheme, same number of endpoints); the gRPC port is a free loopback one.

The server sets up its database at start, so with ArangoDB answering 503 it must:
  - accept every rendered option (an invalid one exits with status 2 before any connection);
  - trust the mounted CA (TLS handshakes with the stub succeed) and speak the rendered protocol (ALPN h2
    and the HTTP/2 preface with http2; with http1, requests for /_db/<database>/ with Basic credentials
    of the rendered user and the mounted password);
  - exit with status 1 and a message that names the endpoints, database and user and says what to check.
Controls: a write concern above the replication factor must exit with status 2 before any connection
(so status 1 means the rendered options were accepted), and a run with an unrelated CA in the CA file
must get no TLS handshake through (the CA file is what the server trusts). What the layout options
(replication factor, write concern, shards, OneShard) do when the database is created needs a real
ArangoDB: the server's ArangoStoreTest suites cover that. Exits non-zero on any failure.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import yaml

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
ERROR_503 = b'{"error":true,"code":503,"errorNum":503,"errorMessage":"service unavailable (arangodb_smoke stub)"}'
PASSWORD = "smoke-password-not-secret"
FAILURES: list[str] = []


def check(ok: bool, what: str) -> None:
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        FAILURES.append(what)


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.crt"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
            "-days", "2", "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return key, cert


def make_server_cert(folder: Path, ca_key: Path, ca_cert: Path) -> tuple[Path, Path]:
    key, csr, cert, ext = (folder / n for n in ("stub.key", "stub.csr", "stub.crt", "stub.ext"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key), "-CAcreateserial",
            "-out", str(cert), "-days", "2", "-extfile", str(ext))
    return key, cert


class Stub:
    """ArangoDB's port, answering 503: records TLS handshakes, ALPN choices and requests."""

    def __init__(self, tls: ssl.SSLContext | None):
        self.tls = tls
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.handshakes = 0
        self.handshake_failures = 0
        self.alpn: set[str | None] = set()
        self.h2_prefaces = 0
        self.requests: list[tuple[str, dict[str, str]]] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            if self.tls is not None:
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    with self.lock:
                        self.handshake_failures += 1
                    return
                with self.lock:
                    self.handshakes += 1
                    self.alpn.add(conn.selected_alpn_protocol())
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
                if data.startswith(H2_PREFACE[: len(data)]) and len(data) >= len(H2_PREFACE):
                    break
            if data.startswith(H2_PREFACE):
                with self.lock:
                    self.h2_prefaces += 1
                return  # closing: to the driver, ArangoDB is unreachable
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            if not head or " " not in head[0]:
                return
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            with self.lock:
                self.requests.append((head[0], headers))
            conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
                         b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(ERROR_503), ERROR_503))
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()


def mounted_file(container: dict, pod: dict, volume: str, env_path: str) -> None:
    """env_path must be a file the pod mounts from the named volume (a Secret)."""
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    vol = {v["name"]: v for v in pod["volumes"]}[volume]
    items = [i["path"] for i in vol["secret"]["items"]]
    check(volume in mounts and env_path in [f"{mounts[volume]}/{p}" for p in items],
          f"{env_path} is the file the pod mounts from the Secret {vol['secret']['secretName']}")


def run_server(jar: Path, env: dict[str, str]) -> tuple[int | None, str]:
    java = shutil.which("java") or "java"
    try:
        proc = subprocess.run([java, "-jar", str(jar)], env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as e:
        return None, (e.stderr or b"").decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
    return proc.returncode, proc.stderr + proc.stdout


def main() -> int:
    rendered, jar = (Path(a).resolve() for a in sys.argv[1:3])
    docs = [d for d in yaml.safe_load_all(rendered.read_text()) if d]
    config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    container = next(c for c in pod["containers"] if c["name"] == "server")
    assert config["ARANGOPIPE_STORE"] == "arangodb", "not an ArangoDB-mode rendering"
    endpoints = config["ARANGOPIPE_ARANGODB_ENDPOINTS"].split(",")
    schemes = {urlsplit(e).scheme for e in endpoints}
    check(len(schemes) == 1, f"one scheme for every endpoint: {endpoints}")
    https = schemes == {"https"}
    protocol = config["ARANGOPIPE_ARANGODB_PROTOCOL"]
    database, user = config["ARANGOPIPE_ARANGODB_DATABASE"], config["ARANGOPIPE_ARANGODB_USER"]
    print(f"rendered: endpoints {endpoints}, database {database}, user {user}, protocol {protocol}, "
          f"CA file {config.get('ARANGOPIPE_ARANGODB_CA_FILE', '(none)')}", flush=True)

    mounted_file(container, pod, "arangodb-password", config["ARANGOPIPE_ARANGODB_PASSWORD_FILE"])
    if https:
        check("ARANGOPIPE_ARANGODB_CA_FILE" in config, "https:// endpoints come with a CA file")
        mounted_file(container, pod, "arangodb-ca", config["ARANGOPIPE_ARANGODB_CA_FILE"])
    if "ARANGOPIPE_ADMIN_TOKEN_FILE" in config:
        mounted_file(container, pod, "admin-token", config["ARANGOPIPE_ADMIN_TOKEN_FILE"])

    work = Path(tempfile.mkdtemp(prefix="arangopipe-arangodb-smoke-"))
    stub = None
    try:
        (work / "password").write_text(PASSWORD + "\n")
        (work / "admin-token").write_text("smoke-admin-token\n")
        tls = None
        if https:
            ca_key, ca_cert = make_ca(work, "smoke-ca")
            _, other_ca = make_ca(work, "unrelated-ca")
            key, cert = make_server_cert(work, ca_key, ca_cert)
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(cert, key)
            tls.set_alpn_protocols(["h2", "http/1.1"])
        stub = Stub(tls)
        local = [f"{'https' if https else 'http'}://127.0.0.1:{stub.port}" for _ in endpoints]

        env = {k: v for k, v in config.items()}
        env.update(
            ARANGOPIPE_ARANGODB_ENDPOINTS=",".join(local),
            ARANGOPIPE_ARANGODB_PASSWORD_FILE=str(work / "password"),
            ARANGOPIPE_BIND="127.0.0.1",
            ARANGOPIPE_PORT="0",
            PATH=os.environ.get("PATH", "/usr/bin:/bin"),
            HOME=str(work),
        )
        if https:
            env["ARANGOPIPE_ARANGODB_CA_FILE"] = str(ca_cert)
        if "ARANGOPIPE_ADMIN_TOKEN_FILE" in config:
            env["ARANGOPIPE_ADMIN_TOKEN_FILE"] = str(work / "admin-token")
        if "ARANGOPIPE_METRICS_PORT" in config:
            env.update(ARANGOPIPE_METRICS_PORT="0", ARANGOPIPE_METRICS_BIND="127.0.0.1")

        status, output = run_server(jar, env)
        tail = "\n".join(output.strip().splitlines()[-3:])
        check(status == 1, f"the server exits with status 1 without ArangoDB (got {status}; 2 = an option refused)\n"
              f"    {tail}")
        check(f"ArangoDB at {','.join(local)} (database {database}, user {user})" in output,
              "its message names the endpoints, the database and the user")
        check("--arangodb-endpoints (ARANGOPIPE_ARANGODB_ENDPOINTS)" in output and "cannot reach ArangoDB" in output,
              "and says what to check")
        check(PASSWORD not in output, "the password is not in the output")
        if https:
            check(stub.handshakes > 0, f"TLS with the mounted CA: {stub.handshakes} handshake(s) succeeded "
                  f"({stub.handshake_failures} failed)")
        if protocol == "http2":
            check((not https or "h2" in stub.alpn) and stub.h2_prefaces > 0,
                  f"HTTP/2: ALPN {sorted(map(str, stub.alpn))}, {stub.h2_prefaces} HTTP/2 preface(s)")
            check(not stub.requests, "no HTTP/1.1 request with protocol http2")
        else:
            check(stub.requests and stub.h2_prefaces == 0, f"HTTP/1.1: {len(stub.requests)} request(s), no HTTP/2")
            expected_auth = "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
            check(all(h.get("authorization") == expected_auth for _, h in stub.requests),
                  f"every request carries the rendered user and the mounted password")
            check(all(f" /_db/{database}/" in line for line, _ in stub.requests),
                  f"every request is for the database {database}: {stub.requests[0][0] if stub.requests else ''}")

        # The control: the same environment with a write concern above the replication factor is refused
        # before any connection (exit status 2, naming the option), so status 1 above means every
        # rendered option was accepted.
        bad = dict(env, ARANGOPIPE_ARANGODB_WRITE_CONCERN=str(int(config["ARANGOPIPE_ARANGODB_REPLICATION_FACTOR"]) + 1))
        seen = (stub.handshakes + stub.handshake_failures, len(stub.requests), stub.h2_prefaces)
        status, output = run_server(jar, bad)
        check(status == 2 and "--arangodb-write-concern" in output
              and seen == (stub.handshakes + stub.handshake_failures, len(stub.requests), stub.h2_prefaces),
              f"control: a write concern above the replication factor exits with status 2 before connecting "
              f"(got {status})")

        if https:
            # The same with a CA that did not sign the stub's certificate: nothing gets through.
            before = (stub.handshakes, len(stub.requests), stub.h2_prefaces)
            env["ARANGOPIPE_ARANGODB_CA_FILE"] = str(other_ca)
            status, output = run_server(jar, env)
            check(status == 1 and (stub.handshakes, len(stub.requests), stub.h2_prefaces) == before
                  and stub.handshake_failures > 0,
                  f"with an unrelated CA: exit status {status}, no handshake succeeds "
                  f"({stub.handshake_failures} refused): the server trusts exactly the CA file")
    finally:
        if stub is not None:
            stub.close()
        shutil.rmtree(work, ignore_errors=True)

    if FAILURES:
        print(f"ArangoDB-mode configuration on the real jar ({rendered.name}): {len(FAILURES)} FAILED")
        return 1
    print(f"ArangoDB-mode configuration on the real jar ({rendered.name}): PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
