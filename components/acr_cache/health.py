"""Credential health of the cache, read from Azure: each credential set's and cache rule's state,
and each registry token password's expiry.

A credential set turns Unhealthy when its upstream token expires or is revoked, or when its identity
cannot read the secrets; every pull through its rules then fails. Azure shows this only as the set's
`credentialHealth` (no metric or log category carries it), so `acr-cache health STACK` reads it
through the Azure SDK with azure-native's login and says what to do. A token password stops working
on its expiry date, which Azure shows only on the token: the newest password of each token is
reported, with a warning within 30 days.
"""

import datetime
import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from acr_cache.artifact_cache import CredentialSetConfig, secret_name_for
from acr_cache.azure_login import PUBLIC_ARM_ENDPOINT, error_text
from acr_cache.stack import StackConfig

HEALTHY = "Healthy"
UNHEALTHY = "Unhealthy"
MISSING = "Missing"
VALID = "Valid"
EXPIRING = "Expiring"
EXPIRED = "Expired"
EXPIRY_WARNING_DAYS = 30
"""A token password this close to its expiry is reported as not healthy (time to rotate)."""


class Finding(NamedTuple):
    """One credential set's or cache rule's state, with the fix when it is not fine."""

    kind: str
    """`credential set` or `cache rule`."""
    name: str
    state: str
    detail: str = ""
    fix: str = ""

    @property
    def fine(self) -> bool:
        return self.state in (HEALTHY, "Succeeded", VALID)


def rotation_steps(name: str, spec: CredentialSetConfig, vault: str) -> str:
    """How to give a set a working token again, for its secrets' sources."""
    # The token is the password; a user name rarely changes with it.
    secret = secret_name_for(name, "password", spec.password)
    if spec.password.config_key is not None:
        first = (
            f"set the new token with `pulumi config set --secret {spec.password.config_key} <token>` and run "
            f"`pulumi up` (the stack writes it to Key Vault secret {secret} in {vault})"
        )
    else:
        first = (
            f"write the new token as a new version of Key Vault secret {secret}: `az keyvault secret set "
            f"--vault-name {vault} --name {secret} --value <token>`"
        )
    steps = [first]
    steps.append(
        "the set reads the newest secret version, so nothing in the registry changes; if the token is "
        "valid, the set's identity lacks Key Vault Secrets User on the secrets: `pulumi up` grants it"
    )
    return "; ".join(steps)


def _vault_name(config: StackConfig) -> str:
    vault = config.key_vault
    assert vault is not None  # credential sets need one: the config refuses them without
    # The id was checked on the way in: no trailing `/`, and any maxsplit keeps its last part.
    return vault.name or str(vault.existing_id).rstrip("/").rsplit("/", 1)[-1]  # mutation: equivalent


def read_health(
    config: StackConfig,
    sets: Iterable[Any],
    rules: Iterable[Any],
    tokens: Iterable[Any] = (),
    now: datetime.datetime | None = None,
) -> list[Finding]:
    """Findings for every credential set, cache rule and token of the config, from the live
    listings (`credential_sets.list`, `cache_rules.list` and `tokens.list` of the registry)."""
    live_sets = {s.name: s for s in sets}
    live_rules = {r.name: r for r in rules}
    findings = []
    unhealthy_sets = set()
    for name in sorted(config.credential_sets):
        spec = config.credential_sets[name]
        live = live_sets.get(name)
        if live is None:
            findings.append(
                Finding(
                    "credential set", name, MISSING, "not in the registry", "run `pulumi up` to create it"
                )
            )
            unhealthy_sets.add(name)
            continue
        credentials = list(getattr(live, "auth_credentials", None) or [])
        health = getattr(credentials[0], "credential_health", None) if credentials else None
        status = _text(getattr(health, "status", None)) or "Unknown"
        if status == HEALTHY:
            findings.append(Finding("credential set", name, HEALTHY))
            continue
        unhealthy_sets.add(name)
        code, message = getattr(health, "error_code", None), getattr(health, "error_message", None)
        detail = ": ".join(str(part) for part in (code, message) if part) or "Azure gives no reason"
        findings.append(
            Finding("credential set", name, status, detail, rotation_steps(name, spec, _vault_name(config)))
        )
    for name, rule in sorted(config.rules().items()):
        live = live_rules.get(name)
        if live is None:
            findings.append(
                Finding("cache rule", name, MISSING, "not in the registry", "run `pulumi up` to create it")
            )
            continue
        state = _text(getattr(live, "provisioning_state", None)) or "Unknown"
        through = rule.credential_set or rule.registry_credential_set
        if through in unhealthy_sets:
            findings.append(
                Finding(
                    "cache rule",
                    name,
                    UNHEALTHY,
                    f"its credential set {through} is not healthy: pulls through {rule.target} fail",
                    f"fix credential set {through} (above)",
                )
            )
        elif state != "Succeeded":
            findings.append(
                Finding("cache rule", name, state, "provisioning did not succeed", "run `pulumi up` again")
            )
        else:
            findings.append(Finding("cache rule", name, "Succeeded"))
    findings += _token_findings(config, tokens, now or datetime.datetime.now(datetime.UTC))
    return findings


def _token_findings(config: StackConfig, tokens: Iterable[Any], now: datetime.datetime) -> list[Finding]:
    """The newest password of each configured token (the one its secret holds: rotations write the
    other slot and keep the older one valid for clients still switching), judged by its expiry."""
    live = {t.name: t for t in tokens}
    findings = []
    for name in sorted(config.tokens):
        rotate = (
            f"change `rotation` of token {name} in the stack (`acr-cache:tokens.{name}.rotation`) and run "
            "`pulumi up`: Azure generates the other password into the secret, this one stays valid meanwhile"
        )
        token = live.get(name)
        credentials = getattr(token, "credentials", None)
        passwords = [p for p in (getattr(credentials, "passwords", None) or []) if getattr(p, "expiry", None)]
        if token is None or not passwords:
            what = "not in the registry" if token is None else "has no password"
            findings.append(Finding("token password", name, MISSING, what, "run `pulumi up` to create it"))
            continue
        newest = max(passwords, key=lambda p: getattr(p, "creation_time", None) or p.expiry)
        slot = _text(getattr(newest, "name", None)) or "password"
        expiry = newest.expiry if newest.expiry.tzinfo else newest.expiry.replace(tzinfo=datetime.UTC)
        days = (expiry - now).total_seconds() / 86400
        when = f"{slot} expires {expiry.date().isoformat()}"
        if days <= 0:
            findings.append(
                Finding("token password", name, EXPIRED, f"{when}: clients cannot sign in", rotate)
            )
        elif days <= EXPIRY_WARNING_DAYS:
            findings.append(Finding("token password", name, EXPIRING, f"{when}, in {int(days)} days", rotate))
        else:
            findings.append(Finding("token password", name, VALID, f"{when}, in {int(days)} days"))
    return findings


def _text(value: Any) -> str:
    """An SDK enum member as the string Azure sent (`Healthy`), or the string itself."""
    return str(getattr(value, "value", value) or "")


def render(findings: list[Finding], output_format: str) -> str:
    if output_format == "json":
        return json.dumps([f._asdict() for f in findings], indent=2)
    # With no finding no line uses the width: its default is never read.
    width = max((len(f"{f.kind} {f.name}") for f in findings), default=0)  # mutation: equivalent
    lines = []
    for finding in findings:
        label = f"{finding.kind} {finding.name}".ljust(width)
        lines.append(f"{label}  {finding.state}" + (f"  ({finding.detail})" if finding.detail else ""))
        if finding.fix:
            lines.append(f"{'':{width}}  fix: {finding.fix}")
    bad = sum(not f.fine for f in findings)
    lines.append(
        f"{len(findings)} checked, {bad} not healthy"
        if findings
        else "nothing to check: no credential sets, cache rules or tokens"
    )
    return "\n".join(lines)


def check(
    config: StackConfig,
    subscription_id: str,
    credential: Any,
    *,
    arm_endpoint: str = PUBLIC_ARM_ENDPOINT,
    client_options: dict[str, Any] | None = None,
) -> list[Finding]:
    """Read the registry's credential sets, cache rules and tokens and judge them against the config."""
    from azure.mgmt.containerregistry import ContainerRegistryManagementClient

    group, registry = config.resource_group.name, config.registry.name
    scope = arm_endpoint.rstrip("/") + "/.default"
    with ContainerRegistryManagementClient(
        credential,
        subscription_id,
        base_url=arm_endpoint,
        credential_scopes=[scope],
        **(client_options or {}),
    ) as client:
        sets = list(client.credential_sets.list(group, registry)) if config.credential_sets else []
        rules = list(client.cache_rules.list(group, registry)) if config.rules() else []
        tokens = list(client.tokens.list(group, registry)) if config.tokens else []
    return read_health(config, sets, rules, tokens)


def unreadable(exc: Exception, registry: str, group: str, subscription: str) -> str:
    """Why the registry could not be read, and what to do, from the SDK's exception."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

    where = f"registry {registry} in resource group {group} (subscription {subscription})"
    text = error_text(exc)
    if isinstance(exc, ClientAuthenticationError):
        return (
            f"could not sign in to read {where}: {text}. Sign in as for `pulumi up`: `az login`, or "
            "ARM_CLIENT_ID with ARM_CLIENT_SECRET (or ARM_USE_OIDC=true, or ARM_USE_MSI=true) and ARM_TENANT_ID"
        )
    if isinstance(exc, ResourceNotFoundError):
        return f"{where} was not found ({text}): run `pulumi up` first, or check the subscription"
    if isinstance(exc, HttpResponseError) and exc.status_code == 403:
        return f"not allowed to read {where} ({text}): the signed-in identity needs Reader on the registry"
    return f"could not read {where}: {type(exc).__name__}: {text}"
