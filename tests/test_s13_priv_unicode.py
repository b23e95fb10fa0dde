"""Harmless text in any script prints as itself; what a terminal obeys is still escaped.

Found in session 13: Cyrillic, accented letters and most emoji already printed as themselves,
but two kinds of ordinary writing did not. The zero-width non-joiner that Persian, Kurdish and
Indic words are spelled with came out as ``\\u200c`` mid-word (``می\\u200cخواهم``), and a
subdivision flag (Scotland's: a black flag, five invisible tag letters, a cancel tag) as the
flag and six ``\\U000e00..`` escapes. Both are inert on a terminal (no control, no bidi
override). Bidi overrides, ESC, C0/C1 controls and tag characters outside a flag are escaped
as before, and a terminal that is not UTF-8 still gets ASCII-only lines.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.server import MediaServer
from kithara_cli.ui.sanitize import sanitize, sanitize_line

PERSIAN = "می\u200cخواهم"  # "I want": a zero-width non-joiner between its two parts
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
HARMLESS = f"{PERSIAN} {SCOTLAND} Привет café 👨\u200d👩\u200d👧 नमस्ते"


def _error_line(proc_stderr: str) -> str:
    lines = [line for line in proc_stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("kithara: error: "), proc_stderr
    return lines[0]


def test_an_error_line_shows_harmless_text_as_itself(server: MediaServer, tmp_path: Path) -> None:
    url = server.url(f"{PERSIAN}-{SCOTLAND}-Привет.mp3")  # a 404: the line quotes the URL
    proc = run_cli("fetch", url, "--out", str(tmp_path / "o"), "--retries", "0")
    assert proc.returncode == 4, proc.stderr
    line = _error_line(proc.stderr)
    assert f"{PERSIAN}-{SCOTLAND}-Привет.mp3" in line, ascii(line)
    assert "\\u" not in line and "\\U" not in line, line


def test_an_error_line_still_escapes_what_a_terminal_obeys(
    server: MediaServer, tmp_path: Path
) -> None:
    name = f"{PERSIAN}\u202eevil\u2066-\U000e0041x.mp3"  # RLO, an isolate, a stray tag
    proc = run_cli("fetch", server.url(name), "--out", str(tmp_path / "o"), "--retries", "0")
    assert proc.returncode == 4, proc.stderr
    line = _error_line(proc.stderr)
    assert f"{PERSIAN}\\u202eevil\\u2066-\\U000e0041x.mp3" in line, ascii(line)
    assert not {"\u202e", "\u2066", "\U000e0041"} & set(line)


def test_a_terminal_that_is_not_utf8_gets_ascii(server: MediaServer, tmp_path: Path) -> None:
    url = server.url(f"{PERSIAN}-{SCOTLAND}.mp3")
    env = {"PYTHONIOENCODING": "ascii"}
    proc = run_cli("fetch", url, "--out", str(tmp_path / "o"), "--retries", "0", env=env)
    assert proc.returncode == 4, proc.stderr
    line = _error_line(proc.stderr)
    assert line.isascii(), line
    assert "\\u0645\\u06cc\\u200c" in line  # Python's own fallback: escaped, not lost


@pytest.mark.parametrize(
    "text",
    [PERSIAN, SCOTLAND, HARMLESS, "\U0001f3f4\U000e0077\U000e006c\U000e0073\U000e007f"],
)
def test_harmless_text_is_unchanged(text: str) -> None:
    assert sanitize(text) == text
    assert sanitize_line(text) == text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\U0001f3f4\U000e0041\U000e007f", "\U0001f3f4\\U000e0041\\U000e007f"),  # capital tag
        ("\U0001f3f4\U000e0067\U000e0062", "\U0001f3f4\\U000e0067\\U000e0062"),  # no cancel
        ("x\U000e0067\U000e0062\U000e0073\U000e007f", "x" + "\\U000e0067\\U000e0062\\U000e0073"
         "\\U000e007f"),  # no flag: invisible text
        ("\U0001f3f4" + "\U000e0061" * 7 + "\U000e007f", "\U0001f3f4" + "\\U000e0061" * 7
         + "\\U000e007f"),  # longer than any subdivision code: a payload
        ("\u200c\u202e", "\u200c\\u202e"),
    ],
)  # fmt: skip
def test_tags_outside_a_subdivision_flag_are_escaped(raw: str, shown: str) -> None:
    assert sanitize(raw) == shown


def test_a_cut_never_splits_a_flag_into_escapes_it_did_not_need() -> None:
    text = "x" * 50 + SCOTLAND + "y" * 50
    out = sanitize(text, 40, tail=10)
    assert out.startswith("x" * 29) and out.endswith("y" * 10)
    tail = sanitize("x" * 50 + SCOTLAND, 40, tail=10)
    assert tail.endswith("xxx" + SCOTLAND)  # the flag kept whole in the kept end
    assert all(unicodedata.category(ch) != "Cc" for ch in out + tail)
