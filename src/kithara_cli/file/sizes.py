"""Sizes as the user writes them (``--max-size 50M``) and as messages show them."""

from __future__ import annotations

from kithara_cli.errors import UsageError

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """``--max-size``: bytes, or a number with K, M, G or T (binary; a trailing B or iB ok)."""
    value = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = value[-1:] if value[-1:] in _UNITS else ""
    number = value[: len(value) - len(unit)] if unit else value
    try:
        size = int(float(number) * _UNITS[unit])
    except (ValueError, OverflowError):
        raise UsageError(f"bad --max-size {text!r}: expected e.g. 500000, 50M or 2G") from None
    if size <= 0:
        raise UsageError(f"bad --max-size {text!r}: must be more than 0")
    return size


def format_size(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"
