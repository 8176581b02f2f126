"""The offline plan: what `pulumi preview` would create, with no CLI, no Azure login, no network."""

from __future__ import annotations

import runpy
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acr_cache.config import offline_placeholders
from acr_cache.placement import PROVIDER_TYPE, subscription_of
from acr_cache.plan.runner import PlannedResource, ProgramFailed, ProgramRun, run_program
from acr_cache.plan.schema import check_resource
from acr_cache.plan.stackfile import StackFiles
from acr_cache.plan.values import render, secret_digests
from acr_cache.redaction import shown

__all__ = [
    "Plan",
    "PlannedResource",
    "ProgramFailed",
    "ProgramRun",
    "make_plan",
    "plan_program",
    "program_from_file",
]


@dataclass
class Plan:
    """A program run plus what the plan checks found in it."""

    run: ProgramRun
    schema_problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON contract of `acr-cache plan --format json`."""
        providers = provider_subscriptions(self.run.resources)
        return {
            **({"providers": providers} if providers else {}),
            "project": self.run.project,
            "stack": self.run.stack,
            "resources": [
                {
                    "urn": r.urn,
                    "type": r.type,
                    "name": r.name,
                    "parent": r.parent,
                    "inputs": render(r.inputs),
                    "dependsOn": r.depends_on,
                    "protect": r.protect,
                    "retainOnDelete": r.retain_on_delete,
                    # What `acr-cache diff` needs beyond the contract's first keys, each only when set.
                    **_engine_fields(r),
                }
                for r in self.run.resources
            ],
            "outputs": render(self.run.outputs),
        }


def _engine_fields(r: PlannedResource) -> dict[str, Any]:
    """The options and facts that decide what the engine does with a change to the resource."""
    fields: dict[str, Any] = {}
    if r.arm_id:
        fields["id"] = r.arm_id
    if r.provider:
        fields["provider"] = r.provider
    if r.import_id:
        fields["importId"] = r.import_id
    if r.replace_on_changes:
        fields["replaceOnChanges"] = r.replace_on_changes
    if r.delete_before_replace:
        fields["deleteBeforeReplace"] = True
    if r.ignore_changes:
        fields["ignoreChanges"] = r.ignore_changes
    if r.alias_urns or r.alias_specs:
        fields["aliases"] = {"urns": r.alias_urns, "specs": r.alias_specs}
    if r.property_dependencies:
        fields["propertyDependencies"] = r.property_dependencies
    digests = secret_digests(r.inputs)
    if digests:
        fields["secretDigests"] = digests
    return fields


def provider_subscriptions(resources: list[PlannedResource]) -> dict[str, str]:
    """The explicit azure-native providers of a run, URN -> the subscription they deploy to."""
    return {
        r.urn: str(r.inputs.get("subscriptionId", "")).lower() for r in resources if r.type == PROVIDER_TYPE
    }


def subscription_of_resource(resource: PlannedResource) -> str:
    """Where a resource lives: the subscription of its id (an extension resource, its scope's)."""
    return subscription_of(resource.arm_id) or ""


def program_from_file(main: Path) -> Callable[[], None]:
    """A callable that executes a Pulumi program file the way the Python language host does."""

    def program() -> None:
        directory = str(main.parent)
        sys.path.insert(0, directory)
        try:
            runpy.run_path(str(main), run_name="__main__")
        finally:
            sys.path.remove(directory)

    return program


def plan_program(
    program: Callable[[], None],
    *,
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str] | None = None,
) -> Plan:
    """Run a program under the mocks (as a preview) and check every input against the SDK.

    A program that fails after registering inputs of the wrong shape (the SDK then chokes on the
    echoed outputs) still yields a plan: its schema problems are the explanation.
    """
    from acr_cache.plan.stackfile import project_name_problem, stack_name_problem

    # Names the engine would refuse give URNs it could not parse (`urn:pulumi:a::b::...`).
    problem = stack_name_problem(stack) or project_name_problem(project)
    if problem:
        raise ValueError(f"stack {shown(stack)!r} of project {shown(project)!r}: {problem}")
    try:
        run = run_program(program, project=project, stack=stack, config=config, secret_keys=secret_keys)
    except ProgramFailed as failed:
        problems = _schema_problems(failed.resources)
        if not problems:
            raise
        return Plan(ProgramRun(project, stack, failed.resources, {}), schema_problems=problems)
    return Plan(run=run, schema_problems=_schema_problems(run.resources))


def _schema_problems(resources: list[PlannedResource]) -> list[str]:
    return [
        f"{r.urn}: {problem}" for r in resources if r.custom for problem in check_resource(r.type, r.inputs)
    ]


LOCK_TYPE = "azure-native:authorization:ManagementLockByScope"


def deletes_in_azure(type_: str, retain_on_delete: bool) -> bool:
    """Whether removing the resource from the stack deletes something in Azure: dynamic and
    retained resources never do, so no lock stands in their way."""
    return not retain_on_delete and not type_.startswith("pulumi-python:dynamic")


def below(arm_id: str, scope: str) -> bool:
    """Whether Azure counts `arm_id` as below `scope` (a child, or an extension resource there)."""
    return arm_id.lower().startswith(scope.lower().rstrip("/") + "/")


def under_scope(resource: PlannedResource, scope: str) -> bool:
    """Whether a lock at `scope` stands in the way of deleting the resource."""
    return deletes_in_azure(resource.type, resource.retain_on_delete) and below(resource.arm_id, scope)


def lock_notes(resources: list[PlannedResource]) -> list[str]:
    """What CanNotDelete locks block on day 2: deleting or replacing anything under their scope."""
    notes = []
    for lock in (r for r in resources if r.type == LOCK_TYPE):
        scope = str(lock.inputs.get("scope", ""))
        covered = sorted(
            r.type.rsplit(":", 1)[-1] for r in resources if r is not lock and under_scope(r, scope)
        )
        if not covered:
            continue
        kinds = ", ".join(f"{covered.count(kind)} {kind}" for kind in dict.fromkeys(covered))
        notes.append(
            f"lock {lock.name} (CanNotDelete) covers {kinds} below its scope: removing or replacing any of "
            "them fails with ScopeLocked until `acr-cache:protection.locks: false` is applied first; "
            "adding and in-place changes work, and `pulumi destroy` deletes the lock first"
        )
    return notes


ENDPOINT_TYPE = "azure-native:network:PrivateEndpoint"
ZONE_GROUP_TYPE = "azure-native:network:PrivateDnsZoneGroup"


def dns_record_notes(resources: list[PlannedResource]) -> list[str]:
    """For endpoints without a DNS zone group (`dnsZone.mode: policy`): the records whoever runs
    the landing zone's DNS must create, or clients resolve the registry's public address."""
    grouped = {str(r.inputs.get("privateEndpointName")) for r in resources if r.type == ZONE_GROUP_TYPE}
    registry = next((r for r in resources if r.type == "azure-native:containerregistry:Registry"), None)
    regions = sorted({str(r.inputs.get("location")) for r in resources if r.type.endswith(":Replication")})
    notes = []
    for endpoint in (r for r in resources if r.type == ENDPOINT_TYPE):
        if str(endpoint.inputs.get("privateEndpointName")) in grouped:
            continue
        if registry is not None:
            name = str(registry.inputs.get("registryName", "<registry>")).lower()
            home = str(registry.inputs.get("location", "<region>"))
            data = ", ".join(f"{name}.{region}.data" for region in [home, *regions])
            records = f"{name} and {data}"
        else:
            records = "the registry's name and `<registry>.<region>.data` for each of its regions"
        notes.append(
            f"private endpoint {endpoint.name} gets no DNS zone group (`dnsZone.mode: policy`): the landing "
            f"zone's policy must create A records in privatelink.azurecr.io for {records}, pointing at "
            "this endpoint's addresses, or clients reach the public endpoint"
        )
    return notes


DIAGNOSTIC_TYPE = "azure-native:monitor:DiagnosticSetting"
WORKSPACE_TYPE = "azure-native:operationalinsights:Workspace"


def existing_workspace_notes(resources: list[PlannedResource]) -> list[str]:
    """Diagnostic settings into a workspace the stack does not create (a landing zone's): Azure
    refuses a second setting that sends the same category of the same resource to the same
    workspace ("data sink ... already used"), which is what an Azure Policy that deploys diagnostic
    settings there may have made already."""
    created = {r.arm_id.lower() for r in resources if r.type == WORKSPACE_TYPE}
    notes = []
    for setting in (r for r in resources if r.type == DIAGNOSTIC_TYPE):
        workspace = str(setting.inputs.get("workspaceId") or "")
        if not workspace or workspace.lower() in created:
            continue
        resource = str(setting.inputs.get("resourceUri", "")).rstrip("/").rsplit("/", 1)[-1]
        categories = [
            str(log.get("category") or log.get("categoryGroup"))
            for log in setting.inputs.get("logs") or []
            if isinstance(log, dict)
        ]
        notes.append(
            f"diagnostic setting {setting.name} sends {', '.join(categories) or 'metrics'} of {resource} to the "
            f"existing workspace {workspace.rsplit('/', 1)[-1]}: if an Azure Policy of the landing zone already "
            'sends them there (DeployIfNotExists diagnostic settings), Azure refuses this one ("data sink ... '
            'already used"); see docs/operations.md#landing-zones-that-already-collect-logs'
        )
    return notes


def make_plan(files: StackFiles) -> Plan:
    """Plan one stack of a project read from disk."""
    with offline_placeholders() as unset:
        plan = plan_program(
            program_from_file(files.main),
            project=files.project,
            stack=files.stack,
            config=files.config,
            secret_keys=files.secret_keys,
        )
    plan.notes.extend(files.notes)
    plan.notes.extend(lock_notes(plan.run.resources))
    plan.notes.extend(dns_record_notes(plan.run.resources))
    plan.notes.extend(existing_workspace_notes(plan.run.resources))
    retained = [r.name for r in plan.run.resources if r.retain_on_delete]
    if retained:
        plan.notes.append(
            "retained on delete (removing them from the config or `pulumi destroy` leaves them in "
            "Azure, since azure-native deletes them through the vault's data plane): " + ", ".join(retained)
        )
    from_esc = sorted(set(unset)) if files.environments or files.esc_keys else []
    unset = [key for key in unset if key not in from_esc]
    if from_esc:
        # Not `pulumi config set`: the stack takes its secrets from ESC, which says what is there.
        imported = ", ".join(files.environments) or "the inline one"
        plan.notes.append(
            f"these keys are not in the stack file; the ESC environments ({imported}) must set them under "
            "`values.pulumiConfig` (secrets as `fn::secret`), or `pulumi up` stops at them; they were planned "
            f"with placeholder secrets: {', '.join(from_esc)}"
        )
    if unset:
        plan.notes.append(
            "these secret keys are not set (set them with `pulumi config set --secret <key> <value>` "
            f"before `pulumi up`); they were planned with placeholder secrets: {', '.join(sorted(unset))}"
        )
    if files.placeholder_keys:
        plan.notes.append(
            "encrypted values cannot be decrypted offline; these keys were planned with placeholder "
            f"secrets and show as [secret]: {', '.join(files.placeholder_keys)}"
        )
    return plan
