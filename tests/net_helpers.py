"""Real network middlemen for the s12 network tests: TLS in front of the MediaServer, a
forwarding HTTP proxy, certificates made at test time.

The MediaServer has no TLS and no proxy; these are small threaded byte pumps around it, so
every test still talks to a real server over real sockets (Range, faults and stats intact).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kithara_cli.server import MediaServer

# --- certificates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Certs:
    """A private CA (``ca``: what SSL_CERT_FILE names) and a leaf it signed (cert + key)."""

    ca: Path
    leaf: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_certs(
    directory: Path,
    names: tuple[str, ...] = ("127.0.0.1", "localhost"),
    *,
    expired: bool = False,
) -> Certs:
    """A CA and a server certificate for ``names`` (IP addresses or DNS names) signed by it;
    ``expired``: the server's certificate ran out yesterday (the CA is still valid)."""
    now = datetime.datetime.now(datetime.UTC)
    day = datetime.timedelta(days=1)
    leaf_from, leaf_to = (now - 3 * day, now - day) if expired else (now - day, now + day)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("kithara test CA"))
        .issuer_name(_name("kithara test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - 3 * day)
        .not_valid_after(now + day)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(leaf_from)
        .not_valid_after(leaf_to)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    ca_path, leaf_path = directory / "ca.pem", directory / "leaf.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    leaf_path.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certs(ca_path, leaf_path)


# --- byte pumps -------------------------------------------------------------------------------


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _splice(a: socket.socket, b: socket.socket) -> None:
    """Bytes both ways until either side ends; both are closed after."""
    other = threading.Thread(target=_pump, args=(b, a), daemon=True)
    other.start()
    _pump(a, b)
    other.join(timeout=10)
    a.close()
    b.close()


class _Listener:
    """A loopback listener that hands each connection to ``handle`` in its own thread."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.create_server((host, 0), family=family)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._stopped = threading.Event()

    def start(self) -> _Listener:
        self._thread.start()
        return self

    def _accept(self) -> None:
        self.sock.settimeout(0.1)  # a closed listener does not wake accept(): poll for it
        while not self._stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            threading.Thread(target=self._safe, args=(conn,), daemon=True).start()

    def _safe(self, conn: socket.socket) -> None:
        try:
            self.handle(conn)
        except (OSError, ssl.SSLError, ValueError):
            conn.close()

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self) -> _Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self.sock.close()


class TlsFront(_Listener):
    """HTTPS on its own port, forwarding the decrypted bytes to a plain HTTP backend."""

    def __init__(self, leaf: Path, backend: tuple[str, int]) -> None:
        super().__init__()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(leaf)
        self.backend = backend

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.port}/{path.lstrip('/')}"

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        tls = self.context.wrap_socket(conn, server_side=True)
        tls.settimeout(None)
        upstream = socket.create_connection(self.backend, timeout=10)
        upstream.settimeout(None)
        _splice(tls, upstream)


def _read_head(conn: socket.socket) -> tuple[bytes, bytes]:
    """A request head (up to the blank line) and whatever body bytes came with it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ValueError("closed before a request head")
        data += chunk
        if len(data) > 65536:
            raise ValueError("head too large")
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


@dataclass
class ProxySeen:
    """What one request to the proxy looked like."""

    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)


class ForwardProxy(_Listener):
    """An HTTP proxy: absolute-form requests forwarded (one per connection), CONNECT tunnels.

    ``credentials`` ("user:pass") makes it answer 407 to any request without that
    Proxy-Authorization; ``seen`` records every request it got.
    """

    def __init__(self, credentials: str | None = None, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.credentials = credentials
        self.seen: list[ProxySeen] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        head, rest = _read_head(conn)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        with self._lock:
            self.seen.append(ProxySeen(method, target, headers))
        if self.credentials is not None:
            wanted = "Basic " + base64.b64encode(self.credentials.encode()).decode()
            if headers.get("proxy-authorization") != wanted:
                conn.sendall(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="test"\r\n'
                    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
                conn.close()
                return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
            upstream.settimeout(None)
            conn.settimeout(None)
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            _splice(conn, upstream)
            return
        parts = urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            conn.close()
            return
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        out = [f"{method} {path} HTTP/1.1"]
        for line in lines[1:]:
            name = line.partition(":")[0].strip().lower()
            if name not in ("proxy-authorization", "proxy-connection", "connection"):
                out.append(line)
        out.append("Connection: close")
        upstream = socket.create_connection((parts.hostname, parts.port or 80), timeout=10)
        upstream.settimeout(None)
        conn.settimeout(None)
        upstream.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + rest)
        _splice(conn, upstream)

    def methods(self) -> list[str]:
        with self._lock:
            return [s.method for s in self.seen]


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def has_ipv6_loopback() -> bool:
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        return False
    return True


# The one skip the suite keeps: IPv6 is a kernel setting (containers often boot without it), not
# a dependency CI could install; the IPv4 halves of the same tests always run.
needs_ipv6 = pytest.mark.skipif(not has_ipv6_loopback(), reason="this machine has no ::1")


class SocksProxy(_Listener):
    """A SOCKS5 proxy (RFC 1928: no authentication, CONNECT). ``names`` are hosts only it can
    resolve (socks5h: the client sends the name); ``seen`` records each CONNECT's host:port."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        super().__init__()
        self.names = names or {}
        self.seen: list[str] = []

    @property
    def url(self) -> str:
        return f"socks5://{self.host}:{self.port}"

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        _version, count = _recv_exact(conn, 2)
        _recv_exact(conn, count)  # the methods offered: "no authentication" is taken
        conn.sendall(b"\x05\x00")
        _version, _command, _reserved, kind = _recv_exact(conn, 4)
        if kind == 1:
            host = socket.inet_ntoa(_recv_exact(conn, 4))
        elif kind == 3:
            host = _recv_exact(conn, _recv_exact(conn, 1)[0]).decode("idna")
        else:
            host = socket.inet_ntop(socket.AF_INET6, _recv_exact(conn, 16))
        port = int.from_bytes(_recv_exact(conn, 2), "big")
        self.seen.append(f"{host}:{port}")
        try:
            upstream = socket.create_connection((self.names.get(host, host), port), timeout=10)
        except OSError:
            conn.sendall(b"\x05\x05\x00\x01" + bytes(6))  # connection refused
            conn.close()
            return
        conn.sendall(b"\x05\x00\x00\x01" + bytes(6))
        conn.settimeout(None)
        upstream.settimeout(None)
        _splice(conn, upstream)


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ValueError("closed mid-handshake")
        data += chunk
    return data


# --- fixtures (a test module takes them by assignment: ``certs = net_helpers.certs``) --------


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A private CA and a leaf for 127.0.0.1, made once per module."""
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def tls(server: MediaServer, certs: Certs) -> Iterator[TlsFront]:
    """TLS in front of the module's MediaServer (``server``), with the private CA's leaf."""
    front = TlsFront(certs.leaf, ("127.0.0.1", server.port)).start()
    yield front
    front.stop()
