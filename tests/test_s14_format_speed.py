"""Speeds below 0.1 MB/s are shown in kB/s: a radio recording's progress line and a slow
fetch's "saved" line said "0.0 MB/s" (found in session 14)."""

from __future__ import annotations

import pytest

from kithara_cli.ui.format import fmt_speed


@pytest.mark.parametrize(
    ("rate", "shown"),
    [(16_000, "16.0 kB/s"), (99_999, "100 kB/s"), (100_000, "0.1 MB/s"), (2.5e6, "2.5 MB/s")],
)
def test_speeds(rate: float, shown: str) -> None:
    assert fmt_speed(rate) == shown
