"""Bandwidth profiles for the ABR benchmark: seeded synthetic ones and real network traces.

A trace is a list of periods (duration s, bandwidth bit/s, latency s) played back in order and
looped if the session outlives it. Synthetic profiles last ~300 s and carry +-10 % seeded noise
per 1 s period, so seeds differ but stay comparable. The real traces (102 of them: 3G, LTE,
broadband; provenance, licence and the dev / validation split in ``traces/README.md``) ship with
the package; ``$KITHARA_TRACES_DIR`` points the benchmark at another directory. They were measured
for video, so every trace is scaled by one rule, the same for every algorithm: its time-weighted
median maps to ``MEDIAN_TO_MIDDLE_RUNG`` x the ladder's middle rung (:func:`scale_for_audio`).
"""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# A realistic audio ladder (bit/s): HE-AAC at the bottom to high-rate AAC-LC at the top.
AUDIO_LADDER: tuple[int, ...] = (32_000, 64_000, 128_000, 192_000, 256_000)


@dataclass(frozen=True)
class TracePeriod:
    duration_s: float
    bps: float
    latency_s: float


@dataclass(frozen=True)
class Trace:
    """A named bandwidth trace; ``kind`` is "synthetic" or "trace". ``category`` is the trace
    class (3g, lte, broadband, synthetic; "trace" when unknown) and ``split`` dev / validation
    ("" when the directory has no manifest)."""

    name: str
    periods: tuple[TracePeriod, ...]
    kind: str = "synthetic"
    category: str = "synthetic"
    split: str = ""

    @property
    def duration_s(self) -> float:
        return sum(p.duration_s for p in self.periods)

    @property
    def mean_bps(self) -> float:
        total = self.duration_s
        return sum(p.bps * p.duration_s for p in self.periods) / total if total else 0.0


SYNTHETIC_DURATION_S = 300.0


def _noisy(rng: random.Random, bps: float, noise: float = 0.1) -> float:
    return max(bps * (1.0 + noise * (2.0 * rng.random() - 1.0)), 0.0)


def _build(
    name: str, seed: int, level: Callable[[float, random.Random], float], latency_s: float = 0.05
) -> Trace:
    """One period per second of ``level(t)``, with seeded +-10 % noise on bandwidth and latency."""
    rng = random.Random(f"{name}:{seed}")
    periods = []
    for second in range(int(SYNTHETIC_DURATION_S)):
        bps = level(float(second), rng)
        periods.append(TracePeriod(1.0, _noisy(rng, bps), _noisy(rng, latency_s, 0.2)))
    return Trace(name, tuple(periods))


def steady(seed: int) -> Trace:
    """Ample and flat (1 Mbit/s): anything but the top rung wastes quality."""
    return _build("steady", seed, lambda t, r: 1_000_000.0)


def step_down(seed: int) -> Trace:
    """1 Mbit/s, then 100 kbit/s from 100 s: only 64 kbit/s is sustainable afterwards."""
    return _build("step_down", seed, lambda t, r: 1_000_000.0 if t < 100 else 100_000.0)


def step_up(seed: int) -> Trace:
    """80 kbit/s, then 1 Mbit/s from 100 s: start low without stalling, then climb."""
    return _build("step_up", seed, lambda t, r: 80_000.0 if t < 100 else 1_000_000.0)


def oscillating(seed: int) -> Trace:
    """360 / 60 kbit/s square wave, 10 s each (mean 210 kbit/s): the top rung is not
    sustainable on average, 192 kbit/s is; chasing each phase costs switches."""
    return _build(
        "oscillating", seed, lambda t, r: 360_000.0 if int(t // 10) % 2 == 0 else 60_000.0
    )


_OUTAGES: tuple[tuple[float, float], ...] = (
    (50.0, 8.0),
    (120.0, 15.0),
    (200.0, 5.0),
    (250.0, 12.0),
)


def outage(seed: int) -> Trace:
    """500 kbit/s with four outages at 0 (5-15 s): a full buffer should ride them out."""

    def level(t: float, r: random.Random) -> float:
        for start, length in _OUTAGES:
            if start <= t < start + length:
                return 0.0
        return 500_000.0

    return _build("outage", seed, level)


def random_walk(seed: int) -> Trace:
    """A mean-reverting random walk in log bandwidth (40 kbit/s - 1.2 Mbit/s), new step every 2 s."""
    state = {"log": math.log(250_000.0), "t": -1.0}

    def level(t: float, r: random.Random) -> float:
        if t - state["t"] >= 2.0:
            state["t"] = t
            pull = 0.1 * (math.log(250_000.0) - state["log"])
            state["log"] += pull + r.gauss(0.0, 0.3)
            state["log"] = min(max(state["log"], math.log(40_000.0)), math.log(1_200_000.0))
        return math.exp(state["log"])

    return _build("random_walk", seed, level)


SYNTHETIC_PROFILES: dict[str, Callable[[int], Trace]] = {
    "steady": steady,
    "step_down": step_down,
    "step_up": step_up,
    "oscillating": oscillating,
    "outage": outage,
    "random_walk": random_walk,
}


PACKAGED_TRACES = Path(__file__).resolve().parent / "traces"
MANIFEST = "manifest.json"
# The six traces kithara's ABR was first developed on (always in the dev split).
ORIGINAL_TRACES: tuple[str, ...] = (
    "report.2010-09-21_1001CEST",
    "report.2010-09-28_1407CEST",
    "report.2011-01-29_1800CET",
    "report.2011-02-14_2139CET",
    "report_bus_0002",
    "report_car_0005",
)
# One rule for every trace and algorithm: the time-weighted median throughput maps to this
# multiple of the ladder's middle rung (224 kbit/s on AUDIO_LADDER). 1.75 keeps the six original
# traces at their former typical difficulty: the old divisors (3G / 8, 4G / 150) put their
# medians at 138-330 kbit/s, typically 225.
MEDIAN_TO_MIDDLE_RUNG = 1.75


def default_traces_dir() -> Path | None:
    """Where the real traces live: ``$KITHARA_TRACES_DIR`` (None if it is not a directory),
    else the set shipped inside the package."""
    env = os.environ.get("KITHARA_TRACES_DIR")
    if env:
        path = Path(env)
        return path if path.is_dir() else None
    return PACKAGED_TRACES if (PACKAGED_TRACES / MANIFEST).is_file() else None


def middle_rung(ladder: Sequence[int] = AUDIO_LADDER) -> float:
    rungs = sorted(ladder)
    return float(rungs[len(rungs) // 2])


def scale_for_audio(median_kbps: float, ladder: Sequence[int] = AUDIO_LADDER) -> float:
    """The divisor that puts a trace's median (kbit/s) at MEDIAN_TO_MIDDLE_RUNG x the middle
    rung: continuous, so a 9.9 and a 13.9 Mbit/s trace end up equally hard."""
    target_bps = MEDIAN_TO_MIDDLE_RUNG * middle_rung(ladder)
    return max(median_kbps * 1000.0, 1.0) / target_bps


def weighted_median(values: Sequence[tuple[float, float]]) -> float:
    """Median of (value, weight) pairs: the value at half the total weight."""
    ordered = sorted(values)
    total = sum(w for _, w in ordered)
    acc = 0.0
    for value, weight in ordered:
        acc += weight
        if acc >= total / 2:
            return value
    return ordered[-1][0] if ordered else 0.0


def load_trace(
    path: Path,
    divisor: float | None = None,
    *,
    category: str = "trace",
    split: str = "",
    ladder: Sequence[int] = AUDIO_LADDER,
) -> Trace:
    """Read one sabre-format JSON trace, scaled for an audio ladder (see scale_for_audio)."""
    raw = json.loads(path.read_text())
    rows = [r for r in raw if float(r["duration_ms"]) > 0]
    if divisor is None:
        median = weighted_median(
            [(float(r["bandwidth_kbps"]), float(r["duration_ms"])) for r in rows]
        )
        divisor = scale_for_audio(median, ladder)
    periods = tuple(
        TracePeriod(
            float(r["duration_ms"]) / 1000.0,
            float(r["bandwidth_kbps"]) * 1000.0 / divisor,
            float(r.get("latency_ms", 0.0)) / 1000.0,
        )
        for r in rows
    )
    return Trace(path.stem, periods, kind="trace", category=category, split=split)


def load_traces(
    directory: Path, splits: Iterable[str] | None = None, names: Iterable[str] | None = None
) -> list[Trace]:
    """The traces of a directory, sorted by class then name. With a ``manifest.json`` (the
    packaged set) class and split come from it; otherwise every ``*.json`` is class "trace".
    ``splits`` / ``names`` keep only those splits / trace names."""
    wanted_splits = set(splits) if splits is not None else None
    wanted_names = set(names) if names is not None else None
    manifest = directory / MANIFEST
    entries: list[tuple[Path, str, str]] = []
    if manifest.is_file():
        for item in json.loads(manifest.read_text())["traces"]:
            entries.append((directory / item["file"], item["class"], item["split"]))
    else:
        entries = [(p, "trace", "") for p in sorted(directory.glob("*.json"))]
    out = [
        load_trace(path, category=klass, split=split)
        for path, klass, split in entries
        if (wanted_splits is None or split in wanted_splits)
        and (wanted_names is None or path.stem in wanted_names)
    ]
    return sorted(out, key=lambda t: (t.category, t.name))
