"""Icecast 2.4 over a listener limit: "403 Forbidden" whose text/plain body says why.

Icecast 2.4's ``add_authenticated_listener`` failing (a mount at its ``max-listeners``) ends in
``client_send_403(client, "max listeners reached")``, and its server-wide limit in
``client_send_403(client, "Icecast connection limit reached")`` / "Too many clients
connected"; 2.4's ``client_send_403`` is ``client_send_error(client, 403, 1, message)``: the
status line says only "Forbidden", the message is the whole text/plain body. Before, kithara
said "HTTP 403 forbidden", exit 4, never retried (mpv: "HTTP error 403 Forbidden"). Now the
body's few words are read: a full station, retried as a 503 is, then one line in Icecast's
words, exit 3. Any other 403 (another body, an HTML page) is left a 403, exit 4.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import radio_fixtures
from conftest import run_cli
from radio_fixtures import ICECAST_FULL, RawStation

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}


def _refusal(body: bytes, kind: bytes = b"text/plain; charset=utf-8") -> bytes:
    """Icecast 2.4.4's error head (``util_http_build_header``), then the message."""
    return (
        b"HTTP/1.0 403 Forbidden\r\nServer: Icecast 2.4.4\r\nConnection: Close\r\n"
        b"Date: Mon, 07 Dec 2026 23:30:00 GMT\r\nContent-Type: " + kind + b"\r\n"
        b"Cache-Control: no-cache, no-store\r\nExpires: Mon, 26 Jul 1997 05:00:00 GMT\r\n"
        b"Pragma: no-cache\r\nAccess-Control-Allow-Origin: *\r\n\r\n" + body
    )


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("kithara: error:")]


@pytest.mark.parametrize(
    ("command", "said"),
    [
        ("play", "max listeners reached"),
        ("fetch", "max listeners reached"),
        ("play", "Icecast connection limit reached"),
        ("play", "Too many clients connected"),
    ],
)
def test_a_full_icecast_24_station_is_a_retried_server_error(
    command: str, said: str, radio_mp3: bytes, tmp_path: Path
) -> None:
    out = tmp_path / "radio.mp3"
    args = ["--output", "null", "--no-ui"] if command == "play" else ["--out", str(out)]
    with RawStation(radio_mp3, limit=0, refusal=_refusal(said.encode())) as station:
        proc = run_cli(command, station.url(), *args, "--retries", "2", env=ENV)
    assert proc.returncode == 3, proc.stderr
    assert _errors(proc.stderr) == [
        f"kithara: error: station full (Icecast 403 {said}): {station.url()}"
    ], proc.stderr
    assert len(station.heads) == 2  # retried (--retries counts attempts)
    assert "Traceback" not in proc.stderr and not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "refusal",
    [
        _refusal(b"mountpoint unavailable"),
        _refusal(b"Forbidden"),
        _refusal(b"<b>max listeners reached</b>", b"text/html"),
        ICECAST_FULL,
    ],
    ids=["other-words", "forbidden", "html", "html-fixture"],
)
def test_any_other_403_stays_a_403(refusal: bytes, radio_mp3: bytes) -> None:
    with RawStation(radio_mp3, limit=0, refusal=refusal) as station:
        proc = run_cli(
            "play", station.url(), "--output", "null", "--no-ui", "--retries", "2", env=ENV
        )
    assert proc.returncode == 4, proc.stderr
    assert _errors(proc.stderr) == [f"kithara: error: HTTP 403 forbidden: {station.url()}"]
    assert len(station.heads) == 1  # not retried
