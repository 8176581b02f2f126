"""The seams between the program and the real engine that mocks cannot show (issue #12).

Each test reproduces what the engine, a plugin or Azure does (see tests/engine.py for the rules
and where in Pulumi's sources they come from), not what the mocks do.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import grpc
import pytest
from acr_cache.image_import import ImageImportProvider
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto
from pulumi.runtime.proto import provider_pb2_grpc

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
    assert (
        engine.launcher_virtualenv(pwd, engine.plugin_environment(tmp_path, {}))
        == tmp_path / "stacks" / ".venv"
    )
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


# --- Duplicate URNs: the engine refuses them, so the plan and the config must too -------------


def _problems(document: dict, secrets: dict[str, str] | None = None) -> list[str]:
    from acr_cache.config import ConfigError, parse_stack_config

    from tests.conftest import as_pulumi_config

    values = as_pulumi_config(document)
    values.update({f"acr-cache:{k}": v for k, v in (secrets or {}).items()})
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values, [f"acr-cache:{k}" for k in secrets or {}])
    return [str(p) for p in caught.value.problems]


def test_the_plan_fails_on_a_duplicate_urn_as_the_engine_does() -> None:
    from acr_cache.plan.runner import DuplicateUrn, ProgramFailed, run_program
    from pulumi_azure_native import containerregistry

    def program() -> None:
        for _ in range(2):
            containerregistry.CacheRule(
                "same",
                resource_group_name="rg",
                registry_name="acr01",
                source_repository="mcr.microsoft.com/a",
                target_repository="a",
            )

    with pytest.raises(ProgramFailed) as caught:
        run_program(program, project="p", stack="s", config={})
    assert isinstance(caught.value.cause, DuplicateUrn)
    assert str(caught.value.cause) == (
        "Duplicate resource URN 'urn:pulumi:s::p::azure-native:containerregistry:CacheRule::same'; "
        "try giving it a unique name"
    )


def test_import_targets_that_differ_only_in_slash_and_dash_are_refused() -> None:
    from tests.conftest import sections

    document = sections(
        imports={
            "base/alpine:3.20": {"source": "mcr.microsoft.com/dotnet/runtime:8.0"},
            "base-alpine:3.20": {"source": "mcr.microsoft.com/dotnet/runtime:8.0"},
        }
    )
    assert _problems(document) == [
        "acr-cache:imports.base-alpine:3.20: 'base-alpine-3.20' is also the import resource name (`/` and "
        "`:` both become `-`) of acr-cache:imports.base/alpine:3.20: change one target"
    ]


def test_names_azure_compares_without_case_are_refused() -> None:
    from tests.conftest import sections

    document = sections(
        cacheRules={
            "mcr-dotnet": {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*"},
            "MCR-Dotnet": {"source": "mcr.microsoft.com/powershell", "target": "powershell"},
        }
    )
    assert _problems(document) == [
        "acr-cache:cacheRules.MCR-Dotnet: 'mcr-dotnet' is also the cache rule name (Azure ignores case "
        "in names) of acr-cache:cacheRules.mcr-dotnet: rename one"
    ]


def test_list_form_rules_with_one_derived_name_are_refused() -> None:
    from tests.conftest import sections

    document = sections(
        cacheRules=[
            {"source": "mcr.microsoft.com/dotnet/runtime", "target": "dotnet/runtime"},
            {"source": "mcr.microsoft.com/dotnet/runtime-deps", "target": "dotnet-runtime"},
        ]
    )
    problems = _problems(document)
    assert len(problems) == 1 and problems[0].startswith("acr-cache:cacheRules[1]: rule name ")
    assert "also the name of acr-cache:cacheRules[0]" in problems[0]


def test_endpoints_with_one_name_in_one_group_are_refused() -> None:
    from tests.conftest import sections

    subnet = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/"
        "Microsoft.Network/virtualNetworks/vnet-a/subnets/pe"
    )
    document = sections(
        registry={"name": "acrcachetest01", "location": "westeurope", "sku": "Premium"},
        privateAccess={
            "endpoints": {
                "hub": {"subnetId": subnet, "name": "pe-shared"},
                "spoke": {"subnetId": subnet, "name": "PE-Shared"},
            }
        },
    )
    assert _problems(document) == [
        "acr-cache:privateAccess.endpoints.spoke: 'rg-acr-test/pe-shared' is also the private endpoint "
        "name in one resource group of acr-cache:privateAccess.endpoints.hub: give one a different `name`"
    ]


def test_per_endpoint_zone_links_whose_resource_names_meet_are_refused() -> None:
    from tests.conftest import sections

    def subnet(group: str, vnet: str) -> str:
        return (
            f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/{group}/providers/"
            f"Microsoft.Network/virtualNetworks/{vnet}/subnets/pe"
        )

    document = sections(
        registry={"name": "acrcachetest01", "location": "westeurope", "sku": "Premium"},
        privateAccess={
            "dnsZone": {"mode": "perEndpoint"},
            "endpoints": {
                "one": {"subnetId": subnet("a", "x-link-yy")},
                "two": {"subnetId": subnet("a-link-x", "yy")},
            },
        },
    )
    assert _problems(document) == [
        "acr-cache:privateAccess.endpoints.two: 'a-link-x-link-yy' is also the DNS zone link resource name "
        "(`<VNet resource group>-link-<VNet>`) of acr-cache:privateAccess.endpoints.one: use "
        "`dnsZone.mode: create` with explicit `vnetLinks`"
    ]


# --- Key Vault secrets: azure-native deletes them through the vault's data plane ---------------

# provider/pkg/resources/customresources/custom_keyvault.go in pulumi/pulumi-azure-native: these
# types are created and read through ARM but deleted with DeleteSecret/DeleteKey on
# https://<vault>.vault.azure.net, which the vault firewall and the deployer's data roles guard.
DELETED_THROUGH_THE_DATA_PLANE = {"azure-native:keyvault:Secret", "azure-native:keyvault:Key"}


def _stack_plan(stack: str) -> dict:
    from tests.conftest import stack_plan

    return stack_plan(stack)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_nothing_is_deleted_through_the_vault_data_plane(stack: str) -> None:
    resources = _stack_plan(stack)["resources"]
    data_plane = [r for r in resources if r["type"] in DELETED_THROUGH_THE_DATA_PLANE]
    assert len(data_plane) == 2  # the Docker Hub set's username and token
    # The engine skips the provider's Delete for these: removing a set, renaming a secret or
    # `pulumi destroy` never reaches the vault's data plane.
    assert all(r["retainOnDelete"] is True for r in data_plane)
    assert not [
        r["name"]
        for r in resources
        if r["retainOnDelete"] and r["type"] not in DELETED_THROUGH_THE_DATA_PLANE
    ]


def test_the_plan_says_which_resources_are_retained(capsys: pytest.CaptureFixture[str]) -> None:
    from acr_cache.cli import main

    assert main(["plan", "prod", "--cwd", str(ROOT)]) == 0
    captured = capsys.readouterr()
    assert "cache-dockerhub-password  [retain on delete]" in captured.out
    assert (
        "note: retained on delete (removing them from the config or `pulumi destroy` leaves them in Azure, "
        "since azure-native deletes them through the vault's data plane): cache-dockerhub-password, "
        "cache-dockerhub-username"
    ) in captured.err + captured.out


# --- No live token in the state: what the engine stores for the dynamic resources ----------------

# pulumi step.go: the engine stores a resource's inputs (as `check` returned them, here as registered)
# and the outputs its provider returns, on every deployment; a dynamic resource's inputs include
# `__provider`, the provider object pickled with dill. None of them may hold a token.
_TOKEN_KEYS = {"accessToken", "registryAccessToken"}


def _dynamic_resources(stack: str) -> list[Any]:
    from acr_cache.plan import make_plan
    from acr_cache.plan.stackfile import load_stack_files

    run = make_plan(load_stack_files(stack, None, ROOT)).run
    return [r for r in run.resources if r.type.startswith("pulumi-python:dynamic/")]


@pytest.mark.parametrize("stack", ["dev", "prod", "corp"])
def test_what_the_engine_stores_for_each_dynamic_resource_holds_no_token(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    import dill
    from acr_cache.azure_login import SETTINGS
    from acr_cache.plan.values import Secret
    from pulumi.dynamic import Config, ConfigureRequest

    from tests.arm_server import CLIENT_SECRET, ArmServer, Scenario

    resources = _dynamic_resources(stack)
    assert resources, f"{stack} has imports or token passwords"
    for variable in SETTINGS.values():
        monkeypatch.delenv(variable, raising=False)
    scenario = Scenario(polls_before_done=0)
    with ArmServer(scenario) as server:
        monkeypatch.setenv("AZURE_AUTHORITY_HOST", server.endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.cert_path))
        for resource in resources:
            inputs = dict(resource.inputs)
            assert not _TOKEN_KEYS & set(inputs), resource.name
            # The only secrets are the upstream credentials the user configured, and the pickled
            # provider (the SDK marks it secret always: serialize_as_secret_always).
            assert {k for k, v in inputs.items() if isinstance(v, Secret)} <= {
                "username",
                "password",
                "__provider",
            }
            pickled = inputs.pop("__provider")
            provider = dill.loads(base64.b64decode(pickled.value if isinstance(pickled, Secret) else pickled))
            assert provider.__dict__ == {
                "_credential_factory": None,
                "_client_options": {},
                "_identity_options": {},
                **{k: v for k, v in provider.__dict__.items() if k in ("_polling_interval", "_now")},
                **{k: None for k in provider.__dict__ if k.endswith("_base_url")},
            }
            # What Create returns, as the engine runs it: configured, signed in by itself.
            provider._client_options = {"connection_verify": str(server.cert_path)}
            provider._identity_options = {"disable_instance_discovery": True}
            provider.configure(
                ConfigureRequest(
                    Config(
                        {
                            "azure-native:clientId": "66666666-7777-8888-9999-000000000000",
                            "azure-native:tenantId": "11111111-2222-3333-4444-555555555555",
                            "azure-native:clientSecret": CLIENT_SECRET,
                            "azure-native:subscriptionId": "00000000-0000-0000-0000-000000000000",
                        },
                        "acr-cache",
                    )
                )
            )
            plain = {k: (v.value if isinstance(v, Secret) else v) for k, v in inputs.items()}
            outs = provider.create({**plain, "armEndpoint": server.endpoint}).outs
            assert not _TOKEN_KEYS & set(outs)
            text = repr(outs)
            assert CLIENT_SECRET not in text and not any(token in text for token in scenario.issued)
    assert scenario.issued, "the providers signed in"


@pytest.mark.skipif(shutil.which("sh") is None, reason="the launcher is a POSIX shell script")
def test_the_provider_process_signs_in_with_the_config_the_engine_sends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Configure, then Create, over gRPC to the dynamic provider started as the engine starts it."""
    from acr_cache.azure_login import SETTINGS
    from pulumi.runtime import rpc

    from tests.arm_server import CLIENT_SECRET, ArmServer, Scenario

    scenario = Scenario(polls_before_done=1, token_lifetime=600)
    with ArmServer(scenario) as server:
        environment = {variable: None for variable in SETTINGS.values()}
        environment |= {"AZURE_AUTHORITY_HOST": server.endpoint, "REQUESTS_CA_BUNDLE": str(server.cert_path)}
        process, port = engine.start_dynamic_provider(ROOT, environment)
        try:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = provider_pb2_grpc.ResourceProviderStub(channel)
                stub.Configure(
                    proto.ConfigureRequest(
                        args=engine.dynamic_provider_config(
                            {
                                "azure-native:clientId": "66666666-7777-8888-9999-000000000000",
                                "azure-native:tenantId": "11111111-2222-3333-4444-555555555555",
                                "azure-native:clientSecret": CLIENT_SECRET,
                                "azure-native:subscriptionId": "00000000-0000-0000-0000-000000000000",
                                "acr-cache:registry": '{"name": "acrtest01"}',
                            },
                            secret_keys={"azure-native:clientSecret"},
                        )
                    ),
                    timeout=60,
                )
                props = struct_pb2.Struct()
                props.update(
                    {
                        "__provider": serialize_provider(
                            ImageImportProvider(
                                client_options={"connection_verify": str(server.cert_path)},
                                polling_interval=0.05,
                                identity_options={"disable_instance_discovery": True},
                            )
                        ),
                        "subscriptionId": "00000000-0000-0000-0000-000000000000",
                        "resourceGroupName": "rg-acr",
                        "registryName": "acrtest01",
                        "target": "base/alpine:3.20",
                        "source": "docker.io/library/alpine:3.20",
                        "force": False,
                        "timeoutSeconds": 60,
                        "armEndpoint": server.endpoint,
                    }
                )
                created = stub.Create(proto.CreateRequest(urn="urn:x", properties=props), timeout=120)
        finally:
            process.kill()
            _, err = process.communicate(timeout=10)
    outs = rpc.deserialize_properties(created.properties)
    assert created.id.endswith("/importedImages/base/alpine:3.20")
    assert [r["method"] for r in scenario.requests] == ["POST", "GET", "GET"]
    assert {s["form"]["client_id"] for s in scenario.sign_ins if s["method"] == "POST"} == {
        "66666666-7777-8888-9999-000000000000"
    }
    assert set(scenario.used_tokens) <= set(scenario.issued)
    text = repr(outs) + err.decode()
    assert CLIENT_SECRET not in text and not any(token in text for token in scenario.issued)


# --- CanNotDelete locks cover everything below their scope (ScopeLocked) ------------------------


def _prod_run():  # type: ignore[no-untyped-def]
    from acr_cache.plan import make_plan
    from acr_cache.plan.stackfile import load_stack_files

    return make_plan(load_stack_files("prod", None, ROOT))


# --- What each component keeps in the state (register_outputs) -----------------------------------

_SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
_PROD_ACR = (
    f"{_SUB}/resourceGroups/rg-acr-cache-prod/providers/Microsoft.ContainerRegistry/registries/acrcacheprod01"
)


def test_each_component_registers_its_outputs_for_the_state() -> None:
    # The engine stores what a component passes to register_outputs; other stacks and `pulumi
    # stack output` read it there. Ids as the mocks give them, assignment names as deployed.
    registered = {
        urn.rsplit("::", 1)[-1]: outputs for urn, outputs in _prod_run().run.registered_outputs.items()
    }
    assignments = f"{_PROD_ACR}/providers/Microsoft.Authorization/roleAssignments"
    assert registered == {
        "acr-cache-prod": {},
        "acr": {
            "registryId": _PROD_ACR,
            "resourceGroupName": "rg-acr-cache-prod",
            "registryName": "acrcacheprod01",
            "loginServer": "acrcacheprod01.azurecr.io",
        },
        "replicas": {"regions": ["northeurope", "swedencentral"]},
        "access": {
            "assignmentIds": {
                "aks-westeurope": f"{assignments}/f0b212d5-5ee7-5cdb-95ce-d33dd97625e2",
                "aks-northeurope": f"{assignments}/04508c29-4050-5358-8840-0321cee011ba",
                "aks-swedencentral": f"{assignments}/66a92726-10ce-5014-959a-9c9e4a948265",
                "ci-publish": f"{assignments}/f6437db8-48cd-5772-b1d1-d6bc92501d75",
            }
        },
        "cache": {
            "pullReferences": {
                "dockerhub-library": "acrcacheprod01.azurecr.io/library/*",
                "ghcr-fluxcd": "acrcacheprod01.azurecr.io/fluxcd/*",
                "k8s-ingress-nginx": "acrcacheprod01.azurecr.io/k8s/ingress-nginx/*",
                "mcr-dotnet": "acrcacheprod01.azurecr.io/dotnet/*",
            },
            "credentialSetIds": {"dockerhub": f"{_PROD_ACR}/credentialSets/dockerhub"},
            "credentialSetPrincipalIds": {"dockerhub": "0be3f056-354a-549f-aa93-cfebba2757ef"},
        },
        "imports": {
            "references": {
                "base/alpine:3.20": "acrcacheprod01.azurecr.io/base/alpine:3.20",
                "base/dotnet-runtime:8.0": "acrcacheprod01.azurecr.io/base/dotnet-runtime:8.0",
            }
        },
        "private": {
            "privateEndpointIds": {
                "hub": f"{_SUB}/resourceGroups/rg-network-hub/providers/Microsoft.Network/privateEndpoints/"
                "pe-acrcacheprod01-hub",
                "spoke-aks": f"{_SUB}/resourceGroups/rg-aks-prod/providers/Microsoft.Network/privateEndpoints/"
                "pe-acrcacheprod01-spoke-aks",
            },
            "dnsZoneIds": {
                "shared": f"{_SUB}/resourceGroups/rg-acr-cache-prod/providers/Microsoft.Network/privateDnsZones/"
                "privatelink.azurecr.io"
            },
        },
        "vault": {
            "vaultId": f"{_SUB}/resourceGroups/rg-acr-cache-prod/providers/Microsoft.KeyVault/vaults/kv-acrcache-prod01"
        },
        "locks": {"locks": ["registry", "vault"]},
        "monitoring": {
            "settingIds": {
                "registry": f"{_PROD_ACR}/providers/Microsoft.Insights/diagnosticSettings/acr-cache",
                "vault": f"{_SUB}/resourceGroups/rg-acr-cache-prod/providers/Microsoft.KeyVault/vaults/"
                "kv-acrcache-prod01/providers/Microsoft.Insights/diagnosticSettings/acr-cache",
            },
            "workspaceId": f"{_SUB}/resourceGroups/rg-acr-cache-prod/providers/Microsoft.OperationalInsights/"
            "workspaces/log-acrcache-prod",
        },
        "alerts": {
            "actionGroupIds": [f"{_INSIGHTS}/actionGroups/acrcacheprod01-acr-cache"],
            "ruleIds": {
                "cachePullFailures": f"{_INSIGHTS}/scheduledQueryRules/acrcacheprod01-cache-pull-failures",
                "failedLogins": f"{_INSIGHTS}/scheduledQueryRules/acrcacheprod01-failed-logins",
                "failedPulls": f"{_INSIGHTS}/scheduledQueryRules/acrcacheprod01-failed-pulls",
                "storageUsedGib": f"{_INSIGHTS}/metricAlerts/acrcacheprod01-storage-used",
            },
        },
        "webhooks": {"webhookIds": {"releasepipeline": f"{_PROD_ACR}/webhooks/releasepipeline"}},
        "purge": {
            "taskIds": {
                "dockerhub-library": f"{_PROD_ACR}/tasks/purge-dockerhub-library",
                "ghcr-fluxcd": f"{_PROD_ACR}/tasks/purge-ghcr-fluxcd",
            }
        },
    }


_INSIGHTS = f"{_SUB}/resourceGroups/rg-acr-cache-prod/providers/Microsoft.Insights"


def test_each_lock_is_deleted_before_what_it_covers_and_created_after() -> None:
    from acr_cache.plan import LOCK_TYPE, under_scope

    plan = _prod_run()
    resources = plan.run.resources
    locks = [r for r in resources if r.type == LOCK_TYPE]
    assert sorted(lock.name for lock in locks) == ["locks-registry", "locks-vault"]
    for lock in locks:
        covered = {r.urn for r in resources if r is not lock and under_scope(r, str(lock.inputs["scope"]))}
        assert covered, lock.name
        # The engine deletes a resource's dependents before it; Azure refuses to delete anything
        # below a lock's scope while the lock exists. So the lock must depend on all of it.
        assert covered <= set(lock.depends_on), (lock.name, covered - set(lock.depends_on))


def test_a_simulated_destroy_never_hits_a_lock() -> None:
    from acr_cache.plan import LOCK_TYPE, under_scope

    resources = _prod_run().run.resources
    by_urn = {r.urn: r for r in resources}
    remaining = set(by_urn)
    locks = {r.urn: str(r.inputs["scope"]) for r in resources if r.type == LOCK_TYPE}
    while remaining:
        # The engine may delete any resource nothing remaining depends on, in any order among them.
        deletable = sorted(u for u in remaining if not any(u in by_urn[o].depends_on for o in remaining))
        assert deletable, "dependency cycle"
        for urn in deletable:
            for lock_urn, scope in locks.items():
                if lock_urn in remaining and lock_urn != urn:
                    assert not under_scope(by_urn[urn], scope), (
                        f"ScopeLocked: {by_urn[urn].name} under {lock_urn}"
                    )
        remaining -= set(deletable)


def test_the_plan_notes_what_locks_block() -> None:
    notes = _prod_run().notes
    assert (
        "lock locks-registry (CanNotDelete) covers 1 AgentPool, 4 CacheRule, 1 CredentialSet, 1 DiagnosticSetting, "
        "2 Replication, 4 RoleAssignment, 2 Task, 1 Webhook below its scope: removing or replacing any of them fails with ScopeLocked until "
        "`acr-cache:protection.locks: false` is applied first; adding and in-place changes work, and "
        "`pulumi destroy` deletes the lock first"
    ) in notes
    assert any(
        n.startswith("lock locks-vault (CanNotDelete) covers 1 DiagnosticSetting, 2 RoleAssignment below")
        for n in notes
    )


# --- URNs as a contract: every resource of a shipped stack stays reachable ----------------------

SHIPPED = [("dev", ROOT), ("prod", ROOT), ("team-a", ROOT / "examples" / "consumer")]


@pytest.mark.parametrize(("stack", "project_dir"), SHIPPED, ids=[s for s, _ in SHIPPED])
def test_every_committed_urn_is_taken_over_by_the_engines_rules(stack: str, project_dir: Path) -> None:
    """Renaming a component or moving a resource changes its URN, and Pulumi then replaces it (for
    the registry: deletes it with every image). The snapshot is the contract: each old URN must be
    taken over, by URN or by an alias as the engine resolves them (tests/engine.py `take_over`),
    and nothing may appear that takes over nothing. The fix for a failure is an alias."""
    from acr_cache.plan import make_plan
    from acr_cache.plan.stackfile import load_stack_files

    files = load_stack_files(stack, None, project_dir)
    run = make_plan(files).run
    snapshot = (ROOT / "tests" / "snapshots" / f"{stack}-urns.txt").read_text(encoding="utf-8").split()
    taken = engine.take_over(run.resources, snapshot, run.stack, run.project)
    # Only the inner components the public ones used to wrap may go: they hold nothing in Azure.
    assert sorted(u for u in set(snapshot) - set(taken) if not _inner_component(u)) == []
    assert sorted({r.urn for r in run.resources} - set(taken.values())) == []


def _inner_component(urn: str) -> bool:
    own_type = urn.split("::")[2].rsplit("$", 1)[-1]
    return own_type.startswith("acr-cache:") and not own_type.startswith("acr-cache:index:")


def test_the_alias_rules_follow_the_engine_for_a_renamed_type_and_an_unwrapped_child() -> None:
    """Two moves, checked against step_generator.go: a component whose type changes (its children,
    named after it, follow through the inherited alias), and a child moved out of an inner
    component (it names its old parent and name itself)."""
    import pulumi
    from acr_cache.plan.runner import run_program
    from pulumi_azure_native import resources

    stack, project = "s", "p"
    outer_urn = f"urn:pulumi:{stack}::{project}::test:index:Outer::x"

    def program(with_aliases: bool) -> None:
        renamed = pulumi.ComponentResource(
            "test:index:New",
            "app",
            None,
            pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="test:old:Old")] if with_aliases else None),
        )
        resources.ResourceGroup("app-rg", opts=pulumi.ResourceOptions(parent=renamed))
        outer = pulumi.ComponentResource("test:index:Outer", "x", None)
        old_inner = engine.create_urn(stack, project, "x-core", "test:inner:Core", outer_urn)
        moved = [pulumi.Alias(name="x-core-rg", parent=old_inner)] if with_aliases else None
        resources.ResourceGroup("x-rg", opts=pulumi.ResourceOptions(parent=outer, aliases=moved))

    old = [
        f"urn:pulumi:{stack}::{project}::test:old:Old::app",
        f"urn:pulumi:{stack}::{project}::test:old:Old$azure-native:resources:ResourceGroup::app-rg",
        outer_urn,
        f"urn:pulumi:{stack}::{project}::test:index:Outer$test:inner:Core$azure-native:resources:ResourceGroup::x-core-rg",
    ]
    run = run_program(lambda: program(True), project=project, stack=stack, config={})
    taken = engine.take_over(run.resources, old, stack, project)
    assert sorted(taken) == sorted(old)
    assert taken[old[1]].endswith("test:index:New$azure-native:resources:ResourceGroup::app-rg")
    assert taken[old[3]].endswith("test:index:Outer$azure-native:resources:ResourceGroup::x-rg")
    # Without the aliases the engine would create the three moved resources and delete the old ones.
    run = run_program(lambda: program(False), project=project, stack=stack, config={})
    assert sorted(engine.take_over(run.resources, old, stack, project)) == [outer_urn]


def test_other_stacks_keep_every_azure_resource_of_the_public_components() -> None:
    """Another stack's components (tests/test_package.py `_two_of_each`), against the URNs they
    registered before each concern had one component: every Azure and dynamic resource is taken
    over; only the inner components (nothing in Azure) may go."""
    from acr_cache.plan import plan_program

    from tests.test_package import _two_of_each

    run = plan_program(_two_of_each, project="team", stack="t", config={}).run
    snapshot = (ROOT / "tests" / "snapshots" / "components-urns.txt").read_text(encoding="utf-8").split()
    taken = engine.take_over(run.resources, snapshot, run.stack, run.project)

    assert sorted(u for u in snapshot if u not in taken and not _inner_component(u)) == []
    assert sorted(r.urn for r in run.resources if r.urn not in taken.values() and r.custom) == []


# --- The policy pack starts where the CLI starts it ---------------------------------------------


def test_the_policy_pack_environment_is_the_one_the_setup_makes() -> None:
    command, cwd = engine.policy_pack_command(ROOT / "policy")
    assert Path(command[0]).parent.parent.resolve() == (ROOT / ".venv").resolve()
    assert cwd == ROOT / "policy"


def test_a_pack_local_venv_nobody_makes_cannot_start(tmp_path: Path) -> None:
    # The layout before issue #27: `virtualenv: venv`, which the CLI does not install.
    (tmp_path / "PulumiPolicy.yaml").write_text(
        "runtime:\n  name: python\n  options:\n    virtualenv: venv\n"
    )
    with pytest.raises(FileNotFoundError, match="doesn't appear to be a virtual environment"):
        engine.policy_pack_command(tmp_path)


@pytest.mark.skipif(shutil.which("sh") is None, reason="the CLI's launcher is a POSIX shell script")
def test_the_policy_pack_starts_as_the_cli_starts_it_and_serves_every_control() -> None:
    from acr_cache.policy.crossguard import build_policies
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import analyzer_pb2_grpc

    process, port = engine.start_policy_pack(ROOT / "policy", "127.0.0.1:1")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=60)
    finally:
        process.kill()
        process.communicate(timeout=10)
    assert info.name == "acr-cache-baseline"
    assert sorted(p.name for p in info.policies) == sorted(p.name for p in build_policies())


# --- A landing zone's workspace may already receive the same logs from a policy's setting -------


def test_the_plan_notes_diagnostic_settings_into_an_existing_workspace() -> None:
    from acr_cache.plan import make_plan
    from acr_cache.plan.stackfile import load_stack_files

    notes = [
        n for n in make_plan(load_stack_files("corp", None, ROOT)).notes if n.startswith("diagnostic setting")
    ]
    assert notes == [
        "diagnostic setting monitoring-registry sends ContainerRegistryRepositoryEvents, ContainerRegistryLoginEvents "
        "of acrcachecorp01 to the existing workspace log-platform: if an Azure Policy of the landing zone already "
        'sends them there (DeployIfNotExists diagnostic settings), Azure refuses this one ("data sink ... already '
        'used"); see docs/operations.md#landing-zones-that-already-collect-logs',
        "diagnostic setting monitoring-vault sends AuditEvent of kv-acrcache-corp01 to the existing workspace "
        "log-platform: if an Azure Policy of the landing zone already sends them there (DeployIfNotExists "
        'diagnostic settings), Azure refuses this one ("data sink ... already used"); see '
        "docs/operations.md#landing-zones-that-already-collect-logs",
    ]
    # A workspace the stack creates has no other writer: no note.
    dev = make_plan(load_stack_files("dev", None, ROOT)).notes
    assert not [n for n in dev if n.startswith("diagnostic setting")]
