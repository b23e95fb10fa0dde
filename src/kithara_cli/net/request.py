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

What the shortcut leaves to the client, so behaviour stays httpx's:
- a redirect: the client follows it from the Location (Range and the other request headers
  kept, further hops and the redirect cap its own), with any cookie the redirect set. Where
  httpx would strip Authorization (another origin) and the client sends one, the request is
  made again from the start through the client instead, so httpx's own rules apply.
- cookies a response sets are stored on the client, and once it holds any, every later
  request goes through the client, which sends them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

if TYPE_CHECKING:
    from kithara_cli.net.transport import DirectTransport

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# A URL httpx sends unchanged: an http(s) origin without user info, then a path and query of
# characters that need no percent-encoding (escapes already complete), and no fragment.
_CHARS = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})"
_AS_WRITTEN = re.compile(
    r"(https?://(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?)"
    rf"((?:/{_CHARS}*)?(?:\?(?:{_CHARS}|\?)*)?)\Z"
)


def split_as_written(url: str) -> tuple[str, str] | None:
    """``(origin, target)`` when httpx would send ``url`` exactly as written, else None.

    Dot segments are left to httpx, which removes them.
    """
    match = _AS_WRITTEN.match(url)
    if match is None:
        return None
    origin, target = match.group(1), match.group(2)
    if "/." in target:
        return None
    if not target.startswith("/"):
        target = "/" + target
    return origin, target


# httpcore's exceptions as httpx raises them (httpx's transport maps them the same way).
_AS_HTTPX: tuple[tuple[type[Exception], type[Exception]], ...] = (
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
    except Exception as exc:
        for core, mapped in _AS_HTTPX:
            if isinstance(exc, core):
                raise mapped(str(exc)) from exc
        raise


class DirectResponse:
    """A response read straight off httpcore: what the downloader uses of ``httpx.Response``."""

    __slots__ = ("_stream", "headers", "status_code", "url")

    def __init__(self, status_code: int, headers: httpx.Headers, url: str, stream: Any) -> None:
        self.status_code = status_code
        self.headers = headers
        self.url = url
        self._stream = stream

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        with _httpx_errors():
            await self._stream.aclose()


class ResponseOpener:
    """Opens streamed GET responses on ``client``; ``transport`` None means always the client."""

    def __init__(self, client: httpx.AsyncClient, transport: DirectTransport | None):
        self.client = client
        self._transport = transport
        self._base = [
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in client.headers.raw
        ]
        self._extensions = {"timeout": client.timeout.as_dict()}
        self._sends_authorization = "authorization" in client.headers
        self._origins: dict[str, tuple[bytes, bytes, int | None, bytes]] = {}

    @property
    def direct(self) -> bool:
        """Whether the next request may skip the client's layers."""
        return self._transport is not None and not self.client.cookies

    def _headers(self, extra: Mapping[str, str]) -> list[tuple[str, str]]:
        if not extra:
            return self._base
        replaced = {name.lower() for name in extra}
        kept = [(n, v) for n, v in self._base if n.lower() not in replaced]
        return kept + list(extra.items())

    def _origin(self, origin: str) -> tuple[bytes, bytes, int | None, bytes]:
        """Scheme, host, port and Host header for ``origin``, as httpx's URL gives them."""
        known = self._origins.get(origin)
        if known is None:
            url = httpx.URL(origin)
            known = (url.raw_scheme, url.raw_host, url.port, url.netloc)
            self._origins[origin] = known
        return known

    @contextlib.asynccontextmanager
    async def stream(
        self, url: str, headers: Mapping[str, str]
    ) -> AsyncIterator[httpx.Response | DirectResponse]:
        transport = self._transport
        if transport is None or self.client.cookies:
            async with self.client.stream("GET", url, headers=headers) as response:
                yield response
            return
        response: httpx.Response | DirectResponse
        seen: httpx.Response | None  # what the cookie and redirect rules read, if anything
        split = split_as_written(url)
        if split is not None:
            response, seen = await self._open_core(transport, url, split, headers)
        else:
            response = seen = await self._open_httpx(transport, url, headers)
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

    async def _open_httpx(
        self, transport: DirectTransport, url: str, headers: Mapping[str, str]
    ) -> httpx.Response:
        request = httpx.Request(
            "GET", url, headers=self._headers(headers), extensions=self._extensions
        )
        response = await transport.handle_async_request(request)
        response.request = request
        return response

    async def _open_core(
        self,
        transport: DirectTransport,
        url: str,
        split: tuple[str, str],
        headers: Mapping[str, str],
    ) -> tuple[DirectResponse, httpx.Response | None]:
        """The response, and an httpx view of it when it sets a cookie or names a Location."""
        scheme, host, port, host_header = self._origin(split[0])
        raw = [(b"Host", host_header)]
        raw += [(n.encode("latin-1"), v.encode("latin-1")) for n, v in self._headers(headers)]
        request = httpcore.Request(
            b"GET",
            httpcore.URL(scheme=scheme, host=host, port=port, target=split[1].encode("ascii")),
            headers=raw,
            extensions=self._extensions,
        )
        with _httpx_errors():
            core = await transport.send_core(request)
        response = DirectResponse(core.status, httpx.Headers(core.headers), url, core.stream)
        if "set-cookie" not in response.headers and "location" not in response.headers:
            return response, None
        # Rare: httpx's models carry the cookie jar and the redirect rules.
        seen = httpx.Response(
            core.status, headers=response.headers, request=httpx.Request("GET", url)
        )
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
        try:
            location = request.url.join(response.headers["location"])
        except httpx.InvalidURL as exc:
            raise httpx.RemoteProtocolError(
                f"Invalid URL in location header: {exc}.", request=request
            ) from None
        if self._sends_authorization and not _same_origin(location, request.url):
            return str(request.url)
        return str(location)


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return a.scheme == b.scheme and a.host == b.host and _port(a) == _port(b)


def _port(url: httpx.URL) -> int | None:
    return url.port or {"http": 80, "https": 443}.get(url.scheme)
