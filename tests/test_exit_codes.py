"""One exit-code table for fetch and play: every error type held to it, the table the same in
errors.py, the README and --help, and the same fault giving the same code in both commands."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import hls_fixtures
from conftest import REPO, run_cli
from hls_fixtures import HlsMedia, fetch, play, static
from kithara_cli import errors
from kithara_cli.errors import KitharaError
from kithara_cli.hls import MAX_PLAYLIST_BYTES
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

# Every concrete error type anywhere in the package, and its code. A new type fails
# test_every_error_type_has_its_code until it is added here (and to the table if it is new).
EXPECTED = {
    "KitharaError": 1,
    "RetryableError": 1,
    "FatalError": 1,
    "RemoteChangedError": 3,  # a fetch starts over once; play stops rather than splice
    "NetworkError": 3,
    "BodyStalledError": 3,
    "SlowBodyError": 3,
    "DeadlineError": 3,
    "ResourceTooShortError": 3,
    "TruncatedBodyError": 3,
    "MalformedResponseError": 3,  # a bad status or header line, on a new connection too
    "ServerBusyError": 3,
    "ResolveError": 3,
    "CertificateError": 3,
    "OfflineMissError": 3,  # --offline and not in the cache
    "HttpStatusError": 4,
    "TooManyRedirectsError": 4,
    "InvalidUrlError": 2,
    "UsageError": 2,
    "SizeLimitError": 2,  # over --max-size, or an endless body without it
    "PlaylistError": 5,
    "UnsupportedError": 5,
    "DecryptionError": 5,
    "DecoderError": 5,
    "ContentEncodingError": 5,
    "TooLargeError": 5,
    "OutputError": 6,
    "OutputBusyError": 6,
    "Cancelled": 130,
    "Terminated": 143,
    # Wrappers that carry their cause's code (checked below with a cause): class default here.
    "ResourceFailed": 1,
    "ResourceClosed": 1,
    "SegmentFailed": 3,
    "LiveStreamLost": 3,  # a live stream that did not come back after its reconnects
    "NotLiveError": 2,  # fetch --duration of a file: the command fetches the file instead
    "LiveStreamFound": 1,  # a signal from the file fetch to the command, never shown
    "StationLinkServed": 1,  # the same, for a station link served under a plain name
}


def _all_error_types() -> dict[str, type[KitharaError]]:
    import kithara_cli

    for info in pkgutil.walk_packages(kithara_cli.__path__, "kithara_cli."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    found: dict[str, type[KitharaError]] = {}
    todo: list[type[KitharaError]] = [KitharaError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


def test_every_error_type_has_its_code() -> None:
    found = _all_error_types()
    assert sorted(found) == sorted(EXPECTED), "an error type without a code in the table"
    for name, cls in found.items():
        assert cls.exit_code == EXPECTED[name], name


def test_wrappers_carry_the_code_of_their_cause() -> None:
    from kithara_cli.storage.resource import ResourceFailed

    cause = errors.HttpStatusError("HTTP 404 not found: x", 404)
    assert ResourceFailed(cause).exit_code == 4


def _table_codes() -> list[int]:
    """The codes of the table in errors.py's docstring (the source of truth)."""
    doc = errors.__doc__ or ""
    return [int(m.group(1)) for m in re.finditer(r"^    (\d+)\s{2,}\S", doc, re.MULTILINE)]


def test_the_table_covers_every_code_and_readme_and_help_repeat_it() -> None:
    codes = _table_codes()
    assert codes == [0, 1, 2, 3, 4, 5, 6, 130, 143]
    assert set(EXPECTED.values()) <= set(codes)
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \|", section, re.MULTILINE)
    assert [int(c) for c in rows] == codes
    for command in ("fetch", "play"):
        shown = run_cli(command, "--help", env={"COLUMNS": "200"})
        assert shown.returncode == 0
        text = " ".join(shown.stdout.split())
        for code in codes:
            assert re.search(rf"(^|[ ;:]){code} ", text), (command, code)


# --- the same fault, the same code, in fetch and play ------------------------------------------


def _segment_404_everywhere(hls_server: MediaServer) -> None:
    """Segment 4 of every variant answers 404: nowhere to take it from."""
    hls_server.set_faults("ts/*_00004.ts", Faults(fail_first=10**6, fail_status=404))


def test_segment_404_is_4_in_fetch_and_in_play(hls_server: MediaServer, tmp_path: Path) -> None:
    _segment_404_everywhere(hls_server)
    url = hls_server.url("ts/master.m3u8")
    fetched = fetch(url, "-o", str(tmp_path / "out.ts"), "-q")
    played = play(url, "--output", f"wav:{tmp_path / 'out.wav'}")
    assert fetched.returncode == 4, fetched.stderr
    assert played.returncode == 4, played.stderr
    for proc in (fetched, played):
        assert "404" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("where", ["master", "media"])
def test_an_oversized_playlist_is_5_in_fetch_and_in_play(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path, where: str
) -> None:
    huge = "#EXTM3U\n" + ("# padding" + "x" * 90 + "\n") * (MAX_PLAYLIST_BYTES // 100 + 10)
    assert len(huge) > MAX_PLAYLIST_BYTES
    path = "ts/master.m3u8" if where == "master" else "ts/128k.m3u8"
    hls_server.add_route(path, static(huge))
    url = hls_server.url("ts/master.m3u8")
    fetched = fetch(url, "-o", str(tmp_path / "out.ts"), "-q")
    played = play(url, "--output", "null")
    for proc in (fetched, played):
        assert proc.returncode == 5, proc.stderr
        assert "larger than 8 MiB limit" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_redirect_loop_is_4_and_names_the_limit(server: MediaServer, tmp_path: Path) -> None:
    server.set_faults("small.bin", Faults(redirects=30))
    proc = fetch(server.url("small.bin"), "-o", str(tmp_path / "out.bin"), "-q")
    assert proc.returncode == 4, proc.stderr
    assert "more than the 10 redirects limit" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_oversized_response_headers_are_5_and_name_the_limit(
    server: MediaServer, tmp_path: Path
) -> None:
    def handler(path: str, query: dict[str, str], now: float) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "audio/mpeg", "X-Padding": "a" * 200_000}, b"x" * 1000

    server.add_route("huge-head.mp3", handler)
    proc = fetch(server.url("huge-head.mp3"), "-o", str(tmp_path / "out.mp3"), "-q")
    assert proc.returncode == 5, proc.stderr
    assert "response headers larger than 100 KiB limit" in proc.stderr
    assert list(tmp_path.iterdir()) == []


# --- TLS: verified by default, --insecure opts out loudly --------------------------------------


@pytest.fixture
def https_url(blob_root: Path, tmp_path: Path) -> Iterator[str]:
    """A stdlib HTTPS server on loopback with a self-signed certificate (the MediaServer has
    no TLS): what a man-in-the-middle with his own certificate looks like to kithara."""
    import datetime
    import http.server
    import ipaddress
    import ssl
    import threading
    from functools import partial

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path / "cert.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(blob_root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}/small.bin"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_tls_is_verified_by_default_and_insecure_warns(
    https_url: str, blob_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.bin"
    refused = fetch(https_url, "-o", str(out), "-q")
    assert refused.returncode == 3, refused.stderr
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "certificate" in lines[0] and "not trusted" in lines[0], lines
    assert list(tmp_path.iterdir()) == [tmp_path / "cert.pem"]

    allowed = fetch(https_url, "-o", str(out), "-q", "--insecure")
    assert allowed.returncode == 0, allowed.stderr
    assert out.read_bytes() == (blob_root / "small.bin").read_bytes()
    warning = [line for line in allowed.stderr.splitlines() if line.strip()]
    assert len(warning) == 1 and "--insecure" in warning[0] and "not verified" in warning[0]
