"""An Ogg station at the live edge: the title of a link at another rate is shown.

Session 16 plays an Ogg station on across a link at another sample rate (``radio.ogg_parts``:
the decoder opens the next part where the last ended, the link's title coming with the
opened stream's metadata). Where playback is at the live edge (a station at real time with
no burst on connect, any underrun at a link's start, or ``--output wav:FILE``, which drains
as fast as audio comes) it drains to exactly the part's end while the next part opens, so
the title is added at the very second the player's title queue had already given out to:
it was passed over (at real time the third link's title never showed, the second's stayed
up; to a WAV file only the first showed). A title added at or behind what was given out,
and in force there, is now given next.
"""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli
from kithara_cli.media.titles import OggLink, ogg_link
from kithara_cli.radio.titles import TitleQueue
from kithara_cli.server import MediaServer
from kithara_cli.server.ogg_radio import OggMount
from kithara_cli.server.radio import Station
from radio_fixtures import read_events

LINKS = ((OggLink("First", "A", 2.0), 44100), (OggLink("Second", "B", 2.0), 48000))
LINKS += ((OggLink("Third", "C", 2.0), 44100),)
SHOWN = ["A - First", "B - Second", "C - Third"]


def test_a_title_added_at_the_second_already_played_is_given() -> None:
    queue = TitleQueue()
    queue.add(0.0, "A")
    assert [t.title for t in queue.due(0.5)] == ["A"]
    assert queue.due(2.0) == []  # playback drained to 2.0: the next part is opening
    queue.add(2.0, "C")  # its title, at the second already given out to
    assert [t.title for t in queue.due(2.0)] == ["C"]
    assert queue.due(2.5) == []
    queue.add(1.0, "B")  # behind a title that was given since: not in force, not shown
    assert queue.due(3.0) == []


def test_every_link_s_title_shows_when_playback_is_at_the_live_edge(tmp_path: Path) -> None:
    chain, start = b"", 0.0
    for link, rate in LINKS:
        chain += ogg_link("vorbis", link, rate=rate, start=start)
        start += link.seconds
    rate = int(len(chain) * 8 / start)
    station = Station(chain, rate, content_type="audio/ogg", pace=3, live_edge=False)
    events = tmp_path / "ev.jsonl"
    with MediaServer(tmp_path) as srv:
        srv.add_radio("edge.ogg", OggMount(station))
        wav = f"wav:{tmp_path / 'out.wav'}"  # unpaced: playback is always at the live edge
        args = ("--output", wav, "--no-ui", "--length", "5.5", "--events", str(events))
        proc = run_cli("play", srv.url("edge.ogg"), *args, env={"KITHARA_CACHE": "off"})
    assert proc.returncode == 0, proc.stderr
    titles = [e["title"] for e in read_events(events) if e["event"] == "TitleChanged"]
    assert titles == SHOWN, titles
