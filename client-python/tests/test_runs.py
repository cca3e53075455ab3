"""`with ap.start_run(...) as run:` writes the run atomically at the end of the block."""

from __future__ import annotations

import datetime as dt

import pytest

import arangopipe_client as apc
from arangopipe_client import ArangoPipe


def _registered(ap: ArangoPipe, uid: str) -> dict:
    ds = ap.register_dataset({"name": f"ds-{uid}"})
    return {"dataset": ds,
            "featureset": ap.register_featureset({"name": f"fs-{uid}"}, ds["_key"]),
            "model": ap.register_model({"name": f"m-{uid}", "type": "LASSO"})}


def test_completed_run(ap: ArangoPipe, uid: str) -> None:
    reg = _registered(ap, uid)
    with ap.start_run(reg["model"], dataset=reg["dataset"], featureset=reg["featureset"], tag=f"t-{uid}",
                      deployment_tag=f"d-{uid}", params={"max_iter": 100}) as run:
        assert ap.get_run(run.run_id) is None, "nothing is written before the block ends"
        run.log_param("alpha", 0.1)
        run.log_params({"l1_ratio": 0.5})
        run.log_metric("rmse", 0.3)
        run.log_metrics({"r2": 0.9})
        run.set_property("git_commit", "abc123")
        run.set_properties({"notes": "baseline"})
    logged = ap.get_run(run.run_id)
    assert logged == run.result
    assert logged["status"] == "COMPLETED" and logged["tag"] == f"t-{uid}"
    assert logged["model-params"]["alpha"] == 0.1 and logged["model-params"]["max_iter"] == 100
    assert logged["model-params"]["l1_ratio"] == 0.5
    assert logged["model-perf"]["rmse"] == 0.3 and logged["model-perf"]["r2"] == 0.9
    assert logged["git_commit"] == "abc123" and logged["notes"] == "baseline"
    assert (logged["dataset_id"], logged["featureset_id"], logged["model_id"]) == (
        reg["dataset"]["_id"], reg["featureset"]["_id"], reg["model"]["_id"])
    start = dt.datetime.fromisoformat(logged["start_time"].replace("Z", "+00:00"))
    end = dt.datetime.fromisoformat(logged["end_time"].replace("Z", "+00:00"))
    assert start <= end
    assert "logged" in repr(run)


def test_failed_run_is_recorded_and_the_error_reraised(ap: ArangoPipe, uid: str) -> None:
    reg = _registered(ap, uid)
    with pytest.raises(ZeroDivisionError):
        with ap.start_run(reg["model"], run_id=f"r-{uid}") as run:
            run.log_params({"alpha": 0.1})
            1 / 0
    logged = ap.get_run(f"r-{uid}")
    assert logged["status"] == "FAILED"
    assert logged["error"] == {"type": "ZeroDivisionError", "message": "division by zero"}
    assert logged["model-params"]["alpha"] == 0.1
    assert run.result == logged


def test_interrupted_run_is_cancelled(ap: ArangoPipe, uid: str) -> None:
    reg = _registered(ap, uid)
    with pytest.raises(KeyboardInterrupt):
        with ap.start_run(reg["model"], run_id=f"r-{uid}"):
            raise KeyboardInterrupt
    assert ap.get_run(f"r-{uid}")["status"] == "CANCELLED"


def test_block_error_wins_when_logging_fails_too(ap: ArangoPipe, uid: str, caplog) -> None:
    with pytest.raises(RuntimeError, match="training broke"):
        with ap.start_run(f"models/missing-{uid}", run_id=f"r-{uid}"):
            raise RuntimeError("training broke")
    assert ap.get_run(f"r-{uid}") is None
    assert "could not log failed run" in caplog.text


def test_logging_errors_surface_when_the_block_succeeds(ap: ArangoPipe, uid: str) -> None:
    with pytest.raises(apc.NotFoundError):
        with ap.start_run(f"models/missing-{uid}"):
            pass
    with pytest.raises(ValueError, match="no model"):
        with ap.start_run():
            pass


def test_model_can_be_set_inside_the_block(ap: ArangoPipe, uid: str) -> None:
    with ap.start_run(project=None) as run:
        run.model = ap.register_model({"name": f"m-{uid}"})
        run.log_metric("rmse", 1)
    assert run.result["model_id"] == run.model["_id"]


def test_a_run_is_entered_once(ap: ArangoPipe, uid: str) -> None:
    model = ap.register_model({"name": f"m-{uid}"})
    run = ap.start_run(model)
    with run:
        pass
    with pytest.raises(RuntimeError, match="once"):
        with run:
            pass


def test_numpy_values_are_logged(ap: ArangoPipe, uid: str) -> None:
    np = pytest.importorskip("numpy")
    model = ap.register_model({"name": f"m-{uid}"})
    with ap.start_run(model) as run:
        run.log_params({"alpha": np.float64(0.25), "n": np.int64(7), "flag": np.bool_(True)})
        run.log_metrics({"per_fold": np.array([0.5, 0.25])})
    params = run.result["model-params"]
    assert params["alpha"] == 0.25 and params["n"] == 7 and params["flag"] is True
    assert run.result["model-perf"]["per_fold"] == [0.5, 0.25]
