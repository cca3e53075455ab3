"""Retries: only for calls that are safe to repeat, and never writing twice.

A client interceptor stands in for the network: it lets a write reach the real server and then loses the
response (the server did the work, the client sees UNAVAILABLE), or fails a call before it is sent.
"""

from __future__ import annotations

from typing import List

import grpc
import pytest

import arangopipe_client as apc
from arangopipe_client import ArangoPipe, ArangoPipeAdmin, Connection
from arangopipe_client.v1 import tracking_messages_pb2 as tm


class Lost(grpc.RpcError):
    """What a client sees when the connection drops before the response arrives."""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "connection lost (simulated)"

    def trailing_metadata(self):  # type: ignore[no-untyped-def]
        return ()


class Network(grpc.UnaryUnaryClientInterceptor):
    """Loses the responses of the first `lose_after` calls of a method (after the server ran them) and
    fails the first `fail_before` calls before they are sent. Records every attempt's request_id."""

    def __init__(self, method: str, *, lose_after: int = 0, fail_before: int = 0) -> None:
        self.method = method
        self.lose_after = lose_after
        self.fail_before = fail_before
        self.attempts: List[str] = []

    def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        if not client_call_details.method.endswith("/" + self.method):
            return continuation(client_call_details, request)
        self.attempts.append(getattr(request, "request_id", ""))
        if self.fail_before > 0:
            self.fail_before -= 1
            raise Lost()
        outcome = continuation(client_call_details, request)
        if self.lose_after > 0:
            self.lose_after -= 1
            outcome.result()  # the server has done the work
            raise Lost()
        return outcome


def _client(server, network: Network, **kwargs) -> ArangoPipe:
    conn = Connection(server.target, interceptors=[network], **kwargs)
    conn._sleep = lambda seconds: None  # no need to wait in tests
    return ArangoPipe(connection=conn)


def _serving_perf_count(ap: ArangoPipe, tag: str) -> int:
    [deployment] = ap.compare_serving_to_dev(dep_tag=tag)
    return len(deployment["serving_perf"])


def test_lost_response_of_a_write_is_retried_without_writing_twice(server, ap: ArangoPipe,
                                                                   lineage_setup: dict) -> None:
    tag = lineage_setup["deployment"]["tag"]
    assert _serving_perf_count(ap, tag) == 1
    net = Network("LogServingPerf", lose_after=2)
    client = _client(server, net)
    sp = client.log_serving_perf({"rmse": 0.42}, tag)
    assert len(net.attempts) == 3, "two lost responses, then the answer"
    assert len(set(net.attempts)) == 1 and len(net.attempts[0]) == 32, "one request_id for every attempt"
    assert _serving_perf_count(ap, tag) == 2, "the server wrote the measurement once"
    assert ap.lookup_entity_by_id(sp["_id"])["rmse"] == 0.42
    client.connection.close()


def test_lost_response_of_log_run_without_run_id(server, ap: ArangoPipe, uid: str) -> None:
    model = ap.register_model({"name": f"m-{uid}"})
    net = Network("LogRun", lose_after=1)
    client = _client(server, net)
    run = client.log_run({"model": model, "tag": f"t-{uid}", "model-perf": {"rmse": 1.0}})
    assert len(net.attempts) == 2
    runs = list(ap.search_runs(filter=f"tag = 't-{uid}'"))
    assert [r["run"]["run_id"] for r in runs] == [run["run_id"]], "one run, though the server chose its id"
    client.connection.close()


def test_lost_response_of_run_context_manager(server, ap: ArangoPipe, uid: str) -> None:
    model = ap.register_model({"name": f"m-{uid}"})
    net = Network("LogRun", lose_after=1)
    client = _client(server, net)
    with client.start_run(model, tag=f"t-{uid}") as run:
        run.log_metric("rmse", 0.5)
    assert len(net.attempts) == 2 and run.result["run_id"] == run.run_id
    assert len(list(ap.search_runs(filter=f"tag = 't-{uid}'"))) == 1
    client.connection.close()


def test_write_without_request_id_is_not_retried(server, ap: ArangoPipe, lineage_setup: dict) -> None:
    tag = lineage_setup["deployment"]["tag"]
    net = Network("LogServingPerf", lose_after=1)
    conn = Connection(server.target, interceptors=[net])
    req = tm.LogServingPerfRequest(deployment_tag=tag)
    req.metrics.update({"rmse": 0.1})
    with pytest.raises(apc.UnavailableError):
        conn.call("tracking", "LogServingPerf", req, auto_request_id=False)
    assert net.attempts == [""], "tried once: without a request_id a retry could write twice"
    assert _serving_perf_count(ap, tag) == 2, "the lost write did happen"
    conn.close()


def test_same_request_id_returns_first_result_and_reuse_is_refused(connection: Connection,
                                                                    lineage_setup: dict) -> None:
    tag = lineage_setup["deployment"]["tag"]
    first = tm.LogServingPerfRequest(deployment_tag=tag, request_id=f"fixed-{lineage_setup['uid']}")
    first.metrics.update({"rmse": 0.1})
    a = connection.call("tracking", "LogServingPerf", first)
    b = connection.call("tracking", "LogServingPerf", first)
    assert a.serving_perf.id == b.serving_perf.id
    other = tm.LogServingPerfRequest(deployment_tag=tag, request_id=first.request_id)
    other.metrics.update({"rmse": 0.2})
    with pytest.raises(apc.FailedPreconditionError) as err:
        connection.call("tracking", "LogServingPerf", other)
    assert err.value.reason == "REQUEST_ID_REUSED"


def test_reads_are_retried(server, lineage_setup: dict) -> None:
    net = Network("LookupEntity", fail_before=2)
    client = _client(server, net)
    assert client.lookup_dataset(lineage_setup["dataset"]["name"])["_id"] == lineage_setup["dataset"]["_id"]
    assert net.attempts == ["", "", ""]
    client.connection.close()


def test_attempts_and_backoff_are_bounded(server) -> None:
    net = Network("LookupEntity", fail_before=100)
    conn = Connection(server.target, interceptors=[net], max_attempts=5, timeout=30)
    pauses: List[float] = []
    conn._sleep = pauses.append
    with pytest.raises(apc.UnavailableError):
        ArangoPipe(connection=conn).lookup_dataset("x")
    assert len(net.attempts) == 5 and len(pauses) == 4
    for i, pause in enumerate(pauses):
        assert 0 <= pause <= min(conn.config.max_backoff, conn.config.initial_backoff * 2 ** i)
    conn.close()


def test_max_attempts_one_disables_retries(server) -> None:
    net = Network("LookupEntity", fail_before=1)
    client = _client(server, net, max_attempts=1)
    with pytest.raises(apc.UnavailableError):
        client.lookup_dataset("x")
    assert len(net.attempts) == 1
    client.connection.close()


def test_admin_writes_are_retried_safely(server, admin: ArangoPipeAdmin, uid: str) -> None:
    net = Network("CreateProject", lose_after=1)
    conn = Connection(server.target, interceptors=[net])
    conn._sleep = lambda s: None
    with ArangoPipeAdmin(connection=conn) as client:
        p = client.register_project({"name": f"p-{uid}"})
    conn.close()
    assert len(net.attempts) == 2
    assert admin.lookup_project(f"p-{uid}")["_id"] == p["_id"]


class LoseStreamResponse(grpc.StreamUnaryClientInterceptor):
    """Lets a whole client stream reach the server, then loses its response once."""

    def __init__(self) -> None:
        self.attempts: List[List[str]] = []
        self.lose = 1

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        batches = list(request_iterator)
        self.attempts.append([b.request_id for b in batches])
        outcome = continuation(client_call_details, iter(batches))
        if self.lose > 0:
            self.lose -= 1
            outcome.result()
            raise Lost()
        return outcome


def test_streamed_batches_are_resent_without_writing_twice(server, ap: ArangoPipe, lineage_setup: dict) -> None:
    tag = lineage_setup["deployment"]["tag"]
    net = LoseStreamResponse()
    conn = Connection(server.target, interceptors=[net])
    conn._sleep = lambda s: None
    client = ArangoPipe(connection=conn)
    client.log_serving_perf_batch([{"rmse": i / 10} for i in range(5)], tag, batch_size=2)
    assert len(net.attempts) == 2 and net.attempts[0] == net.attempts[1] and len(net.attempts[0]) == 3
    assert _serving_perf_count(ap, tag) == 1 + 5, "each batch written once"
    conn.close()
