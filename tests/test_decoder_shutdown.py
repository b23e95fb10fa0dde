"""No exception crosses PyAV's read callback; shutdown in any state is quick; starts are bounded.

A closed source reads as the end of the stream, a real failure is raised from the decoder's
own loop with its one line, and the probe / first audio / stalled pipeline each have a bound.
The Player is driven in this process (output ``null``: no PortAudio) where its state matters;
the CLI runs as a subprocess where its stderr and exit code are the point.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import hls_fixtures
from conftest import run_cli
from hls_fixtures import HlsMedia, playlist_text, static, wait_for
from kithara_cli.audio import CountingReader, FileInput
from kithara_cli.dl import Downloader
from kithara_cli.errors import NetworkError
from kithara_cli.events import EventBus
from kithara_cli.media import encode_file
from kithara_cli.play import Player, PlayerSettings
from kithara_cli.server import Faults, MediaServer
from kithara_cli.storage import ResourceFailed, SparseResource
from kithara_cli.stream import ByteStream, Source
from kithara_cli.stream.byte_stream import WAIT_SLICE
from test_hls_live import live_route

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

CLOSE_BOUND = 1.0  # seconds Player.close may take, whatever the state
NOT_AUDIO = 4_000_000  # bytes of zeros: no demuxer finds audio in them
SLOW = 2_000  # bytes/s: FFmpeg's 32 KB probe would take 16 s


@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shutdown-media")
    encode_file(root / "tone.mp3", 20.0, "mp3")
    (root / "zeros.bin").write_bytes(bytes(NOT_AUDIO))
    return root


@pytest.fixture
def media_server(media_root: Path) -> Iterator[MediaServer]:
    with MediaServer(media_root) as srv:
        yield srv


def play(url: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60):
    return run_cli(
        "play",
        url,
        "--no-ui",
        "--output",
        "null",
        *args,
        timeout=timeout,
        env={"KITHARA_AUDIO_DEVICE": "none", **(env or {})},
    )


def assert_one_error_line(proc, *needles: str) -> str:
    """Play's progress lines may come first; then exactly one error line, and no trace."""
    assert proc.returncode != 0, proc.stderr
    assert_no_traceback(proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("kithara: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], proc.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def assert_no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert "exception being dropped" not in stderr, stderr


class Session:
    """A Player on its own downloader, closed by the test (and timed)."""

    def __init__(self, url: str) -> None:
        self.bus = EventBus()
        self.dl = Downloader(self.bus).__enter__()
        self.player = Player(self.bus, PlayerSettings(output="null", buffer=2.0), self.dl)
        self.url = url

    def open(self) -> Player:
        self.player.open(self.url)
        return self.player

    def close(self) -> float:
        """Seconds ``Player.close`` took; the decoder thread has ended by then."""
        started = time.monotonic()
        self.player.close()
        took = time.monotonic() - started
        decoder = self.player._decoder
        assert decoder is None or decoder.done.is_set(), "the decoder thread still runs"
        self.dl.__exit__(None, None, None)
        return took


# --- the CLI: no traceback, one line -----------------------------------------------------------


class LiveFmp4:
    """Route handler: a live fMP4 playlist over variant 1 of the ladder. ``visible`` segments
    at the first request, one more every ``grow`` seconds (never, by default); a SAMPLE-AES
    key before segment ``key_at``. fMP4 is where FFmpeg's MP4 demuxer reads again after a
    failed read, so an exception raised in the read callback was printed as dropped."""

    def __init__(
        self, hls_media: HlsMedia, *, visible: int, grow: float = 1e9, key_at: int | None = None
    ) -> None:
        ladder = hls_media.fmp4
        self.names = [p.name for p in ladder.segments[1]]
        self.durations = ladder.segment_durations[1]
        init = ladder.init_segments[1]
        assert init is not None
        self.init = init.name
        self.visible, self.grow, self.key_at = visible, grow, key_at
        self.t0: float | None = None

    def __call__(self, path: str, query: dict[str, str], now: float):
        if self.t0 is None:
            self.t0 = now
        shown = min(len(self.names), self.visible + int((now - self.t0) / self.grow))
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:7",
            "#EXT-X-TARGETDURATION:2",
            "#EXT-X-MEDIA-SEQUENCE:0",
            f'#EXT-X-MAP:URI="{self.init}"',
        ]
        for i in range(shown):
            if i == self.key_at:
                lines.append('#EXT-X-KEY:METHOD=SAMPLE-AES,URI="key.bin"')
            lines += [f"#EXTINF:{self.durations[i]:.6f},", self.names[i]]
        return (
            200,
            {"Content-Type": "application/vnd.apple.mpegurl"},
            ("\n".join(lines) + "\n").encode(),
        )


@pytest.mark.parametrize(("visible", "length"), [(1, "1.5"), (2, "3")])
def test_live_play_with_length_ends_without_a_traceback(
    hls_media: HlsMedia, hls_server: MediaServer, visible: int, length: str
) -> None:
    """``--length`` on a live playlist (that has not grown since) closes the source while the
    decoder waits in a read for the next segment: the read ends as the end of the stream,
    nothing is raised through PyAV (before: "PyAV library exception being dropped" and two
    tracebacks, on every run)."""
    hls_server.add_route("fmp4/live.m3u8", LiveFmp4(hls_media, visible=visible))
    proc = play(hls_server.url("fmp4/live.m3u8"), "--length", length)
    assert proc.returncode == 0, proc.stderr
    assert_no_traceback(proc.stderr)


def test_live_ts_play_with_length_ends_without_a_traceback(
    hls_media: HlsMedia, hls_server: MediaServer
) -> None:
    url, _ = live_route(hls_media, hls_server, ends=False)
    proc = play(url, "--length", "2")
    assert proc.returncode == 0, proc.stderr
    assert_no_traceback(proc.stderr)


def test_sample_aes_in_a_live_update_is_exactly_one_line(
    hls_media: HlsMedia, hls_server: MediaServer
) -> None:
    """The refusal fails the run under the decoder's blocked read; the decoder raises it from
    its own loop: one line (before: two tracebacks in front of it), exit 5."""
    route = LiveFmp4(hls_media, visible=3, grow=0.5, key_at=4)
    hls_server.add_route("fmp4/sample-aes.m3u8", route)
    proc = play(hls_server.url("fmp4/sample-aes.m3u8"))
    assert_one_error_line(proc, "SAMPLE-AES")
    assert proc.returncode == 5


def test_sample_aes_play_is_exactly_one_line(hls_media: HlsMedia, hls_server: MediaServer) -> None:
    ladder = hls_media.aes
    entries = list(
        zip(ladder.segment_durations[0], [p.name for p in ladder.segments[0]], strict=True)
    )
    text = playlist_text(
        ["#EXT-X-TARGETDURATION:2", '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="key.bin"'], entries
    )
    hls_server.add_route("aes/sample.m3u8", static(text))
    proc = play(hls_server.url("aes/sample.m3u8"))
    assert_one_error_line(proc, "SAMPLE-AES")
    assert proc.returncode == 5


def test_a_slow_body_that_is_not_audio_ends_at_the_probe_bound(
    media_server: MediaServer,
) -> None:
    """Bytes keep arriving and none is audio: one line, exit 5, once the open bound passes
    (before: FFmpeg probed as long as bytes came)."""
    media_server.set_faults("zeros.bin", Faults(rate_per_conn=SLOW))
    started = time.monotonic()
    proc = play(media_server.url("zeros.bin"), env={"KITHARA_OPEN_TIMEOUT": "2"})
    took = time.monotonic() - started
    line = assert_one_error_line(proc, "probing")
    assert proc.returncode == 5, line
    assert took < 2 + 8, took  # the bound, plus start-up on a loaded machine


def test_a_stalled_pipeline_dumps_every_thread_and_exits(
    media_server: MediaServer, tmp_path: Path
) -> None:
    """The decoder's thread blocks for good with nothing waiting on the network (the
    test-only ``KITHARA_TEST_CRASH=hang``, a deadlock's stand-in): the hang watchdog writes
    every thread's stack to a crash log, and play ends with one line naming it. (A server
    that stalls is the network's to end: tests/test_s14_watchdog_network_stall.py.)"""
    state = tmp_path / "state"
    proc = play(
        media_server.url("tone.mp3"),
        env={
            "KITHARA_HANG_TIMEOUT": "1.5",
            "KITHARA_STATE_DIR": str(state),
            "KITHARA_TEST_CRASH": "hang",
        },
    )
    line = assert_one_error_line(proc, "stalled")
    assert proc.returncode == 5, line
    (log,) = state.glob("crash-*.log")
    assert str(log) in line
    dump = log.read_text()
    assert "most recent call first" in dump
    assert "decoder.py" in dump  # the decoder thread's stack, where it blocked
    assert "hang_if_asked" in dump


# --- Player.close in every state ----------------------------------------------------------------


def test_close_while_probing_is_quick(media_server: MediaServer, capfd) -> None:
    media_server.set_faults("zeros.bin", Faults(rate_per_conn=SLOW))
    session = Session(media_server.url("zeros.bin"))
    player = session.open()
    wait_for(lambda: player._decoder.bytes_read > 0, what="the probe to start")
    assert not player._decoder.ready.is_set()  # still probing
    assert session.close() < CLOSE_BOUND
    assert player.error is None
    assert_no_traceback(capfd.readouterr().err)


def test_close_while_opening_is_quick(media_server: MediaServer, capfd) -> None:
    """Nothing arrives yet (the first byte is 5 s away): the decoder waits in its first read."""
    media_server.set_faults("tone.mp3", Faults(first_byte_delay=5))
    session = Session(media_server.url("tone.mp3"))
    session.open()
    time.sleep(0.3)
    assert session.close() < CLOSE_BOUND
    assert_no_traceback(capfd.readouterr().err)


def test_close_right_after_a_seek_is_quick(
    hls_media: HlsMedia, hls_server: MediaServer, capfd
) -> None:
    """The seek retires the run the decoder reads and opens one whose segments stall."""
    variant = hls_media.ts.variants[1].relative_to(hls_media.root)
    session = Session(hls_server.url(str(variant)))
    player = session.open()
    assert player.first_audio.wait(20)
    hls_server.set_faults("ts/*.ts", Faults(stall_after=0, stall_seconds=30))
    player.seek_to(14.0)
    time.sleep(0.3)
    assert session.close() < CLOSE_BOUND
    assert player.error is None
    assert_no_traceback(capfd.readouterr().err)


def test_close_while_waiting_for_the_next_live_segment_is_quick(
    hls_media: HlsMedia, hls_server: MediaServer, capfd
) -> None:
    ladder = hls_media.ts
    names = [p.name for p in ladder.segments[1]]
    durations = ladder.segment_durations[1]
    text = playlist_text(["#EXT-X-TARGETDURATION:2"], [(durations[0], names[0])], end=False)
    hls_server.add_route("ts/still.m3u8", static(text))  # live, and never grows
    session = Session(hls_server.url("ts/still.m3u8"))
    player = session.open()
    decoder = player._decoder
    wait_for(lambda: decoder.first_audio.is_set(), what="first audio")
    wait_for(decoder._waiting_for_input, what="the decoder to wait for the next segment")
    time.sleep(0.2)
    assert session.close() < CLOSE_BOUND
    assert player.error is None
    assert_no_traceback(capfd.readouterr().err)


def test_failure_during_a_read_is_raised_from_the_decoder_loop(media_server: MediaServer) -> None:
    """A failed download under a blocked read: the decoder reports the network's own typed
    error (exit 3), not a PyAV error about a dropped exception."""
    media_server.set_faults("tone.mp3", Faults(reset_after=48_000))
    proc = play(media_server.url("tone.mp3"), "--retries", "1")
    assert_no_traceback(proc.stderr)
    assert_one_error_line(proc)
    assert proc.returncode == 3, proc.stderr


def test_segments_that_do_not_match_their_init_section_end_at_the_probe_bound(
    hls_media: HlsMedia, hls_server: MediaServer
) -> None:
    """An fMP4 init section in front of MPEG-TS segments: FFmpeg's MP4 demuxer skips "boxes"
    of TS bytes, and play waited forever (before). Now: one line, exit 5, at the bound."""
    ts, fmp4 = hls_media.ts, hls_media.fmp4
    init = fmp4.init_segments[1]
    assert init is not None
    entries = list(zip(ts.segment_durations[1], [p.name for p in ts.segments[1]], strict=True))
    header = [
        "#EXT-X-VERSION:7",
        "#EXT-X-TARGETDURATION:3",
        f'#EXT-X-MAP:URI="../fmp4/{init.name}"',
    ]
    hls_server.add_route("ts/mismatched.m3u8", static(playlist_text(header, entries)))
    started = time.monotonic()
    proc = play(hls_server.url("ts/mismatched.m3u8"), env={"KITHARA_OPEN_TIMEOUT": "2"})
    took = time.monotonic() - started
    assert_one_error_line(proc, "probing")
    assert proc.returncode == 5
    assert took < 2 + 8, took


# --- the stream and the reader never raise into PyAV ---------------------------------------------


class ResourceSource(Source):
    """``stream.Source`` over a real SparseResource (what the HLS run does, minus HLS)."""

    def __init__(self, resource: SparseResource) -> None:
        self.resource = resource

    def wait_readable(self, offset: int, size: int, timeout: float | None = None) -> int:
        if not self.resource.wait_range(offset, offset + 1, timeout):
            return -1
        return min(size, self.resource.available_from(offset) - offset)

    def read_at(self, offset: int, size: int) -> bytes:
        return self.resource.read_at(offset, size)

    def length(self) -> int | None:
        return self.resource.total

    def reader_moved(self, offset: int) -> None:
        pass


def blocked_read(stream: ByteStream, then: Callable[[], None]) -> tuple[bytes, float]:
    """A read that has to wait (nothing at offset 4), ``then`` run from another thread."""
    assert stream.read(4) == b"abcd"
    timer = threading.Timer(0.2, then)
    timer.start()
    started = time.monotonic()
    data = stream.read(4)
    timer.join()
    return data, time.monotonic() - started - 0.2


@pytest.fixture
def resource(tmp_path: Path) -> Iterator[SparseResource]:
    with SparseResource(tmp_path / "r.bin") as res:
        res.write_at(0, b"abcd")
        yield res


def test_a_closed_source_reads_as_the_end(resource: SparseResource) -> None:
    stream = ByteStream(ResourceSource(resource))
    data, late = blocked_read(stream, resource.close)
    assert data == b"" and late < 0.2
    assert stream.source_closed and stream.failure is None


def test_a_failure_under_a_read_is_kept_not_raised(resource: SparseResource) -> None:
    stream = ByteStream(ResourceSource(resource))
    data, _ = blocked_read(stream, lambda: resource.fail(NetworkError("connection lost")))
    assert data == b""
    assert isinstance(stream.failure, ResourceFailed)
    assert isinstance(stream.failure.cause, NetworkError)
    reader = CountingReader(stream)
    assert reader.read(4) == b"" and reader.failure is stream.failure


def test_cancel_ends_a_blocked_read(resource: SparseResource) -> None:
    stream = ByteStream(ResourceSource(resource))
    stop = threading.Event()
    stream.cancel = stop.is_set
    data, late = blocked_read(stream, stop.set)
    assert data == b"" and late < 0.2 + WAIT_SLICE
    assert stream.cancelled and not stream.source_closed


def test_the_reader_turns_any_exception_into_the_end() -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            raise ValueError("a bug in a file object")

        def seek(self, offset: int, whence: int = 0) -> int:
            raise RuntimeError("cannot")

    reader = CountingReader(FileInput(Broken()))
    assert reader.read(10) == b""
    assert isinstance(reader.failure, ValueError)
    assert reader.seek(5) == -1
