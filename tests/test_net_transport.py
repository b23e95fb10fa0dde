"""The direct transport: httpcore over asyncio, pools sharded, cookies, TLS (real sockets)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from kithara_cli.net import NetConfig, make_client
from kithara_cli.net.httpx_client import DirectTransport
from kithara_cli.net.transport import ShardedPool
from kithara_cli.server import MediaServer


def test_requests_spread_over_small_pools_and_connections_are_reused(
    server: MediaServer,
) -> None:
    url = server.url("small.bin")
    expected = (server.root / "small.bin").read_bytes()

    async def main() -> tuple[list[bytes], list[int], int]:
        client = make_client(NetConfig(max_connections=8))
        transport = client._transport
        assert isinstance(transport, DirectTransport)
        router = transport._pool
        try:
            bodies = await asyncio.gather(*(client.get(url) for _ in range(8)))
            plain = router._plain  # type: ignore[attr-defined]
            assert isinstance(plain, ShardedPool)
            pools_after_burst = len(plain._pools)
            loads = list(plain._load)
            for _ in range(4):  # one at a time: always the same idle pool, no new ones
                await client.get(url)
            assert len(plain._pools) == pools_after_burst
            return [r.content for r in bodies], loads, pools_after_burst
        finally:
            await client.aclose()

    contents, loads, pools = asyncio.run(main())
    assert pools <= 4  # 8 connections, 2 per pool
    assert loads == [0] * len(loads)  # every slot given back
    assert all(c == expected for c in contents)


def test_cookies_set_by_a_response_are_kept(server: MediaServer) -> None:
    server.add_route("login", lambda path, query, now: (200, {"Set-Cookie": "k=v; Path=/"}, b"ok"))
    server.add_route("plain", lambda path, query, now: (200, {}, b"ok"))

    async def main() -> str | None:
        client = make_client(NetConfig())
        try:
            await client.get(server.url("plain"))
            await client.get(server.url("login"))
            return client.cookies.get("k")
        finally:
            await client.aclose()

    assert asyncio.run(main()) == "v"


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
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
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b"hello over tls" * 1000
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = _self_signed(tmp_path)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}/x", cert
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_https_is_verified_against_the_trusted_roots(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = tls_server

    async def get() -> httpx.Response:
        client = make_client(NetConfig())
        try:
            response = await client.get(url)
            await client.get(url)  # kept alive over TLS
            return response
        finally:
            await client.aclose()

    with pytest.raises(httpx.ConnectError):  # a certificate nobody vouches for
        asyncio.run(get())
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    response = asyncio.run(get())
    assert response.status_code == 200
    assert response.content == b"hello over tls" * 1000


def test_h2_is_loaded_only_when_an_http2_connection_needs_it() -> None:
    code = (
        "import sys, kithara_cli.net.core\n"  # httpcore, loaded as the client loads it
        "assert 'h2' not in sys.modules, 'h2 loaded with httpcore'\n"
        "from httpcore._async.http2 import AsyncHTTP2Connection\n"  # what an h2 connection does
        "assert AsyncHTTP2Connection.__module__ == 'httpcore._async.http2'\n"
        "assert 'h2.connection' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_socksio_is_loaded_only_when_a_socks_proxy_is_named() -> None:
    """httpcore imports socksio with itself when it is installed (~8 ms on the way to every
    first audio); kithara holds it back until a SOCKS proxy needs it (net.core.socks_pool)."""
    code = (
        "import sys, kithara_cli.net.core as core\n"
        "assert 'socksio' not in sys.modules, 'socksio loaded with httpcore'\n"
        "pool = core.socks_pool()\n"
        "assert pool.__module__ == 'httpcore._async.socks_proxy'\n"
        "assert 'socksio.socks5' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
