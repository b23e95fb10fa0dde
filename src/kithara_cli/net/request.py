"""GET on the shared client, sent straight to its transport when the client has nothing to add.

``httpx.AsyncClient.stream`` puts every request through URL, header and cookie merging, an
auth flow, a redirect loop and a response wrapper. Over a 301-segment fetch that was about
15 % of the downloader thread's CPU (~45 ms). A plain GET needs none of it when the client
holds no cookies and the transport is ours (no proxy). Then the request is built from the
client's own headers and timeouts and handed to the transport.

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
from collections.abc import AsyncIterator, Mapping

import httpx

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class ResponseOpener:
    """Opens streamed GET responses on ``client``; ``transport`` None means always the client."""

    def __init__(self, client: httpx.AsyncClient, transport: httpx.AsyncBaseTransport | None):
        self.client = client
        self._transport = transport
        self._base = [
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in client.headers.raw
        ]
        self._extensions = {"timeout": client.timeout.as_dict()}
        self._sends_authorization = "authorization" in client.headers

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

    @contextlib.asynccontextmanager
    async def stream(self, url: str, headers: Mapping[str, str]) -> AsyncIterator[httpx.Response]:
        transport = self._transport
        if transport is None or self.client.cookies:
            async with self.client.stream("GET", url, headers=headers) as response:
                yield response
            return
        request = httpx.Request(
            "GET", url, headers=self._headers(headers), extensions=self._extensions
        )
        response = await transport.handle_async_request(request)
        response.request = request
        try:
            if "set-cookie" in response.headers:
                self.client.cookies.extract_cookies(response)
            if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
                target = self._redirect_target(request, response)
                await response.aclose()
                async with self.client.stream("GET", target, headers=headers) as followed:
                    yield followed
                return
            yield response
        finally:
            await response.aclose()

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
