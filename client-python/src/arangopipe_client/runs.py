"""``with ap.start_run(...) as run:`` — a run collected in memory and written in one LogRun at the end."""

from __future__ import annotations

import datetime as _dt
import logging
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Union

from . import _convert as cv
from .connection import new_request_id
from .errors import ArangopipeError
from .v1 import resources_pb2 as res
from .v1 import tracking_messages_pb2 as tm

if TYPE_CHECKING:
    from .facade import ArangoPipe

__all__ = ["ActiveRun"]

log = logging.getLogger("arangopipe_client")

Ref = Union[str, Mapping[str, Any], None]


class ActiveRun:
    """A run being recorded. Parameters, metrics and properties collect in memory; leaving the ``with``
    block writes the run, its model params, its dev performance and their links in one atomic LogRun:

    * status COMPLETED when the block finishes,
    * FAILED when it raises (the exception's type and message go into the ``error`` property; the
      exception propagates after the run is written; should writing fail too, that is logged and the
      block's exception still propagates),
    * CANCELLED on KeyboardInterrupt.

    The run id (``run.run_id``) and the request id are fixed when the run is created, so a retried
    LogRun cannot write the run twice. After the block, ``run.result`` is the logged run.
    """

    def __init__(
        self,
        ap: "ArangoPipe",
        *,
        model: Ref = None,
        dataset: Ref = None,
        featureset: Ref = None,
        project: Optional[str] = None,
        tag: Optional[str] = None,
        deployment_tag: Optional[str] = None,
        run_id: Optional[str] = None,
        params: Optional[Mapping[str, Any]] = None,
        properties: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self._ap = ap
        self.run_id: str = run_id or new_request_id()
        self.model = model
        self.dataset = dataset
        self.featureset = featureset
        self.project = project
        self.tag = tag
        self.deployment_tag = deployment_tag
        self.params: Dict[str, Any] = dict(params or {})
        self.metrics: Dict[str, Any] = {}
        self.properties: Dict[str, Any] = dict(properties or {})
        self.start_time: Optional[_dt.datetime] = None
        self.end_time: Optional[_dt.datetime] = None
        self.result: Optional[Dict[str, Any]] = None
        self._request_id = new_request_id()
        self._entered = False

    # -- collecting ----------------------------------------------------------------------------------

    def log_param(self, name: str, value: Any) -> None:
        self.params[name] = value

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.params.update(params)

    def log_metric(self, name: str, value: Any) -> None:
        self.metrics[name] = value

    def log_metrics(self, metrics: Mapping[str, Any]) -> None:
        self.metrics.update(metrics)

    def set_property(self, name: str, value: Any) -> None:
        self.properties[name] = value

    def set_properties(self, properties: Mapping[str, Any]) -> None:
        self.properties.update(properties)

    # -- the context manager -------------------------------------------------------------------------

    def __enter__(self) -> "ActiveRun":
        if self._entered:
            raise RuntimeError("a run can be entered once; start a new one with ap.start_run(...)")
        self._entered = True
        self.start_time = _now()
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        self.end_time = max(_now(), self.start_time or _now())
        if exc_type is None:
            self.result = self._log(res.RUN_STATUS_COMPLETED)
            return
        status = res.RUN_STATUS_CANCELLED if issubclass(exc_type, KeyboardInterrupt) else res.RUN_STATUS_FAILED
        self.properties.setdefault("error", {"type": exc_type.__name__, "message": str(exc)[:2000]})
        try:
            self.result = self._log(status)
        except (ArangopipeError, ValueError, TypeError) as log_error:
            log.error("could not log failed run %s: %s", self.run_id, log_error)
        # returning None lets the block's exception propagate

    def _log(self, status: Any) -> Dict[str, Any]:
        if self.model is None:
            raise ValueError("the run has no model: pass model= to start_run, or set run.model in the block")
        req = tm.LogRunRequest(
            run_id=self.run_id,
            project=self.project or "",
            tag=self.tag or "",
            deployment_tag=self.deployment_tag or "",
            status=status,
            model_id=cv.entity_ref(self.model, "models", "model"),
            dataset_id=cv.entity_ref(self.dataset, "datasets", "dataset") if self.dataset else "",
            featureset_id=cv.entity_ref(self.featureset, "featuresets", "featureset") if self.featureset else "",
            model_params=cv.to_struct(self.params, "params"),
            dev_perf=cv.to_struct(self.metrics, "metrics"),
            properties=cv.to_struct(self.properties, "properties"),
            request_id=self._request_id,
        )
        for field, when in (("start_time", self.start_time), ("end_time", self.end_time)):
            ts = cv.to_timestamp(when)
            if ts is not None:
                getattr(req, field).CopyFrom(ts)
        from .facade import _run_view

        return _run_view(self._ap.connection.call("tracking", "LogRun", req))

    def __repr__(self) -> str:
        state = "logged" if self.result is not None else ("open" if self._entered else "new")
        return f"<ActiveRun {self.run_id} {state}>"


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)
