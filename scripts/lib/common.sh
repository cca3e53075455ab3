# shellcheck shell=bash disable=SC2034
# Shared helpers for the scripts that drive a real Arangopipe server with grpcurl.
# Source it; it defines no behaviour by itself.
#
#   start_server DIR [server options]   start the jar on a free port; sets SERVER_PID, PORT, ADDR
#   stop_server                         SIGTERM, then SIGKILL after a grace period
#   find_grpcurl                        sets GRPCURL (./.tools/bin/grpcurl, else the one on PATH)
#   json_get PATH < json                print one value of a JSON document (see below)

: "${ROOT:?ROOT must be set before sourcing common.sh}"

JAR="${ARANGOPIPE_JAR:-$ROOT/server/target/arangopipe-server.jar}"
SERVER_PID=""
SERVER_LOG=""
PORT=""
ADDR=""

find_grpcurl() {
  if [[ -n "${GRPCURL:-}" ]]; then
    :
  elif [[ -x "$ROOT/.tools/bin/grpcurl" ]]; then
    GRPCURL="$ROOT/.tools/bin/grpcurl"
  elif command -v grpcurl >/dev/null 2>&1; then
    GRPCURL="$(command -v grpcurl)"
  else
    echo "grpcurl not found: run ./arangopipe tools" >&2
    return 1
  fi
}

# start_server DIR [extra server options...]
# Starts the real jar with --port 0 (a free port) and --port-file, with its
# data in DIR/data and its log in DIR/server.log, and waits (up to 90 s) until
# the server has written the port it serves on.
start_server() {
  local dir="$1"
  shift
  [[ -f "$JAR" ]] || { echo "no server jar at $JAR (build it: mvn -B -q -DskipTests package)" >&2; return 1; }
  mkdir -p "$dir"
  rm -f "$dir/port"
  SERVER_LOG="$dir/server.log"
  java -jar "$JAR" --port 0 --bind 127.0.0.1 --port-file "$dir/port" --data-dir "$dir/data" "$@" \
    >>"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  local i
  for ((i = 0; i < 900; i++)); do
    if [[ -s "$dir/port" ]]; then
      PORT="$(tr -d '[:space:]' <"$dir/port")"
      if [[ "$PORT" =~ ^[0-9]+$ ]] && ((PORT > 0)); then
        ADDR="127.0.0.1:$PORT"
        return 0
      fi
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "the server exited before it was serving; its log:" >&2
      sed 's/^/    /' "$SERVER_LOG" >&2
      SERVER_PID=""
      return 1
    fi
    sleep 0.1
  done
  echo "the server did not write its port file within 90 s; its log:" >&2
  sed 's/^/    /' "$SERVER_LOG" >&2
  return 1
}

# stop_server [SIGNAL]: stops the server started by start_server (TERM by
# default, KILL if it is still running 15 s later). Returns the server's exit
# status when it stopped on the signal given.
stop_server() {
  local sig="${1:-TERM}" rc=0 i
  [[ -n "$SERVER_PID" ]] || return 0
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "-$sig" "$SERVER_PID" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "the server did not stop within 15 s of SIG$sig; killing it" >&2
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
  fi
  wait "$SERVER_PID" 2>/dev/null || rc=$?
  SERVER_PID=""
  return "$rc"
}

# json_get PATH: reads JSON on stdin and prints the value at PATH.
#   PATH is dot-separated: "deployment.modelId", "entities.0.name",
#   "nodes.*.id" (every element; one line each), "entities.#" (a length).
#   Keys match in camelCase or snake_case ("model_id" finds "modelId").
#   Strings print raw, other values as JSON; a missing value prints nothing.
json_get() {
  python3 -c '
import json, sys

def norm(key):
    return key.replace("_", "").lower()

def walk(value, parts):
    if not parts:
        yield value
        return
    part, rest = parts[0], parts[1:]
    if part == "#":
        if isinstance(value, (list, dict)):
            yield from walk(len(value), rest)
        return
    if part == "*":
        if isinstance(value, list):
            for item in value:
                yield from walk(item, rest)
        return
    if isinstance(value, list):
        try:
            yield from walk(value[int(part)], rest)
        except (ValueError, IndexError):
            pass
        return
    if isinstance(value, dict):
        if part in value:
            yield from walk(value[part], rest)
            return
        for key in value:
            if norm(key) == norm(part):
                yield from walk(value[key], rest)
                return

text = sys.stdin.read()
doc = json.loads(text) if text.strip() else {}
for v in walk(doc, [p for p in sys.argv[1].split(".") if p]):
    print(v if isinstance(v, str) else json.dumps(v))
' "$1"
}

# error_info KEY: reads grpcurl's error output on stdin and prints the value of
# metadata KEY of its google.rpc.ErrorInfo detail (e.g. existing_id), or
# nothing. grpcurl prints details as JSON when the server's reflection serves
# the google.rpc types (it does), and as opaque base64 otherwise.
error_info() {
  python3 -c '
import re, sys
m = re.search(r"\"%s\"\s*:\s*\"([^\"]*)\"" % re.escape(sys.argv[1]), sys.stdin.read())
if m:
    print(m.group(1))
' "$1"
}
