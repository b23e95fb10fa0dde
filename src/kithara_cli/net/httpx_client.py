"""The shared httpx client, built when a request first needs what only httpx has.

A proxy, a redirect, a cookie, a URL httpx must normalise before sending: those go through
httpx. Plain GETs do not (``net.request``), so httpx's import (25-40 ms, with ``http.cookiejar``
and ``urllib.request``) stays off start-up until one of those happens. Without a proxy the
client's transport is ``DirectTransport`` over the same pools the direct GETs use.
"""

from __future__ import annotations

import httpx

from kithara_cli.net.settings import NetConfig, client_headers, timeouts
from kithara_cli.net.transport import DirectPools


class DirectTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request conversion, exception mapping) over ``DirectPools``."""

    def __init__(self, pools: DirectPools) -> None:
        # httpx.AsyncHTTPTransport.__init__ is not called: it would build an SSL context and a
        # single anyio pool; its request path only needs ``_pool``.
        self._pool = pools.router  # type: ignore[assignment]


def build_client(config: NetConfig, pools: DirectPools | None) -> httpx.AsyncClient:
    """The client: over ``pools`` when given, else httpx's own transport (with the proxy)."""
    timeout = httpx.Timeout(**timeouts(config))
    headers = client_headers(config)
    if pools is not None:
        client = httpx.AsyncClient(
            transport=DirectTransport(pools),
            timeout=timeout,
            headers=headers,
            follow_redirects=True,
            max_redirects=config.max_redirects,
        )
    else:
        limits = httpx.Limits(
            max_connections=config.max_connections,
            max_keepalive_connections=config.max_connections,
        )
        client = httpx.AsyncClient(
            http2=config.http2,
            timeout=timeout,
            limits=limits,
            headers=headers,
            follow_redirects=True,
            max_redirects=config.max_redirects,
            proxy=config.proxy,
            verify=config.verify_tls,
            trust_env=config.proxy is None,
        )
    if isinstance(getattr(client, "_cookies", None), httpx.Cookies):
        # the public setter would copy it into a plain Cookies
        client._cookies = _SetCookieOnly(config.cookies)
    return client


class _SetCookieOnly(httpx.Cookies):
    """Cookies as httpx keeps them, but a response without Set-Cookie is not parsed for them.

    httpx builds a urllib request and response shim for every response to look for cookies:
    ~0.15 ms a request, 10% of the downloader's CPU over hundreds of small segments.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)
