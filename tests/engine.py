"""What the real Pulumi engine does at the seams the mocks skip, re-stated from its sources.

Each function names the file of pulumi/pulumi (v3.27x) whose behaviour it reproduces, so that a
test can check the project against the engine's rules instead of the mock's.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

# Which old resource a new registration takes over: the library's re-statement, used by the diff too.
from acr_cache.review.matching import create_urn, take_over

__all__ = ["create_urn", "take_over"]


def project(root: Path) -> dict[str, Any]:
    document = yaml.safe_load((root / "Pulumi.yaml").read_text())
    assert isinstance(document, dict)
    return document


def runtime_options(root: Path) -> dict[str, str]:
    runtime = project(root).get("runtime")
    options = runtime.get("options", {}) if isinstance(runtime, dict) else {}
    return {str(k): str(v) for k, v in (options or {}).items()}


def engine_pwd(root: Path) -> Path:
    """pkg/engine/project.go `getPwdMain`: the directory the program and every plugin start in.

    No `main`: the project root. A directory: that directory. A file: the file's directory.
    """
    main = project(root).get("main")
    if not main:
        return root
    path = (root / str(main)).resolve()
    if not path.exists():
        raise FileNotFoundError(f"project 'main' could not be read: {path}")
    return path if path.is_dir() else path.parent


def plugin_environment(root: Path, base: dict[str, str]) -> dict[str, str]:
    """sdk/go/common/resource/plugin/provider_plugin.go: runtime options of Pulumi.yaml reach
    resource plugins as PULUMI_RUNTIME_<OPTION> (as written, relative paths stay relative), and
    they win over the same variables in the engine's own environment."""
    environment = dict(base)
    for key, value in runtime_options(root).items():
        environment[f"PULUMI_RUNTIME_{key.upper()}"] = value
    environment["PULUMI_PROJECT"] = str(project(root)["name"])
    return environment


def launcher_virtualenv(pwd: Path, environment: dict[str, str]) -> Path | None:
    """sdk/python/dist/pulumi-resource-pulumi-python: the venv the dynamic provider runs in.

    PULUMI_RUNTIME_VIRTUALENV if set; else `.venv` for the uv toolchain (poetry asks poetry);
    a relative path is made absolute against $PWD, the directory the engine started it in.
    """
    virtualenv = environment.get("PULUMI_RUNTIME_VIRTUALENV", "")
    if not virtualenv and environment.get("PULUMI_RUNTIME_TOOLCHAIN") == "uv":
        virtualenv = ".venv"
    if not virtualenv:
        return None
    virtualenv = virtualenv.rstrip("/")
    return Path(virtualenv) if virtualenv.startswith("/") else pwd / virtualenv


def language_host_virtualenv(root: Path) -> Path:
    """sdk/python/toolchain/toolchain.go `ResolveToolchain` and uv.go `newUv` (toolchain uv): the
    venv the language host runs the program in. An explicit `virtualenv` is relative to the
    project root; without one, `.venv` beside the nearest uv.lock (else pyproject.toml) found
    searching upward from the program directory."""
    options = runtime_options(root)
    assert options.get("toolchain") == "uv", "these rules are the uv toolchain's"
    if options.get("virtualenv"):
        return (root / options["virtualenv"]).resolve()
    program_dir = engine_pwd(root)
    for marker in ("uv.lock", "pyproject.toml"):
        for directory in (program_dir, *program_dir.parents):
            if (directory / marker).is_file():
                return directory / ".venv"
    return program_dir / ".venv"


def dynamic_provider_config(config: dict[str, str], secret_keys: set[str] = frozenset()) -> Any:  # type: ignore[assignment]
    """pkg/resource/deploy/target.go `GetPackageConfig` for `pulumi-python`: the whole stack
    config, keys with their namespace, values as strings, secret ones as secrets; marshalled with
    secrets kept (provider_plugin.go Configure), as the Configure request's `args`."""
    from pulumi.runtime import rpc

    struct = rpc.struct_pb2.Struct()
    for key, value in config.items():
        if key in secret_keys:
            struct[key] = {rpc._special_sig_key: rpc._special_secret_sig, "value": value}
        else:
            struct[key] = value
    return struct


def start_dynamic_provider(
    root: Path, environment_changes: dict[str, str | None] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """Start the Python dynamic provider as the engine and its launcher do; return it and its port.

    The process starts in the engine's directory with the launcher's environment: the venv's
    bin first on PATH, PYTHONHOME unset, nothing of this test process's sys.path. The CLI's own
    environment reaches it (the `ARM_*` variables, for instance): `environment_changes` stands for
    the CLI's (None removes a variable).
    """
    pwd = engine_pwd(root)
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    for key, value in (environment_changes or {}).items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    environment = plugin_environment(root, base)
    virtualenv = launcher_virtualenv(pwd, environment)
    if virtualenv is None or not (virtualenv / "bin" / "python").is_file():
        raise FileNotFoundError(
            f"the dynamic provider's launcher looks for a virtual environment at {virtualenv} "
            f"(started in {pwd}), and there is none"
        )
    environment["PATH"] = f"{virtualenv / 'bin'}{os.pathsep}{environment.get('PATH', '')}"
    command = [str(virtualenv / "bin" / "python"), "-u", "-m", "pulumi.dynamic"]
    return _serve(command, pwd, environment, "the dynamic provider")


def _serve(
    command: list[str], cwd: Path, environment: dict[str, str], what: str
) -> tuple[subprocess.Popen[bytes], int]:
    """Start a plugin and read the port it prints first, as the engine does."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.isdigit():
        process.kill()
        _, err = process.communicate(timeout=10)
        raise RuntimeError(f"{what} did not print its port: {line!r} {err.decode()[-2000:]}")
    return process, int(line)


def policy_pack_command(pack: Path) -> tuple[list[str], Path]:
    """How the CLI starts a local Python policy pack: pkg (sdk/go/common/resource/plugin/
    analyzer_plugin.go `NewPolicyAnalyzer`) runs `pulumi-analyzer-policy-python <engine> .` with one
    `-<option>=<value>` per runtime option of PulumiPolicy.yaml, in the pack's directory; that
    script (sdk/python/dist/pulumi-analyzer-policy-python) makes `-virtualenv` absolute against
    $PWD and runs `<venv>/bin/python -u -m pulumi.policy <engine> .`, or fails with "doesn't appear
    to be a virtual environment" when there is no `bin/python`. Nothing installs the environment."""
    document = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())
    runtime = document.get("runtime")
    options = runtime.get("options", {}) if isinstance(runtime, dict) else {}
    virtualenv = str(options.get("virtualenv") or "").rstrip("/")
    if not virtualenv:
        return ["python3", "-u", "-m", "pulumi.policy"], pack
    venv = Path(virtualenv) if virtualenv.startswith("/") else pack / virtualenv
    if not (venv / "bin" / "python").is_file():
        raise FileNotFoundError(f'"{venv}" doesn\'t appear to be a virtual environment')
    return [str(venv / "bin" / "python"), "-u", "-m", "pulumi.policy"], pack


def start_policy_pack(pack: Path, engine_address: str) -> tuple[subprocess.Popen[bytes], int]:
    """Start the pack as the CLI does (policy_pack_command) and return it with the port it prints."""
    command, cwd = policy_pack_command(pack)
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return _serve([*command, engine_address, "."], cwd, base, "the policy pack")
