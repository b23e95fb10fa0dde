"""kithara bench, used wrongly: a bad baseline, a bad --json path, options that contradict
each other. Each is one line on stderr and a documented exit code *before* any scenario runs
(a CI job must not learn of a typo minutes later, or never), and nothing is left at --json."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench_entries import ENTRY, TINY
from conftest import assert_clean_failure, run_cli


def _bench(tmp_path: Path, *args: str) -> tuple[Path, object]:
    out = tmp_path / "r.json"
    proc = run_cli(
        "bench",
        "--scenario",
        "progressive-throughput",
        "--runs",
        "1",
        "--json",
        str(out),
        *args,
        env=TINY,
        timeout=60,
    )
    return out, proc


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"entries": [1]}', id="entry-not-an-object"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(json.dumps({"entries": [{**ENTRY, "peer": 3}]}).encode(), id="peer-number"),
        pytest.param(
            json.dumps({"entries": [{**ENTRY, "scenario": "progresive-throughput"}]}).encode(),
            id="unknown-scenario",
        ),
        pytest.param(
            json.dumps({"entries": [{**ENTRY, "gating": "false"}]}).encode(), id="gating-string"
        ),
        pytest.param(
            json.dumps({"entries": [{**ENTRY, "target": float("nan")}]}).encode(), id="nan-target"
        ),
        pytest.param(
            json.dumps({"entries": [{**ENTRY, "target": True}]}).encode(), id="bool-target"
        ),
    ],
)
def test_a_wrong_baseline_is_a_usage_error_before_the_run(tmp_path: Path, content: bytes) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_bytes(content)
    out, proc = _bench(tmp_path, "--compare", str(baseline))
    assert_clean_failure(proc, out, 2)  # type: ignore[arg-type]


def test_a_good_baseline_still_loads(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"entries": [{**ENTRY, "peer": "curl", "why": "x"}]}))
    out, proc = _bench(tmp_path, "--compare", str(baseline))
    assert proc.returncode == 0, proc.stderr  # type: ignore[attr-defined]
    assert json.loads(out.read_text())["compare"][0]["result"] in ("pass", "skip")


def test_json_into_a_directory_is_refused_before_the_run(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    proc = run_cli("bench", "--scenario", "progressive-throughput", "--json", str(folder), env=TINY)
    assert proc.returncode == 2, proc.stderr
    assert_one_line(proc.stderr)
    assert list(tmp_path.iterdir()) == [folder] and not list(folder.iterdir())


def test_json_into_a_missing_folder_is_an_output_error_before_the_run(tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "r.json"
    proc = run_cli("bench", "--scenario", "progressive-throughput", "--json", str(out), env=TINY)
    assert_clean_failure(proc, out, 6)
    assert not list(tmp_path.iterdir())


def assert_one_line(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("kithara: error: "), stderr
    assert "Traceback" not in stderr


def test_a_misspelt_scenario_gets_a_suggestion(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = run_cli("bench", "--scenario", "hls-fetchh", "--json", str(out), env=TINY)
    assert_clean_failure(proc, out, 2)
    assert "did you mean hls-fetch?" in proc.stderr


def test_abr_and_scenario_together_are_refused(tmp_path: Path) -> None:
    """--abr runs only the ABR table: with --scenario X, X was silently dropped."""
    out = tmp_path / "r.json"
    proc = run_cli("bench", "--abr", "--scenario", "hls-fetch", "--json", str(out), env=TINY)
    assert_clean_failure(proc, out, 2)


def test_the_json_is_readable_as_any_file_the_user_writes(tmp_path: Path) -> None:
    out, proc = _bench(tmp_path)
    assert proc.returncode == 0, proc.stderr  # type: ignore[attr-defined]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_json_over_the_baseline_is_refused(tmp_path: Path) -> None:
    """`--compare b.json --json b.json` would replace the baseline with results (and the next
    run would then refuse it): refused, the baseline untouched."""
    baseline = tmp_path / "baseline.json"
    text = json.dumps({"entries": [ENTRY]})
    baseline.write_text(text)
    proc = run_cli(
        "bench",
        "--scenario",
        "progressive-throughput",
        "--compare",
        str(baseline),
        "--json",
        str(tmp_path / "." / "baseline.json"),
        env=TINY,
    )
    assert proc.returncode == 2, proc.stderr
    assert_one_line(proc.stderr)
    assert baseline.read_text() == text
