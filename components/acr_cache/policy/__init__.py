"""The security baseline as policies: the validators, their configuration, and an offline engine.

`acr-cache plan` evaluates them over the planned resources; `policy/` (CrossGuard) runs the same
validators in `pulumi preview --policy-pack policy/`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acr_cache.model import did_you_mean
from acr_cache.plan.runner import PlannedResource
from acr_cache.policy.controls import CONTROLS, DISABLED, LEVELS, MANDATORY, Control, NotKnown, Res
from acr_cache.redaction import shown

_MAX_POLICY_BYTES = 1024 * 1024

__all__ = [
    "CONTROLS",
    "Control",
    "PolicyConfig",
    "PolicyConfigError",
    "Report",
    "Res",
    "Violation",
    "evaluate",
    "from_planned",
]


class PolicyConfigError(Exception):
    """The policy pack config is invalid; the message names the policy and property."""


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    urn: str
    message: str
    remedy: str = ""
    """The config key that fixes it and how to relax the policy (Control.remedy)."""

    def __str__(self) -> str:
        remedy = f"; {self.remedy}" if self.remedy else ""
        return f"[{self.level}] {self.policy}: {self.urn}: {self.message}{remedy}"


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    not_evaluated: list[str] = field(default_factory=list)
    """Controls that met values only known after deployment."""

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == MANDATORY]


@dataclass(frozen=True)
class PolicyConfig:
    """Enforcement levels and options per policy, in the shape of `pulumi --policy-pack-config`."""

    levels: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def level(self, control: Control) -> str:
        return self.levels.get(control.name, self.levels.get("all", control.level))

    def options_for(self, control: Control) -> dict[str, Any]:
        values = {key: default for key, (_, default, _) in control.options.items()}
        values.update(self.options.get(control.name, {}))
        return values

    @classmethod
    def parse(cls, document: Any) -> PolicyConfig:
        if not isinstance(document, dict):
            raise PolicyConfigError("the policy config must be a JSON object keyed by policy name")
        names = {c.name: c for c in CONTROLS}
        levels: dict[str, str] = {}
        options: dict[str, dict[str, Any]] = {}
        for name, entry in document.items():
            if name == "all":
                if entry not in LEVELS:
                    raise PolicyConfigError(f"all: '{shown(entry)}' is not one of {', '.join(LEVELS)}")
                levels["all"] = entry
                continue
            if name not in names:
                raise PolicyConfigError(
                    f"{shown(name)}: no such policy{did_you_mean(str(name), names)}; the policies are "
                    f"{', '.join(names)}"
                )
            if isinstance(entry, str):
                entry = {"enforcementLevel": entry}
            if not isinstance(entry, dict):
                raise PolicyConfigError(f"{name}: expected a level ({', '.join(LEVELS)}) or an object")
            for key, value in entry.items():
                if key == "enforcementLevel":
                    if value not in LEVELS:
                        raise PolicyConfigError(
                            f"{name}.enforcementLevel: '{shown(value)}' is not one of {', '.join(LEVELS)}"
                        )
                    levels[name] = value
                elif key in names[name].options:
                    kind = names[name].options[key][0]
                    if not isinstance(value, kind):
                        raise PolicyConfigError(f"{name}.{key}: expected {kind.__name__}")
                    options.setdefault(name, {})[key] = value
                else:
                    allowed = ", ".join(["enforcementLevel", *names[name].options])
                    raise PolicyConfigError(f"{name}.{shown(key)}: unknown property; allowed: {allowed}")
        return cls(levels, options)

    @classmethod
    def load(cls, path: Path) -> PolicyConfig:
        if path.is_dir():
            raise PolicyConfigError(f"{path} is a directory: give the policy config file (JSON)")
        try:
            if path.stat().st_size > _MAX_POLICY_BYTES:
                raise PolicyConfigError(f"{path}: {path.stat().st_size:,} bytes is not a policy config")
            document = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise PolicyConfigError(
                f"{path}: cannot read it ({exc.strerror or type(exc).__name__})"
            ) from None
        except UnicodeDecodeError:
            raise PolicyConfigError(f"{path}: not UTF-8 text: save it as UTF-8 JSON") from None
        except json.JSONDecodeError as exc:
            raise PolicyConfigError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise PolicyConfigError(f"{path}: nests too deep for a policy config") from None
        return cls.parse(document)


def from_planned(resources: Iterable[PlannedResource]) -> list[Res]:
    return [
        Res(
            urn=r.urn,
            type=r.type,
            name=r.name,
            props=r.inputs,
            property_dependencies={k: frozenset(v) for k, v in r.property_dependencies.items()},
            secrets_known=True,
        )
        for r in resources
        if r.custom
    ]


def evaluate(resources: list[Res], config: PolicyConfig | None = None) -> Report:
    """Run every enabled control over the resources."""
    config = config or PolicyConfig()
    report = Report()
    for control in CONTROLS:
        level = config.level(control)
        if level == DISABLED:
            continue
        options = config.options_for(control)
        if control.check is not None:
            for res in resources:
                if control.types and res.type not in control.types:
                    continue
                try:
                    messages = list(control.check(res, options))
                except NotKnown as unknown:
                    report.not_evaluated.append(
                        f"{control.name}: {res.urn}: `{unknown}` is known only after deployment"
                    )
                    continue
                report.violations.extend(
                    Violation(control.name, level, res.urn, m, control.remedy(res)) for m in messages
                )
        if control.stack_check is not None:
            try:
                found = list(control.stack_check(resources, options))
            except NotKnown as unknown:
                report.not_evaluated.append(f"{control.name}: `{unknown}` is known only after deployment")
                continue
            report.violations.extend(
                Violation(control.name, level, urn, m, control.remedy()) for urn, m in found
            )
    return report
