"""`acr-cache health`: credential sets and cache rules read from a loopback ARM server."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from acr_cache.cli import main
from acr_cache.config import parse_stack_config
from acr_cache.health import Finding, check, read_health
from azure.core.credentials import AccessToken

from tests.arm_server import VALID_TOKEN, ArmServer, Scenario
from tests.conftest import HUB_LIBRARY_RULE, HUB_SET_FROM_CONFIG, ROOT, as_pulumi_config, sections

SUB = "00000000-0000-0000-0000-000000000000"
CLI_SUBSCRIPTION = "99999999-9999-9999-9999-999999999999"
"""The subscription the fake `az` says is its default."""
VAULT = {"name": "kv-acrtest01"}
SETS = {
    "dockerhub": HUB_SET_FROM_CONFIG,
    "ghcrorg": {
        "loginServer": "ghcr.io",
        "username": {"secretName": "ghcr-user"},
        "password": {"secretName": "ghcr-token"},
    },
}
RULES = {
    "dockerhub-library": HUB_LIBRARY_RULE,
    "ghcr-org": {"source": "ghcr.io/org/*", "target": "ghcr/*", "credentialSet": "ghcrorg"},
    "mcr-dotnet": {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*"},
}
DOCUMENT = sections(keyVault=VAULT, credentialSets=SETS, cacheRules=RULES)
SECRETS = {"acr-cache:hubUser": "octocat", "acr-cache:hubToken": "t"}
CONFIG = parse_stack_config({**as_pulumi_config(DOCUMENT), **SECRETS}, list(SECRETS))


def live_set(status: str | None, code: str | None = None, message: str | None = None) -> dict[str, Any]:
    """A credential set's `properties` as ARM returns them."""
    health = {
        "status": status,
        **({"errorCode": code} if code else {}),
        **({"errorMessage": message} if message else {}),
    }
    return {
        "loginServer": "docker.io",
        "authCredentials": [
            {
                "name": "Credential1",
                "usernameSecretIdentifier": "https://kv-acrtest01.vault.azure.net/secrets/dockerhub-username",
                "passwordSecretIdentifier": "https://kv-acrtest01.vault.azure.net/secrets/dockerhub-password",
                **({"credentialHealth": health} if status else {}),
            }
        ],
        "provisioningState": "Succeeded",
    }


def live_rule(state: str = "Succeeded") -> dict[str, Any]:
    return {"sourceRepository": "x", "targetRepository": "y", "provisioningState": state}


class StaticCredential:
    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        return AccessToken(VALID_TOKEN, int(time.time()) + 3600)


def _check(scenario: Scenario) -> list[Finding]:
    with ArmServer(scenario) as server:
        findings = check(
            CONFIG,
            SUB,
            StaticCredential(),
            arm_endpoint=server.endpoint,
            client_options={"connection_verify": str(server.cert_path)},
        )
    return findings


DOCKERHUB_FIX = (
    "set the new token with `pulumi config set --secret hubToken <token>` and run `pulumi up` (the stack writes "
    "it to Key Vault secret dockerhub-password in kv-acrtest01); the set reads the newest secret version, so "
    "nothing in the registry changes; if the token is valid, the set's identity lacks Key Vault Secrets User on "
    "the secrets: `pulumi up` grants it"
)


def test_an_unhealthy_set_is_reported_with_azures_reason_and_the_rotation_steps() -> None:
    scenario = Scenario(
        credential_sets={
            "dockerhub": live_set("Unhealthy", "UnauthorizedAccess", "The upstream refused the credentials."),
            "ghcrorg": live_set("Healthy"),
        },
        cache_rules={name: live_rule() for name in RULES},
    )
    findings = _check(scenario)
    assert findings == [
        Finding(
            "credential set",
            "dockerhub",
            "Unhealthy",
            "UnauthorizedAccess: The upstream refused the credentials.",
            DOCKERHUB_FIX,
        ),
        Finding("credential set", "ghcrorg", "Healthy"),
        Finding(
            "cache rule",
            "dockerhub-library",
            "Unhealthy",
            "its credential set dockerhub is not healthy: pulls through library/* fail",
            "fix credential set dockerhub (above)",
        ),
        Finding("cache rule", "ghcr-org", "Succeeded"),
        Finding("cache rule", "mcr-dotnet", "Succeeded"),
    ]
    listings = [r for r in scenario.requests if r["method"] == "GET"]
    base = f"/subscriptions/{SUB}/resourceGroups/rg-acr-test/providers/Microsoft.ContainerRegistry/registries/acrcachetest01"
    assert [r["path"] for r in listings] == [f"{base}/credentialSets", f"{base}/cacheRules"]
    assert all(r["headers"]["Authorization"] == f"Bearer {VALID_TOKEN}" for r in listings)
    assert all("api-version=2025-11-01" in r["query"] for r in listings)


def test_missing_sets_and_rules_and_a_failed_rule() -> None:
    scenario = Scenario(
        credential_sets={"dockerhub": live_set("Healthy")},
        cache_rules={"dockerhub-library": live_rule(), "mcr-dotnet": live_rule("Failed")},
    )
    assert _check(scenario) == [
        Finding("credential set", "dockerhub", "Healthy"),
        Finding(
            "credential set", "ghcrorg", "Missing", "not in the registry", "run `pulumi up` to create it"
        ),
        Finding("cache rule", "dockerhub-library", "Succeeded"),
        Finding(
            "cache rule",
            "ghcr-org",
            "Missing",
            "not in the registry",
            "run `pulumi up` to create it",
        ),
        Finding(
            "cache rule", "mcr-dotnet", "Failed", "provisioning did not succeed", "run `pulumi up` again"
        ),
    ]


def test_a_rule_behind_a_missing_set_is_reported_through_the_set_not_by_its_own_state() -> None:
    # The rule itself says Succeeded, but its set is gone from the registry: its pulls fail.
    scenario = Scenario(
        credential_sets={"dockerhub": live_set("Healthy")},
        cache_rules={name: live_rule() for name in RULES},
    )
    findings = {(f.kind, f.name): f for f in _check(scenario)}
    assert findings[("credential set", "ghcrorg")].state == "Missing"
    assert findings[("cache rule", "ghcr-org")] == Finding(
        "cache rule",
        "ghcr-org",
        "Unhealthy",
        "its credential set ghcrorg is not healthy: pulls through ghcr/* fail",
        "fix credential set ghcrorg (above)",
    )
    assert findings[("cache rule", "dockerhub-library")].state == "Succeeded"


def test_a_set_is_judged_by_its_primary_credential() -> None:
    # A set may carry a secondary credential beside Credential1 (the one the stack writes): the
    # health of the set is its primary's.
    primary = live_set("Unhealthy", "UnauthorizedAccess", "The upstream refused the credentials.")
    secondary = {**live_set("Healthy")["authCredentials"][0], "name": "Credential2"}
    primary["authCredentials"].append(secondary)
    scenario = Scenario(
        credential_sets={"dockerhub": primary, "ghcrorg": live_set("Healthy")},
        cache_rules={name: live_rule() for name in RULES},
    )
    findings = {(f.kind, f.name): f for f in _check(scenario)}
    assert findings[("credential set", "dockerhub")].state == "Unhealthy"


def test_a_set_whose_secrets_live_in_the_vault_is_rotated_there() -> None:
    live = SimpleNamespace(
        name="ghcrorg",
        auth_credentials=[
            SimpleNamespace(
                credential_health=SimpleNamespace(status="Unhealthy", error_code=None, error_message=None)
            )
        ],
    )
    (finding,) = [f for f in read_health(CONFIG, [live], []) if f.name == "ghcrorg"]
    assert finding.detail == "Azure gives no reason"
    assert finding.fix.startswith(
        "write the new token as a new version of Key Vault secret ghcr-token: `az keyvault secret set "
        "--vault-name kv-acrtest01 --name ghcr-token --value <token>`; the set reads the newest secret version"
    )


def test_a_set_without_a_health_report_is_unknown_and_not_fine() -> None:
    (finding,) = [
        f
        for f in read_health(CONFIG, [SimpleNamespace(name="dockerhub", auth_credentials=[])], [])
        if f.name == "dockerhub"
    ]
    assert (finding.state, finding.fine) == ("Unknown", False)


# --- the command, signed in through a stand-in `az` as azure-native's default login is -----------


def _project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "__main__.py").write_text((ROOT / "stacks" / "__main__.py").read_text())
    config: dict[str, Any] = {f"acr-cache:{key}": value for key, value in DOCUMENT.items()}
    config["acr-cache:hubUser"] = "octocat"
    config["acr-cache:hubToken"] = {"secure": "v1:AAAA"}  # encrypted: the command never needs it
    (tmp_path / "Pulumi.t.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return tmp_path


def _fake_az(tmp_path: Path) -> Path:
    """An `az` that answers `az account get-access-token` as the Azure CLI does."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "az"
    answer = {
        "accessToken": VALID_TOKEN,
        "expiresOn": "2099-01-01 00:00:00.000000",
        "expires_on": 4070908800,
        "subscription": SUB,
        "tenant": "11111111-1111-1111-1111-111111111111",
        "tokenType": "Bearer",
    }
    account = {"id": CLI_SUBSCRIPTION, "name": "Platform", "environmentName": "AzureCloud", "isDefault": True}
    # `az account show` answers the default subscription; anything else, a token (get-access-token).
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"print(json.dumps({account!r} if sys.argv[1:3] == ['account', 'show'] else {answer!r}))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return bin_dir


@pytest.fixture
def signed_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in [k for k in os.environ if k.startswith(("ARM_", "AZURE_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PATH", f"{_fake_az(tmp_path)}{os.pathsep}{os.environ['PATH']}")
    project = tmp_path / "project"
    project.mkdir()
    return _project(project)


def _run(project: Path, server: ArmServer, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    # requests (under azure-core) trusts the loopback server's certificate through this variable.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert_path))
    return main(
        [
            "health",
            "t",
            "--cwd",
            str(project),
            "--subscription",
            SUB,
            "--arm-endpoint",
            server.endpoint,
            *extra,
        ]
    )


def test_the_command_exits_1_and_says_what_to_do(
    signed_in: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = Scenario(
        credential_sets={
            "dockerhub": live_set("Unhealthy", "UnauthorizedAccess", "The upstream refused the credentials."),
            "ghcrorg": live_set("Healthy"),
        },
        cache_rules={name: live_rule() for name in RULES},
    )
    with ArmServer(scenario) as server:
        code = _run(signed_in, server, monkeypatch)
    out = capsys.readouterr().out
    assert code == 1
    assert out.splitlines()[0] == (
        # Labels are as wide as the widest, `cache rule dockerhub-library` (28).
        "credential set dockerhub      Unhealthy  (UnauthorizedAccess: The upstream refused the credentials.)"
    )
    assert out.splitlines()[1] == f"{'':28}  fix: {DOCKERHUB_FIX}"
    assert out.splitlines()[-1] == "5 checked, 2 not healthy"
    assert "t" not in {r["headers"].get("Authorization") for r in scenario.requests}


def test_the_command_exits_0_when_all_is_healthy_and_speaks_json(
    signed_in: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = Scenario(
        credential_sets={name: live_set("Healthy") for name in SETS},
        cache_rules={name: live_rule() for name in RULES},
    )
    with ArmServer(scenario) as server:
        code = _run(signed_in, server, monkeypatch, "--format", "json")
    assert code == 0
    assert json.loads(capsys.readouterr().out)[0] == {
        "kind": "credential set",
        "name": "dockerhub",
        "state": "Healthy",
        "detail": "",
        "fix": "",
    }


def test_a_registry_that_is_not_there_exits_4_with_one_line(
    signed_in: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with ArmServer(Scenario(registry_exists=False)) as server:
        code = _run(signed_in, server, monkeypatch)
    err = capsys.readouterr().err
    assert code == 4
    assert err == (
        f"error: registry acrcachetest01 in resource group rg-acr-test (subscription {SUB}) was not found "
        "(ResourceNotFound: The Resource 'Microsoft.ContainerRegistry/registries/acrcachetest01' was not "
        "found.): run `pulumi up` first, or check the subscription\n"
    )


def test_without_a_subscription_the_azure_clis_default_is_read(
    signed_in: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = Scenario(
        credential_sets={name: live_set("Healthy") for name in SETS},
        cache_rules={name: live_rule() for name in RULES},
    )
    with ArmServer(scenario) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert_path))
        code = main(["health", "t", "--cwd", str(signed_in), "--arm-endpoint", server.endpoint])
    assert code == 0, capsys.readouterr().err
    assert {r["path"].split("/")[2] for r in scenario.requests} == {CLI_SUBSCRIPTION}


def test_without_a_subscription_or_a_cli_login_the_command_says_where_to_give_one(
    signed_in: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(signed_in))  # no `az` on it
    assert main(["health", "t", "--cwd", str(signed_in)]) == 2
    assert capsys.readouterr().err == (
        "error: no subscription: pass --subscription, set ARM_SUBSCRIPTION_ID or azure-native:subscriptionId in "
        "the stack, or sign in with `az login` (its default subscription is taken)\n"
    )


def test_errors_are_json_under_format_json(
    signed_in: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with ArmServer(Scenario(registry_exists=False)) as server:
        code = _run(signed_in, server, monkeypatch, "--format", "json")
    captured = capsys.readouterr()
    assert code == 4 and captured.err == ""
    answer = json.loads(captured.out)
    assert answer["exitCode"] == 4 and answer["problems"] == []
    assert answer["error"].startswith("registry acrcachetest01 in resource group rg-acr-test")
    (signed_in / "Pulumi.t.yaml").write_text("config:\n  acr-cache:registry: {}\n")
    assert main(["health", "t", "--cwd", str(signed_in), "--format", "json"]) == 2
    answer = json.loads(capsys.readouterr().out)
    assert answer["exitCode"] == 2 and answer["problems"][0].startswith("acr-cache:")


def test_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["health", "--help"])
    text = capsys.readouterr().out
    assert "exit codes:\n  0  everything is healthy\n  1  something is not" in text
    assert "  2  bad config or invocation" in text and "  4  the registry could not be read" in text


def test_in_github_actions_the_command_signs_in_with_oidc_as_azure_native_does(
    signed_in: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from acr_cache import azure_login

    from tests.arm_server import FEDERATED_TOKEN

    # The loopback server is Entra ID and GitHub's token endpoint; MSAL must not look the
    # authority up on the internet (what `disable_instance_discovery` is for).
    credential = azure_login.LoginSettings.credential
    monkeypatch.setattr(
        azure_login.LoginSettings,
        "credential",
        lambda self, **o: credential(self, disable_instance_discovery=True, **o),
    )
    scenario = Scenario(
        credential_sets={name: live_set("Healthy") for name in SETS},
        cache_rules={name: live_rule() for name in RULES},
        github_bearer="job-request-token",
    )
    with ArmServer(scenario) as server:
        for key, value in {
            "ARM_USE_OIDC": "true",
            "ARM_CLIENT_ID": "66666666-7777-8888-9999-000000000000",
            "ARM_TENANT_ID": "11111111-2222-3333-4444-555555555555",
            "ARM_SUBSCRIPTION_ID": SUB,
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{server.endpoint}/github/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "job-request-token",
            "AZURE_AUTHORITY_HOST": server.endpoint,
            "REQUESTS_CA_BUNDLE": str(server.cert_path),
            "SSL_CERT_FILE": str(server.cert_path),  # urllib (GitHub's endpoint) trusts it this way
        }.items():
            monkeypatch.setenv(key, value)
        code = main(["health", "t", "--cwd", str(signed_in), "--arm-endpoint", server.endpoint])
    assert code == 0, capsys.readouterr().err
    (exchange,) = [s for s in scenario.sign_ins if s["method"] == "POST"]
    assert exchange["granted"] and exchange["form"]["client_assertion_type"].endswith("jwt-bearer")
    assert scenario.github_requests == ["api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange"]
    assert set(scenario.used_tokens) <= set(scenario.issued) and FEDERATED_TOKEN not in scenario.used_tokens
    # The app signed in as is ARM_CLIENT_ID, with GitHub's token as its assertion (the server grants
    # only that assertion), in ARM_TENANT_ID.
    assert exchange["form"]["client_id"] == "66666666-7777-8888-9999-000000000000"
    assert exchange["path"].startswith("/11111111-2222-3333-4444-555555555555/")


@pytest.mark.parametrize("client", ["77777777-8888-9999-aaaa-bbbbbbbbbbbb", ""])
def test_with_a_managed_identity_the_command_asks_for_the_configured_one(
    signed_in: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], client: str
) -> None:
    """ARM_USE_MSI with ARM_CLIENT_ID signs in as that user-assigned identity, without it as the
    system-assigned one; through the host's identity endpoint, as on App Service, Azure Arc or a VM."""
    scenario = Scenario(
        credential_sets={name: live_set("Healthy") for name in SETS},
        cache_rules={name: live_rule() for name in RULES},
        identity_header="host-secret",
    )
    with ArmServer(scenario) as server:
        settings = {
            "ARM_USE_MSI": "true",
            "ARM_CLIENT_ID": client,
            "ARM_SUBSCRIPTION_ID": SUB,
            "IDENTITY_ENDPOINT": f"{server.endpoint}/msi/token",
            "IDENTITY_HEADER": "host-secret",
            "REQUESTS_CA_BUNDLE": str(server.cert_path),
        }
        for key, value in settings.items():
            if value:
                monkeypatch.setenv(key, value)
            else:
                monkeypatch.delenv(key, raising=False)
        endpoint = server.endpoint
        code = main(["health", "t", "--cwd", str(signed_in), "--arm-endpoint", endpoint])
    assert code == 0, capsys.readouterr().err
    [asked] = scenario.identity_requests
    assert asked.get("client_id", "") == client
    # Health asks for the audience of the endpoint it reads (test_the_sign_in_asks_for_the_endpoints_own_audience).
    assert asked["resource"] == endpoint
    assert scenario.used_tokens and set(scenario.used_tokens) <= set(scenario.issued)


NOW = __import__("datetime").datetime(2026, 12, 5, tzinfo=__import__("datetime").UTC)


def _token(name: str, *passwords: tuple[str, int, int]) -> SimpleNamespace:
    """A token as the SDK lists it: (slot, created days before NOW, expires days after NOW)."""
    import datetime

    return SimpleNamespace(
        name=name,
        credentials=SimpleNamespace(
            passwords=[
                SimpleNamespace(
                    name=slot,
                    creation_time=NOW - datetime.timedelta(days=created),
                    expiry=NOW + datetime.timedelta(days=expires),
                )
                for slot, created, expires in passwords
            ]
        ),
    )


def test_each_tokens_newest_password_is_judged_by_its_expiry() -> None:
    tokens = {
        name: {"repositories": {"library/nginx": []}}
        for name in ("ci-old", "edge-sites", "kiosk-halls", "lab-bench", "new-kiosk")
    }
    config = parse_stack_config(as_pulumi_config(sections(keyVault=VAULT, tokens=tokens)))
    live = [
        # Rotated: password2 is newer; password1 (kept for stragglers) expiring does not matter.
        _token("edge-sites", ("password1", 300, 5), ("password2", 10, 355)),
        _token("kiosk-halls", ("password1", 340, 25)),
        _token("lab-bench", ("password1", 400, -1)),
        _token("new-kiosk", ("password1", 0, 30)),
    ]
    findings = {f.name: f for f in read_health(config, [], [], live, now=NOW) if f.kind == "token password"}
    rotate = (
        "change `rotation` of token kiosk-halls in the stack (`acr-cache:tokens.kiosk-halls.rotation`) and run `pulumi up`: "
        "Azure generates the other password into the secret, this one stays valid meanwhile"
    )
    assert findings["edge-sites"] == Finding(
        "token password", "edge-sites", "Valid", "password2 expires 2027-11-25, in 355 days"
    )
    assert findings["kiosk-halls"] == Finding(
        "token password", "kiosk-halls", "Expiring", "password1 expires 2026-12-30, in 25 days", rotate
    )
    assert findings["lab-bench"].state == "Expired" and findings["lab-bench"].detail == (
        "password1 expires 2026-12-04: clients cannot sign in"
    )
    assert (findings["new-kiosk"].state, findings["new-kiosk"].detail) == (
        "Expiring",
        "password1 expires 2027-01-04, in 30 days",
    )
    assert (findings["ci-old"].state, findings["ci-old"].detail) == ("Missing", "not in the registry")
    assert [f.fine for f in findings.values()] == [False, True, False, False, False]


def test_the_edges_of_a_tokens_judgement() -> None:
    """Where the states meet (30 days, 0 days), which password is the newest (by creation, not by
    expiry), and the shapes the SDK may hand over (no password, no slot name, a naive datetime)."""
    import datetime

    names = (
        "thirty-and-a-half",
        "half-a-day",
        "half-a-day-ago",
        "rotated-short",
        "no-password",
        "unnamed",
        "naive",
    )
    tokens = {name: {"repositories": {"library/nginx": []}} for name in names}
    config = parse_stack_config(as_pulumi_config(sections(keyVault=VAULT, tokens=tokens)))

    def password(slot: str | None, created: float, expires: float, aware: bool = True) -> SimpleNamespace:
        expiry = NOW + datetime.timedelta(days=expires)
        return SimpleNamespace(
            name=slot,
            creation_time=NOW - datetime.timedelta(days=created),
            expiry=expiry if aware else expiry.replace(tzinfo=None),
        )

    def token(name: str, *passwords: SimpleNamespace) -> SimpleNamespace:
        return SimpleNamespace(name=name, credentials=SimpleNamespace(passwords=list(passwords)))

    live = [
        token("thirty-and-a-half", password("password1", 1, 30.5)),
        token("half-a-day", password("password1", 1, 0.5)),
        token("half-a-day-ago", password("password1", 100, -0.5)),
        # The newer password (password2, made yesterday) expires sooner than the older one: it is the
        # one the secret holds, so it is the one judged.
        token("rotated-short", password("password1", 200, 160), password("password2", 1, 20)),
        token(
            "no-password",
        ),
        token("unnamed", password(None, 1, 100)),
        token("naive", password("password1", 1, 100, aware=False)),
    ]
    found = {f.name: f for f in read_health(config, [], [], live, now=NOW) if f.kind == "token password"}
    assert (found["thirty-and-a-half"].state, found["half-a-day"].state) == ("Valid", "Expiring")
    assert found["half-a-day-ago"].state == "Expired"
    assert (found["rotated-short"].state, found["rotated-short"].detail) == (
        "Expiring",
        "password2 expires 2026-12-25, in 20 days",
    )
    assert found["no-password"] == Finding(
        "token password", "no-password", "Missing", "has no password", "run `pulumi up` to create it"
    )
    assert found["unnamed"].detail == "password expires 2027-03-15, in 100 days"
    assert (found["naive"].state, found["naive"].detail) == (
        "Valid",
        "password1 expires 2027-03-15, in 100 days",
    )


def test_the_command_reads_the_tokens_and_exits_1_on_an_expiring_password(
    signed_in: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import datetime

    soon = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=10)).isoformat()
    created = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=355)).isoformat()
    document = yaml.safe_load((signed_in / "Pulumi.t.yaml").read_text())
    document["config"]["acr-cache:tokens"] = {"edge-sites": {"repositories": {"library/nginx": []}}}
    (signed_in / "Pulumi.t.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    scenario = Scenario(
        credential_sets={name: live_set("Healthy") for name in SETS},
        cache_rules={name: live_rule() for name in RULES},
        tokens={
            "edge-sites": {
                "credentials": {
                    "passwords": [{"name": "password1", "creationTime": created, "expiry": soon}]
                },
                "status": "enabled",
            }
        },
    )
    with ArmServer(scenario) as server:
        code = _run(signed_in, server, monkeypatch)
    out = capsys.readouterr().out
    assert code == 1
    (line,) = [line for line in out.splitlines() if line.startswith("token password edge-sites")]
    assert "Expiring" in line and ("in 9 days" in line or "in 10 days" in line)
    assert any(r["path"].endswith("/registries/acrcachetest01/tokens") for r in scenario.requests)


def test_the_stack_output_reads_each_sets_health_as_the_engine_delivers_it() -> None:
    from acr_cache.program import _health_of
    from pulumi_azure_native.containerregistry import outputs

    delivered = outputs.AuthCredentialResponse(
        credential_health=outputs.CredentialHealthResponse(
            status="Unhealthy", error_code="UnauthorizedAccess"
        )
    )
    assert _health_of(
        {
            "dockerhub": [delivered],
            "ghcrorg": [{"credentialHealth": {"status": "Healthy"}}],
            "quayorg": None,  # not deployed yet (the offline plan)
        }
    ) == {"dockerhub": "Unhealthy", "ghcrorg": "Healthy", "quayorg": "unknown until deployed"}


# --- every branch of the sign-in, the failure messages and the rendering -------------------------


def test_each_failure_to_read_says_what_to_do() -> None:
    from acr_cache.health import unreadable
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

    where = f"registry acr01 in resource group rg (subscription {SUB})"
    forbidden = HttpResponseError(message="Forbidden")
    forbidden.status_code = 403
    other = HttpResponseError(message="Bad Gateway")
    other.status_code = 502
    assert unreadable(ClientAuthenticationError("no login"), "acr01", "rg", SUB) == (
        f"could not sign in to read {where}: no login. Sign in as for `pulumi up`: `az login`, or "
        "ARM_CLIENT_ID with ARM_CLIENT_SECRET (or ARM_USE_OIDC=true, or ARM_USE_MSI=true) and ARM_TENANT_ID"
    )
    assert unreadable(ResourceNotFoundError("gone"), "acr01", "rg", SUB) == (
        f"{where} was not found (gone): run `pulumi up` first, or check the subscription"
    )
    assert unreadable(forbidden, "acr01", "rg", SUB) == (
        f"not allowed to read {where} (Forbidden): the signed-in identity needs Reader on the registry"
    )
    assert unreadable(other, "acr01", "rg", SUB) == f"could not read {where}: HttpResponseError: Bad Gateway"


def test_the_rendering_in_full() -> None:
    from acr_cache.health import render

    findings = [
        Finding("cache rule", "mcr-dotnet", "Succeeded"),
        Finding("cache rule", "ghcr-org", "Unknown"),
    ]
    assert render(findings, "table") == (
        "cache rule mcr-dotnet  Succeeded\ncache rule ghcr-org    Unknown\n2 checked, 1 not healthy"
    )
    assert render(findings, "json") == (
        '[\n  {\n    "kind": "cache rule",\n    "name": "mcr-dotnet",\n    "state": "Succeeded",\n    "detail": "",\n'
        '    "fix": ""\n  },\n  {\n    "kind": "cache rule",\n    "name": "ghcr-org",\n    "state": "Unknown",\n'
        '    "detail": "",\n    "fix": ""\n  }\n]'
    )
    assert render([], "table") == "nothing to check: no credential sets, cache rules or tokens"


def test_a_rule_without_a_provisioning_state_is_unknown() -> None:
    rule = SimpleNamespace(name="mcr-dotnet")
    (finding,) = [f for f in read_health(CONFIG, [], [rule]) if f.name == "mcr-dotnet"]
    assert (finding.state, finding.detail) == ("Unknown", "provisioning did not succeed")


def test_an_existing_vault_is_named_in_the_rotation_steps() -> None:
    vault_id = f"/subscriptions/{SUB}/resourceGroups/rg-sec/providers/Microsoft.KeyVault/vaults/kv-shared01"
    document = sections(keyVault={"existingId": vault_id}, credentialSets=SETS, cacheRules=RULES)
    config = parse_stack_config({**as_pulumi_config(document), **SECRETS}, list(SECRETS))
    live = SimpleNamespace(name="ghcrorg", auth_credentials=[])
    (finding,) = [f for f in read_health(config, [live], []) if f.name == "ghcrorg"]
    assert "--vault-name kv-shared01 --name ghcr-token" in finding.fix


def test_the_sign_in_asks_for_the_endpoints_own_audience() -> None:
    class Recording(StaticCredential):
        def __init__(self) -> None:
            self.scopes: list[tuple[str, ...]] = []

        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            self.scopes.append(scopes)
            return super().get_token(*scopes, **kwargs)

    for written in ("", "/"):
        # Clouds write ARM's endpoint with a trailing slash (https://management.azure.com/).
        credential = Recording()
        with ArmServer(Scenario(credential_sets={n: live_set("Healthy") for n in SETS})) as server:
            check(
                CONFIG,
                SUB,
                credential,
                arm_endpoint=server.endpoint + written,
                client_options={"connection_verify": str(server.cert_path)},
            )
        assert credential.scopes[0] == (f"{server.endpoint}/.default",)
