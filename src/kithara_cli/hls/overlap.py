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
# A part whose timestamps go back further than this is a discontinuity that started them
# over, not a segment from a variant cut unalike (which overlaps by less than a segment).
MAX_BACK_SECONDS = 60.0


@dataclass(frozen=True)
class PartMark:
    """Where a part (or a run, after a seek) starts in the recorded file."""

    offset: int  # byte of the recording its first byte is at
    seconds: float | None  # timeline second its first audio is heard at (None: goes on)
    run: bool  # a new run (a seek): its timeline starts afresh, nothing before it overlaps


def overlapping_packets(path: Path, marks: list[PartMark]) -> frozenset[int]:
    """The demux indices of ``path``'s audio packets whose audio a part before held already.

    A part overlaps when both say so: the timeline (it starts before the end of the audio kept
    so far in its run, the decoder's rule) and its own timestamps (they go back, by less than
    ``MAX_BACK_SECONDS``: variants of one presentation share them). The timeline alone is not
    enough: EXTINF durations rounded down put a part at an EXT-X-DISCONTINUITY "early" by
    their drift, though its timestamps go on; a discontinuity whose timestamps start over
    goes back too far. A packet of an overlapping part is left out while more than half of it
    lies before the end of the timestamps kept; the first packet kept ends the trimming.
    Empty when no part overlaps, and when PyAV cannot read the file (it is then kept as is).
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
            first = 0.0  # the part's first timestamp, seconds
            end: float | None = None  # where the audio kept so far in this run ends (timeline)
            end_ts: float | None = None  # and its timestamps
            limit: float | None = None  # an overlapping part: trimmed up to this timestamp
            part_start = 0.0  # the timeline second of the current part's first packet
            for index, packet in enumerate(src.demux(audio)):
                pts = packet.pts if packet.pts is not None else packet.dts
                if pts is None or packet.size == 0:
                    continue
                stamp = pts * base
                pos = packet.pos
                at = current if pos is None or pos < 0 else bisect.bisect_right(offsets, pos) - 1
                if at != current and at >= 0:
                    current, first = at, stamp
                    mark = ordered[at]
                    if mark.run:
                        end = end_ts = None
                    limit = None
                    part_start = mark.seconds if mark.seconds is not None else end or 0.0
                    if end is not None and end_ts is not None and mark.seconds is not None:
                        early = mark.seconds < end - OVERLAP_SECONDS
                        back = end_ts - stamp
                        if early and OVERLAP_SECONDS < back < MAX_BACK_SECONDS:
                            limit = end_ts
                length = (packet.duration or 0) * base
                if limit is not None and stamp + length / 2 <= limit:
                    drop.add(index)
                    continue
                limit = None
                seconds = part_start + stamp - first
                end = seconds + length if end is None else max(end, seconds + length)
                end_ts = stamp + length if end_ts is None else max(end_ts, stamp + length)
    except (av.error.FFmpegError, ValueError, OSError):
        return frozenset()
    return frozenset(drop)
