#!/usr/bin/env bash
# Keeps the README honest: runs the grpcurl walk-through of README.md (every
# ```bash block between <!-- walkthrough --> and <!-- /walkthrough -->), in
# order, in one bash with `set -euo pipefail`, against the real jar on a free
# port with a fresh data folder (localhost:6529 is replaced by that address).
# Fails when any command of the walk-through fails or a value the README
# promises does not come back. Also checks the README's configuration table
# against the server's --help.
#
# Usage: scripts/readme-walkthrough.sh
# Env:   ARANGOPIPE_JAR, GRPCURL as for grpcurl-smoke.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/arangopipe-readme.XXXXXX")"
cleanup() {
  local rc=$?
  stop_server TERM || true
  if ((rc != 0)) && [[ -n "$SERVER_LOG" && -f "$SERVER_LOG" ]]; then
    echo "--- server log (last 20 lines) ---" >&2
    tail -n 20 "$SERVER_LOG" | sed 's/^/    /' >&2
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

find_grpcurl

echo "==> README's configuration table against the server's --help"
java -jar "$JAR" --help >"$WORK/help"
python3 "$ROOT/scripts/lib/check_config_table.py" "$ROOT/README.md" "$WORK/help"
python3 - "$ROOT/README.md" >"$WORK/walkthrough.sh" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"<!-- walkthrough -->(.*?)<!-- /walkthrough -->", text, re.S)
if not m:
    sys.exit("README.md has no <!-- walkthrough --> ... <!-- /walkthrough --> section")
blocks = re.findall(r"^```bash\n(.*?)^```", m.group(1), re.S | re.M)
if not blocks:
    sys.exit("the walk-through has no ```bash blocks")
for i, b in enumerate(blocks, 1):
    print(f"echo '----- README block {i} of {len(blocks)}'")
    print(b)
EOF
echo "==> $(grep -c '^echo .----- README block' "$WORK/walkthrough.sh") blocks of README.md's walk-through"

echo "==> starting the server on a free port"
start_server "$WORK/server"
echo "==> serving on $ADDR; running the walk-through with $GRPCURL"

# The walk-through puts .tools/bin on PATH itself; make sure the grpcurl found
# here comes first in case it lives elsewhere.
sed -i "s/localhost:6529/$ADDR/g" "$WORK/walkthrough.sh"
rc=0
(
  cd "$ROOT"
  PATH="$(dirname "$GRPCURL"):$PATH"
  export PATH
  bash -euo pipefail -x "$WORK/walkthrough.sh"
) >"$WORK/out" 2>"$WORK/trace" || rc=$?
if ((rc != 0)); then
  echo "FAIL: the walk-through stopped with exit status $rc; its last commands and output:" >&2
  tail -n 30 "$WORK/trace" | sed 's/^/    + /' >&2
  tail -n 30 "$WORK/out" | sed 's/^/    | /' >&2
  exit 1
fi

# Values the README's text promises.
expect() { # WHAT PATTERN
  grep -qE -- "$2" "$WORK/out" || { echo "FAIL: the walk-through's output has no $1 (/$2/)" >&2; exit 1; }
  echo "    ok  $1"
}
expect "service list entry arangopipe.v1.TrackingService" '^arangopipe\.v1\.TrackingService$'
expect "health SERVING" '"status": "SERVING"'
expect "run id" '"id": "run/lasso-v1-run-1"'
expect "alpha of the latest run by tag" '^0\.0005$'
expect "first page's dataset" '^housing-2024$'
expect "active deployment" '"status": "DEPLOYMENT_STATUS_ACTIVE"'
expect "streamed records" '"accepted_records": "3"'
expect "link attribute" '"related_datasets"'
expect "purged edge count" '"deleted_count": "1"'
expect "upstream lineage reaching the dataset" '^datasets/[^ ]+ housing-2024$'
expect "SearchRuns, best run first" "^lasso-v1-run-2 \\{'alpha': 0.0005"
expect "AggregateRuns columns" '"min\(devperf.rmse\)"'
expect "GetRunRecipe's featureset dataset" '"featureset_dataset"'
expect "GetImpact's latest serving performance" '"latest_serving_perf"'
expect "GetHistory's status change" '"STATUS_CHANGED"'
echo "==> README walk-through OK: $(grep -cE '^\++ grpcurl' "$WORK/trace") grpcurl calls"
