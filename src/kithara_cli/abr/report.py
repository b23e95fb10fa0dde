"""The ABR benchmark: every algorithm through the same simulator, tables, and the targets.

``run_abr_benchmark`` runs the synthetic profiles (for each seed) and the real traces (once,
first seed) for kithara and every baseline; ``abr_table`` renders QoE per profile per algorithm
for ``kithara bench --abr``; ``check_targets`` lists the targets kithara misses (empty = all met).
``python -m kithara_cli.abr.report`` prints all of it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kithara_cli.abr.algorithms import ALGORITHMS
from kithara_cli.abr.baselines import AlgorithmFactory
from kithara_cli.abr.controller import VariantInfo
from kithara_cli.abr.profiles import (
    AUDIO_LADDER,
    SYNTHETIC_PROFILES,
    Trace,
    default_traces_dir,
    load_traces,
)
from kithara_cli.abr.qoe import compute_metrics
from kithara_cli.abr.sim import SimConfig, simulate

KITHARA = "kithara"
DEFAULT_SEEDS: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
TRACES_MEAN = "traces (mean)"


@dataclass(frozen=True)
class AbrResult:
    """One algorithm on one profile (one seed; or a mean, see :func:`summarize`)."""

    profile: str
    kind: str  # "synthetic" | "trace" | "mean"
    algorithm: str
    seed: int | None
    startup_delay_s: float
    rebuffer_count: float
    rebuffer_s: float
    bitrate_bps: float
    switches: float
    utilisation: float
    wasted_bytes: float
    qoe: float
    qoe_total: float
    segments: int


def default_ladder() -> list[VariantInfo]:
    return [VariantInfo(i, bw, "mp4a.40.2") for i, bw in enumerate(AUDIO_LADDER)]


def run_one(
    trace: Trace,
    algorithm: str,
    factory: AlgorithmFactory,
    ladder: Sequence[VariantInfo],
    config: SimConfig,
) -> AbrResult:
    sim = simulate(trace, ladder, factory(ladder, config.segment_duration), config)
    bws = [v.bandwidth for v in ladder]
    m = compute_metrics(sim, min(bws), max(bws))
    return AbrResult(
        profile=trace.name,
        kind=trace.kind,
        algorithm=algorithm,
        seed=config.seed,
        startup_delay_s=m.startup_delay_s,
        rebuffer_count=m.rebuffer_count,
        rebuffer_s=m.rebuffer_s,
        bitrate_bps=m.bitrate_bps,
        switches=m.switches,
        utilisation=m.utilisation,
        wasted_bytes=m.wasted_bytes,
        qoe=m.qoe,
        qoe_total=m.qoe_total,
        segments=m.segments,
    )


def _run_trace(
    trace: Trace, seed: int, names: Sequence[str], ladder: Sequence[VariantInfo], seg: float
) -> list[AbrResult]:
    """Every algorithm on one trace: the unit of work (picklable, for worker processes)."""
    config = SimConfig(segment_duration=seg, seed=seed)
    return [run_one(trace, name, ALGORITHMS[name], ladder, config) for name in names]


def run_abr_benchmark(
    traces_dir: Path | None,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    *,
    segment_duration: float = 2.0,
    algorithms: Iterable[str] | None = None,
    ladder: Sequence[VariantInfo] | None = None,
    workers: int = 1,
) -> list[AbrResult]:
    """Every algorithm on every synthetic profile x seed, and on every trace in ``traces_dir``
    (skipped when None). Deterministic: the same arguments give the same results, in the same
    order, whatever ``workers`` (processes, spawned fresh: safe beside threads)."""
    names = list(algorithms) if algorithms is not None else list(ALGORITHMS)
    ladder = list(ladder) if ladder is not None else default_ladder()
    runs: list[tuple[Trace, int]] = []
    for seed in seeds:
        runs.extend((make(seed), seed) for make in SYNTHETIC_PROFILES.values())
    if traces_dir is not None:
        runs.extend((trace, seeds[0] if seeds else 0) for trace in load_traces(traces_dir))
    jobs = [(trace, seed, names, ladder, segment_duration) for trace, seed in runs]
    if workers <= 1 or len(jobs) < 2:
        chunks = [_run_trace(*job) for job in jobs]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            chunks = list(pool.map(_run_trace, *zip(*jobs, strict=True)))
    return [result for chunk in chunks for result in chunk]


def _mean(rows: Sequence[AbrResult], profile: str, kind: str) -> AbrResult:
    values = {
        f.name: statistics.fmean(getattr(r, f.name) for r in rows)
        for f in fields(AbrResult)
        if f.name not in ("profile", "kind", "algorithm", "seed", "segments")
    }
    return AbrResult(
        profile=profile,
        kind=kind,
        algorithm=rows[0].algorithm,
        seed=None,
        segments=sum(r.segments for r in rows),
        **values,
    )


def summarize(results: Sequence[AbrResult]) -> list[AbrResult]:
    """Means over seeds per (profile, algorithm), then one ``traces (mean)`` row per algorithm."""
    groups: dict[tuple[str, str], list[AbrResult]] = {}
    for r in results:
        groups.setdefault((r.profile, r.algorithm), []).append(r)
    out = [_mean(rows, profile, rows[0].kind) for (profile, _), rows in groups.items()]
    per_alg: dict[str, list[AbrResult]] = {}
    for r in out:
        if r.kind == "trace":
            per_alg.setdefault(r.algorithm, []).append(r)
    out.extend(_mean(rows, TRACES_MEAN, "mean") for rows in per_alg.values())
    return out


def _ordered(keys: Iterable[str], first: Sequence[str]) -> list[str]:
    seen = list(dict.fromkeys(keys))
    return [k for k in first if k in seen] + [k for k in seen if k not in first]


def abr_table(results: Sequence[AbrResult], title: str = "ABR benchmark: QoE per segment") -> Table:
    """Profiles down, algorithms across, QoE per segment; the best of each row in bold."""
    summary = summarize(results)
    algs = _ordered((r.algorithm for r in summary), list(ALGORITHMS))
    profiles = _ordered((r.profile for r in summary), list(SYNTHETIC_PROFILES))
    profiles = [p for p in profiles if p != TRACES_MEAN] + (
        [TRACES_MEAN] if TRACES_MEAN in profiles else []
    )
    cell = {(r.profile, r.algorithm): r for r in summary}
    table = Table(title=title)
    table.add_column("profile")
    for a in algs:
        table.add_column(a, justify="right")
    for p in profiles:
        row = [cell[(p, a)].qoe if (p, a) in cell else None for a in algs]
        best = max((q for q in row if q is not None), default=None)
        texts = []
        for q in row:
            if q is None:
                texts.append("-")
            elif best is not None and q >= best - 1e-9:
                texts.append(f"[bold]{q:.3f}[/bold]")
            else:
                texts.append(f"{q:.3f}")
        table.add_row(p, *texts)
    return table


def abr_detail_table(results: Sequence[AbrResult], algorithm: str | None = None) -> Table:
    """Every metric, one row per (profile, algorithm), means over seeds."""
    summary = summarize(results)
    table = Table(title="ABR benchmark: all metrics (means over seeds)")
    for name, justify in (
        ("profile", "left"),
        ("algorithm", "left"),
        ("startup s", "right"),
        ("rebuf n", "right"),
        ("rebuf s", "right"),
        ("kbit/s", "right"),
        ("switches", "right"),
        ("util", "right"),
        ("wasted KB", "right"),
        ("QoE/seg", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in summary:
        if algorithm is not None and r.algorithm != algorithm:
            continue
        table.add_row(
            r.profile,
            r.algorithm,
            f"{r.startup_delay_s:.2f}",
            f"{r.rebuffer_count:.1f}",
            f"{r.rebuffer_s:.1f}",
            f"{r.bitrate_bps / 1000:.0f}",
            f"{r.switches:.1f}",
            f"{r.utilisation:.2f}",
            f"{r.wasted_bytes / 1000:.0f}",
            f"{r.qoe:.3f}",
        )
    return table


def check_targets(results: Sequence[AbrResult], require_traces: bool = True) -> list[str]:
    """The issue's targets for kithara; returns a description of each one missed."""
    failed: list[str] = []
    summary = {(r.profile, r.algorithm): r for r in summarize(results)}
    others = sorted({r.algorithm for r in results} - {KITHARA})
    synthetic = [p for p in SYNTHETIC_PROFILES if (p, KITHARA) in summary]
    if not synthetic:
        failed.append("kithara was not run on the synthetic profiles")
    for profile in [*synthetic, TRACES_MEAN]:
        mine = summary.get((profile, KITHARA))
        if mine is None:
            if profile == TRACES_MEAN and require_traces:
                failed.append("no real traces were run (traces directory missing?)")
            continue
        for other in others:
            theirs = summary.get((profile, other))
            if theirs is not None and theirs.qoe > mine.qoe + 1e-9:
                failed.append(
                    f"{profile}: {other} QoE {theirs.qoe:.3f} beats kithara {mine.qoe:.3f}"
                )
    per_seed = [r for r in results if r.algorithm == KITHARA]
    for profile, limit in (("steady", 0), ("step_up", 0), ("step_down", 1)):
        for r in per_seed:
            if r.profile == profile and r.rebuffer_count > limit:
                failed.append(
                    f"{profile} seed {r.seed}: {r.rebuffer_count:.0f} rebuffers (max {limit})"
                )
    mine = summary.get(("oscillating", KITHARA))
    tput = summary.get(("oscillating", "throughput"))
    if mine is not None and tput is not None and mine.switches >= tput.switches:
        failed.append(
            f"oscillating: kithara switches {mine.switches:.1f} not fewer than "
            f"throughput's {tput.switches:.1f}"
        )
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="kithara ABR benchmark")
    parser.add_argument("--traces", type=Path, default=None, help="traces directory")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    parser.add_argument("--segment-duration", type=float, default=2.0)
    parser.add_argument("--detail", action="store_true", help="print every metric")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    traces = args.traces or default_traces_dir()
    console = Console()
    started = time.perf_counter()
    results = run_abr_benchmark(
        traces, args.seeds, segment_duration=args.segment_duration, workers=args.workers
    )
    elapsed = time.perf_counter() - started
    console.print(abr_table(results))
    if args.detail:
        console.print(abr_detail_table(results))
    failed = check_targets(results)
    for line in failed:
        console.print(f"[red]target missed:[/red] {line}")
    if not failed:
        console.print("all ABR targets met")
    console.print(f"{len(results)} runs in {elapsed:.2f} s (traces: {traces})")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
