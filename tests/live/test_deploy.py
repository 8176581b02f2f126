"""Live end-to-end test: deploy a throwaway stack into a new resource group, check it, destroy it.

Never runs in CI here. It needs the Pulumi CLI, an Azure login azure-native can use (`az login` or
ARM_*), and an explicit opt-in, because it creates billable resources:

    ACR_CACHE_LIVE=1 ARM_SUBSCRIPTION_ID=<id> \
    ACR_CACHE_LIVE_DOCKERHUB_USERNAME=<account> ACR_CACHE_LIVE_DOCKERHUB_TOKEN=<read-only PAT> \
    .venv/bin/python -m pytest tests/live -s

Like the Azure Verified Modules' idempotency check, a second preview after `up` must show no change.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = (
    "ACR_CACHE_LIVE",
    "ARM_SUBSCRIPTION_ID",
    "ACR_CACHE_LIVE_DOCKERHUB_USERNAME",
    "ACR_CACHE_LIVE_DOCKERHUB_TOKEN",
)
_missing = [name for name in REQUIRED if not os.environ.get(name)]
pytestmark = pytest.mark.skipif(
    bool(_missing) or shutil.which("pulumi") is None,
    reason="live Azure test: set " + ", ".join(_missing or ["nothing"]) + " and put the Pulumi CLI on PATH "
    "(it creates billable resources; see the module docstring)",
)

REGION = os.environ.get("ACR_CACHE_LIVE_REGION", "westeurope")


def _config(suffix: str) -> dict[str, Any]:
    return {
        "resourceGroup": {"name": f"rg-acr-cache-live-{suffix}", "create": True},
        "registry": {"name": f"acrcachelive{suffix}", "location": REGION, "sku": "Premium"},
        "keyVault": {"name": f"kv-acrlive-{suffix}", "purgeProtection": False, "softDeleteRetentionDays": 7},
        "credentialSets": {
            "dockerhub": {
                "loginServer": "docker.io",
                "username": {"configKey": "dockerHubUsername"},
                "password": {"configKey": "dockerHubToken"},
            }
        },
        "cacheRules": {
            "dockerhub-library": {
                "source": "docker.io/library/*",
                "target": "library/*",
                "credentialSet": "dockerhub",
            }
        },
        "imports": {"base/busybox:1.36": {"source": "mcr.microsoft.com/azurelinux/busybox:1.36"}},
        # A token whose password the dynamic provider generates into the vault, signed in by itself.
        "tokens": {"live-clients": {"repositories": {"library/*": ["read"]}, "expiryDays": 7}},
        "protection": {"protect": False, "locks": False},
    }


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Any]:
    import json

    from pulumi import automation as auto

    suffix = secrets.token_hex(4)
    env = {
        "PULUMI_BACKEND_URL": f"file://{tmp_path}",
        "PULUMI_CONFIG_PASSPHRASE": secrets.token_hex(16),
    }
    live = auto.create_or_select_stack(
        stack_name=f"live-{suffix}",
        work_dir=str(ROOT),
        opts=auto.LocalWorkspaceOptions(env_vars=env),
    )
    live.set_config("azure-native:location", auto.ConfigValue(REGION))
    for key, value in _config(suffix).items():
        live.set_config(f"acr-cache:{key}", auto.ConfigValue(json.dumps(value)))
    live.set_config(
        "acr-cache:dockerHubUsername",
        auto.ConfigValue(os.environ["ACR_CACHE_LIVE_DOCKERHUB_USERNAME"], secret=True),
    )
    live.set_config(
        "acr-cache:dockerHubToken",
        auto.ConfigValue(os.environ["ACR_CACHE_LIVE_DOCKERHUB_TOKEN"], secret=True),
    )
    try:
        yield live, suffix
    finally:
        live.destroy(on_output=print)
        live.workspace.remove_stack(live.name)
        Path(ROOT / f"Pulumi.live-{suffix}.yaml").unlink(missing_ok=True)


def _credential_health(registry: str, group: str) -> str:
    from azure.identity import AzureCliCredential
    from azure.mgmt.containerregistry import ContainerRegistryManagementClient

    client = ContainerRegistryManagementClient(AzureCliCredential(), os.environ["ARM_SUBSCRIPTION_ID"])
    credential_set = client.credential_sets.get(group, registry, "dockerhub")
    health = credential_set.auth_credentials[0].credential_health
    return str(health.status) if health else "Unknown"


def test_deploy_pull_through_idempotent_preview_and_destroy(stack: Any) -> None:
    live, suffix = stack
    result = live.up(on_output=print)
    outputs = result.outputs
    registry, group = outputs["registryName"].value, outputs["resourceGroupName"].value

    # Grants take minutes to propagate: the set turns Healthy once it can read its secrets.
    deadline = time.time() + 15 * 60
    while _credential_health(registry, group) != "Healthy":
        assert time.time() < deadline, "the credential set did not turn Healthy within 15 minutes"
        time.sleep(30)

    # A pull through the rule: reading the manifest fills the cache from Docker Hub.
    from acr_cache.digests import acr_tag_digest
    from azure.identity import AzureCliCredential

    token = AzureCliCredential().get_token("https://containerregistry.azure.net/.default").token
    digest = acr_tag_digest(f"{registry}.azurecr.io", "library/alpine", "3.20", token)
    assert digest and digest.startswith("sha256:")

    # The second preview must change nothing (the imports and passwords hold no per-run token).
    preview = live.preview(expect_no_changes=True, on_output=print)
    assert set(preview.change_summary) <= {"same"}
    # And the state holds no token: the dynamic resources' inputs and outputs as the engine stored them.
    state = live.export_stack().deployment["resources"]
    dynamic = [r for r in state if r["type"].startswith("pulumi-python:dynamic/")]
    assert dynamic and not any(
        key in r.get(part, {})
        for r in dynamic
        for part in ("inputs", "outputs")
        for key in ("accessToken", "registryAccessToken")
    )

    live.destroy(on_output=print)
    import subprocess

    exists = subprocess.run(
        ["az", "group", "exists", "-n", f"rg-acr-cache-live-{suffix}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert exists.stdout.strip() == "false"
    # Left behind on purpose: the two Key Vault secrets (retained on delete) went with the group.
