#!/usr/bin/env python3
"""Generates the gRPC modules of arangopipe_client from ../proto, or checks that the committed ones are current.

    python client-python/scripts/generate.py          # regenerate src/arangopipe_client/v1/
    python client-python/scripts/generate.py --check  # regenerate into a temporary folder, fail on any difference

What it runs, for every proto/arangopipe/v1/*.proto:

    python -m grpc_tools.protoc -I proto -I <grpc_tools>/_proto
        --python_out --mypy_out            (every file: messages and their typed stubs)
        --grpc_python_out --mypy_grpc_out  (*_service.proto only: the service stubs)

then one rewrite, the only change made to protoc's output: the import lines
``from arangopipe.v1 import x_pb2`` become ``from arangopipe_client.v1 import x_pb2``.

Why the rewrite: protoc names a generated module after the .proto file's path, so the modules of
``arangopipe/v1/*.proto`` import each other as the top-level package ``arangopipe.v1``. Shipping a
top-level ``arangopipe`` package would shadow the seed library (PyPI ``arangopipe``) that our users are
migrating from and may still have installed, so the modules live under ``arangopipe_client.v1`` instead
and their imports are rewritten to match. Only lines that start with ``from arangopipe.v1 import`` or
``import arangopipe.v1.`` are touched; descriptors, method paths ("/arangopipe.v1.TrackingService/...")
and comments are left exactly as protoc wrote them.

The output depends on the generator versions, so they are pinned in constraints.txt (grpcio-tools,
mypy-protobuf) and this script refuses to run with others.
"""

from __future__ import annotations

import argparse
import difflib
import filecmp
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIENT = HERE.parent
REPO = CLIENT.parent
PROTO_ROOT = REPO / "proto"
PROTO_PACKAGE_DIR = PROTO_ROOT / "arangopipe" / "v1"
TARGET = CLIENT / "src" / "arangopipe_client" / "v1"
CONSTRAINTS = CLIENT / "constraints.txt"
GENERATORS = ("grpcio-tools", "mypy-protobuf")

INIT = '''"""Generated gRPC modules for the arangopipe.v1 API (see scripts/generate.py). Do not edit."""
'''

_IMPORT_FROM = re.compile(r"^from arangopipe\.v1 import ", re.MULTILINE)
_IMPORT_MODULE = re.compile(r"^import arangopipe\.v1\.", re.MULTILINE)
_PROTOC_NOISE = re.compile(r"^.*warning: Import google/rpc/error_details\.proto is unused\.\s*$")


def pinned_versions() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def check_generator_versions() -> None:
    from importlib.metadata import PackageNotFoundError, version

    pins = pinned_versions()
    problems = []
    for name in GENERATORS:
        want = pins.get(name)
        try:
            have = version(name)
        except PackageNotFoundError:
            have = None
        if want is None:
            problems.append(f"{name} is not pinned in {CONSTRAINTS}")
        elif have != want:
            problems.append(f"{name} {have or '(not installed)'} is installed, {want} is pinned")
    if problems:
        sys.exit("generate.py: the generated code depends on the generator versions:\n  "
                 + "\n  ".join(problems)
                 + f"\ninstall the pinned ones: pip install -c {CONSTRAINTS} grpcio-tools mypy-protobuf"
                 + "\n(client-python/run-tests.sh sets up such a virtual environment in client-python/.venv)")


def plugin(name: str) -> str:
    exe = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if exe is None:
        sys.exit(f"generate.py: {name} not found next to {sys.executable} or on PATH; install mypy-protobuf")
    return exe


def run_protoc(out: Path) -> None:
    import grpc_tools  # fails early, with a clear ImportError, when grpcio-tools is missing

    protos = sorted(p.relative_to(PROTO_ROOT).as_posix() for p in PROTO_PACKAGE_DIR.glob("*.proto"))
    if not protos:
        sys.exit(f"generate.py: no .proto files in {PROTO_PACKAGE_DIR}")
    services = [p for p in protos if p.endswith("_service.proto")]
    include = Path(grpc_tools.__file__).resolve().parent / "_proto"
    common = [f"-I{PROTO_ROOT}", f"-I{include}",
              f"--plugin=protoc-gen-mypy={plugin('protoc-gen-mypy')}",
              f"--plugin=protoc-gen-mypy_grpc={plugin('protoc-gen-mypy_grpc')}"]
    # protoc runs in a child process so that its diagnostics can be filtered: the service files import
    # google/rpc/error_details.proto on purpose without using it (see proto/buf.yaml).
    code = "import sys; from grpc_tools import protoc; sys.exit(protoc.main(['protoc'] + sys.argv[1:]))"
    for args in (
        common + [f"--python_out={out}", f"--mypy_out=quiet:{out}"] + protos,
        common + [f"--grpc_python_out={out}", f"--mypy_grpc_out=quiet:{out}"] + services,
    ):
        proc = subprocess.run([sys.executable, "-c", code] + args, cwd=REPO, capture_output=True, text=True)
        noise = [line for line in (proc.stdout + proc.stderr).splitlines()
                 if line.strip() and not _PROTOC_NOISE.match(line)]
        if proc.returncode != 0 or noise:
            sys.exit("generate.py: protoc failed:\n" + "\n".join(noise))


def generate_into(dest: Path) -> None:
    """Writes the finished modules (rewritten imports, __init__.py) into the empty folder dest."""
    with tempfile.TemporaryDirectory(prefix="arangopipe-gen-") as tmp:
        raw = Path(tmp)
        run_protoc(raw)
        produced = raw / "arangopipe" / "v1"
        for src in sorted(produced.iterdir()):
            text = src.read_text(encoding="utf-8")
            text = _IMPORT_FROM.sub("from arangopipe_client.v1 import ", text)
            text = _IMPORT_MODULE.sub("import arangopipe_client.v1.", text)
            (dest / src.name).write_text(text, encoding="utf-8", newline="\n")
    (dest / "__init__.py").write_text(INIT, encoding="utf-8", newline="\n")


def generated_files(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix in (".py", ".pyi"))


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def check(target: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="arangopipe-check-") as tmp:
        fresh = Path(tmp)
        generate_into(fresh)
        want, have = generated_files(fresh), generated_files(target)
        problems = [f"missing: {n}" for n in want if n not in have]
        problems += [f"not generated from the protos (remove it): {n}" for n in have if n not in want]
        for name in want:
            if name in have and not filecmp.cmp(fresh / name, target / name, shallow=False):
                diff = difflib.unified_diff(
                    (target / name).read_text(encoding="utf-8").splitlines(keepends=True),
                    (fresh / name).read_text(encoding="utf-8").splitlines(keepends=True),
                    f"committed/{name}", f"generated/{name}", n=1)
                lines = [line if len(line) <= 160 else line[:157] + "...\n" for line in diff]
                problems.append(f"differs: {name}\n" + "".join(lines[:40])
                                + ("    ...\n" if len(lines) > 40 else ""))
        if problems:
            print(f"generated code in {_shown(target)} is out of date with {_shown(PROTO_ROOT)}:", file=sys.stderr)
            for p in problems:
                print("  " + p, file=sys.stderr)
            print("run: python client-python/scripts/generate.py   (and commit the result)", file=sys.stderr)
            return 1
        print(f"generated code is up to date ({len(want)} files in {_shown(target)})")
        return 0


def write(target: Path) -> int:
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="arangopipe-gen-") as tmp:
        fresh = Path(tmp)
        generate_into(fresh)
        for name in generated_files(target):
            (target / name).unlink()
        for name in generated_files(fresh):
            shutil.copyfile(fresh / name, target / name)
    print(f"wrote {len(generated_files(target))} files to {_shown(target)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temporary folder and fail if the committed modules differ")
    parser.add_argument("--target", type=Path, default=TARGET,
                        help=f"the folder of the generated modules (default: {_shown(TARGET)})")
    args = parser.parse_args(argv)
    check_generator_versions()
    return check(args.target) if args.check else write(args.target)


if __name__ == "__main__":
    sys.exit(main())
