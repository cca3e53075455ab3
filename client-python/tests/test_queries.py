"""Questions across the pipeline: run tables in pandas, aggregates, lineage as dicts and networkx graphs."""

from __future__ import annotations

import json

import pytest

import arangopipe_client as apc
from arangopipe_client import ArangoPipe, ArangoPipeAdmin, Lineage, to_networkx

pd = pytest.importorskip("pandas")
nx = pytest.importorskip("networkx")


@pytest.fixture
def experiment(ap: ArangoPipe, admin: ArangoPipeAdmin, uid: str) -> dict:
    """Seven runs of two models on one dataset, in their own project."""
    project = admin.register_project({"name": f"exp-{uid}"})["name"]
    ds = ap.register_dataset({"name": f"housing-{uid}", "rows": 500}, project=project)
    fs = ap.register_featureset({"name": f"fs-{uid}", "attributes": ["rooms", "lstat"]}, ds, project=project)
    models = {kind: ap.register_model({"name": f"{kind}-{uid}", "type": kind}, project=project)
              for kind in ("LASSO", "RIDGE")}
    for i, alpha in enumerate([0.001, 0.01, 0.1, 1.0]):
        ap.log_run({"run_id": f"lasso{i}-{uid}", "model": models["LASSO"], "dataset": ds, "featureset": fs,
                    "project": project, "tag": "lasso",
                    "model-params": {"alpha": alpha, "solver": {"name": "cd", "tol": 1e-4}},
                    "model-perf": {"rmse": round(0.5 - i * 0.1, 3), "r2": 0.5 + i / 10},
                    "start_time": f"2024-0{i + 1}-15T10:00:00Z", "git": f"c{i}"})
    for i, alpha in enumerate([0.5, 5.0, 50.0]):
        ap.log_run({"run_id": f"ridge{i}-{uid}", "model": models["RIDGE"], "dataset": ds, "project": project,
                    "tag": "ridge", "model-params": {"alpha": alpha}, "model-perf": {"rmse": 0.4 + i / 100},
                    "start_time": f"2024-0{i + 1}-20T10:00:00Z"})
    return {"project": project, "dataset": ds, "featureset": fs, "models": models}


def test_runs_dataframe_columns_and_values(ap: ArangoPipe, experiment: dict) -> None:
    df = ap.runs_dataframe(experiment["project"], "devperf.rmse < 0.45", order_by="devperf.rmse")
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns[:7]) == ["run_id", "project", "tag", "deployment_tag", "status", "start_time",
                                    "end_time"]
    for column in ("git", "dataset.id", "dataset.name", "dataset.rows", "featureset.name", "model.name",
                   "model.type", "modelparams.alpha", "modelparams.solver.name", "modelparams.solver.tol",
                   "devperf.rmse", "devperf.r2"):
        assert column in df.columns, column
    assert "modelparams.run_id" not in df.columns and "devperf.run_id" not in df.columns
    assert list(df["devperf.rmse"]) == sorted(df["devperf.rmse"]) and (df["devperf.rmse"] < 0.45).all()
    assert set(df["model.type"]) == {"LASSO", "RIDGE"}
    assert (df["dataset.name"] == experiment["dataset"]["name"]).all()
    assert str(df["start_time"].dtype).startswith("datetime64") and str(df["start_time"].dt.tz) == "UTC"
    best = df.iloc[0]
    assert best["run_id"].startswith("lasso3-") and best["modelparams.alpha"] == 1.0
    ridge = df[df["model.type"] == "RIDGE"]
    assert ridge["featureset.name"].isna().all(), "ridge runs have no featureset"


def test_runs_dataframe_pages_through_search_runs(ap: ArangoPipe, experiment: dict) -> None:
    paged = ap.runs_dataframe(experiment["project"], order_by="run_id", page_size=2)
    assert len(paged) == 7
    assert list(paged["run_id"]) == sorted(paged["run_id"])
    assert len(ap.runs_dataframe(experiment["project"], limit=3, page_size=2)) == 3


def test_runs_dataframe_empty_and_invalid(ap: ArangoPipe, experiment: dict) -> None:
    empty = ap.runs_dataframe(experiment["project"], "devperf.rmse > 100")
    assert len(empty) == 0 and list(empty.columns) == ["run_id", "project", "tag", "deployment_tag", "status",
                                                         "start_time", "end_time"]
    with pytest.raises(apc.InvalidArgumentError):
        ap.runs_dataframe(experiment["project"], "devperf.rmse <<< 1")


def test_search_runs_gives_nested_dicts(ap: ArangoPipe, experiment: dict) -> None:
    runs = list(ap.search_runs(experiment["project"], "model.type = 'RIDGE'", order_by="modelparams.alpha DESC"))
    assert [r["model-params"]["alpha"] for r in runs] == [50.0, 5.0, 0.5]
    first = runs[0]
    assert set(first) == {"run", "model-params", "model-perf", "dataset", "featureset", "model"}
    assert first["featureset"] is None and first["model"]["type"] == "RIDGE"
    assert first["run"]["tag"] == "ridge"
    assert len(list(ap.search_runs(experiment["project"], limit=2, page_size=1))) == 2


def test_aggregate_runs(ap: ArangoPipe, experiment: dict) -> None:
    rows = ap.aggregate_runs([("mean", "devperf.rmse"), "count", ("min", "devperf.rmse")],
                             group_by=["model.type"], project=experiment["project"])
    by_type = {r["model.type"]: r for r in rows}
    assert by_type["LASSO"]["count"] == 4 and by_type["RIDGE"]["count"] == 3
    assert by_type["LASSO"]["mean(devperf.rmse)"] == pytest.approx(0.35)
    assert by_type["LASSO"]["min(devperf.rmse)"] == pytest.approx(0.2)
    monthly = ap.aggregate_runs(["count"], group_by=[("start_time", "month")], project=experiment["project"])
    assert sum(r["count"] for r in monthly) == 7 and len(monthly) == 4
    split = ap.aggregate_runs(["count"], group_by=[("if", "featureset.attributes CONTAINS 'lstat'")],
                              project=experiment["project"])
    assert sorted(r["count"] for r in split) == [3, 4]
    with pytest.raises(ValueError):
        ap.aggregate_runs(["median"], project=experiment["project"])


def test_aggregate_entities(ap: ArangoPipe, experiment: dict) -> None:
    rows = ap.aggregate_entities("models", ["count"], group_by=["type"], project=experiment["project"])
    assert sorted((r["type"], r["count"]) for r in rows) == [("LASSO", 1), ("RIDGE", 1)]


def test_lineage_dicts_and_networkx(ap: ArangoPipe, lineage_setup: dict) -> None:
    s = lineage_setup
    down = ap.get_lineage(s["dataset"], direction="downstream")
    assert isinstance(down, Lineage) and isinstance(down, dict)
    assert down.nodes[0]["_id"] == s["dataset"]["_id"] and not down.truncated
    ids = {n["_id"] for n in down.nodes}
    for key in ("featureset", "run", "model", "deployment", "serving_perf"):
        assert s[key]["_id"] in ids, key
    json.loads(json.dumps(down))  # plain JSON data
    g = down.to_networkx()
    assert isinstance(g, nx.MultiDiGraph)
    assert g.number_of_nodes() == len(down.nodes) and g.number_of_edges() == len(down.edges)
    assert g.nodes[s["dataset"]["_id"]]["collection"] == "datasets"
    assert g.nodes[s["model"]["_id"]]["type"] == "LASSO"
    # edges keep the stored direction: deployment -> servingperf
    assert g.has_edge(s["deployment"]["_id"], s["serving_perf"]["_id"])
    assert nx.has_path(g.to_undirected(), s["dataset"]["_id"], s["serving_perf"]["_id"])
    # a lineage read back from JSON converts the same way
    again = to_networkx(json.loads(json.dumps(down)))
    assert sorted(again.edges(keys=True)) == sorted(g.edges(keys=True))


def test_lineage_options(ap: ArangoPipe, lineage_setup: dict) -> None:
    s = lineage_setup
    up = ap.get_lineage(s["model"]["_id"], direction="upstream", max_depth=1)
    assert s["run"]["_id"] in {n["_id"] for n in up.nodes}
    assert s["dataset"]["_id"] not in {n["_id"] for n in up.nodes}
    only = ap.get_lineage(s["dataset"], direction="downstream", vertex_types=["featuresets", "run"])
    assert {n["_id"].split("/")[0] for n in only.nodes} <= {"datasets", "featuresets", "run"}
    cut = ap.get_lineage(s["dataset"], max_nodes=2)
    assert cut.truncated and len(cut.nodes) == 2
    assert cut.to_networkx().graph["truncated"] is True
    bare = ap.get_lineage(s["dataset"], ids_only=True, max_depth=1)
    assert all(set(n) <= {"_id", "_key", "name", "_project", "_created", "_updated", "_creator"}
               for n in bare.nodes)
    several = ap.get_lineage([s["dataset"], s["model"]], direction="downstream", max_depth=1)
    assert {n["_id"] for n in several.nodes[:2]} == {s["dataset"]["_id"], s["model"]["_id"]}
    by_filter = ap.get_lineage(start_collection="datasets", start_filter=f"name = 'ds-{s['uid']}'",
                               direction="downstream", max_depth=1)
    assert by_filter.nodes[0]["_id"] == s["dataset"]["_id"]
    with pytest.raises(apc.NotFoundError):
        ap.get_lineage(f"datasets/missing-{s['uid']}")
    with pytest.raises(apc.InvalidArgumentError):
        ap.get_lineage(s["dataset"], max_depth=99)
    with pytest.raises(ValueError):
        ap.get_lineage(s["dataset"], direction="sideways")


def test_impact_recipe_comparison_and_history(ap: ArangoPipe, admin: ArangoPipeAdmin, lineage_setup: dict) -> None:
    s = lineage_setup
    impact = ap.get_impact(s["dataset"])
    [hit] = impact["deployments"]
    assert hit["deployment"]["_id"] == s["deployment"]["_id"] and hit["distance"] >= 1
    assert hit["latest_serving_perf"]["rmse"] == 0.3
    assert impact["truncated"] is False

    recipe = ap.get_run_recipe(s["run"]["run_id"])
    assert recipe["run"]["_id"] == s["run"]["_id"]
    assert recipe["model-params"]["alpha"] == 0.1 and recipe["model-perf"]["rmse"] == 0.25
    assert recipe["dataset"]["_id"] == s["dataset"]["_id"]
    assert recipe["featureset_dataset"]["_id"] == s["dataset"]["_id"]
    assert recipe["model"]["_id"] == s["model"]["_id"] and recipe["project"]["name"] == s["project"]["name"]
    with pytest.raises(apc.NotFoundError):
        ap.get_run_recipe(f"missing-{s['uid']}")

    ap.log_serving_perf({"rmse": 0.35}, s["deployment"]["tag"])
    [cmp] = ap.compare_serving_to_dev(dep_tag=s["deployment"]["tag"])
    assert cmp["model-perf"]["rmse"] == 0.25
    assert [m["rmse"] for m in cmp["serving_perf"]] == [0.3, 0.35]
    assert any(c["deployment"]["_id"] == s["deployment"]["_id"]
               for c in ap.compare_serving_to_dev(project=s["project"]["name"]))

    admin.update_deployment_status(s["deployment"]["tag"], "ACTIVE")
    history = ap.get_history(s["deployment"])
    assert [h["action"] for h in history] == ["CREATED", "STATUS_CHANGED"]
    assert history[1]["changes"]["status"] == {"old": "SCHEDULED", "new": "ACTIVE"}
    assert history[0]["time"].endswith("Z") and history[0]["actor"]
    assert len(ap.get_history(s["deployment"]["_id"], limit=1)) == 1
