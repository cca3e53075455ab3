"""The connection to an Arangopipe server: settings, channel, stubs, and the one call wrapper.

Every RPC goes through :meth:`Connection.call`, which

* gives the call a deadline (the default timeout unless the caller passes one),
* sends the bearer token as ``authorization: Bearer <token>`` metadata,
* gives every write a ``request_id`` when it has none, so that the server can recognise a retry,
* retries, with exponential backoff and jitter, only calls that are safe to repeat: the reads listed in
  ``READS`` (idempotent) and writes that carry a ``request_id``; and only on UNAVAILABLE and ABORTED,
  within the call's deadline,
* turns a failed call into the typed exception for its status code (:mod:`arangopipe_client.errors`).
"""

from __future__ import annotations

import dataclasses
import os
import random
import time
import uuid
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, TypeVar

import grpc

from . import errors
from .v1 import admin_service_pb2_grpc, lineage_service_pb2_grpc, tracking_service_pb2_grpc

__all__ = ["ClientConfig", "Connection", "DEFAULT_TARGET", "DEFAULT_TIMEOUT", "new_request_id"]

DEFAULT_TARGET = "localhost:6529"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ATTEMPTS = 4

#: Status codes after which a retry-safe call is tried again. DEADLINE_EXCEEDED is not among them: the
#: deadline is the caller's budget for the whole call, retries included.
RETRYABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED})

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

T = TypeVar("T")


def new_request_id() -> str:
    """A fresh idempotency key (32 hex digits)."""
    return uuid.uuid4().hex


def _read_file(path: Optional[str], what: str) -> Optional[bytes]:
    if path is None:
        return None
    try:
        with open(os.path.expanduser(path), "rb") as f:
            return f.read()
    except OSError as e:
        raise ValueError(f"{what}: cannot read {path}: {e.strerror}") from None


@dataclasses.dataclass(frozen=True)
class ClientConfig:
    """How to reach the server. Build it with :meth:`from_env` to fill unset fields from the environment.

    Attributes:
        target: ``host:port`` of the server (``ARANGOPIPE_TARGET``, default ``localhost:6529``).
        token: bearer token, sent as ``authorization: Bearer <token>`` (``ARANGOPIPE_TOKEN``).
        ca: path of a PEM file with the root certificates to trust (``ARANGOPIPE_CA``); setting it turns TLS
            on.
        cert, key: paths of the client certificate and its private key, PEM, for mutual TLS
            (``ARANGOPIPE_CERT``, ``ARANGOPIPE_KEY``); setting them turns TLS on.
        tls: force TLS on or off (``ARANGOPIPE_TLS``); by default on exactly when ca or cert is set. TLS
            without ``ca`` trusts the system's roots.
        timeout: default deadline of each call, in seconds, retries included (``ARANGOPIPE_TIMEOUT``).
        max_attempts: how often a retry-safe call is tried at most (1 disables retries).
        initial_backoff, max_backoff: bounds of the exponential backoff between attempts, in seconds.
        options: extra gRPC channel options.
    """

    target: str = DEFAULT_TARGET
    token: Optional[str] = None
    ca: Optional[str] = None
    cert: Optional[str] = None
    key: Optional[str] = None
    tls: Optional[bool] = None
    timeout: float = DEFAULT_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    initial_backoff: float = 0.1
    max_backoff: float = 2.0
    options: Tuple[Tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if not self.target:
            raise ValueError("target must be host:port, e.g. localhost:6529")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive (got {self.timeout})")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1 (got {self.max_attempts})")
        if (self.cert is None) != (self.key is None):
            raise ValueError("cert and key go together: give both for mutual TLS, or neither")
        if self.tls is False and (self.ca or self.cert):
            raise ValueError("tls=False contradicts ca/cert/key, which are TLS settings")

    @property
    def use_tls(self) -> bool:
        return bool(self.tls) or bool(self.ca) or bool(self.cert)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None, **overrides: Any) -> "ClientConfig":
        """Settings from the arguments given (not None), else from ``ARANGOPIPE_*`` variables, else defaults."""
        env = os.environ if env is None else env
        values: Dict[str, Any] = {}
        for name, var in (("target", "ARANGOPIPE_TARGET"), ("token", "ARANGOPIPE_TOKEN"),
                          ("ca", "ARANGOPIPE_CA"), ("cert", "ARANGOPIPE_CERT"), ("key", "ARANGOPIPE_KEY")):
            if env.get(var):
                values[name] = env[var]
        if env.get("ARANGOPIPE_TLS") is not None:
            flag = env["ARANGOPIPE_TLS"].strip().lower()
            if flag not in _TRUE | _FALSE:
                raise ValueError(f"ARANGOPIPE_TLS must be true or false (got {env['ARANGOPIPE_TLS']!r})")
            values["tls"] = flag in _TRUE if flag else None
        if env.get("ARANGOPIPE_TIMEOUT"):
            try:
                values["timeout"] = float(env["ARANGOPIPE_TIMEOUT"])
            except ValueError:
                raise ValueError(f"ARANGOPIPE_TIMEOUT must be seconds (got {env['ARANGOPIPE_TIMEOUT']!r})") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "options" in values:
            values["options"] = tuple(tuple(o) for o in values["options"])
        return cls(**values)

    def credentials(self) -> Optional[grpc.ChannelCredentials]:
        """TLS channel credentials, or None for a plaintext channel."""
        if not self.use_tls:
            return None
        return grpc.ssl_channel_credentials(
            root_certificates=_read_file(self.ca, "ca"),
            private_key=_read_file(self.key, "key"),
            certificate_chain=_read_file(self.cert, "cert"),
        )

    def __repr__(self) -> str:  # never print the token
        token = "'***'" if self.token else "None"
        return (f"ClientConfig(target={self.target!r}, token={token}, ca={self.ca!r}, cert={self.cert!r}, "
                f"key={self.key!r}, tls={self.tls!r}, timeout={self.timeout!r}, max_attempts={self.max_attempts!r})")


class Connection:
    """A channel to the server with the three service stubs; closes the channel on ``close()`` or at the
    end of a ``with`` block. Share one between :class:`~arangopipe_client.ArangoPipe` and
    :class:`~arangopipe_client.ArangoPipeAdmin` with ``connection=``.
    """

    def __init__(
        self,
        target: Optional[str] = None,
        *,
        token: Optional[str] = None,
        ca: Optional[str] = None,
        cert: Optional[str] = None,
        key: Optional[str] = None,
        tls: Optional[bool] = None,
        timeout: Optional[float] = None,
        max_attempts: Optional[int] = None,
        config: Optional[ClientConfig] = None,
        interceptors: Sequence[Any] = (),
        channel: Optional[grpc.Channel] = None,
    ) -> None:
        if config is not None and not isinstance(config, ClientConfig):
            raise TypeError("config must be an arangopipe_client.ClientConfig; the seed library's "
                            "ArangoPipeConfig does not apply (see 'Migrating from arangopipe' in the README)")
        overrides: Dict[str, Any] = dict(target=target, token=token, ca=ca, cert=cert, key=key, tls=tls,
                                         timeout=timeout, max_attempts=max_attempts)
        if config is None:
            config = ClientConfig.from_env(**overrides)
        elif any(v is not None for v in overrides.values()):
            config = dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
        self.config = config
        self._owns_channel = channel is None
        if channel is None:
            from . import __version__

            options = [("grpc.primary_user_agent", f"arangopipe-client-python/{__version__}")]
            options += list(config.options)
            creds = config.credentials()
            channel = (grpc.secure_channel(config.target, creds, options=options) if creds is not None
                       else grpc.insecure_channel(config.target, options=options))
        if interceptors:
            channel = grpc.intercept_channel(channel, *interceptors)
        self.channel: grpc.Channel = channel
        self.admin = admin_service_pb2_grpc.AdminServiceStub(channel)
        self.tracking = tracking_service_pb2_grpc.TrackingServiceStub(channel)
        self.lineage = lineage_service_pb2_grpc.LineageServiceStub(channel)
        self._metadata: List[Tuple[str, str]] = []
        if config.token:
            self._metadata.append(("authorization", f"Bearer {config.token}"))
        self._sleep: Callable[[float], None] = time.sleep
        self._closed = False

    # -- lifecycle -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the channel (when this connection opened it). Safe to call twice."""
        if not self._closed:
            self._closed = True
            if self._owns_channel:
                self.channel.close()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Connection({self.config.target!r}{', closed' if self._closed else ''})"

    # -- the call wrapper ----------------------------------------------------------------------------

    def call(
        self,
        service: str,
        method: str,
        request: Any,
        *,
        timeout: Optional[float] = None,
        auto_request_id: bool = True,
    ) -> Any:
        """Calls ``service.method`` (e.g. ``"tracking", "RegisterDataset"``) and returns its response.

        Retries, within the deadline, only when the call is safe to repeat: a read, or a write whose
        request carries a ``request_id`` (one is generated when the field is empty and
        ``auto_request_id`` is true). Raises an :class:`~arangopipe_client.errors.ArangopipeError`
        subclass when the call fails.
        """
        if self._closed:
            raise RuntimeError("the connection is closed")
        stub = {"admin": self.admin, "tracking": self.tracking, "lineage": self.lineage}[service]
        rpc = getattr(stub, method)
        full_name = f"/arangopipe.v1.{_SERVICE_NAMES[service]}/{method}"
        retry_safe = self._prepare(service, method, request, auto_request_id)
        attempts = self.config.max_attempts if retry_safe else 1
        return self._with_retries(lambda remaining: rpc(request, timeout=remaining, metadata=self._metadata),
                                  full_name, attempts, timeout)

    def call_stream(
        self,
        service: str,
        method: str,
        requests: Sequence[Any],
        *,
        timeout: Optional[float] = None,
    ) -> Any:
        """Calls a client-streaming RPC with the given request messages and returns its response.

        Every request without a request_id gets one, so resending the whole stream after a lost
        connection is safe (the server skips the batches it has already written); the call is retried as
        :meth:`call` retries.
        """
        if self._closed:
            raise RuntimeError("the connection is closed")
        stub = {"admin": self.admin, "tracking": self.tracking, "lineage": self.lineage}[service]
        rpc = getattr(stub, method)
        full_name = f"/arangopipe.v1.{_SERVICE_NAMES[service]}/{method}"
        for request in requests:
            if not request.request_id:
                request.request_id = new_request_id()
        return self._with_retries(lambda remaining: rpc(iter(requests), timeout=remaining, metadata=self._metadata),
                                  full_name, self.config.max_attempts, timeout)

    def _with_retries(self, attempt_once: Callable[[float], T], full_name: str, attempts: int,
                      timeout: Optional[float]) -> T:
        budget = self.config.timeout if timeout is None else float(timeout)
        if budget <= 0:
            raise ValueError(f"timeout must be positive (got {timeout})")
        deadline = time.monotonic() + budget
        for attempt in range(1, attempts + 1):
            try:
                return attempt_once(max(deadline - time.monotonic(), 0.001))
            except grpc.RpcError as e:
                code = e.code() if callable(getattr(e, "code", None)) else None
                if code in RETRYABLE_CODES and attempt < attempts:
                    pause = random.uniform(0, min(self.config.max_backoff,
                                                  self.config.initial_backoff * 2 ** (attempt - 1)))
                    if deadline - time.monotonic() > pause + 0.01:
                        self._sleep(pause)
                        continue
                raise errors.error_from_rpc(e, full_name) from None
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _prepare(service: str, method: str, request: Any, auto_request_id: bool) -> bool:
        """Fills an empty request_id of a write; tells whether the call may be retried."""
        if method in READS.get(service, ()):
            return True
        if "request_id" not in request.DESCRIPTOR.fields_by_name:
            return False  # a write that cannot be recognised when repeated (CreateToken): never retried
        if not request.request_id and auto_request_id:
            request.request_id = new_request_id()
        return bool(request.request_id)

    def pages(
        self,
        service: str,
        method: str,
        request: Any,
        items: str,
        *,
        limit: Optional[int] = None,
        timeout: Optional[float] = None,
    ) -> Iterable[Any]:
        """Yields the ``items`` of every page of a paged list call, following ``next_page_token``."""
        seen = 0
        while True:
            response = self.call(service, method, request, timeout=timeout)
            for item in getattr(response, items):
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return
            if not response.next_page_token:
                return
            request.page_token = response.next_page_token


_SERVICE_NAMES = {"admin": "AdminService", "tracking": "TrackingService", "lineage": "LineageService"}

#: The RPCs that only read: idempotent, so always safe to retry. Every other RPC writes, and is retried
#: only when its request carries a request_id.
READS = {
    "admin": frozenset({"GetProject", "ListProjects", "GetType", "ListTypes", "ListUsers", "ListTokens",
                        "GetCurrentUser"}),
    "tracking": frozenset({"GetEntity", "LookupEntity", "GetRun", "GetDeployment", "FindEntities",
                           "ListEntities"}),
    "lineage": frozenset({"GetLineage", "GetImpact", "SearchRuns", "AggregateRuns", "AggregateEntities",
                          "GetRunRecipe", "CompareServingToDev", "GetHistory"}),
}
