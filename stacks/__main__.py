"""Pulumi program of the acr-cache project, run by the entry point `__main__.py` beside Pulumi.yaml."""

from acr_cache.program import main

main()
