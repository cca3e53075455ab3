#!/usr/bin/env bash
# End-to-end smoke test: the real server jar, driven by the real grpcurl over a
# real socket, with server reflection only (no .proto files).
#
# Starts server/target/arangopipe-server.jar on a free port with a fresh data
# folder, then: lists the services; checks health; runs the whole tracking
# workflow (projects, datasets, featuresets, models, runs, deployments, serving
# performance, streamed serving performance, look-ups, finds, paged lists,
# links, custom types, lineage, run search, aggregates, run recipe, impact,
# serving vs dev, history);
# checks error statuses; restarts the server on the same data folder and reads
# the data back. Asserts on the values that come back, not only exit codes.
#
# Usage: scripts/grpcurl-smoke.sh
# Env:   ARANGOPIPE_JAR (default server/target/arangopipe-server.jar),
#        GRPCURL (default .tools/bin/grpcurl, else grpcurl on PATH),
#        KEEP_SMOKE_DIR=1 keeps the temporary folder (data and server log).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/arangopipe-smoke.XXXXXX")"
CHECKS=0
OUT=""
ERR=""

cleanup() {
  local rc=$?
  stop_server TERM || true
  if ((rc != 0)) && [[ -n "$SERVER_LOG" && -f "$SERVER_LOG" ]]; then
    echo "--- server log (last 40 lines) ---" >&2
    tail -n 40 "$SERVER_LOG" | sed 's/^/    /' >&2
  fi
  if [[ "${KEEP_SMOKE_DIR:-}" == 1 ]]; then
    echo "kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '==> %s\n' "$*"; }

fail() {
  printf 'FAIL: %s\n' "$*" >&2
  [[ -n "$OUT" ]] && printf -- '--- last response ---\n%s\n' "$OUT" >&2
  [[ -n "$ERR" ]] && printf -- '--- last error output ---\n%s\n' "$ERR" >&2
  exit 1
}

ok() {
  CHECKS=$((CHECKS + 1))
  printf '    ok  %s\n' "$*"
}

# rpc METHOD JSON: calls Service/Method with a JSON body; the response is in
# $OUT. Fails the test when the call fails.
rpc() {
  local method="$1" body="$2" rc=0
  OUT="$("$GRPCURL" -plaintext -max-time 30 -d "$body" "$ADDR" "arangopipe.v1.$method" 2>"$WORK/err")" || rc=$?
  ERR="$(cat "$WORK/err")"
  ((rc == 0)) || fail "$method failed (grpcurl exit $rc) for request $body"
}

# rpc_error METHOD JSON CODE: calls Service/Method and expects the gRPC status
# CODE (grpcurl's spelling, e.g. InvalidArgument); the error text is in $ERR.
rpc_error() {
  local method="$1" body="$2" code="$3" rc=0
  OUT="$("$GRPCURL" -plaintext -max-time 30 -d "$body" "$ADDR" "arangopipe.v1.$method" 2>"$WORK/err")" || rc=$?
  ERR="$(cat "$WORK/err")"
  ((rc != 0)) || fail "$method should have failed with $code for request $body"
  grep -q "Code: $code\$" <<<"$ERR" || fail "$method: expected Code: $code"
  ok "$method $body -> $code"
}

get() { json_get "$1" <<<"$OUT"; }

# count PATH: the length of the list at PATH (0 when grpcurl left it out).
count() {
  local n
  n="$(json_get "$1.#" <<<"$OUT")"
  echo "${n:-0}"
}

expect_eq() { # ACTUAL EXPECTED WHAT
  [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"
  ok "$3 = $2"
}

expect_prefix() { # ACTUAL PREFIX WHAT
  [[ "$1" == "$2"* ]] || fail "$3: expected something starting with '$2', got '$1'"
  ok "$3 = $1"
}

expect_num() { # ACTUAL EXPECTED WHAT  (numbers compared as numbers)
  python3 -c 'import sys; sys.exit(0 if sys.argv[1] and float(sys.argv[1]) == float(sys.argv[2]) else 1)' "$1" "$2" \
    || fail "$3: expected $2, got '$1'"
  ok "$3 = $2"
}

expect_line() { # LINES LINE WHAT: LINE is one of the lines of LINES
  grep -qxF -- "$2" <<<"$1" || fail "$3: '$2' not in [$(tr '\n' ' ' <<<"$1")]"
  ok "$3 contains $2"
}

expect_no_line() { # LINES LINE WHAT
  if grep -qxF -- "$2" <<<"$1"; then fail "$3: '$2' should not be there"; fi
  ok "$3 does not contain $2"
}

find_grpcurl
command -v java >/dev/null || fail "java is not on PATH"
say "using $GRPCURL and $JAR"

say "starting the server on a free port (data in $WORK/server/data)"
start_server "$WORK/server"
say "server is serving on $ADDR (pid $SERVER_PID)"
grep -q "serving on 127.0.0.1:$PORT" "$SERVER_LOG" || fail "the log does not say 'serving on 127.0.0.1:$PORT'"
ok "log line 'serving on 127.0.0.1:$PORT'"

# ---------------------------------------------------------------------------
say "reflection: list services"
SERVICES="$("$GRPCURL" -plaintext "$ADDR" list)"
printf '%s\n' "$SERVICES" | sed 's/^/    | /'
for s in arangopipe.v1.AdminService arangopipe.v1.TrackingService arangopipe.v1.LineageService grpc.health.v1.Health; do
  expect_line "$SERVICES" "$s" "services"
done

say "reflection: describe a method and a message (no .proto files at hand)"
DESC="$("$GRPCURL" -plaintext "$ADDR" describe arangopipe.v1.TrackingService.LogRun)"
grep -q "rpc LogRun ( .arangopipe.v1.LogRunRequest ) returns ( .arangopipe.v1.LogRunResponse )" <<<"$DESC" \
  || fail "describe LogRun: unexpected output: $DESC"
ok "describe arangopipe.v1.TrackingService.LogRun"
DESC="$("$GRPCURL" -plaintext "$ADDR" describe arangopipe.v1.LogRunRequest)"
grep -q "google.protobuf.Struct model_params = 11;" <<<"$DESC" || fail "describe LogRunRequest: unexpected output: $DESC"
ok "describe arangopipe.v1.LogRunRequest"

say "health: grpc.health.v1.Health/Check"
for s in "" arangopipe.v1.AdminService arangopipe.v1.TrackingService arangopipe.v1.LineageService; do
  OUT="$("$GRPCURL" -plaintext -d "{\"service\": \"$s\"}" "$ADDR" grpc.health.v1.Health/Check)" \
    || fail "health check of '$s' failed"
  expect_eq "$(get status)" SERVING "health of '${s}'"
done

# ---------------------------------------------------------------------------
say "AdminService: projects"
rpc AdminService/CreateProject '{"name": "housing", "properties": {"team": "pricing", "task": "regression"}}'
PROJECT_ID="$(get project.id)"
expect_prefix "$PROJECT_ID" "project/" "CreateProject id"
expect_eq "$(get project.name)" housing "CreateProject name"
expect_eq "$(get project.properties.team)" pricing "CreateProject properties.team"
rpc AdminService/CreateProject '{"name": "housing", "properties": {"team": "pricing", "task": "regression"}}'
expect_eq "$(get project.id)" "$PROJECT_ID" "CreateProject again with equal properties returns the same project"
rpc AdminService/CreateProject '{"name": "churn"}'
rpc AdminService/GetProject '{"name": "housing"}'
expect_eq "$(get project.id)" "$PROJECT_ID" "GetProject id"
rpc AdminService/ListProjects '{}'
expect_eq "$(get 'projects.*.name' | paste -sd, -)" "churn,housing" "ListProjects names (name order)"

say "TrackingService: datasets, featuresets, models"
rpc TrackingService/RegisterDataset '{
  "name": "housing-2024", "project": "housing",
  "document": {"source": "s3://ml-data/housing/2024.parquet", "format": "parquet",
               "stats": {"rows": 20640, "columns": 9}, "target": "median_house_value"}}'
DATASET_ID="$(get dataset.id)"
expect_prefix "$DATASET_ID" "datasets/" "RegisterDataset id"
expect_eq "$(get dataset.name)" housing-2024 "RegisterDataset name"
expect_eq "$(get dataset.project)" housing "RegisterDataset project"
expect_num "$(get dataset.document.stats.rows)" 20640 "RegisterDataset document.stats.rows"

rpc TrackingService/RegisterDataset '{
  "name": "housing-2024", "project": "housing",
  "document": {"source": "s3://ml-data/housing/2024.parquet", "format": "parquet",
               "stats": {"rows": 20640, "columns": 9}, "target": "median_house_value"}}'
expect_eq "$(get dataset.id)" "$DATASET_ID" "RegisterDataset again with an equal document returns the same id"

rpc_error TrackingService/RegisterDataset '{"name": "housing-2024", "project": "housing", "document": {"source": "elsewhere"}}' AlreadyExists
grep -qF "$DATASET_ID" <<<"$ERR" || fail "ALREADY_EXISTS should carry the existing id $DATASET_ID"
ok "ALREADY_EXISTS names the existing id $DATASET_ID"
expect_eq "$(error_info reason <<<"$ERR")" ALREADY_EXISTS "ALREADY_EXISTS ErrorInfo reason"
expect_eq "$(error_info existing_id <<<"$ERR")" "$DATASET_ID" "ALREADY_EXISTS ErrorInfo metadata existing_id"

for year in 2023 2022; do
  rpc TrackingService/RegisterDataset "{\"name\": \"housing-$year\", \"project\": \"housing\", \"document\": {\"stats\": {\"rows\": $((20000 + year))}}}"
done
OLD_DATASET_ID="$(get dataset.id)"

rpc TrackingService/RegisterFeatureset "{
  \"name\": \"housing-log-features\", \"project\": \"housing\", \"dataset_id\": \"$DATASET_ID\",
  \"document\": {\"transform\": \"log1p\", \"features\": [\"median_income\", \"house_age\", \"ave_rooms\"]}}"
FEATURESET_ID="$(get featureset.id)"
expect_prefix "$FEATURESET_ID" "featuresets/" "RegisterFeatureset id"
expect_eq "$(get featureset.document.transform)" log1p "RegisterFeatureset document.transform"

rpc TrackingService/RegisterModel '{
  "name": "lasso-v1", "project": "housing",
  "document": {"type": "regression", "framework": "scikit-learn", "estimator": "Lasso"}}'
MODEL_ID="$(get model.id)"
expect_prefix "$MODEL_ID" "models/" "RegisterModel id"
expect_eq "$(get model.document.estimator)" Lasso "RegisterModel document.estimator"

say "TrackingService: runs"
rpc TrackingService/LogRun "{
  \"run_id\": \"lasso-v1-run-1\", \"project\": \"housing\",
  \"tag\": \"housing-lasso\", \"deployment_tag\": \"housing-lasso-prod\",
  \"start_time\": \"2024-06-01T10:00:00Z\", \"end_time\": \"2024-06-01T10:04:30Z\",
  \"status\": \"RUN_STATUS_COMPLETED\",
  \"model_id\": \"$MODEL_ID\", \"dataset_id\": \"$DATASET_ID\", \"featureset_id\": \"$FEATURESET_ID\",
  \"model_params\": {\"alpha\": 0.001, \"max_iter\": 1000},
  \"dev_perf\": {\"rmse\": 0.31, \"r2\": 0.81},
  \"properties\": {\"git_commit\": \"4f2a9c1\"}}"
RUN_ID="$(get run.id)"
expect_eq "$RUN_ID" "run/lasso-v1-run-1" "LogRun run.id"
expect_eq "$(get run.runId)" lasso-v1-run-1 "LogRun run.run_id"
expect_eq "$(get run.status)" RUN_STATUS_COMPLETED "LogRun run.status"
expect_eq "$(get run.modelId)" "$MODEL_ID" "LogRun run.model_id"
expect_eq "$(get run.datasetId)" "$DATASET_ID" "LogRun run.dataset_id"
expect_eq "$(get run.featuresetId)" "$FEATURESET_ID" "LogRun run.featureset_id"
expect_eq "$(get run.startTime)" "2024-06-01T10:00:00Z" "LogRun run.start_time"
expect_eq "$(get run.properties.git_commit)" 4f2a9c1 "LogRun run.properties.git_commit"
PARAMS_ID="$(get modelParams.id)"
DEVPERF_ID="$(get devPerf.id)"
expect_prefix "$PARAMS_ID" "modelparams/" "LogRun model_params.id"
expect_prefix "$DEVPERF_ID" "devperf/" "LogRun dev_perf.id"
expect_eq "$(get run.modelParamsId)" "$PARAMS_ID" "LogRun run.model_params_id"
expect_eq "$(get run.devPerfId)" "$DEVPERF_ID" "LogRun run.dev_perf_id"
expect_num "$(get modelParams.document.alpha)" 0.001 "LogRun model_params.alpha"
expect_num "$(get devPerf.document.rmse)" 0.31 "LogRun dev_perf.rmse"

rpc TrackingService/LogRun "{
  \"run_id\": \"lasso-v1-run-2\", \"project\": \"housing\", \"tag\": \"housing-lasso\",
  \"start_time\": \"2024-06-02T09:00:00Z\", \"end_time\": \"2024-06-02T09:05:10Z\",
  \"model_id\": \"$MODEL_ID\", \"dataset_id\": \"$DATASET_ID\", \"featureset_id\": \"$FEATURESET_ID\",
  \"model_params\": {\"alpha\": 0.0005, \"max_iter\": 2000},
  \"dev_perf\": {\"rmse\": 0.29, \"r2\": 0.83}}"
expect_eq "$(get run.status)" RUN_STATUS_COMPLETED "LogRun without status defaults to"

say "AdminService: deployments; TrackingService: serving performance"
rpc AdminService/RegisterDeployment '{"deployment_tag": "housing-lasso-prod", "properties": {"endpoint": "https://ml.example.com/housing"}}'
DEPLOYMENT_ID="$(get deployment.id)"
expect_prefix "$DEPLOYMENT_ID" "deployment/" "RegisterDeployment id"
expect_eq "$(get deployment.tag)" housing-lasso-prod "RegisterDeployment tag"
expect_eq "$(get deployment.status)" DEPLOYMENT_STATUS_SCHEDULED "RegisterDeployment status"
expect_eq "$(get deployment.runId)" "$RUN_ID" "RegisterDeployment run_id"
expect_eq "$(get deployment.modelId)" "$MODEL_ID" "RegisterDeployment model_id"
expect_eq "$(get deployment.modelParamsId)" "$PARAMS_ID" "RegisterDeployment model_params_id"
expect_eq "$(get deployment.featuresetId)" "$FEATURESET_ID" "RegisterDeployment featureset_id"
expect_eq "$(get deployment.project)" housing "RegisterDeployment project"

rpc AdminService/UpdateDeploymentStatus '{"deployment_tag": "housing-lasso-prod", "status": "DEPLOYMENT_STATUS_ACTIVE"}'
expect_eq "$(get deployment.status)" DEPLOYMENT_STATUS_ACTIVE "UpdateDeploymentStatus status"

rpc TrackingService/LogServingPerf '{
  "deployment_tag": "housing-lasso-prod", "time": "2024-06-03T12:00:00Z",
  "metrics": {"rmse": 0.33, "requests": 1200, "p99_latency_ms": 41.5},
  "request_id": "perf-2024-06-03T12"}'
SERVINGPERF_ID="$(get servingPerf.id)"
expect_prefix "$SERVINGPERF_ID" "servingperf/" "LogServingPerf id"
expect_num "$(get servingPerf.document.requests)" 1200 "LogServingPerf document.requests"
rpc TrackingService/LogServingPerf '{
  "deployment_tag": "housing-lasso-prod", "time": "2024-06-03T12:00:00Z",
  "metrics": {"rmse": 0.33, "requests": 1200, "p99_latency_ms": 41.5},
  "request_id": "perf-2024-06-03T12"}'
expect_eq "$(get servingPerf.id)" "$SERVINGPERF_ID" "LogServingPerf retried with the same request_id returns the first result"
rpc TrackingService/ListEntities '{"collection": "servingperf"}'
expect_eq "$(count entities)" 1 "servingperf documents after the retry"

rpc TrackingService/GetDeployment '{"deployment_tag": "housing-lasso-prod"}'
expect_eq "$(get deployment.id)" "$DEPLOYMENT_ID" "GetDeployment id"
expect_eq "$(get deployment.status)" DEPLOYMENT_STATUS_ACTIVE "GetDeployment status"

# ---------------------------------------------------------------------------
say "TrackingService: look-ups"
rpc TrackingService/LookupEntity '{"collection": "datasets", "name": "housing-2024"}'
expect_eq "$(get entity.id)" "$DATASET_ID" "LookupEntity datasets/housing-2024"
rpc TrackingService/LookupEntity '{"collection": "featuresets", "name": "housing-log-features", "project": "housing"}'
expect_eq "$(get entity.id)" "$FEATURESET_ID" "LookupEntity featuresets/housing-log-features"
rpc TrackingService/LookupEntity '{"collection": "models", "name": "lasso-v1"}'
expect_eq "$(get entity.id)" "$MODEL_ID" "LookupEntity models/lasso-v1"

rpc TrackingService/GetRun '{"tag": "housing-lasso"}'
expect_eq "$(get run.runId)" lasso-v1-run-2 "GetRun by tag returns the latest run"
expect_num "$(get modelParams.document.alpha)" 0.0005 "GetRun by tag: model_params.alpha"
expect_num "$(get devPerf.document.rmse)" 0.29 "GetRun by tag: dev_perf.rmse"
rpc TrackingService/GetRun '{"run_id": "lasso-v1-run-1"}'
expect_eq "$(get run.id)" "$RUN_ID" "GetRun by run_id"
expect_num "$(get devPerf.document.r2)" 0.81 "GetRun by run_id: dev_perf.r2"

rpc TrackingService/GetEntity "{\"id\": \"$DATASET_ID\"}"
expect_eq "$(get entity.name)" housing-2024 "GetEntity name"
expect_eq "$(get entity.document.format)" parquet "GetEntity document.format"
rpc TrackingService/GetEntity "{\"id\": \"$PARAMS_ID\"}"
expect_num "$(get entity.document.max_iter)" 1000 "GetEntity modelparams max_iter"

say "TrackingService: find and list"
rpc TrackingService/FindEntities '{"collection": "modelparams", "attribute": "alpha", "value": 0.001}'
expect_eq "$(count entities)" 1 "FindEntities modelparams alpha=0.001: count"
expect_eq "$(get entities.0.id)" "$PARAMS_ID" "FindEntities modelparams alpha=0.001: id"
rpc TrackingService/FindEntities '{"collection": "datasets", "attribute": "stats.rows", "value": 20640}'
expect_eq "$(get 'entities.*.id')" "$DATASET_ID" "FindEntities datasets stats.rows=20640 (nested attribute)"
rpc TrackingService/FindEntities '{"collection": "datasets", "attribute": "project", "value": "housing", "page_size": 2}'
expect_eq "$(count entities)" 2 "FindEntities datasets project=housing, page of 2"
TOKEN="$(get nextPageToken)"
[[ -n "$TOKEN" ]] || fail "FindEntities: expected a next_page_token"
rpc TrackingService/FindEntities "{\"collection\": \"datasets\", \"attribute\": \"project\", \"value\": \"housing\", \"page_size\": 2, \"page_token\": \"$TOKEN\"}"
expect_eq "$(count entities)" 1 "FindEntities second page"

PAGE_IDS=""
TOKEN=""
PAGES=0
while :; do
  rpc TrackingService/ListEntities "{\"collection\": \"datasets\", \"page_size\": 2, \"page_token\": \"$TOKEN\"}"
  PAGES=$((PAGES + 1))
  PAGE_IDS+="$(get 'entities.*.id')"$'\n'
  TOKEN="$(get nextPageToken)"
  [[ -n "$TOKEN" ]] || break
  ((PAGES < 10)) || fail "ListEntities: more pages than there are datasets"
done
expect_eq "$PAGES" 2 "ListEntities datasets, page_size 2: pages"
expect_eq "$(grep -c . <<<"$PAGE_IDS")" 3 "ListEntities datasets: entities over all pages"
expect_eq "$(grep . <<<"$PAGE_IDS" | sort -u | wc -l | tr -d ' ')" 3 "ListEntities datasets: distinct entities"
expect_line "$PAGE_IDS" "$DATASET_ID" "ListEntities datasets"
rpc TrackingService/ListEntities '{"collection": "run", "project": "housing"}'
expect_eq "$(count entities)" 2 "ListEntities run project=housing"

say "TrackingService: links"
rpc TrackingService/LinkEntities "{\"from_id\": \"$DATASET_ID\", \"to_id\": \"$OLD_DATASET_ID\"}"
expect_eq "$(get entity.id)" "$DATASET_ID" "LinkEntities returns the from entity"
expect_eq "$(get 'entity.document.related_datasets.*')" "$OLD_DATASET_ID" "LinkEntities related_datasets"
rpc TrackingService/LinkEntities "{\"from_id\": \"$DATASET_ID\", \"to_id\": \"$OLD_DATASET_ID\"}"
expect_eq "$(get 'entity.document.related_datasets.*')" "$OLD_DATASET_ID" "LinkEntities again links once"

say "AdminService + TrackingService: custom vertex and edge types"
rpc AdminService/AddVertexType '{"name": "experiments"}'
expect_eq "$(get type.name)" experiments "AddVertexType name"
expect_eq "$(get type.kind)" TYPE_KIND_VERTEX "AddVertexType kind"
rpc TrackingService/InsertVertex '{
  "collection": "experiments", "name": "alpha-sweep", "project": "housing",
  "document": {"hypothesis": "a smaller alpha lowers rmse", "alphas": [0.01, 0.001, 0.0005]}}'
EXPERIMENT_ID="$(get entity.id)"
expect_prefix "$EXPERIMENT_ID" "experiments/" "InsertVertex id"
rpc AdminService/AddEdgeType '{"name": "experiment_runs", "from_types": ["experiments"], "to_types": ["run"]}'
expect_eq "$(get type.kind)" TYPE_KIND_EDGE "AddEdgeType kind"
expect_eq "$(get 'type.fromTypes.*')" experiments "AddEdgeType from_types"
rpc TrackingService/InsertEdge "{\"collection\": \"experiment_runs\", \"from_id\": \"$EXPERIMENT_ID\", \"to_id\": \"$RUN_ID\", \"document\": {\"role\": \"baseline\"}}"
EDGE_ID="$(get edge.id)"
expect_prefix "$EDGE_ID" "experiment_runs/" "InsertEdge id"
expect_eq "$(get edge.fromId)" "$EXPERIMENT_ID" "InsertEdge from_id"
rpc TrackingService/GetEntity "{\"id\": \"$EDGE_ID\"}"
expect_eq "$(get edge.toId)" "$RUN_ID" "GetEntity of an edge: to_id"
expect_eq "$(get edge.document.role)" baseline "GetEntity of an edge: document.role"
rpc AdminService/GetType '{"name": "experiments"}'
expect_eq "$(get type.documentCount)" 1 "GetType experiments document_count"
rpc_error AdminService/RemoveEdgeType '{"name": "experiment_runs"}' FailedPrecondition
expect_eq "$(error_info reason <<<"$ERR")" TYPE_NOT_EMPTY "RemoveEdgeType without purge: ErrorInfo reason"
rpc AdminService/RemoveEdgeType '{"name": "experiment_runs", "purge": true}'
expect_eq "$(get deletedCount)" 1 "RemoveEdgeType with purge: deleted_count"
rpc AdminService/RemoveVertexType '{"name": "experiments", "purge": true}'
expect_eq "$(get deletedCount)" 1 "RemoveVertexType with purge: deleted_count"
rpc_error AdminService/GetType '{"name": "experiments"}' NotFound
rpc_error TrackingService/GetEntity "{\"id\": \"$EXPERIMENT_ID\"}" NotFound

say "LineageService: GetLineage"
rpc LineageService/GetLineage "{\"start_id\": \"$DATASET_ID\", \"direction\": \"LINEAGE_DIRECTION_DOWNSTREAM\", \"max_depth\": 5}"
NODES="$(get 'nodes.*.id')"
expect_eq "$(head -n1 <<<"$NODES")" "$DATASET_ID" "GetLineage downstream of the dataset: first node is the start"
for id in "$FEATURESET_ID" "$RUN_ID" run/lasso-v1-run-2 "$MODEL_ID" "$DEVPERF_ID" "$DEPLOYMENT_ID" "$SERVINGPERF_ID"; do
  expect_line "$NODES" "$id" "GetLineage downstream of the dataset"
done
expect_no_line "$NODES" "$PROJECT_ID" "GetLineage downstream of the dataset"
EDGES="$(get 'edges.*.collection' | sort -u)"
for c in featureset_dataset run_datasets run_models deployment_model deployment_servingperf; do
  expect_line "$EDGES" "$c" "GetLineage downstream edge types"
done
[[ "$(get truncated)" != true ]] || fail "GetLineage should not be truncated"
ok "GetLineage not truncated"

rpc LineageService/GetLineage "{\"start_id\": \"$DEPLOYMENT_ID\", \"direction\": \"LINEAGE_DIRECTION_UPSTREAM\"}"
NODES="$(get 'nodes.*.id')"
for id in "$MODEL_ID" "$PARAMS_ID" "$FEATURESET_ID" "$RUN_ID" "$DATASET_ID"; do
  expect_line "$NODES" "$id" "GetLineage upstream of the deployment"
done
expect_no_line "$NODES" "$SERVINGPERF_ID" "GetLineage upstream of the deployment"

rpc LineageService/GetLineage "{\"start_id\": \"$DATASET_ID\", \"direction\": \"LINEAGE_DIRECTION_DOWNSTREAM\", \"max_depth\": 1}"
NODES="$(get 'nodes.*.id')"
expect_line "$NODES" "$FEATURESET_ID" "GetLineage max_depth 1"
expect_no_line "$NODES" "$MODEL_ID" "GetLineage max_depth 1"

say "LineageService: search, aggregates, recipe, impact, serving vs dev, history"
rpc LineageService/SearchRuns "{\"project\": \"housing\", \"filter\": \"devperf.rmse < 0.35 AND model.name = 'lasso-v1' AND dataset.name LIKE 'housing-%'\", \"order_by\": \"devperf.rmse\"}"
expect_eq "$(get 'runs.*.run.runId' | paste -sd, -)" "lasso-v1-run-2,lasso-v1-run-1" "SearchRuns ordered by devperf.rmse"
expect_num "$(get runs.0.modelParams.document.alpha)" 0.0005 "SearchRuns best run's alpha"
rpc LineageService/SearchRuns "{\"filter\": \"devperf.rmse < 0.3\"}"
expect_eq "$(get 'runs.*.run.runId')" lasso-v1-run-2 "SearchRuns devperf.rmse < 0.3"
rpc LineageService/AggregateRuns '{"project": "housing", "group_by": [{"field": "model.estimator"}],
  "aggregates": [{"function": "AGGREGATE_FUNCTION_COUNT"}, {"function": "AGGREGATE_FUNCTION_MIN", "field": "devperf.rmse"}]}'
expect_eq "$(get 'rows.0.groupValues.0')" Lasso "AggregateRuns group"
expect_num "$(get 'rows.0.values.0')" 2 "AggregateRuns count"
expect_num "$(get 'rows.0.values.1')" 0.29 "AggregateRuns min(devperf.rmse)"
rpc LineageService/AggregateEntities '{"collection": "datasets", "group_by": [{"field": "project"}],
  "aggregates": [{"function": "AGGREGATE_FUNCTION_COUNT"}]}'
expect_num "$(get 'rows.0.values.0')" 3 "AggregateEntities datasets per project"
rpc LineageService/GetRunRecipe '{"run_id": "lasso-v1-run-1"}'
expect_eq "$(get featuresetDataset.id)" "$DATASET_ID" "GetRunRecipe featureset_dataset"
expect_eq "$(get model.id)" "$MODEL_ID" "GetRunRecipe model"
expect_eq "$(get project.name)" housing "GetRunRecipe project"
rpc LineageService/GetImpact "{\"entity_id\": \"$DATASET_ID\"}"
expect_eq "$(get 'deployments.*.deployment.id')" "$DEPLOYMENT_ID" "GetImpact of the dataset"
expect_eq "$(get deployments.0.latestServingPerf.id)" "$SERVINGPERF_ID" "GetImpact latest serving performance"
rpc LineageService/CompareServingToDev '{"deployment_tag": "housing-lasso-prod"}'
expect_eq "$(get deployments.0.devPerf.id)" "$DEVPERF_ID" "CompareServingToDev dev_perf"
expect_eq "$(get 'deployments.0.servingPerf.*.id')" "$SERVINGPERF_ID" "CompareServingToDev serving_perf"
rpc LineageService/GetHistory "{\"id\": \"$DEPLOYMENT_ID\"}"
expect_eq "$(get 'events.*.action' | paste -sd, -)" "CREATED,STATUS_CHANGED" "GetHistory of the deployment"
rpc_error LineageService/SearchRuns '{"filter": "devperf.rmse <"}' InvalidArgument

say "TrackingService: StreamServingPerf (client streaming: one message per batch)"
rpc TrackingService/StreamServingPerf '
  {"request_id": "batch-1", "records": [
     {"deployment_tag": "housing-lasso-prod", "time": "2024-06-03T13:00:00Z", "metrics": {"rmse": 0.34, "requests": 900}},
     {"deployment_tag": "housing-lasso-prod", "time": "2024-06-03T14:00:00Z", "metrics": {"rmse": 0.35, "requests": 1100}}]}
  {"request_id": "batch-2", "records": [
     {"deployment_tag": "housing-lasso-prod", "time": "2024-06-03T15:00:00Z", "metrics": {"rmse": 0.33, "requests": 1300}}]}'
expect_eq "$(get acceptedBatches)" 2 "StreamServingPerf accepted_batches"
expect_eq "$(get acceptedRecords)" 3 "StreamServingPerf accepted_records"
rpc LineageService/CompareServingToDev '{"deployment_tag": "housing-lasso-prod"}'
expect_eq "$(count deployments.0.servingPerf)" 4 "serving measurements after the stream"
rpc TrackingService/StreamServingPerf '
  {"request_id": "batch-2", "records": [
     {"deployment_tag": "housing-lasso-prod", "time": "2024-06-03T15:00:00Z", "metrics": {"rmse": 0.33, "requests": 1300}}]}'
expect_eq "$(get acceptedRecords)" 1 "StreamServingPerf: a resent batch is accepted"
rpc LineageService/CompareServingToDev '{"deployment_tag": "housing-lasso-prod"}'
expect_eq "$(count deployments.0.servingPerf)" 4 "serving measurements after resending a batch (written once)"
rpc_error TrackingService/StreamServingPerf '
  {"records": [{"deployment_tag": "housing-lasso-prod", "metrics": {"rmse": 0.36}}]}
  {"records": [{"deployment_tag": "no-such-deployment", "metrics": {"rmse": 0.36}}]}' NotFound
expect_eq "$(error_info accepted_batches <<<"$ERR")" 1 "StreamServingPerf error: ErrorInfo accepted_batches"

# ---------------------------------------------------------------------------
say "errors"
rpc_error TrackingService/RegisterDataset '{"name": ""}' InvalidArgument
grep -q '"@type": "type.googleapis.com/google.rpc.BadRequest"' <<<"$ERR" \
  || fail "INVALID_ARGUMENT should carry a google.rpc.BadRequest that grpcurl can print"
expect_eq "$(error_info field <<<"$ERR")" name "INVALID_ARGUMENT BadRequest field_violations[0].field"
rpc_error TrackingService/GetEntity '{"id": "datasets/no-such-key"}' NotFound
expect_eq "$(error_info resource <<<"$ERR")" datasets/no-such-key "NOT_FOUND ErrorInfo metadata resource"
rpc_error TrackingService/GetEntity '{"id": "not an id"}' InvalidArgument
rpc_error TrackingService/RegisterDataset '{"name": "x", "project": "no-such-project"}' NotFound
rpc_error AdminService/RegisterDeployment '{"deployment_tag": "no-run-has-this-tag"}' FailedPrecondition
expect_eq "$(error_info reason <<<"$ERR")" DEPLOYMENT_TAG_NOT_FOUND "FAILED_PRECONDITION ErrorInfo reason"
rpc_error TrackingService/GetRun '{}' InvalidArgument
rpc_error TrackingService/LogRun "{\"model_id\": \"$MODEL_ID\", \"start_time\": \"2024-06-02T00:00:00Z\", \"end_time\": \"2024-06-01T00:00:00Z\"}" InvalidArgument
rpc_error LineageService/GetLineage '{"start_id": "datasets/no-such-key"}' NotFound
rpc AdminService/UpdateDeploymentStatus '{"deployment_tag": "housing-lasso-prod", "status": "DEPLOYMENT_STATUS_ARCHIVED"}'
expect_eq "$(get deployment.status)" DEPLOYMENT_STATUS_ARCHIVED "UpdateDeploymentStatus to ARCHIVED"
rpc_error AdminService/UpdateDeploymentStatus '{"deployment_tag": "housing-lasso-prod", "status": "DEPLOYMENT_STATUS_ACTIVE"}' FailedPrecondition
expect_eq "$(error_info reason <<<"$ERR")" INVALID_STATUS_TRANSITION "status change out of ARCHIVED: ErrorInfo reason"
rpc_error TrackingService/LogServingPerf '{"deployment_tag": "housing-lasso-prod", "metrics": {"rmse": 0.4}}' FailedPrecondition
expect_eq "$(error_info reason <<<"$ERR")" DEPLOYMENT_ARCHIVED "serving performance of an archived deployment: ErrorInfo reason"
rpc_error TrackingService/LogServingPerf '{"deployment_tag": "housing-lasso-prod", "metrics": {"rmse": 0.5}, "request_id": "perf-2024-06-03T12"}' FailedPrecondition
expect_eq "$(error_info reason <<<"$ERR")" REQUEST_ID_REUSED "a request_id reused for another request: ErrorInfo reason"

# ---------------------------------------------------------------------------
say "restart on the same data folder: every write is still there"
rc=0
stop_server TERM || rc=$?
# A JVM that stops on SIGTERM exits with 143 (128 + 15) unless it chooses 0.
[[ $rc == 0 || $rc == 143 ]] || fail "the server exited with status $rc on SIGTERM"
ok "server stopped on SIGTERM (exit status $rc)"
start_server "$WORK/server"
say "server is serving again on $ADDR (pid $SERVER_PID)"
rpc TrackingService/LookupEntity '{"collection": "datasets", "name": "housing-2024"}'
expect_eq "$(get entity.id)" "$DATASET_ID" "after restart: LookupEntity datasets/housing-2024"
rpc TrackingService/GetRun '{"run_id": "lasso-v1-run-1"}'
expect_num "$(get modelParams.document.alpha)" 0.001 "after restart: GetRun model_params.alpha"
rpc TrackingService/GetDeployment '{"deployment_tag": "housing-lasso-prod"}'
expect_eq "$(get deployment.status)" DEPLOYMENT_STATUS_ARCHIVED "after restart: deployment status"
rpc TrackingService/LogServingPerf '{
  "deployment_tag": "housing-lasso-prod", "time": "2024-06-03T12:00:00Z",
  "metrics": {"rmse": 0.33, "requests": 1200, "p99_latency_ms": 41.5},
  "request_id": "perf-2024-06-03T12"}'
expect_eq "$(get servingPerf.id)" "$SERVINGPERF_ID" "after restart: a request_id retry still returns the first result"

say "grpcurl smoke test OK: $CHECKS checks"
