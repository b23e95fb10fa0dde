"""``kithara play --length N``: a title that begins in the last poll before N is shown
(session 16).

Found here: when the length was reached the player ended without one last title check, so
a title (a chained Ogg's next link, an ICY title, a chapter) starting within the final poll
interval (20 ms at real time; more to a WAV file, drained as fast as it decodes) never
showed: a chain whose second link starts at 2.0 s, played for 2.001 s, showed only the
first title (0 of 8 runs showed the second; 8 of 8 now, to null and to WAV alike).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.media.titles import OggLink, ogg_link
from radio_fixtures import read_events


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data, start = b"", 0.0
    for link in (OggLink("First", "A", 2.0), OggLink("Second", "B", 2.0)):
        data += ogg_link("vorbis", link, rate=44100, start=start)
        start += link.seconds
    path = tmp_path_factory.mktemp("length-title") / "chain.ogg"
    path.write_bytes(data)
    return path


def test_a_title_starting_just_before_the_length_is_shown(chain: Path, tmp_path: Path) -> None:
    events = tmp_path / "ev.jsonl"
    wav = f"wav:{tmp_path / 'out.wav'}"  # unpaced: the last poll lands well past 2.0 s
    args = ("--output", wav, "--no-ui", "--length", "2.001", "--events", str(events))
    proc = run_cli("play", str(chain), *args, env={"KITHARA_CACHE": "off"})
    assert proc.returncode == 0, proc.stderr
    titles = [e["title"] for e in read_events(events) if e["event"] == "TitleChanged"]
    assert titles == ["A - First", "B - Second"], titles
