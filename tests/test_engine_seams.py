"""The seams between the program and the real engine that mocks cannot show (issue #12).

Each test reproduces what the engine, a plugin or Azure does (see tests/engine.py for the rules
and where in Pulumi's sources they come from), not what the mocks do.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto
from pulumi.runtime.proto import provider_pb2_grpc

from acr_cache.image_import import ImageImportProvider
from tests import engine

ROOT = Path(__file__).resolve().parent.parent


def test_the_launcher_and_the_language_host_find_the_same_environment() -> None:
    pwd = engine.engine_pwd(ROOT)
    launcher = engine.launcher_virtualenv(pwd, engine.plugin_environment(ROOT, {}))
    assert launcher is not None
    assert launcher.resolve() == engine.language_host_virtualenv(ROOT).resolve() == (ROOT / ".venv").resolve()
    assert (launcher / "bin" / "python").is_file()


def test_main_stacks_would_send_the_dynamic_provider_to_a_missing_environment(tmp_path: Path) -> None:
    # The layout before issue #12: the program ran, the imports could not.
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "__main__.py").write_text("")
    (tmp_path / "uv.lock").write_text("")
    (tmp_path / "Pulumi.yaml").write_text(
        "name: p\nruntime:\n  name: python\n  options:\n    toolchain: uv\nmain: stacks/\n"
    )
    pwd = engine.engine_pwd(tmp_path)
    assert pwd == tmp_path / "stacks"
    assert engine.launcher_virtualenv(pwd, engine.plugin_environment(tmp_path, {})) == tmp_path / "stacks" / ".venv"
    assert engine.language_host_virtualenv(tmp_path) == tmp_path / ".venv"


def test_the_plan_runs_the_entry_point_pulumi_runs() -> None:
    from acr_cache.plan.stackfile import load_stack_files

    files = load_stack_files("dev", None, ROOT)
    assert files.main == engine.engine_pwd(ROOT) / "__main__.py"


@pytest.mark.skipif(shutil.which("sh") is None, reason="the launcher is a POSIX shell script")
def test_the_dynamic_provider_serves_from_the_engine_directory_and_loads_the_import_provider() -> None:
    process, port = engine.start_dynamic_provider(ROOT)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            props = struct_pb2.Struct()
            props.update(
                {
                    # What the engine stores: the provider pickled by reference, so the process must
                    # import acr_cache.image_import from its own environment.
                    "__provider": serialize_provider(ImageImportProvider()),
                    "target": "base/alpine:3.20",
                    "source": "docker.io/library/alpine:3.20",
                }
            )
            changed = struct_pb2.Struct()
            changed.update({**dict(props.items()), "target": "base/alpine:3.21"})
            same = stub.Diff(proto.DiffRequest(id="x", urn="urn:x", olds=props, news=props), timeout=60)
            moved = stub.Diff(proto.DiffRequest(id="x", urn="urn:x", olds=props, news=changed), timeout=60)
        assert same.changes == proto.DiffResponse.DIFF_NONE
        assert moved.changes == proto.DiffResponse.DIFF_SOME
        assert list(moved.replaces) == ["target"]
    finally:
        process.kill()
        process.communicate(timeout=10)
