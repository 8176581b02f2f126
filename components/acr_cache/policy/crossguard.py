"""The baseline as Pulumi CrossGuard policies (pulumi-policy), for `pulumi preview --policy-pack policy/`.

Only this module imports pulumi_policy. Building the policies does not start the pack: the
PolicyPack constructor serves gRPC forever, so only policy/__main__.py calls it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from acr_cache.policy import CONTROLS, Control, Res

_JSON_TYPES = {bool: "boolean", int: "integer", str: "string", float: "number"}


def build_policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """One CrossGuard policy per control, with its default level and config schema."""
    return [_policy(control) for control in CONTROLS]


def _schema(control: Control) -> PolicyConfigSchema | None:
    if not control.options:
        return None
    return PolicyConfigSchema(
        properties={
            key: {"type": _JSON_TYPES[kind], "default": default, "description": text}
            for key, (kind, default, text) in control.options.items()
        }
    )


def _options(control: Control, config: Mapping[str, Any] | None) -> dict[str, Any]:
    values = {key: default for key, (_, default, _) in control.options.items()}
    values.update({k: v for k, v in (config or {}).items() if k in control.options})
    return values


def _policy(control: Control) -> ResourceValidationPolicy | StackValidationPolicy:
    description = f"{control.description} Mirrors: {control.mirrors}."
    level = EnforcementLevel(control.level)
    if control.stack_check is not None:
        stack_check = control.stack_check

        def validate_stack(args: StackValidationArgs, report_violation: ReportViolation) -> None:
            resources = [
                Res(
                    urn=r.urn,
                    type=r.resource_type,
                    name=r.name,
                    props=r.props,
                    property_dependencies={
                        key: frozenset(dep.urn for dep in deps)
                        for key, deps in (r.property_dependencies or {}).items()
                    },
                    # CrossGuard unwraps secrets before policies see them.
                    secrets_known=False,
                )
                for r in args.resources
            ]
            for urn, message in stack_check(resources, _options(control, args.get_config())):
                report_violation(f"{message}; {control.remedy()}", urn)

        return StackValidationPolicy(
            name=control.name,
            description=description,
            enforcement_level=level,
            validate=validate_stack,
            config_schema=_schema(control),
        )

    check = control.check
    assert check is not None

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if control.types and args.resource_type not in control.types:
            return
        res = Res(
            urn=args.urn, type=args.resource_type, name=args.name, props=args.props, secrets_known=False
        )
        for message in check(res, _options(control, args.get_config())):
            report_violation(f"{message}; {control.remedy(res)}", None)

    return ResourceValidationPolicy(
        name=control.name,
        description=description,
        enforcement_level=level,
        validate=validate,
        config_schema=_schema(control),
    )
