"""acr-cache: an Azure Container Registry as a secure, geo-replicated pull-through cache (Pulumi).

The public components (also a Pulumi component package for other languages) take `args` whose
sections mirror the stack config; see README "Reuse" and docs/configuration.md:

    from acr_cache import ArtifactCache
    ArtifactCache("team-a", {"registry_id": platform_registry_id, "cache_rules": {...}})

The names below are loaded when first used: importing one component (`acr_cache.registry`) loads
that concern and the building blocks below it, never the stack model, the program or the tools
(docs/architecture.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from acr_cache.access import Access, AccessArgs
    from acr_cache.artifact_cache import ArtifactCache, ArtifactCacheArgs
    from acr_cache.config import load_stack_config, parse_stack_config
    from acr_cache.image_import import ImageImports, ImageImportsArgs
    from acr_cache.model import ConfigError, ConfigProblem
    from acr_cache.monitoring import Alerts, AlertsConfig, Diagnostics, DiagnosticsConfig
    from acr_cache.network import RegistryNetwork
    from acr_cache.package import COMPONENTS, PACKAGE, PYTHON_ONLY
    from acr_cache.placement import Placement
    from acr_cache.private_access import PrivateAccess, PrivateAccessArgs
    from acr_cache.protection import ProtectionConfig
    from acr_cache.purge import AgentPoolConfig, PurgeConfig, PurgePlan, PurgeTasks
    from acr_cache.registry import Registry, RegistryArgs, RegistryConfig, ResourceGroupConfig, Sku
    from acr_cache.replication import Replicas, ReplicasArgs
    from acr_cache.stack import StackConfig
    from acr_cache.webhooks import WebhookConfig, Webhooks

__version__ = "0.1.0"

_WHERE = {
    "Access": "access",
    "AccessArgs": "access",
    "AgentPoolConfig": "purge",
    "Alerts": "monitoring",
    "AlertsConfig": "monitoring",
    "ArtifactCache": "artifact_cache",
    "ArtifactCacheArgs": "artifact_cache",
    "COMPONENTS": "package",
    "ConfigError": "model",
    "ConfigProblem": "model",
    "Diagnostics": "monitoring",
    "DiagnosticsConfig": "monitoring",
    "ImageImports": "image_import",
    "ImageImportsArgs": "image_import",
    "PACKAGE": "package",
    "PYTHON_ONLY": "package",
    "Placement": "placement",
    "PrivateAccess": "private_access",
    "PrivateAccessArgs": "private_access",
    "ProtectionConfig": "protection",
    "PurgeConfig": "purge",
    "PurgePlan": "purge",
    "PurgeTasks": "purge",
    "Registry": "registry",
    "RegistryArgs": "registry",
    "RegistryConfig": "registry",
    "RegistryNetwork": "network",
    "Replicas": "replication",
    "ReplicasArgs": "replication",
    "ResourceGroupConfig": "registry",
    "Sku": "registry",
    "StackConfig": "stack",
    "WebhookConfig": "webhooks",
    "Webhooks": "webhooks",
    "load_stack_config": "config",
    "parse_stack_config": "config",
}
"""Public name -> the module that defines it."""

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
    "Placement",
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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'acr_cache' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"acr_cache.{module}"), name)
    globals()[name] = value  # later lookups do not come here again
    return value


def __dir__() -> list[str]:
    return __all__
