"""Timed now-playing titles: what a source found, at the media time its audio plays.

Titles come from the media itself: the comment header of each chained Ogg link (the decoder
sees it as FFmpeg's metadata-update side data), the ID3 tag at the head of an HLS packed-audio
segment, a timed ID3 frame in an MPEG-TS segment. Each is found when its bytes are read or
land, seconds before they play, so a source puts it in a :class:`TitleQueue` at its timeline
second and the player takes it out when its playback position gets there (ICY titles, found
by audio byte offset, keep their own list in ``live``). The text is raw network text: whoever
shows it sanitises it.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping
from dataclasses import dataclass

MAX_HISTORY = 10_000  # titles kept for seeking back; an endless stream's oldest go
SPAN_SLACK = 0.05  # seconds: segment times are sums of floats, a tag may lead its audio


@dataclass(frozen=True)
class TimedTitle:
    """A title (and URL) that holds from timeline second ``at`` on."""

    at: float
    title: str
    url: str = ""


def title_from_tags(tags: Mapping[str, str]) -> str | None:
    """ "ARTIST - TITLE" from Vorbis comments or ID3 text (keys in any case), or None.

    Only the fields people see as now playing: a tag with neither (an encoder string, a
    timestamp) is no title change.
    """
    lower = {k.lower(): v.strip() for k, v in tags.items()}
    title = lower.get("title", "")
    artist = lower.get("artist", "")
    if not title and not artist:
        return None
    return " - ".join(x for x in (artist, title) if x)


class TitleQueue:
    """The titles of one source by timeline second: a history, and what playback has shown.

    A source ``add``s each title where its audio starts; the player's watcher calls ``due``
    with the playback position and publishes what it returns. The history is kept across
    seeks: after ``seek(T)`` the next ``due`` gives the title in force at T (the last one at
    or before it), so seeking back into an earlier Ogg link or HLS segment shows that link's
    title again although its tag is not read again (a Vorbis comment header, a timed ID3 tag
    in an earlier TS segment). When no title is known at or before T and one was shown, an
    empty title says "no title" rather than leaving the wrong one up.

    Nothing is given out twice in a row: a title equal to the one in force where it is added
    is no change and is dropped (each HLS segment repeats its link's tag; a segment fetched
    again after a seek brings its tags again), and ``due`` skips a title equal to the one
    shown. A title added at or behind what ``due`` has given out (a part opened while
    playback drained up to its start: an Ogg station's next link at another rate at the
    live edge) that is the one in force there is given at the next ``due``, not passed over.
    Thread-safe: a source fills it, the watcher drains it.
    """

    def __init__(self, *, covered_only: bool = False) -> None:
        self._lock = threading.Lock()
        self._history: list[TimedTitle] = []  # by ``at``; equal times in the order added
        self._covered_only = covered_only
        self._spans: list[list[float]] = []  # merged [start, end] read in full (``cover``)
        self._played: float | None = None  # given out up to here; None: resolve in force
        self._target: float | None = None  # the last seek's target
        self._shown: tuple[str, str] | None = None
        self._late: TimedTitle | None = None  # added behind ``_played``, in force: give next

    def add(self, at: float, title: str, url: str = "") -> bool:
        """Note ``title`` from second ``at``; False if it is the title already in force there."""
        with self._lock:
            where = bisect.bisect_right(self._history, at, key=lambda t: t.at)
            if where and (self._history[where - 1].title, self._history[where - 1].url) == (
                title,
                url,
            ):
                return False
            timed = TimedTitle(at, title, url)
            self._history.insert(where, timed)
            played = self._played
            if played is not None and at <= played:  # behind playback: in force unless a
                # later one was given out since (the next ``due`` starts past ``_played``)
                after = bisect.bisect_right(self._history, played, key=lambda t: t.at)
                self._late = timed if after == where + 1 else self._late
            if len(self._history) > MAX_HISTORY:  # days of an endless stream: forget the oldest
                del self._history[0]
            return True

    def cover(self, start: float, end: float) -> None:
        """Every title between ``start`` and ``end`` has been added (a segment landed).

        With ``covered_only``, a seek trusts the last title before its target only if one
        span read in full reaches from that title to the target: an HLS seek forward past
        segments never fetched may skip a timed ID3 change, and then no title is better than
        the stale one. (The decoder needs none: FFmpeg reads a chained Ogg from its start.)
        """
        with self._lock:
            spans = [*self._spans, [start, end]]
            spans.sort()
            merged: list[list[float]] = []
            for span in spans:
                if merged and span[0] <= merged[-1][1] + SPAN_SLACK:
                    merged[-1][1] = max(merged[-1][1], span[1])
                else:
                    merged.append(list(span))
            self._spans = merged

    def _known(self, since: float, until: float) -> bool:
        if not self._covered_only:
            return True
        return any(a - SPAN_SLACK <= since and until <= b + SPAN_SLACK for a, b in self._spans)

    def seek(self, target: float) -> None:
        """Playback jumps to ``target``: the next ``due`` gives the title in force there."""
        with self._lock:
            self._played = None
            self._target = target
            self._late = None

    def due(self, position: float) -> list[TimedTitle]:
        """What to publish now that playback is at ``position`` (seconds), in order.

        Right after a seek (or at the first call) that is the title in force at the target;
        then each title whose second playback has passed since the last call.
        """
        with self._lock:
            out: list[TimedTitle] = []
            if self._played is None:
                at = position if self._target is None else max(position, self._target)
                where = bisect.bisect_right(self._history, at, key=lambda t: t.at)
                if where and self._known(self._history[where - 1].at, at):
                    self._give(self._history[where - 1], out)
                elif self._shown is not None:  # nothing known there: not the old title
                    self._give(TimedTitle(at, ""), out)
                self._played = at
            elif self._late is not None:
                self._give(self._late, out)
            self._late = None
            start = bisect.bisect_right(self._history, self._played, key=lambda t: t.at)
            end = bisect.bisect_right(self._history, position, key=lambda t: t.at)
            for timed in self._history[start:end]:
                self._give(timed, out)
            self._played = max(self._played, position)
            return out

    def _give(self, timed: TimedTitle, out: list[TimedTitle]) -> None:
        if (timed.title, timed.url) != self._shown:
            self._shown = (timed.title, timed.url)
            out.append(timed)

    def titles(self) -> list[TimedTitle]:
        """The history, in timeline order (for a CUE sheet or a test)."""
        with self._lock:
            return list(self._history)
