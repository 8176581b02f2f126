"""Who may pull from and push to the registry: role assignments at registry scope."""

import json
import re
import uuid
from collections.abc import Mapping
from enum import StrEnum
from functools import partial
from typing import TypedDict

import pulumi
from pulumi_azure_native import authorization
from pydantic import Field, field_validator

from acr_cache.arm import GUID
from acr_cache.component_args import GrantArgs, Input
from acr_cache.component_base import (
    PACKAGE,
    ChildNames,
    Layout,
    RegistryRef,
    component_error,
    set_aside_outputs,
    validated_entries,
)
from acr_cache.model import OUTPUT_OK, ConfigModel, ConfigProblem, did_you_mean
from acr_cache.redaction import shown
from acr_cache.roles import BROAD_ROLES, REGISTRY_ROLES, REPOSITORY_ROLES, role_definition_id

ROLE_IDS = REGISTRY_ROLES
"""The registry roles a grant may name (none broader than the registry's content)."""
_GUID = re.compile(GUID)
_GRANT_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_ASSIGNMENT_NAMESPACE = uuid.UUID("5d0c7a43-2f0f-4f8e-9e43-31a4d6f8b2c7")


class PrincipalType(StrEnum):
    """What kind of Entra ID object the principal is. Always sent: without it, ARM first looks a new
    identity up in Entra ID and fails while it replicates (PrincipalNotFound)."""

    SERVICE_PRINCIPAL = "ServicePrincipal"
    USER = "User"
    GROUP = "Group"


class GrantConfig(ConfigModel):
    """One principal's access. Its key in `acr-cache:access` names the grant (lowercase, hyphens)."""

    principal_id: str = Field(
        json_schema_extra=OUTPUT_OK,
        description="Object id (GUID) of the principal: an AKS kubelet identity "
        "(`az aks show --query identityProfile.kubeletidentity.objectId`), a Container App's identity, "
        "a CI service principal's object id, a user or a group. The components also take it as an "
        "Output of another resource (an identity created in the same program).",
    )
    principal_type: PrincipalType = Field(
        description="`ServicePrincipal` (managed identities included), `User` or `Group`."
    )
    role: str = Field(
        default="AcrPull",
        description="A built-in registry role by name: `AcrPull` (pull only), `AcrPush` (push and pull), "
        "`AcrDelete` (delete content), `AcrImageSigner` (content trust, which Azure retires on "
        "2028-03-31), `AcrQuarantineReader` or `AcrQuarantineWriter` (quarantined images). Owner, "
        "Contributor and User Access Administrator are refused: they can also delete the registry, "
        "change its network rules or grant anything. The repository roles (`Container Registry "
        "Repository ...`) need a registry in ABAC mode, which the deployed API cannot set.",
        json_schema_extra={"enum": list(REGISTRY_ROLES)},
    )

    @field_validator("principal_id")
    @classmethod
    def _guid(cls, value: str) -> str:
        if not _GUID.fullmatch(value):
            raise ValueError(
                f"'{shown(value)}' is not an object id: expected a GUID like 00000000-0000-0000-0000-000000000000 "
                "(`az ad sp show --id <app id> --query id -o tsv`)"
            )
        return value.lower()

    @field_validator("role")
    @classmethod
    def _least_privilege(cls, value: str) -> str:
        broad = BROAD_ROLES.get(value.lower())
        if broad:
            raise ValueError(
                f"{broad} on the registry can delete it and open its firewall: grant `AcrPull` to "
                "workloads that pull and `AcrPush` to CI that publishes"
            )
        repository = next((name for name in REPOSITORY_ROLES if name.lower() == value.lower()), None)
        if repository:
            raise ValueError(
                f"{repository} is honoured only by a registry in ACR's ABAC mode (\"RBAC Registry + ABAC "
                'Repository Permissions"), which the registry API 2025-11-01 sets and azure-native 3.x, '
                "deploying 2023-01-01-preview, cannot: grant `AcrPull` or `AcrPush` on the registry, or a "
                "scope-map token (`acr-cache:tokens`) for single repositories"
            )
        if value not in ROLE_IDS:
            known = ", ".join(f"`{name}`" for name in ROLE_IDS)
            raise ValueError(
                f"'{shown(value)}' is not a registry role here{did_you_mean(value, ROLE_IDS)}: use one of {known}"
            )
        return value


def grant_problems(grants: Mapping[str, GrantConfig], at: str) -> list[ConfigProblem]:
    """What the `access` section gets wrong as a whole: grant names, and one principal granted the
    same role twice (two assignments Azure would refuse as a conflict). `at` is the section's path."""
    problems = []
    seen: dict[tuple[str, str], str] = {}
    for key, grant in grants.items():
        path = f"{at}.{key}"
        try:
            check_grant_key(key)
        except ValueError as exc:
            problems.append(ConfigProblem(path, str(exc)))
        pair = (grant.principal_id, grant.role)
        if pair in seen:
            problems.append(
                ConfigProblem(
                    path, f"grants {grant.role} to the same principal as {seen[pair]}: remove one of them"
                )
            )
        seen.setdefault(pair, path)
    return problems


def check_grant_key(key: str) -> None:
    if not _GRANT_KEY.fullmatch(key):
        raise ValueError(
            f"'{shown(key)}' is not a valid grant name: 1-63 lowercase letters, digits and hyphens"
        )


def assignment_name(registry_key: str, principal_id: str, role: str) -> str:
    """The same registry, principal and role always give the same assignment name."""
    return str(
        uuid.uuid5(_ASSIGNMENT_NAMESPACE, f"{registry_key.lower()}/{principal_id.lower()}/{ROLE_IDS[role]}")
    )


class AccessArgs(TypedDict):
    """Arguments of Access."""

    registry_id: Input[str]
    """ARM id of the registry."""
    grants: dict[str, GrantArgs]
    """Grants by name."""


class Access(pulumi.ComponentResource):
    """AcrPull / AcrPush role assignments on a registry, with deterministic names."""

    assignment_ids: pulumi.Output[dict[str, str]]
    """ARM ids of the role assignments by grant name."""

    def __init__(
        self,
        name: str,
        args: AccessArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        registry: RegistryRef | None = None,
        layout: Layout = Layout.COMPONENT,
    ) -> None:
        super().__init__(f"{PACKAGE}:index:Access", name, None, layout.options(opts, FORMER_TYPE))
        problems: list[ConfigProblem] = []
        entries, principals = set_aside_outputs(args["grants"], "principal_id", _stand_in)
        grants = validated_entries(GrantConfig, entries, "args.grants", problems)
        # Two grants of one principal are only visible among the ids known now.
        problems += grant_problems({k: g for k, g in grants.items() if k not in principals}, "args.grants")
        if problems:
            raise component_error("Access", name, problems, AccessArgs)
        ref = registry or RegistryRef.from_id(args["registry_id"])
        former = layout.former_children(self, name, FORMER_TYPE, "access")
        children = ChildNames(name, grants)
        self.assignments: dict[str, authorization.RoleAssignment] = {}
        """Role assignments by grant key (what the deletion lock waits for)."""
        for key in sorted(grants):
            grant = grants[key]
            role_id = ROLE_IDS[grant.role]
            principal: pulumi.Input[str] = grant.principal_id
            if key in principals:
                principal = principals[key].apply(
                    partial(_known_principal, f"args.grants[{json.dumps(key)}].principal_id")
                )
            self.assignments[key] = authorization.RoleAssignment(
                children[key],
                scope=ref.registry_id,
                role_assignment_name=pulumi.Output.all(ref.registry_name, principal).apply(
                    partial(_assignment_name_of, role=grant.role)
                ),
                role_definition_id=role_definition_id(ref.subscription_id, role_id),
                principal_id=principal,
                principal_type=authorization.PrincipalType(grant.principal_type.value),
                description=pulumi.Output.concat(grant.role, " on ", ref.registry_name, " for ", key),
                opts=pulumi.ResourceOptions(parent=self, aliases=children.aliases(key, "", former(key))),
            )
        self.assignment_ids = pulumi.Output.all(**{k: a.id for k, a in self.assignments.items()}).apply(dict)
        self.register_outputs({"assignmentIds": self.assignment_ids})


def _assignment_name_of(values: list[str], role: str) -> str:
    return assignment_name(values[0], values[1], role)


def _stand_in(key: str) -> str:
    # A GUID per grant: two grants given as Outputs must not look like one principal. Any prefix
    # gives that; it only keeps stand-ins apart from other names in the namespace.
    return str(uuid.uuid5(_ASSIGNMENT_NAMESPACE, f"stand-in/{key}"))  # mutation: equivalent


def _known_principal(path: str, value: str) -> str:
    """A principal id given as an Output, checked when it is known (at deployment)."""
    if not isinstance(value, str) or not _GUID.fullmatch(value):
        raise ValueError(f"{path}: '{shown(str(value))}' is not an object id (a GUID)")
    return value.lower()


FORMER_TYPE = "acr-cache:access:RegistryAccess"
"""The type the grants' component had in the stack program, and inside the public `Access`,
before the two became one: the aliases that keep existing assignments name it."""
