"""Status codes become typed exceptions with the server's details.

The codes the real server returns today are checked against it (test_tracking/test_admin do more);
the others — UNAUTHENTICATED and PERMISSION_DENIED, which the server will return once authentication
lands, INTERNAL, RESOURCE_EXHAUSTED, ... — against a small in-process gRPC server that answers with
exactly the status and details a test asks for, so that every mapping is exercised.
"""

from __future__ import annotations

import pickle
import threading
from concurrent import futures
from typing import Iterator, List, Tuple

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

import arangopipe_client as apc
from arangopipe_client import ArangoPipe, Connection, errors
from arangopipe_client.v1 import tracking_messages_pb2 as tm
from arangopipe_client.v1 import tracking_service_pb2_grpc as tsg

ALL_CODES = [c for c in grpc.StatusCode if c is not grpc.StatusCode.OK]
EXPECTED = {
    grpc.StatusCode.CANCELLED: apc.CancelledError,
    grpc.StatusCode.UNKNOWN: apc.UnknownError,
    grpc.StatusCode.INVALID_ARGUMENT: apc.InvalidArgumentError,
    grpc.StatusCode.DEADLINE_EXCEEDED: apc.DeadlineExceededError,
    grpc.StatusCode.NOT_FOUND: apc.NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: apc.AlreadyExistsError,
    grpc.StatusCode.PERMISSION_DENIED: apc.PermissionDeniedError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: apc.ResourceExhaustedError,
    grpc.StatusCode.FAILED_PRECONDITION: apc.FailedPreconditionError,
    grpc.StatusCode.ABORTED: apc.AbortedError,
    grpc.StatusCode.OUT_OF_RANGE: apc.OutOfRangeError,
    grpc.StatusCode.UNIMPLEMENTED: apc.UnimplementedError,
    grpc.StatusCode.INTERNAL: apc.InternalError,
    grpc.StatusCode.UNAVAILABLE: apc.UnavailableError,
    grpc.StatusCode.DATA_LOSS: apc.DataLossError,
    grpc.StatusCode.UNAUTHENTICATED: apc.UnauthenticatedError,
}


class ScriptedTracking(tsg.TrackingServiceServicer):
    """RegisterDataset fails with the status code named by the dataset's name, with rich details."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, Tuple[Tuple[str, str], ...], str]] = []
        self.lock = threading.Lock()

    def RegisterDataset(self, request, context):  # noqa: N802 - gRPC's method name
        with self.lock:
            self.calls.append((request.name, tuple(context.invocation_metadata()), request.request_id))
        if request.name == "OK":
            return tm.RegisterDatasetResponse(dataset={"id": "datasets/k", "key": "k", "name": "OK"})
        code = grpc.StatusCode[request.name]
        status = status_pb2.Status(code=getattr(code_pb2, code.name), message=f"scripted {code.name}")
        info = any_pb2.Any()
        info.Pack(error_details_pb2.ErrorInfo(reason=f"WHY_{code.name}", domain="arangopipe.v1",
                                              metadata={"existing_id": "datasets/abc", "resource": "datasets"}))
        bad = any_pb2.Any()
        bad.Pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field="name", description="is scripted")]))
        status.details.extend([info, bad])
        context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
        context.abort(code, f"scripted {code.name}")


@pytest.fixture(scope="module")
def scripted() -> Iterator[Tuple[str, ScriptedTracking]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = ScriptedTracking()
    tsg.add_TrackingServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", servicer
    finally:
        server.stop(grace=None)


@pytest.mark.parametrize("code", ALL_CODES, ids=lambda c: c.name)
def test_every_status_code_has_its_exception(scripted, code: grpc.StatusCode) -> None:
    target, _ = scripted
    with ArangoPipe(target, max_attempts=1, timeout=10) as ap:
        with pytest.raises(EXPECTED[code]) as err:
            ap.register_dataset({"name": code.name})
    e = err.value
    assert isinstance(e, apc.ArangopipeError)
    assert e.code is code and type(e).code is code
    assert e.message == f"scripted {code.name}"
    assert e.reason == f"WHY_{code.name}" and e.domain == "arangopipe.v1"
    assert e.metadata == {"existing_id": "datasets/abc", "resource": "datasets"}
    assert e.field_violations == [apc.FieldViolation("name", "is scripted")]
    assert e.method == "/arangopipe.v1.TrackingService/RegisterDataset"
    assert code.name in str(e) and f"WHY_{code.name}" in str(e)
    assert isinstance(e.details[0], error_details_pb2.ErrorInfo)


def test_exceptions_are_also_builtin_exceptions() -> None:
    assert issubclass(apc.NotFoundError, LookupError)
    assert issubclass(apc.InvalidArgumentError, ValueError)
    assert issubclass(apc.UnavailableError, ConnectionError)
    assert issubclass(apc.DeadlineExceededError, TimeoutError)
    assert apc.AlreadyExistsError("x", metadata={"existing_id": "datasets/1"}).existing_id == "datasets/1"


def test_exceptions_pickle() -> None:
    e = apc.AlreadyExistsError("taken", reason="ALREADY_EXISTS", domain="arangopipe.v1",
                                metadata={"existing_id": "datasets/1"},
                                field_violations=[apc.FieldViolation("name", "taken")], method="/m")
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is apc.AlreadyExistsError and back.existing_id == "datasets/1"
    assert back.field_violations == e.field_violations and str(back) == str(e)


def test_error_without_details() -> None:
    class Bare(grpc.RpcError):
        def code(self):
            return grpc.StatusCode.NOT_FOUND

        def details(self):
            return "plain"

        def trailing_metadata(self):
            return ()

    e = errors.error_from_rpc(Bare())
    assert isinstance(e, apc.NotFoundError) and e.message == "plain" and e.reason is None
    assert e.metadata == {} and e.field_violations == []


def test_token_is_sent_as_bearer_metadata(scripted, monkeypatch) -> None:
    target, servicer = scripted
    monkeypatch.setenv("ARANGOPIPE_TOKEN", "from-env")
    with ArangoPipe(target) as ap:
        ap.register_dataset({"name": "OK"})
    with ArangoPipe(target, token="from-argument") as ap:
        ap.register_dataset({"name": "OK"})
    monkeypatch.delenv("ARANGOPIPE_TOKEN")
    with ArangoPipe(target) as ap:
        ap.register_dataset({"name": "OK"})
    auth = [dict(md).get("authorization") for name, md, _ in servicer.calls[-3:]]
    assert auth == ["Bearer from-env", "Bearer from-argument", None]
    assert all(dict(md)["user-agent"].startswith("arangopipe-client-python/") for _, md, _ in servicer.calls[-3:])


def test_every_write_gets_a_request_id(scripted) -> None:
    target, servicer = scripted
    with ArangoPipe(target) as ap:
        ap.register_dataset({"name": "OK"})
        ap.register_dataset({"name": "OK"})
    ids = [rid for _, _, rid in servicer.calls[-2:]]
    assert all(len(r) == 32 for r in ids) and ids[0] != ids[1]


def test_unauthenticated_and_permission_denied_are_not_retried(scripted) -> None:
    target, servicer = scripted
    with ArangoPipe(target, max_attempts=4) as ap:
        before = len(servicer.calls)
        with pytest.raises(apc.UnauthenticatedError):
            ap.register_dataset({"name": "UNAUTHENTICATED"})
        with pytest.raises(apc.PermissionDeniedError):
            ap.register_dataset({"name": "PERMISSION_DENIED"})
        assert len(servicer.calls) - before == 2


def test_unavailable_is_retried_then_raised(scripted) -> None:
    target, servicer = scripted
    conn = Connection(target, max_attempts=3, timeout=10)
    conn._sleep = lambda s: None
    with ArangoPipe(connection=conn) as ap:
        before = len(servicer.calls)
        with pytest.raises(apc.UnavailableError) as err:
            ap.register_dataset({"name": "UNAVAILABLE"})
        assert err.value.reason == "WHY_UNAVAILABLE"
        attempts = servicer.calls[before:]
        assert len(attempts) == 3
        assert len({rid for _, _, rid in attempts}) == 1, "every attempt carries the same request_id"
    conn.close()


# ---- against the real server ---------------------------------------------------------------------


def test_nothing_listening_is_unavailable() -> None:
    import socket

    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with ArangoPipe(f"127.0.0.1:{port}", timeout=5, max_attempts=2) as ap:
        with pytest.raises(apc.UnavailableError) as err:
            ap.lookup_dataset("anything")
    assert isinstance(err.value, ConnectionError)


def test_deadline_exceeded(server) -> None:
    with Connection(server.target) as conn:
        with pytest.raises(apc.DeadlineExceededError):
            conn.call("tracking", "ListEntities", tm.ListEntitiesRequest(collection="datasets"), timeout=1e-6)


def test_real_server_details(ap: ArangoPipe, uid: str) -> None:
    with pytest.raises(apc.NotFoundError) as nf:
        ap.register_dataset({"name": f"d-{uid}"}, project=f"missing-{uid}")
    assert nf.value.reason == "NOT_FOUND" and nf.value.domain == "arangopipe.v1"
    assert "CreateProject" in nf.value.message
    with pytest.raises(apc.InvalidArgumentError) as ia:
        list(ap.search_runs(filter="devperf.rmse <"))
    assert ia.value.field_violations and ia.value.field_violations[0].field == "filter"


def test_closed_connection_refuses_calls(server) -> None:
    conn = Connection(server.target)
    conn.close()
    conn.close()
    with pytest.raises(RuntimeError, match="closed"):
        ArangoPipe(connection=conn).lookup_dataset("x")
