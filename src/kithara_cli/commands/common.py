"""Settings shared by every network command, and the event sinks they attach."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from kithara_cli.errors import KitharaError, OutputError, UsageError
from kithara_cli.events import EventBus, event_to_dict
from kithara_cli.events.types import (
    BufferLevel,
    Event,
    FetchProgress,
    Position,
    RequestProgress,
)
from kithara_cli.net import NetConfig, RetryPolicy
from kithara_cli.net.settings import DEFAULT_USER_AGENT
from kithara_cli.ui.sanitize import mask_header, redact_userinfo, sanitize

if TYPE_CHECKING:
    from kithara_cli.commands.cache import CacheSettings


@dataclass
class CommonOptions:
    """The network, cache and event options every network command shares."""

    headers: list[str] = field(default_factory=list)
    user_agent: str | None = None
    timeout: float = 20.0
    retries: int = 6
    proxy: str | None = None
    http2: bool = False
    verbose: bool = False
    events_path: Path | None = None
    deadline: float | None = None  # --deadline: seconds per request attempt, all of it
    insecure: bool = False
    ca_file: Path | None = None  # --ca-file: the CAs trusted instead of the system's
    cookies_file: Path | None = None  # --cookies: a Netscape cookies.txt
    cookies: list[str] = field(default_factory=list)  # --cookie NAME=VALUE (repeatable)
    url: str | None = None  # where --cookie pairs are sent (the command's URL)
    cache: CacheSettings | None = None  # --cache-dir, --cache-size, --offline, --no-cache

    def __post_init__(self) -> None:
        if self.cache is not None:
            from kithara_cli.cache.sent import SentHeaders

            given = bool(self.headers or self.cookies or self.cookies_file)
            self.cache.sent = SentHeaders(self.net_config, credentials=given)

    def net_config(self) -> NetConfig:
        headers: dict[str, str] = {}
        for raw in self.headers:
            name, sep, value = raw.partition(":")
            if not sep or not name.strip():
                raise UsageError(f"bad --header {mask_header(raw)!r}: expected 'Name: value'")
            headers[name.strip()] = value.strip()
        jar = None
        if self.cookies_file is not None or self.cookies:
            from kithara_cli.net.cookies import load_cookies

            jar = load_cookies(self.cookies_file, self.cookies, self.url)
        return NetConfig(
            cookies=jar,
            headers=headers,
            user_agent=self.user_agent or DEFAULT_USER_AGENT,
            read_timeout=self.timeout,
            connect_timeout=min(self.timeout, 10.0),
            proxy=self.proxy,
            http2=self.http2,
            verify_tls=not self.insecure,
            ca_file=self._ca_file(),
            request_deadline=self.deadline,
        )

    def _ca_file(self) -> str | None:
        """The --ca-file, checked here: a file that holds no certificate is the user's
        mistake (exit 2), not a TLS failure on the first request."""
        if self.ca_file is None:
            return None
        import ssl

        try:
            ssl.create_default_context(cafile=str(self.ca_file))
        except ssl.SSLError as exc:
            why = exc.reason or "unreadable"
            raise UsageError(f"--ca-file {self.ca_file}: not a PEM CA bundle ({why})") from None
        except OSError as exc:
            raise UsageError(f"--ca-file {self.ca_file}: {exc.strerror or exc}") from None
        return str(self.ca_file)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=max(1, self.retries))


_NOISY = (RequestProgress, FetchProgress, Position, BufferLevel)


ErrorHandler = Callable[[KitharaError], None]


class EventJsonl:
    """``--events FILE``: every event as one JSON line, written off the publisher's thread.

    A write that fails (a full disk) stops the writer and is reported once, as an
    ``OutputError``, to ``on_error`` (the player stops with it) and in ``error`` (a fetch
    reports it when done): never a thread dying with a traceback, never lines silently lost.
    """

    def __init__(self, bus: EventBus, path: Path, on_error: ErrorHandler | None = None) -> None:
        self._path = path
        try:
            self._file: IO[str] = path.open("w", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write events to {path}: {exc.strerror}") from exc
        self.error: OutputError | None = None
        self._on_error = on_error
        self._queue = bus.queue(maxlen=200_000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kithara-events", daemon=True)
        self._thread.start()

    def set_error_handler(self, on_error: ErrorHandler) -> None:
        """Report to ``on_error`` from now on; an error already met is reported at once."""
        self._on_error = on_error
        if self.error is not None:
            on_error(self.error)

    def _loop(self) -> None:
        while not self._stop.wait(0.2) and self.error is None:
            self._flush()
        self._flush()

    def _flush(self) -> None:
        if self.error is not None:
            self._queue.drain()  # nowhere to write them: do not let them pile up
            return
        try:
            for event in self._queue.drain():
                line = json.dumps(event_to_dict(event), default=str)
                self._file.write(redact_userinfo(line) + "\n")  # a URL's password: not here
            self._file.flush()
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        self.error = OutputError(f"cannot write events to {self._path}: {exc.strerror or exc}")
        self._queue.unsubscribe()
        if self._on_error is not None:
            self._on_error(self.error)

    def close(self) -> None:
        self._queue.unsubscribe()
        self._stop.set()
        self._thread.join(timeout=2)
        try:
            self._file.close()
        except OSError as exc:  # the last buffered lines did not fit either
            if self.error is None:
                self._failed(exc)


class VerboseLog:
    """``--verbose``: one stderr line per notable event (progress ticks left out).

    Values are URLs, errors and playlist text: each is sanitised and capped on its own, so a
    line stays readable and bounded (an event has a fixed set of fields).
    """

    def __init__(self, bus: EventBus, write: Callable[[str], None] | None = None) -> None:
        self._write = write or (lambda line: (sys.stderr.write(line + "\n"), sys.stderr.flush()))
        self._unsubscribe = bus.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, _NOISY):
            return
        fields = event_to_dict(event)
        name = fields.pop("event")
        fields.pop("ts", None)
        detail = " ".join(f"{k}={sanitize(v)}" for k, v in fields.items() if v is not None)
        self._write(f"kithara: [{name}] {detail}")

    def close(self) -> None:
        self._unsubscribe()


class EventSinks:
    """Attach --events and --verbose to a bus for the length of a command.

    A failed --events write is raised as the command's error when the sinks close (if nothing
    else failed first); ``set_error_handler`` reports it as soon as it happens (play stops).
    """

    def __init__(self, bus: EventBus, common: CommonOptions, *, verbose_log: bool = True) -> None:
        self._closers: list[Callable[[], None]] = []
        self._jsonl: EventJsonl | None = None
        if common.events_path is not None:
            self._jsonl = EventJsonl(bus, common.events_path)
            self._closers.append(self._jsonl.close)
        if common.verbose and verbose_log:
            self._closers.append(VerboseLog(bus).close)

    def set_error_handler(self, on_error: ErrorHandler) -> None:
        if self._jsonl is not None:
            self._jsonl.set_error_handler(on_error)

    @property
    def error(self) -> KitharaError | None:
        return self._jsonl.error if self._jsonl is not None else None

    def close(self) -> None:
        for close in reversed(self._closers):
            close()

    def __enter__(self) -> EventSinks:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.close()
        if exc_type is None and self.error is not None:
            raise self.error
