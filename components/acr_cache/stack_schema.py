"""The JSON Schema of a stack file (`Pulumi.<stack>.yaml`), generated from the stack model.

Editors read it through the `yaml-language-server` modeline at the top of each stack file: they
complete the `acr-cache:` sections and their camelCase keys, show each field's description, and
mark unknown keys, wrong enums and malformed names as you type. It states the shape only; the rules
that span fields and sections stay with the loader (`acr-cache plan` reports them all at once).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from acr_cache import arm
from acr_cache.model import _check_region
from acr_cache.stack import NAMESPACE, StackConfig

SCHEMA_PATH = "schemas/stack.schema.json"
"""Where the schema sits in the project, for the modeline: `# yaml-language-server: $schema=...`."""
MODELINE = f"# yaml-language-server: $schema=./{SCHEMA_PATH}"
"""The first line of a stack file in the project's directory, pointing editors at the schema."""

_REGION_PATTERN = "^[a-z][a-z0-9]{2,39}$"


def _patterns() -> dict[Callable[..., Any], str]:
    """Validator function -> the pattern its values match (names and regions)."""
    found: dict[Callable[..., Any], str] = {_check_region: _REGION_PATTERN}
    for value in vars(arm).values():
        if isinstance(value, arm.NameRule):
            found[value.check] = f"^(?:{value.pattern})$"
    return found


class _StackSchema(GenerateJsonSchema):
    """Pydantic's generator, plus the pattern of each name and region validator."""

    patterns = _patterns()

    def function_after_schema(self, schema: core_schema.AfterValidatorFunctionSchema) -> JsonSchemaValue:
        inner = super().function_after_schema(schema)
        pattern = self.patterns.get(schema["function"]["function"])
        if pattern is not None and inner.get("type") == "string":
            inner = {**inner, "pattern": pattern}
        return inner


def stack_schema() -> dict[str, Any]:
    """The schema of `Pulumi.<stack>.yaml` with the acr-cache sections under `config`."""
    model = StackConfig.model_json_schema(by_alias=True, mode="validation", schema_generator=_StackSchema)
    definitions = {name: _tidy(body) for name, body in model.get("$defs", {}).items()}
    for body in definitions.values():
        if body.get("type") == "object" and not body.get("required"):
            # An entry written with nothing after it (`westus3:`) takes its defaults, as `{}` does.
            body["type"] = ["object", "null"]
    sections = {f"{NAMESPACE}:{name}": _tidy(body) for name, body in model["properties"].items()}
    names = "|".join(model["properties"])
    secure = {
        "type": "object",
        "description": "A value Pulumi encrypted (`pulumi config set --secret`).",
        "properties": {"secure": {"type": "string"}},
        "required": ["secure"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/acr-cache/acr-cache/" + SCHEMA_PATH,
        "title": "acr-cache stack file (Pulumi.<stack>.yaml)",
        "description": "A Pulumi stack file of the acr-cache project: the `acr-cache:` sections of the "
        "config (docs/configuration.md), the secret keys they name, and other namespaces' keys "
        "(azure-native:, pulumi:), which are passed over.",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "description": "The stack's configuration: `namespace:key` to value.",
                "properties": sections,
                "required": [f"{NAMESPACE}:{name}" for name in model.get("required", [])],
                "patternProperties": {
                    # Any other key of ours is a value a section names by `configKey`: a secret
                    # (`secure:`) or, for a user name, plain text.
                    f"^{NAMESPACE}:(?!(?:{names})$)[^:]+$": {
                        "description": "A value a section names (`configKey`, `passwordConfigKey`, ...): "
                        "set it with `pulumi config set --secret <key> <value>`.",
                        "oneOf": [{"type": ["string", "number", "boolean"]}, secure],
                    },
                    f"^(?!{NAMESPACE}:)[^:]+:[^:]+$": {
                        "description": "A key of another namespace (azure-native:location, ...)."
                    },
                    "^[^:]+$": {"description": "A key without a namespace: the project's."},
                },
                "additionalProperties": False,
            },
            "environment": {
                "description": "Pulumi ESC environments the stack imports (a list of names, or a definition "
                "with `imports` and `values`); their `values.pulumiConfig` become config keys (README: "
                "Secrets from Pulumi ESC).",
                "oneOf": [
                    {"type": "array", "items": {"type": "string"}},
                    {
                        "type": "object",
                        "properties": {
                            "imports": {"type": "array", "items": {"type": "string"}},
                            "values": {"type": "object"},
                        },
                    },
                ],
            },
            "secretsprovider": {"type": "string", "description": "Pulumi's secrets provider."},
            "encryptedkey": {"type": "string", "description": "Pulumi's encrypted data key."},
            "encryptionsalt": {"type": "string", "description": "Pulumi's passphrase salt."},
        },
        "additionalProperties": False,
        "$defs": definitions,
    }


def _tidy(node: Any) -> Any:
    """Without pydantic's generated titles and the project's own markers (free text, Output ok),
    and with maps' keys checked."""
    if isinstance(node, dict):
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in node:
            # A map whose keys are names or regions: pydantic lets other keys through unchecked;
            # every key must match, and every value is an entry.
            (pattern, entry), rest = next(iter(patterns.items())), dict(node)
            del rest["patternProperties"]
            node = {**rest, "propertyNames": {"pattern": pattern}, "additionalProperties": entry}
        return {
            key: _tidy(value)
            for key, value in node.items()
            if key not in ("freeText", "outputOk") and not (key == "title" and isinstance(value, str))
        }
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    return node


def stack_schema_text() -> str:
    return json.dumps(stack_schema(), indent=2, sort_keys=True) + "\n"
