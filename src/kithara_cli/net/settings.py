"""The shared client's settings: what it sends, its timeouts, whether a proxy is in play."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from http.cookiejar import CookieJar

from kithara_cli import __version__

DEFAULT_USER_AGENT = f"kithara/{__version__}"
# Connections per httpcore pool (see net.transport.ShardedPool); HTTP/2 multiplexes requests
# over one connection per pool, so there a pool serves more of them.
CONNECTIONS_PER_POOL = 2
CONNECTIONS_PER_POOL_HTTP2 = 8
# What httpx.AsyncClient sends before its own ``headers=`` are merged in (httpx's defaults).
_HTTPX_DEFAULT_HEADERS = (("Accept", "*/*"), ("Connection", "keep-alive"))


MAX_REDIRECTS = 10
# A response head (status line and headers) larger than this is refused: httpcore's own limit
# (its h11 MAX_INCOMPLETE_EVENT_SIZE), named here so that the error can say what it is.
MAX_HEADER_BYTES = 100 * 1024


@dataclass(frozen=True)
class NetConfig:
    """The shared client's settings (the command line's network options)."""

    headers: dict[str, str] = field(default_factory=dict)
    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 20.0  # inactivity: no byte for this long is a stall
    # A body averaging less than this (bytes/s) over any read_timeout window is stalled too:
    # a 1 byte/s trickle never trips the inactivity timeout. 0: no minimum.
    min_rate: float = 1024.0
    # Seconds one request attempt may take, headers and body (None: no overall limit; the
    # headers alone always get connect_timeout + read_timeout).
    request_deadline: float | None = None
    proxy: str | None = None  # None: the environment's; "": none
    http2: bool = False
    max_redirects: int = MAX_REDIRECTS
    max_connections: int = 32
    verify_tls: bool = True  # False only with --insecure, which warns on every run
    ca_file: str | None = None  # --ca-file: these CAs instead of the system's (verify_tls on)
    # --cookies/--cookie: sent by the jar's own rules; every request then goes through httpx
    cookies: CookieJar | None = field(default=None, repr=False)


def client_headers(config: NetConfig) -> dict[str, str]:
    """The headers the client is built with (on top of httpx's defaults)."""
    return {"User-Agent": config.user_agent, "Accept-Encoding": "identity", **config.headers}


def sent_headers(config: NetConfig) -> list[tuple[str, str]]:
    """Every header the client sends, in its order: httpx's defaults, then ours replacing
    any of the same name (``httpx.Headers.update``). Tests hold this to the client's own."""
    ours = list(client_headers(config).items())
    replaced = {name.lower() for name, _ in ours}
    return [(n, v) for n, v in _HTTPX_DEFAULT_HEADERS if n.lower() not in replaced] + ours


def headers_for(config: NetConfig, url: str) -> dict[str, str]:
    """The headers a request to ``url`` carries (names lower case): the client's, and the
    Cookie its jar sends there unless a ``--header`` gives one (``add_cookie_header`` leaves
    a request's own Cookie alone). What a cache compares a stored response's Vary with."""
    sent = {name.lower(): value for name, value in sent_headers(config)}
    if config.cookies is not None and "cookie" not in sent:
        from kithara_cli.net.cookies import cookie_header

        cookie = cookie_header(config.cookies, url)
        if cookie:
            sent["cookie"] = cookie
    return sent


def uses_proxy(config: NetConfig) -> bool:
    """``--proxy URL``, else the environment's; ``--proxy ""`` is none at all (yt-dlp's)."""
    if config.proxy is not None:
        return config.proxy != ""
    return _env_has_proxy()


def proxy_url(config: NetConfig) -> str | None:
    """The ``--proxy`` given, ``http://`` when it names no scheme (as curl, and as httpx reads
    the ``*_proxy`` variables); None for none given or ``""``."""
    if not config.proxy:
        return None
    return config.proxy if "://" in config.proxy else f"http://{config.proxy}"


def _env_has_proxy() -> bool:
    """``urllib.request.getproxies()`` names an http, https or all proxy.

    On Linux that is the environment alone, read here as urllib reads it; importing
    urllib.request for it would cost ~10 ms of every start-up.
    """
    if sys.platform != "linux":
        import urllib.request

        proxies = urllib.request.getproxies()
        return any(key in proxies for key in ("http", "https", "all"))
    wanted = ("http_proxy", "https_proxy", "all_proxy")
    return any(value and name.lower() in wanted for name, value in os.environ.items())


def timeouts(config: NetConfig) -> dict[str, float | None]:
    """httpcore's timeout extension, as ``httpx.Timeout(...).as_dict()`` gives it."""
    return {
        "connect": config.connect_timeout,
        "read": config.read_timeout,
        "write": config.read_timeout,
        "pool": None,  # waiting for a pooled connection is the downloader's queue, not an error
    }
