"""Pulumi program of the acr-cache project (`main: stacks/` in Pulumi.yaml)."""

from acr_cache.program import main

main()
