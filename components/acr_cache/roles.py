"""Azure built-in roles the project grants or recognises, by the ids Azure gives them everywhere.

A built-in role's id is the same in every subscription and cloud; an assignment names it through a
subscription (`/subscriptions/<sub>/providers/Microsoft.Authorization/roleDefinitions/<id>`).
Ids from https://learn.microsoft.com/azure/role-based-access-control/built-in-roles.
"""

from __future__ import annotations

import pulumi

ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
"""AcrPull: pull images (the least a workload needs)."""
ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"
"""AcrPush: push and pull."""
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
"""Key Vault Secrets User: read secret contents (`secrets/getSecret/action`), the least a
credential set needs."""
KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
"""Key Vault Crypto Service Encryption User: read a key's metadata and wrap/unwrap with it (what a
service's customer-managed key needs)."""
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"

USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"

# The built-in roles of the registry's data, by name. Ids as Azure's built-in roles list gives them
# (MicrosoftDocs/azure-docs articles/role-based-access-control/built-in-roles/containers.md, the
# `name` of each role's JSON; tests/data/builtin_container_roles.json holds that list's entries).
REGISTRY_ROLES = {
    "AcrPull": ACR_PULL,
    "AcrPush": ACR_PUSH,
    "AcrDelete": "c2f4ef07-c644-48eb-af81-4b1b4947fb11",
    "AcrImageSigner": "6cef56e8-d556-48e5-a04f-b8e64114680f",
    "AcrQuarantineReader": "cdda3590-29a3-44f6-95f2-9f980659eb04",
    "AcrQuarantineWriter": "c8d4ff99-41c3-41a8-9f60-21dfdad59608",
}
"""The registry roles a grant may name, none broader than the registry's content: pull; push and
pull; delete content; sign for content trust (Azure removes content trust and this role on
2028-03-31); read quarantined images; and set their quarantine state."""
REPOSITORY_ROLES = {
    "Container Registry Repository Reader": "b93aa761-3e63-49ed-ac28-beffa264f7ac",
    "Container Registry Repository Writer": "2a1e307c-b015-4ebd-883e-5b7698a07328",
    "Container Registry Repository Contributor": "2efddaa5-3f1f-4df3-97df-af3f13818f4c",
    "Container Registry Repository Catalog Lister": "bfdb9389-c9a5-478a-bb2f-ba9ca092c3c7",
}
"""The repository roles of ACR's ABAC mode ("RBAC Registry + ABAC Repository Permissions"): they are
honoured only by a registry in that mode, which the registry API 2025-11-01 sets
(`roleAssignmentMode`), and azure-native 3.x deploys 2023-01-01-preview, so grants refuse them."""
BROAD_ROLES = {
    "owner": "Owner",
    "contributor": "Contributor",
    "user access administrator": "User Access Administrator",
    OWNER: "Owner",
    CONTRIBUTOR: "Contributor",
    USER_ACCESS_ADMINISTRATOR: "User Access Administrator",
}
"""Roles refused at registry scope (they can delete the registry, open its firewall or grant
themselves anything), by lowercase name and by id."""


def role_definition_id(subscription_id: pulumi.Input[str], role_id: str) -> pulumi.Output[str]:
    """The subscription-qualified id of a built-in role definition."""
    return pulumi.Output.from_input(subscription_id).apply(
        lambda subscription: (
            f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role_id}"
        )
    )
