"""HLS titles: the ID3 tag at the head of every packed-AAC segment, and timed ID3 in MPEG-TS,
each published once when its audio plays; hostile text escaped; the audio unchanged."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.media import build_packed_audio_stream
from kithara_cli.media.titles import (
    HOSTILE_TITLES,
    build_timed_id3_stream,
    build_titled_packed_stream,
)
from kithara_cli.server import MediaServer
from radio_fixtures import read_events

PACKED_TITLES = ["Opening Theme", HOSTILE_TITLES[2], "Closing"]
PACKED_SHOWN = ["DJ - Opening Theme", "DJ - Café \x1b[2J\x07", "DJ - Closing"]
TS_TITLES = [(0.0, "first"), (2.7, str(HOSTILE_TITLES[0])), (5.3, str(HOSTILE_TITLES[1]))]
AAC_PRIMING = 1024 / 44100  # TS keeps the encoder's priming: tone second s plays at s + this
TOLERANCE = 0.1


@pytest.fixture(scope="session")
def hls_titles_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hls_titles")
    _, starts = build_titled_packed_stream(root, 9.0, PACKED_TITLES, artist="DJ")
    (root / "packed.starts").write_text(" ".join(map(repr, starts)))
    build_titled_packed_stream(root, 9.0, (), name="plain_packed")
    build_timed_id3_stream(root, 8.0, TS_TITLES)
    build_timed_id3_stream(root, 8.0, (), name="plain_ts")
    build_packed_audio_stream(root / "priv_only", 4.0)  # the PRIV timestamp alone: no title
    return root


def _titles(events: Path) -> list[dict[str, object]]:
    return [e for e in read_events(events) if e["event"] == "TitleChanged"]


def _play(url: str, events: Path) -> str:
    r = run_cli("play", url, "--output", "null", "--no-ui", "--events", str(events))
    assert r.returncode == 0, r.stderr
    return r.stderr


def _assert_no_raw_controls(stderr: str, events: Path) -> None:
    assert "\x1b" not in stderr and "\x9b" not in stderr and "\x07" not in stderr
    raw = events.read_bytes()
    assert b"\x1b" not in raw and b"\x07" not in raw and "\x9b".encode() not in raw


def test_packed_aac_titles_from_every_segment(hls_titles_root: Path, tmp_path: Path) -> None:
    """Each segment repeats the title on air: a change is published once, at the start of
    the first segment that carries it (FFmpeg alone reads only the first tag)."""
    starts = [float(x) for x in (hls_titles_root / "packed.starts").read_text().split()]
    ev = tmp_path / "ev.jsonl"
    with MediaServer(hls_titles_root) as srv:
        stderr = _play(srv.url("titled_packed.m3u8"), ev)
    titles = _titles(ev)
    assert [t["title"] for t in titles] == PACKED_SHOWN
    for t, start in zip(titles, starts[::2], strict=True):  # a new title every 2 segments
        pos = float(t["position"])  # type: ignore[arg-type]
        assert start - 0.005 <= pos <= start + TOLERANCE, (t, start)
    _assert_no_raw_controls(stderr, ev)
    assert "DJ - Café \\x1b[2J\\x07" in stderr  # Latin-1 read as such, escapes shown as text


def test_ts_timed_id3_titles_at_their_pts(hls_titles_root: Path, tmp_path: Path) -> None:
    """Timed ID3 sits anywhere in a segment (2.7 s is 0.7 s into the second one): the title
    is published when the audio at its PTS plays."""
    ev = tmp_path / "ev.jsonl"
    with MediaServer(hls_titles_root) as srv:
        stderr = _play(srv.url("timed_id3.m3u8"), ev)
    titles = _titles(ev)
    assert [t["title"] for t in titles] == [title for _, title in TS_TITLES]
    for t, (second, _) in zip(titles, TS_TITLES, strict=True):
        expected = second + AAC_PRIMING
        pos = float(t["position"])  # type: ignore[arg-type]
        assert expected - 0.005 <= pos <= expected + TOLERANCE, (t, expected)
    _assert_no_raw_controls(stderr, ev)
    assert "\\x1b]52;c;SGVsbG8=\\x07clipboard" in stderr
    assert "[bold red]markup[/bold red] \\x9b2J" in stderr  # markup shown, not applied


@pytest.mark.parametrize(
    ("titled", "plain"), [("titled_packed", "plain_packed"), ("timed_id3", "plain_ts")]
)
def test_decoded_audio_unchanged_by_titles(
    hls_titles_root: Path, tmp_path: Path, titled: str, plain: str
) -> None:
    out = {}
    with MediaServer(hls_titles_root) as srv:
        for name in (titled, plain):
            wav = tmp_path / f"{name}.wav"
            r = run_cli("play", srv.url(f"{name}.m3u8"), "--output", f"wav:{wav}", "--no-ui")
            assert r.returncode == 0, r.stderr
            with wave.open(str(wav)) as w:
                out[name] = w.readframes(w.getnframes())
    assert len(out[titled]) > 7 * 44100 * 4
    assert out[titled] == out[plain]


def test_timestamp_only_id3_is_no_title(hls_titles_root: Path, tmp_path: Path) -> None:
    ev = tmp_path / "ev.jsonl"
    with MediaServer(hls_titles_root / "priv_only") as srv:
        _play(srv.url("packed.m3u8"), ev)
    assert not _titles(ev)
