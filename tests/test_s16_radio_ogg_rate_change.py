"""An Ogg station whose next track has another sample rate plays on (``radio.ogg_parts``).

A pass-through Icecast source (ices, oggfwd, a playlist of files) makes each track a new
link of the chain, and tracks differ: 44.1 kHz, then 48 kHz. FFmpeg 8 (PyAV's) refuses such
a link: kithara stopped at the first track change with "cannot read the stream:
PatchWelcomeError: Not yet implemented in FFmpeg", exit 5, where mpv and ffplay play on.
Now the decoder reopens at that link: the audio runs on without a gap and each track's
title shows when it starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.media.analysis import decode_pcm, seconds_heard
from kithara_cli.media.titles import OggLink, ogg_link
from kithara_cli.radio.ogg_parts import link_format
from kithara_cli.server import MediaServer
from kithara_cli.server.ogg_radio import OggMount
from kithara_cli.server.radio import Station
from radio_fixtures import read_events

LINKS = ((OggLink("First", "A", 2.0), 44100), (OggLink("Second", "B", 2.0), 48000))
LINKS += ((OggLink("Third", "C", 2.0), 44100),)
SHOWN = ["A - First", "B - Second", "C - Third"]


@pytest.fixture(scope="module")
def mixed_chain() -> bytes:
    out, start = b"", 0.0
    for link, rate in LINKS:
        out += ogg_link("vorbis", link, rate=rate, start=start)
        start += link.seconds
    return out


def _mount(srv: MediaServer, chain: bytes) -> str:
    seconds = sum(link.seconds for link, _ in LINKS)
    station = Station(chain, int(len(chain) * 8 / seconds), content_type="audio/ogg", pace=2)
    srv.add_radio("mixed.ogg", OggMount(station))
    return srv.url("mixed.ogg")


def test_a_track_at_another_rate_plays_on_with_its_title(
    mixed_chain: bytes, tmp_path: Path
) -> None:
    events = tmp_path / "ev.jsonl"
    with MediaServer(tmp_path) as srv:
        url = _mount(srv, mixed_chain)
        args = ("--output", "null", "--no-ui", "--length", "5.5", "--events", str(events))
        proc = run_cli("play", url, *args, env={"KITHARA_CACHE": "off"}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "PatchWelcome" not in proc.stderr and "Traceback" not in proc.stderr
    titles = [e for e in read_events(events) if e["event"] == "TitleChanged"]
    assert [t["title"] for t in titles] == SHOWN
    for t, start in zip(titles, (0.0, 2.0, 4.0), strict=True):
        assert start - 0.05 <= float(t["position"]) <= start + 0.3, titles  # type: ignore[arg-type]


def test_the_audio_runs_on_across_the_rate_change(mixed_chain: bytes, tmp_path: Path) -> None:
    wav = tmp_path / "out.wav"
    with MediaServer(tmp_path) as srv:
        url = _mount(srv, mixed_chain)
        args = ("--output", f"wav:{wav}", "--no-ui", "--length", "5.5")
        proc = run_cli("play", url, *args, env={"KITHARA_CACHE": "off"}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    pcm, rate = decode_pcm(wav)
    assert len(pcm) == pytest.approx(5.5 * rate, abs=rate * 0.05)
    heard = seconds_heard(pcm, rate, window=0.5)
    # The stepped tone's second, half a second at a time: no gap, nothing twice.
    assert heard == [i // 2 for i in range(len(heard))], heard


def test_link_format_tells_rates_apart_and_not_titles() -> None:
    def head(codec: str, title: str, rate: int) -> bytes | None:
        data = ogg_link(codec, OggLink(title, "", 0.1), rate=rate)  # type: ignore[arg-type]
        at = 27 + data[26]  # the BOS page's body: its one packet, the identification
        return link_format(data[at : at + data[27]])

    assert head("vorbis", "x", 44100) != head("vorbis", "x", 48000)
    assert head("vorbis", "x", 48000) == head("vorbis", "other title", 48000) is not None
    assert head("opus", "x", 48000) == head("opus", "y", 48000) is not None
    assert link_format(b"\x80theora....................................") is None
