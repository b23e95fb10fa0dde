"""SHOUTcast v1's ``ICY 401 Service Unavailable`` is a full (or source-less) station.

sc_serv 1.9 answers a listener over its limit, or any listener while no source is
connected, with ``ICY 401 Service Unavailable`` and two ``icy-notice`` lines, the second
saying why. Before, kithara read it as an HTTP 401: "HTTP 401 unauthorized", exit 4 (a
login problem, not retried). Now it is the server's situation, as a 503 is: retried as
``--retries`` says, then one line in the server's words ("station full or unavailable"),
exit 3. A real 401 (one that asks for credentials with ``WWW-Authenticate``) is unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import radio_fixtures
from conftest import run_cli
from kithara_cli.errors import HttpStatusError, ServerBusyError
from kithara_cli.net.errors import classify_status
from kithara_cli.net.request import CoreHeaders
from radio_fixtures import SHOUTCAST_FULL, SHOUTCAST_OK, RawStation

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("kithara: error:")]


@pytest.mark.parametrize("command", ["play", "fetch"])
def test_a_full_shoutcast_station_is_a_retried_server_error(
    command: str, radio_mp3: bytes, tmp_path: Path
) -> None:
    out = tmp_path / "radio.mp3"
    args = ["--output", "null", "--no-ui"] if command == "play" else ["--out", str(out)]
    with RawStation(radio_mp3, ok=SHOUTCAST_OK, refusal=SHOUTCAST_FULL, limit=0) as station:
        proc = run_cli(command, station.url(), *args, "--retries", "2", env=ENV)
    errors = _error_lines(proc.stderr)
    assert proc.returncode == 3, proc.stderr
    assert len(errors) == 1, proc.stderr
    assert "station full or unavailable" in errors[0], errors
    assert "The resource requested is currently unavailable" in errors[0], errors
    assert "<BR>" not in errors[0] and "unauthorized" not in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(station.heads) == 2  # retried (--retries counts attempts), as a 503 is
    assert not out.exists() and not list(tmp_path.iterdir())  # nothing written


def test_a_401_that_asks_for_credentials_stays_unauthorized() -> None:
    url = "http://radio.invalid/stream"
    icy = [(b"icy-notice1", b"<BR>SHOUTcast<BR>"), (b"icy-notice2", b"full<BR>")]
    refusal = classify_status(401, url, CoreHeaders(icy))
    assert isinstance(refusal, ServerBusyError) and refusal.exit_code == 3
    challenge = [*icy, (b"WWW-Authenticate", b'Basic realm="radio"')]
    login = classify_status(401, url, CoreHeaders(challenge))
    assert isinstance(login, HttpStatusError) and login.exit_code == 4
    assert "unauthorized" in str(login)
    plain = classify_status(401, url, CoreHeaders([]))
    assert isinstance(plain, HttpStatusError) and plain.exit_code == 4
