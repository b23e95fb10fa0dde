"""Pick a variant and an audio rendition from a master playlist, from what the user typed.

Pure functions over the model so the CLI, ABR and tests share one set of rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kithara_cli.errors import PlaylistError, UsageError
from kithara_cli.hls.model import MasterPlaylist, Rendition, Variant

__all__ = [
    "BITRATE_SLACK",
    "audio_candidates",
    "audio_ladder",
    "choose_rendition",
    "choose_variant",
    "track_renditions",
]

# BANDWIDTH is a peak that includes container overhead: a "128k" AAC stream is typically
# advertised as 130-145 kbit/s. Without slack, "128k" would pick the 64k variant.
BITRATE_SLACK = 1.10

_BITRATE = re.compile(r"(\d+(?:\.\d+)?)\s*([km])(?:bps|bit/s|b/s)?", re.IGNORECASE)
_MULTIPLIER = {"k": 1_000, "m": 1_000_000}


def audio_candidates(master: MasterPlaylist) -> tuple[Variant, ...]:
    """Audio-only variants when the master has any (no video to download), else every
    variant that may carry sound (not video-only: CODECS naming only video, no AUDIO group)."""
    if not master.variants:
        raise PlaylistError("master playlist has no variants")
    audio = tuple(v for v in master.variants if v.is_audio_only)
    return audio or _with_sound(master.variants)


def audio_ladder(master: MasterPlaylist) -> tuple[Variant, ...]:
    """The variants an ABR ladder for audio may use, in playlist order: audio-only ones and
    those whose audio is a rendition group, else every variant that may carry sound.

    I-frame playlists never get here (EXT-X-I-FRAME-STREAM-INF is not a variant) and video-only
    variants are left out. Equal or missing BANDWIDTH is the ABR's to settle (one rung a rate).
    """
    if not master.variants:
        raise PlaylistError("master playlist has no variants")
    audio = tuple(v for v in master.variants if v.is_audio_only or v.audio_group)
    return audio or _with_sound(master.variants)


def _with_sound(variants: tuple[Variant, ...]) -> tuple[Variant, ...]:
    """Variants not known to be video-only; all of them if CODECS says none has sound (a
    server that names only the video codec of a muxed stream is more likely than no audio)."""
    return tuple(v for v in variants if not v.is_video_only) or variants


def choose_variant(
    master: MasterPlaylist, spec: str, rate: Callable[[Variant], int] | None = None
) -> Variant:
    """``best`` | ``worst`` | a 0-based index like ``2`` | a bitrate like ``128k`` / ``1.5M``.

    A bitrate picks the highest variant not above it (with ``BITRATE_SLACK``), else the lowest.
    Ties go to the variant listed first, which servers list as their preference. ``rate``:
    what fetching a variant's audio costs, when not its BANDWIDTH (an audio rendition's).
    """
    candidates = audio_candidates(master)
    peak = rate or (lambda v: v.bandwidth)
    nominal = rate or _rate
    text = spec.strip().lower()
    if text == "best":
        return max(candidates, key=lambda v: (peak(v), -v.index))
    if text == "worst":
        return min(candidates, key=lambda v: (peak(v), v.index))
    if text.isdigit():
        index = int(text)
        if index < len(master.variants):
            return master.variants[index]
        raise UsageError(f"no variant {index}; {_describe_variants(master)}")
    match = _BITRATE.fullmatch(text)
    if match is None:
        raise UsageError(
            f"bad variant {spec!r} (use best, worst, an index or a bitrate like 128k); "
            + _describe_variants(master)
        )
    limit = float(match.group(1)) * _MULTIPLIER[match.group(2).lower()] * BITRATE_SLACK
    fitting = [v for v in candidates if nominal(v) <= limit]
    if fitting:
        return max(fitting, key=lambda v: (nominal(v), -v.index))
    return min(candidates, key=lambda v: (nominal(v), v.index))


def choose_rendition(
    master: MasterPlaylist, variant: Variant, spec: str | None
) -> Rendition | None:
    """The audio rendition to fetch for ``variant``, or None to play the variant's own audio.

    ``spec`` matches LANGUAGE or NAME (case-insensitive; a language also matches by prefix, so
    ``en`` finds ``en-US``). Without a spec: DEFAULT=YES, else the first. A rendition without
    URI means "this audio is muxed in the variant", so matching one also yields None.
    """
    if variant.audio_group is None:
        return None
    group = [r for r in master.renditions if r.group_id == variant.audio_group]
    if not group or all(r.uri is None for r in group):
        if spec is not None and group and _match(group, spec) is None:
            raise UsageError(f"no audio rendition {spec!r}; {_describe_renditions(group)}")
        return None
    if spec is not None:
        chosen = _match(group, spec)
        if chosen is None:
            raise UsageError(f"no audio rendition {spec!r}; {_describe_renditions(group)}")
    else:
        chosen = next((r for r in group if r.default), group[0])
    return chosen if chosen.uri is not None else None


def track_renditions(
    master: MasterPlaylist, variants: tuple[Variant, ...], spec: str | None
) -> list[tuple[Variant, Rendition | None]]:
    """Each of ``variants`` with its rendition of one audio *track* (None: the variant's own
    audio), the variants whose group has no such track left out: an ABR switch or fetch's
    ``best`` must not change the language. Masters pair each group with a codec (Apple's
    authoring spec: AAC, AC-3, E-AC-3 groups) or a bitrate, and every group may have its own
    DEFAULT=YES: a group's DEFAULT is not the track.

    The track is ``spec`` (LANGUAGE or NAME, as ``choose_rendition``), else the DEFAULT (else
    first) rendition of the first variant listed with a group (the one authors list first,
    to start with), found in the other groups by NAME and LANGUAGE, else by LANGUAGE. As hls.js
    keeps the audio track across a level switch. When no variant has the track: all, as before.
    """
    if spec is not None:
        kept: list[tuple[Variant, Rendition | None]] = []
        for v in variants:
            try:
                kept.append((v, choose_rendition(master, v, spec)))
            except UsageError:
                continue  # this group lacks the track asked for: the others have it
        if not kept and variants:
            choose_rendition(master, variants[0], spec)  # none has it: say what there is
        return kept
    groups = {v.audio_group: _group(master, v) for v in variants if v.audio_group}
    first = next((g for g in groups.values() if g), None)
    if first is None:
        return [(v, choose_rendition(master, v, None)) for v in variants]
    like = next((r for r in first if r.default), first[0])
    pairs: list[tuple[Variant, Rendition | None]] = []
    for v in variants:
        group = groups.get(v.audio_group) if v.audio_group else None
        if not group:
            pairs.append((v, None))  # its own audio, of no stated language
            continue
        same = _same_track(group, like)
        if same is not None:
            pairs.append((v, same if same.uri is not None else None))
    return pairs or [(v, choose_rendition(master, v, None)) for v in variants]


def _group(master: MasterPlaylist, variant: Variant) -> list[Rendition]:
    return [r for r in master.renditions if r.group_id == variant.audio_group]


def _same_track(group: list[Rendition], like: Rendition) -> Rendition | None:
    """``like``'s track in another group: same NAME and LANGUAGE, else the same LANGUAGE (its
    DEFAULT first). Where languages cannot be compared (``like`` or the whole group has none:
    groups by bitrate named "aac_64k", "aac_128k"), the group's DEFAULT (else first) is taken,
    as before; None only when the group's languages are all others."""
    for r in group:
        if r.name == like.name and r.language == like.language:
            return r
    languages = {r.language.casefold() for r in group if r.language}
    if not like.language or not languages:
        return next((r for r in group if r.default), group[0])
    wanted = like.language.casefold()
    same = [r for r in group if (r.language or "").casefold() == wanted]
    return next((r for r in same if r.default), same[0] if same else None)


def _match(group: list[Rendition], spec: str) -> Rendition | None:
    """The rendition ``spec`` names: its NAME exactly, else by LANGUAGE (or its prefix: ``en``
    finds ``en-GB``), where DEFAULT=YES comes first, then AUTOSELECT=YES, then an exact
    language: asked for English, the main English track, not an English audio description
    (AUTOSELECT=NO) listed before it. Among equals the first listed."""
    wanted = spec.strip().casefold()
    found: list[tuple[tuple[bool, bool, bool, bool], Rendition]] = []
    for r in group:
        language = (r.language or "").casefold()
        by_name = wanted == r.name.casefold()
        exact = wanted == language
        if by_name or exact or (language and language.split("-", 1)[0] == wanted):
            found.append(((by_name, r.default, r.autoselect, exact), r))
    if not found:
        return None
    return max(found, key=lambda pair: pair[0])[1]  # (max keeps the first of equals)


def _rate(variant: Variant) -> int:
    """AVERAGE-BANDWIDTH when given (closer to the nominal bitrate users type), else peak."""
    return variant.average_bandwidth or variant.bandwidth


def _describe_variants(master: MasterPlaylist, limit: int = 20) -> str:
    parts = []
    for v in master.variants[:limit]:
        codecs = ",".join(v.codecs) or "?"
        extra = f" {v.resolution}" if v.resolution else ""
        parts.append(f"{v.index}: {round(v.bandwidth / 1000)}k {codecs}{extra}")
    more = len(master.variants) - limit
    tail = f" (+{more} more)" if more > 0 else ""
    return "available: " + "; ".join(parts) + tail


def _describe_renditions(group: list[Rendition]) -> str:
    names = [f"{r.name} [{r.language}]" if r.language else r.name for r in group]
    return "available: " + ", ".join(names)
