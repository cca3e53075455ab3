#!/usr/bin/env bash
# Issue 9's LogRun benchmark: LogRun at concurrency 1, 8, 32 and 128 against the real server jar on
# loopback, with lookups by name and by id, the transport and storage ceilings, and the MLflow tracking
# server (SQLite backend) doing the same work, all in one run. See docs/benchmarks.md.
#
#   benchmarks/run-logrun.sh                     # build, install MLflow under .tools/, measure (~6 minutes)
#   benchmarks/run-logrun.sh --seconds 20        # any LogRunBenchmark option; --help lists them
#   NO_MLFLOW=1 benchmarks/run-logrun.sh         # without the MLflow peer
#   SKIP_BUILD=1 benchmarks/run-logrun.sh        # use the jars built last time
#
# Results: the table is printed and written to benchmarks/target/logrun-results.md. Servers run on free
# loopback ports with temporary data folders and are stopped at the end. JAVA_OPTS overrides the load
# generator's JVM options; MLFLOW_WORKERS sets MLflow's worker processes (default: MLflow's own, 4).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  echo "== building the server and the benchmarks (tests skipped)"
  mvn -B -q -pl benchmarks -am package -DskipTests
fi

mlflow_args=()
mlflow_pid=""
mlflow_dir=""
cleanup() {
  if [[ -n "$mlflow_pid" ]] && kill -0 "$mlflow_pid" 2>/dev/null; then
    kill "$mlflow_pid" 2>/dev/null || true
    wait "$mlflow_pid" 2>/dev/null || true
  fi
  if [[ -n "$mlflow_dir" ]]; then
    rm -rf "$mlflow_dir"
  fi
}
trap cleanup EXIT

if [[ "${NO_MLFLOW:-0}" != 1 ]]; then
  venv="$root/.tools/mlflow-venv"
  if [[ ! -x "$venv/bin/mlflow" ]]; then
    echo "== installing MLflow into $venv (once)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q mlflow
  fi
  echo "== $("$venv/bin/mlflow" --version)"
  mlflow_dir="$(mktemp -d "${TMPDIR:-/tmp}/mlflow-bench.XXXXXX")"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  workers=()
  if [[ -n "${MLFLOW_WORKERS:-}" ]]; then
    workers=(--workers "$MLFLOW_WORKERS")
  fi
  echo "== starting MLflow on 127.0.0.1:$port (SQLite backend in $mlflow_dir)"
  "$venv/bin/mlflow" server --backend-store-uri "sqlite:///$mlflow_dir/mlflow.db" \
    --default-artifact-root "$mlflow_dir/artifacts" --host 127.0.0.1 --port "$port" "${workers[@]}" \
    >"$mlflow_dir/server.log" 2>&1 &
  mlflow_pid=$!
  for _ in $(seq 1 240); do
    if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
      break
    fi
    if ! kill -0 "$mlflow_pid" 2>/dev/null; then
      echo "MLflow did not start:" >&2
      cat "$mlflow_dir/server.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null
  mlflow_args=(--mlflow "http://127.0.0.1:$port")
fi

echo "== measuring (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
# shellcheck disable=SC2086  # JAVA_OPTS is a list of options
java ${JAVA_OPTS:--Xms512m -Xmx1g -XX:+UseParallelGC} \
  -cp "benchmarks/target/arangopipe-benchmarks.jar:server/target/arangopipe-server.jar" \
  io.arangopipe.bench.LogRunBenchmark "${mlflow_args[@]}" "$@"
