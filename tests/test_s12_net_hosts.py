"""Hosts as users type them: IPv6 literals, names that do not resolve, malformed addresses.

Found by the session 12 network review: ``http://999.1.1.1/x.mp3`` (a typo'd address, which
only DNS can refuse) made ``fetch`` exit 6 with ``download incomplete`` and ``play`` hang
for ever. Naming the host for the "cannot resolve" error went through ``httpx.URL``, which
refuses such an address; that exception escaped the downloader's job, whose handle then
never finished. curl and yt-dlp say they cannot resolve it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import assert_clean_failure, run_cli
from kithara_cli.server import MediaServer
from net_helpers import ForwardProxy, dead_port, needs_ipv6


@pytest.fixture
def v6_server(blob_root: Path) -> Iterator[MediaServer]:
    with MediaServer(blob_root, host="::1") as srv:
        yield srv


def _fetch(url: str, out: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("fetch", url, "--out", str(out), "--retries", "2", timeout=60)


def _play(url: str) -> subprocess.CompletedProcess[str]:
    args = ("--output", "null", "--no-ui", "--length", "0.5", "--retries", "2")
    return run_cli("play", url, *args, timeout=60)


def _one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("kithara: error: "), proc.stderr
    return lines[0]


@needs_ipv6
def test_an_ipv6_loopback_url_fetches_plays_and_sends_credentials(
    v6_server: MediaServer, blob_root: Path, tmp_path: Path
) -> None:
    assert v6_server.url("x").startswith("http://[::1]:")
    out = tmp_path / "small.bin"
    assert _fetch(v6_server.url("small.bin"), out).returncode == 0
    assert out.read_bytes() == (blob_root / "small.bin").read_bytes()
    out.unlink()
    with_user = v6_server.url("small.bin").replace("http://", "http://alice:pw@")
    proc = _fetch(with_user, out)
    assert proc.returncode == 0, proc.stderr
    assert v6_server.stats.seen("small.bin")[-1].header("Authorization") == "Basic YWxpY2U6cHc="


@needs_ipv6
def test_play_and_hls_over_ipv6(tmp_path: Path) -> None:
    from kithara_cli.media import cached_ladder

    ladder = cached_ladder("cookie-ladder-6s", 6.0, bitrates=(64_000,), segment_seconds=2.0)
    with MediaServer(ladder.master.parent, host="::1") as srv:
        fetched = _fetch(srv.url("master.m3u8"), tmp_path / "o.ts")
        assert fetched.returncode == 0, fetched.stderr
        played = _play(srv.url("master.m3u8"))
        assert played.returncode == 0, played.stderr


@needs_ipv6
def test_nothing_listening_on_ipv6_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "x.mp3"
    proc = _fetch(f"http://[::1]:{dead_port()}/x.mp3", out)
    assert_clean_failure(proc, out, 3)
    assert "refused" in _one_line(proc)


@pytest.mark.parametrize("host", ["nohost.invalid", "999.1.1.1"])
def test_a_host_that_does_not_resolve_is_one_line(tmp_path: Path, host: str) -> None:
    out = tmp_path / "x.mp3"
    fetched = _fetch(f"http://{host}/x.mp3", out)
    assert_clean_failure(fetched, out, 3)
    assert f"cannot resolve host '{host}'" in _one_line(fetched)
    played = _play(f"https://{host}/live.m3u8")
    assert played.returncode == 3, played.stderr
    assert f"cannot resolve host '{host}'" in _one_line(played)


@needs_ipv6
def test_an_ipv6_url_through_a_proxy_keeps_its_brackets(
    v6_server: MediaServer, blob_root: Path, tmp_path: Path
) -> None:
    """httpcore wrote ``GET http://::1:PORT/x`` to a proxy (RFC 3986 wants ``[::1]``), which a
    proxy refuses as a bad request (encode/httpx#392's kin, still open in httpcore 1.0.9)."""
    proxy = ForwardProxy().start()
    try:
        out = tmp_path / "small.bin"
        proc = run_cli(
            "fetch", v6_server.url("small.bin"), "--out", str(out), "--proxy", proxy.url,
            "--retries", "1", timeout=60,
        )  # fmt: skip
    finally:
        proxy.stop()
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (blob_root / "small.bin").read_bytes()
    assert [s.target for s in proxy.seen] == [v6_server.url("small.bin")]
