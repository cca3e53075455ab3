#!/usr/bin/env bash
# Tests the Python client: sets up client-python/.venv (pinned versions from constraints.txt), installs
# the package with its test extras, checks that the generated gRPC modules match ../proto, type-checks
# the package, then runs pytest against the real server jar. Works from any folder; exits non-zero on
# any failure.
#
#   client-python/run-tests.sh [pytest arguments...]
#
# Needs the server jar built first (from the repository root: mvn -B -q -DskipTests package), or
# ARANGOPIPE_SERVER_JAR pointing at one, and java on PATH.
# Environment: ARANGOPIPE_PYTHON picks the interpreter for the virtual environment (default python3);
# ARANGOPIPE_VENV its folder (default client-python/.venv).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
venv="${ARANGOPIPE_VENV:-$here/.venv}"
python="${ARANGOPIPE_PYTHON:-python3}"
jar="${ARANGOPIPE_SERVER_JAR:-$repo/server/target/arangopipe-server.jar}"

say() { printf 'client-python: %s\n' "$*"; }
die() { printf 'client-python: %s\n' "$*" >&2; exit 1; }

[ -f "$jar" ] || die "server jar not found: $jar
  build it from $repo with:  mvn -B -q -DskipTests package
  (or set ARANGOPIPE_SERVER_JAR to a built arangopipe-server.jar)"
command -v java >/dev/null || die "java is not on PATH; the tests start the server jar with it"
command -v "$python" >/dev/null || die "$python not found (set ARANGOPIPE_PYTHON to a Python 3.9+ interpreter)"

# (Re)create the virtual environment when it is missing or broken.
if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    say "creating virtual environment $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

# Dependencies: only when constraints.txt or pyproject.toml changed since the last install.
stamp="$venv/.arangopipe-deps"
want="$(cat "$here/constraints.txt" "$here/pyproject.toml" | cksum)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    say "installing dependencies (pinned in constraints.txt)"
    "${pip[@]}" install -q -c "$here/constraints.txt" setuptools
    "${pip[@]}" install -q -c "$here/constraints.txt" --no-build-isolation "$here[test]"
    echo "$want" > "$stamp"
fi
# The package itself, every time, as users get it (not editable): py.typed and the .pyi stubs included.
"${pip[@]}" install -q --no-deps --force-reinstall --no-build-isolation "$here"

say "checking the generated code against $repo/proto"
"$venv/bin/python" "$here/scripts/generate.py" --check

say "type-checking the package (mypy --strict, settings in pyproject.toml)"
(cd "$here" && "$venv/bin/python" -m mypy --cache-dir "$venv/.mypy_cache")

say "running pytest (server jar: $jar)"
cd "$here"
export ARANGOPIPE_SERVER_JAR="$jar"
exec "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
