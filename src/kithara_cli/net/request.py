"""GET on the shared client, sent straight to its transport when the client has nothing to add.

``httpx.AsyncClient.stream`` puts every request through URL, header and cookie merging, an
auth flow, a redirect loop and a response wrapper. Over a 301-segment fetch that was about
15 % of the downloader thread's CPU (~45 ms). A plain GET needs none of it when the client
holds no cookies and the transport is ours (no proxy). Then the request is built from the
client's own headers and timeouts and handed to the transport.

A URL that httpx would send as written (ASCII, nothing to percent-encode or normalise, no
user info) goes one step further, straight to httpcore's pools: httpx's request and
response models, its URL parser and its per-chunk exception wrapper cost ~0.17 ms a request,
another ~50 ms over the same fetch. The response is a ``DirectResponse``, which has what the
downloader reads (status, headers, URL, raw body), and httpcore's exceptions are raised as
the httpx ones that httpx would have raised. Any other URL takes the httpx request.

httpx itself is imported only when a request needs it: the client is built on first use
(``net.httpx_client``), and httpcore's exceptions are turned into httpx's as they are raised.
So a command whose GETs are all plain (``kithara play`` of an http URL) never loads httpx,
25-40 ms of start-up that is on the way to first audio. ``CoreHeaders`` stands in for
``httpx.Headers`` on those responses, with its reading rules.

What the shortcut leaves to the client, so behaviour stays httpx's:
- a redirect: the client follows it from the Location (Range and the other request headers
  kept, further hops and the redirect cap its own), with any cookie the redirect set. Where
  httpx would strip Authorization (another origin) and the client sends one, the request is
  made again from the start through the client instead, so httpx's own rules apply.
- cookies a response sets are stored on the client, and once it holds any (or was given
  some: ``--cookies``), every later request goes through the client, which sends them.
- a URL with ``user:password@``: the client sends it as basic auth (httpx's auth step, which
  the transport alone skips), and drops it on a redirect to another origin.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from kithara_cli.net.core import httpcore
from kithara_cli.net.errors import redirect_refused
from kithara_cli.net.settings import NetConfig, sent_headers, timeouts

if TYPE_CHECKING:
    import httpx

    from kithara_cli.net.httpx_client import DirectTransport
    from kithara_cli.net.transport import DirectPools

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# A URL httpx sends unchanged: an http(s) origin without user info, then a path and query of
# characters that need no percent-encoding (escapes already complete), and no fragment.
_CHARS = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})"
_AS_WRITTEN = re.compile(
    r"(https?://(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?)"
    rf"((?:/{_CHARS}*)?(?:\?(?:{_CHARS}|\?)*)?)\Z"
)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def split_as_written(url: str) -> tuple[str, str] | None:
    """``(origin, target)`` when httpx would send ``url`` exactly as written, else None.

    Dot segments are left to httpx, which removes them, and so are ports past 65535, which
    it refuses.
    """
    match = _AS_WRITTEN.match(url)
    if match is None:
        return None
    origin, target = match.group(1), match.group(2)
    if "/." in target:
        return None
    if origin_parts(origin)[2] == -1:
        return None
    if not target.startswith("/"):
        target = "/" + target
    return origin, target


@functools.lru_cache(maxsize=64)
def origin_parts(origin: str) -> tuple[bytes, bytes, int | None, bytes]:
    """Scheme, host, port and Host header of an origin ``split_as_written`` matched, as
    ``httpx.URL`` gives them: a name lower-cased, a default port dropped (port -1: invalid)."""
    scheme, rest = origin.split("://", 1)
    port_text = ""
    if rest.startswith("["):  # an IPv6 address: httpx keeps it as written
        host, _, after = rest[1:].partition("]")
        netloc_host = f"[{host}]"
        port_text = after[1:]
    else:
        host, _, port_text = rest.partition(":")
        host = netloc_host = host.lower()
    port = int(port_text) if port_text else None
    if port is not None and port > 65535:
        port = -1
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    netloc = netloc_host if port is None else f"{netloc_host}:{port}"
    return scheme.encode(), host.encode(), port, netloc.encode()


@functools.cache
def _as_httpx() -> tuple[tuple[type[Exception], type[Exception]], ...]:
    """httpcore's exceptions as httpx raises them (httpx's transport maps them the same way)."""
    import httpx

    return (
        (httpcore.ConnectTimeout, httpx.ConnectTimeout),
        (httpcore.ReadTimeout, httpx.ReadTimeout),
        (httpcore.WriteTimeout, httpx.WriteTimeout),
        (httpcore.PoolTimeout, httpx.PoolTimeout),
        (httpcore.TimeoutException, httpx.TimeoutException),
        (httpcore.ConnectError, httpx.ConnectError),
        (httpcore.ReadError, httpx.ReadError),
        (httpcore.WriteError, httpx.WriteError),
        (httpcore.NetworkError, httpx.NetworkError),
        (httpcore.ProxyError, httpx.ProxyError),
        (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
        (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
        (httpcore.LocalProtocolError, httpx.LocalProtocolError),
        (httpcore.ProtocolError, httpx.ProtocolError),
    )


@contextlib.contextmanager
def _httpx_errors() -> Iterator[None]:
    try:
        yield
    except _CORE_ERRORS as exc:
        for core, mapped in _as_httpx():
            if isinstance(exc, core):
                raise mapped(str(exc)) from exc
        raise


# The roots of httpcore's exception tree: only these import httpx to be re-raised.
_CORE_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpcore.ProxyError,
)


def _encoding(raw: list[tuple[bytes, bytes]]) -> str:
    """The one encoding ``httpx.Headers`` reads a header set in: ASCII if every name and
    value is, else UTF-8 if every one is, else Latin-1."""
    for encoding in ("ascii", "utf-8"):
        try:
            for name, value in raw:
                name.decode(encoding)
                value.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "iso-8859-1"


class CoreHeaders:
    """httpcore's raw response headers, read as ``httpx.Headers`` reads them: names in any
    case, a repeated header's values joined with ", ". Written by hand because
    ``httpx.Headers`` would bring all of httpx's import onto the direct path."""

    __slots__ = ("_values", "raw")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.raw = raw
        encoding = _encoding(raw)
        values: dict[str, str] = {}
        for name, value in raw:
            key = name.lower().decode(encoding)
            text = value.decode(encoding)
            values[key] = f"{values[key]}, {text}" if key in values else text
        self._values = values

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._values.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def items(self) -> list[tuple[str, str]]:
        """(lower-case name, value) pairs, repeated headers joined as in ``get``."""
        return list(self._values.items())


class DirectResponse:
    """A response read straight off httpcore: what the downloader uses of ``httpx.Response``."""

    __slots__ = ("_stream", "headers", "reason_phrase", "status_code", "url")

    def __init__(
        self, status_code: int, headers: CoreHeaders, url: str, stream: Any, reason: bytes = b""
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.url = url
        self._stream = stream
        self.reason_phrase = reason.decode("ascii", errors="ignore")  # (httpx's decoding)

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        with _httpx_errors():
            await self._stream.aclose()


class ResponseOpener:
    """Opens streamed GET responses: straight to ``pools`` when it may, else on the client.

    ``pools`` None (a proxy) means always the client, which is then given. Otherwise the
    client is built on first need, over the same pools.
    """

    def __init__(
        self,
        config: NetConfig,
        pools: DirectPools | None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if pools is None and client is None:
            raise ValueError("an opener needs direct pools or a client")
        self._config = config
        self._pools = pools
        self._client = client
        self._base = sent_headers(config)
        self._extensions = {"timeout": timeouts(config)}
        self._sends_authorization = any(n.lower() == "authorization" for n in config.headers)

    @property
    def client(self) -> httpx.AsyncClient:
        """The httpx client (built now if no request has needed it yet)."""
        if self._client is None:
            from kithara_cli.net.client import make_client

            self._client = make_client(self._config, self._pools)
        return self._client

    @property
    def direct(self) -> bool:
        """Whether the next request may skip the client's layers."""
        return self._pools is not None and not self._has_cookies()

    def _has_cookies(self) -> bool:
        """Cookies to send (given, or set by a response): httpx's jar decides where they go."""
        if self._config.cookies is not None and len(self._config.cookies) > 0:
            return True
        return self._client is not None and bool(self._client.cookies)

    async def aclose(self) -> None:
        """Close the client (and with it the pools it shares), or the pools alone."""
        if self._client is not None:
            await self._client.aclose()
        elif self._pools is not None:
            await self._pools.aclose()

    def _headers(self, extra: Mapping[str, str]) -> list[tuple[str, str]]:
        if not extra:
            return self._base
        replaced = {name.lower() for name in extra}
        kept = [(n, v) for n, v in self._base if n.lower() not in replaced]
        return kept + list(extra.items())

    @contextlib.asynccontextmanager
    async def stream(
        self, url: str, headers: Mapping[str, str]
    ) -> AsyncIterator[httpx.Response | DirectResponse]:
        pools = self._pools
        if pools is None or self._has_cookies() or has_userinfo(url):
            async with self.client.stream("GET", url, headers=headers) as via_client:
                yield via_client
            return
        response: httpx.Response | DirectResponse
        seen: httpx.Response | None  # what the cookie and redirect rules read, if anything
        split = split_as_written(url)
        if split is not None:
            response, seen = await self._open_core(pools, url, split, headers)
        else:
            response = seen = await self._open_httpx(url, headers)
        try:
            target = None if seen is None else self._after_headers(seen)
            if target is not None:
                await response.aclose()
                async with self.client.stream("GET", target, headers=headers) as followed:
                    yield followed
                return
            yield response
        finally:
            await response.aclose()

    async def _open_httpx(self, url: str, headers: Mapping[str, str]) -> httpx.Response:
        import httpx

        transport: DirectTransport = self.client._transport  # type: ignore[assignment]
        request = httpx.Request(
            "GET", url, headers=self._headers(headers), extensions=self._extensions
        )
        response = await transport.handle_async_request(request)
        response.request = request
        return response

    async def _open_core(
        self,
        pools: DirectPools,
        url: str,
        split: tuple[str, str],
        headers: Mapping[str, str],
    ) -> tuple[DirectResponse, httpx.Response | None]:
        """The response, and an httpx view of it when it sets a cookie or names a Location."""
        scheme, host, port, host_header = origin_parts(split[0])
        raw = [(b"Host", host_header)]
        raw += [(n.encode("latin-1"), v.encode("latin-1")) for n, v in self._headers(headers)]
        request = httpcore.Request(
            b"GET",
            httpcore.URL(scheme=scheme, host=host, port=port, target=split[1].encode("ascii")),
            headers=raw,
            extensions=self._extensions,
        )
        with _httpx_errors():
            core = await pools.send(request)
        reason = core.extensions.get("reason_phrase", b"")
        response = DirectResponse(core.status, CoreHeaders(core.headers), url, core.stream, reason)
        if "set-cookie" not in response.headers and "location" not in response.headers:
            return response, None
        # Rare: httpx's models carry the cookie jar and the redirect rules.
        import httpx

        seen = httpx.Response(core.status, headers=core.headers, request=httpx.Request("GET", url))
        return response, seen

    def _after_headers(self, response: httpx.Response) -> str | None:
        """Store the cookies ``response`` sets; where to go next if it redirects."""
        if "set-cookie" in response.headers:
            self.client.cookies.extract_cookies(response)
        if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
            return self._redirect_target(response.request, response)
        return None

    def _redirect_target(self, request: httpx.Request, response: httpx.Response) -> str:
        """Where the client goes next: the Location, or the start where Authorization must go."""
        import httpx

        try:
            location = request.url.join(response.headers["location"])
        except httpx.InvalidURL as exc:
            raise httpx.RemoteProtocolError(
                f"Invalid URL in location header: {exc}.", request=request
            ) from None
        if location.scheme not in ("http", "https"):
            raise redirect_refused(response.headers["location"], str(request.url))
        if self._sends_authorization and not _same_origin(location, request.url):
            return str(request.url)
        return str(location)


def has_userinfo(url: str) -> bool:
    """``user:password@`` in the URL's authority: httpx's auth step turns it into basic auth
    (and its redirect rules keep it to that origin), so such a request goes through the client."""
    authority = url.partition("://")[2]
    for end in "/?#":
        authority = authority.partition(end)[0]
    return "@" in authority


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return a.scheme == b.scheme and a.host == b.host and _port(a) == _port(b)


def _port(url: httpx.URL) -> int | None:
    return url.port or {"http": 80, "https": 443}.get(url.scheme)
