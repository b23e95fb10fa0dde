"""HTTPS as users meet it: a private CA, a wrong name, an expired certificate, HLS over https.

``net_helpers.TlsFront`` puts TLS (a certificate made now, signed by a CA made now) in front of
the MediaServer. Found by the session 12 network review: every certificate failure read
``TLS certificate of HOST is not trusted``, so a certificate for another name (a CDN's
default vhost, a wrong DNS entry) or an expired one looked like a missing CA, the one case
``SSL_CERT_FILE`` mends. curl and yt-dlp name the reason (``certificate has expired``,
``Hostname mismatch``); kithara now does too, still in one line with exit 3.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import assert_clean_failure, run_cli
from kithara_cli.server import MediaServer
from net_helpers import Certs, TlsFront, make_certs

NO_PROXY = {"http_proxy": "", "https_proxy": "", "all_proxy": ""}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("good"))


@contextlib.contextmanager
def _front(srv: MediaServer, leaf: Path) -> Iterator[TlsFront]:
    front = TlsFront(leaf, ("127.0.0.1", srv.port)).start()
    try:
        yield front
    finally:
        front.stop()


@pytest.fixture
def tls(server: MediaServer, certs: Certs) -> Iterator[TlsFront]:
    with _front(server, certs.leaf) as front:
        yield front


def _fetch(url: str, out: Path, *args: str, ca: Path | None) -> subprocess.CompletedProcess[str]:
    env = {**NO_PROXY, "SSL_CERT_FILE": str(ca) if ca else ""}
    return run_cli("fetch", url, "--out", str(out), "--retries", "2", *args, env=env)


def _play(url: str, ca: Path | None) -> subprocess.CompletedProcess[str]:
    env = {**NO_PROXY, "SSL_CERT_FILE": str(ca) if ca else ""}
    args = ("play", url, "--output", "null", "--no-ui", "--length", "0.5", "--retries", "2")
    return run_cli(*args, env=env, timeout=60)


def _one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("kithara: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_an_unknown_ca_fails_in_one_line_and_ssl_cert_file_mends_it(
    tls: TlsFront, certs: Certs, blob_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "small.bin"
    refused = _fetch(tls.url("small.bin"), out, ca=None)
    assert_clean_failure(refused, out, 3)
    line = _one_line(refused)
    assert "not trusted" in line and "unknown" in line and "SSL_CERT_FILE" in line, line
    assert list(tmp_path.iterdir()) == []

    trusted = _fetch(tls.url("small.bin"), out, ca=certs.ca)
    assert trusted.returncode == 0, trusted.stderr
    assert out.read_bytes() == (blob_root / "small.bin").read_bytes()


def test_a_certificate_for_another_name_says_so(
    server: MediaServer, tmp_path: Path, blob_root: Path
) -> None:
    other = make_certs(tmp_path / "other", ("other.example",))
    with _front(server, other.leaf) as front:
        out = tmp_path / "small.bin"
        proc = _fetch(front.url("small.bin"), out, ca=other.ca)
        assert_clean_failure(proc, out, 3)
        line = _one_line(proc)
        assert "127.0.0.1" in line and "mismatch" in line, line
        play = _play(front.url("small.bin"), other.ca)
        assert play.returncode == 3 and "mismatch" in _one_line(play), play.stderr

        # --insecure is the way past it (and says so on every run)
        allowed = _fetch(front.url("small.bin"), out, "--insecure", ca=other.ca)
        assert allowed.returncode == 0, allowed.stderr
        assert out.read_bytes() == (blob_root / "small.bin").read_bytes()


def test_an_expired_certificate_says_so(server: MediaServer, tmp_path: Path) -> None:
    expired = make_certs(tmp_path / "expired", expired=True)
    with _front(server, expired.leaf) as front:
        out = tmp_path / "small.bin"
        proc = _fetch(front.url("small.bin"), out, ca=expired.ca)
        assert_clean_failure(proc, out, 3)
        assert "expired" in _one_line(proc)


def test_hls_over_https_with_https_segments(certs: Certs, tmp_path: Path) -> None:
    from kithara_cli.media import cached_ladder

    ladder = cached_ladder("cookie-ladder-6s", 6.0, bitrates=(64_000,), segment_seconds=2.0)
    with MediaServer(ladder.master.parent) as srv:
        with _front(srv, certs.leaf) as front:
            master = front.url("master.m3u8")
            fetched = _fetch(master, tmp_path / "o.ts", ca=certs.ca)
            assert fetched.returncode == 0, fetched.stderr
            played = _play(master, certs.ca)
            assert played.returncode == 0, played.stderr
            refused = _play(master, None)
            assert refused.returncode == 3 and "not trusted" in _one_line(refused)
        segments = [r for r in srv.stats.requests() if r.path.endswith(".ts")]
    assert len(segments) >= 3  # every segment came in through the TLS front


def test_a_redirect_from_https_to_http_is_followed(
    server: MediaServer, tls: TlsFront, certs: Certs, blob_root: Path, tmp_path: Path
) -> None:
    """As curl -L, yt-dlp and mpv (FFmpeg) do: the redirect is the server's choice."""
    server.add_route("down", lambda _p, _q, _n: (302, {"Location": server.url("small.bin")}, b""))
    out = tmp_path / "small.bin"
    proc = _fetch(tls.url("down"), out, ca=certs.ca)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (blob_root / "small.bin").read_bytes()
    assert [r.path for r in server.stats.requests()][:2] == ["down", "small.bin"]


def test_https_to_a_plain_http_port_says_so(server: MediaServer, tmp_path: Path) -> None:
    """An https:// typed for an http:// server: OpenSSL's ``[SSL: WRONG_VERSION_NUMBER] wrong
    version number (_ssl.c:1006)`` told a user nothing he could act on."""
    out = tmp_path / "small.bin"
    proc = _fetch(f"https://127.0.0.1:{server.port}/small.bin", out, ca=None)
    assert_clean_failure(proc, out, 3)
    line = _one_line(proc)
    assert "does not speak TLS" in line and "http://" in line and "_ssl.c" not in line, line
