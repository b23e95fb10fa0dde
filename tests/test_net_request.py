"""net.request.ResponseOpener: the direct GET keeps httpx's headers, cookies and redirect rules."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpcore
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kithara_cli.net import NetConfig, make_opener
from kithara_cli.net.request import _AS_HTTPX, _httpx_errors, split_as_written


class _Echo(BaseHTTPRequestHandler):
    """/echo: the request's headers as JSON pairs; /login sets a cookie; /hop?to=URL redirects."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        extra: dict[str, str] = {}
        status = 200
        if self.path.startswith("/hop?to="):
            status, extra = 302, {"Location": self.path.split("=", 1)[1]}
        elif self.path == "/login":
            extra = {"Set-Cookie": "session=abc; Path=/"}
        seen = [[k.lower(), v] for k, v in self.headers.items()]
        body = json.dumps([*seen, ["@path", self.path]]).encode()
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve() -> tuple[ThreadingHTTPServer, str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


@pytest.fixture
def origins() -> Iterator[tuple[str, str]]:
    """Two servers: two origins (ports differ)."""
    a, url_a = _serve()
    b, url_b = _serve()
    yield url_a, url_b
    for httpd in (a, b):
        httpd.shutdown()
        httpd.server_close()


def _get(config: NetConfig, steps: list[tuple[str, dict[str, str]]]) -> list[dict]:
    """Run GETs in order on one opener; each result: direct-before, status, url, headers seen."""

    async def main() -> list[dict]:
        opener = make_opener(config)
        out = []
        try:
            for url, headers in steps:
                direct = opener.direct
                async with opener.stream(url, headers) as response:
                    body = b"".join([chunk async for chunk in response.aiter_raw()])
                out.append(
                    {
                        "direct": direct,
                        "status": response.status_code,
                        "url": str(response.url),
                        "seen": json.loads(body),
                    }
                )
        finally:
            await opener.client.aclose()
        return out

    return asyncio.run(main())


def _names(seen: list[list[str]]) -> list[str]:
    return [name for name, _ in seen if name != "@path"]


def test_direct_get_sends_the_clients_headers_once_and_the_request_overrides_them(
    origins: tuple[str, str],
) -> None:
    url = origins[0] + "/echo"
    config = NetConfig(headers={"X-Token": "t1"}, user_agent="kithara-test")
    plain, override = _get(config, [(url, {"Range": "bytes=0-"}), (url, {"x-token": "t2"})])
    assert plain["direct"] and override["direct"]
    for result in (plain, override):
        names = _names(result["seen"])
        assert len(names) == len(set(names)), names  # nothing sent twice
    assert dict(plain["seen"])["user-agent"] == "kithara-test"
    assert dict(plain["seen"])["range"] == "bytes=0-"
    assert dict(plain["seen"])["x-token"] == "t1"
    assert dict(override["seen"])["x-token"] == "t2"


def test_cookies_a_response_sets_are_sent_on_later_requests(origins: tuple[str, str]) -> None:
    base = origins[0]
    login, after = _get(NetConfig(), [(base + "/login", {}), (base + "/echo", {})])
    assert login["direct"]
    assert "cookie" not in _names(login["seen"])
    assert not after["direct"]  # the client holds a cookie now: it takes the request
    assert dict(after["seen"])["cookie"] == "session=abc"


@pytest.mark.parametrize("auth", [True, False])
def test_a_redirect_is_followed_with_httpx_rules(origins: tuple[str, str], auth: bool) -> None:
    """The request headers follow the redirect, but Authorization never crosses to another
    origin; the final URL is reported, and the next request is direct again."""
    first, other = origins
    target = other + "/echo"
    config = NetConfig(headers={"Authorization": "Bearer secret"} if auth else {})
    hop, again = _get(
        config, [(f"{first}/hop?to={target}", {"Range": "bytes=5-"}), (first + "/echo", {})]
    )
    assert hop["direct"] and hop["status"] == 200
    assert hop["url"] == target
    assert "authorization" not in _names(hop["seen"])
    assert dict(hop["seen"])["range"] == "bytes=5-"
    assert again["direct"]
    if auth:
        assert dict(again["seen"])["authorization"] == "Bearer secret"


def _through_client(url: str, headers: dict[str, str]) -> list[list[str]]:
    """What the server sees when the shared client itself (all of httpx) sends the GET."""

    async def main() -> list[list[str]]:
        opener = make_opener(NetConfig(headers={"X-Token": "t1"}))
        try:
            async with opener.client.stream("GET", url, headers=headers) as response:
                return json.loads(await response.aread())
        finally:
            await opener.client.aclose()

    return asyncio.run(main())


@pytest.mark.parametrize(
    "path",
    [
        "/echo",
        "/echo?a=1&b=%2F",
        "/dir/seg%20ment.ts?token=abc:def",
        "/with space/ü.ts?q=a b",  # httpx encodes these: not sent as written
        "/a/./b/../echo",  # httpx removes dot segments
    ],
)
def test_a_direct_get_sends_what_httpx_would(origins: tuple[str, str], path: str) -> None:
    """Same request line and headers as the client's own GET, on the httpcore path or not."""
    url = origins[0] + path
    headers = {"Range": "bytes=0-"}
    (direct,) = _get(NetConfig(headers={"X-Token": "t1"}), [(url, headers)])
    assert direct["direct"]
    assert sorted(direct["seen"]) == sorted(_through_client(url, headers))


_URL_CHARS = st.sampled_from([*"aZ09-._~!$&'()*+,;=:@/?#%[] \"\tü", "%2F", "%zz", "/.."])


@given(
    host=st.sampled_from(["example.com", "EXAMPLE.com", "127.0.0.1", "[::1]", "h", "u@h"]),
    port=st.sampled_from(["", ":80", ":8080", ":443"]),
    scheme=st.sampled_from(["http", "https", "HTTP"]),
    rest=st.lists(_URL_CHARS, max_size=12).map("".join),
)
def test_split_as_written_only_accepts_what_httpx_sends_unchanged(
    host: str, port: str, scheme: str, rest: str
) -> None:
    url = f"{scheme}://{host}{port}{rest}"
    split = split_as_written(url)
    if split is None:
        return
    origin, target = split
    parsed = httpx.URL(url)
    assert parsed.raw_path == target.encode("ascii")
    assert httpx.URL(origin).netloc == parsed.netloc
    assert httpx.URL(origin).raw_scheme == parsed.raw_scheme


def test_split_as_written_takes_ordinary_segment_urls() -> None:
    assert split_as_written("http://127.0.0.1:8080/a/b_00001.ts?sig=x%2Fy") == (
        "http://127.0.0.1:8080",
        "/a/b_00001.ts?sig=x%2Fy",
    )
    assert split_as_written("https://cdn.example.com") == ("https://cdn.example.com", "/")
    for other in ("http://u:p@h/x", "http://h/a b", "http://h/x#frag", "http://h/ü", "ftp://h/x"):
        assert split_as_written(other) is None


@pytest.mark.parametrize("core, mapped", _AS_HTTPX)
def test_httpcore_errors_are_raised_as_httpxs(
    core: type[Exception], mapped: type[Exception]
) -> None:
    assert mapped.__name__ == core.__name__
    with pytest.raises(mapped) as caught, _httpx_errors():
        raise core("boom")
    assert type(caught.value) is mapped
    assert isinstance(caught.value.__cause__, core)


def test_every_httpcore_error_has_an_httpx_twin() -> None:
    """An httpcore upgrade that adds an exception class fails here, not in the field."""
    names = {core.__name__ for core, _ in _AS_HTTPX}
    errors = {
        name
        for name, value in vars(httpcore).items()
        if isinstance(value, type) and issubclass(value, Exception) and hasattr(httpx, name)
    }
    assert errors <= names
