"""acr-cache security baseline, as a Pulumi policy pack.

    pulumi preview --policy-pack policy/ [--policy-pack-config policy/prod.json]

The validators live in the acr_cache package (acr_cache.policy) so that `acr-cache plan` runs the
same checks offline; this file only starts the pack, which serves until the engine stops it.
"""

from acr_cache.policy.crossguard import build_policies
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="acr-cache-baseline",
    # Each policy carries its own default (mandatory or advisory); this is only the fallback.
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=build_policies(),
)
