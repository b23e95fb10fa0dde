"""The ABR's values: the ladder (``VariantInfo``), its tuning (``AbrConfig``), its state and
its output (``Decision``), the modes and reasons, and the small pure helpers over them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kithara_cli.abr.estimator import EstimatorConfig
from kithara_cli.errors import UsageError
from kithara_cli.events.types import AbrDecision

REASONS: tuple[str, ...] = (
    "startup",
    "throughput",
    "buffer",
    "load_slow",
    "abandon",
    "failed",
    "manual",
)
MODES: tuple[str, ...] = ("auto", "fixed:VARIANT", "max_bitrate", "min_bitrate")


@dataclass(frozen=True)
class VariantInfo:
    """One rung of the ladder. ``index`` is the player's variant index (playlist order)."""

    index: int
    bandwidth: int
    codecs: str = ""


@dataclass(frozen=True)
class AbrConfig:
    """Thresholds of the auto mode. Seconds are seconds of media buffered ahead."""

    estimator: EstimatorConfig = field(default_factory=EstimatorConfig)
    safety: float = 0.9  # share of the estimate usable to stay or go down
    # Share usable to go up. hls.js and ExoPlayer use 0.7 on a plain average; kithara's
    # estimate is already the lower of a fast and a slow one, and 0.7 on top of it held a
    # link that had stepped up at a rung far below it for a minute (dev, six segment-size
    # draws: traces best or within 2 % of the best 64 % -> 73 %, QoE +0.3 %, no more
    # switches)...
    up_safety: float = 0.75
    # ... but well buffered the throughput rule is only BOLA's floor: there 0.75 chased the
    # highs of an oscillating link (synthetic "oscillating": 5 -> 11 switches per session).
    well_buffered_up_safety: float = 0.7
    startup_safety: float = 0.7
    fill_share: float = 0.5
    throughput_below_s: float = 6.0  # throughput rule below, BOLA above
    bola_low_s: float = 6.0  # BOLA picks the lowest variant below this buffer
    bola_high_s: float = 14.0  # ... and the highest from this buffer up
    bola_band_s: float = 3.5  # hysteresis around each BOLA switch point (3 before the 0.75)
    bola_down_step: int = 1  # rungs BOLA may step down at once
    # BOLA may switch up to a rung over sustain_factor x the long average throughput only if
    # the buffer lasts this many segments there before it would switch back down.
    sustain_factor: float = 0.9
    min_excursion_segments: float = 3.0
    # The player idles at its cap (30 s) less one segment: bandwidth is going spare.
    full_buffer_s: float = 28.0
    up_min_buffer_s: float = 8.0  # no switch up below
    well_buffered_s: float = 12.0  # no switch down at or above
    # A switch costs |ln(b_new / b_old)|, as much as one segment at the higher rung gains over
    # the lower: a move up and back pays off only after more than two segments at the new
    # rung, so at least this long (2.5 segments of 2 s) between switches...
    min_switch_interval_s: float = 5.0
    # ... except a down-switch in the throughput rule's zone (a rebuffer costs more than a
    # switch) and an abandon.
    emergency_buffer_s: float = 6.0
    # In-flight rule: trust a fetch's own rate after this much body time.
    abandon_min_body_s: float = 0.4
    rate_window_s: float = 1.0  # ... measured over the last this many seconds
    # Abandon only if the lower segment lands in at most this share of the remaining time.
    abandon_saving: float = 0.8
    load_slow_step: int = 1  # rungs a load_slow reaction may step down at once
    dry_margin_s: float = 0.0  # "runs dry" means within this of empty
    empty_buffer_fetch_s: float = 0.5  # at an empty buffer, a fetch may take this long
    # A variant whose segment failed after its retries sits out this long (shaka's
    # streaming.maxDisabledTime, 30 s): the next segments do not each pay the retries.
    failed_exclusion_s: float = 30.0
    # Completed fetches the outage memory keeps (abr.outage; ~30 min of 2 s segments). 0: off.
    outage_memory: int = 1000


@dataclass
class AbrState:
    """A snapshot of the controller's view, for the dashboard and for tests."""

    current: int | None
    buffer_s: float
    now: float
    last_switch_at: float | None
    estimate_bps: float
    trusted: bool
    in_flight: int | None = None


@dataclass(frozen=True)
class Decision:
    """The controller's answer. ``abandon_request`` asks the player to cancel that fetch and
    fetch the same segment again from ``to_variant``."""

    to_variant: int
    reason: str
    abandon_request: int | None = None
    from_variant: int | None = None
    estimate_bps: float = 0.0
    buffer_s: float = 0.0
    at: float | None = None

    @property
    def switched(self) -> bool:
        """True when this decision changes the variant (or is the first one): worth an event."""
        return self.from_variant != self.to_variant


@dataclass
class _SegmentFetch:
    request_id: int
    variant: int
    expected_bytes: int | None
    slow: bool = False
    reacted: bool = False


def codec_family(codecs: str) -> str:
    """Family of an RFC 6381 codecs string: AAC profiles share one decoder, MP3 in mp4a does not."""
    first = codecs.split(",")[0].strip().lower()
    if not first:
        return ""
    if first.startswith("mp4a.40"):
        return "aac"
    if first in ("mp4a.69", "mp4a.6b", "mp3"):
        return "mp3"
    return first.split(".")[0]


def parse_mode(mode: str) -> tuple[str, int | None]:
    """``auto`` | ``fixed:VARIANT`` | ``max_bitrate`` | ``min_bitrate`` -> (kind, variant)."""
    text = mode.strip().lower().replace("-", "_")
    if text in ("auto", "max_bitrate", "min_bitrate"):
        return text, None
    if text.startswith("fixed:"):
        value = text.split(":", 1)[1]
        try:
            return "fixed", int(value)
        except ValueError:
            raise UsageError(f"ABR mode {mode!r}: VARIANT must be a variant index") from None
    raise UsageError(f"unknown ABR mode {mode!r}; expected one of {', '.join(MODES)}")


def _pick_family(variants: Sequence[VariantInfo]) -> str:
    """The family with the most variants; ties go to the first listed (the author's default)."""
    counts: dict[str, int] = {}
    for v in variants:
        fam = codec_family(v.codecs)
        if fam:
            counts[fam] = counts.get(fam, 0) + 1
    if not counts:
        return ""
    best = max(counts.values())
    for v in variants:
        fam = codec_family(v.codecs)
        if counts.get(fam) == best:
            return fam
    return ""  # pragma: no cover


def variants_from_ladder(ladder: Iterable[tuple[int, int, str]]) -> list[VariantInfo]:
    """From LadderInfo.variants ((index, bandwidth, codecs) tuples)."""
    return [VariantInfo(i, bw, codecs) for i, bw, codecs in ladder]


def auto_ladder(
    variants: Sequence[VariantInfo],
    max_bitrate: int | None,
    min_bitrate: int | None,
    family: str | None,
) -> list[VariantInfo]:
    """Variants auto mode may use, lowest first. A cap that excludes all keeps the nearest.

    One rung per bandwidth: real ladders repeat a rate (two codecs, two CDNs) and a master
    without BANDWIDTH gives every variant the same one. The rung kept for a rate is the
    ladder's main codec family, then the first listed; the others still play when fixed.
    """
    fam = _pick_family(variants) if family is None else family.lower()
    ordered = sorted(variants, key=lambda v: (v.bandwidth, v.index))
    if fam and fam != "any":
        same = [v for v in ordered if codec_family(v.codecs) in (fam, "")]
        ordered = same or ordered
    rungs: dict[int, VariantInfo] = {}
    for v in sorted(ordered, key=lambda v: (codec_family(v.codecs) != fam, v.index)):
        rungs.setdefault(v.bandwidth, v)
    ordered = sorted(rungs.values(), key=lambda v: v.bandwidth)
    capped = [
        v
        for v in ordered
        if (max_bitrate is None or v.bandwidth <= max_bitrate)
        and (min_bitrate is None or v.bandwidth >= min_bitrate)
    ]
    if capped:
        return capped
    if max_bitrate is not None and all(v.bandwidth > max_bitrate for v in ordered):
        return ordered[:1]
    return ordered[-1:]


def abandon_target(
    bandwidths: Sequence[int],
    segment_duration: float,
    cfg: AbrConfig,
    ttfb: float,
    started: bool,
    fetch_pos: int,
    rate: float,
    remaining_s: float,
    buffer_s: float,
) -> int | None:
    """Where an abandoned fetch goes: the highest lower rung whose whole segment lands sooner
    than the rest of this one, and either before the buffer runs dry or (before playback
    starts, ``started`` false) at a sustainable rate; failing that the lowest rung, if even it
    lands sooner; None: abandoning gains nothing."""
    limit = remaining_s * cfg.abandon_saving
    for pos in range(fetch_pos - 1, -1, -1):
        whole_s = ttfb + bandwidths[pos] * segment_duration / rate
        if whole_s >= limit:
            continue
        if started:
            if whole_s <= buffer_s - cfg.dry_margin_s:
                return pos
        elif bandwidths[pos] <= rate * cfg.safety:
            return pos
    whole_s = ttfb + bandwidths[0] * segment_duration / rate
    return 0 if whole_s < limit else None


def manual_target(mode: str, fixed: int | None, allowed: Sequence[VariantInfo]) -> int:
    """The variant a manual mode plays: the fixed one, or the top or bottom of ``allowed``."""
    if mode == "fixed":
        assert fixed is not None
        return fixed
    return allowed[-1].index if mode == "max_bitrate" else allowed[0].index


def starts_switch_clock(prev: int | None, target: int, reason: str, segments_done: int) -> bool:
    """Does this decision start the minimum interval between switches? Only a change of the
    rung that plays does. Not the first choice, and not an abandon before any segment has
    played: the abandoned segment is never heard, so the session starts on the lower rung with
    no switch (none in the QoE either). Timed from such an abandon, the interval held a 3G
    session on the bottom rung for 16 segments while the buffer filled to 28 s (issue 20, dev,
    six segment-size draws: QoE 0.886 -> 0.888, best or within 2 % of the best 73 -> 75 %,
    4.93 -> 5.12 switches per 100 segments against the throughput rule's 5.16)."""
    if prev is None or target == prev:
        return False
    return reason != "abandon" or segments_done > 0


def decision_event(
    decision: Decision, from_variant: int | None = None, buffer_s: float | None = None
) -> AbrDecision:
    """The AbrDecision event for a decision (stamped with the decision's own time)."""
    src = decision.from_variant if from_variant is None else from_variant
    buf = decision.buffer_s if buffer_s is None else buffer_s
    kwargs: dict[str, float] = {}
    if decision.at is not None:
        kwargs["ts"] = decision.at
    return AbrDecision(
        from_variant=src,
        to_variant=decision.to_variant,
        reason=decision.reason,
        estimate_bps=decision.estimate_bps,
        buffer=buf,
        **kwargs,
    )
