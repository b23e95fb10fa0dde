"""Proxies as users have them: ``*_proxy`` variables, ``--proxy``, ``NO_PROXY``, credentials.

A real forwarding proxy on loopback (``net_helpers.ForwardProxy``: absolute-form GET and
CONNECT) in front of the MediaServer. Found by the session 12 network review:

- a proxy that is down or whose name does not resolve was reported as the *server's* failure
  (``connection refused: http://server/x``, ``cannot resolve host '127.0.0.1'``);
- a 407 was ``HTTP 407: URL`` (exit 4) for http and ``network error on URL: ProxyError``
  (exit 3) for https, where CONNECT carries it;
- with ``--proxy``, ``SSL_CERT_FILE`` was ignored (httpx reads it only when it trusts the
  environment, which it must not for proxies then), so no private CA could be used;
- ``kithara config show`` printed a proxy's password.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import net_helpers
import radio_fixtures
from conftest import assert_clean_failure, run_cli
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station
from net_helpers import Certs, ForwardProxy, TlsFront, dead_port

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3
BITRATE = radio_fixtures.BITRATE
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
PASSWORD = "pr0xy-s3cret"
# No proxy from the machine running the tests: each test names the one it wants.
NONE = {name: "" for name in PROXY_VARS} | {name.upper(): "" for name in PROXY_VARS}


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    p = ForwardProxy().start()
    yield p
    p.stop()


@pytest.fixture
def locked_proxy() -> Iterator[ForwardProxy]:
    p = ForwardProxy(credentials=f"bob:{PASSWORD}").start()
    yield p
    p.stop()


certs = net_helpers.certs
tls = net_helpers.tls


def _fetch(
    url: str, out: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli("fetch", url, "--out", str(out), "--retries", "2", *args, env=_env(env))


def _env(env: dict[str, str] | None) -> dict[str, str]:
    """``env`` over no proxy at all (an empty ``http_proxy`` would cancel ``HTTP_PROXY``, as
    urllib reads them, so a variable a test names is cleared in neither spelling)."""
    named = {name.lower() for name in env or {}}
    return {k: v for k, v in NONE.items() if k.lower() not in named} | (env or {})


def _lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "how", ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "--proxy"], ids=str
)
def test_fetch_goes_through_the_proxy_however_it_is_named(
    server: MediaServer, proxy: ForwardProxy, blob_root: Path, tmp_path: Path, how: str
) -> None:
    out = tmp_path / "small.bin"
    if how == "--proxy":
        proc = _fetch(server.url("small.bin"), out, "--proxy", proxy.url)
    else:
        proc = _fetch(server.url("small.bin"), out, env={how: proxy.url})
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (blob_root / "small.bin").read_bytes()
    assert [(s.method, s.target) for s in proxy.seen] == [("GET", server.url("small.bin"))]


def test_no_proxy_bypasses_it(server: MediaServer, proxy: ForwardProxy, tmp_path: Path) -> None:
    env = {"http_proxy": proxy.url, "NO_PROXY": "127.0.0.1"}
    proc = _fetch(server.url("small.bin"), tmp_path / "o", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proxy.seen == []
    assert len(server.stats.requests("small.bin")) == 1


def test_play_and_hls_go_through_the_proxy(proxy: ForwardProxy, tmp_path: Path) -> None:
    from kithara_cli.media import cached_ladder

    ladder = cached_ladder("cookie-ladder-6s", 6.0, bitrates=(64_000,), segment_seconds=2.0)
    env = _env({"http_proxy": proxy.url})
    with MediaServer(ladder.master.parent) as srv:
        fetched = run_cli("fetch", srv.url("master.m3u8"), "--out", str(tmp_path / "o.ts"), env=env)
        assert fetched.returncode == 0, fetched.stderr
        after_fetch = len(proxy.seen)
        played = run_cli(
            "play", srv.url("master.m3u8"), "--output", "null", "--no-ui", "--length", "0.5",
            env=env, timeout=60,
        )  # fmt: skip
        assert played.returncode == 0, played.stderr
        served = len(srv.stats.requests())
    assert after_fetch >= 3 and len(proxy.seen) > after_fetch
    assert len(proxy.seen) == served  # every request the server saw came through the proxy


@pytest.mark.parametrize("how", ["https_proxy", "--proxy"])
def test_https_tunnels_through_connect_with_the_environments_ca(
    tls: TlsFront, proxy: ForwardProxy, certs: Certs, blob_root: Path, tmp_path: Path, how: str
) -> None:
    out = tmp_path / "small.bin"
    env = {"SSL_CERT_FILE": str(certs.ca)}
    if how == "--proxy":
        proc = _fetch(tls.url("small.bin"), out, "--proxy", proxy.url, env=env)
    else:
        proc = _fetch(tls.url("small.bin"), out, env={**env, how: proxy.url})
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (blob_root / "small.bin").read_bytes()
    assert [s.method for s in proxy.seen] == ["CONNECT"]
    assert proxy.seen[0].target == f"127.0.0.1:{tls.port}"


@pytest.mark.parametrize("how", ["--proxy", "http_proxy"])
def test_a_dead_proxy_is_named_in_one_line(server: MediaServer, tmp_path: Path, how: str) -> None:
    port = dead_port()
    proxy_url = f"http://bob:{PASSWORD}@127.0.0.1:{port}"
    out = tmp_path / "o.bin"
    if how == "--proxy":
        proc = _fetch(server.url("small.bin"), out, "--proxy", proxy_url)
    else:
        proc = _fetch(server.url("small.bin"), out, env={how: proxy_url})
    assert_clean_failure(proc, out, 3)
    line = _lines(proc.stderr)[0]
    assert f"proxy 127.0.0.1:{port}" in line and "refused" in line, line
    assert PASSWORD not in proc.stderr
    assert server.stats.requests() == []


def test_a_proxy_name_that_does_not_resolve_is_named(server: MediaServer, tmp_path: Path) -> None:
    out = tmp_path / "o.bin"
    proc = _fetch(server.url("small.bin"), out, "--proxy", "http://proxy.invalid:3128")
    assert_clean_failure(proc, out, 3)
    line = _lines(proc.stderr)[0]
    assert "proxy.invalid" in line and "proxy" in line.replace("proxy.invalid", ""), line


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_407_is_one_line_with_the_status_exit_code(
    server: MediaServer,
    tls: TlsFront,
    locked_proxy: ForwardProxy,
    certs: Certs,
    tmp_path: Path,
    scheme: str,
) -> None:
    url = server.url("small.bin") if scheme == "http" else tls.url("small.bin")
    out = tmp_path / "o.bin"
    bad = f"http://bob:wrong@127.0.0.1:{locked_proxy.port}"
    proc = _fetch(url, out, "--proxy", bad, env={"SSL_CERT_FILE": str(certs.ca)})
    assert_clean_failure(proc, out, 4)
    line = _lines(proc.stderr)[0]
    assert "407" in line and f"proxy 127.0.0.1:{locked_proxy.port}" in line, line
    assert "wrong" not in line

    good = f"http://bob:{PASSWORD}@127.0.0.1:{locked_proxy.port}"
    proc = _fetch(url, out, "--proxy", good, env={"SSL_CERT_FILE": str(certs.ca)})
    assert proc.returncode == 0, proc.stderr


def test_proxy_credentials_never_reach_the_terminal_or_the_events(
    server: MediaServer, locked_proxy: ForwardProxy, tmp_path: Path
) -> None:
    proxy_url = f"http://bob:{PASSWORD}@127.0.0.1:{locked_proxy.port}"
    events = tmp_path / "events.jsonl"
    proc = _fetch(
        server.url("small.bin"), tmp_path / "o", "-v", "--events", str(events),
        env={"http_proxy": proxy_url},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert PASSWORD not in proc.stderr + proc.stdout + events.read_text()
    assert [json.loads(line)["event"] for line in events.read_text().splitlines()]

    shown = run_cli("config", "show", env=_env({"KITHARA_FETCH_PROXY": proxy_url}))
    assert shown.returncode == 0, shown.stderr
    assert PASSWORD not in shown.stdout + shown.stderr
    assert f'proxy = "http://***@127.0.0.1:{locked_proxy.port}"' in shown.stdout


def test_a_proxy_option_without_a_scheme_is_an_http_proxy(
    server: MediaServer, proxy: ForwardProxy, tmp_path: Path
) -> None:
    """As curl, and as the ``*_proxy`` variables already were: ``--proxy host:port``."""
    proc = _fetch(server.url("small.bin"), tmp_path / "o", "--proxy", f"127.0.0.1:{proxy.port}")
    assert proc.returncode == 0, proc.stderr
    assert proxy.methods() == ["GET"]


def test_an_empty_proxy_option_means_a_direct_connection(
    server: MediaServer, tmp_path: Path
) -> None:
    """yt-dlp's ``--proxy ""``: no proxy, whatever the environment says (was exit 2)."""
    env = {"http_proxy": f"http://127.0.0.1:{dead_port()}"}
    proc = _fetch(server.url("small.bin"), tmp_path / "o", "--proxy", "", env=env)
    assert proc.returncode == 0, proc.stderr
    assert len(server.stats.requests("small.bin")) == 1


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_shoutcast_station_plays_through_a_proxy(
    radio_root: Path, radio_mp3: bytes, certs: Certs, proxy: ForwardProxy, scheme: str
) -> None:
    """``ICY 200 OK`` (SHOUTcast v1) is read as HTTP/1.0 by kithara's own connections only;
    through a proxy (httpx's transport) h11 refused it: 6 retries, then exit 3."""
    with MediaServer(radio_root) as srv:
        srv.add_radio("live", Station(radio_mp3, BITRATE, pace=4, icy_status=True))
        with TlsFront(certs.leaf, ("127.0.0.1", srv.port)).start() as front:
            url = srv.url("live") if scheme == "http" else front.url("live")
            proc = run_cli(
                "play", url, "--output", "null", "--no-ui", "--length", "0.5",
                "--proxy", proxy.url, "--retries", "2",
                env=_env({"SSL_CERT_FILE": str(certs.ca)}), timeout=60,
            )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [s.method for s in proxy.seen] == ["GET" if scheme == "http" else "CONNECT"]
