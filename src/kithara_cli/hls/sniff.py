"""Recognising segment containers from their first bytes (and so a wrong key's garbage)."""

from __future__ import annotations

FMP4_BOXES = (b"ftyp", b"styp", b"moof", b"sidx", b"emsg", b"prft", b"moov", b"free")


def _skip_id3(data: bytes | bytearray) -> int:
    """Offset after any leading ID3v2 tags (packed audio carries a timestamp tag)."""
    pos = 0
    while len(data) >= pos + 10 and data[pos : pos + 3] == b"ID3":
        size = data[pos + 6 : pos + 10]
        n = (size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3]
        footer = 10 if data[pos + 5] & 0x10 else 0
        pos += 10 + n + footer
    return pos


_MP3_BITRATES = {  # kbit/s by (MPEG-1?, index); layer III only (the HLS packed-audio case)
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def adts_frame_length(h: bytes) -> int | None:
    """Length of the ADTS frame ``h`` starts with (sync, layer 0, a sane rate index), or None."""
    if len(h) < 7 or h[0] != 0xFF or h[1] & 0xF6 != 0xF0 or (h[2] >> 2) & 0x0F > 12:
        return None
    length = ((h[3] & 0x03) << 11) | (h[4] << 3) | (h[5] >> 5)
    return length if length >= 7 else None


def _mp3_frame_length(h: bytes) -> int | None:
    if len(h) < 4 or h[0] != 0xFF or h[1] & 0xE0 != 0xE0:
        return None
    version, layer = (h[1] >> 3) & 3, (h[1] >> 1) & 3
    bitrate_index, rate_index = h[2] >> 4, (h[2] >> 2) & 3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved fields, or not layer III
    mpeg1 = version == 3
    bitrate = _MP3_BITRATES[mpeg1][bitrate_index] * 1000
    rate = _MP3_RATES[version][rate_index]
    return (144 if mpeg1 else 72) * bitrate // rate + ((h[2] >> 1) & 1)


def _frames_chain(data: bytes | bytearray, pos: int, frame_length: object) -> bool:
    """Two consecutive valid frame headers (or one that fills the data): not chance bytes."""
    first = frame_length(data[pos : pos + 7])  # type: ignore[operator]
    if first is None:
        return False
    nxt = pos + first
    if nxt >= len(data):
        return nxt == len(data)
    return frame_length(data[nxt : nxt + 7]) is not None  # type: ignore[operator]


def container_of(data: bytes | bytearray) -> str | None:
    """``ts``, ``fmp4``, ``adts``, ``mp3``, or None when the bytes are no media we know.

    Each answer rests on more than one byte (TS sync bytes every 188, two chained audio frame
    headers), so random bytes - a wrong key, a corrupt segment - are not taken for media.
    """
    if data[:1] == b"\x47" and all(data[i] == 0x47 for i in range(0, min(len(data), 752), 188)):
        return "ts"
    if len(data) >= 8 and data[4:8] in FMP4_BOXES:
        return "fmp4"
    pos = _skip_id3(data)
    if pos and len(data) <= pos:
        return "adts"  # an ID3-only segment: nothing to judge, trust it
    if _frames_chain(data, pos, adts_frame_length):
        return "adts"
    if _frames_chain(data, pos, _mp3_frame_length):
        return "mp3"
    return None


NATIVE_EXTENSIONS = {
    "ts": (".ts", ".mts", ".m2ts"),
    "fmp4": (".mp4", ".m4a", ".m4s", ".cmfa", ".cmaf"),
    "adts": (".aac", ".adts"),
    "mp3": (".mp3",),
}

DEFAULT_EXTENSION = {"ts": ".ts", "fmp4": ".m4a", "adts": ".aac", "mp3": ".mp3"}
