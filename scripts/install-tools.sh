#!/usr/bin/env bash
# Installs the tools the tests need into ./.tools (gitignored), pinned:
#   grpcurl  -> .tools/bin/grpcurl             (go install, Go module proxy)
#   buf      -> .tools/node_modules/.bin/buf   (npm package @bufbuild/buf)
# A tool that is already there at the pinned version is left alone.
# Prints the path of each tool at the end. Needs: go, npm (and network access
# to the Go module proxy and the npm registry the first time).
set -euo pipefail

GRPCURL_VERSION="v1.9.4"
BUF_VERSION="1.75.0"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
mkdir -p "$TOOLS/bin"

say() { printf '[tools] %s\n' "$*"; }
die() { printf '[tools] error: %s\n' "$*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH; $2"
}

# --- grpcurl ---------------------------------------------------------------
# grpcurl built with `go install` reports "dev build" for -version, so the
# version is read from the module information Go embeds in the binary.
grpcurl_version() {
  local bin="$TOOLS/bin/grpcurl"
  [[ -x "$bin" ]] || return 0
  go version -m "$bin" 2>/dev/null \
    | awk '$1 == "mod" && $2 == "github.com/fullstorydev/grpcurl" { print $3 }'
}

install_grpcurl() {
  need go "install Go (https://go.dev/dl/) to build grpcurl"
  local have
  have="$(grpcurl_version || true)"
  if [[ "$have" == "$GRPCURL_VERSION" ]]; then
    say "grpcurl $GRPCURL_VERSION already installed"
    return 0
  fi
  say "installing grpcurl $GRPCURL_VERSION with go install (about a minute the first time)..."
  GOBIN="$TOOLS/bin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
  have="$(grpcurl_version || true)"
  [[ "$have" == "$GRPCURL_VERSION" ]] \
    || die "grpcurl install finished but $TOOLS/bin/grpcurl reports version '${have:-none}'"
  say "grpcurl $GRPCURL_VERSION installed"
}

# --- buf -------------------------------------------------------------------
# The npm package @bufbuild/buf ships the binary in the optional dependency
# @bufbuild/buf-<os>-<arch> (a native executable); node_modules/.bin/buf is a
# Node wrapper that finds it. npm may skip the package's postinstall script,
# so the native binary is looked for first and the wrapper is the fallback.
buf_bin() {
  local candidates=(
    "$TOOLS"/node_modules/@bufbuild/buf-linux-*/bin/buf
    "$TOOLS"/node_modules/@bufbuild/buf-darwin-*/bin/buf
    "$TOOLS/node_modules/.bin/buf"
    "$TOOLS/node_modules/@bufbuild/buf/bin/buf"
  )
  local c
  for c in "${candidates[@]}"; do
    if [[ -x "$c" ]] && "$c" --version >/dev/null 2>&1; then
      printf '%s\n' "$c"
      return 0
    fi
  done
  return 1
}

buf_version() {
  local bin
  bin="$(buf_bin)" || return 0
  "$bin" --version 2>/dev/null | tr -d '[:space:]'
}

install_buf() {
  need npm "install Node.js and npm to get buf"
  local have
  have="$(buf_version || true)"
  if [[ "$have" == "$BUF_VERSION" ]]; then
    say "buf $BUF_VERSION already installed"
    return 0
  fi
  say "installing buf $BUF_VERSION with npm..."
  # A package.json of our own keeps npm from walking up to a parent folder.
  [[ -f "$TOOLS/package.json" ]] \
    || printf '{\n  "name": "arangopipe-tools",\n  "private": true\n}\n' > "$TOOLS/package.json"
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error \
    "@bufbuild/buf@$BUF_VERSION"
  have="$(buf_version || true)"
  [[ "$have" == "$BUF_VERSION" ]] \
    || die "buf install finished but no working buf $BUF_VERSION was found under $TOOLS/node_modules (got '${have:-none}')"
  say "buf $BUF_VERSION installed"
}

# .tools/bin/buf: a relative link to the working binary, so that .tools/bin
# alone can go on PATH (and the link survives moving the checkout).
link_buf() {
  local bin
  bin="$(buf_bin)" || die "no working buf under $TOOLS/node_modules"
  ln -sfn "../${bin#"$TOOLS"/}" "$TOOLS/bin/buf"
}

install_grpcurl
install_buf
link_buf

say "grpcurl: $TOOLS/bin/grpcurl ($(grpcurl_version))"
say "buf:     $TOOLS/bin/buf ($(buf_version))"
