"""The topology of a stack, drawn from its offline plan: the registry's regions, private endpoints
with their networks and DNS zone, upstream registries through cache rules and credential sets to
the vault, and who may pull and push. As Mermaid (for markdown) and as a standalone SVG.

Many rules for one upstream collapse into one node (with a count), so a 1,000-rule stack still
draws as a picture rather than a wall.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from acr_cache.roles import REGISTRY_ROLES

ROLE_NAMES = {role_id: name for name, role_id in REGISTRY_ROLES.items()}
RULES_PER_UPSTREAM = 6
"""More rules than this for one upstream draw as one node."""


@dataclass
class Node:
    id: str
    label: list[str]
    kind: str
    column: int


@dataclass
class Edge:
    source: str
    target: str
    label: str
    dashed: bool


@dataclass
class Topology:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    """Mermaid subgraphs: title -> node ids."""

    def add(self, node_id: str, label: list[str], kind: str, column: int, group: str) -> str:
        if node_id not in self.nodes:
            self.nodes[node_id] = Node(node_id, label, kind, column)
            self.groups.setdefault(group, []).append(node_id)
        return node_id

    def link(self, source: str, target: str, label: str = "", dashed: bool = False) -> None:
        edge = Edge(source, target, label, dashed)
        if source in self.nodes and target in self.nodes and edge not in self.edges:
            self.edges.append(edge)


def _slug(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))


def _segment(arm_id: str, kind: str) -> str:
    match = re.search(rf"/{kind}/([^/]+)", arm_id, re.IGNORECASE)
    return match.group(1) if match else ""


def topology(plan: dict[str, Any]) -> Topology:
    """The stack's topology from a JSON plan (`acr-cache plan --format json`)."""
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    urns = {r["urn"]: r for r in plan.get("resources", [])}
    for resource in plan.get("resources", []):
        # Components share the last part of their type with what they wrap (acr-cache:index:Registry
        # holds the azure-native Registry): only what they register is drawn.
        if not resource["type"].startswith("acr-cache:"):
            by_type[resource["type"].rpartition(":")[2]].append(resource)
    top = Topology()
    sets = {str(r["inputs"].get("credentialSetName")): r for r in by_type["CredentialSet"]}
    # With providers of other subscriptions, the network is drawn per subscription.
    spread = bool(plan.get("providers"))

    def network_group(arm_id: str) -> str:
        subscription = _segment(arm_id, "subscriptions")
        return (
            f"Private network · subscription {subscription}" if spread and subscription else "Private network"
        )

    def upstream_node(host: str) -> str:
        return top.add(_slug("up", host), [host], "upstream", 0, "Upstream registries")

    def vnet_node(vnet: str, vnet_id: str = "") -> str:
        return top.add(_slug("vnet", vnet), [f"VNet {vnet}"], "vnet", 4, network_group(vnet_id))

    def set_node(set_name: str) -> str:
        # A set named on the registry (another stack's) has no login server in this plan.
        login = str((sets.get(set_name) or {}).get("inputs", {}).get("loginServer", ""))
        label = [f"credential set {set_name}"] + ([login] if login else [])
        return top.add(_slug("set", set_name), label, "credentials", 1, "Credentials")

    registries = by_type["Registry"]
    if registries:
        reg = registries[0]["inputs"]  # mutation: equivalent (a stack makes one registry: its plan holds one)
        name = str(reg.get("registryName", "registry"))
        home = str(reg.get("location", "?"))
        sku = str((reg.get("sku") or {}).get("name", ""))
        registry = top.add(
            "registry", [name, f"{sku} · home {home}", *_access_lines(reg)], "registry", 2, f"Region {home}"
        )
    else:
        # A consumer stack: the registry is another stack's; its name is in the inputs.
        some: dict[str, Any] = next(
            (r["inputs"] for t in ("CacheRule", "CredentialSet") for r in by_type[t]), {}
        )
        name = str(some.get("registryName", "the platform's registry"))
        registry = top.add("registry", [name, "another stack's registry"], "registry", 2, "Registry")
    for replica in sorted(by_type["Replication"], key=lambda r: str(r["inputs"].get("location"))):
        region = str(replica["inputs"].get("location", "?"))
        zones = "zone redundant" if replica["inputs"].get("zoneRedundancy") == "Enabled" else "single zone"
        node = top.add(
            _slug("replica", region), [f"replica {region}", zones], "replica", 2, f"Region {region}"
        )
        top.link(registry, node, "geo-replication", dashed=True)

    # Upstreams -> rules -> registry; rules -> credential sets -> vault.
    rules_by_upstream: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rule in by_type["CacheRule"]:
        source = str(rule["inputs"].get("sourceRepository", "?"))
        rules_by_upstream[source.partition("/")[0]].append(rule)
    for host in sorted(rules_by_upstream):
        rules = sorted(rules_by_upstream[host], key=lambda r: str(r["inputs"].get("cacheRuleName")))
        upstream = upstream_node(host)
        if len(rules) > RULES_PER_UPSTREAM:
            sample = ", ".join(str(r["inputs"].get("targetRepository")) for r in rules[:2])
            rule_nodes = [
                (
                    top.add(
                        _slug("rules", host),
                        [f"{len(rules)} cache rules", f"{sample}, ..."],
                        "rule",
                        1,
                        "Cache rules",
                    ),
                    rules,
                )
            ]
        else:
            rule_nodes = [
                (
                    top.add(
                        _slug("rule", str(r["inputs"].get("cacheRuleName"))),
                        [str(r["inputs"].get("cacheRuleName")), f"→ {r['inputs'].get('targetRepository')}"],
                        "rule",
                        1,
                        "Cache rules",
                    ),
                    [r],
                )
                for r in rules
            ]
        for node, members in rule_nodes:
            top.link(upstream, node)
            top.link(node, registry, "pull-through")
            for member in members:
                set_id = str(member["inputs"].get("credentialSetResourceId") or "")
                set_name = _segment(set_id, "credentialSets")
                if set_name:
                    top.link(node, set_node(set_name), "signs in with", True)

    vaults = {str(v["inputs"].get("vaultName")): v for v in by_type["Vault"]}
    for set_name, cred in sorted(sets.items()):
        node = set_node(set_name)
        for auth in cred["inputs"].get("authCredentials") or []:
            uri = str(auth.get("passwordSecretIdentifier") or "")
            vault_name = uri.removeprefix("https://").partition(".")[0]
            if vault_name:
                label = [f"Key Vault {vault_name}", "created here" if vault_name in vaults else "existing"]
                vault = top.add(_slug("vault", vault_name), label, "vault", 0, "Credentials")
                top.link(node, vault, "reads secrets", dashed=True)

    # Private access: endpoints in subnets of VNets; the zone linked to VNets.
    for endpoint in sorted(
        by_type["PrivateEndpoint"], key=lambda r: str(r["inputs"].get("privateEndpointName"))
    ):
        inputs = endpoint["inputs"]
        subnet = str((inputs.get("subnet") or {}).get("id", ""))
        vnet = _segment(subnet, "virtualNetworks")
        node = top.add(
            _slug("pe", endpoint["name"]),
            [
                f"private endpoint {inputs.get('privateEndpointName')}",
                f"{inputs.get('location')} · {_segment(subnet, 'subnets')}",
            ],
            "endpoint",
            3,
            # Drawn with the VNet it sits in: the subnet says whose network that is.
            network_group(subnet),
        )
        top.link(node, registry, "private link")
        if vnet:
            top.link(vnet_node(vnet, subnet), node)
    for zone in by_type["PrivateZone"]:
        zone_node = top.add(
            _slug("zone", zone["name"]),
            [str(zone["inputs"].get("privateZoneName")), "private DNS zone"],
            "dns",
            4,
            network_group(str(zone.get("id") or "")),
        )
        for link in by_type["VirtualNetworkLink"]:
            if link["inputs"].get("privateZoneName") == zone["inputs"].get("privateZoneName"):
                vnet_id = str((link["inputs"].get("virtualNetwork") or {}).get("id", ""))
                vnet = _segment(vnet_id, "virtualNetworks")
                top.link(
                    zone_node,
                    vnet_node(vnet, vnet_id),
                    "linked",
                    True,
                )

    # A zone the stack does not create (a hub's, `dnsZone.mode: existing`): the endpoints' zone
    # groups write their records into it.
    created = {str(zone.get("id") or "").lower() for zone in by_type["PrivateZone"]}
    for group in sorted(by_type["PrivateDnsZoneGroup"], key=lambda r: r["name"]):
        for config in group["inputs"].get("privateDnsZoneConfigs") or []:
            zone_id = str(config.get("privateDnsZoneId") or "")
            if not zone_id or zone_id.lower() in created:
                continue
            zone_name = zone_id.rpartition("/")[2]
            group_name = _segment(zone_id, "resourceGroups")
            zone_node = top.add(
                _slug("zone", zone_id),
                [zone_name, "existing private DNS zone", f"in {group_name}" if group_name else ""],
                "dns",
                4,
                network_group(zone_id),
            )
            endpoint_name = str(group["inputs"].get("privateEndpointName") or "")
            for pe in by_type["PrivateEndpoint"]:
                if str(pe["inputs"].get("privateEndpointName")) == endpoint_name:
                    top.link(zone_node, _slug("pe", pe["name"]), "A records", True)
    # A zone the stack creates gets its records through zone groups too: no group, no record from here.
    if by_type["PrivateEndpoint"] and not by_type["PrivateDnsZoneGroup"]:
        policy = top.add(
            "dns_policy",
            ["privatelink.azurecr.io", "records by the landing zone's policy"],
            "dns",
            4,
            "Private network",
        )
        for endpoint in by_type["PrivateEndpoint"]:
            top.link(policy, _slug("pe", endpoint["name"]), "A records", True)
    for key in by_type["Key"]:
        vault_name = str(key["inputs"].get("vaultName"))
        node = top.add(
            _slug("cmk", key["name"]),
            [f"key {key['inputs'].get('keyName')}", f"customer-managed, in {vault_name}"],
            "vault",
            0,
            "Credentials",
        )
        top.link(node, registry, "encrypts", True)

    # Who may pull and push: grants at the registry's scope.
    for grant in sorted(by_type["RoleAssignment"], key=lambda r: r["name"]):
        role = str(grant["inputs"].get("roleDefinitionId", "")).rpartition("/")[2]
        if role not in ROLE_NAMES:
            continue
        parent = urns.get(grant.get("parent") or "", {}).get("name", "")
        who = grant["name"].removeprefix(f"{parent}-") if parent else grant["name"]
        kind = str(grant["inputs"].get("principalType", ""))
        node = top.add(_slug("who", grant["name"]), [who, kind], "principal", 3, "Who pulls and pushes")
        top.link(node, registry, ROLE_NAMES[role])
    for token in sorted(by_type["Token"], key=lambda r: str(r["inputs"].get("tokenName"))):
        node = top.add(
            _slug("token", token["name"]),
            [f"token {token['inputs'].get('tokenName')}", "scope-mapped"],
            "principal",
            3,
            "Who pulls and pushes",
        )
        top.link(node, registry, "token")

    # Where its events and logs go.
    for hook in sorted(by_type["Webhook"], key=lambda r: str(r["inputs"].get("webhookName"))):
        actions = ", ".join(str(a) for a in hook["inputs"].get("actions") or [])
        top.link(
            registry,
            top.add(
                _slug("hook", hook["name"]),
                [f"webhook {hook['inputs'].get('webhookName')}", actions],
                "sink",
                3,
                "Operations",
            ),
            "events",
            True,
        )
    for workspace in by_type["Workspace"]:
        node = top.add(
            _slug("logs", workspace["name"]),
            [f"Log Analytics {workspace['inputs'].get('workspaceName')}"],
            "sink",
            3,
            "Operations",
        )
        top.link(registry, node, "logs", True)
    if not by_type["Workspace"]:
        # Settings into one existing workspace (the registry's and the vault's) draw it once.
        for setting in by_type["DiagnosticSetting"]:
            workspace_id = str(setting["inputs"].get("workspaceId") or "")
            if workspace_id:
                node = top.add(
                    "logs_existing",
                    [f"Log Analytics {_segment(workspace_id, 'workspaces')}", "existing"],
                    "sink",
                    3,
                    "Operations",
                )
                top.link(registry, node, "logs", True)
    for image in sorted(by_type["ImageImport"], key=lambda r: str(r["inputs"].get("target"))):
        source = str(image["inputs"].get("source", ""))
        host = source.partition("/")[0]
        upstream = upstream_node(host)
        node = top.add(
            _slug("import", image["name"]),
            [f"import {image['inputs'].get('target')}", "pinned"],
            "rule",
            1,
            "Imported images",
        )
        top.link(upstream, node)
        top.link(node, registry, "imported")
    return top


SHAPES = {
    "registry": ('[["', '"]]'),
    "replica": ('["', '"]'),
    "upstream": ('(["', '"])'),
    "rule": ('["', '"]'),
    "credentials": ('[/"', '"/]'),
    "vault": ('[("', '")]'),
    "endpoint": ('{{"', '"}}'),
    "vnet": ('["', '"]'),
    "dns": ('[("', '")]'),
    "principal": ('(["', '"])'),
    "sink": ('[("', '")]'),
}
"""Mermaid's shape of each node kind `topology` draws (every kind is here: a kind left out fails
at once rather than drawing as a plain box)."""


def mermaid(plan: dict[str, Any]) -> str:
    """A Mermaid flowchart of the stack (GitHub renders it in markdown)."""
    top = topology(plan)
    lines = ["flowchart LR"]
    # Every node is in a group: `Topology.add` files each under one.
    for index, (title, members) in enumerate(top.groups.items()):
        lines.append(f'  subgraph g{index}["{_text(title)}"]')
        for node_id in members:
            lines.append("    " + _mermaid_node(top.nodes[node_id]))
        lines.append("  end")
    for edge in top.edges:
        arrow = "-.->" if edge.dashed else "-->"
        label = f"|{_text(edge.label)}|" if edge.label else ""
        lines.append(f"  {edge.source} {arrow}{label} {edge.target}")
    return "\n".join(lines) + "\n"


def _text(value: str) -> str:
    return value.replace('"', "'").replace("|", "/").replace("<", "#lt;").replace(">", "#gt;")


def _mermaid_node(node: Node) -> str:
    start, end = SHAPES[node.kind]
    return f"{node.id}{start}{'<br/>'.join(_text(line) for line in node.label if line)}{end}"


COLUMN_WIDTH = 290
NODE_WIDTH = 240
LINE_HEIGHT = 15
GAP = 18
FILL = {
    "registry": "#cfe3ff",
    "replica": "#e3eeff",
    "upstream": "#fff1c9",
    "rule": "#fff8e6",
    "credentials": "#f3e6ff",
    "vault": "#ead6ff",
    "endpoint": "#d8f5e0",
    "vnet": "#ecfaef",
    "dns": "#ecfaef",
    "principal": "#ffe1d6",
    "sink": "#eeeeee",
}
"""The SVG fill of each node kind, as complete as `SHAPES`."""


def svg(plan: dict[str, Any]) -> str:
    """A standalone SVG of the same topology: one column per layer, edges as curves."""
    top = topology(plan)
    columns: dict[int, list[Node]] = defaultdict(list)
    for node in top.nodes.values():
        columns[node.column].append(node)
    positions: dict[str, tuple[float, float, float]] = {}  # x, y, height

    def box_height(node: Node) -> float:
        return float(12 + LINE_HEIGHT * len(_box_lines(node)))

    spans = {column: sum(box_height(n) + GAP for n in nodes) for column, nodes in columns.items()}
    tallest = max(spans.values())  # never empty: every topology has its registry
    height = 50.0 + tallest + 30
    for column, nodes in sorted(columns.items()):
        # Each column centred on the tallest, so the registry sits in the middle of what feeds it.
        y = 50.0 + (tallest - spans[column]) / 2
        for node in nodes:
            positions[node.id] = (float(20 + column * COLUMN_WIDTH), y, box_height(node))
            y += box_height(node) + GAP
    width = 20 + (max(columns) + 1) * COLUMN_WIDTH
    title = f"{plan.get('project', '')}/{plan.get('stack', '')}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{int(height)}" '
        f'viewBox="0 0 {width} {int(height)}" font-family="Segoe UI, Helvetica, Arial, sans-serif" font-size="12">',
        f"<title>{html.escape(title)} topology (acr-cache graph)</title>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="20" y="26" font-size="15" font-weight="bold">{html.escape(title)}</text>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
    ]
    for edge in top.edges:
        sx, sy, sh = positions[edge.source]
        tx, ty, th = positions[edge.target]
        start_x, end_x = (
            (sx + NODE_WIDTH, tx)
            if sx < tx
            else ((sx, tx + NODE_WIDTH) if sx > tx else (sx + NODE_WIDTH, tx + NODE_WIDTH))
        )
        start_y, end_y = sy + sh / 2, ty + th / 2
        bend = 60 if sx != tx else 40
        c1 = start_x + (bend if start_x <= end_x or sx == tx else -bend)
        c2 = end_x - (bend if start_x <= end_x and sx != tx else -bend)
        dash = ' stroke-dasharray="5,4"' if edge.dashed else ""
        out.append(
            f'<path d="M {start_x:.0f} {start_y:.0f} C {c1:.0f} {start_y:.0f}, {c2:.0f} {end_y:.0f}, {end_x:.0f} {end_y:.0f}" '
            f'fill="none" stroke="#555" stroke-width="1.2"{dash} marker-end="url(#arrow)"><title>{html.escape(edge.label)}</title></path>'
        )
        if edge.label in ROLE_NAMES.values():
            # Who may push is what a reviewer looks for: the role is written on the grant's edge, at
            # the principal's end (principals stand right of the registry, so the edge runs left).
            out.append(
                f'<text x="{start_x - 6:.0f}" y="{start_y - 4:.0f}" font-size="10" '
                f'fill="#7a2e00" text-anchor="end">{edge.label}</text>'
            )
    out.append(
        f'<text x="20" y="{height - 8:.0f}" font-size="10" fill="#555">solid: pulls, pull-through and '
        "grants (AcrPull, AcrPush); dashed: replication, sign-in, secrets, logs, events</text>"
    )
    for node in top.nodes.values():
        x, y, box = positions[node.id]
        stroke = ' stroke-width="2"' if node.kind == "registry" else ""
        out.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_WIDTH}" height="{box:.0f}" rx="6" '
            f'fill="{FILL[node.kind]}" stroke="#444"{stroke}/>'
        )
        for index, (line, first) in enumerate(_box_lines(node)):
            weight = ' font-weight="bold"' if first else ""
            out.append(
                f'<text x="{x + 8:.0f}" y="{y + 18 + index * LINE_HEIGHT:.0f}"{weight}>{html.escape(line)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _box_lines(node: Node) -> list[tuple[str, bool]]:
    """The lines of a node's SVG box, wrapped to its width; True on those of its first label line."""
    labels = [text for text in node.label if text]
    return [(part, index == 0) for index, text in enumerate(labels) for part in _wrapped(text)]


def _access_lines(registry: dict[str, Any]) -> list[str]:
    """How the registry's public endpoint answers, as the firewall decides it: Open, Restricted to its
    IP rules (each one listed: they are what a reviewer checks), or Disabled (private endpoints only)."""
    if str(registry.get("publicNetworkAccess", "")) == "Disabled":
        return ["public access Disabled", "private endpoints only"]
    rules = registry.get("networkRuleSet") or {}
    if rules.get("defaultAction") == "Deny":
        allowed = [str(rule.get("iPAddressOrRange")) for rule in rules.get("ipRules") or []]
        if not allowed:
            return ["public access Restricted", "no IP rule: trusted services only"]
        shown = allowed[:MAX_IP_LINES] if len(allowed) > MAX_IP_LINES + 1 else allowed
        more = [f"and {len(allowed) - len(shown)} more"] if len(shown) < len(allowed) else []
        rule_word = "IP rule" if len(allowed) == 1 else "IP rules"
        return [f"public access Restricted ({len(allowed)} {rule_word})", *shown, *more]
    return ["public access Open"]


MAX_IP_LINES = 8
"""IP rules listed on the registry's box; beyond that, their count."""


def _wrapped(text: str, limit: int = 36) -> list[str]:
    """A label line in lines of at most `limit` characters, broken after `/`, `-`, `.` or a space where
    it can be: an SVG box never cuts a name short."""
    lines: list[str] = []
    while len(text) > limit:
        head = text[:limit]
        cut = max(head.rfind(c) for c in " /-.·")
        cut = cut + 1 if cut > limit // 3 else limit
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    # Empty when the last cut left only spaces; `_box_lines` never passes an empty label.
    return [*lines, text] if text else lines
