"""The play queue: targets in order, station links expanded in place, loop and shuffle.

A station link's entries replace it where it stood, so mirrors are tried in order (a dead one
fails and the queue moves on) and a list of files plays through. ``--loop item`` repeats the
current item, ``--loop queue`` starts over after the last; ``--shuffle`` orders once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kithara_cli.errors import PlaylistError, UsageError

if TYPE_CHECKING:
    import random

LOOP_MODES = ("none", "item", "queue")
MAX_EXPANSIONS = 20  # down one chain (a link naming a link naming a link...): not for ever
# What a folder given to play contributes (its other files: cover art, .cue, .nfo, playlists
# that would repeat its tracks).
AUDIO_SUFFIXES = frozenset(
    [
        ".mp3",
        ".mp2",
        ".aac",
        ".m4a",
        ".m4b",
        ".mp4",
        ".flac",
        ".wav",
        ".aif",
        ".aiff",
        ".ogg",
        ".oga",
        ".opus",
        ".mka",
        ".wma",
        ".ac3",
        ".ape",
        ".wv",
        ".caf",
    ]
)


@dataclass(frozen=True)
class QueueItem:
    target: str
    title: str = ""
    from_link: str = ""  # the station link it came from ("" for a target given by hand)
    depth: int = 0  # links between it and the target given by hand


class PlayQueue:
    def __init__(
        self,
        targets: list[str],
        *,
        loop: str = "none",
        shuffle: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        if loop not in LOOP_MODES:
            raise UsageError(f"bad --loop {loop!r}: use item or queue")
        self.items = [QueueItem(t) for t in targets]
        if shuffle:
            import random  # (only a shuffle needs it)

            (rng or random.Random()).shuffle(self.items)
        self.loop = loop
        self.index = 0

    @property
    def current(self) -> QueueItem | None:
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    def __len__(self) -> int:
        return len(self.items)

    def expand(self, source: str, entries: list[tuple[str, str]]) -> None:
        """The current item was a station link: its entries take its place. Bounded down
        one chain of links (a loop of them is bad content), not over the queue: a list of
        stations given by hand is not nested."""
        current = self.current
        depth = (current.depth if current is not None else 0) + 1
        if depth > MAX_EXPANSIONS:
            raise PlaylistError(f"station links nested more than {MAX_EXPANSIONS} deep at {source}")
        new = [QueueItem(target, title, source, depth) for target, title in entries]
        self.items[self.index : self.index + 1] = new

    def has_next(self) -> bool:
        return self.index + 1 < len(self.items) or (self.loop == "queue" and bool(self.items))

    def advance(self, step: int = 1, *, natural: bool = True) -> bool:
        """Move on (``natural``: the item ended by itself); False when the queue is done."""
        if natural and self.loop == "item":
            return True
        nxt = self.index + step
        if nxt < 0 and self.loop == "queue":
            nxt = len(self.items) - 1  # p on the first item of a looped queue: the last (mpv)
        if nxt >= len(self.items):
            if self.loop != "queue":
                self.index = len(self.items)
                return False
            nxt = 0
        self.index = max(nxt, 0)
        return True


def expand_folders(targets: list[str]) -> list[str]:
    """Each local folder among ``targets`` as the audio files under it, as mpv plays a folder:
    sorted by name with numbers in order (``2 b.mp3`` before ``10 a.mp3``), subfolders in
    place, hidden files left out. A folder with none is bad usage (exit 2), as before."""
    out: list[str] = []
    for target in targets:
        if "://" in target or not os.path.isdir(target):
            out.append(target)
            continue
        found = list(_audio_under(target))
        if not found:
            raise UsageError(f"a folder with no audio files in it: {target}")
        out.extend(found)
    return out


def _audio_under(folder: str) -> list[str]:
    files: list[str] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted((d for d in dirs if not d.startswith(".")), key=_natural)
        for name in sorted(names, key=_natural):
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in AUDIO_SUFFIXES:
                files.append(os.path.join(root, name))
    # os.walk lists a folder's files before its subfolders' (as mpv does: files first)
    return files


def _natural(name: str) -> list[tuple[int, int | str]]:
    return [(0, int(p)) if p.isdigit() else (1, p.casefold()) for p in re.split(r"(\d+)", name)]
