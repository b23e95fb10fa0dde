"""``kithara bench --help`` tells a CI author what the exit code means, and its example of
an environment variable names an option bench has."""

from __future__ import annotations

import re

from conftest import run_cli


def test_bench_help_states_its_exit_codes_and_a_real_env_example() -> None:
    proc = run_cli("bench", "--help")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "Exit codes:" in text
    for code in ("0 ", "1 ", "2 ", "6 ", "130 ", "143 "):
        assert f" {code}" in text.split("Exit codes:", 1)[1], code
    assert "report-only" in text  # a missed report-only target does not fail CI
    examples = re.findall(r"KITHARA_BENCH_([A-Z_]+)=", text)
    assert examples
    for name in examples:
        assert f"--{name.lower().replace('_', '-')} " in text, name
