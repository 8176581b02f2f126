"""What the program does to register resources fast (all three apply to any Pulumi Python program).

azure-native attaches to every resource one alias per older API version of its type (a CacheRule
carries 13, `azure-native:containerregistry/v20230101preview:CacheRule` and so on), for stacks that
once created it under a versioned type. The Python SDK turns each alias into a URN eagerly, in the
Resource constructor, through a chain of Outputs and asyncio tasks, whether or not anything ever
uses it; at 1,000 cache rules that is most of the program's time. acr-cache creates every resource
with the unversioned default type, so those aliases can never match anything in its stacks: the
transformation below drops exactly them before the SDK computes anything, and keeps every other
alias (URN strings, renames, reparenting, such as `acr-cache:registry.aliases`).

A resource that carries aliases of its own (a user's `aliases`, such as `acr-cache:registry.aliases`)
or is adopted with `import_` keeps every alias azure-native gives it: it may come from a stack that
once used a versioned type. A stack that was created with versioned azure-native types throughout
turns the shortcuts off with `acr-cache:performance.registrationShortcuts: false`.

For every resource, the SDK also sends the engine the source position of each frame below the
resource's constructor (what `pulumi up` shows next to a failed resource). It gets them from
`traceback.extract_stack()`, which stats every file on the stack and reads its lines, and then
turns each file name into a URI with pathlib: per resource, per frame, every time. The program
sends the same stack trace computed from the live frames, with each frame's position built once.
"""

from __future__ import annotations

import contextlib
import gc
import pathlib
import re
import sys
from importlib import metadata
from types import FrameType

import pulumi
from pulumi.runtime import resource as _sdk_resource
from pulumi.runtime.proto import source_pb2
from pydantic import Field

from acr_cache.model import ConfigModel

TESTED_VERSIONS = {"pulumi": "3.272.0", "pulumi-azure-native": "3.29.0"}
"""The SDK versions the shortcuts were measured and tested with (tests/test_performance.py): the
stack trace replaces a private SDK function, and the alias filter relies on azure-native's alias
shape. On any other version the program registers the SDK's way."""


class PerformanceConfig(ConfigModel):
    """How the program registers resources."""

    registration_shortcuts: bool = Field(
        default=True,
        description="Take the registration shortcuts of `acr_cache.performance` (drop azure-native's "
        "API-version aliases on resources with no aliases of their own, build stack traces from live "
        "frames, tune the garbage collector): a 1,000-rule stack registers about 8 times faster. "
        "They act only on the SDK versions they were tested with. Turn off for a stack whose "
        "resources were once created with versioned azure-native types.",
    )


GC_THRESHOLD = 50_000
"""Allocations between two collections of the youngest generation (Python's default is 700)."""

# `azure-native:<module>/v<date>[preview]:<Type>`: the versioned type tokens azure-native aliases.
_VERSIONED_TYPE = re.compile(r"azure-native:[A-Za-z0-9]+/v[0-9a-z]+:[A-Za-z0-9]+")


def _is_version_alias(alias: object) -> bool:
    if not isinstance(alias, pulumi.Alias):
        return False
    type_ = alias.type_
    # Cheapest test first: this runs for every alias of every resource.
    if not isinstance(type_, str) or "/v" not in type_ or _VERSIONED_TYPE.fullmatch(type_) is None:
        return False
    return alias.name is ... and alias.parent is ... and alias.stack is ... and alias.project is ...


def drop_api_version_aliases(
    args: pulumi.ResourceTransformationArgs,
) -> pulumi.ResourceTransformationResult | None:
    """A resource transformation that removes azure-native's API-version type aliases, on
    resources that have no other alias and are not being adopted."""
    aliases = args.opts.aliases
    if not aliases or not args.type_.startswith("azure-native:") or args.opts.import_:
        return None
    if not all(_is_version_alias(alias) for alias in aliases):
        # A resource the user aliased may be one an older program created under a versioned
        # type: all of its aliases stay.
        return None
    opts = args.opts._copy()
    opts.aliases = None
    return pulumi.ResourceTransformationResult(args.props, opts)


# One message per (file, line): a program registers from a handful of places.
_FRAMES: dict[tuple[str, int | None], source_pb2.StackFrame] = {}


def _stack_frame(filename: str, lineno: int | None) -> source_pb2.StackFrame:
    frame = _FRAMES.get((filename, lineno))
    if frame is None:
        position = None
        # The SDK's rules: no position without a file and a line, or for a name that is not an
        # absolute path ("<frozen runpy>", "<string>"), which has no file URI.
        if filename and lineno is not None:
            with contextlib.suppress(ValueError):
                position = source_pb2.SourcePosition(uri=pathlib.Path(filename).as_uri(), line=lineno)
        frame = _FRAMES[(filename, lineno)] = source_pb2.StackFrame(pc=position)
    return frame


def stack_trace() -> source_pb2.StackTrace:
    """The stack trace the SDK sends with a registration, equal to its own, built from live frames.

    Called from the SDK's `register_resource`/`read_resource`: counting from there, the third
    `__init__` is the resource class's (after Resource and Custom/ComponentResource); the frames
    that called it are the program's, sent innermost first. A stack without three `__init__`
    frames, or with nothing calling the third, gets an empty trace, as from the SDK.
    """
    frame: FrameType | None = sys._getframe(1)
    inits = 0
    while frame is not None:
        if frame.f_code.co_name == "__init__":
            inits += 1
            if inits == 3:
                break
        frame = frame.f_back
    if frame is None or frame.f_back is None:
        return source_pb2.StackTrace()
    frames = []
    caller: FrameType | None = frame.f_back
    while caller is not None:
        # Repeated message fields copy what they are given: the cached messages stay untouched.
        frames.append(_stack_frame(caller.f_code.co_filename, caller.f_lineno))
        caller = caller.f_back
    return source_pb2.StackTrace(frames=frames)


def untested_versions() -> dict[str, str]:
    """The installed SDKs whose version differs from the tested one (name -> installed version)."""
    found = {}
    for name, tested in TESTED_VERSIONS.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != tested:
            found[name] = installed
    return found


def register(config: PerformanceConfig | None = None) -> list[str]:
    """Take the shortcuts for everything registered from here on, where they are safe.

    Returns what was not done and why (empty when every shortcut was taken); the program logs it.
    """
    if config is not None and not config.registration_shortcuts:
        return ["registration shortcuts are off (acr-cache:performance.registrationShortcuts: false)"]
    untested = untested_versions()
    if untested:
        versions = ", ".join(f"{name} {version}" for name, version in sorted(untested.items()))
        tested = ", ".join(f"{name} {version}" for name, version in sorted(TESTED_VERSIONS.items()))
        return [
            f"registration shortcuts not taken: they were tested with {tested}, this is {versions}; "
            "the program registers the SDK's way (slower for large stacks, same resources)"
        ]
    _register()
    return []


def _register() -> None:
    """Take the three shortcuts for everything the program registers from here on.

    Besides dropping version aliases and building stack traces from the live frames, it moves
    every object that exists now (the imported SDK, hundreds of thousands of objects) out of the
    garbage collector's sight: they live as long as the program anyway, and each full collection would otherwise walk them all again while the
    program registers resources (about a tenth of the time at 1,000 cache rules).
    """
    pulumi.runtime.register_stack_transformation(drop_api_version_aliases)
    # A private function of the SDK, looked up by its callers at each call; pinned in uv.lock,
    # and tests/test_performance.py compares both on every stack shape the SDK distinguishes.
    if callable(getattr(_sdk_resource, "_get_stack_trace", None)):
        _sdk_resource._get_stack_trace = stack_trace
    gc.freeze()
    # Registering resources churns through many short-lived Outputs and tasks, which nearly all
    # die by reference counting; with the default threshold (700) the collector still runs
    # thousands of times. It keeps running, just a hundred times less often: measured at 1,000
    # rules, about a third of the plan's time, for the same peak memory.
    gc.set_threshold(GC_THRESHOLD, 20, 20)
