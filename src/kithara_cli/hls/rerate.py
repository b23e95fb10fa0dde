"""The audio rungs a video master gives no rate for, priced by the bytes playback fetched.

``hls.audio_rates`` reads what an audio rendition costs from the master; a group it cannot
price (Apple's bipbop example: groups "aud1".."aud3", no audio-only variant, no rate in a name)
enters the ABR's ladder at its video variant's BANDWIDTH, 2-8 Mbit/s for ~160 kbit/s of audio,
and the ABR keeps to the lowest rung on a link that carries all of them. Here each segment of
such a rung that lands counts (bytes x 8 / EXTINF, averaged over the group's last segments),
and the controller judges the rung at that rate (``AbrController.rerate``); the groups listed
with the same video URIs follow through the master's differences (``audio_rates.with_measured``).
A group neither fetched nor reached keeps its variant's BANDWIDTH, an upper bound (RFC 8216's
BANDWIDTH counts the rendition's audio too): nothing else says what it costs.

Fetching a segment of every unpriced group at startup to price them all is not done: it costs
a fetch per group before or beside the first audio, and in the layout where groups go unpriced
(each video listed once per group) the differences price the others from the one played.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from kithara_cli.events.types import LadderInfo
from kithara_cli.hls.audio_rates import audio_rates, with_measured
from kithara_cli.hls.loader import Rung
from kithara_cli.hls.model import MasterPlaylist, Segment

__all__ = ["MeasuredRates"]

# Segments a group's average spans (a live stream plays for hours: the recent ones count).
WINDOW_SEGMENTS = 32
# A rate moves the ladder when it is new or this far from the one the ABR has (VBR audio
# wobbles a few percent from segment to segment; each move republishes the ladder).
MOVE_SHARE = 0.05


@dataclass
class MeasuredRates:
    """Per unpriced audio group, the segments fetched of it: their bytes and durations."""

    master: MasterPlaylist
    rungs: list[Rung]
    _segments: dict[str, OrderedDict[int, tuple[int, float]]] = field(default_factory=dict)
    _applied: dict[int, int] = field(default_factory=dict)  # rung index -> the rate in force

    @classmethod
    def for_ladder(cls, master: MasterPlaylist, rungs: list[Rung]) -> MeasuredRates | None:
        """None when every rung has its rate from the master."""
        if not any(r.unpriced_group for r in rungs):
            return None
        return cls(master, rungs)

    def landed(self, variant: int, segment: Segment, size: int) -> dict[int, int]:
        """A segment of ``variant`` came (``size`` bytes): the rungs whose rate moves, with it."""
        group = next((r.unpriced_group for r in self.rungs if r.index == variant), None)
        if group is None or segment.duration <= 0 or size <= 0:
            return {}
        seen = self._segments.setdefault(group, OrderedDict())
        seen[segment.sequence] = (size, segment.duration)  # fetched again: counted once
        seen.move_to_end(segment.sequence)
        while len(seen) > WINDOW_SEGMENTS:
            seen.popitem(last=False)
        measured = {
            g: round(8 * sum(n for n, _ in s.values()) / sum(d for _, d in s.values()))
            for g, s in self._segments.items()
        }
        rates = with_measured(self.master, audio_rates(self.master), measured)
        moved: dict[int, int] = {}
        for rung in self.rungs:
            rate = rates.get(rung.unpriced_group or "")
            if rate is None:
                continue
            was = self._applied.get(rung.index)
            if was is None or abs(rate.bandwidth - was) > MOVE_SHARE * was:
                moved[rung.index] = self._applied[rung.index] = rate.bandwidth
        return moved

    def ladder_info(self) -> LadderInfo:
        """The ladder for the dashboard: measured rates in, marked as such."""
        return LadderInfo(
            variants=tuple(
                (r.index, self._applied.get(r.index, r.bandwidth), r.codecs) for r in self.rungs
            ),
            measured=tuple(sorted(self._applied)),
        )
