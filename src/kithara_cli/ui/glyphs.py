"""The characters the dashboards draw with, chosen once from the console's encoding.

A terminal whose encoding is not UTF-8 (``LC_ALL=C`` with Python's UTF-8 mode off,
``PYTHONIOENCODING=latin-1``) has no box-drawing, bar or sparkline characters: Python writes
each as an escape (``\\u2501``, six cells for one), every line of a frame overflows and wraps,
and the live redraw, which moves the cursor up by the lines it drew, leaves garbage. There the
UI draws with ``ASCII``, one cell for every cell of ``UNICODE`` (the footer's key names
aside), so the layout is the same.

``choose`` is called once, when the stderr console is made; the renderers read ``current()``.
No Rich at import: the plain log lines (``format``) read the glyphs too.
``fold`` is the frame's last step on such a terminal: what else it cannot carry (network
titles, the sanitizer's ellipsis) becomes an ASCII look-alike or ``?``, cell for cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Glyphs:
    """One look: every non-ASCII character the renderers would otherwise write literally."""

    bar_done: str  # a progress bar: done, the half cell at its head, still to come
    bar_half: str
    bar_todo: str
    rule: str  # the line of a rule between panels, and its tee and column in the wide layout
    rule_tee: str
    column: str
    spark: str  # sparkline levels, lowest first
    ellipsis: str  # a cut text's last cell
    sep: str  # between the items of one line
    dash: str  # "station - now playing"
    times: str  # "x3" repeated events, "2.0x" estimate over bitrate
    playing: str  # the ABR ladder: playing, loading next, the estimate, bar fill and rest
    next: str
    estimate: str
    fill: str
    empty: str
    states: dict[str, str] = field(hash=False)  # player state -> its mark
    unknown_state: str = "?"
    keys: tuple[tuple[str, str], ...] = ()  # the footer: (key, what it does)

    def state(self, name: str) -> str:
        return self.states.get(name, self.unknown_state)


UNICODE = Glyphs(
    bar_done="━",
    bar_half="╸",
    bar_todo="─",
    rule="─",
    rule_tee="┬",
    column="│",
    spark="▁▂▃▄▅▆▇█",
    ellipsis="…",
    sep="·",
    dash="—",
    times="×",
    playing="▶",
    next="→",
    estimate="┃",
    fill="█",
    empty="·",
    states={
        "playing": "▶",
        "paused": "‖",
        "buffering": "…",
        "seeking": "»",
        "rebuffering": "!",
        "ended": "■",
    },
    unknown_state="·",
    keys=(("space", "pause"), ("←/→", "seek ∓10 s"), ("↑/↓", "volume"), ("q", "quit")),
)
ASCII = Glyphs(
    bar_done="=",
    bar_half=">",
    bar_todo="-",
    rule="-",
    rule_tee="+",
    column="|",
    spark="_.:-=+*#",
    ellipsis="~",
    sep="|",
    dash="-",
    times="x",
    playing=">",
    next="+",
    estimate="|",
    fill="#",
    empty=".",
    states={
        "playing": ">",
        "paused": "||",
        "buffering": "..",
        "seeking": ">>",
        "rebuffering": "!",
        "ended": "#",
    },
    unknown_state="-",
    keys=(("space", "pause"), ("<-/->", "seek -/+10 s"), ("up/down", "volume"), ("q", "quit")),
)

# Look-alikes for what else a frame may carry (the sanitizer's ellipsis, event texts); any
# other character the encoding lacks is "?" per cell it takes.
_FOLD = {
    "…": "~",
    "·": ".",
    "—": "-",
    "–": "-",
    "→": ">",
    "←": "<",
    "×": "x",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
}


def _all_chars(glyphs: Glyphs) -> str:
    parts = [
        glyphs.bar_done + glyphs.bar_half + glyphs.bar_todo + glyphs.rule + glyphs.rule_tee,
        glyphs.column + glyphs.spark + glyphs.ellipsis + glyphs.sep + glyphs.dash,
        glyphs.times + glyphs.playing + glyphs.next + glyphs.estimate + glyphs.fill,
        glyphs.empty + glyphs.unknown_state,
        *glyphs.states.values(),
        *(key + what for key, what in glyphs.keys),
    ]
    return "".join(parts)


def for_encoding(encoding: str | None) -> Glyphs:
    """``UNICODE`` where ``encoding`` carries every one of its characters, else ``ASCII``."""
    if not encoding:
        return UNICODE
    try:
        _all_chars(UNICODE).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ASCII
    return UNICODE


_current: Glyphs = UNICODE
_narrow: str | None = None  # the console's encoding, where it is not UTF-8


def choose(encoding: str | None) -> Glyphs:
    """Draw for a console writing in ``encoding`` from now on (the stderr console's, once)."""
    global _current, _narrow
    _current = for_encoding(encoding)
    _narrow = None if _current is UNICODE else encoding
    return _current


def current() -> Glyphs:
    return _current


def fold(text: str) -> str:
    """``text`` as the chosen console can show it, cell for cell (unchanged on UTF-8)."""
    encoding = _narrow
    if encoding is None or text.isascii():
        return text
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        pass
    from rich.cells import cell_len  # only here: the plain lines import this module, not Rich

    out = []
    for ch in text:
        try:
            ch.encode(encoding)
            out.append(ch)
        except UnicodeEncodeError:
            out.append(_FOLD.get(ch) or "?" * cell_len(ch))
    return "".join(out)


__all__ = ["ASCII", "UNICODE", "Glyphs", "choose", "current", "fold", "for_encoding"]
