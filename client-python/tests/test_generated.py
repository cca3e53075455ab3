"""The generated modules: importable under arangopipe_client.v1, typed, shipped, and in sync with the protos."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import arangopipe_client

CLIENT_DIR = Path(__file__).resolve().parent.parent
SCRIPT = CLIENT_DIR / "scripts" / "generate.py"
PACKAGE_DIR = Path(arangopipe_client.__file__).resolve().parent
SOURCE_V1 = CLIENT_DIR / "src" / "arangopipe_client" / "v1"
MODULES = ["resources_pb2", "admin_messages_pb2", "admin_service_pb2", "admin_service_pb2_grpc",
           "tracking_messages_pb2", "tracking_service_pb2", "tracking_service_pb2_grpc",
           "lineage_messages_pb2", "lineage_service_pb2", "lineage_service_pb2_grpc"]


@pytest.mark.parametrize("name", MODULES)
def test_generated_module_imports_and_has_stub(name: str) -> None:
    module = importlib.import_module(f"arangopipe_client.v1.{name}")
    assert module.__name__ == f"arangopipe_client.v1.{name}"
    assert (PACKAGE_DIR / "v1" / f"{name}.pyi").is_file(), "typed stubs are installed with the package"


def test_package_is_typed() -> None:
    assert (PACKAGE_DIR / "py.typed").is_file()


def test_services_are_described_under_their_proto_names() -> None:
    from arangopipe_client.v1 import lineage_service_pb2, tracking_service_pb2

    assert tracking_service_pb2.DESCRIPTOR.name == "arangopipe/v1/tracking_service.proto"
    names = [m.name for m in tracking_service_pb2.DESCRIPTOR.services_by_name["TrackingService"].methods]
    assert "RegisterDataset" in names and "LogRun" in names
    assert "SearchRuns" in [m.name for m in lineage_service_pb2.DESCRIPTOR.services_by_name["LineageService"].methods]


def test_no_top_level_arangopipe_package_is_needed() -> None:
    code = ("import sys, arangopipe_client.v1.tracking_service_pb2_grpc; "
            "sys.exit(1 if 'arangopipe' in sys.modules or 'arangopipe.v1' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def _generator_available() -> bool:
    try:
        import grpc_tools  # noqa: F401
        import mypy_protobuf  # noqa: F401
    except ImportError:
        return False
    return True


needs_generator = pytest.mark.skipif(not _generator_available(), reason="grpcio-tools and mypy-protobuf not installed")


@needs_generator
def test_check_passes_on_the_committed_code() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_generator
def test_check_fails_on_any_difference(tmp_path: Path) -> None:
    copy = tmp_path / "v1"
    shutil.copytree(SOURCE_V1, copy, ignore=shutil.ignore_patterns("__pycache__"))
    edited = copy / "resources_pb2.pyi"
    edited.write_text(edited.read_text() + "\n# hand edit\n")
    (copy / "stray_pb2.py").write_text("")
    (copy / "admin_service_pb2_grpc.py").unlink()
    result = subprocess.run([sys.executable, str(SCRIPT), "--check", "--target", str(copy)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "differs: resources_pb2.pyi" in result.stderr and "-# hand edit" in result.stderr
    assert "not generated from the protos (remove it): stray_pb2.py" in result.stderr
    assert "missing: admin_service_pb2_grpc.py" in result.stderr
    # and regenerating repairs it
    assert subprocess.run([sys.executable, str(SCRIPT), "--target", str(copy)], capture_output=True).returncode == 0
    assert subprocess.run([sys.executable, str(SCRIPT), "--check", "--target", str(copy)],
                          capture_output=True).returncode == 0


@needs_generator
def test_only_import_lines_are_rewritten() -> None:
    text = (SOURCE_V1 / "tracking_service_pb2_grpc.py").read_text()
    assert "from arangopipe_client.v1 import tracking_messages_pb2" in text
    assert "'/arangopipe.v1.TrackingService/RegisterDataset'" in text, "method paths keep the proto package"
    assert "from arangopipe.v1 import" not in text
