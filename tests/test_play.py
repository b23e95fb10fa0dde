"""``kithara play`` end to end: loopback server -> downloader -> stream -> PyAV -> PortAudio.

Sound goes through the real device path into an ALSA ``file`` PCM (see audio_capture.py). That
device is not paced in real time, so the player underruns between decoded blocks and PortAudio
fills the gaps with exact zeros; ``audio_only`` strips those runs, leaving exactly the samples
the player produced, in order.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from audio_capture import alsa_capture, alsa_no_device, read_s16_raw
from conftest import KITHARA
from kithara_cli.media import build_ladder, encode_file
from kithara_cli.media.analysis import decode_pcm, seconds_heard
from kithara_cli.server import Faults, MediaServer

SECONDS = 30.0
DRIVER = Path(__file__).with_name("play_driver.py")


@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("play-media")
    for fmt in ("mp3", "flac"):
        encode_file(root / f"tone.{fmt}", SECONDS, fmt)  # type: ignore[arg-type]
    build_ladder(root / "hls", SECONDS)
    build_ladder(root / "fmp4", SECONDS, segment_type="fmp4")
    _mixed_fmp4_ladder(root)
    data = (root / "tone.mp3").read_bytes()
    (root / "truncated.mp3").write_bytes(data[: len(data) // 3])
    corrupt = root / "corrupt"
    build_ladder(corrupt, 12.0, bitrates=(64_000,))
    victim = sorted(corrupt.glob("*_00002.ts"))[0]
    victim.write_bytes(np.random.default_rng(1).bytes(victim.stat().st_size))
    return root


def _mixed_fmp4_ladder(root: Path) -> None:
    """``mixed/``: two fMP4 variants whose init sections differ (22.05 kHz mono, 48 kHz
    stereo), as audio ladders mixing codec profiles do."""
    mixed = root / "mixed"
    for name, bitrate, rate, channels in (("lo", 32_000, 22_050, 1), ("hi", 192_000, 48_000, 2)):
        build = root / f"mixed-{name}"
        build_ladder(
            build,
            SECONDS,
            bitrates=(bitrate,),
            names=(name,),
            segment_type="fmp4",
            rate=rate,
            channels=channels,
        )
        mixed.mkdir(exist_ok=True)
        for path in build.iterdir():
            if path.name != "master.m3u8" and path.suffix in (".m3u8", ".m4s", ".mp4"):
                path.rename(mixed / path.name)
    (mixed / "master.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:7\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=40000,CODECS="mp4a.40.2"\nlo.m3u8\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=200000,CODECS="mp4a.40.2"\nhi.m3u8\n'
    )


@pytest.fixture
def media_server(media_root: Path) -> Iterator[MediaServer]:
    with MediaServer(media_root) as srv:
        yield srv


def audio_only(pcm: np.ndarray, min_run: int = 32) -> np.ndarray:
    """Drop runs of >= ``min_run`` all-zero frames (device fill), keep everything else."""
    silent = ~np.any(pcm != 0.0, axis=1)
    if not silent.any():
        return pcm
    keep = np.ones(len(pcm), dtype=bool)
    edges = np.diff(np.concatenate(([0], silent.astype(np.int8), [0])))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    for a, b in zip(starts, ends, strict=True):
        if b - a >= min_run:
            keep[a:b] = False
    return pcm[keep]


def play_cli(url: str, env: dict[str, str], *extra: str, timeout: float = 60) -> list[dict]:
    events = Path(env["KITHARA_TEST_DIR"]) / "events.jsonl"
    proc = subprocess.run(
        [*KITHARA, "play", url, "--no-ui", "--events", str(events), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in events.read_text().splitlines()]


def started(events: list[dict]) -> dict:
    return next(e for e in events if e["event"] == "PlaybackStarted")


def check_tone(pcm: np.ndarray, rate: int, first_second: int, seconds: float) -> None:
    assert abs(len(pcm) / rate - seconds) < 0.05, f"{len(pcm) / rate:.3f} s, wanted {seconds}"
    heard = seconds_heard(pcm, rate, window=0.5)
    expected = [first_second + i // 2 for i in range(len(heard))]
    assert heard == expected


@pytest.mark.parametrize("name", ["tone.mp3", "tone.flac", "hls/master.m3u8", "fmp4/master.m3u8"])
def test_plays_to_the_end_through_portaudio(
    media_server: MediaServer, tmp_path: Path, name: str
) -> None:
    capture = alsa_capture(tmp_path)
    env = {**capture.env, "KITHARA_TEST_DIR": str(tmp_path), "NO_COLOR": "1"}
    events = play_cli(media_server.url(name), env)
    info = started(events)
    assert info["output"] == "device"
    rate = int(info["output_rate"])
    pcm = audio_only(capture.read())
    duration = 30.0234 if name.endswith("m3u8") else SECONDS  # the ladder's last AAC frame
    check_tone(pcm, rate, 0, duration)
    assert any(e["event"] == "EndOfStream" for e in events)


def test_wav_output_equals_what_the_device_got(media_server: MediaServer, tmp_path: Path) -> None:
    capture = alsa_capture(tmp_path / "dev")
    env = {**capture.env, "KITHARA_TEST_DIR": str(tmp_path), "NO_COLOR": "1"}
    url = media_server.url("tone.mp3")
    rate = int(started(play_cli(url, env))["output_rate"])
    device = audio_only(capture.read())
    wav = tmp_path / "out.wav"
    play_cli(url, env, "--output", f"wav:{wav}")
    written, wav_rate = decode_pcm(wav)
    assert wav_rate == 48_000 or wav_rate == rate
    if wav_rate == rate:
        n = min(len(device), len(written))
        assert abs(len(device) - len(written)) <= 1
        assert np.max(np.abs(device[:n] - written[:n])) <= 2 / 32768
    check_tone(written, wav_rate, 0, SECONDS)


def run_driver(url: str, env: dict[str, str], *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, str(DRIVER), url, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["tone.mp3", "hls/master.m3u8", "fmp4/master.m3u8"])
def test_seek_to_17_plays_second_17(media_server: MediaServer, tmp_path: Path, name: str) -> None:
    capture = alsa_capture(tmp_path)
    report = run_driver(media_server.url(name), capture.env, "--seek", "17")
    assert report["ended"] and report["error"] is None
    names = [e["event"] for e in report["events"]]
    assert "SeekRequested" in names and "SeekCompleted" in names
    rate = int(next(e for e in report["events"] if e["event"] == "PlaybackStarted")["output_rate"])
    pcm = audio_only(capture.read())
    heard = seconds_heard(pcm, rate, window=0.25)
    # Before the seek at most a few hundred ms played; after it, second 17 onward.
    jump = next(i for i, s in enumerate(heard) if s >= 17)
    assert all(s <= 2 for s in heard[:jump]), heard[:jump]
    after = heard[jump:]
    assert after[:4] == [17, 17, 17, 17]
    assert after[-1] in (29, 30)


def test_pause_and_resume_loses_nothing(media_server: MediaServer, tmp_path: Path) -> None:
    capture = alsa_capture(tmp_path)
    report = run_driver(media_server.url("tone.flac"), capture.env, "--pause", "0.5")
    assert report["ended"]
    states = [e for e in report["events"] if e["event"] == "PlaybackState"]
    assert any(s.get("message") is None for s in states)
    rate = int(next(e for e in report["events"] if e["event"] == "PlaybackStarted")["output_rate"])
    check_tone(audio_only(capture.read()), rate, 0, SECONDS)


def test_length_quits_mid_stream(media_server: MediaServer, tmp_path: Path) -> None:
    capture = alsa_capture(tmp_path)
    env = {**capture.env, "KITHARA_TEST_DIR": str(tmp_path), "NO_COLOR": "1"}
    events = play_cli(media_server.url("tone.mp3"), env, "--length", "3", "--output", "null")
    assert not any(e["event"] == "EndOfStream" for e in events)
    positions = [e["seconds"] for e in events if e["event"] == "Position"]
    assert positions and 2.5 <= max(positions) <= 4.0


def test_no_device_says_so_and_plays_to_null(media_server: MediaServer, tmp_path: Path) -> None:
    env = {**alsa_no_device(tmp_path), "KITHARA_TEST_DIR": str(tmp_path), "NO_COLOR": "1"}
    events = tmp_path / "events.jsonl"
    proc = subprocess.run(
        [*KITHARA, "play", media_server.url("tone.mp3"), "--no-ui", "--length", "0.5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    said = [ln for ln in proc.stderr.splitlines() if "no audio output device found" in ln]
    assert len(said) == 1, proc.stderr
    assert not events.exists()


@pytest.mark.parametrize(
    ("name", "contains"),
    [("truncated.mp3", "ended early"), ("corrupt/master.m3u8", "not audio")],
)
def test_broken_media_is_a_clear_error_not_a_hang(
    media_server: MediaServer, tmp_path: Path, name: str, contains: str
) -> None:
    events = tmp_path / "events.jsonl"
    proc = subprocess.run(
        [
            *KITHARA,
            "play",
            media_server.url(name),
            "--no-ui",
            "--output",
            "wav:/dev/null",
            "--events",
            str(events),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={"KITHARA_AUDIO_DEVICE": "none", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode != 0
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("kithara: error:")]
    assert len(errors) == 1, proc.stderr
    assert proc.stderr.splitlines()[-1] == errors[0], "the error is the last word"
    assert contains in errors[0]
    assert "Traceback" not in proc.stderr
    kinds = [json.loads(line)["event"] for line in events.read_text().splitlines()]
    assert "DecoderError" in kinds


def test_abr_switch_is_seamless(media_root: Path, tmp_path: Path) -> None:
    """The top variant first (startup estimate), a slow link forces a switch down mid-stream;
    the PCM across the switch has no gap and no repeat (total length within 25 ms)."""
    with MediaServer(media_root) as srv:
        srv.set_faults("hls/*.ts", Faults(bandwidth_profile=[(3.0, 30_000.0), (60.0, 3e6)]))
        wav = tmp_path / "out.wav"
        env = {"KITHARA_AUDIO_DEVICE": "none", "NO_COLOR": "1", "KITHARA_TEST_DIR": str(tmp_path)}
        import os

        env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        events = play_cli(srv.url("hls/master.m3u8"), env, "--output", f"wav:{wav}", timeout=90)
    decisions = [e for e in events if e["event"] == "AbrDecision"]
    switches = [d for d in decisions if d["from_variant"] is not None]
    assert switches, f"no switch happened: {decisions}"
    assert any(d["to_variant"] < d["from_variant"] for d in switches)
    pcm, rate = decode_pcm(wav)
    assert abs(len(pcm) / rate - 30.0234) < 0.025
    heard = seconds_heard(pcm, rate, window=0.5)
    assert heard == [i // 2 for i in range(len(heard))]
    silent = audio_only(pcm, min_run=int(0.025 * rate))
    assert len(silent) == len(pcm), "a silence longer than 25 ms"


def test_switch_between_fmp4_variants_with_different_init_sections(
    media_root: Path, tmp_path: Path
) -> None:
    """Playing the 48 kHz stereo variant, segments 5-9 are gone from it and come from the
    22.05 kHz mono one (failover), then it goes on at 48 kHz: two init changes. The decoder
    reopens at each, and the PCM goes on with no gap, no repeat and the right second all the
    way. (The variants are forced, not left to the ABR, so both are always played.)"""
    with MediaServer(media_root) as srv:
        srv.set_faults("mixed/hi_0000[5-9].m4s", Faults(fail_first=100, fail_status=404))
        wav = tmp_path / "out.wav"
        env = {"KITHARA_AUDIO_DEVICE": "none", "NO_COLOR": "1", "KITHARA_TEST_DIR": str(tmp_path)}
        env["PATH"] = __import__("os").environ.get("PATH", "/usr/bin:/bin")
        url = srv.url("mixed/master.m3u8")
        events = play_cli(url, env, "--abr", "fixed:1", "--output", f"wav:{wav}", timeout=90)
    loaded = [(e["sequence"], e["variant"]) for e in events if e["event"] == "SegmentLoaded"]
    assert [v for seq, v in loaded if 5 <= seq <= 9] == [0] * 5, loaded
    assert {v for seq, v in loaded if seq < 5 or seq > 9} == {1}, loaded
    assert not [e for e in events if e["event"] == "DecoderError"]
    pcm, rate = decode_pcm(wav)
    assert abs(len(pcm) / rate - SECONDS) < 0.06
    heard = seconds_heard(pcm, rate, window=0.5)
    assert heard == [i // 2 for i in range(len(heard))]
    silent = audio_only(pcm, min_run=int(0.025 * rate))
    assert len(silent) == len(pcm), "a silence longer than 25 ms"


def test_read_s16_helper_roundtrip(tmp_path: Path) -> None:
    """Guards the capture decoding the tests above rely on."""
    raw = tmp_path / "x.raw"
    np.array([[1000, -1000], [0, 0]], dtype="<i2").tofile(raw)
    pcm = read_s16_raw(raw)
    assert pcm.shape == (2, 2) and abs(pcm[0, 0] - 1000 / 32768) < 1e-9


@pytest.mark.parametrize("name", ["tone.mp3", "hls/master.m3u8"])
def test_playing_never_loads_numpy(media_server: MediaServer, tmp_path: Path, name: str) -> None:
    """numpy costs ~80 ms of time to first audio: the play path (device output, volume 1.0)
    moves PCM as bytes and never imports it."""
    capture = alsa_capture(tmp_path)
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('numpy loaded:', 'numpy' in sys.modules))\n"
        f"sys.argv = ['kithara', 'play', {media_server.url(name)!r}, '--no-ui', '--length', '1']\n"
        "from kithara_cli.cli import main\n"
        "main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**capture.env, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert "numpy loaded: False" in proc.stdout, proc.stdout + proc.stderr
    assert len(audio_only(capture.read())) > 0.5 * 44100  # and it really played
