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


# AC-3 bit rates (kbit/s) by frmsizecod >> 1 (ATSC A/52 table 5.18).
_AC3_KBPS = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640)


def _dolby_kind(h: bytes | bytearray) -> str | None:
    """``ac3`` or ``eac3`` by the bit stream id after the 0x0B77 sync word, else None."""
    if len(h) < 6 or h[0] != 0x0B or h[1] != 0x77:
        return None
    bsid = h[5] >> 3
    return "ac3" if bsid <= 8 else "eac3" if 11 <= bsid <= 16 else None


def _ac3_frame_length(h: bytes) -> int | None:
    """Length of the AC-3 or E-AC-3 sync frame ``h`` starts with (packed audio, RFC 8216
    3.4, carries these as it carries ADTS), or None."""
    kind = _dolby_kind(h)
    if kind == "eac3":
        return (((h[2] & 0x07) << 8 | h[3]) + 1) * 2  # frmsiz: words minus one
    if kind is None:
        return None
    fscod, code = h[4] >> 6, h[4] & 0x3F
    if fscod == 3 or code > 37:
        return None
    kbps = _AC3_KBPS[code >> 1]
    words = (kbps * 2, kbps * 96_000 // 44_100 + (code & 1), kbps * 3)[fscod]
    return words * 2


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
    """``ts``, ``fmp4``, ``adts``, ``mp3``, ``ac3``, ``eac3``, or None when the bytes are no
    media we know.

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
    if _frames_chain(data, pos, _ac3_frame_length):
        return _dolby_kind(data[pos : pos + 6])
    return None


# Packed audio (RFC 8216 3.4): raw frames, each segment led by an ID3 tag.
PACKED = frozenset({"adts", "mp3", "ac3", "eac3"})


def audio_format(data: bytes | bytearray, kind: str | None) -> tuple[object, ...] | None:
    """What a decoder must be opened for to read this segment: packed audio by its codec,
    MPEG-TS by the audio stream types of its PMT; None when it cannot be told (fMP4: its init
    section says it). Where two placed segments differ, playback starts a new part."""
    if kind in PACKED:
        return (kind,)
    if kind == "ts":
        from kithara_cli.hls.ts_id3 import audio_stream_types

        types = audio_stream_types(data)
        return ("ts", *types) if types else None
    return None


def frames_for_decoder(data: bytes | bytearray, kind: str | None) -> bytes | bytearray:
    """A segment as a decoder should read it, in playback's run and in a fetch's file:
    FFmpeg's ADTS and MP3 demuxers step over a packed segment's ID3 tag mid-stream, its raw
    AC-3/E-AC-3 demuxer reads one as a broken frame, so for those the tag (titles already
    read) is left out."""
    if kind in ("ac3", "eac3"):
        return data[_skip_id3(data) :]
    return data


NATIVE_EXTENSIONS = {
    "ts": (".ts", ".mts", ".m2ts"),
    "fmp4": (".mp4", ".m4a", ".m4s", ".cmfa", ".cmaf"),
    "adts": (".aac", ".adts"),
    "mp3": (".mp3",),
    "ac3": (".ac3",),
    "eac3": (".ec3", ".eac3"),
}

DEFAULT_EXTENSION = {
    "ts": ".ts",
    "fmp4": ".m4a",
    "adts": ".aac",
    "mp3": ".mp3",
    "ac3": ".ac3",
    "eac3": ".ec3",
}
