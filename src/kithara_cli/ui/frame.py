"""A dashboard frame: lines of (text, style) runs laid out to an exact width, handed to Rich as
plain segments (never parsed as markup), and the rules between panels. Drawn with the glyph
set chosen for the console (``glyphs``), and folded to what its encoding can carry."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style

from kithara_cli.ui.glyphs import current, fold
from kithara_cli.ui.sanitize import sanitize


def fit(text: str, width: int, right: bool = False) -> str:
    """Exactly ``width`` cells: padded, or cut with an ellipsis (wide characters respected)."""
    if width <= 0:
        return ""
    if text.isascii():  # the common case, all in C
        if len(text) <= width:
            return text.rjust(width) if right else text.ljust(width)
        return text[: width - 1] + current().ellipsis
    n = cell_len(text)
    if n > width:
        ellipsis = current().ellipsis
        return set_cell_size(text, width - 1) + ellipsis if width > 1 else ellipsis
    pad = " " * (width - n)
    return pad + text if right else text + pad


class Line(list[tuple[str, str]]):
    """One terminal line as (text, style) runs, already laid out to the width.

    Runs of one style are merged as they are added: fewer segments, cheaper frames.
    """

    def add(self, text: str, style: str = "") -> Line:
        if text:
            if self and self[-1][1] == style:
                self[-1] = (self[-1][0] + text, style)
            else:
                self.append((text, style))
        return self

    def join(self, other: Sequence[tuple[str, str]]) -> Line:
        for text, style in other:
            self.add(text, style)
        return self

    @property
    def cells(self) -> int:
        return sum(cell_len(text) for text, _ in self)


def _line(*parts: tuple[str, str]) -> Line:
    return Line().join(parts)


_STYLES: dict[str, Style | None] = {"": None}


def _style(spec: str) -> Style | None:
    style = _STYLES.get(spec, Style.null())
    if style is not None and style is Style.null():
        style = _STYLES[spec] = Style.parse(spec)
    return style


class Frame:
    """A frame of pre-laid-out lines, handed to Rich as plain segments.

    Each text run becomes one ``Segment``: no markup parsing, no wrapping pass. Network text
    was sanitized when it arrived; the ``isprintable`` guard catches anything that slipped by.
    """

    def __init__(self, lines: list[Line]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        newline = Segment.line()
        for line in self.lines:
            for text, style in line:
                if not text.isprintable():
                    text = sanitize(text, len(text) + 1)
                if not text.isascii():
                    text = fold(text)
                yield Segment(text, _style(style))
            yield newline

    def plain(self) -> str:
        return "\n".join("".join(text for text, _ in line) for line in self.lines)


def rule(title: str, width: int, extra: str = "") -> list[tuple[str, str]]:
    """``── title ─ extra ──────`` to exactly ``width`` cells (extra dropped if it won't fit)."""
    line = current().rule
    parts: list[tuple[str, str]] = [(line * 2 + " ", "dim"), (f"{title} ", "bold")]
    rem = width - 3 - cell_len(title) - 1
    if extra and cell_len(extra) + 3 <= rem:
        parts.append((line + " ", "dim"))
        parts.append((extra + " ", "dim"))
        rem -= cell_len(extra) + 3
    parts.append((line * max(rem, 0), "dim"))
    return parts
