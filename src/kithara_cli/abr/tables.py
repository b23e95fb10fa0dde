"""Rich tables of the ABR benchmark: QoE per profile, and every metric per trace class."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence

from rich.table import Table

from kithara_cli.abr.algorithms import ALGORITHMS
from kithara_cli.abr.profiles import ORIGINAL_TRACES, SYNTHETIC_PROFILES
from kithara_cli.abr.report import (
    GAP_BINS,
    TRACES_MEAN,
    AbrResult,
    GapRow,
    GroupRow,
    group_summary,
    summarize,
)

# (title, value, format, higher is better)
METRICS: tuple[tuple[str, Callable[[GroupRow], float], str, bool], ...] = (
    ("QoE per segment", lambda g: g.qoe, "{:.3f}", True),
    ("rebuffer s per session", lambda g: g.rebuffer_s, "{:.1f}", False),
    ("time-weighted bitrate, kbit/s", lambda g: g.bitrate_kbps, "{:.0f}", True),
    ("switches per 100 segments", lambda g: g.switches_per_100, "{:.1f}", False),
    ("share of profiles best or within 2 % of the best", lambda g: g.near_best, "{:.0%}", True),
    (
        "share of profiles best or within 2 % of the QoE scale ln(R_max/R_min) per segment",
        lambda g: g.near_best_scale,
        "{:.0%}",
        True,
    ),
)


def _ordered(keys: Iterable[str], first: Sequence[str]) -> list[str]:
    seen = list(dict.fromkeys(keys))
    return [k for k in first if k in seen] + [k for k in seen if k not in first]


def _row_texts(values: list[float | None], fmt: str, higher: bool) -> list[str]:
    present = [v for v in values if v is not None]
    best = (max if higher else min)(present) if present else None
    texts = []
    for v in values:
        if v is None:
            texts.append("-")
        elif best is not None and abs(v - best) <= 1e-9:
            texts.append(f"[bold]{fmt.format(v)}[/bold]")
        else:
            texts.append(fmt.format(v))
    return texts


def abr_table(results: Sequence[AbrResult], title: str = "ABR benchmark: QoE per segment") -> Table:
    """The synthetic profiles and the six original traces down, algorithms across; the best
    of each row in bold. (Every trace's numbers are in the bench JSON.)"""
    summary = summarize(results)
    algs = _ordered((r.algorithm for r in summary), list(ALGORITHMS))
    shown = [*SYNTHETIC_PROFILES, *ORIGINAL_TRACES, TRACES_MEAN]
    profiles = [p for p in shown if any(r.profile == p for r in summary)]
    cell = {(r.profile, r.algorithm): r for r in summary}
    table = Table(title=title)
    table.add_column("profile")
    for a in algs:
        table.add_column(a, justify="right")
    for p in profiles:
        row = [cell[(p, a)].qoe if (p, a) in cell else None for a in algs]
        table.add_row(
            p if p != TRACES_MEAN else "originals (mean)", *_row_texts(row, "{:.3f}", True)
        )
    return table


def group_tables(results: Sequence[AbrResult]) -> list[Table]:
    """One table per metric: groups (split/class) down, algorithms across."""
    rows = group_summary(results)
    algs = _ordered((g.algorithm for g in rows), list(ALGORITHMS))
    groups = list(dict.fromkeys(g.group for g in rows))
    cell = {(g.group, g.algorithm): g for g in rows}
    tables = []
    for title, value, fmt, higher in METRICS:
        table = Table(title=f"ABR by trace class: {title}")
        table.add_column("group")
        table.add_column("n", justify="right")
        for a in algs:
            table.add_column(a, justify="right")
        for group in groups:
            vals = [value(cell[(group, a)]) if (group, a) in cell else None for a in algs]
            n = next(g.profiles for g in rows if g.group == group)
            table.add_row(group, str(n), *_row_texts(vals, fmt, higher))
        tables.append(table)
    return tables


def gap_table(rows: Sequence[GapRow]) -> Table:
    """How far from the best each algorithm is, trace by trace (see ``gap_distribution``)."""
    group = rows[0].group if rows else ""
    n = rows[0].profiles if rows else 0
    table = Table(title=f"ABR gap to the best per trace, {group} (n={n}): share of traces")
    table.add_column("algorithm")
    edges = [0.0, *GAP_BINS]
    for lo, hi in itertools.pairwise(edges):
        table.add_column(f"<= {hi:.0%}" if lo == 0 else f"{lo:.0%}-{hi:.0%}", justify="right")
    table.add_column(f"> {GAP_BINS[-1]:.0%}", justify="right")
    table.add_column("median gap of the misses", justify="right")
    for row in rows:
        miss = "-" if row.median_miss is None else f"{row.median_miss:.1%}"
        table.add_row(row.algorithm, *(f"{s:.0%}" for s in row.shares), miss)
    return table


def markdown_tables(results: Sequence[AbrResult], groups: Sequence[str] | None = None) -> str:
    """The group tables as Markdown (for BENCHMARKS.md)."""
    rows = group_summary(results)
    algs = _ordered((g.algorithm for g in rows), list(ALGORITHMS))
    wanted = list(dict.fromkeys(g.group for g in rows)) if groups is None else list(groups)
    cell = {(g.group, g.algorithm): g for g in rows}
    out = []
    for title, value, fmt, _ in METRICS:
        out.append(f"**{title}**\n")
        out.append("| group | n | " + " | ".join(algs) + " |")
        out.append("|---|---:|" + "---:|" * len(algs))
        for group in wanted:
            if not any(g == group for g, _ in cell):
                continue
            n = next(g.profiles for g in rows if g.group == group)
            vals = [
                fmt.format(value(cell[(group, a)])) if (group, a) in cell else "-" for a in algs
            ]
            out.append(f"| {group} | {n} | " + " | ".join(vals) + " |")
        out.append("")
    return "\n".join(out)
