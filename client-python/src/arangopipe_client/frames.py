"""Run tables as pandas DataFrames."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List

from . import _convert as cv

__all__ = ["runs_to_dataframe", "RUN_COLUMNS"]

#: The run's own columns, always present and in this order.
RUN_COLUMNS = ["run_id", "project", "tag", "deployment_tag", "status", "start_time", "end_time"]
_LINKED = (("dataset", "dataset"), ("featureset", "featureset"), ("model", "model"))
_RESULTS = (("modelparams", "model_params"), ("devperf", "dev_perf"))


def record_to_row(record: Any) -> Dict[str, Any]:
    """One SearchRuns RunRecord as a flat row whose column names are the filter language's field names."""
    run = record.run
    row: Dict[str, Any] = {
        "run_id": run.run_id,
        "project": run.project or None,
        "tag": run.tag or None,
        "deployment_tag": run.deployment_tag or None,
        "status": cv.run_to_dict(run)["status"],
        "start_time": cv.timestamp_to_datetime(run.start_time) if run.HasField("start_time") else None,
        "end_time": cv.timestamp_to_datetime(run.end_time) if run.HasField("end_time") else None,
    }
    props: Dict[str, Any] = {}
    cv.flatten(cv.from_struct(run.properties), "", props)
    for k, v in props.items():
        row[k if k not in row else f"run.{k}"] = v
    for prefix, field in _LINKED:
        if record.HasField(field):
            e = getattr(record, field)
            row[f"{prefix}.id"] = e.id
            row[f"{prefix}.name"] = e.name or None
            cv.flatten(cv.from_struct(e.document), f"{prefix}.", row, skip=("id", "name"))
    for prefix, field in _RESULTS:
        if record.HasField(field):
            cv.flatten(cv.from_struct(getattr(record, field).document), f"{prefix}.", row, skip=("run_id",))
    return row


def runs_to_dataframe(records: Iterable[Any]) -> Any:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - exercised by users without the extra
        raise ImportError("runs_dataframe needs pandas: pip install 'arangopipe-client[pandas]'") from None
    rows: List[Dict[str, Any]] = [record_to_row(r) for r in records]
    columns: List[str] = list(RUN_COLUMNS)
    seen = set(columns)
    for row in rows:
        for c in row:
            if c not in seen:
                seen.add(c)
                columns.append(c)
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for c in ("start_time", "end_time"):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    return frame
