"""The dashboard's footer names the chapter keys for an item with chapters, and only then.

Found in session 15: PgUp/PgDn (mpv's chapter keys) jump between a podcast's chapters, but the
footer listed only space, the arrows and q, so nobody learnt of them from the screen. Now an
item that has shown a chapter adds "PgUp/PgDn chapter" before "q quit"; a file without, a
radio station, HLS, and the next item of a queue until it shows one, keep the short footer;
where the longer line would not fit the terminal, the short one stays.
"""

from __future__ import annotations

from kithara_cli.events.types import Event, QueueAdvanced, TitleChanged, TrackInfo
from kithara_cli.ui.dashboard_state import DashboardState
from kithara_cli.ui.glyphs import choose
from test_dashboard import screen


def _footer(events: list[Event], width: int = 80) -> str:
    state = DashboardState(wall_offset=0.0)
    for event in events:
        state.apply(event)
    return screen(state.snapshot(1.0), width, 24).rstrip("\n").splitlines()[-1]


def test_the_chapter_keys_show_only_for_an_item_with_chapters() -> None:
    track = TrackInfo(ts=0.1, title="Episode 12", url="http://h/ep12.mp3", duration=3600.0)
    chapter = TitleChanged(ts=0.2, title="News", url="", position=0.0, chapter=True)
    title = TitleChanged(ts=0.2, title="Artist - Song", url="", position=0.0)
    plain = _footer([track, title])
    assert "q quit" in plain and "chapter" not in plain and "PgUp" not in plain
    footer = _footer([track, chapter])
    assert "PgUp/PgDn chapter" in footer and footer.rstrip().endswith("q quit"), footer
    # The next item of a queue starts without them, until it shows a chapter of its own.
    advanced = QueueAdvanced(ts=0.3, index=1, length=2, url="http://h/ep13.mp3")
    assert "PgUp" not in _footer([track, chapter, advanced])
    assert "PgUp" in _footer([track, chapter, advanced, chapter])


def test_the_longer_footer_never_wraps() -> None:
    track = TrackInfo(ts=0.1, title="Episode 12", url="http://h/ep12.mp3", duration=3600.0)
    chapter = TitleChanged(ts=0.2, title="News", url="", position=0.0, chapter=True)
    try:
        for encoding in ("utf-8", "ascii"):
            choose(encoding)
            short = len(_footer([track]).rstrip())
            for width in range(short, 101):
                footer = _footer([track, chapter], width).rstrip()
                assert len(footer) <= width, (width, footer)
                assert footer.endswith("q quit")
            assert "PgUp/PgDn chapter" in _footer([track, chapter], 80)
    finally:
        choose("utf-8")
