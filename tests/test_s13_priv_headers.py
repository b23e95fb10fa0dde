"""Credential headers and cookies are sent, never shown.

Found in session 13: ``kithara config show`` printed ``--header``/``--cookie`` settings in the
clear (``Authorization: Bearer ...``, ``session=...``), from a config file or the environment;
the header of every crash and log file (``argv: [...]``) held ``-H``/``--cookie`` values; and
a malformed ``--header 'Authorization Bearer ...'`` was quoted whole in its error line. A URL's
password was already hidden in all three (``ui.sanitize.redact_userinfo``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli import crash
from kithara_cli.server import MediaServer
from kithara_cli.ui.sanitize import is_secret_header, mask_cookie, mask_header, redact_argv

TOKEN = "t0ken-9f8e7d"
API_KEY = "k3y-5a4b3c"
COOKIE = "c00kie-1a2b3c"
SECRETS = (TOKEN, API_KEY, COOKIE)


def _no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


def test_config_show_masks_credential_headers_and_cookies(tmp_path: Path) -> None:
    config = tmp_path / "kithara.toml"
    config.write_text(
        "[play]\n"
        f'header = ["Authorization: Bearer {TOKEN}", "X-Api-Key: {API_KEY}", "Accept: audio/*"]\n'
        f'cookie = ["session={COOKIE}"]\n'
    )
    env = {"KITHARA_FETCH_COOKIE": f"sid={COOKIE}"}
    proc = run_cli("--config", str(config), "config", "show", env=env)
    assert proc.returncode == 0, proc.stderr
    _no_secret(proc.stdout + proc.stderr)
    lines = proc.stdout.splitlines()
    assert 'header = ["Authorization: ***", "X-Api-Key: ***", "Accept: audio/*"]' in "\n".join(
        lines
    )  # the name stays (what is set), and a harmless header is shown as it is
    assert any(line.startswith('cookie = ["session=***"]') for line in lines), proc.stdout
    assert any(line.startswith('cookie = ["sid=***"]') for line in lines), proc.stdout


def test_config_show_masks_a_header_variable_with_spaces(tmp_path: Path) -> None:
    """A header variable holds one header a line (Click split it at whitespace once, and the
    token arrived as an item of its own: test_s13_input_headers)."""
    env = {"KITHARA_FETCH_HEADER": f"Authorization: Bearer {TOKEN}"}
    proc = run_cli("--no-config", "config", "show", env=env)
    assert proc.returncode == 0, proc.stderr
    _no_secret(proc.stdout + proc.stderr)
    assert 'header = ["Authorization: ***"]  # environment' in proc.stdout


def test_a_crash_log_masks_header_and_cookie_arguments(tmp_path: Path) -> None:
    args = (
        "fetch", "http://127.0.0.1:9/x.mp3", "--out", str(tmp_path / "o"),
        "-H", f"Authorization: Bearer {TOKEN}", f"-HX-Api-Key: {API_KEY}",
        f"--cookie=sid={COOKIE}", "--cookie", f"two={COOKIE}", "-H", "Accept: audio/*",
    )  # fmt: skip
    env = {crash.TEST_CRASH_ENV: "main", crash.STATE_ENV: str(tmp_path)}
    proc = run_cli(*args, env=env, timeout=30)
    assert proc.returncode == 1, proc.stderr
    (log,) = tmp_path.glob("crash-*.log")
    text = log.read_text()
    _no_secret(text)
    argv = text.splitlines()[1]
    for shown in ("'Authorization: ***'", "'-HX-Api-Key: ***'", "'--cookie=sid=***'"):
        assert shown in argv, argv
    assert "'two=***'" in argv and "'Accept: audio/*'" in argv, argv


def test_a_malformed_credential_header_is_not_quoted_in_its_error(tmp_path: Path) -> None:
    out = tmp_path / "o"
    proc = run_cli("fetch", "http://127.0.0.1:9/x", "--out", str(out), "-H", f"Bearer {TOKEN}")
    assert proc.returncode == 2, proc.stderr  # a harmless name: the line says what was wrong
    proc = run_cli(
        "fetch", "http://127.0.0.1:9/x", "--out", str(out), "-H", f"Authorization Bearer {TOKEN}"
    )
    assert proc.returncode == 2, proc.stderr
    _no_secret(proc.stderr)
    assert "bad --header 'Authorization ***'" in proc.stderr
    assert not out.exists()


def test_masked_headers_still_go_out_and_reach_no_event_or_log_line(
    server: MediaServer, tmp_path: Path
) -> None:
    """Masking is for what people read: the server gets every value as given."""
    events = tmp_path / "events.jsonl"
    proc = run_cli(
        "fetch", server.url("small.bin"), "--out", str(tmp_path / "o"), "--verbose",
        "--events", str(events), "-H", f"Authorization: Bearer {TOKEN}",
        "-H", f"X-Api-Key: {API_KEY}", "--cookie", f"sid={COOKIE}",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    _no_secret(proc.stdout + proc.stderr + events.read_text())
    assert [json.loads(line) for line in events.read_text().splitlines()]
    (seen,) = server.stats.seen("small.bin")
    headers = {name.lower(): value for name, value in seen.headers}
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["x-api-key"] == API_KEY
    assert headers["cookie"] == f"sid={COOKIE}"


@pytest.mark.parametrize(
    "name",
    ["Authorization", "proxy-authorization", "Cookie", "X-Api-Key", "X-Auth-Token",
     "X-Amz-Security-Token", "Client-Secret", "X-Session-Id", "X-Password", "X-CSRF-Token"],
)  # fmt: skip
def test_credential_names_are_recognised(name: str) -> None:
    assert is_secret_header(name)
    assert mask_header(f"{name}: v4lue") == f"{name}: ***"


@pytest.mark.parametrize("name", ["Accept", "User-Agent", "Referer", "Range", "Icy-MetaData"])
def test_ordinary_headers_are_shown(name: str) -> None:
    assert not is_secret_header(name)
    assert mask_header(f"{name}: v4lue") == f"{name}: v4lue"


def test_masks_of_odd_input() -> None:
    assert mask_header("Authorization:") == "Authorization:"  # nothing to hide
    assert mask_header("Authorization") == "Authorization"
    assert mask_cookie("a=b=c") == "a=***"
    assert mask_cookie("novalue") == "***"
    argv = ["kithara", "play", "http://u:pw@h/x", "--header", "Cookie: a=b", "--", "-H"]
    assert redact_argv(argv) == ["kithara", "play", "http://***@h/x", "--header", "Cookie: ***",
                                 "--", "-H"]  # fmt: skip
