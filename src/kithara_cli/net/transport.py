"""Direct (no proxy) connections: httpcore's pools over plain asyncio.

httpcore does all of HTTP (h11/h2, pooling, keep-alive, exception types); the direct GET
(``net.request``) and httpx's transport (``net.httpx_client``) share these pools. Two of httpcore's extension points are filled in for speed, because with many small
segments on a fast link the per-request Python work is the whole cost:

- ``AsyncioBackend``, httpcore's network backend on asyncio's own transports and protocols.
  httpcore's default (anyio) opens a cancel scope per read and write and answers the pool's
  "is this idle connection readable?" with a getpeername and a poll syscall each time; here a
  read is a deque pop (or one future) and readability is the protocol's state.
- ``ShardedPool``: requests spread over small httpcore pools, the least busy first. httpcore's
  pool scans every connection on each request start and end, O(connections) per request;
  pools of 2 keep that O(1) at 32 in flight.

Measured on loopback, 301 segments of ~75 KB at 32 in flight: 0.45 s -> 0.2 s of CPU.
TLS is set up on first https use (loading the CA bundle costs 30-120 ms).
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from kithara_cli.net.core import httpcore

_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)

# Reading pauses once this much is buffered unread (a slow sink), and resumes below half of it.
READ_HIGH_WATER = 4 * 1024 * 1024
REQUEST_LINES = (b"GET ", b"HEAD ")  # what kithara asks an HTTP/1 server
ICY = b"ICY "
HTTP10 = b"HTTP/1.0 "


def _expire(waiter: asyncio.Future[None], error: type[Exception]) -> None:
    if not waiter.done():
        waiter.set_exception(error())


class _Wakeup:
    """Where one coroutine waits for the protocol's news: bytes or EOF to read, room to write."""

    __slots__ = ("_waiter",)

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, timeout: float | None, error: type[Exception]) -> None:
        """Until ``set``; ``error`` is raised if ``timeout`` seconds pass first."""
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(timeout, _expire, waiter, error) if timeout is not None else None
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()


class _Protocol(asyncio.Protocol):
    """Buffers what the socket delivers for ``_Stream.read``; remembers EOF and errors."""

    def __init__(self) -> None:
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.eof = False
        self.error: BaseException | None = None
        self.transport: asyncio.BaseTransport | None = None
        self.read_paused = False
        self.readable = _Wakeup()
        self.write_paused = False
        self.writable = _Wakeup()
        self.head: bytes | None = b""  # the first bytes, until the status line is checked

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.head is not None:
            data = self._status_line(self.head + data)
            if not data:
                return
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > READ_HIGH_WATER and not self.read_paused:
            assert isinstance(self.transport, asyncio.ReadTransport)
            self.read_paused = True
            self.transport.pause_reading()
        self.readable.set()

    def _status_line(self, data: bytes) -> bytes:
        """SHOUTcast v1 answers ``ICY 200 OK``, which h11 refuses: it becomes HTTP/1.0 (the
        close-delimited answer it is). Only a connection's first bytes are looked at."""
        if len(data) < len(ICY) and ICY.startswith(data):
            self.head = data  # too short to tell yet
            return b""
        self.head = None
        return HTTP10 + data[len(ICY) :] if data.startswith(ICY) else data

    def _flush_head(self) -> None:
        if self.head:
            self.chunks.append(self.head)
            self.buffered += len(self.head)
        self.head = None

    def eof_received(self) -> bool:
        self._flush_head()
        self.eof = True
        self.readable.set()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._flush_head()
        self.eof = True
        self.error = exc
        self.readable.set()
        self.write_paused = False
        self.writable.set()

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self.writable.set()


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        proto = self._protocol
        if not proto.chunks:
            if proto.error is not None:
                raise httpcore.ReadError(str(proto.error) or type(proto.error).__name__)
            if proto.eof:
                return b""
            await proto.readable.wait(timeout, httpcore.ReadTimeout)
            if not proto.chunks:
                if proto.error is not None:
                    raise httpcore.ReadError(str(proto.error) or type(proto.error).__name__)
                return b""
        data = proto.chunks.popleft()
        if len(data) > max_bytes:
            proto.chunks.appendleft(data[max_bytes:])
            data = data[:max_bytes]
        proto.buffered -= len(data)
        if proto.read_paused and proto.buffered <= READ_HIGH_WATER // 2:
            proto.read_paused = False
            self._transport.resume_reading()
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        proto = self._protocol
        if proto.error is not None or self._transport.is_closing():
            raise httpcore.WriteError("connection closed")
        if proto.head is None and buffer.startswith(REQUEST_LINES):
            # an HTTP/1 request: its answer's status line is checked for ICY (after a SOCKS
            # handshake, whose binary answer came first on this connection)
            proto.head = b""
        self._transport.write(buffer)
        if proto.write_paused:
            await proto.writable.wait(timeout, httpcore.WriteTimeout)
            if proto.error is not None:
                raise httpcore.WriteError(str(proto.error) or type(proto.error).__name__)

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):  # not wait_for: see _connect
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            self._transport.close()
            raise httpcore.ConnectTimeout("TLS handshake timed out") from exc
        except (OSError, ssl.SSLError, EOFError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if transport is None:
            self._transport.close()
            raise httpcore.ConnectError("TLS handshake failed")
        # What comes out of TLS starts a conversation: after a proxy's CONNECT answer, the
        # server's status line is checked for ICY again.
        self._protocol.head = b""
        return _Stream(transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # an idle connection with news: EOF, an error or stray bytes
            proto = self._protocol
            return proto.eof or bool(proto.chunks)
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


async def _connect(
    open_connection: Callable[[Callable[[], _Protocol]], Awaitable[tuple[Any, Any]]],
    where: str,
    timeout: float | None,
    socket_options: Iterable[_SocketOption] | None,
) -> httpcore.AsyncNetworkStream:
    """Open a connection with ``open_connection(protocol_factory)``; httpcore's error types."""
    protocol = _Protocol()
    try:
        # Not asyncio.wait_for: on 3.11 a cancel that lands as the connection completes is
        # lost (wait_for returns the connection), so a cancelled request went on to read its
        # whole body; a fetch's exit waited 5 s for each one (HlsWriter._cancel_all).
        async with asyncio.timeout(timeout):
            transport, _ = await open_connection(lambda: protocol)
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"connecting to {where} timed out") from exc
    except OSError as exc:
        raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
    sock = transport.get_extra_info("socket")
    for option in socket_options or ():
        sock.setsockopt(*option)
    return _Stream(transport, protocol)


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend on asyncio transports (see the module docstring)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        return await _connect(
            lambda factory: loop.create_connection(
                factory, host, port, local_addr=local, happy_eyeballs_delay=0.25
            ),
            f"{host}:{port}",
            timeout,
            socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        return await _connect(
            lambda factory: loop.create_unix_connection(factory, path),
            path,
            timeout,
            socket_options,
        )

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _Released:
    """A response body that gives its pool's slot back when closed."""

    def __init__(self, stream: Any, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


class ShardedPool:
    """Small httpcore pools made as needed; each request goes to the least busy one."""

    def __init__(
        self, make_pool: Callable[[], httpcore.AsyncConnectionPool], per_pool: int, max_pools: int
    ) -> None:
        self._make_pool = make_pool
        self._per_pool = max(1, per_pool)
        self._max_pools = max(1, max_pools)
        self._pools: list[httpcore.AsyncConnectionPool] = []
        self._load: list[int] = []

    def _pick(self) -> int:
        load = self._load
        if load:
            best = min(range(len(load)), key=load.__getitem__)
            if load[best] < self._per_pool or len(load) >= self._max_pools:
                return best
        self._pools.append(self._make_pool())
        load.append(0)
        return len(load) - 1

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        index = self._pick()
        load = self._load  # aclose() swaps in a new list: a late release must not index it
        load[index] += 1
        try:
            response = await self._pools[index].handle_async_request(request)
        except BaseException:
            load[index] -= 1
            raise

        def release() -> None:
            load[index] -= 1

        response.stream = _Released(response.stream, release)
        return response

    async def aclose(self) -> None:
        pools, self._pools, self._load = self._pools, [], []
        for pool in pools:
            await pool.aclose()


class _SchemeRouter:
    """Plain HTTP pools now, TLS pools (and the CA bundle) on the first https request."""

    def __init__(self, make: Callable[[bool], ShardedPool]) -> None:
        self._make = make
        self._plain = make(False)  # never used for https, so no certificate is ever skipped
        self._tls: ShardedPool | None = None

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        if request.url.scheme == b"https":
            if self._tls is None:
                self._tls = self._make(True)
            return await self._tls.handle_async_request(request)
        return await self._plain.handle_async_request(request)

    async def __aenter__(self) -> _SchemeRouter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._plain.aclose()
        if self._tls is not None:
            await self._tls.aclose()


class DirectPools:
    """httpcore pools for direct (no proxy) connections; httpx's transport shares them."""

    def __init__(
        self,
        *,
        http2: bool,
        max_connections: int,
        per_pool: int,
        keepalive_expiry: float | None = 5.0,
        socket_options: Iterable[_SocketOption] | None = None,
        verify_tls: bool = True,
        ca_file: str | None = None,
    ) -> None:
        backend = AsyncioBackend()
        total = max_connections or 100
        options = list(socket_options) if socket_options else None

        def make(tls: bool) -> ShardedPool:
            context = tls_context(verify_tls, ca_file) if tls else None
            per = min(per_pool, total)

            def pool() -> httpcore.AsyncConnectionPool:
                return httpcore.AsyncConnectionPool(
                    ssl_context=context,
                    max_connections=per,
                    max_keepalive_connections=per,
                    keepalive_expiry=keepalive_expiry,
                    http1=True,
                    http2=http2,
                    network_backend=backend,
                    socket_options=options,
                )

            return ShardedPool(pool, per, -(-total // per))

        self.router = _SchemeRouter(make)

    async def send(self, request: httpcore.Request) -> httpcore.Response:
        """``request`` straight to the pools, with httpcore's own exceptions."""
        return await self.router.handle_async_request(request)

    async def aclose(self) -> None:
        await self.router.aclose()


def tls_context(verify: bool = True, ca_file: str | None = None) -> ssl.SSLContext:
    """httpx's default verifying context (its CA bundle, its ``SSL_CERT_*`` rules), or one
    that trusts only ``ca_file``'s CAs (``--ca-file``, as curl's --cacert replaces the
    bundle); without verification only for ``--insecure``."""
    import httpx

    if verify and ca_file is not None:
        return ssl.create_default_context(cafile=ca_file)
    return httpx.create_ssl_context(verify=verify)
