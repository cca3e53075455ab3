"""ArangoPipeAdmin against the real server: every method, its return values and its errors."""

from __future__ import annotations

import pytest

from arangopipe_client import (
    AlreadyExistsError,
    ArangoPipe,
    ArangoPipeAdmin,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)


def test_register_project_returns_document_and_is_repeatable(admin: ArangoPipeAdmin, uid: str) -> None:
    p = admin.register_project({"name": f"p-{uid}", "owner": "pricing", "budget": 3})
    assert p["name"] == f"p-{uid}"
    assert p["_id"] == f"project/{p['_key']}"
    assert p["owner"] == "pricing" and p["budget"] == 3 and isinstance(p["budget"], int)
    assert p["_created"].endswith("Z")
    again = admin.register_project({"name": f"p-{uid}", "owner": "pricing", "budget": 3})
    assert again["_id"] == p["_id"]
    # a returned document can be registered again as is: the system keys are ignored
    assert admin.register_project(p)["_id"] == p["_id"]


def test_register_project_conflict_raises_with_existing_id(admin: ArangoPipeAdmin, uid: str) -> None:
    p = admin.register_project({"name": f"p-{uid}", "owner": "a"})
    with pytest.raises(AlreadyExistsError) as err:
        admin.register_project({"name": f"p-{uid}", "owner": "b"})
    assert err.value.existing_id == p["_id"]
    assert err.value.reason == "ALREADY_EXISTS" and err.value.domain == "arangopipe.v1"


def test_register_project_needs_a_valid_name(admin: ArangoPipeAdmin) -> None:
    with pytest.raises(ValueError):
        admin.register_project({"owner": "nobody"})
    with pytest.raises(InvalidArgumentError) as err:
        admin.register_project({"name": "-starts-with-a-dash"})
    assert [v.field for v in err.value.field_violations] == ["name"]


def test_lookup_and_list_projects(admin: ArangoPipeAdmin, uid: str) -> None:
    names = [f"list-{uid}-{i}" for i in range(3)]
    for n in names:
        admin.register_project({"name": n})
    assert admin.lookup_project(names[1])["name"] == names[1]
    assert admin.lookup_project(f"missing-{uid}") is None
    listed = [p["name"] for p in admin.list_projects()]
    assert [n for n in listed if n.startswith(f"list-{uid}")] == names
    assert len(admin.list_projects(limit=2)) == 2


def test_register_deployment_links_the_runs_model(ap: ArangoPipe, admin: ArangoPipeAdmin, uid: str) -> None:
    m = ap.register_model({"name": f"m-{uid}"})
    fs_ds = ap.register_dataset({"name": f"d-{uid}"})
    fs = ap.register_featureset({"name": f"f-{uid}"}, fs_ds["_key"])
    run = ap.log_run({"run_id": f"r-{uid}", "model": m["_key"], "featureset": fs["_key"],
                      "model-params": {"alpha": 1}, "model-perf": {"rmse": 2}, "deployment_tag": f"dep-{uid}"})
    dep = admin.register_deployment(f"dep-{uid}", properties={"replicas": 2})
    assert dep["tag"] == f"dep-{uid}" and dep["status"] == "SCHEDULED" and dep["replicas"] == 2
    assert dep["model_id"] == m["_id"]
    assert dep["model_params_id"] == run["model_params_id"]
    assert dep["featureset_id"] == fs["_id"]
    assert dep["run_id"] == run["_id"]
    # the same again returns it; other properties conflict
    assert admin.register_deployment(f"dep-{uid}", properties={"replicas": 2})["_id"] == dep["_id"]
    with pytest.raises(AlreadyExistsError) as err:
        admin.register_deployment(f"dep-{uid}", properties={"replicas": 3})
    assert err.value.existing_id == dep["_id"]


def test_register_deployment_without_a_tagged_run(admin: ArangoPipeAdmin, uid: str) -> None:
    with pytest.raises(FailedPreconditionError) as err:
        admin.register_deployment(f"nothing-{uid}")
    assert err.value.reason == "DEPLOYMENT_TAG_NOT_FOUND"


def test_register_deployment_with_an_ambiguous_tag(ap: ArangoPipe, admin: ArangoPipeAdmin, uid: str) -> None:
    m = ap.register_model({"name": f"m-{uid}"})
    for i in range(2):
        ap.log_run({"run_id": f"r{i}-{uid}", "model": m, "deployment_tag": f"dep-{uid}"})
    with pytest.raises(FailedPreconditionError) as err:
        admin.register_deployment(f"dep-{uid}")
    assert err.value.reason == "AMBIGUOUS_DEPLOYMENT_TAG"
    dep = admin.register_deployment(f"dep-{uid}", run_id=f"r1-{uid}")
    assert dep["run_id"] == f"run/r1-{uid}"


def test_update_deployment_status(admin: ArangoPipeAdmin, lineage_setup: dict) -> None:
    tag = lineage_setup["deployment"]["tag"]
    assert admin.update_deployment_status(tag, "ACTIVE")["status"] == "ACTIVE"
    assert admin.update_deployment_status(tag, "DEPLOYMENT_STATUS_ACTIVE")["status"] == "ACTIVE"
    assert admin.update_deployment_status(tag, "archived")["status"] == "ARCHIVED"
    with pytest.raises(FailedPreconditionError) as err:
        admin.update_deployment_status(tag, "ACTIVE")
    assert err.value.reason == "INVALID_STATUS_TRANSITION"
    with pytest.raises(NotFoundError):
        admin.update_deployment_status(f"missing-{lineage_setup['uid']}", "ACTIVE")
    with pytest.raises(ValueError, match="not one of"):
        admin.update_deployment_status(tag, "RUNNING")


def test_vertex_types(admin: ArangoPipeAdmin, ap: ArangoPipe, uid: str) -> None:
    name = f"vt_{uid}"
    assert not admin.has_vertex(name)
    t = admin.add_vertex_to_arangopipe(name)
    assert t == {"name": name, "kind": "vertex", "builtin": False, "document_count": 0}
    assert admin.add_vertex_to_arangopipe(name)["name"] == name  # again: a no-op
    assert admin.has_vertex(name) and not admin.has_edge(name)
    ap.insert_into_vertex_type(name, {"name": "one"})
    assert admin.get_type(name)["document_count"] == 1
    with pytest.raises(FailedPreconditionError) as err:
        admin.remove_vertex_from_arangopipe(name, purge=False)
    assert err.value.reason == "TYPE_NOT_EMPTY"
    assert admin.remove_vertex_from_arangopipe(name) == 1  # purge, the seed's default
    assert not admin.has_vertex(name)
    with pytest.raises(NotFoundError):
        admin.remove_vertex_from_arangopipe(name)


def test_builtin_types_cannot_be_removed(admin: ArangoPipeAdmin) -> None:
    assert admin.has_vertex("datasets") and admin.has_edge("run_models")
    with pytest.raises(FailedPreconditionError) as err:
        admin.remove_vertex_from_arangopipe("datasets")
    assert err.value.reason == "BUILTIN_TYPE"


def test_edge_types_four_and_three_argument_forms(admin: ArangoPipeAdmin, uid: str) -> None:
    a, b = f"va_{uid}", f"vb_{uid}"
    admin.add_vertex_to_arangopipe(a)
    admin.add_vertex_to_arangopipe(b)
    four = admin.add_edge_definition_to_arangopipe(f"e4_{uid}", f"e4_{uid}", a, b)
    assert four == {"name": f"e4_{uid}", "kind": "edge", "builtin": False, "document_count": 0,
                    "from_types": [a], "to_types": [b]}
    three = admin.add_edge_definition_to_arangopipe(f"e3_{uid}", a, b)
    assert (three["from_types"], three["to_types"]) == ([a], [b])
    assert admin.has_edge(f"e3_{uid}") and admin.has_edge(f"e4_{uid}")
    many = admin.add_edges_to_arangopipe(f"em_{uid}", [a, b], [b])
    assert many["from_types"] == sorted([a, b])
    with pytest.raises(AlreadyExistsError):
        admin.add_edges_to_arangopipe(f"em_{uid}", [a], [a])
    with pytest.raises(NotFoundError):
        admin.add_edge_definition_to_arangopipe(f"ex_{uid}", a, f"missing_{uid}")
    with pytest.raises(FailedPreconditionError) as err:
        admin.remove_vertex_from_arangopipe(a)
    assert err.value.reason == "TYPE_IN_USE"
    for e in (f"e4_{uid}", f"e3_{uid}", f"em_{uid}"):
        assert admin.remove_edge_definition_from_arangopipe(e) == 0
        assert not admin.has_edge(e)
    with pytest.raises(NotFoundError):
        admin.remove_edge_definition_from_arangopipe(f"e3_{uid}")
    with pytest.raises(TypeError):
        admin.add_edges_to_arangopipe(f"es_{uid}", a, b)  # type: ignore[arg-type]


def test_list_types_and_get_type(admin: ArangoPipeAdmin) -> None:
    types = {t["name"]: t for t in admin.list_types()}
    for vertex in ("project", "models", "datasets", "featuresets", "modelparams", "run", "devperf",
                   "servingperf", "deployment"):
        assert types[vertex]["kind"] == "vertex" and types[vertex]["builtin"]
    assert types["featureset_dataset"]["from_types"] == ["featuresets"]
    assert types["featureset_dataset"]["to_types"] == ["datasets"]
    assert admin.get_type("no_such_type_anywhere") is None


def test_heart_beat_and_delete_arangomldb(admin: ArangoPipeAdmin) -> None:
    admin.heart_beat()
    assert admin.delete_arangomldb() is None
    assert admin.has_vertex("datasets")


def test_whoami_without_authentication(admin: ArangoPipeAdmin) -> None:
    me = admin.whoami()
    assert me["authentication_enabled"] is False and me["name"]
