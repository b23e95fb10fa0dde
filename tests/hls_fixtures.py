"""Shared HLS fixtures for the fetch tests: real PyAV media, built once, served over loopback.

Everything lives in one cached directory (built once per user by ``kithara_cli.media.cached``,
so concurrent xdist workers share it):

* ``ts/``, ``fmp4/``, ``aes/``: 20 s ladders of 64k and 128k AAC (``aes`` uses ``AES_KEY``,
  IV = media sequence number);
* ``misc/``: a byte-range stream, a discontinuity stream (44.1 kHz then 48 kHz), a master with
  a separate audio rendition group (``en`` and ``de``), and packed audio (ADTS + ID3).

Helpers decode any output with PyAV (resampling across a discontinuity's rate change) and read
back which second of the stepped tone each second of audio holds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from conftest import KITHARA, run_cli
from kithara_cli.media import (
    Ladder,
    build_audio_rendition_master,
    build_byterange_stream,
    build_discontinuity_stream,
    build_ladder,
    build_packed_audio_stream,
    cached,
    dominant_frequency,
)
from kithara_cli.media.tone import BASE_HZ, STEP_HZ, second_for_frequency
from kithara_cli.server import MediaServer

SECONDS = 20.0
BITRATES = (64_000, 128_000)
AES_KEY = bytes(range(16))
FIXTURE_NAME = "hls-fetch-tests-20s-64k-128k-v1"
RATE = 44100


def _build(root: Path) -> None:
    build_ladder(root / "ts", SECONDS, bitrates=BITRATES)
    build_ladder(root / "fmp4", SECONDS, bitrates=BITRATES, segment_type="fmp4")
    build_ladder(root / "aes", SECONDS, bitrates=BITRATES, aes_key=AES_KEY)
    misc = root / "misc"
    build_byterange_stream(misc, SECONDS)
    build_discontinuity_stream(misc, SECONDS / 2, SECONDS / 2)
    build_audio_rendition_master(misc, SECONDS)
    build_packed_audio_stream(misc, SECONDS)


@dataclass(frozen=True)
class HlsMedia:
    root: Path
    ts: Ladder
    fmp4: Ladder
    aes: Ladder

    @property
    def misc(self) -> Path:
        return self.root / "misc"


@pytest.fixture(scope="session")
def hls_media() -> HlsMedia:
    root = cached(FIXTURE_NAME, _build)
    return HlsMedia(
        root=root,
        ts=Ladder.load(root / "ts"),
        fmp4=Ladder.load(root / "fmp4"),
        aes=Ladder.load(root / "aes"),
    )


@pytest.fixture
def hls_server(hls_media: HlsMedia) -> Iterator[MediaServer]:
    """A fresh server per test: faults, routes and stats never leak between tests."""
    with MediaServer(hls_media.root) as srv:
        yield srv


# --- expected bytes ----------------------------------------------------------------------------


def concat(paths: list[Path]) -> bytes:
    return b"".join(p.read_bytes() for p in paths)


def decrypt(data: bytes, key: bytes, iv: bytes) -> bytes:
    """An independent AES-128-CBC + PKCS#7 decrypt, so tests never trust the code under test."""
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(decryptor.update(data) + decryptor.finalize()) + unpadder.finalize()


def expected_bytes(ladder: Ladder, variant: int) -> bytes:
    """What a clean fetch of ``variant`` must write: (init +) clear segments, in order."""
    segments = ladder.segments[variant]
    if ladder.key is not None:
        body = b"".join(
            decrypt(p.read_bytes(), ladder.key, ladder.iv or seq.to_bytes(16, "big"))
            for seq, p in enumerate(segments)
        )
    else:
        body = concat(segments)
    init = ladder.init_segments[variant] if ladder.init_segments else None
    return (init.read_bytes() if init is not None else b"") + body


# --- decoding ----------------------------------------------------------------------------------


def decode(path: Path, rate: int = RATE) -> np.ndarray:
    """Decode the first audio stream to float32 stereo at ``rate``, across format changes."""
    chunks: list[np.ndarray] = []
    resampler: av.AudioResampler | None = None
    current: tuple[str, str, int] | None = None

    def drain(r: av.AudioResampler) -> None:
        for out in r.resample(None):
            chunks.append(out.to_ndarray().reshape(-1, 2))

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            shape = (frame.format.name, frame.layout.name, frame.sample_rate)
            if shape != current:
                if resampler is not None:
                    drain(resampler)
                resampler = av.AudioResampler(format="flt", layout="stereo", rate=rate)
                current = shape
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1, 2))
    if resampler is not None:
        drain(resampler)
    assert chunks, f"{path} holds no audio"
    return np.concatenate(chunks, axis=0)


def tone_seconds(pcm: np.ndarray, rate: int = RATE, base_hz: float = BASE_HZ) -> list[int]:
    """Which tone second each whole second of ``pcm`` plays, from its middle half second
    (away from the step edges, so codec priming cannot blur the answer)."""
    heard = []
    for k in range(pcm.shape[0] // rate):
        window = pcm[int((k + 0.25) * rate) : int((k + 0.75) * rate)]
        if float(np.sqrt(np.mean(window * window))) < 1e-3:
            heard.append(-1)
            continue
        heard.append(second_for_frequency(dominant_frequency(window, rate), base_hz, STEP_HZ))
    return heard


def assert_tone(path: Path, seconds: float, *, first: int = 0, base_hz: float = BASE_HZ) -> None:
    """``path`` decodes to ``seconds`` (+-0.1 s) of the tone, second ``first`` onwards."""
    pcm = decode(path)
    duration = pcm.shape[0] / RATE
    assert abs(duration - seconds) <= 0.1, f"{path.name}: {duration:.3f} s, want {seconds}"
    heard = tone_seconds(pcm, base_hz=base_hz)
    assert heard == list(range(first, first + len(heard))), heard


# --- running the CLI ---------------------------------------------------------------------------


def live_window(
    names: list[str], durations: list[float], visible: int, window: int, ends: bool
) -> bytes:
    """A live media playlist: the last ``window`` of the first ``visible`` segments (target
    duration 1), with ENDLIST once every segment is visible and ``ends``."""
    first = max(0, visible - window)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:1",
        f"#EXT-X-MEDIA-SEQUENCE:{first}",
    ]
    for i in range(first, visible):
        lines += [f"#EXTINF:{durations[i]:.6f},", names[i]]
    if ends and visible == len(names):
        lines.append("#EXT-X-ENDLIST")
    return ("\n".join(lines) + "\n").encode()


def fetch(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_cli("fetch", *args, timeout=timeout)


def play(url: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``kithara play URL --no-ui ARGS`` with no audio device (tests pass ``--output``)."""
    return run_cli(
        "play", url, "--no-ui", *args, timeout=timeout, env={"KITHARA_AUDIO_DEVICE": "none"}
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Non-zero exit and exactly one line on stderr (run with -q): the error, no traceback."""
    assert proc.returncode != 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    (line,) = lines
    assert line.startswith("kithara: error: "), line
    for needle in needles:
        assert needle in line, line
    return line


def assert_nothing_written(out: Path) -> None:
    leftovers = sorted(p.name for p in out.parent.iterdir() if p.name.startswith(out.name))
    assert leftovers == [], leftovers


def popen_fetch(*args: str) -> subprocess.Popen[str]:
    """The CLI in the background, with SIGINT at its default (as in a terminal) so Ctrl-C
    can be sent to it even when the test runner itself ignores SIGINT."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    return subprocess.Popen(
        [*KITHARA, "fetch", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


def segments_written(state_path: Path) -> int:
    """How many segments an HLS fetch's resume state says are written (0 before it has one)."""
    from kithara_cli.file.state import load_state

    state = load_state(state_path)
    return int(state.extra.get("written", 0)) if state else 0  # type: ignore[arg-type]


def playlist_text(header: list[str], entries: list[tuple[float, str]], end: bool = True) -> str:
    lines = ["#EXTM3U", *header]
    for duration, uri in entries:
        lines += [f"#EXTINF:{duration:.6f},", uri]
    if end:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def static(body: bytes | str, content_type: str = "application/vnd.apple.mpegurl"):
    """A route handler that always serves ``body``."""
    data = body.encode() if isinstance(body, str) else body

    def handler(path: str, query: dict[str, str], now: float) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": content_type}, data

    return handler


def serve_live_ladder(
    server: MediaServer,
    media: HlsMedia,
    start_visible: int,
    interval: float,
    segments: int | None = None,
) -> str:
    """Both TS variants as live playlists on one clock (numbered alike; ``start_visible``
    segments at the first request, one more every ``interval`` s; ENDLIST at the end of the
    first ``segments``), under a master at ``ts/live-master.m3u8``: its URL."""
    lock = threading.Lock()
    started: list[float] = []

    def route(
        variant: int,
    ) -> Callable[[str, dict[str, str], float], tuple[int, dict[str, str], bytes]]:
        names = [p.name for p in media.ts.segments[variant]][:segments]
        durations = media.ts.segment_durations[variant][:segments]

        def handler(
            path: str, query: dict[str, str], now: float
        ) -> tuple[int, dict[str, str], bytes]:
            with lock:
                started[:] = started or [now]
                visible = min(len(names), start_visible + int((now - started[0]) / interval))
            body = live_window(names, durations, visible, 8, True)
            return 200, {"Content-Type": "application/vnd.apple.mpegurl"}, body

        return handler

    lines = ["#EXTM3U"]
    for variant in (0, 1):
        server.add_route(f"ts/live{variant}.m3u8", route(variant))
        bandwidth = media.ts.bandwidths[variant]
        lines += [
            f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},CODECS="mp4a.40.2"',
            f"live{variant}.m3u8",
        ]
    server.add_route("ts/live-master.m3u8", static("\n".join(lines) + "\n"))
    return server.url("ts/live-master.m3u8")
