"""SOCKS5 proxies (``--proxy socks5://`` / ``socks5h://``, ``ALL_PROXY``), as Tor and ssh -D
users have them. A real SOCKS5 server on loopback (``net_helpers.SocksProxy``).

Before: socksio was not a dependency, so any SOCKS proxy was one exit-2 line asking the user to
``pip install httpx[socks]``; with it installed by hand, a SHOUTcast ``ICY 200 OK`` station
still failed through SOCKS (httpx's anyio connections, where h11 refuses the status line).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import radio_fixtures
from conftest import run_cli
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station
from net_helpers import SocksProxy, dead_port

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
NONE = {name: "" for name in PROXY_VARS} | {name.upper(): "" for name in PROXY_VARS}


@pytest.fixture
def socks() -> Iterator[SocksProxy]:
    proxy = SocksProxy(names={"station.example": "127.0.0.1"}).start()
    assert isinstance(proxy, SocksProxy)
    yield proxy
    proxy.stop()


def fetch(
    url: str, out: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "fetch", url, "-o", str(out), "-q", "--no-cache", "--retries", "1", *args,
        env={**NONE, **(env or {})},
    )  # fmt: skip


def test_fetch_goes_through_socks5(
    server: MediaServer, socks: SocksProxy, blob_root: Path, tmp_path: Path
) -> None:
    name = sorted(p.name for p in blob_root.iterdir() if p.is_file())[0]
    for how in ("--proxy", "ALL_PROXY"):
        out = tmp_path / f"{how}.bin"
        if how == "--proxy":
            proc = fetch(server.url(name), out, "--proxy", socks.url)
        else:
            proc = fetch(server.url(name), out, env={"ALL_PROXY": socks.url})
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes() == (blob_root / name).read_bytes()
    assert socks.seen and all(s == f"127.0.0.1:{server.port}" for s in socks.seen)


def test_socks5h_lets_the_proxy_resolve_the_name(
    server: MediaServer, socks: SocksProxy, blob_root: Path, tmp_path: Path
) -> None:
    """``station.example`` resolves only at the proxy: socks5h sends the name."""
    name = sorted(p.name for p in blob_root.iterdir() if p.is_file())[0]
    url = f"http://station.example:{server.port}/{name}"
    out = tmp_path / "named.bin"
    proxy = socks.url.replace("socks5://", "socks5h://")
    proc = fetch(url, out, "--proxy", proxy)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (blob_root / name).read_bytes()
    assert socks.seen[0] == f"station.example:{server.port}"


def test_a_shoutcast_station_plays_through_socks(
    radio_root: Path, radio_mp3: bytes, socks: SocksProxy, tmp_path: Path
) -> None:
    wav = tmp_path / "out.wav"
    with MediaServer(radio_root) as srv:
        srv.add_radio("live", Station(radio_mp3, radio_fixtures.BITRATE, pace=0, icy_status=True))
        proc = run_cli(
            "play", srv.url("live"), "--output", f"wav:{wav}", "--no-ui", "--length", "2",
            "--no-cache", "--proxy", socks.url, "--retries", "1",
            env={**NONE, "KITHARA_AUDIO_DEVICE": "none"}, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert socks.seen and wav.stat().st_size > 44


def test_a_dead_socks_proxy_is_one_line_naming_it(server: MediaServer, tmp_path: Path) -> None:
    port = dead_port()
    out = tmp_path / "x.bin"
    proc = fetch(server.url("x.bin"), out, "--proxy", f"socks5://127.0.0.1:{port}")
    assert proc.returncode == 3, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"proxy 127.0.0.1:{port}" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()
