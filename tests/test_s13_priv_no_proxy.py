"""NO_PROXY's IP addresses and networks, v4 and v6, as curl reads them.

Found in session 13: the environment's proxy was chosen by httpx's patterns, which read
``NO_PROXY=10.0.0.0/8`` as the one address 10.0.0.0, so ``127.0.0.0/8`` did not cover
127.0.0.1 and the request went through the proxy; an IPv6 network or a bracketed address
(``::1/128``, ``fe80::/10``, ``[::1]``) failed every run, whatever its URL, with ``cannot set
up HTTP: Invalid port`` (exit 2). A real forwarding proxy and the loopback server show which
way each request went.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpx._utils import get_environment_proxies

from conftest import run_cli
from kithara_cli.net.no_proxy import bypasses, environment_proxies, ip_entry
from kithara_cli.server import MediaServer
from net_helpers import ForwardProxy, needs_ipv6

PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
NONE = {name: "" for name in PROXY_VARS} | {name.upper(): "" for name in PROXY_VARS}


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    p = ForwardProxy().start()
    yield p
    p.stop()


def _fetch(
    url: str, out: Path, proxy: ForwardProxy, no_proxy: str
) -> subprocess.CompletedProcess[str]:
    env = NONE | {"http_proxy": proxy.url, "no_proxy": no_proxy, "NO_PROXY": no_proxy}
    return run_cli("fetch", url, "--out", str(out), "--retries", "0", env=env)


@pytest.mark.parametrize(
    ("no_proxy", "direct"),
    [
        ("127.0.0.0/8", True),
        ("10.0.0.0/8, 127.0.0.0/24", True),
        ("127.9.9.9/8", True),  # host bits after the prefix do not count
        ("127.0.0.1/32", True),
        ("127.0.0.1", True),  # as before
        ("10.0.0.0/8", False),
        ("127.0.0.2", False),
        ("127.0.0.2/32,example.com", False),
        ("::/0", False),  # an IPv6 network is no IPv4 address's
    ],
)
def test_ipv4_entries_choose_the_way(
    server: MediaServer, proxy: ForwardProxy, blob_root: Path, tmp_path: Path,
    no_proxy: str, direct: bool,
) -> None:  # fmt: skip
    out = tmp_path / "small.bin"
    proc = _fetch(server.url("small.bin"), out, proxy, no_proxy)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (blob_root / "small.bin").read_bytes()
    assert len(server.stats.requests("small.bin")) == 1
    assert (proxy.seen == []) is direct, proxy.seen


@needs_ipv6
@pytest.mark.parametrize(
    ("no_proxy", "direct"),
    [
        ("::1", True),  # as before
        ("[::1]", True),
        ("::1/128", True),
        ("::/64", True),
        ("0:0::1", True),
        ("example.com,fe80::/10", False),
        ("[::1]:1", False),  # that address on port 1 only
        ("127.0.0.0/8", False),
    ],
)
def test_ipv6_entries_choose_the_way_and_break_nothing(
    blob_root: Path, tmp_path: Path, no_proxy: str, direct: bool
) -> None:
    with MediaServer(blob_root, host="::1") as srv, ForwardProxy(host="::1") as proxy:
        proxy.start()
        out = tmp_path / "small.bin"
        proc = _fetch(srv.url("small.bin"), out, proxy, no_proxy)
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes() == (blob_root / "small.bin").read_bytes()
        assert (proxy.seen == []) is direct, proxy.seen


@pytest.mark.parametrize(
    ("entry", "network"),
    [
        ("10.0.0.0/8", "10.0.0.0/8"),
        (" 10.1.2.3/8 ", "10.0.0.0/8"),
        ("10.1.2.3", "10.1.2.3/32"),
        ("::1", "::1/128"),
        ("[::1]", "::1/128"),
        ("[fe80::]/10", "fe80::/10"),
        ("0:0::1", "::1/128"),
        ("example.com", None),
        (".example.com", None),
        ("localhost", None),
        ("10.1.2.3:8080", None),
        ("[::1]:8080", None),
        ("10.0.0.0/33", None),
        ("[::1", None),
    ],
)
def test_ip_entries(entry: str, network: str | None) -> None:
    found = ip_entry(entry)
    assert (None if found is None else str(found)) == network


def test_bypass_needs_an_ip_literal_host() -> None:
    direct = environment_proxies({"http": "p:3128", "no": "10.0.0.0/8,fe80::/10"}).direct
    assert bypasses("10.1.2.3", direct) and bypasses("fe80::1", direct)
    assert bypasses("[fe80::1]", direct) and bypasses("fe80::1%eth0", direct)
    assert not bypasses("11.0.0.1", direct) and not bypasses("::1", direct)
    assert not bypasses("ten.example", direct)  # a name is never resolved to be matched
    assert not bypasses("10.1.2.3", ())


@pytest.mark.parametrize(
    "no_proxy",
    [
        "",
        "example.com,.internal,localhost,LocalHost,host:8080,http://special.example",
        " a.example , ,b.example",
        "*",
        "example.com,*",
    ],
)
def test_every_other_entry_keeps_httpxs_meaning(
    monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    for name, value in NONE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("http_proxy", "proxy.example:3128")
    monkeypatch.setenv("https_proxy", "http://tls-proxy.example:3128")
    monkeypatch.setenv("no_proxy", no_proxy)
    ours = environment_proxies()
    assert ours.mounts == get_environment_proxies()
    assert ours.direct == ()
    # and with IP entries among them, the names are httpx's still
    monkeypatch.setenv("no_proxy", no_proxy + ",10.0.0.0/8,::1" if no_proxy else "10.0.0.0/8")
    with_ips = environment_proxies()
    if "*" not in no_proxy:
        assert with_ips.mounts == ours.mounts
        assert [str(n) for n in with_ips.direct] == (
            ["10.0.0.0/8", "::1/128"] if no_proxy else ["10.0.0.0/8"]
        )
