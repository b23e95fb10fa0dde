"""The player's own numbers for the UI: one typed value, read without locks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Snapshot:
    """What the UI shows, read without locks (plain values; ``None``: not known yet)."""

    state: str = "buffering"
    position: float = 0.0
    duration: float | None = None
    volume: float = 1.0
    buffer_downloaded: float = 0.0
    buffer_decoded: float = 0.0
    variant: int | None = None
    live: bool = False  # an endless stream: no duration, no seeking
    station: str = ""  # icy-name (raw network text: sanitise before showing)
    now_playing: str = ""  # the StreamTitle being played (raw network text)
    chapter: str = ""  # the file's chapter being played (raw text: ``audio.chapters``)
    queue_index: int = 0  # 0-based position in the play queue
    queue_length: int = 1


PlaybackSnapshot = Snapshot
