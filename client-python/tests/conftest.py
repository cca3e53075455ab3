"""Fixtures: the real Arangopipe server jar, started once per test session on a free loopback port.

The jar comes from ARANGOPIPE_SERVER_JAR, by default ../server/target/arangopipe-server.jar relative to
client-python. Build it first, from the repository root: mvn -B -q -DskipTests package
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator, Optional

import pytest

from arangopipe_client import ArangoPipe, ArangoPipeAdmin, Connection

CLIENT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_JAR = CLIENT_DIR.parent / "server" / "target" / "arangopipe-server.jar"
START_TIMEOUT = 90.0


class Server:
    def __init__(self, process: subprocess.Popen, port: int, log: Path, data_dir: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.data_dir = data_dir

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _jar() -> Path:
    jar = Path(os.environ.get("ARANGOPIPE_SERVER_JAR") or DEFAULT_JAR)
    if not jar.is_file():
        pytest.fail(
            f"the Arangopipe server jar is missing: {jar}\n"
            "build it from the repository root with:  mvn -B -q -DskipTests package\n"
            "or point ARANGOPIPE_SERVER_JAR at a built arangopipe-server.jar",
            pytrace=False,
        )
    if shutil.which("java") is None:
        pytest.fail("java is not on PATH; the tests start the server jar with it (JDK 17+)", pytrace=False)
    return jar


def start_server(root: Path, *args: str, env: Optional[Dict[str, str]] = None) -> Server:
    """Starts the jar with a fresh data folder under root (extra options in args, extra ARANGOPIPE_*
    variables in env); fails the test run with the server's log if it does not start."""
    jar = _jar()
    data_dir, port_file, log = root / "data", root / "port", root / "server.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ARANGOPIPE_")}
    environment.update(env or {})
    with open(log, "wb") as out:
        process = subprocess.Popen(
            ["java", "-Xmx512m", "-XX:+UseSerialGC", "-jar", str(jar), "--port", "0", "--port-file", str(port_file),
             "--data-dir", str(data_dir), "--threads", "4", *args],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment,
        )
    started = time.monotonic()
    port = None
    while time.monotonic() - started < START_TIMEOUT:
        if process.poll() is not None:
            break
        if port_file.is_file() and port_file.read_text().strip():
            port = int(port_file.read_text().strip())
            break
        time.sleep(0.1)
    srv = Server(process, port or 0, log, data_dir)
    if port is None:
        process.kill()
        process.wait()
        pytest.fail(f"the server did not start within {START_TIMEOUT:.0f}s (exit code {process.returncode});"
                    f" its log:\n{srv.log_tail()}", pytrace=False)
    return srv


def stop_server(srv: Server) -> None:
    """Stops the server and fails if it logged an ERROR (an INTERNAL status is a server bug)."""
    if srv.process.poll() is None:
        srv.process.send_signal(signal.SIGTERM)
        try:
            srv.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            srv.process.kill()
            srv.process.wait()
    errors = [line for line in srv.log.read_text(errors="replace").splitlines() if " ERROR " in line]
    assert not errors, "the server logged errors during the tests:\n" + "\n".join(errors[:20])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server every test shares (names are kept unique with the uid fixture)."""
    srv = start_server(tmp_path_factory.mktemp("arangopipe-server"))
    try:
        yield srv
    finally:
        stop_server(srv)


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of the test module's own, for scripts that use fixed names as seed scripts do."""
    srv = start_server(tmp_path_factory.mktemp("arangopipe-fresh"))
    try:
        yield srv
    finally:
        stop_server(srv)


@pytest.fixture
def connection(server: Server) -> Iterator[Connection]:
    with Connection(server.target, timeout=20) as conn:
        yield conn


@pytest.fixture
def ap(connection: Connection) -> Iterator[ArangoPipe]:
    with ArangoPipe(connection=connection) as client:
        yield client


@pytest.fixture
def admin(connection: Connection) -> Iterator[ArangoPipeAdmin]:
    with ArangoPipeAdmin(connection=connection) as client:
        yield client


@pytest.fixture
def uid() -> str:
    """A suffix that keeps names unique: every test shares one server."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def lineage_setup(ap: ArangoPipe, admin: ArangoPipeAdmin, uid: str) -> dict:
    """A project, dataset, featureset, model, one logged run, a deployment and a serving measurement."""
    project = admin.register_project({"name": f"proj-{uid}", "team": "pricing"})
    ds = ap.register_dataset({"name": f"ds-{uid}", "source": "generated", "rows": 200}, project=project["name"])
    fs = ap.register_featureset({"name": f"fs-{uid}", "attributes": ["x0", "x1"]}, ds["_key"],
                                project=project["name"])
    model = ap.register_model({"name": f"model-{uid}", "type": "LASSO"}, project=project["name"])
    run = ap.log_run({
        "run_id": f"run-{uid}", "dataset": ds["_key"], "featureset": fs["_key"], "model": model["_key"],
        "model-params": {"alpha": 0.1, "run_id": f"run-{uid}"},
        "model-perf": {"rmse": 0.25, "run_id": f"run-{uid}", "timestamp": "2024-01-01 00:00:00"},
        "tag": f"tag-{uid}", "deployment_tag": f"dep-{uid}", "project": project["name"],
    })
    dep = admin.register_deployment(f"dep-{uid}")
    sp = ap.log_serving_perf({"rmse": 0.3}, f"dep-{uid}")
    return {"project": project, "dataset": ds, "featureset": fs, "model": model, "run": run,
            "deployment": dep, "serving_perf": sp, "uid": uid}
