"""What the session's watcher reports every 0.1 s: where playback is and how much is ahead.

``Position`` and ``BufferLevel`` for the event stream, the same into ``Snapshot`` for the
dashboard; on the way, a live stream is told how much is decoded (its byte rate and pace), an
HLS source where the playhead is (its prefetch and the variant shown), and a progressive
file's duration is settled (``opening.progressive_duration``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kithara_cli.events import EventBus
from kithara_cli.events.types import BufferLevel, Position
from kithara_cli.play.opening import progressive_ahead, progressive_duration
from kithara_cli.play.snapshot import Snapshot

if TYPE_CHECKING:
    from kithara_cli.audio import Decoder
    from kithara_cli.file.source import ProgressiveSource
    from kithara_cli.hls.source import HlsSource
    from kithara_cli.radio.live import LiveStream


def report_levels(
    bus: EventBus,
    snapshot: Snapshot,
    pos: float,
    decoded: float,
    decoder: Decoder,
    sources: tuple[LiveStream | None, ProgressiveSource | None, HlsSource | None],
) -> None:
    """Playback is at ``pos`` with ``decoded`` seconds decoded ahead of it; ``sources``: the
    play's live stream, progressive file and HLS source (each None when not this kind)."""
    live, progressive, hls = sources
    snapshot.position = pos
    bus.publish(Position(seconds=pos, duration=snapshot.duration))
    if live is not None:
        live.note_decoded(pos + decoded)  # its byte rate, and its pace judged
    elif progressive is not None:
        shown = snapshot.duration
        snapshot.duration = progressive_duration(progressive, decoder, shown)
    # Live: a station (or a body with no end past its cap), an HLS playlist that may grow;
    # not a file served with no length, which seeks and ends (its duration is "-:--" until).
    snapshot.live = (progressive is not None and progressive.live is not None) or (
        hls is not None and hls.duration is None
    )
    if hls is not None:
        hls.set_playhead(pos)
        downloaded = hls.buffer_ahead()
        snapshot.variant = hls.variant_at(pos)
    else:
        downloaded = progressive_ahead(progressive, snapshot.duration, pos, decoded)
    snapshot.buffer_downloaded = downloaded
    snapshot.buffer_decoded = decoded
    bus.publish(BufferLevel(downloaded_ahead=downloaded, decoded_ahead=decoded))
