"""Chapters: a podcast's own marks (title, start) inside its media file.

An episode's MP3 carries them as ID3v2 CHAP frames (a TIT2 sub-frame each, start and end in
ms, a CTOC ordering them); an M4A as a QuickTime chapter track or Nero's ``chpl`` box; an Ogg
as ``CHAPTERnnn`` comments. FFmpeg reads all of them as the container's chapters and PyAV
(>= 16) hands them over (``InputContainer.chapters()``), so nothing here parses a box or a
frame: ``container_chapters`` reads an open container's, ``tag_chapters`` those of an ID3
tag the decoder was shown past (``play.opening`` starts it at the audio, after the cover
art), by opening the tag and the first audio frames after it in memory. Titles are raw
text from the network: whoever shows them sanitises them. ``tag_rest`` walks only the tag's
frame headers, to tell where the frames after a cover picture begin (fetched aside, without
the picture).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from av.container import InputContainer

MAX_CHAPTERS = 10_000  # a hostile tag may declare any number
_CHAPTER_FRAMES = (b"CHAP", b"CTOC")


@dataclass(frozen=True)
class Chapter:
    """One chapter: from ``start`` seconds (the media's own time) on, ``title``."""

    start: float
    title: str


def container_chapters(container: InputContainer) -> tuple[Chapter, ...]:
    """The chapters FFmpeg found in ``container``, by start; an untitled one is "Chapter N"
    (its number in the file), so that the one before is not left showing."""
    found: list[Chapter] = []
    for n, raw in enumerate(container.chapters()[:MAX_CHAPTERS], 1):
        base = raw["time_base"]
        if base is None:
            continue
        start = float(raw["start"] * base)
        title = " ".join(str(raw["metadata"].get("title", "")).split())
        if start >= 0:
            found.append(Chapter(start, title or f"Chapter {n}"))
    return tuple(sorted(found, key=lambda c: c.start))


def tag_chapters(head: bytes) -> tuple[Chapter, ...]:
    """The chapters of the ID3v2 tags at the head of ``head`` (the file's first bytes, the
    tags and at least a few audio frames after them); none when FFmpeg reads no file there."""
    import io

    import av.error

    try:
        with av.open(io.BytesIO(head), "r", options={"probesize": "32768"}) as container:
            return container_chapters(container)
    except (av.error.FFmpegError, ValueError, KeyError, TypeError):
        return ()


def tag_rest(prefix: bytes, tag_end: int) -> int | None:
    """Where the bytes still needed of an ID3v2 tag begin, ``prefix`` being its first bytes
    and ``tag_end`` where it ends: past the frame the prefix stops inside when that is not a
    chapter's (a cover picture, whose bytes FFmpeg never shows), else where the prefix stops.
    None: nothing is missing, or the tag is not walked here (not v2.3/v2.4, unsynchronised,
    an extended header: it is read whole once it is in)."""
    if len(prefix) < 10 or prefix[:3] != b"ID3" or prefix[3] not in (3, 4) or prefix[5] & 0xC0:
        return None
    pos = 10
    while pos + 10 <= min(len(prefix), tag_end):
        fid, raw = prefix[pos : pos + 4], prefix[pos + 4 : pos + 8]
        if fid[0] == 0:
            return None  # padding: the frames ended within the prefix
        size = struct.unpack(">I", raw)[0]
        if prefix[3] == 4:  # v2.4: a syncsafe size
            size = raw[0] << 21 | raw[1] << 14 | raw[2] << 7 | raw[3]
        end = pos + 10 + size
        if end > len(prefix):
            skip = fid not in _CHAPTER_FRAMES and end < tag_end
            return end if skip else len(prefix)
        pos = end
    return len(prefix) if pos < tag_end and len(prefix) < tag_end else None
