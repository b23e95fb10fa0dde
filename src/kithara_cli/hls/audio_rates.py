"""What an audio rendition (an EXT-X-MEDIA TYPE=AUDIO group) costs, in bit/s.

A video master's variants carry the video's BANDWIDTH (2-8 Mbit/s) with the audio group they
name; kithara fetches only the group's audio (64-256 kbit/s), so an ABR that judged audio
rungs by their variants' rates picks too low a rung, or switches as the estimate crosses
video rates that mean nothing for audio. Neither hls.js nor ExoPlayer has a rate for an audio
rendition (hls.js gives it ``bitrate: 0``; ExoPlayer ``Format.NO_VALUE``): they adapt video and
take the audio along. kithara plays the audio alone, so it reads the rate from the master:

1. an audio-only variant (CODECS naming no video, no RESOLUTION) that names the group, or
   whose URI is the rendition's (some masters list one per group, for audio-only clients):
   its BANDWIDTH;
2. a BITRATE or BANDWIDTH attribute on the group's EXT-X-MEDIA (not in RFC 8216; some
   packagers write one);
3. the difference between variants that differ only in their audio group (the same video
   URI listed once with "aac-64", once with "aac-128"), from a group whose rate is known;
4. a rate in the group's GROUP-ID or NAME: "aac-128", "audio_96k", "stereo-64kbps".

A group none of these prices keeps its variant's BANDWIDTH, as before, until playback has
fetched some of its segments: ``with_measured`` then prices it by their bytes (``hls.rerate``),
and through the differences (3.) the groups listed with the same video.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kithara_cli.hls.model import MasterPlaylist, Variant

__all__ = ["AudioRate", "audio_rates", "declared_rate", "with_measured"]

# "aac-128", "audio_96k", "stereo-64kbps", "audio-aacl-128": a number standing apart, with
# an optional k unit. A bare number only from 24 to 512 (kbit/s of audio; not "audio_1", nor a
# sample rate like 48000).
_NAMED = re.compile(r"(?<![0-9A-Za-z.])(\d{1,5})(\s*k(?:bps|bit/s|b/s|bit)?)?(?![0-9A-Za-z.])")
_BARE_KBPS = range(24, 513)
_UNIT_KBPS = range(8, 1537)


@dataclass(frozen=True, slots=True)
class AudioRate:
    """An audio group's rate and where it was read (for the listing)."""

    bandwidth: int
    source: str  # "audio-only variant", "attribute", "variants", "name", "measured"


def declared_rate(media: Mapping[str, Any]) -> int | None:
    """A BITRATE or BANDWIDTH attribute on an EXT-X-MEDIA (as m3u8 keeps unknown ones)."""
    for key in ("bitrate", "bandwidth"):
        raw = media.get(key)
        text = str(raw).strip().strip("\"'") if raw is not None else ""
        if text.isdigit() and 0 < int(text) < 10**9:
            return int(text)
    return None


def audio_rates(master: MasterPlaylist) -> dict[str, AudioRate]:
    """Each audio group's rate where the master says it (see the module's docstring)."""
    groups = {r.group_id for r in master.renditions}
    anchors: list[dict[str, AudioRate]] = [
        _from_audio_variants(master, groups),
        {
            r.group_id: AudioRate(r.bitrate, "attribute")
            for r in reversed(master.renditions)  # the first listed wins
            if r.bitrate is not None
        },
        _from_names(master, groups),
    ]
    edges = _differences(master.variants, groups)
    known: dict[str, AudioRate] = {}
    for tier in anchors:  # a tier's own rates first, then what they imply for the rest
        placed = [g for g in tier if g not in known]
        known.update((g, tier[g]) for g in placed)
        for group in placed:
            _spread(group, known, edges)
    return known


def with_measured(
    master: MasterPlaylist, known: Mapping[str, AudioRate], measured: Mapping[str, int]
) -> dict[str, AudioRate]:
    """``known`` (``audio_rates``) and, for the groups it leaves unpriced, the rate their
    fetched segments measured; the groups a measured one reaches by differences (3.) follow
    it. A group neither measured nor reached keeps no rate: nothing else says what it costs."""
    out = dict(known)
    fresh = [g for g, bps in measured.items() if g not in known and bps > 0]
    out.update((g, AudioRate(measured[g], "measured")) for g in fresh)
    edges = _differences(master.variants, {r.group_id for r in master.renditions})
    for group in fresh:
        _spread(group, out, edges)
    return out


def _from_audio_variants(master: MasterPlaylist, groups: set[str]) -> dict[str, AudioRate]:
    by_uri = {r.uri: r.group_id for r in master.renditions if r.uri}
    found: dict[str, AudioRate] = {}
    for v in master.variants:
        if not v.codecs or not v.is_audio_only or v.bandwidth <= 0:
            continue  # (no CODECS and no RESOLUTION: as likely a sloppy video variant)
        group = v.audio_group if v.audio_group in groups else by_uri.get(v.uri)
        if group is not None and group not in found:
            found[group] = AudioRate(v.bandwidth, "audio-only variant")
    return found


def _from_names(master: MasterPlaylist, groups: set[str]) -> dict[str, AudioRate]:
    names_of: dict[str, list[str]] = {group: [group] for group in groups}
    for r in master.renditions:  # one pass: a hostile master lists 100,000 groups
        names_of[r.group_id].append(r.name)
    found: dict[str, AudioRate] = {}
    for group in sorted(groups):
        for name in names_of[group]:
            rate = _rate_in(name)
            if rate is not None:
                found[group] = AudioRate(rate, "name")
                break
    return found


def _rate_in(name: str) -> int | None:
    rates = set()
    for number, unit in _NAMED.findall(name):
        kbps = int(number)
        if kbps in (_UNIT_KBPS if unit else _BARE_KBPS):
            rates.add(kbps * 1000)
    return rates.pop() if len(rates) == 1 else None  # "aac-64-128": no telling


def _differences(variants: tuple[Variant, ...], groups: set[str]) -> dict[str, dict[str, int]]:
    """Per group, the groups listed with the same video URI and what each costs more."""
    by_video: dict[str, list[Variant]] = {}
    for v in variants:
        if v.audio_group in groups and not v.is_audio_only and v.bandwidth > 0:
            by_video.setdefault(v.uri, []).append(v)
    edges: dict[str, dict[str, int]] = {}
    for same in by_video.values():
        for a in same:
            for b in same:
                if a.audio_group != b.audio_group:
                    assert a.audio_group is not None and b.audio_group is not None
                    edges.setdefault(a.audio_group, {}).setdefault(
                        b.audio_group, b.bandwidth - a.bandwidth
                    )
    return edges


def _spread(start: str, known: dict[str, AudioRate], edges: dict[str, dict[str, int]]) -> None:
    """Price the groups reached from ``start`` by differences (a rate that comes out not
    positive is no rate: the variants' BANDWIDTHs were rounded or wrong)."""
    queue = deque([start])
    while queue:
        group = queue.popleft()
        for other, more in edges.get(group, {}).items():
            rate = known[group].bandwidth + more
            if other not in known and rate > 0:
                known[other] = AudioRate(rate, "variants")
                queue.append(other)
