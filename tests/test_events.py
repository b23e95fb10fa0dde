"""events.types: the one shared ``__init__`` behaves as a dataclass's keyword-only one."""

from __future__ import annotations

import dataclasses
import time

import pytest

from kithara_cli.events import ALL_EVENT_TYPES, event_to_dict
from kithara_cli.events.types import FirstByte, Notice, RequestEnqueued


def test_defaults_are_filled_and_ts_is_the_time_of_building() -> None:
    before = time.monotonic()
    event = RequestEnqueued(request_id=3, url="http://h/x", priority="demand")
    assert before <= event.ts <= time.monotonic()
    assert (event.label, event.range_start, event.range_end) == ("", None, None)
    assert event_to_dict(event) == {
        "event": "RequestEnqueued",
        "ts": event.ts,
        "request_id": 3,
        "url": "http://h/x",
        "priority": "demand",
        "label": "",
        "range_start": None,
        "range_end": None,
    }
    assert RequestEnqueued(request_id=1, url="u", priority="p", ts=5.0).ts == 5.0


def test_unknown_and_missing_fields_are_errors() -> None:
    with pytest.raises(TypeError, match="missing: partial, status, ttfb"):
        FirstByte(request_id=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unknown: bogus"):
        Notice(level="info", message="m", bogus=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Notice("info", "m")  # type: ignore[misc]  # keyword-only, as the dataclass was


def test_every_event_class_builds_from_its_required_fields() -> None:
    assert len(ALL_EVENT_TYPES) > 20
    for cls in ALL_EVENT_TYPES:
        fields = dataclasses.fields(cls)
        required = {
            f.name: 0
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        event = cls(**required)
        assert set(event_to_dict(event)) == {"event"} | {f.name for f in fields}
        assert event != cls(**required)  # identity equality: two events are two events
