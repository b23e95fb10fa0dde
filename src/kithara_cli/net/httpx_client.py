"""The shared httpx client, built when a request first needs what only httpx has.

A proxy, a redirect, a cookie, a URL httpx must normalise before sending: those go through
httpx. Plain GETs do not (``net.request``), so httpx's import (25-40 ms, with ``http.cookiejar``
and ``urllib.request``) stays off start-up until one of those happens. Without a proxy the
client's transport is ``DirectTransport`` over the same pools the direct GETs use.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from kithara_cli.net.core import httpcore, socks_pool
from kithara_cli.net.errors import proxy_auth_refused, proxy_failure, proxy_label
from kithara_cli.net.no_proxy import Network, bypasses, environment_proxies
from kithara_cli.net.settings import NetConfig, client_headers, proxy_url, timeouts
from kithara_cli.net.transport import AsyncioBackend, DirectPools, tls_context


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
        client = _ProxiedClient(
            http2=config.http2,
            timeout=timeout,
            limits=limits,
            headers=headers,
            follow_redirects=True,
            max_redirects=config.max_redirects,
            proxy=proxy_url(config),
            # Our context, not ``verify=True``: httpx reads SSL_CERT_FILE/DIR only when it
            # trusts the environment, which a --proxy turns off (for the proxy variables).
            verify=tls_context(config.verify_tls, config.ca_file),
            trust_env=config.proxy is None,
        )
    if isinstance(getattr(client, "_cookies", None), httpx.Cookies):
        # the public setter would copy it into a plain Cookies
        client._cookies = _SetCookieOnly(config.cookies)
    return client


class ProxyTransport(httpx.AsyncHTTPTransport):
    """httpx's transport through a proxy, whose own failures name it: a proxy that is down,
    unknown or wants credentials is not the server's fault, and the error must say so.

    A proxy's connections (http, https, socks5, socks5h) run on ``transport.AsyncioBackend``,
    as direct ones do: so a SHOUTcast ``ICY 200 OK`` is read through a proxy too (h11 refused
    it on httpx's anyio backend), and no anyio is loaded.
    """

    def __init__(
        self,
        proxy: httpx.Proxy,
        *,
        ssl_context: ssl.SSLContext,
        http1: bool,
        http2: bool,
        limits: httpx.Limits,
    ) -> None:
        url = proxy.url
        self.proxy = proxy_label(url.scheme, url.host, url.port)
        # httpx.AsyncHTTPTransport.__init__ is not called for these: it would build the same
        # pool on anyio; its request path only needs ``_pool``.
        pool_args: dict[str, Any] = {
            "proxy_url": httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            "proxy_auth": proxy.raw_auth,
            "ssl_context": ssl_context,
            "max_connections": limits.max_connections,
            "max_keepalive_connections": limits.max_keepalive_connections,
            "keepalive_expiry": limits.keepalive_expiry,
            "http1": http1,
            "http2": http2,
            "network_backend": AsyncioBackend(),
        }
        if url.scheme in ("socks5", "socks5h"):
            # socks5h's name goes to the proxy to resolve, as httpx's own transport sends it
            self._pool = socks_pool()(**pool_args)  # type: ignore[assignment]
            return
        if url.scheme not in ("http", "https"):
            super().__init__(proxy=proxy, verify=ssl_context, http1=http1, http2=http2)
            return
        pool = httpcore.AsyncHTTPProxy(
            proxy_headers=proxy.headers.raw, proxy_ssl_context=proxy.ssl_context, **pool_args
        )
        self._pool = _BracketedForwards(pool)  # type: ignore[assignment]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.TransportError as exc:
            failure = proxy_failure(exc, self.proxy, str(request.url))
            if failure is None:
                raise
            raise failure from exc
        if response.status_code == 407:  # an absolute-form GET's answer (CONNECT's is raised)
            await response.aclose()
            raise proxy_auth_refused(self.proxy, str(request.url))
        return response


class _BracketedForwards:
    """httpcore's proxy pool, given an http URL's IPv6 host in brackets.

    httpcore writes the absolute-form target of a forwarded request from the bare host
    (``GET http://::1:8000/x``), which a proxy refuses or misreads; RFC 3986 wants ``[::1]``.
    The host is only the proxy's to read there (the connection is to the proxy), so the
    bracketed form is what goes out. An https URL's host is left bare: CONNECT writes it
    from the same field, and so does the TLS check of the server's name, which needs it bare.
    """

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self._pool = pool

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        url = request.url
        if url.scheme == b"http" and b":" in url.host:
            host = b"[" + url.host + b"]"
            request.url = httpcore.URL(
                scheme=url.scheme, host=host, port=url.port, target=url.target
            )
        return await self._pool.handle_async_request(request)

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def __aenter__(self) -> _BracketedForwards:
        await self._pool.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._pool.__aexit__(*exc)


class _ProxiedClient(httpx.AsyncClient):
    """An httpx client whose proxies (``--proxy``, or the environment's by httpx's own rules,
    NO_PROXY included, its IP addresses and networks by ``no_proxy``'s) go through
    ``ProxyTransport``."""

    _direct: tuple[Network, ...] = ()  # NO_PROXY's networks: hosts in them go straight there

    def _get_proxy_map(
        self, proxy: httpx.URL | str | httpx.Proxy | None, allow_env_proxies: bool
    ) -> dict[str, httpx.Proxy | None]:
        if proxy is not None or not allow_env_proxies:
            return super()._get_proxy_map(proxy, allow_env_proxies)
        found = environment_proxies()
        self._direct = found.direct
        return {key: None if url is None else httpx.Proxy(url) for key, url in found.mounts.items()}

    def _transport_for_url(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        if bypasses(url.host, self._direct):
            return self._transport
        return super()._transport_for_url(url)

    def _init_proxy_transport(
        self,
        proxy: httpx.Proxy,
        verify: ssl.SSLContext | str | bool = True,
        cert: Any = None,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = False,
        limits: httpx.Limits = httpx.Limits(),  # (always given by httpx)
    ) -> httpx.AsyncBaseTransport:
        if not isinstance(verify, ssl.SSLContext):  # (build_client always gives its own)
            verify = httpx.create_ssl_context(verify=verify, trust_env=trust_env)
        return ProxyTransport(proxy, ssl_context=verify, http1=http1, http2=http2, limits=limits)


class _SetCookieOnly(httpx.Cookies):
    """Cookies as httpx keeps them, but a response without Set-Cookie is not parsed for them.

    httpx builds a urllib request and response shim for every response to look for cookies:
    ~0.15 ms a request, 10% of the downloader's CPU over hundreds of small segments.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)
