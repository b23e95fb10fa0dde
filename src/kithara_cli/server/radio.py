"""Radio routes: an Icecast/SHOUTcast mount imitated on loopback, and station-link files.

A :class:`Station` loops a file's bytes as an endless broadcast on a shared timeline: a new
connection joins at the live edge (where the broadcast is now), as a real mount does, unless
``live_edge`` is off (then every connection starts at byte 0, so two requests can be compared).
With the request header ``Icy-MetaData: 1`` the answer carries ``icy-metaint`` and a metadata
block after every ``metaint`` audio bytes; the scripted titles change every ``title_every``
audio bytes of the broadcast. ``icy_status`` answers with SHOUTcast v1's ``ICY 200 OK`` status
line, written on the raw socket since no HTTP library will send it. Connections can be cut
after N bytes or N seconds (RST, clean close), and the next K connections refused with a 5xx.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from aiohttp import HttpVersion10, web

from .cut import cut_connection

SLICES_PER_SECOND = 50
UNPACED_SLICE = 64 * 1024


@dataclass(frozen=True)
class Station:
    """What a mount broadcasts and how it misbehaves (see the module docstring)."""

    audio: bytes
    bitrate: int  # bits per second of ``audio``: the real-time pace and ``icy-br``
    content_type: str = "audio/mpeg"
    pace: float = 1.0  # multiple of real time; 0 = as fast as the socket takes it
    metaint: int = 16000
    titles: Sequence[str | bytes] = ()  # bytes are sent as they are (e.g. Latin-1)
    title_every: int = 0  # audio bytes of the broadcast per title; 0: the first title only
    name: str = "Kithara Test Radio"
    genre: str = "Test"
    description: str = "a looped tone"
    icy_url: str = "http://example.invalid/"
    icy_status: bool = False
    live_edge: bool = True
    drop_after_bytes: int | None = None  # body bytes (metadata included) per connection
    drop_after_seconds: float | None = None
    drop_reset: bool = False  # RST rather than a clean close
    drop_times: int | None = None  # only the first N connections are cut (None: all)
    refuse_after_drop: int = 0  # after each cut, refuse this many connections with 503

    @property
    def byterate(self) -> float:
        return self.bitrate / 8

    def title_at(self, audio_offset: int) -> bytes:
        """The title on air at this byte of the broadcast (raw bytes for the block)."""
        if not self.titles:
            return b""
        index = audio_offset // self.title_every if self.title_every > 0 else 0
        title = self.titles[index % len(self.titles)] if self.title_every > 0 else self.titles[0]
        return title if isinstance(title, bytes) else title.encode("utf-8")


def metadata_block(title: bytes, url: bytes = b"") -> bytes:
    """One ICY metadata block: length byte, then ``StreamTitle='...';`` NUL-padded to 16s."""
    text = b"StreamTitle='" + title + b"';"
    if url:
        text += b"StreamUrl='" + url + b"';"
    blocks = -(-len(text) // 16)
    if blocks > 255:
        raise ValueError("metadata longer than 4080 bytes")
    return bytes([blocks]) + text.ljust(blocks * 16, b"\0")


class _Broadcast:
    """One connection's view of a station: audio from an offset, blocks interleaved."""

    def __init__(self, station: Station, start: int, with_meta: bool) -> None:
        self.station = station
        self.audio_pos = start  # next byte of the broadcast to send
        self.with_meta = with_meta
        self.to_block = station.metaint
        self.sent_title: bytes | None = None

    def read(self, n: int) -> bytes:
        """About ``n`` bytes of the response body (a block is never split across calls)."""
        st = self.station
        data = st.audio
        out = bytearray()
        while len(out) < n:
            take = n - len(out)
            if self.with_meta:
                take = min(take, self.to_block)
            pos = self.audio_pos % len(data)
            chunk = data[pos : pos + take]
            out += chunk
            self.audio_pos += len(chunk)
            if self.with_meta:
                self.to_block -= len(chunk)
                if self.to_block == 0:
                    self.to_block = st.metaint
                    title = st.title_at(self.audio_pos)
                    if title != self.sent_title:
                        self.sent_title = title
                        out += metadata_block(title)
                    else:
                        out += b"\0"
        return bytes(out)


class RadioRoute:
    """Serves one :class:`Station` on one path; counts connections for the scripted cuts."""

    def __init__(self, station: Station) -> None:
        self.station = station
        self.t0 = time.monotonic()
        self.connections = 0
        self.cuts = 0
        self._refuse = 0
        self.bytes_sent = 0
        self.meta_connections = 0  # connections that asked for metadata blocks
        self.starts: list[int] = []  # the broadcast offset each connection joined at

    def headers(self, with_meta: bool) -> list[tuple[str, str]]:
        st = self.station
        out = [
            ("Content-Type", st.content_type),
            ("icy-name", st.name),
            ("icy-genre", st.genre),
            ("icy-br", str(round(st.bitrate / 1000))),
            ("icy-description", st.description),
            ("icy-url", st.icy_url),
            ("icy-pub", "0"),
            ("Cache-Control", "no-cache"),
        ]
        if with_meta:
            out.append(("icy-metaint", str(st.metaint)))
        return out

    def live_offset(self) -> int:
        st = self.station
        if not st.live_edge:
            return 0
        pace = st.pace if st.pace > 0 else 1.0
        return int((time.monotonic() - self.t0) * st.byterate * pace)

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        st = self.station
        self.connections += 1
        if self._refuse > 0:
            self._refuse -= 1
            refused = web.Response(status=503, text="503 stream unavailable\n")
            refused.force_close()
            return refused
        with_meta = request.headers.get("Icy-MetaData", "").strip() == "1"
        self.meta_connections += with_meta
        cut = st.drop_times is None or self.cuts < st.drop_times
        broadcast = _Broadcast(st, self.live_offset(), with_meta)
        self.starts.append(broadcast.audio_pos)
        if st.icy_status:
            return await self._serve_icy(request, broadcast, cut)
        return await self._serve_http(request, broadcast, self.headers(with_meta), cut)

    async def _serve_http(
        self,
        request: web.BaseRequest,
        broadcast: _Broadcast,
        headers: list[tuple[str, str]],
        cut: bool,
    ) -> web.StreamResponse:
        """A 200 with ``headers``, close-delimited as Icecast answers, then the broadcast."""
        request._version = HttpVersion10  # close-delimited, not chunked
        resp = web.StreamResponse(status=200, headers=headers)
        resp.force_close()
        await resp.prepare(request)
        if request.method == "HEAD":
            return resp
        with contextlib.suppress(ConnectionError):
            if await self._pump(broadcast, resp.write, cut):
                await cut_connection(request.transport, reset=self.station.drop_reset)
        return resp

    async def _serve_icy(
        self, request: web.BaseRequest, broadcast: _Broadcast, cut: bool
    ) -> web.StreamResponse:
        """``ICY 200 OK``: status line and headers by hand on the raw transport."""
        transport = request.transport
        if transport is None:
            raise ConnectionResetError("connection lost")
        lines = self.headers(broadcast.with_meta)
        head = "ICY 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in lines)
        transport.write((head + "\r\n").encode("latin-1"))

        async def write(data: bytes) -> None:
            if transport.is_closing():
                raise ConnectionResetError("client went away")
            transport.write(data)
            while transport.get_write_buffer_size() > 256 * 1024:
                if transport.is_closing():
                    raise ConnectionResetError("client went away")
                await asyncio.sleep(0.005)

        with contextlib.suppress(ConnectionError):
            await self._pump(broadcast, write, cut)
        await cut_connection(transport, reset=self.station.drop_reset)
        raise asyncio.CancelledError  # the answer is already on the wire: aiohttp adds nothing

    async def _pump(self, broadcast: _Broadcast, write: object, cut: bool) -> bool:
        """Write the broadcast at its pace; True when a scripted cut ends it."""
        st = self.station
        started = time.monotonic()
        limit = st.drop_after_bytes if cut else None
        deadline = started + st.drop_after_seconds if cut and st.drop_after_seconds else None
        rate = st.byterate * st.pace if st.pace > 0 else 0.0
        step = max(256, int(rate / SLICES_PER_SECOND)) if rate else UNPACED_SLICE
        sent = 0
        audio_start = broadcast.audio_pos
        assert callable(write)
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            n = step if limit is None else min(step, limit - sent)
            if n <= 0:
                break
            if rate:
                due = started + (broadcast.audio_pos - audio_start) / rate
                if due > now:
                    await asyncio.sleep(due - now)
            data = broadcast.read(n)
            await write(data)
            sent += len(data)
            self.bytes_sent += len(data)
            if not rate:
                await asyncio.sleep(0)
        self.cuts += 1
        self._refuse = st.refuse_after_drop
        return True


# --- station links ---------------------------------------------------------------------------


def pls_text(urls: Sequence[str], titles: Sequence[str] = ()) -> str:
    lines = ["[playlist]", f"NumberOfEntries={len(urls)}"]
    for i, url in enumerate(urls, 1):
        lines.append(f"File{i}={url}")
        if i <= len(titles):
            lines.append(f"Title{i}={titles[i - 1]}")
        lines.append(f"Length{i}=-1")
    lines.append("Version=2")
    return "\n".join(lines) + "\n"


def m3u_text(urls: Sequence[str], titles: Sequence[str] = (), *, extended: bool = False) -> str:
    if not extended:
        return "\n".join(urls) + "\n"
    lines = ["#EXTM3U"]
    for i, url in enumerate(urls):
        title = titles[i] if i < len(titles) else f"Mirror {i + 1}"
        lines += [f"#EXTINF:-1,{title}", url]
    return "\n".join(lines) + "\n"


def xspf_text(urls: Sequence[str], titles: Sequence[str] = ()) -> str:
    tracks = []
    for i, url in enumerate(urls):
        title = titles[i] if i < len(titles) else f"Mirror {i + 1}"
        tracks.append(
            f"<track><location>{escape(url)}</location><title>{escape(title)}</title></track>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<playlist version="1" xmlns="http://xspf.org/ns/0/"><trackList>'
        + "".join(tracks)
        + "</trackList></playlist>\n"
    )


LINK_TYPES = {
    "pls": "audio/x-scpls",
    "m3u": "audio/x-mpegurl",
    "xspf": "application/xspf+xml",
}


def link_text(kind: str, urls: Sequence[str], titles: Sequence[str] = ()) -> tuple[str, str]:
    """(body, Content-Type) of a station link: ``pls``, ``m3u``, ``extm3u`` or ``xspf``."""
    if kind == "pls":
        return pls_text(urls, titles), LINK_TYPES["pls"]
    if kind == "m3u":
        return m3u_text(urls), LINK_TYPES["m3u"]
    if kind == "extm3u":
        return m3u_text(urls, titles, extended=True), LINK_TYPES["m3u"]
    if kind == "xspf":
        return xspf_text(urls, titles), LINK_TYPES["xspf"]
    raise ValueError(f"unknown link kind {kind!r}")
