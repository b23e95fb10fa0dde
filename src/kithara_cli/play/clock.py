"""Time to first audio counts from kithara's launch (Python's start-up too, a parent's not)."""

from __future__ import annotations


def seconds_since_process_start() -> float:
    """Seconds since kithara was launched (see :mod:`kithara_cli.launch`)."""
    from kithara_cli.launch import seconds_since_launch

    return seconds_since_launch()
