"""Immutable HLS model: what the fetcher, ABR and player read, free of m3u8-package objects.

Everything here is already validated by ``playlist.parse_playlist``: URIs are absolute and
http(s) (or file: for a playlist the user named), byte ranges are (offset, length) with implicit
offsets resolved, and sequence numbers are assigned, so readers never re-derive them.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from functools import cached_property

# Codec FourCCs (the part of a CODECS entry before the first dot) that mean a video track.
VIDEO_CODECS = frozenset(
    {"avc1", "avc3", "hvc1", "hev1", "dvh1", "dvhe", "dav1", "vp08", "vp09", "vp8", "vp9", "av01",
     "mp4v", "s263", "apcn", "apch", "apcs", "apco", "ap4h"}
)  # fmt: skip


# Whole-segment methods kithara decrypts: AES-128 and AES-256 are CBC with PKCS#7 (16- and
# 32-byte keys), AES-256-CTR is counter mode with no padding (as hls.js decrypts them).
DECRYPTABLE = frozenset({"AES-128", "AES-256", "AES-256-CTR"})
KEY_BYTES = {"AES-128": 16, "AES-256": 32, "AES-256-CTR": 32}


@dataclass(frozen=True, slots=True)
class Key:
    """An EXT-X-KEY in force; ``method`` is upper-case (AES-128, SAMPLE-AES, ...)."""

    method: str
    uri: str | None
    iv: bytes | None
    keyformat: str | None


@dataclass(frozen=True, slots=True)
class InitSection:
    """EXT-X-MAP: the fMP4 init segment; ``byterange`` is (offset, length); ``key``: the
    whole-segment EXT-X-KEY in force at the tag, which encrypts it (its IV is always given)."""

    uri: str
    byterange: tuple[int, int] | None
    key: Key | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """One media segment; ``sequence`` is its media sequence number (drives the default IV)."""

    uri: str
    duration: float
    sequence: int
    byterange: tuple[int, int] | None
    key: Key | None
    init: InitSection | None
    discontinuity: bool
    discontinuity_sequence: int
    title: str = ""


@dataclass(frozen=True, slots=True)
class Rendition:
    """An EXT-X-MEDIA TYPE=AUDIO entry; ``uri`` None means the audio is muxed in the variant."""

    group_id: str
    name: str
    language: str | None
    default: bool
    autoselect: bool
    channels: str | None
    uri: str | None
    bitrate: int | None = None  # a BITRATE/BANDWIDTH attribute some packagers add (not RFC)


@dataclass(frozen=True, slots=True)
class Variant:
    """An EXT-X-STREAM-INF entry; ``index`` is its 0-based position in the master."""

    index: int
    uri: str
    bandwidth: int
    average_bandwidth: int | None
    codecs: tuple[str, ...]
    audio_group: str | None
    resolution: str | None

    @property
    def is_video_only(self) -> bool:
        """CODECS names only video and no audio group carries the sound: nothing to hear."""
        if self.audio_group or not self.codecs:
            return False
        return all(c.split(".", 1)[0].strip().lower() in VIDEO_CODECS for c in self.codecs)

    @property
    def is_audio_only(self) -> bool:
        """No video codec named and no RESOLUTION: fetching it costs no video bandwidth."""
        if self.resolution:
            return False
        return not any(c.split(".", 1)[0].strip().lower() in VIDEO_CODECS for c in self.codecs)


@dataclass(frozen=True, slots=True)
class MasterPlaylist:
    """A multivariant playlist; ``renditions`` holds only TYPE=AUDIO renditions."""

    url: str
    variants: tuple[Variant, ...]
    renditions: tuple[Rendition, ...]
    warnings: tuple[str, ...] = ()  # what parsing tolerated (a stray URI line, a bad rate)
    defines: tuple[tuple[str, str], ...] = ()  # EXT-X-DEFINE variables, for IMPORT


@dataclass(frozen=True)
class MediaPlaylist:
    """A media playlist. Not slotted, so ``starts`` can be cached on first use."""

    url: str
    segments: tuple[Segment, ...]
    target_duration: float
    media_sequence: int
    discontinuity_sequence: int
    endlist: bool
    playlist_type: str | None
    warnings: tuple[str, ...] = ()  # what parsing tolerated (a stray URI line, a bad number)
    gaps: tuple[int, ...] = ()  # numbers of the segments marked EXT-X-GAP (left out: no media)

    @property
    def is_live(self) -> bool:
        """The server may still append segments, so the playlist must be reloaded."""
        return not self.endlist and self.playlist_type != "VOD"

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)

    @cached_property
    def starts(self) -> tuple[float, ...]:
        """Start time of each segment, relative to the first segment of this playlist."""
        return tuple(itertools.accumulate((s.duration for s in self.segments[:-1]), initial=0.0))

    def segment_at(self, t: float) -> int:
        """Index of the segment holding time ``t``, clamped to [0, len-1] (0 when empty)."""
        if not self.segments or t <= 0:
            return 0
        return max(0, min(bisect.bisect_right(self.starts, t) - 1, len(self.segments) - 1))

    def segment_from(self, t: float, tolerance: float) -> int:
        """Index of the first segment that ends more than ``tolerance`` after ``t``: the one
        to fetch next when the audio buffered ends at ``t`` (hls.js finds the fragment after
        the buffer's end so, with its fragment lookup tolerance), clamped to [0, len-1]."""
        if not self.segments:
            return 0
        starts, segments = self.starts, self.segments
        first = bisect.bisect_right(  # the ends rise with the index
            range(len(segments)), t + tolerance, key=lambda i: starts[i] + segments[i].duration
        )
        return min(first, len(segments) - 1)

    def position(self, segment: Segment) -> int:
        """Index of ``segment`` in this playlist (by its media sequence number)."""
        at = segment.sequence - self.media_sequence
        if 0 <= at < len(self.segments) and self.segments[at] is segment:
            return at
        return self.segments.index(segment)
