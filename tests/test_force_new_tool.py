"""tools/force_new.py derives force-new properties by azure-native's generator rules (issue #26)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import force_new  # noqa: E402

SPEC = {
    "paths": {
        "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Test/things/{thingName}": {
            "put": {
                "parameters": [{"in": "body", "name": "thing", "schema": {"$ref": "#/definitions/Thing"}}]
            }
        }
    },
    "definitions": {
        "Resource": {
            "properties": {
                "id": {"type": "string", "readOnly": True},
                "location": {"type": "string", "x-ms-mutability": ["read", "create"]},
            }
        },
        "Thing": {
            "allOf": [{"$ref": "#/definitions/Resource"}],
            "properties": {
                "properties": {"$ref": "#/definitions/ThingProperties", "x-ms-client-flatten": True}
            },
        },
        "ThingProperties": {
            "properties": {
                "fixed": {"type": "string", "x-ms-mutability": ["read", "create"]},
                "free": {"type": "string", "x-ms-mutability": ["read", "create", "update"]},
                "nested": {"$ref": "#/definitions/Nested"},
                "list": {"type": "array", "items": {"$ref": "#/definitions/Nested"}},
            }
        },
        "Nested": {
            "properties": {
                "inner": {"type": "string", "x-ms-mutability": ["create", "read"]},
                "open": {"type": "string"},
            }
        },
    },
}

REPLACEMENT = """
var forceNewMap = map[openapi.ModuleName]map[string]codegen.StringSet{
	"Test": {
		"Thing": codegen.NewStringSet("other"),
		"Multi": codegen.NewStringSet(
			// a comment
			"a",
			"b",
		),
	},
	"Network": {
		"PrivateEndpoint": codegen.NewStringSet("subnet"),
	},
}

var noForceNewMap = map[openapi.ModuleName]map[string]codegen.StringSet{}
"""


def test_the_mutability_rule_top_level_and_flattened_not_in_referenced_types(tmp_path: Path) -> None:
    # `nested.inner` and `list[].inner` are create-only in a referenced type: azure-native's generator
    # marks them ForceNewInferredFromReferencedTypes, which its diff does not replace on.
    spec_file = tmp_path / "thing.json"
    spec_file.write_text(json.dumps(SPEC))
    found = force_new.derive(force_new.Spec(spec_file), "Microsoft.Test/things/{thingName}")
    assert found == {"location", "fixed"}


def test_force_new_map_is_read_from_replacement_go() -> None:
    assert force_new.force_new_map(REPLACEMENT) == {
        ("test", "Thing"): {"other"},
        ("test", "Multi"): {"a", "b"},
        ("network", "PrivateEndpoint"): {"subnet"},
    }


def test_the_check_names_each_difference(tmp_path: Path) -> None:
    (tmp_path / "specification").mkdir()
    (tmp_path / "specification" / "thing.json").write_text(json.dumps(SPEC))
    table = {
        "types": {
            "azure-native:test:Thing": {
                "spec": "Azure/azure-rest-api-specs specification/thing.json",
                "forceNew": {
                    "location": "x",
                    "fixed": "x",
                    "other": "x",
                },
            },
            "azure-native:test:Gone": {
                "spec": "Azure/azure-rest-api-specs specification/none.json",
                "forceNew": {},
            },
        }
    }
    paths = {
        "azure-native:test:Thing": "Microsoft.Test/things/{thingName}",
        "azure-native:test:Gone": "x/{y}",
    }
    problems = force_new.check(table, tmp_path, REPLACEMENT, paths)
    assert len(problems) == 1 and problems[0].startswith("azure-native:test:Gone: ")
    table["types"]["azure-native:test:Thing"]["forceNew"].pop("fixed")
    problems = force_new.check(table, tmp_path, REPLACEMENT, paths)
    assert problems[1].startswith("azure-native:test:Thing: the sources say")
