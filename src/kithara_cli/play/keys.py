"""The player's keys: one key name (from ``ui.keys``) -> one control of the session."""

from __future__ import annotations

from kithara_cli.events.types import Notice
from kithara_cli.play.session import Player

SEEK_STEP = 10.0
VOLUME_STEP = 0.1


def handle_key(player: Player, key: str | None) -> bool:
    """Apply one key; True means quit."""
    if key is None:
        return False
    if key == "quit":
        return True
    if key == "space":
        player.toggle_pause()
    elif key == "left":
        player.seek_relative(-SEEK_STEP)
    elif key == "right":
        player.seek_relative(SEEK_STEP)
    elif key == "up":
        player.change_volume(VOLUME_STEP)
    elif key == "down":
        player.change_volume(-VOLUME_STEP)
    elif key in ("chapter-next", "chapter-prev"):
        _chapter(player, 1 if key == "chapter-next" else -1)
    return False


def _chapter(player: Player, step: int) -> None:
    """PgDn/PgUp: to the next chapter's start, or back to this one's (or the one before)."""
    target = player.now_playing.chapter_target(player.now_playing.position, step)
    if target is not None:
        player.seek_to(target)
    elif not player.now_playing.chapters.titles():
        player.bus.publish(Notice(level="info", message="no chapters in this file"))
