"""ABR scenarios: the simulator against the baselines, and the real tier (full run only)."""

from __future__ import annotations

from kithara_cli.bench.context import Context, Unavailable
from kithara_cli.bench.records import derived
from kithara_cli.bench.report import Record

# --- ABR ---------------------------------------------------------------------------------------


def abr(ctx: Context) -> list[Record]:
    """The ABR simulator: every algorithm on the synthetic profiles and the shipped traces
    (quick: a fixed subset, see report.QUICK_TRACES). Records: the issue's targets, and per
    group (split / class) kithara's QoE against the best baseline's; JSON only, every trace's
    QoE, rebuffer seconds, bitrate and switches for every algorithm (peer = that algorithm)."""
    from kithara_cli.abr.profiles import default_traces_dir
    from kithara_cli.abr.report import (
        DEFAULT_SEEDS,
        KITHARA,
        QUICK_SEEDS,
        QUICK_TRACES,
        check_targets,
        group_summary,
        run_abr_benchmark,
    )
    from kithara_cli.abr.report import summarize as abr_summary

    scenario = "abr"
    traces = default_traces_dir()
    quick = ctx.settings.mode != "full"
    results = run_abr_benchmark(
        traces,
        QUICK_SEEDS if quick else DEFAULT_SEEDS,
        trace_names=QUICK_TRACES if quick else None,
        workers=1 if quick else 2,
    )
    ctx._media["abr-results"] = results
    failed = check_targets(results, require_traces=traces is not None)
    synthetic_failed = [line for line in failed if not line.startswith("validation")]

    def count(case: str, value: int, note: str) -> Record:
        return derived(scenario, case, "failed_targets", "count", "lower", [float(value)], note)

    notes = "; ".join(failed[:6]) + (f"; ... {len(failed) - 6} more" if len(failed) > 6 else "")
    records = [
        count(
            "targets",
            len(failed),
            notes or "all ABR targets met" + ("" if traces is not None else " (no traces found)"),
        ),
        count("synthetic targets", len(synthetic_failed), "; ".join(synthetic_failed)),
    ]
    for row in group_summary(results):
        if row.algorithm != KITHARA:
            continue
        others = [
            g
            for g in group_summary(results)
            if g.group == row.group and g.algorithm not in (KITHARA, "fixed-highest")
        ]
        best = max(others, key=lambda g: g.qoe, default=None)
        records.append(
            Record(
                scenario=scenario,
                case=row.group,
                metric="qoe",
                unit="per segment",
                better="higher",
                value=row.qoe,
                runs=row.profiles,
                min=row.qoe,
                median=row.qoe,
                max=row.qoe,
                peer="best baseline" if best else None,
                peer_value=best.qoe if best else None,
                peer_ratio=(row.qoe / best.qoe) if best and best.qoe > 0 else None,
                note=(
                    f"best baseline {best.algorithm if best else '-'}; "
                    f"rebuffer {row.rebuffer_s:.1f} s/session, {row.bitrate_kbps:.0f} kbit/s, "
                    f"{row.switches_per_100:.1f} switches/100 seg, best or within 2 %: "
                    f"{row.near_best:.0%}"
                ),
            )
        )
    summary = abr_summary(results)
    mine = {r.profile: r for r in summary if r.algorithm == KITHARA and r.kind == "trace"}
    for r in summary:
        if r.kind != "trace":
            continue
        k = mine.get(r.profile)
        case = f"{r.split or 'all'}/{r.category}/{r.profile}"
        for metric, unit, better, value, kvalue in (
            ("qoe", "per segment", "higher", r.qoe, k.qoe if k else None),
            ("rebuffer_s", "s", "lower", r.rebuffer_s, k.rebuffer_s if k else None),
            (
                "bitrate",
                "kbit/s",
                "higher",
                r.bitrate_bps / 1000,
                k.bitrate_bps / 1000 if k else None,
            ),
            (
                "switches_per_100",
                "per 100 segments",
                "lower",
                100 * r.switches / max(r.segments, 1),
                100 * k.switches / max(k.segments, 1) if k else None,
            ),
        ):
            own = r.algorithm == KITHARA
            records.append(
                Record(
                    scenario=scenario,
                    case=case,
                    metric=metric,
                    unit=unit,
                    better=better,  # type: ignore[arg-type]
                    value=kvalue,
                    runs=1,
                    peer=None if own else r.algorithm,
                    peer_value=None if own else value,
                    peer_ratio=(kvalue / value)
                    if not own and kvalue is not None and value
                    else None,
                    in_table=False,
                )
            )
    return records


def abr_real(ctx: Context) -> list[Record]:
    """The ABR's real tier: the whole player against the server following each profile."""
    if ctx.settings.mode != "full":
        raise Unavailable("full run only: it plays each profile for 60 s in real time")
    from kithara_cli.bench.abr_real import run_real_tier

    records: list[Record] = []
    for result in run_real_tier(seconds=60.0):
        case = f"{result.profile} (real, 60 s)"
        for metric, value, unit, better in (
            ("qoe", result.qoe_per_segment, "per segment", "higher"),
            ("rebuffers", float(result.rebuffers), "count", "lower"),
            ("rebuffer_s", result.rebuffer_s, "s", "lower"),
            ("switches", float(result.switches), "count", "lower"),
            ("startup", result.startup_s, "s", "lower"),
            ("mean_bitrate", result.mean_kbps, "kbit/s", "higher"),
        ):
            records.append(
                derived("abr-real", case, metric, unit, better, [value])  # type: ignore[arg-type]
            )
    return records
