"""Checks of the arangopipe Helm chart on its rendered manifests (no cluster needed).

Each case in helm/tests/values/ is rendered with `helm template` (helm/test-chart.sh renders them into
$ARANGOPIPE_HELM_RENDER_DIR first; without it, this file renders them itself), parsed, and checked:
store-mode invariants, probes, security contexts, secrets, the optional resources, and the
Kubernetes 1.27+ schemas (kubernetes-validate, offline). Each file in helm/tests/bad-values/ must make
`helm template` fail with the message its first line names. The sidecar example chart is rendered and
compared with the committed helm/examples/training-job.yaml.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

HELM_DIR = Path(__file__).resolve().parents[1]
ROOT = HELM_DIR.parent
CHART = HELM_DIR / "arangopipe"
VALUES_DIR = HELM_DIR / "tests" / "values"
BAD_VALUES_DIR = HELM_DIR / "tests" / "bad-values"
EXAMPLE_CHART = HELM_DIR / "examples" / "training-job"
EXAMPLE_RENDERED = HELM_DIR / "examples" / "training-job.yaml"

RELEASE = "ap"
NAMESPACE = "default"
FULLNAME = "ap-arangopipe"
GRPC_PORT = 6529
# The chart's floor (kubeVersion) and the newest schemas kubernetes-validate ships; the sidecar
# example needs native sidecars (restartable init containers), beta and on by default from 1.29.
CHART_KUBE_VERSIONS = ["1.27.0", "1.37.0"]
SIDECAR_KUBE_VERSIONS = ["1.29.0", "1.37.0"]
# Custom resources kubernetes-validate has no schema for; checked by hand below.
CUSTOM_KINDS = {"ServiceMonitor", "ArangoDeployment"}


def server_env_names() -> set[str]:
    """The server's environment variables, from the README's configuration table (which the README
    check keeps equal to the server's --help)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    names = set(re.findall(r"`(ARANGOPIPE_[A-Z_]+)`", section))
    assert {"ARANGOPIPE_PORT", "ARANGOPIPE_BIND", "ARANGOPIPE_METRICS_PORT", "ARANGOPIPE_LOG_FORMAT"} <= names
    return names


def server_env_defaults() -> dict[str, str]:
    """Each environment variable's default, from the same table (`none` when it has none)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    out = {}
    for row in re.findall(r"^\| `--[^|]*\| `(ARANGOPIPE_[A-Z_]+)` \| ([^|]+) \|", section, re.M):
        out[row[0]] = row[1].strip().strip("`")
    return out


SERVER_ENV = server_env_names()
SERVER_DEFAULTS = server_env_defaults()
# What the chart sets in ArangoDB mode (the server's --arangodb-* options; only the max connections are
# left to the server's default unless given, and the password is a file, never a value).
ARANGODB_ENV = {
    "ARANGOPIPE_ARANGODB_ENDPOINTS", "ARANGOPIPE_ARANGODB_DATABASE", "ARANGOPIPE_ARANGODB_USER",
    "ARANGOPIPE_ARANGODB_PASSWORD_FILE", "ARANGOPIPE_ARANGODB_CA_FILE", "ARANGOPIPE_ARANGODB_GRAPH",
    "ARANGOPIPE_ARANGODB_PROTOCOL", "ARANGOPIPE_ARANGODB_TIMEOUT", "ARANGOPIPE_ARANGODB_REPLICATION_FACTOR",
    "ARANGOPIPE_ARANGODB_WRITE_CONCERN", "ARANGOPIPE_ARANGODB_SHARDS", "ARANGOPIPE_ARANGODB_ONE_SHARD",
}
# The server's health service name that stays SERVING through a database outage (liveness probes).
LIVENESS_SERVICE = re.search(
    r'LIVENESS_SERVICE = "([^"]*)"',
    (ROOT / "server/src/main/java/io/arangopipe/server/ArangopipeServer.java").read_text(),
).group(1)


# ---------------------------------------------------------------------------------------- helpers


def helm_bin() -> str:
    for candidate in (os.environ.get("HELM"), str(ROOT / ".tools" / "bin" / "helm"), shutil.which("helm")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.exit("helm not found: run helm/test-chart.sh (it installs it into .tools/bin)", returncode=2)


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([helm_bin(), *args], capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        pytest.fail(f"helm {' '.join(args)} failed:\n{proc.stderr}")
    return proc


def template_args(values_file: Path | None, *extra: str) -> list[str]:
    # Keep in step with render_cases in helm/test-chart.sh.
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--kube-version", CHART_KUBE_VERSIONS[0]]
    if values_file is not None:
        args += ["-f", str(values_file)]
    return args + list(extra)


def parse(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


CASES = sorted(p.stem for p in VALUES_DIR.glob("*.yaml"))
_rendered: dict[str, list[dict]] = {}


def rendered(case: str) -> list[dict]:
    if case not in _rendered:
        out_dir = os.environ.get("ARANGOPIPE_HELM_RENDER_DIR")
        out = Path(out_dir) / f"{case}.yaml" if out_dir else None
        if out is not None and out.is_file():
            text = out.read_text()
        else:
            text = helm(*template_args(VALUES_DIR / f"{case}.yaml")).stdout
        _rendered[case] = parse(text)
    return _rendered[case]


def values(case: str) -> dict:
    return yaml.safe_load((VALUES_DIR / f"{case}.yaml").read_text()) or {}


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [d for d in of_kind(docs, kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}{' ' + name if name else ''}, found {len(found)}"
    return found[0]


def deployment(case: str) -> dict:
    return one(rendered(case), "Deployment")


def server_container(case: str) -> dict:
    (container,) = [c for c in deployment(case)["spec"]["template"]["spec"]["containers"] if c["name"] == "server"]
    return container


def config(case: str) -> dict[str, str]:
    return one(rendered(case), "ConfigMap", FULLNAME)["data"]


def volumes(case: str) -> dict[str, dict]:
    return {v["name"]: v for v in deployment(case)["spec"]["template"]["spec"]["volumes"]}


def mounts(case: str) -> dict[str, str]:
    return {m["mountPath"]: m["name"] for m in server_container(case)["volumeMounts"]}


def is_embedded(case: str) -> bool:
    return values(case).get("store", {}).get("mode", "embedded") == "embedded"


def tls_on(case: str) -> bool:
    return bool(values(case).get("tls", {}).get("enabled"))


EMBEDDED = [c for c in CASES if is_embedded(c)]
ARANGODB = [c for c in CASES if not is_embedded(c)]


# ------------------------------------------------------------------------------- chart and values


def test_cases_cover_both_modes():
    assert len(EMBEDDED) >= 3 and len(ARANGODB) >= 2, CASES


def test_every_value_is_documented_with_param():
    text = (CHART / "values.yaml").read_text()
    documented = set(re.findall(r"^\s*## @param (\S+)", text, re.M))
    opaque = {"podSecurityContext", "securityContext", "resources", "sidecar.resources"}

    def leaves(node: dict, prefix: str = ""):
        for key, value in node.items():
            path = prefix + key
            if isinstance(value, dict) and value and path not in opaque:
                yield from leaves(value, path + ".")
            else:
                yield path

    all_values = set(leaves(yaml.safe_load(text)))
    assert all_values - documented == set(), "values without an @param comment"
    assert documented - all_values == set(), "@param comments for values that do not exist"


def test_readme_values_tables_are_up_to_date():
    import values_table

    assert (CHART / "README.md").read_text() == values_table.updated_readme(), (
        "the values tables of helm/arangopipe/README.md are stale: run helm/test-chart.sh --update"
    )


def test_chart_metadata():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["kubeVersion"] == ">=1.27.0-0"


def test_no_default_credentials_in_values():
    v = yaml.safe_load((CHART / "values.yaml").read_text())
    assert v["auth"]["enabled"] is True
    assert v["auth"]["adminToken"] == "" and v["auth"]["existingSecret"] == ""
    assert v["auth"]["generateAdminToken"] is False and v["auth"]["allowInsecureRemote"] is False
    assert v["arangodb"]["password"] == ""
    assert v["tls"]["key"] == ""


def test_install_without_token_fails_with_a_clear_message():
    proc = helm(*template_args(None), check=False)
    assert proc.returncode != 0
    assert "no administrator token is set" in proc.stderr
    for hint in ("auth.existingSecret", "auth.adminToken", "auth.generateAdminToken", "auth.allowInsecureRemote=true"):
        assert hint in proc.stderr


def test_insecure_mode_needs_both_switches():
    proc = helm(*template_args(None, "--set", "auth.enabled=false"), check=False)
    assert proc.returncode != 0 and "auth.allowInsecureRemote=true" in proc.stderr
    proc = helm(*template_args(None, "--set", "auth.enabled=false", "--set", "auth.allowInsecureRemote=true"))
    cfg = one(parse(proc.stdout), "ConfigMap")["data"]
    assert cfg["ARANGOPIPE_AUTH"] == "off" and cfg["ARANGOPIPE_ALLOW_INSECURE_REMOTE"] == "true"


BAD = sorted(BAD_VALUES_DIR.glob("*.yaml"))


@pytest.mark.parametrize("bad", BAD, ids=[p.stem for p in BAD])
def test_bad_values_are_rejected(bad: Path):
    first = bad.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{bad.name}: first line must be '# expect: <message part>'"
    expected = first[len("# expect: "):]
    proc = helm(*template_args(bad), check=False)
    assert proc.returncode != 0, f"{bad.name} rendered, but it must be rejected"
    assert expected in proc.stderr, f"{bad.name}: the error does not mention {expected!r}:\n{proc.stderr}"


# ---------------------------------------------------------------------------- every rendered case


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("kube", CHART_KUBE_VERSIONS)
def test_manifests_validate_against_kubernetes_schemas(case: str, kube: str):
    checked = 0
    for doc in rendered(case):
        if doc["kind"] in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(doc, kube, strict=True)
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} is invalid for Kubernetes {kube}: {path}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            pytest.fail(e.message)
        checked += 1
    assert checked >= 6


@pytest.mark.parametrize("case", CASES)
def test_common_labels_and_namespace(case: str):
    for doc in rendered(case):
        meta = doc["metadata"]
        assert meta["namespace"] == NAMESPACE, meta["name"]
        labels = meta["labels"]
        if doc["kind"] == "ArangoDeployment":
            # never the server's selector labels: its pods must not join the server's Service
            assert labels["app.kubernetes.io/name"] == "arangopipe-arangodb"
        elif doc["kind"] == "Pod":
            assert labels["app.kubernetes.io/name"] == "arangopipe-test"
        else:
            assert labels["app.kubernetes.io/name"] == "arangopipe"
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["helm.sh/chart"] == "arangopipe-0.1.0"


@pytest.mark.parametrize("case", CASES)
def test_only_server_pods_match_the_selectors(case: str):
    selector = deployment(case)["spec"]["selector"]["matchLabels"]
    assert one(rendered(case), "Service", FULLNAME)["spec"]["selector"] == selector
    for doc in rendered(case):
        if doc["kind"] in ("Pod", "ArangoDeployment"):
            assert not selector.items() <= doc["metadata"]["labels"].items(), doc["metadata"]["name"]


@pytest.mark.parametrize("case", CASES)
def test_security_contexts(case: str):
    pod = deployment(case)["spec"]["template"]["spec"]
    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True and psc["runAsUser"] == 10001 and psc["fsGroup"] == 10001
    assert psc["seccompProfile"]["type"] == "RuntimeDefault"
    csc = server_container(case)["securityContext"]
    assert csc["runAsNonRoot"] is True
    assert csc["readOnlyRootFilesystem"] is True
    assert csc["allowPrivilegeEscalation"] is False
    assert csc["capabilities"]["drop"] == ["ALL"]
    assert csc["seccompProfile"]["type"] == "RuntimeDefault"
    # the read-only root filesystem needs a writable /tmp (JVM, sqlite-jdbc's native library)
    assert "emptyDir" in volumes(case)[mounts(case)["/tmp"]]
    assert "-Djava.io.tmpdir=/tmp" in config(case)["JAVA_TOOL_OPTIONS"]
    assert "-Dorg.sqlite.tmpdir=/tmp" in config(case)["JAVA_TOOL_OPTIONS"]
    assert pod["automountServiceAccountToken"] is False


@pytest.mark.parametrize("case", CASES)
def test_probes_on_the_numeric_grpc_port(case: str):
    container = server_container(case)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["grpc"] == GRPC_PORT
    for name in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = container[name]
        if tls_on(case):
            # the kubelet's gRPC probe cannot speak TLS
            assert "grpc" not in probe and probe["tcpSocket"]["port"] == GRPC_PORT, name
        else:
            assert "tcpSocket" not in probe and "exec" not in probe and "httpGet" not in probe, name
            port = probe["grpc"]["port"]
            assert type(port) is int and port == ports["grpc"], f"{name}: gRPC probes need the numeric port"


@pytest.mark.parametrize("case", [c for c in CASES if not tls_on(c)])
def test_readiness_follows_the_store_but_liveness_does_not(case: str):
    # "" turns NOT_SERVING while ArangoDB is unreachable: readiness takes the pod out of the Service.
    # The server's "liveness" name stays SERVING: a database outage must not restart the pods, and
    # the startup probe (which gates liveness) asks the same.
    container = server_container(case)
    assert LIVENESS_SERVICE == "liveness"
    assert container["readinessProbe"]["grpc"]["service"] == ""
    assert container["livenessProbe"]["grpc"]["service"] == LIVENESS_SERVICE
    assert container["startupProbe"]["grpc"]["service"] == LIVENESS_SERVICE


@pytest.mark.parametrize("case", CASES)
def test_service_speaks_grpc(case: str):
    svc = one(rendered(case), "Service", FULLNAME)
    grpc = {p["name"]: p for p in svc["spec"]["ports"]}["grpc"]
    assert grpc["appProtocol"] == "grpc" and grpc["port"] == GRPC_PORT and grpc["targetPort"] == "grpc"
    assert svc["spec"]["selector"] == deployment(case)["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("case", CASES)
def test_configmap_sets_known_server_options_only(case: str):
    cfg = config(case)
    names = {k for k in cfg if k.startswith("ARANGOPIPE_")}
    assert ARANGODB_ENV <= SERVER_ENV, ARANGODB_ENV - SERVER_ENV
    assert names <= SERVER_ENV, names - SERVER_ENV
    assert cfg["ARANGOPIPE_BIND"] == "0.0.0.0" and cfg["ARANGOPIPE_PORT"] == str(GRPC_PORT)
    assert all(isinstance(v, str) for v in cfg.values())
    assert not [v for v in cfg.values() if re.fullmatch(r"[0-9.]+e\+[0-9]+", v)], "a number rendered as a float"
    # no secret material in the ConfigMap
    flat = yaml.safe_dump(values(case))
    for secret in re.findall(r"(?:adminToken|password): (\S+)", flat):
        assert secret not in cfg.values()
    assert server_container(case)["envFrom"][0]["configMapRef"]["name"] == FULLNAME


@pytest.mark.parametrize("case", CASES)
def test_config_and_secret_checksums_roll_the_pods(case: str):
    annotations = deployment(case)["spec"]["template"]["metadata"]["annotations"]
    assert re.fullmatch(r"[0-9a-f]{64}", annotations["checksum/config"])
    assert re.fullmatch(r"[0-9a-f]{64}", annotations["checksum/secret"])


@pytest.mark.parametrize("case", CASES)
def test_helm_test_pod_checks_grpc_health(case: str):
    pods = [d for d in of_kind(rendered(case), "Pod") if d["metadata"]["annotations"].get("helm.sh/hook") == "test"]
    assert len(pods) == 1
    pod = pods[0]
    (container,) = pod["spec"]["containers"]
    assert container["image"].startswith("fullstorydev/grpcurl:")
    script = container["command"][-1]
    assert "grpc.health.v1.Health/Check" in script and '"status": "SERVING"' in script
    assert f"{FULLNAME}.{NAMESPACE}.svc:{GRPC_PORT}" in script
    assert ("-plaintext" in script) != tls_on(case)
    assert pod["metadata"]["labels"][f"{FULLNAME}-client"] == "true"  # passes the NetworkPolicy
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True


@pytest.fixture(scope="module")
def notes_chart(tmp_path_factory) -> Path:
    """A copy of the chart whose NOTES.txt is also rendered into a ConfigMap (helm template leaves
    NOTES.txt out)."""
    copy = tmp_path_factory.mktemp("notes") / "arangopipe"
    shutil.copytree(CHART, copy)
    notes = (copy / "templates" / "NOTES.txt").read_text()
    (copy / "templates" / "_notes_preview.tpl").write_text('{{- define "preview.notes" -}}\n' + notes + "\n{{- end }}\n")
    (copy / "templates" / "notes-preview.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-preview\n"
        'data:\n  notes: {{ include "preview.notes" . | toJson }}\n'
    )
    return copy


def render_notes(chart: Path, values_file: Path) -> str:
    args = template_args(values_file, "--show-only", "templates/notes-preview.yaml")
    args[2] = str(chart)
    return yaml.safe_load(helm(*args).stdout)["data"]["notes"]


@pytest.mark.parametrize("case", CASES)
def test_notes_give_a_port_forward_and_grpcurl_recipe(notes_chart: Path, case: str):
    notes = render_notes(notes_chart, VALUES_DIR / f"{case}.yaml")
    port_forward = f"kubectl --namespace {NAMESPACE} port-forward service/{FULLNAME} {GRPC_PORT}:{GRPC_PORT}"
    assert port_forward in notes
    conn = "-cacert" if tls_on(case) else "-plaintext"
    assert f"grpcurl {conn}" in notes and f"localhost:{GRPC_PORT} list" in notes
    assert "grpc.health.v1.Health/Check" in notes
    if values(case).get("auth", {}).get("enabled", True):
        assert '-H "authorization: Bearer $TOKEN"' in notes
        assert re.search(r"TOKEN=\$\(kubectl --namespace default get secret \S+ -o jsonpath='\{\.data\.[^}]+\}' \| base64 -d\)", notes)
    else:
        assert "authentication is OFF" in notes
    if not is_embedded(case):
        assert "ArangoDB: database " in notes and "The servers exit at start until ArangoDB answers" in notes
        assert ("readiness probe" in notes) != tls_on(case)
    assert f"helm test {RELEASE}" in notes
    assert "<no value>" not in notes


# ------------------------------------------------------------------------------------ store modes


@pytest.mark.parametrize("case", EMBEDDED)
def test_embedded_runs_one_replica_with_recreate_and_a_volume(case: str):
    docs = rendered(case)
    spec = deployment(case)["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    assert of_kind(docs, "HorizontalPodAutoscaler") == []
    assert of_kind(docs, "ArangoDeployment") == []
    cfg = config(case)
    assert cfg["ARANGOPIPE_STORE"] == "sqlite" and cfg["ARANGOPIPE_DATA_DIR"] == "/data"
    assert not {k for k in cfg if k.startswith("ARANGOPIPE_ARANGODB_")}
    data = volumes(case)[mounts(case)["/data"]]
    persistence = values(case).get("persistence", {})
    pvcs = of_kind(docs, "PersistentVolumeClaim")
    if persistence.get("enabled", True) is False:
        assert "emptyDir" in data and pvcs == []
    elif persistence.get("existingClaim"):
        assert data["persistentVolumeClaim"]["claimName"] == persistence["existingClaim"] and pvcs == []
    else:
        assert len(pvcs) == 1
        pvc = pvcs[0]
        assert data["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
        assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_embedded_default_case_has_a_pvc():
    assert len(of_kind(rendered("embedded"), "PersistentVolumeClaim")) == 1


@pytest.mark.parametrize("case", ARANGODB)
def test_arangodb_mode_is_stateless_and_wired_to_the_database(case: str):
    docs = rendered(case)
    v = values(case)
    assert of_kind(docs, "PersistentVolumeClaim") == []
    spec = deployment(case)["spec"]
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert "/data" not in mounts(case)
    cfg = config(case)
    assert cfg["ARANGOPIPE_STORE"] == "arangodb"
    assert "ARANGOPIPE_DATA_DIR" not in cfg
    assert ARANGODB_ENV - {"ARANGOPIPE_ARANGODB_CA_FILE"} <= set(cfg)
    assert "ARANGOPIPE_ARANGODB_PASSWORD" not in cfg  # a file, never the value
    db_values = v.get("arangodb", {})
    assert cfg["ARANGOPIPE_ARANGODB_PROTOCOL"] == db_values.get("protocol", "http2")
    assert cfg["ARANGOPIPE_ARANGODB_GRAPH"] == db_values.get("graph", "enterprise_ml_graph")
    assert int(cfg["ARANGOPIPE_ARANGODB_WRITE_CONCERN"]) <= int(cfg["ARANGOPIPE_ARANGODB_REPLICATION_FACTOR"])
    assert cfg["ARANGOPIPE_ARANGODB_ONE_SHARD"] in ("true", "false")
    if cfg["ARANGOPIPE_ARANGODB_ONE_SHARD"] == "true":
        assert cfg["ARANGOPIPE_ARANGODB_SHARDS"] == "1"
    if "ARANGOPIPE_ARANGODB_CA_FILE" in cfg:
        assert all(e.startswith("https://") for e in cfg["ARANGOPIPE_ARANGODB_ENDPOINTS"].split(","))
    # the password: a file from the Secret, never a value in the ConfigMap
    assert cfg["ARANGOPIPE_ARANGODB_PASSWORD_FILE"] == "/etc/arangopipe/arangodb/password"
    assert mounts(case)["/etc/arangopipe/arangodb"] == "arangodb-password"
    secret = volumes(case)["arangodb-password"]["secret"]
    db = v.get("arangodb", {})
    if db.get("existingSecret"):
        assert secret["secretName"] == db["existingSecret"]
        assert secret["items"] == [{"key": db.get("existingSecretPasswordKey", "password"), "path": "password"}]
    elif db.get("password"):
        made = one(docs, "Secret", f"{FULLNAME}-arangodb")
        assert secret["secretName"] == made["metadata"]["name"] and "password" in made["data"]
    if db.get("endpoints"):
        assert cfg["ARANGOPIPE_ARANGODB_ENDPOINTS"] == ",".join(db["endpoints"])
    if "ARANGOPIPE_ARANGODB_CA_FILE" in cfg:
        assert mounts(case)["/etc/arangopipe/arangodb-ca"] == "arangodb-ca"
    autoscaling = v.get("autoscaling", {}).get("enabled", False)
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    if autoscaling:
        (hpa,) = hpas
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": FULLNAME}
        assert "replicas" not in spec  # the HPA owns it
    else:
        assert hpas == [] and spec["replicas"] == v.get("replicaCount", 1)


def test_arangodb_cases_include_an_hpa():
    assert [c for c in ARANGODB if of_kind(rendered(c), "HorizontalPodAutoscaler")]


def test_chart_defaults_are_the_servers_defaults():
    # Outside operator Cluster mode the chart passes the server's own defaults (README table = --help).
    cfg = config("arangodb-inline")
    for name in ("ARANGOPIPE_ARANGODB_DATABASE", "ARANGOPIPE_ARANGODB_USER", "ARANGOPIPE_ARANGODB_GRAPH",
                 "ARANGOPIPE_ARANGODB_PROTOCOL", "ARANGOPIPE_ARANGODB_TIMEOUT",
                 "ARANGOPIPE_ARANGODB_REPLICATION_FACTOR", "ARANGOPIPE_ARANGODB_WRITE_CONCERN",
                 "ARANGOPIPE_ARANGODB_SHARDS", "ARANGOPIPE_ARANGODB_ONE_SHARD"):
        assert cfg[name] == SERVER_DEFAULTS[name], name
    assert SERVER_DEFAULTS["ARANGOPIPE_ARANGODB_MAX_CONNECTIONS"] == "none"
    assert "ARANGOPIPE_ARANGODB_MAX_CONNECTIONS" not in cfg  # the server picks it from the protocol


def test_arangodb_external_sets_every_option_given():
    cfg = config("arangodb-external")
    assert cfg["ARANGOPIPE_ARANGODB_GRAPH"] == "pipelines_graph"
    assert cfg["ARANGOPIPE_ARANGODB_PROTOCOL"] == "http1"
    assert cfg["ARANGOPIPE_ARANGODB_MAX_CONNECTIONS"] == "4"
    assert cfg["ARANGOPIPE_ARANGODB_TIMEOUT"] == "5"
    assert cfg["ARANGOPIPE_ARANGODB_REPLICATION_FACTOR"] == "3"
    assert cfg["ARANGOPIPE_ARANGODB_WRITE_CONCERN"] == "2"
    assert cfg["ARANGOPIPE_ARANGODB_SHARDS"] == "3"
    assert cfg["ARANGOPIPE_ARANGODB_ONE_SHARD"] == "false"


def test_operator_cluster_defaults_are_replicated_and_one_shard():
    cfg = config("arangodb-operator")  # Cluster, 3 DB-Servers, nothing else set
    assert cfg["ARANGOPIPE_ARANGODB_REPLICATION_FACTOR"] == "3"
    assert cfg["ARANGOPIPE_ARANGODB_WRITE_CONCERN"] == "2"
    assert cfg["ARANGOPIPE_ARANGODB_ONE_SHARD"] == "true" and cfg["ARANGOPIPE_ARANGODB_SHARDS"] == "1"
    # two DB-Servers: two copies, a write needs one
    docs = parse(helm(*template_args(VALUES_DIR / "arangodb-operator.yaml", "--set",
                                     "arangodb.operator.dbservers=2")).stdout)
    cfg2 = one(docs, "ConfigMap", FULLNAME)["data"]
    assert cfg2["ARANGOPIPE_ARANGODB_REPLICATION_FACTOR"] == "2" and cfg2["ARANGOPIPE_ARANGODB_WRITE_CONCERN"] == "1"
    # explicit values win over the defaults
    docs = parse(helm(*template_args(VALUES_DIR / "arangodb-operator.yaml", "--set", "arangodb.replicationFactor=2",
                                     "--set", "arangodb.writeConcern=2", "--set", "arangodb.oneShard=false",
                                     "--set", "arangodb.shards=4")).stdout)
    cfg3 = one(docs, "ConfigMap", FULLNAME)["data"]
    assert (cfg3["ARANGOPIPE_ARANGODB_REPLICATION_FACTOR"], cfg3["ARANGOPIPE_ARANGODB_WRITE_CONCERN"],
            cfg3["ARANGOPIPE_ARANGODB_ONE_SHARD"], cfg3["ARANGOPIPE_ARANGODB_SHARDS"]) == ("2", "2", "false", "4")


def test_operator_single_mode_leaves_the_layout_at_one():
    docs = rendered("arangodb-operator-single")
    ad = one(docs, "ArangoDeployment")
    assert ad["spec"]["mode"] == "Single" and "single" in ad["spec"] and "dbservers" not in ad["spec"]
    cfg = config("arangodb-operator-single")
    assert cfg["ARANGOPIPE_ARANGODB_REPLICATION_FACTOR"] == "1"
    assert cfg["ARANGOPIPE_ARANGODB_WRITE_CONCERN"] == "1"
    assert cfg["ARANGOPIPE_ARANGODB_ONE_SHARD"] == "false" and cfg["ARANGOPIPE_ARANGODB_SHARDS"] == "1"
    name = ad["metadata"]["name"]
    assert cfg["ARANGOPIPE_ARANGODB_ENDPOINTS"] == f"https://{name}.{NAMESPACE}.svc:8529"
    assert volumes("arangodb-operator-single")["arangodb-ca"]["secret"] == {
        "secretName": f"{name}-ca", "defaultMode": 0o444, "items": [{"key": "ca.crt", "path": "ca.crt"}]}
    assert not of_kind(docs, "HorizontalPodAutoscaler") and deployment("arangodb-operator-single")["spec"]["replicas"] == 1


def test_operator_without_tls_uses_http_and_no_ca():
    docs = parse(helm(*template_args(VALUES_DIR / "arangodb-operator.yaml", "--set",
                                     "arangodb.operator.tls=false")).stdout)
    ad = one(docs, "ArangoDeployment")
    assert ad["spec"]["tls"] == {"caSecretName": "None"}
    cfg = one(docs, "ConfigMap", FULLNAME)["data"]
    assert cfg["ARANGOPIPE_ARANGODB_ENDPOINTS"] == f"http://{ad['metadata']['name']}.{NAMESPACE}.svc:8529"
    assert "ARANGOPIPE_ARANGODB_CA_FILE" not in cfg
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert "arangodb-ca" not in {v["name"] for v in pod["volumes"]}


def test_arangodb_external_references_existing_secrets():
    cfg = config("arangodb-external")
    assert cfg["ARANGOPIPE_ARANGODB_DATABASE"] == "pipelines" and cfg["ARANGOPIPE_ARANGODB_USER"] == "arangopipe"
    assert cfg["ARANGOPIPE_ARANGODB_CA_FILE"] == "/etc/arangopipe/arangodb-ca/ca.crt"
    assert volumes("arangodb-external")["arangodb-ca"]["secret"]["secretName"] == "arangodb-ca"
    assert volumes("arangodb-external")["admin-token"]["secret"]["secretName"] == "arangopipe-admin"
    # nothing made by the chart holds secrets: they all exist already
    assert [s["metadata"]["name"] for s in of_kind(rendered("arangodb-external"), "Secret")] == []


def test_arangodb_operator_makes_an_arangodeployment_and_uses_its_secrets():
    docs = rendered("arangodb-operator")
    ad = one(docs, "ArangoDeployment")
    name = ad["metadata"]["name"]
    assert ad["apiVersion"] == "database.arangodb.com/v1" and name == f"{FULLNAME}-db"
    assert ad["spec"]["mode"] == "Cluster" and ad["spec"]["dbservers"]["count"] == 3
    assert ad["spec"]["dbservers"]["resources"]["requests"]["storage"] == "20Gi"
    root_secret = ad["spec"]["bootstrap"]["passwordSecretNames"]["root"]
    assert root_secret == f"{name}-root-password"
    cfg = config("arangodb-operator")
    assert cfg["ARANGOPIPE_ARANGODB_ENDPOINTS"] == f"https://{name}.{NAMESPACE}.svc:8529"
    assert cfg["ARANGOPIPE_ARANGODB_USER"] == "root"
    assert volumes("arangodb-operator")["arangodb-password"]["secret"]["secretName"] == root_secret
    ca = volumes("arangodb-operator")["arangodb-ca"]["secret"]
    assert ca["secretName"] == f"{name}-ca" and ca["items"] == [{"key": "ca.crt", "path": "ca.crt"}]
    assert cfg["ARANGOPIPE_ARANGODB_CA_FILE"] == "/etc/arangopipe/arangodb-ca/ca.crt"
    assert mounts("arangodb-operator")["/etc/arangopipe/arangodb-ca"] == "arangodb-ca"
    # OneShard (the Cluster default) is in the Community edition from 3.12.5
    tag = tuple(int(x) for x in ad["spec"]["image"].rsplit(":", 1)[1].split("."))
    assert tag >= (3, 12, 5), ad["spec"]["image"]


# ------------------------------------------------------------------------------------ auth and TLS


def test_inline_admin_token_goes_to_a_secret_file():
    secret = one(rendered("embedded"), "Secret", f"{FULLNAME}-auth")
    assert base64.b64decode(secret["data"]["admin-token"]).decode() == "test-token-for-ci-only"
    assert config("embedded")["ARANGOPIPE_ADMIN_TOKEN_FILE"] == "/etc/arangopipe/auth/admin-token"
    assert config("embedded")["ARANGOPIPE_AUTH"] == "on"
    assert mounts("embedded")["/etc/arangopipe/auth"] == "admin-token"
    assert volumes("embedded")["admin-token"]["secret"]["secretName"] == f"{FULLNAME}-auth"


def test_existing_secrets_are_referenced_not_made():
    case = "embedded-existing-secrets"
    assert of_kind(rendered(case), "Secret") == []
    token = volumes(case)["admin-token"]["secret"]
    assert token["secretName"] == "arangopipe-admin" and token["items"] == [{"key": "token", "path": "admin-token"}]
    tls = volumes(case)["tls"]["secret"]
    assert tls["secretName"] == "arangopipe-tls"
    assert {i["key"] for i in tls["items"]} == {"tls.crt", "tls.key"}


def test_generated_token_is_random_and_kept():
    secret = one(rendered("embedded-generated-token"), "Secret", f"{FULLNAME}-auth")
    token = base64.b64decode(secret["data"]["admin-token"]).decode()
    assert re.fullmatch(r"[A-Za-z0-9]{48}", token)
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_insecure_mode_has_no_token_and_says_so():
    cfg = config("embedded-insecure")
    assert cfg["ARANGOPIPE_AUTH"] == "off" and cfg["ARANGOPIPE_ALLOW_INSECURE_REMOTE"] == "true"
    assert "ARANGOPIPE_ADMIN_TOKEN_FILE" not in cfg and "admin-token" not in volumes("embedded-insecure")


def test_mutual_tls_metrics_servicemonitor_networkpolicy():
    case = "embedded-full"
    docs = rendered(case)
    cfg = config(case)
    assert cfg["ARANGOPIPE_TLS_CERT"] == "/etc/arangopipe/tls/tls.crt"
    assert cfg["ARANGOPIPE_TLS_KEY"] == "/etc/arangopipe/tls/tls.key"
    assert cfg["ARANGOPIPE_TLS_CLIENT_CA"] == "/etc/arangopipe/tls/ca.crt"
    assert cfg["ARANGOPIPE_TLS_CLIENT_AUTH"] == "require"
    tls_secret = one(docs, "Secret", f"{FULLNAME}-tls")
    assert set(tls_secret["data"]) == {"tls.crt", "tls.key", "ca.crt"}
    assert volumes(case)["tls"]["secret"]["secretName"] == f"{FULLNAME}-tls"
    # metrics: container port, Service port, ServiceMonitor on it
    assert cfg["ARANGOPIPE_METRICS_PORT"] == "9464" and cfg["ARANGOPIPE_METRICS_BIND"] == "0.0.0.0"
    assert {p["name"]: p["containerPort"] for p in server_container(case)["ports"]}["metrics"] == 9464
    svc_ports = {p["name"]: p for p in one(docs, "Service")["spec"]["ports"]}
    assert svc_ports["metrics"]["port"] == 9464 and svc_ports["metrics"]["targetPort"] == "metrics"
    sm = one(docs, "ServiceMonitor")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["spec"]["endpoints"][0]["port"] == "metrics" and sm["spec"]["endpoints"][0]["path"] == "/metrics"
    assert sm["spec"]["endpoints"][0]["interval"] == "15s"
    assert sm["metadata"]["labels"]["release"] == "prometheus"
    assert sm["spec"]["selector"]["matchLabels"].items() <= one(docs, "Service")["metadata"]["labels"].items()
    # network policy: gRPC from client-labelled pods and the training namespace; metrics from monitoring
    np = one(docs, "NetworkPolicy")
    assert np["spec"]["policyTypes"] == ["Ingress", "Egress"]
    grpc_rule, metrics_rule = np["spec"]["ingress"]
    assert grpc_rule["ports"] == [{"port": GRPC_PORT, "protocol": "TCP"}]
    assert {"podSelector": {"matchLabels": {f"{FULLNAME}-client": "true"}}} in grpc_rule["from"]
    assert len(grpc_rule["from"]) == 2
    assert metrics_rule["ports"] == [{"port": 9464, "protocol": "TCP"}]
    assert np["spec"]["egress"][0]["ports"][0]["port"] == 53
    # helm test with TLS: no -plaintext, a client certificate for mutual TLS
    test_pod = one(docs, "Pod")
    assert "-cert /client/tls.crt" in test_pod["spec"]["containers"][0]["command"][-1]


def test_servicemonitor_only_with_metrics():
    docs = rendered("embedded-servicemonitor-without-metrics")
    assert of_kind(docs, "ServiceMonitor") == []
    assert [p["name"] for p in one(docs, "Service")["spec"]["ports"]] == ["grpc"]
    assert "ARANGOPIPE_METRICS_PORT" not in config("embedded-servicemonitor-without-metrics")
    for case in CASES:
        v = values(case).get("metrics", {})
        expected = 1 if v.get("enabled") and v.get("serviceMonitor", {}).get("enabled") else 0
        assert len(of_kind(rendered(case), "ServiceMonitor")) == expected, case


def test_optional_resources_are_off_by_default():
    kinds = {d["kind"] for d in rendered("embedded")}
    assert kinds == {
        "Deployment", "Service", "ServiceAccount", "ConfigMap", "Secret", "PersistentVolumeClaim",
        "PodDisruptionBudget", "Pod",
    }


@pytest.mark.parametrize("case", CASES)
def test_custom_resources_are_well_formed(case: str):
    for doc in rendered(case):
        if doc["kind"] in CUSTOM_KINDS:
            assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}
            assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", doc["metadata"]["name"])


# ---------------------------------------------------------------------------------------- sidecar


_example_dependency_ready = False


def render_example(*args: str) -> str:
    """Renders the example chart; its dependency is this chart, by a file:// reference, packaged
    afresh into the example's charts/ once per run."""
    global _example_dependency_ready
    if not _example_dependency_ready:
        helm("dependency", "update", "--skip-refresh", str(EXAMPLE_CHART))
        _example_dependency_ready = True
    return helm("template", "training-job", str(EXAMPLE_CHART), "--namespace", NAMESPACE,
                "--kube-version", SIDECAR_KUBE_VERSIONS[0], *args).stdout


@pytest.fixture(scope="module")
def example_docs() -> list[dict]:
    return parse(render_example())


def test_sidecar_example_is_a_job_with_a_native_sidecar(example_docs):
    (job,) = example_docs  # the dependency renders nothing of its own (arangopipe.enabled=false)
    assert job["kind"] == "Job"
    pod = job["spec"]["template"]["spec"]
    (sidecar,) = pod["initContainers"]
    assert sidecar["restartPolicy"] == "Always"
    env = {e["name"]: e["value"] for e in sidecar["env"]}
    assert env["ARANGOPIPE_BIND"] == "127.0.0.1"  # loopback: no authentication needed
    assert env["ARANGOPIPE_STORE"] == "sqlite" and env["ARANGOPIPE_DATA_DIR"] == "/data"
    assert "ARANGOPIPE_ADMIN_TOKEN_FILE" not in env and "ARANGOPIPE_ALLOW_INSECURE_REMOTE" not in env
    # started when it serves: the port file appears once the server listens
    assert sidecar["startupProbe"]["exec"]["command"] == ["cat", env["ARANGOPIPE_PORT_FILE"]]
    assert env["ARANGOPIPE_PORT_FILE"].startswith("/tmp/")
    vols = {v["name"]: v for v in pod["volumes"]}
    sidecar_mounts = {m["mountPath"]: m["name"] for m in sidecar["volumeMounts"]}
    assert "emptyDir" in vols[sidecar_mounts["/data"]] and "emptyDir" in vols[sidecar_mounts["/tmp"]]
    sc = sidecar["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["runAsNonRoot"] is True
    assert sc["capabilities"]["drop"] == ["ALL"] and sc["allowPrivilegeEscalation"] is False
    (train,) = pod["containers"]
    assert {e["name"]: e["value"] for e in train["env"]}["ARANGOPIPE_TARGET"] == f"127.0.0.1:{env['ARANGOPIPE_PORT']}"
    assert pod["restartPolicy"] == "Never" and pod["securityContext"]["fsGroup"] == 10001


@pytest.mark.parametrize("kube", SIDECAR_KUBE_VERSIONS)
def test_sidecar_example_validates(example_docs, kube: str):
    for doc in example_docs:
        kubernetes_validate.validate(doc, kube, strict=True)


def test_native_sidecars_are_unknown_to_kubernetes_1_27(example_docs):
    # Why the example needs a newer cluster than the chart: Kubernetes 1.27 has no restartPolicy on
    # init containers; 1.28 has it behind an alpha feature gate; from 1.29 it is on by default.
    with pytest.raises(kubernetes_validate.ValidationError, match="restartPolicy"):
        kubernetes_validate.validate(example_docs[0], "1.27.0", strict=True)


def test_sidecar_with_existing_claim():
    text = render_example("--set", "arangopipe.sidecar.existingClaim=training-metadata")
    (job,) = parse(text)
    vols = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert vols["arangopipe-data"] == {"name": "arangopipe-data", "persistentVolumeClaim": {"claimName": "training-metadata"}}


def test_committed_example_manifest_is_up_to_date(example_docs):
    committed = EXAMPLE_RENDERED.read_text()
    assert parse(committed) == example_docs, (
        "helm/examples/training-job.yaml differs from the example chart's rendering: "
        "regenerate it with helm/test-chart.sh --update"
    )
