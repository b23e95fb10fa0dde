"""Which requests skip the environment's proxy: NO_PROXY as httpx reads it, plus IP entries.

httpx turns each NO_PROXY entry into a URL pattern (``all://*example.com``), and a pattern
cannot say "any address in 10.0.0.0/8": an entry in CIDR form matched its first address only,
so ``10.1.2.3`` still went through the proxy, and an IPv6 network or a bracketed address
(``::1/128``, ``fe80::/10``, ``[::1]``, ``[::1]:8080``) made a pattern httpx could not parse,
failing every run ("Invalid port"). So the entries that are IP addresses or networks, v4 or
v6, bracketed or not, in any spelling, are taken out here and matched by ``ipaddress``
against a URL whose host is an IP literal, as curl does (a name is never resolved to be
matched); ``[v6]:port`` becomes the pattern httpx reads for a host and port. Every other
entry (``*``, names, ``.domain``, ``localhost``, ``host:port``, ``scheme://host``) keeps
httpx's meaning: the mounts built here are the ones httpx builds (a test holds them to
httpx's own).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class EnvironmentProxies:
    """The environment's proxies as httpx mounts them, and the networks that skip them."""

    mounts: dict[str, str | None]  # URL pattern -> proxy URL; None: straight there
    direct: tuple[Network, ...] = ()  # NO_PROXY's addresses and networks


def ip_entry(entry: str) -> Network | None:
    """A NO_PROXY entry as the network it names (an address is a /32 or /128); None for a
    name. Host bits after the prefix are ignored (``10.1.2.3/8`` is ``10.0.0.0/8``)."""
    text = entry.strip()
    if text.startswith("["):  # [::1] or [fe80::]/10, as a URL writes an IPv6 host
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith("/")):
            return None  # [::1]:8080 is a host:port, httpx's to read
        text = host + rest
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def environment_proxies(proxy_info: Mapping[str, str] | None = None) -> EnvironmentProxies:
    """What httpx's ``get_environment_proxies`` gives for ``proxy_info`` (by default
    ``urllib.request.getproxies()``, which it reads), IP entries of ``no`` moved to
    ``direct``."""
    if proxy_info is None:
        import urllib.request  # loaded by httpx already: a proxied client is being built

        proxy_info = urllib.request.getproxies()
    mounts: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        if proxy_info.get(scheme):
            url = proxy_info[scheme]
            mounts[f"{scheme}://"] = url if "://" in url else f"http://{url}"
    direct: list[Network] = []
    for entry in (host.strip() for host in proxy_info.get("no", "").split(",")):
        if entry == "*":  # no proxy for anything
            return EnvironmentProxies({})
        if not entry:
            continue
        network = ip_entry(entry) if "://" not in entry else None
        if network is not None:
            direct.append(network)
        elif "://" in entry:
            mounts[entry] = None
        elif entry.startswith("[") and ip_entry(entry.partition("]")[0] + "]") is not None:
            mounts[f"all://{entry}"] = None  # [::1]:8080: that address on that port
        elif entry.lower() == "localhost":
            mounts[f"all://{entry}"] = None
        else:
            mounts[f"all://*{entry}"] = None
    return EnvironmentProxies(mounts, tuple(direct))


def bypasses(host: str, direct: tuple[Network, ...]) -> bool:
    """Does a URL's host (as httpx gives it: an IPv6 one unbracketed) fall in ``direct``?"""
    if not direct:
        return False
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name: NO_PROXY's names are httpx's patterns
    return any(address in network for network in direct)


__all__ = ["EnvironmentProxies", "Network", "bypasses", "environment_proxies", "ip_entry"]
