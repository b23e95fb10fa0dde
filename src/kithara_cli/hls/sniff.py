"""Recognising segment containers from their first bytes (and so a wrong key's garbage)."""

from __future__ import annotations

FMP4_BOXES = (b"ftyp", b"styp", b"moof", b"sidx", b"emsg", b"prft", b"moov", b"free")


def _skip_id3(data: bytes) -> int:
    """Offset after any leading ID3v2 tags (packed audio carries a timestamp tag)."""
    pos = 0
    while len(data) >= pos + 10 and data[pos : pos + 3] == b"ID3":
        size = data[pos + 6 : pos + 10]
        n = (size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3]
        footer = 10 if data[pos + 5] & 0x10 else 0
        pos += 10 + n + footer
    return pos


def container_of(data: bytes) -> str | None:
    """``ts``, ``fmp4``, ``adts``, ``mp3``, or None when the bytes are no media we know."""
    if len(data) >= 1 and data[0] == 0x47 and (len(data) < 189 or data[188] == 0x47):
        return "ts"
    if len(data) >= 8 and data[4:8] in FMP4_BOXES:
        return "fmp4"
    pos = _skip_id3(data)
    head = data[pos : pos + 4]
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:
            return "adts"
        if head[1] & 0xE0 == 0xE0:
            return "mp3"
    if pos and len(data) == pos:
        return "adts"  # an ID3-only segment: nothing to judge, trust it
    return None


NATIVE_EXTENSIONS = {
    "ts": (".ts", ".mts", ".m2ts"),
    "fmp4": (".mp4", ".m4a", ".m4s", ".cmfa", ".cmaf"),
    "adts": (".aac", ".adts"),
    "mp3": (".mp3",),
}

DEFAULT_EXTENSION = {"ts": ".ts", "fmp4": ".m4a", "adts": ".aac", "mp3": ".mp3"}
