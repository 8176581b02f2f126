"""Public IPv4 addresses and ranges, as the firewalls of the registry and the vault take them."""

from __future__ import annotations

import ipaddress

from acr_cache.redaction import shown

# Ranges that never reach a public endpoint: RFC 1918, shared address space (RFC 6598),
# loopback, link-local, multicast, "this network" and reserved.
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "224.0.0.0/4",
        "0.0.0.0/8",
        "240.0.0.0/4",
    )
)


def normalise_ip_rule(rule: str) -> str:
    """An IPv4 address or CIDR range in canonical form (host bits cleared, /32 as an address)."""
    try:
        network = ipaddress.ip_network(rule.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"'{shown(rule)}' is not an IPv4 address or CIDR range (e.g. 203.0.113.0/24)"
        ) from None
    if network.version != 4:
        raise ValueError(f"'{shown(rule)}' is IPv6; ACR IP rules accept IPv4 addresses and ranges only")
    if network.prefixlen == 0:
        raise ValueError(
            f"'{shown(rule)}' allows every address: use `publicAccess: Open` instead of an IP rule"
        )
    if any(network.subnet_of(block) for block in _NOT_PUBLIC):  # type: ignore[arg-type]
        raise ValueError(
            f"'{shown(rule)}' is not a public address; IP rules filter the public endpoint, which private "
            "addresses never reach: use private endpoints for traffic from your networks"
        )
    return str(network.network_address) if network.prefixlen == 32 else str(network)
