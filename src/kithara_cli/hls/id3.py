"""Now-playing titles in HLS segments: ID3v2 tags of packed audio and timed ID3 in MPEG-TS.

HLS radio puts the title in the segments, not the playlist: a packed-audio segment (.aac,
.mp3) starts with an ID3v2 tag (TIT2/TPE1, TXXX, and Apple's PRIV timestamp, RFC 8216 3.4),
and an MPEG-TS segment may carry timed ID3 in a PES stream of its own (``ts_id3``). FFmpeg
reads only the first tag of an HLS audio stream and PyAV gives no data streams of a run, so
the source parses each segment as it lands and queues its titles at their timeline second.

Written by hand: no ID3 library is a dependency (mutagen is not installed), and the part
needed - text frames of v2.2/2.3/2.4, unsynchronisation, the extended header - is small. The
parser never raises on hostile bytes: sizes are clamped to the data, and a frame it cannot
read (compressed, encrypted, cut) is skipped. Text is raw network text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kithara_cli.hls.sniff import PACKED
from kithara_cli.hls.ts_id3 import timed_id3
from kithara_cli.radio.titles import title_from_tags

APPLE_TS_OWNER = "com.apple.streaming.transportStreamTimestamp"
MAX_TAGS = 8  # leading tags read from one segment (a hostile one could chain thousands)


@dataclass
class Id3Tag:
    """One ID3v2 tag: its text frames (``TIT2``, ``TPE1``, ``TXXX:desc``, v2.2 ids mapped to
    v2.3 ones), the Apple PRIV timestamp if any, and the bytes it takes."""

    size: int
    text: dict[str, str] = field(default_factory=dict)
    timestamp_90k: int | None = None

    def title(self) -> tuple[str, str] | None:
        """(title, url) to show, or None when the tag names no title."""
        t = self.text
        tags = {
            "title": t.get("TIT2") or t.get("TXXX:TITLE") or t.get("TXXX:STREAMTITLE", ""),
            "artist": t.get("TPE1") or t.get("TXXX:ARTIST", ""),
        }
        title = title_from_tags(tags)
        if title is None:
            return None
        return title, t.get("WXXX") or t.get("TXXX:URL", "")


_V22 = {"TT2": "TIT2", "TP1": "TPE1", "TXX": "TXXX", "WXX": "WXXX"}


def _syncsafe(b: bytes) -> int:
    return (b[0] & 0x7F) << 21 | (b[1] & 0x7F) << 14 | (b[2] & 0x7F) << 7 | (b[3] & 0x7F)


def _resync(data: bytes) -> bytes:
    """Undo unsynchronisation: every 0xFF 0x00 was a 0xFF."""
    return data.replace(b"\xff\x00", b"\xff")


def _decode(encoding: int, raw: bytes) -> str:
    """A text field in its encoding, NULs (terminators, v2.4's separators) kept."""
    if encoding == 1:
        return raw.decode("utf-16", "replace") if len(raw) >= 2 else ""
    if encoding == 2:
        return raw.decode("utf-16-be", "replace")
    if encoding == 3:
        return raw.decode("utf-8", "replace")
    return raw.decode("latin-1")


def _values(text: str) -> str:
    """v2.4 separates several values with NUL: shown joined."""
    return " / ".join(v for v in text.replace("\ufeff", "").split("\0") if v)


def _text_frame(fid: str, body: bytes, out: dict[str, str]) -> None:
    if not body:
        return
    enc, raw = body[0], body[1:]
    if fid == "TXXX":  # a description, NUL, then the value
        desc, _, value = _decode(enc, raw).partition("\0")
        out[f"TXXX:{desc.upper()}"] = _values(value)
    elif fid == "WXXX":  # a description in the encoding, then the URL in Latin-1
        term = b"\0\0" if enc in (1, 2) else b"\0"
        cut = raw.find(term)
        out["WXXX"] = raw[cut + len(term) :].decode("latin-1").strip("\0") if cut >= 0 else ""
    elif fid.startswith("T"):
        out[fid] = _values(_decode(enc, raw))


def parse_tag(data: bytes, pos: int = 0) -> Id3Tag | None:
    """The ID3v2 tag at ``data[pos:]``, or None if there is none."""
    head = data[pos : pos + 10]
    if len(head) < 10 or head[:3] != b"ID3" or head[3] not in (2, 3, 4) or head[4] == 0xFF:
        return None
    version, flags = head[3], head[5]
    body_size = _syncsafe(head[6:10])
    size = 10 + body_size + (10 if version == 4 and flags & 0x10 else 0)
    body = data[pos + 10 : pos + 10 + body_size]
    if flags & 0x80 and version < 4:
        body = _resync(body)
    tag = Id3Tag(size=size)
    at = 0
    if flags & 0x40 and version >= 3 and len(body) >= 4:  # the extended header: skipped
        ext = _syncsafe(body[:4]) if version == 4 else int.from_bytes(body[:4], "big") + 4
        at = max(ext, 4)
    id_len, head_len = (3, 6) if version == 2 else (4, 10)
    while at + head_len <= len(body):
        fid_raw = body[at : at + id_len]
        if not fid_raw.strip(b"\0") or not fid_raw.isalnum():
            break  # padding, or garbage: the frames end here
        fid = fid_raw.decode("ascii")
        raw_size = body[at + id_len : at + head_len - (0 if version == 2 else 2)]
        if version == 2:
            fsize = int.from_bytes(raw_size, "big")
        elif version == 4:
            fsize = _syncsafe(raw_size)
        else:
            fsize = int.from_bytes(raw_size, "big")
        fflags = body[at + 9] if version >= 3 else 0
        frame = body[at + head_len : at + head_len + fsize]
        at += head_len + fsize
        if version == 2:
            fid = _V22.get(fid, fid)
        elif fflags & (0x0C if version == 4 else 0xC0):  # compressed or encrypted: unread
            continue
        if version == 4:
            if fflags & 0x01:  # a data length indicator leads the frame
                frame = frame[4:]
            if fflags & 0x02:
                frame = _resync(frame)
        if fid == "PRIV":
            owner, _, value = frame.partition(b"\0")
            if owner.decode("latin-1") == APPLE_TS_OWNER and len(value) >= 8:
                tag.timestamp_90k = int.from_bytes(value[:8], "big")
        else:
            _text_frame(fid, frame, tag.text)
    return tag


def leading_tags(data: bytes) -> list[Id3Tag]:
    """The ID3v2 tags one after another at the head of ``data`` (packed audio)."""
    tags: list[Id3Tag] = []
    pos = 0
    while len(tags) < MAX_TAGS:
        tag = parse_tag(data, pos)
        if tag is None:
            break
        tags.append(tag)
        pos += tag.size
    return tags


def segment_titles(data: bytes | bytearray, container: str | None) -> list[tuple[float, str, str]]:
    """(seconds after the segment's start, title, url) of each titled ID3 tag in a segment.

    Packed audio (``sniff.PACKED``): the tags at its head hold from its start. MPEG-TS: each
    timed ID3 tag holds from its PTS, measured from the segment's first audio PTS. fMP4
    (``emsg`` boxes) is not read. Bad bytes give no title, never an error.
    """
    found: list[tuple[float, str, str]] = []
    try:
        if container in PACKED:
            timed = [(0.0, tag) for tag in leading_tags(bytes(data))]
        elif container == "ts":
            timed = [(at, tag) for at, payload in timed_id3(data) for tag in leading_tags(payload)]
        else:
            return []
    except (ValueError, IndexError, UnicodeError):
        return []
    for at, tag in timed:
        shown = tag.title()
        if shown is not None:
            found.append((at, *shown))
    return found
