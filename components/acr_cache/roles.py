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

REGISTRY_ROLES = {"AcrPull": ACR_PULL, "AcrPush": ACR_PUSH}
"""The registry data roles a grant may name, by name."""
BROAD_ROLES = {"owner": "Owner", "contributor": "Contributor", OWNER: "Owner", CONTRIBUTOR: "Contributor"}
"""Roles refused at registry scope (they can delete the registry and open its firewall), by
lowercase name and by id."""


def role_definition_id(subscription_id: pulumi.Input[str], role_id: str) -> pulumi.Output[str]:
    """The subscription-qualified id of a built-in role definition."""
    return pulumi.Output.from_input(subscription_id).apply(
        lambda subscription: (
            f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role_id}"
        )
    )
