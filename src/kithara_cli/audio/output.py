"""Sinks that consume a :class:`PcmRing`: a PortAudio device, a real-time null sink, a WAV file.

All sinks share one surface (:class:`Sink`). sounddevice is imported only inside the functions
that need it, so commands that never play do not load PortAudio (and work without it).

The device callback's rules (see docs/architecture): copy from the ring into ``outdata``,
zero-fill the rest, apply volume in place, count underruns in plain attributes. numpy is loaded
only when the volume leaves 1.0 or a WAV is written: the play path starts without it. It never
allocates buffers, never waits on a lock, never logs and never publishes; a small watcher thread
turns the underrun counter into ``Underrun`` events.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from kithara_cli.audio.ring import PcmRing

if TYPE_CHECKING:
    import wave

    import numpy as np
from kithara_cli.errors import OutputError
from kithara_cli.events.types import Event, Underrun

DEFAULT_RATE = 48000
DEFAULT_BLOCKSIZE = 1024
_WATCH_SECONDS = 0.05


@runtime_checkable
class Sink(Protocol):
    """What the player drives. ``finished`` is set once the ring's end of stream has played.

    ``error`` is set (once, never cleared) when the sink can no longer play: a WAV that cannot
    be written, a device that stopped. The sink then consumes nothing more; the player reads
    it and stops with it, so a full disk ends playback with one line instead of a hang.
    """

    finished: threading.Event
    error: OutputError | None
    realtime: bool
    """Plays at the audio's own pace (a device, the null sink); False: drains as fast as the
    decoder fills (a WAV file), so a full ring is no sign that playback is ahead."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def pause(self, paused: bool) -> None: ...

    @property
    def paused(self) -> bool: ...
    @property
    def volume(self) -> float: ...
    @volume.setter
    def volume(self, value: float) -> None: ...
    @property
    def underruns(self) -> int: ...
    @property
    def frames_played(self) -> int: ...
    @property
    def rate(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def latency(self) -> float: ...


class _SinkBase:
    """Shared state: volume, pause, underrun accounting, end-of-stream detection."""

    realtime: bool = True

    def __init__(self, ring: PcmRing, rate: int, channels: int | None) -> None:
        channels = ring.channels if channels is None else channels
        if channels != ring.channels:
            raise ValueError(f"ring has {ring.channels} channels, sink wants {channels}")
        self.ring: Final[PcmRing] = ring
        self.rate: Final[int] = int(rate)
        self.channels: Final[int] = channels
        self._volume = 1.0
        self._np: Any = None  # numpy, loaded when the volume first leaves 1.0
        self._paused = False
        self._underruns = 0
        self._armed_generation = -1  # ring generation in which a full block was read
        self.finished = threading.Event()
        self.error: OutputError | None = None

    @property
    def latency(self) -> float:
        """Seconds between a frame leaving the ring and being heard."""
        return 0.0

    @property
    def volume(self) -> float:
        return self._volume

    @volume.setter
    def volume(self, value: float) -> None:
        value = min(2.0, max(0.0, float(value)))
        if value != 1.0 and self._np is None:
            import numpy  # here, never in the callback

            self._np = numpy
        self._volume = value

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self, paused: bool) -> None:
        """Output silence without consuming the ring (not an underrun)."""
        self._paused = bool(paused)

    @property
    def underruns(self) -> int:
        """Gaps: blocks that came up short after playback started, not at end of stream."""
        return self._underruns

    @property
    def frames_played(self) -> int:
        """Frames this sink took from the ring (subtract ``latency`` for what is heard)."""
        return self.ring.frames_played

    def _account(self, got: int, wanted: int) -> None:
        """Underrun bookkeeping; plain attribute work only (runs in the audio callback)."""
        ring = self.ring
        generation = ring.generation
        if got == wanted:
            self._armed_generation = generation
        elif not ring.eos:
            if self._armed_generation == generation:
                self._underruns += 1
            self._armed_generation = -1

    def _apply_volume(self, block: Any) -> None:
        """Scale float32 frames in place (any writable buffer)."""
        volume = self._volume
        np = self._np
        if volume != 1.0 and np is not None:
            samples = np.frombuffer(block, dtype=np.float32)
            np.multiply(samples, volume, out=samples)
            if volume > 1.0:
                np.clip(samples, -1.0, 1.0, out=samples)


class _UnderrunWatcher:
    """Publishes ``Underrun`` from outside the callback when the counter grows."""

    def __init__(self, sink: _SinkBase, on_event: Callable[[Event], None]) -> None:
        self._sink = sink
        self._on_event = on_event
        self._stop = threading.Event()
        self._seen = sink.underruns
        self._thread = threading.Thread(target=self._run, name="kithara-underruns", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(_WATCH_SECONDS):
            self.poll()
        self.poll()

    def poll(self) -> None:
        count = self._sink.underruns
        if count > self._seen:
            self._seen = count
            try:
                self._on_event(Underrun(count=count))
            except Exception:
                pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1.0)


def _import_sounddevice() -> Any:
    """Import sounddevice lazily; OSError means the PortAudio library is missing."""
    import sounddevice

    return sounddevice


class DeviceSink(_SinkBase):
    """A PortAudio output stream fed by the ring from its callback.

    At end of stream (ring drained after ``mark_eos``) the callback stops the stream after the
    last block and ``finished`` is set once it has played; ``start()`` again resumes after a
    seek back. ``stop()`` is final: it releases the device.
    """

    def __init__(
        self,
        ring: PcmRing,
        device: int | str | None = None,
        rate: int | None = None,
        channels: int | None = None,
        blocksize: int = DEFAULT_BLOCKSIZE,
        latency: float | str = "high",
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        sd = _import_sounddevice()
        if rate is None:
            info = sd.query_devices(device, "output")
            rate = int(info["default_samplerate"])
        super().__init__(ring, rate, channels)
        self._sd = sd
        self._callback_stop = sd.CallbackStop
        self._on_event = on_event
        self._watcher: _UnderrunWatcher | None = None
        self.xruns = 0
        """Output underflows PortAudio itself reported (includes device-side hiccups)."""
        frame_bytes = ring.frame_bytes
        self._frame_bytes = frame_bytes
        self._silence = memoryview(bytes(8 * blocksize * frame_bytes))
        self._stream = sd.RawOutputStream(
            samplerate=self.rate,
            blocksize=blocksize,
            device=device,
            channels=self.channels,
            dtype="float32",
            latency=latency,
            callback=self._callback,
            finished_callback=self._on_finished,
            prime_output_buffers_using_stream_callback=True,
        )
        self._closed = False

    @property
    def latency(self) -> float:
        return float(self._stream.latency)

    @property
    def device_name(self) -> str:
        info = self._sd.query_devices(self._stream.device)
        return str(info["name"])

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        if status.output_underflow:
            self.xruns += 1
        ring = self.ring
        out = memoryview(outdata)
        if self._paused:
            ring.skip_pending()
            self._fill_silence(out, 0)
            return
        got = ring.read_into(out)
        if got < frames:
            self._fill_silence(out, got * self._frame_bytes)
        self._account(got, frames)
        self._apply_volume(out)
        if got < frames and ring.drained:
            raise self._callback_stop

    def _fill_silence(self, out: memoryview, start: int) -> None:
        silence = self._silence
        size = len(silence)
        end = len(out)
        while start < end:  # one pass unless PortAudio asked for more than 8 blocks
            k = min(size, end - start)
            out[start : start + k] = silence[:k]
            start += k

    def _on_finished(self) -> None:
        if self.ring.drained:
            self.finished.set()
        elif not self._closed and self.error is None:
            # PortAudio ended the stream itself (device lost, host error): not our stop.
            self.error = OutputError("the audio output device stopped")

    def start(self) -> None:
        if self._closed:
            raise RuntimeError("sink was stopped")
        stream = self._stream
        if stream.active:
            return
        if not stream.stopped:
            stream.stop()  # after a CallbackStop the stream is inactive but not stopped
        self.finished.clear()
        if self._on_event is not None and self._watcher is None:
            self._watcher = _UnderrunWatcher(self, self._on_event)
        stream.start()

    def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._stream.abort()
        finally:
            self._stream.close()
            if self._watcher is not None:
                self._watcher.close()
                self._watcher = None


class NullSink(_SinkBase):
    """Consumes the ring in real time on a thread, in ~10 ms blocks; for no device / tests."""

    def __init__(
        self,
        ring: PcmRing,
        rate: int | None = None,
        channels: int | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        super().__init__(ring, rate or DEFAULT_RATE, channels)
        self._on_event = on_event
        self._frames_per_block = max(1, self.rate // 100)
        self._block = memoryview(bytearray(self._frames_per_block * ring.frame_bytes))
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._watcher: _UnderrunWatcher | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self.finished.clear()
        self._stopping.clear()
        if self._on_event is not None and self._watcher is None:
            self._watcher = _UnderrunWatcher(self, self._on_event)
        self._thread = threading.Thread(target=self._run, name="kithara-null-sink", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        block = self._block
        frames = self._frames_per_block
        period = frames / self.rate
        ring = self.ring
        # Until the first audio, wake when the decoder writes, not up to a block later.
        while not self._stopping.is_set() and not ring.wait_readable(0.05):
            pass
        deadline = time.monotonic()
        while not self._stopping.is_set():
            if self._paused:
                ring.skip_pending()
                self._stopping.wait(period)
                deadline = time.monotonic()
                continue
            got = ring.read_into(block)
            ring.notify_space()
            self._account(got, frames)
            if got < frames and ring.drained:
                self.finished.set()
                return
            deadline += period
            delay = deadline - time.monotonic()
            if delay > 0:
                self._stopping.wait(delay)
            elif delay < -0.2:  # we were starved of CPU: do not burst to catch up
                deadline = time.monotonic()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(2.0)
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None


def float_to_s16(pcm: np.ndarray) -> np.ndarray:
    """Float32 [-1, 1) -> little-endian int16, rounded and clipped (what a device would get)."""
    import numpy as np

    scaled = np.rint(pcm * 32768.0)
    np.clip(scaled, -32768.0, 32767.0, out=scaled)
    return scaled.astype("<i2")


class WavSink(_SinkBase):
    """Writes the PCM a device would get to an S16 WAV, as fast as the ring fills (unpaced).

    The header is finalised when the stream ends or on ``stop()``.
    """

    realtime = False

    def __init__(
        self,
        path: str | os.PathLike[str],
        ring: PcmRing,
        rate: int | None = None,
        channels: int | None = None,
    ) -> None:
        super().__init__(ring, rate or DEFAULT_RATE, channels)
        self._path = Path(path)
        import wave  # (only a wav: output needs it)

        try:
            self._wav: wave.Wave_write | None = wave.open(str(self._path), "wb")  # noqa: SIM115
        except OSError as exc:
            raise OutputError(f"cannot write {self._path}: {exc.strerror or exc}") from exc
        self._wav.setnchannels(self.channels)
        self._wav.setsampwidth(2)
        self._wav.setframerate(self.rate)
        import numpy

        self._np = numpy
        self._block = numpy.zeros((4096, self.channels), dtype=numpy.float32)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.frames_written = 0

    @property
    def path(self) -> Path:
        return self._path

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self.finished.clear()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="kithara-wav-sink", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        ring = self.ring
        block = self._block
        try:
            while not self._stopping.is_set():
                if self._paused:
                    self._stopping.wait(0.01)
                    continue
                if not ring.wait_readable(0.1):
                    continue
                got = ring.read_into(block)
                ring.notify_space()
                if got:
                    chunk = block[:got]
                    self._apply_volume(chunk)
                    self._write(float_to_s16(chunk))
                elif ring.drained or ring.closed:
                    self.finished.set()
                    self._finalise()
                    return
                else:
                    time.sleep(0.001)
        except OSError as exc:
            self.error = OutputError(f"cannot write wav:{self._path}: {exc.strerror or exc}")
            self._finalise()

    def _write(self, s16: np.ndarray) -> None:
        with self._lock:
            if self._wav is not None:
                self._wav.writeframesraw(s16.tobytes())
                self.frames_written += len(s16)

    def _finalise(self) -> None:
        with self._lock:
            if self._wav is not None:
                try:
                    self._wav.close()  # patches the RIFF and data sizes
                except OSError as exc:  # the same full disk again (wave closes the file
                    if self.error is None:  # itself): report it once, the first
                        self.error = OutputError(
                            f"cannot write wav:{self._path}: {exc.strerror or exc}"
                        )
                finally:
                    self._wav = None

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5.0)
        self._finalise()


# --- choosing a sink -------------------------------------------------------------------------
