"""``kithara bench --compare``: what the baseline cannot see must not pass.

* A scenario whose runs failed is exit 1 with or without a baseline, and whether or not the
  baseline gates that scenario: before, a baseline without a gating entry for it exited 0.
* An entry naming a case or metric the scenario never produces is refused before any scenario
  runs (one line, exit 2, a suggestion where one is close): before, it was skipped in silence
  ("no such record in this run"), so a typo turned a gate off.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bench_entries import ENTRY, TINY
from conftest import assert_clean_failure, run_cli

REPO_BASELINE = Path(__file__).resolve().parent.parent / "bench" / "baseline.json"


def bench(
    tmp_path: Path, entries: list[dict[str, object]], env: dict[str, str] | None = None
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"entries": entries}))
    out = tmp_path / "r.json"
    args = ["--scenario", "progressive-throughput", "--runs", "1", "--json", str(out)]
    proc = run_cli(
        "bench", *args, "--compare", str(baseline), env={**TINY, **(env or {})}, timeout=90
    )
    return out, proc


# kithara fetch, as the bench runs it, refuses a NaN timeout (exit 2): every run fails.
BROKEN_FETCH = {"KITHARA_FETCH_TIMEOUT": "nan"}


@pytest.mark.parametrize(
    "entries",
    [
        pytest.param([{**ENTRY, "gating": False}], id="report-only-entry"),
        pytest.param(
            [{**ENTRY, "scenario": "dashboard-cpu", "case": "10 Hz", "metric": "cpu"}],
            id="gates-another-scenario",
        ),
        pytest.param([], id="no-entries"),
    ],
)
def test_a_failed_scenario_fails_the_run_without_a_gating_entry(
    tmp_path: Path, entries: list[dict[str, object]]
) -> None:
    out, proc = bench(tmp_path, entries, BROKEN_FETCH)
    assert proc.returncode == 1, proc.stderr + proc.stdout
    assert "scenario progressive-throughput failed" in proc.stdout, proc.stdout
    data = json.loads(out.read_text())
    assert data["scenarios"]["progressive-throughput"]["status"] == "error"


def test_a_passing_run_still_exits_0(tmp_path: Path) -> None:
    """...and every record it produced is one its scenario declares (what entries may name)."""
    from fnmatch import fnmatchcase

    from kithara_cli.bench.scenarios import SCENARIOS

    out, proc = bench(tmp_path, [{**ENTRY, "gating": False}, ENTRY])
    assert proc.returncode == 0, proc.stderr + proc.stdout
    data = json.loads(out.read_text())
    assert [v["result"] for v in data["compare"]] == ["pass", "pass"]
    for record in data["records"]:
        declared = SCENARIOS[record["scenario"]]
        assert any(fnmatchcase(record["case"], p) for p in declared.cases), record
        assert any(fnmatchcase(record["metric"], p) for p in declared.metrics), record


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"case": "unthrotled"}, "did you mean 'unthrottled'?"),
        ({"case": "2MB/s/conn -c 4"}, "unknown case '2MB/s/conn -c 4'"),
        ({"metric": "thruput"}, "did you mean 'throughput'?"),
        ({"metric": "ttfa"}, "unknown metric 'ttfa'"),
        ({"gating": False, "metric": "nope"}, "unknown metric 'nope'"),
        ({"peer": "ffmpg"}, "unknown peer 'ffmpg'; did you mean 'ffmpeg'?"),  # session 13
        ({"peer": "curl ", "gating": False}, "unknown peer 'curl '"),
    ],
)
def test_an_entry_for_what_the_scenario_never_produces_is_refused_up_front(
    tmp_path: Path, change: dict[str, object], needle: str
) -> None:
    out, proc = bench(tmp_path, [{**ENTRY, **change}])
    assert_clean_failure(proc, out, 2)
    assert needle in proc.stderr, proc.stderr
    assert "progressive-throughput" in proc.stderr
    assert " - " not in proc.stdout  # no scenario ran


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param({**ENTRY, "case": "unthrottled -c 1"}, id="a-full-run-only-case"),
        pytest.param({**ENTRY, "metric": "overhead", "better": "lower"}, id="a-second-metric"),
        pytest.param(
            {**ENTRY, "scenario": "abr", "case": "dev/all", "metric": "qoe"}, id="a-named-group"
        ),
        pytest.param(
            {**ENTRY, "scenario": "radio", "case": "long stream 20x", "metric": "mpv rss growth"},
            id="a-peer-metric",
        ),
        pytest.param({**ENTRY, "peer": "curl"}, id="a-peer-program"),
        pytest.param(
            {**ENTRY, "scenario": "cache", "case": "mp3 50ms", "metric": "replay_ttfa"}
            | {"peer": "first play"},
            id="a-reference-run",
        ),
    ],
)
def test_entries_for_what_a_scenario_produces_are_accepted(entry: dict[str, object]) -> None:
    from kithara_cli.bench.compare import parse_entry

    assert parse_entry(entry).case == entry["case"]


def test_the_repository_baseline_names_only_what_the_scenarios_produce() -> None:
    from kithara_cli.bench.compare import load_baseline

    assert len(load_baseline(REPO_BASELINE)) >= 20
