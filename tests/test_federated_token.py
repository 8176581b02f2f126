"""`.ci/federated_token.py`: the token file the state backend and the secrets provider sign in with
during a long `pulumi up`, kept fresh from GitHub Actions' OIDC endpoint (served here on loopback
as GitHub serves it: a bearer request, `{"value": <jwt>}` back)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "federated_token.py"
BEARER = "job-request-BEARER"


class _GitHub(BaseHTTPRequestHandler):
    served: list[str]
    fail = False

    def log_message(self, *_: Any) -> None:
        return

    def do_GET(self) -> None:
        if self.fail or self.headers.get("Authorization") != f"Bearer {BEARER}":
            self.send_response(403)
            self.end_headers()
            return
        self.served.append(self.path)
        body = json.dumps({"value": f"oidc-{len(self.served)}"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def github() -> Any:
    handler = type("GitHub", (_GitHub,), {"served": [], "fail": False})
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, handler
    server.shutdown()


def _env(server: HTTPServer, token_file: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"http://127.0.0.1:{server.server_address[1]}/token?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": BEARER,
        **extra,
    }


def test_once_writes_a_token_for_entra_readable_by_the_runner_only(github: Any, tmp_path: Path) -> None:
    server, handler = github
    token_file = tmp_path / "deep" / "token"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--once"], env=_env(server, token_file), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert token_file.read_text() == "oidc-1"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert handler.served == ["/token?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange"]
    assert [p.name for p in token_file.parent.iterdir()] == ["token"]  # no temporary file left


def test_every_keeps_rewriting_it_while_a_long_up_runs(github: Any, tmp_path: Path) -> None:
    server, handler = github
    token_file = tmp_path / "token"
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--every", "0.2"], env=_env(server, token_file), stderr=subprocess.PIPE
    )
    try:
        deadline = time.time() + 20
        while len(handler.served) < 3 and time.time() < deadline:
            time.sleep(0.05)
        # GitHub failing for a while leaves the last good token in place, and is said once per try.
        handler.fail = True
        time.sleep(0.5)
        kept = token_file.read_text()
    finally:
        process.kill()
        _, err = process.communicate(timeout=10)
    assert len(handler.served) >= 3 and kept == f"oidc-{len(handler.served)}"
    assert b"GitHub's OIDC token could not be had (HTTPError)" in err and BEARER.encode() not in err


def test_without_an_oidc_permission_it_says_so(github: Any, tmp_path: Path) -> None:
    server, _ = github
    env = _env(server, tmp_path / "token")
    del env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
    done = subprocess.run([sys.executable, str(SCRIPT), "--once"], env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == (
        "federated token: ACTIONS_ID_TOKEN_REQUEST_TOKEN not set (the job needs `permissions: id-token: write`)\n"
    )


def test_a_refusal_fails_the_first_write_loudly_without_the_bearer(github: Any, tmp_path: Path) -> None:
    server, handler = github
    handler.fail = True
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--once"],
        env=_env(server, tmp_path / "token"),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr == "federated token: GitHub's OIDC token could not be had (HTTPError)\n"
    assert not (tmp_path / "token").exists()


def test_the_workflow_starts_it_before_pulumi_and_stops_it_after() -> None:
    import yaml

    job = yaml.safe_load((ROOT / ".github" / "workflows" / "pulumi.yml").read_text())["jobs"]["pulumi"]
    (step,) = [s for s in job["steps"] if "federated_token.py" in str(s.get("run"))]
    script = step["run"]
    assert script.index("--once") < script.index("--every") < script.index("pulumi login")
    assert 'trap \'kill "$refresher"' in script
    assert step["env"]["AZURE_FEDERATED_TOKEN_FILE"].startswith("${{ runner.temp }}/")
    assert {"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_STORAGE_ACCOUNT"} <= set(job["env"])
