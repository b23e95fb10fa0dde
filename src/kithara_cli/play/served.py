"""What a response holds, told by its first bytes where its Content-Type may not say.

A Wi-Fi login page (the captive portal answers every URL with 200 and text/html), a station
link or an HLS playlist served under a plain name as text/plain or octet-stream, or audio
for the decoder to judge: mpv and ffplay probe content the same way. Audio and video types
are taken at their word (no wait for a byte before the decoder starts), except from a live
stream, whose demuxer is chosen by its bytes (``live_hint``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from kithara_cli.audio.mp3_frames import id3v2_size, parse_header
from kithara_cli.errors import UnsupportedError
from kithara_cli.hls.sniff import adts_frame_length
from kithara_cli.radio.links import link_kind, media_type

SNIFF_BYTES = 4096
MEDIA_TYPES = ("application/ogg", "application/x-ogg", "application/mp4")
HTML_TYPES = ("text/html", "application/xhtml+xml")
_PAGE_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body")
_LIST_STARTS = (b"#extm3u", b"[playlist]", b"http://", b"https://")


def worth_sniffing(content_type: str | None) -> bool:
    """True unless the type names audio or video."""
    ctype = media_type(content_type)
    return not ctype.startswith(("audio/", "video/")) and ctype not in MEDIA_TYPES


def served_kind(first: bytes, content_type: str | None) -> Literal["page", "list"] | None:
    """ "page" (a web page), "list" (a station link or an HLS playlist), or None."""
    head = first.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].lower()
    if head.startswith(_LIST_STARTS) or link_kind(first) is not None:
        return "list"
    if head.startswith(_PAGE_STARTS):
        return "page"
    if media_type(content_type) in HTML_TYPES and head.startswith(b"<"):
        return "page"
    return None


LIVE_SNIFF_BYTES = 8192  # a few frames of any codec a radio sends, mid-frame start included


MAX_LEADING_TAGS = 3  # ID3v2 tags one after another (a re-tagger that appended its own)


def audio_start(read_at: Callable[[int, int], bytes], total: int) -> int:
    """Where the audio of a file that starts with ID3v2 tags begins (0: no tag, or not sure).

    Only where the tags are followed by an MPEG audio or ADTS frame sync, or by FLAC's
    marker: a decoder shown the file from there plays the same frames without reading
    the tags (cover art, often hundreds of KB). ``read_at`` waits for the bytes it returns."""
    start = 0
    for _ in range(MAX_LEADING_TAGS):
        size = id3v2_size(read_at(start, 10))
        if size == 0 or start + size + 4 > total:
            break
        start += size
        head = read_at(start, 4)
        if len(head) == 4 and (head == b"fLaC" or (head[0] == 0xFF and head[1] & 0xE0 == 0xE0)):
            return start
    return 0


def page_error(url: str, content_type: str | None = None) -> UnsupportedError:
    """The one line for a web page met where audio or a playlist was expected."""
    what = media_type(content_type) or "HTML"
    return UnsupportedError(
        f"not audio: {url} is a web page ({what}); a Wi-Fi login page, or a page that links "
        "to the stream?"
    )


def refuse_page(body: bytes, url: str) -> None:
    """Raise ``page_error`` when a playlist's body is a web page (its name said playlist)."""
    if served_kind(body, None) == "page":
        raise page_error(url)


def live_hint(first: bytes, content_type: str | None) -> tuple[str | None, bool]:
    """The demuxer a live stream's first bytes call for, and whether they settled it.

    A live stream is opened with its demuxer named, not probed (joined mid-frame, FFmpeg
    would read seconds of it before trusting it), so a Content-Type that lies (AAC sent as
    audio/mpeg, MP3 as octet-stream or audio/aacp: SHOUTcast servers do) cost 4-9 s of
    start-up. An Ogg page, or three MP3 or ADTS AAC frames in a row, settle it; so does a
    frame of the kind the Content-Type names that runs to the end of what came (no wait for
    more: the usual truthful case). Else the Content-Type stands (None: probe).
    """
    claimed = _CLAIMS.get(media_type(content_type))
    if b"OggS" in first or (claimed == "audio/ogg" and first):
        return "audio/ogg", True  # (Icecast sends an Ogg stream's headers first: no wait)
    at = first.find(b"\xff")
    while at >= 0:
        for kind, frame in (("audio/mpeg", _mp3_frame), ("audio/aac", _adts_frame)):
            count, ran_off = _frames(first, at, frame)
            if count >= 3 or (count >= 1 and ran_off and kind == claimed):
                return kind, True
        at = first.find(b"\xff", at + 1)
    return content_type, False


_CLAIMS = {
    "audio/mpeg": "audio/mpeg",
    "audio/mp3": "audio/mpeg",
    "audio/aac": "audio/aac",
    "audio/aacp": "audio/aac",
    "audio/x-aac": "audio/aac",
    "audio/ogg": "audio/ogg",
    "application/ogg": "audio/ogg",
    "audio/opus": "audio/ogg",
}


def _frames(data: bytes, at: int, frame: Callable[[bytes, int], int]) -> tuple[int, bool]:
    """Frames in a row from ``at`` (up to 3), and whether they ran to the end of ``data``."""
    count = 0
    while count < 3:
        if at + 8 > len(data):
            return count, True
        size = frame(data, at)
        if size <= 0:
            return count, False
        count, at = count + 1, at + size
    return count, at >= len(data)


def _mp3_frame(data: bytes, at: int) -> int:
    header = parse_header(data, at)
    return header.size if header is not None else 0


def _adts_frame(data: bytes, at: int) -> int:
    return adts_frame_length(data[at : at + 7]) or 0
