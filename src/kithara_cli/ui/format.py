"""The UI's formatters, one of each: sizes (decimal for the dashboards, whole MB for fetch's
plain lines, binary for the cache listing), rates, bitrates, seconds, clock times, sparklines.

Plain text and no Rich, so the plain log (``plain_log``) and the state (``dashboard_state``)
share them with the dashboards.
"""

from __future__ import annotations

from collections.abc import Sequence

from kithara_cli.ui.glyphs import current


def fmt_size(n: float | None) -> str:
    """``512 B``, ``12.3 kB``, ``456 kB``, ``1.2 MB``: three significant digits at most."""
    if n is None:
        return "?"
    if n < 1000:
        return f"{n:.0f} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if n < scale * 1000 or unit == "GB":
            v = n / scale
            return f"{v:.0f} {unit}" if round(v, 1) >= 100 else f"{v:.1f} {unit}"
    return f"{n:.0f} B"  # pragma: no cover


def fmt_speed(bytes_per_s: float) -> str:
    """``1.2 MB/s``, and below 0.1 MB/s in kB (a radio stream's 16 kB/s is not "0.0 MB/s")."""
    if bytes_per_s >= 1e5:
        return f"{bytes_per_s / 1e6:.1f} MB/s"
    return fmt_rate(bytes_per_s)


def fmt_mb(n: float) -> str:
    """``0.3 MB``, ``12.0 MB``: fetch's plain progress lines keep one unit as they grow."""
    return f"{n / 1e6:.1f} MB"


def fmt_size_binary(n: int) -> str:
    """``512 B``, ``1.5 KiB``, ``2.0 GiB``: the cache's sizes, set by ``--max-size`` in
    binary units."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def fmt_pair(done: int, total: int | None) -> str:
    """``120/240 kB``: both numbers in the unit of the total, so the eye compares digits."""
    if not total:
        return fmt_size(done)
    if total < 1000:
        return f"{done}/{total} B"
    unit, scale = ("kB", 1e3) if total < 1e6 else ("MB", 1e6) if total < 1e9 else ("GB", 1e9)
    t = total / scale
    d = done / scale
    if round(t, 1) >= 100:
        return f"{d:.0f}/{t:.0f} {unit}"
    return f"{d:.1f}/{t:.1f} {unit}"


def fmt_rate(bytes_per_s: float | None) -> str:
    return "" if bytes_per_s is None else fmt_size(bytes_per_s) + "/s"


def fmt_bits(bps: float | None) -> str:
    if bps is None or bps <= 0:
        return "?"
    if bps >= 1e6:
        return f"{bps / 1e6:.1f} Mb/s"
    return f"{bps / 1e3:.0f} kb/s"


def fmt_secs(s: float | None) -> str:
    if s is None:
        return ""
    if s < 10:
        return f"{s:.1f}s"
    if s < 100:
        return f"{s:.0f}s"
    m, sec = divmod(int(s), 60)
    return f"{m}m{sec:02d}"


def fmt_ms(s: float | None) -> str:
    if s is None:
        return ""
    return f"{s * 1000:.0f}ms" if s < 1 else f"{s:.1f}s"


def fmt_clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--"
    s = int(max(seconds, 0.0))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def sparkline(values: Sequence[float], width: int, top: float | None = None) -> str:
    """The last ``width`` values as ``▁▂▃▄▅▆▇█`` (0 at the bottom, ``top`` or the max on top),
    or the chosen glyph set's levels."""
    if width <= 0:
        return ""
    vals = list(values)[-width:]
    if not vals:
        return " " * width
    hi = top if top is not None else max(vals)
    spark = current().spark
    if hi <= 0:
        return (spark[0] * len(vals)).rjust(width)
    last = len(spark) - 1
    out = "".join(spark[max(0, min(last, round(v / hi * last)))] for v in vals)
    return out.rjust(width)
