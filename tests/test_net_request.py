"""net.request.ResponseOpener: the direct GET keeps httpx's headers, cookies and redirect rules."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpcore
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kithara_cli.net import NetConfig, make_opener
from kithara_cli.net.request import (
    CoreHeaders,
    _as_httpx,
    _httpx_errors,
    origin_parts,
    split_as_written,
)
from kithara_cli.net.settings import client_headers, sent_headers, timeouts


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
    host=st.sampled_from(
        ["example.com", "EXAMPLE.com", "127.0.0.1", "[::1]", "[::FFFF:1.2.3.4]", "h", "u@h"]
    ),
    port=st.sampled_from(["", ":80", ":8080", ":443", ":0443", ":00", ":65535", ":65536"]),
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
    # And what the direct GET sends for the origin is what httpx's URL gives.
    assert origin_parts(origin) == (parsed.raw_scheme, parsed.raw_host, parsed.port, parsed.netloc)


def test_split_as_written_takes_ordinary_segment_urls() -> None:
    assert split_as_written("http://127.0.0.1:8080/a/b_00001.ts?sig=x%2Fy") == (
        "http://127.0.0.1:8080",
        "/a/b_00001.ts?sig=x%2Fy",
    )
    assert split_as_written("https://cdn.example.com") == ("https://cdn.example.com", "/")
    for other in ("http://u:p@h/x", "http://h/a b", "http://h/x#frag", "http://h/ü", "ftp://h/x"):
        assert split_as_written(other) is None


@pytest.mark.parametrize("core, mapped", _as_httpx())
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
    names = {core.__name__ for core, _ in _as_httpx()}
    errors = {
        name
        for name, value in vars(httpcore).items()
        if isinstance(value, type) and issubclass(value, Exception) and hasattr(httpx, name)
    }
    assert errors <= names


_NAMES = st.sampled_from(
    ["Accept", "accept", "User-Agent", "user-agent", "Connection", "X-Token", "Accept-Encoding"]
)


@given(headers=st.dictionaries(_NAMES, st.sampled_from(["a", "b/c", "*/*"]), max_size=5))
def test_the_direct_get_sends_the_clients_headers_in_its_order(headers: dict[str, str]) -> None:
    """``sent_headers`` is written by hand (httpx's client is not imported on the direct path):
    it must equal what ``httpx.AsyncClient`` holds for the same settings, order included."""
    config = NetConfig(headers=headers, user_agent="kithara-test")
    client = httpx.AsyncClient(headers=client_headers(config))
    expected = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in client.headers.raw]
    assert sent_headers(config) == expected
    timeout = httpx.Timeout(connect=10.0, read=20.0, write=20.0, pool=None)
    assert timeouts(config) == timeout.as_dict()


_RAW_NAMES = st.sampled_from([b"Content-Range", b"content-range", b"ETag", b"Set-Cookie", b"X"])
_RAW_VALUES = st.sampled_from([b"bytes 0-1/2", b'W/"e"', b"a=1", b"", b"caf\xc3\xa9", b"\xe9t\xe9"])


@given(raw=st.lists(st.tuples(_RAW_NAMES, _RAW_VALUES), max_size=6))
def test_core_headers_read_like_httpx_headers(raw: list[tuple[bytes, bytes]]) -> None:
    ours, theirs = CoreHeaders(raw), httpx.Headers(raw)
    for name in ("content-range", "Content-Range", "ETAG", "set-cookie", "x", "missing"):
        assert ours.get(name) == theirs.get(name)
        assert (name in ours) == (name in theirs)
        if name in theirs:
            assert ours[name] == theirs[name]


def test_plain_gets_never_import_httpx(origins: tuple[str, str]) -> None:
    """The point of the direct path: httpx (25-40 ms of imports) stays out of a command whose
    GETs are plain; a redirect then brings it in, and works."""
    code = f"""
import asyncio, sys
from kithara_cli.net import NetConfig, make_opener

async def main():
    opener = make_opener(NetConfig())
    for path in ("/echo", "/echo?x=1"):
        async with opener.stream("{origins[0]}" + path, {{"Range": "bytes=0-"}}) as r:
            assert r.status_code == 200, r.status_code
            async for _ in r.aiter_raw():
                pass
    print("after plain:", "httpx" in sys.modules)
    async with opener.stream("{origins[0]}/hop?to={origins[1]}/echo", {{}}) as r:
        assert r.status_code == 200 and str(r.url) == "{origins[1]}/echo"
    print("after redirect:", "httpx" in sys.modules)
    await opener.aclose()

asyncio.run(main())
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert out.stdout.split("\n")[:2] == ["after plain: False", "after redirect: True"]


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"http_proxy": "http://p:3128"},
        {"HTTPS_PROXY": "http://p:3128"},
        {"ALL_PROXY": "socks5://p"},
        {"http_proxy": ""},
        {"no_proxy": "*", "ftp_proxy": "http://p"},
    ],
)
def test_proxy_detection_reads_the_environment_as_urllib_does(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import urllib.request

    from kithara_cli.net.settings import _env_has_proxy

    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    proxies = urllib.request.getproxies()
    assert _env_has_proxy() == any(k in proxies for k in ("http", "https", "all"))
