"""acr-cache: an Azure Container Registry as a secure, geo-replicated pull-through cache (Pulumi).

The public components (also a Pulumi component package for other languages) take `args` whose
sections mirror the stack config; see README "Reuse" and docs/configuration.md:

    from acr_cache import ArtifactCache
    ArtifactCache("team-a", {"registry_id": platform_registry_id, "cache_rules": {...}})
"""

from acr_cache.access import Access, AccessArgs
from acr_cache.artifact_cache import ArtifactCache, ArtifactCacheArgs
from acr_cache.config import ConfigError, ConfigProblem, StackConfig, load_stack_config, parse_stack_config
from acr_cache.image_import import ImageImports, ImageImportsArgs
from acr_cache.monitoring import Alerts, AlertsConfig, Diagnostics, DiagnosticsConfig
from acr_cache.package import (
    COMPONENTS,
    PACKAGE,
    PYTHON_ONLY,
)
from acr_cache.private_access import PrivateAccess, PrivateAccessArgs
from acr_cache.protection import ProtectionConfig
from acr_cache.purge import AgentPoolConfig, PurgeConfig, PurgePlan, PurgeTasks
from acr_cache.registry import (
    Registry,
    RegistryArgs,
    RegistryConfig,
    RegistryNetwork,
    ResourceGroupConfig,
    Sku,
)
from acr_cache.replication import Replicas, ReplicasArgs
from acr_cache.webhooks import WebhookConfig, Webhooks

__version__ = "0.1.0"

__all__ = [
    "COMPONENTS",
    "PACKAGE",
    "PYTHON_ONLY",
    "Access",
    "AccessArgs",
    "AgentPoolConfig",
    "Alerts",
    "AlertsConfig",
    "ArtifactCache",
    "ArtifactCacheArgs",
    "ConfigError",
    "ConfigProblem",
    "Diagnostics",
    "DiagnosticsConfig",
    "ImageImports",
    "ImageImportsArgs",
    "PrivateAccess",
    "PrivateAccessArgs",
    "ProtectionConfig",
    "PurgeConfig",
    "PurgePlan",
    "PurgeTasks",
    "Registry",
    "RegistryArgs",
    "RegistryConfig",
    "RegistryNetwork",
    "Replicas",
    "ReplicasArgs",
    "ResourceGroupConfig",
    "Sku",
    "StackConfig",
    "WebhookConfig",
    "Webhooks",
    "__version__",
    "load_stack_config",
    "parse_stack_config",
]
