"""Which client a remote address counts as, for every per-client limit (sign-in throttling,
the chat's and the forms' rate limits): an IPv4 address itself; an IPv6 address by its /64,
which one machine usually holds whole (so rotating addresses inside it dodges nothing); an
IPv4-mapped IPv6 address as the IPv4 address; anything else as "unknown"."""

import ipaddress


def client_from_address(remote_address: str) -> str:
    """The client a request's remote address counts as."""
    try:
        ip = ipaddress.ip_address(remote_address.strip())
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)
