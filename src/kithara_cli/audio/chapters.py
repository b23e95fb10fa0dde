"""Chapters: a podcast's own marks (title, start) inside its media file.

An episode's MP3 carries them as ID3v2 CHAP frames (a TIT2 sub-frame each, start and end in
ms, a CTOC ordering them); an M4A as a QuickTime chapter track or Nero's ``chpl`` box; an Ogg
as ``CHAPTERnnn`` comments. FFmpeg reads all of them as the container's chapters and PyAV
(>= 16) hands them over (``InputContainer.chapters()``), so nothing here parses a box or a
frame: ``container_chapters`` reads an open container's, ``tag_chapters`` those of an ID3
tag the decoder was shown past (``play.opening`` starts it at the audio, after the cover
art), by opening the tag and the first audio frames after it in memory. Titles are raw
text from the network: whoever shows them sanitises them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from av.container import InputContainer

MAX_CHAPTERS = 10_000  # a hostile tag may declare any number


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
