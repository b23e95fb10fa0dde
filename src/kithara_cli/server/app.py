"""MediaServer: aiohttp's low-level web server on its own loop in a background thread."""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import HttpVersion10, web
from multidict import CIMultiDict

from .bodies import Body, BytesBody, EndlessBody, FileBody, encode
from .cut import cut_connection
from .faults import NO_FAULTS, Faults, FaultTable, Route
from .radio import RadioRoute, Station, link_text
from .resource import (
    FileInfo,
    RangeNotSatisfiable,
    content_type_for,
    if_range_allows,
    not_modified,
    parse_range,
    resolve_file,
)
from .stats import ServerStats
from .throttle import sleep_until, slice_size

log = logging.getLogger(__name__)

RouteHandler = Callable[[str, dict[str, str], float], tuple[int, Mapping[str, str], bytes]]
"""handler(request_path, query, now) -> (status, headers, body); ``now`` is seconds since start."""

HOP_PARAM = "_kithara_hop"
"""Query parameter that numbers the hops of a redirect chain; never passed to route handlers."""

UNPACED_CHUNK = 256 * 1024
SHUTDOWN_GRACE_S = 0.2
START_TIMEOUT_S = 10.0


class MediaServer:
    """Serves files under ``root`` over loopback HTTP, with scriptable faults per route."""

    def __init__(
        self,
        root: Path | str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sock: socket.socket | None = None,
    ) -> None:
        """``sock``: a socket already listening (its address wins over ``host``/``port``), so
        a caller can hand out the URL before the server is up: connections wait in its
        backlog until then (the demo starts its server while the player loads)."""
        self.root = Path(root).resolve()
        self._sock = sock
        self.host = host if sock is None else str(sock.getsockname()[0])
        self._requested_port = port
        self.stats = ServerStats()
        self._faults = FaultTable()
        self._routes: dict[str, RouteHandler] = {}
        self._routes_lock = threading.Lock()
        self._radios: dict[str, RadioRoute] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.ServerRunner | None = None
        self._port: int | None = None
        self._t_start = time.monotonic()

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> MediaServer:
        """Start listening; returns once the socket accepts connections."""
        if self._thread is not None:
            raise RuntimeError("MediaServer already started")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(
            target=self._run_loop, args=(loop, ready), name="kithara-media-server", daemon=True
        )
        thread.start()
        ready.wait()
        self._loop, self._thread = loop, thread
        try:
            asyncio.run_coroutine_threadsafe(self._astart(), loop).result(START_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop listening, cancel in-flight responses, end the thread. Idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if self._runner is not None:
                fut = asyncio.run_coroutine_threadsafe(self._astop(), loop)
                fut.result(timeout=10)
        except Exception:  # a failed cleanup must not leave the thread behind
            log.exception("media server cleanup failed")
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            self._loop = self._thread = None
            self._runner = None

    def __enter__(self) -> MediaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())  # getaddrinfo's threads
            loop.close()

    async def _astart(self) -> None:
        server = web.Server(self._handle, handler_cancellation=True, access_log=None)
        runner = web.ServerRunner(server, shutdown_timeout=SHUTDOWN_GRACE_S)
        await runner.setup()
        self._runner = runner
        site: web.BaseSite
        if self._sock is not None:
            site = web.SockSite(runner, self._sock)
        else:
            site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._port = runner.addresses[0][1]
        self._t_start = time.monotonic()
        self._faults.rebase(self._t_start)

    async def _astop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- public surface -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("MediaServer not started")
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def set_faults(self, pattern: str, faults: Faults) -> None:
        """Apply ``faults`` to paths matching ``pattern`` (fnmatch, no leading "/").

        The newest matching pattern wins; setting a pattern again restarts its counters and
        its bandwidth profile. ``*`` also matches "/", so "*.ts" covers "hls/a/seg1.ts".
        """
        self._faults.set(pattern, faults)

    def clear_faults(self) -> None:
        self._faults.clear()

    def add_route(self, path: str, handler: RouteHandler) -> None:
        """Serve ``path`` from ``handler(request_path, query, now)`` instead of a file.

        Called on the server thread for every GET/HEAD, after latency, failures and redirects;
        ``now`` is monotonic seconds since start(). Faults on the body apply; Range does not.
        """
        with self._routes_lock:
            self._routes[path.lstrip("/")] = handler

    def add_radio(self, path: str, station: Station | RadioRoute) -> RadioRoute:
        """Serve ``station`` (an endless ICY mount, see ``server.radio``) on ``path``, or a
        mount built beforehand (``server.ogg_radio.OggMount``)."""
        radio = station if isinstance(station, RadioRoute) else RadioRoute(station)
        with self._routes_lock:
            self._radios[path.lstrip("/")] = radio
        return radio

    def add_link(
        self, path: str, kind: str, urls: list[str], titles: list[str] | None = None
    ) -> None:
        """Serve a station link (``pls``, ``m3u``, ``extm3u``, ``xspf``) listing ``urls``."""
        body, content_type = link_text(kind, urls, titles or [])
        data = body.encode("utf-8")
        self.add_route(path, lambda _p, _q, _now: (200, {"Content-Type": content_type}, data))

    # --- request handling ---------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path.lstrip("/")
        route = self._faults.match(path)
        faults = route.faults if route is not None else NO_FAULTS
        if faults.latency > 0:
            await asyncio.sleep(faults.latency)
        if request.method not in ("GET", "HEAD"):
            return self._plain(request, path, 405, {"Allow": "GET, HEAD"})
        number = 0
        if route is not None:
            number = route.count_request(path)
            if number <= faults.fail_first:
                headers: dict[str, str] = {}
                if faults.retry_after is not None:
                    headers["Retry-After"] = f"{faults.retry_after:g}"
                return self._plain(request, path, faults.fail_status, headers)
            hop = _hop(request)
            if hop < faults.redirects:
                query = [(k, v) for k, v in request.query.items() if k != HOP_PARAM]
                query.append((HOP_PARAM, str(hop + 1)))
                # One leading "/" only: "//host" would be read as another server.
                location = f"/{request.rel_url.raw_path.lstrip('/')}?{urlencode(query)}"
                return self._plain(request, path, 302, {"Location": location})
        with self._routes_lock:
            dynamic = self._routes.get(path)
            radio = self._radios.get(path)
        if radio is not None:
            self.stats.record(request.method, path, request.headers.get("Range"), 200)
            return await radio.handle(request)
        if dynamic is not None:
            return await self._serve_dynamic(request, path, dynamic, route, faults)
        info = resolve_file(self.root, faults.swapped(path, number))
        if info is None:
            return self._plain(request, path, 404)
        return await self._serve_file(request, path, info, route, faults, number)

    def _plain(
        self,
        request: web.BaseRequest,
        path: str,
        status: int,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        """A short text response made by the server itself (errors, redirects)."""
        self.stats.record(
            request.method,
            path,
            request.headers.get("Range"),
            status,
            headers=tuple(request.headers.items()),
        )
        resp = web.Response(status=status, headers=headers)
        if status not in (204, 304):
            resp.text = f"{status} {resp.reason}\n"
        return resp

    async def _serve_file(
        self,
        request: web.BaseRequest,
        path: str,
        info: FileInfo,
        route: Route | None,
        faults: Faults,
        number: int = 0,
    ) -> web.StreamResponse:
        headers: CIMultiDict[str] = CIMultiDict()
        headers["Content-Type"] = content_type_for(path)
        if not faults.no_validators:
            etag = info.etag
            if faults.etag_per_request:
                etag = f'{etag[:-1]}-r{number}"'
            headers["ETag"] = etag
            headers["Last-Modified"] = info.last_modified
        if faults.cache_control is not None:
            headers["Cache-Control"] = faults.cache_control
        if (
            not faults.no_validators
            and not faults.endless
            and not_modified(
                request.headers.get("If-None-Match"),
                request.headers.get("If-Modified-Since"),
                headers["ETag"],
                info,
            )
        ):
            return self._plain(request, path, 304, headers)
        whole_only = faults.ignore_range or faults.content_encoding or faults.endless
        if faults.http10:
            request._version = HttpVersion10  # aiohttp answers in the request's version
        if faults.endless:
            endless = EndlessBody(info.path.read_bytes())
            return await self._send(request, path, 200, headers, endless, route, faults)
        if faults.content_encoding:
            headers["Content-Encoding"] = faults.content_encoding
            encoded = BytesBody(encode(info.path.read_bytes(), faults.content_encoding))
            return await self._send(request, path, 200, headers, encoded, route, faults)
        if not whole_only:
            headers["Accept-Ranges"] = "bytes"
        status, first, length = 200, 0, info.size
        range_header = request.headers.get("Range")
        if range_header is not None and not whole_only:
            if_range = request.headers.get("If-Range")
            if (
                if_range is None
                or faults.ignore_if_range
                or (not faults.etag_per_request and if_range_allows(if_range, info))
            ):
                try:
                    byte_range = parse_range(range_header, info.size)
                except RangeNotSatisfiable:
                    del headers["Content-Type"]
                    headers["Content-Range"] = f"bytes */{info.size}"
                    return self._plain(request, path, 416, headers)
                if byte_range is not None:
                    first, last = byte_range
                    status, length = 206, last - first + 1
                    headers["Content-Range"] = f"bytes {first}-{last}/{info.size}"
        body = FileBody(info, first, length)
        return await self._send(request, path, status, headers, body, route, faults)

    async def _serve_dynamic(
        self,
        request: web.BaseRequest,
        path: str,
        handler: RouteHandler,
        route: Route | None,
        faults: Faults,
    ) -> web.StreamResponse:
        query = {k: v for k, v in request.query.items() if k != HOP_PARAM}
        try:
            status, raw_headers, data = handler(path, query, time.monotonic() - self._t_start)
        except Exception:
            log.exception("route handler for %s failed", path)
            return self._plain(request, path, 500)
        headers: CIMultiDict[str] = CIMultiDict(raw_headers)
        for name in ("Content-Length", "Transfer-Encoding"):
            headers.popall(name, None)
        headers.setdefault("Content-Type", content_type_for(path))
        if status < 200 or status in (204, 304):
            data = b""
        return await self._send(request, path, status, headers, BytesBody(data), route, faults)

    async def _send(
        self,
        request: web.BaseRequest,
        path: str,
        status: int,
        headers: CIMultiDict[str],
        body: Body,
        route: Route | None,
        faults: Faults,
    ) -> web.StreamResponse:
        """Send headers, then the body: by sendfile when nothing needs byte-level control."""
        resp = web.StreamResponse(status=status, headers=headers)
        if faults.http10:
            resp.force_close()  # an HTTP/1.0 server: one response per connection
        if not faults.no_content_length and body.length is not None:
            resp.content_length = body.length
        is_head = request.method == "HEAD"
        cuts = False
        if route is not None and not is_head:
            cuts = faults.faults_times is None or route.count_body(path) <= faults.faults_times
        headers_in = request.headers
        self.stats.record(
            request.method,
            path,
            headers_in.get("Range"),
            status,
            headers_in.get("If-Range"),
            tuple(headers_in.items()),
        )
        try:
            await resp.prepare(request)  # a StreamResponse sends its headers right away
            if is_head or body.length == 0:
                await resp.write_eof()
                return resp
            if faults.first_byte_delay > 0:
                await asyncio.sleep(faults.first_byte_delay)
            reset_at = faults.reset_after if cuts else None
            close_at = faults.close_after if cuts else None
            stall_at = faults.stall_after if cuts else None
            plain = reset_at is None and close_at is None and stall_at is None
            if (
                plain
                and not faults.paced
                and not faults.no_content_length
                and isinstance(body, FileBody)
            ):
                await self._sendfile(request, resp, path, body)
            else:
                await self._write_body(
                    request, resp, path, body, route, faults, reset_at, close_at, stall_at
                )
        except ConnectionError:
            pass  # the client went away; nothing left to tell it
        finally:
            body.close()
        return resp

    async def _sendfile(
        self, request: web.BaseRequest, resp: web.StreamResponse, path: str, body: FileBody
    ) -> None:
        """Kernel sendfile, as aiohttp's FileResponse does: loopback speed with no copies."""
        transport = request.transport
        if transport is None:
            raise ConnectionResetError("connection lost")
        loop = asyncio.get_running_loop()
        length = body.length or 0  # a file body always knows its length
        with open(body.info.path, "rb") as fh:
            fh.seek(body.first)
            self.stats.add_bytes(path, length)  # counted before, so readers never lag
            try:
                await loop.sendfile(transport, fh, body.first, length)
            except BaseException:
                self.stats.add_bytes(path, fh.tell() - body.first - length)
                raise
        await resp.write_eof()

    async def _write_body(
        self,
        request: web.BaseRequest,
        resp: web.StreamResponse,
        path: str,
        body: Body,
        route: Route | None,
        faults: Faults,
        reset_at: int | None,
        close_at: int | None,
        stall_at: int | None,
    ) -> None:
        """Write the body in slices, paced by the route's pacers, cut or stalled as asked."""
        pacers = route.pacers() if route is not None and faults.paced else []
        length = body.length if body.length is not None else math.inf
        cut_at = min((n for n in (reset_at, close_at) if n is not None), default=None)
        limit = length if cut_at is None or cut_at >= length else cut_at
        stalled = stall_at is None or stall_at >= length
        sent = 0
        while True:
            if not stalled and sent == stall_at:
                await asyncio.sleep(faults.stall_seconds)
                stalled = True
            if sent >= limit:
                break
            now = time.monotonic()
            if pacers:
                n = slice_size(min(p.schedule.rate_at(now) for p in pacers))
            else:
                n = UNPACED_CHUNK
            n = int(min(n, limit - sent))
            if not stalled and stall_at is not None:
                n = int(min(n, stall_at - sent))
            if pacers:
                deadline = max([p.reserve(n, now) for p in pacers])
                await sleep_until(deadline, time.monotonic())
            data = body.read(n)
            if not data:
                raise ConnectionAbortedError(f"{path} shrank while being served")
            self.stats.add_bytes(path, len(data))
            await resp.write(data)
            sent += len(data)
        if limit < length:
            await cut_connection(
                request.transport, reset=reset_at is not None and reset_at == cut_at
            )
            resp.force_close()
            return
        await resp.write_eof()


def _hop(request: web.BaseRequest) -> int:
    try:
        hop = int(request.query.get(HOP_PARAM, "0"))
    except ValueError:
        return 0
    return max(hop, 0)
