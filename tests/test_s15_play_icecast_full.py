"""An Icecast station over its listener limit: a full station where the answer says so.

Found in session 15: a full Icecast station answers ``403`` and kithara said "HTTP 403
forbidden", exit 4 (fatal, never retried), as for a stream that refuses this listener for
good. What the servers send (their sources): icecast-kh (``client_send_403`` ->
``ice_http_setup_flags``) puts the refusal in the status line, ``403 max listeners reached``
for a mount over its listener (or bandwidth) limit and ``403 Too many clients connected`` for
a server over its own; that reason phrase is read where statuses are classified and the
answer is a full station, as SHOUTcast's ``ICY 401`` is (retried as a 503, then one line,
exit 3). Icecast 2.4 answers ``403 Forbidden`` to both, its words ("max listeners reached",
"Icecast connection limit reached") as its whole text/plain body: session 16 reads that body
(tests/test_s16_radio_icecast24_full.py), so it is a full station too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import radio_fixtures
from conftest import run_cli
from kithara_cli.errors import HttpStatusError, ServerBusyError
from kithara_cli.net.errors import classify_status
from kithara_cli.net.request import CoreHeaders
from radio_fixtures import RawStation

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}
KH_FULL = (
    b"HTTP/1.1 403 max listeners reached\r\nContent-Type: text/html\r\n"
    b"Date: Mon, 07 Dec 2026 21:00:00 GMT\r\nContent-Length: 0\r\n\r\n"
)
ICECAST24_FULL = (
    b"HTTP/1.0 403 Forbidden\r\nServer: Icecast 2.4.4\r\nConnection: Close\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-cache\r\n\r\n"
    b"max listeners reached"
)


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("kithara: error:")]


@pytest.mark.parametrize("command", ["play", "fetch"])
def test_icecast_kh_over_its_listener_limit_is_a_full_station(
    command: str, radio_mp3: bytes, tmp_path: Path
) -> None:
    out = tmp_path / "radio.mp3"
    args = ["--output", "null", "--no-ui"] if command == "play" else ["--out", str(out)]
    with RawStation(radio_mp3, limit=0, refusal=KH_FULL) as station:
        proc = run_cli(command, station.url(), *args, "--retries", "2", env=ENV)
    errors = _errors(proc.stderr)
    assert proc.returncode == 3, proc.stderr
    assert errors == [
        f"kithara: error: station full (Icecast 403 max listeners reached): {station.url()}"
    ], proc.stderr
    assert len(station.heads) == 2  # retried as a 503 is (--retries counts attempts)
    assert "Traceback" not in proc.stderr and not out.exists()


def test_icecast_24_says_it_in_the_body_and_is_a_full_station(
    radio_mp3: bytes, tmp_path: Path
) -> None:
    with RawStation(radio_mp3, limit=0, refusal=ICECAST24_FULL) as station:
        proc = run_cli(
            "play", station.url(), "--output", "null", "--no-ui", "--retries", "2", env=ENV
        )
    assert proc.returncode == 3, proc.stderr
    assert _errors(proc.stderr) == [
        f"kithara: error: station full (Icecast 403 max listeners reached): {station.url()}"
    ]
    assert len(station.heads) == 2  # retried as a 503 is


def test_only_the_full_station_phrases_are_read() -> None:
    url = "http://radio.invalid/stream"
    none = CoreHeaders([])
    for reason in (
        "max listeners reached",
        "Too many clients connected",
        " MAX  listeners reached",
    ):
        full = classify_status(403, url, none, reason)
        assert isinstance(full, ServerBusyError) and full.exit_code == 3, reason
    for status, reason in (
        (403, "Forbidden"),
        (403, ""),
        (403, "max listeners"),
        (404, "max listeners reached"),
    ):
        other = classify_status(status, url, none, reason)
        assert isinstance(other, HttpStatusError) and other.exit_code == 4, (status, reason)
