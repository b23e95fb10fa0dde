"""``kithara fetch`` of an endless stream: record it for ``--duration``, or until Ctrl-C.

The stream is read through a :class:`LiveStream` (ICY blocks stripped, reconnects to the live
edge) and written by a :class:`Recorder`; the duration counts audio seconds when the byte
rate is known (MP3/AAC frame headers, ``icy-br`` within a third of them: ``frame_rate``), else
wall-clock seconds. Ctrl-C finishes the file (a whole,
playable recording of what came) and then exits as interrupted. ``--split-tracks`` cuts at
ICY title changes: a stream without ICY metadata (an Ogg mount, a plain endless MP3), a file
or HLS is refused with one line and exit 2 (``split_unsupported``), nothing written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from pathlib import Path

from kithara_cli import interrupt
from kithara_cli.dl import Downloader
from kithara_cli.errors import Cancelled, KitharaError, UsageError
from kithara_cli.events.types import FetchProgress, Notice, TitleChanged
from kithara_cli.radio.live import LiveStream
from kithara_cli.radio.record import Recorder

READ_SIZE = 64 * 1024
WAIT_SLICE = 0.1


def split_unsupported(why: str) -> UsageError:
    """``--split-tracks`` cuts at ICY title changes only: any other source is refused (exit
    2, before anything is written) rather than fetched whole as if split."""
    return UsageError(f"--split-tracks needs a radio stream with ICY titles: {why}")


@dataclass(frozen=True)
class LiveFetchResult:
    files: list[Path]
    bytes: int
    seconds: float
    titles: int


@dataclass
class LiveFetch:
    """One recording of ``url`` into ``out``: ``run`` it once."""

    dl: Downloader
    url: str
    out: Path
    _: KW_ONLY
    duration: float | None
    split_tracks: bool = False
    clock: Callable[[], float] = time.monotonic
    stream: LiveStream | None = None
    """A stream that has taken over a response already (``LiveStreamFound``): recorded from
    that connection, no second one opened (stations limit their listeners)."""

    def run(self) -> LiveFetchResult:
        live = self.stream
        if live is None:
            live = LiveStream(self.dl, self.url)
            live.start()
        recorder: Recorder | None = None
        started = self.clock()
        pos = 0
        try:
            while True:
                interrupt.check()
                n = live.wait_readable(pos, READ_SIZE, WAIT_SLICE)
                if recorder is None and n != -1:
                    if self.split_tracks and not live.station.metaint:
                        raise split_unsupported("this stream sends no ICY titles (icy-metaint)")
                    recorder = Recorder(
                        self.out, split_tracks=self.split_tracks, byterate=live.byterate
                    )
                if n == 0:
                    break  # a body with no length ended
                if n > 0:
                    assert recorder is not None
                    data = live.read_at(pos, n)
                    limit = self._byte_limit(live)
                    if limit is not None:
                        data = data[: max(0, limit - pos)]
                    recorder.byterate = live.byterate  # (once the frames are read: theirs)
                    for t in live.titles_until(pos + len(data)):
                        recorder.title(t.title, recorder.seconds_at(max(t.offset, 0)))
                        self.dl.bus.publish(
                            TitleChanged(title=t.title, url=t.url, byte_offset=t.offset)
                        )
                    recorder.write(data)
                    pos += len(data)
                    self.dl.bus.publish(FetchProgress(bytes_done=pos, bytes_total=None))
                    if limit is not None and pos >= limit:
                        break
                if self._wall_done(live, started):
                    break
        except KeyboardInterrupt:
            live.close()
            if recorder is None or recorder.bytes == 0:
                if recorder is not None:
                    recorder.abort()
                raise Cancelled("interrupted: nothing recorded") from None
            files = recorder.finish()
            raise Cancelled(f"interrupted: the recording so far is saved in {files[0]}") from None
        except BaseException as exc:
            live.close()
            if recorder is not None:
                if recorder.bytes and isinstance(exc, KitharaError):
                    files = recorder.finish()  # what came is a playable recording
                    self.dl.bus.publish(
                        Notice(level="warning", message=f"recording cut short: saved {files[0]}")
                    )
                    # The error is the one line a failed fetch prints (notices are not):
                    # it says what was kept, as Ctrl-C's does.
                    exc.message = f"{exc.message} (the recording so far is saved in {files[0]})"
                else:
                    recorder.abort()
            raise
        live.close()
        assert recorder is not None
        files = recorder.finish()
        seconds = recorder.seconds_at(pos) if live.byterate else self.clock() - started
        return LiveFetchResult(files, pos, seconds, len(recorder.titles))

    def _byte_limit(self, live: LiveStream) -> int | None:
        if self.duration is None or live.byterate is None:
            return None
        return int(self.duration * live.byterate)

    def _wall_done(self, live: LiveStream, started: float) -> bool:
        if self.duration is None or live.byterate is not None:
            return False
        return self.clock() - started >= self.duration
