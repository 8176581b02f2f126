"""acr-cache: an Azure Container Registry as a secure, geo-replicated pull-through cache (Pulumi)."""

from acr_cache.config import ConfigError, ConfigProblem, StackConfig, load_stack_config, parse_stack_config
from acr_cache.protection import ProtectionConfig
from acr_cache.registry import RegistryConfig, RegistryCore, RegistryNetwork, ResourceGroupConfig, Sku

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "ProtectionConfig",
    "RegistryConfig",
    "RegistryCore",
    "RegistryNetwork",
    "ResourceGroupConfig",
    "Sku",
    "StackConfig",
    "__version__",
    "load_stack_config",
    "parse_stack_config",
]
