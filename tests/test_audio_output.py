"""Sinks: the real PortAudio path captured headless through ALSA, the WAV and null sinks,
underrun accounting, and ``--output`` parsing."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from audio_capture import (
    alsa_capture,
    alsa_no_device,
    audible_span,
    play_to_default_device,
    run_player,
    second_frequencies,
    stepped_tone,
    tone_frequency,
    write_tone,
)
from kithara_cli.audio import (
    DEVICE_ENV,
    NO_DEVICE_MESSAGE,
    Decoder,
    NullSink,
    PcmRing,
    WavSink,
    float_to_s16,
    open_sink,
)
from kithara_cli.errors import UsageError
from kithara_cli.events.types import Event, Underrun

RATE = 44100
SECONDS = 3


@pytest.fixture(scope="module")
def short_tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tone(tmp_path_factory.mktemp("short") / "tone.flac", "flac", SECONDS)


def _decode_all(path: Path, rate: int = RATE) -> PcmRing:
    ring = PcmRing(rate * (SECONDS + 1), 2)
    decoder = Decoder(str(path), ring, out_rate=rate, out_channels=2, linger=False).start()
    assert decoder.done.wait(10) and decoder.error is None
    return ring


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wf:
        assert (wf.getnchannels(), wf.getsampwidth()) == (2, 2)
        data = np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2").reshape(-1, 2)
        return data, wf.getframerate()


def test_device_sink_plays_every_frame_through_portaudio(short_tone: Path, tmp_path: Path) -> None:
    capture = alsa_capture(tmp_path / "alsa")
    report = play_to_default_device(short_tone, capture, rate=RATE)
    assert report["sink"] == "DeviceSink"
    assert report["message"] is None
    assert report["finished"] is True
    assert report["frames_played"] == SECONDS * RATE
    assert report["underruns"] == 0
    pcm = capture.read()
    first, end = audible_span(pcm)
    # PortAudio's ALSA backend starts with one buffer of silence (the device latency).
    assert first < 0.25 * RATE
    assert end - first == pytest.approx(SECONDS * RATE, abs=2)
    assert len(pcm) - first == pytest.approx(SECONDS * RATE, abs=0.05 * RATE)
    played = pcm[first : first + SECONDS * RATE]
    assert list(second_frequencies(played, RATE)) == pytest.approx(
        [tone_frequency(s) for s in range(SECONDS)], abs=1.0
    )
    # Sample-exact against the source signal (S16 rounding aside).
    assert np.abs(played - stepped_tone(SECONDS, RATE)).max() < 2e-4

    # The WAV sink writes what the device got.
    ring = _decode_all(short_tone)
    wav_path = tmp_path / "out.wav"
    sink = WavSink(wav_path, ring, RATE)
    sink.start()
    assert sink.finished.wait(10)
    sink.stop()
    wav, rate = _read_wav(wav_path)
    assert rate == RATE
    captured = np.fromfile(capture.raw_path, dtype="<i2").reshape(-1, 2)
    captured = captured[first : first + len(wav)]
    assert len(wav) == SECONDS * RATE
    assert np.abs(captured.astype(np.int32) - wav.astype(np.int32)).max() <= 1


def test_null_sink_paces_in_real_time(short_tone: Path) -> None:
    ring = PcmRing(RATE * 2, 2)
    ring.write(stepped_tone(1.0, RATE))
    ring.mark_eos()
    sink = NullSink(ring, RATE)
    started = time.monotonic()
    sink.start()
    assert sink.finished.wait(5)
    elapsed = time.monotonic() - started
    sink.stop()
    assert 0.9 <= elapsed < 1.6
    assert sink.frames_played == RATE
    assert sink.underruns == 0


def test_underruns_are_counted_after_start_and_published_outside_the_callback() -> None:
    ring = PcmRing(RATE, 2)
    events: list[Event] = []
    sink = NullSink(ring, RATE, on_event=events.append)
    sink.start()
    time.sleep(0.05)  # empty before anything was written: not an underrun
    ring.write(stepped_tone(0.1, RATE))
    time.sleep(0.3)  # the 0.1 s ran out: one gap
    ring.write(stepped_tone(0.1, RATE))
    time.sleep(0.02)
    ring.clear()  # a seek: the ring empties on purpose, not an underrun
    time.sleep(0.05)
    ring.write(stepped_tone(0.1, RATE))
    ring.mark_eos()  # the end: running dry is not an underrun
    assert sink.finished.wait(5)
    time.sleep(0.15)  # let the watcher look once more
    sink.stop()
    assert sink.underruns == 1
    assert [e.count for e in events if isinstance(e, Underrun)] == [1]


def test_pause_stops_consuming_and_volume_scales_in_place(tmp_path: Path) -> None:
    ring = PcmRing(RATE, 2)
    ring.write(stepped_tone(0.5, RATE))
    sink = NullSink(ring, RATE)
    sink.pause(True)
    sink.start()
    time.sleep(0.1)
    assert sink.frames_played == 0 and sink.underruns == 0
    sink.pause(False)
    time.sleep(0.1)
    assert sink.frames_played > 0
    sink.stop()

    ring = PcmRing(RATE, 2)
    tone = stepped_tone(0.5, RATE)
    ring.write(tone)
    ring.mark_eos()
    wav_sink = WavSink(tmp_path / "half.wav", ring, RATE)
    wav_sink.volume = 0.5
    wav_sink.start()
    assert wav_sink.finished.wait(5)
    wav_sink.stop()
    wav, _ = _read_wav(tmp_path / "half.wav")
    assert np.abs(wav.astype(np.int32) - float_to_s16(tone * 0.5).astype(np.int32)).max() <= 1
    wav_sink.volume = 7
    assert wav_sink.volume == 2.0


def test_open_sink_parses_output_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ring = PcmRing(4800, 2)
    sink, message = open_sink("null", ring, rate=48000)
    assert isinstance(sink, NullSink) and message is None and sink.rate == 48000
    sink, message = open_sink(f"wav:{tmp_path / 'x.wav'}", ring, rate=22050)
    assert isinstance(sink, WavSink) and message is None and sink.rate == 22050
    sink.stop()
    with pytest.raises(UsageError):
        open_sink("wav:", ring)
    monkeypatch.setenv(DEVICE_ENV, "none")
    for spec in ("default", None):
        sink, message = open_sink(spec, ring, rate=48000)
        assert isinstance(sink, NullSink)
        assert message == NO_DEVICE_MESSAGE


def test_no_output_device_falls_back_to_the_null_sink(tmp_path: Path) -> None:
    report = run_player(["probe"], alsa_no_device(tmp_path))
    assert report == {"sink": "NullSink", "message": NO_DEVICE_MESSAGE, "devices": []}


def test_devices_are_listed_and_chosen_by_name_or_index(tmp_path: Path) -> None:
    env = alsa_capture(tmp_path).env
    report = run_player(["probe", "--output", "no-such-device"], env)
    assert report["error"] == "UsageError"
    assert "no-such-device" in str(report["message"])
    assert "default" in str(report["message"])  # the message lists the devices
    devices = [str(d) for d in report["devices"]]  # type: ignore[union-attr]
    default = next(d for d in devices if d.endswith("[default]"))
    index = default.split(":")[0]
    assert run_player(["probe", "--output", index], env)["sink"] == "DeviceSink"
    assert run_player(["probe", "--output", "kithara_capture"], env)["sink"] == "DeviceSink"


def test_importing_audio_does_not_load_portaudio() -> None:
    code = (
        "import sys, kithara_cli.audio, kithara_cli.audio.output;"
        "assert 'sounddevice' not in sys.modules, 'sounddevice imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_wav_sink_header_is_final_after_stop_mid_stream(tmp_path: Path) -> None:
    ring = PcmRing(RATE, 2)
    sink = WavSink(tmp_path / "partial.wav", ring, RATE)
    sink.start()
    written = threading.Event()

    def produce() -> None:
        ring.write(stepped_tone(0.25, RATE))
        written.set()

    threading.Thread(target=produce).start()
    assert written.wait(5)
    deadline = time.monotonic() + 5
    while sink.frames_written < RATE // 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    sink.stop()  # no end of stream: stop finalises the header
    wav, _ = _read_wav(tmp_path / "partial.wav")
    assert len(wav) == RATE // 4
