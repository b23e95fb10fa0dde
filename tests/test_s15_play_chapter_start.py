"""``play --start=#N``: start at chapter N, as mpv's ``--start=#N`` does.

Found in session 15: podcasts carry chapters and kithara shows and jumps between them, but
``--start`` took only a time ("bad time '#2'", exit 2). The chapters are known only once the
decoder has opened the media (over HTTP an MP3's tag, cover art and all, is otherwise skipped
and read later), so the start is a deferred seek with the output held until it lands: the
first sample heard is the chapter's. Past the last chapter (mpv 0.35 plays from the start,
silently): one line and exit 2, as ``--start`` past the end.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.audio.mp3_frames import id3v2_size
from kithara_cli.errors import UsageError
from kithara_cli.media.analysis import decode_pcm, seconds_heard
from kithara_cli.media.encode import encode_file
from kithara_cli.play.settings import Start, parse_start
from kithara_cli.server import MediaServer
from test_s15_podcast_chapters import chapter_tag

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}
MARKS = [(0, "Cold open"), (2000, "News"), (4000, "Outro")]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s of the stepped tone (second k at its own pitch) with chapters at 0, 2 and 4 s:
    ``art.mp3`` with 1 MB of cover art after them (the tag a play from 0 skips);
    ``chapters.m4a`` (FFmpeg's chapter track and chpl); ``plain.mp3`` with none."""
    root = tmp_path_factory.mktemp("chapter-start")
    audio = encode_file(root / "plain.mp3", 6.0, "mp3").read_bytes()
    audio = audio[id3v2_size(audio) :]
    (root / "plain.mp3").write_bytes(audio)
    (root / "art.mp3").write_bytes(chapter_tag(MARKS, 6000, 1 << 20) + audio)
    _m4a_with_chapters(encode_file(root / "plain.m4a", 6.0, "m4a"), root / "chapters.m4a")
    return root


def _m4a_with_chapters(source: Path, out_path: Path) -> None:
    """``source``'s AAC remuxed with MARKS (FFmpeg's mp4 muxer: a QuickTime chapter track
    and Nero's chpl, as podcast tools write them)."""
    import av

    ends = [start for start, _ in MARKS[1:]] + [6000]
    chapters: list[av.container.core.Chapter] = [
        {"id": n, "start": start, "end": ends[n], "time_base": Fraction(1, 1000),
         "metadata": {"title": title}}
        for n, (start, title) in enumerate(MARKS)
    ]  # fmt: skip
    with av.open(str(source)) as inp, av.open(str(out_path), "w", format="mp4") as out:
        stream = out.add_stream_from_template(inp.streams.audio[0])
        out.set_chapters(chapters)
        for packet in inp.demux(inp.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)


def test_parse_start() -> None:
    assert parse_start("#3") == Start(chapter=3)
    assert parse_start(" #12 ") == Start(chapter=12)
    assert parse_start("1:30") == Start(seconds=90.0)
    assert parse_start(None) == Start()
    for bad in ("#0", "#", "#-1", "#+2", "#1.5", "# 2", "#x"):
        with pytest.raises(UsageError, match="chapter"):
            parse_start(bad)
    with pytest.raises(UsageError, match="#CHAPTER"):
        parse_start("soon")


def _play(target: str, tmp_path: Path, *args: str) -> tuple[int, str, list[dict[str, object]]]:
    events = tmp_path / "ev.jsonl"
    proc = run_cli(
        "play", target, "--no-ui", "--events", str(events), *args, env=ENV, timeout=60
    )  # fmt: skip
    lines = events.read_text().splitlines() if events.exists() else []
    return proc.returncode, proc.stderr, [json.loads(line) for line in lines]


@pytest.mark.parametrize("where", ["http art.mp3", "local art.mp3"])
def test_start_at_a_chapter_plays_it_from_its_first_sample(
    media: Path, tmp_path: Path, where: str
) -> None:
    """What the output gets is chapter 2's audio from its start (the tone's second 2, then
    3): nothing of second 0 before the seek landed. Its chapter is the one shown (in real
    time: a wav: output may be done before a title is polled)."""
    kind, name = where.split()
    wav = tmp_path / "out.wav"
    with MediaServer(media) as srv:
        target = srv.url(name) if kind == "http" else str(media / name)
        args = ("--start=#2", "--length", "1.5")
        code, stderr, events = _play(target, tmp_path, *args, "--output", f"wav:{wav}")
        assert code == 0, stderr
        code, stderr, events = _play(target, tmp_path, "--start=#2", "--output", "null")
    assert code == 0, stderr
    pcm, rate = decode_pcm(wav)
    assert seconds_heard(pcm[: rate // 10], rate, 0.1) == [2]  # its first 0.1 s
    assert seconds_heard(pcm, rate, 0.5)[:3] == [2, 2, 3]
    chapters = [e["title"] for e in events if e["event"] == "TitleChanged" and e.get("chapter")]
    assert chapters == ["News", "Outro"], chapters
    assert not any(e["event"] == "SeekRequested" for e in events)  # a start, not a seek


def test_an_m4a_chapter_over_http(media: Path, tmp_path: Path) -> None:
    wav = tmp_path / "out.wav"
    with MediaServer(media) as srv:
        code, stderr, _ = _play(
            srv.url("chapters.m4a"),
            tmp_path,
            "--start=#3",
            "--output",
            f"wav:{wav}",
            "--length",
            "1",
        )
    assert code == 0, stderr
    pcm, rate = decode_pcm(wav)
    assert seconds_heard(pcm, rate, 0.5)[:2] == [4, 4]


def test_no_such_chapter_is_one_line_and_exit_2(media: Path, tmp_path: Path) -> None:
    with MediaServer(media) as srv:
        code, stderr, events = _play(srv.url("art.mp3"), tmp_path, "--start=#4", "--output", "null")
        assert code == 2, stderr
        assert stderr.strip().splitlines() == [
            "kithara: error: --start #4: no such chapter, the media has 3 chapters"
        ]
        assert not any(e["event"] == "PlaybackStarted" for e in events)
        code, stderr, _ = _play(srv.url("plain.mp3"), tmp_path, "--start=#1", "--output", "null")
        assert code == 2, stderr
        assert stderr.strip().endswith("no such chapter, the media has none"), stderr
        # In a queue the item fails with a warning and the next plays from its start.
        urls = (srv.url("plain.mp3"), srv.url("art.mp3"))
        code, stderr, events = _play(
            urls[0], tmp_path, urls[1], "--start=#2", "--output", "null", "--length", "0.3"
        )
    assert code == 2, stderr
    assert "item 1 of 2 failed (--start #2: no such chapter" in stderr, stderr
    assert [e["title"] for e in events if e["event"] == "TitleChanged"][:1] == ["Cold open"]
