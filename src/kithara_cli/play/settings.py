"""What a playback is asked to do, and the parsing of the user's words for it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kithara_cli.errors import UsageError

if TYPE_CHECKING:
    from kithara_cli.play.record import RecordFiles


@dataclass
class PlayerSettings:
    output: str = "default"
    buffer: float = 2.0
    volume: float = 1.0
    abr: str = "auto"
    max_bitrate: int | None = None
    min_bitrate: int | None = None
    audio: str | None = None
    prefetch_segments: int = 2
    length: float | None = None  # stop after this much playback (seconds)
    record: Path | None = None  # what plays (any source), written as it plays, and a CUE sheet
    skip_unavailable: bool = False  # an HLS segment no variant serves is a gap, not the end
    first_attempts: int | None = None  # tries of the first request (None: the retry policy)
    _record_files: RecordFiles | None = field(default=None, init=False, repr=False, compare=False)

    def record_files(self) -> RecordFiles:
        """``record``'s file names, shared by every item played with these settings (a
        queue: FILE, FILE-2, FILE-3...; ``play.record``)."""
        from kithara_cli.play.record import RecordFiles

        assert self.record is not None
        if self._record_files is None or self._record_files.base != self.record:
            self._record_files = RecordFiles(self.record)
        return self._record_files


@dataclass(frozen=True)
class Start:
    """Where ``--start`` puts the first item: ``seconds`` in, or the start of its
    ``chapter`` (numbered from 1, as mpv's ``--start=#N``; known once the media is open)."""

    seconds: float = 0.0
    chapter: int | None = None


def parse_start(text: str | None) -> Start:
    """``90``, ``1:30``, ``1:02:03`` or ``#3`` (chapter 3)."""
    if text is not None and text.strip().startswith("#"):
        number = text.strip()[1:]
        if not number.isdecimal() or int(number) < 1:  # (isdecimal: no "+1", " 1", "¹")
            raise UsageError(f"bad chapter {text!r}: use #N, chapters count from #1")
        return Start(chapter=int(number))
    return Start(seconds=parse_time(text))


def parse_time(text: str | None) -> float:
    """``90``, ``1:30`` or ``1:02:03`` -> seconds."""
    if not text:
        return 0.0
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError as exc:
        raise UsageError(f"bad time {text!r}: use seconds, mm:ss or #CHAPTER") from exc
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    if not 0 <= seconds < math.inf or len(parts) > 3:  # NaN fails both comparisons
        raise UsageError(f"bad time {text!r}: use seconds, mm:ss or #CHAPTER")
    return seconds


def parse_bitrate(text: str | None) -> int | None:
    if not text:
        return None
    t = text.strip().lower()
    scale = 1
    if t.endswith("k"):
        scale, t = 1000, t[:-1]
    elif t.endswith("m"):
        scale, t = 1_000_000, t[:-1]
    try:
        return int(float(t) * scale)
    except (ValueError, OverflowError) as exc:  # "nan", "inf"
        raise UsageError(f"bad bitrate {text!r}: use e.g. 128k") from exc
