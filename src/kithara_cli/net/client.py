"""Building the shared httpx client from user settings."""

from __future__ import annotations

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
