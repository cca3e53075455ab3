"""ArangoPipe's seed-compatible methods against the real server."""

from __future__ import annotations

import datetime as dt

import pytest

from arangopipe_client import (
    AlreadyExistsError,
    ArangoPipe,
    ArangoPipeAdmin,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)


def test_register_dataset(ap: ArangoPipe, uid: str) -> None:
    info = {"name": f"ds-{uid}", "description": "Wine quality ratings", "source": "UCI ML Repository",
            "rows": 4898, "schema": {"alcohol": "float64", "nested": {"deep": [1, 2.5, None, True]}}}
    ds = ap.register_dataset(info)
    assert ds["_id"] == f"datasets/{ds['_key']}"
    assert {k: ds[k] for k in info} == info
    assert info == {"name": f"ds-{uid}", "description": "Wine quality ratings", "source": "UCI ML Repository",
                    "rows": 4898, "schema": {"alcohol": "float64", "nested": {"deep": [1, 2.5, None, True]}}}, \
        "the caller's dict is not changed"
    assert ap.register_dataset(info)["_id"] == ds["_id"]
    assert ap.register_dataset(ds)["_id"] == ds["_id"]  # a returned document registers as the same
    with pytest.raises(AlreadyExistsError) as err:
        ap.register_dataset({**info, "rows": 1})
    assert err.value.existing_id == ds["_id"]
    assert ap.lookup_entity_by_id(err.value.existing_id)["rows"] == 4898


def test_register_dataset_in_a_project(ap: ArangoPipe, admin: ArangoPipeAdmin, uid: str) -> None:
    with pytest.raises(NotFoundError):
        ap.register_dataset({"name": f"ds-{uid}"}, project=f"missing-{uid}")
    admin.register_project({"name": f"a-{uid}"})
    admin.register_project({"name": f"b-{uid}"})
    a = ap.register_dataset({"name": f"ds-{uid}", "v": 1}, project=f"a-{uid}")
    b = ap.register_dataset({"name": f"ds-{uid}", "v": 2}, project=f"b-{uid}")
    assert a["_project"] == f"a-{uid}" and b["_project"] == f"b-{uid}" and a["_id"] != b["_id"]
    with pytest.raises(FailedPreconditionError) as err:
        ap.lookup_dataset(f"ds-{uid}")
    assert err.value.reason == "AMBIGUOUS_NAME"
    assert ap.lookup_dataset(f"ds-{uid}", project=f"b-{uid}")["v"] == 2


def test_register_dataset_input_errors(ap: ArangoPipe, uid: str) -> None:
    with pytest.raises(ValueError, match="name"):
        ap.register_dataset({"source": "nameless"})
    with pytest.raises(TypeError):
        ap.register_dataset(["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="document.blob"):
        ap.register_dataset({"name": f"ds-{uid}", "blob": object()})
    with pytest.raises(InvalidArgumentError) as err:
        ap.register_dataset({"name": f"ds-{uid}", "score": float("nan")})
    assert err.value.field_violations[0].field == "document.score"


def test_register_featureset_takes_key_id_or_document(ap: ArangoPipe, uid: str) -> None:
    ds = ap.register_dataset({"name": f"ds-{uid}"})
    fs_info = {"fixed acidity": "float64", "quality": "int64", "name": f"fs-{uid}"}
    by_key = ap.register_featureset(fs_info, ds["_key"])
    assert by_key["fixed acidity"] == "float64" and by_key["name"] == f"fs-{uid}"
    assert ap.register_featureset(fs_info, ds["_id"])["_id"] == by_key["_id"]
    assert ap.register_featureset(fs_info, ds)["_id"] == by_key["_id"]
    other = ap.register_dataset({"name": f"other-{uid}"})
    with pytest.raises(AlreadyExistsError) as err:
        ap.register_featureset(fs_info, other["_key"])  # same featureset, derived from another dataset
    assert err.value.existing_id == by_key["_id"]
    with pytest.raises(NotFoundError):
        ap.register_featureset({"name": f"fs2-{uid}"}, f"missing-{uid}")
    lineage = ap.get_lineage(by_key, direction="upstream", max_depth=1)
    assert [e["_to"] for e in lineage.edges if e["_id"].startswith("featureset_dataset/")] == [ds["_id"]]


def test_register_model_with_and_without_project(ap: ArangoPipe, admin: ArangoPipeAdmin, uid: str) -> None:
    loose = ap.register_model({"name": f"m-{uid}", "type": "elastic net regression"})
    assert "_project" not in loose
    admin.register_project({"name": f"p-{uid}"})
    owned = ap.register_model({"name": f"m-{uid}", "type": "lasso"}, project=f"p-{uid}")
    assert owned["_project"] == f"p-{uid}"
    up = ap.get_lineage(owned, direction="upstream", max_depth=1, edge_types=["project_models"])
    assert {n["_id"] for n in up.nodes} == {owned["_id"], admin.lookup_project(f"p-{uid}")["_id"]}
    with pytest.raises(AlreadyExistsError):
        ap.register_model({"name": f"m-{uid}", "type": "ridge"})


def _seed_run_info(uid: str, ds: dict, fs: dict, m: dict, **extra) -> dict:
    run_id = f"run-{uid}"
    info = {
        "dataset": ds["_key"], "featureset": fs["_key"], "run_id": run_id, "model": m["_key"],
        "model-params": {"l1_ratio": 0.1, "alpha": 0.2, "run_id": run_id},
        "model-perf": {"rmse": 0.78, "r2": 0.21, "mae": 0.61, "run_id": run_id,
                       "timestamp": "2019-06-06 12:52:11.190048"},
        "pipeline": "Wine-Regression-Pipeline", "deployment_tag": f"dep-{uid}", "tag": f"tag-{uid}",
    }
    info.update(extra)
    return info


def test_log_run_seed_run_info(ap: ArangoPipe, uid: str) -> None:
    ds = ap.register_dataset({"name": f"ds-{uid}"})
    fs = ap.register_featureset({"name": f"fs-{uid}"}, ds["_key"])
    m = ap.register_model({"name": f"m-{uid}"})
    info = _seed_run_info(uid, ds, fs, m)
    run = ap.log_run(info)
    assert run["_id"] == f"run/run-{uid}" and run["run_id"] == f"run-{uid}"
    assert run["status"] == "COMPLETED" and run["tag"] == f"tag-{uid}"
    assert run["deployment_tag"] == f"dep-{uid}"
    assert run["pipeline"] == "Wine-Regression-Pipeline"
    assert run["timestamp"] == "2019-06-06 12:52:11.190048"  # the seed copied it onto the run
    assert (run["model_id"], run["dataset_id"], run["featureset_id"]) == (m["_id"], ds["_id"], fs["_id"])
    assert run["model-params"]["alpha"] == 0.2 and run["model-params"]["run_id"] == f"run-{uid}"
    assert run["model-perf"]["rmse"] == 0.78
    assert "_key" not in info["model-params"], "unlike the seed, the caller's dicts are not changed"
    # logging the same run again returns it; other content under the same run_id conflicts
    assert ap.log_run(info)["_id"] == run["_id"]
    with pytest.raises(AlreadyExistsError) as err:
        ap.log_run({**info, "model-perf": {"rmse": 0.5}})
    assert err.value.existing_id == run["_id"]
    fetched = ap.get_run(f"run-{uid}")
    assert fetched["model-perf"]["rmse"] == 0.78
    assert ap.get_run(f"missing-{uid}") is None


def test_log_run_with_documents_times_and_status(ap: ArangoPipe, uid: str) -> None:
    m = ap.register_model({"name": f"m-{uid}"})
    start = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
    run = ap.log_run({"model": m, "start_time": start, "end_time": "2024-03-01T12:30:00Z", "status": "FAILED",
                      "model-params": {"alpha": 1}, "model-perf": {}})
    assert run["run_id"]  # generated by the server
    assert run["start_time"] == "2024-03-01T12:00:00.000000Z"
    assert run["end_time"] == "2024-03-01T12:30:00.000000Z"
    assert run["status"] == "FAILED"
    assert "dataset_id" not in run and "featureset_id" not in run


def test_log_run_errors(ap: ArangoPipe, uid: str) -> None:
    m = ap.register_model({"name": f"m-{uid}"})
    with pytest.raises(ValueError, match="model"):
        ap.log_run({"run_id": f"r-{uid}"})
    with pytest.raises(NotFoundError):
        ap.log_run({"model": f"missing-{uid}"})
    with pytest.raises(NotFoundError):
        ap.log_run({"model": m, "project": f"missing-{uid}"})
    with pytest.raises(InvalidArgumentError) as err:
        ap.log_run({"model": m, "run_id": f"r-{uid}", "model-params": {"run_id": "another"}})
    assert err.value.field_violations[0].field == "model_params.run_id"
    with pytest.raises(InvalidArgumentError) as err:
        ap.log_run({"model": m, "start_time": "2024-01-02T00:00:00Z", "end_time": "2024-01-01T00:00:00Z"})
    assert err.value.field_violations[0].field == "end_time"
    with pytest.raises(ValueError, match="not one of"):
        ap.log_run({"model": m, "status": "EXPLODED"})


def test_log_serving_perf(ap: ArangoPipe, admin: ArangoPipeAdmin, lineage_setup: dict) -> None:
    tag = lineage_setup["deployment"]["tag"]
    to_date = dt.datetime.now()
    from_date = to_date - dt.timedelta(days=30)
    sp = ap.log_serving_perf({"rmse": 0.822242, "r2": 0.12678, "mae": 0.62787, "from_date": str(from_date),
                              "to_date": str(to_date)}, tag, "privileged user")
    assert sp["_id"].startswith("servingperf/") and sp["rmse"] == 0.822242 and sp["deployment_tag"] == tag
    at = ap.log_serving_perf({"rmse": 0.5, "time": "2024-05-01T00:00:00Z"}, tag)
    assert at["time"] == "2024-05-01T00:00:00.000000Z"
    with pytest.raises(NotFoundError):
        ap.log_serving_perf({"rmse": 1}, f"missing-{lineage_setup['uid']}")
    admin.update_deployment_status(tag, "ARCHIVED")
    with pytest.raises(FailedPreconditionError) as err:
        ap.log_serving_perf({"rmse": 1}, tag)
    assert err.value.reason == "DEPLOYMENT_ARCHIVED"


def test_lookups(ap: ArangoPipe, lineage_setup: dict) -> None:
    s, uid = lineage_setup, lineage_setup["uid"]
    assert ap.lookup_dataset(f"ds-{uid}")["_id"] == s["dataset"]["_id"]
    assert ap.lookup_featureset(f"fs-{uid}")["_id"] == s["featureset"]["_id"]
    assert ap.lookup_model(f"model-{uid}")["type"] == "LASSO"
    assert ap.lookup_entity(f"model-{uid}", "models")["_id"] == s["model"]["_id"]
    for missing in (ap.lookup_dataset, ap.lookup_featureset, ap.lookup_model):
        assert missing(f"missing-{uid}") is None
    assert ap.lookup_modelparams(f"tag-{uid}")["alpha"] == 0.1
    assert ap.lookup_modelperf(f"tag-{uid}")["rmse"] == 0.25
    assert ap.lookup_modelparams(f"missing-{uid}") is None
    assert ap.lookup_modelperf(f"missing-{uid}") is None
    # the server answers NOT_FOUND alike for an unknown type and an unknown name (same ErrorInfo)
    assert ap.lookup_entity("x", f"no_type_{uid}") is None


def test_lookup_entity_by_id(ap: ArangoPipe, lineage_setup: dict) -> None:
    ds = lineage_setup["dataset"]
    assert ap.lookup_entity_by_id(ds["_id"]) == ap.lookup_dataset(ds["name"])
    lineage = ap.get_lineage(ds, direction="downstream", max_depth=1)
    edge_id = lineage.edges[0]["_id"]
    edge = ap.lookup_entity_by_id(edge_id)
    assert edge["_id"] == edge_id and "_from" in edge and "_to" in edge
    assert ap.lookup_entity_by_id(f"datasets/missing-{lineage_setup['uid']}") is None
    with pytest.raises(InvalidArgumentError):
        ap.lookup_entity_by_id("no-slash")


def test_get_deployment(ap: ArangoPipe, lineage_setup: dict) -> None:
    dep = lineage_setup["deployment"]
    assert ap.get_deployment(dep["tag"])["_id"] == dep["_id"]
    assert ap.get_deployment(f"missing-{lineage_setup['uid']}") is None


def test_find_entity(ap: ArangoPipe, uid: str) -> None:
    for i, kind in enumerate(["LASSO", "LASSO", "ridge"]):
        ap.register_model({"name": f"m{i}-{uid}", "type": kind, "owner": uid, "tuning": {"alpha": i / 10}})
    found = ap.find_entity("owner", uid, "models")
    assert sorted(m["name"] for m in found) == [f"m0-{uid}", f"m1-{uid}", f"m2-{uid}"]
    assert [m["name"] for m in ap.find_entity("tuning.alpha", 0.2, "models")
            if m.get("owner") == uid] == [f"m2-{uid}"]
    assert ap.find_entity("owner", f"nobody-{uid}", "models") is None  # None when empty, as in the seed
    assert ap.find_entities("owner", f"nobody-{uid}", "models") == []
    lasso = ap.find_entities("owner", uid, "models", filter="type = 'LASSO'", order_by="name DESC")
    assert [m["name"] for m in lasso] == [f"m1-{uid}", f"m0-{uid}"]
    assert len(ap.find_entities("owner", uid, "models", limit=1)) == 1
    with pytest.raises(InvalidArgumentError):
        ap.find_entities("owner", uid, "models", filter="type = ")


def test_list_entities(ap: ArangoPipe, admin: ArangoPipeAdmin, uid: str) -> None:
    admin.register_project({"name": f"p-{uid}"})
    for i in range(5):
        ap.register_dataset({"name": f"ds{i}-{uid}", "rows": i * 100}, project=f"p-{uid}")
    everything = ap.list_entities("datasets", project=f"p-{uid}")
    assert len(everything) == 5
    big = ap.list_entities("datasets", project=f"p-{uid}", filter="rows >= 200", order_by="rows DESC")
    assert [d["rows"] for d in big] == [400, 300, 200]
    assert len(ap.list_entities("datasets", project=f"p-{uid}", limit=2)) == 2


def test_link_entities(ap: ArangoPipe, lineage_setup: dict) -> None:
    m, ds, fs = lineage_setup["model"], lineage_setup["dataset"], lineage_setup["featureset"]
    linked = ap.link_entities(m["_id"], ds["_id"])
    assert linked["related_datasets"] == [ds["_id"]]
    again = ap.link_entities(m["_id"], ds["_id"])
    assert again["related_datasets"] == [ds["_id"]]  # once
    both = ap.link_entities(m, fs)
    assert both["related_featuresets"] == [fs["_id"]] and both["related_datasets"] == [ds["_id"]]
    with pytest.raises(NotFoundError):
        ap.link_entities(m["_id"], f"datasets/missing-{lineage_setup['uid']}")
    with pytest.raises(InvalidArgumentError):
        ap.link_entities("not-an-id", ds["_id"])


def test_insert_into_vertex_and_edge_types(ap: ArangoPipe, admin: ArangoPipeAdmin, uid: str) -> None:
    s, d = f"src_{uid}", f"dst_{uid}"
    admin.add_vertex_to_arangopipe(s)
    admin.add_vertex_to_arangopipe(d)
    sd = {"name": "sample doc"}
    v1 = ap.insert_into_vertex_type(s, sd)
    v2 = ap.insert_into_vertex_type(d, sd)
    assert v1["name"] == "sample doc" and v1["_id"].startswith(f"{s}/")
    assert ap.insert_into_vertex_type(s, sd)["_id"] == v1["_id"]
    keyed = ap.insert_into_vertex_type(s, {"_key": f"k-{uid}", "color": "red"})
    assert keyed["_id"] == f"{s}/k-{uid}" and keyed["color"] == "red"
    with pytest.raises(AlreadyExistsError):
        ap.insert_into_vertex_type(s, {"_key": f"k-{uid}", "color": "blue"})
    admin.add_edge_definition_to_arangopipe(f"e_{uid}", s, d)
    edge = ap.insert_into_edge_type(f"e_{uid}", v1, v2)
    assert (edge["_from"], edge["_to"]) == (v1["_id"], v2["_id"])
    with_doc = ap.insert_into_edge_type(f"e_{uid}", keyed, v2["_id"], {"weight": 2})
    assert with_doc["weight"] == 2
    assert ap.insert_into_edge_type(f"e_{uid}", v1, v2)["_id"] == edge["_id"]
    with pytest.raises(FailedPreconditionError) as err:
        ap.insert_into_edge_type(f"e_{uid}", v2, v1)  # the wrong way round
    assert err.value.reason == "EDGE_TYPE_MISMATCH"
    with pytest.raises(FailedPreconditionError) as err:
        ap.insert_into_vertex_type("datasets", {"name": f"sneaky-{uid}"})
    assert err.value.reason == "BUILTIN_TYPE"
    with pytest.raises(NotFoundError):
        ap.insert_into_vertex_type(f"missing_{uid}", sd)


def test_heart_beat(ap: ArangoPipe) -> None:
    ap.heart_beat()


def test_registering_again_after_link_entities_returns_the_entity(ap: ArangoPipe, uid: str) -> None:
    ds = ap.register_dataset({"name": f"ds-{uid}", "rows": 10})
    other = ap.register_dataset({"name": f"other-{uid}"})
    model = ap.register_model({"name": f"m-{uid}", "type": "LASSO"})
    fs = ap.register_featureset({"name": f"fs-{uid}"}, ds["_key"])
    for entity in (ds, model, fs):
        ap.link_entities(entity["_id"], other["_id"])
    # the stored documents now carry related_datasets; the callers' documents are still the same
    assert ap.register_dataset({"name": f"ds-{uid}", "rows": 10})["related_datasets"] == [other["_id"]]
    assert ap.register_model({"name": f"m-{uid}", "type": "LASSO"})["_id"] == model["_id"]
    assert ap.register_featureset({"name": f"fs-{uid}"}, ds["_key"])["_id"] == fs["_id"]
    with pytest.raises(AlreadyExistsError):
        ap.register_dataset({"name": f"ds-{uid}", "rows": 11})
    with pytest.raises(AlreadyExistsError):
        ap.register_featureset({"name": f"fs-{uid}"}, other["_key"])  # same document, another dataset


def test_log_serving_perf_batch(ap: ArangoPipe, admin: ArangoPipeAdmin, lineage_setup: dict) -> None:
    tag = lineage_setup["deployment"]["tag"]
    records = [{"rmse": i / 1000, "time": f"2024-07-01T00:00:{i % 60:02d}Z"} for i in range(25)]
    assert ap.log_serving_perf_batch(records, tag, batch_size=10) == {"accepted_batches": 3, "accepted_records": 25}
    [cmp] = ap.compare_serving_to_dev(dep_tag=tag, max_points=1000)
    assert len(cmp["serving_perf"]) == 26  # with the fixture's one
    tagged = [{"deployment_tag": tag, "rmse": 0.5}]
    assert ap.log_serving_perf_batch(tagged)["accepted_records"] == 1
    assert ap.log_serving_perf_batch([], tag) == {"accepted_batches": 0, "accepted_records": 0}
    with pytest.raises(ValueError, match="deployment_tag"):
        ap.log_serving_perf_batch([{"rmse": 1}])
    with pytest.raises(NotFoundError) as err:
        ap.log_serving_perf_batch([{"rmse": 1}] * 3 + [{"deployment_tag": "missing", "rmse": 2}], tag, batch_size=3)
    assert err.value.metadata.get("accepted_batches") == "1"
