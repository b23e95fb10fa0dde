"""The live dashboards in a terminal whose encoding is not UTF-8 (``LC_ALL=C`` with Python's
UTF-8 mode off, ``PYTHONIOENCODING=latin-1``), on a real pty.

Box-drawing, bar and sparkline characters do not exist there: Python writes each as an escape
(``\\u2501``, six cells for one), every line overflows and wraps, and Rich's redraw (which
moves the cursor up by the lines it drew) leaves garbage behind. So the UI draws with an ASCII
glyph set chosen from the console's encoding, and network text it cannot show becomes ``?``
per cell: every line fits the width, the frame is still redrawn in place. A UTF-8 terminal
keeps the Unicode look.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer
from kithara_cli.server.faults import Faults
from pty_run import read_until_exit, spawn_on_pty

COLS = 100
CURSOR_UP = "\x1b[1A"
CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# The terminals: Python's own name for what the pty can carry, and the environment saying it.
NARROW = {
    "ascii-locale": ("ascii", {"LC_ALL": "C", "PYTHONUTF8": "0"}),
    "latin-1": ("latin-1", {"PYTHONIOENCODING": "latin-1"}),
}
TITLE = "Björk ♫ 日本"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ascii")
    encode_file(root / f"{TITLE}.mp3", 8.0, "mp3", bitrate=64_000)
    (root / "blob.bin").write_bytes(bytes(range(256)) * 12_000)  # 3 MB
    return root


def run_on_pty(args: list[str], env: dict[str, str], encoding: str) -> str:
    proc, master = spawn_on_pty(args, cols=COLS, rows=30, env=env)
    raw = read_until_exit(proc, master, 60)
    assert proc.returncode == 0, raw[-2000:]
    return raw.decode(encoding)  # strict: what the terminal could not show fails here


def visible_lines(text: str) -> list[str]:
    """What each line shows once Rich's own control sequences are gone."""
    return [line for line in re.split(r"\r\n|\n|\r", CSI.sub("", text)) if line]


def assert_live_and_fitting(text: str, redraw: str = CURSOR_UP, cells: int = COLS) -> str:
    """Redrawn in place (``redraw``: Rich's cursor-up for a frame, carriage return and
    erase-line for one progress line); in what is redrawn, no escapes and no line wider than
    the terminal. Returns the text without Rich's control sequences.

    Notes printed above the live area ("kithara: saved PATH") are lines like any other: the
    terminal may wrap them, and what the encoding lacks there is an escape, as in every
    line kithara prints (a path must stay recoverable)."""
    assert text.count(redraw) >= 10, f"not redrawn in place:\n{text[-3000:]!r}"
    from rich.cells import cell_len

    lines = [line for line in visible_lines(text) if not line.startswith("kithara: ")]
    # (An ASCII locale cannot decode the file name's UTF-8 bytes: the sanitizer shows those
    # as \udcXX on purpose, laid out as the text they are. Only that escape is allowed.)
    escape = re.compile(r"\\u(?!dc[89a-f])[0-9a-f]{4}|\\x[0-9a-f]{2}|\\U[0-9a-f]{8}")
    escaped = [line for line in lines if escape.search(line)]
    assert not escaped, f"written as escapes: {escaped[:3]!r}"
    too_wide = [line for line in lines if cell_len(line) > cells]
    assert not too_wide, f"lines wider than the terminal (it wraps them): {too_wide[:3]!r}"
    return CSI.sub("", text)


@pytest.mark.parametrize("terminal", sorted(NARROW))
def test_play_dashboard_draws_ascii_in_a_narrow_encoding(media: Path, terminal: str) -> None:
    encoding, env = NARROW[terminal]
    args = ["play", str(media / f"{TITLE}.mp3"), "--output", "null", "--length", "3"]
    shown = assert_live_and_fitting(run_on_pty(args, env, encoding))
    assert "-- requests -" in shown and "-- events -" in shown, shown[-3000:]
    assert "Bj" in shown  # the title is there; what the encoding lacks is "?" per cell


@pytest.mark.parametrize("terminal", sorted(NARROW))
@pytest.mark.parametrize("dashboard", [True, False])
def test_fetch_progress_draws_ascii_in_a_narrow_encoding(
    media: Path, tmp_path: Path, terminal: str, dashboard: bool
) -> None:
    encoding, env = NARROW[terminal]
    with MediaServer(media) as srv:
        srv.set_faults("blob.bin", Faults(rate_total=1_000_000))  # ~3 s: many frames
        out = tmp_path / f"blob {TITLE}.bin"  # the progress line's label
        args = ["fetch", srv.url("blob.bin"), "-o", str(out), "-c", "1"]
        text = run_on_pty([*args, *(["--dashboard"] if dashboard else [])], env, encoding)
    # Without --dashboard it is Rich's own progress bar, which has an ASCII look of its own.
    shown = assert_live_and_fitting(text, CURSOR_UP if dashboard else "\r\x1b[2K")
    if dashboard:
        assert "-- requests -" in shown, shown[-3000:]
        assert re.search(r"blob .* ={3,}", shown), shown[-3000:]  # the bar, in ASCII


def test_a_utf8_terminal_keeps_the_unicode_look(media: Path) -> None:
    args = ["play", str(media / f"{TITLE}.mp3"), "--output", "null", "--length", "3"]
    shown = assert_live_and_fitting(run_on_pty(args, {}, "utf-8"))
    assert "── requests ─" in shown and "━" in shown and TITLE in shown, shown[-3000:]
    assert "←/→" in shown


def test_the_ascii_look_is_the_unicode_layout_cell_for_cell() -> None:
    """Every glyph of the ASCII set takes the cells its Unicode one does: the same frame,
    line for line and width for width (the footer's key names aside), all of it ASCII."""
    from rich.cells import cell_len

    from kithara_cli.events.types import (
        AbrDecision,
        BandwidthEstimate,
        BufferLevel,
        LadderInfo,
        PlaybackState,
        Position,
        RequestEnqueued,
        TrackInfo,
    )
    from kithara_cli.ui import glyphs
    from kithara_cli.ui.dashboard import DashboardState, render_dashboard
    from kithara_cli.ui.fetch_dashboard import render_fetch_dashboard

    state = DashboardState(title="t")
    url = "http://127.0.0.1/ladder/master.m3u8"
    state.apply(LadderInfo(variants=((0, 64_000, "mp4a.40.2"), (1, 128_000, "mp4a.40.2"))))
    state.apply(TrackInfo(title="a long title " * 12, url=url, duration=60.0, codec="aac"))
    state.apply(PlaybackState(state="playing"))
    for i in range(30):
        state.apply(RequestEnqueued(request_id=i, url=f"{url}/{i}.ts", priority="demand"))
        state.apply(Position(seconds=i * 0.77, duration=60.0))
        state.apply(BufferLevel(downloaded_ahead=i % 9, decoded_ahead=1.0))
        state.apply(BandwidthEstimate(estimate_bps=1e5 * (1 + i % 5)))
        state.apply(
            AbrDecision(from_variant=0, to_variant=1, reason="buffer", estimate_bps=2e5, buffer=2)
        )
    snap = state.snapshot(1e9)

    def frames() -> list[list[str]]:
        """Each frame's lines as the console gets them (``fold``: event texts' arrows)."""
        out = []
        for width in (40, 80, 100, 130, 200):
            for height in (12, 30, None):
                play = render_dashboard(snap, width, height).plain().splitlines()[:-1]
                fetch = render_fetch_dashboard("f", snap, width, height).plain().splitlines()
                out += [[glyphs.fold(line) for line in play], [glyphs.fold(x) for x in fetch]]
        return out

    unicode = frames()
    assert glyphs.choose("ascii") is glyphs.ASCII
    try:
        ascii_ = frames()
    finally:
        glyphs.choose("utf-8")
    assert glyphs.current() is glyphs.UNICODE
    assert all(line.isascii() for frame in ascii_ for line in frame)
    assert [[cell_len(x) for x in f] for f in unicode] == [[len(x) for x in f] for f in ascii_]
    assert any("━" in line for frame in unicode for line in frame)
