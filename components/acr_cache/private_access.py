"""Private endpoints and the `privatelink.azurecr.io` DNS zone that resolves them."""

import json
import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from functools import partial
from typing import Annotated, Any, NamedTuple, NotRequired, Self, TypedDict

import pulumi
from pulumi_azure_native import network, privatedns
from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from acr_cache.arm import (
    APPLICATION_SECURITY_GROUP,
    NETWORK_INTERFACE_NAME,
    PRIVATE_ENDPOINT_NAME,
    SUBNET,
    ArmId,
    guid_check,
    id_check,
    parse_arm_id,
)
from acr_cache.arm import PRIVATE_DNS_ZONE as ZONE_ID
from acr_cache.component_args import Input, PrivateDnsZoneArgs, PrivateEndpointArgs
from acr_cache.component_base import (
    ChildNames,
    Layout,
    RegistryRef,
    component_error,
    set_aside_outputs,
    validated,
)
from acr_cache.model import (
    OUTPUT_OK,
    AzureRegion,
    ConfigModel,
    ConfigProblem,
    ResourceGroupName,
    SubnetIdStr,
    Tags,
    VnetIdStr,
    WholeNumber,
    collisions,
    field_error,
)
from acr_cache.placement import Placement
from acr_cache.redaction import shown

PRIVATE_DNS_ZONE = "privatelink.azurecr.io"
"""The one zone ACR private endpoints need: login server and every region's data endpoint."""
GROUP_ID = "registry"
"""The registry's private link sub-resource; it covers the login server and all data endpoints."""

# Azure: the usable addresses of a subnet are its size minus 5 (network, broadcast and three that
# Azure reserves for itself).
_AZURE_RESERVED_IPS = 5
_LINK_KEY = re.compile(r"[a-zA-Z0-9][\w.-]{0,74}")
_ENDPOINT_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,38}[a-z0-9]|[a-z0-9]")


class DnsZoneMode(StrEnum):
    """Where the `privatelink.azurecr.io` zone comes from."""

    CREATE = "create"
    """The stack creates one zone and links it to the listed VNets."""
    EXISTING = "existing"
    """A zone that already exists (hub-and-spoke, central DNS); the stack only adds records."""
    PER_ENDPOINT = "perEndpoint"
    """The stack creates a zone in each endpoint's VNet resource group (one per group) and links it."""
    POLICY = "policy"
    """Records come from Azure Policy (a landing zone's DeployIfNotExists on private endpoints): the
    stack makes no zone group, no zone and no link, and the plan says which records to expect."""


class VnetLinkConfig(ConfigModel):
    """One VNet link of a created zone, in its long form (the short form is the VNet id alone)."""

    vnet_id: VnetIdStr = Field(description="ARM id of the virtual network to link.")
    registration_enabled: bool = Field(
        default=False,
        description="Let the VNet's virtual machines register their own records in the zone "
        "(auto-registration). Off by default: the endpoints' records are kept by their zone groups. "
        "Azure allows auto-registration on one zone link per VNet.",
    )


class PrivateDnsZoneConfig(ConfigModel):
    """The private DNS zone `privatelink.azurecr.io` that the endpoints' records go into."""

    mode: DnsZoneMode = Field(
        default=DnsZoneMode.CREATE,
        description="`create`: one zone made by the stack, linked to `vnetLinks`. `existing`: the zone "
        "given by `zoneId` (central DNS in a hub). `perEndpoint`: a zone in each endpoint's VNet "
        "resource group, linked to that VNet (one zone per resource group; the VNets must be in the "
        "subscription the stack deploys to). `policy`: Azure Policy writes the records (a landing "
        "zone's central DNS): the endpoints get no DNS zone group, and the plan lists the records "
        "the policy must create.",
    )
    resource_group: ResourceGroupName | None = Field(
        default=None,
        description="`create` mode: resource group of the zone. Default: the registry's resource group.",
    )
    subscription_id: Annotated[str, AfterValidator(guid_check)] | None = Field(
        default=None,
        description="`create` mode: subscription of the zone and its VNet links (a connectivity "
        "subscription), deployed through a provider of that subscription; `resourceGroup` must be "
        "given with it. Default: the stack's subscription.",
    )
    registration_enabled: bool = Field(
        default=False,
        description="`perEndpoint` mode: turn auto-registration on for the VNet link each zone gets, so "
        "the VNet's virtual machines register their own records in it. Azure allows it on one zone "
        "link per VNet, which `perEndpoint` keeps (one link per VNet).",
    )
    zone_id: str | None = Field(
        default=None,
        description="`existing` mode: ARM id of the `privatelink.azurecr.io` zone "
        "(`/subscriptions/.../providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io`).",
    )
    vnet_links: dict[
        str,
        Annotated[
            Annotated[VnetIdStr, Tag("<id>")] | Annotated[VnetLinkConfig, Tag("<link>")],
            # The form by the input's type, so errors come from that form only.
            Discriminator(lambda value: "<id>" if isinstance(value, str) else "<link>"),
        ],
    ] = Field(
        default_factory=dict,
        description="`create` mode: VNets to link the zone to, by a name of your choice (the name keys "
        "the link, so reordering renames nothing): each a VNet id, or `{vnetId, registrationEnabled}` "
        "to turn auto-registration on for that link. Default: the VNet of every private endpoint, each "
        "keyed by its VNet name, without auto-registration. VNets that resolve through a hub's DNS "
        "need no link.",
    )

    @model_validator(mode="after")
    def _mode_fields(self) -> Self:
        for key in self.vnet_links:
            if not _LINK_KEY.fullmatch(key):
                raise field_error(
                    "vnetLinks",
                    f"link key '{shown(key)}' is not valid: use 1-75 letters, digits, `_ . -`, starting with a "
                    "letter or digit (it names the link `link-<key>`)",
                )
        if self.mode is DnsZoneMode.EXISTING:
            if not self.zone_id:
                raise field_error("zoneId", "`existing` mode needs the ARM id of the zone in `zoneId`")
            try:
                parse_arm_id(self.zone_id, ZONE_ID)
            except ValueError as exc:
                raise field_error("zoneId", str(exc)) from None
            if self.vnet_links:
                raise field_error(
                    "vnetLinks",
                    "an existing zone's VNet links belong to whoever owns the zone: remove `vnetLinks`, "
                    "or use `mode: create`",
                )
        elif self.zone_id:
            raise field_error(
                "zoneId", f"`zoneId` is only used with `mode: existing` (mode is {self.mode.value})"
            )
        if self.mode is not DnsZoneMode.CREATE and self.resource_group:
            raise field_error(
                "resourceGroup",
                f"`resourceGroup` is only used with `mode: create` (mode is {self.mode.value})",
            )
        if self.subscription_id is not None:
            if self.mode is not DnsZoneMode.CREATE:
                raise field_error(
                    "subscriptionId",
                    f"`subscriptionId` is only used with `mode: create` (mode is {self.mode.value}); an "
                    "existing zone's id says its subscription",
                )
            if self.resource_group is None:
                raise field_error(
                    "resourceGroup",
                    "a zone in another subscription needs the resource group it goes into there: set "
                    "`resourceGroup` with `subscriptionId`",
                )
        if self.registration_enabled and self.mode is not DnsZoneMode.PER_ENDPOINT:
            raise field_error(
                "registrationEnabled",
                "`registrationEnabled` is for the links `perEndpoint` makes; with `mode: create`, turn it on per "
                "link in `vnetLinks` (`{vnetId, registrationEnabled: true}`)",
            )
        if self.mode is DnsZoneMode.PER_ENDPOINT and self.vnet_links:
            raise field_error(
                "vnetLinks", "`perEndpoint` mode links each zone to its endpoint's VNet: remove `vnetLinks`"
            )
        if self.mode is DnsZoneMode.POLICY and self.vnet_links:
            raise field_error(
                "vnetLinks",
                "in `policy` mode the zone and its links belong to the landing zone: remove `vnetLinks`",
            )
        return self


class PrivateEndpointConfig(ConfigModel):
    """One private endpoint of the registry. Its key in `endpoints` is its stable identity."""

    subnet_id: SubnetIdStr = Field(
        json_schema_extra=OUTPUT_OK,
        description="ARM id of the subnet the endpoint's network interface goes into. The component "
        "also takes it as an Output of another resource (a subnet made in the same program) when the "
        "DNS links do not have to be named after it: `dnsZone.mode: existing`, or `create` with "
        "`vnetLinks`.",
    )
    resource_group: ResourceGroupName | None = Field(
        default=None,
        description="Resource group of the endpoint. Default: the registry's resource group, or the "
        "subnet's when the subnet is in another subscription than the stack's (Azure puts an endpoint "
        "in its VNet's subscription, where the registry's group may not exist).",
    )
    location: AzureRegion | None = Field(
        default=None,
        description="Region of the endpoint, which Azure requires to be the VNet's region. A subnet "
        "id does not reveal that region, so the default is the registry's home region: set it for "
        "a VNet elsewhere.",
    )
    name: str | None = Field(
        default=None,
        description="Name of the private endpoint resource (2-64 characters). Default: "
        "`pe-<registry>-<key>`.",
    )
    network_interface_name: str | None = Field(
        default=None,
        description="Name of the endpoint's network interface (1-80 letters, digits, `_ . -`). Azure "
        "sets it at creation only: a change replaces the endpoint. Default: `<endpoint name>-nic`. "
        "To adopt an endpoint made elsewhere, give what ARM reports as its "
        '`customNetworkInterfaceName`, or `""` when it reports none (Azure named the interface), '
        "so that none is sent.",
    )
    subnet_prefix_length: WholeNumber | None = Field(
        default=None,
        ge=8,
        le=29,
        description="Prefix length of the subnet (27 for a /27), to check before deploying that it has "
        "room: every endpoint needs one address for the login server plus one per region's data "
        "endpoint, and adding a replica later fails and rolls back when any endpoint subnet is full.",
    )
    application_security_group_ids: list[
        Annotated[str, AfterValidator(id_check(APPLICATION_SECURITY_GROUP))]
    ] = Field(
        default_factory=list,
        description="ARM ids of application security groups the endpoint's network interface joins, "
        "so that network security rules can name it (the VNet's, same region).",
    )
    manual_approval: bool = Field(
        default=False,
        description="Ask the registry's owner to approve the connection (a registry in another tenant or "
        "subscription whose owner approves endpoints): the endpoint stays Pending until "
        "`az network private-endpoint-connection approve`. Default: approved at once, as the stack "
        "owns both sides.",
    )
    request_message: str | None = Field(
        default=None,
        max_length=140,
        description="With `manualApproval`: the message the approver sees (up to 140 characters).",
    )
    tags: Tags = Field(default_factory=dict, description="Tags on the private endpoint.")

    @model_validator(mode="after")
    def _name(self) -> Self:
        if self.request_message is not None and not self.manual_approval:
            raise field_error(
                "requestMessage",
                "a request message goes with `manualApproval: true`: set it, or remove the message",
            )
        for field, value, rule in (
            ("name", self.name, PRIVATE_ENDPOINT_NAME),
            ("networkInterfaceName", self.network_interface_name, NETWORK_INTERFACE_NAME),
        ):
            if value:  # `""` as the interface name: send none
                try:
                    rule.check(value)
                except ValueError as exc:
                    raise field_error(field, str(exc)) from None
        return self

    @property
    def subnet(self) -> ArmId:
        """The subnet id's parts: `names` are (VNet, subnet), `parent` is the VNet's id."""
        return parse_arm_id(self.subnet_id, SUBNET)


class PrivateAccessConfig(ConfigModel):
    """Private endpoints of the registry and the DNS that resolves them (Premium)."""

    endpoints: dict[str, PrivateEndpointConfig] = Field(
        default_factory=dict,
        description="Private endpoints by key (lowercase letters, digits and hyphens, up to 40). "
        "Each gets the `registry` sub-resource (login server and every region's data endpoint), "
        "dynamic IP addresses (static ones block adding replicas later), a DNS zone group that keeps "
        "its records in the zone, and waits for every replica. At most 200 per registry.",
        max_length=200,
    )
    dns_zone: PrivateDnsZoneConfig = Field(
        default_factory=PrivateDnsZoneConfig,
        description="The `privatelink.azurecr.io` zone the endpoints register in.",
    )

    @model_validator(mode="after")
    def _keys_and_zones(self) -> Self:
        for key in self.endpoints:
            if not _ENDPOINT_KEY.fullmatch(key):
                raise field_error(
                    "endpoints",
                    f"endpoint key '{shown(key)}' is not valid: use 1-40 lowercase letters, digits and hyphens, "
                    "not starting or ending with a hyphen",
                )
        return self

    def problems(
        self,
        *,
        region_count: int,
        at: str,
        default_group: str | None = None,
        registry_name: str | None = None,
    ) -> list[ConfigProblem]:
        """What the section gets wrong as a whole: a zone without endpoints, VNet links or endpoint
        names that would collide, and subnets too small for the registry's `region_count` regions.
        `at` is the section's key path; endpoint names are checked when the registry's name and
        resource group (the defaults) are given."""
        if not self.endpoints:
            if "dns_zone" in self.model_fields_set:
                return [
                    ConfigProblem(
                        f"{at}.dnsZone",
                        "there are no private endpoints to register in the zone: add `endpoints` or remove `dnsZone`",
                    )
                ]
            return []
        problems = []
        if self.dns_zone.mode is DnsZoneMode.CREATE and not self.dns_zone.vnet_links:
            for clash in self.link_collisions():
                problems.append(
                    ConfigProblem(
                        f"{at}.dnsZone.vnetLinks",
                        f"several endpoint VNets are named '{shown(clash)}', and derived links are keyed by VNet "
                        "name: list the links explicitly in `vnetLinks` (name: VNet id)",
                    )
                )
        problems += self._capacity_problems(region_count, at)
        if registry_name is not None:
            assert default_group is not None  # the names' default group comes with the registry's name
            names = {
                f"{at}.endpoints.{key}": (
                    f"{(endpoint.resource_group or default_group).lower()}/"
                    f"{(endpoint.name or default_endpoint_name(registry_name, key)).lower()}"
                )
                for key, endpoint in self.endpoints.items()
            }
            problems += collisions(
                names, "private endpoint name in one resource group", "give one a different `name`"
            )
        if self.dns_zone.mode is DnsZoneMode.PER_ENDPOINT:
            # One zone per VNet resource group, named after the group: a group name in two
            # subscriptions would give two zones one resource name.
            homes: dict[str, set[str]] = {}
            for endpoint in self.endpoints.values():
                homes.setdefault(endpoint.subnet.resource_group.lower(), set()).add(
                    endpoint.subnet.subscription
                )
            for group, subscriptions in sorted(homes.items()):
                if len(subscriptions) > 1:
                    problems.append(
                        ConfigProblem(
                            f"{at}.dnsZone",
                            f"`perEndpoint` makes one zone per VNet resource group, named after it, and '{shown(group)}' "
                            f"is a VNet resource group in {len(subscriptions)} subscriptions: use `mode: create` (with "
                            "`subscriptionId` for a connectivity subscription) or `mode: existing`",
                        )
                    )
            links: dict[str, tuple[str, str]] = {}
            for key, endpoint in self.endpoints.items():
                zone, vnet = endpoint.subnet.resource_group.lower(), endpoint.subnet.names[0].lower()
                links.setdefault(f"{zone}/{vnet}", (f"{at}.endpoints.{key}", _zone_link_name(zone, vnet)))
            problems += collisions(
                dict(links.values()),
                "DNS zone link resource name (`<VNet resource group>-link-<VNet>`)",
                "use `dnsZone.mode: create` with explicit `vnetLinks`",
            )
        return problems

    def _capacity_problems(self, region_count: int, at: str) -> list[ConfigProblem]:
        # Each endpoint takes one address for the login server and one per region's data endpoint;
        # when a replica is added, Azure adds an address to every endpoint, and the replica rolls
        # back if any endpoint subnet is full.
        per_endpoint = addresses_per_endpoint(region_count)
        by_subnet: dict[str, list[str]] = {}
        for key in sorted(self.endpoints):
            by_subnet.setdefault(self.endpoints[key].subnet_id.lower(), []).append(key)
        problems = []
        for keys in by_subnet.values():
            lengths = {
                k: length for k in keys if (length := self.endpoints[k].subnet_prefix_length) is not None
            }
            if len(set(lengths.values())) > 1:
                problems.append(
                    ConfigProblem(
                        f"{at}.endpoints.{sorted(lengths)[-1]}.subnetPrefixLength",
                        f"endpoints {', '.join(sorted(lengths))} share a subnet but give different prefix "
                        "lengths: give the same one",
                    )
                )
                continue
            if not lengths:
                continue
            key, length = sorted(lengths.items())[0]
            needed = per_endpoint * len(keys)
            room = usable_addresses(length)
            if needed > room:
                problems.append(
                    ConfigProblem(
                        f"{at}.endpoints.{key}.subnetPrefixLength",
                        f"a /{length} subnet has {room} usable addresses, and the endpoints in it "
                        f"({', '.join(keys)}) need {needed}: {per_endpoint} each (the login server plus one "
                        f"data endpoint for each of {region_count} regions): use a larger subnet",
                    )
                )
        return problems

    def links(self) -> dict[str, VnetLinkConfig]:
        """`create` mode: VNet links by key, explicit or derived from the endpoints' VNets."""
        if self.dns_zone.vnet_links:
            return {
                key: link if isinstance(link, VnetLinkConfig) else VnetLinkConfig(vnet_id=link)
                for key, link in self.dns_zone.vnet_links.items()
            }
        derived: dict[str, VnetLinkConfig] = {}
        for key in sorted(self.endpoints):
            subnet = self.endpoints[key].subnet
            derived.setdefault(subnet.names[0].lower(), VnetLinkConfig(vnet_id=subnet.parent))
        return derived

    def link_collisions(self) -> list[str]:
        """Derived link keys that two different VNets would share (they need explicit vnetLinks)."""
        seen: dict[str, str] = {}
        clashes = []
        for endpoint in self.endpoints.values():
            subnet = endpoint.subnet
            key = subnet.names[0].lower()
            if key in seen and seen[key].lower() != subnet.parent.lower():
                clashes.append(key)
            seen.setdefault(key, subnet.parent)
        return sorted(set(clashes))


def _zone_link_name(zone_key: str, link_key: str) -> str:
    """What a VNet link's resource name adds to the component's: the config checks these for
    collisions, since two equal ones are one URN."""
    return f"link-{link_key}" if zone_key == "shared" else f"{zone_key}-link-{link_key}"


def default_endpoint_name(registry_name: str, key: str) -> str:
    """The name of an endpoint without an explicit `name`."""
    return f"pe-{registry_name.lower()}-{key}"


def usable_addresses(prefix_length: int) -> int:
    return 2 ** (32 - prefix_length) - _AZURE_RESERVED_IPS


def addresses_per_endpoint(region_count: int) -> int:
    """One address for the login server plus one per region's data endpoint (home region included)."""
    return 1 + region_count


class _Zone(NamedTuple):
    key: str
    resource_group: str
    vnets: dict[str, VnetLinkConfig]
    subscription: str | None = None
    """Where the zone and its links go; None: the stack's subscription."""


class PrivateAccessArgs(TypedDict):
    """Arguments of PrivateAccess."""

    registry_id: Input[str]
    """ARM id of the registry (Premium)."""
    home_region: str
    """The registry's home region: the default location of endpoints."""
    endpoints: dict[str, PrivateEndpointArgs]
    """Private endpoints by key."""
    dns_zone: NotRequired[PrivateDnsZoneArgs]
    """The DNS zone; default: created in the registry's group."""
    region_count: NotRequired[int]
    """Regions of the registry (home plus replicas), for the subnet capacity check; default 1."""
    protect: NotRequired[bool]
    """Protect the created zones (default true)."""


class PrivateAccess(pulumi.ComponentResource):
    """Private endpoints of a registry with the privatelink.azurecr.io zone and zone groups."""

    private_endpoint_ids: pulumi.Output[dict[str, str]]
    """ARM ids of the endpoints by key."""
    dns_zone_ids: pulumi.Output[dict[str, str]]
    """ARM ids of the zones the records go into."""

    def __init__(
        self,
        name: str,
        args: PrivateAccessArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        registry: RegistryRef | None = None,
        replicas: Sequence[pulumi.Resource] = (),
        layout: Layout = Layout.COMPONENT,
        adopt: Mapping[str, str] | None = None,
        placement: Placement | None = None,
    ) -> None:
        """`adopt`: ARM ids of existing endpoints (by key) and their zone groups (`<key>-dns`) to
        import instead of creating. `placement`: the providers of other subscriptions (an endpoint
        goes into its VNet's subscription; without one, everything goes to the default provider's)."""
        super().__init__("acr-cache:index:PrivateAccess", name, None, layout.options(opts, FORMER_TYPE))
        problems: list[ConfigProblem] = []
        endpoints, subnets = set_aside_outputs(args["endpoints"], "subnet_id", _stand_in_subnet)
        config = validated(
            PrivateAccessConfig,
            {"endpoints": endpoints, "dns_zone": args.get("dns_zone") or {}},
            "args",
            problems,
        )
        if config is not None:
            problems += config.problems(region_count=int(args.get("region_count", 1)), at="args")
            derived_links = config.dns_zone.mode is DnsZoneMode.PER_ENDPOINT or (
                config.dns_zone.mode is DnsZoneMode.CREATE and not config.dns_zone.vnet_links
            )
            if subnets and derived_links:
                problems += [
                    ConfigProblem(
                        f"args.endpoints.{key}.subnet_id",
                        "a subnet id known only at deployment cannot name the DNS zone's VNet links: list "
                        "them in `dns_zone.vnet_links` (mode `create`), or use mode `existing`",
                    )
                    for key in sorted(subnets)
                ]
        if problems or config is None:
            raise component_error("PrivateAccess", name, problems, PrivateAccessArgs)
        ref = registry or RegistryRef.from_id(args["registry_id"])
        registry_id, registry_name, home_region = ref.registry_id, ref.registry_name, args["home_region"]
        self._former = layout.former_children(self, name, FORMER_TYPE, "private")
        children = ChildNames(name, config.endpoints)
        owned = placement is None
        self._placement = placement or Placement(None)
        zone_ids = self._zones(name, config, ref.resource_group_name, bool(args.get("protect", True)))
        self.zone_ids: dict[str, pulumi.Output[str]] = {
            key: pulumi.Output.from_input(value) for key, value in zone_ids.items()
        }
        """Zone ids by zone key (`shared`, or the VNet resource group in `perEndpoint` mode)."""
        self.private_endpoints: dict[str, network.PrivateEndpoint] = {}
        """Private endpoint resources by config key."""
        resource_group_name = ref.resource_group_name
        for key in sorted(config.endpoints):
            endpoint = config.endpoints[key]
            # Azure puts the endpoint (and its network interface) in its VNet's subscription.
            subscription = None if key in subnets else endpoint.subnet.subscription
            provider = self._placement.provider(subscription, f"private endpoint {key}")
            default_group = (
                endpoint.subnet.resource_group
                if self._placement.elsewhere(subscription)
                else resource_group_name
            )
            group = endpoint.resource_group or default_group
            endpoint_name: pulumi.Input[str] = endpoint.name or pulumi.Output.from_input(registry_name).apply(
                partial(default_endpoint_name, key=key)
            )
            resource = network.PrivateEndpoint(
                children[key],
                private_endpoint_name=endpoint_name,
                resource_group_name=group,
                location=endpoint.location or home_region,
                # A reference by id only: SubnetArgs would add its own network-policy defaults to
                # the body, which belong to the subnet (and its owner), not to the endpoint.
                subnet={
                    "id": subnets[key].apply(
                        partial(_known_subnet, f"args.endpoints[{json.dumps(key)}].subnet_id")
                    )
                    if key in subnets
                    else endpoint.subnet_id
                },
                custom_network_interface_name=(
                    pulumi.Output.concat(endpoint_name, "-nic")
                    if endpoint.network_interface_name is None
                    else endpoint.network_interface_name or None
                ),
                # No ip_configurations: static addresses make every later replica fail, because
                # Azure must add an address for the new region's data endpoint to this endpoint.
                **_connections(endpoint, endpoint_name, registry_id),
                application_security_groups=[
                    network.ApplicationSecurityGroupArgs(id=asg)
                    for asg in endpoint.application_security_group_ids
                ]
                or None,
                tags=endpoint.tags or None,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=provider,
                    # The endpoint's network interface gets one member per region's data endpoint; an
                    # endpoint made while a replica is still provisioning fails (peers' #4040/#4042).
                    depends_on=list(replicas),
                    aliases=children.aliases(key, "", self._former(key)),
                    import_=(adopt or {}).get(key),
                ),
            )
            self.private_endpoints[key] = resource
            if config.dns_zone.mode is DnsZoneMode.POLICY:
                continue  # the landing zone's policy writes the records
            zone_key = self._zone_key(config, endpoint)
            network.PrivateDnsZoneGroup(
                f"{children[key]}-dns",
                private_endpoint_name=resource.name,
                resource_group_name=group,
                private_dns_zone_group_name="default",
                private_dns_zone_configs=[
                    # Azure rejects a zone config without a name (InvalidRequestFormat,
                    # pulumi-azure-native#2431).
                    network.PrivateDnsZoneConfigArgs(
                        name="privatelink-azurecr-io", private_dns_zone_id=zone_ids[zone_key]
                    )
                ],
                opts=pulumi.ResourceOptions(
                    # A child of the endpoint: in the endpoint's subscription.
                    parent=self,
                    provider=provider,
                    aliases=children.aliases(key, "-dns", self._former(f"{key}-dns")),
                    import_=(adopt or {}).get(f"{key}-dns"),
                ),
            )
        self.private_endpoint_ids = pulumi.Output.all(
            **{key: endpoint.id for key, endpoint in self.private_endpoints.items()}
        ).apply(dict)
        self.dns_zone_ids = pulumi.Output.all(**self.zone_ids).apply(dict)
        if owned:
            self._placement.report()
        self.register_outputs(
            {"privateEndpointIds": self.private_endpoint_ids, "dnsZoneIds": self.dns_zone_ids}
        )

    @staticmethod
    def _zone_key(config: PrivateAccessConfig, endpoint: PrivateEndpointConfig) -> str:
        if config.dns_zone.mode is DnsZoneMode.PER_ENDPOINT:
            return endpoint.subnet.resource_group.lower()
        return "shared"

    def _zones(
        self,
        name: str,
        config: PrivateAccessConfig,
        resource_group_name: pulumi.Input[str],
        protect: bool,
    ) -> Mapping[str, pulumi.Input[str]]:
        mode = config.dns_zone.mode
        if mode is DnsZoneMode.POLICY:
            return {}
        if mode is DnsZoneMode.EXISTING:
            assert config.dns_zone.zone_id is not None
            return {"shared": config.dns_zone.zone_id}
        zones: list[tuple[_Zone, pulumi.Input[str]]] = []
        if mode is DnsZoneMode.CREATE:
            zones.append(
                (
                    _Zone("shared", "", config.links(), config.dns_zone.subscription_id),
                    config.dns_zone.resource_group or resource_group_name,
                )
            )
        else:
            # One zone per VNet resource group, in the VNet's subscription, linked to its VNets.
            by_group: dict[str, _Zone] = {}
            registration = config.dns_zone.registration_enabled
            for key in sorted(config.endpoints):
                subnet = config.endpoints[key].subnet
                zone = by_group.setdefault(
                    subnet.resource_group.lower(),
                    _Zone(subnet.resource_group.lower(), subnet.resource_group, {}, subnet.subscription),
                )
                zone.vnets.setdefault(
                    subnet.names[0].lower(),
                    VnetLinkConfig(vnet_id=subnet.parent, registration_enabled=registration),
                )
            zones.extend((zone, zone.resource_group) for zone in by_group.values())

        ids: dict[str, pulumi.Input[str]] = {}
        for zone, group in zones:
            prefix = f"{name}-zone" if zone.key == "shared" else f"{name}-zone-{zone.key}"
            # The zone's links are its children: in the zone's subscription, whatever the VNet's.
            provider = self._placement.provider(
                zone.subscription, f"DNS zone {prefix.removeprefix(f'{name}-')}"
            )
            resource = privatedns.PrivateZone(
                prefix,
                private_zone_name=PRIVATE_DNS_ZONE,
                resource_group_name=group,
                location="global",
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=provider,
                    protect=protect,
                    aliases=self._former(prefix.removeprefix(f"{name}-")),
                ),
            )
            for link_key, link in sorted(zone.vnets.items()):
                privatedns.VirtualNetworkLink(
                    f"{name}-zone-{_zone_link_name(zone.key, link_key)}",
                    private_zone_name=resource.name,
                    resource_group_name=group,
                    virtual_network_link_name=f"link-{link_key}",
                    location="global",
                    # Endpoint records are kept by the zone groups; VMs register only where asked to.
                    registration_enabled=link.registration_enabled,
                    virtual_network=privatedns.SubResourceArgs(id=link.vnet_id),
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        provider=provider,
                        aliases=self._former(f"zone-{_zone_link_name(zone.key, link_key)}"),
                    ),
                )
            ids[zone.key] = resource.id
        return ids


def _connections(
    endpoint: PrivateEndpointConfig, name: pulumi.Input[str], registry_id: pulumi.Input[str]
) -> dict[str, Any]:
    """The endpoint's connection to the registry: auto-approved, or waiting for the owner's approval."""
    connection = network.PrivateLinkServiceConnectionArgs(
        name=name,
        private_link_service_id=registry_id,
        group_ids=[GROUP_ID],
        request_message=endpoint.request_message,
    )
    if endpoint.manual_approval:
        return {"manual_private_link_service_connections": [connection]}
    return {"private_link_service_connections": [connection]}


def _stand_in_subnet(key: str) -> str:
    # Passes validation and gives each endpoint a subnet of its own (for the capacity check).
    return (
        f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/known-at-deployment"
        f"/providers/Microsoft.Network/virtualNetworks/vnet-{key}/subnets/subnet"
    )


def _known_subnet(path: str, value: str) -> str:
    """A subnet id given as an Output, checked when it is known (at deployment)."""
    try:
        parse_arm_id(value, SUBNET)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    return value


FORMER_TYPE = "acr-cache:private_access:PrivateAccess"
"""The type this component had in the stack program, and inside the public `PrivateAccess`,
before the two became one: the aliases that keep existing endpoints and zones name it."""
