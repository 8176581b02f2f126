"""The registration shortcuts the program takes: azure-native's API-version aliases are dropped,
every other alias is kept, the stack traces sent are the SDK's own, and the plan is otherwise
unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from acr_cache.performance import drop_api_version_aliases, register, stack_trace
from acr_cache.plan.runner import RecordingMonitor, run_program
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2
from pulumi_azure_native import containerregistry

from tests.conftest import VALID, one, run_stack, sections

RULE = "azure-native:containerregistry:CacheRule"


def _rule() -> None:
    containerregistry.CacheRule(
        "rule",
        resource_group_name="rg",
        registry_name="acr01",
        source_repository="mcr.microsoft.com/a",
        target_repository="a",
        opts=pulumi.ResourceOptions(
            aliases=["urn:pulumi:s::p::azure-native:containerregistry:CacheRule::old"]
        ),
    )


def test_without_the_transformation_every_version_alias_is_sent() -> None:
    rule = one(run_program(_rule, project="p", stack="s", config={}), RULE)
    assert rule.alias_count > 5  # one per older API version of CacheRule, plus ours


def _plain_rule(name: str = "plain", **opts: Any) -> None:
    containerregistry.CacheRule(
        name,
        resource_group_name="rg",
        registry_name="acr01",
        source_repository="mcr.microsoft.com/a",
        target_repository="a",
        opts=pulumi.ResourceOptions(**opts),
    )


def test_the_transformation_drops_version_aliases_only_where_nothing_else_is_aliased() -> None:
    def program() -> None:
        assert register() == []
        _rule()
        _plain_rule()
        # Adopted: the resource may have been created under a versioned type.
        _plain_rule("adopted", import_="/subscriptions/x/resourceGroups/rg/providers/y")

    run = run_program(program, project="p", stack="s", config={})
    by_name = {r.name: r for r in run.resources}
    assert sdk_resource._get_stack_trace is stack_trace
    assert by_name["plain"].alias_count == 0
    # A user's alias keeps all of azure-native's too (it may point at a versioned type).
    assert by_name["rule"].alias_count > 5
    assert by_name["rule"].alias_urns == ["urn:pulumi:s::p::azure-native:containerregistry:CacheRule::old"]
    assert by_name["adopted"].alias_count > 5


def test_untested_sdk_versions_take_no_shortcut_and_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from acr_cache import performance

    taken: list[bool] = []
    monkeypatch.setattr(performance, "_register", lambda: taken.append(True))
    real_version = performance.metadata.version
    monkeypatch.setattr(
        performance.metadata,
        "version",
        lambda name: "3.300.0" if name == "pulumi" else real_version(name),
    )
    messages = performance.register()
    assert taken == []
    assert len(messages) == 1
    assert (
        "pulumi 3.300.0" in messages[0] and "tested with" in messages[0] and "pulumi 3.272.0" in messages[0]
    )


def test_the_config_switch_turns_every_shortcut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from acr_cache import performance

    taken: list[bool] = []
    monkeypatch.setattr(performance, "_register", lambda: taken.append(True))
    off = performance.PerformanceConfig.model_validate({"registrationShortcuts": False})
    assert performance.register(off) == [
        "registration shortcuts are off (acr-cache:performance.registrationShortcuts: false)"
    ]
    assert taken == []
    assert performance.register(performance.PerformanceConfig()) == [] and taken == [True]


def test_the_tested_versions_are_the_locked_ones() -> None:
    import re

    from acr_cache.performance import TESTED_VERSIONS

    from tests.conftest import ROOT

    lock = (ROOT / "uv.lock").read_text()
    for name, version in TESTED_VERSIONS.items():
        assert re.search(rf'name = "{name}"\nversion = "{re.escape(version)}"', lock), name


def test_the_stack_program_without_shortcuts_keeps_every_alias() -> None:
    from acr_cache.program import main as program

    from tests.conftest import as_pulumi_config

    document = sections(
        registry={"name": "acrcachetest01", "location": "westeurope"},
        performance={"registrationShortcuts": False},
    )
    run = run_program(program, project="acr-cache", stack="test", config=as_pulumi_config(document))
    assert one(run, "azure-native:containerregistry:Registry").alias_count > 1


def test_the_stack_program_uses_it_and_keeps_registry_aliases() -> None:
    from acr_cache.program import main as program

    from tests.conftest import as_pulumi_config

    earlier = "urn:pulumi:test::acr-cache::azure-native:containerregistry:Registry::old"
    document = sections(registry={"name": "acrcachetest01", "location": "westeurope", "aliases": [earlier]})
    run = run_program(program, project="acr-cache", stack="test", config=as_pulumi_config(document))
    registry = one(run, "azure-native:containerregistry:Registry")
    assert registry.alias_urns == [earlier] and registry.alias_count > 1
    # Library users opt in: building the components alone keeps azure-native's aliases.
    assert one(run_stack(document), "azure-native:containerregistry:Registry").alias_count > 1


def test_non_azure_native_and_unaliased_resources_are_left_alone() -> None:
    args = pulumi.ResourceTransformationArgs(
        resource=None,  # type: ignore[arg-type]
        type_="pulumi-python:dynamic/acr-cache:ImageImport",
        name="x",
        props={},
        opts=pulumi.ResourceOptions(
            aliases=[pulumi.Alias(type_="azure-native:containerregistry/v20230101preview:CacheRule")]
        ),
    )
    assert drop_api_version_aliases(args) is None


def _plan(stack: str) -> list[dict]:
    from tests.conftest import stack_plan

    return stack_plan(stack)["resources"]


def test_no_sibling_resources_are_chained() -> None:
    # Rules, replicas, endpoints, grants and imports create in parallel: none waits for another
    # of its own kind.
    for stack in ("dev", "prod"):
        resources = {r["urn"]: r for r in _plan(stack)}
        for resource in resources.values():
            same_kind = [
                d
                for d in resource["dependsOn"]
                if d in resources and resources[d]["type"] == resource["type"]
            ]
            assert same_kind == [], (resource["name"], same_kind)


def test_every_ordering_edge_is_one_the_docs_justify() -> None:
    # (waiting type, waited-for type): each is explained in docs/performance.md.
    allowed = {
        ("Registry", "ResourceGroup"),
        ("Replication", "Registry"),
        ("Replication", "ResourceGroup"),
        ("PrivateEndpoint", "Registry"),
        ("PrivateEndpoint", "Replication"),
        ("PrivateDnsZoneGroup", "PrivateEndpoint"),
        ("PrivateDnsZoneGroup", "PrivateZone"),
        ("VirtualNetworkLink", "PrivateZone"),
        ("VirtualNetworkLink", "ResourceGroup"),
        ("PrivateZone", "ResourceGroup"),
        ("Vault", "ResourceGroup"),
        ("Secret", "Vault"),
        ("Secret", "ResourceGroup"),
        ("CredentialSet", "Registry"),
        ("CredentialSet", "Secret"),
        ("RoleAssignment", "CredentialSet"),
        ("RoleAssignment", "Secret"),
        ("RoleAssignment", "Vault"),
        ("RoleAssignment", "Registry"),
        ("CacheRule", "Registry"),
        ("CacheRule", "RoleAssignment"),
        ("CacheRule", "CredentialSet"),
        ("ImageImport", "Registry"),
        ("ImageImport", "ResourceGroup"),
        ("ManagementLockByScope", "Registry"),
        ("ManagementLockByScope", "Vault"),
        # A lock waits for everything below its scope, so destroy deletes it first (ScopeLocked).
        ("ManagementLockByScope", "Replication"),
        ("ManagementLockByScope", "CacheRule"),
        ("ManagementLockByScope", "CredentialSet"),
        ("ManagementLockByScope", "RoleAssignment"),
        ("ManagementLockByScope", "Secret"),
        ("ManagementLockByScope", "DiagnosticSetting"),
        ("ManagementLockByScope", "Webhook"),
        ("ManagementLockByScope", "Task"),
        ("ManagementLockByScope", "AgentPool"),
        ("Workspace", "ResourceGroup"),
        ("DiagnosticSetting", "Registry"),
        ("DiagnosticSetting", "Vault"),
        ("DiagnosticSetting", "Workspace"),
        ("ActionGroup", "ResourceGroup"),
        ("MetricAlert", "ResourceGroup"),
        ("MetricAlert", "Registry"),
        ("MetricAlert", "ActionGroup"),
        ("ScheduledQueryRule", "ResourceGroup"),
        ("ScheduledQueryRule", "Registry"),
        ("ScheduledQueryRule", "Workspace"),
        ("ScheduledQueryRule", "ActionGroup"),
        ("Webhook", "Registry"),
        ("Webhook", "ResourceGroup"),
        ("AgentPool", "Registry"),
        ("AgentPool", "ResourceGroup"),
        ("Task", "Registry"),
        ("Task", "ResourceGroup"),
        ("Task", "AgentPool"),
    }
    edges = set()
    for stack in ("dev", "prod"):
        resources = {r["urn"]: r for r in _plan(stack)}
        for resource in resources.values():
            for dep in resource["dependsOn"]:
                if dep in resources:
                    edges.add((resource["type"].rsplit(":", 1)[1], resources[dep]["type"].rsplit(":", 1)[1]))
    assert edges <= allowed, edges - allowed
    assert ("Secret", "Vault") in edges and ("PrivateEndpoint", "Replication") in edges


# The SDK's function, taken before any test could have called register().
SDK_STACK_TRACE = sdk_resource._get_stack_trace
Traces = tuple[source_pb2.StackTrace, source_pb2.StackTrace]


class _Base:
    def __init__(self) -> None:
        # Both from the same line, so that both see the same frames.
        self.traces: Traces = (SDK_STACK_TRACE(), stack_trace())


class _Middle(_Base):
    def __init__(self) -> None:
        super().__init__()


class _Leaf(_Middle):
    """Three __init__ frames, as Resource < CustomResource < a resource class."""

    def __init__(self) -> None:
        self._internal_init()

    def _internal_init(self) -> None:
        # azure-native's classes register from a helper their __init__ calls.
        super().__init__()


def _nested(depth: int, make: Callable[[], Any]) -> Any:
    return make() if depth == 0 else _nested(depth - 1, make)


@pytest.mark.parametrize("depth", [0, 1, 7, 30])
def test_the_stack_trace_is_the_sdks_at_any_depth(depth: int) -> None:
    sdk, ours = _nested(depth, _Leaf).traces
    assert ours == sdk
    assert len(ours.frames) > depth and ours.frames[0].pc.uri.endswith("/tests/test_performance.py")


def test_frames_without_a_file_have_no_position_as_in_the_sdk() -> None:
    # Code compiled from a string has no absolute file name, so no URI.
    namespace: dict[str, Any] = {"Leaf": _Leaf}
    exec(compile("made = Leaf()", "<generated>", "exec"), namespace)
    sdk, ours = namespace["made"].traces
    assert ours == sdk and not ours.frames[0].HasField("pc")


def test_too_few_init_frames_give_an_empty_trace_as_in_the_sdk() -> None:
    sdk, ours = _Middle().traces
    assert ours == sdk == source_pb2.StackTrace()


def test_register_sends_the_same_positions_for_every_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, tuple[bytes, bytes]]] = []
    recording = RecordingMonitor.RegisterResource

    def register_resource(self: RecordingMonitor, request: Any) -> Any:
        positions = (request.sourcePosition.SerializeToString(), request.stackTrace.SerializeToString())
        sent[-1][request.name] = positions
        return recording(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", register_resource)
    document = sections(
        cacheRules={"mcr-dotnet": {"source": "mcr.microsoft.com/dotnet/*", "target": "dotnet/*"}},
        replicas={"northeurope": {}},
    )
    # Both runs from the same line: the test's own frame is part of every trace.
    for function in (SDK_STACK_TRACE, stack_trace):
        monkeypatch.setattr(sdk_resource, "_get_stack_trace", function)
        sent.append({})
        run_stack(document)
    assert sent[0] == sent[1]
    assert len(sent[1]) > len(VALID) and all(trace for _, trace in sent[1].values())
