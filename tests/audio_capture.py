"""Test helpers for audio: stepped-tone fixtures, tone analysis, and headless PortAudio capture.

Why a stepped tone: it plays ``base + step * floor(t)`` Hz, phase-continuous, so the dominant
frequency of any window tells which second of the file it came from. A test can recover the
playback position of captured audio (after a seek, after a variant switch) without timing.

Why capture through ALSA: with no sound card, an ALSA ``file`` PCM over ``null`` writes every
frame PortAudio plays to a raw S16LE stereo file. The config must be in place *before* PortAudio
initialises, so tests run the playing code in a subprocess with :func:`alsa_capture` 's env.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

TONE_BASE_HZ = 300.0
TONE_STEP_HZ = 25.0
TONE_AMPLITUDE = 0.5

# format name -> (container format, codec, sample rate, container options)
TONE_FORMATS: dict[str, tuple[str, str, int, dict[str, str]]] = {
    "mp3": ("mp3", "libmp3lame", 44100, {}),
    "flac": ("flac", "flac", 44100, {}),
    "wav": ("wav", "pcm_s16le", 44100, {}),
    "ogg": ("ogg", "libopus", 48000, {}),
    "m4a": ("ipod", "aac", 44100, {"movflags": "+faststart"}),
}


def tone_frequency(second: int | float) -> float:
    """The frequency the stepped tone plays during second ``floor(second)``."""
    return TONE_BASE_HZ + TONE_STEP_HZ * int(second)


def stepped_tone(seconds: float, rate: int, channels: int = 2) -> np.ndarray:
    """Float32 (frames, channels) stepped tone; phase-continuous across the steps."""
    n = round(seconds * rate)
    t_index = np.arange(n, dtype=np.float64)
    freq = TONE_BASE_HZ + TONE_STEP_HZ * np.floor(t_index / rate)
    phase = np.cumsum(2.0 * np.pi * freq / rate)
    mono = (TONE_AMPLITUDE * np.sin(phase)).astype(np.float32)
    return np.repeat(mono[:, None], channels, axis=1)


def _to_codec_format(pcm: np.ndarray, fmt: str) -> np.ndarray:
    """(frames, ch) float32 -> the ndarray layout ``AudioFrame.from_ndarray`` wants for fmt."""
    if fmt in ("s16", "s16p"):
        data = np.clip(np.round(pcm * 32767.0), -32768, 32767).astype(np.int16)
    elif fmt in ("s32", "s32p"):
        data = np.clip(np.round(pcm * 2147483647.0), -(2**31), 2**31 - 1).astype(np.int32)
    else:
        data = pcm.astype(np.float32)
    if fmt.endswith("p"):
        return np.ascontiguousarray(data.T)
    return np.ascontiguousarray(data.reshape(1, -1))


def write_tone(
    path: str | os.PathLike[str],
    kind: str,
    seconds: float,
    *,
    bit_rate: int = 128_000,
    offset: float = 0.0,
) -> Path:
    """Encode the stepped tone as ``kind`` (a key of :data:`TONE_FORMATS`) with PyAV alone.

    ``offset`` starts the file that many seconds into the tone (phase-continuous with the
    whole), like an HLS run that begins at a later segment.
    """
    container_format, codec, rate, options = TONE_FORMATS[kind]
    path = Path(path)
    pcm = stepped_tone(offset + seconds, rate)[round(offset * rate) :]
    with av.open(str(path), "w", format=container_format, options=options) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.codec_context.layout = "stereo"
        if codec not in ("flac", "pcm_s16le"):
            stream.codec_context.bit_rate = bit_rate
        fmt = stream.codec_context.format.name
        if codec == "libopus":
            fmt = "flt"
            stream.codec_context.format = fmt
        frame_size = 1152 if codec == "libmp3lame" else 1024 if codec == "aac" else 960
        if codec in ("flac", "pcm_s16le"):
            frame_size = 4096
        pts = 0
        for start in range(0, len(pcm), frame_size):
            chunk = pcm[start : start + frame_size]
            frame = av.AudioFrame.from_ndarray(
                _to_codec_format(chunk, fmt), format=fmt, layout="stereo"
            )
            frame.sample_rate = rate
            frame.pts = pts
            frame.time_base = Fraction(1, rate)
            pts += len(chunk)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def dominant_frequency(pcm: np.ndarray, rate: int) -> float:
    """Peak frequency (Hz) of a (frames, ch) or (frames,) window, Hann-windowed."""
    mono = pcm.mean(axis=1) if pcm.ndim == 2 else pcm
    mono = mono.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    spectrum[0] = 0.0
    peak = int(np.argmax(spectrum))
    # parabolic interpolation for sub-bin accuracy
    if 0 < peak < len(spectrum) - 1:
        a, b, c = spectrum[peak - 1], spectrum[peak], spectrum[peak + 1]
        denom = a - 2 * b + c
        offset = 0.5 * (a - c) / denom if denom else 0.0
    else:
        offset = 0.0
    return (peak + offset) * rate / len(mono)


def second_frequencies(pcm: np.ndarray, rate: int) -> Iterator[float]:
    """Dominant frequency of the middle half of each whole second in ``pcm``."""
    whole = len(pcm) // rate
    for k in range(whole):
        lo = k * rate + rate // 4
        hi = k * rate + 3 * rate // 4
        yield dominant_frequency(pcm[lo:hi], rate)


# --- headless capture ------------------------------------------------------------------------

SYSTEM_ALSA_CONF = "/usr/share/alsa/alsa.conf"


@dataclass(frozen=True)
class AlsaCapture:
    """Where the capture config and its output live; ``env`` goes to the playing subprocess."""

    conf_path: Path
    raw_path: Path
    env: dict[str, str]

    def read(self, channels: int = 2) -> np.ndarray:
        """The captured PCM as float32 (frames, channels) in [-1, 1)."""
        return read_s16_raw(self.raw_path, channels)


def alsa_capture(directory: str | os.PathLike[str], *, name: str = "captured") -> AlsaCapture:
    """Write an ALSA config whose default PCM records to ``DIR/NAME.raw`` (S16LE, stereo).

    Use a fresh ``directory`` per test (``tmp_path``): the file is truncated whenever a stream
    opens, so one stream per capture. ``rate`` is left out of the slave so ALSA never resamples:
    the raw file holds exactly the samples PortAudio was given, at the stream's own rate.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    raw_path = directory / f"{name}.raw"
    conf_path = directory / f"{name}.asoundrc"
    conf_path.write_text(
        "pcm.!default {\n"
        "    type plug\n"
        '    slave { pcm "kithara_capture"; format S16_LE; channels 2 }\n'
        "}\n"
        "pcm.kithara_capture {\n"
        "    type file\n"
        '    slave.pcm "null"\n'
        f'    file "{raw_path}"\n'
        '    format "raw"\n'
        "}\n"
    )
    env = dict(os.environ)
    env["ALSA_CONFIG_PATH"] = f"{SYSTEM_ALSA_CONF}:{conf_path}"
    env.pop("KITHARA_AUDIO_DEVICE", None)
    return AlsaCapture(conf_path=conf_path, raw_path=raw_path, env=env)


def alsa_no_device(directory: str | os.PathLike[str]) -> dict[str, str]:
    """Env for a subprocess whose ALSA default PCM points at a card that does not exist.

    (An ALSA_CONFIG_PATH without alsa.conf makes alsa-lib abort the process inside
    PortAudio's device scan, so the system config stays first.)
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    conf_path = directory / "nodevice.asoundrc"
    conf_path.write_text("pcm.!default { type hw card 99 }\nctl.!default { type hw card 99 }\n")
    env = dict(os.environ)
    env["ALSA_CONFIG_PATH"] = f"{SYSTEM_ALSA_CONF}:{conf_path}"
    env.pop("KITHARA_AUDIO_DEVICE", None)
    return env


def read_s16_raw(path: str | os.PathLike[str], channels: int = 2) -> np.ndarray:
    """Raw interleaved S16LE -> float32 (frames, channels), scaled by 1/32768."""
    data = np.fromfile(path, dtype="<i2")
    frames = len(data) // channels
    return data[: frames * channels].reshape(frames, channels).astype(np.float32) / 32768.0


def audible_span(pcm: np.ndarray, threshold: float = 1e-4) -> tuple[int, int]:
    """(first, last + 1) frame indices whose samples exceed ``threshold``; (0, 0) if silent."""
    loud = np.nonzero(np.abs(pcm).max(axis=1) > threshold)[0]
    if len(loud) == 0:
        return 0, 0
    return int(loud[0]), int(loud[-1]) + 1


def run_player(args: list[str], env: dict[str, str], *, timeout: float = 60.0) -> dict[str, object]:
    """Run this file's command line in a subprocess (fresh PortAudio) and return its JSON."""
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"player subprocess failed ({proc.returncode}):\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def play_to_default_device(
    media: str | os.PathLike[str], capture: AlsaCapture, *, rate: int = 44100
) -> dict[str, object]:
    """Decode ``media`` fully, play it through ``open_sink("default")`` with the capture config
    loaded, wait until it has played; returns the subprocess's report (sink type, frames...)."""
    return run_player(["play", str(media), "--rate", str(rate)], capture.env)


# --- subprocess side -------------------------------------------------------------------------


def _cmd_play(ns: argparse.Namespace) -> dict[str, object]:
    from kithara_cli.audio import Decoder, PcmRing, open_sink

    rate = ns.rate
    # Room for the whole file: the ALSA null device is not paced, so decode everything first
    # and let the device drain the ring as fast as it likes.
    ring = PcmRing(rate * int(ns.max_seconds), 2)
    events: list[str] = []
    decoder = Decoder(
        ns.media, ring, out_rate=rate, out_channels=2, on_event=lambda e: events.append(repr(e))
    ).start()
    if not decoder.eof.wait(30):
        raise SystemExit(f"decoder did not finish: {decoder.error} {events}")
    sink, message = open_sink(ns.output, ring, rate=rate, blocksize=ns.blocksize)
    started = time.monotonic()
    sink.start()
    finished = sink.finished.wait(30)
    elapsed = time.monotonic() - started
    report = {
        "sink": type(sink).__name__,
        "message": message,
        "finished": finished,
        "elapsed": elapsed,
        "frames_played": sink.frames_played,
        "underruns": sink.underruns,
        "latency": sink.latency,
        "rate": sink.rate,
        "events": events,
    }
    sink.stop()
    decoder.stop()
    decoder.join(5)
    return report


def _cmd_probe(ns: argparse.Namespace) -> dict[str, object]:
    from kithara_cli.audio import PcmRing, list_devices, open_sink
    from kithara_cli.errors import KitharaError

    ring = PcmRing(4800, 2)
    try:
        sink, message = open_sink(ns.output, ring, rate=48000)
    except KitharaError as exc:
        return {"error": type(exc).__name__, "message": str(exc), "devices": list_devices()}
    report = {"sink": type(sink).__name__, "message": message, "devices": list_devices()}
    sink.stop()
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="audio test player (runs in a subprocess)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    play = sub.add_parser("play")
    play.add_argument("media")
    play.add_argument("--rate", type=int, default=44100)
    play.add_argument("--output", default="default")
    play.add_argument("--blocksize", type=int, default=1024)
    play.add_argument("--max-seconds", type=float, default=30)
    probe = sub.add_parser("probe")
    probe.add_argument("--output", default="default")
    ns = parser.parse_args(argv)
    report = _cmd_play(ns) if ns.cmd == "play" else _cmd_probe(ns)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
