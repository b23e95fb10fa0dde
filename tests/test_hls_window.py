"""The segment scheduler's one window rule (``hls.window``) and the scheduler that applies it
(``hls.scheduler``): pure tests of the policy (no server, no sleeping), and the scheduler's
window against the loopback server (real fetches, real answers in its inbox)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kithara_cli.dl import Downloader
from kithara_cli.events import EventBus
from kithara_cli.events.types import Event, RequestEnqueued
from kithara_cli.hls.model import InitSection, MediaPlaylist, Segment
from kithara_cli.hls.playlist import parse_playlist
from kithara_cli.hls.scheduler import (
    Ask,
    SegmentDone,
    SegmentFetcher,
    SegmentWindow,
)
from kithara_cli.hls.window import FIRST_AUDIO_SECONDS, WindowPolicy, WindowView
from kithara_cli.server import Faults, MediaServer

# --- the policy, pure ---------------------------------------------------------------------------


def test_fetch_window_is_twice_the_segments_in_flight() -> None:
    policy = WindowPolicy.for_fetch(16)
    assert policy.to_submit(WindowView(0, 0, 100, 0)) == range(0, 32)
    # 5 written, 10 submitted: up to 5 + 32, whatever is in flight (the downloader bounds it)
    assert policy.to_submit(WindowView(5, 10, 100, 30)) == range(10, 37)
    assert policy.to_submit(WindowView(5, 37, 100, 0)) == range(37, 37)  # full
    assert WindowPolicy.for_fetch(1).ahead == 2  # never less than 2


def test_window_stops_at_the_segments_listed_so_far() -> None:
    """A live playlist: nothing past what the playlist lists yet, and no resubmission."""
    policy = WindowPolicy.for_fetch(4)
    assert policy.to_submit(WindowView(0, 0, 3, 0)) == range(0, 3)
    assert policy.to_submit(WindowView(0, 3, 3, 3)) == range(3, 3)
    assert policy.to_submit(WindowView(0, 3, 5, 3)) == range(3, 5)  # the playlist grew


def test_play_window_caps_fetches_at_once_and_segments_ahead() -> None:
    policy = WindowPolicy.for_play(2, 30.0)
    assert policy.to_submit(WindowView(0, 0, 100, 0, started=True)) == range(0, 2)
    assert policy.to_submit(WindowView(0, 2, 100, 2, started=True)) == range(2, 2)  # 2 at once
    assert policy.to_submit(WindowView(0, 2, 100, 1, started=True)) == range(2, 3)
    # Landed but not placed counts against ``ahead`` (prefetch + 2), not against in flight.
    assert policy.to_submit(WindowView(0, 3, 100, 0, started=True)) == range(3, 4)
    assert policy.to_submit(WindowView(0, 4, 100, 0, started=True)) == range(4, 4)
    assert WindowPolicy.for_play(0, 30.0).in_flight == 1  # at least one


def test_play_window_waits_while_the_buffer_target_is_reached() -> None:
    """Before audio starts, no more than FIRST_AUDIO_SECONDS ahead (a burst of prefetch would
    compete with the decoder's start-up); after it, the ABR's target."""
    policy = WindowPolicy.for_play(2, 30.0)
    before = FIRST_AUDIO_SECONDS
    assert not policy.to_submit(WindowView(0, 0, 100, 0, buffered=before, started=False))
    assert policy.to_submit(WindowView(0, 0, 100, 0, buffered=before - 0.1, started=False))
    assert policy.to_submit(WindowView(0, 0, 100, 0, buffered=before, started=True))
    assert policy.to_submit(WindowView(0, 0, 100, 0, buffered=29.9, started=True))
    assert not policy.to_submit(WindowView(0, 0, 100, 0, buffered=30.0, started=True))
    # A target under the start-up limit holds before playback starts as well.
    assert WindowPolicy.for_play(2, 2.0).limit_seconds(started=False) == 2.0


def _old_writer_loop(window: int, view: WindowView) -> list[int]:
    """``HlsWriter.run``'s submit loop before the policy (``window = max(2, in_flight*2)``)."""
    out, next_submit = [], view.frontier
    while next_submit < view.known and next_submit - view.position < window:
        out.append(next_submit)
        next_submit += 1
    return out


def _old_source_loop(prefetch: int, max_ahead: float, view: WindowView) -> list[int]:
    """``HlsSource._schedule`` before the policy."""
    ahead_limit = max_ahead if view.started else min(max_ahead, 4.0)
    out, next_fetch, in_flight = [], view.frontier, view.in_flight
    while (
        in_flight < prefetch
        and next_fetch < view.known
        and view.buffered < ahead_limit
        and next_fetch - view.position < prefetch + 2
    ):
        out.append(next_fetch)
        next_fetch += 1
        in_flight += 1
    return out


views = st.builds(
    lambda position, ahead, known, in_flight, buffered, started: WindowView(
        position, position + ahead, known, in_flight, buffered, started
    ),
    st.integers(0, 50),
    st.integers(0, 40),
    st.integers(0, 120),
    st.integers(0, 40),
    st.floats(-5.0, 40.0),
    st.booleans(),
)


@given(in_flight=st.integers(1, 32), view=views)
def test_fetch_policy_submits_what_the_writer_loop_did(in_flight: int, view: WindowView) -> None:
    got = list(WindowPolicy.for_fetch(in_flight).to_submit(view))
    assert got == _old_writer_loop(max(2, in_flight * 2), view)


@given(prefetch=st.integers(1, 8), max_ahead=st.floats(0.5, 60.0), view=views)
def test_play_policy_submits_what_the_source_loop_did(
    prefetch: int, max_ahead: float, view: WindowView
) -> None:
    in_flight = min(view.in_flight, view.frontier - view.position)  # never more than submitted
    view = WindowView(
        view.position, view.frontier, view.known, in_flight, view.buffered, view.started
    )
    got = list(WindowPolicy.for_play(prefetch, max_ahead).to_submit(view))
    assert got == _old_source_loop(prefetch, max_ahead, view)


# --- the scheduler applies it: real fetches from the loopback server ------------------------------

COUNT = 12


@pytest.fixture
def segments(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    rng = random.Random(7)
    bodies = {f"s{i}.ts": b"\x47" + rng.randbytes(188 * 20 - 1) for i in range(COUNT)}
    for name, body in bodies.items():
        (tmp_path / name).write_bytes(body)
    (tmp_path / "init.mp4").write_bytes(b"init" * 50)
    return tmp_path, bodies


def _playlist(server: MediaServer) -> MediaPlaylist:
    text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n" + "".join(
        f"#EXTINF:2,\ns{i}.ts\n" for i in range(COUNT)
    )
    media = parse_playlist(text + "#EXT-X-ENDLIST\n", server.url("index.m3u8"))
    assert isinstance(media, MediaPlaylist)
    return media


def test_fill_keeps_the_window_and_asks_for_the_position_first(
    segments: tuple[Path, dict[str, bytes]],
) -> None:
    """A consumer loop as the fetch writer's: the scheduler submits the window, the one at the
    consumer's position at demand priority; every segment lands once, with its bytes."""
    root, bodies = segments
    bus = EventBus()
    enqueued: list[RequestEnqueued] = []

    def record(event: Event) -> None:
        if isinstance(event, RequestEnqueued):
            enqueued.append(event)

    bus.subscribe(record)
    with MediaServer(root) as server, Downloader(bus, max_concurrent=2) as dl:
        segs: list[Segment] = list(_playlist(server).segments)
        fetcher = SegmentFetcher(dl, WindowPolicy.for_fetch(2))
        inbox = fetcher.inbox
        window = SegmentWindow()
        fetcher.fill(window, 0, COUNT, lambda i: Ask(segs[i]))
        assert sorted(window.in_flight) == [0, 1, 2, 3] and window.frontier == 4
        position, got, widest = 0, {}, 0
        while position < COUNT:
            msg = inbox.get(timeout=10)
            assert isinstance(msg, SegmentDone) and window.take(msg)
            assert msg.outcome.state == "ok"
            got[msg.index] = bytes(msg.data)
            while position in got:
                position += 1
            fetcher.fill(window, position, COUNT, lambda i: Ask(segs[i]))
            widest = max(widest, window.frontier - position)
        assert not window.in_flight
    assert widest <= 4
    assert got == {i: bodies[f"s{i}.ts"] for i in range(COUNT)}
    labels = [e.label for e in enqueued]
    assert labels == [f"segment {i}" for i in range(COUNT)]
    assert enqueued[0].priority == "demand"
    assert all(e.priority == "prefetch" for e in enqueued[1:4])  # the rest of the first fill


def test_an_abandoned_dropped_or_older_runs_answer_is_not_taken(
    segments: tuple[Path, dict[str, bytes]],
) -> None:
    root, _ = segments
    noted: list[tuple[int, int]] = []
    with MediaServer(root) as server, Downloader(EventBus(), max_concurrent=4) as dl:
        server.set_faults("s*.ts", Faults(latency=5.0))  # in flight long enough to cancel
        segs = list(_playlist(server).segments)
        fetcher = SegmentFetcher(
            dl, WindowPolicy.for_play(3, 30.0), on_request=lambda r, v: noted.append((r, v))
        )
        inbox = fetcher.inbox
        window = SegmentWindow(start=0, epoch=7)
        fetcher.fill(window, 0, COUNT, lambda i: Ask(segs[i], variant=1))
        assert sorted(window.in_flight) == [0, 1, 2]
        assert [v for _, v in noted] == [1, 1, 1]  # the ABR is told of each request
        rid = window.in_flight[1].request_id
        assert window.abandon(rid) == 1 and window.abandon(rid) is None
        window.drop(2, "skipped")
        assert sorted(window.in_flight) == [0]
        answers = [inbox.get(timeout=10), inbox.get(timeout=10)]
        assert sorted(m.index for m in answers if isinstance(m, SegmentDone)) == [1, 2]
        assert not any(isinstance(m, SegmentDone) and window.take(m) for m in answers)
        newer = SegmentWindow(start=0, epoch=8)  # a seek: the old run's answer is not its own
        window.cancel_all("epoch", wait=5)
        old = inbox.get(timeout=10)
        assert isinstance(old, SegmentDone) and old.index == 0
        assert old.outcome.state == "cancelled"
        assert not newer.take(old)


def test_an_init_section_is_fetched_once(segments: tuple[Path, dict[str, bytes]]) -> None:
    """A switch back to a variant whose init was already fetched costs no request."""
    root, _ = segments
    with MediaServer(root) as server, Downloader(EventBus()) as dl:
        fetcher = SegmentFetcher(dl, WindowPolicy.for_fetch(2))
        init = InitSection(server.url("init.mp4"), None)
        assert fetcher.init_bytes(init) == fetcher.init_bytes(init) == b"init" * 50
        assert len(server.stats.requests("init.mp4")) == 1
