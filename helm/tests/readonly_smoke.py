"""The chart's configuration against the real server jar, as the pod runs it: uid/gid 10001, a
read-only root filesystem with a tmpfs on /tmp, and

- standalone (a rendered Deployment): the environment of the rendered ConfigMap and the admin token from
  the rendered Secret; checks gRPC health (for "" and for each service name the rendered probes ask for,
  e.g. the server's "liveness"), that calls need the token, and the metrics endpoint;
- sidecar (a rendered Job, e.g. the example): the sidecar container's environment; checks gRPC health,
  that calls need no token on loopback, and the startup probe's command.

Usage: readonly_smoke.py RENDERED_YAML SERVER_JAR GRPCURL

Needs root (it makes a private mount namespace with `unshare --mount`, remounts / read-only there and
drops to uid 10001 with `setpriv`). The server listens on 127.0.0.1 (the pod's 0.0.0.0 is replaced:
this runs on the host's network) on free ports. Exits non-zero on any failure.
"""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

UID = 10001


def main() -> int:
    rendered, jar, grpcurl = (Path(a).resolve() for a in sys.argv[1:4])
    docs = [d for d in yaml.safe_load_all(rendered.read_text()) if d]
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    if deployments:
        sidecar = False
        config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
        token_secret = next(d for d in docs if d["kind"] == "Secret" and "admin-token" in d.get("data", {}))
        token = base64.b64decode(token_secret["data"]["admin-token"]).decode()
        container = deployments[0]["spec"]["template"]["spec"]["containers"][0]
        probe = None
        # the gRPC health service names the rendered probes ask for ("" and the server's "liveness")
        probe_services = sorted({container[p]["grpc"]["service"] for p in ("startupProbe", "livenessProbe",
                                 "readinessProbe") if "grpc" in container.get(p, {})} - {""})
        assert probe_services, "no gRPC probe with a named health service"
    else:
        sidecar = True
        job = next(d for d in docs if d["kind"] == "Job")
        container = job["spec"]["template"]["spec"]["initContainers"][0]
        assert container["restartPolicy"] == "Always"
        config = {e["name"]: e["value"] for e in container["env"]}
        token = ""
        probe = container["startupProbe"]["exec"]["command"]
        probe_services = []
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["runAsUser"] == UID

    work = Path(tempfile.mkdtemp(prefix="arangopipe-rofs-", dir="/var/tmp"))
    try:
        # Everything the server process gets comes from outside the read-only root: the jar and the
        # token are copied into a folder only it reads; /tmp is a fresh tmpfs; the data folder
        # (the pod's PVC) is a writable folder owned by 10001.
        (work / "data").mkdir()
        shutil.copy(jar, work / "server.jar")
        # grpcurl too: the checkout may itself live under /tmp, which the tmpfs below hides.
        shutil.copy(grpcurl, work / "grpcurl")
        os.chmod(work / "grpcurl", 0o755)
        grpcurl = work / "grpcurl"
        (work / "admin-token").write_text(token or "unused")
        os.chown(work / "data", UID, UID)
        for f in ("server.jar", "admin-token"):
            os.chown(work / f, UID, UID)
            os.chmod(work / f, 0o400)
        os.chmod(work, 0o755)

        env = dict(config)
        env.update(
            ARANGOPIPE_BIND="127.0.0.1",  # the host's network: loopback only
            ARANGOPIPE_PORT="0",  # a free port: 6529 may be taken on this machine
            ARANGOPIPE_PORT_FILE="/tmp/arangopipe.port",
            ARANGOPIPE_DATA_DIR=str(work / "data"),
            PATH="/usr/bin:/bin",
            HOME="/nonexistent",
        )
        if sidecar:
            assert config["ARANGOPIPE_BIND"] == "127.0.0.1" and config["ARANGOPIPE_PORT_FILE"] == "/tmp/arangopipe.port"
        else:
            env.update(
                ARANGOPIPE_ADMIN_TOKEN_FILE=str(work / "admin-token"),
                ARANGOPIPE_METRICS_PORT="0",
                ARANGOPIPE_METRICS_BIND="127.0.0.1",
            )
        service_words = " ".join(shlex.quote(x) for x in probe_services)
        java = os.path.realpath(shutil.which("java") or "java")
        env_args = " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(env.items()))
        script = f"""
set -eu
cd /
mount --make-rprivate /
mount --bind {work}/data {work}/data   # the PVC: a mount of its own, stays writable
mount -o bind,remount,ro /
mount -t tmpfs -o mode=1777,size=256m tmpfs /tmp
if touch /arangopipe-rofs-check 2>/dev/null; then echo "FAIL: the root filesystem is writable"; exit 1; fi
setpriv --reuid {UID} --regid {UID} --clear-groups env -i {env_args} {shlex.quote(java)} -jar {work}/server.jar \\
  > /tmp/server.log 2>&1 &
pid=$!
for i in $(seq 1 240); do [ -s /tmp/arangopipe.port ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.5; done
if [ ! -s /tmp/arangopipe.port ]; then echo "FAIL: the server did not start"; cat /tmp/server.log; exit 1; fi
port=$(cat /tmp/arangopipe.port)
metrics=$(grep -o 'http:[^"]*/metrics' /tmp/server.log | head -1 | sed 's#\\\\/#/#g')
rc=0
out=$({grpcurl} -plaintext -d '{{"service": ""}}' 127.0.0.1:$port grpc.health.v1.Health/Check) || rc=1
echo "$out" | grep -q '"status": "SERVING"' && echo "ok: health SERVING" || {{ echo "FAIL: health: $out"; rc=1; }}
for service in {service_words}; do
  out=$({grpcurl} -plaintext -d '{{"service": "'"$service"'"}}' 127.0.0.1:$port grpc.health.v1.Health/Check) || rc=1
  echo "$out" | grep -q '"status": "SERVING"' && echo "ok: the probes' health service '$service' is SERVING" \
    || {{ echo "FAIL: health of '$service' (a probe asks for it): $out"; rc=1; }}
done
if [ -n "{token}" ]; then
  out=$({grpcurl} -plaintext -H "authorization: Bearer $(cat {work}/admin-token)" -d '{{"name": "rofs"}}' \\
    127.0.0.1:$port arangopipe.v1.AdminService/CreateProject 2>&1) && echo "ok: authenticated write" \\
    || {{ echo "FAIL: CreateProject: $out"; rc=1; }}
  out=$({grpcurl} -plaintext 127.0.0.1:$port arangopipe.v1.AdminService/GetCurrentUser 2>&1) \\
    && {{ echo "FAIL: a call without a token succeeded"; rc=1; }} || echo "ok: no token, no call"
  /usr/bin/python3 -c 'import sys, urllib.request; body = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode(); assert "grpc" in body or "jvm_" in body, body[:300]' "$metrics" \\
    && echo "ok: metrics at $metrics" || {{ echo "FAIL: metrics at '$metrics'"; rc=1; }}
else
  out=$({grpcurl} -plaintext -d '{{"name": "rofs"}}' 127.0.0.1:$port arangopipe.v1.AdminService/CreateProject 2>&1) \\
    && echo "ok: write without a token (loopback, authentication off)" || {{ echo "FAIL: CreateProject: $out"; rc=1; }}
  {shlex.join(probe or ["true"])} >/dev/null && echo "ok: startup probe command succeeds: {shlex.join(probe or [])}" \\
    || {{ echo "FAIL: startup probe command"; rc=1; }}
fi
kill -TERM $pid; wait $pid || true
grep -q '"level":"ERROR"' /tmp/server.log && {{ echo "FAIL: errors in the log"; rc=1; }}
head -c 2000 /tmp/server.log | grep -v '^Picked up JAVA_TOOL_OPTIONS' | head -5
echo "data folder:"; ls -ln {work}/data
exit $rc
"""
        proc = subprocess.run(["unshare", "--mount", "bash", "-c", script], text=True)
        if proc.returncode == 0:
            print(f"read-only root filesystem smoke test ({'sidecar' if sidecar else 'standalone'}): PASS")
        return proc.returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
