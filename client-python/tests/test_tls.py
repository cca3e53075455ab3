"""TLS settings (ca, cert, key) reach the channel: a TLS-only gRPC server with client-certificate checks.

The Arangopipe server does not terminate TLS itself yet, so a small in-process gRPC server with the
generated servicer stands in. Certificates are made with the openssl command line for each run.
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent import futures
from pathlib import Path
from typing import Iterator, Tuple

import grpc
import pytest

import arangopipe_client as apc
from arangopipe_client import ArangoPipe
from arangopipe_client.v1 import tracking_messages_pb2 as tm
from arangopipe_client.v1 import tracking_service_pb2_grpc as tsg

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=arangopipe-test-ca", cwd=d)
    (d / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name, ext in (("server", ["-extfile", "server.ext"]), ("client", [])):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", "2", *ext, cwd=d)
    return d


class Echo(tsg.TrackingServiceServicer):
    def RegisterDataset(self, request, context):  # noqa: N802
        return tm.RegisterDatasetResponse(dataset={"id": f"datasets/{request.name}", "key": request.name,
                                                   "name": request.name})


@pytest.fixture(scope="module")
def tls_server(pki: Path) -> Iterator[Tuple[str, Path]]:
    creds = grpc.ssl_server_credentials(
        [((pki / "server.key").read_bytes(), (pki / "server.pem").read_bytes())],
        root_certificates=(pki / "ca.pem").read_bytes(), require_client_auth=True)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    tsg.add_TrackingServiceServicer_to_server(Echo(), server)
    port = server.add_secure_port("localhost:0", creds)
    server.start()
    try:
        yield f"localhost:{port}", pki
    finally:
        server.stop(grace=None)


def test_mutual_tls_from_arguments(tls_server) -> None:
    target, pki = tls_server
    with ArangoPipe(target, ca=str(pki / "ca.pem"), cert=str(pki / "client.pem"), key=str(pki / "client.key"),
                    timeout=10) as ap:
        assert ap.register_dataset({"name": "over-tls"})["_id"] == "datasets/over-tls"


def test_mutual_tls_from_environment(tls_server, monkeypatch) -> None:
    target, pki = tls_server
    monkeypatch.setenv("ARANGOPIPE_TARGET", target)
    monkeypatch.setenv("ARANGOPIPE_CA", str(pki / "ca.pem"))
    monkeypatch.setenv("ARANGOPIPE_CERT", str(pki / "client.pem"))
    monkeypatch.setenv("ARANGOPIPE_KEY", str(pki / "client.key"))
    with ArangoPipe(timeout=10) as ap:
        assert ap.register_dataset({"name": "env-tls"})["name"] == "env-tls"


def test_without_client_certificate_the_handshake_fails(tls_server) -> None:
    target, pki = tls_server
    with ArangoPipe(target, ca=str(pki / "ca.pem"), timeout=5, max_attempts=1) as ap:
        with pytest.raises(apc.UnavailableError):
            ap.register_dataset({"name": "no-cert"})


def test_plaintext_client_cannot_talk_to_tls_server(tls_server) -> None:
    target, _ = tls_server
    with ArangoPipe(target, timeout=5, max_attempts=1) as ap:
        with pytest.raises(apc.UnavailableError):
            ap.register_dataset({"name": "plain"})
