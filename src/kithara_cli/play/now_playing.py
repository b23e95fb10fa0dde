"""Now-playing titles published when their audio plays, not when their bytes arrive.

Three kinds of source: an ICY title is placed by audio byte offset, over the stream's byte
rate (ICY streams are constant bit rate in practice); chained Ogg links (the decoder) and HLS
ID3 tags (the source) by timeline second, in a ``radio.titles.TitleQueue`` that keeps their
history, so that after a seek the title in force at the target is published once.

Chapters (``audio.chapters``: a podcast's CHAP frames, an M4A's chapter track) go the same
way in a queue of their own, published as ``TitleChanged(chapter=True)``: the dashboard shows
them beside the episode's title rather than in its place. The decoder gives those of the
container it opened; those of an MP3 whose decoder was started past its ID3 tags (the cover
art: ``play.opening``) are read from the tags' bytes: the first ones (the first response's)
with the art's missing bytes as zeros, those after the art (``tag_rest``) over a side
request, or else the whole tag once it has come.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kithara_cli.errors import KitharaError
from kithara_cli.events import EventBus
from kithara_cli.events.types import TitleChanged
from kithara_cli.play.snapshot import Snapshot
from kithara_cli.radio.titles import TitleQueue

if TYPE_CHECKING:
    from kithara_cli.audio.chapters import Chapter
    from kithara_cli.file.source import ProgressiveSource
    from kithara_cli.radio.live import LiveStream

TAG_AUDIO_BYTES = 16 * 1024  # the audio frames after the tags that FFmpeg's probe needs
MAX_CHAPTER_TAG = 16 * 1024 * 1024  # a larger tag is art, not chapters: never copied and parsed
MAX_TAG_REST = 1 << 20  # the frames after the art fetched aside, at most (else: the whole tag)
CHAPTER_RESTART = 3.0  # seconds into a chapter after which "previous" restarts it (CD players)
CHAPTER_AHEAD = 0.5  # "next" skips a chapter that starts this close ahead (a seek just landed)


class NowPlaying:
    """Publishes ``TitleChanged`` and keeps ``snapshot.now_playing`` for the dashboard."""

    def __init__(self, bus: EventBus, snapshot: Snapshot) -> None:
        self.bus = bus
        self.snapshot = snapshot
        self.chapters = TitleQueue()
        self._found: tuple[Chapter, ...] = ()  # the decoder's, as last added
        self._tag: ProgressiveSource | None = None
        self._tag_prefix_read = False  # the tag's first bytes, with the art still to come
        self._tag_rest: tuple[bytes, int] | None = None  # those bytes; where the rest begins
        self.position = 0.0  # as last polled, or a seek's target (the snapshot's lags 0.1 s)

    def follow_tag(self, src: ProgressiveSource | None) -> None:
        """``src``'s decoder starts past its ID3 tags: read their chapters once they are in."""
        self._tag = src if src is not None and src.audio_start > 0 else None
        self._tag_prefix_read = False
        self._tag_rest = None

    def seek(self, target: float) -> None:
        """Playback jumps to ``target``: the chapter in force there comes next."""
        self.position = target
        self.chapters.seek(target)

    def poll(
        self,
        pos: float,
        live: LiveStream | None,
        queues: Sequence[TitleQueue],
        chapters: tuple[Chapter, ...] = (),
    ) -> None:
        """Playback is at ``pos`` (seconds): publish what has started playing since."""
        self.position = pos
        if live is not None:
            rate = live.byterate
            # Without icy-br, a title shows once the decoder has read its bytes (early by the
            # decoded buffer, a second or two).
            upto = int(pos * rate) if rate is not None else live.window.reader
            for icy in live.titles_until(upto):
                self.publish(icy.title, icy.url, pos, icy.offset)
        for queue in queues:
            for timed in queue.due(pos):
                self.publish(timed.title, timed.url, pos)
        if chapters is not self._found:
            self._found = chapters
            self._add(chapters, pos)
        if self._tag is not None:
            self._read_tag(self._tag, pos)
        for timed in self.chapters.due(pos):  # at its own start: a CUE's index, not the poll's
            self.publish(timed.title, "", timed.at, chapter=True)

    def chapter_target(self, pos: float, step: int) -> float | None:
        """Where a chapter key seeks from ``pos``: the next chapter's start (``step`` 1), or
        (-1) the current one's, or the one before when ``pos`` is within ``CHAPTER_RESTART``
        of the current one's start, as mpv's ``add chapter -1`` and a CD player's |<< do.
        None: no chapter that way (or none at all)."""
        starts = sorted({timed.at for timed in self.chapters.titles()})
        if step > 0:
            return next((at for at in starts if at > pos + CHAPTER_AHEAD), None)
        before = [at for at in starts if at <= pos + CHAPTER_AHEAD]
        if not before:
            return None
        if pos - before[-1] > CHAPTER_RESTART or len(before) == 1:
            return before[-1]
        return before[-2]

    def _add(self, chapters: Sequence[Chapter], pos: float) -> None:
        if chapters:
            for chapter in chapters:
                self.chapters.add(chapter.start, chapter.title)
            self.chapters.seek(pos)  # the one in force now, though it began before ``pos``

    def _read_tag(self, src: ProgressiveSource, pos: float) -> None:
        from kithara_cli.audio.chapters import tag_chapters, tag_rest

        start, total = src.audio_start, src.length() or 0
        end = min(start + TAG_AUDIO_BYTES, total)
        if start > MAX_CHAPTER_TAG:
            self._tag = None
            return
        have = src.available_ahead(0)
        try:
            if have < end and self._tag_rest is not None:  # the frames after the art, aside
                prefix, rest = self._tag_rest
                if not src.peek_ready(rest, start - rest):
                    return
                self._tag = None
                gap = bytes(rest - len(prefix))  # the art's missing bytes, as zeros
                head = prefix + gap + src.read_at(rest, end - rest)
                self._add(tag_chapters(head), pos)
                return
            if have < end:  # the art comes after the audio, its whole file first: read the
                # chapters the tag's first bytes hold (they come before the art), the missing
                # rest as zeros (a picture FFmpeg cannot read and never shows), once
                if self._tag_prefix_read or src.available_ahead(start) < end - start:
                    return
                self._tag_prefix_read = True
                prefix = src.read_at(0, min(have, start))
                if not -1 < prefix.rfind(b"CHAP") < prefix.rfind(b"APIC"):
                    # The chapters may follow the art: the frames after it, fetched aside.
                    after = tag_rest(prefix, start)
                    if after is not None and after > len(prefix) and start - after <= MAX_TAG_REST:
                        self._tag_rest = (prefix, after)
                    return  # else: the whole tag, once it is in
                head = prefix + bytes(start - len(prefix)) + src.read_at(start, end - start)
                if found := tag_chapters(head):
                    self._tag = None
                    self._add(found, pos)
                return
            self._tag = None
            head = src.read_at(0, end)
        except (KitharaError, OSError):  # closed (the player's close raced us), or failed:
            self._tag = None  # the audio's error, not ours
            return
        if b"CHAP" in head[:start]:  # (most tags hold art and names, no chapter)
            self._add(tag_chapters(head), pos)

    def publish(
        self, title: str, url: str, pos: float, offset: int = 0, *, chapter: bool = False
    ) -> None:
        if chapter:
            self.snapshot.chapter = title
        else:
            self.snapshot.now_playing = title
        self.bus.publish(
            TitleChanged(title=title, url=url, position=pos, byte_offset=offset, chapter=chapter)
        )
