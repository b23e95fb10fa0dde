"""``--start #N``: playback starts at chapter N, a deferred seek.

Why deferred: a file's chapters are known only once the decoder has opened its container
(``audio.chapters``: FFmpeg reads an MP3's CHAP frames, an M4A's chapter track), not when the
decoder is made, so it cannot be given a ``start_at`` as ``--start TIME`` is. The decoder
starts at 0 with the output not started; once its first frames are in the ring (its own
clear at the start is behind it), the seek to the chapter is asked and the output starts
when the ring has been cleared for it: nothing before the chapter is heard. An MP3 over
HTTP is then read from its first byte (``OpenContext.read_tags``): the chapters are in its
ID3 tag, which playback from 0 skips and reads later.

mpv's ``--start=#N`` past the last chapter plays from the start; here it is an error of
usage, as ``--start`` past the end is (``opening.start_past_end``): nothing was played.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kithara_cli.errors import UsageError

if TYPE_CHECKING:
    from kithara_cli.audio import Decoder, PcmRing, Sink


class ChapterStart:
    """Polled by the session's watcher until ``poll`` says playback may start."""

    def __init__(self, number: int) -> None:
        self.number = number  # from 1
        self.target: float | None = None  # the chapter's start, once the seek is asked
        self._generation = 0  # the ring's, when the seek was asked

    def poll(self, decoder: Decoder, ring: PcmRing, sink: Sink) -> float | None:
        """The chapter's start once the output has started there (this is then done with),
        else None. Raises ``UsageError`` when the media has no such chapter."""
        if self.target is None:
            if decoder.first_audio.is_set():
                self.target = self._resolve(decoder)
                self._generation = ring.generation
                decoder.seek(self.target)
            return None
        if ring.generation == self._generation:
            return None  # the decoder has not cleared the ring for the chapter yet
        sink.start()
        return self.target

    def _resolve(self, decoder: Decoder) -> float:
        starts = sorted(chapter.start for chapter in decoder.chapters)
        if self.number <= len(starts):
            return starts[self.number - 1]
        has = f"has {len(starts)} chapter{'s' * (len(starts) != 1)}" if starts else "has none"
        raise UsageError(f"--start #{self.number}: no such chapter, the media {has}")
