"""Python client for the Arangopipe ML metadata service.

``ArangoPipeAdmin`` and ``ArangoPipe`` mirror the seed library (PyPI ``arangopipe``); a seed script runs
after changing its constructor::

    from arangopipe_client import ArangoPipe, ArangoPipeAdmin

    admin = ArangoPipeAdmin()            # ARANGOPIPE_TARGET, default localhost:6529
    ap = ArangoPipe()
    ds = ap.register_dataset({"name": "housing", "source": "UCI"})

The generated gRPC modules are in :mod:`arangopipe_client.v1`; errors are the typed exceptions of
:mod:`arangopipe_client.errors`.
"""

__version__ = "0.1.0"

from .connection import ClientConfig, Connection, new_request_id
from .errors import (
    AbortedError,
    AlreadyExistsError,
    ArangopipeError,
    CancelledError,
    DataLossError,
    DeadlineExceededError,
    FailedPreconditionError,
    FieldViolation,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    OutOfRangeError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
    UnknownError,
)
from .facade import ArangoPipe, ArangoPipeAdmin
from .lineage import Lineage, to_networkx
from .runs import ActiveRun

__all__ = [
    "__version__",
    "ArangoPipe",
    "ArangoPipeAdmin",
    "ActiveRun",
    "ClientConfig",
    "Connection",
    "Lineage",
    "to_networkx",
    "new_request_id",
    "ArangopipeError",
    "FieldViolation",
    "AbortedError",
    "AlreadyExistsError",
    "CancelledError",
    "DataLossError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "OutOfRangeError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UnknownError",
]
