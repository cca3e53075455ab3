#!/usr/bin/env bash
# The issue-3 benchmark: GetLineage (depth 5) and SearchRuns (metric filter) on a generated graph of
# >= 1M vertices and 100k runs, against the real server over loopback. See docs/benchmarks.md.
#
#   benchmarks/run-lineage-search.sh                      # generate into benchmarks/target/, then measure
#   benchmarks/run-lineage-search.sh --reuse              # measure the data generated last time
#   benchmarks/run-lineage-search.sh --help               # every option
#
# Builds proto, server and benchmarks (tests skipped) unless SKIP_BUILD=1, then runs the benchmark with the
# server's self-contained jar on the class path. JAVA_OPTS overrides the JVM options.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -B -q -pl benchmarks -am package -DskipTests
fi
cd "$root/benchmarks"
exec java ${JAVA_OPTS:--Xms1g -Xmx2g -XX:+UseParallelGC} \
  -cp "target/arangopipe-benchmarks.jar:$root/server/target/arangopipe-server.jar" \
  io.arangopipe.bench.LineageSearchBenchmark "$@"
