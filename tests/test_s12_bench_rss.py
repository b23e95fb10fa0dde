"""The bench's peak RSS is the measured program's own, not the benchmark's.

Before: ``ru_maxrss`` from ``wait4`` folds the forking process's resident set in at ``exec``,
so every child measured at least the bench's own size (a 300 MiB parent spawning /bin/true
read 310 MiB), and fetch-rss's kithara (32 MiB) read as the bench's 66.5 MiB.
"""

from __future__ import annotations

import sys

from kithara_cli.bench.runner import run_process


def test_a_small_child_of_a_big_parent_measures_small() -> None:
    ballast = b"x" * (300 << 20)  # this process: > 300 MiB resident
    code = "import time; time.sleep(0.2)"
    result = run_process([sys.executable, "-c", code], timeout=30)
    assert len(ballast) == 300 << 20
    assert result.ok and 0 < result.maxrss_mb < 100, result.maxrss_mb


def test_a_big_child_measures_big() -> None:
    code = "import time; x = b'x' * (120 << 20); time.sleep(0.2)"
    result = run_process([sys.executable, "-c", code], timeout=30)
    assert result.ok and 120 <= result.maxrss_mb < 250, result.maxrss_mb
