"""Chapters of a podcast episode shown as playback crosses them.

Found in session 15: podcast MP3s carry chapters (ID3v2 CHAP frames, each with a TIT2 title
and a start in ms; a CTOC orders them), and kithara showed none: FFmpeg reads them, but over
HTTP the decoder is started past the ID3 tag (its cover art: session 14), so it never saw
them. Now the decoder's container chapters (a local file, an M4A) and those of a tag it was
started past (read from the tag's bytes once they are in, however large the art) go the way
of radio titles: ``TitleChanged(chapter=True)`` when their audio plays, again after a seek,
the dashboard's header "episode title - chapter", the plain log's CHAPTER line, neutralised.
"""

from __future__ import annotations

import json
import os
import struct
from fractions import Fraction
from pathlib import Path

import pytest

from conftest import play_null, run_cli
from kithara_cli.audio.chapters import Chapter, tag_chapters
from kithara_cli.audio.mp3_frames import id3v2_size
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}
CHAPTERS = [(0, "Cold open"), (700, "News \x1b]52;c;SGk=\x07of the week"), (1400, "Outro")]


def _syncsafe(n: int) -> bytes:
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def _frame(fid: bytes, body: bytes) -> bytes:
    return fid + _syncsafe(len(body)) + b"\0\0" + body


def chapter_tag(chapters: list[tuple[int, str]], end_ms: int, art_bytes: int = 0) -> bytes:
    """An ID3v2.4 tag: a CTOC, a CHAP per (start ms, title) with a TIT2 sub-frame, then (as
    many podcasts have it) a cover picture of ``art_bytes``."""
    ids = [f"ch{n}".encode() for n in range(len(chapters))]
    frames = _frame(b"CTOC", b"toc\0\x03" + bytes([len(ids)]) + b"".join(i + b"\0" for i in ids))
    for n, (start, title) in enumerate(chapters):
        end = chapters[n + 1][0] if n + 1 < len(chapters) else end_ms
        times = struct.pack(">IIII", start, end, 0xFFFFFFFF, 0xFFFFFFFF)
        frames += _frame(
            b"CHAP", ids[n] + b"\0" + times + _frame(b"TIT2", b"\x03" + title.encode())
        )
    if art_bytes:
        picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * (art_bytes // 256)
        frames += _frame(b"APIC", b"\x00image/png\x00\x03\x00" + picture)
    return b"ID3\x04\x00\x00" + _syncsafe(len(frames)) + frames


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``small.mp3``: the chapters and no art; ``big.mp3``: 1 MB of art after them (more than
    the first request fetches before playback starts); ``plain.mp3``: no chapters."""
    root = tmp_path_factory.mktemp("chapters")
    audio = encode_file(root / "plain.mp3", 2.0, "mp3").read_bytes()
    audio = audio[id3v2_size(audio) :]  # (PyAV's muxer writes a small tag of its own)
    (root / "plain.mp3").write_bytes(audio)
    (root / "small.mp3").write_bytes(chapter_tag(CHAPTERS, 2000) + audio)
    (root / "big.mp3").write_bytes(chapter_tag(CHAPTERS, 2000, 1 << 20) + audio)
    _m4a_with_chapters(encode_file(root / "plain.m4a", 2.0, "m4a"), root / "chapters.m4a")
    long = encode_file(root / "long.mp3", 6.0, "mp3").read_bytes()
    marks = [(2000 * n, title) for n, (_, title) in enumerate(CHAPTERS)]
    (root / "long.mp3").write_bytes(chapter_tag(marks, 6000) + long[id3v2_size(long) :])
    return root


def _m4a_with_chapters(source: Path, out_path: Path) -> None:
    """``source``'s AAC remuxed with CHAPTERS (FFmpeg's mp4 muxer: a QuickTime chapter track
    and Nero's chpl, as podcast tools write them)."""
    import av

    marks = [*CHAPTERS, (2000, "")]
    chapters: list[av.container.core.Chapter] = [
        {"id": n, "start": start, "end": marks[n + 1][0], "time_base": Fraction(1, 1000),
         "metadata": {"title": title}}
        for n, (start, title) in enumerate(CHAPTERS)
    ]  # fmt: skip
    with av.open(str(source)) as inp, av.open(str(out_path), "w", format="mp4") as out:
        stream = out.add_stream_from_template(inp.streams.audio[0])
        out.set_chapters(chapters)
        for packet in inp.demux(inp.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)


def _chapter_events(events: Path) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    return [e for e in lines if e["event"] == "TitleChanged" and e.get("chapter")]


def test_tag_chapters_reads_chap_frames(media: Path) -> None:
    head = (media / "big.mp3").read_bytes()
    found = tag_chapters(head[: id3v2_size(head) + 16384])
    assert found == tuple(Chapter(ms / 1000, title) for ms, title in CHAPTERS)
    assert tag_chapters(b"ID3\x04\x00\x00\x00\x00\x00\x00") == ()  # no audio after it
    assert tag_chapters(head[:5000]) == ()  # cut short: none, never an error


@pytest.mark.parametrize("name", ["small.mp3", "big.mp3", "chapters.m4a"])
def test_playing_over_http_shows_each_chapter_as_it_plays(
    media: Path, tmp_path: Path, name: str
) -> None:
    events = tmp_path / "ev.jsonl"
    with MediaServer(media) as srv:
        proc = play_null(srv.url(name), events, length="3")
    assert proc.returncode == 0, proc.stderr
    shown = _chapter_events(events)
    assert [e["title"] for e in shown] == [title for _, title in CHAPTERS]
    # each when playback got there (the first at once), not when the tag was read
    for event, (ms, _) in zip(shown[1:], CHAPTERS[1:], strict=True):
        assert ms / 1000 - 0.05 <= float(event["position"]) <= ms / 1000 + 1.0, shown
    log = [line for line in proc.stderr.splitlines() if " CHAPTER " in line]
    assert len(log) == 3 and log[0].endswith("Cold open")
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr
    assert "News" in log[1] and "of the week" in log[1]


def test_a_local_file_and_a_file_without_chapters(media: Path, tmp_path: Path) -> None:
    """A local file's chapters come from FFmpeg's own reading of the tag (the decoder opens
    it from byte 0); a file with none publishes no chapter."""
    events = tmp_path / "local.jsonl"
    proc = play_null(str(media / "small.mp3"), events, length="3")
    assert proc.returncode == 0, proc.stderr
    assert [e["title"] for e in _chapter_events(events)] == [t for _, t in CHAPTERS]
    plain = tmp_path / "plain.jsonl"
    with MediaServer(media) as srv:
        proc = play_null(srv.url("plain.mp3"), plain, length="3")
    assert proc.returncode == 0, proc.stderr
    assert _chapter_events(plain) == []


def test_a_start_shows_the_chapter_in_force_there(media: Path, tmp_path: Path) -> None:
    """Started at 1.5 s (``--start``) the Outro shows, and only it; the dashboard header
    reads "episode title - chapter"."""
    import re

    from pty_run import read_until_exit, spawn_on_pty

    events = tmp_path / "ev.jsonl"
    with MediaServer(media) as srv:
        url = srv.url("big.mp3")
        proc = run_cli(
            "play", url, "--start", "1.5", "--output", "null", "--no-ui",
            "--events", str(events), env=ENV, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert [e["title"] for e in _chapter_events(events)] == ["Outro"]
        env = {**os.environ, **ENV, "NO_COLOR": "1"}
        child, master = spawn_on_pty(["play", url], cols=100, rows=30, env=env)
        raw = read_until_exit(child, master, 60)
    assert child.wait(10) == 0
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw.decode("utf-8", "replace"))
    for chapter in ("Cold open", "Outro"):  # beside the episode's name, not instead of it
        assert re.search(rf"big\.mp3 . {chapter}", screen), screen[-2000:]


def test_a_recording_lists_the_chapters_in_its_cue(media: Path, tmp_path: Path) -> None:
    """``play --record`` writes what plays from byte 0 (its tag too, so FFmpeg reads the
    chapters) and each chapter becomes a track of FILE.cue, at its own time."""
    out = tmp_path / "episode.mp3"
    with MediaServer(media) as srv:
        proc = run_cli(
            "play", srv.url("big.mp3"), "--output", "null", "--no-ui", "--record", str(out),
            env=ENV, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (media / "big.mp3").read_bytes()
    cue = (tmp_path / "episode.mp3.cue").read_text()
    assert cue.count("TRACK ") == 3 and 'TITLE "Cold open"' in cue and 'TITLE "Outro"' in cue
    assert "INDEX 01 00:00:52" in cue or "INDEX 01 00:00:53" in cue  # 0.7 s: 52.5 CD frames
    assert "\x1b" not in cue and "\x07" not in cue


def test_chapter_targets() -> None:
    from kithara_cli.events import EventBus
    from kithara_cli.play.now_playing import NowPlaying
    from kithara_cli.play.snapshot import Snapshot

    now = NowPlaying(EventBus(), Snapshot())
    assert now.chapter_target(1.0, 1) is None  # no chapters: nowhere to go
    for at, title in ((0.0, "a"), (60.0, "b"), (120.0, "c")):
        now.chapters.add(at, title)
    assert now.chapter_target(10.0, 1) == 60.0
    assert now.chapter_target(59.8, 1) == 120.0  # a seek just short of it: not again
    assert now.chapter_target(125.0, 1) is None
    assert now.chapter_target(70.0, -1) == 60.0  # 10 s in: the start of this one
    assert now.chapter_target(61.0, -1) == 0.0  # just begun: the one before
    assert now.chapter_target(1.0, -1) == 0.0


def test_chapter_keys_seek_to_the_next_and_back(media: Path, tmp_path: Path) -> None:
    """PgDn (or @) seeks to the next chapter's start, PgUp (or !) back to the one before when
    the current one began under 3 s ago (mpv's keys; a CD player's |<<)."""
    import time

    from pty_run import read_until_exit, spawn_on_pty

    events = tmp_path / "ev.jsonl"
    steps = [(b"Cold open", b"\x1b[6~"), (b"News", b"@"), (b"Outro", b"\x1b[5~")]
    done: list[float] = []

    def on_data(raw: bytes) -> None:
        if len(done) < len(steps):
            seen, key = steps[len(done)]
            if seen in raw[-4000:]:  # (shown once its chapter plays, never before)
                os.write(master, key)
                done.append(time.monotonic())
        elif time.monotonic() - done[-1] > 1.0:
            os.write(master, b"q")
            done.append(time.monotonic())

    with MediaServer(media) as srv:
        env = {**os.environ, **ENV, "NO_COLOR": "1"}
        args = ["play", srv.url("long.mp3"), "--events", str(events)]
        child, master = spawn_on_pty(args, cols=100, rows=30, env=env)
        read_until_exit(child, master, 60, on_data)
    assert child.wait(10) == 0
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    seeks = [round(e["target"], 2) for e in lines if e["event"] == "SeekRequested"]
    assert seeks == [2.0, 4.0, 2.0], seeks
    titles = [str(e["title"]) for e in _chapter_events(events)]
    assert titles[:3] == [t for _, t in CHAPTERS] and titles[3].startswith("News"), titles
