"""A chained Ogg whose links all reuse one serial number (files made with a fixed serial, as
FFmpeg's bit-exact muxer writes them, joined). FFmpeg demuxes it as links (each link's
comments come on its first packet, the whole chain decodes), but its tail looks like one link:
kithara took the last link's length for the chain's (3.5 s of 9 s), so a seek past it was
clamped and FFmpeg's own seek landed in the wrong link. Now a BOS page after the first link's
pages makes it a chain: titles in order, seeks sample for sample, the true length at its end.
The serial is set through the muxer's ``serial_offset`` option (no page rewritten)."""

from __future__ import annotations

import io
import struct
import threading
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import run_cli
from kithara_cli.audio import Decoder, PcmRing
from kithara_cli.dl import Downloader
from kithara_cli.events import EventBus
from kithara_cli.media.titles import OggCodec, OggLink, chained_ogg
from kithara_cli.play.opening import open_progressive
from kithara_cli.server import MediaServer
from kithara_cli.server.faults import Faults
from radio_fixtures import read_events
from test_ogg_chain_seek import RATE, _drain, _wait, whole_file_pcm
from test_titles_ogg import link_starts

SERIAL = 7
LINKS = (OggLink("One", "A", 1.5), OggLink("Two", "B", 1.2), OggLink("Three", "C", 1.8))
SHOWN = ["A - One", "B - Two", "C - Three"]
# For the seeks, a last link longer than the 64 KB tail read (Vorbis ~4.6 KB/s, Opus ~16): the
# tail then shows no other link, only the page walk from the start finds the chain.
LAST_SECONDS = {"vorbis": 18.0, "opus": 6.0}


def seek_links(codec: str) -> tuple[OggLink, ...]:
    return (
        OggLink("One", "A", 2.0),
        OggLink("Two", "B", 2.0),
        OggLink("Three", "C", LAST_SECONDS[codec]),
    )


CODECS: tuple[OggCodec, ...] = ("vorbis", "opus")


def page_serials(data: bytes) -> list[tuple[int, bool]]:
    """(serial, BOS) of every page, walked by the page lengths."""
    out, pos = [], 0
    while pos + 27 <= len(data):
        assert data[pos : pos + 4] == b"OggS"
        segs = data[pos + 26]
        out.append((struct.unpack_from("<I", data, pos + 14)[0], bool(data[pos + 5] & 2)))
        pos += 27 + segs + sum(data[pos + 27 : pos + 27 + segs])
    return out


@pytest.fixture(scope="session")
def reused_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ogg_reused_serial")
    for codec in CODECS:
        chain = b"".join(chained_ogg(codec, LINKS, serial=SERIAL))
        (root / f"reused_{codec}.ogg").write_bytes(chain)
        starts, total = link_starts(chain)
        (root / f"reused_{codec}.starts").write_text(" ".join(map(repr, [*starts, total])))
        links = chained_ogg(codec, seek_links(codec), serial=SERIAL)
        assert len(links[-1]) > 65536  # the tail read (audio.reader.OGG_TAIL)
        (root / f"long_{codec}.ogg").write_bytes(b"".join(links))
    late = chained_ogg("opus", [OggLink("One", "A", 24.0), OggLink("Two", "B", 6.0)], serial=SERIAL)
    (root / "late_opus.ogg").write_bytes(b"".join(late))
    two = io.BytesIO()  # one link of two multiplexed streams: its BOS pages come together
    with av.open(two, "w", format="ogg") as out:
        streams = [out.add_stream("libopus", rate=48000) for _ in range(2)]
        for st in streams:
            st.layout = "stereo"
        for i in range(50):
            for st in streams:
                frame = av.AudioFrame.from_ndarray(
                    np.zeros((1, 1920), dtype=np.int16), format="s16", layout="stereo"
                )
                frame.sample_rate, frame.pts = 48000, i * 960
                out.mux(st.encode(frame))
        for st in streams:
            out.mux(st.encode(None))
    (root / "two_streams.ogg").write_bytes(two.getvalue())
    return root


@pytest.mark.parametrize("codec", CODECS)
def test_the_fixture_reuses_one_serial_and_ffmpeg_sees_three_links(
    reused_root: Path, codec: str
) -> None:
    from kithara_cli.audio.ogg_chain import walk_pages

    data = (reused_root / f"reused_{codec}.ogg").read_bytes()
    pages = page_serials(data)
    assert {serial for serial, _ in pages} == {SERIAL}
    assert sum(bos for _, bos in pages) == len(LINKS)
    starts = [float(x) for x in (reused_root / f"reused_{codec}.starts").read_text().split()]
    assert len(starts) == len(LINKS) + 1  # FFmpeg marks each link's first packet
    assert walk_pages(data, False)[2]  # a BOS page after the first link's pages
    other = (reused_root / "two_streams.ogg").read_bytes()
    assert sum(bos for _, bos in page_serials(other)) == 2
    assert not walk_pages(other, False)[2]  # two BOS pages together: one link


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("target", [1.0, 4.5])
def test_seek_in_a_reused_serial_chain_gives_the_whole_files_audio(
    reused_root: Path, tmp_path: Path, codec: str, target: float
) -> None:
    """Over HTTP: decoded to the end (its true length), then a seek back into the first and
    into the third link: what plays is the whole file's audio from there, to its end."""
    name = f"long_{codec}.ogg"
    reference = whole_file_pcm((reused_root / name).read_bytes())
    with MediaServer(reused_root) as srv, Downloader(EventBus()) as dl:
        opened = open_progressive(dl, srv.url(name), tmp_path, threading.Event())
        assert opened.progressive is not None
        opened.progressive.playback_started()
        ring = PcmRing(RATE * 30, 2)  # the whole chain: decoded to its end at once
        decoder = Decoder(opened.stream, ring, out_rate=RATE, out_channels=2).start()
        try:
            _wait(decoder.eof.is_set, decoder)
            whole = _drain(ring)
            decoder.seek(target)
            _wait(lambda: decoder.seeks_done == 1 and decoder.eof.is_set(), decoder)
            back = _drain(ring)
        finally:
            decoder.stop()
            assert decoder.join(5)
            opened.progressive.close()
    assert decoder.error is None
    assert len(whole) == len(reference)
    # The true length, not the last link's own (its tail looks like a single link's).
    assert decoder.duration == pytest.approx(len(reference) / RATE, abs=1e-6)
    tail = reference[round(target * RATE) :]
    assert len(back) == len(tail)
    assert np.abs(back - tail).max() < 1e-6


@pytest.mark.parametrize("codec", CODECS)
def test_reused_serial_chain_plays_with_its_titles_in_order(
    reused_root: Path, tmp_path: Path, codec: str
) -> None:
    starts = [float(x) for x in (reused_root / f"reused_{codec}.starts").read_text().split()]
    events = tmp_path / "ev.jsonl"
    with MediaServer(reused_root) as srv:
        r = run_cli(
            "play",
            srv.url(f"reused_{codec}.ogg"),
            "--output",
            "null",
            "--no-ui",
            "--events",
            str(events),
            timeout=40,
        )
    assert r.returncode == 0, r.stderr
    seen = read_events(events)
    titles = [e for e in seen if e["event"] == "TitleChanged"]
    assert [t["title"] for t in titles] == SHOWN
    for title, start in zip(titles[1:], starts[1:-1], strict=True):
        assert title["position"] == pytest.approx(start, abs=0.1)
    # Never the last link's own length (1.8 s): unknown, then the chain's at its end.
    durations = {e["duration"] for e in seen if e["event"] == "Position"} - {None}
    assert all(d == pytest.approx(starts[-1], abs=0.05) for d in durations), durations
    ends = [e for e in seen if e["event"] == "EndOfStream"]
    assert len(ends) == 1 and ends[0]["position"] == pytest.approx(starts[-1], abs=0.05)


def test_a_length_from_the_tail_goes_when_the_download_shows_a_second_link(
    reused_root: Path, tmp_path: Path
) -> None:
    """Over a slow link the tail (fetched aside) comes long before the download reaches the
    second link: its length, the last link's 6 s, shows until then (the limit in
    ``ogg_chain``), then goes. (On main no Ogg length over HTTP showed at all: the player took
    it once, before the tail was read; a player that followed it without letting it go
    again kept 6 s to the end.)"""
    name = "late_opus.ogg"
    size = (reused_root / name).stat().st_size
    assert size > 320_000  # the tail is fetched aside, not with the running request
    events = tmp_path / "ev.jsonl"
    with MediaServer(reused_root) as srv:
        srv.set_faults("*", Faults(rate_per_conn=100_000))  # link 2 from ~3.8 s on
        r = run_cli(
            "play",
            srv.url(name),
            "--output",
            "null",
            "--no-ui",
            "--length",
            "6",
            "--events",
            str(events),
            timeout=40,
        )
    assert r.returncode == 0, r.stderr
    durations = [e["duration"] for e in read_events(events) if e["event"] == "Position"]
    assert durations[-1] is None, durations[-1]
    # What showed before is the last link's length, never another wrong figure.
    assert all(d == pytest.approx(6.0, abs=0.05) for d in set(durations) - {None})
