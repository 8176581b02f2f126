"""Plan values: what the Pulumi engine receives, with secrets and unknowns kept distinguishable."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from google.protobuf import struct_pb2

from acr_cache.config import OFFLINE_PLACEHOLDER
from acr_cache.redaction import redact

# Sentinels of the Pulumi wire protocol (pulumi/runtime/rpc.py).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

SECRET_TEXT = "[secret]"
UNKNOWN_TEXT = "[unknown]"


@dataclass(frozen=True)
class Secret:
    """A secret value: checked like any other, never printed."""

    value: Any


@dataclass(frozen=True)
class Unknown:
    """A value that is only known once the resource is deployed."""


def unwrap_secret(value: Any) -> Any:
    while isinstance(value, Secret):
        value = value.value
    return value


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A wire property struct as Python values, with Secret and Unknown markers."""
    return {key: from_value(struct.fields[key]) for key in struct.fields}


def from_value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "null_value" or kind is None:
        return None
    if kind == "bool_value":
        return value.bool_value
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind == "string_value":
        return Unknown() if value.string_value == _UNKNOWN else value.string_value
    if kind == "list_value":
        return [from_value(item) for item in value.list_value.values]
    fields = value.struct_value.fields
    signature = fields[_SIG_KEY].string_value if _SIG_KEY in fields else None
    if signature == _SECRET_SIG:
        return Secret(from_value(fields["value"]) if "value" in fields else Unknown())
    if signature == _RESOURCE_SIG:
        return fields["urn"].string_value
    if signature == _OUTPUT_SIG:
        inner = from_value(fields["value"]) if "value" in fields else Unknown()
        return Secret(inner) if fields.get("secret") and fields["secret"].bool_value else inner
    return {key: from_value(fields[key]) for key in fields}


def render(value: Any) -> Any:
    """Values as the plan prints them: secrets as "[secret]", unknowns as "[unknown]", and any
    credential-shaped text hidden, whatever input holds it."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Secret):
        return SECRET_TEXT
    if isinstance(value, Unknown):
        return UNKNOWN_TEXT
    if isinstance(value, dict):
        return {key: render(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [render(item) for item in value]
    return value


def secret_digests(inputs: dict[str, Any]) -> dict[str, str]:
    """Per secret input (by path), a digest of the offline placeholder it holds, so that two plans
    tell a changed secret from an unchanged one while both print "[secret]".

    Offline, every secret is a placeholder that carries a digest of its ciphertext (or of nothing,
    when unset): hashing it reveals no more than the committed stack file. A secret that holds
    anything else (a program's own plain value made secret) gets no digest: a digest of a real
    value could be guessed back, so such a change is not visible to the diff.
    """
    found: dict[str, str] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Secret):
            plain = _plain(value)
            text = json.dumps(plain, sort_keys=True, default=str)
            if OFFLINE_PLACEHOLDER in text:
                found[path] = hashlib.sha256(text.encode()).hexdigest()[:16]
        elif isinstance(value, dict):
            for key in value:
                walk(value[key], f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")

    walk(inputs, "")
    return found


def _plain(value: Any) -> Any:
    value = unwrap_secret(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return None if isinstance(value, Unknown) else value
