"""An Icecast Ogg mount on loopback: a chained Ogg stream looped forever, joined at the edge.

Icecast serves Ogg (Vorbis, Opus) mounts without ICY metadata blocks: the now-playing title is
in the stream, as the comment header of each new chain link. A listener that joins mid-link
first gets that link's header pages (Icecast keeps them for this), then the broadcast from
the next page on, so its decoder starts cleanly. :class:`OggMount` does the same over a
:class:`~kithara_cli.server.radio.Station` whose ``audio`` is a chained Ogg file (looping it
back to byte 0 starts a new link, which is a valid chain); pacing, the live edge and the
scripted cuts are the ICY mount's. Pages are found by their headers (``OggS``, the segment
table), not by any decoder.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from aiohttp import HttpVersion10, web

from kithara_cli.server.radio import RadioRoute, Station, _Broadcast, _cut

BOS = 0x02
NO_GRANULE = (1 << 64) - 1  # a page on which no packet ends


@dataclass(frozen=True)
class OggPage:
    offset: int
    size: int
    bos: bool
    granule: int


def ogg_pages(data: bytes) -> list[OggPage]:
    """Every page of an Ogg stream, in order; stops at the first byte that is not a page."""
    pages: list[OggPage] = []
    pos = 0
    while pos + 27 <= len(data) and data[pos : pos + 4] == b"OggS":
        count = data[pos + 26]
        table = data[pos + 27 : pos + 27 + count]
        size = 27 + count + sum(table)
        granule = int.from_bytes(data[pos + 6 : pos + 14], "little")
        pages.append(OggPage(pos, size, bool(data[pos + 5] & BOS), granule))
        pos += size
    return pages


def link_headers(pages: list[OggPage]) -> dict[int, tuple[int, int]]:
    """Page index -> (start, end) bytes of the header pages of the link that page is in.

    A link's headers are its pages from BOS up to the first page that ends an audio packet
    (granule position neither 0 nor "none")."""
    spans: list[tuple[int, int]] = []
    link_of: list[int] = []
    in_headers = False
    for page in pages:
        if page.bos or not spans:
            spans.append((page.offset, page.offset))
            in_headers = True
        if in_headers and page.granule in (0, NO_GRANULE):
            spans[-1] = (spans[-1][0], page.offset + page.size)
        else:
            in_headers = False
        link_of.append(len(spans) - 1)
    return {i: spans[link] for i, link in enumerate(link_of)}


class _OggBroadcast(_Broadcast):
    """A listener's view: the current link's headers, then the loop from a page boundary."""

    def __init__(self, station: Station, start: int, pages: list[OggPage]) -> None:
        super().__init__(station, start, with_meta=False)
        data = station.audio
        pos = start % len(data)
        index = next((i for i, p in enumerate(pages) if p.offset >= pos), len(pages))
        self.prefix = b""
        if index < len(pages):
            head_start, head_end = link_headers(pages)[index]
            begin = pages[index].offset
            if begin >= head_end:  # mid-link: its headers first
                self.prefix = data[head_start:head_end]
            else:  # inside the headers: from the link's first page
                begin = head_start
            self.audio_pos = start - pos + begin
        else:  # past the last page: the loop's next round starts with a BOS
            self.audio_pos = start - pos + len(data)

    def read(self, n: int) -> bytes:
        if self.prefix:
            head, self.prefix = self.prefix[:n], self.prefix[n:]
            return head
        return super().read(n)


class OggMount(RadioRoute):
    """Serves a chained Ogg ``station`` (``content_type`` audio/ogg) as Icecast would."""

    def __init__(self, station: Station) -> None:
        super().__init__(station)
        self.pages = ogg_pages(station.audio)
        if not self.pages or not self.pages[0].bos:
            raise ValueError("the station's audio is not an Ogg stream")

    def headers(self, with_meta: bool) -> list[tuple[str, str]]:
        return super().headers(False)  # Icecast adds no ICY blocks to Ogg

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        st = self.station
        self.connections += 1
        cut = st.drop_times is None or self.cuts < st.drop_times
        broadcast = _OggBroadcast(st, self.live_offset(), self.pages)
        self.starts.append(broadcast.audio_pos)
        request._version = HttpVersion10  # close-delimited, not chunked, as Icecast answers
        resp = web.StreamResponse(status=200, headers=self.headers(False))
        resp.force_close()
        await resp.prepare(request)
        if request.method == "HEAD":
            return resp
        with contextlib.suppress(ConnectionError):
            if await self._pump(broadcast, resp.write, cut):
                await _cut(request.transport, reset=st.drop_reset)
        return resp
