"""Settings shared by every network command, and the event sinks they attach."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from kithara_cli.errors import OutputError, UsageError
from kithara_cli.events import EventBus, event_to_dict
from kithara_cli.events.types import (
    BufferLevel,
    Event,
    FetchProgress,
    Position,
    RequestProgress,
)
from kithara_cli.net import NetConfig, RetryPolicy
from kithara_cli.net.client import DEFAULT_USER_AGENT
from kithara_cli.ui.sanitize import sanitize


@dataclass
class CommonOptions:
    headers: list[str] = field(default_factory=list)
    user_agent: str | None = None
    timeout: float = 20.0
    retries: int = 6
    proxy: str | None = None
    http2: bool = False
    verbose: bool = False
    events_path: Path | None = None
    deadline: float | None = None  # --deadline: seconds per request attempt, all of it

    def net_config(self) -> NetConfig:
        headers: dict[str, str] = {}
        for raw in self.headers:
            name, sep, value = raw.partition(":")
            if not sep or not name.strip():
                raise UsageError(f"bad --header {raw!r}: expected 'Name: value'")
            headers[name.strip()] = value.strip()
        return NetConfig(
            headers=headers,
            user_agent=self.user_agent or DEFAULT_USER_AGENT,
            read_timeout=self.timeout,
            connect_timeout=min(self.timeout, 10.0),
            proxy=self.proxy,
            http2=self.http2,
            request_deadline=self.deadline,
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=max(1, self.retries))


_NOISY = (RequestProgress, FetchProgress, Position, BufferLevel)


class EventJsonl:
    """``--events FILE``: every event as one JSON line, written off the publisher's thread."""

    def __init__(self, bus: EventBus, path: Path) -> None:
        try:
            self._file: IO[str] = path.open("w", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write events to {path}: {exc.strerror}") from exc
        self._queue = bus.queue(maxlen=200_000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kithara-events", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            self._flush()
        self._flush()

    def _flush(self) -> None:
        for event in self._queue.drain():
            self._file.write(json.dumps(event_to_dict(event), default=str) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._queue.unsubscribe()
        self._stop.set()
        self._thread.join(timeout=2)
        self._file.close()


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
    """Attach --events and --verbose to a bus for the length of a command."""

    def __init__(self, bus: EventBus, common: CommonOptions, *, verbose_log: bool = True) -> None:
        self._closers: list[Callable[[], None]] = []
        if common.events_path is not None:
            self._closers.append(EventJsonl(bus, common.events_path).close)
        if common.verbose and verbose_log:
            self._closers.append(VerboseLog(bus).close)

    def close(self) -> None:
        for close in reversed(self._closers):
            close()

    def __enter__(self) -> EventSinks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
