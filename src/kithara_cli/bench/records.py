"""Turning measurements into records: kithara against a peer, derived numbers, a failed case,
and the helpers the scenario families share (kithara's fetch timing, peers present or not).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kithara_cli.bench.context import Context
from kithara_cli.bench.report import Better, Record
from kithara_cli.bench.runner import (
    RunFailed,
    Series,
    pairs,
)
from kithara_cli.bench.stats import pair_summary, summarize

# --- record helpers ------------------------------------------------------------------------------


def comparison(
    scenario: str,
    case: str,
    metric: str,
    unit: str,
    better: Better,
    kithara: Series,
    peers: dict[str, Series],
    errors: dict[str, str],
    missing: list[str],
    *,
    convert: Callable[[float], float] = lambda seconds: seconds,
    note: str = "",
) -> list[Record]:
    """kithara's record for a metric plus one per peer (ratio pair by pair, or why not)."""
    k_values = [convert(v) for v in kithara.values]
    notes = [n for n in (note, kithara.stopped_early) if n]
    records = [
        Record.of(scenario, case, metric, unit, better, summarize(k_values), "; ".join(notes))
    ]

    def peer_record(name: str) -> Record:
        return Record(
            scenario=scenario, case=case, metric=metric, unit=unit, better=better, peer=name
        )

    for name, series in peers.items():
        a, b = pairs(kithara, series)
        ka, pb = [convert(v) for v in a], [convert(v) for v in b]
        ratio = pair_summary(ka, pb)
        rec = peer_record(name)
        if ratio is None:
            rec.status = "peer-error"
            rec.note = errors.get(name, "no paired runs")
        else:
            rec.take(summarize(ka))
            rec.peer_value = summarize(pb).median
            rec.peer_ratio, rec.ratio_min, rec.ratio_max = ratio.median, ratio.min, ratio.max
            if name in errors:
                rec.note = f"peer failed after {ratio.runs} pairs: {errors[name]}"
        records.append(rec)
    for name in missing:
        rec = peer_record(name)
        rec.status, rec.note = "missing-peer", f"{name} not installed"
        records.append(rec)
    return records


def derived(
    scenario: str,
    case: str,
    metric: str,
    unit: str,
    better: Better,
    values: list[float],
    note: str = "",
) -> Record:
    return Record.of(scenario, case, metric, unit, better, summarize(values), note)


def rss_records(
    scenario: str, case: str, rss: list[float], target_mb: float, note: str
) -> list[Record]:
    """Peak RSS (MiB) and its ratio to the scenario's target: the pair fetch and play report."""
    return [
        derived(scenario, case, "peak_rss", "MiB", "lower", rss, note),
        derived(
            scenario,
            case,
            "rss_over_target",
            "x",
            "lower",
            [v / target_mb for v in rss],
            f"target {target_mb:.0f} MiB",
        ),
    ]


def failed_case(scenario: str, case: str, metric: str, exc: RunFailed) -> Record:
    """What a case that kithara could not finish leaves in the results."""
    return Record(
        scenario=scenario,
        case=case,
        metric=metric,
        unit="",
        better="lower",
        status="error",
        note=exc.describe(),
    )


def fetch_span(lines: list[str]) -> float | None:
    """Seconds from the first request enqueued to the last one completed (``--events``)."""
    first: float | None = None
    last: float | None = None
    for line in lines:
        if '"RequestEnqueued"' in line or '"RequestCompleted"' in line:
            event = json.loads(line)
            ts = float(event["ts"])
            if event["event"] == "RequestEnqueued":
                first = ts if first is None else min(first, ts)
            elif event["event"] == "RequestCompleted":
                last = ts if last is None else max(last, ts)
    if first is None or last is None:
        return None
    return last - first


def kithara_fetch(ctx: Context, argv: list[str], label: str, overheads: list[float]) -> float:
    """Run ``kithara fetch`` (with --events) and note its wall time outside the transfer."""
    events = ctx.tmp / "fetch-events.jsonl"
    wall = ctx.timed([*argv, "--events", str(events)], label)
    try:
        span = fetch_span(events.read_text().splitlines())
    except (OSError, ValueError, KeyError):
        span = None
    if span is not None:
        overheads.append(wall - span)
    events.unlink(missing_ok=True)
    return wall


OVERHEAD_NOTE = (
    "kithara's wall time outside its transfer (first request enqueued -> last completed): "
    "process start-up and imports before, exit after"
)


def _grew(items: list[Any], size: int) -> Callable[[], bool]:
    """True once ``items`` holds more than ``size`` entries."""
    return lambda: len(items) > size


def split_peers(ctx: Context, names: tuple[str, ...]) -> tuple[list[Any], list[str]]:
    found: list[Any] = []
    missing: list[str] = []
    for name in names:
        peer = ctx.peers.get(name)
        if peer.available:
            found.append(peer)
        else:
            missing.append(name)
    return found, missing


def ms(latency: float) -> str:
    return f"{latency * 1000:.0f}ms"
