"""LoadSlow for live streams: arrival judged against the stream's byte rate, not a timeout.

The decision (``radio.pace.PaceJudge``) is tested on a fake clock; the whole path on the
loopback radio server paced below, at and back above the stream's bit rate.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from pathlib import Path

import radio_fixtures
from conftest import KITHARA
from kithara_cli.radio.pace import PaceConfig, PaceJudge, measured_byterate
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station
from radio_fixtures import BITRATE, read_events

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

RATE = 16_000.0  # bytes per second of playback
STEP = 0.05  # seconds between arrivals in the simulations


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _feed(judge: PaceJudge, clock: FakeClock, ratio: float, seconds: float, **kw: bool) -> list:
    """Arrivals at ``ratio`` of the playback rate for ``seconds``; the verdict changes seen."""
    changes = []
    for _ in range(round(seconds / STEP)):
        clock.now += STEP
        if ratio > 0:
            judge.arrived(int(RATE * ratio * STEP))
        change = judge.judge(RATE, **kw)
        if change is not None:
            changes.append(change)
    return changes


def _judge() -> tuple[PaceJudge, FakeClock]:
    clock = FakeClock()
    return PaceJudge(PaceConfig(window=4.0, slow_below=0.9, recover_at=1.0, hold=1.5), clock), clock


def test_at_the_bitrate_never_slow() -> None:
    judge, clock = _judge()
    assert _feed(judge, clock, 1.0, 60) == []
    assert _feed(judge, clock, 0.93, 30) == []  # a little under, within the margin
    assert judge.ratio is not None and 0.9 < judge.ratio < 1.0


def test_below_the_bitrate_is_slow_once_it_lasts() -> None:
    judge, clock = _judge()
    assert _feed(judge, clock, 0.5, 4.0) == []  # the first window is not judged (a ramp)
    changes = _feed(judge, clock, 0.5, 3.0)
    assert len(changes) == 1 and changes[0].slow
    assert 0.45 < changes[0].ratio < 0.55
    assert abs(changes[0].since_connect - 5.5) <= 2 * STEP  # window + hold
    assert changes[0].bytes_done > 0
    assert _feed(judge, clock, 0.5, 20) == []  # published once, not every check


def test_a_short_dip_is_not_slow() -> None:
    judge, clock = _judge()
    _feed(judge, clock, 1.2, 10)
    # One second at a quarter of the rate: the 4 s average dips to ~0.9, never for 1.5 s.
    assert _feed(judge, clock, 0.25, 1.0) == []
    assert _feed(judge, clock, 1.2, 10) == []


def test_a_stall_is_slow_without_any_arrival() -> None:
    judge, clock = _judge()
    _feed(judge, clock, 1.0, 10)
    changes = _feed(judge, clock, 0.0, 5)
    assert [c.slow for c in changes] == [True]


def test_hysteresis_then_recovery() -> None:
    judge, clock = _judge()
    _feed(judge, clock, 1.0, 6)
    assert [c.slow for c in _feed(judge, clock, 0.6, 8)] == [True]
    # Between the two lines (0.9 .. 1.0): still slow, no flapping.
    assert _feed(judge, clock, 0.95, 15) == []
    assert judge.slow
    changes = _feed(judge, clock, 1.1, 10)
    assert [c.slow for c in changes] == [False]
    assert changes[0].ratio >= 1.0


def test_held_back_by_our_window_is_never_slow_and_ends_slowness() -> None:
    judge, clock = _judge()
    assert _feed(judge, clock, 0.3, 20, held_back=True) == []
    assert [c.slow for c in _feed(judge, clock, 0.3, 10)] == [True]
    assert [c.slow for c in _feed(judge, clock, 0.3, 3, held_back=True)] == [False]


def test_a_new_connection_is_judged_afresh() -> None:
    judge, clock = _judge()
    _feed(judge, clock, 0.5, 8)
    assert judge.slow
    judge.connected()
    assert _feed(judge, clock, 0.0, 3.9) == []  # the reconnect's first window: not judged
    assert judge.slow  # the verdict stands until judged
    assert [c.slow for c in _feed(judge, clock, 1.5, 8)] == [False]


def test_no_byterate_no_verdict() -> None:
    judge, clock = _judge()
    for _ in range(400):
        clock.now += STEP
        assert judge.judge(None) is None
        assert judge.judge(0.0) is None


def test_measured_byterate_from_the_decoder() -> None:
    assert measured_byterate(32_000, 1.0) is None  # too little decoded to trust
    assert measured_byterate(0, 5.0) is None
    assert measured_byterate(80_000, 5.0) == 16_000


def _play(srv: MediaServer, path: str, ev: Path, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *KITHARA,
            "play",
            srv.url(path),
            "--output",
            "null",
            "--no-ui",
            "--length",
            str(seconds),
            "--events",
            str(ev),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_slow_radio_shows_loadslow_then_recovers(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    """Paced at 60% of its bit rate: LoadSlow (shown); the stream drops and comes back at
    twice its rate: LoadRecovered."""
    station = Station(
        radio_mp3, BITRATE, pace=0.6, drop_after_seconds=9.0, drop_times=1, metaint=8000
    )
    ev = tmp_path / "ev.jsonl"
    with MediaServer(radio_root) as srv:
        route = srv.add_radio("slow.mp3", station)
        proc = _play(srv, "slow.mp3", ev, 60)
        deadline = time.monotonic() + 20
        while route.bytes_sent == 0 and time.monotonic() < deadline:  # the pump has its pace
            time.sleep(0.05)
        route.station = dataclasses.replace(station, pace=2.0)  # from the next connection on
        deadline = time.monotonic() + 40
        names: list[str] = []
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.25)
            if ev.exists():
                names = [e["event"] for e in read_events(ev) if e["event"].startswith("Load")]
                if "LoadRecovered" in names:
                    break
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    events = read_events(ev)
    slow = [e for e in events if e["event"] == "LoadSlow"]
    back = [e for e in events if e["event"] == "LoadRecovered"]
    assert len(slow) == 1, names
    assert 5.0 <= slow[0]["elapsed"] <= 8.5 and slow[0]["bytes_done"] > 0
    assert len(back) == 1 and back[0]["ratio"] >= 1.0
    assert back[0]["ts"] > slow[0]["ts"]
    assert "LOAD SLOW" in err and "LOAD OK" in err  # the dashboard's log, as plain lines


def test_radio_at_its_bitrate_is_not_slow(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    ev = tmp_path / "ev.jsonl"
    with MediaServer(radio_root) as srv:
        srv.add_radio("rt.mp3", Station(radio_mp3, BITRATE, pace=1.0))
        proc = _play(srv, "rt.mp3", ev, 8)
        _, err = proc.communicate(timeout=40)
    assert proc.returncode == 0, err
    events = read_events(ev)
    assert not [e for e in events if e["event"] in ("LoadSlow", "LoadRecovered")]
    assert [e for e in events if e["event"] == "PlaybackStarted"]
    assert "LOAD SLOW" not in err


def test_loadslow_without_icy_br_uses_the_decoders_rate(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    """No ``icy-br`` header: the rate comes from what the decoder made of the bytes."""
    ev = tmp_path / "ev.jsonl"
    station = Station(radio_mp3, BITRATE, pace=0.5)
    with MediaServer(radio_root) as srv:
        route = srv.add_radio("nobr.mp3", station)
        route.headers = _without_br(route.headers)  # type: ignore[method-assign]
        proc = _play(srv, "nobr.mp3", ev, 4)
        _, err = proc.communicate(timeout=40)
    assert proc.returncode == 0, err
    assert [e for e in read_events(ev) if e["event"] == "LoadSlow"], err


def _without_br(headers):  # type: ignore[no-untyped-def]
    def wrapped(with_meta: bool) -> list[tuple[str, str]]:
        return [(k, v) for k, v in headers(with_meta) if k.lower() != "icy-br"]

    return wrapped


if __name__ == "__main__":  # pragma: no cover
    sys.exit(0)
