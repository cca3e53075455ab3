"""A script written for the seed library (PyPI ``arangopipe``) runs after changing its constructor.

``seed_style_script`` below uses only the seed's method names, argument order and dict conventions —
passing ``reg["_key"]`` and ``reg["_id"]`` on, the run_info dict with ``"model-params"`` and
``"model-perf"``, fixed names — the way the seed's users wrote them. It runs twice against a server of
its own: the second time, every registration returns what the first made. The documented differences
from the seed (README, "Migrating from arangopipe") are checked after it.
"""

from __future__ import annotations

import datetime

import pytest

import arangopipe_client as apc
from arangopipe_client import ArangoPipe, ArangoPipeAdmin

PROJECT = "Credit-Risk-Modelling"
RUN_ID = "5c1f0e7a9b2d4c6e8f0a1b3c5d7e9f01"
DEP_TAG = "Credit_GBM_Classifier"


def seed_style_script(admin, ap) -> dict:
    """What a seed user's training script does, unchanged except for how admin and ap were built."""
    admin.register_project({"name": PROJECT})

    ds_info = {"name": "credit_applications", "description": "Loan applications with outcomes",
               "source": "internal warehouse"}
    ap.register_dataset(ds_info)
    ds_reg = ap.lookup_dataset("credit_applications")

    fs_info = {"income": "float64", "debt ratio": "float64", "age": "int64", "defaulted": "int64",
               "name": "credit_raw_features"}
    ap.register_featureset(fs_info, ds_reg["_key"])
    fs_reg = ap.lookup_featureset("credit_raw_features")

    model_info = {"name": "credit_gbm", "type": "gradient boosting classifier"}
    ap.register_model(model_info, project=PROJECT)
    model_reg = ap.lookup_model("credit_gbm")

    model_params = {"n_estimators": 200, "max_depth": 3, "run_id": RUN_ID}
    model_perf = {"auc": 0.81, "accuracy": 0.77, "run_id": RUN_ID, "timestamp": "2020-02-02 10:00:00.000001"}
    run_info = {"dataset": ds_reg["_key"], "featureset": fs_reg["_key"], "run_id": RUN_ID,
                "model": model_reg["_key"], "model-params": model_params, "model-perf": model_perf,
                "pipeline": "Credit-Pipeline", "project": PROJECT, "deployment_tag": DEP_TAG,
                "tag": "credit gbm test 1"}
    ap.log_run(run_info)

    admin.register_deployment(DEP_TAG)
    to_date = datetime.datetime.now()
    from_date = to_date - datetime.timedelta(days=30)
    ap.log_serving_perf({"auc": 0.79, "accuracy": 0.75, "from_date": str(from_date), "to_date": str(to_date)},
                        DEP_TAG, "privileged user")

    admin.add_vertex_to_arangopipe("audit_notes")
    admin.add_vertex_to_arangopipe("reviewers")
    note = ap.insert_into_vertex_type("audit_notes", {"name": "q1 review", "verdict": "ok"})
    reviewer = ap.insert_into_vertex_type("reviewers", {"name": "dana"})
    admin.add_edge_definition_to_arangopipe("reviewed_by", "reviewed_by", "audit_notes", "reviewers")
    edge = ap.insert_into_edge_type("reviewed_by", note, reviewer)
    ap.link_entities(model_reg["_id"], note["_id"])

    return {
        "dataset": ds_reg, "featureset": fs_reg, "model": model_reg, "note": note, "edge": edge,
        "params": ap.lookup_modelparams("credit gbm test 1"),
        "perf": ap.lookup_modelperf("credit gbm test 1"),
        "found": ap.find_entity("type", "gradient boosting classifier", "models"),
        "by_id": ap.lookup_entity_by_id(model_reg["_id"]),
        "has": (admin.has_vertex("audit_notes"), admin.has_edge("reviewed_by")),
    }


@pytest.fixture(scope="module")
def clients(fresh_server):
    # The only change a seed script needs: how the two objects are built.
    #   seed:   admin = ArangoPipeAdmin(reuse_connection=False, config=conn_config); ap = ArangoPipe(config=...)
    #   here:   both take the server's address (or read ARANGOPIPE_TARGET)
    admin = ArangoPipeAdmin(fresh_server.target)
    ap = ArangoPipe(fresh_server.target)
    yield admin, ap
    admin.close()
    ap.close()


def test_seed_style_script_runs_and_runs_again(clients) -> None:
    admin, ap = clients
    first = seed_style_script(admin, ap)
    assert first["dataset"]["name"] == "credit_applications" and first["dataset"]["_id"].startswith("datasets/")
    assert first["featureset"]["debt ratio"] == "float64"
    assert first["params"]["n_estimators"] == 200 and first["perf"]["auc"] == 0.81
    assert [m["name"] for m in first["found"]] == ["credit_gbm"]
    assert first["by_id"]["related_audit_notes"] == [first["note"]["_id"]]
    assert first["edge"]["_from"] == first["note"]["_id"] and first["has"] == (True, True)

    second = seed_style_script(admin, ap)  # registering the same things again returns them
    for key in ("dataset", "featureset", "model", "note", "edge", "params", "perf"):
        assert second[key]["_id"] == first[key]["_id"], key
    [comparison] = ap.compare_serving_to_dev(dep_tag=DEP_TAG)
    assert len(comparison["serving_perf"]) == 2, "serving measurements are events: each call adds one"


def test_conflicting_registration_raises_instead_of_returning_none(clients) -> None:
    admin, ap = clients
    ap.register_dataset({"name": "credit_applications", "description": "Loan applications with outcomes",
                         "source": "internal warehouse"})
    with pytest.raises(apc.AlreadyExistsError) as err:
        ap.register_dataset({"name": "credit_applications", "description": "something else"})
    assert err.value.existing_id == ap.lookup_dataset("credit_applications")["_id"]


def test_log_run_project_must_exist(clients) -> None:
    admin, ap = clients
    model = ap.register_model({"name": "orphan_model"})
    with pytest.raises(apc.NotFoundError):  # the seed dropped run_info["project"] without a word
        ap.log_run({"run_id": "orphan-1", "model": model["_key"], "project": "Never-Registered"})


def test_register_deployment_without_run_raises(clients) -> None:
    admin, _ = clients
    with pytest.raises(apc.FailedPreconditionError) as err:  # the seed crashed with IndexError
        admin.register_deployment("No_Such_Tag")
    assert err.value.reason == "DEPLOYMENT_TAG_NOT_FOUND"


def test_log_serving_perf_unknown_deployment_raises(clients) -> None:
    _, ap = clients
    with pytest.raises(apc.NotFoundError):  # the seed crashed with IndexError after writing the vertex
        ap.log_serving_perf({"auc": 0.5}, "No_Such_Deployment")


def test_schema_errors_raise_instead_of_logging(clients) -> None:
    admin, _ = clients
    with pytest.raises(apc.NotFoundError):
        admin.add_edge_definition_to_arangopipe("dangling", "dangling", "audit_notes", "missing_vertex")
    with pytest.raises(apc.NotFoundError):
        admin.remove_vertex_from_arangopipe("missing_vertex")
    with pytest.raises(apc.NotFoundError):
        admin.remove_edge_definition_from_arangopipe("missing_edge")
