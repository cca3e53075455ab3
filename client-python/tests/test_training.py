"""A training script end to end: register, train (scikit-learn, data generated here), log, deploy, serve,
and answer the product's questions about it; then the shipped example script against the same server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arangopipe_client import ArangoPipe, ArangoPipeAdmin

np = pytest.importorskip("numpy")
pytest.importorskip("pandas")
sklearn_datasets = pytest.importorskip("sklearn.datasets")
from sklearn.linear_model import ElasticNet, Ridge  # noqa: E402
from sklearn.metrics import mean_squared_error, r2_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "train_housing.py"


def _rmse(y, p) -> float:
    return float(np.sqrt(mean_squared_error(y, p)))


def test_training_script(ap: ArangoPipe, admin: ArangoPipeAdmin, uid: str) -> None:
    project = f"wine-{uid}"
    admin.register_project({"name": project})
    X, y = sklearn_datasets.make_regression(n_samples=600, n_features=6, n_informative=4, noise=5.0,
                                            random_state=3)
    X_train, X_dev, y_train, y_dev = train_test_split(X[:400], y[:400], test_size=0.25, random_state=3)
    columns = [f"f{i}" for i in range(6)]

    ds = ap.register_dataset({"name": f"wine-{uid}", "rows": 400, "generator": "make_regression", "seed": 3},
                             project=project)
    fs = ap.register_featureset({"name": f"wine-raw-{uid}", "attributes": columns}, ds["_key"], project=project)
    enet = ap.register_model({"name": f"enet-{uid}", "type": "elastic net regression"}, project=project)
    ridge = ap.register_model({"name": f"ridge-{uid}", "type": "ridge regression"}, project=project)

    # the seed library's way: one log_run per trained model
    for i, (alpha, l1) in enumerate([(0.05, 0.2), (0.5, 0.5), (2.0, 0.9)]):
        fitted = ElasticNet(alpha=alpha, l1_ratio=l1, max_iter=10000).fit(X_train, y_train)
        pred = fitted.predict(X_dev)
        run_id = f"enet{i}-{uid}"
        ap.log_run({"run_id": run_id, "dataset": ds["_key"], "featureset": fs["_key"], "model": enet["_key"],
                    "model-params": {"alpha": alpha, "l1_ratio": l1, "run_id": run_id},
                    "model-perf": {"rmse": _rmse(y_dev, pred), "r2": float(r2_score(y_dev, pred)),
                                   "run_id": run_id, "timestamp": "2024-06-01 10:00:00"},
                    "tag": f"enet-search-{uid}", "project": project,
                    "deployment_tag": f"wine-enet-{uid}" if i == 0 else f"wine-enet-{uid}-{i}"})
    # the new way: a run context manager
    for alpha in (0.1, 10.0):
        with ap.start_run(ridge, dataset=ds, featureset=fs, project=project, tag=f"ridge-search-{uid}") as run:
            run.log_params({"alpha": alpha})
            pred = Ridge(alpha=alpha).fit(X_train, y_train).predict(X_dev)
            run.log_metrics({"rmse": _rmse(y_dev, pred), "r2": float(r2_score(y_dev, pred))})

    # which technique works best for the task?
    runs = ap.runs_dataframe(project, order_by="devperf.rmse")
    assert len(runs) == 5 and set(runs["model.type"]) == {"elastic net regression", "ridge regression"}
    assert list(runs["devperf.rmse"]) == sorted(runs["devperf.rmse"])
    by_type = ap.aggregate_runs([("min", "devperf.rmse"), "count"], group_by=["model.type"], project=project)
    assert sorted(r["count"] for r in by_type) == [2, 3]

    # deploy the tagged elastic-net run and report serving performance for two batches
    dep = admin.register_deployment(f"wine-enet-{uid}")
    assert dep["model_id"] == enet["_id"] and dep["status"] == "SCHEDULED"
    admin.update_deployment_status(f"wine-enet-{uid}", "ACTIVE")
    deployed_params = ap.lookup_entity_by_id(dep["model_params_id"])
    model = ElasticNet(alpha=deployed_params["alpha"], l1_ratio=deployed_params["l1_ratio"],
                       max_iter=10000).fit(X_train, y_train)
    for batch in range(2):
        rows = slice(400 + batch * 100, 400 + (batch + 1) * 100)
        ap.log_serving_perf({"rmse": _rmse(y[rows], model.predict(X[rows])), "requests": 100, "batch": batch},
                            f"wine-enet-{uid}", "serving-user")
    [cmp] = ap.compare_serving_to_dev(dep_tag=f"wine-enet-{uid}")
    assert [m["batch"] for m in cmp["serving_perf"]] == [0, 1]
    assert cmp["model-perf"]["run_id"] == f"enet0-{uid}"

    # reproducibility: the recipe of the deployed run retrains to the same dev performance
    recipe = ap.get_run_recipe(f"enet0-{uid}")
    assert recipe["dataset"]["seed"] == 3 and recipe["featureset"]["attributes"] == columns
    again = ElasticNet(alpha=recipe["model-params"]["alpha"], l1_ratio=recipe["model-params"]["l1_ratio"],
                       max_iter=10000).fit(X_train, y_train)
    assert _rmse(y_dev, again.predict(X_dev)) == pytest.approx(recipe["model-perf"]["rmse"])

    # impact: the dataset feeds the live deployment; lineage as a graph
    impact = ap.get_impact(ds)
    assert [d["deployment"]["tag"] for d in impact["deployments"]] == [f"wine-enet-{uid}"]
    assert impact["deployments"][0]["latest_serving_perf"]["batch"] == 1
    graph = ap.get_lineage(dep, direction="upstream").to_networkx()
    assert graph.has_node(ds["_id"]) and graph.has_node(fs["_id"]) and graph.has_node(enet["_id"])


def _run_example(server, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARANGOPIPE_")}
    result = subprocess.run([sys.executable, str(EXAMPLE), "--target", server.target, "--json", *args],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_example_script_runs_against_the_server(server, ap: ArangoPipe, uid: str) -> None:
    first = _run_example(server, "--project", f"housing-{uid}", "--suffix", f"a{uid}")
    assert len(first["search_runs"]) == 4 and first["best_search_run"] == first["search_runs"][0]
    assert len(first["serving_rmse"]) == 3 and first["dev_rmse"] > 0
    assert first["serving_rmse"][-1] > first["serving_rmse"][0], "the example's production data drifts"
    dep = ap.get_deployment(first["deployment_tag"])
    assert dep["status"] == "ACTIVE" and dep["run_id"] == f"run/{first['release_run']}"
    # a second run registers the same dataset, featureset and model again, and logs a new search
    second = _run_example(server, "--project", f"housing-{uid}", "--suffix", f"b{uid}")
    for key in ("dataset_id", "featureset_id", "model_id"):
        assert second[key] == first[key]
    assert set(second["search_runs"]).isdisjoint(first["search_runs"])
    assert len(ap.runs_dataframe(f"housing-{uid}")) == 10
