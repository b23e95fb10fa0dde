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

import threading
from collections.abc import Mapping
from dataclasses import dataclass


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
    """Titles by timeline second, each given out once when playback reaches it.

    A title equal to the one added before it is no change and is dropped (each HLS segment
    repeats its link's tag). Thread-safe: a source fills it, the player's watcher drains it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[TimedTitle] = []
        self._last: tuple[str, str] | None = None

    def add(self, at: float, title: str, url: str = "") -> bool:
        """Queue ``title`` from second ``at``; False if it repeats the last one added."""
        with self._lock:
            if self._last == (title, url):
                return False
            self._last = (title, url)
            self._pending.append(TimedTitle(at, title, url))
            self._pending.sort(key=lambda t: t.at)  # stable: equal times keep their order
            return True

    def due(self, position: float) -> list[TimedTitle]:
        """Titles at or before ``position`` (seconds), in order, each given out once."""
        with self._lock:
            n = 0
            while n < len(self._pending) and self._pending[n].at <= position:
                n += 1
            due, self._pending = self._pending[:n], self._pending[n:]
            return due

    def clear(self) -> None:
        """Forget what is queued and the last title (a seek: what plays next is new)."""
        with self._lock:
            self._pending.clear()
            self._last = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)
