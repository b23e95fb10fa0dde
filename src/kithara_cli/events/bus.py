"""One bus, many subscribers; publishing never blocks."""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable

from kithara_cli.events.types import Event

Subscriber = Callable[[Event], None]


class EventBus:
    """Synchronous fan-out. Subscribers must be quick (append to a deque, update a counter)."""

    def __init__(self) -> None:
        self._subscribers: tuple[Subscriber, ...] = ()
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for subscriber in self._subscribers:  # a tuple snapshot: no lock held while calling
            try:
                subscriber(event)
            except Exception:  # a broken reader must never stall the writer
                import logging  # loaded here: a run that logs nothing never loads it

                logging.getLogger(__name__).exception(
                    "event subscriber failed on %s", type(event).__name__
                )

    def queue(self, maxlen: int = 10_000) -> EventQueue:
        """A bounded subscriber that drops the oldest events when the reader falls behind."""
        q = EventQueue(maxlen)
        q.unsubscribe = self.subscribe(q.put)
        return q


class EventQueue:
    """A bounded, thread-safe buffer of events for a slow reader (UI, logs, benchmark)."""

    def __init__(self, maxlen: int) -> None:
        self._items: collections.deque[Event] = collections.deque(maxlen=maxlen)
        self.unsubscribe: Callable[[], None] = lambda: None

    def put(self, event: Event) -> None:
        self._items.append(event)  # deque.append is atomic under the GIL

    def drain(self) -> list[Event]:
        out: list[Event] = []
        while True:
            try:
                out.append(self._items.popleft())
            except IndexError:
                return out
