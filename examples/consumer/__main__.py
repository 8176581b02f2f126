"""A team stack that reuses the platform's registry: its own cache rules and its own pull grant.

The platform stack (this repository's Pulumi.prod.yaml) exports registryId; this program takes it
from a StackReference (`team-cache:platformStack`) or, offline and in tests, from
`team-cache:registryId`; the pull grant goes to `team-cache:aksKubeletObjectId`.
"""

import pulumi
from acr_cache import Access, ArtifactCache

config = pulumi.Config()
platform_stack = config.get("platformStack")
if platform_stack:
    platform = pulumi.StackReference(platform_stack)
    registry_id = platform.require_output("registryId")
else:
    registry_id = pulumi.Output.from_input(config.require("registryId"))

cache = ArtifactCache(
    "team-a",
    {
        "registry_id": registry_id,
        "cache_rules": {
            # The platform's Docker Hub credential set authenticates the team's Docker Hub rules.
            "team-a-postgres": {
                "source": "docker.io/library/postgres",
                "target": "team-a/postgres",
                "registry_credential_set": "dockerhub",
            },
            "team-a-grafana": {
                "source": "docker.io/grafana/*",
                "target": "team-a/grafana/*",
                "registry_credential_set": "dockerhub",
            },
            "team-a-otel": {"source": "ghcr.io/open-telemetry/*", "target": "team-a/otel/*"},
        },
    },
)

access = Access(
    "team-a",
    {
        "registry_id": registry_id,
        "grants": {
            "team-a-aks": {
                "principal_id": config.require("aksKubeletObjectId"),
                "principal_type": "ServicePrincipal",
            },
        },
    },
)

pulumi.export("pullReferences", cache.pull_references)
