"""The ABR benchmark's targets, on the synthetic profiles and the real 3G/4G traces.

The traces live at ``../shared/data/traces`` next to the repository (CI has them too), or at
``$KITHARA_TRACES_DIR``. Missing traces fail this test rather than skip it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from kithara_cli.abr.profiles import SYNTHETIC_PROFILES, default_traces_dir
from kithara_cli.abr.report import (
    KITHARA,
    TRACES_MEAN,
    AbrResult,
    abr_detail_table,
    abr_table,
    check_targets,
    run_abr_benchmark,
    summarize,
)


def traces_dir() -> Path:
    found = default_traces_dir()
    assert found is not None, (
        "real traces not found: expected ../shared/data/traces next to the repository "
        "or $KITHARA_TRACES_DIR"
    )
    return found


@pytest.fixture(scope="module")
def results() -> list[AbrResult]:
    return run_abr_benchmark(traces_dir())


def test_kithara_meets_every_target(results: list[AbrResult]) -> None:
    failed = check_targets(results)
    assert failed == [], "\n".join(failed)


def test_benchmark_covers_profiles_traces_and_baselines(results: list[AbrResult]) -> None:
    profiles = {r.profile for r in results}
    assert set(SYNTHETIC_PROFILES) <= profiles
    assert len([p for p in profiles if p.startswith("report")]) == 6
    assert {r.algorithm for r in results} == {
        "kithara",
        "rust-kithara",
        "throughput",
        "bba",
        "fixed-lowest",
        "fixed-highest",
    }
    summary = {(r.profile, r.algorithm): r for r in summarize(results)}
    mine = summary[(TRACES_MEAN, KITHARA)]
    assert mine.segments > 0 and 0 < mine.utilisation < 2


def test_tables_render(results: list[AbrResult]) -> None:
    console = Console(width=160, record=True)
    console.print(abr_table(results))
    console.print(abr_detail_table(results, algorithm=KITHARA))
    text = console.export_text()
    assert "step_down" in text and TRACES_MEAN in text and "kithara" in text


def test_benchmark_is_deterministic() -> None:
    a = run_abr_benchmark(None, seeds=(3,), algorithms=[KITHARA, "bba"])
    b = run_abr_benchmark(None, seeds=(3,), algorithms=[KITHARA, "bba"])
    assert a == b


def test_check_targets_reports_misses(results: list[AbrResult]) -> None:
    rigged = [
        r if not (r.algorithm == "bba" and r.profile == "outage") else _with_qoe(r, 10.0)
        for r in results
    ]
    assert any("outage: bba" in line for line in check_targets(rigged))
    without_traces = [r for r in results if r.kind == "synthetic"]
    assert any("no real traces" in line for line in check_targets(without_traces))


def _with_qoe(r: AbrResult, qoe: float) -> AbrResult:
    from dataclasses import replace

    return replace(r, qoe=qoe)


def test_four_second_segments_hold_the_rebuffer_targets_and_beat_the_rule_based_players() -> None:
    results = run_abr_benchmark(traces_dir(), segment_duration=4.0)
    failed = check_targets(results)
    assert not [line for line in failed if "rebuffers" in line], failed
    summary = {(r.profile, r.algorithm): r for r in summarize(results)}
    for profile in [*SYNTHETIC_PROFILES, TRACES_MEAN]:
        mine = summary[(profile, KITHARA)].qoe
        for other in ("throughput", "rust-kithara", "fixed-lowest"):
            assert mine >= summary[(profile, other)].qoe - 1e-9, (profile, other)
    best_on_traces = max(r.qoe for (p, _), r in summary.items() if p == TRACES_MEAN)
    assert summary[(TRACES_MEAN, KITHARA)].qoe == best_on_traces
