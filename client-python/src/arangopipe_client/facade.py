"""``ArangoPipeAdmin`` and ``ArangoPipe``: the seed library's API over gRPC.

Method names, arguments and the dict-in / dict-out convention follow the seed library (PyPI
``arangopipe``), so that a script written for it runs after changing its constructor. Returned documents
carry the user's attributes plus ``_id``, ``_key`` and ``name`` as the seed's did, and metadata under
other underscore keys (``_project``, ``_created``, ``_updated``, ``_creator``); these keys are ignored when
a returned document is passed back in. The differences from the seed are listed in the README
("Migrating from arangopipe").
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from . import _convert as cv
from .connection import ClientConfig, Connection
from .errors import AlreadyExistsError, ArangopipeError, NotFoundError
from .lineage import Lineage
from .v1 import admin_messages_pb2 as am
from .v1 import lineage_messages_pb2 as lm
from .v1 import resources_pb2 as res
from .v1 import tracking_messages_pb2 as tm

if TYPE_CHECKING:
    from .runs import ActiveRun

__all__ = ["ArangoPipeAdmin", "ArangoPipe"]

Doc = Dict[str, Any]

#: Keys of the seed's run_info that are not run properties.
_RUN_INFO_KEYS = ("run_id", "dataset", "featureset", "model", "model-params", "model-perf", "tag",
                  "deployment_tag", "project", "start_time", "end_time", "status")


def _enum(enum: Any, prefix: str, value: Union[str, int, None], what: str) -> Any:
    """An enum value from its short name ("ACTIVE"), full name or number (typed Any: the generated
    stubs give each enum its own ValueType)."""
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    name = str(value).strip().upper()
    if not name.startswith(prefix):
        name = prefix + name
    try:
        return int(enum.Value(name))
    except ValueError:
        choices = ", ".join(cv.status_names(enum, prefix))
        raise ValueError(f"{what}: {value!r} is not one of {choices}") from None


def run_status(value: Union[str, int, None]) -> Any:
    return _enum(res.RunStatus, "RUN_STATUS_", value, "status")


def deployment_status(value: Union[str, int, None]) -> Any:
    return _enum(res.DeploymentStatus, "DEPLOYMENT_STATUS_", value, "status")


class _Client:
    """Connection handling shared by both facades: own a connection, or borrow one."""

    def __init__(
        self,
        target: Optional[str] = None,
        *,
        token: Optional[str] = None,
        ca: Optional[str] = None,
        cert: Optional[str] = None,
        key: Optional[str] = None,
        tls: Optional[bool] = None,
        timeout: Optional[float] = None,
        max_attempts: Optional[int] = None,
        config: Optional[ClientConfig] = None,
        connection: Optional[Connection] = None,
        interceptors: Sequence[Any] = (),
    ) -> None:
        if connection is not None:
            self.connection = connection
            self._owns_connection = False
        else:
            self.connection = Connection(target, token=token, ca=ca, cert=cert, key=key, tls=tls,
                                         timeout=timeout, max_attempts=max_attempts, config=config,
                                         interceptors=interceptors)
            self._owns_connection = True

    def close(self) -> None:
        """Closes the connection, unless it was passed in with ``connection=``."""
        if self._owns_connection:
            self.connection.close()

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.connection.config.target!r})"

    def _admin(self, method: str, request: Any, timeout: Optional[float] = None) -> Any:
        return self.connection.call("admin", method, request, timeout=timeout)

    def _tracking(self, method: str, request: Any, timeout: Optional[float] = None) -> Any:
        return self.connection.call("tracking", method, request, timeout=timeout)

    def _lineage(self, method: str, request: Any, timeout: Optional[float] = None) -> Any:
        return self.connection.call("lineage", method, request, timeout=timeout)

    def heart_beat(self) -> None:
        """Checks that the server answers (raises UnavailableError otherwise), as the seed's did."""
        self._admin("ListTypes", am.ListTypesRequest())


class ArangoPipeAdmin(_Client):
    """Provisioning: projects, deployments and the graph's schema (the seed's ``ArangoPipeAdmin``).

    ``ArangoPipeAdmin()`` connects to ``ARANGOPIPE_TARGET`` (default ``localhost:6529``); see
    :class:`~arangopipe_client.ClientConfig` for the other settings. Nothing is provisioned at
    construction: the server owns the database and its graph.
    """

    # -- projects ------------------------------------------------------------------------------------

    def register_project(self, p: Mapping[str, Any]) -> Doc:
        """Creates a project from ``{"name": ..., **properties}``; the same again returns it.

        Raises AlreadyExistsError when the name exists with other properties.
        """
        name = _required_name(p, "project")
        req = am.CreateProjectRequest(name=name, properties=cv.to_struct(cv.user_document(p, "name")))
        return cv.project_to_dict(self._admin("CreateProject", req).project)

    def lookup_project(self, name: str) -> Optional[Doc]:
        """The project with the name, or None."""
        try:
            return cv.project_to_dict(self._admin("GetProject", am.GetProjectRequest(name=name)).project)
        except NotFoundError:
            return None

    def list_projects(self, limit: Optional[int] = None) -> List[Doc]:
        """Every project (or the first ``limit``), in name order."""
        req = am.ListProjectsRequest(page_size=min(limit or 1000, 1000))
        return [cv.project_to_dict(p) for p in self.connection.pages("admin", "ListProjects", req, "projects",
                                                                     limit=limit)]

    # -- deployments ---------------------------------------------------------------------------------

    def register_deployment(
        self,
        dep_tag: str,
        run_id: Optional[str] = None,
        properties: Optional[Mapping[str, Any]] = None,
        status: Union[str, int, None] = None,
    ) -> Doc:
        """Deploys the model of the run logged with ``deployment_tag=dep_tag``: one atomic write of the
        deployment and its links to the run's model, model params and featureset.

        Returns the deployment (the seed returned its deployment->model edge). Raises
        FailedPreconditionError when no run carries the tag (reason ``DEPLOYMENT_TAG_NOT_FOUND``) or several
        do and ``run_id`` does not choose one (``AMBIGUOUS_DEPLOYMENT_TAG``); AlreadyExistsError when the
        tag is deployed from another run.
        """
        req = am.RegisterDeploymentRequest(deployment_tag=dep_tag, run_id=run_id or "",
                                           status=deployment_status(status),
                                           properties=cv.to_struct(cv.user_document(properties)))
        return cv.deployment_to_dict(self._admin("RegisterDeployment", req).deployment)

    def update_deployment_status(self, dep_tag: str, status: Union[str, int]) -> Doc:
        """Moves a deployment along SCHEDULED -> ACTIVE -> ARCHIVED (or SCHEDULED -> ARCHIVED)."""
        req = am.UpdateDeploymentStatusRequest(deployment_tag=dep_tag, status=deployment_status(status))
        return cv.deployment_to_dict(self._admin("UpdateDeploymentStatus", req).deployment)

    # -- schema --------------------------------------------------------------------------------------

    def add_vertex_to_arangopipe(self, vertex_to_create: str) -> Doc:
        """Adds a custom vertex type; adding an existing one is a no-op. Returns the type."""
        return cv.type_to_dict(self._admin("AddVertexType", am.AddVertexTypeRequest(name=vertex_to_create)).type)

    def remove_vertex_from_arangopipe(self, vertex_to_remove: str, purge: bool = True) -> int:
        """Removes a custom vertex type, with its documents when ``purge`` (the seed's default).

        Returns how many documents were deleted. Raises NotFoundError for an unknown type (the seed logged
        an error), FailedPreconditionError for a built-in type, one that still holds documents without
        ``purge``, or one an edge type still connects.
        """
        req = am.RemoveVertexTypeRequest(name=vertex_to_remove, purge=purge)
        return int(self._admin("RemoveVertexType", req).deleted_count)

    def add_edge_definition_to_arangopipe(
        self, edge_col_name: str, edge_name: str, from_vertex_name: str, to_vertex_name: Optional[str] = None
    ) -> Doc:
        """Adds a custom edge type from one vertex type to another.

        Takes the seed's four arguments ``(edge_col_name, edge_name, from_vertex_name, to_vertex_name)`` —
        the type is named ``edge_col_name``, as the seed's edge collection was — or its older three
        ``(edge_name, from_vertex_name, to_vertex_name)``. Raises NotFoundError when a vertex type does not
        exist (the seed logged an error), AlreadyExistsError when the name has another definition.
        """
        if to_vertex_name is None:  # the older, three-argument form
            edge_col_name, from_vertex_name, to_vertex_name = edge_col_name, edge_name, from_vertex_name
        return self.add_edges_to_arangopipe(edge_col_name, [from_vertex_name], [to_vertex_name])

    def add_edges_to_arangopipe(
        self, edge_col_name: str, from_vertex_list: Sequence[str], to_vertex_list: Sequence[str]
    ) -> Doc:
        """Adds a custom edge type between several vertex types."""
        if isinstance(from_vertex_list, str) or isinstance(to_vertex_list, str):
            raise TypeError("from_vertex_list and to_vertex_list are lists of vertex type names")
        req = am.AddEdgeTypeRequest(name=edge_col_name, from_types=list(from_vertex_list),
                                    to_types=list(to_vertex_list))
        return cv.type_to_dict(self._admin("AddEdgeType", req).type)

    def remove_edge_definition_from_arangopipe(self, edge_name: str, purge: bool = True) -> int:
        """Removes a custom edge type, with its edges when ``purge``. Returns how many edges went."""
        req = am.RemoveEdgeTypeRequest(name=edge_name, purge=purge)
        return int(self._admin("RemoveEdgeType", req).deleted_count)

    def has_vertex(self, vertex_name: str) -> bool:
        """Whether a vertex type of that name exists."""
        t = self.get_type(vertex_name)
        return t is not None and t["kind"] == "vertex"

    def has_edge(self, edge_name: str) -> bool:
        """Whether an edge type of that name exists."""
        t = self.get_type(edge_name)
        return t is not None and t["kind"] == "edge"

    def get_type(self, name: str) -> Optional[Doc]:
        """The vertex or edge type (kind, built-in, from/to types, document count), or None."""
        try:
            return cv.type_to_dict(self._admin("GetType", am.GetTypeRequest(name=name)).type)
        except NotFoundError:
            return None

    def list_types(self) -> List[Doc]:
        """Every vertex and edge type, built-in first."""
        return [cv.type_to_dict(t) for t in self._admin("ListTypes", am.ListTypesRequest()).types]

    def delete_arangomldb(self) -> None:
        """Does nothing, like the seed's current version: the server owns its store."""

    # -- users, tokens and roles (not in the seed: it had no authentication) --------------------------

    def whoami(self) -> Doc:
        """The caller: ``{"name", "server_admin", "disabled", "roles": {project: role}, ...,
        "authentication_enabled": bool}``."""
        resp = self._admin("GetCurrentUser", am.GetCurrentUserRequest())
        d = cv.user_to_dict(resp.user)
        d["authentication_enabled"] = resp.authentication_enabled
        return d

    def create_user(self, name: str, server_admin: bool = False) -> Doc:
        """Creates a user (server administrators only); give it a token and roles next."""
        return cv.user_to_dict(self._admin("CreateUser", am.CreateUserRequest(name=name,
                                                                              server_admin=server_admin)).user)

    def list_users(self, limit: Optional[int] = None) -> List[Doc]:
        """Every user, in name order (server administrators only)."""
        req = am.ListUsersRequest(page_size=min(limit or 1000, 1000))
        return [cv.user_to_dict(u) for u in self.connection.pages("admin", "ListUsers", req, "users", limit=limit)]

    def set_user_disabled(self, name: str, disabled: bool = True) -> Doc:
        """Disables (or re-enables) a user; their tokens are refused from the next call on."""
        req = am.SetUserDisabledRequest(name=name, disabled=disabled)
        return cv.user_to_dict(self._admin("SetUserDisabled", req).user)

    def create_token(self, user: str, description: str = "") -> Doc:
        """Issues an API token: ``{"token_id", "user", "description", "revoked", "secret", ...}``. The
        secret is returned only here. Never retried: a lost response leaves an unused token, to revoke."""
        resp = self._admin("CreateToken", am.CreateTokenRequest(user=user, description=description))
        d = cv.token_to_dict(resp.token)
        d["secret"] = resp.secret
        return d

    def list_tokens(self, user: str) -> List[Doc]:
        """A user's tokens, without their secrets."""
        return [cv.token_to_dict(t) for t in self._admin("ListTokens", am.ListTokensRequest(user=user)).tokens]

    def revoke_token(self, token_id: str) -> Doc:
        """Revokes a token; it is refused from the next call on."""
        return cv.token_to_dict(self._admin("RevokeToken", am.RevokeTokenRequest(token_id=token_id)).token)

    def grant_role(self, user: str, project: str, role: Union[str, int]) -> Doc:
        """Gives a user a role on a project: "VIEWER", "EDITOR" or "ADMIN" (replacing any role there)."""
        req = am.GrantRoleRequest(user=user, project=project, role=_enum(res.Role, "ROLE_", role, "role"))
        return cv.user_to_dict(self._admin("GrantRole", req).user)

    def revoke_role(self, user: str, project: str) -> Doc:
        """Takes a user's role on a project away."""
        return cv.user_to_dict(self._admin("RevokeRole", am.RevokeRoleRequest(user=user, project=project)).user)


class ArangoPipe(_Client):
    """Tracking and lookups for training scripts (the seed's ``ArangoPipe``), plus run context managers,
    pandas run tables and lineage queries.

    ``ArangoPipe()`` connects to ``ARANGOPIPE_TARGET`` (default ``localhost:6529``); see
    :class:`~arangopipe_client.ClientConfig` for the other settings.
    """

    # -- registration --------------------------------------------------------------------------------

    def register_dataset(self, ds_info: Mapping[str, Any], user_id: Optional[str] = None,
                         project: Optional[str] = None) -> Doc:
        """Registers a dataset from ``{"name": ..., **attributes}``; the same again returns it.

        Raises AlreadyExistsError (``existing_id``) when the name exists with other attributes (the seed
        logged an error and returned None). ``user_id`` is accepted for compatibility and ignored: the
        server takes the caller's identity from the token.
        """
        req = tm.RegisterDatasetRequest(name=_required_name(ds_info, "dataset"), project=project or "",
                                        document=cv.to_struct(cv.user_document(ds_info, "name")))
        return self._register("RegisterDataset", req, "dataset")

    def register_featureset(self, fs_info: Mapping[str, Any], dataset_id: Union[str, Mapping[str, Any]],
                            user_id: Optional[str] = None, project: Optional[str] = None) -> Doc:
        """Registers a featureset derived from a dataset, with its featureset->dataset edge, atomically.

        ``dataset_id`` is what seed scripts pass: the dataset's ``_key`` (``ds_reg["_key"]``), or its
        ``_id``, or the registered document itself.
        """
        req = tm.RegisterFeaturesetRequest(
            name=_required_name(fs_info, "featureset"), project=project or "",
            dataset_id=cv.entity_ref(dataset_id, "datasets", "dataset_id"),
            document=cv.to_struct(cv.user_document(fs_info, "name")))
        return self._register("RegisterFeatureset", req, "featureset")

    def register_model(self, mi: Mapping[str, Any], user_id: Optional[str] = None,
                       project: Optional[str] = None) -> Doc:
        """Registers a model, with its project->model edge when ``project`` is given, atomically.

        The seed's ``project`` defaulted to "Wine-Quality-Regression-Modelling"; here no project means none.
        """
        req = tm.RegisterModelRequest(name=_required_name(mi, "model"), project=project or "",
                                      document=cv.to_struct(cv.user_document(mi, "name")))
        return self._register("RegisterModel", req, "model")

    def _register(self, method: str, req: Any, field: str) -> Doc:
        """Registers; when the only difference from the stored entity is the ``related_*`` lists that
        :meth:`link_entities` added to it, returns the stored entity instead of raising AlreadyExistsError
        (the caller registered the same document again)."""
        try:
            return cv.entity_to_dict(getattr(self._tracking(method, req), field))
        except AlreadyExistsError as err:
            existing = self._same_but_links(err, req)
            if existing is None:
                raise
            return existing

    def _same_but_links(self, err: AlreadyExistsError, req: Any) -> Optional[Doc]:
        if not err.existing_id:
            return None
        try:
            stored = self._tracking("GetEntity", tm.GetEntityRequest(id=err.existing_id))
        except ArangopipeError:  # cannot tell: the original error stands
            return None
        if not stored.HasField("entity"):
            return None
        e = stored.entity
        sent = cv.from_struct(req.document)
        kept = {k: v for k, v in cv.from_struct(e.document).items() if not (k.startswith("related_") and k not in sent)}
        if e.name != req.name or e.project != req.project or kept != sent:
            return None
        if getattr(req, "dataset_id", ""):  # a featureset must also come from the same dataset
            try:
                links = self._lineage("GetLineage", lm.GetLineageRequest(
                    start_id=e.id, direction=res.LINEAGE_DIRECTION_UPSTREAM, max_depth=1,
                    edge_types=["featureset_dataset"], ids_only=True))
            except ArangopipeError:
                return None
            if [x.to_id for x in links.edges] != [req.dataset_id]:
                return None
        return cv.entity_to_dict(e)

    def log_run(self, ri: Mapping[str, Any]) -> Doc:
        """Logs a run from the seed's run_info dict, in one atomic write.

        Keys: ``run_id``, ``dataset``, ``featureset``, ``model`` (keys, ids or registered documents),
        ``model-params`` and ``model-perf`` (dicts), ``tag``, ``deployment_tag``, ``project``; optionally
        ``start_time``, ``end_time`` (datetimes or ISO strings) and ``status`` ("COMPLETED", "FAILED", ...);
        any other key is stored on the run. Returns the run, with its ``model-params`` and ``model-perf``
        documents. Logging the same run again returns it; the same run_id with other content raises
        AlreadyExistsError.
        """
        if "model" not in ri or not ri["model"]:
            raise ValueError("run_info['model']: a run needs the model it trained (its _key or _id)")
        params = cv.user_document(ri.get("model-params"))
        perf = cv.user_document(ri.get("model-perf"))
        props = {k: v for k, v in ri.items() if k not in _RUN_INFO_KEYS and k not in cv.SYSTEM_KEYS}
        if "timestamp" in perf and "timestamp" not in props:
            props["timestamp"] = perf["timestamp"]  # the seed copied it onto the run
        req = tm.LogRunRequest(
            run_id=str(ri.get("run_id") or ""),
            project=ri.get("project") or "",
            tag=ri.get("tag") or "",
            deployment_tag=ri.get("deployment_tag") or "",
            status=run_status(ri.get("status")),
            model_id=cv.entity_ref(ri["model"], "models", "model"),
            dataset_id=cv.entity_ref(ri["dataset"], "datasets", "dataset") if ri.get("dataset") else "",
            featureset_id=(cv.entity_ref(ri["featureset"], "featuresets", "featureset")
                           if ri.get("featureset") else ""),
            model_params=cv.to_struct(params, "model-params"),
            dev_perf=cv.to_struct(perf, "model-perf"),
            properties=cv.to_struct(props, "run_info"),
        )
        for field in ("start_time", "end_time"):
            ts = cv.to_timestamp(ri.get(field))
            if ts is not None:
                getattr(req, field).CopyFrom(ts)
        return _run_view(self._tracking("LogRun", req))

    def start_run(
        self,
        model: Union[str, Mapping[str, Any], None] = None,
        *,
        dataset: Union[str, Mapping[str, Any], None] = None,
        featureset: Union[str, Mapping[str, Any], None] = None,
        project: Optional[str] = None,
        tag: Optional[str] = None,
        deployment_tag: Optional[str] = None,
        run_id: Optional[str] = None,
        params: Optional[Mapping[str, Any]] = None,
        properties: Optional[Mapping[str, Any]] = None,
    ) -> "ActiveRun":
        """A run as a context manager, written in one atomic LogRun when the block ends::

            with ap.start_run(model_reg, dataset=ds_reg, featureset=fs_reg, tag="v1") as run:
                run.log_params({"alpha": 0.1})
                ...train...
                run.log_metrics({"rmse": rmse})
            run.result  # the logged run

        The run gets status COMPLETED, or FAILED (with an ``error`` property) if the block raises; the
        exception is re-raised after the run is logged.
        """
        from .runs import ActiveRun

        return ActiveRun(self, model=model, dataset=dataset, featureset=featureset, project=project, tag=tag,
                         deployment_tag=deployment_tag, run_id=run_id, params=params, properties=properties)

    def log_serving_perf(self, sp: Mapping[str, Any], dep_tag: str, userid: Optional[str] = None,
                         time: Union[_dt.datetime, str, None] = None) -> Doc:
        """Records serving performance for the deployment with the tag, with its edge, atomically.

        ``sp`` holds the metrics; a ``time`` key (or argument) says when they were measured (default: now).
        Raises NotFoundError when no deployment has the tag (the seed raised IndexError),
        FailedPreconditionError when it is archived.
        """
        metrics = cv.user_document(sp)
        when = time if time is not None else metrics.pop("time", None)
        if metrics.get("deployment_tag") == dep_tag:
            del metrics["deployment_tag"]
        req = tm.LogServingPerfRequest(deployment_tag=dep_tag, metrics=cv.to_struct(metrics, "sp"))
        ts = cv.to_timestamp(when)
        if ts is not None:
            req.time.CopyFrom(ts)
        return cv.entity_to_dict(self._tracking("LogServingPerf", req).serving_perf)

    def log_serving_perf_batch(self, records: Iterable[Mapping[str, Any]], dep_tag: Optional[str] = None,
                               batch_size: int = 1000) -> Doc:
        """Streams many serving measurements at once (StreamServingPerf): ``records`` are metric dicts,
        each with an optional ``time`` and an optional ``deployment_tag`` (default: ``dep_tag``). They go in
        batches of up to ``batch_size`` (at most 1000), each written atomically and carrying its own
        request_id, so a retry after a lost connection writes nothing twice. Returns
        ``{"accepted_batches": n, "accepted_records": m}``. A failing batch raises its error; the batches
        before it stay written (the error's metadata has ``accepted_batches`` and ``accepted_records``).
        """
        if not 1 <= batch_size <= 1000:
            raise ValueError(f"batch_size must be 1 to 1000 (got {batch_size})")
        batches: List[Any] = []
        current = tm.StreamServingPerfRequest()
        for i, record in enumerate(records):
            metrics = cv.user_document(record)
            tag = metrics.pop("deployment_tag", None) or dep_tag
            if not tag:
                raise ValueError(f"records[{i}]: no deployment_tag (pass dep_tag= or put one in the record)")
            when = cv.to_timestamp(metrics.pop("time", None))
            rec = current.records.add(deployment_tag=tag, metrics=cv.to_struct(metrics, f"records[{i}]"))
            if when is not None:
                rec.time.CopyFrom(when)
            if len(current.records) == batch_size:
                batches.append(current)
                current = tm.StreamServingPerfRequest()
        if len(current.records):
            batches.append(current)
        if not batches:
            return {"accepted_batches": 0, "accepted_records": 0}
        resp = self.connection.call_stream("tracking", "StreamServingPerf", batches)
        return {"accepted_batches": int(resp.accepted_batches), "accepted_records": int(resp.accepted_records)}

    # -- lookups -------------------------------------------------------------------------------------

    def lookup_dataset(self, dataset_name: str, project: Optional[str] = None) -> Optional[Doc]:
        """The dataset with the name, or None."""
        return self.lookup_entity(dataset_name, "datasets", project)

    def lookup_featureset(self, feature_set_name: str, project: Optional[str] = None) -> Optional[Doc]:
        """The featureset with the name, or None."""
        return self.lookup_entity(feature_set_name, "featuresets", project)

    def lookup_model(self, model_name: str, project: Optional[str] = None) -> Optional[Doc]:
        """The model with the name, or None."""
        return self.lookup_entity(model_name, "models", project)

    def lookup_entity(self, asset_name: str, asset_type: str, project: Optional[str] = None) -> Optional[Doc]:
        """The entity of a type (``"datasets"``, a custom type, ...) with the name, or None.

        Raises FailedPreconditionError (reason ``AMBIGUOUS_NAME``) when several projects have such an
        entity and no ``project`` was given.
        """
        req = tm.LookupEntityRequest(collection=asset_type, name=asset_name, project=project or "")
        try:
            return cv.entity_to_dict(self._tracking("LookupEntity", req).entity)
        except NotFoundError:
            return None

    def lookup_entity_by_id(self, entity_id: str) -> Optional[Doc]:
        """Any vertex or edge by its ``_id``, or None. Edges come with ``_from`` and ``_to``."""
        try:
            resp = self._tracking("GetEntity", tm.GetEntityRequest(id=entity_id))
        except NotFoundError:
            return None
        return cv.edge_to_dict(resp.edge) if resp.HasField("edge") else cv.entity_to_dict(resp.entity)

    def lookup_modelparams(self, tag_value: str) -> Optional[Doc]:
        """The model params of the most recently started run with the tag, or None."""
        run = self._run_by_tag(tag_value)
        return cv.entity_to_dict(run.model_params) if run is not None and run.HasField("model_params") else None

    def lookup_modelperf(self, tag_value: str) -> Optional[Doc]:
        """The dev performance of the most recently started run with the tag, or None."""
        run = self._run_by_tag(tag_value)
        return cv.entity_to_dict(run.dev_perf) if run is not None and run.HasField("dev_perf") else None

    def _run_by_tag(self, tag: str) -> Any:
        try:
            return self._tracking("GetRun", tm.GetRunRequest(tag=tag))
        except NotFoundError:
            return None

    def get_run(self, run_id: str) -> Optional[Doc]:
        """The run with its ``model-params`` and ``model-perf`` documents, or None."""
        try:
            return _run_view(self._tracking("GetRun", tm.GetRunRequest(run_id=run_id)))
        except NotFoundError:
            return None

    def get_deployment(self, dep_tag: str) -> Optional[Doc]:
        """The deployment with the tag, or None."""
        try:
            return cv.deployment_to_dict(
                self._tracking("GetDeployment", tm.GetDeploymentRequest(deployment_tag=dep_tag)).deployment)
        except NotFoundError:
            return None

    def find_entity(self, attrib_name: str, attrib_value: Any, asset_type: str) -> Optional[List[Doc]]:
        """The entities of a type whose attribute (a dotted path) equals the value; None when there are
        none, as in the seed. :meth:`find_entities` always returns a list and takes filters."""
        found = self.find_entities(attrib_name, attrib_value, asset_type)
        return found or None

    def find_entities(
        self,
        attrib_name: str,
        attrib_value: Any,
        asset_type: str,
        *,
        project: Optional[str] = None,
        filter: Optional[str] = None,
        order_by: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> List[Doc]:
        """Like :meth:`find_entity`, with a project, a filter-language ``filter``, an ``order_by`` and a
        ``limit``; pages through every match."""
        req = tm.FindEntitiesRequest(collection=asset_type, attribute=attrib_name,
                                     value=cv.to_value(attrib_value, "attrib_value"), project=project or "",
                                     page_size=min(limit or 1000, 1000), filter=filter or "",
                                     order_by=order_by or "")
        return [cv.entity_to_dict(e)
                for e in self.connection.pages("tracking", "FindEntities", req, "entities", limit=limit)]

    def list_entities(
        self,
        asset_type: str,
        *,
        project: Optional[str] = None,
        filter: Optional[str] = None,
        order_by: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> List[Doc]:
        """The entities of a vertex type, optionally of a project and matching a filter."""
        req = tm.ListEntitiesRequest(collection=asset_type, project=project or "",
                                     page_size=min(limit or 1000, 1000), filter=filter or "",
                                     order_by=order_by or "")
        return [cv.entity_to_dict(e)
                for e in self.connection.pages("tracking", "ListEntities", req, "entities", limit=limit)]

    # -- links and custom types ----------------------------------------------------------------------

    def link_entities(self, src_id: str, dest_id: str) -> Doc:
        """Appends ``dest_id`` to the source's ``related_<dest collection>`` list (once). Returns the
        source entity (the seed returned None and kept a comma-separated string)."""
        req = tm.LinkEntitiesRequest(from_id=cv.entity_ref(src_id, "", "src_id"),
                                     to_id=cv.entity_ref(dest_id, "", "dest_id"))
        return cv.entity_to_dict(self._tracking("LinkEntities", req).entity)

    def insert_into_vertex_type(self, vertex_type_name: str, document: Mapping[str, Any],
                                project: Optional[str] = None) -> Doc:
        """Inserts a document into a custom vertex type. Its ``_key`` and ``name``, when present, become the
        vertex's key and name; the same document again returns the stored one."""
        key = document.get("_key") if isinstance(document, Mapping) else None
        name = document.get("name") if isinstance(document, Mapping) else None
        req = tm.InsertVertexRequest(collection=vertex_type_name, key=str(key or ""),
                                     name=str(name) if name is not None else "", project=project or "",
                                     document=cv.to_struct(cv.user_document(document, "name")))
        return cv.entity_to_dict(self._tracking("InsertVertex", req).entity)

    def insert_into_edge_type(self, edge_name: str, from_vdoc: Union[str, Mapping[str, Any]],
                              to_vdoc: Union[str, Mapping[str, Any]],
                              document: Optional[Mapping[str, Any]] = None) -> Doc:
        """Inserts an edge of a custom edge type between two vertices (documents or ids). Returns the edge
        with ``_from`` and ``_to``; the same edge again returns the stored one."""
        req = tm.InsertEdgeRequest(collection=edge_name, from_id=cv.entity_ref(from_vdoc, "", "from_vdoc"),
                                   to_id=cv.entity_ref(to_vdoc, "", "to_vdoc"),
                                   document=cv.to_struct(cv.user_document(document)))
        return cv.edge_to_dict(self._tracking("InsertEdge", req).edge)

    # -- queries across the pipeline -----------------------------------------------------------------

    def search_runs(
        self,
        project: Optional[str] = None,
        filter: Optional[str] = None,
        *,
        order_by: Optional[str] = None,
        limit: Optional[int] = None,
        page_size: int = 500,
    ) -> Iterator[Doc]:
        """Yields runs with everything they link to, as dicts with keys ``run``, ``model-params``,
        ``model-perf``, ``dataset``, ``featureset`` and ``model``; pages through SearchRuns.

        ``filter`` is the server's filter language over the run and its links, e.g.
        ``"devperf.rmse < 0.3 AND modelparams.alpha >= 0.001 AND dataset.name = 'housing'"``.
        """
        req = lm.SearchRunsRequest(project=project or "", filter=filter or "", order_by=order_by or "",
                                   page_size=min(page_size, limit or page_size, 1000))
        for record in self.connection.pages("lineage", "SearchRuns", req, "runs", limit=limit):
            yield _record_to_dict(record)

    def runs_dataframe(
        self,
        project: Optional[str] = None,
        filter: Optional[str] = None,
        *,
        order_by: Optional[str] = None,
        limit: Optional[int] = None,
        page_size: int = 1000,
    ) -> Any:
        """The runs matching a filter as a pandas DataFrame, one row per run.

        Columns: the run's fields (``run_id``, ``project``, ``tag``, ``deployment_tag``, ``status``,
        ``start_time``, ``end_time``) and properties, then ``dataset.*``, ``featureset.*``, ``model.*``
        (``.id``, ``.name`` and attributes), ``modelparams.*`` and ``devperf.*`` — the same names the filter
        language uses, nested attributes flattened with dots. Needs pandas (``pip install
        arangopipe-client[pandas]``).
        """
        from .frames import runs_to_dataframe

        req = lm.SearchRunsRequest(project=project or "", filter=filter or "", order_by=order_by or "",
                                   page_size=min(page_size, limit or page_size, 1000))
        return runs_to_dataframe(self.connection.pages("lineage", "SearchRuns", req, "runs", limit=limit))

    def aggregate_runs(
        self,
        aggregates: Sequence[Union[str, Tuple[str, str]]],
        *,
        group_by: Sequence[Union[str, Tuple[str, str]]] = (),
        project: Optional[str] = None,
        filter: Optional[str] = None,
        order_by_aggregate: int = 0,
        descending: bool = False,
        limit: int = 0,
    ) -> List[Doc]:
        """Groups runs and computes aggregates server-side; returns one dict per group.

        ``aggregates``: ``"count"`` or ``(function, field)`` pairs such as ``("mean", "devperf.rmse")``
        (functions: count, count_distinct, min, max, mean, sum, stddev). ``group_by``: field paths, or
        ``(field, "day"|"month"|"year")`` to bucket times, or ``("if", condition)`` for a condition.
        """
        req = lm.AggregateRunsRequest(project=project or "", filter=filter or "",
                                      order_by_aggregate=order_by_aggregate, descending=descending,
                                      limit=limit)
        req.group_by.extend(_group_by(g) for g in group_by)
        req.aggregates.extend(_aggregate(a) for a in aggregates)
        return _aggregate_rows(self._lineage("AggregateRuns", req))

    def aggregate_entities(
        self,
        asset_type: str,
        aggregates: Sequence[Union[str, Tuple[str, str]]],
        *,
        group_by: Sequence[Union[str, Tuple[str, str]]] = (),
        project: Optional[str] = None,
        filter: Optional[str] = None,
        order_by_aggregate: int = 0,
        descending: bool = False,
        limit: int = 0,
    ) -> List[Doc]:
        """:meth:`aggregate_runs` over the entities of one vertex type."""
        req = lm.AggregateEntitiesRequest(collection=asset_type, project=project or "", filter=filter or "",
                                          order_by_aggregate=order_by_aggregate, descending=descending,
                                          limit=limit)
        req.group_by.extend(_group_by(g) for g in group_by)
        req.aggregates.extend(_aggregate(a) for a in aggregates)
        return _aggregate_rows(self._lineage("AggregateEntities", req))

    def get_lineage(
        self,
        start: Union[str, Mapping[str, Any], Sequence[Union[str, Mapping[str, Any]]], None] = None,
        *,
        direction: str = "both",
        max_depth: int = 0,
        max_nodes: int = 0,
        start_collection: Optional[str] = None,
        start_filter: Optional[str] = None,
        vertex_types: Sequence[str] = (),
        edge_types: Sequence[str] = (),
        ids_only: bool = False,
    ) -> Lineage:
        """The subgraph upstream (what it came from), downstream (what came from it) or both of one or
        more entities (ids or documents), or of the entities of ``start_collection`` matching
        ``start_filter``. Returns a dict ``{"nodes": [...], "edges": [...], "truncated": bool}`` whose
        ``to_networkx()`` makes a ``networkx.MultiDiGraph``.
        """
        req = lm.GetLineageRequest(direction=_enum(res.LineageDirection, "LINEAGE_DIRECTION_", direction,
                                                   "direction"),
                                   max_depth=max_depth, max_nodes=max_nodes, start_collection=start_collection or "",
                                   start_filter=start_filter or "", vertex_types=list(vertex_types),
                                   edge_types=list(edge_types), ids_only=ids_only)
        if start is not None:
            starts = [start] if isinstance(start, (str, Mapping)) else list(start)
            ids = [cv.entity_ref(s, "", "start") for s in starts]
            if len(ids) == 1:
                req.start_id = ids[0]
            else:
                req.start_ids.extend(ids)
        resp = self._lineage("GetLineage", req)
        return Lineage(nodes=[cv.entity_to_dict(n) for n in resp.nodes],
                       edges=[cv.edge_to_dict(e) for e in resp.edges], truncated=resp.truncated)

    def get_impact(self, entity: Union[str, Mapping[str, Any]]) -> Doc:
        """Every deployment downstream of an entity, with its latest serving performance:
        ``{"deployments": [{"deployment", "latest_serving_perf", "distance"}], "truncated": bool}``."""
        resp = self._lineage("GetImpact", lm.GetImpactRequest(entity_id=cv.entity_ref(entity, "", "entity")))
        return {
            "deployments": [{
                "deployment": cv.deployment_to_dict(d.deployment),
                "latest_serving_perf": (cv.entity_to_dict(d.latest_serving_perf)
                                        if d.HasField("latest_serving_perf") else None),
                "distance": d.distance,
            } for d in resp.deployments],
            "truncated": resp.truncated,
        }

    def get_run_recipe(self, run_id: str) -> Doc:
        """Everything needed to redo a run: ``run``, ``model-params``, ``model-perf``, ``dataset``,
        ``featureset``, ``featureset_dataset``, ``model`` and ``project`` (None where absent)."""
        r = self._lineage("GetRunRecipe", lm.GetRunRecipeRequest(run_id=run_id))
        return {
            "run": cv.run_to_dict(r.run),
            "model-params": _opt_entity(r, "model_params"),
            "model-perf": _opt_entity(r, "dev_perf"),
            "dataset": _opt_entity(r, "dataset"),
            "featureset": _opt_entity(r, "featureset"),
            "featureset_dataset": _opt_entity(r, "featureset_dataset"),
            "model": _opt_entity(r, "model"),
            "project": cv.project_to_dict(r.project) if r.HasField("project") else None,
        }

    def compare_serving_to_dev(self, project: Optional[str] = None, dep_tag: Optional[str] = None,
                               max_points: int = 0) -> List[Doc]:
        """Per deployment, its serving measurements (oldest first) beside the dev performance of its run:
        ``[{"deployment", "model-perf", "serving_perf": [...]}]``."""
        req = lm.CompareServingToDevRequest(project=project or "", deployment_tag=dep_tag or "",
                                            max_points=max_points)
        return [{
            "deployment": cv.deployment_to_dict(d.deployment),
            "model-perf": cv.entity_to_dict(d.dev_perf) if d.HasField("dev_perf") else None,
            "serving_perf": [cv.entity_to_dict(s) for s in d.serving_perf],
        } for d in self._lineage("CompareServingToDev", req).deployments]

    def get_history(self, entity: Union[str, Mapping[str, Any]], limit: Optional[int] = None) -> List[Doc]:
        """Who created an entity and when, then each change: ``[{"time", "actor", "action", "changes"}]``."""
        req = lm.GetHistoryRequest(id=cv.entity_ref(entity, "", "entity"), page_size=min(limit or 1000, 1000))
        return [{
            "time": cv.timestamp_to_iso(e.time) if e.HasField("time") else None,
            "actor": e.actor,
            "action": e.action,
            "changes": cv.from_struct(e.changes),
        } for e in self.connection.pages("lineage", "GetHistory", req, "events", limit=limit)]


# ---- helpers -------------------------------------------------------------------------------------


def _required_name(doc: Mapping[str, Any], what: str) -> str:
    if not isinstance(doc, Mapping):
        raise TypeError(f"the {what} info must be a dict with a 'name', got {type(doc).__name__}")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"the {what} info needs a 'name' (a non-empty string)")
    return name


def _opt_entity(msg: Any, field: str) -> Optional[Doc]:
    return cv.entity_to_dict(getattr(msg, field)) if msg.HasField(field) else None


def _run_view(resp: Any) -> Doc:
    """A LogRun/GetRun response as the run dict with its params and performance attached."""
    d = cv.run_to_dict(resp.run)
    d["model-params"] = _opt_entity(resp, "model_params")
    d["model-perf"] = _opt_entity(resp, "dev_perf")
    return d


def _record_to_dict(r: Any) -> Doc:
    return {
        "run": cv.run_to_dict(r.run),
        "model-params": _opt_entity(r, "model_params"),
        "model-perf": _opt_entity(r, "dev_perf"),
        "dataset": _opt_entity(r, "dataset"),
        "featureset": _opt_entity(r, "featureset"),
        "model": _opt_entity(r, "model"),
    }


_BUCKETS: Dict[str, Any] = {"": lm.TIME_BUCKET_UNSPECIFIED, "day": lm.TIME_BUCKET_DAY,
                             "month": lm.TIME_BUCKET_MONTH, "year": lm.TIME_BUCKET_YEAR}


def _group_by(g: Union[str, Tuple[str, str]]) -> Any:
    if isinstance(g, str):
        return lm.GroupBy(field=g)
    first, second = g
    if first == "if":
        return lm.GroupBy(condition=second)
    if second not in _BUCKETS:
        raise ValueError(f"group_by {g!r}: the time bucket is one of day, month, year")
    return lm.GroupBy(field=first, time_bucket=_BUCKETS[second])


def _aggregate(a: Union[str, Tuple[str, str]]) -> Any:
    if isinstance(a, str):
        function, field = a, ""
    else:
        function, field = a
    return lm.Aggregate(function=_enum(lm.AggregateFunction, "AGGREGATE_FUNCTION_", function, "aggregate"),
                        field=field)


def _aggregate_rows(resp: Any) -> List[Doc]:
    rows = []
    for row in resp.rows:
        d: Doc = {}
        for name, value in zip(resp.group_columns, row.group_values):
            d[name] = cv.from_value(value)
        for name, value in zip(resp.aggregate_columns, row.values):
            d[name] = cv.from_value(value)
        rows.append(d)
    return rows
