#!/usr/bin/env python3
"""Keep a fresh GitHub Actions OIDC token in $AZURE_FEDERATED_TOKEN_FILE for Entra ID.

    .venv/bin/python .ci/federated_token.py --once          # write one, fail loudly if GitHub gives none
    .venv/bin/python .ci/federated_token.py --every 240 &   # then rewrite it every 4 minutes

The Pulumi CLI's state backend (azblob://) and secrets provider (azurekeyvault://) sign in through
the Azure SDK for Go's default credential chain, whose workload identity credential reads
AZURE_CLIENT_ID, AZURE_TENANT_ID and this file, and reads the file again whenever it needs a new
access token. GitHub's OIDC tokens are short-lived, so a file written once would be stale by the
time a long `pulumi up` needs a second access token; rewritten every few minutes, it never is.
The token is asked from ACTIONS_ID_TOKEN_REQUEST_URL with the job's ACTIONS_ID_TOKEN_REQUEST_TOKEN
(present when the job has `permissions: id-token: write`), for Entra ID's audience, and written
atomically, readable by the runner's user only. Neither token is ever printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# Run with the project's environment (.venv/bin/python): the same request the dynamic providers make.
from acr_cache.azure_login import GITHUB_OIDC_AUDIENCE, LoginError, github_oidc_token


def write(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A reader never sees a half-written file: write beside it, then rename over it.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, 0o600)
        os.write(handle, token.encode())
    finally:
        os.close(handle)
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--once", action="store_true", help="write the token once and exit")
    mode.add_argument("--every", type=float, metavar="SECONDS", help="rewrite it every SECONDS, until killed")
    args = parser.parse_args(argv)
    missing = [
        name
        for name in (
            "AZURE_FEDERATED_TOKEN_FILE",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        )
        if not os.environ.get(name)
    ]
    if missing:
        print(
            f"federated token: {', '.join(missing)} not set (the job needs `permissions: id-token: write`)",
            file=sys.stderr,
        )
        return 2
    path = Path(os.environ["AZURE_FEDERATED_TOKEN_FILE"])
    url, bearer = os.environ["ACTIONS_ID_TOKEN_REQUEST_URL"], os.environ["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
    fetch = github_oidc_token(url, bearer, os.environ.get("ARM_OIDC_AUDIENCE") or GITHUB_OIDC_AUDIENCE)
    while True:
        try:
            write(path, fetch())
        except LoginError as exc:
            print(f"federated token: {exc}", file=sys.stderr)
            if args.once:
                return 1
            # The file keeps the last token; the next round tries again.
        if args.once:
            return 0
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
