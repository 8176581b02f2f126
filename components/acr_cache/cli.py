"""`acr-cache`: a new stack's file; a stack's offline plan, diff, cost and picture; live credential health; generated docs.

Exit status: 0 success; 1 schema problems (or a failing program), or for `health` a credential set or
cache rule that is not healthy; 2 bad config or bad invocation; 3 a mandatory policy violation; 4
`health` could not read the registry (sign-in, permissions, network). `diff` follows `terraform plan
-detailed-exitcode` instead: 0 no changes, 2 changes, 1 any error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import yaml

if TYPE_CHECKING:
    from acr_cache.config import ConfigError
    from acr_cache.plan import Plan
    from acr_cache.plan.stackfile import StackFiles

EXIT_OK = 0
EXIT_SCHEMA = 1
EXIT_CONFIG = 2
EXIT_POLICY = 3
EXIT_UNREADABLE = 4


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "init":
        return _init(args)
    if args.command == "clients":
        if args.stack and args.config:
            parser.error("give a stack name or --config, not both")
        return _clients(args)
    if args.command == "docs":
        return _docs(args.output, args.check)
    if args.command == "schema":
        return _schema(args.output, args.check)
    if args.command == "diff":
        return _diff(args)
    if args.command in ("cost", "graph"):
        if sum(map(bool, (args.stack, args.config, args.plan))) > 1:
            parser.error("give one of a stack name, --config or --plan")
        return _cost(args) if args.command == "cost" else _graph(args)
    if args.stack and args.config:
        parser.error("give a stack name or --config, not both")
    if args.command == "health":
        return _health(args)
    return _plan(args.stack, args.config, args.format, args.cwd or Path.cwd(), args.debug, args.policy_config)


def build_parser() -> argparse.ArgumentParser:
    """The command line: each subcommand with its description, its options' help and its exit codes."""
    parser = argparse.ArgumentParser(
        prog="acr-cache",
        description=__doc__.splitlines()[0] if __doc__ else "",
        epilog="Each command's --help says what it does, its options and its exit codes.",
    )
    parser.add_argument("--version", action="version", version=_version(), help="show the versions and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    raw = argparse.RawDescriptionHelpFormatter

    plan = commands.add_parser(
        "plan",
        help="show what `pulumi preview` would create, offline",
        description="Run the stack's program on the real Pulumi SDK under Azure-like mocks: "
        "no Pulumi CLI, no Azure login, no network. Every config problem of the stack file is "
        "reported at once, in file order, with its key path and the fix; every resource's inputs are "
        "checked against the installed azure-native schema; the security policies run as the policy "
        "pack does.",
        epilog="exit codes:\n  0  planned: no schema problem, no mandatory policy violation\n"
        "  1  schema problems, or the program failed\n"
        "  2  bad config or invocation (each problem with its key path and fix)\n"
        "  3  a mandatory policy violation",
        formatter_class=raw,
    )
    plan.add_argument(
        "stack",
        nargs="?",
        help="stack name (reads Pulumi.STACK.yaml in the project directory) or a stack file's path",
    )
    plan.add_argument("--config", type=Path, help="a stack config file, PATH/Pulumi.NAME.yaml (stack = NAME)")
    plan.add_argument(
        "--format", choices=("table", "json"), default="table", help="a readable tree (default), or JSON"
    )
    plan.add_argument("--cwd", type=Path, default=None, help="project directory (default: current)")
    plan.add_argument(
        "--policy-config",
        type=Path,
        default=None,
        help="policy levels and options, as for `pulumi preview --policy-pack-config` (JSON)",
    )
    plan.add_argument("--debug", action="store_true", help="show tracebacks of program failures")

    health = commands.add_parser(
        "health",
        help="read each credential set's, cache rule's and token password's state from Azure",
        description="Sign in as azure-native does (its stack config and ARM_* variables: client "
        "secret or certificate, OIDC, including GitHub Actions' token, managed identity, else az login), "
        "read the stack's registry and say which credential sets, cache rules and token passwords are "
        "not healthy (a password within 30 days of its expiry included), and what to do.",
        epilog="exit codes:\n  0  everything is healthy\n  1  something is not (see the table or the JSON)\n"
        "  2  bad config or invocation (no subscription, stack files, config keys)\n"
        "  4  the registry could not be read (sign-in, permissions, network, not found)\n"
        'With --format json, errors are JSON on stdout too: {"error", "problems", "exitCode"}.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _stack_arguments(health)
    health.add_argument(
        "--subscription",
        default=None,
        help="subscription id of the registry (default: azure-native:subscriptionId, then "
        "ARM_SUBSCRIPTION_ID, then the Azure CLI's default subscription)",
    )
    health.add_argument(
        "--arm-endpoint",
        default=None,
        help="Azure Resource Manager endpoint (default: the cloud of azure-native:environment or ARM_ENVIRONMENT)",
    )
    health.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="a table (default), or JSON for a pipeline",
    )

    diff = commands.add_parser(
        "diff",
        help="what a deploy would change between two plans, offline",
        description="Compare two JSON plans (`acr-cache plan STACK --format json`), or a stack at a git "
        "revision (--base) with the working tree: create, update, replace, delete per resource, with the "
        "changed inputs, what is blocked (protect, locks), what loses data, and the monthly cost delta. "
        "Exit 0 no changes, 2 changes, 1 error.",
        epilog="exit codes (as terraform plan -detailed-exitcode):\n  0  no changes\n  1  an error (either "
        "side could not be planned or read, bad invocation)\n  2  changes",
        formatter_class=raw,
    )
    diff.add_argument(
        "plans", nargs="*", metavar="PLAN", help="BASE.json HEAD.json, or STACK with --base REV"
    )
    diff.add_argument("--base", metavar="REV", help="git revision of the base (with a stack name)")
    diff.add_argument("--config", type=Path, help="a stack config file instead of a stack name (with --base)")
    diff.add_argument("--cwd", type=Path, default=None, help="project directory (default: current)")
    diff.add_argument(
        "--format",
        choices=("table", "json", "markdown"),
        default="table",
        help="a table (default), JSON, or markdown for a pull request comment",
    )
    diff.add_argument("--graph", action="store_true", help="markdown: add the head's topology (Mermaid)")

    def usage_error(message: str) -> NoReturn:
        # 2 means "changes" for `diff` (as terraform plan -detailed-exitcode): a usage error is 1.
        diff.print_usage(sys.stderr)
        diff.exit(1, f"{diff.prog}: error: {message}\n")

    diff.error = usage_error  # type: ignore[method-assign]

    stack_exits = (
        "exit codes:\n  0  done\n  1  the plan could not be made (schema problems, a failing program) or "
        "read\n  2  bad config or invocation"
    )
    cost = commands.add_parser(
        "cost",
        help="monthly cost estimate of a stack's plan, offline",
        description="Estimate a stack's monthly cost from Azure's list prices: the registry tier, replicas, "
        "storage, private endpoints, DNS zones, Key Vault operations, logs; per subscription.",
        epilog=stack_exits,
        formatter_class=raw,
    )
    _stack_arguments(cost)
    cost.add_argument("--plan", type=Path, help="a JSON plan instead of a stack")
    cost.add_argument(
        "--format",
        choices=("table", "json", "markdown"),
        default="table",
        help="output format (default: table)",
    )

    graph = commands.add_parser(
        "graph",
        help="draw a stack's topology from its plan (Mermaid or SVG)",
        description="Draw what a stack deploys: the registry with its access (public, restricted with its IP "
        "rules, private), replicas, endpoints and their VNets, DNS zones (created or existing), the vault, "
        "credential sets and rules, grants, per subscription.",
        epilog=stack_exits,
        formatter_class=raw,
    )
    _stack_arguments(graph)
    graph.add_argument("--plan", type=Path, help="a JSON plan instead of a stack")
    graph.add_argument(
        "--format",
        choices=("mermaid", "svg"),
        default="mermaid",
        help="Mermaid text (default) or an SVG picture",
    )
    graph.add_argument("--output", type=Path, help="write to this file instead of stdout")

    generated = (
        "exit codes:\n  0  written (or, with --check, up to date)\n  1  --check: a file is stale\n"
        "  2  bad invocation"
    )

    def generator(name: str, summary: str, description: str, output: str, what: str) -> None:
        command = commands.add_parser(
            name, help=summary, description=description, epilog=generated, formatter_class=raw
        )
        command.add_argument(
            "--output", type=Path, default=Path(output), help=f"{what}'s path (default: %(default)s)"
        )
        command.add_argument("--check", action="store_true", help="fail (exit 1) if a file is stale")

    generator(
        "docs",
        "write the config reference generated from the model",
        "Write docs/configuration.md from the config models' descriptions, the controls table of "
        "docs/security.md, and each shipped stack's picture and cost (run in the project directory).",
        "docs/configuration.md",
        "the reference",
    )
    generator(
        "schema",
        "write the component package schema and the stack file's JSON Schema",
        "Write the components' argument types (from the config models), the component package schema "
        "(components/schema.json) and the stack file's JSON Schema (schemas/stack.schema.json), which "
        "stack files name for editors.",
        "components/schema.json",
        "the package schema",
    )

    clients = commands.add_parser(
        "clients",
        help="what clusters and CI pull through the cache: references, Kyverno, containerd, Docker",
        description="From the stack's cache rules, offline: the cache reference of each image as people "
        "write it (--resolve, normalised as Docker does), a Kyverno ClusterPolicy that rewrites pods' images, "
        "containerd's hosts.toml per upstream host, or Docker Engine's daemon.json for mirror mode. Without "
        "--resolve, the table lists what each rule rewrites. docs/clients.md explains each.",
        epilog="exit codes:\n  0  done\n  2  bad config or invocation, a malformed image reference, or a format "
        "the stack cannot serve (a mirror without anonymous pull or a token)",
        formatter_class=raw,
    )
    _stack_arguments(clients)
    clients.add_argument(
        "--resolve",
        nargs="+",
        metavar="IMAGE",
        default=[],
        help="image references to resolve (nginx:1.27, ghcr.io/org/app@sha256:...)",
    )
    clients.add_argument(
        "--format",
        choices=("table", "json", "kyverno", "containerd", "docker"),
        default="table",
        help="table (default) or json for --resolve; kyverno, containerd or docker for the client configuration",
    )
    clients.add_argument(
        "--token", help="containerd: sign in to the mirror as this token of acr-cache:tokens"
    )
    clients.add_argument(
        "--output", type=Path, help="containerd: write DIR/<host>/hosts.toml instead of stdout"
    )

    init = commands.add_parser(
        "init",
        help="write a commented Pulumi.STACK.yaml that plans clean, from a few answers",
        description="Write Pulumi.STACK.yaml for a new stack: a Premium registry in a region, replicas, a "
        "cache rule per upstream (with a Key Vault-backed credential set where the upstream needs one), and "
        "public, restricted (IP rules) or private (endpoint) access. At a terminal it asks; flags answer "
        "ahead (--yes asks nothing). The file is checked as `acr-cache plan` checks it before it is written.",
        epilog="exit codes:\n  0  written (the next steps are printed)\n"
        "  2  bad answers or flags (each names its flag and the fix), or the file exists (use --force)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    init.add_argument("stack", help="stack name: writes Pulumi.STACK.yaml in the project directory")
    init.add_argument("--region", help="home region of the registry (default: westeurope)")
    init.add_argument(
        "--replica", action="append", default=[], metavar="REGION", help="a replica region (repeat it)"
    )
    init.add_argument(
        "--upstream",
        action="append",
        default=[],
        metavar="HOST",
        help="an upstream to cache, e.g. docker.io, mcr.microsoft.com, ghcr.io, quay.io, registry.k8s.io "
        "(repeat it; default: docker.io and mcr.microsoft.com)",
    )
    init.add_argument(
        "--credentials",
        action="append",
        default=[],
        metavar="HOST",
        help="an upstream whose credentials are optional that should use some (Docker Hub always does)",
    )
    init.add_argument(
        "--access", choices=("public", "restricted", "private"), help="how clients reach it (default: public)"
    )
    init.add_argument(
        "--ip-rule", action="append", default=[], metavar="CIDR", help="with restricted: an allowed range"
    )
    init.add_argument("--subnet-id", help="with private: the ARM id of the private endpoint's subnet")
    init.add_argument(
        "--subscription-id",
        help="the subscription the stack deploys to (default: the subnet's, with private)",
    )
    init.add_argument("--registry-name", help="registry name (default: acrcache<stack>)")
    init.add_argument("--resource-group", help="resource group name (default: rg-acr-cache-<stack>)")
    init.add_argument("--yes", action="store_true", help="ask nothing: take the flags and the defaults")
    init.add_argument("--force", action="store_true", help="overwrite an existing Pulumi.STACK.yaml")
    init.add_argument("--cwd", type=Path, default=None, help="project directory (default: current)")

    return parser


def _stack_arguments(command: argparse.ArgumentParser) -> None:
    """The stack a command reads: a name, a file's path, or --config; and the project directory."""
    command.add_argument(
        "stack", nargs="?", help="stack name (Pulumi.STACK.yaml in the project directory) or path"
    )
    command.add_argument("--config", type=Path, help="a stack config file, PATH/Pulumi.NAME.yaml")
    command.add_argument("--cwd", type=Path, default=None, help="project directory (default: current)")


def _version() -> str:
    """acr-cache's version and the SDK versions its plans are made with."""
    from importlib.metadata import PackageNotFoundError, version

    def of(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return f"acr-cache {of('acr-cache')} (pulumi {of('pulumi')}, pulumi-azure-native {of('pulumi-azure-native')})"


def _plan(
    stack: str | None,
    config: Path | None,
    fmt: str,
    cwd: Path,
    debug: bool,
    policy_config: Path | None = None,
) -> int:
    # Imported here so that `acr-cache --help` stays instant.
    from acr_cache.plan.table import render_table
    from acr_cache.policy import PolicyConfig, PolicyConfigError, evaluate, from_planned

    try:
        files = _stack_files(stack, config, cwd)
        policies = PolicyConfig.load(policy_config) if policy_config else PolicyConfig()
        result = _planned(files, debug)
    except _Failed as failed:
        return failed.code
    except PolicyConfigError as exc:
        _say("error", str(exc))
        return EXIT_CONFIG

    report = evaluate(from_planned(result.run.resources), policies)
    if fmt == "json":
        # Compact: json's C encoder only serves output without indentation, and at 1,000 rules the
        # pure-Python one costs more than everything else after the run. `| jq .` pretty-prints.
        sys.stdout.write(json.dumps(result.to_json(), sort_keys=True, separators=(",", ":")) + "\n")
    else:
        sys.stdout.write(render_table(result))
        counts = (
            f"{len(report.mandatory)} mandatory, {len(report.violations) - len(report.mandatory)} advisory"
        )
        sys.stdout.write(f"Policy violations: {counts}\n")
    for note in result.notes + result.run.messages + report.not_evaluated:
        _say("note", note)
    for violation in report.violations:
        _say("policy", str(violation))
    if result.schema_problems:
        print(f"error: {len(result.schema_problems)} schema problem(s):", file=sys.stderr)
        for problem in result.schema_problems:
            _say(" ", problem)
        return EXIT_SCHEMA
    if report.mandatory:
        print(f"error: {len(report.mandatory)} mandatory policy violation(s)", file=sys.stderr)
        return EXIT_POLICY
    return EXIT_OK


class _Failed(Exception):
    """A plan could not be made; what was wrong is on stderr already. `code` is the exit status."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _stack_files(stack: str | None, config: Path | None, cwd: Path) -> StackFiles:
    """The project and stack files, or _Failed (bad config) after one line per problem."""
    from acr_cache.plan.stackfile import StackFileError, load_stack_files

    try:
        return load_stack_files(stack, config, cwd)
    except StackFileError as exc:
        for problem in exc.problems:
            _say("error", problem)
        raise _Failed(EXIT_CONFIG) from None


def _planned(files: StackFiles, debug: bool | None = None) -> Plan:
    """The stack's offline plan, or _Failed after saying why not: bad config (its keys and fixes),
    or a failing program (`debug` raises its traceback instead; None: the command has no --debug)."""
    from acr_cache.config import ConfigError
    from acr_cache.plan import make_plan
    from acr_cache.plan.runner import ProgramFailed

    try:
        return make_plan(files)
    except ProgramFailed as failed:
        if isinstance(failed.cause, ConfigError):
            _say_config_error(failed.cause)
            print(f"nothing was planned: {failed.cause.fix}", file=sys.stderr)
            raise _Failed(EXIT_CONFIG) from None
        if debug:
            raise failed.cause from None
        _say("error", f"the program failed: {type(failed.cause).__name__}: {failed.cause}")
        if debug is not None:
            print("(run with --debug for the traceback)", file=sys.stderr)
        raise _Failed(EXIT_SCHEMA) from None


def _plan_document(stack: str | None, config: Path | None, cwd: Path) -> dict[str, Any]:
    """The JSON plan of a stack of the project in `cwd`, or _Failed after saying why not."""
    result = _planned(_stack_files(stack, config, cwd))
    for problem in result.schema_problems:
        _say("note", f"schema problem in the plan: {problem}")
    return result.to_json()


def _read_plan(path: Path) -> dict[str, Any]:
    from acr_cache.review.diff import PlanDocumentError, load_plan

    try:
        return load_plan(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        _say("error", f"{path}: cannot read it ({exc.strerror})")
    except PlanDocumentError as exc:
        _say("error", str(exc))
    raise _Failed(EXIT_SCHEMA)


def _diff(args: argparse.Namespace) -> int:
    from acr_cache.review.cost import CostDelta, estimate
    from acr_cache.review.diff import diff_plans, exit_code
    from acr_cache.review.render import render_markdown, render_table

    cwd = args.cwd or Path.cwd()
    try:
        if args.base:
            if len(args.plans) != (0 if args.config else 1):
                _say("error", "with --base, give one stack name (or --config and no name)")
                return EXIT_SCHEMA
            stack = None if args.config else args.plans[0]
            from acr_cache.review.revision import RevisionError, plan_at_revision

            try:
                base = plan_at_revision(args.base, stack, args.config, cwd)
            except RevisionError as exc:
                _say("error", str(exc))
                return EXIT_SCHEMA
            head = _plan_document(stack, args.config, cwd)
        else:
            if len(args.plans) != 2 or args.config:
                _say("error", "give two JSON plans (BASE HEAD), or a stack name with --base REV")
                return EXIT_SCHEMA
            base, head = (_read_plan(Path(p)) for p in args.plans)
    except _Failed:
        # Whatever kept either side from being planned is an error of the diff (1), as terraform's is.
        return EXIT_SCHEMA
    result = diff_plans(base, head)
    result.cost = CostDelta(estimate(base["resources"]), estimate(head["resources"]))
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_json(), sort_keys=True, indent=1) + "\n")
    elif args.format == "markdown":
        picture = None
        if args.graph:
            from acr_cache.review.graph import mermaid

            picture = "```mermaid\n" + mermaid(head) + "```\n"
        sys.stdout.write(render_markdown(result, picture))
    else:
        sys.stdout.write(render_table(result))
    return exit_code(result)


def _stack_or_plan(args: argparse.Namespace) -> dict[str, Any]:
    if args.plan:
        return _read_plan(args.plan)
    return _plan_document(args.stack, args.config, args.cwd or Path.cwd())


def _cost(args: argparse.Namespace) -> int:
    from acr_cache.review.cost import estimate

    try:
        document = _stack_or_plan(args)
    except _Failed as failed:
        return failed.code
    result = estimate(document["resources"])
    title = f"{document.get('project', '?')}/{document.get('stack', '?')}"
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_json(), sort_keys=True, indent=1) + "\n")
    elif args.format == "markdown":
        sys.stdout.write("\n".join(result.markdown(title)) + "\n")
    else:
        sys.stdout.write(result.render(title))
    return EXIT_OK


def _graph(args: argparse.Namespace) -> int:
    from acr_cache.review.graph import mermaid, svg

    try:
        document = _stack_or_plan(args)
    except _Failed as failed:
        return failed.code
    text = mermaid(document) if args.format == "mermaid" else svg(document)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _health(args: argparse.Namespace) -> int:
    from acr_cache.azure_login import LoginError, LoginSettings
    from acr_cache.config import ConfigError, offline_placeholders, parse_stack_config
    from acr_cache.health import check, render, unreadable
    from acr_cache.plan.stackfile import StackFileError, load_stack_files

    as_json = args.format == "json"

    def failed(code: int, message: str, problems: list[str] | None = None) -> int:
        # Under --format json a pipeline parses stdout: the error is JSON there too.
        if as_json:
            print(json.dumps({"error": message, "problems": problems or [], "exitCode": code}, indent=2))
        else:
            _say("error", message)
            for problem in problems or []:
                _say(" ", problem)
        return code

    try:
        files = load_stack_files(args.stack, args.config, args.cwd or Path.cwd())
    except StackFileError as exc:
        return failed(EXIT_CONFIG, "the stack files could not be read", list(exc.problems))
    try:
        # Secrets are not needed to read the registry: unset or encrypted ones stand in as placeholders.
        with offline_placeholders():
            config = parse_stack_config(files.config, files.secret_keys)
    except ConfigError as exc:
        return failed(EXIT_CONFIG, exc.headline, [str(problem) for problem in exc.problems])
    # azure-native's settings from the stack's plain config (encrypted ones cannot be read here:
    # give those as ARM_* variables), then the environment, in azure-native's precedence.
    plain = {
        key: value
        for key, value in files.config.items()
        if key.startswith("azure-native:") and key not in files.secret_keys and isinstance(value, str)
    }
    try:
        login = LoginSettings.read(plain)
        subscription = args.subscription or login.get("subscriptionId")
        if not subscription and login.method == "cli":
            # As azure-native does with the Azure CLI's login: its default subscription.
            subscription = _cli_subscription()
        if not subscription:
            return failed(
                EXIT_CONFIG,
                "no subscription: pass --subscription, set ARM_SUBSCRIPTION_ID or azure-native:subscriptionId "
                "in the stack, or sign in with `az login` (its default subscription is taken)",
            )
        endpoint = args.arm_endpoint or os.environ.get("ARM_ENDPOINT") or login.arm_endpoint
        credential = login.credential()
    except LoginError as exc:
        return failed(EXIT_UNREADABLE, f"could not sign in: {exc}")
    import logging

    # azure-identity logs each failed sign-in attempt itself; the one message below says it all.
    logging.getLogger("azure").setLevel(logging.CRITICAL)
    try:
        findings = check(config, subscription, credential, arm_endpoint=endpoint)
    except Exception as exc:
        message = unreadable(exc, config.registry.name, config.resource_group.name, subscription)
        return failed(EXIT_UNREADABLE, message)
    print(render(findings, args.format))
    return EXIT_OK if all(f.fine for f in findings) else 1


def _init(args: argparse.Namespace) -> int:
    from acr_cache.config import ConfigError, offline_placeholders, parse_stack_config
    from acr_cache.plan.stackfile import stack_name_problem
    from acr_cache.stack_init import Access, Answers, InitError, ask, flag_of, secret_commands, stack_file

    cwd = args.cwd or Path.cwd()
    problem = stack_name_problem(args.stack)
    if problem:
        _say("error", f"stack name '{args.stack}': {problem}")
        return EXIT_CONFIG
    target = cwd / f"Pulumi.{args.stack}.yaml"
    if target.exists() and not args.force:
        _say("error", f"{target} exists: pick another stack name, or pass --force to overwrite it")
        return EXIT_CONFIG
    answers = Answers(
        args.stack,
        replicas=list(args.replica),
        credentials=list(args.credentials),
        ip_rules=list(args.ip_rule),
        subnet_id=args.subnet_id,
        registry_name=args.registry_name,
        resource_group=args.resource_group,
        subscription_id=args.subscription_id,
    )
    answers.region = args.region or answers.region
    answers.upstreams = list(args.upstream) or answers.upstreams
    answers.access = Access(args.access) if args.access else answers.access
    try:
        if not args.yes and sys.stdin.isatty():
            answers = ask(answers, input)
        text = stack_file(answers)
        with offline_placeholders():
            parse_stack_config(yaml.safe_load(text)["config"])
    except InitError as exc:
        for line in exc.problems:
            _say("error", line)
        return EXIT_CONFIG
    except ConfigError as exc:
        for found in exc.problems:
            flag = flag_of(found.key)
            _say("error", f"{flag}: {found}" if flag else str(found))
        print("nothing was written: change the flags above and run again", file=sys.stderr)
        return EXIT_CONFIG
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    steps = [
        f"check the registry name is free: az acr check-name -n {answers.registry()}",
        f"plan it offline: acr-cache plan {args.stack}",
        f"create the Pulumi stack: pulumi stack init {args.stack}",
        *secret_commands(answers),
        "preview and deploy: pulumi preview, then pulumi up (docs/first-deploy.md)",
    ]
    print("next:\n" + "\n".join(f"  {number}. {step}" for number, step in enumerate(steps, 1)))
    return EXIT_OK


def _clients(args: argparse.Namespace) -> int:
    from acr_cache import clients
    from acr_cache.config import ConfigError, offline_placeholders, parse_stack_config
    from acr_cache.plan.stackfile import StackFileError, load_stack_files

    try:
        files = load_stack_files(args.stack, args.config, args.cwd or Path.cwd())
        with offline_placeholders():
            config = parse_stack_config(files.config, files.secret_keys)
    except StackFileError as exc:
        for problem in exc.problems:
            _say("error", problem)
        return EXIT_CONFIG
    except ConfigError as exc:
        _say_config_error(exc)
        return EXIT_CONFIG
    cache = clients.Cache.of(files.stack, config)
    try:
        if args.format in ("table", "json"):
            if not args.resolve:
                if args.format == "json":
                    sys.stdout.write(
                        json.dumps(clients.rewrite_rules(cache), indent=1, sort_keys=True) + "\n"
                    )
                else:
                    rewrites = clients.rewrite_rules(cache)
                    width = max((len(k) for k in rewrites), default=6)
                    sys.stdout.write(f"{'SOURCE':<{width}}  CACHE\n")
                    sys.stdout.writelines(f"{k:<{width}}  {v}\n" for k, v in sorted(rewrites.items()))
                return EXIT_OK
            resolved = cache.resolve(args.resolve)
            sys.stdout.write(clients.as_json(resolved) if args.format == "json" else clients.table(resolved))
        elif args.resolve:
            _say("error", f"--resolve goes with --format table or json, not {args.format}")
            return EXIT_CONFIG
        elif args.format == "kyverno":
            sys.stdout.write(clients.kyverno_yaml(cache))
        elif args.format == "containerd":
            files_out = clients.containerd_hosts(cache, args.token)
            for mirror in files_out:
                if args.output:
                    target = args.output / mirror.path.removeprefix("/etc/containerd/certs.d/")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(mirror.text, encoding="utf-8")
                    print(f"wrote {target}", file=sys.stderr)
                else:
                    sys.stdout.write(f"# --- {mirror.path}\n{mirror.text}")
                if mirror.unreadable:
                    _say(
                        "note",
                        f"{mirror.path}: token {args.token} does not read everything rules {', '.join(mirror.unreadable)} cache",
                    )
                if mirror.unserved:
                    _say(
                        "note",
                        f"{mirror.path}: rules {', '.join(mirror.unserved)} rename repositories; clients pull their cache references",
                    )
        else:
            sys.stdout.write(clients.docker_daemon(cache))
    except clients.ReferenceError as exc:
        _say("error", str(exc))
        return EXIT_CONFIG
    except clients.ClientsError as exc:
        _say("error", str(exc))
        return EXIT_CONFIG
    return EXIT_OK


def _cli_subscription() -> str | None:
    """The Azure CLI's default subscription (`az account show`), or None without a CLI login."""
    import shutil
    import subprocess

    az = shutil.which("az")
    if az is None:
        return None
    try:
        shown = subprocess.run(
            [az, "account", "show", "--output", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        answer = json.loads(shown.stdout) if shown.returncode == 0 else {}
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return str(answer.get("id") or "") or None


def _say_config_error(error: ConfigError) -> None:
    """A ConfigError: its headline, then one line per problem with its key path and fix."""
    _say("error", error.headline)
    for problem in error.problems:
        _say(" ", str(problem))


def _say(prefix: str, text: str) -> None:
    """One line on stderr: whatever a message repeats is escaped, cut short and never a credential."""
    from acr_cache.redaction import one_line

    print(f"{prefix}: {one_line(text)}" if prefix.strip() else f"  {one_line(text)}", file=sys.stderr)


def _schema(output: Path, check: bool) -> int:
    """The components' args module (from the config models), then the schema (from the args)."""
    import subprocess

    from acr_cache.codegen import component_args_source

    args_file = Path(__file__).with_name("component_args.py")
    source = component_args_source()
    if not check and args_file.read_text(encoding="utf-8") != source:
        _write_generated({args_file: source}, False, "acr-cache schema")
        # The schema is read from the args classes: build it in a process that imports the new ones.
        return subprocess.run(
            [sys.executable, "-m", "acr_cache.cli", "schema", "--output", str(output)]
        ).returncode
    from acr_cache import __version__
    from acr_cache.package import package_schema
    from acr_cache.stack_schema import SCHEMA_PATH, stack_schema_text

    text = json.dumps(package_schema(__version__), indent=2, sort_keys=True) + "\n"
    # The stack file's schema sits beside the components' one, in the project (its modeline's path).
    stack_file_schema = output.parent.parent / SCHEMA_PATH
    return _write_generated(
        {args_file: source, output: text, stack_file_schema: stack_schema_text()}, check, "acr-cache schema"
    )


def _docs(output: Path, check: bool) -> int:
    from acr_cache.docgen import configuration_reference, with_controls

    security = output.parent / "security.md"
    documents = {output: configuration_reference()}
    if security.is_file():
        documents[security] = with_controls(security.read_text(encoding="utf-8"))
    # Every shipped stack's picture and cost, from their plans (the project in the current directory).
    if (Path.cwd() / "Pulumi.yaml").is_file():
        from acr_cache.review.gallery import documents as stack_documents

        documents.update(stack_documents(Path.cwd(), output.parent))
    return _write_generated(documents, check, "acr-cache docs")


def _write_generated(documents: dict[Path, str], check: bool, command: str) -> int:
    """Write generated files that changed, or (check) report them stale and exit 1."""
    stale = [
        path
        for path, text in documents.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    if check:
        for path in stale:
            print(f"{path} is stale: run `{command}` and commit the result", file=sys.stderr)
        return 1 if stale else EXIT_OK
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(documents[path], encoding="utf-8")
        print(f"wrote {path}")
    return EXIT_OK


def run() -> None:
    """Console entry point: run, flush, and leave without tearing the interpreter down.

    Everything is written by then; tearing down a thousand resources' Outputs, tasks and the SDK's
    executor threads only costs time (about 0.2 s at 1,000 rules).
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
