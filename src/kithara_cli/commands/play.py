"""``kithara play``: open a source, start the player, show the dashboard, handle keys."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kithara_cli import interrupt
from kithara_cli.commands.common import CommonOptions, EventSinks
from kithara_cli.errors import Cancelled, KitharaError
from kithara_cli.events import EventBus, EventQueue
from kithara_cli.events.types import Notice, QueueAdvanced
from kithara_cli.play import Player, PlayerSettings, Start, parse_bitrate, parse_start
from kithara_cli.play.keys import handle_key as _handle_key
from kithara_cli.play.queue import PlayQueue, QueueItem
from kithara_cli.radio.links import StationLinkFound

# The dashboard (Rich) loads once audio has started, or after this long without it: loading
# it first put its imports and first frame on the way to first audio (30-80 ms of it).
DASHBOARD_DELAY = 0.5
# Events the dashboard has not drawn yet (kept from the player's open() on).
DASHBOARD_QUEUE = 20_000
MIRROR_ATTEMPTS = 2
# A target still opening after this long is said to be (before the dashboard can show it).
OPEN_NOTE_DELAY = 1.0
ITEM_KEYS = ("next", "prev", "quit")  # keys that end an item (while it opens too)


@dataclass
class PlayOptions:
    """``kithara play``'s own options, as parsed."""

    url: str | None  # the first target (kept for callers that give one)
    demo: bool = False
    output: str = "default"
    list_devices: bool = False
    buffer: float = 2.0
    start: str | None = None
    volume: float = 1.0
    abr: str = "auto"
    max_bitrate: str | None = None
    min_bitrate: str | None = None
    audio: str | None = None
    no_ui: bool = False
    length: float | None = None
    urls: list[str] = field(default_factory=list)  # every target, in order (queue)
    record: Path | None = None  # a radio stream's audio as it plays, and a CUE sheet
    loop: str = "none"  # "item" | "queue"
    shuffle: bool = False
    demo_profile: str = "story"
    list_outputs: bool = False
    skip_unavailable: bool = False
    episode: str | None = None  # each podcast feed plays this episode only (``pick_episode``)


def list_outputs() -> list[str]:
    """What ``--output`` accepts: the built-in sinks, then each device (none is opened)."""
    from kithara_cli.audio import list_devices

    devices = list_devices()
    return [
        "default        the system's default output device (null when there is none)",
        "null           play silently, in real time (tests, benchmarks)",
        "wav:FILE       write the decoded audio to FILE as WAV",
        "INDEX or NAME  one of these devices:",
        *(f"  {d}" for d in devices or ["(no audio output devices found)"]),
    ]


def run_play(options: PlayOptions, common: CommonOptions) -> None:
    from kithara_cli.ui.console import print_note, stderr_is_terminal

    if options.list_devices:
        from kithara_cli.audio import list_devices

        devices = list_devices()
        print("\n".join(devices) if devices else "no audio output devices found")
        return
    if options.list_outputs or options.output.strip().lower() == "help":
        print("\n".join(list_outputs()))
        return
    settings = PlayerSettings(
        output=options.output,
        buffer=options.buffer,
        volume=options.volume,
        abr=options.abr,
        max_bitrate=parse_bitrate(options.max_bitrate),
        min_bitrate=parse_bitrate(options.min_bitrate),
        audio=options.audio,
        record=options.record,
        skip_unavailable=options.skip_unavailable,
    )
    start = parse_start(options.start)  # (the first item's: a queue's others play from 0)
    if options.record is not None:
        from kithara_cli.file import check_output

        check_output(options.record, True)  # a folder that is missing fails now, not later
    from kithara_cli.ui.keys import KeyReader

    interactive = stderr_is_terminal() and KeyReader.available()
    use_ui = interactive and not options.no_ui
    caption: Callable[[], str] | None = None
    with contextlib.ExitStack() as stack:
        if options.demo and options.url is None:
            from kithara_cli.commands.demo import demo_server, get_profile

            demo_run = stack.enter_context(demo_server(get_profile(options.demo_profile)))
            targets, caption = [demo_run.url], demo_run.caption
            if not use_ui:
                print_note(
                    "playing the built-in demo (a generated HLS ladder on loopback, "
                    f"network profile {demo_run.profile.name!r}: {demo_run.profile.summary})"
                )
        else:
            from kithara_cli.play.queue import expand_folders

            targets = expand_folders(options.urls or ([options.url] if options.url else []))
            assert targets
        bus = EventBus()
        sinks = stack.enter_context(EventSinks(bus, common, verbose_log=not use_ui))
        if not use_ui and not common.verbose:
            from kithara_cli.ui.plain_log import PlainLog

            stack.callback(PlainLog(bus).close)
        from kithara_cli.commands.cache import run_cache

        # The demo's loopback port changes every run: caching it would only fill the cache.
        demo = options.demo and options.url is None
        # The cache first: its index opens while the downloader's modules load.
        cache = stack.enter_context(run_cache(None if demo else common.cache))
        settings.length = options.length
        queue = PlayQueue(targets, loop=options.loop, shuffle=options.shuffle)
        first = queue.current.target if queue.current is not None else ""
        opener: Player | None = None  # the first item's player, made before the loop
        if first.startswith(("http://", "https://")) and options.episode is None:
            # A replay's cached head plays now, before the downloader loads (``play.head``).
            opener = Player(bus, settings, heads=cache)
            if start.chapter is None:  # (a head is the audio from 0)
                opener.start_head(first, start.seconds)
        try:
            from kithara_cli.dl import Downloader

            # Not started here: its loop (asyncio) starts on first need (``Downloader.warm``).
            dl = Downloader(
                bus,
                common.net_config(),
                max_concurrent=4,
                retry=common.retry_policy(),
                cache=cache,
            )
            stack.callback(dl.close)
            if opener is not None:
                opener.dl = dl
                dl.warm(first)  # the client is made now, unless the cache holds the URL fresh
        except BaseException:
            if opener is not None:
                opener.close()
            raise
        failures = 0
        noted: set[str] = set()
        outcomes = _Outcomes()
        while (item := queue.current) is not None:
            interrupt.check()  # items that end within a poll (wav:) never reach the loop's
            # A mirror with others behind it gets two tries, not the retry policy's six.
            mirror = bool(item.from_link) and queue.index + 1 < len(queue)
            settings.first_attempts = MIRROR_ATTEMPTS if mirror else None
            player, opener = opener or Player(bus, settings, dl, heads=cache), None
            try:
                sinks.set_error_handler(player.fail)  # --events on a full disk stops playback
                # Subscribe before open(): the ladder and first requests are published there
                # (and before the queue's news, or the dashboard never shows "[2/5]").
                early = bus.queue(DASHBOARD_QUEUE) if use_ui else None
                if len(queue) > 1:
                    bus.publish(
                        QueueAdvanced(index=queue.index, length=len(queue), url=item.target)
                    )
                pressed: list[str] = []  # keys pressed while it opens
                skipped: str | None = None  # n, p or q among them
                try:
                    at = start if queue.index == 0 else Start()
                    with (
                        _opening(bus, item.target, enabled=use_ui),
                        _keys_while_opening(player, pressed, enabled=interactive),
                    ):
                        player.open(item.target, at.seconds, item.title, at.chapter)
                except StationLinkFound as found:
                    try:
                        entries = _entries(found, options.episode)
                    except KitharaError as err:
                        player.fail(err)  # no such episode: this item fails, the rest play
                    else:
                        queue.expand(found.source, entries)
                        if early is not None:
                            early.unsubscribe()
                        continue
                except KitharaError as err:
                    player.fail(err)
                if options.episode is not None and not item.from_link and player.error is None:
                    from kithara_cli.ui.sanitize import redact_userinfo

                    what = redact_userinfo(item.target)
                    print_note(f"--episode: {what} is not a podcast feed: played whole")
                if player.message and player.message not in noted:
                    noted.add(player.message)  # once a run, not once a queue item
                    print_note(player.message)
                action = "end"
                skipped = next((k for k in pressed if k in ITEM_KEYS), None)
                if skipped is not None:
                    action = skipped
                elif player.error is None:
                    for key in pressed:  # (space, arrows: once it is open)
                        _key(player, key)
                    if early is not None:
                        action = _run_interactive(player, bus, early, item.target, caption)
                    else:
                        action = _run_plain(player, interactive)
                    if early is not None:
                        early.unsubscribe()
            finally:
                player.close()
                settings.volume = player.snapshot.volume  # ↑/↓ hold for the next items (mpv)
            if action == "quit":
                break
            error = None if skipped is not None else player.error
            outcomes.add(item, error)
            if error is not None:
                failures += 1
                if failures >= len(queue):
                    raise error
                if not queue.has_next():
                    break
                what = "mirror" if item.from_link else "item"
                bus.publish(
                    Notice(
                        level="warning",
                        message=f"{what} {queue.index + 1} of {len(queue)} failed "
                        f"({error}): trying the next",
                    )
                )
                queue.advance(natural=False)
                continue
            failures = 0
            if action in ("next", "prev"):
                queue.advance(1 if action == "next" else -1, natural=False)
            elif not queue.advance():
                break
        outcomes.raise_first()


@contextlib.contextmanager
def _opening(bus: EventBus, target: str, *, enabled: bool) -> Iterator[None]:
    """While ``target`` opens, before the dashboard: a server that does not answer kept the
    terminal blank through every retry (six of ``--timeout``'s 20 s: two minutes; mpv says
    "Playing: URL" at once). Past ``OPEN_NOTE_DELAY`` a line says what is being opened, and
    the log's lines (retries, LoadSlow) follow as ``--no-ui`` prints them, until it opens."""
    if not enabled:
        yield
        return
    import threading

    from kithara_cli.ui.plain_log import PlainLog

    logs: list[PlainLog] = []
    early = bus.queue(DASHBOARD_QUEUE)  # the log from the start, if it is shown
    lock = threading.Lock()
    opened = False

    def slow() -> None:
        from kithara_cli.ui.console import print_note
        from kithara_cli.ui.sanitize import redact_userinfo

        with lock:
            if opened:
                return
            print_note(f"opening {redact_userinfo(target)}... (Ctrl-C to stop)")
            logs.append(PlainLog(bus, queue=early))

    timer = threading.Timer(OPEN_NOTE_DELAY, slow)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            opened = True
        for log in logs:
            log.close()  # (unsubscribes ``early``)
        if not logs:
            early.unsubscribe()


@contextlib.contextmanager
def _keys_while_opening(player: Player, pressed: list[str], *, enabled: bool) -> Iterator[None]:
    """Keys while the item opens, before its first audio: a dead station's retries took
    minutes with n and q unread (mpv's keys act while it loads). n, p and q end the
    opening at once (``Player.fail``: not the item's failure); all go in ``pressed``."""
    if not enabled:
        yield
        return
    import threading

    from kithara_cli.ui.keys import KeyReader

    done = threading.Event()

    def read() -> None:
        with KeyReader() as keys:
            while not done.is_set():
                key = keys.poll(0.05)
                if key is not None:
                    pressed.append(key)
                if key in ITEM_KEYS:
                    player.fail(Cancelled(f"{key} pressed while it opened"))
                    return

    reader = threading.Thread(target=read, name="kithara-keys", daemon=True)
    reader.start()
    try:
        yield
    finally:
        done.set()
        reader.join()


def _entries(found: StationLinkFound, episode: str | None) -> list[tuple[str, str]]:
    """What a link found puts in the queue: its entries, or with ``--episode`` a feed's one
    episode (a UsageError when it has none such; a station link's entries are all kept)."""
    from kithara_cli.ui.console import print_note

    entries = [(e.target, e.title) for e in found.entries]
    if episode is None:
        return entries
    if found.kind != "feed":
        print_note(f"--episode: not a podcast feed but a station link ({found.kind}): ignored")
        return entries
    from kithara_cli.radio.feeds import pick_episode
    from kithara_cli.ui.sanitize import redact_userinfo

    n = pick_episode([title for _, title in entries], episode)
    what = f'"{entries[n][1]}"' if entries[n][1] else redact_userinfo(entries[n][0])
    print_note(f"podcast feed of {len(entries)} episodes: playing episode {n + 1}, {what}")
    return entries[n : n + 1]


class _Outcomes:
    """What each item given by hand came to, for the exit code: one failed when it, or every
    entry of the link it named (mirrors: one that plays is the link playing), failed. The
    first such failure is the run's, wherever it stood in the queue (a script gets the same
    code for BAD GOOD as for GOOD BAD)."""

    def __init__(self) -> None:
        self.failed: dict[str, KitharaError] = {}
        self.played: set[str] = set()

    def add(self, item: QueueItem, error: KitharaError | None) -> None:
        key = item.from_link or item.target
        if error is None:
            self.played.add(key)
        else:
            self.failed.setdefault(key, error)

    def raise_first(self) -> None:
        for key, error in self.failed.items():
            if key not in self.played:
                raise error


def _key(player: Player, key: str | None) -> str | None:
    """One key: "quit", "next" or "prev" end this item; others act on the player."""
    if key in ("next", "prev"):
        return key
    return "quit" if _handle_key(player, key) else None


def _run_plain(player: Player, interactive: bool) -> str:
    """No dashboard: keys still work on a TTY; otherwise just play to the end."""
    if interactive:
        from kithara_cli.ui.keys import KeyReader

        with KeyReader() as keys:
            while not player.ended:
                interrupt.check()
                action = _key(player, keys.poll(0.1))
                if action is not None:
                    return action
        return "end"
    while not player.wait(0.1):
        interrupt.check()
    return "end"


def _run_interactive(
    player: Player,
    bus: EventBus,
    early: EventQueue,
    title: str,
    caption: Callable[[], str] | None = None,
) -> str:
    from kithara_cli.ui.keys import KeyReader

    with KeyReader() as keys:
        deadline = time.monotonic() + DASHBOARD_DELAY
        while not player.first_audio.is_set() and not player.ended:
            interrupt.check()
            action = _key(player, keys.poll(0.02))
            if action is not None:
                return action  # q before the dashboard is up quits as it does after
            if time.monotonic() >= deadline:
                break
        from kithara_cli.ui.console import stderr_console
        from kithara_cli.ui.dashboard import LiveDashboard

        dashboard = LiveDashboard(
            bus,
            stderr_console(),
            player_snapshot=lambda: player.snapshot,
            title=title,
            queue=early,
            caption=caption,
        )
        with dashboard:
            while not player.ended:
                interrupt.check()
                action = _key(player, keys.poll(0.05))
                if action is not None:
                    return action
            time.sleep(0.2)  # let the last frame of the dashboard show the end
        return "end"
