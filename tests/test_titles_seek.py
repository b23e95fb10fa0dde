"""After a seek, the title of what now plays is published once: seeking back into an earlier
chained-Ogg link (whose comment header is not read again) or into an HLS TS segment with no
tag of its own (the timed ID3 that holds there sat in an earlier segment); and ``--start``
into a later link shows that link, not the first one's title."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli
from kithara_cli.dl import Downloader
from kithara_cli.events import EventBus, event_to_dict
from kithara_cli.media.titles import OggLink, build_timed_id3_stream, chained_ogg
from kithara_cli.play import Player, PlayerSettings
from kithara_cli.server import MediaServer
from radio_fixtures import read_events

LINKS = (OggLink("One", "A", 1.5), OggLink("Two", "B", 1.2), OggLink("Three", "C", 1.8))
SHOWN = ["A - One", "B - Two", "C - Three"]
TS_TITLES = [(0.0, "first"), (2.7, "second"), (5.3, "third")]  # 2 s segments
TOLERANCE = 0.1


@pytest.fixture(scope="session")
def seek_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("titles_seek")
    (root / "chain.ogg").write_bytes(b"".join(chained_ogg("vorbis", LINKS)))
    build_timed_id3_stream(root, 8.0, TS_TITLES)
    return root


class Recorded:
    """The session's events, as dicts, in order (the bus publishes from several threads)."""

    def __init__(self, bus: EventBus) -> None:
        self.lock = threading.Lock()
        self.events: list[dict[str, Any]] = []
        bus.subscribe(self._add)

    def _add(self, event: Any) -> None:
        with self.lock:
            self.events.append(event_to_dict(event))

    def titles_after(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            events = list(self.events)
        at = max(i for i, e in enumerate(events) if e["event"] == name)
        return [e for e in events[at:] if e["event"] == "TitleChanged"]

    def played_since_seek(self) -> float:
        """The last Position after SeekCompleted (-1 before it)."""
        with self.lock:
            events = list(self.events)
        done = [i for i, e in enumerate(events) if e["event"] == "SeekCompleted"]
        if not done:
            return -1.0
        positions = [e["seconds"] for e in events[done[-1] :] if e["event"] == "Position"]
        return positions[-1] if positions else -1.0

    def titles(self) -> list[str]:
        with self.lock:
            return [e["title"] for e in self.events if e["event"] == "TitleChanged"]


def _seek_back(url: str, shown: str, target: float, until: float) -> tuple[Recorded, Player]:
    """Play ``url`` until ``shown`` is on air, seek to ``target``, play to second ``until``."""
    bus = EventBus()
    seen = Recorded(bus)
    with Downloader(bus) as dl:
        player = Player(bus, PlayerSettings(output="null"), dl)
        try:
            player.open(url)
            deadline = time.monotonic() + 30
            while player.snapshot.now_playing != shown:
                assert not player.ended and time.monotonic() < deadline, seen.titles()
                time.sleep(0.01)
            player.seek_to(target)
            # (``snapshot.position`` is the one before the seek until the next tick: the
            # Position events after SeekCompleted tell where playback is.)
            while not player.ended and seen.played_since_seek() < until:
                assert time.monotonic() < deadline, seen.titles()
                time.sleep(0.01)
            assert player.error is None, player.error
        finally:
            player.close()
    return seen, player


def test_seek_back_into_an_earlier_ogg_link_shows_its_title(seek_root: Path) -> None:
    with MediaServer(seek_root) as srv:
        seen, player = _seek_back(srv.url("chain.ogg"), SHOWN[2], 0.5, 1.65)
    assert seen.titles()[:3] == SHOWN  # as played the first time
    after = seen.titles_after("SeekRequested")
    # The first link's title right after the seek (its header is not read again), then the
    # next link's once as it plays again: no repeats. (Played only to 1.65 s: after a seek
    # in a chained Ogg, FFmpeg's demuxer loses the chain and playback ends at 1.8 s, the
    # last link's own length -- on main too; a decoder matter, not the titles'.)
    assert [t["title"] for t in after] == SHOWN[:2]
    assert 0.5 - TOLERANCE <= after[0]["position"] <= 0.5 + TOLERANCE, after[0]
    assert 1.5 - 0.005 <= after[1]["position"] <= 1.5 + TOLERANCE, after[1]
    assert player.snapshot.now_playing == SHOWN[1]


def test_seek_back_within_hls_shows_the_tag_of_an_earlier_segment(seek_root: Path) -> None:
    """Second 4.5 is in segment 2 ([4, 6)), whose only tag is at 5.3: the title in force
    there came from segment 1's tag at 2.7, which the new run does not fetch again."""
    with MediaServer(seek_root) as srv:
        seen, player = _seek_back(srv.url("timed_id3.m3u8"), "third", 4.5, 6.0)
        requests = len(srv.stats.requests("timed_id3_00001.ts"))
    assert seen.titles()[:3] == ["first", "second", "third"]
    assert requests == 1  # segment 1 was not fetched again for its tag
    after = seen.titles_after("SeekRequested")
    assert [t["title"] for t in after] == ["second", "third"]
    assert 4.5 - TOLERANCE <= after[0]["position"] <= 4.5 + TOLERANCE, after[0]
    assert player.snapshot.now_playing == "third"


def test_seek_back_into_a_segment_fetched_again_repeats_nothing(seek_root: Path) -> None:
    """Segment 1 ([2, 4)) is fetched again and brings its tag at 2.7 again: one event."""
    with MediaServer(seek_root) as srv:
        seen, _ = _seek_back(srv.url("timed_id3.m3u8"), "third", 2.2, 5.6)
        requests = len(srv.stats.requests("timed_id3_00001.ts"))
    assert requests == 2
    after = seen.titles_after("SeekRequested")
    assert [t["title"] for t in after] == ["first", "second", "third"]


def test_seek_before_any_known_title_clears_the_shown_one(seek_root: Path, tmp_path: Path) -> None:
    """An HLS stream whose first tag is at 2.7 s: seeking back to 1.0 s shows no title (an
    empty one, "no title") rather than keeping the later one up."""
    root = tmp_path / "late"
    build_timed_id3_stream(root, 6.0, [(2.7, "late")], name="late")
    with MediaServer(root) as srv:
        seen, player = _seek_back(srv.url("late.m3u8"), "late", 1.0, 1.5)
    after = seen.titles_after("SeekRequested")
    assert [t["title"] for t in after] == [""]
    assert player.snapshot.now_playing == ""


@pytest.mark.parametrize(("start", "shown"), [(2.0, SHOWN[1:]), (3.5, SHOWN[2:])])
def test_start_in_a_later_ogg_link_shows_that_link(
    seek_root: Path, tmp_path: Path, start: float, shown: list[str]
) -> None:
    """``--start`` decodes the chain from its start (FFmpeg cannot seek a chained Ogg) and
    drops: the links passed are not announced, and the first link's tags, read at open, are
    not taken for the link the playback starts in."""
    ev = tmp_path / "ev.jsonl"
    r = run_cli(
        "play", str(seek_root / "chain.ogg"), "--start", str(start), "--output", "null",
        "--no-ui", "--events", str(ev),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    titles = [e for e in read_events(ev) if e["event"] == "TitleChanged"]
    assert [t["title"] for t in titles] == shown
    assert start - 0.005 <= titles[0]["position"] <= start + TOLERANCE
