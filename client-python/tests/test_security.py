"""Against the real server with authentication and mutual TLS: tokens, roles, and the errors they give.

The server runs with --tls-cert/--tls-key/--tls-client-ca (certificates made with the openssl command line
for each run) and a first administrator token; clients connect with ca/cert/key and a bearer token, from
arguments or from ARANGOPIPE_* variables.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import grpc
import pytest

import arangopipe_client as apc
from arangopipe_client import ArangoPipe, ArangoPipeAdmin, Connection

from conftest import Server, start_server, stop_server

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


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory, pki: Path) -> Iterator[dict]:
    token = secrets.token_hex(32)
    srv: Server = start_server(tmp_path_factory.mktemp("arangopipe-secure"),
                               "--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key"),
                               "--tls-client-ca", str(pki / "ca.pem"),
                               env={"ARANGOPIPE_ADMIN_TOKEN": token})
    tls = {"ca": str(pki / "ca.pem"), "cert": str(pki / "client.pem"), "key": str(pki / "client.key")}
    try:
        yield {"server": srv, "token": token, "tls": tls, "pki": pki}
    finally:
        stop_server(srv)


def _admin(secure: dict, **kw) -> ArangoPipeAdmin:
    return ArangoPipeAdmin(secure["server"].target, token=secure["token"], timeout=15, **secure["tls"], **kw)


def test_admin_token_over_mutual_tls(secure) -> None:
    with _admin(secure) as admin:
        me = admin.whoami()
    assert me["name"] == "admin" and me["server_admin"] and me["authentication_enabled"]


def test_settings_from_environment(secure, monkeypatch) -> None:
    monkeypatch.setenv("ARANGOPIPE_TARGET", secure["server"].target)
    monkeypatch.setenv("ARANGOPIPE_TOKEN", secure["token"])
    monkeypatch.setenv("ARANGOPIPE_CA", secure["tls"]["ca"])
    monkeypatch.setenv("ARANGOPIPE_CERT", secure["tls"]["cert"])
    monkeypatch.setenv("ARANGOPIPE_KEY", secure["tls"]["key"])
    with ArangoPipeAdmin() as admin:
        assert admin.whoami()["name"] == "admin"


def test_missing_or_wrong_token_is_unauthenticated(secure, uid: str) -> None:
    target = secure["server"].target
    with ArangoPipe(target, **secure["tls"]) as anonymous:
        with pytest.raises(apc.UnauthenticatedError):
            anonymous.lookup_dataset(f"d-{uid}")
    with ArangoPipe(target, token="not-a-token", **secure["tls"]) as wrong:
        with pytest.raises(apc.UnauthenticatedError):
            wrong.register_dataset({"name": f"d-{uid}"})


def test_roles_decide_what_a_user_may_do(secure, uid: str) -> None:
    target, project, user = secure["server"].target, f"p-{uid}", f"alice-{uid}"
    with _admin(secure) as admin:
        admin.register_project({"name": project})
        created = admin.create_user(user)
        assert created == {**created, "name": user, "server_admin": False, "disabled": False, "roles": {}}
        token = admin.create_token(user, "training cluster")
        assert token["user"] == user and len(token["secret"]) > 20 and not token["revoked"]
        assert admin.grant_role(user, project, "VIEWER")["roles"] == {project: "VIEWER"}
        assert user in [u["name"] for u in admin.list_users()]

        with ArangoPipe(target, token=token["secret"], **secure["tls"]) as alice:
            assert alice.lookup_dataset(f"d-{uid}", project=project) is None  # a viewer reads
            with pytest.raises(apc.PermissionDeniedError):
                alice.register_dataset({"name": f"d-{uid}"}, project=project)
            admin.grant_role(user, project, "EDITOR")
            ds = alice.register_dataset({"name": f"d-{uid}"}, project=project)
            assert ds["_creator"] == user
            with pytest.raises(apc.PermissionDeniedError):  # only server administrators create users
                ArangoPipeAdmin(connection=alice.connection).create_user(f"x-{uid}")
            assert ArangoPipeAdmin(connection=alice.connection).whoami()["roles"] == {project: "EDITOR"}

            admin.revoke_role(user, project)
            with pytest.raises(apc.PermissionDeniedError):
                alice.register_dataset({"name": f"d2-{uid}"}, project=project)

            [listed] = admin.list_tokens(user)
            assert listed["token_id"] == token["token_id"] and "secret" not in listed
            assert admin.revoke_token(token["token_id"])["revoked"]
            with pytest.raises(apc.UnauthenticatedError):
                alice.lookup_dataset(f"d-{uid}", project=project)

        second = admin.create_token(user)
        admin.set_user_disabled(user)
        with ArangoPipe(target, token=second["secret"], **secure["tls"]) as disabled:
            with pytest.raises(apc.UnauthenticatedError):
                disabled.lookup_dataset(f"d-{uid}")
        assert admin.set_user_disabled(user, False)["disabled"] is False
        with pytest.raises(ValueError, match="not one of"):
            admin.grant_role(user, project, "OWNER")


class LoseResponse(grpc.UnaryUnaryClientInterceptor):
    def __init__(self, method: str) -> None:
        self.method, self.attempts = method, 0

    def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        outcome = continuation(details, request)
        if details.method.endswith("/" + self.method):
            self.attempts += 1
            outcome.result()

            class Lost(grpc.RpcError):
                def code(self):
                    return grpc.StatusCode.UNAVAILABLE

                def details(self):
                    return "lost"

            raise Lost()
        return outcome


def test_create_token_is_never_retried(secure, uid: str) -> None:
    lose = LoseResponse("CreateToken")
    conn = Connection(secure["server"].target, token=secure["token"], interceptors=[lose], **secure["tls"])
    conn._sleep = lambda s: None
    with ArangoPipeAdmin(connection=conn) as admin:
        admin.create_user(f"bob-{uid}")
        with pytest.raises(apc.UnavailableError):
            admin.create_token(f"bob-{uid}")
        assert lose.attempts == 1, "CreateToken has no request_id: a retry would issue a second token"
        [orphan] = admin.list_tokens(f"bob-{uid}")  # the lost one exists; revoke it
        admin.revoke_token(orphan["token_id"])
    conn.close()


def test_tls_is_required(secure) -> None:
    target = secure["server"].target
    with ArangoPipe(target, token=secure["token"], timeout=5, max_attempts=1) as plaintext:
        with pytest.raises(apc.UnavailableError):
            plaintext.heart_beat()
    with ArangoPipe(target, token=secure["token"], ca=secure["tls"]["ca"], timeout=5, max_attempts=1) as no_cert:
        with pytest.raises(apc.UnavailableError):
            no_cert.heart_beat()
    other = secure["pki"] / "client.pem"  # not a CA: the server's certificate cannot be verified with it
    with ArangoPipe(target, token=secure["token"], ca=str(other), cert=secure["tls"]["cert"],
                    key=secure["tls"]["key"], timeout=5, max_attempts=1) as untrusted:
        with pytest.raises(apc.UnavailableError):
            untrusted.heart_beat()
