"""Building the shared httpx client from user settings."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from kithara_cli import __version__

DEFAULT_USER_AGENT = f"kithara/{__version__}"


@dataclass(frozen=True)
class NetConfig:
    headers: dict[str, str] = field(default_factory=dict)
    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 20.0  # inactivity: no byte for this long is a stall
    proxy: str | None = None
    http2: bool = False
    max_redirects: int = 10
    max_connections: int = 32


class _SchemeRouter(httpx.AsyncBaseTransport):
    """Plain HTTP now, TLS on first use.

    Loading the CA bundle costs 30-120 ms, and every command's start-up (time to first audio
    above all) would pay it even for http:// URLs; here only the first https request does.
    """

    def __init__(self, make: Callable[[bool], httpx.AsyncHTTPTransport]) -> None:
        self._make = make
        self._plain = make(False)  # never used for https, so no certificate is ever skipped
        self._tls: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            if self._tls is None:
                self._tls = self._make(True)
            return await self._tls.handle_async_request(request)
        return await self._plain.handle_async_request(request)

    async def aclose(self) -> None:
        await self._plain.aclose()
        if self._tls is not None:
            await self._tls.aclose()


def _env_has_proxy() -> bool:
    proxies = urllib.request.getproxies()
    return any(key in proxies for key in ("http", "https", "all"))


def make_client(config: NetConfig) -> httpx.AsyncClient:
    timeout = httpx.Timeout(
        connect=config.connect_timeout,
        read=config.read_timeout,
        write=config.read_timeout,
        pool=None,  # waiting for a pooled connection is the downloader's queue, not an error
    )
    limits = httpx.Limits(
        max_connections=config.max_connections,
        max_keepalive_connections=config.max_connections,
    )
    headers = {"User-Agent": config.user_agent, "Accept-Encoding": "identity", **config.headers}
    if config.proxy is None and not _env_has_proxy():

        def transport(verify: bool) -> httpx.AsyncHTTPTransport:
            return httpx.AsyncHTTPTransport(verify=verify, http2=config.http2, limits=limits)

        return httpx.AsyncClient(
            transport=_SchemeRouter(transport),
            timeout=timeout,
            headers=headers,
            follow_redirects=True,
            max_redirects=config.max_redirects,
        )
    return httpx.AsyncClient(
        http2=config.http2,
        timeout=timeout,
        limits=limits,
        headers=headers,
        follow_redirects=True,
        max_redirects=config.max_redirects,
        proxy=config.proxy,
        trust_env=config.proxy is None,
    )
