"""Where a constant-bitrate MP3 frame sits in time, from its byte offset.

FFmpeg's fast MP3 seek (``fflags=+fastseek``, used while a file is still downloading) puts
the read position on a frame near ``target * size / duration`` but reports the timestamp it
computed, not that frame's: past the file's middle it is one frame (~26 ms) early, so the
player would label audio as the target that is really one frame after it. For CBR files a
frame's index is exact from its offset (every frame has the same size give or take the one
padding byte, and LAME spreads the padding evenly), so the decoder corrects the timestamp of
the first packet after such a seek. VBR files (a ``Xing`` or ``VBRI`` header) are left to
FFmpeg's table of contents.

Written by hand: the MP3 frame header is four bytes and PyAV exposes neither FFmpeg's
demuxer state nor a header parser.
"""

from __future__ import annotations

from dataclasses import dataclass

# Bitrates in kbit/s by index: MPEG-1 Layer III, then MPEG-2/2.5 Layer III.
_BITRATES_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
# Sample rates by version bits (3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5) and index.
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
# How many bytes :func:`cbr_layout` needs after the ID3v2 tag.
HEAD_BYTES = 2048
TAG_HEAD_BYTES = 64 * 1024  # :func:`tagged_seconds`: an ID3v2 tag (cover art aside) and a frame


@dataclass(frozen=True)
class FrameHeader:
    """The fields of a Layer III frame header that size and time a frame."""

    mpeg1: bool
    bitrate: int
    sample_rate: int
    mono: bool
    padding: int

    @property
    def samples(self) -> int:
        return 1152 if self.mpeg1 else 576

    @property
    def size(self) -> int:
        return self.samples // 8 * self.bitrate // self.sample_rate + self.padding

    @property
    def side_info(self) -> int:
        """Bytes of side information after the header, where a Xing/Info tag would start."""
        if self.mpeg1:
            return 17 if self.mono else 32
        return 9 if self.mono else 17


@dataclass(frozen=True)
class Mp3Cbr:
    """A constant-bitrate stream: where its first audio frame starts and how big frames are."""

    first_frame: int
    frame_bytes: float
    samples_per_frame: int
    sample_rate: int

    def frame_index(self, offset: int) -> int:
        """The index of the frame that starts at byte ``offset``."""
        return round((offset - self.first_frame) / self.frame_bytes)

    def frame_seconds(self, offset: int) -> float:
        """Stream time (before encoder-delay trimming) of the frame starting at ``offset``."""
        return self.frame_index(offset) * self.samples_per_frame / self.sample_rate


def parse_header(data: bytes, at: int = 0) -> FrameHeader | None:
    """The Layer III frame header at ``data[at:]``, or None if there is none."""
    if at < 0 or at + 4 > len(data):
        return None
    word = int.from_bytes(data[at : at + 4], "big")
    version, layer = (word >> 19) & 3, (word >> 17) & 3
    bitrate_index, rate_index = (word >> 12) & 15, (word >> 10) & 3
    if word >> 21 != 0x7FF or layer != 1 or version == 1:
        return None
    if bitrate_index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    kbps = (_BITRATES_V1 if mpeg1 else _BITRATES_V2)[bitrate_index]
    return FrameHeader(
        mpeg1=mpeg1,
        bitrate=kbps * 1000,
        sample_rate=_RATES[version][rate_index],
        mono=(word >> 6) & 3 == 3,
        padding=(word >> 9) & 1,
    )


def id3v2_size(data: bytes) -> int:
    """Bytes taken by a leading ID3v2 tag (0 if none); needs ``data[:10]``."""
    if len(data) < 10 or data[:3] != b"ID3":
        return 0
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    return 10 + size + (10 if data[5] & 0x10 else 0)


def cbr_layout(head: bytes, offset: int = 0) -> Mp3Cbr | None:
    """The CBR layout of a stream whose first frame is within ``head`` (file bytes from
    ``offset``), or None when the stream is VBR or not recognisably MP3."""
    at = 0
    while at < len(head) and head[at] == 0:
        at += 1  # padding some taggers leave after the ID3 tag
    header = parse_header(head, at)
    if header is None:
        return None
    tag_at = at + 4 + header.side_info
    tag = head[tag_at : tag_at + 4]
    if tag == b"Xing" or head[at + 36 : at + 40] == b"VBRI":
        return None
    if tag == b"Info":
        # LAME's CBR marker frame: not audio, and often at another bitrate than the audio.
        at += header.size
        header = parse_header(head, at)
        if header is None:
            return None
    return Mp3Cbr(
        first_frame=offset + at,
        frame_bytes=header.samples / 8 * header.bitrate / header.sample_rate,
        samples_per_frame=header.samples,
        sample_rate=header.sample_rate,
    )


def tagged_seconds(head: bytes) -> float | None:
    """The length a Xing or Info tag (LAME's first frame) declares by its frame count, in
    ``head`` (the file's bytes from 0: past any ID3v2 tag, a few KB); None when untagged.
    FFmpeg drops that count when the file's size disagrees with it (a server announcing more
    bytes than it sends), and estimates from the size instead."""
    at = id3v2_size(head)
    while at < len(head) and head[at] == 0:
        at += 1
    header = parse_header(head, at)
    if header is None:
        return None
    tag_at = at + 4 + header.side_info
    if head[tag_at : tag_at + 4] not in (b"Xing", b"Info") or len(head) < tag_at + 12:
        return None
    flags = int.from_bytes(head[tag_at + 4 : tag_at + 8], "big")
    frames = int.from_bytes(head[tag_at + 8 : tag_at + 12], "big")
    if not flags & 1 or frames <= 1:
        return None
    return frames * header.samples / header.sample_rate  # as FFmpeg counts them
