"""Conversions between the wire messages and the plain dicts the facade takes and returns."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

from google.protobuf import struct_pb2, timestamp_pb2

from .v1 import resources_pb2

__all__ = [
    "SYSTEM_KEYS",
    "to_struct",
    "to_value",
    "from_struct",
    "from_value",
    "user_document",
    "entity_to_dict",
    "edge_to_dict",
    "project_to_dict",
    "run_to_dict",
    "deployment_to_dict",
    "type_to_dict",
    "to_timestamp",
    "timestamp_to_datetime",
    "timestamp_to_iso",
    "entity_ref",
]

#: Keys the facade puts on returned documents (ArangoDB-style system attributes, and our metadata).
#: They are dropped from documents passed in, so a returned dict can be registered again unchanged.
SYSTEM_KEYS = frozenset({
    "_id", "_key", "_rev", "_from", "_to", "_collection", "_project", "_created", "_updated", "_creator",
})

_MAX_EXACT_INT = 2 ** 53


# ---- values --------------------------------------------------------------------------------------


def to_value(value: Any, path: str = "value") -> struct_pb2.Value:
    """A Python value as a google.protobuf.Value.

    Accepts None, bool, int, float, str, mappings, lists/tuples/sets, dates and datetimes (as ISO-8601
    strings), and numpy/pandas scalars (through ``.item()``).
    """
    v = struct_pb2.Value()
    if value is None:
        v.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, bool):
        v.bool_value = value
    elif isinstance(value, int):
        v.number_value = float(value)
    elif isinstance(value, float):
        v.number_value = value
    elif isinstance(value, str):
        v.string_value = value
    elif isinstance(value, Mapping):
        v.struct_value.CopyFrom(to_struct(value, path))
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        v.list_value.values.extend(to_value(x, f"{path}[{i}]") for i, x in enumerate(items))
    elif isinstance(value, _dt.datetime):
        v.string_value = _iso(value)
    elif isinstance(value, _dt.date):
        v.string_value = value.isoformat()
    elif hasattr(value, "item") and callable(value.item) and not hasattr(value, "__len__"):
        return to_value(value.item(), path)  # numpy and pandas scalars
    elif hasattr(value, "tolist") and callable(value.tolist):
        return to_value(value.tolist(), path)  # numpy arrays
    else:
        try:
            from decimal import Decimal
            if isinstance(value, Decimal):
                v.number_value = float(value)
                return v
        except ImportError:  # pragma: no cover
            pass
        raise TypeError(f"{path}: cannot send a {type(value).__name__} as a document value "
                        "(use str, int, float, bool, None, dict, list, or a datetime)")
    return v


def to_struct(doc: Optional[Mapping[str, Any]], path: str = "document") -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    for key, value in (doc or {}).items():
        s.fields[str(key)].CopyFrom(to_value(value, f"{path}.{key}"))
    return s


def from_value(v: struct_pb2.Value) -> Any:
    kind = v.WhichOneof("kind")
    if kind == "number_value":
        n = v.number_value
        if math.isfinite(n) and n == int(n) and abs(n) <= _MAX_EXACT_INT:
            return int(n)  # JSON has one number type; give integers back as ints, as ArangoDB did
        return n
    if kind == "string_value":
        return v.string_value
    if kind == "bool_value":
        return v.bool_value
    if kind == "struct_value":
        return from_struct(v.struct_value)
    if kind == "list_value":
        return [from_value(x) for x in v.list_value.values]
    return None


def from_struct(s: struct_pb2.Struct) -> Dict[str, Any]:
    return {k: from_value(s.fields[k]) for k in s.fields}


def user_document(doc: Optional[Mapping[str, Any]], *drop: str) -> Dict[str, Any]:
    """A copy of a caller's document without the system keys (and the named keys)."""
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        raise TypeError(f"expected a dict, got {type(doc).__name__}")
    return {k: v for k, v in doc.items() if k not in SYSTEM_KEYS and k not in drop}


# ---- times ---------------------------------------------------------------------------------------


def _iso(t: _dt.datetime) -> str:
    if t.tzinfo is None:
        return t.isoformat()
    return t.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def to_timestamp(value: Union[_dt.datetime, _dt.date, str, int, float, None]) -> Optional[timestamp_pb2.Timestamp]:
    """A datetime (naive means UTC), date, ISO-8601 string or POSIX seconds as a Timestamp."""
    if value is None:
        return None
    if isinstance(value, timestamp_pb2.Timestamp):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        t = _dt.datetime.fromtimestamp(float(value), tz=_dt.timezone.utc)
    elif isinstance(value, _dt.datetime):
        t = value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
    elif isinstance(value, _dt.date):
        t = _dt.datetime(value.year, value.month, value.day, tzinfo=_dt.timezone.utc)
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            t = _dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO-8601 time: {value!r}") from None
        if t.tzinfo is None:
            t = t.replace(tzinfo=_dt.timezone.utc)
    elif hasattr(value, "to_pydatetime"):  # pandas.Timestamp
        return to_timestamp(value.to_pydatetime())
    else:
        raise TypeError(f"cannot use a {type(value).__name__} as a time")
    delta = t - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    seconds = delta.days * 86400 + delta.seconds
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=delta.microseconds * 1000)


def timestamp_to_datetime(ts: timestamp_pb2.Timestamp) -> _dt.datetime:
    epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    return epoch + _dt.timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


def timestamp_to_iso(ts: timestamp_pb2.Timestamp) -> str:
    return timestamp_to_datetime(ts).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _time_or_none(msg: Any, field: str) -> Optional[str]:
    return timestamp_to_iso(getattr(msg, field)) if msg.HasField(field) else None


# ---- resources -----------------------------------------------------------------------------------


def _key_of(entity_id: str) -> str:
    return entity_id.split("/", 1)[1] if "/" in entity_id else entity_id


def entity_to_dict(e: resources_pb2.Entity) -> Dict[str, Any]:
    """An Entity as the seed library's document: user attributes, ``_id``, ``_key``, ``name``, metadata."""
    d = from_struct(e.document)
    d["_id"] = e.id
    d["_key"] = e.key
    if e.name:
        d["name"] = e.name
    if e.project:
        d["_project"] = e.project
    _stamp(d, e, "create_time", "_created")
    _stamp(d, e, "update_time", "_updated")
    if e.creator:
        d["_creator"] = e.creator
    return d


def edge_to_dict(e: resources_pb2.Edge) -> Dict[str, Any]:
    d = from_struct(e.document)
    d["_id"] = e.id
    d["_key"] = e.key
    d["_from"] = e.from_id
    d["_to"] = e.to_id
    _stamp(d, e, "create_time", "_created")
    if e.creator:
        d["_creator"] = e.creator
    return d


def project_to_dict(p: resources_pb2.Project) -> Dict[str, Any]:
    d = from_struct(p.properties)
    d["_id"] = p.id
    d["_key"] = _key_of(p.id)
    d["name"] = p.name
    _stamp(d, p, "create_time", "_created")
    if p.creator:
        d["_creator"] = p.creator
    return d


_RUN_STATUS = {v: k[len("RUN_STATUS_"):] for k, v in resources_pb2.RunStatus.items()}
_DEPLOYMENT_STATUS = {v: k[len("DEPLOYMENT_STATUS_"):] for k, v in resources_pb2.DeploymentStatus.items()}


def run_to_dict(r: resources_pb2.Run) -> Dict[str, Any]:
    """A Run as a dict: its properties, then its own fields (ids of what it is linked to included)."""
    d = from_struct(r.properties)
    d["_id"] = r.id
    d["_key"] = r.run_id
    d["run_id"] = r.run_id
    for field in ("project", "tag", "deployment_tag"):
        if getattr(r, field):
            d[field] = getattr(r, field)
    d["status"] = _RUN_STATUS.get(r.status, str(r.status))
    for field in ("start_time", "end_time"):
        value = _time_or_none(r, field)
        if value is not None:
            d[field] = value
    for field in ("model_id", "dataset_id", "featureset_id", "model_params_id", "dev_perf_id"):
        if getattr(r, field):
            d[field] = getattr(r, field)
    _stamp(d, r, "create_time", "_created")
    if r.creator:
        d["_creator"] = r.creator
    return d


def deployment_to_dict(dep: resources_pb2.Deployment) -> Dict[str, Any]:
    d = from_struct(dep.properties)
    d["_id"] = dep.id
    d["_key"] = _key_of(dep.id)
    d["tag"] = dep.tag
    d["status"] = _DEPLOYMENT_STATUS.get(dep.status, str(dep.status))
    for field in ("project", "run_id", "model_id", "model_params_id", "featureset_id"):
        if getattr(dep, field):
            d[field] = getattr(dep, field)
    _stamp(d, dep, "create_time", "_created")
    _stamp(d, dep, "update_time", "_updated")
    if dep.creator:
        d["_creator"] = dep.creator
    return d


_ROLE = {v: k[len("ROLE_"):] for k, v in resources_pb2.Role.items()}


def user_to_dict(u: resources_pb2.User) -> Dict[str, Any]:
    d: Dict[str, Any] = {
        "name": u.name,
        "server_admin": u.server_admin,
        "disabled": u.disabled,
        "roles": {r.project: _ROLE.get(r.role, str(r.role)) for r in u.roles},
    }
    _stamp(d, u, "create_time", "_created")
    if u.creator:
        d["_creator"] = u.creator
    return d


def token_to_dict(t: resources_pb2.Token) -> Dict[str, Any]:
    d: Dict[str, Any] = {"token_id": t.token_id, "user": t.user, "description": t.description,
                         "revoked": t.revoked}
    _stamp(d, t, "create_time", "_created")
    return d


def type_to_dict(t: resources_pb2.EntityType) -> Dict[str, Any]:
    d: Dict[str, Any] = {
        "name": t.name,
        "kind": {resources_pb2.TYPE_KIND_VERTEX: "vertex", resources_pb2.TYPE_KIND_EDGE: "edge"}.get(t.kind, "unknown"),
        "builtin": t.builtin,
        "document_count": t.document_count,
    }
    if t.kind == resources_pb2.TYPE_KIND_EDGE:
        d["from_types"] = list(t.from_types)
        d["to_types"] = list(t.to_types)
    return d


def _stamp(d: Dict[str, Any], msg: Any, field: str, key: str) -> None:
    value = _time_or_none(msg, field)
    if value is not None:
        d[key] = value


# ---- references ----------------------------------------------------------------------------------


def entity_ref(value: Any, collection: str, what: str) -> str:
    """An entity id from what seed scripts pass around: a registered document, an id, or a bare key."""
    if isinstance(value, Mapping):
        if value.get("_id"):
            return str(value["_id"])
        if value.get("_key"):
            return f"{collection}/{value['_key']}"
        raise ValueError(f"{what}: the document has neither '_id' nor '_key'")
    if not isinstance(value, str) or not value:
        raise TypeError(f"{what}: expected a registered document, an id or a key, got {value!r}")
    if "/" in value or not collection:
        return value  # an id (or, for a call that needs ids, whatever the server will judge)
    return f"{collection}/{value}"


def flatten(doc: Mapping[str, Any], prefix: str, out: Dict[str, Any], skip: Iterable[str] = ()) -> None:
    """Nested dicts as dotted columns: {"a": {"b": 1}} -> {"<prefix>a.b": 1}."""
    skipped = set(skip)
    for key, value in doc.items():
        if key in skipped:
            continue
        if isinstance(value, Mapping) and value:
            flatten(value, f"{prefix}{key}.", out)
        else:
            out[f"{prefix}{key}"] = value


def status_names(enum: Any, prefix: str) -> List[str]:
    return [k[len(prefix):] for k in enum.keys() if not k.endswith("UNSPECIFIED")]
