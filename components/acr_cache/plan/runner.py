"""Runs a Pulumi program on the real SDK under Azure-like mocks and records what it registers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func

from acr_cache.placement import stack_subscription
from acr_cache.plan.mocks import AzureMocks
from acr_cache.plan.values import from_struct


@dataclass
class PlannedResource:
    """One resource as the engine would receive it."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    depends_on: list[str]
    protect: bool
    arm_id: str = ""
    """The id the mocks gave it (ARM-shaped, as Azure would)."""
    retain_on_delete: bool = False
    """Deleting it removes it from the stack only (the engine never calls the provider's Delete)."""
    replace_on_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    alias_urns: list[str] = field(default_factory=list)
    alias_count: int = 0
    """How many aliases (URNs and specs) the registration carried."""
    alias_specs: list[dict[str, Any]] = field(default_factory=list)
    """The alias specs other than azure-native's API-version type aliases: name, type, parentUrn,
    noParent, stack, project (empty strings where the resource's own apply)."""
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    """Per input property, the URNs its value came from (what policies trace grants by)."""
    additional_secret_outputs: list[str] = field(default_factory=list)
    """Outputs the engine keeps as secrets although the provider returns them in plain text."""
    ignore_changes: list[str] = field(default_factory=list)
    """Input properties whose changes the engine ignores (`ignore_changes`)."""
    import_id: str = ""
    """The ARM id of an existing resource the engine imports (adopts) instead of creating one."""
    provider: str = ""
    """URN of the explicit provider it is registered with; empty: the package's default provider."""


@dataclass
class ProgramRun:
    """Everything a program registered under the mocks."""

    project: str
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    messages: list[str] = field(default_factory=list)
    registered_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per component URN, what it passed to `register_outputs` (the engine keeps it in the state)."""


class ProgramFailed(Exception):
    """The program raised; `cause` is its exception, `resources` what it had registered by then."""

    def __init__(self, cause: BaseException, resources: list[PlannedResource]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.resources = resources


class DuplicateUrn(Exception):
    """Two resources of one program share a URN, which the engine refuses."""


class RecordingMonitor(MockMonitor):
    """A mock monitor that keeps each registration's wire inputs, dependencies and options."""

    def __init__(self, mocks: AzureMocks) -> None:
        super().__init__(mocks)
        self.records: dict[str, PlannedResource] = {}
        self.stack_urn = ""
        self.duplicates: list[str] = []
        self.registered_outputs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def RegisterResourceOutputs(self, request: Any) -> Any:
        with self._lock:
            self.registered_outputs[request.urn] = from_struct(request.outputs)
        return super().RegisterResourceOutputs(request)

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine's rule (sdk/go/common/resource/urn.go): a child's type is qualified by its
        # parent's whole type chain, and the root stack adds nothing. The stock mock monitor keeps
        # only the last link and prefixes children of the stack, so its URNs differ from real ones.
        if parent and parent != self.stack_urn:
            type_ = f"{parent.split('::')[2]}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = response.urn
            return response
        parent = request.parent if request.parent and request.parent != self.stack_urn else None
        planned = PlannedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=parent,
            custom=bool(request.custom),
            inputs=from_struct(request.object),
            depends_on=sorted(set(request.dependencies)),
            protect=bool(request.protect),
            arm_id=str(response.id or ""),
            retain_on_delete=bool(request.retainOnDelete),
            import_id=str(request.importId or ""),
            ignore_changes=sorted(request.ignoreChanges),
            replace_on_changes=sorted(request.replaceOnChanges),
            delete_before_replace=bool(request.deleteBeforeReplace),
            # Only the explicit URN aliases: azure-native adds a type alias per API version.
            alias_urns=sorted(a.urn for a in request.aliases if a.WhichOneof("alias") == "urn"),
            alias_count=len(request.aliases),
            alias_specs=[
                {
                    "name": a.spec.name,
                    "type": a.spec.type,
                    "parentUrn": a.spec.parentUrn,
                    "noParent": a.spec.noParent,
                    "stack": a.spec.stack,
                    "project": a.spec.project,
                }
                for a in request.aliases
                if a.WhichOneof("alias") == "spec" and not _api_version_alias(a.spec, request.type)
            ],
            property_dependencies={
                key: sorted(set(deps.urns)) for key, deps in request.propertyDependencies.items() if deps.urns
            },
            additional_secret_outputs=sorted(request.additionalSecretOutputs),
            # A reference is `<urn>::<id>`: the URN is what stays the same from run to run.
            provider=str(request.provider or "").rpartition("::")[0],
        )
        # Registrations arrive on several executor threads: check and record under one lock.
        with self._lock:
            if response.urn in self.records:
                # The engine stops the deployment here (sdk/go/common/diag/errors.go, error 2001); a
                # mock would silently keep one of the two. The SDK turns an exception here into a
                # rejected output nobody awaits, so run_program raises it after the run.
                message = f"Duplicate resource URN '{response.urn}'; try giving it a unique name"
                self.duplicates.append(message)
                raise DuplicateUrn(message)
            self.records[response.urn] = planned
        return response


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname.lower()}: {record.getMessage()}")


def run_program(
    program: Callable[[], None],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    secret_keys: list[str] | None = None,
    preview: bool = True,
) -> ProgramRun:
    """Run `program` once, on a fresh event loop, under AzureMocks; return what it registered.

    An exception of the program (a ConfigError, say) comes out as ProgramFailed, once the
    runtime has settled, with the resources registered until then.
    """
    with _fresh_runtime(config, secret_keys or []) as loop:
        # A failed registration's future is also reported by asyncio as "never retrieved" when it
        # is collected; the failure itself comes out of run_pulumi_func, so that echo is dropped.
        loop.set_exception_handler(_quiet_unretrieved)
        mocks = AzureMocks(stack_subscription(config))
        monitor = RecordingMonitor(mocks)
        logger = logging.getLogger(f"acr_cache.plan.{id(monitor)}")
        logger.propagate = False
        collector = _Collector()
        logger.addHandler(collector)
        pulumi.runtime.set_mocks(
            mocks, project=project, stack=stack, preview=preview, monitor=monitor, logger=logger
        )
        try:
            loop.run_until_complete(run_pulumi_func(program))
        except Exception as exc:
            raise ProgramFailed(exc, sorted(monitor.records.values(), key=lambda r: r.urn)) from exc
        if monitor.duplicates:
            raise ProgramFailed(
                DuplicateUrn("; ".join(monitor.duplicates)),
                sorted(monitor.records.values(), key=lambda r: r.urn),
            )
        outputs = loop.run_until_complete(_stack_outputs())
        return ProgramRun(
            project=project,
            stack=stack,
            resources=sorted(monitor.records.values(), key=lambda r: r.urn),
            outputs=outputs,
            messages=collector.messages,
            registered_outputs=dict(monitor.registered_outputs),
        )


def _quiet_unretrieved(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    if context.get("message") != "Future exception was never retrieved":
        loop.default_exception_handler(context)


async def _stack_outputs() -> dict[str, Any]:
    root = settings.get_root_resource()
    exported = dict(getattr(root, "outputs", {}) or {})
    struct = await rpc.serialize_properties(exported, {})
    return from_struct(struct)


@contextlib.contextmanager
def _fresh_runtime(config: Mapping[str, str], secret_keys: list[str]) -> Iterator[asyncio.AbstractEventLoop]:
    # Each run gets its own loop and root stack: a registration left over from an earlier run
    # would otherwise execute inside this one (pulumi#6561).
    previous_config = dict(runtime_config.CONFIG.get())
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    settings.reset_options()
    runtime_config.set_all_config(dict(config), list(secret_keys))
    try:
        yield loop
    finally:
        close_loop(loop)
        runtime_config.set_all_config(previous_config, [])


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what a run left pending, close its loop and forget the root stack and monitor."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    # Until each has finished cancelling: a chain of applies cancels one link per loop step, and a
    # task still pending when the loop closes is reported ("Task was destroyed but it is pending")
    # once it is collected, in whatever run comes next.
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)
    settings.reset_options()


def _api_version_alias(spec: Any, type_: str) -> bool:
    """azure-native's own alias per older API version (`azure-native:<module>/v<date>:<Type>`)."""
    return bool(spec.type) and spec.type.startswith("azure-native:") and "/v" in spec.type and not spec.name
