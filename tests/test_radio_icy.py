"""ICY metadata: blocks stripped whatever the chunking, titles parsed, audio unchanged."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

import radio_fixtures
from conftest import run_cli
from kithara_cli.radio.icy import IcyDemux, parse_metadata, station_info
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station, _Broadcast
from radio_fixtures import BITRATE

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3


def test_parse_metadata_quotes_latin1_and_url() -> None:
    assert parse_metadata(b"StreamTitle='It's Me - A;B';StreamUrl='http://x/';\0\0") == {
        "StreamTitle": "It's Me - A;B",
        "StreamUrl": "http://x/",
    }
    assert parse_metadata("StreamTitle='Café';".encode("latin-1"))["StreamTitle"] == "Café"
    assert parse_metadata("StreamTitle='Café';".encode())["StreamTitle"] == "Café"
    assert parse_metadata(b"StreamTitle='';") == {"StreamTitle": ""}
    assert parse_metadata(b"garbage") == {}


def test_station_info_from_headers() -> None:
    info = station_info({"icy-name": "R", "icy-br": "128", "icy-metaint": "8192"})
    assert (info.name, info.bitrate_kbps, info.metaint, info.is_icy) == ("R", 128, 8192, True)
    assert station_info({"icy-metaint": "0"}).metaint is None
    assert not station_info({}).is_icy


@pytest.mark.parametrize("chunk", [1, 7, 999, 1000, 1001, 65536])
def test_demux_any_chunking(radio_mp3: bytes, chunk: int) -> None:
    station = Station(radio_mp3, BITRATE, metaint=1000, titles=["a", "b'c"], title_every=2500)
    body = _Broadcast(station, 0, with_meta=True).read(60_000)
    demux = IcyDemux(1000)
    audio = bytearray()
    titles = []
    for i in range(0, len(body), chunk):
        a, t = demux.feed(body[i : i + chunk])
        audio += a
        titles += t
    assert bytes(audio) == radio_mp3[: len(audio)]
    assert [(t.offset, t.title) for t in titles][:3] == [(1000, "a"), (3000, "b'c"), (5000, "a")]


def _wav_samples(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


def test_decoded_audio_with_blocks_equals_without(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    """kithara asks for metadata; the audio it plays equals the plain file's."""
    station = Station(
        radio_mp3,
        BITRATE,
        pace=0,
        metaint=977,
        titles=["x", "y"],
        title_every=5000,
        live_edge=False,
    )
    with MediaServer(radio_root) as srv:
        route = srv.add_radio("meta.mp3", station)
        with_meta, plain = tmp_path / "meta.wav", tmp_path / "plain.wav"
        for url, out in ((srv.url("meta.mp3"), with_meta), (srv.url("tone.mp3"), plain)):
            r = run_cli("play", url, "--output", f"wav:{out}", "--length", "4", timeout=30)
            assert r.returncode == 0, r.stderr
        assert route.meta_connections == 1  # the blocks were asked for, and came
    a, b = _wav_samples(with_meta), _wav_samples(plain)
    n = min(len(a), len(b))
    assert n > 48_000 * 2 * 3
    assert np.array_equal(a[:n], b[:n])


def test_hostile_titles_never_reach_the_dashboard_raw() -> None:
    """Station and titles go through the dashboard's header and log escaped, never obeyed."""
    from kithara_cli.events.types import QueueAdvanced, StationDetails, TitleChanged
    from kithara_cli.ui.dashboard import render_dashboard
    from kithara_cli.ui.dashboard_state import DashboardState

    state = DashboardState()
    state.apply(QueueAdvanced(index=1, length=3, url="http://x/\x1b]0;pwned\x07"))
    state.apply(StationDetails(name="\x1b[31mEvil FM\x9b2J", genre="[bold]g[/bold]"))
    state.apply(TitleChanged(title="\x1b]52;c;SGVsbG8=\x07 - [red]song[/red]", position=1.0))
    frame = render_dashboard(state.snapshot(state.wall_offset), 140, 40).plain()
    header = frame.splitlines()[0]
    assert "\x1b" not in frame and "\x9b" not in frame and "\x07" not in frame
    assert "[2/3]" in header and "\\x1b[31mEvil FM\\x9b2J" in header
    assert "\\x1b]52;c;SGVsbG8=\\x07 - [red]song[/red]" in frame  # markup shown as text
