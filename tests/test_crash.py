"""No traceback reaches a user: an unexpected exception is one line naming a crash log, exit 1.

End to end through the CLI with the test-only hook ``KITHARA_TEST_CRASH`` (a RuntimeError in
the main thread, or in a thread of its own); the watchdog and the start bounds with an
injected clock.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli import crash
from kithara_cli.audio.bounds import DecoderLimits, StartBounds
from kithara_cli.errors import DecoderError

LINE = re.compile(
    r"^kithara: error: internal error \(RuntimeError: test crash in (the main thread|a thread)\); "
    r"details in (?P<log>\S+crash-\d{8}-\d{6}(-\d+)?\.log)$"
)


def crash_run(where: str, state: Path, *args: str):
    return run_cli(
        *args, timeout=30, env={crash.TEST_CRASH_ENV: where, crash.STATE_ENV: str(state)}
    )


@pytest.mark.parametrize("where", ["main", "thread"])
def test_an_unexpected_exception_is_one_line_naming_the_crash_log(
    tmp_path: Path, where: str
) -> None:
    proc = crash_run(where, tmp_path, "play", "nothing.mp3")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    match = LINE.match(lines[0])
    assert match, lines[0]
    log = Path(match["log"])
    assert log.parent == tmp_path
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: test crash in" in text
    assert "argv:" in text


def test_verbose_prints_the_trace_too(tmp_path: Path) -> None:
    proc = crash_run("main", tmp_path, "play", "nothing.mp3", "--verbose")
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert LINE.match(proc.stderr.splitlines()[-1]), proc.stderr


def test_the_state_directory_follows_xdg(tmp_path: Path) -> None:
    assert crash.state_dir({crash.STATE_ENV: str(tmp_path)}) == tmp_path
    assert crash.state_dir({"XDG_STATE_HOME": "/x/state"}) == Path("/x/state/kithara")
    relative = crash.state_dir({"XDG_STATE_HOME": "rel"})  # the spec ignores a relative one
    assert relative == Path.home() / ".local" / "state" / "kithara"


def test_the_line_is_printable_and_short() -> None:
    line = crash.one_line(ValueError("bad\x1b[31m\nvalue " + "x" * 500), None)
    assert "\x1b" not in line and "\n" not in line
    assert line.startswith("kithara: error: internal error (ValueError: bad?[31m value")
    assert len(line) < 300


# --- the hang watchdog and the start bounds, on an injected clock -----------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_watchdog_fires_only_when_pending_work_makes_no_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(crash.STATE_ENV, str(tmp_path))
    clock, progress, pending, fired = Clock(), [0], [True], []
    dog = crash.HangWatchdog(
        lambda: progress[0], lambda: pending[0], fired.append, limit=60, clock=clock
    )
    dog._last, dog._since = progress[0], clock.now  # as start() would, without its thread
    clock.now += 59
    assert not dog.step()
    progress[0] += 1  # progress restarts the count
    assert not dog.step()
    clock.now += 59
    assert not dog.step()
    pending[0] = False  # nothing pending (paused, finished): no hang however long
    clock.now += 600
    assert not dog.step()
    pending[0] = True
    assert not dog.step()
    clock.now += 60
    assert dog.step()
    (log,) = fired
    assert log is not None and log.parent == tmp_path
    dump = log.read_text()
    assert "no progress for 60 s" in dump
    assert "most recent call first" in dump  # faulthandler's stack of every thread


def test_start_bounds_count_from_the_first_byte() -> None:
    clock = Clock()
    bounds = StartBounds(DecoderLimits(open_seconds=15, first_audio_seconds=30), clock)
    clock.now += 1000
    assert bounds.check(0) is None  # nothing arrived yet: the network's business
    assert bounds.check(10) is None  # the first byte starts both clocks
    clock.now += 15.5
    error = bounds.check(50_000)
    assert isinstance(error, DecoderError) and "probing" in str(error)
    bounds.opened()
    assert bounds.check(50_000) is None
    clock.now += 15
    error = bounds.check(900_000)
    assert isinstance(error, DecoderError) and "no audio decoded" in str(error)
    bounds.audio()
    clock.now += 1000
    assert bounds.check(900_000) is None


def test_limits_come_from_the_environment() -> None:
    limits = DecoderLimits.from_env(
        {
            "KITHARA_OPEN_TIMEOUT": "2",
            "KITHARA_HANG_TIMEOUT": "0",
            "KITHARA_FIRST_AUDIO_TIMEOUT": "x",
        }
    )
    assert limits == DecoderLimits(open_seconds=2, first_audio_seconds=30, hang_seconds=0)
