"""The public components: schema snapshot, construction through the component provider (as another
language would), two instances per program, attaching to an existing registry by id."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pulumi
import pytest
from acr_cache import (
    COMPONENTS,
    Access,
    ArtifactCache,
    ConfigError,
    ImageImports,
    PrivateAccess,
    Registry,
    RegistryConfig,
    Replicas,
    __version__,
)
from acr_cache.cli import main
from acr_cache.codegen import ARGS
from acr_cache.component_base import RegistryRef
from acr_cache.plan import plan_program
from acr_cache.plan.runner import ProgramFailed, run_program

from tests.conftest import ROOT

SUB = "00000000-0000-0000-0000-000000000000"
PLATFORM = f"/subscriptions/{SUB}/resourceGroups/rg-platform/providers/Microsoft.ContainerRegistry/registries/platformacr01"
SUBNET = f"/subscriptions/{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/pe"
DOCKERHUB_SET = f"{PLATFORM}/credentialSets/dockerhub"

# Arguments as another language sends them: camelCase, plain JSON.
CONSTRUCT_INPUTS: dict[str, dict[str, Any]] = {
    "Registry": {
        "resourceGroup": {"name": "rg-team"},
        "registry": {"name": "teamacr01", "location": "westeurope", "retentionDays": 14},
        "network": {"publicAccess": "Restricted", "ipRules": ["203.0.113.0/24"]},
    },
    "Replicas": {
        "registryId": PLATFORM,
        "replicas": {"northeurope": {}, "swedencentral": {"zoneRedundancy": True}},
    },
    "PrivateAccess": {
        "registryId": PLATFORM,
        "homeRegion": "westeurope",
        "endpoints": {"hub": {"subnetId": SUBNET}},
    },
    "ArtifactCache": {
        "registryId": PLATFORM,
        "cacheRules": {
            "team-nginx": {
                "source": "docker.io/library/nginx",
                "target": "team-a/nginx",
                "credentialSetId": DOCKERHUB_SET,
            },
            "team-dotnet": {"source": "mcr.microsoft.com/dotnet/*", "target": "team-a/dotnet/*"},
        },
    },
    "Access": {
        "registryId": PLATFORM,
        "grants": {
            "team-a-aks": {
                "principalId": "0c2f4b9a-7d3e-4e1f-8a6b-5c9d0e1f2a33",
                "principalType": "ServicePrincipal",
            }
        },
    },
}


def test_no_hosted_component_registers_a_dynamic_resource() -> None:
    # pulumi/pulumi#5455: a dynamic provider inside a component served to another language does not
    # load, so what the package serves must register none; ImageImports (which does) is Python only.
    from acr_cache import PYTHON_ONLY, ImageImports

    assert ImageImports not in COMPONENTS and [ImageImports] == PYTHON_ONLY
    schema = json.loads((ROOT / "components" / "schema.json").read_text())
    assert "acr-cache:index:ImageImports" not in schema["resources"]
    from pulumi.provider.experimental.component import ComponentProvider

    provider = ComponentProvider(COMPONENTS, "acr-cache", None, __version__)
    for component, inputs in CONSTRUCT_INPUTS.items():

        def program(component: str = component, inputs: dict[str, Any] = inputs) -> None:
            provider.construct(f"{component.lower()}-1", f"acr-cache:index:{component}", inputs)

        run = run_program(program, project="team", stack="t", config={}, preview=False)
        assert run.resources and not [
            r.type for r in run.resources if r.type.startswith("pulumi-python:dynamic")
        ]
    run = run_program(
        lambda: ImageImports(
            "i",
            {
                "registry_id": PLATFORM,
                "images": {"team-a/alpine:3.20": {"source": "docker.io/library/alpine:3.20"}},
            },
        ),
        project="p",
        stack="s",
        config={},
    )
    assert [r.type for r in run.resources if r.type.startswith("pulumi-python:dynamic")] == [
        "pulumi-python:dynamic/acr-cache:ImageImport"
    ]


def test_image_imports_are_not_served_to_other_languages() -> None:
    from pulumi.provider.experimental.component import ComponentProvider

    provider = ComponentProvider(COMPONENTS, "acr-cache", None, __version__)
    with pytest.raises(Exception, match="ImageImports"):
        provider.construct("i", "acr-cache:index:ImageImports", {"registryId": PLATFORM, "images": {}})


def test_schema_snapshot_is_up_to_date() -> None:
    assert main(["schema", "--check", "--output", str(ROOT / "components" / "schema.json")]) == 0


def test_schema_lists_every_component_with_its_inputs() -> None:
    schema = json.loads((ROOT / "components" / "schema.json").read_text())
    assert schema["name"] == "acr-cache" and schema["version"] == __version__
    assert sorted(schema["resources"]) == sorted(f"acr-cache:index:{c.__name__}" for c in COMPONENTS)
    cache = schema["resources"]["acr-cache:index:ArtifactCache"]
    assert sorted(cache["requiredInputs"]) == ["cacheRules", "registryId"]
    assert "pullReferences" in cache["properties"]


@pytest.mark.parametrize("component", sorted(CONSTRUCT_INPUTS))
def test_each_component_constructs_through_the_provider_path(component: str) -> None:
    from pulumi.provider.experimental.component import ComponentProvider

    provider = ComponentProvider(COMPONENTS, "acr-cache", None, __version__)
    results: dict[str, Any] = {}

    def program() -> None:
        results["construct"] = provider.construct(
            f"{component.lower()}-1", f"acr-cache:index:{component}", CONSTRUCT_INPUTS[component]
        )

    run = run_program(program, project="team", stack="t", config={}, preview=False)
    result = results["construct"]
    assert result.urn is not None
    custom = [r for r in run.resources if r.custom]
    assert custom, "the component registered no Azure resource"
    component_urn = next(r.urn for r in run.resources if r.type == f"acr-cache:index:{component}")
    assert all(
        r.urn.split("::")[2].startswith(f"acr-cache:index:{component}$")
        for r in run.resources
        if r.urn != component_urn
    )
    schema = json.loads((ROOT / "components" / "schema.json").read_text())
    assert set(result.state) == set(schema["resources"][f"acr-cache:index:{component}"]["properties"])


def _two_of_each() -> None:
    for suffix in ("a", "b"):
        Registry(
            f"registry-{suffix}",
            {
                "resource_group": {"name": f"rg-{suffix}"},
                "registry": {"name": f"acr{suffix}0001", "location": "westeurope"},
            },
        )
        Replicas(f"replicas-{suffix}", {"registry_id": PLATFORM, "replicas": {"northeurope": {}}})
        PrivateAccess(
            f"private-{suffix}",
            {
                "registry_id": PLATFORM,
                "home_region": "westeurope",
                "endpoints": {"hub": {"subnet_id": SUBNET}},
                "dns_zone": {
                    "mode": "existing",
                    "zone_id": f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io",
                },
            },
        )
        ArtifactCache(
            f"cache-{suffix}",
            {
                "registry_id": PLATFORM,
                "cache_rules": {
                    f"mcr-{suffix}-dotnet": {
                        "source": "mcr.microsoft.com/dotnet/*",
                        "target": f"{suffix}/dotnet/*",
                    }
                },
            },
        )
        Access(
            f"access-{suffix}",
            {
                "registry_id": PLATFORM,
                "grants": {
                    "ci": {
                        "principal_id": "6f3c8f6e-2a51-4c0e-9a57-0d9d2a1b7c11",
                        "principal_type": "ServicePrincipal",
                    }
                },
            },
        )
        ImageImports(
            f"imports-{suffix}",
            {
                "registry_id": PLATFORM,
                "images": {f"{suffix}/alpine:3.20": {"source": "docker.io/library/alpine:3.20"}},
            },
        )


def test_two_instances_of_each_component_never_collide() -> None:
    plan = plan_program(_two_of_each, project="team", stack="t", config={})
    urns = [r.urn for r in plan.run.resources]
    assert [u for u, n in Counter(urns).items() if n > 1] == []
    assert plan.schema_problems == []
    assert len(urns) > 12


def test_components_attach_to_a_registry_known_only_by_an_output() -> None:
    def program() -> None:
        registry_id = pulumi.Output.from_input(PLATFORM)  # what a StackReference hands over
        cache = ArtifactCache(
            "team",
            {
                "registry_id": registry_id,
                "cache_rules": {"team-k8s": {"source": "registry.k8s.io/pause", "target": "team/pause"}},
            },
        )
        pulumi.export("refs", cache.pull_references)

    run = run_program(program, project="team", stack="t", config={})
    rule = next(r for r in run.resources if r.type == "azure-native:containerregistry:CacheRule")
    assert (
        rule.inputs["registryName"] == "platformacr01" and rule.inputs["resourceGroupName"] == "rg-platform"
    )
    assert run.outputs["refs"] == {"team-k8s": "platformacr01.azurecr.io/team/pause"}


def test_sections_can_be_pydantic_models() -> None:
    def program() -> None:
        Registry(
            "r",
            {
                "resource_group": {"name": "rg"},
                "registry": RegistryConfig(name="acrmodel01", location="westeurope"),
            },
        )

    run = run_program(program, project="team", stack="t", config={})
    registry = next(r for r in run.resources if r.type == "azure-native:containerregistry:Registry")
    assert registry.inputs["registryName"] == "acrmodel01"


_HUB: dict[str, Any] = {
    "credential_sets": {
        "dockerhub": {
            "login_server": "docker.io",
            "username": {"config_key": "u"},
            "password": {"config_key": "p"},
        }
    }
}

# A Docker Hub set whose secrets are in the vault already.
_SET_IN_THE_VAULT: dict[str, Any] = {
    "login_server": "docker.io",
    "username": {"secret_name": "u"},
    "password": {"secret_name": "p"},
}

# The Docker Hub set with a vault the component creates and the two secret values it reads.
_HUB_IN_A_VAULT: dict[str, Any] = {
    **_HUB,
    "key_vault": {"name": "kv-team01", "location": "westeurope"},
    "secrets": {"u": "someone", "p": "dckr_pat_000000000000000000000000000"},
}


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (
            lambda: Registry(
                "r", {"resource_group": {"name": "rg"}, "registry": {"name": "ab", "location": "westeurope"}}
            ),
            "Registry('r').args.registry.name: 'ab' is not a valid registry name",
        ),
        (
            lambda: Registry(
                "r",
                {
                    "resource_group": {"name": "rg?"},
                    "registry": {"name": "teamacr01", "location": "westeurope"},
                },
            ),
            "Registry('r').args.resource_group.name: ",
        ),
        (
            lambda: Registry(
                "r",
                {
                    "resource_group": {"name": "rg"},
                    "registry": {"name": "teamacr01", "location": "westeurope"},
                    "network": {"public_access": "Sometimes"},
                },
            ),
            "Registry('r').args.network.public_access: ",
        ),
        (
            lambda: Replicas("x", {"registry_id": PLATFORM, "replicas": {"North Europe": {}}}),
            "Replicas('x').args.replicas[\"North Europe\"]: 'North Europe' is not an Azure region name",
        ),
        (
            lambda: ArtifactCache(
                "c",
                {
                    "registry_id": PLATFORM,
                    "cache_rules": {"dh-nginx": {"source": "docker.io/library/nginx", "target": "n"}},
                },
            ),
            "ArtifactCache('c').args.cache_rules[\"dh-nginx\"].credential_set: Docker Hub only serves authenticated pulls",
        ),
        (
            lambda: Access(
                "a",
                {
                    "registry_id": PLATFORM,
                    "grants": {
                        "ops": {
                            "principal_id": "0c2f4b9a-7d3e-4e1f-8a6b-5c9d0e1f2a33",
                            "principal_type": "User",
                            "role": "Owner",
                        }
                    },
                },
            ),
            "Access('a').args.grants[\"ops\"].role: Owner on the registry",
        ),
        (
            lambda: ImageImports(
                "i", {"registry_id": PLATFORM, "images": {"x/y:1": {"source": "docker.io/library/y"}}}
            ),
            "ImageImports('i').args.images[\"x/y:1\"].source",
        ),
        (
            lambda: ImageImports(
                "i",
                {
                    "registry_id": PLATFORM,
                    "images": {
                        # One without credentials first: the images after it are still checked.
                        "a/public:1": {"source": "mcr.microsoft.com/a/public:1"},
                        "x/y:1": {
                            "source": "ghcr.io/org/y:1",
                            "username_config_key": "ghcr-user",
                            "password_config_key": "ghcr-token",
                        },
                    },
                    "secrets": {"ghcr-user": "octocat"},
                },
            ),
            "ImageImports('i').args.images[\"x/y:1\"].password_config_key: no value 'ghcr-token' in args.secrets",
        ),
        (
            lambda: PrivateAccess(
                "p",
                {
                    "registry_id": PLATFORM,
                    "home_region": "westeurope",
                    "endpoints": {"hub": {"subnet_id": SUBNET, "subnet_prefix_length": 29}},
                    "region_count": 4,
                },
            ),
            "PrivateAccess('p').args.endpoints[\"hub\"].subnet_prefix_length: a /29 subnet has 3 usable addresses",
        ),
        (
            lambda: PrivateAccess(
                "p",
                {
                    "registry_id": PLATFORM,
                    "home_region": "westeurope",
                    "endpoints": {"hub": {"subnet_id": "pe"}},
                },
            ),
            "PrivateAccess('p').args.endpoints[\"hub\"].subnet_id: 'pe' is not the ARM id of a subnet",
        ),
        (
            lambda: ArtifactCache(
                "c", {"registry_id": PLATFORM, "cache_rules": {}, **_HUB, "key_vault": {"name": "kv-team01"}}
            ),
            "ArtifactCache('c').args.key_vault.location: a vault the component creates needs its region in `location`",
        ),
        (
            lambda: ArtifactCache("c", {"registry_id": PLATFORM, "cache_rules": {}, **_HUB}),
            "ArtifactCache('c').args.key_vault: credential sets keep their secrets in Key Vault: give key_vault",
        ),
        (
            lambda: ArtifactCache(
                "c",
                {
                    "registry_id": PLATFORM,
                    "cache_rules": {},
                    **_HUB,
                    "key_vault": {"name": "kv-team01", "location": "westeurope"},
                    "secrets": {"u": "someone"},
                },
            ),
            "ArtifactCache('c').args.credential_sets[\"dockerhub\"].password.config_key: no value 'p' in args.secrets",
        ),
    ],
)
def test_bad_arguments_fail_with_the_argument_path(build: Any, fragment: str) -> None:
    with pytest.raises(ProgramFailed) as caught:
        run_program(build, project="team", stack="t", config={})
    assert isinstance(caught.value.cause, ConfigError)
    assert fragment in str(caught.value.cause)
    assert [r for r in caught.value.resources if r.custom] == []


def test_the_consumer_example_plans_offline_without_problems(capsys: pytest.CaptureFixture[str]) -> None:
    path = ROOT / "examples" / "consumer" / "Pulumi.team-a.yaml"
    assert main(["plan", "--config", str(path), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert document["project"] == "team-cache" and document["stack"] == "team-a"
    rules = [r for r in document["resources"] if r["type"] == "azure-native:containerregistry:CacheRule"]
    assert len(rules) == 3
    assert all(r["inputs"]["registryName"] == "acrcacheprod01" for r in rules)
    assert "policy:" not in err and "schema problem" not in err
    assert (
        document["outputs"]["pullReferences"]["team-a-postgres"]
        == "acrcacheprod01.azurecr.io/team-a/postgres"
    )


def test_the_platform_stack_exports_what_consumers_need(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "prod", "--format", "json", "--cwd", str(ROOT)]) == 0
    outputs = json.loads(capsys.readouterr().out)["outputs"]
    assert {"registryId", "loginServer", "credentialSetIds", "privateDnsZoneId", "endpoints"} <= set(outputs)
    assert outputs["endpoints"]["northeurope"]["dataEndpoint"] == "acrcacheprod01.northeurope.data.azurecr.io"


# --- the components' typed args and the stack config's models describe one thing -------------


def test_the_component_args_are_generated_from_the_models_and_committed_current() -> None:
    from acr_cache.codegen import component_args_source

    committed = (ROOT / "components" / "acr_cache" / "component_args.py").read_text(encoding="utf-8")
    assert committed == component_args_source(), "component_args.py is stale: run `acr-cache schema`"


@pytest.mark.parametrize(("args_name", "model", "what", "left_out"), ARGS, ids=[a[0] for a in ARGS])
def test_component_args_hold_exactly_the_config_models_keys(
    args_name: str, model: Any, what: str, left_out: dict[str, str]
) -> None:
    from acr_cache import component_args

    args = getattr(component_args, args_name)
    fields = set(model.model_fields) - set(left_out)
    assert set(args.__annotations__) == fields, (args_name, set(args.__annotations__) ^ fields)
    required = {name for name in fields if model.model_fields[name].is_required()}
    assert set(args.__required_keys__) == required, (args_name, set(args.__required_keys__) ^ required)


def test_every_model_field_reaches_the_schema_of_every_language() -> None:
    """What TypeScript, Go, C#, Java and YAML see: each args type, with every key, camelCase."""
    schema = json.loads((ROOT / "components" / "schema.json").read_text())
    types = {token.rsplit(":", 1)[1]: spec for token, spec in schema["types"].items()}
    # ImageImports is served to Python only (pulumi#5455), so its args are not in the schema.
    assert {name for name, _, _, _ in ARGS} - set(types) == {"ImageArgs"}
    for args_name, model, _, left_out in ARGS:
        if args_name not in types:
            continue
        properties = set(types[args_name]["properties"])
        expected = {info.alias or name for name, info in model.model_fields.items() if name not in left_out}
        assert properties == expected, (args_name, properties ^ expected)


def test_every_config_model_of_a_component_section_is_paired_with_its_args() -> None:
    """A model added to a section the components take must get its args (or a reason above)."""
    from acr_cache.config import StackConfig
    from acr_cache.docgen import _model_of

    paired = {model.__name__ for _, model, _, _ in ARGS}
    component_sections = ("resource_group", "registry", "network", "replicas", "private_access")
    component_sections += ("credential_sets", "key_vault", "cache_rules", "access", "imports")
    seen: set[str] = set()
    todo = [_model_of(StackConfig.model_fields[s].annotation) for s in component_sections]
    while todo:
        model = todo.pop()
        if model is None or model.__name__ in seen:
            continue
        seen.add(model.__name__)
        todo.extend(_model_of(info.annotation) for info in model.model_fields.values())
    # The private access section itself is the component's args (endpoints, dns_zone).
    assert seen - {"PrivateAccessConfig"} == paired, seen ^ paired


def test_access_takes_a_principal_id_from_another_resource_and_checks_it_when_known() -> None:
    """An identity made in the same program: its principal id is an Output at construction."""
    from pulumi_azure_native import managedidentity

    def program(principal: str | None = None) -> None:
        identity = managedidentity.UserAssignedIdentity("kubelet", resource_group_name="rg-team")
        value = pulumi.Output.from_input(principal) if principal is not None else identity.principal_id
        Access(
            "team",
            {
                "registry_id": PLATFORM,
                "grants": {"kubelet": {"principal_id": value, "principal_type": "ServicePrincipal"}},
            },
        )

    run = run_program(program, project="p", stack="s", config={}, preview=False)
    assignment = next(r for r in run.resources if r.type == "azure-native:authorization:RoleAssignment")
    identity = next(r for r in run.resources if r.type.endswith("UserAssignedIdentity"))
    from acr_cache.plan.mocks import principal_id_for

    assert assignment.inputs["principalId"] == principal_id_for(identity.arm_id)
    assert identity.urn in assignment.depends_on
    # Known only at deployment, and checked then: not a GUID fails the deployment with the key.
    with pytest.raises(
        ProgramFailed, match=r"args\.grants\[\"kubelet\"\]\.principal_id: 'not-a-guid' is not an object id"
    ):
        run_program(lambda: program("not-a-guid"), project="p", stack="s", config={}, preview=False)


def test_private_access_takes_a_subnet_from_another_resource_where_no_link_is_named_after_it() -> None:
    from pulumi_azure_native import network

    vnet_id = (
        f"/subscriptions/{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub"
    )

    def program(dns_zone: dict[str, Any]) -> None:
        subnet = network.Subnet(
            "pe", resource_group_name="rg-hub", virtual_network_name="vnet-hub", address_prefix="10.0.0.0/27"
        )
        PrivateAccess(
            "team",
            {
                "registry_id": PLATFORM,
                "home_region": "westeurope",
                "endpoints": {"hub": {"subnet_id": subnet.id}},
                "dns_zone": dns_zone,  # type: ignore[typeddict-item]
            },
        )

    run = run_program(
        lambda: program({"vnet_links": {"hub": {"vnet_id": vnet_id}}}), project="p", stack="s", config={}
    )
    endpoint = next(r for r in run.resources if r.type == "azure-native:network:PrivateEndpoint")
    subnet = next(r for r in run.resources if r.type == "azure-native:network:Subnet")
    assert endpoint.inputs["subnet"] == {"id": subnet.arm_id} and subnet.urn in endpoint.depends_on
    # Links derived from the subnet's VNet would need its name now: refused, naming the fix.
    with pytest.raises(ProgramFailed) as caught:
        run_program(lambda: program({}), project="p", stack="s", config={})
    assert 'args.endpoints["hub"].subnet_id: a subnet id known only at deployment' in str(caught.value.cause)

    def given(subnet_id: str) -> None:
        PrivateAccess(
            "team",
            {
                "registry_id": PLATFORM,
                "home_region": "westeurope",
                "endpoints": {"hub": {"subnet_id": pulumi.Output.from_input(subnet_id)}},
                "dns_zone": {"vnet_links": {"hub": {"vnet_id": vnet_id}}},
            },
        )

    # Known only at deployment, and checked then: a VNet's id where the subnet's belongs fails
    # the deployment with the key; a subnet's id reaches the endpoint.
    with pytest.raises(ProgramFailed, match=r"args\.endpoints\[\"hub\"\]\.subnet_id: .*subnet"):
        run_program(lambda: given(vnet_id), project="p", stack="s", config={}, preview=False)
    run = run_program(
        lambda: given(f"{vnet_id}/subnets/pe"), project="p", stack="s", config={}, preview=False
    )
    endpoint = next(r for r in run.resources if r.type == "azure-native:network:PrivateEndpoint")
    assert endpoint.inputs["subnet"] == {"id": f"{vnet_id}/subnets/pe"}


def test_access_still_finds_a_principal_granted_twice_beside_one_given_as_an_output() -> None:
    grant = {"principal_id": "0c2f4b9a-7d3e-4e1f-8a6b-5c9d0e1f2a33", "principal_type": "ServicePrincipal"}

    def program() -> None:
        later = pulumi.Output.from_input("11111111-2222-3333-4444-555555555555")
        Access(
            "team",
            {
                "registry_id": PLATFORM,
                "grants": {"one": grant, "two": grant, "later": {**grant, "principal_id": later}},
            },
        )

    with pytest.raises(ProgramFailed) as caught:
        run_program(program, project="p", stack="s", config={})
    assert (
        "Access('team').args.grants[\"two\"]: grants AcrPull to the same principal as args.grants.one: remove one "
        "of them"
    ) in str(caught.value.cause)


def test_components_used_as_a_library_default_to_the_secure_posture() -> None:
    # Every caller in this repository passes protect and the network section; a consumer that
    # passes neither must still get a protected, locked-down registry and vault.
    def program() -> None:
        Registry(
            "r",
            {
                "resource_group": {"name": "rg-team"},
                "registry": {"name": "teamacr01", "location": "westeurope"},
            },
        )
        ArtifactCache(
            "c",
            {
                "registry_id": PLATFORM,
                "cache_rules": {
                    "dh-nginx": {
                        "source": "docker.io/library/nginx",
                        "target": "nginx",
                        "credential_set": "dockerhub",
                    }
                },
                **_HUB_IN_A_VAULT,
            },
        )

    run = run_program(program, project="team", stack="t", config={})
    resources = {r.name: r for r in run.resources if r.custom}
    assert {name for name, r in resources.items() if r.protect} == {"r-rg", "r-registry", "c-vault-vault"}
    assert resources["r-registry"].inputs == {
        "registryName": "teamacr01",
        "resourceGroupName": "rg-team",
        "location": "westeurope",
        "sku": {"name": "Premium"},
        "adminUserEnabled": False,
        "anonymousPullEnabled": False,
        "dataEndpointEnabled": False,
        "zoneRedundancy": "Enabled",
        "publicNetworkAccess": "Enabled",
        "networkRuleBypassOptions": "AzureServices",
        "networkRuleSet": {"defaultAction": "Allow"},
        "policies": {
            "retentionPolicy": {"status": "enabled", "days": 7},
            "azureADAuthenticationAsArmPolicy": {"status": "disabled"},
            "softDeletePolicy": {"retentionDays": 7, "status": "disabled"},
            "quarantinePolicy": {"status": "disabled"},
            "exportPolicy": {"status": "enabled"},
        },
    }
    assert resources["c-vault-vault"].inputs == {
        "vaultName": "kv-team01",
        "resourceGroupName": "rg-platform",
        "location": "westeurope",
        "properties": {
            "tenantId": "11111111-1111-1111-1111-111111111111",
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": True,
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": 90,
            "enablePurgeProtection": True,
            "enabledForDeployment": False,
            "enabledForDiskEncryption": False,
            "enabledForTemplateDeployment": False,
            "publicNetworkAccess": "Enabled",
            "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"},
        },
    }

    def unprotected() -> None:
        ArtifactCache(
            "c",
            {
                "registry_id": PLATFORM,
                "cache_rules": {},
                **_HUB_IN_A_VAULT,
                "protect": False,
            },
        )

    vault = next(
        r
        for r in run_program(unprotected, project="team", stack="t", config={}).resources
        if r.name == "c-vault-vault"
    )
    assert vault.protect is False


def test_a_registry_given_without_its_subscription_takes_the_logins() -> None:
    # A RegistryRef from another stack may carry no subscription; the grants' role and a set
    # named on the registry need one, and the mocks' login answers with theirs.
    def program() -> None:
        ArtifactCache(
            "c",
            {
                "registry_id": PLATFORM,
                "cache_rules": {
                    "dh-nginx": {
                        "source": "docker.io/library/nginx",
                        "target": "nginx",
                        "credential_set": "dockerhub",
                    },
                    "dh-redis": {
                        "source": "docker.io/library/redis",
                        "target": "redis",
                        "registry_credential_set": "platform-hub",
                    },
                },
                **_HUB_IN_A_VAULT,
            },
            registry=RegistryRef(PLATFORM, "rg-platform", "platformacr01"),
        )

    run = run_program(program, project="team", stack="t", config={}, preview=False)
    readers = {
        r.name: r.inputs for r in run.resources if r.type == "azure-native:authorization:RoleAssignment"
    }
    assert sorted(readers) == ["c-dockerhub-password-reader", "c-dockerhub-username-reader"]
    for role in ("username", "password"):
        reader = readers[f"c-dockerhub-{role}-reader"]
        assert reader["roleDefinitionId"] == (
            f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"
        )
        assert reader["description"] == f"Credential set dockerhub of platformacr01 reads its {role}"
        # Created before the component was one: the grant keeps the name and parent it had then.
        (alias,) = next(r for r in run.resources if r.name == f"c-dockerhub-{role}-reader").alias_specs
        assert alias["name"] == f"c-cache-dockerhub-{role}-reader"
        assert alias["parentUrn"] == (
            "urn:pulumi:t::team::acr-cache:index:ArtifactCache$acr-cache:artifact_cache:ArtifactCache::c-cache"
        )
        assert reader["scope"] == (
            f"/subscriptions/{SUB}/resourceGroups/rg-platform/providers/Microsoft.KeyVault/vaults/kv-team01/secrets/"
            f"dockerhub-{role}"
        )
    rules = {r.name: r.inputs for r in run.resources if r.type == "azure-native:containerregistry:CacheRule"}
    assert rules["c-dh-redis"]["credentialSetResourceId"] == f"{PLATFORM}/credentialSets/platform-hub"
    assert rules["c-dh-nginx"]["credentialSetResourceId"] == f"{PLATFORM}/credentialSets/dockerhub"
    # A secret's value comes back from Azure in `properties`: the state keeps it secret too.
    secrets = [r for r in run.resources if r.type == "azure-native:keyvault:Secret"]
    assert len(secrets) == 2 and all(r.additional_secret_outputs == ["properties"] for r in secrets)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (
            {
                "cache_rules": {
                    "gh-app": {"source": "ghcr.io/org/app", "target": "app", "credential_set": "github"}
                },
            },
            "ArtifactCache('c').args.cache_rules[\"gh-app\"].credential_set: no credential set 'github' in "
            "args.credential_sets (defined: none)",
        ),
        (
            {"cache_rules": {"ab": {"source": "mcr.microsoft.com/a", "target": "a"}}},
            "ArtifactCache('c').args.cache_rules[\"ab\"]: 'ab' is not a valid rule name: 5-50 letters, digits and hyphens",
        ),
        (
            # A component's sets are a plain map (the stack's keys are typed): the name is checked here.
            {
                "cache_rules": {},
                "credential_sets": {"hub": _SET_IN_THE_VAULT},
                "key_vault": {"name": "kv-team01", "location": "westeurope"},
            },
            "ArtifactCache('c').args.credential_sets[\"hub\"]: 'hub' is not a valid credential set name: 5-50 letters, "
            "digits and hyphens",
        ),
        (
            {
                "cache_rules": {},
                "credential_sets": {
                    "dockerhub": _SET_IN_THE_VAULT,
                    "dockerhub2": {
                        "login_server": "docker.io",
                        "username": {"config_key": "u"},
                        "password": {"config_key": "p", "secret_name": "p"},
                    },
                },
                "key_vault": {"name": "kv-team01", "location": "westeurope"},
                "secrets": {"u": "someone", "p": "dckr_pat_000000000000000000000000000"},
            },
            "ArtifactCache('c').args.credential_sets[\"dockerhub2\"].password.secret_name: the vault secret 'p' is already "
            "used by dockerhub.password: give each written secret its own `secret_name`",
        ),
        (
            {"cache_rules": {}, "credential_sets": {"dockerhub": {"login_server": "mcr.microsoft.com"}}},
            "ArtifactCache('c').args.credential_sets[\"dockerhub\"]",
        ),
        (
            {"cache_rules": {}, "key_vault": {"name": "x"}},
            "ArtifactCache('c').args.key_vault.name: ",
        ),
        (
            {
                "cache_rules": {},
                **_HUB,
                "key_vault": {"name": "kv-team01", "location": "westeurope"},
                "secrets": {"p": "dckr_pat_000000000000000000000000000"},
            },
            "ArtifactCache('c').args.credential_sets[\"dockerhub\"].username.config_key: no value 'u' in args.secrets",
        ),
    ],
)
def test_artifact_cache_refusals_name_the_argument(args: dict[str, Any], problem: str) -> None:
    with pytest.raises(ProgramFailed) as caught:
        run_program(
            lambda: ArtifactCache("c", {"registry_id": PLATFORM, **args}), project="t", stack="t", config={}
        )
    assert any(line.strip().startswith(problem) for line in str(caught.value.cause).splitlines()), str(
        caught.value.cause
    )


def _refusal_of_rules(rules: dict[str, Any]) -> str:
    """What an ArtifactCache `c` with these rules (and nothing else) is refused with."""
    with pytest.raises(ProgramFailed) as caught:
        run_program(
            lambda: ArtifactCache("c", {"registry_id": PLATFORM, "cache_rules": rules}),
            project="t",
            stack="t",
            config={},
        )
    return str(caught.value.cause)


def test_a_thousand_and_one_rules_name_the_argument() -> None:
    rules = {f"r-{i:04d}": {"source": f"mcr.microsoft.com/r{i}", "target": f"r{i}"} for i in range(1001)}
    refusal = _refusal_of_rules(rules)
    assert (
        "ArtifactCache('c').args.cache_rules: 1001 cache rules; a registry holds at most 1000: replace groups of "
        "rules by wildcard rules (`library/*`)"
    ) in refusal


OTHER_SUB = "11111111-2222-3333-4444-555555555555"
OTHER_PLATFORM = PLATFORM.replace(SUB, OTHER_SUB)
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


@pytest.mark.parametrize(
    ("registry", "subscription"),
    [
        # The registry's own subscription, given: the login's (the mocks', SUB) is not asked.
        ({"registry_id": OTHER_PLATFORM}, OTHER_SUB),
        # Known only by name: the login's.
        ({"registry": ("rg-platform", "platformacr01")}, SUB),
    ],
)
def test_the_readers_role_is_qualified_with_the_registrys_subscription(
    registry: dict[str, Any], subscription: str
) -> None:
    vault_id = f"/subscriptions/{subscription}/resourceGroups/rg-platform/providers/Microsoft.KeyVault/vaults/kv-platform01"

    def program() -> None:
        ArtifactCache(
            "c",
            {
                "registry_id": registry.get("registry_id", PLATFORM),
                "cache_rules": {},
                "credential_sets": {
                    "dockerhub": {
                        "login_server": "docker.io",
                        "username": {"secret_name": "hub-user"},
                        "password": {"secret_name": "hub-token"},
                    }
                },
                "key_vault": {"existing_id": vault_id},
            },
            registry=RegistryRef(PLATFORM, *registry["registry"]) if "registry" in registry else None,
        )

    run = run_program(program, project="team", stack="t", config={}, preview=False)
    roles = {
        r.inputs["roleDefinitionId"]
        for r in run.resources
        if r.type == "azure-native:authorization:RoleAssignment"
    }
    assert roles == {
        f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{KEY_VAULT_SECRETS_USER}"
    }


@pytest.mark.parametrize(
    ("registry_id", "by_name", "subscription_of"),
    [
        # Known only by name: the login's subscription stands in.
        (PLATFORM, True, PLATFORM),
        # Known by an id in another subscription: that one, never the login's.
        (OTHER_PLATFORM, False, OTHER_PLATFORM),
    ],
)
def test_a_set_named_on_the_registry_takes_its_subscription_or_else_the_logins(
    registry_id: str, by_name: bool, subscription_of: str
) -> None:
    def program() -> None:
        ArtifactCache(
            "c",
            {
                "registry_id": registry_id,
                "cache_rules": {
                    "dh-redis": {
                        "source": "docker.io/library/redis",
                        "target": "redis",
                        "registry_credential_set": "platform-hub",
                    }
                },
            },
            registry=RegistryRef(PLATFORM, "rg-platform", "platformacr01") if by_name else None,
        )

    run = run_program(program, project="team", stack="t", config={}, preview=False)
    (rule,) = [r for r in run.resources if r.type == "azure-native:containerregistry:CacheRule"]
    assert rule.inputs["credentialSetResourceId"] == f"{subscription_of}/credentialSets/platform-hub"


def test_private_access_as_a_library_counts_one_region_unless_told() -> None:
    # Five endpoints in one /28 (11 usable addresses): 2 each for the home region alone, 3 with a replica.
    shared = {"subnet_id": SUBNET, "subnet_prefix_length": 28}

    def program(count: int = 5, **extra: Any) -> None:
        PrivateAccess(
            "p",
            {
                "registry_id": PLATFORM,
                "home_region": "westeurope",
                "endpoints": {f"e{i}": dict(shared) for i in range(count)},
                **extra,
            },
        )

    run_program(program, project="t", stack="t", config={})
    # A sixth needs 12 with the home region counted: refused without being told of any region.
    for refused in (lambda: program(region_count=2), lambda: program(count=6)):
        with pytest.raises(ProgramFailed) as caught:
            run_program(refused, project="t", stack="t", config={})
        assert (
            "PrivateAccess('p').args.endpoints[\"e0\"].subnet_prefix_length: a /28 subnet has 11 usable addresses"
            in str(caught.value.cause)
        )


def test_private_access_zones_and_links_keep_their_names_and_former_places() -> None:
    former = "urn:pulumi:t::team::acr-cache:index:PrivateAccess$acr-cache:private_access:PrivateAccess"

    def program() -> None:
        endpoint = {"hub": {"subnet_id": SUBNET}}
        PrivateAccess("p", {"registry_id": PLATFORM, "home_region": "westeurope", "endpoints": endpoint})
        PrivateAccess(
            "q",
            {
                "registry_id": PLATFORM,
                "home_region": "westeurope",
                "endpoints": endpoint,
                "dns_zone": {"mode": "perEndpoint"},
                "protect": False,
            },
        )

    run = run_program(program, project="team", stack="t", config={})
    dns = {r.name: r for r in run.resources if r.type.startswith("azure-native:privatedns:")}
    assert sorted(dns) == ["p-zone", "p-zone-link-vnet-hub", "q-zone-rg-hub", "q-zone-rg-hub-link-vnet-hub"]
    # A zone is protected unless the caller says otherwise; links are not (they hold no data).
    assert {name: r.protect for name, r in dns.items()} == {
        "p-zone": True,
        "p-zone-link-vnet-hub": False,
        "q-zone-rg-hub": False,
        "q-zone-rg-hub-link-vnet-hub": False,
    }
    for name, resource in dns.items():
        component = name.split("-", 1)[0]
        assert resource.alias_specs[0]["name"] == f"{component}-private-{name.split('-', 1)[1]}"
        assert resource.alias_specs[0]["parentUrn"] == f"{former}::{component}-private"
    # So are the endpoints and their DNS zone groups.
    named = {r.name: r for r in run.resources if r.custom}
    for name in ("p-hub", "p-hub-dns", "q-hub", "q-hub-dns"):
        component = name.split("-", 1)[0]
        spec = named[name].alias_specs[0]
        assert (spec["name"], spec["parentUrn"]) == (
            f"{component}-private-{name.split('-', 1)[1]}",
            f"{former}::{component}-private",
        )


def test_a_registry_whose_endpoints_come_from_elsewhere_closes_its_public_endpoint() -> None:
    def program(**extra: Any) -> None:
        Registry(
            "r",
            {
                "resource_group": {"name": "rg-team"},
                "registry": {"name": "teamacr01", "location": "westeurope"},
                **extra,
            },
        )

    def registry_inputs(**extra: Any) -> dict[str, Any]:
        run = run_program(lambda: program(**extra), project="t", stack="t", config={})
        return next(r.inputs for r in run.resources if r.type == "azure-native:containerregistry:Registry")

    assert registry_inputs()["publicNetworkAccess"] == "Enabled"
    planned = registry_inputs(private_endpoints_planned=True)
    assert (planned["publicNetworkAccess"], planned["dataEndpointEnabled"]) == ("Disabled", True)

    # Its rules are judged with those endpoints: exports can be off only behind them.
    def exports_off(**extra: Any) -> None:
        Registry(
            "r",
            {
                "resource_group": {"name": "rg-team"},
                "registry": {"name": "teamacr01", "location": "westeurope", "export_enabled": False},
                **extra,
            },
        )

    run = run_program(lambda: exports_off(private_endpoints_planned=True), project="t", stack="t", config={})
    assert any(r.type == "azure-native:containerregistry:Registry" for r in run.resources)
    with pytest.raises(ProgramFailed) as caught:
        run_program(lambda: exports_off(), project="t", stack="t", config={})
    assert "Registry('r').args.registry.export_enabled: Azure only allows disabling exports" in str(
        caught.value
    )


def test_registry_cross_section_refusals_name_the_argument() -> None:
    with pytest.raises(ProgramFailed) as caught:
        run_program(
            lambda: Registry(
                "r",
                {
                    "resource_group": {"name": "rg-team"},
                    "registry": {"name": "teamacr01", "location": "westeurope", "sku": "Standard"},
                    "network": {"public_access": "Restricted", "ip_rules": ["203.0.113.7"]},
                },
            ),
            project="t",
            stack="t",
            config={},
        )
    assert (
        "Registry('r').args.network.ip_rules: an IP firewall needs the Premium tier (sku is Standard): set "
        "`args.registry.sku: Premium` or remove `ip_rules`"
    ) in str(caught.value.cause)


def _modules_with_all() -> list[str]:
    """Every module of the package that lists its exports (`__all__ = [...]`)."""
    package = ROOT / "components" / "acr_cache"
    return sorted(
        ".".join(("acr_cache", *path.relative_to(package).with_suffix("").parts)).removesuffix(".__init__")
        for path in package.rglob("*.py")
        if "\n__all__ = " in path.read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("module", _modules_with_all())
def test_every_name_a_module_exports_is_there(module: str) -> None:
    # `from acr_cache.clients import *` takes exactly `__all__`: a name listed but missing (or
    # misspelt) fails a consumer's import, not ours.
    import importlib

    loaded = importlib.import_module(module)
    names: list[str] = loaded.__all__
    assert names and all(name and hasattr(loaded, name) for name in names)
    assert len(set(names)) == len(names)
    namespace: dict[str, Any] = {}
    exec(f"from {module} import *", namespace)
    assert set(names) <= set(namespace)


def test_a_set_whose_key_repeats_the_component_name_keeps_its_children_former_names() -> None:
    # `team-b` with set `team-b-hub` named its children `team-b-team-b-hub-...` before names were
    # shortened: each child, the vault readers included, carries that name as an alias.
    def program() -> None:
        ArtifactCache(
            "team-b",
            {
                "registry_id": PLATFORM,
                "cache_rules": {},
                **_HUB_IN_A_VAULT,
                "credential_sets": {"team-b-hub": _HUB["credential_sets"]["dockerhub"]},
            },
        )

    run = run_program(program, project="team", stack="t", config={}, preview=False)
    named = {r.name: r for r in run.resources if r.custom}
    for role in ("username", "password"):
        reader = named[f"team-b-hub-{role}-reader"]
        assert f"team-b-team-b-hub-{role}-reader" in [spec["name"] for spec in reader.alias_specs]


def test_every_bad_rule_key_of_a_component_is_named_at_once() -> None:
    text = _refusal_of_rules(
        {key: {"source": f"mcr.microsoft.com/{key}", "target": key} for key in ("ab", "cd")}
    )
    assert "args.cache_rules[\"ab\"]: 'ab' is not a valid rule name" in text
    assert "args.cache_rules[\"cd\"]: 'cd' is not a valid rule name" in text


def _private_access_alone(endpoints: dict[str, Any], **extra: Any) -> Any:
    """A run of a program holding one PrivateAccess `p` (registry PLATFORM, home westeurope)."""

    def program() -> None:
        PrivateAccess(
            "p", {"registry_id": PLATFORM, "home_region": "westeurope", "endpoints": endpoints, **extra}
        )

    return run_program(program, project="t", stack="t", config={}, preview=False)


def test_private_access_as_a_library_says_what_it_cannot_place() -> None:
    # Used alone, the component has no stack subscription to compare with: what names another
    # subscription goes through the default provider, and the component says so once.
    spoke = SUBNET.replace(SUB, OTHER_SUB).replace("rg-hub", "rg-spoke")
    run = _private_access_alone({"spoke": {"subnet_id": spoke}}, dns_zone={"mode": "perEndpoint"})
    assert not [r for r in run.resources if r.provider]
    (warning,) = [m for m in run.messages if "subscription is not in its config" in m]
    assert f"(subscription {OTHER_SUB}: DNS zone zone-rg-spoke, private endpoint spoke)" in warning


def test_an_endpoint_key_that_repeats_the_component_name_keeps_its_former_names() -> None:
    run = _private_access_alone({"p-hub": {"subnet_id": SUBNET}})
    named = {r.name: r for r in run.resources if r.custom}
    for child, former in (("p-hub", "p-p-hub"), ("p-hub-dns", "p-p-hub-dns")):
        assert former in [spec["name"] for spec in named[child].alias_specs], child
