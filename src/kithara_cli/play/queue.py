"""The play queue: targets in order, station links expanded in place, loop and shuffle.

A station link's entries replace it where it stood, so mirrors are tried in order (a dead one
fails and the queue moves on) and a list of files plays through. ``--loop item`` repeats the
current item, ``--loop queue`` starts over after the last; ``--shuffle`` orders once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kithara_cli.errors import PlaylistError, UsageError

if TYPE_CHECKING:
    import random

LOOP_MODES = ("none", "item", "queue")
MAX_EXPANSIONS = 20  # down one chain (a link naming a link naming a link...): not for ever


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
        if nxt >= len(self.items):
            if self.loop != "queue":
                self.index = len(self.items)
                return False
            nxt = 0
        self.index = max(nxt, 0)
        return True
