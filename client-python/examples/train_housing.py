#!/usr/bin/env python3
"""Train a house-price model and record everything in Arangopipe: register, train, log, deploy, serve.

    pip install 'arangopipe-client[all]' scikit-learn
    ARANGOPIPE_TARGET=localhost:6529 python examples/train_housing.py

The data is generated (scikit-learn's make_regression with housing-like column names), so the script
needs nothing but a running Arangopipe server. It

1. provisions a project and registers the dataset, its featureset and the model (registering them again,
   on a second run of the script, returns the same documents),
2. tries several regularisation strengths, each logged as one run with ``ap.start_run(...)``,
3. picks the best run from a pandas table of the project's runs (``ap.runs_dataframe``),
4. retrains that configuration and logs it the seed library's way (``ap.log_run(run_info)``) with a
   deployment tag, registers the deployment and activates it,
5. scores a few "production" batches (whose prices drift) and reports each as serving performance,
6. compares serving against development performance and prints the model's lineage.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from typing import Any, Dict, List, Optional

import numpy as np
from sklearn.datasets import make_regression
from sklearn.linear_model import Lasso
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from arangopipe_client import ArangoPipe, ArangoPipeAdmin

FEATURES = ["median_income", "house_age", "avg_rooms", "avg_bedrooms", "population", "avg_occupancy",
            "latitude", "longitude"]
ALPHAS = [0.01, 0.1, 1.0, 10.0]


def make_housing(n_rows: int, seed: int):
    """Features and prices: one linear relation with noise, the same for training and production."""
    X, y = make_regression(n_samples=n_rows, n_features=len(FEATURES), n_informative=5, noise=15.0,
                           random_state=seed)
    return X, y


def metrics(y_true, y_pred) -> Dict[str, float]:
    return {"rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))), "r2": float(r2_score(y_true, y_pred)),
            "mae": float(mean_absolute_error(y_true, y_pred))}


def run_example(ap: ArangoPipe, admin: ArangoPipeAdmin, *, project: str = "Housing-Price-Regression",
                suffix: Optional[str] = None, rows: int = 800, seed: int = 7, batches: int = 3,
                log=print) -> Dict[str, Any]:
    suffix = suffix or uuid.uuid4().hex[:8]

    # 1. provisioning and registration (idempotent: the same documents come back on a second run)
    admin.register_project({"name": project, "task": "regression", "target": "median_house_value"})
    ds = ap.register_dataset({"name": f"housing-synthetic-{seed}", "source": "sklearn.datasets.make_regression",
                              "rows": rows, "seed": seed, "columns": FEATURES}, project=project)
    fs = ap.register_featureset({"name": f"housing-standardized-{seed}", "attributes": FEATURES,
                                 "transformations": ["StandardScaler"]}, ds["_key"], project=project)
    model = ap.register_model({"name": "housing-lasso", "type": "LASSO", "framework": "scikit-learn",
                               "task": "regression"}, project=project)
    log(f"registered {ds['_id']}, {fs['_id']}, {model['_id']} in project {project!r}")

    X_all, y_all = make_housing(rows + batches * 200, seed)
    X, y = X_all[:rows], y_all[:rows]  # the rest arrives later, in production
    X_train, X_dev, y_train, y_dev = train_test_split(X, y, test_size=0.25, random_state=seed)

    # 2. hyper-parameter search, one atomic run per try
    for alpha in ALPHAS:
        with ap.start_run(model, dataset=ds, featureset=fs, project=project, tag=f"housing-search-{suffix}",
                          properties={"search": suffix}) as run:
            run.log_params({"alpha": alpha, "max_iter": 5000})
            pipe = make_pipeline(StandardScaler(), Lasso(alpha=alpha, max_iter=5000)).fit(X_train, y_train)
            run.log_metrics(metrics(y_dev, pipe.predict(X_dev)))
        log(f"run {run.run_id}: alpha={alpha} rmse={run.metrics['rmse']:.3f}")

    # 3. the best run of this search, from a pandas table of runs
    table = ap.runs_dataframe(project, f"search = '{suffix}' AND status = 'COMPLETED'", order_by="devperf.rmse")
    best = table.iloc[0]
    log(table[["run_id", "modelparams.alpha", "devperf.rmse", "devperf.r2"]].to_string(index=False))

    # 4. retrain the winner and log it the seed library's way, with a deployment tag; deploy it
    alpha = float(best["modelparams.alpha"])
    pipe = make_pipeline(StandardScaler(), Lasso(alpha=alpha, max_iter=5000)).fit(X_train, y_train)
    dev_perf = metrics(y_dev, pipe.predict(X_dev))
    run_id = f"housing-release-{suffix}"
    dep_tag = f"housing-lasso-{suffix}"
    ap.log_run({
        "run_id": run_id, "dataset": ds["_key"], "featureset": fs["_key"], "model": model["_key"],
        "model-params": {"alpha": alpha, "max_iter": 5000, "run_id": run_id},
        "model-perf": {**dev_perf, "run_id": run_id},
        "tag": f"housing-release-{suffix}", "deployment_tag": dep_tag, "project": project,
        "selected_from": str(best["run_id"]),
    })
    deployment = admin.register_deployment(dep_tag, properties={"replicas": 2})
    admin.update_deployment_status(dep_tag, "ACTIVE")
    log(f"deployed {deployment['_id']} ({dep_tag}) from run {run_id}")

    # 5. production: score batches whose prices drift away from the model, and report serving performance
    rng = np.random.default_rng(seed)
    serving: List[Dict[str, float]] = []
    for batch in range(batches):
        live = slice(rows + batch * 200, rows + (batch + 1) * 200)
        X_live, y_live = X_all[live], y_all[live] + rng.normal(0.0, 10.0 * batch, 200)
        measured = {**metrics(y_live, pipe.predict(X_live)), "requests": 200, "batch": batch}
        ap.log_serving_perf(measured, dep_tag)
        serving.append(measured)
        log(f"serving batch {batch}: rmse={measured['rmse']:.3f}")

    # 6. serving against development, and where the model came from
    [comparison] = ap.compare_serving_to_dev(dep_tag=dep_tag)
    lineage = ap.get_lineage(deployment["_id"], direction="upstream")
    graph = lineage.to_networkx()
    log(f"dev rmse {comparison['model-perf']['rmse']:.3f}; serving rmse "
        + ", ".join(f"{m['rmse']:.3f}" for m in comparison["serving_perf"]))
    log(f"lineage of {dep_tag}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges")
    return {
        "project": project,
        "dataset_id": ds["_id"],
        "featureset_id": fs["_id"],
        "model_id": model["_id"],
        "search_runs": list(table["run_id"]),
        "best_search_run": str(best["run_id"]),
        "best_alpha": alpha,
        "release_run": run_id,
        "deployment_tag": dep_tag,
        "deployment_id": deployment["_id"],
        "dev_rmse": comparison["model-perf"]["rmse"],
        "serving_rmse": [m["rmse"] for m in comparison["serving_perf"]],
        "lineage_nodes": graph.number_of_nodes(),
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", help="host:port of the server (default: ARANGOPIPE_TARGET or localhost:6529)")
    parser.add_argument("--project", default="Housing-Price-Regression")
    parser.add_argument("--suffix", help="names this search and its deployment (default: random)")
    parser.add_argument("--json", action="store_true", help="print only a JSON summary")
    args = parser.parse_args(argv)
    quiet = (lambda *a, **k: None) if args.json else print
    with ArangoPipe(args.target) as ap, ArangoPipeAdmin(connection=ap.connection) as admin:
        summary = run_example(ap, admin, project=args.project, suffix=args.suffix, log=quiet)
    if args.json:
        json.dump(summary, sys.stdout)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
