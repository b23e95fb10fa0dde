"""``kithara fetch`` of HLS, end to end: the CLI against a real loopback server and PyAV media.

Every fetched file is decoded back: its duration and the tone heard in each second must match
the source, so a misplaced, duplicated or undecrypted segment fails the test.
"""

from __future__ import annotations

import json
import random
import signal
from pathlib import Path

import av
import pytest

import hls_fixtures
from hls_fixtures import (
    AES_KEY,
    RATE,
    SECONDS,
    HlsMedia,
    assert_nothing_written,
    assert_one_line_error,
    assert_tone,
    concat,
    decode,
    expected_bytes,
    fetch,
    play,
    playlist_text,
    popen_fetch,
    segments_written,
    static,
    tone_seconds,
    wait_for,
)
from kithara_cli.file.state import part_paths
from kithara_cli.media import ALT_AUDIO_BASE_HZ
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media  # fixtures shared with the other HLS tests
hls_server = hls_fixtures.hls_server

BEST = 1  # index of the 128k variant, which "best" must pick

# --- ladders -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ts", "fmp4", "aes"])
def test_ladder_best_variant(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path, kind: str
) -> None:
    ladder = getattr(hls_media, kind)
    out = tmp_path / ("out.m4a" if kind == "fmp4" else "out.ts")
    proc = fetch(hls_server.url(f"{kind}/master.m3u8"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == expected_bytes(ladder, BEST)
    assert_tone(out, SECONDS)
    stats = hls_server.stats
    assert not stats.requests(f"{kind}/64k.m3u8"), "only the chosen variant is loaded"
    assert not any(r.path.startswith(f"{kind}/64k_") for r in stats.requests())
    for seg in ladder.segments[BEST]:
        assert len(stats.requests(f"{kind}/{seg.name}")) == 1
    if kind == "fmp4":
        init = ladder.init_segments[BEST]
        assert init is not None
        assert len(stats.requests(f"{kind}/{init.name}")) == 1
        assert out.read_bytes().count(init.read_bytes()) == 1
    if kind == "aes":
        assert len(stats.requests("aes/key.bin")) == 1, "the key is fetched once per URI"
    assert list(tmp_path.iterdir()) == [out], "no .part or state file left behind"


def test_fmp4_init_written_again_only_where_it_changes(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """MAP A, then the same MAP A repeated after a discontinuity, then MAP B."""
    ladder = hls_media.fmp4
    low, high = ladder.segments
    durations = ladder.segment_durations[0]
    init_low, init_high = ladder.init_segments
    assert init_low is not None and init_high is not None
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:2", "#EXT-X-PLAYLIST-TYPE:VOD"]
    for i in range(len(low)):
        if i == 3:
            lines += ["#EXT-X-DISCONTINUITY", f'#EXT-X-MAP:URI="{init_low.name}"']
        if i == 5:
            lines += ["#EXT-X-DISCONTINUITY", f'#EXT-X-MAP:URI="{init_high.name}"']
        if i == 0:
            lines.append(f'#EXT-X-MAP:URI="{init_low.name}"')
        lines += [f"#EXTINF:{durations[i]:.6f},", (low if i < 5 else high)[i].name]
    lines.append("#EXT-X-ENDLIST")
    hls_server.add_route("fmp4/switch.m3u8", static("\n".join(lines) + "\n"))
    out = tmp_path / "out.mp4"
    proc = fetch(hls_server.url("fmp4/switch.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    want = init_low.read_bytes() + concat(low[:5]) + init_high.read_bytes() + concat(high[5:])
    assert out.read_bytes() == want
    assert len(hls_server.stats.requests(f"fmp4/{init_low.name}")) == 1
    assert len(hls_server.stats.requests(f"fmp4/{init_high.name}")) == 1


def test_byterange_single_file(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("misc/byterange.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (hls_media.misc / "byterange.ts").read_bytes()
    assert_tone(out, SECONDS)
    ranges = [r.range for r in hls_server.stats.requests("misc/byterange.ts")]
    assert len(ranges) >= 10 and all(r and r.startswith("bytes=") for r in ranges), ranges


def test_discontinuity_stays_decodable(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("misc/discontinuity.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    segments = sorted(hls_media.misc.glob("disc_a_*.ts")) + sorted(
        hls_media.misc.glob("disc_b_*.ts")
    )
    assert out.read_bytes() == concat(segments)
    with av.open(str(out)) as container:
        rates = {f.sample_rate for f in container.decode(audio=0)}
    assert rates == {44100, 48000}, "both sides of the discontinuity are in the file"
    assert_tone(out, SECONDS)


def test_discontinuity_to_another_rate_plays_through(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """``kithara play`` across the 44.1 -> 48 kHz discontinuity: the decoder resamples both
    sides (it stopped with "Frame does not match AudioResampler setup" before)."""
    wav = tmp_path / "out.wav"
    proc = play(hls_server.url("misc/discontinuity.m3u8"), "--output", f"wav:{wav}")
    assert proc.returncode == 0, proc.stderr
    assert_tone(wav, SECONDS)


def test_playing_a_segment_missing_from_one_variant_takes_it_from_another(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """Segment 4 of the 128k variant is gone (404): playback takes it from 64k, says so, and
    plays the whole stream; with it gone from both, a one-line error."""
    hls_server.set_faults("ts/128k_00004.ts", Faults(fail_first=100, fail_status=404))
    wav, events = tmp_path / "out.wav", tmp_path / "events.jsonl"
    url = hls_server.url("ts/master.m3u8")
    proc = play(url, "--abr", "fixed:1", "--output", f"wav:{wav}", "--events", str(events))
    assert proc.returncode == 0, proc.stderr
    assert_tone(wav, SECONDS)
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    loaded = {(e["sequence"], e["variant"]) for e in lines if e["event"] == "SegmentLoaded"}
    assert (4, 0) in loaded and (4, 1) not in loaded and (5, 1) in loaded
    assert any("trying v0" in e.get("message", "") for e in lines if e["event"] == "Notice")

    hls_server.set_faults("ts/*_00004.ts", Faults(fail_first=100, fail_status=404))
    proc = play(url, "--output", "null")
    assert proc.returncode == 4
    assert proc.stderr.strip().splitlines()[-1].startswith("kithara: error: HTTP 404")


def test_a_variant_that_keeps_failing_sits_out_instead_of_failing_every_segment(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """Every 128k segment answers 503. Auto ABR starts there; the first failure (after one
    quick retry, as another variant can serve the segment) leaves v1 out for 30 s, and the
    later segments are asked of 64k only: without the exclusion each of them would pay the
    retries before its failover."""
    hls_server.set_faults("ts/128k_*.ts", Faults(fail_first=1000, fail_status=503))
    wav, events = tmp_path / "out.wav", tmp_path / "events.jsonl"
    url = hls_server.url("ts/master.m3u8")
    proc = play(url, "--output", f"wav:{wav}", "--events", str(events))
    assert proc.returncode == 0, proc.stderr
    assert_tone(wav, SECONDS)
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    retrying = [e for e in lines if e["event"] == "RequestRetrying"]
    assert retrying and all(e["max_attempts"] == 2 for e in retrying)
    notices = [e["message"] for e in lines if e["event"] == "Notice"]
    assert sum("v1 left out for 30 s" in m for m in notices) == 1, notices
    asked = {r.path for r in hls_server.stats.requests() if r.path.startswith("ts/128k_")}
    assert "ts/128k_00000.ts" in asked  # the ABR did start on v1
    assert not {f"ts/128k_{i:05d}.ts" for i in range(5, 11)} & asked, sorted(asked)
    loaded = [e["variant"] for e in lines if e["event"] == "SegmentLoaded"]
    assert loaded == [0] * 11  # all 11 segments, every one from 64k


def test_packed_audio_with_id3(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    out = tmp_path / "out.aac"
    proc = fetch(hls_server.url("misc/packed.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    data = out.read_bytes()
    assert data == concat(sorted(hls_media.misc.glob("packed_*.aac")))
    assert data.startswith(b"ID3")
    assert_tone(out, SECONDS)


@pytest.mark.parametrize(("audio", "lang"), [(None, "en"), ("de", "de")])
def test_separate_audio_rendition_never_fetches_video(
    hls_server: MediaServer, tmp_path: Path, audio: str | None, lang: str
) -> None:
    out = tmp_path / "out.ts"
    args = ["--audio", audio] if audio else []
    proc = fetch(hls_server.url("misc/alt_master.m3u8"), "-o", str(out), "-q", *args)
    assert proc.returncode == 0, proc.stderr
    paths = [r.path for r in hls_server.stats.requests()]
    assert not [p for p in paths if "alt_video" in p], "the video variant must never be fetched"
    other = "de" if lang == "en" else "en"
    assert not [p for p in paths if f"alt_audio_{other}" in p]
    assert f"misc/alt_audio_{lang}.m3u8" in paths
    assert_tone(out, SECONDS, base_hz=ALT_AUDIO_BASE_HZ[lang])


def test_list_shows_renditions(hls_server: MediaServer) -> None:
    proc = fetch("--list", "--json", hls_server.url("misc/alt_master.m3u8"))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    languages = [r["language"] for r in data["variants"][0]["renditions"]]
    assert languages == ["en", "de"]
    assert not [r for r in hls_server.stats.requests() if not r.path.endswith("alt_master.m3u8")]
    table = fetch("--list", hls_server.url("misc/alt_master.m3u8"))
    assert table.returncode == 0, table.stderr
    assert "English [en]" in table.stdout and "Deutsch [de]" in table.stdout, table.stdout
    assert "2000k" in table.stdout


# --- URIs --------------------------------------------------------------------------------------


def test_absolute_root_relative_and_query_uris_keep_the_token(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """A master and media playlist with absolute URLs, /paths, ../paths and ?token=abc."""
    ladder = hls_media.ts
    segments = ladder.segments[BEST]
    durations = ladder.segment_durations[BEST]
    seen: dict[str, dict[str, str]] = {}

    def record(body: bytes, content_type: str):
        def handler(path: str, query: dict[str, str], now: float):
            seen[path] = dict(query)
            return 200, {"Content-Type": content_type}, body

        return handler

    base = hls_server.base_url
    forms = [
        lambda i: f"{base}/q/s{i}.ts?token=abc",
        lambda i: f"/q/s{i}.ts?token=abc",
        lambda i: f"../q/s{i}.ts?token=abc",
        lambda i: f"s{i}.ts?token=abc",
    ]
    entries = []
    for i, (seg, duration) in enumerate(zip(segments, durations, strict=True)):
        hls_server.add_route(f"q/s{i}.ts", record(seg.read_bytes(), "video/mp2t"))
        entries.append((duration, forms[i % len(forms)](i)))
    media = playlist_text(["#EXT-X-TARGETDURATION:2", "#EXT-X-PLAYLIST-TYPE:VOD"], entries)
    master = (
        "#EXTM3U\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=200000,CODECS="mp4a.40.2"\n'
        f"{base}/q/media.m3u8?token=abc\n"
    )
    hls_server.add_route("q/master.m3u8", record(master.encode(), "application/x-mpegurl"))
    hls_server.add_route("q/media.m3u8", record(media.encode(), "application/x-mpegurl"))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("q/master.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == concat(segments)
    assert_tone(out, SECONDS)
    for i in range(len(segments)):
        assert seen[f"q/s{i}.ts"] == {"token": "abc"}, i
    assert seen["q/media.m3u8"] == {"token": "abc"}


def test_redirected_master_resolves_against_final_url(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """old/master.m3u8 redirects twice, then moves to ts/: variants resolve under ts/."""
    hls_server.set_faults("old/master.m3u8", Faults(redirects=2))
    hls_server.add_route(
        "old/master.m3u8", lambda path, query, now: (302, {"Location": "/ts/master.m3u8"}, b"")
    )
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("old/master.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == expected_bytes(hls_media.ts, BEST)
    statuses = [r.status for r in hls_server.stats.requests("old/master.m3u8")]
    assert statuses == [302, 302, 302]
    assert not [
        r for r in hls_server.stats.requests() if r.path.startswith("old/") and r.status == 404
    ]
    assert hls_server.stats.requests("ts/128k.m3u8")


# --- other containers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "flags", "format_name"),
    [
        ("out.m4a", [], "mp4"),
        ("out.mka", [], "matroska"),
        ("out.m4a", ["--remux"], "mp4"),
        ("out.mp4", ["--remux"], "mp4"),
    ],
)
def test_remux_from_ts(
    hls_server: MediaServer, tmp_path: Path, name: str, flags: list[str], format_name: str
) -> None:
    out = tmp_path / name
    proc = fetch(hls_server.url("ts/master.m3u8"), "-o", str(out), "-q", *flags)
    assert proc.returncode == 0, proc.stderr
    with av.open(str(out)) as container:
        assert format_name in container.format.name
        assert container.streams.audio[0].codec_context.name == "aac"
    assert_tone(out, SECONDS)
    assert list(tmp_path.iterdir()) == [out]


def test_remux_across_restarting_timestamps(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """Segments 0-4 twice, split by a discontinuity: timestamps restart, the .m4a still plays."""
    ladder = hls_media.ts
    entries = [(ladder.segment_durations[BEST][i], ladder.segments[BEST][i].name) for i in range(5)]
    text = playlist_text(["#EXT-X-TARGETDURATION:2"], entries).replace("#EXT-X-ENDLIST\n", "")
    text += "#EXT-X-DISCONTINUITY\n" + playlist_text([], entries).removeprefix("#EXTM3U\n")
    hls_server.add_route("ts/restart.m3u8", static(text))
    out = tmp_path / "out.m4a"
    proc = fetch(hls_server.url("ts/restart.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    pcm = decode(out)
    assert abs(pcm.shape[0] / RATE - 2 * sum(d for d, _ in entries)) <= 0.1
    assert tone_seconds(pcm) == [*range(10), *range(10)]


def test_impossible_remux_keeps_the_download_beside_out(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """44.1 kHz then 48 kHz cannot go in one .m4a track without re-encoding."""
    out = tmp_path / "out.m4a"
    proc = fetch(hls_server.url("misc/discontinuity.m3u8"), "-o", str(out), "-q")
    kept = tmp_path / "out.ts"
    assert_one_line_error(proc, "changes mid-stream", str(kept))
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ts"]
    assert_tone(kept, SECONDS)


def test_remux_into_unknown_container_refused_before_fetching(
    hls_server: MediaServer, tmp_path: Path
) -> None:
    out = tmp_path / "out.wav"
    proc = fetch(hls_server.url("ts/master.m3u8"), "-o", str(out), "--remux", "-q")
    assert_one_line_error(proc, ".wav")
    assert proc.returncode == 2
    assert hls_server.stats.requests() == []
    assert_nothing_written(out)


# --- faults ------------------------------------------------------------------------------------


def test_every_segment_failing_once_still_byte_identical(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    hls_server.set_faults("*.ts", Faults(fail_first=1))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("ts/master.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == expected_bytes(hls_media.ts, BEST)
    statuses = [r.status for r in hls_server.stats.requests("ts/128k_00003.ts")]
    assert statuses == [503, 200]


def _missing_segment(hls_server: MediaServer, hls_media: HlsMedia) -> str:
    name = hls_media.ts.segments[BEST][4].name
    hls_server.set_faults(f"ts/{name}", Faults(fail_first=10**6, fail_status=404))
    return name


def test_segment_404_fails_naming_its_url(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    name = _missing_segment(hls_server, hls_media)
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("ts/master.m3u8"), "-o", str(out), "-q")
    assert_one_line_error(proc, hls_server.url(f"ts/{name}"))
    assert_nothing_written(out)


def test_skip_unavailable_reports_the_gap(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    name = _missing_segment(hls_server, hls_media)
    ladder = hls_media.ts
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("ts/master.m3u8"), "-o", str(out), "--skip-unavailable", "-q")
    assert proc.returncode == 0, proc.stderr
    assert "skipped 1 unavailable segment" in proc.stderr and "4" in proc.stderr
    kept = [s for s in ladder.segments[BEST] if s.name != name]
    assert out.read_bytes() == concat(kept)
    heard = tone_seconds(decode(out))
    assert heard[:8] == list(range(8))
    assert 8 not in heard and 9 not in heard, "the gap's seconds are missing, not garbage"
    assert heard[-8:] == list(range(12, 20))


def test_skip_unavailable_with_nothing_available_still_fails(
    hls_server: MediaServer, tmp_path: Path
) -> None:
    hls_server.set_faults("ts/128k_*.ts", Faults(fail_first=10**6, fail_status=404))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("ts/master.m3u8"), "-o", str(out), "--skip-unavailable", "-q")
    assert_one_line_error(proc, "404")
    assert_nothing_written(out)


# --- encryption --------------------------------------------------------------------------------


def test_wrong_key_is_an_error_and_writes_nothing(hls_server: MediaServer, tmp_path: Path) -> None:
    wrong = bytes(reversed(AES_KEY))
    hls_server.add_route("aes/key.bin", static(wrong, "application/octet-stream"))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("aes/master.m3u8"), "-o", str(out), "-q")
    line = assert_one_line_error(proc)
    assert "key" in line.lower() or "decrypt" in line.lower(), line
    assert_nothing_written(out)


def test_key_404_is_an_error_and_writes_nothing(hls_server: MediaServer, tmp_path: Path) -> None:
    hls_server.set_faults("aes/key.bin", Faults(fail_first=10**6, fail_status=404))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("aes/master.m3u8"), "-o", str(out), "-q")
    assert_one_line_error(proc, hls_server.url("aes/key.bin"))
    assert_nothing_written(out)


def test_sample_aes_is_refused_by_name(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    ladder = hls_media.aes
    entries = list(
        zip(ladder.segment_durations[0], [p.name for p in ladder.segments[0]], strict=True)
    )
    text = playlist_text(
        ["#EXT-X-TARGETDURATION:2", '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="key.bin"'], entries
    )
    hls_server.add_route("aes/sample.m3u8", static(text))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("aes/sample.m3u8"), "-o", str(out), "-q")
    assert_one_line_error(proc, "SAMPLE-AES")
    assert_nothing_written(out)
    assert [r.path for r in hls_server.stats.requests()] == ["aes/sample.m3u8"]


# --- hostile playlists -------------------------------------------------------------------------

_HEAD = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
HOSTILE: dict[str, tuple[bytes, str]] = {
    "file_segment": ((_HEAD + "#EXTINF:2,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n").encode(), "file"),
    "data_segment": (
        (_HEAD + "#EXTINF:2,\ndata:video/mp2t;base64,R0dHRw==\n#EXT-X-ENDLIST\n").encode(),
        "data",
    ),
    "data_key": (
        (
            _HEAD
            + '#EXT-X-KEY:METHOD=AES-128,URI="data:text/plain;base64,AAECAwQFBgcICQoLDA0ODw=="\n'
            + "#EXTINF:2,\nseg.ts\n#EXT-X-ENDLIST\n"
        ).encode(),
        "data",
    ),
    "file_variant": (
        b'#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS="mp4a.40.2"\nfile:///etc/passwd\n',
        "file",
    ),
    "no_extm3u": (b"#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg.ts\n#EXT-X-ENDLIST\n", "EXTM3U"),
    "empty": (b"", "EXTM3U"),
    "binary_junk": (random.Random(3).randbytes(50_000), ""),
    "megabytes_of_lines": (b"#EXTM3U\n" + b"#EXT-X-JUNK:xxxxxxxxxxxxxxxxxxxx\n" * 300_000, ""),
    "too_many_segments": (
        (_HEAD + "#EXTINF:1,\ns.ts\n" * 120_000 + "#EXT-X-ENDLIST\n").encode(),
        "segments",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_playlist_is_refused(hls_server: MediaServer, tmp_path: Path, case: str) -> None:
    body, needle = HOSTILE[case]
    hls_server.add_route("evil/list.m3u8", static(body))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("evil/list.m3u8"), "-o", str(out), "-q")
    assert_one_line_error(proc, needle)
    assert_nothing_written(out)
    assert [r.path for r in hls_server.stats.requests()] == ["evil/list.m3u8"]


def test_local_path_segment_stays_on_the_server(hls_server: MediaServer, tmp_path: Path) -> None:
    """``/etc/passwd`` in a remote playlist is http://same-host/etc/passwd, never the file."""
    text = _HEAD + "#EXTINF:2,\n/etc/passwd\n#EXT-X-ENDLIST\n"
    hls_server.add_route("evil/list.m3u8", static(text))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("evil/list.m3u8"), "-o", str(out), "-q")
    assert_one_line_error(proc, hls_server.url("etc/passwd"))
    assert_nothing_written(out)
    assert [r.status for r in hls_server.stats.requests("etc/passwd")] == [404]


# --- resume ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_interrupted_fetch_resumes_byte_identical(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path, sig: signal.Signals
) -> None:
    out = tmp_path / "out.ts"
    part, state_path = part_paths(out)
    url = hls_server.url("ts/master.m3u8")
    hls_server.set_faults("*.ts", Faults(latency=0.15))
    proc = popen_fetch(url, "-o", str(out), "-q", "--segments", "1")

    try:
        wait_for(lambda: segments_written(state_path) >= 3, what="three segments written")
    finally:
        proc.send_signal(sig)
        proc.communicate(timeout=20)
    assert proc.returncode != 0
    assert not out.exists() and part.exists()
    done = segments_written(state_path)
    assert 3 <= done < len(hls_media.ts.segments[BEST])

    hls_server.clear_faults()
    hls_server.stats.reset()
    rerun = fetch(url, "-o", str(out))
    assert rerun.returncode == 0, rerun.stderr
    assert "resuming" in rerun.stderr
    assert out.read_bytes() == expected_bytes(hls_media.ts, BEST)
    assert not part.exists() and not state_path.exists()
    first = hls_media.ts.segments[BEST][0].name
    assert not hls_server.stats.requests(f"ts/{first}"), "written segments are not fetched again"


# --- progress views -----------------------------------------------------------------------------


def test_hls_fetch_dashboard_draws_the_request_panel(
    hls_server: MediaServer, tmp_path: Path
) -> None:
    """``fetch URL.m3u8 --dashboard`` on a terminal shows the dashboard (the in-flight request
    panel), not the plain bar: the HLS path once had its own progress view without it."""
    from test_injection_pty import assert_clean, run_pty

    hls_server.set_faults("ts/*.ts", Faults(latency=0.05))
    out = tmp_path / "out.ts"
    code, raw = run_pty("fetch", hls_server.url("ts/master.m3u8"), "-o", str(out), "--dashboard")
    text = assert_clean(raw)
    assert code == 0, text[-2000:]
    assert "in flight" in text, text[-2000:]
    assert "saved" in text
    assert out.stat().st_size > 0
