"""Bandwidth profiles for the ABR benchmark: seeded synthetic ones and real 3G/4G traces.

A trace is a list of periods (duration s, bandwidth bit/s, latency s) played back in order and
looped if the session outlives it. Synthetic profiles last ~300 s and carry +-10 % seeded noise
per 1 s period, so seeds differ but stay comparable. Real traces (sabre's examples) were measured
for video and are scaled down for an audio ladder as their README says (3G / 8, 4G / 150).
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
from collections.abc import Callable
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
    """A named bandwidth trace; ``kind`` is "synthetic" or "trace"."""

    name: str
    periods: tuple[TracePeriod, ...]
    kind: str = "synthetic"

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


def default_traces_dir() -> Path | None:
    """Where the real traces live: ``$KITHARA_TRACES_DIR``, else ``../shared/data/traces``
    next to the repository (or the working directory); None when none exists."""
    env = os.environ.get("KITHARA_TRACES_DIR")
    if env:
        path = Path(env)
        return path if path.is_dir() else None
    repo_root = Path(__file__).resolve().parents[3]
    for candidate in (
        repo_root.parent / "shared" / "data" / "traces",
        Path.cwd().parent / "shared" / "data" / "traces",
        Path.cwd() / "shared" / "data" / "traces",
    ):
        if candidate.is_dir() and any(candidate.glob("*.json")):
            return candidate
    return None


def scale_for_audio(median_kbps: float) -> float:
    """The README's divisor: 4G logs (median tens of Mbit/s) / 150, 3G logs / 8."""
    return 150.0 if median_kbps > 10_000 else 8.0


def load_trace(path: Path, divisor: float | None = None) -> Trace:
    """Read one sabre-format JSON trace, scaled down for an audio ladder."""
    raw = json.loads(path.read_text())
    rows = [r for r in raw if float(r["duration_ms"]) > 0]
    if divisor is None:
        divisor = scale_for_audio(statistics.median(float(r["bandwidth_kbps"]) for r in rows))
    periods = tuple(
        TracePeriod(
            float(r["duration_ms"]) / 1000.0,
            float(r["bandwidth_kbps"]) * 1000.0 / divisor,
            float(r.get("latency_ms", 0.0)) / 1000.0,
        )
        for r in rows
    )
    return Trace(path.stem, periods, kind="trace")


def load_traces(directory: Path) -> list[Trace]:
    """Every ``*.json`` trace in a directory, sorted by name."""
    return [load_trace(p) for p in sorted(directory.glob("*.json"))]
