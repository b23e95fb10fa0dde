"""The sanitiser every terminal line goes through: controls shown escaped, text capped, the
rest untouched. The end-to-end checks (a real pseudo-terminal) are in test_injection_pty.py."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kithara_cli.ui.sanitize import ELLIPSIS, MAX_FIELD, MAX_LINE, sanitize, sanitize_line


def _obeyable(text: str) -> list[str]:
    """Characters a terminal (or a bidi renderer) acts on instead of showing (the joiners and
    a subdivision flag's tags are inert: kept, test_s13_priv_unicode)."""
    text = re.sub("\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{3,6}\U000e007f", "", text)
    return [
        ch
        for ch in text
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs") and ch not in "\u200d\u200c"
    ]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x1b[2Jb", "a\\x1b[2Jb"),  # CSI: clear the screen
        ("\x1b]52;c;UFdORUQ=\x07", "\\x1b]52;c;UFdORUQ=\\x07"),  # OSC 52, BEL-terminated
        ("\x1b]52;c;UFdORUQ=\x1b\\", "\\x1b]52;c;UFdORUQ=\\x1b\\"),  # OSC 52, ST-terminated
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),  # OSC 0: window title
        ("\x1bc", "\\x1bc"),  # RIS: full reset
        ("\x9b31m", "\\x9b31m"),  # C1 CSI (U+009B)
        ("\x9d8;;http://x\x9c", "\\x9d8;;http://x\\x9c"),  # C1 OSC / ST (hyperlink)
        ("x\x00y\x7fz", "x\\x00y\\x7fz"),  # NUL, DEL
        ("x\ny\tz\r", "x\\ny\\tz\\r"),  # one line stays one line
        ("\x07\x08\x0b\x0c", "\\x07\\x08\\x0b\\x0c"),  # what Rich alone would strip, shown
        ("abc\u202edef", "abc\\u202edef"),  # RLO: Trojan source
        ("\u2066a\u2069\u202a\u202c", "\\u2066a\\u2069\\u202a\\u202c"),  # isolates, embeddings
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("line\u2028sep", "line\\u2028sep"),
        ("tag\U000e0041", "tag\\U000e0041"),  # invisible tag characters
        ("no\u00a0break", "no break"),  # a space-like space is a space
    ],
)
def test_controls_are_shown_escaped(raw: str, shown: str) -> None:
    assert sanitize(raw) == shown
    assert _obeyable(sanitize(raw)) == []


@pytest.mark.parametrize(
    "text",
    [
        "plain [bold red]x[/] text",  # markup is not our business here: Rich gets Text
        "[link=https://evil.example]click[/link]",
        "café naïve Ærøskøbing",
        "音楽 ストリーム 한국어 中文",
        "♪ 🎵 👍🏽 🏳️‍🌈 👨‍👩‍👧",  # skin tone, variation selector, ZWJ sequences
        "العربية עברית",  # right-to-left letters are text, not overrides
        "back\\slash and \\x1b literal",
        "",
    ],
)
def test_ordinary_text_is_returned_unchanged(text: str) -> None:
    out = sanitize(text)
    assert out == text
    if "\u200d" not in text:  # a ZWJ (format character) takes the slow path, to the same end
        assert out is text  # the fast path: no copy


def test_long_text_is_capped_with_an_ellipsis() -> None:
    out = sanitize("x" * 1_000_000)
    assert len(out) == MAX_FIELD
    assert out.endswith(ELLIPSIS)
    assert sanitize("y" * 50, 20) == "y" * 19 + ELLIPSIS
    assert sanitize("y" * 20, 20) == "y" * 20


def test_the_cap_counts_escapes_and_never_splits_one() -> None:
    out = sanitize("\x1b" * 100, 50)
    assert len(out) <= 50
    assert out.endswith(ELLIPSIS)
    assert out[:-1] == "\\x1b" * 12  # whole escapes only


def test_a_message_line_keeps_its_end() -> None:
    message = "cannot connect: http://h/" + "a" * 1_000_000 + " (connection refused)"
    out = sanitize_line(message)
    assert len(out) == MAX_LINE
    assert out.startswith("cannot connect: http://h/aaa")
    assert out.endswith("aaa (connection refused)")
    assert out.count(ELLIPSIS) == 1


def test_sanitizing_twice_changes_nothing() -> None:
    once = sanitize("a\x1b[2J\x9b\u202e" + "z" * 400)
    assert sanitize(once) == once


def test_non_strings_are_shown_as_their_str() -> None:
    assert sanitize(42) == "42"
    assert sanitize(("a\x1b", 1)) == "('a\\x1b', 1)"


@given(st.text(max_size=400), st.integers(min_value=1, max_value=500), st.integers(0, 200))
def test_any_text_comes_out_printable_and_bounded(text: str, limit: int, tail: int) -> None:
    out = sanitize(text, limit, tail=tail)
    assert len(out) <= limit
    assert "\x1b" not in out
    assert _obeyable(out) == []
    if len(text) <= limit and text.isprintable():
        assert out == text


def test_importing_it_loads_no_rich() -> None:
    """Start-up time counts: the sanitiser is used before anything needs Rich."""
    code = (
        "import sys, kithara_cli.ui.sanitize; print(any(m.startswith('rich') for m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.stdout.strip() == "False", proc.stderr
