"""The hang watchdog's clock leaves out the time excused to the network (``excused``).

``HangWatchdog`` is driven step by step with a fake clock, as tests/test_crash.py does: the
seconds a read stalled on a running request (the decoder passes its reader's
``stall_waited``) do not count towards the limit; any other time without progress does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kithara_cli import crash


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_time_stalled_on_the_network_does_not_run_the_clock(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(crash.STATE_ENV, str(tmp_path))
    clock, stalled, fired = Clock(), [0.0], []
    dog = crash.HangWatchdog(
        lambda: 0, lambda: True, fired.append, limit=60, clock=clock, excused=lambda: stalled[0]
    )
    dog._last, dog._since = 0, clock.now  # as start() would, without its thread
    clock.now += 59
    assert not dog.step()
    clock.now += 600  # ten minutes on a stalled server: all of it the network's
    stalled[0] += 600
    assert not dog.step()
    assert not fired
    clock.now += 0.5  # the stall ends, nothing moves: 59.5 s charged in all
    assert not dog.step()
    clock.now += 0.5
    assert dog.step()  # 60 s of the pipeline's own: a hang
    (log,) = fired
    assert log is not None
    assert "no progress for 60 s" in log.read_text()


def test_a_stall_before_progress_is_not_credited_to_a_later_hang(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Excused seconds from before the count began are not credited to a later hang."""
    monkeypatch.setenv(crash.STATE_ENV, str(tmp_path))
    clock, progress, stalled, fired = Clock(), [0], [0.0], []
    dog = crash.HangWatchdog(
        lambda: progress[0],
        lambda: True,
        fired.append,
        limit=60,
        clock=clock,
        excused=lambda: stalled[0],
    )
    dog._last, dog._since = 0, clock.now
    stalled[0] = 30.0  # a stall that ended...
    progress[0] = 1  # ...and bytes came: the count begins again from here
    assert not dog.step()
    clock.now += 60
    assert dog.step()
    assert len(fired) == 1
