"""Reading the stack config: from the values Pulumi hands the program to a validated StackConfig.

Each section is a top-level key in the `acr-cache` namespace (`acr-cache:registry`, ...), holding a
plain (non-secret) object. Secrets never travel inside a section: `require_object` would hand them
back in plaintext (pulumi#7127). They live in keys of their own, set with
`pulumi config set --secret`, and sections refer to those keys by name.

Every problem is reported at once, each with its key path and the fix, before any resource exists.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from acr_cache.model import ConfigError, ConfigProblem, closest
from acr_cache.problems import join_keys, salvage, spelling
from acr_cache.redaction import CREDENTIAL_FIX, credential_kind
from acr_cache.stack import NAMESPACE, StackConfig

__all__ = [  # mutation: equivalent (only `import *` reads it, and nothing does)
    "NAMESPACE",
    "OFFLINE_PLACEHOLDER",
    "ConfigError",
    "ConfigProblem",
    "StackConfig",
    "load_stack_config",
    "offline_placeholders",
    "parse_stack_config",
    "section_keys",
]

OFFLINE_PLACEHOLDER = "offline-plan-placeholder-secret"
"""The value a secret takes in the offline plan when it is encrypted or not set at all."""

# Set by the offline plan only: referenced secret keys that are not set are planned with a
# placeholder (and listed here) instead of failing, since the user sets them with
# `pulumi config set --secret` and never commits them. Under the engine it stays None.
_OFFLINE_MISSING: ContextVar[list[str] | None] = ContextVar(  # mutation: equivalent (a debugging name)
    "acr_cache_offline_missing", default=None
)


@contextlib.contextmanager
def offline_placeholders() -> Iterator[list[str]]:
    """Within this block, unset secret keys that the config refers to become placeholders."""
    missing: list[str] = []
    token = _OFFLINE_MISSING.set(missing)
    try:
        yield missing
    finally:
        _OFFLINE_MISSING.reset(token)


def section_keys() -> dict[str, str]:
    """Config key (camelCase) -> model field name, for every section."""
    return {(info.alias or name): name for name, info in StackConfig.model_fields.items()}


def parse_stack_config(
    values: Mapping[str, Any],
    secret_keys: Iterable[str] = (),
    other_keys: Iterable[str] = (),
    default_subscription: str | None = None,
) -> StackConfig:
    """Validate raw config values (full key -> value as Pulumi passes it) into a StackConfig.

    `other_keys` are the stack's keys in other namespaces (only their names are looked at: one in
    a namespace that is a misspelling of ours would otherwise be ignored without a word).
    `default_subscription` is `azure-native:subscriptionId`, when the stack sets it.
    Raises ConfigError listing every problem. Values of secret keys are never echoed.
    """
    secret = set(secret_keys)
    sections = section_keys()
    problems: list[ConfigProblem] = _namespace_problems([*values, *other_keys])
    document: dict[str, Any] = {}
    refused: set[str] = set()
    stray: list[str] = []
    named: set[str] = set()
    for key in sorted(values):
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE:
            continue
        if name not in sections:
            if key not in secret:
                stray.append(key)
            continue
        if key in secret:
            problems.append(
                ConfigProblem(
                    key,
                    "this section is stored as a secret or holds a `secure:` value, and sections "
                    "must be plain objects: move the secret into a key of its own "
                    "(`pulumi config set --secret <name> ...`) and refer to it by name",
                )
            )
            refused.add(name)
            continue
        try:
            section = _decode(values[key])
        except RecursionError:
            section = None
        scan = _scan(section, key) if section is not None else None
        if scan is None:
            # Under the engine the CLI hands over whatever its YAML reader built; deep nesting
            # would exhaust Python's recursion in every later step.
            problems.append(
                ConfigProblem(
                    key,
                    f"lists and maps nest more than {MAX_DEPTH} levels deep; no setting goes deeper "
                    "than 6: check the indentation",
                )
            )
            refused.add(name)
            continue
        document[name] = section
        problems.extend(scan.problems)
        named |= scan.named

    # Plain keys outside the sections are typos, unless a credential set reads them (a username).
    for key in stray:
        if key.partition(":")[2] not in named:
            problems.append(
                ConfigProblem(
                    key,
                    f"unknown config key{spelling(key.partition(':')[2], list(sections))}; the sections are "
                    f"{join_keys(sections)} (secrets go in keys of their own, set with `pulumi config set "
                    "--secret`, and a credential set names them in `configKey`)",
                )
            )
        elif isinstance(values[key], str):
            problems.extend((_scan(values[key], key) or _Scan()).problems)
    try:
        # By alias only: the stack file spells every key in camelCase, as the reference documents.
        config: StackConfig | None = _validate(document)
        rest = None
    except ValidationError as exc:
        # Every problem of the file in one pass: what failed is set aside and the rest validated
        # again, so the rules behind a first failure (and those across sections) still speak.
        rest = salvage(StackConfig, document, exc, f"{NAMESPACE}:", _validate)
        config = rest.model if isinstance(rest.model, StackConfig) else None
        # A refused section is already reported; its absence from the document is no news. Every
        # credential the model finds (at the field holding it, `registry.tags`), the walk above
        # found first, over the same strings, at its exact key: one finding, reported once, there.
        problems.extend(
            p
            for p in rest.problems
            if p.key.partition(":")[2] not in refused and not p.message.startswith("looks like")
        )
    if config is not None:
        later = [
            *config.cross_section_problems(),
            *_subscription_problems(config, default_subscription),
            *_secret_key_problems(config, values, secret),
        ]
        # Problems of what is left after setting parts aside may be about those parts' stand-ins.
        problems.extend(p for p in later if rest is None or not rest.mentions(p))
    if problems or config is None:
        raise ConfigError(in_file_order(problems, values))
    return config


def _validate(document: dict[str, Any]) -> StackConfig:
    return StackConfig.model_validate(document, by_alias=True, by_name=False)


def in_file_order(problems: list[ConfigProblem], values: Mapping[str, Any]) -> list[ConfigProblem]:
    """The problems in the order their keys appear in the stack config (Pulumi hands the values over
    in the file's order to the offline plan; the engine may sort the top-level keys), each key's own
    problems in the order they were found."""
    places: dict[str, int] = {}
    stack: list[tuple[str, Any, int]] = [
        (key, _decoded(value), 0) for key, value in reversed(list(values.items()))
    ]
    while stack:
        where, node, depth = stack.pop()
        places.setdefault(where, len(places))
        if depth >= MAX_DEPTH:
            continue
        if isinstance(node, dict):
            stack.extend((f"{where}.{key}", item, depth + 1) for key, item in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend(
                (f"{where}[{index}]", item, depth + 1) for index, item in reversed(list(enumerate(node)))
            )

    def place(problem: ConfigProblem) -> int:
        key = problem.key
        while key:
            if key in places:
                return places[key]
            cut = max(key.rfind("."), key.rfind("["))
            key = key[:cut] if cut > 0 else ""  # mutation: equivalent (keys open `ns:`: no cut at 0, 1)
        return len(places)  # a key the file does not have (a namespace of its own)

    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=place)


def _subscription_problems(config: StackConfig, default_subscription: str | None) -> list[ConfigProblem]:
    ours = config.subscription_id
    if default_subscription and ours and default_subscription.lower() != ours:
        return [
            ConfigProblem(
                f"{NAMESPACE}:subscriptionId",
                f"is {ours}, but azure-native:subscriptionId is {default_subscription.lower()} and the default "
                "provider deploys there: remove `acr-cache:subscriptionId`, or make the two equal",
            )
        ]
    return config.placement_problems((default_subscription or "").lower() or ours)


def _secret_key_problems(
    config: StackConfig, values: Mapping[str, Any], secret: set[str]
) -> list[ConfigProblem]:
    problems = []
    missing = _OFFLINE_MISSING.get()
    for key, (path, must_be_secret) in sorted(config.referenced_config_keys().items()):
        full = f"{NAMESPACE}:{key}"
        if full not in values:
            if missing is not None:
                missing.append(full)
                continue
            problems.append(
                ConfigProblem(
                    path,
                    f"config key `{full}` is not set: run `pulumi config set --secret {key} <value>` "
                    "(it is never committed in plain text), or set it in the stack's Pulumi ESC environment "
                    "under `values.pulumiConfig`",
                )
            )
        elif must_be_secret and full not in secret:
            # The value itself is never echoed: it is a password sitting in plain text.
            problems.append(
                ConfigProblem(
                    full,
                    f"holds a password or token in plain text: remove it from the stack file and set it "
                    f"with `pulumi config set --secret {key} <value>` (from Pulumi ESC: wrap it in `fn::secret`)",
                )
            )
    for key, path in sorted(config.url_config_keys().items()):
        value = values.get(f"{NAMESPACE}:{key}")
        # An encrypted value the offline plan cannot read stands in as the placeholder.
        if (
            isinstance(value, str)
            and not value.startswith(OFFLINE_PLACEHOLDER)
            and not value.startswith("https://")
        ):
            # Azure posts the registry's events (or alerts) there (Checkov CKV2_AZURE_30); the value
            # itself is never echoed.
            problems.append(
                ConfigProblem(
                    path,
                    f"config key `{NAMESPACE}:{key}` must hold an https:// URL: over http the "
                    "notifications, and any token in the URL or headers, travel in the clear",
                )
            )
    return problems


def _namespace_problems(keys: Iterable[str]) -> list[ConfigProblem]:
    """Keys whose namespace is a misspelling of ours: the program would never read them."""
    problems = []
    for key in sorted(set(keys)):
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE and closest(namespace, [NAMESPACE]) is not None:
            problems.append(
                ConfigProblem(
                    key,
                    f"the namespace `{namespace}:` is not this project's: did you mean `{NAMESPACE}:{name}`? "
                    "(keys of other namespaces are passed over, so this one would be ignored)",
                )
            )
    return problems


@dataclass
class _Scan:
    """What one walk over a section finds: plain values that look like a credential (they would
    sit unencrypted in the stack file, the state and, as tags, names or URLs, in Azure; the value
    itself is never repeated), and the config keys the section names (`configKey`,
    `usernameConfigKey`, maps of them in `customHeaderConfigKeys`)."""

    problems: list[ConfigProblem] = field(default_factory=list)
    named: set[str] = field(default_factory=set)


def _scan(value: Any, path: str) -> _Scan | None:
    """One walk over a section, without recursion; None when it nests deeper than MAX_DEPTH."""
    found = _Scan()
    # (node, key path, depth, whether config keys named below it count)
    stack: list[tuple[Any, str, int, bool]] = [(value, path, 0, True)]
    while stack:
        node, where, depth, naming = stack.pop()
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, dict):
            for key, item in node.items():
                kind = credential_kind(str(key))
                if kind:
                    found.problems.append(
                        ConfigProblem(where, f"a key here looks like {kind}: {CREDENTIAL_FIX}")
                    )
                lowered = key.lower() if isinstance(key, str) else ""
                below = naming
                if naming and lowered.endswith("configkey") and isinstance(item, str):
                    found.named.add(item)
                    below = False  # mutation: equivalent (nothing lies below a string)
                elif naming and lowered.endswith("configkeys") and isinstance(item, dict):
                    found.named |= {v for v in item.values() if isinstance(v, str)}
                    below = False  # mutation: equivalent (its values are strings, or refused)
                stack.append((item, f"{where}.{key}" if not kind else where, depth + 1, below))
        elif isinstance(node, list):
            stack.extend((item, f"{where}[{index}]", depth + 1, naming) for index, item in enumerate(node))
        elif isinstance(node, str) and (kind := credential_kind(node)):
            found.problems.append(ConfigProblem(where, f"looks like {kind}: {CREDENTIAL_FIX}"))
    return found


def load_stack_config() -> StackConfig:
    """Read and validate the running stack's config (under the engine or under mocks)."""
    # pulumi.Config can only fetch keys by name; the unknown-key check needs all of them, which
    # the runtime keeps in its config map (engine) or in PULUMI_CONFIG (environment).
    from pulumi.runtime import config as runtime_config

    # In the order they were handed over (the file's, for the offline plan), for problems in file order.
    keys = list(dict.fromkeys([*runtime_config.CONFIG.get(), *runtime_config.get_config_env()]))
    ours = {key: runtime_config.get_config(key) for key in keys if key.startswith(f"{NAMESPACE}:")}
    secret = {key for key in ours if runtime_config.is_config_secret(key)}
    secret |= set(runtime_config.get_config_secret_keys_env()) & set(ours)
    default_subscription = runtime_config.get_config("azure-native:subscriptionId")
    config = parse_stack_config(
        ours,
        secret,
        other_keys=[key for key in keys if key not in ours],
        default_subscription=default_subscription,
    )
    missing = _OFFLINE_MISSING.get()
    if missing:
        # Offline plan only: make the unset secrets readable as placeholder secrets.
        current = dict(runtime_config.CONFIG.get())
        current_secret = [key for key in current if runtime_config.is_config_secret(key)]
        current.update(dict.fromkeys(missing, OFFLINE_PLACEHOLDER))
        runtime_config.set_all_config(current, current_secret + missing)
    return config


MAX_DEPTH = 32
"""The deepest nesting of lists and maps a section may have (the deepest key path has 6 levels)."""


def _decoded(raw: Any) -> Any:
    """The value, or None when it nests too deep to decode (reported on its own)."""
    try:
        return _decode(raw)
    except RecursionError:
        return None


def _decode(raw: Any) -> Any:
    # Pulumi hands object values to the program as JSON text and scalars as plain strings.
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw
