"""Chained Ogg (Vorbis, Opus): each link's title is published once, in order, when its audio
plays, for a finite file and for an endless Icecast-like mount; hostile titles are escaped."""

from __future__ import annotations

import io
import os
import time
import wave
from pathlib import Path

import av
import pytest

from conftest import run_cli
from kithara_cli.media.titles import HOSTILE_TITLES, OggCodec, OggLink, chained_ogg
from kithara_cli.server import MediaServer
from kithara_cli.server.ogg_radio import OggMount, link_headers, ogg_pages
from kithara_cli.server.radio import Station
from radio_fixtures import read_events
from test_injection_pty import assert_clean, run_pty

CODECS: tuple[OggCodec, ...] = ("vorbis", "opus")
LINKS = (
    OggLink("First Song", "Artist A", 1.5),
    OggLink(str(HOSTILE_TITLES[0]), "", 1.2),
    OggLink(str(HOSTILE_TITLES[1]), "Artist C", 1.8),
)
SHOWN = ["Artist A - First Song", HOSTILE_TITLES[0], f"Artist C - {HOSTILE_TITLES[1]}"]
TOLERANCE = 0.1  # seconds of playback between a link's first sample and its title


def link_starts(chain: bytes) -> tuple[list[float], float]:
    """Each link's first sample in the chain's decoded audio (seconds), and the chain's length.

    Decoded as one stream by PyAV, as a player hears it: a Vorbis link after the first keeps
    its first block (1024 samples) that the same link alone would trim, so the chain is not
    the sum of its links decoded one by one. A link starts at its first packet, the one
    FFmpeg marks with the link's comments."""
    starts = [0.0]
    samples = 0
    with av.open(io.BytesIO(chain)) as c:
        for packet in c.demux(c.streams.audio[0]):
            if packet.has_sidedata("strings_metadata") and samples:
                starts.append(samples / 48000)
            samples += sum(f.samples for f in packet.decode())
    return starts, samples / 48000


@pytest.fixture(scope="session")
def ogg_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ogg_titles")
    for codec in CODECS:
        chain = b"".join(chained_ogg(codec, LINKS))
        (root / f"chain_{codec}.ogg").write_bytes(chain)
        starts, total = link_starts(chain)
        assert len(starts) == len(LINKS)
        (root / f"chain_{codec}.starts").write_text(" ".join(map(repr, [*starts, total])))
        untitled = chained_ogg(codec, [OggLink("", "", x.seconds) for x in LINKS])
        (root / f"untitled_{codec}.ogg").write_bytes(b"".join(untitled))
    return root


def _starts(root: Path, codec: str) -> list[float]:
    """Each link's start, then the chain's length (where the loop's next round starts)."""
    return [float(x) for x in (root / f"chain_{codec}.starts").read_text().split()]


def _play(url: str, events: Path, *extra: str) -> tuple[list[dict[str, object]], str]:
    r = run_cli("play", url, "--output", "null", "--no-ui", "--events", str(events), *extra)
    assert r.returncode == 0, r.stderr
    titles = [e for e in read_events(events) if e["event"] == "TitleChanged"]
    return titles, r.stderr


@pytest.mark.parametrize("codec", CODECS)
def test_chained_ogg_file_titles_at_each_link(ogg_root: Path, codec: str, tmp_path: Path) -> None:
    starts = _starts(ogg_root, codec)[:-1]
    with MediaServer(ogg_root) as srv:
        titles, stderr = _play(srv.url(f"chain_{codec}.ogg"), tmp_path / "ev.jsonl")
    assert [t["title"] for t in titles] == SHOWN  # each once, in order
    for t, start in zip(titles, starts, strict=True):
        pos = t["position"]
        assert isinstance(pos, float)
        assert start - 0.005 <= pos <= start + TOLERANCE, (t, start)
    # The plain log shows them escaped: no escape sequence, C1 control or BEL reaches stderr.
    assert "\x1b" not in stderr and "\x9b" not in stderr and "\x07" not in stderr
    assert "\\x1b]52;c;SGVsbG8=\\x07clipboard" in stderr
    assert "[bold red]markup[/bold red] \\x9b2J" in stderr
    # The --events file is JSON: every control character is escaped there too.
    raw = (tmp_path / "ev.jsonl").read_bytes()
    assert b"\x1b" not in raw and b"\x07" not in raw and "\x9b".encode() not in raw


@pytest.mark.parametrize("codec", CODECS)
def test_endless_ogg_mount_titles_as_the_chain_loops(
    ogg_root: Path, codec: str, tmp_path: Path
) -> None:
    """The mount loops the chain: after the last link, the first one's title comes again."""
    data = (ogg_root / f"chain_{codec}.ogg").read_bytes()
    starts = _starts(ogg_root, codec)
    loop = sum(x.seconds for x in LINKS)  # the chain's length to within a frame
    station = Station(
        data, int(len(data) * 8 / loop), content_type="audio/ogg", pace=2, live_edge=False
    )
    with MediaServer(ogg_root) as srv:
        srv.add_radio("mount.ogg", OggMount(station))
        titles, _ = _play(srv.url("mount.ogg"), tmp_path / "ev.jsonl", "--length", "6.0")
    assert [t["title"] for t in titles] == [*SHOWN, SHOWN[0]]
    for t, start in zip(titles, starts, strict=True):
        pos = t["position"]
        assert isinstance(pos, float)
        assert start - 0.005 <= pos <= start + TOLERANCE, (t, start)


def test_mount_joined_mid_link_sends_that_links_headers(ogg_root: Path, tmp_path: Path) -> None:
    """Joining at the live edge, mid-link: the listener gets the link's headers first (as
    Icecast does), so it decodes at once and shows the title on air."""
    data = (ogg_root / "chain_vorbis.ogg").read_bytes()
    pages = ogg_pages(data)
    heads = link_headers(pages)
    assert sum(p.bos for p in pages) == len(LINKS)
    assert len({heads[i] for i in range(len(pages))}) == len(LINKS)
    station = Station(data, int(len(data) * 8 / 4.5), content_type="audio/ogg", pace=1)
    with MediaServer(ogg_root) as srv:
        mount = OggMount(station)
        srv.add_radio("edge.ogg", mount)
        time.sleep(0.5)  # the broadcast is now inside the first link
        titles, _ = _play(srv.url("edge.ogg"), tmp_path / "ev.jsonl", "--length", "1.5")
    assert mount.starts and mount.starts[0] > 0
    assert titles and titles[0]["title"] == SHOWN[0]
    assert float(titles[0]["position"]) < TOLERANCE  # type: ignore[arg-type]


@pytest.mark.parametrize("codec", CODECS)
def test_decoded_audio_same_with_and_without_titles(
    ogg_root: Path, codec: str, tmp_path: Path
) -> None:
    out = {}
    for name in ("chain", "untitled"):
        wav = tmp_path / f"{name}.wav"
        r = run_cli("play", str(ogg_root / f"{name}_{codec}.ogg"), "--output", f"wav:{wav}")
        assert r.returncode == 0, r.stderr
        with wave.open(str(wav)) as w:
            out[name] = w.readframes(w.getnframes())
    assert len(out["chain"]) > 4 * 48000 * 4  # the whole chain, past its first link
    assert out["chain"] == out["untitled"]


def test_no_title_for_a_plain_ogg_without_comments(ogg_root: Path, tmp_path: Path) -> None:
    """A link with neither TITLE nor ARTIST is no title change: nothing is published."""
    ev = tmp_path / f"ev-{os.getpid()}.jsonl"
    r = run_cli(
        "play", str(ogg_root / "untitled_opus.ogg"), "--output", "null", "--events", str(ev)
    )
    assert r.returncode == 0, r.stderr
    assert not [e for e in read_events(ev) if e["event"] == "TitleChanged"]


def test_dashboard_header_shows_link_titles_escaped(ogg_root: Path) -> None:
    """On a real terminal (a pty, Rich's terminal path): the header shows the link on air,
    its markup as text and its escapes as ``\\x..``; no byte of it is obeyed."""
    code, raw = run_pty("play", str(ogg_root / "chain_opus.ogg"), "--output", "null")
    assert code == 0
    shown = assert_clean(raw)
    header = [ln for ln in shown.splitlines() if "playing" in ln and "Artist C - " in ln]
    assert header and "Artist C - [bold red]markup[/bold red] \\x9b2J" in header[-1], header
    assert "\\x1b]52;c;SGVsbG8=\\x07clipboard" in shown
