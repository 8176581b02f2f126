"""Host of the acr-cache component package: serves the components to Pulumi in any language."""

from acr_cache import COMPONENTS, PACKAGE, __version__
from pulumi.provider.experimental import component_provider_host

if __name__ == "__main__":
    component_provider_host(COMPONENTS, PACKAGE, version=__version__)
