"""``play --record FILE`` of a chained Ogg stream and of HLS with ID3 titles: the CUE sheet
lists each title at its time in the recording (the titles reach the recording as the
``TitleChanged`` events published when their audio plays)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.media.titles import (
    OggLink,
    build_timed_id3_stream,
    build_titled_packed_stream,
    chained_ogg,
)
from kithara_cli.radio.record import RecordedTitle, cue_sheet
from kithara_cli.server import MediaServer

LINKS = (OggLink("One", "A", 1.5), OggLink("Two", "B", 1.2), OggLink("Three", "C", 1.8))
TS_TITLES = [(0.0, "first"), (2.7, "second"), (5.3, "third")]
AAC_PRIMING = 1024 / 44100  # TS keeps the encoder's priming: tone second s plays at s + this
TOLERANCE = 0.1


@pytest.fixture(scope="module")
def rec_titles_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("titles_record")
    (root / "chain.ogg").write_bytes(b"".join(chained_ogg("opus", LINKS)))
    build_timed_id3_stream(root, 7.0, TS_TITLES)
    _, starts = build_titled_packed_stream(root, 6.0, ["P1", "P2"], artist="DJ")
    (root / "packed.starts").write_text(" ".join(map(repr, starts)))
    return root


def cue_tracks(cue: Path) -> list[tuple[str, float]]:
    """(TITLE or "", INDEX 01 in seconds) of each track of a CUE sheet."""
    tracks: list[tuple[str, float]] = []
    title = ""
    for line in cue.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("TRACK"):
            title = ""
        elif line.startswith("TITLE"):
            title = line.split('"')[1]
        elif m := re.fullmatch(r"INDEX 01 (\d+):(\d+):(\d+)", line):
            mm, ss, ff = (int(x) for x in m.groups())
            tracks.append((title, mm * 60 + ss + ff / 75))
    return tracks


def _record(url: str, out: Path) -> list[tuple[str, float]]:
    r = run_cli("play", url, "--output", "null", "--no-ui", "--record", str(out), timeout=60)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 0
    return cue_tracks(out.with_name(out.name + ".cue"))


def _assert_at(tracks: list[tuple[str, float]], expected: list[tuple[str, float]]) -> None:
    assert [t for t, _ in tracks] == [t for t, _ in expected]
    for (title, at), (_, want) in zip(tracks, expected, strict=True):
        assert want - 0.02 <= at <= want + TOLERANCE, (title, at, want)


def test_chained_ogg_recording_lists_each_link(rec_titles_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "rec.ogg"
    with MediaServer(rec_titles_root) as srv:
        tracks = _record(srv.url("chain.ogg"), out)
    # The first link's title is track 1 from 00:00:00 (not a blank track before it).
    _assert_at(tracks, [("A - One", 0.0), ("B - Two", 1.5), ("C - Three", 2.7)])
    assert out.read_bytes() == (rec_titles_root / "chain.ogg").read_bytes()


def test_hls_timed_id3_recording_lists_each_tag(rec_titles_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "rec.ts"
    with MediaServer(rec_titles_root) as srv:
        tracks = _record(srv.url("timed_id3.m3u8"), out)
    _assert_at(tracks, [(title, at + AAC_PRIMING if at else 0.0) for at, title in TS_TITLES])


def test_hls_packed_recording_lists_each_title(rec_titles_root: Path, tmp_path: Path) -> None:
    starts = [float(x) for x in (rec_titles_root / "packed.starts").read_text().split()]
    out = tmp_path / "rec.aac"
    with MediaServer(rec_titles_root) as srv:
        tracks = _record(srv.url("titled_packed.m3u8"), out)
    _assert_at(tracks, [("DJ - P1", 0.0), ("DJ - P2", starts[2])])


def test_cue_sheet_first_title_late_keeps_an_untitled_first_track() -> None:
    sheet = cue_sheet("r.mp3", [RecordedTitle(0.02, "soon"), RecordedTitle(3.0, "next")])
    assert "TRACK 02" in sheet and "TRACK 03" not in sheet  # "soon" is track 1, at 0
    assert '    TITLE "soon"\n    PERFORMER' not in sheet
    assert sheet.splitlines()[1:4] == [
        "  TRACK 01 AUDIO",
        '    TITLE "soon"',
        "    INDEX 01 00:00:00",
    ]
    late = cue_sheet("r.mp3", [RecordedTitle(2.0, "late")])
    assert late.splitlines()[1:3] == ["  TRACK 01 AUDIO", "    INDEX 01 00:00:00"]
    assert '    TITLE "late"' in late and "INDEX 01 00:02:00" in late
