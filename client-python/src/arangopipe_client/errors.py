"""Typed exceptions for the gRPC status codes the Arangopipe server returns.

Every failed call raises a subclass of :class:`ArangopipeError` that carries the status code, the server's
message and the ``google.rpc`` details from the ``grpc-status-details-bin`` trailer: the
``ErrorInfo`` reason and metadata (``existing_id`` on ALREADY_EXISTS) and the ``BadRequest`` field
violations (on INVALID_ARGUMENT).

Some also derive from the matching built-in exception, so generic code keeps working:
``NotFoundError`` is a ``LookupError``, ``InvalidArgumentError`` a ``ValueError``, ``UnavailableError`` a
``ConnectionError`` and ``DeadlineExceededError`` a ``TimeoutError``.
"""

from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, Type

import grpc

from google.rpc import error_details_pb2 as _error_details_pb2  # googleapis-common-protos
from google.rpc import status_pb2 as _status_pb2

__all__ = [
    "ArangopipeError",
    "FieldViolation",
    "CancelledError",
    "UnknownError",
    "InvalidArgumentError",
    "DeadlineExceededError",
    "NotFoundError",
    "AlreadyExistsError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "FailedPreconditionError",
    "AbortedError",
    "OutOfRangeError",
    "UnimplementedError",
    "InternalError",
    "UnavailableError",
    "DataLossError",
    "UnauthenticatedError",
    "error_from_rpc",
]

STATUS_DETAILS_KEY = "grpc-status-details-bin"
ERROR_DOMAIN = "arangopipe.v1"


class FieldViolation(NamedTuple):
    """One entry of a ``google.rpc.BadRequest``: which request field, and what is wrong with it."""

    field: str
    description: str


class ArangopipeError(Exception):
    """Base class of every error this client raises for a failed call.

    Attributes:
        code: the ``grpc.StatusCode``.
        message: the server's message (or the transport's, for connection failures).
        reason: the ``google.rpc.ErrorInfo`` reason (e.g. ``"ALREADY_EXISTS"``, ``"AMBIGUOUS_NAME"``), or None.
        domain: the ErrorInfo domain, ``"arangopipe.v1"`` for the server's own errors.
        metadata: the ErrorInfo metadata (e.g. ``{"existing_id": "datasets/..."}``); empty when none.
        field_violations: the ``google.rpc.BadRequest`` field violations; empty when none.
        details: every decoded detail message, for anything the attributes above do not cover.
        method: the full RPC method name, e.g. ``"/arangopipe.v1.TrackingService/RegisterDataset"``.
    """

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        message: str,
        *,
        code: Optional[grpc.StatusCode] = None,
        reason: Optional[str] = None,
        domain: Optional[str] = None,
        metadata: Optional[Dict[str, str]] = None,
        field_violations: Sequence[FieldViolation] = (),
        details: Sequence[Any] = (),
        method: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.metadata: Dict[str, str] = dict(metadata or {})
        self.field_violations: List[FieldViolation] = list(field_violations)
        self.details: List[Any] = list(details)
        self.method = method

    def __str__(self) -> str:
        text = f"{self.code.name}: {self.message}"
        if self.reason and self.reason != self.code.name:
            text += f" [{self.reason}]"
        for v in self.field_violations:
            if v.field and v.field not in self.message:
                text += f" ({v.field}: {v.description})"
        return text

    def __reduce__(self) -> Any:  # keep the exceptions picklable (multiprocessing, joblib)
        return (_rebuild, (type(self), self.message, self.code, self.reason, self.domain, self.metadata,
                           list(self.field_violations), self.method))


def _rebuild(cls: Type["ArangopipeError"], message: str, code: grpc.StatusCode, reason: Optional[str],
             domain: Optional[str], metadata: Dict[str, str], violations: List[Tuple[str, str]],
             method: Optional[str]) -> "ArangopipeError":
    return cls(message, code=code, reason=reason, domain=domain, metadata=metadata,
               field_violations=[FieldViolation(*v) for v in violations], method=method)


class CancelledError(ArangopipeError):
    """CANCELLED: the call was cancelled, usually by the caller."""

    code = grpc.StatusCode.CANCELLED


class UnknownError(ArangopipeError):
    """UNKNOWN: an error without a status code (or one this client does not know)."""

    code = grpc.StatusCode.UNKNOWN


class InvalidArgumentError(ArangopipeError, ValueError):
    """INVALID_ARGUMENT: the request breaks a rule; ``field_violations`` says which field and why."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceededError(ArangopipeError, TimeoutError):
    """DEADLINE_EXCEEDED: the call did not finish within its timeout."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFoundError(ArangopipeError, LookupError):
    """NOT_FOUND: an entity, type, project, run or deployment the call names does not exist."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(ArangopipeError):
    """ALREADY_EXISTS: the name (or run id, tag, key) is taken by a different document.

    ``existing_id`` is the id of the document that holds it (from the ErrorInfo metadata), so a caller can
    look it up, compare, and choose: ``ap.lookup_entity_by_id(err.existing_id)``.
    """

    code = grpc.StatusCode.ALREADY_EXISTS

    @property
    def existing_id(self) -> Optional[str]:
        return self.metadata.get("existing_id")


class PermissionDeniedError(ArangopipeError):
    """PERMISSION_DENIED: the caller is authenticated but not allowed to do this."""

    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhaustedError(ArangopipeError):
    """RESOURCE_EXHAUSTED: a limit was reached (message size, rate, quota), or the server's disk is full
    (reason ``STORE_FULL``: free space, then retry with the same request_id)."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPreconditionError(ArangopipeError):
    """FAILED_PRECONDITION: the system is not in a state that allows the call.

    ``reason`` tells which precondition, e.g. ``DEPLOYMENT_TAG_NOT_FOUND``, ``AMBIGUOUS_DEPLOYMENT_TAG``,
    ``AMBIGUOUS_NAME``, ``DEPLOYMENT_ARCHIVED``, ``TYPE_NOT_EMPTY``, ``BUILTIN_TYPE``, ``REQUEST_ID_REUSED``.
    """

    code = grpc.StatusCode.FAILED_PRECONDITION


class AbortedError(ArangopipeError):
    """ABORTED: a concurrency conflict; the call may be retried."""

    code = grpc.StatusCode.ABORTED


class OutOfRangeError(ArangopipeError):
    """OUT_OF_RANGE."""

    code = grpc.StatusCode.OUT_OF_RANGE


class UnimplementedError(ArangopipeError):
    """UNIMPLEMENTED: the server does not offer this RPC (an older server?)."""

    code = grpc.StatusCode.UNIMPLEMENTED


class InternalError(ArangopipeError):
    """INTERNAL: a bug in the server; the message carries an incident id to report."""

    code = grpc.StatusCode.INTERNAL


class UnavailableError(ArangopipeError, ConnectionError):
    """UNAVAILABLE: the server (or its store) cannot be reached right now."""

    code = grpc.StatusCode.UNAVAILABLE


class DataLossError(ArangopipeError):
    """DATA_LOSS."""

    code = grpc.StatusCode.DATA_LOSS


class UnauthenticatedError(ArangopipeError):
    """UNAUTHENTICATED: no valid credentials (set a token: ``token=`` or ``ARANGOPIPE_TOKEN``)."""

    code = grpc.StatusCode.UNAUTHENTICATED


_BY_CODE: Dict[grpc.StatusCode, Type[ArangopipeError]] = {
    cls.code: cls
    for cls in (
        CancelledError, UnknownError, InvalidArgumentError, DeadlineExceededError, NotFoundError,
        AlreadyExistsError, PermissionDeniedError, ResourceExhaustedError, FailedPreconditionError,
        AbortedError, OutOfRangeError, UnimplementedError, InternalError, UnavailableError, DataLossError,
        UnauthenticatedError,
    )
}


def _status_details(error: grpc.RpcError) -> List[Any]:
    """Decodes the google.rpc.Status in the trailers into its detail messages."""
    trailers = getattr(error, "trailing_metadata", None)
    try:
        metadata = trailers() if callable(trailers) else None
    except Exception:  # a broken call object: no details
        metadata = None
    out: List[Any] = []
    for key, value in metadata or ():
        if key != STATUS_DETAILS_KEY or not isinstance(value, bytes):
            continue
        try:
            status = _status_pb2.Status.FromString(value)
        except Exception:
            continue
        for any_detail in status.details:
            for cls in (_error_details_pb2.ErrorInfo, _error_details_pb2.BadRequest,
                        _error_details_pb2.PreconditionFailure, _error_details_pb2.RetryInfo,
                        _error_details_pb2.ResourceInfo, _error_details_pb2.DebugInfo,
                        _error_details_pb2.QuotaFailure, _error_details_pb2.Help,
                        _error_details_pb2.LocalizedMessage):
                if any_detail.Is(cls.DESCRIPTOR):
                    msg = cls()
                    any_detail.Unpack(msg)
                    out.append(msg)
                    break
            else:
                out.append(any_detail)
    return out


def error_from_rpc(error: grpc.RpcError, method: Optional[str] = None) -> ArangopipeError:
    """The typed exception for a failed gRPC call, with the server's details decoded."""
    code_fn = getattr(error, "code", None)
    details_fn = getattr(error, "details", None)
    code = code_fn() if callable(code_fn) else grpc.StatusCode.UNKNOWN
    if not isinstance(code, grpc.StatusCode):
        code = grpc.StatusCode.UNKNOWN
    message = (details_fn() if callable(details_fn) else None) or str(error) or code.name
    details = _status_details(error)
    reason = domain = None
    metadata: Dict[str, str] = {}
    violations: List[FieldViolation] = []
    for d in details:
        if isinstance(d, _error_details_pb2.ErrorInfo):
            reason, domain = d.reason or None, d.domain or None
            metadata.update(d.metadata)
        elif isinstance(d, _error_details_pb2.BadRequest):
            violations.extend(FieldViolation(v.field, v.description) for v in d.field_violations)
    cls = _BY_CODE.get(code, UnknownError)
    return cls(message, code=code, reason=reason, domain=domain, metadata=metadata,
               field_violations=violations, details=details, method=method)
