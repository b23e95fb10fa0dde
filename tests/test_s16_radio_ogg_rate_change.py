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
    rate = int(len(chain) * 8 / seconds)
    station = Station(chain, rate, content_type="audio/ogg", pace=2, live_edge=False)
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


def test_a_reconnect_mid_page_does_not_stop_the_parts(mixed_chain: bytes, tmp_path: Path) -> None:
    """A drop cuts a page; the reconnect starts with a link's headers (here the first
    link's again): the pages are found again where that connection starts, and the next
    rate change is still a part of its own."""
    events = tmp_path / "ev.jsonl"
    seconds = sum(link.seconds for link, _ in LINKS)
    station = Station(
        mixed_chain,
        int(len(mixed_chain) * 8 / seconds),
        content_type="audio/ogg",
        pace=3,  # (to a WAV file, unpaced: 7.5 s of audio in 2.5 s)
        drop_after_bytes=len(mixed_chain) // 4 + 333,  # 1.5 s into the first link, mid-page
        drop_times=1,
        live_edge=False,
    )
    with MediaServer(tmp_path) as srv:
        srv.add_radio("drop.ogg", OggMount(station))
        wav = f"wav:{tmp_path / 'out.wav'}"
        args = ("--output", wav, "--no-ui", "--length", "7.5", "--events", str(events))
        proc = run_cli("play", srv.url("drop.ogg"), *args, env={"KITHARA_CACHE": "off"})
    assert proc.returncode == 0, proc.stderr
    kinds = [e["event"] for e in read_events(events)]
    assert "StreamGap" in kinds, kinds
    titles = [e["title"] for e in read_events(events) if e["event"] == "TitleChanged"]
    assert "B - Second" in titles and "C - Third" in titles, titles


def test_a_reconnect_into_a_link_at_another_rate_is_a_new_part(
    mixed_chain: bytes, tmp_path: Path
) -> None:
    """The drop cuts a page of one link and the reconnect, at the live edge, starts with
    the headers of the next link, at another rate: the cut page's rest is not looked for
    past the connection's start, so that link's first page is seen and starts a part."""
    events = tmp_path / "ev.jsonl"
    seconds = sum(link.seconds for link, _ in LINKS)
    per_second = len(mixed_chain) / seconds
    station = Station(
        mixed_chain,
        int(per_second * 8),
        content_type="audio/ogg",
        drop_after_bytes=int(per_second * 1.9),  # the edge is then ~2.3 s in: the 48k link
        drop_times=1,
    )
    with MediaServer(tmp_path) as srv:
        srv.add_radio("edge.ogg", OggMount(station))
        args = ("--output", "null", "--no-ui", "--length", "4", "--events", str(events))
        proc = run_cli("play", srv.url("edge.ogg"), *args, env={"KITHARA_CACHE": "off"})
    assert proc.returncode == 0, proc.stderr
    assert "PatchWelcome" not in proc.stderr
    assert "StreamGap" in [e["event"] for e in read_events(events)]
