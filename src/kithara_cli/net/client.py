"""Building the shared client: httpcore pools for direct GETs now, httpx when needed.

httpcore itself (``net.request``, ``net.transport``) is imported when an opener is made, not
when this module is: the downloader makes one when its first request needs the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kithara_cli.net.settings import (
    CONNECTIONS_PER_POOL,
    CONNECTIONS_PER_POOL_HTTP2,
    DEFAULT_USER_AGENT,
    NetConfig,
    uses_proxy,
)

if TYPE_CHECKING:
    import httpx

    from kithara_cli.net.request import ResponseOpener
    from kithara_cli.net.transport import DirectPools

__all__ = ["DEFAULT_USER_AGENT", "NetConfig", "make_client", "make_opener"]


def make_opener(config: NetConfig) -> ResponseOpener:
    """The shared client for streamed GETs (see ``net.request``). Through a proxy it is httpx
    from the start (a malformed proxy fails here); else direct pools, httpx on demand."""
    from kithara_cli.net.request import ResponseOpener

    if uses_proxy(config):
        return ResponseOpener(config, None, make_client(config))
    return ResponseOpener(config, make_pools(config))


def make_pools(config: NetConfig) -> DirectPools:
    from kithara_cli.net.transport import DirectPools

    per_pool = CONNECTIONS_PER_POOL_HTTP2 if config.http2 else CONNECTIONS_PER_POOL
    return DirectPools(
        http2=config.http2,
        max_connections=config.max_connections,
        per_pool=per_pool,
        verify_tls=config.verify_tls,
        ca_file=config.ca_file,
    )


def make_client(config: NetConfig, pools: DirectPools | None = None) -> httpx.AsyncClient:
    """An httpx client with these settings: over ``pools`` (new ones if None) unless a proxy
    is in play."""
    from kithara_cli.net import core  # noqa: F401  (httpcore as net runs it, before httpx loads it)
    from kithara_cli.net.httpx_client import build_client

    if uses_proxy(config):
        return build_client(config, None)
    return build_client(config, pools or make_pools(config))
