"""kithara bench: the arithmetic, the A/B pairing, the baseline comparison, the JSON, and one
real (tiny) run against the loopback server."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from kithara_cli.bench.compare import Entry, compare, exit_code, load_baseline, parse_entry
from kithara_cli.bench.report import RECORD_KEYS, BenchResult, Record, ScenarioRun
from kithara_cli.bench.runner import (
    Budget,
    RunFailed,
    Series,
    alternate,
    pairs,
    run_process,
    time_to_first_stdout_byte,
)
from kithara_cli.bench.scenarios import (
    FULL_LADDER_SEGMENTS,
    SCENARIOS,
    comparison,
    fetch_span,
    hls_target,
    make_settings,
    parse_first_audio,
    shrunk,
)
from kithara_cli.bench.stats import pair_summary, paired_ratios, summarize
from kithara_cli.errors import UsageError

# --- stats -------------------------------------------------------------------------------------


def test_summary_min_median_max() -> None:
    s = summarize([3.0, 1.0, 2.0])
    assert (s.runs, s.min, s.median, s.max) == (3, 1.0, 2.0, 3.0)
    even = summarize([4.0, 1.0, 3.0, 2.0])
    assert even.median == 2.5
    assert summarize([5.0]).spread == 0.0
    with pytest.raises(ValueError):
        summarize([])


def test_paired_ratios_are_taken_pair_by_pair() -> None:
    # A machine that slows down halfway: each pair keeps ratio 2, the medians' ratio would not.
    a = [2.0, 2.0, 8.0, 8.0, 8.0]
    b = [1.0, 1.0, 4.0, 4.0, 4.0]
    assert paired_ratios(a, b) == [2.0] * 5
    summary = pair_summary(a, b)
    assert summary is not None and summary.median == 2.0 and summary.spread == 0.0
    assert paired_ratios([1.0, 2.0], [0.0, 1.0]) == [2.0]  # a zero denominator is dropped
    with pytest.raises(ValueError):
        paired_ratios([1.0], [1.0, 2.0])
    assert pair_summary([], []) is None


# --- alternation -------------------------------------------------------------------------------


def test_alternate_runs_a_b_a_b_after_one_warm_up() -> None:
    calls: list[str] = []

    def make(name: str, value: float):
        def measure() -> float:
            calls.append(name)
            return value

        return measure

    a, peers, errors = alternate(
        make("A", 1.0), {"B": make("B", 2.0), "C": make("C", 4.0)}, 3, Budget(60)
    )
    assert calls == ["A", "B", "C"] * 4  # the warm-up round, then three timed rounds
    assert a.values == [1.0] * 3 and peers["B"].values == [2.0] * 3
    assert errors == {}


def test_a_failing_peer_drops_out_and_is_reported_not_raised() -> None:
    n = {"B": 0}

    def peer() -> float:
        n["B"] += 1
        if n["B"] > 2:  # the warm-up and the first timed round succeed
            raise RunFailed("exit status 1", ["peer", "--flag"], "boom")
        return 2.0

    a, peers, errors = alternate(lambda: 1.0, {"B": peer}, 4, Budget(60))
    assert len(a.values) == 4
    assert peers["B"].values == [2.0]
    assert "boom" in errors["B"] and "peer --flag" in errors["B"]
    ka, kb = pairs(a, peers["B"])
    assert len(ka) == len(kb) == 1


def test_kithara_failing_raises() -> None:
    def broken() -> float:
        raise RunFailed("exit status 3", ["kithara"])

    with pytest.raises(RunFailed):
        alternate(broken, {}, 3, Budget(60))


def test_time_cap_keeps_at_least_one_run() -> None:
    a, _, _ = alternate(lambda: 1.0, {}, 5, Budget(0.0), warmup=False)
    assert a.values == [1.0]
    assert a.stopped_early == "time cap: 1 of 5 runs"


# --- records -----------------------------------------------------------------------------------


def test_missing_peer_is_listed_not_failed() -> None:
    k = Series([2.0, 2.0, 2.0])
    records = comparison(
        "progressive-throughput",
        "unthrottled",
        "throughput",
        "MB/s",
        "higher",
        k,
        {"curl": Series([1.0, 0.5, 1.0])},
        {},
        ["ffmpeg"],
        convert=lambda s: 100 / s,
    )
    mine, curl, ffmpeg = records
    assert mine.peer is None and mine.value == 50.0 and mine.status == "ok"
    # throughput: kithara 50 MB/s vs curl 100, 200, 100 -> ratios 0.5, 0.25, 0.5 pair by pair
    assert curl.peer == "curl" and curl.peer_ratio == 0.5 and curl.ratio_min == 0.25
    assert curl.peer_value == 100.0
    assert ffmpeg.peer == "ffmpeg" and ffmpeg.status == "missing-peer" and ffmpeg.value is None


def _result(records: list[Record], **status: str) -> BenchResult:
    result = BenchResult(quick=True, runs=3, settings={}, shrunk=[], records=records)
    for name in SCENARIOS:
        result.scenarios[name] = ScenarioRun(name, status=status.get(name, "ok"))  # type: ignore[arg-type]
    return result


def _rec(value: float | None, peer: str | None = None, ratio: float | None = None) -> Record:
    return Record(
        scenario="progressive-throttled",
        case="2MB/s/conn -c 4",
        metric="throughput",
        unit="MB/s",
        better="higher",
        value=value,
        runs=3,
        peer=peer,
        peer_ratio=ratio,
    )


def _entry(**kw: object) -> Entry:
    raw = {
        "scenario": "progressive-throttled",
        "case": "2MB/s/conn -c 4",
        "metric": "throughput",
        "peer": "curl",
        "target": 2.0,
        "better": "higher",
        "tolerance": 0.1,
        "gating": True,
        **kw,
    }
    return parse_entry(raw)


def test_compare_passes_within_tolerance_and_fails_a_regression() -> None:
    entry = _entry()
    assert entry.field == "peer_ratio" and entry.limit() == pytest.approx(1.8)
    ok = compare(_result([_rec(5.0, "curl", 1.85)]), [entry])
    assert ok[0]["result"] == "pass" and exit_code(ok) == 0
    bad = compare(_result([_rec(5.0, "curl", 1.5)]), [entry])
    assert bad[0]["result"] == "fail" and exit_code(bad) == 1


def test_compare_lower_is_better_and_counts() -> None:
    cpu = parse_entry(
        {
            "scenario": "playback-cpu",
            "case": "hls 256k",
            "metric": "cpu_steady",
            "target": 0.1,
            "better": "lower",
            "tolerance": 0.5,
            "gating": True,
        }
    )
    record = Record(
        scenario="playback-cpu", case="hls 256k", metric="cpu_steady", unit="core", better="lower"
    )
    record.value = 0.14
    assert compare(_result([record]), [cpu])[0]["result"] == "pass"  # <= 0.15
    record.value = 0.16
    assert compare(_result([record]), [cpu])[0]["result"] == "fail"
    count = parse_entry(
        {
            "scenario": "abr",
            "case": "targets",
            "metric": "failed_targets",
            "kind": "count",
            "target": 0,
            "better": "lower",
            "tolerance": 0,
            "gating": True,
        }
    )
    failed = Record(
        scenario="abr", case="targets", metric="failed_targets", unit="count", better="lower"
    )
    failed.value = 1.0
    assert compare(_result([failed]), [count])[0]["result"] == "fail"
    failed.value = 0.0
    assert compare(_result([failed]), [count])[0]["result"] == "pass"


def test_report_only_misses_do_not_fail() -> None:
    verdicts = compare(_result([_rec(5.0, "curl", 1.0)]), [_entry(gating=False)])
    assert verdicts[0]["result"] == "miss" and exit_code(verdicts) == 0


def test_gated_metric_with_missing_peer_is_skipped() -> None:
    missing = _rec(None, "curl")
    missing.status = "missing-peer"
    missing.note = "curl not installed"
    verdicts = compare(_result([missing]), [_entry()])
    assert verdicts[0]["result"] == "skip" and "curl" in verdicts[0]["detail"]
    assert exit_code(verdicts) == 0
    # A scenario that was not selected is skipped too.
    verdicts = compare(_result([], **{"progressive-throttled": "not-run"}), [_entry()])
    assert verdicts[0]["result"] == "skip" and exit_code(verdicts) == 0


def test_a_failed_scenario_fails_its_gated_metrics() -> None:
    broken = Record(
        scenario="progressive-throttled",
        case="2MB/s/conn -c 4",
        metric="throughput",
        unit="",
        better="lower",
        status="error",
        note="exit status 6: `kithara fetch ...`",
    )
    verdicts = compare(_result([broken], **{"progressive-throttled": "error"}), [_entry()])
    assert verdicts[0]["result"] == "fail" and "exit status 6" in verdicts[0]["detail"]


def test_baseline_refuses_absolute_times(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="never absolute times"):
        parse_entry(
            {
                "scenario": "hls-fetch",
                "metric": "time",
                "kind": "seconds",
                "target": 1.5,
                "better": "lower",
            }
        )
    bad = tmp_path / "b.json"
    bad.write_text("[]")
    with pytest.raises(UsageError):
        load_baseline(bad)


def test_the_repository_baseline_is_valid() -> None:
    entries = load_baseline(REPO / "bench" / "baseline.json")
    assert entries and any(e.gating for e in entries)
    keys = [(*e.key(), e.field, e.target) for e in entries]
    assert len(keys) == len(set(keys)), "duplicate baseline entries"
    for entry in entries:
        assert entry.scenario in SCENARIOS, entry
        assert entry.kind in ("ratio", "count")


# --- JSON --------------------------------------------------------------------------------------


def test_json_schema(tmp_path: Path) -> None:
    result = _result([_rec(5.0), _rec(5.0, "curl", 1.9)])
    result.compare = compare(result, [_entry()])
    path = tmp_path / "r.json"
    result.write_json(path)
    data = json.loads(path.read_text())
    for key in ("schema", "machine", "peers", "settings", "shrunk", "scenarios", "records"):
        assert key in data
    assert data["machine"]["nproc"] >= 1
    for record in data["records"]:
        assert tuple(record) == RECORD_KEYS
        assert record["better"] in ("higher", "lower")
    assert data["compare"][0]["result"] == "pass"


# --- scenario helpers ----------------------------------------------------------------------------


def test_quick_mode_says_what_it_shrank() -> None:
    quick = make_settings(True, 5, tiny=False)
    assert quick.runs == 3 and quick.progressive_mb == 50 and quick.throttled_mb == 8
    notes = " ".join(shrunk(quick))
    assert "50 MB" in notes and "120 s" in notes and "scaled" in notes
    assert shrunk(make_settings(False, 5, tiny=False)) == []
    assert hls_target(0.05, FULL_LADDER_SEGMENTS) == pytest.approx(1.5)
    assert hls_target(0.0, FULL_LADDER_SEGMENTS) == pytest.approx(0.6)


def test_first_audio_split_adds_up() -> None:
    lines = [
        json.dumps({"event": "RequestEnqueued", "ts": 100.5, "request_id": 1}),
        json.dumps({"event": "FirstByte", "ts": 100.6, "request_id": 1}),
        json.dumps({"event": "RequestEnqueued", "ts": 100.6, "request_id": 2}),
        json.dumps({"event": "FirstByte", "ts": 100.7, "request_id": 2}),
        json.dumps({"event": "PlaybackStarted", "ts": 100.8, "time_to_first_audio": 0.9}),
        json.dumps({"event": "FirstByte", "ts": 101.0, "request_id": 3}),  # after: ignored
    ]
    first = parse_first_audio(lines)
    assert first.ttfa == 0.9
    assert first.startup == pytest.approx(0.6)  # process started at 99.9
    assert first.network == pytest.approx(0.2)
    assert first.decode == pytest.approx(0.1)
    spawned = parse_first_audio(lines, spawned_at=99.95)  # timed from the fork, as ffmpeg is
    assert spawned.ttfa == pytest.approx(0.85)
    assert spawned.startup == pytest.approx(0.55)
    assert spawned.network + spawned.decode == pytest.approx(0.3)
    with pytest.raises(RunFailed):
        parse_first_audio(lines[:2])
    assert fetch_span(
        [
            json.dumps({"event": "RequestEnqueued", "ts": 5.0}),
            json.dumps({"event": "RequestCompleted", "ts": 7.5}),
        ]
    ) == pytest.approx(2.5)


def test_run_process_measures_its_own_child(tmp_path: Path) -> None:
    code = (
        "import sys, time; x = b'x' * (40 * 1024 * 1024); time.sleep(0.2);"
        " sys.stderr.write('done'); sys.exit(3)"
    )
    result = run_process([sys.executable, "-c", code], timeout=30, stderr_path=tmp_path / "e")
    assert result.returncode == 3 and not result.ok and "done" in result.stderr
    assert result.maxrss_mb >= 40 and result.cpu > 0 and result.wall > 0
    with pytest.raises(RunFailed, match="exit status 3"):
        result.check()
    slow = run_process([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert slow.timed_out and slow.wall < 10


def test_first_stdout_byte() -> None:
    code = "import time, sys; time.sleep(0.2); sys.stdout.write('x'); sys.stdout.flush(); time.sleep(30)"
    started = time.monotonic()
    value = time_to_first_stdout_byte([sys.executable, "-c", code], timeout=20)
    assert 0.2 <= value < 10 and time.monotonic() - started < 15
    with pytest.raises(RunFailed):
        time_to_first_stdout_byte([sys.executable, "-c", "pass"], timeout=20)


# --- the command ----------------------------------------------------------------------------------


def test_list_and_unknown_scenario() -> None:
    listed = run_cli("bench", "--list")
    assert listed.returncode == 0
    for name in SCENARIOS:
        assert name in listed.stdout
    unknown = run_cli("bench", "--scenario", "nope")
    assert unknown.returncode == 2 and "unknown scenario" in unknown.stderr


def test_a_real_tiny_run(tmp_path: Path) -> None:
    """Progressive throughput for real (4 MB, one run), held to two baselines."""
    lenient = tmp_path / "lenient.json"
    impossible = tmp_path / "impossible.json"
    entry = {
        "scenario": "progressive-throughput",
        "case": "unthrottled",
        "metric": "throughput",
        "better": "higher",
        "tolerance": 0.0,
        "gating": True,
    }
    lenient.write_text(json.dumps({"entries": [{**entry, "target": 0.001}]}))
    impossible.write_text(json.dumps({"entries": [{**entry, "target": 1e9}]}))
    out = tmp_path / "r.json"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {"KITHARA_BENCH_TINY": "1", "TMPDIR": str(scratch)}
    args = ["bench", "--scenario", "progressive-throughput", "--runs", "1", "--json", str(out)]
    ok = run_cli(*args, "--compare", str(lenient), env=env, timeout=60)
    assert ok.returncode == 0, ok.stderr + ok.stdout
    data = json.loads(out.read_text())
    assert data["settings"]["mode"] == "tiny" and data["shrunk"]
    assert data["scenarios"]["progressive-throughput"]["status"] == "ok"
    assert data["scenarios"]["abr"]["status"] == "not-run"
    mine = [r for r in data["records"] if r["metric"] == "throughput" and r["peer"] is None]
    assert mine and mine[0]["value"] > 0 and mine[0]["runs"] == 1
    curl = [r for r in data["records"] if r["peer"] == "curl"]
    assert curl and curl[0]["status"] in ("ok", "missing-peer")
    if curl[0]["status"] == "ok":
        assert curl[0]["peer_ratio"] > 0
    assert data["compare"][0]["result"] == "pass"
    assert not list(scratch.iterdir()), "the bench left files behind"
    bad = run_cli(*args, "--compare", str(impossible), env=env, timeout=60)
    assert bad.returncode == 1, bad.stderr + bad.stdout
    assert json.loads(out.read_text())["compare"][0]["result"] == "fail"


def test_run_process_on_a_terminal_drains_what_the_child_draws() -> None:
    """``terminal=True`` (the TTFA dashboard case): the child sees a terminal on stdin and
    stderr, at 100 columns, and may write far more than a pty buffers without blocking."""
    child = (
        "import os, sys\n"
        "ok = sys.stdin.isatty() and sys.stderr.isatty()\n"
        "cols = os.get_terminal_size(sys.stderr.fileno()).columns if ok else 0\n"
        "sys.stderr.write('x' * 1_000_000)\n"
        "sys.exit(0 if ok and cols == 100 else 3)\n"
    )
    proc = run_process([sys.executable, "-c", child], timeout=20, terminal=True)
    assert not proc.timed_out
    assert proc.returncode == 0
    plain = run_process([sys.executable, "-c", child], timeout=20)
    assert plain.returncode == 3  # and without it, no terminal
