"""Recording a live stream: its audio bytes (ICY blocks already stripped) and a CUE sheet.

Written to ``FILE.part`` and renamed into place by ``finish()`` (also on Ctrl-C), so the
output is always a whole, playable file or nothing; the CUE sheet next to it (``FILE.cue``)
lists every title change at its time in the recording. With ``split_tracks`` each title goes
to its own file (``NAME-01.ext``, ``NAME-02.ext``, ...) instead, cut at the byte where the
title's metadata block stood (MP3 and AAC decoders resynchronise at the next frame).
``convert`` (playback's HLS recordings) makes the output from the part instead of renaming it
(a remux into the container FILE's extension names) and says which file it wrote.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kithara_cli.errors import OutputError

CUE_FRAMES = 75  # CUE sheet frames per second
LEAD_IN = 0.5  # a first title this close to the start is the first track's, not a second one


@dataclass(frozen=True)
class RecordedTitle:
    seconds: float
    title: str


def _clean(text: str, limit: int = 200) -> str:
    """A title fit for a CUE line or a file name: no controls, no double quotes."""
    out = "".join(ch if ch.isprintable() else " " for ch in text).replace('"', "'")
    return out.strip()[:limit]


def cue_time(seconds: float) -> str:
    frames = max(0, round(seconds * CUE_FRAMES))
    minutes, rest = divmod(frames, 60 * CUE_FRAMES)
    secs, frames = divmod(rest, CUE_FRAMES)
    return f"{minutes:02d}:{secs:02d}:{frames:02d}"


def cue_sheet(audio_name: str, titles: list[RecordedTitle], file_type: str = "MP3") -> str:
    lines = [f'FILE "{_clean(audio_name)}" {file_type}']
    if titles and titles[0].seconds < LEAD_IN:  # the first title, as soon as played: track 1
        titles = [RecordedTitle(0.0, titles[0].title), *titles[1:]]
    if not titles or titles[0].seconds > 0:
        titles = [RecordedTitle(0.0, ""), *titles]
    for n, t in enumerate(titles, 1):
        lines.append(f"  TRACK {n:02d} AUDIO")
        title = _clean(t.title)
        if title:
            lines.append(f'    TITLE "{title}"')
            artist, sep, _ = title.partition(" - ")
            if sep:
                lines.append(f'    PERFORMER "{artist.strip()}"')
        lines.append(f"    INDEX 01 {cue_time(t.seconds)}")
    return "\n".join(lines) + "\n"


class Recorder:
    """Appends audio to ``out`` (via ``out.part``); ``finish`` makes it the output."""

    def __init__(
        self,
        out: Path,
        *,
        split_tracks: bool = False,
        byterate: float | None,
        convert: Callable[[Path, Path], Path] | None = None,
    ) -> None:
        self.out = out
        self.convert = convert
        self.split_tracks = split_tracks
        self.byterate = byterate
        self.titles: list[RecordedTitle] = []
        self.bytes = 0
        self._track = 0
        self._track_bytes = 0
        self._parts: list[tuple[Path, Path]] = []  # (part, final)
        self._fh: BinaryIO | None = None
        self._open_next()

    def _open_next(self) -> None:
        if self._fh is not None:
            self._fh.close()
        self._track += 1
        final = self.out
        if self.split_tracks:
            final = self.out.with_name(f"{self.out.stem}-{self._track:02d}{self.out.suffix}")
        part = final.with_name(final.name + ".part")
        try:
            self._fh = open(part, "wb")  # noqa: SIM115 - closed by finish/abort
        except OSError as exc:
            raise OutputError(f"cannot write {part}: {exc.strerror or exc}") from None
        self._parts.append((part, final))
        self._track_bytes = 0

    def seconds_at(self, offset: int) -> float:
        return offset / self.byterate if self.byterate else 0.0

    def write(self, data: bytes) -> None:
        assert self._fh is not None
        try:
            self._fh.write(data)
        except OSError as exc:
            raise OutputError(f"cannot write {self.out}: {exc.strerror or exc}") from None
        self.bytes += len(data)
        self._track_bytes += len(data)

    def title(self, title: str, seconds: float | None = None) -> None:
        """A new title from here on (``seconds``: its time, default the bytes so far)."""
        at = self.seconds_at(self.bytes) if seconds is None else seconds
        if self.titles and self.titles[-1].title == title:
            return
        if self.split_tracks and self._track_bytes > 0:
            self._open_next()
        self.titles.append(RecordedTitle(at, title))

    def finish(self) -> list[Path]:
        """Close, rename every part into place, write the CUE sheet; the files written."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        written = []
        try:
            for part, final in self._parts:
                if self.convert is not None:
                    written.append(self.convert(part, final))
                    continue
                os.replace(part, final)
                written.append(final)
            if not self.split_tracks:
                cue = self.out.with_suffix(self.out.suffix + ".cue")
                file_type = "MP3" if self.out.suffix.lower() == ".mp3" else "WAVE"
                cue_part = cue.with_name(cue.name + ".part")  # never half a sheet at FILE.cue
                cue_part.write_text(cue_sheet(self.out.name, self.titles, file_type), "utf-8")
                os.replace(cue_part, cue)
                written.append(cue)
        except OSError as exc:
            raise OutputError(f"cannot finish {self.out}: {exc.strerror or exc}") from None
        return written

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        for part, _ in self._parts:
            try:
                part.unlink()
            except OSError:
                pass
