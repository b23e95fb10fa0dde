"""Audio a recording of an HLS run holds twice, found by the packets' timestamps.

A switch between variants cut unalike (2 s segments, then 6 s ones) makes the run a new
*part* whose first segment starts before the audio already written ends (``source``); the
decoder trims that part to there by timestamp, so it plays each second once. A recording
(``play --record``) writes the parts' bytes as the decoder reads them, so it holds the
overlap twice; ``overlapping_packets`` finds its packets by the decoder's own rule (a part is
placed on the timeline at its start second, its packets by their timestamps from the part's
first) and ``remux`` leaves them out.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

# A part that starts this much before the audio written ends overlaps it (the decoder's
# and the source's tolerance: less is the rounding of EXTINF durations between variants).
OVERLAP_SECONDS = 0.01


@dataclass(frozen=True)
class PartMark:
    """Where a part (or a run, after a seek) starts in the recorded file."""

    offset: int  # byte of the recording its first byte is at
    seconds: float  # timeline second its first audio is heard at
    run: bool  # a new run (a seek): its timeline starts afresh, nothing before it overlaps


def overlapping_packets(path: Path, marks: list[PartMark]) -> frozenset[int]:
    """The demux indices of ``path``'s audio packets whose audio a part before held already.

    A packet is left out when more than half of it lies before the end of the audio kept so
    far in its run; the first packet kept ends that part's trimming. Empty when no part starts
    early, and when PyAV cannot read the file (it is then kept as it is).
    """
    import av

    ordered = sorted(marks, key=lambda m: m.offset)
    if not any(not m.run for m in ordered):
        return frozenset()
    offsets = [m.offset for m in ordered]
    drop: set[int] = set()
    try:
        with av.open(str(path)) as src:
            audio = next((s for s in src.streams if s.type == "audio"), None)
            if audio is None or audio.time_base is None:
                return frozenset()
            base = float(audio.time_base)
            current = -1
            first_pts = 0
            end: float | None = None  # where the audio kept so far in this run ends
            limit: float | None = None  # a part that starts early: trim it up to here
            for index, packet in enumerate(src.demux(audio)):
                pts = packet.pts if packet.pts is not None else packet.dts
                if pts is None or packet.size == 0:
                    continue
                pos = packet.pos
                at = current if pos is None or pos < 0 else bisect.bisect_right(offsets, pos) - 1
                if at != current and at >= 0:
                    current, first_pts = at, pts
                    mark = ordered[at]
                    if mark.run:
                        end = None
                    early = end is not None and mark.seconds < end - OVERLAP_SECONDS
                    limit = end if early else None
                seconds = (ordered[current].seconds if current >= 0 else 0.0) + (
                    pts - first_pts
                ) * base
                length = (packet.duration or 0) * base
                if limit is not None and seconds + length / 2 <= limit:
                    drop.add(index)
                    continue
                limit = None
                end = seconds + length if end is None else max(end, seconds + length)
    except (av.error.FFmpegError, ValueError, OSError):
        return frozenset()
    return frozenset(drop)
