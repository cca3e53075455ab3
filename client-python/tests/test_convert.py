"""Unit tests: values, times and references as the facade converts them; settings from the environment."""

from __future__ import annotations

import datetime as dt

import pytest

from arangopipe_client import ClientConfig, Connection, _convert as cv


def test_values_round_trip() -> None:
    doc = {"s": "x", "i": 3, "f": 0.5, "b": False, "n": None, "l": [1, "a", [True]], "d": {"e": {"f": 1.25}},
           "big": 2 ** 60, "neg": -7}
    back = cv.from_struct(cv.to_struct(doc))
    assert back == {**doc, "big": float(2 ** 60)}
    assert isinstance(back["i"], int) and isinstance(back["f"], float) and isinstance(back["b"], bool)


def test_special_values() -> None:
    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    s = cv.from_struct(cv.to_struct({"t": when, "d": dt.date(2024, 1, 2), "tuple": (1, 2), "set": {"b", "a"}}))
    assert s == {"t": "2024-01-02T03:04:05Z", "d": "2024-01-02", "tuple": [1, 2], "set": ["a", "b"]}
    with pytest.raises(TypeError, match=r"document\.x\.y"):
        cv.to_struct({"x": {"y": object()}})
    from decimal import Decimal

    assert cv.from_value(cv.to_value(Decimal("1.5"))) == 1.5


def test_numpy_and_pandas_values() -> None:
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    s = cv.from_struct(cv.to_struct({"f": np.float32(0.5), "i": np.int64(3), "a": np.arange(3),
                                     "t": pd.Timestamp("2024-01-01T00:00:00Z")}))
    assert s == {"f": 0.5, "i": 3, "a": [0, 1, 2], "t": "2024-01-01T00:00:00Z"}


def test_timestamps() -> None:
    ts = cv.to_timestamp("2024-03-01T12:00:00.250Z")
    assert (ts.seconds, ts.nanos) == (1709294400, 250_000_000)
    assert cv.timestamp_to_iso(ts) == "2024-03-01T12:00:00.250000Z"
    assert cv.to_timestamp(dt.datetime(2024, 3, 1, 12)) == cv.to_timestamp("2024-03-01T12:00:00")  # naive is UTC
    assert cv.to_timestamp(dt.datetime(2024, 3, 1, 13, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == ts.__class__(
        seconds=1709294400)
    assert cv.to_timestamp(1709294400) == ts.__class__(seconds=1709294400)
    assert cv.to_timestamp(dt.date(2024, 3, 1)).seconds == 1709251200
    assert cv.to_timestamp(None) is None
    assert cv.timestamp_to_datetime(ts).tzinfo is dt.timezone.utc
    with pytest.raises(ValueError):
        cv.to_timestamp("yesterday")


def test_entity_refs() -> None:
    assert cv.entity_ref("k1", "datasets", "d") == "datasets/k1"
    assert cv.entity_ref("datasets/k1", "datasets", "d") == "datasets/k1"
    assert cv.entity_ref({"_id": "models/m", "_key": "m"}, "models", "m") == "models/m"
    assert cv.entity_ref({"_key": "m"}, "models", "m") == "models/m"
    with pytest.raises(ValueError):
        cv.entity_ref({"name": "x"}, "models", "m")
    with pytest.raises(TypeError):
        cv.entity_ref(3, "models", "m")


def test_user_document_drops_system_keys() -> None:
    doc = {"_id": "a/b", "_key": "b", "_rev": "1", "_created": "t", "name": "n", "x": 1, "_mine": 2}
    assert cv.user_document(doc, "name") == {"x": 1, "_mine": 2}
    assert cv.user_document(None) == {}


def test_config_from_environment() -> None:
    env = {"ARANGOPIPE_TARGET": "meta:7000", "ARANGOPIPE_TOKEN": "secret", "ARANGOPIPE_TIMEOUT": "5",
           "ARANGOPIPE_CA": "/etc/ca.pem"}
    c = ClientConfig.from_env(env)
    assert (c.target, c.token, c.timeout, c.ca, c.use_tls) == ("meta:7000", "secret", 5.0, "/etc/ca.pem", True)
    assert "secret" not in repr(c)
    assert ClientConfig.from_env(env, target="other:1", token=None).target == "other:1"  # arguments win
    assert ClientConfig.from_env({}).target == "localhost:6529" and not ClientConfig.from_env({}).use_tls
    assert ClientConfig.from_env({"ARANGOPIPE_TLS": "true"}).use_tls
    with pytest.raises(ValueError):
        ClientConfig.from_env({"ARANGOPIPE_TLS": "maybe"})
    with pytest.raises(ValueError):
        ClientConfig.from_env({"ARANGOPIPE_TIMEOUT": "soon"})
    with pytest.raises(ValueError, match="cert and key"):
        ClientConfig(cert="c.pem")
    with pytest.raises(ValueError):
        ClientConfig(timeout=0)
    with pytest.raises(ValueError):
        ClientConfig(tls=False, ca="ca.pem")


def test_missing_ca_file_is_reported(tmp_path) -> None:
    with pytest.raises(ValueError, match="ca: cannot read"):
        Connection("localhost:1", ca=str(tmp_path / "missing.pem"))


def test_seed_config_objects_are_refused() -> None:
    class ArangoPipeConfig:  # what seed scripts built
        cfg = {"arangodb": {}}

    with pytest.raises(TypeError, match="Migrating from arangopipe"):
        Connection(config=ArangoPipeConfig())  # type: ignore[arg-type]


def test_connection_settings_from_arguments_and_env(monkeypatch) -> None:
    monkeypatch.setenv("ARANGOPIPE_TARGET", "env-host:1234")
    with Connection() as c:
        assert c.config.target == "env-host:1234"
    with Connection("arg-host:5", timeout=3, max_attempts=2) as c:
        assert (c.config.target, c.config.timeout, c.config.max_attempts) == ("arg-host:5", 3, 2)
    base = ClientConfig(target="cfg:1", timeout=9)
    with Connection(config=base, timeout=4) as c:
        assert (c.config.target, c.config.timeout) == ("cfg:1", 4)
