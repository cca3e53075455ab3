#!/usr/bin/env bash
# Keeps the README honest: runs the grpcurl walk-through of README.md (every
# ```bash block between <!-- walkthrough --> and <!-- /walkthrough -->), in
# order, in one bash with `set -euo pipefail`, against the real jar on a free
# port with a fresh data folder (localhost:6529 is replaced by that address).
# Fails when any command of the walk-through fails or a value the README
# promises does not come back. Also checks the README's configuration table
# against the server's --help, and runs the export/import commands of the
# "Moving data / backup" section on the data the walk-through wrote.
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

# ---- Moving data / backup: the README's export and import commands, with the real jar, on the data the
# walk-through wrote: export (refused while the server runs), import into a fresh folder, export again (the
# same file but for the header), import again (nothing written), a truncated file refused, and the server
# on the copy answering the same.
echo "==> export and import (README: Moving data / backup) with the real jar"
answers() { # ADDR: what the copy must answer the same
  "$GRPCURL" -plaintext -d '{"project": "housing", "order_by": "devperf.rmse"}' "$1" \
    arangopipe.v1.LineageService/SearchRuns
  "$GRPCURL" -plaintext -d '{}' "$1" arangopipe.v1.AdminService/ListTypes
  "$GRPCURL" -plaintext -d '{"deployment_tag": "housing-lasso-prod"}' "$1" arangopipe.v1.TrackingService/GetDeployment
}
answers "$ADDR" >"$WORK/answers-before"
grep -q 'lasso-v1-run-2' "$WORK/answers-before" || { echo "FAIL: SearchRuns before export" >&2; exit 1; }
DATA="$WORK/server/data"
rc=0
java -jar "$JAR" export --data-dir "$DATA" --out "$WORK/export.jsonl" 2>"$WORK/export.err" || rc=$?
if ((rc != 1)) || ! grep -q "Stop the server" "$WORK/export.err"; then
  echo "FAIL: export while the server runs: exit status $rc, expected 1 and a hint to stop the server" >&2
  cat "$WORK/export.err" >&2
  exit 1
fi
echo "    ok  export refused while the server has the folder (exit status 1, says to stop the server)"
stop_server TERM || true
java -jar "$JAR" export --data-dir "$DATA" --out "$WORK/export.jsonl"
java -jar "$JAR" import --data-dir "$WORK/copy/data" --in "$WORK/export.jsonl" 2>"$WORK/import.err" \
  || { cat "$WORK/import.err" >&2; echo "FAIL: import" >&2; exit 1; }
grep -q " 0 conflicts" "$WORK/import.err" || { cat "$WORK/import.err" >&2; exit 1; }
java -jar "$JAR" export --data-dir "$WORK/copy/data" --out - >"$WORK/again.jsonl" 2>/dev/null
if ! diff <(tail -n +2 "$WORK/export.jsonl") <(tail -n +2 "$WORK/again.jsonl") >/dev/null; then
  echo "FAIL: exporting the imported copy gave another file:" >&2
  diff <(tail -n +2 "$WORK/export.jsonl") <(tail -n +2 "$WORK/again.jsonl") | head -n 20 >&2
  exit 1
fi
echo "    ok  export, import into a fresh folder, export again: the same $(wc -l <"$WORK/export.jsonl") lines"
java -jar "$JAR" import --data-dir "$WORK/copy/data" <"$WORK/export.jsonl" 2>"$WORK/import2.err"
grep -q ": 0 written" "$WORK/import2.err" || { cat "$WORK/import2.err" >&2; echo "FAIL: re-import wrote" >&2; exit 1; }
echo "    ok  importing the same file again (from stdin) writes nothing"
head -n -1 "$WORK/export.jsonl" >"$WORK/truncated.jsonl"
rc=0
java -jar "$JAR" import --data-dir "$WORK/never" --in "$WORK/truncated.jsonl" 2>"$WORK/trunc.err" || rc=$?
if ((rc != 1)) || ! grep -q "truncated" "$WORK/trunc.err" || [[ -e "$WORK/never" ]]; then
  echo "FAIL: a truncated file: exit status $rc, expected 1, 'truncated', and nothing written" >&2
  cat "$WORK/trunc.err" >&2
  exit 1
fi
echo "    ok  a truncated file is refused before anything is written"
start_server "$WORK/copy"
answers "$ADDR" >"$WORK/answers-after"
if ! diff "$WORK/answers-before" "$WORK/answers-after" >/dev/null; then
  echo "FAIL: the server on the imported copy answers differently:" >&2
  diff "$WORK/answers-before" "$WORK/answers-after" | head -n 20 >&2
  exit 1
fi
echo "    ok  the server on the imported copy answers SearchRuns, ListTypes and GetDeployment the same"
